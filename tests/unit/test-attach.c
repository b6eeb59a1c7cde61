/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attach_spawn() into real busybox containers started with
 * container_spawn() (as root: namespaces, cgroups), and warrenctl's
 * terminal proxy (cli/terminal.c, compiled in here: escape handling,
 * raw-mode restore, window size). Prints the attach time. */
#include <dirent.h>
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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../cli/terminal.c"
#include "attach.h"
#include "cgroup.h"
#include "config.h"
#include "fileio.h"
#include "pty.h"
#include "container-spawn.h"
#include "strv.h"
#include "tap.h"
#include "template.h"

#define USERNS_BASE 100000U
#define TIMEOUT_MS 10000

static char tmpdir[] = "/tmp/test-attach-XXXXXX";
static char rootfs[PATH_MAX], rootfs_userns[PATH_MAX], cg_parent[64];
static CgroupLayout *layout;

static long now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

static char *read_text(const char *path) {
        char *s = NULL;
        return read_full_file(path, 1 << 20, &s, NULL) < 0 ? NULL : s;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static LxcConfig *config_new(const char *const *kv) {
        LxcConfig *c = lxc_config_new();
        if (!c)
                abort();
        for (size_t i = 0; kv && kv[i]; i += 2) {
                WarrenError e = WARREN_ERROR_NULL;
                if (lxc_config_apply(c, kv[i], kv[i + 1], &e) < 0) {
                        printf("# config %s = %s: %s\n", kv[i], kv[i + 1], warren_error_message(&e));
                        abort();
                }
                warren_error_clear(&e);
        }
        return c;
}

/* ---- containers ---- */

typedef struct Container {
        LxcConfig *config;
        Cgroup *cg;
        bool userns;
        pid_t pid;
        int pidfd;
} Container;

static int container_hook(pid_t child, int child_pidfd, void *userdata, WarrenError *reterr) {
        Container *c = userdata;
        if (c->userns) {
                char path[64], map[64];
                snprintf(map, sizeof map, "0 %u 65536\n", USERNS_BASE);
                const char *files[] = { "uid_map", "gid_map" };
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        snprintf(path, sizeof path, "/proc/%d/%s", (int) child, files[i]);
                        int r = write_string_file_at(AT_FDCWD, path, map);
                        if (r < 0)
                                return warren_error_set(reterr, r, "Failed to write %s", path);
                }
        }
        return cgroup_attach_v1(c->cg, child, reterr);
}

static int container_start(Container *c, const char *name, const char *root, bool userns,
                           const char *const *extra) {
        WarrenError e = WARREN_ERROR_NULL;
        const char *base[] = { "lxc.init.cmd",         "/bin/sleep 1000000", "lxc.mount.auto",
                               "proc:mixed sys:mixed", "lxc.environment",    "FROM_CONFIG=yes",
                               "lxc.environment",      "PATH=/bin:/sbin",    NULL };
        _cleanup_close_ int cgfd = -EBADF;
        int r = 0;

        *c = (Container){ .userns = userns, .pidfd = -EBADF };
        c->config = config_new(base);
        for (size_t i = 0; r >= 0 && extra && extra[i]; i += 2)
                r = lxc_config_apply(c->config, extra[i], extra[i + 1], &e);
        if (r >= 0)
                r = cgroup_new(layout, cg_parent, name, &c->cg, &e);
        if (r >= 0)
                r = cgroup_create(c->cg, &e);
        if (r >= 0)
                cgfd = cgroup_open_fd(c->cg, NULL);
        SpawnOptions o = {
                .name = name,
                .config = c->config,
                .rootfs = root,
                .cgroup_fd = cgfd,
                .new_user_ns = userns,
                .parent_hook = container_hook,
                .hook_userdata = c,
                .log_fd = -1,
        };
        if (r >= 0)
                r = container_spawn(&o, &c->pid, &c->pidfd, &e);
        if (r < 0) {
                printf("# container %s: %s\n", name, warren_error_message(&e));
                warren_error_clear(&e);
        }
        return r;
}

static void container_stop(Container *c) {
        if (c->pidfd >= 0) {
                siginfo_t si;
                pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
                waitid(P_PIDFD, (id_t) c->pidfd, &si, WEXITED);
                c->pidfd = safe_close(c->pidfd);
        }
        if (c->cg) {
                (void) cgroup_remove(c->cg, NULL);
                c->cg = cgroup_free(c->cg);
        }
        c->config = lxc_config_free(c->config);
}

/* ---- running commands ---- */

typedef struct Run {
        int r; /* attach_spawn()'s result */
        WarrenError e;
        int status; /* exit status, or -1 */
        pid_t pid;
        char *out, *err;
        size_t out_len, err_len;
        long us; /* attach_spawn() to exit */
} Run;

static void run_done(Run *r) {
        warren_error_clear(&r->e);
        free(r->out);
        free(r->err);
        *r = (Run){};
}

static void opts_for(const Container *c, AttachOptions *o) {
        attach_options_init(o);
        o->init_pidfd = c->pidfd;
        o->config = c->config;
        o->cgroup = cgroup_get_path(c->cg);
}

static bool append_read(int fd, char **buf, size_t *len) {
        char data[65536];
        ssize_t n = read(fd, data, sizeof data);
        if (n <= 0)
                return false;
        char *b = realloc(*buf, *len + (size_t) n + 1);
        if (!b)
                abort();
        memcpy(b + *len, data, (size_t) n);
        *len += (size_t) n;
        b[*len] = 0;
        *buf = b;
        return true;
}

/* Runs with pipes for stdio (where o leaves them at -1), feeding input
 * and collecting stdout and stderr; optional hook runs while it runs. */
static void run_pipes(AttachOptions *o, const void *input, size_t input_len, void (*during)(pid_t, void *),
                      void *userdata, Run *ret) {
        int in[2], out[2], err[2];
        AttachProcess p;
        size_t written = 0;

        *ret = (Run){ .status = -1 };
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                abort();
        if (o->stdin_fd == -1)
                o->stdin_fd = in[0];
        if (o->stdout_fd == -1)
                o->stdout_fd = out[1];
        if (o->stderr_fd == -1)
                o->stderr_fd = err[1];
        long t0 = now_us();
        ret->r = attach_spawn(o, &p, &ret->e);
        close(in[0]);
        close(out[1]);
        close(err[1]);
        if (ret->r < 0) {
                close(in[1]);
                close(out[0]);
                close(err[0]);
                return;
        }
        ret->pid = p.pid;
        if (during)
                during(p.pid, userdata);
        if (!input)
                in[1] = safe_close(in[1]);
        fcntl(in[1], F_SETFL, O_NONBLOCK);
        bool out_open = true, err_open = true;
        while (out_open || err_open) {
                struct pollfd pf[3] = {
                        { .fd = out_open ? out[0] : -1, .events = POLLIN },
                        { .fd = err_open ? err[0] : -1, .events = POLLIN },
                        { .fd = in[1], .events = POLLOUT },
                };
                if (poll(pf, 3, TIMEOUT_MS) <= 0) {
                        printf("# timeout running %s\n", o->argv ? o->argv[0] : "(shell)");
                        pidfd_send_signal(p.pidfd, SIGKILL, NULL, 0);
                        break;
                }
                if (pf[0].revents)
                        out_open = append_read(out[0], &ret->out, &ret->out_len);
                if (pf[1].revents)
                        err_open = append_read(err[0], &ret->err, &ret->err_len);
                if (pf[2].revents & POLLOUT) {
                        ssize_t n = write(in[1], (const char *) input + written, input_len - written);
                        if (n > 0)
                                written += (size_t) n;
                        if (n < 0 || written == input_len)
                                in[1] = safe_close(in[1]);
                } else if (pf[2].revents)
                        in[1] = safe_close(in[1]);
        }
        safe_close(in[1]);
        close(out[0]);
        close(err[0]);
        (void) attach_wait(p.pidfd, &ret->status, NULL);
        ret->us = now_us() - t0;
        attach_process_done(&p);
        if (!ret->out)
                ret->out = strdup("");
        if (!ret->err)
                ret->err = strdup("");
}

static void run_cmd(const Container *c, const char *const *argv, Run *ret) {
        AttachOptions o;
        opts_for(c, &o);
        o.argv = (char **) argv;
        run_pipes(&o, NULL, 0, NULL, NULL, ret);
}

/* Runs with a pty, writes reply once output contains "READY", collects
 * everything until the slave side is gone. */
static void run_pty(AttachOptions *o, const char *reply, struct winsize *set_after, Run *ret) {
        AttachProcess p;
        bool replied = false;

        *ret = (Run){ .status = -1 };
        ret->r = attach_spawn(o, &p, &ret->e);
        if (ret->r < 0)
                return;
        ret->pid = p.pid;
        for (;;) {
                struct pollfd pf = { .fd = p.pty_master, .events = POLLIN };
                if (poll(&pf, 1, TIMEOUT_MS) <= 0) {
                        printf("# timeout on the pty\n");
                        pidfd_send_signal(p.pidfd, SIGKILL, NULL, 0);
                        break;
                }
                if (!append_read(p.pty_master, &ret->out, &ret->out_len))
                        break; /* EIO: the slave is closed */
                if (!replied && ret->out && strstr(ret->out, "READY")) {
                        if (set_after)
                                ioctl(p.pty_master, TIOCSWINSZ, set_after);
                        if (reply && write(p.pty_master, reply, strlen(reply)) < 0)
                                break;
                        replied = true;
                }
        }
        (void) attach_wait(p.pidfd, &ret->status, NULL);
        attach_process_done(&p);
        if (!ret->out)
                ret->out = strdup("");
}

/* Children of ours besides the containers' inits: attach must leave none. */
static int count_children(void) {
        int n = 0;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) getpid(), (int) getpid());
        _cleanup_free_ char *s = read_text(path);
        _cleanup_strv_free_ char **l = strv_split(s, " \n");
        STRV_FOREACH(x, l)
                n++;
        return n;
}

/* ---- tests ---- */

static void test_status(const Container *c) {
        Run r;
        run_cmd(c, (const char *const[]){ "/bin/sh", "-c", "exit 7", NULL }, &r);
        is(r.r, 0, "attach sh -c 'exit 7': %s", r.r < 0 ? warren_error_message(&r.e) : "ok");
        is(r.status, 7, "exit 7 -> status 7");
        ok(r.pid > 0, "host pid reported (%d)", (int) r.pid);
        run_done(&r);

        run_cmd(c, (const char *const[]){ "/bin/sh", "-c", "kill -TERM $$", NULL }, &r);
        is(r.status, 143, "killed by SIGTERM -> 143");
        run_done(&r);

        run_cmd(c, (const char *const[]){ "true", NULL }, &r);
        is(r.status, 0, "true -> 0 (found through PATH)");
        run_done(&r);
}

static void test_stdio(const Container *c) {
        Run r;
        run_cmd(c, (const char *const[]){ "/bin/sh", "-c", "echo out; echo err >&2; echo out2", NULL }, &r);
        is_str(r.out, "out\nout2\n", "stdout on its own pipe");
        is_str(r.err, "err\n", "stderr on its own pipe");
        run_done(&r);

        /* 1 MiB of random bytes through cat, both ways at once. */
        size_t size = 1 << 20;
        char *data = malloc(size);
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (!data || fd < 0 || read(fd, data, size) != (ssize_t) size)
                abort();
        close(fd);
        AttachOptions o;
        opts_for(c, &o);
        o.argv = (char *[]){ "cat", NULL };
        run_pipes(&o, data, size, NULL, NULL, &r);
        is(r.status, 0, "cat exits 0");
        ok(r.out_len == size && memcmp(r.out, data, size) == 0,
           "1 MiB of random bytes round-trip exactly (%zu)", r.out_len);
        is(r.err_len, 0, "nothing on stderr");
        run_done(&r);

        opts_for(c, &o);
        o.argv = (char *[]){ "/bin/sh", "-c", "cat | wc -c", NULL };
        run_pipes(&o, data, size, NULL, NULL, &r);
        is_str(r.out, "1048576\n", "cat | wc -c counts every byte");
        run_done(&r);
        free(data);
}

static void test_env_cwd_ids(const Container *c) {
        Run r;
        AttachOptions o;

        opts_for(c, &o);
        o.argv = (char *[]){ "/bin/sh", "-c",
                             "echo \"$container|$FROM_CONFIG|$PATH|$HOME|$USER|$MINE|$FROM_CONFIG2\"; pwd",
                             NULL };
        o.env = (char *[]){ "MINE=1", "FROM_CONFIG2=over", NULL };
        run_pipes(&o, NULL, 0, NULL, NULL, &r);
        is_str(r.out, "lxc|yes|/bin:/sbin|/root|root|1|over\n/root\n",
               "container=lxc, lxc.environment (PATH overridden), HOME/USER from passwd, options env; cwd = "
               "home");
        run_done(&r);

        opts_for(c, &o);
        o.argv = (char *[]){ "/bin/busybox", "env", NULL };
        o.clear_env = true;
        o.env = (char *[]){ "MINE=1", NULL };
        run_pipes(&o, NULL, 0, NULL, NULL, &r);
        _cleanup_strv_free_ char **lines = strv_split(r.out, "\n");
        qsort(lines, strv_length(lines), sizeof(char *), cmp_str);
        _cleanup_free_ char *joined = strv_join(lines, " ");
        is_str(joined, "FROM_CONFIG=yes MINE=1 PATH=/bin:/sbin container=lxc",
               "clear-env: only the container's rules and the given variables");
        run_done(&r);

        opts_for(c, &o);
        o.argv = (char *[]){ "/bin/sh", "-c", "pwd; id -u; id -g; echo $HOME $USER", NULL };
        o.cwd = "/tmp";
        o.uid = 1000;
        run_pipes(&o, NULL, 0, NULL, NULL, &r);
        is_str(r.out, "/tmp\n1000\n1001\n/home/user user\n", "cwd given; uid 1000, gid from passwd (1001)");
        run_done(&r);

        opts_for(c, &o);
        o.argv = (char *[]){ "/bin/sh", "-c",
                             "id -u; id -g; cat /proc/self/status | grep -E '^(CapEff|CapBnd)'", NULL };
        o.uid = 1234;
        o.gid = 4321;
        run_pipes(&o, NULL, 0, NULL, NULL, &r);
        _cleanup_strv_free_ char **w = strv_split(r.out, "\n\t ");
        ok(strv_length(w) == 6 && streq(w[0], "1234") && streq(w[1], "4321"),
           "uid 1234 gid 4321 (not in passwd)");
        ok(strv_length(w) == 6 && streq(w[3], "0000000000000000"), "a non-root user has no effective caps");
        run_done(&r);
}

typedef struct NsCheck {
        const Container *c;
        bool same[7];
        char *cgroup, *init_cgroup, *status, *fds;
} NsCheck;

static const char *const ns_names[] = { "pid", "mnt", "uts", "ipc", "net", "cgroup", "user" };

static void check_ns(pid_t pid, void *userdata) {
        NsCheck *n = userdata;
        for (size_t i = 0; i < ELEMENTSOF(ns_names); i++) {
                char a[64], b[64];
                struct stat sa, sb;
                snprintf(a, sizeof a, "/proc/%d/ns/%s", (int) pid, ns_names[i]);
                snprintf(b, sizeof b, "/proc/%d/ns/%s", (int) n->c->pid, ns_names[i]);
                n->same[i] = stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino;
        }
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/cgroup", (int) pid);
        n->cgroup = read_text(p);
        snprintf(p, sizeof p, "/proc/%d/cgroup", (int) n->c->pid);
        n->init_cgroup = read_text(p);
        snprintf(p, sizeof p, "/proc/%d/status", (int) pid);
        n->status = read_text(p);

        _cleanup_strv_free_ char **fds = NULL;
        snprintf(p, sizeof p, "/proc/%d/fd", (int) pid);
        DIR *d = opendir(p);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        strv_extend(&fds, de->d_name);
        if (d)
                closedir(d);
        qsort(fds, strv_length(fds), sizeof(char *), cmp_str);
        n->fds = strv_join(fds, " ");
}

static void ns_check_done(NsCheck *n) {
        free(n->cgroup);
        free(n->init_cgroup);
        free(n->status);
        free(n->fds);
}

static char *status_field(const char *status, const char *field) {
        const char *s = status ? strstr(status, field) : NULL;
        if (!s)
                return strdup("(none)");
        s += strlen(field);
        s += strspn(s, " \t");
        return strndup(s, strcspn(s, "\n"));
}

static void test_isolation(const Container *c, bool userns) {
        NsCheck n = { .c = c };
        Run r;
        AttachOptions o;
        const char *tag = userns ? "userns: " : "";

        opts_for(c, &o);
        o.argv = (char *[]){ "/bin/sh", "-c",
                             "read x; ls /proc/$$/fd >/tmp/fds; echo fds $(cat /tmp/fds); "
                             "echo init $(tr '\\0' ' ' </proc/1/cmdline); echo host $(hostname)",
                             NULL };
        run_pipes(&o, "go\n", 3, check_ns, &n, &r);
        is(r.r, 0, "%sattach: %s", tag, r.r < 0 ? warren_error_message(&r.e) : "ok");
        for (size_t i = 0; i < ELEMENTSOF(ns_names); i++)
                ok(n.same[i], "%sin init's %s namespace", tag, ns_names[i]);
        is_str(n.cgroup, n.init_cgroup, "%sin init's cgroups (every hierarchy)", tag);
        like(n.cgroup, cgroup_get_path(c->cg), "%sthat is the container's cgroup", tag);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/status", (int) c->pid);
        _cleanup_free_ char *init_status = read_text(path);
        _cleanup_free_ char *bnd = status_field(init_status, "CapBnd:"),
                            *mine = status_field(n.status, "CapBnd:");
        is_str(mine, bnd, "%sbounding set equals init's (lxc.cap.drop)", tag);
        like(r.out, "init /bin/sleep 1000000\n", "%sinit of the pid namespace is the container's", tag);
        like(r.out, "host attachtest\n", "%shostname is the container's", tag);
        _cleanup_free_ char *uid = status_field(n.status, "Uid:");
        char want[64];
        snprintf(want, sizeof want, "%u\t%u\t%u\t%u", userns ? USERNS_BASE : 0, userns ? USERNS_BASE : 0,
                 userns ? USERNS_BASE : 0, userns ? USERNS_BASE : 0);
        is_str(uid, want, "%shost sees uid %u", tag, userns ? USERNS_BASE : 0);
        ns_check_done(&n);
        run_done(&r);

        /* A host fd without O_CLOEXEC must not reach the container: cat,
         * blocked on its input, shows its fds to the host. */
        int leak = open("/etc/hostname", O_RDONLY);
        int leak_hi = leak >= 0 ? dup2(leak, 77) : -1;
        opts_for(c, &o);
        o.argv = (char *[]){ "cat", NULL };
        n = (NsCheck){ .c = c };
        run_pipes(&o, "x", 1, check_ns, &n, &r);
        close(leak);
        close(leak_hi);
        is_str(n.fds, "0 1 2",
               "%sonly stdio open in the attached process (no host fd, even without O_CLOEXEC)", tag);
        ns_check_done(&n);
        run_done(&r);

        if (userns) {
                opts_for(c, &o);
                o.argv = (char *[]){ "/bin/sh", "-c", "read x; id -u", NULL };
                o.uid = 1000;
                n = (NsCheck){ .c = c };
                run_pipes(&o, "go\n", 3, check_ns, &n, &r);
                _cleanup_free_ char *u = status_field(n.status, "Uid:");
                snprintf(want, sizeof want, "%u\t", USERNS_BASE + 1000);
                ok(strncmp(u, want, strlen(want)) == 0, "userns: uid 1000 inside is %u on the host (%s)",
                   USERNS_BASE + 1000, u);
                is_str(r.out, "1000\n", "userns: id -u inside");
                ns_check_done(&n);
                run_done(&r);

                opts_for(c, &o);
                o.argv = (char *[]){ "true", NULL };
                o.uid = 70000;
                o.gid = 0;
                run_pipes(&o, NULL, 0, NULL, NULL, &r);
                is(r.r, -EINVAL, "userns: uid 70000 (unmapped) refused");
                is_str(r.e.message,
                       "Failed to switch to uid 70000: Invalid argument (not mapped in the container)",
                       "userns: message names the uid");
                run_done(&r);
        }
}

/* In place (a container's attach helper): a child of ours that sits in
 * the container's v1 cgroups makes the process itself. It reports what it
 * saw down a pipe; the checks are made here. */
static void in_place_child(const Container *c, int report, bool after_kill) {
        WarrenError e = WARREN_ERROR_NULL;
        char buf[8192];
        Run r;
        AttachOptions o;
        if (cgroup_attach_v1(c->cg, 0, &e) < 0) {
                dprintf(report, "setup %s", warren_error_message(&e));
                _exit(1);
        }
        opts_for(c, &o);
        o.in_place = true;
        o.cgroup_layout = layout;
        o.argv = (char *[]){ "/bin/sh", "-c", "cat /proc/self/cgroup; echo ppid=$PPID; exit 5", NULL };
        run_pipes(&o, NULL, 0, NULL, NULL, &r);
        snprintf(buf, sizeof buf, "r=%d status=%d pid=%d err=%s\n%s", r.r, r.status, (int) r.pid,
                 r.r < 0 ? warren_error_message(&r.e) : "-", r.out ? r.out : "");
        (void) !write(report, buf, strlen(buf));
        _exit(after_kill ? 0 : 0);
}

static void test_in_place(const Container *c) {
        char buf[8192] = "", want[256];
        int p[2];
        for (int round = 0; round < 2; round++) {
                bool after_kill = round == 1;
                if (after_kill) {
                        /* init in a cgroup2 cgroup that once had cgroup.kill: this
                         * kernel kills what CLONE_INTO_CGROUP puts there; attach
                         * joins it by a write then. */
                        char sub[PATH_MAX], f[PATH_MAX + 32], pid_s[32];
                        if (!layout->v2_mount) {
                                ok(1, "# SKIP no cgroup2");
                                continue;
                        }
                        snprintf(sub, sizeof sub, "%s/killed", cgroup_get_v2_dir(c->cg));
                        snprintf(f, sizeof f, "%s/cgroup.kill", sub);
                        ok(mkdir(sub, 0755) == 0 && write_string_file_at(AT_FDCWD, f, "1") >= 0,
                           "a cgroup2 cgroup that had cgroup.kill");
                        snprintf(f, sizeof f, "%s/cgroup.procs", sub);
                        snprintf(pid_s, sizeof pid_s, "%d", (int) c->pid);
                        ok(write_string_file_at(AT_FDCWD, f, pid_s) >= 0, "init moved into it");
                }
                ok(pipe2(p, O_CLOEXEC) == 0, "a report pipe");
                pid_t pid = fork();
                if (pid == 0) {
                        close(p[0]);
                        in_place_child(c, p[1], after_kill);
                }
                close(p[1]);
                ssize_t n = read(p[0], buf, sizeof buf - 1);
                buf[n > 0 ? n : 0] = 0;
                close(p[0]);
                (void) waitpid(pid, NULL, 0);
                const char *tag = after_kill ? "after cgroup.kill: " : "";
                like(buf, "r=0 status=5 ", "%sin place: attached, its exit status 5 (%s)", tag, buf);
                snprintf(want, sizeof want, ":%s%s\n", cgroup_get_path(c->cg), after_kill ? "/killed" : "");
                if (layout->v2_mount) {
                        char v2[300];
                        snprintf(v2, sizeof v2, "0::/%s", after_kill ? "killed\n" : "\n");
                        /* Inside its cgroup namespace, init's cgroup is / (or below it). */
                        like(buf, v2, "%sin init's cgroup2 cgroup%s", tag,
                             after_kill ? " (it had cgroup.kill)" : " without a move");
                }
                like(buf, "ppid=0\n", "%sits parent (the helper) is outside its pid namespace", tag);
        }
}

static void test_pty(const Container *c, bool userns) {
        const char *tag = userns ? "userns: " : "";
        AttachOptions o;
        Run r;
        struct stat host_ptmx;

        opts_for(c, &o);
        o.pty = true;
        o.rows = 30;
        o.cols = 100;
        o.argv = (char *[]){ "/bin/sh", "-c",
                             "tty; stty size; echo READY; read x; stty size; echo got $x; exit 3", NULL };
        struct winsize ws = { .ws_row = 40, .ws_col = 120 };
        run_pty(&o, "hello\n", &ws, &r);
        is(r.r, 0, "%sattach with a pty: %s", tag, r.r < 0 ? warren_error_message(&r.e) : "ok");
        like(r.out, "/dev/pts/0\r\n", "%stty is the container's /dev/pts/0 (its own devpts)", tag);
        like(r.out, "30 100\r\n", "%sinitial window size 30x100", tag);
        like(r.out, "40 120\r\n", "%swindow size set on the master is seen inside", tag);
        like(r.out, "got hello\r\n", "%sinput through the pty", tag);
        is(r.status, 3, "%sexit status through", tag);
        run_done(&r);

        /* The master is from the container's devpts, not ours. */
        opts_for(c, &o);
        o.pty = true;
        o.argv = (char *[]){ "true", NULL };
        AttachProcess p;
        WarrenError e = WARREN_ERROR_NULL;
        if (attach_spawn(&o, &p, &e) == 0) {
                struct stat st;
                ok(fstat(p.pty_master, &st) == 0 && stat("/dev/pts/ptmx", &host_ptmx) == 0 &&
                           st.st_dev != host_ptmx.st_dev,
                   "%smaster is on another devpts than the host's", tag);
                int flags = fcntl(p.pty_master, F_GETFD);
                ok(flags >= 0 && (flags & FD_CLOEXEC), "%smaster is O_CLOEXEC", tag);
                int status = -1;
                attach_wait(p.pidfd, &status, NULL);
                is(status, 0, "%strue with a pty exits 0", tag);
                attach_process_done(&p);
        } else
                ok(0, "%sattach true with pty: %s", tag, warren_error_message(&e));
        warren_error_clear(&e);

        /* With a pty, a given fd overrides the slave for that stream. */
        int out[2];
        if (pipe2(out, O_CLOEXEC) < 0)
                abort();
        opts_for(c, &o);
        o.pty = true;
        o.stdout_fd = out[1];
        o.argv = (char *[]){ "/bin/sh", "-c", "tty; echo on-pty >&2", NULL };
        run_pty(&o, NULL, NULL, &r);
        close(out[1]);
        char buf[256] = "";
        ssize_t n = read(out[0], buf, sizeof buf - 1);
        close(out[0]);
        buf[strcspn(buf, "\n")] = 0;
        ok(n > 0 && strncmp(buf, "/dev/pts/", 9) == 0, "%sstdout to a pipe while the pty is the ctty (%s)",
           tag, buf);
        like(r.out, "on-pty", "%sstderr still on the pty", tag);
        run_done(&r);
}

static void test_missing(const Container *c) {
        Run r;
        run_cmd(c, (const char *const[]){ "no-such-command", "x", NULL }, &r);
        is(r.r, 0, "a missing command still attaches (as a shell would run it)");
        is(r.status, 127, "missing command exits 127");
        is_str(r.err, "no-such-command: command not found\n", "missing command: message on its stderr");
        run_done(&r);

        run_cmd(c, (const char *const[]){ "/no/such/file", NULL }, &r);
        is(r.status, 127, "missing path exits 127");
        is_str(r.err, "/no/such/file: No such file or directory\n", "missing path: message");
        run_done(&r);

        run_cmd(c, (const char *const[]){ "/etc/passwd", NULL }, &r);
        is(r.status, 126, "non-executable file exits 126");
        is_str(r.err, "/etc/passwd: Permission denied\n", "non-executable: message");
        run_done(&r);

        /* No argv: the user's shell from the container's passwd. */
        AttachOptions o;
        opts_for(c, &o);
        const char *script = "echo $0 $SHELL; exit 5\n";
        run_pipes(&o, script, strlen(script), NULL, NULL, &r);
        is_str(r.out, "/bin/sh /bin/sh\n", "no command: root's shell from /etc/passwd");
        is(r.status, 5, "shell's exit status");
        run_done(&r);
}

static void expect_error(const char *what, AttachOptions *o, int error, const char *message) {
        Run r;
        int before = count_children();
        run_pipes(o, NULL, 0, NULL, NULL, &r);
        is(r.r, -error, "%s: -%s", what, strerrorname_np(error));
        is_str(r.e.message, message, "%s: message", what);
        is(count_children(), before, "%s: nothing left running", what);
        run_done(&r);
}

static void test_garbage(const Container *c) {
        AttachOptions o;
        Run r;

        opts_for(c, &o);
        o.argv = (char *[]){ "", NULL };
        expect_error("empty program name", &o, EINVAL, "Invalid command '': empty program name");

        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.stdout_fd = 999;
        expect_error("bad fd", &o, EBADF, "Invalid stdout fd 999: Bad file descriptor");

        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.stdin_fd = -5;
        expect_error("negative fd", &o, EBADF, "Invalid stdin fd -5: Bad file descriptor");

        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.env = (char *[]){ "NOEQUALS", NULL };
        expect_error("env without =", &o, EINVAL,
                     "Invalid environment variable 'NOEQUALS': expected KEY=VALUE");

        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.cwd = "tmp";
        expect_error("relative cwd", &o, EINVAL, "Invalid working directory 'tmp': not an absolute path");

        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.cwd = "/no/such/dir";
        expect_error("missing cwd", &o, ENOENT,
                     "Failed to change to working directory '/no/such/dir': No such file or directory");

        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.cgroup = "relative";
        expect_error("bad cgroup", &o, EINVAL,
                     "Invalid container cgroup 'relative': expected an absolute path");

        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        char msg[128];
        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.init_pidfd = null;
        snprintf(msg, sizeof msg, "Invalid init pidfd %d: not a pidfd", null);
        expect_error("not a pidfd", &o, EBADF, msg);
        close(null);

        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.config = NULL;
        expect_error("no config", &o, EINVAL, "Invalid attach options: the container's config is required");

        /* An init that has exited. */
        fflush(NULL);
        pid_t dead = fork();
        if (dead == 0)
                _exit(0);
        int dead_fd = pidfd_open(dead, 0);
        waitpid(dead, NULL, 0);
        opts_for(c, &o);
        o.argv = (char *[]){ "true", NULL };
        o.init_pidfd = dead_fd;
        snprintf(msg, sizeof msg, "The container's init (pidfd %d) has exited", dead_fd);
        expect_error("exited init", &o, ESRCH, msg);
        close(dead_fd);

        /* A frozen container: the process would freeze before exec. */
        WarrenError e = WARREN_ERROR_NULL;
        if (cgroup_freeze(c->cg, 2000000, &e) >= 0) {
                opts_for(c, &o);
                o.argv = (char *[]){ "true", NULL };
                run_pipes(&o, NULL, 0, NULL, NULL, &r);
                is(r.r, -EBUSY, "frozen container: -EBUSY");
                like(r.e.message, "is frozen", "frozen container: message");
                run_done(&r);
                cgroup_unfreeze(c->cg, 2000000, NULL);
        } else
                ok(0, "freeze: %s", warren_error_message(&e));
        warren_error_clear(&e);
        ok(attach_spawn(NULL, &(AttachProcess){}, NULL) == -EINVAL, "NULL options: -EINVAL");
}

static int cmp_long(const void *a, const void *b) {
        long x = *(const long *) a, y = *(const long *) b;
        return (x > y) - (x < y);
}

static void bench(const Container *c) {
        long t[31];
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                Run r;
                run_cmd(c, (const char *const[]){ "/bin/true", NULL }, &r);
                if (r.r < 0 || r.status != 0) {
                        run_done(&r);
                        break;
                }
                t[n++] = r.us;
                run_done(&r);
        }
        ok(n == ELEMENTSOF(t), "%zu attaches of /bin/true", n);
        if (n == 0)
                return;
        qsort(t, n, sizeof t[0], cmp_long);
        printf("# attach of /bin/true, attach_spawn() to reaped: median %ld us, min %ld us, max %ld us\n",
               t[n / 2], t[0], t[n - 1]);
}

/* ---- terminal proxy (cli/terminal.c) ---- */

static void test_escape_filter(void) {
        TerminalEscape e = { .key = 1 };
        char out[64];
        bool quit;
        size_t k;

        k = terminal_escape_filter(&e, "abc", 3, out, &quit);
        ok(k == 3 && memcmp(out, "abc", 3) == 0 && !quit, "plain bytes pass");
        k = terminal_escape_filter(&e, "ab\001q", 4, out, &quit);
        ok(k == 2 && memcmp(out, "ab", 2) == 0 && quit, "Ctrl-a q quits, bytes before it pass");
        e = (TerminalEscape){ .key = 1 };
        k = terminal_escape_filter(&e, "\001\001x", 3, out, &quit);
        ok(k == 2 && memcmp(out, "\001x", 2) == 0 && !quit, "Ctrl-a Ctrl-a sends one Ctrl-a");
        k = terminal_escape_filter(&e, "\001z", 2, out, &quit);
        ok(k == 2 && memcmp(out, "\001z", 2) == 0 && !quit, "Ctrl-a z sends both");
        k = terminal_escape_filter(&e, "x\001", 2, out, &quit);
        ok(k == 1 && e.pending && !quit, "a trailing Ctrl-a waits for the next read");
        k = terminal_escape_filter(&e, "q", 1, out, &quit);
        ok(k == 0 && quit, "... and q in the next read quits");
        e = (TerminalEscape){ .key = -1 };
        k = terminal_escape_filter(&e, "\001q", 2, out, &quit);
        ok(k == 2 && !quit, "no escape key: everything passes");

        int key;
        ok(terminal_parse_escape("a", &key) == 0 && key == 1, "escape 'a' is Ctrl-a");
        ok(terminal_parse_escape("^B", &key) == 0 && key == 2, "escape '^B' is Ctrl-b");
        ok(terminal_parse_escape("none", &key) == 0 && key == -1, "escape 'none'");
        is(terminal_parse_escape("ab", &key), -EINVAL, "escape 'ab' refused");
        is(terminal_parse_escape("1", &key), -EINVAL, "escape '1' refused");
        is_str(terminal_escape_name(1), "Ctrl-a", "name of Ctrl-a");
}

/* in/out pipes as the user's side, a socketpair as the "master". */
static void test_proxy_pipes(void) {
        int in[2], out[2], m[2];
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, m) < 0)
                abort();
        const char typed[] = "hello\001\001x\001q ignored";
        if (write(in[1], typed, sizeof typed - 1) < 0 || write(m[1], "from container", 14) < 0)
                abort();
        TerminalProxy p = {
                .in_fd = in[0], .out_fd = out[1], .master = m[0], .escape_key = 1, .extra_fd = -1
        };
        TerminalEnd end = TERMINAL_HANGUP;
        int r = terminal_proxy_run(&p, &end, NULL);
        is(r, 0, "proxy ran");
        is(end, TERMINAL_ESCAPE, "proxy ended by the escape");
        char buf[64] = "";
        ssize_t n = read(m[1], buf, sizeof buf - 1);
        ok(n == 7 && memcmp(buf, "hello\001x", 7) == 0, "forwarded up to the escape, Ctrl-a Ctrl-a as one");
        /* Output might come before or after the escape was read: send more
         * and end by a hangup to see all of it. */
        if (write(m[1], "+more", 5) < 0)
                abort();
        close(m[1]);
        r = terminal_proxy_run(&p, &end, NULL);
        is(end, TERMINAL_HANGUP, "closed master: hangup");
        close(out[1]);
        char all[128] = "";
        size_t len = 0;
        while ((n = read(out[0], all + len, sizeof all - 1 - len)) > 0)
                len += (size_t) n;
        is_str(all, "from container+more", "master output copied in order, none lost");
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(m[0]);

        /* Piped input's end becomes the terminal's EOF character. */
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, m) < 0)
                abort();
        if (write(in[1], "abc", 3) < 0)
                abort();
        close(in[1]);
        p = (TerminalProxy){
                .in_fd = in[0], .out_fd = out[1], .master = m[0], .escape_key = -1, .extra_fd = -1
        };
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(m[1]);
                _exit(terminal_proxy_run(&p, &end, NULL) == 0 && end == TERMINAL_HANGUP ? 0 : 1);
        }
        close(m[0]);
        memset(buf, 0, sizeof buf);
        len = 0;
        struct pollfd pf = { .fd = m[1], .events = POLLIN };
        while (len < 4 && poll(&pf, 1, 2000) > 0 && (n = read(m[1], buf + len, sizeof buf - 1 - len)) > 0)
                len += (size_t) n;
        ok(len == 4 && memcmp(buf, "abc\004", 4) == 0, "stdin EOF sent as ^D after the data");
        close(m[1]);
        int st;
        waitpid(pid, &st, 0);
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "proxy ended by hangup");
        close(in[0]);
        close(out[0]);
        close(out[1]);
}

static bool termios_equal(const struct termios *a, const struct termios *b) {
        return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_lflag == b->c_lflag &&
               a->c_cflag == b->c_cflag && memcmp(a->c_cc, b->c_cc, sizeof a->c_cc) == 0;
}

/* A pty plays the user's terminal: its slave is in_fd/out_fd. */
static void test_raw_mode(void) {
        int user_master, user_slave, cont_master, cont_slave;
        _cleanup_free_ char *p1 = NULL, *p2 = NULL;
        struct termios orig, now;
        int st;

        if (pty_open(&user_master, &p1, NULL) < 0 || pty_open(&cont_master, &p2, NULL) < 0)
                abort();
        user_slave = pty_open_slave(user_master, O_RDWR, NULL);
        cont_slave = pty_open_slave(cont_master, O_RDWR, NULL);
        tcgetattr(user_slave, &orig);
        ok(orig.c_lflag & ICANON, "terminal starts canonical");
        is(terminal_raw_enter(-1), -EBADF, "raw mode on a bad fd: -EBADF");
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        is(terminal_raw_enter(null), -ENOTTY, "raw mode on /dev/null: -ENOTTY");
        close(null);

        /* Killed by a signal outside the proxy: the handler restores. */
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                if (terminal_raw_enter(user_slave) < 0)
                        _exit(2);
                struct termios t;
                tcgetattr(user_slave, &t);
                if (t.c_lflag & (ICANON | ECHO))
                        _exit(3);
                raise(SIGTERM);
                _exit(4);
        }
        waitpid(pid, &st, 0);
        ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "raw-mode process died of SIGTERM");
        tcgetattr(user_slave, &now);
        ok(termios_equal(&orig, &now), "terminal restored after SIGTERM");

        /* exit() without restoring: atexit does. */
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
                if (terminal_raw_enter(user_slave) < 0)
                        _exit(2);
                exit(0);
        }
        waitpid(pid, &st, 0);
        tcgetattr(user_slave, &now);
        ok(WIFEXITED(st) && termios_equal(&orig, &now), "terminal restored at exit()");

        /* Crash: restored, then the crash goes on. */
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
                if (terminal_raw_enter(user_slave) < 0)
                        _exit(2);
                abort();
        }
        waitpid(pid, &st, 0);
        tcgetattr(user_slave, &now);
        ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && termios_equal(&orig, &now),
           "terminal restored on abort(), which still kills");

        /* The proxy: initial window size, SIGWINCH, signal report, escape.
         * The container's side raw, so typed bytes arrive unchanged. */
        struct termios raw;
        tcgetattr(cont_slave, &raw);
        cfmakeraw(&raw);
        tcsetattr(cont_slave, TCSANOW, &raw);
        struct winsize ws = { .ws_row = 33, .ws_col = 77 }, got = {};
        ioctl(user_master, TIOCSWINSZ, &ws);
        int sync_pipe[2];
        if (pipe2(sync_pipe, O_CLOEXEC) < 0)
                abort();
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
                TerminalEnd end;
                int sig = 0;
                close(sync_pipe[0]);
                if (terminal_raw_enter(user_slave) < 0)
                        _exit(2);
                TerminalProxy p = { .in_fd = user_slave,
                                    .out_fd = user_slave,
                                    .master = cont_master,
                                    .escape_key = 1,
                                    .winch = true,
                                    .extra_fd = -1 };
                close(sync_pipe[1]);
                if (terminal_proxy_run(&p, &end, &sig) < 0)
                        _exit(5);
                terminal_restore();
                _exit(end == TERMINAL_ESCAPE ? 10 : end == TERMINAL_SIGNAL ? 100 + sig : 6);
        }
        close(sync_pipe[1]);
        char c;
        (void) read(sync_pipe[0], &c, 1); /* raw mode is on once this returns EOF */
        close(sync_pipe[0]);
        long deadline = now_us() + 2000000L;
        do {
                ioctl(cont_slave, TIOCGWINSZ, &got);
        } while ((got.ws_row != 33 || got.ws_col != 77) && now_us() < deadline && usleep(1000) == 0);
        ok(got.ws_row == 33 && got.ws_col == 77, "initial window size copied to the master (%ux%u)",
           got.ws_row, got.ws_col);
        ws = (struct winsize){ .ws_row = 44, .ws_col = 88 };
        ioctl(user_master, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH to the foreground group only */
        kill(pid, SIGWINCH);
        deadline = now_us() + 2000000L;
        do {
                ioctl(cont_slave, TIOCGWINSZ, &got);
        } while ((got.ws_row != 44 || got.ws_col != 88) && now_us() < deadline && usleep(1000) == 0);
        ok(got.ws_row == 44 && got.ws_col == 88, "SIGWINCH forwards the new size (%ux%u)", got.ws_row,
           got.ws_col);
        if (write(user_master, "ls\r\001q", 5) < 0)
                abort();
        waitpid(pid, &st, 0);
        is(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 10, "typed Ctrl-a q ends the proxy");
        tcgetattr(user_slave, &now);
        ok(termios_equal(&orig, &now), "terminal restored after the escape");
        char buf[16] = "";
        struct pollfd pf = { .fd = cont_slave, .events = POLLIN };
        ssize_t n = poll(&pf, 1, 1000) > 0 ? read(cont_slave, buf, sizeof buf - 1) : -1;
        ok(n == 3 && memcmp(buf, "ls\r", 3) == 0, "bytes before the escape reached the container");

        /* SIGTERM during the proxy: reported, then the caller restores.
         * Blocked from the start, so it is pending whenever it comes. */
        if (pipe2(sync_pipe, O_CLOEXEC) < 0)
                abort();
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
                TerminalEnd end;
                int sig = 0;
                sigset_t term;
                sigemptyset(&term);
                sigaddset(&term, SIGTERM);
                sigprocmask(SIG_BLOCK, &term, NULL);
                close(sync_pipe[0]);
                if (terminal_raw_enter(user_slave) < 0)
                        _exit(2);
                close(sync_pipe[1]);
                TerminalProxy p = { .in_fd = user_slave,
                                    .out_fd = user_slave,
                                    .master = cont_master,
                                    .escape_key = 1,
                                    .extra_fd = -1 };
                if (terminal_proxy_run(&p, &end, &sig) < 0)
                        _exit(5);
                terminal_restore();
                _exit(end == TERMINAL_SIGNAL ? 100 + sig : 6);
        }
        close(sync_pipe[1]);
        (void) read(sync_pipe[0], &c, 1);
        close(sync_pipe[0]);
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
        is(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 100 + SIGTERM, "SIGTERM in the proxy is reported");
        tcgetattr(user_slave, &now);
        ok(termios_equal(&orig, &now), "terminal restored after SIGTERM in the proxy");

        close(user_master);
        close(user_slave);
        close(cont_master);
        close(cont_slave);
}

static int add_user(const char *root) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/etc/passwd", root);
        _cleanup_free_ char *pw = read_text(path);
        _cleanup_free_ char *text = NULL;
        if (!pw || asprintf(&text, "%suser:x:1000:1001:User:/home/user:/bin/sh\n", pw) < 0)
                return -ENOMEM;
        if (write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644) < 0)
                return -EIO;
        snprintf(path, sizeof path, "%s/home/user", root);
        return mkdir(path, 0755) < 0 ? -errno : 0;
}

static int make_rootfs(const char *path, uid_t uid) {
        WarrenError e = WARREN_ERROR_NULL;
        char p[PATH_MAX + 32];
        if (mkdir(path, 0755) < 0)
                return -errno;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        TemplateBusyboxOptions o = { .name = "attachtest", .root_uid = uid, .root_gid = uid };
        if (fd < 0 || fchown(fd, uid, uid) < 0 || template_busybox_rootfs(fd, &o, &e) < 0) {
                printf("# rootfs %s: %s\n", path, warren_error_message(&e));
                warren_error_clear(&e);
                return -EIO;
        }
        if (add_user(path) < 0)
                return -EIO;
        snprintf(p, sizeof p, "%s/home/user", path);
        return chown(p, uid + 1000, uid + 1001) < 0 ? -errno : 0;
}

int main(void) {
        test_escape_filter();
        test_proxy_pipes();
        if (geteuid() != 0) {
                printf("# SKIP the rest needs root (namespaces, cgroups)\n");
                return done_testing();
        }
        /* A private devpts like test-spawn: the host's stays untouched. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620") < 0) {
                printf("Bail out! private mount namespace and devpts: %m\n");
                return 1;
        }
        test_raw_mode();

        WarrenError e = WARREN_ERROR_NULL;
        if (cgroup_layout_detect(&layout, &e) < 0) {
                printf("Bail out! cgroup layout: %s\n", warren_error_message(&e));
                return 1;
        }
        snprintf(cg_parent, sizeof cg_parent, "test-attach-%d", (int) getpid());
        if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) < 0)
                return 1;
        snprintf(rootfs, sizeof rootfs, "%s/rootfs", tmpdir);
        snprintf(rootfs_userns, sizeof rootfs_userns, "%s/rootfs-userns", tmpdir);
        ok(make_rootfs(rootfs, 0) == 0, "busybox rootfs");
        ok(make_rootfs(rootfs_userns, USERNS_BASE) == 0, "busybox rootfs owned by %u", USERNS_BASE);

        Container c;
        if (container_start(&c, "c1", rootfs, false,
                            (const char *const[]){ "lxc.uts.name", "attachtest", "lxc.cap.drop", "sys_admin",
                                                   NULL }) == 0) {
                ok(1, "container started");
                test_status(&c);
                test_stdio(&c);
                test_env_cwd_ids(&c);
                test_isolation(&c, false);
                test_pty(&c, false);
                test_missing(&c);
                test_garbage(&c);
                test_in_place(&c);
                bench(&c);
                container_stop(&c);
        } else
                ok(0, "container started");

        if (container_start(&c, "c2", rootfs_userns, true,
                            (const char *const[]){ "lxc.uts.name", "attachtest", NULL }) == 0) {
                ok(1, "user namespace container started");
                test_isolation(&c, true);
                test_pty(&c, true);
                Run r;
                run_cmd(&c, (const char *const[]){ "/bin/sh", "-c", "exit 9", NULL }, &r);
                is(r.status, 9, "userns: exit status");
                run_done(&r);
                container_stop(&c);
        } else
                ok(0, "user namespace container started");

        (void) cgroup_remove_parent(layout, cg_parent, NULL);
        layout = cgroup_layout_free(layout);
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        (void) system(cmd);
        return done_testing();
}
