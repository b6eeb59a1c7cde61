/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "image-download.h"
#include "image-fixture.h"
#include "image-sums.h"
#include "build-config.h"
#include "tap.h"

static char rootfs_rel[256];

static void test_url_rules(void) {
        WarrenError e = WARREN_ERROR_NULL;
        char *u = NULL;

        is(image_url_check("https://images.linuxcontainers.org", NULL), 0, "https to any host");
        is(image_url_check("http://127.0.0.1:8080/x", NULL), 0, "http to 127.0.0.1");
        is(image_url_check("http://127.9.8.7", NULL), 0, "http to 127.0.0.0/8");
        is(image_url_check("http://localhost:1/", NULL), 0, "http to localhost");
        is(image_url_check("http://[::1]:8080/", NULL), 0, "http to [::1]");
        is(image_url_check("http://example.org/", &e), -EPERM, "http to example.org refused");
        is_str(e.message,
               "Refusing plain http:// image server URL 'http://example.org/': only https is allowed, "
               "except to a loopback host (127.0.0.0/8, ::1, localhost)",
               "refusal names the URL and the rule");
        warren_error_clear(&e);
        is(image_url_check("http://10.0.0.1/", NULL), -EPERM, "http to 10.0.0.1 refused");
        is(image_url_check("http://128.0.0.1/", NULL), -EPERM, "http to 128.0.0.1 refused");
        is(image_url_check("http://127.0.0.1.example.org/", NULL), -EPERM,
           "http to 127.0.0.1.example.org refused");
        is(image_url_check("http://[::2]/", NULL), -EPERM, "http to [::2] refused");
        is(image_url_check("ftp://127.0.0.1/", &e), -EINVAL, "ftp refused");
        like(e.message, "scheme must be https", "scheme message");
        warren_error_clear(&e);
        is(image_url_check("file:///etc/passwd", NULL), -EINVAL, "file refused");
        is(image_url_check("", NULL), -EINVAL, "empty refused");

        ok(image_host_is_loopback("::ffff:127.0.0.1"), "v4-mapped loopback");
        ok(!image_host_is_loopback("localhost.example"), "localhost.example is not loopback");

        is(image_server_url("images.example.org", &u, NULL), 0, "bare host accepted");
        is_str(u, "https://images.example.org", "https:// added");
        free(u);
        is(image_server_url("https://images.example.org/mirror//", &u, NULL), 0, "URL with path accepted");
        is_str(u, "https://images.example.org/mirror", "trailing slashes dropped");
        free(u);
        is(image_server_url("http://images.example.org", &u, NULL), -EPERM, "http server refused");

        u = image_url_join("https://h/base/", "/images/x/");
        is_str(u, "https://h/base/images/x/", "join drops the doubled slash");
        free(u);
        is_str(image_user_agent(), "warren/" PACKAGE_VERSION " compat:7",
               "user agent names warren and compat:7");
}

typedef struct ProgressLog {
        uint64_t last_done, calls, max_threads;
        bool monotonic;
        int cancel_after;
} ProgressLog;

static uint64_t count_threads(void) {
        DIR *d = opendir("/proc/self/task");
        uint64_t n = 0;
        for (struct dirent *de; d && (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        if (d)
                closedir(d);
        return n;
}

static int progress_cb(uint64_t done, uint64_t total, void *userdata) {
        ProgressLog *p = userdata;
        if (done < p->last_done)
                p->monotonic = false;
        p->last_done = done;
        p->calls++;
        uint64_t t = count_threads();
        if (t > p->max_threads)
                p->max_threads = t;
        if (p->cancel_after > 0 && done > 0 && --p->cancel_after == 0)
                return -1;
        return 0;
}

static ImageDownloadOptions opts(uint64_t max) {
        return (ImageDownloadOptions){
                .max_size = max, .connect_timeout_s = 5, .low_speed_time_s = 10, .attempts = 3
        };
}

static int tmpfile_fd(void) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/dl.XXXXXX", fixture_base);
        int fd = mkostemp(p, O_CLOEXEC);
        if (fd >= 0)
                unlink(p);
        return fd;
}

static void test_downloads(void) {
        FixtureServer s;
        WarrenError e = WARREN_ERROR_NULL;
        ImageDownloadResult res;
        ImageDownloadOptions o = opts(1 << 20);
        char url[512], file[PATH_MAX], hex[SHA256_HEX_SIZE];
        char *data = NULL, *expect = NULL;
        size_t size = 0;

        if (!ok(fixture_server_start(&s, NULL, NULL) == 0, "fixture server started on %s", s.url))
                return;

        snprintf(url, sizeof url, "%s/meta/1.0/index-system", s.url);
        snprintf(file, sizeof file, "%s/meta/1.0/index-system", fixture_image);
        is(image_download_buffer(url, &o, &data, &size, &res, NULL), 0, "index downloads");
        ok(read_full_file(file, 1 << 20, &expect, NULL) == 0 && data && streq(data, expect),
           "content is the file's");
        is(res.http_status, 200, "HTTP 200");
        is(res.attempts, 1, "one attempt");
        is(fixture_log_count(&s, "warren/" PACKAGE_VERSION " compat:7"), 1, "request sent our user agent");
        free(data);
        free(expect);

        snprintf(url, sizeof url, "%s/meta/1.0/index-system.7", s.url);
        is(image_download_buffer(url, &o, &data, &size, &res, &e), -ECOMM, "missing file -> ECOMM");
        is(res.http_status, 404, "status 404 reported");
        is(res.attempts, 1, "a 404 is not retried");
        like(e.message, "failed: HTTP status 404", "message names the status");
        like(e.message, url, "message names the URL");
        warren_error_clear(&e);

        /* Into a file, hashed on the way. */
        int fd = tmpfile_fd();
        ProgressLog pl = { .monotonic = true };
        o = opts(16 << 20);
        o.progress = progress_cb;
        o.userdata = &pl;
        snprintf(url, sizeof url, "%s/%s/rootfs.tar.xz", s.url, rootfs_rel);
        snprintf(file, sizeof file, "%s/%s/rootfs.tar.xz", fixture_image, rootfs_rel);
        is(image_download_fd(url, fd, &o, &res, NULL), 0, "rootfs downloads into a file");
        int ffd = open(file, O_RDONLY | O_CLOEXEC);
        ok(ffd >= 0 && sha256_fd(ffd, hex) == 0, "hash of the served file");
        close(ffd);
        char got[SHA256_HEX_SIZE];
        sha256_to_hex(res.sha256, got);
        is_str(got, hex, "hash computed while downloading matches");
        ok(lseek(fd, 0, SEEK_END) == (off_t) res.size && res.size > 100000, "file has all %llu bytes",
           (unsigned long long) res.size);
        ok(pl.calls > 0 && pl.monotonic, "progress called (%llu times) and monotonic",
           (unsigned long long) pl.calls);
        is(pl.last_done, res.size, "progress ends at the size");
        is(pl.max_threads, 1, "no thread while downloading (resolver included)");

        /* localhost goes through our own resolution. */
        snprintf(url, sizeof url, "http://localhost:%d/%s/rootfs.tar.xz", s.port, rootfs_rel);
        pl = (ProgressLog){ .monotonic = true };
        is(image_download_fd(url, fd, &o, &res, NULL), 0, "download via 'localhost'");
        is(pl.max_threads, 1, "no resolver thread for 'localhost'");

        /* Limits: announced length over the limit, not retried. */
        snprintf(url, sizeof url, "%s/%s/rootfs.tar.xz", s.url, rootfs_rel);
        o = opts(1000);
        is(image_download_fd(url, fd, &o, &res, &e), -ECOMM, "over the size limit -> ECOMM");
        like(e.message, "failed: too large (limit 1000 bytes)", "message says too large");
        is(res.attempts, 1, "too large is not retried");
        warren_error_clear(&e);

        /* Cancel from the progress callback. */
        pl = (ProgressLog){ .monotonic = true, .cancel_after = 1 };
        o = opts(16 << 20);
        o.progress = progress_cb;
        o.userdata = &pl;
        is(image_download_fd(url, fd, &o, &res, &e), -ECANCELED, "progress callback cancels");
        warren_error_clear(&e);

        is(image_download_fd("http://example.org/x", fd, &o, &res, &e), -EPERM,
           "http to a remote host refused");
        warren_error_clear(&e);
        o.max_size = 0;
        is(image_download_fd(url, fd, &o, &res, &e), -EINVAL, "no size limit refused");
        warren_error_clear(&e);
        close(fd);
        fixture_server_stop(&s);

        /* Nobody listening: connection refused, retried. */
        o = opts(1 << 20);
        o.attempts = 2;
        is(image_download_buffer(url, &o, &data, &size, &res, &e), -ECOMM, "closed port -> ECOMM");
        is(res.attempts, 2, "connection failures are retried");
        like(e.message, url, "message names the URL");
        warren_error_clear(&e);
}

static void test_faults(void) {
        FixtureServer s;
        WarrenError e = WARREN_ERROR_NULL;
        ImageDownloadResult res;
        ImageDownloadOptions o = opts(16 << 20);
        char url[512];
        int fd = tmpfile_fd();

        {
                const char *f[] = { "truncate-rootfs", NULL };
                ok(fixture_server_start(&s, f, NULL) == 0, "server with truncate-rootfs");
                snprintf(url, sizeof url, "%s/%s/rootfs.tar.xz", s.url, rootfs_rel);
                is(image_download_fd(url, fd, &o, &res, &e), -ECOMM, "truncated download -> ECOMM");
                like(e.message, "rootfs.tar.xz' failed: transfer closed",
                     "message says the transfer was cut");
                is(res.attempts, 3, "retried three times");
                is(fixture_log_count(&s, "rootfs.tar.xz"), 3, "server saw three requests");
                warren_error_clear(&e);
                fixture_server_stop(&s);
        }
        {
                const char *f[] = { "500-once-rootfs", NULL };
                ok(fixture_server_start(&s, f, NULL) == 0, "server with 500-once-rootfs");
                snprintf(url, sizeof url, "%s/%s/rootfs.tar.xz", s.url, rootfs_rel);
                is(image_download_fd(url, fd, &o, &res, NULL), 0, "a 500 is retried and then succeeds");
                is(res.attempts, 2, "two attempts");
                ok(lseek(fd, 0, SEEK_END) == (off_t) res.size, "the file holds only the good body");
                fixture_server_stop(&s);
        }
        {
                const char *f[] = { "oversize-rootfs", NULL };
                ok(fixture_server_start(&s, f, NULL) == 0, "server with oversize-rootfs");
                snprintf(url, sizeof url, "%s/%s/rootfs.tar.xz", s.url, rootfs_rel);
                o = opts(2 << 20);
                is(image_download_fd(url, fd, &o, &res, &e), -ECOMM, "endless body -> ECOMM");
                like(e.message, "too large (limit 2097152 bytes)", "message says too large");
                ok(lseek(fd, 0, SEEK_END) <= (2 << 20), "no more than the limit was written");
                warren_error_clear(&e);
                fixture_server_stop(&s);
        }
        {
                const char *f[] = { "stall-rootfs", NULL };
                ok(fixture_server_start(&s, f, NULL) == 0, "server with stall-rootfs");
                snprintf(url, sizeof url, "%s/%s/rootfs.tar.xz", s.url, rootfs_rel);
                o = opts(16 << 20);
                o.low_speed_time_s = 1;
                o.attempts = 2;
                time_t t0 = time(NULL);
                is(image_download_fd(url, fd, &o, &res, &e), -ECOMM, "stalled transfer -> ECOMM");
                like(e.message, "failed: timeout", "message says timeout");
                ok(time(NULL) - t0 < 45, "gave up instead of hanging on the stall (%lld s)",
                   (long long) (time(NULL) - t0));
                is(res.attempts, 2, "retried");
                warren_error_clear(&e);
                fixture_server_stop(&s);
        }
        {
                const char *f[] = { "redirect-rootfs", NULL };
                ok(fixture_server_start(&s, f, NULL) == 0, "server with redirect-rootfs");
                snprintf(url, sizeof url, "%s/%s/rootfs.tar.xz", s.url, rootfs_rel);
                o = opts(16 << 20);
                is(image_download_fd(url, fd, &o, &res, NULL), 0, "redirect on the same host followed");
                is(fixture_log_count(&s, "/redirected/"), 1, "redirect target fetched");
                ok(res.size > 100000, "redirect target's body kept (%llu bytes)",
                   (unsigned long long) res.size);
                fixture_server_stop(&s);
        }
        {
                const char *f[] = { "redirect-external", NULL };
                ok(fixture_server_start(&s, f, NULL) == 0, "server with redirect-external");
                snprintf(url, sizeof url, "%s/%s/rootfs.tar.xz", s.url, rootfs_rel);
                is(image_download_fd(url, fd, &o, &res, &e), -EPERM,
                   "redirect to a remote http host refused");
                like(e.message, "http://192.0.2.1/rootfs.tar.xz", "message names the target");
                warren_error_clear(&e);
                fixture_server_stop(&s);
        }
        close(fd);
}

int main(void) {
        snprintf(rootfs_rel, sizeof rootfs_rel, "images/busybox/1.35/%s/default/" FIXTURE_NEWEST,
                 fixture_arch());
        test_url_rules();
        if (ok(fixture_setup(true) == 0, "fixture image built")) {
                test_downloads();
                test_faults();
        }
        return done_testing();
}
