/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "image-cache.h"
#include "image-fixture.h"
#include "strv.h"
#include "tap.h"
#undef like

static char cache_dir[512];

/* ERE match, for messages with variable parts. */
static bool ere_match(const char *s, const char *re) {
        regex_t rx;
        bool m;
        if (!s || regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
                return false;
        m = regexec(&rx, s, 0, NULL, 0) == 0;
        regfree(&rx);
        return m;
}
#define like(got, re, ...)                                                                            \
        ({                                                                                            \
                const char *_g = (got), *_re = (re);                                                  \
                int _r = ok(ere_match(_g, _re), __VA_ARGS__);                                          \
                if (!_r)                                                                              \
                        printf("#   '%s' does not match '%s' (%s:%d)\n", _g ? _g : "(null)", _re, __FILE__, \
                               __LINE__);                                                             \
                _r;                                                                                   \
        })

static ImageFetchParams params(const FixtureServer *s) {
        return (ImageFetchParams){
                .origin = { .server = s->url },
                .spec = { .dist = "busybox", .release = "1.35" },
                .mode = IMAGE_MODE_SYSTEM,
                .download = { .connect_timeout_s = 5, .low_speed_time_s = 5, .attempts = 2 },
        };
}

/* No temporaries anywhere in the cache. */
static bool cache_clean(void) {
        return fixture_count_prefix(cache_dir, ".#") == 0;
}

static int fetch(ImageCache *c, const ImageFetchParams *p, ImageFetchResult *res, char *msg, size_t msg_size) {
        WarrenError e = WARREN_ERROR_NULL;
        int r = image_cache_fetch(c, p, res, &e);
        snprintf(msg, msg_size, "%s", e.error ? warren_error_message(&e) : "");
        warren_error_clear(&e);
        return r;
}

static uint64_t now_s(void) {
        return (uint64_t) time(NULL);
}

/* Sets a cached build's meta/expiry and its download time (meta.tar.xz's mtime). */
static void age_entry(const char *vdir, const char *build, const char *expiry, uint64_t downloaded) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s/meta/expiry", vdir, build);
        (void) write_file_atomic_at(AT_FDCWD, p, expiry, strlen(expiry), 0644);
        snprintf(p, sizeof p, "%s/%s/meta.tar.xz", vdir, build);
        struct timeval tv[2] = { { (time_t) downloaded, 0 }, { (time_t) downloaded, 0 } };
        (void) utimes(p, tv);
}

static void test_fetch_and_reuse(void) {
        ImageCache *c = NULL;
        ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
        FixtureServer s;
        char msg[1024], vdir[1024];

        ok(fixture_server_start(&s, NULL, NULL) == 0, "server started");
        ok(image_cache_open(cache_dir, &c, NULL) == 0, "cache opened");
        ImageFetchParams p = params(&s);
        fixture_variant_dir(cache_dir, s.url, 0, vdir, sizeof vdir);

        is(fetch(c, &p, &res, msg, sizeof msg), 0, "first fetch succeeds %s", msg);
        is_str(res.build, FIXTURE_NEWEST, "newest build chosen whatever its line order");
        ok(res.downloaded && res.index_fetched, "downloaded, index fetched");
        ok(res.meta && res.meta->create_message && strstr(res.meta->create_message, "build " FIXTURE_NEWEST),
           "create-message of that build");
        ok(res.meta && res.meta->has_expiry && res.meta->expiry > now_s(), "expiry read");
        ok(res.rootfs_fd >= 0, "rootfs fd handed out");
        is(fixture_log_count(&s, "/meta/1.0/index-system.7\t"), 1, "compat index tried first");
        is(fixture_log_count(&s, "/meta/1.0/index-system\t"), 1, "fallback index fetched after its 404");
        is(fixture_log_count(&s, "SHA256SUMS\t"), 1, "SHA256SUMS fetched");
        is(fixture_log_count(&s, ".asc\t"), 0, "no signature asked for without a keyring");
        is(fixture_log_count(&s, "meta.tar.xz"), 1, "meta fetched");
        is(fixture_log_count(&s, "rootfs.tar.xz"), 1, "rootfs fetched");
        is(fixture_log_count(&s, "/20240101_05:24/"), 0, "older builds never requested");
        like(vdir, "/images/shared/http%3A%2F%2F127\\.0\\.0\\.1%3A[0-9]+/busybox/1\\.35/",
             "the shared partition, keyed by the escaped server URL");
        ok(fixture_exists("%s/" FIXTURE_NEWEST "/rootfs.tar.xz", vdir) &&
                   fixture_exists("%s/" FIXTURE_NEWEST "/meta/config", vdir) &&
                   fixture_exists("%s/" FIXTURE_NEWEST "/SHA256SUMS", vdir),
           "cache entry holds the verified files and the unpacked meta");
        ok(cache_clean(), "no temporaries");
        image_fetch_result_done(&res);

        /* A cached build never keeps us from asking the server. */
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "second fetch succeeds");
        ok(!res.downloaded && res.index_fetched, "second fetch: the index is asked, the build is cached");
        is(fixture_log_count(&s, "rootfs.tar.xz"), 1, "second fetch: no rootfs request");
        image_fetch_result_done(&res);

        /* Even a far-future expiry does not. */
        age_entry(vdir, FIXTURE_NEWEST, "99999999999\n", now_s());
        int before = fixture_log_count(&s, "/meta/1.0/index-system\t");
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "fetch with a far expiry succeeds");
        is(fixture_log_count(&s, "/meta/1.0/index-system\t"), before + 1, "far expiry: the index is asked");
        image_fetch_result_done(&res);

        /* force_cache: no network at all. */
        before = fixture_log_count(&s, "GET");
        p.force_cache = true;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "force-cache fetch succeeds");
        is(fixture_log_count(&s, "GET"), before, "force-cache: no request");
        image_fetch_result_done(&res);
        p.force_cache = false;

        /* flush_cache: downloaded again. */
        p.flush_cache = true;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "flush-cache fetch succeeds");
        ok(res.downloaded, "flush-cache: downloaded");
        is(fixture_log_count(&s, "rootfs.tar.xz"), 2, "flush-cache: rootfs requested again");
        image_fetch_result_done(&res);
        p.flush_cache = false;

        /* User mode reads index-user and config-user. */
        p.mode = IMAGE_MODE_USER;
        p.force_cache = true;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "user-mode fetch from the cache");
        ok(res.meta && strstr(res.meta->config, "userns.conf"), "user mode: config-user used");
        ok(res.meta && strv_length(res.meta->excludes) == 3, "user mode: excludes-user read");
        image_fetch_result_done(&res);
        p.force_cache = false;
        p.flush_cache = true;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "user-mode fetch from the server");
        is(fixture_log_count(&s, "/meta/1.0/index-user\t"), 1, "user mode: index-user fetched");
        image_fetch_result_done(&res);
        p.flush_cache = false;
        p.mode = IMAGE_MODE_SYSTEM;

        /* Listing and removal. */
        ImageCacheEntry *l = NULL;
        size_t n = 0;
        is(image_cache_list(c, &l, &n, NULL), 0, "list");
        if (is(n, 1, "one cached image")) {
                is_str(l[0].server, s.url, "list: server");
                ok(!l[0].user, "list: shared");
                is_str(l[0].dist, "busybox", "list: dist");
                is_str(l[0].release, "1.35", "list: release");
                is_str(l[0].arch, fixture_arch(), "list: arch");
                is_str(l[0].variant, "default", "list: variant");
                is_str(l[0].build, FIXTURE_NEWEST, "list: build");
                ok(l[0].size > 100000, "list: size (%llu)", (unsigned long long) l[0].size);
                ok(l[0].last_used_usec > 1600000000ULL * 1000000ULL, "list: last used");
                char expect[1100];
                snprintf(expect, sizeof expect, "%s/" FIXTURE_NEWEST, vdir);
                is_str(l[0].path, expect, "list: path");
        }
        image_cache_entries_free(l, n);

        /* The server unreachable: a cached build within its expiry stands in. */
        fixture_server_stop(&s);
        age_entry(vdir, FIXTURE_NEWEST, "99999999999\n", now_s() - 3600);
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "server down: the cached build stands in");
        ok(res.offline && !res.index_fetched && !res.downloaded, "server down: marked offline");
        image_fetch_result_done(&res);
        age_entry(vdir, FIXTURE_NEWEST, "99999999999\n", now_s() - IMAGE_EXPIRY_CAP_SEC - 60);
        is(fetch(c, &p, &res, msg, sizeof msg), -ECOMM, "server down, far expiry capped at 30 days: refused");
        like(msg, "Download of 'http://127\\.0\\.0\\.1:[0-9]+/meta/1\\.0/index-system", "message names the index");
        age_entry(vdir, FIXTURE_NEWEST, "1000\n", now_s());
        is(fetch(c, &p, &res, msg, sizeof msg), -ECOMM, "server down, expired: refused");
        image_fetch_result_done(&res);

        const ImageOrigin o = { .server = s.url };
        ImageSpec spec = { .dist = "busybox", .release = "1.35", .arch = fixture_arch(), .variant = "default" };
        WarrenError e = WARREN_ERROR_NULL;
        is(image_cache_remove(c, &o, &spec, "20990101_00:00", &e), -ENOENT, "removing an absent build: ENOENT");
        like(e.message, "No cached image busybox 1\\.35 .* from http://127", "message names the image and server");
        warren_error_clear(&e);
        is(image_cache_remove(c, &o, &spec, FIXTURE_NEWEST, NULL), 0, "build removed");
        is(image_cache_list(c, &l, &n, NULL), 0, "list after removal");
        is(n, 0, "cache empty");
        image_cache_entries_free(l, n);
        spec.dist = "../x";
        is(image_cache_remove(c, &o, &spec, NULL, NULL), -EINVAL, "remove with a bad name refused");
        image_cache_free(c);
}

/* A fetch from server B never uses what came from server A, nor does the
 * shared cache use a user's partition or the other way round. */
static void test_origins(void) {
        ImageCache *c = NULL;
        ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
        FixtureServer a, b;
        char msg[1024], vdir[1024];

        fixture_rm_rf(cache_dir);
        ok(fixture_server_start(&a, NULL, NULL) == 0 && fixture_server_start(&b, NULL, NULL) == 0 &&
                   image_cache_open(cache_dir, &c, NULL) == 0,
           "origins: two servers");
        ImageFetchParams p = params(&a);
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "from A %s", msg);
        image_fetch_result_done(&res);
        p.origin.server = b.url;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "from B %s", msg);
        ok(res.downloaded, "B: downloaded, although A's copy of the same build is cached");
        is(fixture_log_count(&b, "rootfs.tar.xz"), 1, "B's rootfs came from B");
        image_fetch_result_done(&res);
        p.force_cache = true;
        p.origin.server = "http://127.0.0.1:1";
        is(fetch(c, &p, &res, msg, sizeof msg), -ECOMM, "force-cache from a third server finds nothing of A or B");
        p.force_cache = false;

        p.origin = (ImageOrigin){ .server = a.url, .user = true, .uid = 4242 };
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "uid 4242's ad-hoc fetch from A %s", msg);
        ok(res.downloaded, "uid 4242: downloaded into its own partition, not taken from the shared one");
        like(res.path, "/images/uid-4242/http%3A", "uid 4242: its partition");
        image_fetch_result_done(&res);
        fixture_variant_dir(cache_dir, a.url, 4242, vdir, sizeof vdir);
        struct stat st;
        char part[600];
        snprintf(part, sizeof part, "%s/images/uid-4242", cache_dir);
        ok(stat(part, &st) == 0 && (st.st_mode & 0777) == 0700, "a partition is mode 0700");

        /* Root's (shared) fetch from A after removing the shared copy: not the user's. */
        const ImageOrigin shared_a = { .server = a.url };
        const ImageSpec spec = { "busybox", "1.35", fixture_arch(), "default" };
        ok(image_cache_remove(c, &shared_a, &spec, NULL, NULL) == 0, "shared copy of A removed");
        p.origin = shared_a;
        p.force_cache = true;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "shared force-cache fetch from A %s", msg);
        ok(res.downloaded, "it downloaded: uid 4242's build is not the shared cache's");
        image_fetch_result_done(&res);
        p.origin = (ImageOrigin){ .server = a.url, .user = true, .uid = 4243 };
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "uid 4243's force-cache fetch from A %s", msg);
        ok(res.downloaded, "it downloaded too: neither uid 4242's nor the shared build is its");
        image_fetch_result_done(&res);
        p.force_cache = false;
        is(fixture_log_count(&a, "rootfs.tar.xz"), 4, "A served four rootfs downloads: shared, 4242, shared, 4243");

        ImageCacheEntry *l = NULL;
        size_t n = 0;
        bool found = false;
        is(image_cache_list(c, &l, &n, NULL), 0, "list all partitions");
        for (size_t i = 0; i < n; i++)
                found = found || (l[i].user && l[i].uid == 4242 && streq(l[i].server, a.url));
        ok(found, "the list names uid 4242's partition and its server");
        image_cache_entries_free(l, n);

        p.origin = (ImageOrigin){ .server = a.url, .user = true, .uid = 0 };
        is(fetch(c, &p, &res, msg, sizeof msg), -EINVAL, "a user partition for uid 0 is refused");
        image_cache_free(c);
        fixture_server_stop(&a);
        fixture_server_stop(&b);
}

/* A cached build whose meta is refused is removed, not left to block. */
static void test_broken_meta(void) {
        ImageCache *c = NULL;
        ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
        FixtureServer s;
        char msg[1024], vdir[1024], p1[1200];

        fixture_rm_rf(cache_dir);
        ok(fixture_server_start(&s, NULL, NULL) == 0 && image_cache_open(cache_dir, &c, NULL) == 0,
           "broken meta: setup");
        ImageFetchParams p = params(&s);
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "cached once");
        image_fetch_result_done(&res);
        fixture_variant_dir(cache_dir, s.url, 0, vdir, sizeof vdir);
        age_entry(vdir, FIXTURE_NEWEST, "99999999999\n", now_s());
        snprintf(p1, sizeof p1, "%s/" FIXTURE_NEWEST "/meta/config", vdir);
        ok(unlink(p1) == 0, "its meta broken (no config), expiry far away");
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "the next fetch succeeds %s", msg);
        ok(res.downloaded, "the refused build was replaced by a fresh download");
        ok(fixture_exists("%s", p1), "the new entry has its config");
        is(fixture_count_builds(vdir), 1, "one build cached");
        image_fetch_result_done(&res);

        /* With force_cache (no network) it is removed too, and nothing else is used. */
        ok(unlink(p1) == 0, "broken again");
        p.force_cache = true;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "force-cache: falls through to the server");
        ok(res.downloaded, "force-cache: downloaded instead of using the refused build");
        image_fetch_result_done(&res);
        image_cache_free(c);
        fixture_server_stop(&s);
}

typedef struct SigCase {
        const char *desc;
        const char *faults[3];
        const char *server_args; /* NULL: unsigned */
        int error;
        const char *message;
} SigCase;

static void test_signatures(void) {
        char home[600], keyring[600], other_home[600], other_keyring[600], args[1400], args_sums[1400],
                args_files[1400], args_other[1400];

        snprintf(home, sizeof home, "%s/gnupg", fixture_base);
        snprintf(keyring, sizeof keyring, "%s/keyring.gpg", fixture_base);
        snprintf(other_home, sizeof other_home, "%s/gnupg-other", fixture_base);
        snprintf(other_keyring, sizeof other_keyring, "%s/other.gpg", fixture_base);
        ok(fixture_gpg_key(home, keyring) == 0 && fixture_gpg_key(other_home, other_keyring) == 0,
           "two throwaway ed25519 keys made with gpg");
        snprintf(args, sizeof args, "--sign-gnupghome %s", home);
        snprintf(args_sums, sizeof args_sums, "--sign-gnupghome %s --sign-what sums", home);
        snprintf(args_files, sizeof args_files, "--sign-gnupghome %s --sign-what files", home);
        snprintf(args_other, sizeof args_other, "--sign-gnupghome %s", other_home);

        const SigCase cases[] = {
                { "signed index, SHA256SUMS and files", { NULL }, args, 0, NULL },
                { "signed index and SHA256SUMS only", { NULL }, args_sums, 0, NULL },
                { "signed index and each file, no SHA256SUMS (LXC's way)", { "no-sums", NULL }, args_files, 0,
                  NULL },
                { "unsigned", { NULL }, NULL, -EBADE,
                  "Verification of 'index-system' failed: it is not signed \\(the server has no "
                  "index-system\\.asc\\)" },
                { "signed index, unsigned files", { "no-sums", NULL }, args_sums, -EBADE,
                  "Verification of 'meta\\.tar\\.xz' failed: it is not signed \\(the server has no "
                  "SHA256SUMS\\.asc nor meta\\.tar\\.xz\\.asc\\)" },
                { "tampered after signing (SHA256SUMS)", { "tamper-signed", NULL }, args, -EBADE,
                  "Verification of 'SHA256SUMS' failed: signature Bad signature" },
                { "tampered after signing (rootfs.tar.xz)", { "tamper-signed", "no-sums", NULL }, args_files,
                  -EBADE, "Verification of 'rootfs\\.tar\\.xz' failed: signature Bad signature" },
                { "tampered index", { "tamper-index", NULL }, args, -EBADE,
                  "Verification of 'index-system' failed: signature Bad signature" },
                { "signed with a key not in the keyring", { NULL }, args_other, -EBADE,
                  "Verification of 'index-system' failed: signature made by key [0-9A-F]+, which is not in "
                  "the keyring" },
                { "signed, but SHA256SUMS does not match the rootfs", { "corrupt-rootfs", NULL }, args_sums,
                  -EBADE, "Verification of 'rootfs\\.tar\\.xz' failed: expected SHA-256" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const SigCase *k = &cases[i];
                ImageCache *c = NULL;
                ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
                FixtureServer s;
                char msg[1024], vdir[1024];
                fixture_rm_rf(cache_dir);
                ok(fixture_server_start(&s, k->faults, k->server_args) == 0 &&
                           image_cache_open(cache_dir, &c, NULL) == 0,
                   "%s: setup", k->desc);
                ImageFetchParams p = params(&s);
                p.keyring = keyring;
                p.download.attempts = 1;
                int r = fetch(c, &p, &res, msg, sizeof msg);
                is(r, k->error, "%s: %s %s", k->desc, r < 0 ? "refused" : "accepted", msg);
                if (k->message)
                        like(msg, k->message, "%s: the message names the file", k->desc);
                fixture_variant_dir(cache_dir, s.url, 0, vdir, sizeof vdir);
                if (r < 0)
                        ok(fixture_count_builds(vdir) == 0 && cache_clean(), "%s: nothing cached, nothing left",
                           k->desc);
                else
                        ok(res.signed_ && fixture_exists("%s/" FIXTURE_NEWEST "/rootfs.tar.xz", vdir) &&
                                   !fixture_exists("%s/" FIXTURE_NEWEST "/gnupg", vdir) && cache_clean(),
                           "%s: cached, without the GnuPG home", k->desc);
                image_fetch_result_done(&res);
                image_cache_free(c);
                fixture_server_stop(&s);
        }

        /* --no-verify skips the signatures too (its authorization is the caller's). */
        ImageCache *c = NULL;
        ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
        FixtureServer s;
        char msg[1024];
        fixture_rm_rf(cache_dir);
        ok(fixture_server_start(&s, NULL, NULL) == 0 && image_cache_open(cache_dir, &c, NULL) == 0,
           "no-verify: setup");
        ImageFetchParams p = params(&s);
        p.keyring = keyring;
        p.no_verify = true;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "no-verify: an unsigned image is accepted %s", msg);
        is(fixture_log_count(&s, ".asc\t") + fixture_log_count(&s, "SHA256SUMS"), 0,
           "no-verify: no signature or SHA256SUMS asked for");
        image_fetch_result_done(&res);

        /* A keyring that is not one. */
        char bad[700];
        snprintf(bad, sizeof bad, "%s/not-a-keyring", fixture_base);
        ok(write_file_atomic_at(AT_FDCWD, bad, "garbage\n", 8, 0644) == 0, "a garbage keyring");
        p.no_verify = false;
        p.keyring = bad;
        p.flush_cache = true;
        is(fetch(c, &p, &res, msg, sizeof msg), -EINVAL, "a keyring without keys is refused");
        like(msg, "Keyring '.*not-a-keyring' holds no OpenPGP public key|Failed to import keyring",
             "message names the keyring");
        ok(chmod(keyring, 0666) == 0, "a keyring anyone may write");
        p.keyring = keyring;
        is(fetch(c, &p, &res, msg, sizeof msg), -EPERM, "is refused");
        like(msg, "Refusing keyring '.*keyring\\.gpg': .*mode 0666", "message names it and its mode");
        (void) chmod(keyring, 0644);
        image_cache_free(c);
        fixture_server_stop(&s);
        fixture_gpg_done(home);
        fixture_gpg_done(other_home);
}

typedef struct FaultCase {
        const char *fault;
        int error;
        const char *message;
        bool no_verify;
} FaultCase;

static void test_faults(void) {
        const FaultCase cases[] = {
                { "corrupt-rootfs", -EBADE, "Verification of 'rootfs.tar.xz' failed: expected SHA-256 " },
                { "missing-sums-entry", -EBADE,
                  "Verification of 'rootfs.tar.xz' failed: SHA256SUMS has no entry for it" },
                { "404-rootfs", -ECOMM, "rootfs.tar.xz' failed: HTTP status 404" },
                { "truncate-rootfs", -ECOMM, "rootfs.tar.xz' failed: transfer closed" },
                { "oversize-rootfs", -ECOMM, "rootfs.tar.xz' failed: too large \\(limit 2097152 bytes\\)" },
                { "no-config", -EINVAL, "Invalid image: no config for mode 'system' in meta.tar.xz" },
                { "no-sums", -ECOMM, "SHA256SUMS' failed: HTTP status 404" },
                { "garbage-index", 0, NULL },
                { "corrupt-rootfs", 0, NULL, true },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *f[] = { cases[i].fault, NULL };
                ImageCache *c = NULL;
                ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
                FixtureServer s;
                char msg[1024], vdir[1024];
                fixture_rm_rf(cache_dir);
                ok(fixture_server_start(&s, f, NULL) == 0 && image_cache_open(cache_dir, &c, NULL) == 0,
                   "%s: setup", cases[i].fault);
                ImageFetchParams p = params(&s);
                p.download.attempts = 1;
                p.limits.rootfs_max = 2 << 20;
                p.no_verify = cases[i].no_verify;
                int r = fetch(c, &p, &res, msg, sizeof msg);
                is(r, cases[i].error, "%s%s: %s", cases[i].fault, cases[i].no_verify ? " (no-verify)" : "",
                   r < 0 ? "refused" : "accepted");
                if (cases[i].message)
                        like(msg, cases[i].message, "%s: message", cases[i].fault);
                fixture_variant_dir(cache_dir, s.url, 0, vdir, sizeof vdir);
                if (r < 0)
                        ok(fixture_count_builds(vdir) == 0 && cache_clean(), "%s: nothing cached, nothing left",
                           cases[i].fault);
                else
                        is_str(res.build, FIXTURE_NEWEST, "%s: newest build", cases[i].fault);
                if (streq(cases[i].fault, "no-config"))
                        is(fixture_log_count(&s, "rootfs.tar.xz"), 0,
                           "no-config: refused before the rootfs download");
                if (cases[i].no_verify)
                        is(fixture_log_count(&s, "SHA256SUMS"), 0, "no-verify: SHA256SUMS not fetched");
                image_fetch_result_done(&res);
                image_cache_free(c);
                fixture_server_stop(&s);
        }

        /* Bad input fails before anything is created. */
        ImageCache *c = NULL;
        ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
        WarrenError e = WARREN_ERROR_NULL;
        fixture_rm_rf(cache_dir);
        ok(image_cache_open(cache_dir, &c, NULL) == 0, "cache for bad input");
        ImageFetchParams p = { .origin = { .server = "http://127.0.0.1:1" },
                               .spec = { .dist = "../etc", .release = "1" } };
        is(image_cache_fetch(c, &p, &res, &e), -EINVAL, "bad distribution refused");
        like(e.message, "Invalid image distribution '\\.\\./etc'", "message names it");
        warren_error_clear(&e);
        p.spec.dist = "busybox";
        p.origin.server = "http://example.org";
        is(image_cache_fetch(c, &p, &res, &e), -EPERM, "remote http server refused");
        warren_error_clear(&e);
        p.origin.server = "https://user:pw@example.org";
        is(image_cache_fetch(c, &p, &res, &e), -EINVAL, "a server URL with credentials refused");
        like(e.message, "no user, query or fragment", "message says why");
        warren_error_clear(&e);
        p.origin.server = "https://example.org/a/../b";
        is(image_cache_fetch(c, &p, &res, &e), -EINVAL, "a server URL with '..' refused");
        warren_error_clear(&e);
        p.origin.server = "https://example.org";
        p.keyring = "relative.gpg";
        is(image_cache_fetch(c, &p, &res, &e), -EINVAL, "a relative keyring refused");
        warren_error_clear(&e);
        is(fixture_count_tree(cache_dir), 1, "nothing created but images/");
        image_cache_free(c);
}

/* Stale temporaries of dead fetches go; live ones stay. */
static void test_stale(void) {
        ImageCache *c = NULL;
        ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
        FixtureServer s;
        char msg[1024], vdir[1024], stale[1200];

        fixture_rm_rf(cache_dir);
        ok(fixture_server_start(&s, NULL, NULL) == 0 && image_cache_open(cache_dir, &c, NULL) == 0,
           "stale: setup");
        ImageFetchParams p = params(&s);
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "cached once");
        image_fetch_result_done(&res);
        fixture_variant_dir(cache_dir, s.url, 0, vdir, sizeof vdir);
        snprintf(stale, sizeof stale, "%s/.#pull-999999", vdir);
        ok(mkdir(stale, 0700) == 0, "a stale temporary planted");
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "fetch with a stale temporary");
        ok(!fixture_exists("%s", stale), "stale temporary removed");
        image_fetch_result_done(&res);
        image_cache_free(c);
        fixture_server_stop(&s);
}

/* Several processes pulling the same image at once: one download, no corruption. */
static void test_concurrent(void) {
        FixtureServer s;
        pid_t pids[3];
        int failures = 0;
        char vdir[1024];

        fixture_rm_rf(cache_dir);
        ok(fixture_server_start(&s, NULL, NULL) == 0, "concurrent: server");
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        ImageCache *c = NULL;
                        ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
                        ImageFetchParams p = params(&s);
                        int r = image_cache_open(cache_dir, &c, NULL);
                        if (r >= 0)
                                r = image_cache_fetch(c, &p, &res, NULL);
                        _exit(r < 0 || !res.build || !streq(res.build, FIXTURE_NEWEST) ? 1 : 0);
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                int st = 0;
                waitpid(pids[i], &st, 0);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        failures++;
        }
        fixture_variant_dir(cache_dir, s.url, 0, vdir, sizeof vdir);
        is(failures, 0, "concurrent: every pull succeeded");
        is(fixture_log_count(&s, "rootfs.tar.xz"), 1, "concurrent: the rootfs was downloaded once");
        ok(cache_clean() && fixture_exists("%s/" FIXTURE_NEWEST "/rootfs.tar.xz", vdir),
           "concurrent: one complete entry, no temporaries");
        fixture_server_stop(&s);
}

static double mono_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* A fetch in its own process; returns its pid. */
static pid_t fetch_child(const ImageFetchParams *p, int *ret_pipe) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                ImageCache *c = NULL;
                ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
                WarrenError e = WARREN_ERROR_NULL;
                int r = image_cache_open(cache_dir, &c, &e);
                if (r >= 0)
                        r = image_cache_fetch(c, p, &res, &e);
                dprintf(fds[1], "%d %s", r, e.error ? warren_error_message(&e) : "");
                _exit(0);
        }
        close(fds[1]);
        *ret_pipe = fds[0];
        return pid;
}

static int child_result(pid_t pid, int fd, char *msg, size_t size) {
        int st = 0, r = -999;
        ssize_t n = read(fd, msg, size - 1);
        msg[n > 0 ? n : 0] = 0;
        close(fd);
        waitpid(pid, &st, 0);
        sscanf(msg, "%d", &r);
        return r;
}

/* The download lock: never held across a transfer for other servers,
 * held by one transfer of the same image only while it moves. */
static void test_lock(void) {
        const char *stall[] = { "stall-rootfs", NULL };
        FixtureServer slow, fast;
        char msg[1024];
        int fd1, fd2;

        fixture_rm_rf(cache_dir);
        ok(fixture_server_start(&slow, stall, "--stall-seconds 60 --stall-count 1") == 0 &&
                   fixture_server_start(&fast, NULL, NULL) == 0,
           "lock: a stalling server and a good one");

        /* A: stuck in the slow server's transfer (its stall timeout is long). */
        ImageFetchParams pa = params(&slow);
        pa.download.low_speed_time_s = 60;
        pa.download.attempts = 1;
        pid_t a = fetch_child(&pa, &fd1);
        for (int i = 0; i < 100 && fixture_log_count(&slow, "rootfs.tar.xz") == 0; i++)
                usleep(50000);
        ok(fixture_log_count(&slow, "rootfs.tar.xz") == 1, "A is in the stalled rootfs transfer");

        /* B: the same image from another server does not wait for A. */
        double t0 = mono_s();
        ImageFetchParams pb = params(&fast);
        pid_t b = fetch_child(&pb, &fd2);
        is(child_result(b, fd2, msg, sizeof msg), 0, "B (another server) succeeds %s", msg);
        double tb = mono_s() - t0;
        ok(tb < 5.0, "B did not wait for A's stalled transfer (%.2f s)", tb);

        /* C: the same image from the same server waits for A's transfer... */
        ImageFetchParams pc = params(&slow);
        pc.download.low_speed_time_s = 30;
        pc.download.attempts = 1;
        t0 = mono_s();
        pid_t cpid = fetch_child(&pc, &fd2);
        usleep(1500000);
        is(fixture_log_count(&slow, "rootfs.tar.xz"), 1, "C waits for A's transfer instead of starting one");
        /* ...until A is canceled (killed): then C downloads at once. */
        kill(a, SIGKILL);
        waitpid(a, NULL, 0);
        close(fd1);
        is(child_result(cpid, fd2, msg, sizeof msg), 0, "C succeeds once A is gone %s", msg);
        double tc = mono_s() - t0;
        ok(tc < 8.0, "C waited only for A (%.2f s)", tc);
        is(fixture_log_count(&slow, "rootfs.tar.xz"), 2, "C made the second transfer");
        fixture_server_stop(&slow);

        /* D waits for a holder whose transfer has stalled only up to its own stall timeout. */
        fixture_rm_rf(cache_dir);
        ok(fixture_server_start(&slow, stall, "--stall-seconds 60 --stall-count 1") == 0, "lock: stall again");
        pa = params(&slow);
        pa.download.low_speed_time_s = 60;
        pa.download.attempts = 1;
        a = fetch_child(&pa, &fd1);
        for (int i = 0; i < 100 && fixture_log_count(&slow, "rootfs.tar.xz") == 0; i++)
                usleep(50000);
        ImageFetchParams pd = params(&slow);
        pd.download.low_speed_time_s = 2;
        pd.download.attempts = 1;
        t0 = mono_s();
        pid_t d = fetch_child(&pd, &fd2);
        is(child_result(d, fd2, msg, sizeof msg), 0, "D succeeds while A still hangs %s", msg);
        double td = mono_s() - t0;
        ok(td >= 1.5 && td < 8.0, "D gave up waiting after its stall timeout (%.2f s)", td);
        kill(a, SIGKILL);
        waitpid(a, NULL, 0);
        close(fd1);
        fixture_server_stop(&slow);
        fixture_server_stop(&fast);
}

int main(void) {
        if (!ok(fixture_setup(true) == 0, "fixture image built"))
                return done_testing();
        snprintf(cache_dir, sizeof cache_dir, "%s/cache", fixture_base);
        test_fetch_and_reuse();
        test_origins();
        test_broken_meta();
        test_signatures();
        test_faults();
        test_stale();
        test_concurrent();
        test_lock();
        return done_testing();
}
