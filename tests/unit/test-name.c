/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "name.h"
#include "tap.h"

static void test_good(void) {
        static const char *const good[] = {
                "a", "Z", "0", "web", "web-1", "web_1", "web.1", "a.b.c", "A-",
                "a..", "a.", "9lives", "x-_.-_.", "UPPER", "MiXeD42",
                /* exactly 64 characters */
                "a123456789012345678901234567890123456789012345678901234567890123",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                WarrenError e = WARREN_ERROR_NULL;
                is(container_name_validate(good[i], &e), 0, "'%s' is valid", good[i]);
                is(e.error, 0, "no error recorded for '%s'", good[i]);
                ok(container_name_is_valid(good[i]), "container_name_is_valid('%s')", good[i]);
                warren_error_clear(&e);
        }
}

static void test_bad(void) {
        static const struct {
                const char *name;
                const char *message;
        } bad[] = {
                { "", "Invalid container name '': must not be empty" },
                { ".", "Invalid container name '.': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "..", "Invalid container name '..': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "../x", "Invalid container name '../x': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "a/b", "Invalid container name 'a/b': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "/etc", "Invalid container name '/etc': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { ".hidden", "Invalid container name '.hidden': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { ".#new.x.abcdef", "Invalid container name '.#new.x.abcdef': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "-rf", "Invalid container name '-rf': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "_x", "Invalid container name '_x': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "a b", "Invalid container name 'a b': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "a:b", "Invalid container name 'a:b': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "a*", "Invalid container name 'a*': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "a\nb", "Invalid container name 'a\\x0ab': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "x\033[2Jy", "Invalid container name 'x\\x1b[2Jy': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "a\tb\r", "Invalid container name 'a\\x09b\\x0d': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "caf\xc3\xa9", "Invalid container name 'caf\\xc3\\xa9': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "a\x7f", "Invalid container name 'a\\x7f': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "it's", "Invalid container name 'it\\x27s': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                { "a\\b", "Invalid container name 'a\\x5cb': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}" },
                /* 65 characters */
                { "a1234567890123456789012345678901234567890123456789012345678901234",
                  "Invalid container name 'a1234567890123456789012345678901234567890123456789012345678901234': "
                  "too long (65 > 64 characters)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                WarrenError e = WARREN_ERROR_NULL;
                is(container_name_validate(bad[i].name, &e), -EINVAL, "bad name #%zu is rejected", i);
                is(e.error, EINVAL, "bad name #%zu records EINVAL", i);
                is_str(e.message, bad[i].message, "bad name #%zu message", i);
                ok(!container_name_is_valid(bad[i].name), "container_name_is_valid() is false for #%zu", i);
                ok(e.message && !strchr(e.message, '\n') && !strchr(e.message, '\033'),
                   "message #%zu is one safe line", i);
                warren_error_clear(&e);
        }
}

static void test_null_and_huge(void) {
        WarrenError e = WARREN_ERROR_NULL;

        is(container_name_validate(NULL, &e), -EINVAL, "NULL is rejected");
        is_str(e.message, "Invalid container name '': must not be empty", "NULL message");
        warren_error_clear(&e);

        is(container_name_validate("a/b", NULL), -EINVAL, "NULL reterr is fine");

        /* A megabyte of garbage: the message shows a bounded prefix. */
        size_t n = 1024 * 1024;
        char *huge = malloc(n + 1);
        ok(huge != NULL, "allocated huge name");
        if (!huge)
                return;
        memset(huge, '\n', n);
        huge[n] = 0;
        is(container_name_validate(huge, &e), -EINVAL, "huge name rejected");
        like(e.message, "too long (1048576 > 64 characters)", "huge name message gives the length");
        like(e.message, "Invalid container name '\\x0a\\x0a", "huge name shown escaped");
        like(e.message, "...': too long", "huge name shown cut");
        ok(e.message && strlen(e.message) < 512, "huge name message is short (%zu)", e.message ? strlen(e.message) : 0);
        ok(e.message && !strchr(e.message, '\n'), "huge name message is one line");
        warren_error_clear(&e);

        /* 65 bytes where the length and the characters are both wrong: length wins. */
        memset(huge, '/', 65);
        huge[65] = 0;
        is(container_name_validate(huge, &e), -EINVAL, "65 slashes rejected");
        like(e.message, "too long (65 > 64 characters)", "length is checked first");
        warren_error_clear(&e);
        free(huge);

        /* The first error recorded wins. */
        warren_error_set(&e, ENOENT, "earlier");
        is(container_name_validate("..", &e), -EINVAL, "returns -EINVAL with an earlier error");
        is_str(e.message, "earlier", "earlier error is kept");
        warren_error_clear(&e);
}

int main(void) {
        test_good();
        test_bad();
        test_null_and_huge();
        return done_testing();
}
