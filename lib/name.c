/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "name.h"

#define NAME_PATTERN "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"

/* Enough of a bad value to recognize it; a caller can send megabytes. */
#define SHOWN_MAX 80

static bool char_is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool char_is_name(char c) {
        return char_is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* Escapes bytes that could break a one-line message (controls, DEL, non-ASCII,
 * backslash and the quote around the value) as \xNN, and cuts long values. */
static const char *escape_shown(const char *s, char *buf, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t n = 0, i;

        for (i = 0; s[i] && i < SHOWN_MAX; i++) {
                unsigned char c = (unsigned char) s[i];

                if (n + 5 >= size)
                        break;
                if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'') {
                        buf[n++] = '\\';
                        buf[n++] = 'x';
                        buf[n++] = hex[c >> 4];
                        buf[n++] = hex[c & 0xf];
                } else
                        buf[n++] = (char) c;
        }
        if (s[i] && n + 4 <= size) {
                memcpy(buf + n, "...", 3);
                n += 3;
        }
        buf[n] = 0;
        return buf;
}

int container_name_validate(const char *name, WarrenError *reterr) {
        char shown[SHOWN_MAX * 4 + 8];
        size_t len;

        if (isempty(name))
                return warren_error_set(reterr, EINVAL, "Invalid container name '': must not be empty");

        len = strlen(name);
        if (len > CONTAINER_NAME_MAX)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid container name '%s': too long (%zu > %d characters)",
                                        escape_shown(name, shown, sizeof shown), len, CONTAINER_NAME_MAX);

        /* "." and ".." fail here too: their first character is not alphanumeric. */
        bool good = char_is_alnum(name[0]);
        for (size_t i = 1; good && i < len; i++)
                good = char_is_name(name[i]);
        if (!good)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid container name '%s': must match " NAME_PATTERN,
                                        escape_shown(name, shown, sizeof shown));

        return 0;
}
