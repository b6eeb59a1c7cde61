/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* remotes.conf, server URLs as cache keys, and the escaping of server text. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "fileio.h"
#include "image-cache.h"
#include "image-download.h"
#include "image-remote.h"
#include "tap.h"

static int parse(const char *text, ImageRemotes **ret, char *msg, size_t size) {
        WarrenError e = WARREN_ERROR_NULL;
        int r = image_remotes_parse(text, strlen(text), "remotes.conf", ret, &e);
        snprintf(msg, size, "%s", e.error ? warren_error_message(&e) : "");
        warren_error_clear(&e);
        return r;
}

static void test_parse(void) {
        ImageRemotes *rs = NULL;
        char msg[1024];
        const char *good = "# remotes\n"
                           "default = fixture\n"
                           "\n"
                           "[images]\n"
                           "url = https://images.linuxcontainers.org/\n"
                           "users = yes\n"
                           "[fixture]\r\n"
                           "  url =  HTTP://127.0.0.1:8080/  \n"
                           "keyring = /etc/warren/keyrings/fixture.gpg\n"
                           "[private]\n"
                           "url = images.example.org:443/mirror//\n";
        is(parse(good, &rs, msg, sizeof msg), 0, "a good remotes.conf parses %s", msg);
        if (!rs)
                return;
        is(rs->n, 3, "three remotes");
        is_str(rs->default_name, "fixture", "the default is named");
        const ImageRemote *r = image_remotes_find_name(rs, "images");
        ok(r && streq(r->url, "https://images.linuxcontainers.org") && r->users && !r->keyring,
           "images: canonical URL, open to users, no keyring");
        r = image_remotes_find_name(rs, "fixture");
        ok(r && streq(r->url, "http://127.0.0.1:8080") && !r->users &&
                   streq_ptr(r->keyring, "/etc/warren/keyrings/fixture.gpg"),
           "fixture: scheme lower-cased, closed to users by default, its keyring");
        r = image_remotes_find_name(rs, "private");
        ok(r && streq(r->url, "https://images.example.org/mirror"), "a bare host gets https, the default port goes");
        ok(image_remotes_find_url(rs, "http://127.0.0.1:8080") == image_remotes_find_name(rs, "fixture"),
           "found by URL");

        ImageServerChoice c = {};
        is(image_remotes_resolve(rs, NULL, &c, NULL), 0, "no --server: the default remote");
        ok(streq_ptr(c.remote, "fixture") && streq_ptr(c.keyring, "/etc/warren/keyrings/fixture.gpg"),
           "the default remote and its keyring");
        image_server_choice_done(&c);
        is(image_remotes_resolve(rs, "images", &c, NULL), 0, "a remote by name");
        ok(streq_ptr(c.remote, "images") && c.users, "images, open to users");
        image_server_choice_done(&c);
        is(image_remotes_resolve(rs, "http://127.0.0.1:8080/", &c, NULL), 0, "a remote's URL, spelled otherwise");
        ok(streq_ptr(c.remote, "fixture"), "is that remote");
        image_server_choice_done(&c);
        is(image_remotes_resolve(rs, "http://127.0.0.1:8081", &c, NULL), 0, "another URL");
        ok(!c.remote && !c.keyring && !c.users && streq_ptr(c.url, "http://127.0.0.1:8081"), "is ad hoc");
        image_server_choice_done(&c);
        WarrenError e = WARREN_ERROR_NULL;
        is(image_remotes_resolve(rs, "ftp://x", &c, &e), -EINVAL, "garbage --server refused");
        ok(e.message && strstr(e.message, "ftp://x"), "naming it");
        warren_error_clear(&e);
        image_remotes_free(rs);

        const struct {
                const char *text, *message;
        } bad[] = {
                { "[a]\nurl = https://x\nbogus = 1\n", "remotes.conf:3: remote 'a': unknown key 'bogus'" },
                { "url = https://x\n", "remotes.conf:1: unknown key 'url' before any [remote] section" },
                { "[a b]\nurl = https://x\n", "remotes.conf:1: invalid remote name 'a b'" },
                { "[a]\nurl = http://example.org\n", "Refusing plain http:// image server URL 'http://example.org'" },
                { "[a]\nurl = https://x\n[a]\nurl = https://y\n", "remotes.conf:3: remote 'a' is listed twice" },
                { "[a]\nurl = https://x\n[b]\nurl = https://x/\n", "remotes 'a' and 'b' have the same url" },
                { "[a]\nusers = yes\n", "remote 'a' has no url" },
                { "[a]\nurl = https://x\nusers = maybe\n", "users must be yes or no, not 'maybe'" },
                { "[a]\nurl = https://x\nkeyring = keys.gpg\n", "keyring 'keys.gpg' must be an absolute path" },
                { "default = nosuch\n[a]\nurl = https://x\n", "default remote 'nosuch' is not listed" },
                { "[a\nurl = https://x\n", "remotes.conf:1: invalid section '[a'" },
                { "[a]\njunk\n", "expected 'key = value' or '[name]', got 'junk'" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                rs = NULL;
                is(parse(bad[i].text, &rs, msg, sizeof msg), -EINVAL, "refused: %s", bad[i].message);
                ok(strstr(msg, bad[i].message) != NULL, "message: %s", msg);
                ok(!rs, "nothing returned");
        }
        char nul[] = "[a]\nurl = https://x\0\n";
        is(image_remotes_parse(nul, sizeof nul - 1, "x", &rs, NULL), -EINVAL, "a NUL byte refused");
}

static void test_load(void) {
        char dir[] = "/tmp/warren-test-remotes.XXXXXX", path[128];
        const char *dirs[] = { dir, "/nonexistent", NULL };
        ImageRemotes *rs = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        ok(mkdtemp(dir) != NULL, "temp dir");
        is(image_remotes_load(dirs, &rs, NULL), 0, "no remotes.conf: the built-in default");
        ok(rs && rs->n == 1 && streq(rs->remotes[0].name, "images") &&
                   streq(rs->remotes[0].url, IMAGE_SERVER_DEFAULT) && rs->remotes[0].users,
           "one remote, images, open to users");
        rs = image_remotes_free(rs);
        snprintf(path, sizeof path, "%s/remotes.conf", dir);
        ok(write_file_atomic_at(AT_FDCWD, path, "[x]\nurl = https://x\n", 20, 0666) == 0 && chmod(path, 0666) == 0,
           "a remotes.conf anyone may write");
        is(image_remotes_load(dirs, &rs, &e), -EPERM, "is refused");
        ok(e.message && strstr(e.message, "mode 0666"), "naming its mode: %s", warren_error_message(&e));
        warren_error_clear(&e);
        ok(chmod(path, 0644) == 0, "fixed");
        is(image_remotes_load(dirs, &rs, NULL), 0, "is read");
        ok(rs && rs->n == 1 && streq(rs->remotes[0].name, "x") && !image_remotes_find_name(rs, "images"),
           "only what it lists");
        rs = image_remotes_free(rs);
        unlink(path);
        rmdir(dir);
}

static void test_urls(void) {
        const struct {
                const char *in, *out;
        } good[] = {
                { "images.linuxcontainers.org", "https://images.linuxcontainers.org" },
                { "HTTPS://Images.Example.ORG:443/", "https://images.example.org" },
                { "http://127.0.0.1:80/x/y/", "http://127.0.0.1/x/y" },
                { "http://[::1]:8080", "http://[::1]:8080" },
                { "https://example.org:8443/mirror", "https://example.org:8443/mirror" },
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                char *u = NULL;
                is(image_server_url(good[i].in, &u, NULL), 0, "'%s' accepted", good[i].in);
                is_str(u, good[i].out, "canonical form of '%s'", good[i].in);
                free(u);
        }
        const char *bad[] = { "https://u:p@example.org", "https://example.org/?q=1", "https://example.org/#f",
                              "https://example.org/a/../b", "https://example.org/./b", "https://example.org/a%2e",
                              "https://example.org/a b", "" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *u = NULL;
                is(image_server_url(bad[i], &u, NULL), -EINVAL, "'%s' refused", bad[i]);
                free(u);
        }

        /* The cache's directory names are reversible and stay one name. */
        char *d = image_cache_server_dirname("http://127.0.0.1:8080/x");
        is_str(d, "http%3A%2F%2F127.0.0.1%3A8080%2Fx", "a server URL escaped for the cache");
        char *back = d ? image_cache_server_from_dirname(d) : NULL;
        is_str(back, "http://127.0.0.1:8080/x", "and back");
        free(d);
        free(back);
        ok(!image_cache_server_from_dirname("http%3a%2F%2Fx"), "lower-case escapes are not ours");
        ok(!image_cache_server_from_dirname("ftp%3A%2F%2Fx"), "nor other schemes");
        ok(!image_cache_server_from_dirname("http%3A%2F%2Fx%00"), "nor NUL");
        ok(!image_cache_server_from_dirname("http://x"), "nor unescaped slashes");
        const ImageOrigin root = { .server = "https://x" }, user = { .server = "https://x", .user = true, .uid = 1000 },
                          bad_user = { .server = "https://x", .user = true, .uid = 0 };
        char *p = image_cache_partition_name(&root), *q = image_cache_partition_name(&user),
             *z = image_cache_partition_name(&bad_user);
        is_str(p, "shared", "root's partition");
        is_str(q, "uid-1000", "a user's partition");
        ok(!z, "no partition for uid 0");
        free(p);
        free(q);
}

static void test_escape(void) {
        const struct {
                const char *in, *out;
        } cases[] = {
                { "plain text\nwith lines\tand tabs", "plain text\nwith lines\tand tabs" },
                { "\x1b]0;pwned\x07\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J" },
                { "carriage\rreturn", "carriage\\x0dreturn" },
                { "del\x7f", "del\\x7f" },
                { "C1 \xc2\x9b" "31m", "C1 \\xc2\\x9b31m" },
                { "bad utf8 \xff\xfe", "bad utf8 \\xff\\xfe" },
                { "overlong \xc0\xaf", "overlong \\xc0\\xaf" },
                { "truncated \xe2\x82", "truncated \\xe2\\x82" },
                { "unicode ok: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", "unicode ok: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7" },
                { "back\\slash", "back\\slash" },
                { "", "" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *e = escape_untrusted_text(cases[i].in, 0);
                is_str(e, cases[i].out, "escape case %zu", i);
                free(e);
        }
        char *once = escape_untrusted_text("\x1b[2J\r", 0), *twice = once ? escape_untrusted_text(once, 0) : NULL;
        is_str(twice, once, "escaping is idempotent");
        free(once);
        free(twice);
        char *e = escape_untrusted_text("abcdef", 3);
        is_str(e, "abc", "cut at max bytes");
        free(e);
}

int main(void) {
        test_parse();
        test_load();
        test_urls();
        test_escape();
        return done_testing();
}
