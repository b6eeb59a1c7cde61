/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "image-fixture.h"
#include "image-job.h"
#include "strv.h"
#include "tap.h"
#include "worker-fixture.h"

static char cache_dir[512];
static char variant_dir[768];
static char data_dir[512];

static const char DEFAULT_CONF[] = "# default.conf for the test\n"
                                   "lxc.net.0.type = empty\n"
                                   "lxc.tty.max = 2\n"
                                   "lxc.uts.name = must-be-dropped\n";

/* ---- protocol ---- */

static void test_protocol(void) {
        uint8_t buf[IMAGE_JOB_MSG_MAX];
        ImageJobMsg m = { .type = IMAGE_JOB_MSG_PROGRESS,
                          .progress = { .phase = IMAGE_PHASE_ROOTFS,
                                        .bytes_done = 5ULL << 32,
                                        .bytes_total = 7ULL << 32,
                                        .progress = 0.25 } };
        ImageJobMsg d;
        WarrenError e = WARREN_ERROR_NULL;

        ssize_t n = image_job_msg_encode(&m, buf, sizeof buf);
        is(n, 32, "progress message is 32 bytes");
        is(image_job_msg_decode(buf, (size_t) n, &d, NULL), 0, "progress decodes");
        ok(d.type == IMAGE_JOB_MSG_PROGRESS && d.progress.phase == IMAGE_PHASE_ROOTFS &&
                   d.progress.bytes_done == 5ULL << 32 && d.progress.bytes_total == 7ULL << 32 &&
                   d.progress.progress == 0.25,
           "progress round trip (64-bit byte counts)");
        for (ssize_t k = 0; k < n; k++)
                if (image_job_msg_decode(buf, (size_t) k, &d, NULL) != -EBADMSG) {
                        ok(0, "truncated progress at %zd accepted", k);
                        break;
                }
        ok(1, "every truncation of a progress message refused");

        m = (ImageJobMsg){ .type = IMAGE_JOB_MSG_RESULT,
                           .result = { .error = EBADE,
                                       .message = "Verification of 'x' failed",
                                       .create_message = "hello\nworld\n",
                                       .build = "20240101_05:24",
                                       .downloaded = true } };
        n = image_job_msg_encode(&m, buf, sizeof buf);
        ok(n > 0, "result encodes");
        is(image_job_msg_decode(buf, (size_t) n, &d, NULL), 0, "result decodes");
        ok(d.result.error == EBADE && streq_ptr(d.result.message, "Verification of 'x' failed") &&
                   streq_ptr(d.result.create_message, "hello\nworld\n") &&
                   streq_ptr(d.result.build, "20240101_05:24") && d.result.downloaded,
           "result round trip");
        image_job_msg_done(&d);
        is(image_job_msg_encode(&m, buf, 20), -ENOBUFS, "small buffer: ENOBUFS");

        /* Garbage: each with its exact error. */
        uint8_t bad[256];
        memcpy(bad, buf, (size_t) n);
        bad[0] ^= 1;
        is(image_job_msg_decode(bad, (size_t) n, &d, &e), -EBADMSG, "bad magic refused");
        like(e.message, "bad magic", "bad magic message");
        warren_error_clear(&e);
        memcpy(bad, buf, (size_t) n);
        bad[4] = 9;
        is(image_job_msg_decode(bad, (size_t) n, &d, &e), -EBADMSG, "bad type refused");
        is_str(e.message, "Invalid image job message: type 9", "bad type message");
        warren_error_clear(&e);
        memcpy(bad, buf, (size_t) n);
        bad[n] = 0;
        is(image_job_msg_decode(bad, (size_t) n + 1, &d, &e), -EBADMSG, "trailing byte refused");
        is_str(e.message, "Invalid image job message: 1 trailing bytes", "trailing byte message");
        warren_error_clear(&e);
        memcpy(bad, buf, (size_t) n);
        bad[17 + 3] = 0; /* a NUL inside the message string */
        is(image_job_msg_decode(bad, (size_t) n, &d, &e), -EBADMSG, "NUL in a string refused");
        like(e.message, "message too long or contains NUL", "NUL message");
        warren_error_clear(&e);
        memcpy(bad, buf, (size_t) n);
        bad[8] = 0xff, bad[9] = 0xff; /* errno 65535 */
        is(image_job_msg_decode(bad, (size_t) n, &d, &e), -EBADMSG, "errno out of range refused");
        warren_error_clear(&e);
        m = (ImageJobMsg){ .type = IMAGE_JOB_MSG_PROGRESS,
                           .progress = { .phase = IMAGE_PHASE_DONE, .progress = 1.0 } };
        n = image_job_msg_encode(&m, buf, sizeof buf);
        buf[8] = 77;
        is(image_job_msg_decode(buf, (size_t) n, &d, &e), -EBADMSG, "unknown phase refused");
        warren_error_clear(&e);
        for (ssize_t k = 0; k < 8; k++) {
                uint8_t r[8];
                memset(r, (int) k * 37, sizeof r);
                (void) image_job_msg_decode(r, (size_t) k, &d, NULL);
        }
        ok(1, "short garbage does not crash");
}

/* ---- meta: templates, config assembly, meta files ---- */

static int write_at(int dfd, const char *name, const char *text) {
        return write_file_atomic_at(dfd, name, text, strlen(text), 0644);
}

static void test_meta(void) {
        const ImageTemplateVars v = { .name = "c1",
                                      .path = "/var/lib/warren/containers/c1",
                                      .rootfs = "/var/lib/warren/containers/c1/rootfs",
                                      .template_config = "/usr/share/warren",
                                      .hook_dir = "/usr/share/warren/hooks" };
        WarrenError e = WARREN_ERROR_NULL;
        char dir[600], *t = NULL;

        t = image_template_substitute(
                "LXC_NAMELXC_PATH LXC_ROOTFS LXC_TEMPLATE_CONFIG LXC_HOOK_DIR LXC_OTHER L", 72, &v);
        is_str(t,
               "c1/var/lib/warren/containers/c1 /var/lib/warren/containers/c1/rootfs /usr/share/warren "
               "/usr/share/warren/hooks LXC_OTHER L",
               "every LXC_* name replaced, others kept");
        free(t);
        const ImageTemplateVars tricky = {
                .name = "LXC_PATH", .path = "P", .rootfs = "R", .template_config = "T", .hook_dir = "H"
        };
        t = image_template_substitute("LXC_NAME LXC_PATH #s#x#", 23, &tricky);
        is_str(t, "LXC_PATH P #s#x#", "one pass: a value is not substituted again; no sed syntax");
        free(t);

        /* Templates inside a rootfs: symlinks stay inside, devices and dirs skipped. */
        snprintf(dir, sizeof dir, "%s/meta-rootfs", fixture_base);
        mkdir(dir, 0755);
        int rfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char outside_file[700];
        snprintf(outside_file, sizeof outside_file, "%s/outside-template", fixture_base);
        write_at(AT_FDCWD, outside_file, "LXC_NAME outside\n");
        mkdirat(rfd, "etc", 0755);
        write_at(rfd, "etc/hostname", "LXC_NAME\n");
        symlinkat(outside_file, rfd, "etc/escape"); /* absolute: resolved inside the root */
        symlinkat("hostname", rfd, "etc/relative");
        mkdirat(rfd, "etc/dir", 0755);
        write_at(rfd, "etc/inner-target", "LXC_ROOTFS\n");
        char inner[700];
        snprintf(inner, sizeof inner, "%s/etc/inner-target", strrchr(dir, '/'));
        (void) inner;
        ImageMeta m = { .templates = (char *[]){ "/etc/hostname", "etc/escape", "/etc/dir", "/etc/missing",
                                                 "/dev/null", "/../../../etc/relative", NULL } };
        mkdirat(rfd, "dev", 0755);
        if (geteuid() == 0)
                mknodat(rfd, "dev/null", S_IFCHR | 0666, makedev(1, 3));
        is(image_meta_apply_templates(&m, rfd, &v, &e), 0, "templates applied");
        warren_error_clear(&e);
        char *got = NULL;
        ok(read_full_file_at(rfd, "etc/hostname", 100, 1, &got, NULL) == 0 && streq(got, "c1\n"),
           "template substituted");
        free(got);
        ok(read_full_file(outside_file, 100, &got, NULL) == 0 && streq(got, "LXC_NAME outside\n"),
           "an absolute symlink does not lead outside the rootfs");
        free(got);
        close(rfd);

        /* Config assembly refusals. */
        ImageConfigParams cp = { .default_config = "lxc.tty.max = 1\n",
                                 .vars = &v,
                                 .dist_config = "lxc.hook.pre-start = /bin/evil\n" };
        is(image_config_assemble(&cp, &t, &e), -EPERM, "hooks from the image refused");
        is_str(e.message,
               "Refusing image config key 'lxc.hook.pre-start = /bin/evil': hooks from an image are not "
               "allowed",
               "hook refusal names the key");
        warren_error_clear(&e);
        cp.dist_config = "lxc.include = /etc/shadow\n";
        is(image_config_assemble(&cp, &t, &e), -EPERM, "include outside LXC_TEMPLATE_CONFIG refused");
        like(e.message, "/etc/shadow", "include refusal names the path");
        warren_error_clear(&e);
        cp.dist_config = "lxc.include = LXC_TEMPLATE_CONFIG/../../etc/shadow\n";
        is(image_config_assemble(&cp, &t, &e), -EPERM,
           "include escaping LXC_TEMPLATE_CONFIG with '..' refused");
        warren_error_clear(&e);
        cp.dist_config = "lxc.no.such.key = 1\n";
        ok(image_config_assemble(&cp, &t, &e) < 0, "unknown key in the image config refused: %s",
           warren_error_message(&e));
        warren_error_clear(&e);
        cp.dist_config = "lxc.arch = linux64";
        cp.extra_items =
                (char *[]){ "lxc.idmap", "u 0 100000 65536", "lxc.idmap", "g 0 100000 65536", NULL };
        is(image_config_assemble(&cp, &t, NULL), 0, "config with extra items");
        like(t,
             "lxc.arch = linux64\n\n# Container specific configuration\nlxc.tty.max = 1\nlxc.idmap = u 0 "
             "100000 65536\n",
             "unterminated image config gets its newline; extra items in the container section");
        free(t);

        /* Meta files: the lxc-download relevant_file rule. */
        snprintf(dir, sizeof dir, "%s/meta-dir", fixture_base);
        mkdir(dir, 0755);
        int mfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ImageMeta *meta = NULL;
        is(image_meta_load(mfd, IMAGE_MODE_SYSTEM, &meta, &e), -EINVAL, "no config: EINVAL");
        is_str(e.message, "Invalid image: no config for mode 'system' in meta.tar.xz", "no config message");
        warren_error_clear(&e);
        write_at(mfd, "config", "plain\n");
        write_at(mfd, "config.7", "compat\n");
        write_at(mfd, "config-user", "user\n");
        write_at(mfd, "expiry", "garbage\n");
        write_at(mfd, "templates", "\n /etc/hostname \r\n\n/etc/hosts\n");
        is(image_meta_load(mfd, IMAGE_MODE_SYSTEM, &meta, NULL), 0, "system meta loads");
        is_str(meta->config, "compat\n", "system: config.7 wins over config");
        ok(!meta->has_expiry, "unparsable expiry ignored");
        ok(strv_equal(meta->templates, (char *[]){ "/etc/hostname", "/etc/hosts", NULL }),
           "templates trimmed, blanks dropped");
        ok(meta->create_message == NULL && strv_length(meta->excludes) == 0, "absent files: NULL / empty");
        image_meta_free(meta);
        is(image_meta_load(mfd, IMAGE_MODE_USER, &meta, NULL), 0, "user meta loads");
        is_str(meta->config, "user\n", "user: config-user (no config-user.7)");
        image_meta_free(meta);
        write_at(mfd, "config-user.7", "user compat\n");
        write_at(mfd, "expiry", "4102444800\n");
        is(image_meta_load(mfd, IMAGE_MODE_USER, &meta, NULL), 0, "user meta loads again");
        is_str(meta->config, "user compat\n", "user: config-user.7");
        ok(meta->has_expiry && meta->expiry == 4102444800ULL, "expiry parsed");
        image_meta_free(meta);
        close(mfd);

        /* meta.tar.xz extraction keeps only meta files. */
        snprintf(dir, sizeof dir, "%s/meta-ex", fixture_base);
        mkdir(dir, 0755);
        mfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char tar[700];
        snprintf(tar, sizeof tar, "%s/meta-test.tar", fixture_base);
        char *argv[] = { "/bin/sh", "-c", NULL, NULL };
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "cd %s && mkdir -p mt/sub && echo c > mt/config && echo x > mt/evil.sh && echo s > "
                 "mt/sub/config && "
                 "ln -sf /etc/passwd mt/templates && tar -C mt -cf %s ./config ./evil.sh ./sub/config "
                 "./templates",
                 fixture_base, tar);
        argv[2] = cmd;
        ok(fixture_run(argv, false) == 0, "meta test archive built");
        int afd = open(tar, O_RDONLY | O_CLOEXEC);
        is(image_meta_extract(afd, mfd, NULL), 0, "meta extracted");
        ok(fixture_exists("%s/config", dir) && !fixture_exists("%s/evil.sh", dir) &&
                   !fixture_exists("%s/sub", dir) && !fixture_exists("%s/templates", dir),
           "only top-level regular meta files extracted (no other names, no subdirs, no symlinks)");
        close(afd);
        close(mfd);
}

/* ---- running jobs ---- */

typedef struct Outcome {
        ImageJobResult result;
        double last_progress;
        bool monotonic;
        unsigned n_progress;
        bool saw_phase[_IMAGE_PHASE_MAX];
} Outcome;

/* Drives the job like an event loop; stop_when_rootfs_bytes: call cancel
 * (or kill the child, if kill_child) once that many rootfs bytes arrived. */
static void run_job(ImageJob *j, Outcome *o, uint64_t stop_when_rootfs_bytes, bool kill_child) {
        *o = (Outcome){ .monotonic = true, .last_progress = -1 };
        time_t deadline = time(NULL) + 60;
        for (;;) {
                struct pollfd p = { .fd = image_job_fd(j), .events = POLLIN };
                if (time(NULL) > deadline) {
                        image_job_cancel(j, &o->result);
                        o->result.error = ETIMEDOUT;
                        return;
                }
                if (poll(&p, 1, 1000) < 0)
                        continue;
                ImageJobProgress pr;
                int r = image_job_dispatch(j, &pr, &o->result);
                if (r == IMAGE_JOB_FINISHED || r < 0)
                        return;
                if (r != IMAGE_JOB_PROGRESS)
                        continue;
                if (pr.progress < o->last_progress)
                        o->monotonic = false;
                o->last_progress = pr.progress;
                o->n_progress++;
                o->saw_phase[pr.phase] = true;
                if (stop_when_rootfs_bytes > 0 && pr.phase == IMAGE_PHASE_ROOTFS &&
                    pr.bytes_done >= stop_when_rootfs_bytes) {
                        if (kill_child) {
                                kill(image_job_pid(j), SIGKILL);
                                stop_when_rootfs_bytes = 0;
                                continue;
                        }
                        image_job_cancel(j, &o->result);
                        return;
                }
        }
}

static int mktarget(const char *name, char *ret, size_t size) {
        snprintf(ret, size, "%s/containers/%s", fixture_base, name);
        char parent[600];
        snprintf(parent, sizeof parent, "%s/containers", fixture_base);
        mkdir(parent, 0700);
        return mkdir(ret, 0700) < 0 ? -errno : 0;
}

static ImagePullParams params(const FixtureServer *s, const char *target, const char *name) {
        return (ImagePullParams){
                .cache_dir = cache_dir,
                .fetch = { .origin = { .server = s->url },
                           .spec = { .dist = "busybox", .release = "1.35" },
                           .mode = IMAGE_MODE_SYSTEM,
                           .download = { .connect_timeout_s = 5, .low_speed_time_s = 30, .attempts = 1 } },
                .target_dir = target,
                .container_name = name,
                .template_config = data_dir,
                .default_config = DEFAULT_CONF,
        };
}

static bool file_has(const char *path, const char *needle) {
        char *t = NULL;
        bool r = read_full_file(path, 1 << 20, &t, NULL) == 0 && strstr(t, needle);
        free(t);
        return r;
}

static bool target_empty(const char *target) {
        return fixture_count_tree(target) == 0;
}

static void test_privileged(void) {
        FixtureServer s;
        ImageJob *j = NULL;
        Outcome o;
        char target[600], p[1024];
        struct stat st;

        ok(fixture_server_start(&s, NULL, NULL) == 0, "server");
        ok(mktarget("c1", target, sizeof target) == 0, "target dir");
        ImagePullParams pp = params(&s, target, "c1");
        is(image_job_start(test_worker_path(), &pp, &j, NULL), 0, "job started");
        ok(image_job_pid(j) > 0 && image_job_fd(j) >= 0, "job has a child and a socket");
        run_job(j, &o, 0, false);
        if (!is(o.result.error, 0, "job succeeded"))
                printf("#   %s\n", strna(o.result.message));
        ok(o.monotonic && o.n_progress >= 3, "progress monotonic (%u messages)", o.n_progress);
        ok(o.last_progress == 1.0, "progress ends at 1.0 (%g)", o.last_progress);
        ok(o.saw_phase[IMAGE_PHASE_ROOTFS] && o.saw_phase[IMAGE_PHASE_UNPACK] &&
                   o.saw_phase[IMAGE_PHASE_DONE],
           "phases rootfs, unpack, done reported");
        ok(o.result.create_message && strstr(o.result.create_message, "build " FIXTURE_NEWEST),
           "create-message of the newest build returned");
        is_str(o.result.build, FIXTURE_NEWEST, "build returned");
        ok(o.result.downloaded, "downloaded");
        is(image_job_fd(j), -EBADF, "socket closed after the result");
        ok(kill(image_job_pid(j), 0) < 0 && errno == ESRCH, "child reaped");
        image_job_result_done(&o.result);
        image_job_free(j);

        snprintf(p, sizeof p, "%s/rootfs/etc/hostname", target);
        ok(file_has(p, "c1\n"), "template /etc/hostname substituted");
        snprintf(p, sizeof p, "%s/rootfs/etc/hosts", target);
        ok(file_has(p, "127.0.1.1 c1\n"), "template /etc/hosts substituted");
        snprintf(p, sizeof p, "%s/rootfs/etc/motd", target);
        ok(file_has(p, "not a template: LXC_NAME"), "a file not in templates left alone");
        ok(fixture_exists("%s/rootfs/dev/pts", target), "dev/pts created");
        snprintf(p, sizeof p, "%s/rootfs/bin/busybox", target);
        ok(stat(p, &st) == 0 && st.st_size > 100000 && (st.st_mode & 0111), "busybox unpacked");
        if (geteuid() == 0) {
                snprintf(p, sizeof p, "%s/rootfs/dev/null", target);
                ok(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
                   "privileged: /dev/null created");
                snprintf(p, sizeof p, "%s/rootfs/home/user/file", target);
                ok(lstat(p, &st) == 0 && st.st_uid == 1000, "privileged: numeric owner 1000");
        } else {
                ok(1, "# skip device node needs root");
                ok(1, "# skip owner needs root");
        }

        /* The config, as lxc-download lays it out. */
        char *cfg = NULL;
        snprintf(p, sizeof p, "%s/config", target);
        ok(read_full_file(p, 1 << 20, &cfg, NULL) == 0, "config written");
        char expect[2048];
        snprintf(expect, sizeof expect,
                 "# default.conf for the test\n"
                 "\n# Distribution configuration\n"
                 "lxc.include = %s/common.conf\nlxc.arch = linux64\nlxc.signal.halt = SIGUSR2\n"
                 "\n# Container specific configuration\n"
                 "lxc.tty.max = 2\n"
                 "lxc.rootfs.path = dir:%s/rootfs\n"
                 "lxc.uts.name = c1\n"
                 "\n# Network configuration\n"
                 "lxc.net.0.type = empty\n",
                 data_dir, target);
        is_str(cfg, expect, "config text");
        LxcConfig *c = lxc_config_new();
        WarrenError e = WARREN_ERROR_NULL;
        const LxcParseOptions po = { .include_mode = LXC_INCLUDE_EXPAND };
        if (!is(lxc_config_parse(c, cfg, strlen(cfg), p, &po, &e), 0,
                "config loads with its includes expanded"))
                printf("#   %s\n", warren_error_message(&e));
        warren_error_clear(&e);
        is_str(lxc_config_get(c, "lxc.uts.name"), "c1", "uts name is the container's");
        lxc_config_free(c);
        free(cfg);

        /* Second pull of the same image: the index is asked, nothing else downloaded. */
        int before = fixture_log_count(&s, "GET"), before_index = fixture_log_count(&s, "/meta/1.0/index-");
        ok(mktarget("c2", target, sizeof target) == 0, "second target");
        pp = params(&s, target, "c2");
        is(image_job_start(test_worker_path(), &pp, &j, NULL), 0, "second job started");
        run_job(j, &o, 0, false);
        is(o.result.error, 0, "second job succeeded");
        ok(!o.result.downloaded, "second job used the cache");
        is(fixture_log_count(&s, "GET") - before, fixture_log_count(&s, "/meta/1.0/index-") - before_index,
           "second job: only index requests");
        ok(o.last_progress == 1.0 && o.monotonic, "second job: progress monotonic to 1.0");
        image_job_result_done(&o.result);
        image_job_free(j);

        /* Pull only (PullImage): no target. */
        pp = params(&s, NULL, NULL);
        pp.fetch.flush_cache = true;
        is(image_job_start(test_worker_path(), &pp, &j, NULL), 0, "pull-only job started");
        run_job(j, &o, 0, false);
        ok(o.result.error == 0 && o.result.downloaded && o.last_progress == 1.0, "pull-only job downloaded");
        image_job_result_done(&o.result);
        image_job_free(j);
        fixture_server_stop(&s);
}

static void test_unprivileged(void) {
        const ImageIdRange map[] = { { .ns_id = 0, .host_id = 100000, .count = 65536 },
                                     { .gid = true, .ns_id = 0, .host_id = 100000, .count = 65536 } };
        FixtureServer s;
        ImageJob *j = NULL;
        Outcome o;
        char target[600], p[1024];
        struct stat st;
        const char *f[] = { "evil-devices", NULL };

        ok(fixture_server_start(&s, f, NULL) == 0, "unprivileged: server with device nodes in the rootfs");
        ok(mktarget("u1", target, sizeof target) == 0, "unprivileged: target");
        ImagePullParams pp = params(&s, target, "u1");
        pp.fetch.mode = IMAGE_MODE_USER;
        pp.fetch.flush_cache = true;
        pp.idmap = map;
        pp.n_idmap = ELEMENTSOF(map);
        is(image_job_start(test_worker_path(), &pp, &j, NULL), 0, "unprivileged: job started");
        run_job(j, &o, 0, false);
        if (!is(o.result.error, 0, "unprivileged: job succeeded"))
                printf("#   %s\n", strna(o.result.message));
        image_job_result_done(&o.result);
        image_job_free(j);
        ok(!fixture_exists("%s/rootfs/dev/sda", target) && !fixture_exists("%s/rootfs/dev/mem", target) &&
                   !fixture_exists("%s/rootfs/dev/null", target),
           "unprivileged: no device nodes (skipped and excluded)");
        snprintf(p, sizeof p, "%s/config", target);
        ok(file_has(p, "userns.conf"), "unprivileged: config-user used");
        LxcConfig *c = lxc_config_new();
        WarrenError e = WARREN_ERROR_NULL;
        const LxcParseOptions po = { .include_mode = LXC_INCLUDE_EXPAND };
        if (!is(lxc_config_load(c, p, &po, &e), 0,
                "unprivileged: config loads with common.conf and userns.conf"))
                printf("#   %s\n", warren_error_message(&e));
        warren_error_clear(&e);
        lxc_config_free(c);
        if (geteuid() == 0) {
                snprintf(p, sizeof p, "%s/rootfs/bin/busybox", target);
                ok(lstat(p, &st) == 0 && st.st_uid == 100000 && st.st_gid == 100000,
                   "unprivileged: ids shifted");
                snprintf(p, sizeof p, "%s/rootfs/home/user/file", target);
                ok(lstat(p, &st) == 0 && st.st_uid == 101000, "unprivileged: uid 1000 -> 101000");
                snprintf(p, sizeof p, "%s/rootfs/dev/pts", target);
                ok(lstat(p, &st) == 0 && st.st_uid == 100000,
                   "unprivileged: dev/pts owned by the container's root");
        } else
                for (int i = 0; i < 3; i++)
                        ok(1, "# skip ownership needs root");
        fixture_server_stop(&s);
}

typedef struct JobFault {
        const char *fault;
        int error;
        const char *message;
} JobFault;

static void test_faults(void) {
        const JobFault cases[] = {
                { "corrupt-rootfs", EBADE, "Verification of 'rootfs.tar.xz' failed: expected SHA-256" },
                { "404-rootfs", ECOMM, "HTTP status 404" },
                { "truncate-rootfs", ECOMM, "transfer closed" },
                { "oversize-rootfs", ECOMM, "too large" },
                { "no-config", EINVAL, "Invalid image: no config" },
                { "evil-dotdot", EPERM, "Refusing archive entry '../../escape-dotdot': '..' component" },
                { "evil-absolute", EPERM, "'/tmp/escape-absolute': absolute path" },
                { "evil-symlink", EPERM, "link/escape-symlink" },
                { "evil-hardlink", EPERM, "hardlink to '/etc/passwd', absolute path" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *f[] = { cases[i].fault, NULL };
                FixtureServer s;
                ImageJob *j = NULL;
                Outcome o;
                char target[600], name[32];
                snprintf(name, sizeof name, "f%zu", i);
                ok(fixture_server_start(&s, f, NULL) == 0 && mktarget(name, target, sizeof target) == 0,
                   "%s: setup", cases[i].fault);
                ImagePullParams pp = params(&s, target, name);
                pp.fetch.flush_cache = true;
                pp.fetch.limits.rootfs_max = 2 << 20;
                is(image_job_start(test_worker_path(), &pp, &j, NULL), 0, "%s: job started", cases[i].fault);
                run_job(j, &o, 0, false);
                is(o.result.error, cases[i].error, "%s: refused with %s", cases[i].fault,
                   strerror(cases[i].error));
                like(o.result.message, cases[i].message, "%s: clear message", cases[i].fault);
                ok(target_empty(target), "%s: no container files left", cases[i].fault);
                fixture_variant_dir(cache_dir, s.url, 0, variant_dir, sizeof variant_dir);
                ok(fixture_count_prefix(cache_dir, ".#") == 0 && fixture_count_builds(variant_dir) == 0,
                   "%s: no cache entry and no temporary left", cases[i].fault);
                image_job_result_done(&o.result);
                image_job_free(j);
                fixture_server_stop(&s);
        }
        ok(!fixture_exists("/tmp/escape-absolute") && !fixture_exists("/tmp/escape-symlink") &&
                   !fixture_exists("%s/../escape-dotdot", cache_dir),
           "no escape landed anywhere");
}

static void test_cancel(void) {
        const char *f[] = { "stall-rootfs", NULL };
        FixtureServer s;
        ImageJob *j = NULL;
        Outcome o;
        char target[600];

        ok(fixture_server_start(&s, f, NULL) == 0 && mktarget("cancel", target, sizeof target) == 0,
           "cancel: setup");
        ImagePullParams pp = params(&s, target, "cancel");
        pp.fetch.flush_cache = true;
        is(image_job_start(test_worker_path(), &pp, &j, NULL), 0, "cancel: job started");
        pid_t pid = image_job_pid(j);
        run_job(j, &o, 65536, false);
        is(o.result.error, ECANCELED, "cancel: result is ECANCELED");
        is_str(o.result.message, "Image job canceled", "cancel: message");
        ok(kill(pid, 0) < 0 && errno == ESRCH, "cancel: child gone and reaped");
        ok(target_empty(target), "cancel: no container files left");
        fixture_variant_dir(cache_dir, s.url, 0, variant_dir, sizeof variant_dir);
        ok(fixture_count_prefix(cache_dir, ".#") == 0 && fixture_count_builds(variant_dir) == 0,
           "cancel: the partial download was removed");
        is(image_job_cancel(j, NULL), 0, "cancel again: no-op");
        image_job_result_done(&o.result);
        image_job_free(j);

        /* The child killed from outside: the parent notices and cleans up. */
        ok(mktarget("killed", target, sizeof target) == 0, "killed: target");
        pp = params(&s, target, "killed");
        pp.fetch.flush_cache = true;
        is(image_job_start(test_worker_path(), &pp, &j, NULL), 0, "killed: job started");
        run_job(j, &o, 65536, true);
        is(o.result.error, EIO, "killed: result is EIO");
        like(o.result.message, "was killed by signal 9", "killed: message says so");
        ok(target_empty(target), "killed: no container files left");
        ok(fixture_count_prefix(cache_dir, ".#") == 0, "killed: no cache temporary left");
        image_job_result_done(&o.result);
        image_job_free(j);

        /* Freeing a running job cancels it. */
        ok(mktarget("freed", target, sizeof target) == 0, "freed: target");
        pp = params(&s, target, "freed");
        pp.fetch.flush_cache = true;
        is(image_job_start(test_worker_path(), &pp, &j, NULL), 0, "freed: job started");
        pid = image_job_pid(j);
        usleep(300000);
        image_job_free(j);
        ok(kill(pid, 0) < 0 && errno == ESRCH && fixture_count_prefix(cache_dir, ".#") == 0 &&
                   target_empty(target),
           "freed: child gone, nothing left");
        fixture_server_stop(&s);
}

static void test_bad_params(void) {
        ImageJob *j = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        ImagePullParams pp = { .cache_dir = cache_dir,
                               .fetch = { .origin = { .server = "http://example.org" },
                                          .spec = { .dist = "busybox", .release = "1" } } };
        is(image_job_start(test_worker_path(), &pp, &j, &e), -EPERM, "remote http server refused before fork");
        warren_error_clear(&e);
        pp.fetch.origin.server = NULL;
        pp.fetch.spec.release = "a/b";
        is(image_job_start(test_worker_path(), &pp, &j, &e), -EINVAL, "bad release refused before fork");
        is_str(e.message,
               "Invalid image release 'a/b': must be 1-64 characters of [A-Za-z0-9._:+~-], not starting "
               "with '.' or '-'",
               "message names the release");
        warren_error_clear(&e);
        pp.fetch.spec.release = "1";
        pp.target_dir = "relative";
        is(image_job_start(test_worker_path(), &pp, &j, &e), -EINVAL, "relative target refused");
        warren_error_clear(&e);
        pp.target_dir = "/tmp";
        pp.container_name = "a/b";
        is(image_job_start(test_worker_path(), &pp, &j, &e), -EINVAL, "bad container name refused");
        warren_error_clear(&e);
}

int main(void) {
        test_protocol();
        if (!ok(fixture_setup(true) == 0, "fixture image built"))
                return done_testing();
        snprintf(cache_dir, sizeof cache_dir, "%s/cache", fixture_base);
        snprintf(data_dir, sizeof data_dir, "%s/data", SOURCE_ROOT);
        test_meta();
        test_privileged();
        test_unprivileged();
        test_faults();
        test_cancel();
        test_bad_params();
        return done_testing();
}
