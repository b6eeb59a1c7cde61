/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* container_spawn() for real: busybox rootfs, fresh namespaces, console
 * through a pty. Needs root (namespaces, mounts); prints the spawn time. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "idmap.h"
#include "mount.h"
#include "pty.h"
#include "container-spawn.h"
#include "strv.h"
#include "tap.h"
#include "template.h"

#define USERNS_BASE 100000U
#define TIMEOUT_MS 10000

static char tmpdir[] = "/tmp/test-spawn-XXXXXX";
static char rootfs[PATH_MAX], rootfs_noinit[PATH_MAX], rootfs_userns[PATH_MAX], hostdir[PATH_MAX];

static const char *const ns_names[] = { "pid", "mnt", "uts", "ipc", "net", "cgroup", "user" };

typedef struct RunOptions {
        bool new_user_ns;
        const Idmap *idmap; /* given to container_spawn() (implies new_user_ns) */
        bool host_netns;
        SpawnParentHook hook;
        void *hook_userdata;
        int cgroup_fd;
        unsigned n_ttys;
        const char *reply; /* written to the console when "WAITING" shows */
        uid_t owner_uid;   /* SpawnOptions.owner_uid/gid */
        gid_t owner_gid;
} RunOptions;

typedef struct Run {
        char *output; /* console output without \r */
        char *tty1;   /* what came out of /dev/tty1 */
        int status;   /* init's exit code, or 128+signal */
        bool ns_differs[ELEMENTSOF(ns_names)];
        char *host_cgroup; /* /proc/PID/cgroup seen from the host */
        long spawn_us;
} Run;

static void run_done(Run *r) {
        free(r->output);
        free(r->tty1);
        free(r->host_cgroup);
        *r = (Run){};
}

static long now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

static char *read_text(const char *path) {
        char *s = NULL;
        return read_full_file(path, 1 << 20, &s, NULL) < 0 ? NULL : s;
}

static void append(char **buf, size_t *len, const char *data, size_t n) {
        char *b = realloc(*buf, *len + n + 1);
        if (!b)
                abort();
        for (size_t i = 0; i < n; i++)
                if (data[i] != '\r')
                        b[(*len)++] = data[i];
        b[*len] = 0;
        *buf = b;
}

/* Drains a master until the slave side is gone (EIO) or nothing comes
 * within timeout_ms. */
static void drain(int fd, char **buf, size_t *len, int timeout_ms) {
        char data[4096];
        struct pollfd p = { .fd = fd, .events = POLLIN };
        while (poll(&p, 1, timeout_ms) > 0) {
                ssize_t n = read(fd, data, sizeof data);
                if (n <= 0)
                        break;
                append(buf, len, data, (size_t) n);
        }
}

static int spawn_run(const char *name, const LxcConfig *c, const char *root, const RunOptions *ro, Run *ret,
                     WarrenError *e) {
        _cleanup_close_ int console = -EBADF, pidfd = -EBADF;
        _cleanup_free_ char *console_path = NULL;
        _cleanup_strv_free_ char **tty_paths = NULL;
        int tty_masters[4] = { -EBADF, -EBADF, -EBADF, -EBADF };
        size_t len = 0, tlen = 0;
        bool replied = false;
        pid_t pid;
        int r;

        *ret = (Run){};
        if (pty_open(&console, &console_path, e) < 0)
                return -EIO;
        for (unsigned i = 0; i < ro->n_ttys && i < ELEMENTSOF(tty_masters); i++) {
                char *p;
                if (pty_open(&tty_masters[i], &p, e) < 0 || strv_consume(&tty_paths, p) < 0)
                        return -EIO;
        }
        if (ro->new_user_ns || ro->idmap) {
                uint32_t uid = USERNS_BASE, gid = USERNS_BASE + 5;
                if (ro->idmap && (idmap_to_host(ro->idmap, IDMAP_UID, 0, &uid) < 0 ||
                                  idmap_to_host(ro->idmap, IDMAP_GID, 5, &gid) < 0))
                        return -ERANGE;
                if (pty_chown_slave(console, uid, gid, e) < 0)
                        return -EIO;
                for (unsigned i = 0; i < ro->n_ttys; i++)
                        if (pty_chown_slave(tty_masters[i], uid, gid, e) < 0)
                                return -EIO;
        }

        SpawnOptions o = {
                .name = name,
                .config = c,
                .rootfs = root,
                .cgroup_fd = ro->cgroup_fd,
                .console_path = console_path,
                .tty_paths = tty_paths,
                .new_user_ns = ro->new_user_ns || ro->idmap,
                .idmap = ro->idmap,
                .host_netns = ro->host_netns,
                .parent_hook = ro->hook,
                .hook_userdata = ro->hook_userdata,
                .log_fd = -1,
                .owner_uid = ro->owner_uid,
                .owner_gid = ro->owner_gid,
        };
        long t0 = now_us();
        r = container_spawn(&o, &pid, &pidfd, e);
        ret->spawn_us = now_us() - t0;
        if (r < 0) {
                for (unsigned i = 0; i < ELEMENTSOF(tty_masters); i++)
                        safe_close(tty_masters[i]);
                return r;
        }

        /* init waits in "read" until we answer, so it is still there. */
        for (size_t i = 0; i < ELEMENTSOF(ns_names); i++) {
                char a[64], b[64], la[128] = "", lb[128] = "";
                snprintf(a, sizeof a, "/proc/self/ns/%s", ns_names[i]);
                snprintf(b, sizeof b, "/proc/%d/ns/%s", (int) pid, ns_names[i]);
                if (readlink(a, la, sizeof la - 1) < 0 || readlink(b, lb, sizeof lb - 1) < 0)
                        continue;
                ret->ns_differs[i] = !streq(la, lb);
        }
        char cg[64];
        snprintf(cg, sizeof cg, "/proc/%d/cgroup", (int) pid);
        ret->host_cgroup = read_text(cg);

        long deadline = now_us() + TIMEOUT_MS * 1000L;
        for (;;) {
                char data[4096];
                struct pollfd p = { .fd = console, .events = POLLIN };
                int left = (int) ((deadline - now_us()) / 1000);
                if (left <= 0 || poll(&p, 1, left) <= 0) {
                        printf("# timeout waiting for the container's console\n");
                        pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                        break;
                }
                ssize_t n = read(console, data, sizeof data);
                if (n <= 0)
                        break; /* EIO: every slave fd closed, init is gone */
                append(&ret->output, &len, data, (size_t) n);
                if (!replied && ret->output && strstr(ret->output, "WAITING\n")) {
                        const char *reply = ro->reply ? ro->reply : "go\n";
                        if (write(console, reply, strlen(reply)) < 0)
                                break;
                        replied = true;
                }
        }

        siginfo_t si = {};
        waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED);
        ret->status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        if (tty_masters[0] >= 0)
                drain(tty_masters[0], &ret->tty1, &tlen, 100);
        for (unsigned i = 0; i < ELEMENTSOF(tty_masters); i++)
                safe_close(tty_masters[i]);
        if (!ret->output)
                ret->output = strdup("");
        if (!ret->tty1)
                ret->tty1 = strdup("");
        return 0;
}

/* The text between "BEGIN tag\n" and "END tag\n" of a run's output. */
static char *section(const char *out, const char *tag) {
        char b[64], e[64];
        snprintf(b, sizeof b, "BEGIN %s\n", tag);
        snprintf(e, sizeof e, "END %s\n", tag);
        const char *s = strstr(out, b);
        if (!s)
                return strdup("(missing)");
        s += strlen(b);
        const char *t = strstr(s, e);
        if (!t)
                return strdup("(unterminated)");
        return strndup(s, (size_t) (t - s));
}

/* The mountinfo line whose mount point is exactly mp, or NULL. */
static char *mountinfo_find(const char *mountinfo, const char *mp) {
        _cleanup_strv_free_ char **lines = strv_split(mountinfo, "\n");
        STRV_FOREACH(l, lines) {
                char point[512];
                if (sscanf(*l, "%*s %*s %*s %*s %511s", point) == 1 && streq(point, mp))
                        return strdup(*l);
        }
        return NULL;
}

static bool mount_has(const char *mountinfo, const char *mp, const char *fstype, const char *per_mount_opt) {
        _cleanup_free_ char *l = mountinfo_find(mountinfo, mp);
        char opts[512], type[64];
        if (!l)
                return false;
        /* id parent maj:min root mp opts [optional...] - type source superopts */
        if (sscanf(l, "%*s %*s %*s %*s %*s %511s", opts) != 1)
                return false;
        const char *dash = strstr(l, " - ");
        if (!dash || sscanf(dash + 3, "%63s", type) != 1)
                return false;
        if (fstype && !streq(type, fstype))
                return false;
        if (!per_mount_opt)
                return true;
        _cleanup_strv_free_ char **o = strv_split(opts, ",");
        return strv_contains(o, per_mount_opt);
}

/* "key = value" as a line of a config file. */
static bool config_add_line(LxcConfig *c, const char *key, const char *value) {
        static const LxcParseOptions keep = { .include_mode = LXC_INCLUDE_KEEP };
        char *line = NULL;
        if (asprintf(&line, "%s = %s\n", key, value) < 0)
                abort();
        int r = lxc_config_parse(c, line, strlen(line), "t.conf", &keep, NULL);
        free(line);
        return r >= 0;
}

static LxcConfig *config_new(const char *const *kv) {
        LxcConfig *c = lxc_config_new();
        if (!c)
                abort();
        for (size_t i = 0; kv && kv[i]; i += 2) {
                WarrenError e = WARREN_ERROR_NULL;
                /* What the API refuses (it would not start) may still be in a
                 * file: that is what the start has to refuse. */
                if (lxc_config_apply(c, kv[i], kv[i + 1], &e) < 0 && !config_add_line(c, kv[i], kv[i + 1])) {
                        printf("# config %s = %s: %s\n", kv[i], kv[i + 1], warren_error_message(&e));
                        abort();
                }
                warren_error_clear(&e);
        }
        return c;
}

static int make_rootfs(const char *path, uid_t uid) {
        WarrenError e = WARREN_ERROR_NULL;
        if (mkdir(path, 0755) < 0)
                return -errno;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        TemplateBusyboxOptions o = { .name = "spawntest", .root_uid = uid, .root_gid = uid };
        if (fd < 0 || fchown(fd, uid, uid) < 0 || template_busybox_rootfs(fd, &o, &e) < 0) {
                printf("# rootfs %s: %s\n", path, warren_error_message(&e));
                warren_error_clear(&e);
                return -EIO;
        }
        return 0;
}

static void test_parse(void) {
        WarrenError e = WARREN_ERROR_NULL;
        MountEntry m;

        is(mount_entry_parse("/src\\040dir mnt/x none bind,ro,create=dir,optional,nosuid 0 0", &m, &e), 0,
           "bind entry parses");
        is_str(m.source, "/src dir", "octal escape in source");
        is_str(m.target, "mnt/x", "target");
        ok(m.flags == (MS_BIND | MS_RDONLY | MS_NOSUID), "flags bind|ro|nosuid (0x%lx)", m.flags);
        is(m.create, MOUNT_CREATE_DIR, "create=dir");
        ok(m.optional, "optional");
        ok(!m.data, "no fs data");
        mount_entry_done(&m);

        is(mount_entry_parse("tmpfs run tmpfs rw,size=10m,mode=0755,rslave", &m, &e), 0,
           "tmpfs entry parses");
        is_str(m.data, "size=10m,mode=0755", "fs options kept as data");
        ok(m.propagation == (MS_SLAVE | MS_REC), "rslave propagation");
        ok(m.flags == 0, "rw clears ro");
        mount_entry_done(&m);

        is(mount_entry_parse("/a b none rbind,create=file", &m, &e), 0, "rbind entry parses");
        ok(m.flags == (MS_BIND | MS_REC), "rbind is bind|rec");
        is(m.create, MOUNT_CREATE_FILE, "create=file");
        mount_entry_done(&m);

        static const struct {
                const char *line;
                int error;
                const char *message;
        } bad[] = {
                { "garbage", EINVAL,
                  "Invalid mount entry 'garbage': expected 'source target fstype options [dump [pass]]'" },
                { "a b c", EINVAL,
                  "Invalid mount entry 'a b c': expected 'source target fstype options [dump [pass]]'" },
                { "a b c d 0 0 7", EINVAL, "Invalid mount entry 'a b c d 0 0 7': too many fields" },
                { "a b c d x", EINVAL, "Invalid mount entry 'a b c d x': 'x' is not a number" },
                { "a b c create=socket", EINVAL,
                  "Invalid mount entry 'a b c create=socket': unknown option 'create=socket'" },
                { "a b none bind,relative", EOPNOTSUPP,
                  "Invalid mount entry 'a b none bind,relative': option 'relative' is not supported" },
                { "a b none bind,remount", EINVAL,
                  "Invalid mount entry 'a b none bind,remount': remount and bind together" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                is(mount_entry_parse(bad[i].line, &m, &e), -bad[i].error, "'%s' is rejected", bad[i].line);
                is_str(e.message, bad[i].message, "message for '%s'", bad[i].line);
                warren_error_clear(&e);
        }

        MountAuto a = {};
        is(mount_auto_parse("proc:rw sys cgroup:ro:force", false, &a, &e), 0, "mount.auto parses");
        ok(a.proc == MOUNT_AUTO_RW && a.sys == MOUNT_AUTO_MIXED && a.cgroup == MOUNT_AUTO_RO,
           "modes proc:rw sys:mixed cgroup:ro");
        a = (MountAuto){};
        is(mount_auto_parse("cgroup", true, &a, &e), 0, "bare cgroup parses");
        is(a.cgroup, MOUNT_AUTO_RW, "bare cgroup with CAP_SYS_ADMIN is rw");
        is(mount_auto_parse("cgroup-full", false, &a, &e), 0, "cgroup-full parses");
        is(a.cgroup, MOUNT_AUTO_MIXED, "bare cgroup without CAP_SYS_ADMIN is mixed");
        is(mount_auto_parse("proc sys:bogus", false, &a, &e), -EINVAL, "sys:bogus rejected");
        is_str(e.message, "Invalid lxc.mount.auto item 'sys:bogus'", "message names the item");
        warren_error_clear(&e);
        is(mount_auto_parse("shmounts:/a:/b", false, &a, &e), -EOPNOTSUPP, "shmounts rejected");
        is_str(e.message, "Unsupported lxc.mount.auto item 'shmounts:/a:/b'", "shmounts message");
        warren_error_clear(&e);
}

/* A config that must fail before anything is cloned. */
static void expect_config_error(const char *const *kv, int error, const char *message) {
        _cleanup_lxc_config_ LxcConfig *c = config_new(kv);
        WarrenError e = WARREN_ERROR_NULL;
        Run run;
        RunOptions ro = { .cgroup_fd = -1 };
        is(spawn_run("spawntest", c, rootfs, &ro, &run, &e), -error, "%s = %s fails", kv[0], kv[1]);
        is_str(e.message, message, "message for %s", kv[0]);
        warren_error_clear(&e);
}

static void test_config_errors(void) {
        expect_config_error((const char *const[]){ "lxc.prlimit.nofile", "2048:1024", NULL }, EINVAL,
                            "Invalid lxc.prlimit.nofile value '2048:1024': soft limit above hard limit");
        expect_config_error((const char *const[]){ "lxc.init.cmd", "/bin/sh -c 'echo", NULL }, EINVAL,
                            "Invalid lxc.init.cmd '/bin/sh -c 'echo': unterminated quote");
        expect_config_error((const char *const[]){ "lxc.mount.entry", "only-two fields", NULL }, EINVAL,
                            "Invalid mount entry 'only-two fields': expected 'source target fstype options "
                            "[dump [pass]]'");
        expect_config_error((const char *const[]){ "lxc.sysctl.net..ipv4", "1", NULL }, EINVAL,
                            "Invalid sysctl name 'lxc.sysctl.net..ipv4': dotted plain names only (no '/', no empty component)");
        expect_config_error(
                (const char *const[]){ "lxc.mount.fstab", "/nonexistent/fstab", NULL }, ENOENT,
                "Failed to read lxc.mount.fstab '/nonexistent/fstab': No such file or directory");
}

static void test_full(void) {
        _cleanup_free_ char *entry_bind = NULL, *entry_ro = NULL, *entry_shared_bind = NULL, *fstab = NULL,
                            *fstab_line = NULL;
        _cleanup_free_ char *host_fwd_before = read_text("/proc/sys/net/ipv4/ip_forward");
        _cleanup_free_ char *host_mounts_before = read_text("/proc/self/mountinfo");
        WarrenError e = WARREN_ERROR_NULL;
        Run run;
        int r;

        asprintf(&entry_bind, "%s mnt/host none bind,create=dir 0 0", hostdir);
        asprintf(&entry_ro, "%s /mnt/ro none bind,ro,create=dir", hostdir);
        asprintf(&entry_shared_bind, "%s mnt/shared-bind none bind,create=dir,shared 0 0", hostdir);
        asprintf(&fstab, "%s/fstab", tmpdir);
        asprintf(&fstab_line, "# comment\n\ntmpfs mnt/fstab tmpfs create=dir,size=1m,mode=0700 0 0\n");
        write_file_atomic_at(AT_FDCWD, fstab, fstab_line, strlen(fstab_line), 0644);

        /* A symlink pointing "out" of the rootfs must be resolved inside it. */
        char link[PATH_MAX + 32], inside[PATH_MAX + 32];
        snprintf(link, sizeof link, "%s/evil", rootfs);
        snprintf(inside, sizeof inside, "%s/escape-target", rootfs);
        mkdir(inside, 0755);
        symlink("/../../../../escape-target", link);

        const char *script =
                "/bin/sh -c '"
                "echo BEGIN pid; echo $$; echo END pid; "
                "echo BEGIN host; hostname; echo END host; "
                "echo BEGIN fds; ls -1 /proc/1/fd; echo END fds; "
                "echo BEGIN procs; ls -1 /proc | grep \"^[0-9]*$\"; echo END procs; "
                "echo BEGIN env; echo $container:$FOO:${BARE-unset}:$PATH; echo END env; "
                "echo BEGIN hello; cat /mnt/host/hello; echo END hello; "
                "echo BEGIN ro; touch /mnt/ro/x 2>/dev/null && echo writable || echo readonly; echo END ro; "
                "echo BEGIN tty; tty; echo END tty; "
                "echo BEGIN limits; ulimit -n; ulimit -Hn; echo END limits; "
                "echo BEGIN sysctl; cat /proc/sys/net/ipv4/ip_forward; echo END sysctl; "
                "echo BEGIN dev; ls -1 /dev; echo END dev; "
                "echo BEGIN cgroup; cat /proc/self/cgroup; echo END cgroup; "
                "echo BEGIN sysrq; echo h 2>/dev/null >/proc/sysrq-trigger && echo writable || echo "
                "readonly; echo END sysrq; "
                "echo BEGIN mountinfo; cat /proc/self/mountinfo; echo END mountinfo; "
                "echo tty1-says-hi >/dev/tty1; "
                "echo WAITING; read x; echo BEGIN reply; echo $x; echo END reply; exit 7'";

        /* clang-format off */
        _cleanup_lxc_config_ LxcConfig *c = config_new((const char *const[]){
                "lxc.init.cmd", script,
                "lxc.mount.auto", "proc:mixed sys:mixed cgroup:mixed",
                "lxc.mount.entry", entry_bind,
                "lxc.mount.entry", entry_ro,
                "lxc.mount.entry", "/nonexistent-source mnt/optional none bind,optional,create=dir 0 0",
                "lxc.mount.entry", "tmpfs evil tmpfs size=1m 0 0",
                "lxc.mount.entry", "tmpfs mnt/shared tmpfs create=dir,shared 0 0",
                "lxc.mount.entry", entry_shared_bind,
                "lxc.mount.fstab", fstab,
                "lxc.environment", "FOO=bar",
                "lxc.environment", "BARE",
                "lxc.prlimit.nofile", "512:1024",
                "lxc.sysctl.net.ipv4.ip_forward", host_fwd_before && host_fwd_before[0] == '1' ? "0" : "1",
                NULL,
        });
        /* clang-format on */
        const char *fwd_inside = host_fwd_before && host_fwd_before[0] == '1' ? "0\n" : "1\n";

        /* A stray inheritable fd of ours must not reach the container. */
        int stray = open("/dev/null", O_RDONLY);

        RunOptions ro = { .cgroup_fd = -1, .n_ttys = 1 };
        r = spawn_run("spawntest", c, rootfs, &ro, &run, &e);
        is(r, 0, "container_spawn succeeds: %s", r < 0 ? warren_error_message(&e) : "ok");
        close(stray);
        if (r < 0) {
                warren_error_clear(&e);
                return;
        }
        printf("# container_spawn() took %ld us (entry to exec done)\n", run.spawn_us);

        static const struct {
                const char *tag, *expected;
        } expect[] = {
                { "pid", "1\n" },
                { "host", "spawntest\n" },
                { "fds", "0\n1\n2\n" },
                { "env", "lxc:bar:unset:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" },
                { "hello", "hello from the host\n" },
                { "ro", "readonly\n" },
                { "tty", "/dev/console\n" },
                { "limits", "512\n1024\n" },
                { "dev",
                  "console\nfd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty"
                  "\ntty1\nurandom\nzero\n" },
                { "sysrq", "readonly\n" },
                { "reply", "go\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                _cleanup_free_ char *s = section(run.output, expect[i].tag);
                is_str(s, expect[i].expected, "inside: %s", expect[i].tag);
        }
        _cleanup_free_ char *sysctl = section(run.output, "sysctl");
        is_str(sysctl, fwd_inside, "lxc.sysctl.net.ipv4.ip_forward applied inside");
        _cleanup_free_ char *host_fwd_after = read_text("/proc/sys/net/ipv4/ip_forward");
        is_str(host_fwd_after, host_fwd_before, "host's ip_forward untouched");

        /* Only the container's processes: init and the ls/grep pipeline
         * (grep may not be forked yet when ls reads /proc). */
        _cleanup_free_ char *procs = section(run.output, "procs");
        _cleanup_strv_free_ char **pl = strv_split(procs, "\n");
        bool small = (strv_length(pl) == 2 || strv_length(pl) == 3) && streq(pl[0], "1");
        STRV_FOREACH(p, pl)
                small = small && atoi(*p) < 100;
        ok(small, "/proc lists only init, ls and grep, with small pids");
        if (!small)
                printf("# got:\n%s", procs);

        _cleanup_free_ char *cg = section(run.output, "cgroup");
        _cleanup_strv_free_ char **cgl = strv_split(cg, "\n");
        bool roots = strv_length(cgl) > 0;
        STRV_FOREACH(l, cgl) {
                size_t n = strlen(*l);
                roots = roots && n >= 2 && streq(*l + n - 2, ":/");
        }
        ok(roots, "every hierarchy's cgroup is / in the cgroup namespace");

        for (size_t i = 0; i + 1 < ELEMENTSOF(ns_names); i++)
                ok(run.ns_differs[i], "init's %s namespace differs from ours", ns_names[i]);
        ok(!run.ns_differs[ELEMENTSOF(ns_names) - 1], "init shares our user namespace");
        is(run.status, 7, "init's exit code reaped");
        is_str(run.tty1, "tty1-says-hi\n", "/dev/tty1 is the tty pty");

        _cleanup_free_ char *mi = section(run.output, "mountinfo");
        ok(mount_has(mi, "/", NULL, "rw"), "/ is the rootfs");
        ok(mount_has(mi, "/proc", "proc", "rw"), "/proc rw");
        ok(mount_has(mi, "/proc/sys", "proc", "ro"), "/proc/sys ro");
        ok(mount_has(mi, "/proc/sys/net", "proc", "rw"), "/proc/sys/net rw");
        if (access("/proc/sysrq-trigger", F_OK) >= 0)
                ok(mount_has(mi, "/proc/sysrq-trigger", "proc", "ro"), "/proc/sysrq-trigger ro");
        ok(mount_has(mi, "/sys", "sysfs", "ro"), "/sys ro");
        ok(mount_has(mi, "/sys/devices/virtual/net", "sysfs", "rw"), "/sys/devices/virtual/net rw");
        _cleanup_free_ char *host_mounts = read_text("/proc/self/mounts");
        if (host_mounts && strstr(host_mounts, " cgroup ")) {
                ok(mount_has(mi, "/sys/fs/cgroup", "tmpfs", "ro"),
                   "/sys/fs/cgroup tmpfs ro (v1/hybrid host)");
                ok(mount_has(mi, "/sys/fs/cgroup/memory", "cgroup", "rw"), "/sys/fs/cgroup/memory rw");
                if (strstr(host_mounts, " cgroup2 "))
                        ok(mount_has(mi, "/sys/fs/cgroup/unified", "cgroup2", "rw"),
                           "/sys/fs/cgroup/unified rw");
        } else
                ok(mount_has(mi, "/sys/fs/cgroup", "cgroup2", "rw"), "/sys/fs/cgroup cgroup2 (v2 host)");
        ok(mount_has(mi, "/dev", "tmpfs", "nosuid"), "/dev tmpfs nosuid");
        ok(mount_has(mi, "/dev/pts", "devpts", NULL) && strstr(mi, "ptmxmode=666"),
           "/dev/pts new devpts instance");
        ok(mount_has(mi, "/dev/shm", "tmpfs", NULL), "/dev/shm tmpfs");
        ok(mount_has(mi, "/dev/mqueue", "mqueue", NULL), "/dev/mqueue");
        ok(mount_has(mi, "/dev/console", "devpts", NULL), "/dev/console is a pty");
        ok(mount_has(mi, "/mnt/host", NULL, "rw"), "bind entry rw");
        ok(mount_has(mi, "/mnt/ro", NULL, "ro"), "bind,ro entry read-only");
        ok(mount_has(mi, "/mnt/fstab", "tmpfs", NULL), "lxc.mount.fstab entry mounted");
        ok(!mountinfo_find(mi, "/mnt/optional"), "failed optional entry skipped");
        _cleanup_free_ char *shared = mountinfo_find(mi, "/mnt/shared");
        _cleanup_free_ char *shared_bind = mountinfo_find(mi, "/mnt/shared-bind");
        _cleanup_free_ char *private = mountinfo_find(mi, "/mnt/host");
        ok(shared && strstr(shared, " shared:"), "tmpfs entry with 'shared' propagation");
        ok(shared_bind && strstr(shared_bind, " shared:"), "bind entry with 'shared' propagation");
        ok(private && !strstr(private, " shared:") && !strstr(private, " master:"),
           "bind entry private by default");
        ok(mount_has(mi, "/escape-target", "tmpfs", NULL), "symlink target resolved inside the rootfs");

        _cleanup_free_ char *host_mounts_after = read_text("/proc/self/mountinfo");
        is_str(host_mounts_after, host_mounts_before, "host mounts unchanged");
        if (run.status != 7 || !streq(sysctl, fwd_inside))
                printf("# output:\n%s\n", run.output);
        run_done(&run);
}

static int hook_fail(pid_t pid, int pidfd, void *userdata, WarrenError *reterr) {
        (*(int *) userdata)++;
        return warren_error_set(reterr, EPERM, "Hook refused container pid %d", (int) pid);
}

static void expect_spawn_error(const char *what, const LxcConfig *c, const char *root, const RunOptions *ro,
                               int error, const char *message) {
        _cleanup_free_ char *before = read_text("/proc/self/mountinfo");
        WarrenError e = WARREN_ERROR_NULL;
        Run run;

        is(spawn_run("spawntest", c, root, ro, &run, &e), -error, "%s: container_spawn fails", what);
        is_str(e.message, message, "%s: message", what);
        _cleanup_free_ char *after = read_text("/proc/self/mountinfo");
        is_str(after, before, "%s: no mount left on the host", what);
        errno = 0;
        ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "%s: no child left", what);
        printf("# %s: failed in %ld us\n", what, run.spawn_us);
        warren_error_clear(&e);
}

static void test_failures(void) {
        RunOptions ro = { .cgroup_fd = -1 };

        /* clang-format off */
        _cleanup_lxc_config_ LxcConfig *bad_entry = config_new((const char *const[]){
                "lxc.init.cmd", "/bin/true",
                "lxc.mount.auto", "proc sys",
                "lxc.mount.entry", "proc dev/bogus proc defaults 0 0",
                NULL,
        });
        /* clang-format on */
        expect_spawn_error(
                "bad mount entry", bad_entry, rootfs, &ro, ENOENT,
                "Failed to mount entry 'proc dev/bogus proc defaults 0 0': No such file or directory");

        _cleanup_lxc_config_ LxcConfig *plain = config_new(NULL);
        expect_spawn_error("missing rootfs", plain, "/nonexistent-warren/rootfs", &ro, ENOENT,
                           "Rootfs '/nonexistent-warren/rootfs' does not exist");
        expect_spawn_error("missing init", plain, rootfs_noinit, &ro, ENOENT,
                           "Failed to exec '/sbin/init': No such file or directory");

        _cleanup_lxc_config_ LxcConfig *bad_cwd = config_new(
                (const char *const[]){ "lxc.init.cmd", "/bin/true", "lxc.init.cwd", "/no/such/dir", NULL });
        expect_spawn_error("bad init cwd", bad_cwd, rootfs, &ro, ENOENT,
                           "Failed to change to lxc.init.cwd '/no/such/dir': No such file or directory");

        int calls = 0;
        RunOptions hook = { .cgroup_fd = -1, .hook = hook_fail, .hook_userdata = &calls };
        _cleanup_lxc_config_ LxcConfig *t =
                config_new((const char *const[]){ "lxc.init.cmd", "/bin/true", NULL });
        WarrenError e = WARREN_ERROR_NULL;
        Run run;
        is(spawn_run("spawntest", t, rootfs, &hook, &run, &e), -EPERM,
           "failing parent hook fails the spawn");
        like(e.message, "Hook refused container pid ", "hook's message is returned");
        is(calls, 1, "hook ran once");
        errno = 0;
        ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "hook failure: child reaped");
        warren_error_clear(&e);
}

static void test_autodev_off(void) {
        /* clang-format off */
        _cleanup_lxc_config_ LxcConfig *c = config_new((const char *const[]){
                "lxc.init.cmd", "/bin/sh -c 'echo BEGIN dev; ls -1 /dev; echo END dev; echo WAITING; read x'",
                "lxc.autodev", "0",
                NULL,
        });
        /* clang-format on */

        /* Twice: the second run finds /dev/console, /dev/pts and the ptmx
         * symlink already in the rootfs. */
        for (int i = 0; i < 2; i++) {
                WarrenError e = WARREN_ERROR_NULL;
                RunOptions ro = { .cgroup_fd = -1 };
                Run run;
                int r = spawn_run("spawntest", c, rootfs_noinit, &ro, &run, &e);
                is(r, 0, "lxc.autodev = 0, run %d: %s", i + 1, r < 0 ? warren_error_message(&e) : "ok");
                warren_error_clear(&e);
                if (r < 0)
                        return;
                _cleanup_free_ char *dev = section(run.output, "dev");
                is_str(dev, "console\nptmx\npts\n", "lxc.autodev = 0, run %d: /dev is the rootfs's", i + 1);
                run_done(&run);
        }
}

static int write_maps(pid_t pid, int pidfd, void *userdata, WarrenError *reterr) {
        char path[64], map[64];
        snprintf(map, sizeof map, "0 %u 65536\n", USERNS_BASE);
        const char *files[] = { "uid_map", "gid_map" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, files[i]);
                int r = write_string_file_at(AT_FDCWD, path, map);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to write %s: %s", path, strerror(-r));
        }
        return 0;
}

static void test_userns(void) {
        WarrenError e = WARREN_ERROR_NULL;
        Run run;
        /* clang-format off */
        _cleanup_lxc_config_ LxcConfig *c = config_new((const char *const[]){
                "lxc.init.cmd",
                "/bin/sh -c 'echo BEGIN id; id -u; id -g; echo END id; "
                "echo BEGIN map; cat /proc/self/uid_map; echo END map; "
                "echo BEGIN null; echo x >/dev/null && echo ok; echo END null; "
                "echo BEGIN fds; ls -1 /proc/1/fd; echo END fds; "
                "echo BEGIN mkdir; mkdir /made && echo ok; echo END mkdir; "
                "echo WAITING; read x; exit 3'",
                "lxc.mount.auto", "proc:mixed sys:mixed cgroup:mixed",
                "lxc.mount.entry", "tmpfs mnt/t tmpfs create=dir 0 0",
                NULL,
        });
        /* clang-format on */
        RunOptions ro = { .cgroup_fd = -1, .new_user_ns = true, .hook = write_maps, .n_ttys = 1 };
        int r = spawn_run("spawntest", c, rootfs_userns, &ro, &run, &e);
        is(r, 0, "user namespace container spawns: %s", r < 0 ? warren_error_message(&e) : "ok");
        warren_error_clear(&e);
        if (r < 0)
                return;
        printf("# container_spawn() with a user namespace took %ld us\n", run.spawn_us);
        static const struct {
                const char *tag, *expected;
        } expect[] = {
                { "id", "0\n0\n" },
                { "null", "ok\n" },
                { "fds", "0\n1\n2\n" },
                { "mkdir", "ok\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                _cleanup_free_ char *s = section(run.output, expect[i].tag);
                is_str(s, expect[i].expected, "userns inside: %s", expect[i].tag);
        }
        _cleanup_free_ char *map = section(run.output, "map");
        _cleanup_strv_free_ char **w = strv_split(map, " \n");
        ok(strv_length(w) == 3 && streq(w[0], "0") && atoi(w[1]) == (int) USERNS_BASE &&
                   streq(w[2], "65536"),
           "uid_map is 0 %u 65536", USERNS_BASE);
        ok(run.ns_differs[ELEMENTSOF(ns_names) - 1], "init has its own user namespace");
        is(run.status, 3, "userns init's exit code");
        run_done(&run);
}

/* ---- unprivileged: the map given to container_spawn() ---- */

#define UNPRIV_BASE 200000U

typedef struct UnprivCase {
        const char *what;
        char rootfs[PATH_MAX];
        bool idmapped;  /* root-owned rootfs: expect an idmapped mount */
        uid_t disk_uid; /* owner on disk of a file container root creates */
        bool cgroup_rw; /* cgroup:rw rather than cgroup:mixed */
} UnprivCase;

static Idmap *unpriv_map(void) {
        WarrenError e = WARREN_ERROR_NULL;
        IdmapLine l;
        Idmap *m = idmap_new();
        if (!m || idmap_line_parse("b 0 200000 65536", &l, &e) < 0 || idmap_add(m, &l) < 0)
                abort();
        return m;
}

static int stat_uid(const char *dir, const char *name, uid_t *uid, gid_t *gid) {
        char p[PATH_MAX + 64];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, name);
        if (lstat(p, &st) < 0)
                return -errno;
        *uid = st.st_uid;
        *gid = st.st_gid;
        return 0;
}

/* The map's three numbers per line, blanks squeezed. */
static char *squeeze(const char *s) {
        _cleanup_strv_free_ char **w = strv_split(s, " \n");
        _cleanup_strv_free_ char **lines = NULL;
        for (size_t i = 0; w && w[i] && w[i + 1] && w[i + 2]; i += 3) {
                char *l;
                if (asprintf(&l, "%s %s %s", w[i], w[i + 1], w[i + 2]) < 0 || strv_consume(&lines, l) < 0)
                        abort();
        }
        return lines ? strv_join(lines, "|") : strdup("");
}

static void test_unprivileged(const UnprivCase *uc) {
        _cleanup_idmap_ Idmap *map = unpriv_map();
        char host_name_before[128] = "", host_name_after[128] = "";
        WarrenError e = WARREN_ERROR_NULL;
        Run run;
        /* clang-format off */
        _cleanup_lxc_config_ LxcConfig *c = config_new((const char *const[]){
                "lxc.init.cmd",
                "/bin/sh -c '"
                "echo BEGIN id; id -u; id -g; echo END id; "
                "echo BEGIN map; cat /proc/self/uid_map /proc/self/gid_map; echo END map; "
                "echo BEGIN owner; stat -c \"%u %g\" /bin/busybox /etc/passwd; echo END owner; "
                "echo BEGIN made; echo x >/made-inside && echo ok; echo END made; "
                "echo BEGIN mknod; mknod /dev/testnull c 1 3 2>&1; echo rc=$?; echo END mknod; "
                "echo BEGIN insmod; insmod /bin/busybox 2>&1; echo rc=$?; echo END insmod; "
                "echo BEGIN hostname; hostname changed-inside && hostname; echo END hostname; "
                "echo BEGIN shadow; cat /etc/hostshadow 2>&1 >/dev/null; echo rc=$?; echo END shadow; "
                "echo BEGIN mountinfo; cat /proc/self/mountinfo; echo END mountinfo; "
                "echo BEGIN tty; echo hi >/dev/tty1 && tty; echo END tty; "
                "echo WAITING; read x; exit 5'",
                "lxc.mount.auto", uc->cgroup_rw ? "proc:mixed sys:mixed cgroup:rw" : "proc:mixed sys:mixed cgroup:mixed",
                "lxc.mount.entry", "/etc/shadow etc/hostshadow none bind,ro,create=file 0 0",
                NULL,
        });
        /* clang-format on */

        _cleanup_free_ char *host_mounts_before = read_text("/proc/self/mountinfo");
        gethostname(host_name_before, sizeof host_name_before - 1);
        RunOptions ro = { .cgroup_fd = -1, .idmap = map, .n_ttys = 1 };
        int r = spawn_run("spawntest", c, uc->rootfs, &ro, &run, &e);
        is(r, 0, "%s: unprivileged container spawns: %s", uc->what, r < 0 ? warren_error_message(&e) : "ok");
        warren_error_clear(&e);
        if (r < 0)
                return;
        printf("# %s: container_spawn() with a user namespace took %ld us\n", uc->what, run.spawn_us);
        gethostname(host_name_after, sizeof host_name_after - 1);
        _cleanup_free_ char *host_mounts_after = read_text("/proc/self/mountinfo");
        is_str(host_mounts_after, host_mounts_before, "%s: no mount reached the host", uc->what);

        _cleanup_free_ char *id = section(run.output, "id"), *map_text = section(run.output, "map"),
                            *owner = section(run.output, "owner"), *made = section(run.output, "made"),
                            *mknod_out = section(run.output, "mknod"),
                            *insmod = section(run.output, "insmod"),
                            *hostname = section(run.output, "hostname"),
                            *shadow = section(run.output, "shadow"), *mi = section(run.output, "mountinfo"),
                            *tty = section(run.output, "tty");
        _cleanup_free_ char *maps = squeeze(map_text), *rootmount = mountinfo_find(mi, "/");
        is_str(id, "0\n0\n", "%s: id -u and id -g are 0 inside", uc->what);
        is_str(maps, "0 200000 65536|0 200000 65536", "%s: uid_map and gid_map are 0 200000 65536",
               uc->what);
        is_str(owner, "0 0\n0 0\n", "%s: the rootfs's files are root's inside", uc->what);
        is_str(made, "ok\n", "%s: container root creates a file in /", uc->what);
        uid_t u = 1;
        gid_t g = 1;
        int sr = stat_uid(uc->rootfs, "made-inside", &u, &g);
        ok(sr == 0 && u == uc->disk_uid && g == uc->disk_uid,
           "%s: on the host the file is owned by %u:%u (%u:%u)", uc->what, (unsigned) uc->disk_uid,
           (unsigned) uc->disk_uid, (unsigned) u, (unsigned) g);
        like(mknod_out, "Operation not permitted\nrc=1", "%s: mknod of a device: EPERM", uc->what);
        /* EPERM needs CAP_SYS_MODULE in the initial user namespace; a kernel
         * without module support (this one) answers ENOSYS to everyone. */
        char *nl = strchr(insmod, '\n');
        if (nl)
                *nl = 0;
        ok(strstr(insmod, "Operation not permitted") || strstr(insmod, "kernel does not support"),
           "%s: loading a module fails (%s)", uc->what, insmod);
        if (nl)
                *nl = '\n';
        ok(!strstr(insmod, "rc=0"), "%s: insmod exits non-zero", uc->what);
        is_str(hostname, "changed-inside\n", "%s: sethostname works in the container's uts namespace",
               uc->what);
        is_str(host_name_after, host_name_before, "%s: the host's hostname is unchanged", uc->what);
        is_str(shadow, "cat: can't open '/etc/hostshadow': Permission denied\nrc=1\n",
               "%s: the host's /etc/shadow bound in is unreadable for container root", uc->what);
        ok(rootmount && (strstr(rootmount, ",idmapped") ? uc->idmapped : !uc->idmapped), "%s: / is %s",
           uc->what, uc->idmapped ? "an idmapped mount" : "a plain bind");
        /* A cgroup namespace of its own lets a user namespace mount every hierarchy. */
        _cleanup_free_ char *host_mounts = read_text("/proc/self/mounts");
        const char *cg_mode = uc->cgroup_rw ? "rw" : "ro";
        if (host_mounts && strstr(host_mounts, " cgroup ")) {
                ok(mount_has(mi, "/sys/fs/cgroup", "tmpfs", cg_mode), "%s: /sys/fs/cgroup tmpfs %s",
                   uc->what, cg_mode);
                ok(mount_has(mi, "/sys/fs/cgroup/pids", "cgroup", "rw"), "%s: /sys/fs/cgroup/pids rw",
                   uc->what);
                if (strstr(host_mounts, " cgroup2 "))
                        ok(mount_has(mi, "/sys/fs/cgroup/unified", "cgroup2", "rw"),
                           "%s: /sys/fs/cgroup/unified rw", uc->what);
        } else
                ok(mount_has(mi, "/sys/fs/cgroup", "cgroup2", "rw"), "%s: /sys/fs/cgroup cgroup2", uc->what);
        ok(mount_has(mi, "/proc", "proc", "rw") && mount_has(mi, "/sys", "sysfs", "ro"),
           "%s: proc and sysfs", uc->what);
        ok(mount_has(mi, "/dev/pts", "devpts", NULL), "%s: a devpts instance of its own", uc->what);
        is_str(tty, "/dev/console\n", "%s: the console and tty1 ptys are usable", uc->what);
        is_str(run.tty1, "hi\n", "%s: tty1 output arrived", uc->what);
        ok(run.ns_differs[ELEMENTSOF(ns_names) - 1], "%s: own user namespace", uc->what);
        is(run.status, 5, "%s: init's exit code", uc->what);
        if (run.status != 5 || !rootmount)
                printf("# output:\n%s\n", run.output);
        run_done(&run);
}

static void test_unprivileged_errors(const char *overlay_rootfs) {
        _cleanup_idmap_ Idmap *map = unpriv_map();
        char msg[PATH_MAX * 2 + 512];
        _cleanup_lxc_config_ LxcConfig *c =
                config_new((const char *const[]){ "lxc.init.cmd", "/bin/true", NULL });
        RunOptions ro = { .cgroup_fd = -1, .idmap = map };
        snprintf(msg, sizeof msg,
                 "Rootfs '%s' is owned by host uid 0, which the container's lxc.idmap does not map, and it "
                 "cannot be mounted idmapped (Cannot idmap '%s': its filesystem (overlay) does not support "
                 "idmapped mounts): it must be owned by the container's root, host uid 200000 (shift its "
                 "ownership to the map)",
                 overlay_rootfs, overlay_rootfs);
        expect_spawn_error("root-owned rootfs on overlay", c, overlay_rootfs, &ro, EINVAL, msg);

        _cleanup_lxc_config_ LxcConfig *sys = config_new(
                (const char *const[]){ "lxc.init.cmd", "/bin/true", "lxc.mount.auto", "proc sys", NULL });
        RunOptions host_net = { .cgroup_fd = -1, .idmap = map, .host_netns = true };
        expect_spawn_error("sysfs with the host's netns in a user namespace", sys, rootfs, &host_net, EPERM,
                           "lxc.mount.auto sys: sysfs cannot be mounted in a user namespace that shares the "
                           "host's network namespace (lxc.net.0.type = none)");

        SpawnOptions bad = {
                .name = "x", .config = c, .rootfs = rootfs, .cgroup_fd = -1, .idmap = map, .log_fd = -1
        };
        WarrenError e = WARREN_ERROR_NULL;
        pid_t pid;
        int pidfd;
        is(container_spawn(&bad, &pid, &pidfd, &e), -EINVAL, "an idmap without new_user_ns is refused");
        is_str(e.message, "Invalid spawn options: an idmap needs new_user_ns", "message for it");
        warren_error_clear(&e);
}

#define BIND_OWNER 4242U

/* A non-root owner's binds (issue 12 §5): opened as the owner, without
 * following any symbolic link, owned by the owner, mounted from that fd;
 * lines of an included file keep LXC's semantics. */
static void test_owner_binds(const char *ct_rootfs) {
        static char area[] = "/tmp/test-spawn-owner-XXXXXX";
        _cleanup_idmap_ Idmap *map = unpriv_map();
        char home[PATH_MAX], data[PATH_MAX + 16], file[PATH_MAX + 32], swapped[PATH_MAX + 16],
                mid[PATH_MAX + 16], rootdir[PATH_MAX + 16], inc[PATH_MAX + 16];
        WarrenError e = WARREN_ERROR_NULL;
        Run run;

        if (!mkdtemp(area) || chmod(area, 0755) < 0) {
                ok(false, "owner area: %m");
                return;
        }
        snprintf(home, sizeof home, "%s/home", area);
        snprintf(data, sizeof data, "%s/data", home);
        snprintf(file, sizeof file, "%s/data/hello", home);
        snprintf(swapped, sizeof swapped, "%s/swapped", home);
        snprintf(mid, sizeof mid, "%s/mid", home);
        snprintf(rootdir, sizeof rootdir, "%s/rootdir", area);
        snprintf(inc, sizeof inc, "%s/shared.conf", area);
        ok(mkdir(home, 0755) == 0 && chown(home, BIND_OWNER, BIND_OWNER) == 0 && mkdir(data, 0755) == 0 &&
                   chown(data, BIND_OWNER, BIND_OWNER) == 0 &&
                   write_file_atomic_at(AT_FDCWD, file, "the owner's\n", 12, 0644) >= 0 &&
                   chown(file, BIND_OWNER, BIND_OWNER) == 0 && mkdir(rootdir, 0755) == 0 &&
                   symlink(rootdir, swapped) == 0 && lchown(swapped, BIND_OWNER, BIND_OWNER) == 0 &&
                   symlink(data, mid) == 0 && lchown(mid, BIND_OWNER, BIND_OWNER) == 0,
           "the owner's dir, a symlink swapped in for a dir, a link in a middle component");

        _cleanup_free_ char *e_dir = NULL, *e_file = NULL, *e_opt = NULL;
        if (asprintf(&e_dir, "%s mnt/data none bind,ro,create=dir 0 0", data) < 0 ||
            asprintf(&e_file, "%s mnt/hello none bind,create=file 0 0", file) < 0 ||
            asprintf(&e_opt, "%s/missing mnt/missing none bind,optional,create=dir 0 0", home) < 0)
                abort();
        /* clang-format off */
        _cleanup_lxc_config_ LxcConfig *c = config_new((const char *const[]){
                "lxc.init.cmd",
                "/bin/sh -c 'echo BEGIN data; cat /mnt/data/hello /mnt/hello; echo END data; "
                "echo BEGIN ro; touch /mnt/data/x 2>&1; echo rc=$?; echo END ro; "
                "echo BEGIN missing; test -e /mnt/missing; echo $?; echo END missing; "
                "echo BEGIN mountinfo; cat /proc/self/mountinfo; echo END mountinfo; echo WAITING; read x; exit 5'",
                "lxc.mount.auto", "proc:mixed",
                "lxc.mount.entry", e_dir,
                "lxc.mount.entry", e_file,
                "lxc.mount.entry", e_opt,
                NULL,
        });
        /* clang-format on */
        RunOptions ro = { .cgroup_fd = -1, .idmap = map, .owner_uid = BIND_OWNER, .owner_gid = BIND_OWNER };
        _cleanup_free_ char *before = read_text("/proc/self/mountinfo");
        int r = spawn_run("spawntest", c, ct_rootfs, &ro, &run, &e);
        is(r, 0, "owner binds: the owner's dir and file are bound: %s", r < 0 ? warren_error_message(&e) : "ok");
        warren_error_clear(&e);
        if (r >= 0) {
                _cleanup_free_ char *d = section(run.output, "data"), *rot = section(run.output, "ro"),
                                    *miss = section(run.output, "missing"),
                                    *mi = section(run.output, "mountinfo");
                is_str(d, "the owner's\nthe owner's\n", "owner binds: the content is there");
                like(rot, "Read-only file system", "owner binds: ro applies to the clone");
                is_str(miss, "1\n", "owner binds: the missing optional source was skipped (no target made)");
                ok(mount_has(mi, "/mnt/data", NULL, "ro"), "owner binds: /mnt/data is a ro mount");
                is(run.status, 5, "owner binds: init's exit code");
                run_done(&run);
        }
        _cleanup_free_ char *after = read_text("/proc/self/mountinfo");
        is_str(after, before, "owner binds: no mount reached the host");

        /* The dir swapped for a symlink (to a root-owned dir) after the check. */
        char msg[PATH_MAX * 3];
        _cleanup_free_ char *e_swap = NULL, *e_mid = NULL, *e_root = NULL;
        if (asprintf(&e_swap, "%s mnt/data none bind,create=dir 0 0", swapped) < 0 ||
            asprintf(&e_mid, "%s/hello mnt/hello none bind,create=file 0 0", mid) < 0 ||
            asprintf(&e_root, "%s mnt/data none bind,optional,create=dir 0 0", rootdir) < 0)
                abort();
        _cleanup_lxc_config_ LxcConfig *c1 =
                config_new((const char *const[]){ "lxc.init.cmd", "/bin/true", "lxc.mount.entry", e_swap, NULL });
        snprintf(msg, sizeof msg,
                 "lxc.mount.entry '%s': Refusing bind source '%s': the path goes through a symbolic link "
                 "(opened as uid 4242, following none)",
                 e_swap, swapped);
        expect_spawn_error("a symlink swapped in after the check", c1, ct_rootfs, &ro, EPERM, msg);
        _cleanup_lxc_config_ LxcConfig *c2 =
                config_new((const char *const[]){ "lxc.init.cmd", "/bin/true", "lxc.mount.entry", e_mid, NULL });
        snprintf(msg, sizeof msg,
                 "lxc.mount.entry '%s': Refusing bind source '%s/hello': the path goes through a symbolic "
                 "link (opened as uid 4242, following none)",
                 e_mid, mid);
        expect_spawn_error("a symlink in a middle component", c2, ct_rootfs, &ro, EPERM, msg);
        /* Not the owner's: refused even with "optional". */
        _cleanup_lxc_config_ LxcConfig *c3 =
                config_new((const char *const[]){ "lxc.init.cmd", "/bin/true", "lxc.mount.entry", e_root, NULL });
        snprintf(msg, sizeof msg,
                 "lxc.mount.entry '%s': Refusing bind source '%s': it is owned by uid 0, not by the "
                 "container's owner (uid 4242)",
                 e_root, rootdir);
        expect_spawn_error("a root-owned source, optional", c3, ct_rootfs, &ro, EPERM, msg);

        /* What root wrote in an included file keeps LXC's semantics. */
        _cleanup_free_ char *inc_text = NULL, *top = NULL;
        if (asprintf(&inc_text, "lxc.mount.entry = %s mnt/data none bind,ro,create=dir 0 0\n", rootdir) < 0 ||
            asprintf(&top, "lxc.init.cmd = /bin/sh -c 'ls -d /mnt/data && echo WAITING && read x'\n"
                           "lxc.include = %s\n", inc) < 0)
                abort();
        write_file_atomic_at(AT_FDCWD, inc, inc_text, strlen(inc_text), 0644);
        _cleanup_lxc_config_ LxcConfig *c4 = lxc_config_new();
        const LxcParseOptions po = { .include_mode = LXC_INCLUDE_EXPAND };
        is(lxc_config_parse(c4, top, strlen(top), "t.conf", &po, &e), 0, "a config including root's bind");
        ok(lxc_config_n_items(c4) == 2 && lxc_config_item_included(c4, 1) && !lxc_config_item_included(c4, 0),
           "the included line is marked as included");
        r = spawn_run("spawntest", c4, ct_rootfs, &ro, &run, &e);
        is(r, 0, "root's bind from an included file starts: %s", r < 0 ? warren_error_message(&e) : "ok");
        warren_error_clear(&e);
        if (r >= 0) {
                like(run.output, "/mnt/data", "root's bind is there");
                run_done(&run);
        }

        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "rm -rf --one-file-system %s", area);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", area);
}

static void test_cgroup(void) {
        char dir[128];
        snprintf(dir, sizeof dir, "/sys/fs/cgroup/unified/test-spawn-%d", (int) getpid());
        _cleanup_free_ char *mounts = read_text("/proc/self/mounts");
        if (!mounts || !strstr(mounts, " /sys/fs/cgroup/unified cgroup2 "))
                snprintf(dir, sizeof dir, "/sys/fs/cgroup/test-spawn-%d", (int) getpid());
        if (mkdir(dir, 0755) < 0) {
                ok(0, "mkdir %s: %m", dir);
                return;
        }
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        /* clang-format off */
        _cleanup_lxc_config_ LxcConfig *c = config_new((const char *const[]){
                "lxc.init.cmd",
                "/bin/sh -c 'echo BEGIN cg; grep ^0:: /proc/self/cgroup; echo END cg; echo WAITING; read x'",
                "lxc.mount.auto", "proc",
                NULL,
        });
        /* clang-format on */
        WarrenError e = WARREN_ERROR_NULL;
        Run run;
        RunOptions ro = { .cgroup_fd = fd };
        int r = spawn_run("spawntest", c, rootfs, &ro, &run, &e);
        is(r, 0, "spawn into a cgroup: %s", r < 0 ? warren_error_message(&e) : "ok");
        warren_error_clear(&e);
        if (r >= 0) {
                char want[160];
                snprintf(want, sizeof want, "0::%s\n", strrchr(dir, '/'));
                like(run.host_cgroup, want, "host sees init in the cgroup (CLONE_INTO_CGROUP)");
                _cleanup_free_ char *s = section(run.output, "cg");
                is_str(s, "0::/\n", "inside, the cgroup is the namespace root");
                run_done(&run);
        }
        rmdir(dir);
}

static int cmp_long(const void *a, const void *b) {
        long x = *(const long *) a, y = *(const long *) b;
        return (x > y) - (x < y);
}

static void bench(void) {
        /* The brief's target: a few milliseconds from entry to exec. */
        _cleanup_lxc_config_ LxcConfig *c = config_new((const char *const[]){
                "lxc.init.cmd", "/bin/true", "lxc.mount.auto", "proc:mixed sys:mixed", NULL });
        long t[21];
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                WarrenError e = WARREN_ERROR_NULL;
                _cleanup_close_ int pidfd = -EBADF;
                pid_t pid;
                SpawnOptions o = {
                        .name = "bench", .config = c, .rootfs = rootfs, .cgroup_fd = -1, .log_fd = -1
                };
                long t0 = now_us();
                if (container_spawn(&o, &pid, &pidfd, &e) < 0) {
                        printf("# bench: %s\n", warren_error_message(&e));
                        warren_error_clear(&e);
                        break;
                }
                t[n++] = now_us() - t0;
                siginfo_t si;
                waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED);
        }
        ok(n == ELEMENTSOF(t), "%zu spawns of /bin/true", n);
        if (n == 0)
                return;
        qsort(t, n, sizeof t[0], cmp_long);
        printf("# container_spawn() of /bin/true with proc:mixed sys:mixed: median %ld us, min %ld us, max "
               "%ld us\n",
               t[n / 2], t[0], t[n - 1]);
}

/* Spawn time of /bin/true: privileged, in a user namespace on a shifted
 * rootfs, and on an idmapped one. */
static void bench_unprivileged(const char *shifted, const char *root_owned) {
        _cleanup_idmap_ Idmap *map = unpriv_map();
        _cleanup_lxc_config_ LxcConfig *c = config_new((const char *const[]){
                "lxc.init.cmd", "/bin/true", "lxc.mount.auto", "proc:mixed sys:mixed", NULL });
        const struct {
                const char *what, *root;
                const Idmap *map;
        } kinds[] = {
                { "privileged", rootfs, NULL },
                { "user namespace, shifted rootfs", shifted, map },
                { "user namespace, idmapped rootfs", root_owned, map },
        };
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                long t[21];
                size_t n = 0;
                for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                        WarrenError e = WARREN_ERROR_NULL;
                        _cleanup_close_ int pidfd = -EBADF;
                        pid_t pid;
                        SpawnOptions o = { .name = "bench",
                                           .config = c,
                                           .rootfs = kinds[k].root,
                                           .cgroup_fd = -1,
                                           .new_user_ns = kinds[k].map,
                                           .idmap = kinds[k].map,
                                           .log_fd = -1 };
                        long t0 = now_us();
                        if (container_spawn(&o, &pid, &pidfd, &e) < 0) {
                                printf("# bench %s: %s\n", kinds[k].what, warren_error_message(&e));
                                warren_error_clear(&e);
                                break;
                        }
                        t[n++] = now_us() - t0;
                        siginfo_t si;
                        waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED);
                }
                ok(n == ELEMENTSOF(t), "%zu spawns of /bin/true (%s)", n, kinds[k].what);
                if (n == 0)
                        continue;
                qsort(t, n, sizeof t[0], cmp_long);
                printf("# container_spawn() of /bin/true, %s: median %ld us, min %ld us, max %ld us\n",
                       kinds[k].what, t[n / 2], t[0], t[n - 1]);
        }
}

int main(void) {
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root (namespaces, mounts)\n");
                return 0;
        }
        /* Our own mount namespace with our own devpts: the consoles given
         * to containers are ptys of this instance, so nothing a privileged
         * container does to its /dev/console's filesystem (busybox's
         * "umount -a -r" remounts it read-only) reaches the host's. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620") < 0) {
                printf("Bail out! private mount namespace and devpts: %m\n");
                return 1;
        }
        /* Shared within our namespace, as "/" is on systemd hosts: a mount
         * the container's init failed to keep to itself would show up here. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0) {
                printf("Bail out! shared /: %m\n");
                return 1;
        }
        /* Whatever a container's network config does, it stays off the
         * host's network. */
        if (unshare(CLONE_NEWNET) < 0) {
                printf("Bail out! own network namespace: %m\n");
                return 1;
        }
        /* 0700 as mkdtemp() makes it, like a container dir: the init of a
         * user namespace cannot search it, container_spawn() must cope. */
        if (!mkdtemp(tmpdir))
                return 1;
        snprintf(rootfs, sizeof rootfs, "%s/rootfs", tmpdir);
        snprintf(rootfs_noinit, sizeof rootfs_noinit, "%s/rootfs-noinit", tmpdir);
        snprintf(rootfs_userns, sizeof rootfs_userns, "%s/rootfs-userns", tmpdir);
        snprintf(hostdir, sizeof hostdir, "%s/hostdir", tmpdir);

        ok(make_rootfs(rootfs, 0) == 0, "busybox rootfs");
        ok(make_rootfs(rootfs_noinit, 0) == 0, "busybox rootfs without init");
        char init[PATH_MAX + 16];
        snprintf(init, sizeof init, "%s/sbin/init", rootfs_noinit);
        ok(unlink(init) == 0, "removed /sbin/init");
        ok(make_rootfs(rootfs_userns, USERNS_BASE) == 0, "busybox rootfs owned by %u", USERNS_BASE);
        mkdir(hostdir, 0755);
        char hello[PATH_MAX + 16];
        snprintf(hello, sizeof hello, "%s/hello", hostdir);
        write_file_atomic_at(AT_FDCWD, hello, "hello from the host\n", 20, 0644);

        UnprivCase cases[3] = {
                { .what = "shifted rootfs on ext4", .disk_uid = UNPRIV_BASE },
                { .what = "root-owned rootfs on ext4", .idmapped = true, .disk_uid = 0 },
                { .what = "root-owned rootfs on tmpfs", .idmapped = true, .disk_uid = 0, .cgroup_rw = true },
        };
        char ovl[PATH_MAX], ovl_rw[PATH_MAX], ovl_opts[PATH_MAX * 3 + 64], tmpfs_dir[PATH_MAX];
        snprintf(tmpfs_dir, sizeof tmpfs_dir, "%s/ct-tmpfs", tmpdir);
        snprintf(ovl, sizeof ovl, "%s/ct-overlay", tmpdir);
        snprintf(ovl_rw, sizeof ovl_rw, "%s/overlay-rw", tmpdir);
        const char *dirs[] = { "ct-shifted", "ct-ext4", "ct-tmpfs", "ct-overlay", "overlay-rw" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char d[256];
                snprintf(d, sizeof d, "%s/%s", tmpdir, dirs[i]);
                if (mkdir(d, 0700) < 0)
                        return 1;
                if (i < ELEMENTSOF(cases))
                        snprintf(cases[i].rootfs, sizeof cases[i].rootfs, "%s/rootfs", d);
        }
        ok(mount("tmpfs", tmpfs_dir, "tmpfs", 0, "mode=0700") == 0, "tmpfs for a container dir");
        ok(mount("tmpfs", ovl_rw, "tmpfs", 0, "mode=0700") == 0, "tmpfs for an overlay's upper dir");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                ok(make_rootfs(cases[i].rootfs, 0) == 0, "busybox rootfs for %s", cases[i].what);
        {
                _cleanup_idmap_ Idmap *map = unpriv_map();
                WarrenError e = WARREN_ERROR_NULL;
                int n = idmap_shift_ownership(AT_FDCWD, cases[0].rootfs, map, IDMAP_SHIFT_TO_HOST, &e);
                ok(n > 10, "rootfs shifted to the map: %d inodes (%s)", n,
                   n < 0 ? warren_error_message(&e) : "ok");
                warren_error_clear(&e);
        }
        snprintf(ovl_opts, sizeof ovl_opts, "lowerdir=%s,upperdir=%s/u,workdir=%s/w", cases[1].rootfs,
                 ovl_rw, ovl_rw);
        char ovl_root[PATH_MAX + 16], u[PATH_MAX + 16], w[PATH_MAX + 16];
        snprintf(ovl_root, sizeof ovl_root, "%s/rootfs", ovl);
        snprintf(u, sizeof u, "%s/u", ovl_rw);
        snprintf(w, sizeof w, "%s/w", ovl_rw);
        ok(mkdir(u, 0755) == 0 && mkdir(w, 0755) == 0 && mkdir(ovl_root, 0755) == 0 &&
                   mount("overlay", ovl_root, "overlay", 0, ovl_opts) == 0,
           "overlay of a root-owned rootfs");

        test_parse();
        test_config_errors();
        test_full();
        test_failures();
        test_autodev_off();
        test_userns();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                test_unprivileged(&cases[i]);
        test_unprivileged_errors(ovl_root);
        test_owner_binds(cases[0].rootfs);
        test_cgroup();
        bench();
        bench_unprivileged(cases[0].rootfs, cases[1].rootfs);

        (void) umount2(ovl_root, MNT_DETACH);
        (void) umount2(ovl_rw, MNT_DETACH);
        (void) umount2(tmpfs_dir, MNT_DETACH);

        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf --one-file-system %s", tmpdir);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", tmpdir);
        return done_testing();
}
