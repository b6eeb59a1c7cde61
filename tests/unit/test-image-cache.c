/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "image-cache.h"
#include "image-fixture.h"
#include "strv.h"
#include "tap.h"

static char cache_dir[512];
static char variant_dir[768];

static ImageFetchParams params(const FixtureServer *s) {
        return (ImageFetchParams){
                .server = s->url,
                .spec = { .dist = "busybox", .release = "1.35" },
                .mode = IMAGE_MODE_SYSTEM,
                .download = { .connect_timeout_s = 5, .low_speed_time_s = 5, .attempts = 2 },
        };
}

/* Nothing but complete builds and the lock in the variant dir. */
static bool cache_clean(void) {
        return fixture_count_prefix(cache_dir, ".#") == 0;
}

static int fetch(ImageCache *c, const ImageFetchParams *p, ImageFetchResult *res, char *msg,
                 size_t msg_size) {
        WarrenError e = WARREN_ERROR_NULL;
        int r = image_cache_fetch(c, p, res, &e);
        snprintf(msg, msg_size, "%s", e.error ? warren_error_message(&e) : "");
        warren_error_clear(&e);
        return r;
}

static void test_fetch_and_reuse(void) {
        ImageCache *c = NULL;
        ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
        FixtureServer s;
        char msg[1024];

        ok(fixture_server_start(&s, NULL, NULL) == 0, "server started");
        ok(image_cache_open(cache_dir, &c, NULL) == 0, "cache opened");
        ImageFetchParams p = params(&s);

        is(fetch(c, &p, &res, msg, sizeof msg), 0, "first fetch succeeds %s", msg);
        is_str(res.build, FIXTURE_NEWEST, "newest build chosen whatever its line order");
        ok(res.downloaded && res.index_fetched, "downloaded, index fetched");
        ok(res.meta && res.meta->create_message && strstr(res.meta->create_message, "build " FIXTURE_NEWEST),
           "create-message of that build");
        ok(res.meta && res.meta->has_expiry && res.meta->expiry > (uint64_t) time(NULL), "expiry read");
        ok(res.rootfs_fd >= 0, "rootfs fd handed out");
        is(fixture_log_count(&s, "/meta/1.0/index-system.7\t"), 1, "compat index tried first");
        is(fixture_log_count(&s, "/meta/1.0/index-system\t"), 1, "fallback index fetched after its 404");
        is(fixture_log_count(&s, "SHA256SUMS"), 1, "SHA256SUMS fetched");
        is(fixture_log_count(&s, "meta.tar.xz"), 1, "meta fetched");
        is(fixture_log_count(&s, "rootfs.tar.xz"), 1, "rootfs fetched");
        is(fixture_log_count(&s, "/20240101_05:24/"), 0, "older builds never requested");
        ok(fixture_exists("%s/" FIXTURE_NEWEST "/rootfs.tar.xz", variant_dir) &&
                   fixture_exists("%s/" FIXTURE_NEWEST "/meta/config", variant_dir) &&
                   fixture_exists("%s/" FIXTURE_NEWEST "/SHA256SUMS", variant_dir),
           "cache entry holds the verified files and the unpacked meta");
        ok(cache_clean(), "no temporaries");
        image_fetch_result_done(&res);

        /* Before expiry: nothing at all goes over the network. */
        int before = fixture_log_count(&s, "GET");
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "second fetch succeeds");
        ok(!res.downloaded && !res.index_fetched, "second fetch: from cache, no index");
        is(fixture_log_count(&s, "GET"), before, "second fetch: no request at all");
        image_fetch_result_done(&res);

        /* Expired: the index is asked, the image is not downloaded again. */
        char expiry[1024];
        snprintf(expiry, sizeof expiry, "%s/" FIXTURE_NEWEST "/meta/expiry", variant_dir);
        ok(write_file_atomic_at(AT_FDCWD, expiry, "1000\n", 5, 0644) == 0, "cached expiry set to the past");
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "fetch after expiry succeeds");
        ok(!res.downloaded && res.index_fetched, "after expiry: index only");
        is(fixture_log_count(&s, "rootfs.tar.xz"), 1, "after expiry: no rootfs request");
        image_fetch_result_done(&res);

        /* force_cache: expired, yet no network. */
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

        /* Listing and removal. */
        ImageCacheEntry *l = NULL;
        size_t n = 0;
        is(image_cache_list(c, &l, &n, NULL), 0, "list");
        if (is(n, 1, "one cached image")) {
                is_str(l[0].dist, "busybox", "list: dist");
                is_str(l[0].release, "1.35", "list: release");
                is_str(l[0].arch, fixture_arch(), "list: arch");
                is_str(l[0].variant, "default", "list: variant");
                is_str(l[0].build, FIXTURE_NEWEST, "list: build");
                ok(l[0].size > 100000, "list: size (%llu)", (unsigned long long) l[0].size);
                ok(l[0].last_used_usec > 1600000000ULL * 1000000ULL, "list: last used");
                char expect[1024];
                snprintf(expect, sizeof expect, "%s/" FIXTURE_NEWEST, variant_dir);
                is_str(l[0].path, expect, "list: path");
        }
        image_cache_entries_free(l, n);

        ImageSpec spec = {
                .dist = "busybox", .release = "1.35", .arch = fixture_arch(), .variant = "default"
        };
        WarrenError e = WARREN_ERROR_NULL;
        is(image_cache_remove(c, &spec, "20990101_00:00", &e), -ENOENT, "removing an absent build: ENOENT");
        like(e.message, "No cached image busybox 1.35", "message names the image");
        warren_error_clear(&e);
        is(image_cache_remove(c, &spec, FIXTURE_NEWEST, NULL), 0, "build removed");
        is(image_cache_list(c, &l, &n, NULL), 0, "list after removal");
        is(n, 0, "cache empty");
        image_cache_entries_free(l, n);
        spec.dist = "../x";
        is(image_cache_remove(c, &spec, NULL, NULL), -EINVAL, "remove with a bad name refused");

        /* A stale temporary from a dead fetch goes on the next fetch. */
        char stale[1024];
        snprintf(stale, sizeof stale, "%s/.#pull-999999", variant_dir);
        ok(mkdir(stale, 0755) == 0, "stale temporary planted");
        p.mode = IMAGE_MODE_SYSTEM;
        p.flush_cache = false;
        is(fetch(c, &p, &res, msg, sizeof msg), 0, "fetch with a stale temporary");
        ok(!fixture_exists("%s", stale), "stale temporary removed");
        image_fetch_result_done(&res);

        image_cache_free(c);
        fixture_server_stop(&s);
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
                { "oversize-rootfs", -ECOMM, "rootfs.tar.xz' failed: too large (limit 2097152 bytes)" },
                { "no-config", -EINVAL, "Invalid image: no config for mode 'system' in meta.tar.xz" },
                { "garbage-index", 0, NULL },
                { "corrupt-rootfs", 0, NULL, true },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *f[] = { cases[i].fault, NULL };
                ImageCache *c = NULL;
                ImageFetchResult res = IMAGE_FETCH_RESULT_NULL;
                FixtureServer s;
                char msg[1024];
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
                if (r < 0)
                        ok(fixture_count_tree(variant_dir) == 1 && cache_clean(),
                           "%s: nothing cached, nothing left (%d)", cases[i].fault,
                           fixture_count_tree(variant_dir));
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
        ImageFetchParams p = { .server = "http://127.0.0.1:1",
                               .spec = { .dist = "../etc", .release = "1" } };
        is(image_cache_fetch(c, &p, &res, &e), -EINVAL, "bad distribution refused");
        like(e.message, "Invalid image distribution '../etc'", "message names it");
        warren_error_clear(&e);
        p.spec.dist = "busybox";
        p.server = "http://example.org";
        is(image_cache_fetch(c, &p, &res, &e), -EPERM, "remote http server refused");
        warren_error_clear(&e);
        is(fixture_count_tree(cache_dir), 1, "nothing created but images/");
        image_cache_free(c);
}

/* Several processes pulling the same image at once: one download, no corruption. */
static void test_concurrent(void) {
        FixtureServer s;
        pid_t pids[3];
        int failures = 0;

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
        is(failures, 0, "concurrent: every pull succeeded");
        is(fixture_log_count(&s, "rootfs.tar.xz"), 1, "concurrent: the rootfs was downloaded once");
        ok(cache_clean() && fixture_exists("%s/" FIXTURE_NEWEST "/rootfs.tar.xz", variant_dir),
           "concurrent: one complete entry, no temporaries");
        fixture_server_stop(&s);
}

int main(void) {
        if (!ok(fixture_setup(true) == 0, "fixture image built"))
                return done_testing();
        snprintf(cache_dir, sizeof cache_dir, "%s/cache", fixture_base);
        snprintf(variant_dir, sizeof variant_dir, "%s/images/busybox/1.35/%s/default", cache_dir,
                 fixture_arch());
        test_fetch_and_reuse();
        test_faults();
        test_concurrent();
        return done_testing();
}
