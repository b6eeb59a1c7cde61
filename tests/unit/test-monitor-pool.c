/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Warm monitors (lib/monitor-pool.c): the built warren-monitor started
 * with --pool, as warrend does; its spare cgroups and stub, a TAKE from a
 * connection to its socket, what is left when it goes (told to, or
 * killed), a start that fails after the take; and the same on a host
 * whose only cgroup hierarchy is cgroup2 (a private cgroup2-only mount in
 * a mount namespace of its own). Root only: real containers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "monitor-attach.h"
#include "monitor-client.h"
#include "monitor-pool.h"
#include "monitor-proto.h"
#include "tap.h"
#include "template.h"

static char tmpdir[] = "/tmp/test-monitor-pool-XXXXXX";
static char state_dir[256], runtime_dir[256], config_dir[256], monitor_path[PATH_MAX], log_path[300];

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}

static bool path_exists(const char *p) {
        struct stat st;
        return lstat(p, &st) == 0;
}

static char *read_text(const char *path) {
        char *s = NULL;
        return read_full_file(path, 1 << 16, &s, NULL) < 0 ? NULL : s;
}

static int make_container(const char *name, const char *rootfs_override, bool pids_limit) {
        char dir[512], rootfs[600], config[600];
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        snprintf(dir, sizeof(dir), "%s/containers/%s", state_dir, name);
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
        snprintf(config, sizeof(config), "%s/config", dir);
        if (mkdir_p(rootfs, 0755) < 0)
                return -errno;
        _cleanup_close_ int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        TemplateBusyboxOptions o = { .name = name, .tty_max = 1 };
        int r = template_busybox_rootfs(fd, &o, &e);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **items = template_busybox_config(&o);
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f || !items)
                return -ENOMEM;
        for (size_t i = 0; items[i] && items[i + 1]; i += 2)
                fprintf(f, "%s = %s\n", items[i], items[i + 1]);
        fprintf(f,
                "lxc.rootfs.path = dir:%s\nlxc.tty.max = 1\nlxc.signal.halt = SIGUSR2\n"
                "lxc.net.0.type = empty\n%s",
                rootfs_override ?: rootfs, pids_limit ? "lxc.cgroup2.pids.max = 50\n" : "");
        fclose(f);
        _cleanup_close_ int cfd = open(config, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        return cfd < 0 ? -errno : write_all(cfd, text, strlen(text));
}

/* A warm monitor, as warrend starts one; READY read within 10 s. */
static int spawn_warm(pid_t *ret_pid, int *ret_fd, double *ret_ms) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorSpawnOptions o = { .monitor_path = monitor_path,
                                  .pool = true,
                                  .state_dir = state_dir,
                                  .runtime_dir = runtime_dir,
                                  .config_dir = config_dir,
                                  .log_path = log_path };
        double t0 = now_ms();
        int r = monitor_spawn(&o, ret_pid, ret_fd, &e);
        if (r < 0) {
                printf("# %s\n", warren_error_message(&e));
                return r;
        }
        struct pollfd p = { .fd = *ret_fd, .events = POLLIN };
        if (poll(&p, 1, 10000) != 1)
                return -ETIMEDOUT;
        (void) fcntl(*ret_fd, F_SETFL, O_NONBLOCK);
        r = monitor_pool_receive(*ret_fd);
        if (ret_ms)
                *ret_ms = now_ms() - t0;
        return r == 1 ? 0 : r;
}

static int wait_exit(pid_t pid) {
        int status;
        if (waitpid(pid, &status, 0) != pid)
                return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Spares of pid in every v1 hierarchy (true) or in none (false). */
static bool spares_everywhere(const CgroupLayout *l, pid_t pid, bool want) {
        char p[PATH_MAX];
        for (size_t i = 0; i < l->n_v1; i++) {
                snprintf(p, sizeof p, "%s/warren/" MONITOR_POOL_PREFIX "%d", l->v1[i].mount, (int) pid);
                if (path_exists(p) != want)
                        return false;
        }
        return true;
}

static void check_nothing_left(const CgroupLayout *l, const char *name, const char *what) {
        char p[PATH_MAX];
        bool left = false;
        for (size_t i = 0; i <= l->n_v1; i++) {
                const char *mnt = i < l->n_v1 ? l->v1[i].mount : l->v2_mount;
                if (!mnt)
                        continue;
                snprintf(p, sizeof(p), "%s/warren/%s", mnt, name);
                if (path_exists(p)) {
                        printf("# left behind: %s\n", p);
                        left = true;
                }
        }
        ok(!left, "%s: no cgroup of %s left in any hierarchy", what, name);
        snprintf(p, sizeof(p), "%s/containers/%s", runtime_dir, name);
        ok(!path_exists(p), "%s: no runtime dir left", what);
}

/* The raw TAKE of monitor-proto.h, with any name. */
static int send_raw_take(int fd, const char *name, int sync_fd) {
        char buf[256];
        MonitorRequest req;
        monitor_request_init(&req, MONITOR_CMD_TAKE, (uint32_t) strlen(name), 0);
        memcpy(buf, &req, sizeof req);
        memcpy(buf + sizeof req, name, strlen(name));
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof req + strlen(name) };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &sync_fd, sizeof(int));
        return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* TAKE through a connection to the socket (as a warrend that adopted the
 * warm monitor does); the start result from the sync socket sent along. */
static int take(pid_t wpid, const char *name, MonitorMessage *ret, WarrenError *e, double *ret_ms) {
        int sv[2], fd;
        int r = monitor_pool_connect(runtime_dir, wpid, &fd);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        double t0 = now_ms();
        r = monitor_pool_send_take(fd, name, sv[1], e);
        safe_close(sv[1]);
        if (r >= 0)
                r = monitor_read_sync(sv[0], ret, e);
        if (ret_ms)
                *ret_ms = now_ms() - t0;
        safe_close(sv[0]);
        safe_close(fd);
        return r;
}

static int stop(const char *name) {
        int fd;
        int r = monitor_connect(runtime_dir, name, false, &fd, NULL);
        if (r < 0)
                return r;
        r = monitor_stop(fd, 0, true, NULL);
        safe_close(fd);
        return r;
}

static bool cgroup_has(const CgroupLayout *l, pid_t pid, const char *path) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/cgroup", (int) pid);
        _cleanup_free_ char *text = read_text(p);
        if (!text)
                return false;
        size_t lines = 0;
        for (char *line = text, *next; *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                else
                        next = line + strlen(line);
                char *c = strchr(line, ':') ? strchr(strchr(line, ':') + 1, ':') : NULL;
                bool v2 = strncmp(line, "0::", 3) == 0;
                if (c && streq(c + 1, path) && (v2 ? l->v2_mount != NULL : true))
                        lines++;
        }
        return lines == l->n_v1 + (l->v2_mount ? 1 : 0);
}

/* The attach helper of a running container: who it is, where it sits, and
 * an attach through it. */
static pid_t find_child_named(pid_t parent, const char *comm) {
        char p[96];
        snprintf(p, sizeof p, "/proc/%d/task/%d/children", (int) parent, (int) parent);
        _cleanup_free_ char *kids = read_text(p);
        for (char *t = kids ? strtok(kids, " \n") : NULL; t; t = strtok(NULL, " \n")) {
                snprintf(p, sizeof p, "/proc/%s/comm", t);
                _cleanup_free_ char *c = read_text(p);
                if (c && strncmp(c, comm, strlen(comm)) == 0 && c[strlen(comm)] == '\n')
                        return (pid_t) atoi(t);
        }
        return 0;
}

static int receive_reply(int fd, AttachHelperReply *rep) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10000) != 1)
                return -ETIMEDOUT;
        return attach_helper_receive(fd, rep);
}

static bool same_ns(pid_t a, pid_t b, const char *ns) {
        char pa[64], pb[64];
        struct stat sa, sb;
        snprintf(pa, sizeof pa, "/proc/%d/ns/%s", (int) a, ns);
        snprintf(pb, sizeof pb, "/proc/%d/ns/%s", (int) b, ns);
        return stat(pa, &sa) == 0 && stat(pb, &sb) == 0 && sa.st_ino == sb.st_ino;
}

static void test_attach_helper(const CgroupLayout *l, const char *name, pid_t monitor, pid_t init) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        char p[PATH_MAX], want[128];
        /* It is cloned before init runs and names itself as it starts. */
        pid_t h = 0;
        for (unsigned i = 0; i < 200 && h <= 0; i++)
                if ((h = find_child_named(monitor, "warren-attach")) <= 0)
                        usleep(10000);
        if (!ok(h > 0, "the container has an attach helper, a child of its monitor (%d)", (int) h))
                return;
        snprintf(p, sizeof p, "/proc/%d/cmdline", (int) h);
        _cleanup_free_ char *cmdline = NULL;
        size_t len = 0;
        (void) read_full_file(p, 4096, &cmdline, &len);
        for (size_t i = 0; cmdline && i + 1 < len; i++)
                if (!cmdline[i])
                        cmdline[i] = ' ';
        snprintf(want, sizeof want, "warren-attach %s ", name);
        ok(cmdline && strncmp(cmdline, want, strlen(want)) == 0 && !strstr(cmdline, "warren-monitor"),
           "its command line says what it is, never taken for the monitor ('%s')", strna(cmdline));
        ok(same_ns(h, getpid(), "pid") && !same_ns(h, init, "pid"),
           "it is in the host's pid namespace, not the container's: not in its /proc");
        snprintf(p, sizeof p, "/proc/%d/cgroup", (int) h);
        _cleanup_free_ char *cg = read_text(p);
        snprintf(want, sizeof want, ":/warren/%s\n", name);
        size_t v1 = 0;
        for (const char *x = cg; x && (x = strstr(x, want)); x++)
                v1++;
        is(v1, l->n_v1, "it sits in the container's v1 cgroups (%zu of %zu)", v1, l->n_v1);
        if (l->v2_mount) {
                snprintf(want, sizeof want, "0::/warren/%s\n", name);
                ok(cg && !strstr(cg, want), "...not in its cgroup2 cgroup (no internal process there)");
        }
        snprintf(p, sizeof p, "%s/containers/%s/" MONITOR_ATTACH_SOCKET, runtime_dir, name);
        struct stat st;
        /* It names itself before it binds its socket. */
        for (unsigned i = 0; i < 200 && stat(p, &st) < 0; i++)
                usleep(10000);
        ok(stat(p, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600, "its socket is 0600");

        int fd = -EBADF, pipefd[2], init_pidfd = (int) syscall(SYS_pidfd_open, init, 0);
        AttachHelperReply rep;
        AttachOptions o;
        if (!ok(attach_helper_connect(runtime_dir, name, &fd) == 0 && pipe2(pipefd, O_CLOEXEC) == 0 &&
                        init_pidfd >= 0,
                "connected to it"))
                return;
        attach_options_init(&o);
        o.init_pidfd = init_pidfd;
        o.argv = (char *[]){ "/bin/sh", "-c", "cat /proc/self/cgroup; exit 3", NULL };
        o.stdout_fd = pipefd[1];
        is(attach_helper_send(fd, &o, &e), 0, "an attach request");
        safe_close(pipefd[1]);
        is(receive_reply(fd, &rep), 0, "its result");
        ok(rep.type == ATTACH_HELPER_RESULT && rep.error == 0 && rep.pid > 0 && rep.pidfd >= 0,
           "a process, with a pidfd (%s)", rep.text);
        snprintf(p, sizeof p, "/proc/%d/status", (int) rep.pid);
        _cleanup_free_ char *status = read_text(p);
        snprintf(want, sizeof want, "\nPPid:\t%d\n", (int) h);
        if (status)
                like(status, want, "the attached process is the helper's child");
        attach_helper_reply_done(&rep);
        char out[4096] = "";
        ssize_t n = read(pipefd[0], out, sizeof out - 1);
        out[n > 0 ? n : 0] = 0;
        like(out, "0::/\n", "it is in init's cgroup2 cgroup (/ in the container's cgroup namespace)");
        is(receive_reply(fd, &rep), 0, "then its exit");
        ok(rep.type == ATTACH_HELPER_EXITED && rep.status == 3, "exit status 3 (%d)", rep.status);
        attach_helper_reply_done(&rep);
        safe_close(fd);
        safe_close(pipefd[0]);
        safe_close(init_pidfd);
}

static void test_warm(const char *name, const char *bad_name) {
        _cleanup_cgroup_layout_ CgroupLayout *l = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m;
        pid_t wpid;
        int fd, sv[2];
        double ms;
        char p[PATH_MAX], path[128];

        if (!ok(cgroup_layout_detect(&l, NULL) == 0, "cgroup layout"))
                return;
        if (!ok(spawn_warm(&wpid, &fd, &ms) == 0, "a warm monitor is READY"))
                return;
        printf("# timing: warm monitor spawn -> READY (exec, spares, the stub's move): %.1f ms\n", ms);
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        ok(monitor_pool_list(runtime_dir, &pids, &n) == 0 && n == 1 && pids[0] == wpid,
           "listed in the pool");
        snprintf(p, sizeof p, "%s/pool/%d", runtime_dir, (int) wpid);
        struct stat st;
        ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0700 && st.st_uid == 0, "its pool dir is 0700 root");
        pid_t stub = 0, helper = 0;
        if (l->n_v1 > 0) {
                ok(spares_everywhere(l, wpid, true), "spare cgroups in every v1 hierarchy");
                snprintf(p, sizeof p, "%s/warren/" MONITOR_POOL_PREFIX "%d/cgroup.procs", l->v1[0].mount,
                         (int) wpid);
                /* The stub and the attach helper it made ahead, which
                 * names itself warren-attach once it runs. */
                unsigned n_procs = 0;
                for (unsigned i = 0; i < 200 && !(n_procs == 2 && helper > 0); i++) {
                        _cleanup_free_ char *procs = read_text(p);
                        stub = helper = 0;
                        n_procs = 0;
                        for (const char *q = procs; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : "") {
                                pid_t pid = (pid_t) atoi(q);
                                char cp[64];
                                snprintf(cp, sizeof cp, "/proc/%d/comm", (int) pid);
                                _cleanup_free_ char *comm = read_text(cp);
                                if (comm && streq(comm, "warren-attach\n"))
                                        helper = pid;
                                else
                                        stub = pid;
                                n_procs++;
                        }
                        if (!(n_procs == 2 && helper > 0))
                                usleep(10000);
                }
                ok(n_procs == 2 && stub > 0 && helper > 0,
                   "two processes in them: the stub (%d) and an attach helper made ahead (%d)", (int) stub,
                   (int) helper);
                snprintf(p, sizeof p, "/proc/%d/comm", (int) stub);
                _cleanup_free_ char *comm = NULL;
                for (unsigned i = 0; i < 200; i++) { /* it names itself once it runs */
                        free(comm);
                        comm = read_text(p);
                        if (comm && streq(comm, "warren-stub\n"))
                                break;
                        usleep(5000);
                }
                is_str(comm, "warren-stub\n", "...the spawn stub");
                snprintf(path, sizeof path, "/warren/" MONITOR_POOL_PREFIX "%d", (int) wpid);
        } else
                ok(spares_everywhere(l, wpid, false),
                   "cgroup2 only: no spares (CLONE_INTO_CGROUP needs none)");

        /* Garbage first: refused on the fd sent along, the warm monitor stays. */
        int c;
        ok(monitor_pool_connect(runtime_dir, wpid, &c) == 0, "connect to its socket");
        ok(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "a sync socket");
        ok(send_raw_take(c, bad_name, sv[1]) == 0, "TAKE '%s'", bad_name);
        safe_close(sv[1]);
        is(monitor_read_sync(sv[0], &m, &e), -EINVAL, "refused: EINVAL");
        like(e.message, "Invalid TAKE request", "...saying so");
        warren_error_clear(&e);
        safe_close(sv[0]);
        safe_close(c);
        is(monitor_pool_send_take(fd, "", -1, &e), -EINVAL, "an empty name is not even sent");
        warren_error_clear(&e);
        ok(kill(wpid, 0) == 0 && monitor_pool_connect(runtime_dir, wpid, &c) == 0,
           "still warm and listening");
        safe_close(c);

        is(take(wpid, name, &m, &e, &ms), 0, "TAKE %s: RUNNING (%s)", name,
           e.error ? warren_error_message(&e) : "ok");
        warren_error_clear(&e);
        printf("# timing: TAKE -> RUNNING: %.1f ms\n", ms);
        is(m.monitor_pid, wpid, "the warm monitor runs it");
        snprintf(p, sizeof p, "/warren/%s", name);
        ok(cgroup_has(l, m.init_pid, p), "init is in %s in every hierarchy", p);
        snprintf(p, sizeof p, "/proc/%d/status", (int) m.init_pid);
        _cleanup_free_ char *status = read_text(p);
        char ppid[64];
        snprintf(ppid, sizeof ppid, "\nPPid:\t%d\n", (int) wpid);
        like(status, ppid, "init is the monitor's child");
        if (l->n_v1 > 0) {
                ok(spares_everywhere(l, wpid, false), "the spares became the container's cgroups");
                const CgroupHierarchy *h = cgroup_layout_v1_find(l, "pids");
                if (h) {
                        snprintf(p, sizeof p, "%s/warren/%s/pids.max", h->mount, name);
                        _cleanup_free_ char *max = read_text(p);
                        is_str(max, "50\n", "pids.max applied to them");
                        snprintf(p, sizeof p, "%s/warren/%s/cgroup.procs", h->mount, name);
                        char initp[32];
                        snprintf(initp, sizeof initp, "%d\n", (int) m.init_pid);
                        /* The stub goes while init sets up (reaped a little
                         * later): init and the attach helper made ahead stay. */
                        bool has_init = false, has_helper = false, has_stub = true;
                        for (unsigned i = 0; i < 200 && !(has_init && has_helper && !has_stub); i++) {
                                _cleanup_free_ char *procs = read_text(p);
                                has_init = has_helper = has_stub = false;
                                for (const char *q = procs; q && *q;
                                     q = strchr(q, '\n') ? strchr(q, '\n') + 1 : "") {
                                        pid_t pid = (pid_t) atoi(q);
                                        has_init = has_init || pid == m.init_pid;
                                        has_helper = has_helper || pid == helper;
                                        has_stub = has_stub || pid == stub;
                                }
                                if (!(has_init && has_helper && !has_stub))
                                        usleep(10000);
                        }
                        ok(has_init && has_helper && !has_stub,
                           "init and the attach helper made ahead in its cgroup; the stub is gone");
                }
        }
        snprintf(p, sizeof p, "%s/pool/%d", runtime_dir, (int) wpid);
        ok(!path_exists(p), "its pool dir is gone");
        snprintf(p, sizeof p, "/proc/%d/cmdline", (int) wpid);
        _cleanup_free_ char *cmdline = NULL;
        size_t len = 0;
        ok(read_full_file(p, 4096, &cmdline, &len) >= 0, "its command line");
        for (size_t i = 0; cmdline && i < len; i++)
                if (!cmdline[i])
                        cmdline[i] = ' ';
        char want[128];
        snprintf(want, sizeof want, "warren-monitor --name %s ", name);
        like(cmdline, want, "...says --name %s, like a monitor spawned for it", name);
        ok(monitor_pool_receive(fd) == -ECONNRESET, "the spawner's connection is closed");
        safe_close(fd);
        test_attach_helper(l, name, wpid, m.init_pid);
        pid_t found = find_child_named(wpid, "warren-attach");
        ok(helper == 0 || found == helper, "the helper is the one made ahead (%d)", (int) found);
        helper = found;

        is(stop(name), 0, "stopped");
        ok(helper > 0 && kill(helper, 0) < 0 && errno == ESRCH, "the attach helper is gone with it");
        is(wait_exit(wpid), 0, "the monitor exits 0");
        check_nothing_left(l, name, "after the stop");
        ok(spares_everywhere(l, wpid, false), "no spare left");
}

static void test_retire_and_kill(void) {
        _cleanup_cgroup_layout_ CgroupLayout *l = NULL;
        char p[PATH_MAX];
        pid_t w1, w2;
        int f1, f2;
        ok(cgroup_layout_detect(&l, NULL) == 0, "cgroup layout");
        if (!ok(spawn_warm(&w1, &f1, NULL) == 0 && spawn_warm(&w2, &f2, NULL) == 0, "two warm monitors"))
                return;
        ok(kill(w1, SIGTERM) == 0, "SIGTERM to one");
        is(wait_exit(w1), 0, "it exits 0");
        ok(spares_everywhere(l, w1, false), "its spares are gone");
        snprintf(p, sizeof p, "%s/pool/%d", runtime_dir, (int) w1);
        ok(!path_exists(p), "and its pool dir");
        safe_close(f1);

        ok(kill(w2, SIGKILL) == 0, "SIGKILL to the other");
        is(wait_exit(w2), 128 + SIGKILL, "it is killed");
        snprintf(p, sizeof p, "%s/pool/%d", runtime_dir, (int) w2);
        ok(path_exists(p), "its pool dir is left");
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 1;
        /* Its lock goes with its stub (they share the fd table), which
         * dies with it. */
        for (unsigned i = 0; i < 200 && n > 0; i++) {
                free(pids);
                pids = NULL;
                if (monitor_pool_list(runtime_dir, &pids, &n) < 0)
                        break;
                if (n > 0)
                        usleep(10000);
        }
        is(n, 0, "a dead warm monitor is not listed");
        int left = 1;
        for (unsigned i = 0; i < 200 && left > 0; i++) {
                left = monitor_pool_sweep(l, runtime_dir);
                if (left > 0)
                        usleep(10000);
        }
        is(left, 0, "a sweep removes what it left (its stub died with it)");
        unsigned orphans = 0;
        for (unsigned i = 0; i < 100 && orphans < 2; i++) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        orphans++;
                if (orphans < 2)
                        usleep(10000);
        }
        is(orphans, 2, "its stub and the attach helper it made came to us (the subreaper), dead");
        ok(spares_everywhere(l, w2, false), "no spare of it left");
        ok(!path_exists(p), "no pool dir of it left");
        safe_close(f2);
}

static void test_failed_start(const char *name) {
        _cleanup_cgroup_layout_ CgroupLayout *l = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m;
        pid_t w;
        int f;
        ok(cgroup_layout_detect(&l, NULL) == 0, "cgroup layout");
        if (!ok(spawn_warm(&w, &f, NULL) == 0, "a warm monitor"))
                return;
        is(take(w, name, &m, &e, NULL), -ENOENT, "TAKE of a container without rootfs fails: ENOENT");
        like(e.message, "does not exist", "naming the rootfs");
        ok(wait_exit(w) != 0, "the monitor exits");
        check_nothing_left(l, name, "after the failed start");
        ok(spares_everywhere(l, w, false), "no spare left");
        safe_close(f);
}

/* The same on a cgroup2-only host: a mount namespace whose only cgroup
 * mount is cgroup2 at /sys/fs/cgroup. */
static void test_unified_only(const char *name) {
        printf("# cgroup2-only host: a private mount namespace\n");
        /* The host's cgroup mounts go (detached, not just covered: the
         * layout is read from /proc/self/mounts). */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            umount2("/sys/fs/cgroup", MNT_DETACH) < 0 ||
            mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
                ok(0, "cgroup2-only mount: %m");
                return;
        }
        _cleanup_cgroup_layout_ CgroupLayout *l = NULL;
        ok(cgroup_layout_detect(&l, NULL) == 0 && cgroup_layout_is_unified(l), "the layout is cgroup2 only");
        test_warm(name, "-bad");
}

static int find_monitor(void) {
        char self[PATH_MAX - 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
                return -errno;
        self[n] = 0;
        *strrchr(self, '/') = 0;
        snprintf(monitor_path, sizeof(monitor_path), "%s/../../service/warren-monitor", self);
        return access(monitor_path, X_OK) < 0 ? -errno : 0;
}

int main(void) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 1;
        int fd;
        ok(monitor_pool_list("/nonexistent/run", &pids, &n) == 0 && n == 0,
           "no runtime dir: no warm monitor");
        is(monitor_pool_connect("/nonexistent/run", 1, &fd), -ESRCH, "connect to none: ESRCH");
        if (geteuid() != 0) {
                ok(1, "# SKIP warm monitors need root");
                return done_testing();
        }
        if (!ok(unshare(CLONE_NEWNET) == 0 && unshare(CLONE_NEWNS) == 0 &&
                        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0,
                "own network and mount namespaces"))
                return done_testing();
        if (!ok(find_monitor() == 0, "warren-monitor binary at %s", monitor_path))
                return done_testing();
        (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        if (!mkdtemp(tmpdir))
                return 1;
        snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
        snprintf(runtime_dir, sizeof(runtime_dir), "%s/run", tmpdir);
        snprintf(config_dir, sizeof(config_dir), "%s/etc", tmpdir);
        snprintf(log_path, sizeof(log_path), "%s/monitor.log", tmpdir);
        (void) mkdir(config_dir, 0755);

        char n1[64], n2[64], n3[64];
        snprintf(n1, sizeof n1, "pool-%d", (int) getpid());
        snprintf(n2, sizeof n2, "pool-norootfs-%d", (int) getpid());
        snprintf(n3, sizeof n3, "pool-v2-%d", (int) getpid());
        ok(make_container(n1, NULL, true) == 0, "busybox container %s", n1);
        ok(make_container(n2, "/nonexistent/warren-test-rootfs", true) == 0, "container without rootfs %s",
           n2);
        /* This host's cgroup2 has no pids controller: no limit there. */
        ok(make_container(n3, NULL, false) == 0, "busybox container %s", n3);

        test_warm(n1, "../x");
        test_retire_and_kill();
        test_failed_start(n2);

        /* Last: this process stays in that mount namespace. */
        test_unified_only(n3);

        int st;
        errno = 0;
        ok(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "no process or zombie left behind");
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf --one-file-system '%s'", tmpdir);
        if (getenv("TEST_MONITOR_KEEP"))
                printf("# kept %s\n", tmpdir);
        else if (system(cmd) != 0)
                printf("# failed to remove %s\n", tmpdir);
        return done_testing();
}
