/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warren-monitor: the pure parts (signals, buffer sizes, protocol) always;
 * as root, real busybox containers run by the built warren-monitor binary,
 * started as a separate process exactly as warrend does. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "config.h"
#include "idmap.h"
#include "monitor-client.h"
#include "monitor-proto.h"
#include "monitor-reap.h"
#include "monitor-tty.h"
#include "monitor.h"
#include "tap.h"
#include "template.h"

/* More than the replies a monitor queues for one client (32). */
#define CLIENT_QUEUE_BOUND 64U

static char tmpdir[] = "/tmp/test-monitor-XXXXXX";
static char state_dir[256], runtime_dir[256], config_dir[256], monitor_path[PATH_MAX], log_path[300];

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000U + (uint64_t) ts.tv_nsec / 1000000U;
}

static double now_ms_f(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}

/* ---- pure parts ---- */

static void test_parse_signal(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        int sig = 0;
        ok(monitor_parse_signal("SIGPWR", &sig, NULL) == 0 && sig == SIGPWR, "SIGPWR");
        ok(monitor_parse_signal("usr2", &sig, NULL) == 0 && sig == SIGUSR2, "usr2 (no SIG, lower case)");
        ok(monitor_parse_signal("15", &sig, NULL) == 0 && sig == SIGTERM, "15");
        ok(monitor_parse_signal("SIGRTMIN+3", &sig, NULL) == 0 && sig == SIGRTMIN + 3, "SIGRTMIN+3");
        ok(monitor_parse_signal("RTMAX-1", &sig, NULL) == 0 && sig == SIGRTMAX - 1, "RTMAX-1");
        ok(monitor_parse_signal("SIGIOT", &sig, NULL) == 0 && sig == SIGABRT, "SIGIOT alias");
        is(monitor_parse_signal("SIGFOO", &sig, &e), -EINVAL, "SIGFOO is refused");
        is_str(e.message, "Invalid signal 'SIGFOO': not a signal name or number", "message names SIGFOO");
        warren_error_clear(&e);
        is(monitor_parse_signal("SIGRTMIN+99", &sig, &e), -EINVAL, "SIGRTMIN+99 is refused");
        like(e.message, "Invalid signal 'SIGRTMIN+99'", "message names it");
        warren_error_clear(&e);
        is(monitor_parse_signal("0", &sig, &e), -EINVAL, "0 is refused");
        is(monitor_parse_signal("65", &sig, NULL), -EINVAL, "65 is refused");
        is(monitor_parse_signal("", &sig, NULL), -EINVAL, "empty is refused");
        is(monitor_parse_signal("SIGRTMIN+", &sig, NULL), -EINVAL, "SIGRTMIN+ is refused");
}

static void test_parse_buffer_size(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        size_t n = 1;
        ok(monitor_ttys_parse_buffer_size(NULL, &n, NULL) == 0 && n == 128 * 1024, "unset: 128 KiB");
        ok(monitor_ttys_parse_buffer_size("auto", &n, NULL) == 0 && n == 128 * 1024, "auto: 128 KiB");
        ok(monitor_ttys_parse_buffer_size("0", &n, NULL) == 0 && n == 0, "0: none");
        ok(monitor_ttys_parse_buffer_size("64k", &n, NULL) == 0 && n == 64 * 1024, "64k");
        ok(monitor_ttys_parse_buffer_size("2MiB", &n, NULL) == 0 && n == 2 * 1024 * 1024, "2MiB");
        is(monitor_ttys_parse_buffer_size("65M", &n, &e), -EINVAL, "65M is too much");
        is_str(e.message, "Invalid lxc.console.buffer.size '65M': at most 64 MiB", "message names 65M");
        warren_error_clear(&e);
        is(monitor_ttys_parse_buffer_size("12q", &n, &e), -EINVAL, "12q is refused");
        is_str(e.message, "Invalid lxc.console.buffer.size '12q': unknown unit 'q'",
               "message names the unit");
        warren_error_clear(&e);
        is(monitor_ttys_parse_buffer_size("-1", &n, NULL), -EINVAL, "-1 is refused");
}

static void test_halt_signal(void) {
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        int sig = 0;
        unsigned long long rt3 = 1ULL << (SIGRTMIN + 3 - 1);
        ok(monitor_halt_signal(c, 0, &sig, NULL) == 0 && sig == SIGPWR, "default halt signal SIGPWR");
        ok(monitor_halt_signal(c, rt3, &sig, NULL) == 0 && sig == SIGRTMIN + 3,
           "init blocking SIGRTMIN+3 gets it");
        ok(lxc_config_apply(c, "lxc.signal.halt", "SIGUSR2", NULL) >= 0, "set lxc.signal.halt");
        ok(monitor_halt_signal(c, rt3, &sig, NULL) == 0 && sig == SIGUSR2, "configured halt signal wins");
}

static void test_protocol(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        char buf[MONITOR_MESSAGE_MAX];
        MonitorMessage m;
        MonitorRequest req;

        size_t n =
                monitor_reply_encode(buf, MONITOR_CMD_GET_TTY, 0, MONITOR_STATE_RUNNING, 42, 7, 4, "tty1");
        is(n, sizeof(MonitorReply) + 4, "reply size");
        ok(monitor_reply_decode(buf, n, &m, NULL) == 0, "reply decodes");
        ok(m.command == MONITOR_CMD_GET_TTY && m.error == 0 && m.state == MONITOR_STATE_RUNNING &&
                   m.init_pid == 42 && m.monitor_pid == 7 && m.n_ttys == 4 && m.fd == -EBADF,
           "fields round-trip");
        is_str(m.text, "tty1", "text round-trips");

        is(monitor_reply_decode(buf, 3, &m, &e), -EBADMSG, "short message");
        is_str(e.message, "Invalid monitor message: 3 bytes", "short message names its size");
        warren_error_clear(&e);
        is(monitor_reply_decode(buf, n - 1, &m, &e), -EBADMSG, "truncated text");
        is_str(e.message, "Invalid monitor message: text length 4 in a 35 byte message",
               "text length mismatch named");
        warren_error_clear(&e);
        MonitorReply h;
        memcpy(&h, buf, sizeof(h));
        h.version = 9;
        memcpy(buf, &h, sizeof(h));
        is(monitor_reply_decode(buf, n, &m, &e), -EPROTO, "wrong version");
        is_str(e.message, "Monitor speaks protocol version 9, expected 1", "version named");
        warren_error_clear(&e);
        h.version = MONITOR_PROTO_VERSION;
        h.state = 77;
        memcpy(buf, &h, sizeof(h));
        is(monitor_reply_decode(buf, n, &m, &e), -EBADMSG, "unknown state");
        is_str(e.message, "Invalid monitor message: unknown state 77", "state named");
        warren_error_clear(&e);
        h.state = 0;
        h.command = 0x999;
        memcpy(buf, &h, sizeof(h));
        is(monitor_reply_decode(buf, n, &m, &e), -EBADMSG, "unknown command");
        warren_error_clear(&e);

        monitor_request_init(&req, MONITOR_CMD_STOP, 5, MONITOR_STOP_KILL);
        MonitorRequest out;
        ok(monitor_request_check(&req, sizeof(req), &out, NULL) == 0 && out.command == MONITOR_CMD_STOP &&
                   out.arg == 5 && out.flags == MONITOR_STOP_KILL,
           "request round-trips");
        is(monitor_request_check(&req, 5, &out, &e), -EBADMSG, "short request");
        is_str(e.message, "Invalid monitor request: 5 bytes, expected 16", "request size named");
        warren_error_clear(&e);
        req.version = 2;
        is(monitor_request_check(&req, sizeof(req), &out, &e), -EPROTO, "request version");
        is_str(e.message, "Unsupported monitor protocol version 2: this monitor speaks 1",
               "request version named");
        warren_error_clear(&e);
        monitor_request_init(&req, (MonitorCommand) 99, 0, 0);
        is(monitor_request_check(&req, sizeof(req), &out, &e), -EOPNOTSUPP, "unknown request");
        is_str(e.message, "Unknown monitor request 99", "request command named");

        is_str(monitor_state_to_string(MONITOR_STATE_FREEZING), "FREEZING", "state name");
        is(monitor_state_from_string("FROZEN"), MONITOR_STATE_FROZEN, "state from name");
        is(monitor_state_from_string("frozen"), -EINVAL, "state names are exact");
        ok(!monitor_state_to_string((MonitorState) 99), "no name for state 99");
}

/* ---- containers ---- */

static int write_text(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        return write_all(fd, text, strlen(text));
}

/* <state>/containers/NAME/{rootfs,config}; extra: more config lines. */
static int make_container(const char *name, const char *rootfs_override, const char *extra) {
        char dir[512], rootfs[600], config[600];
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        snprintf(dir, sizeof(dir), "%s/containers/%s", state_dir, name);
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
        snprintf(config, sizeof(config), "%s/config", dir);
        if (mkdir_p(rootfs, 0755) < 0)
                return -errno;
        _cleanup_close_ int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        TemplateBusyboxOptions o = { .name = name, .tty_max = 2 };
        int r = template_busybox_rootfs(fd, &o, &e);
        if (r < 0) {
                printf("# template: %s\n", warren_error_message(&e));
                return r;
        }
        _cleanup_strv_free_ char **items = template_busybox_config(&o);
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f || !items)
                return -ENOMEM;
        for (size_t i = 0; items[i] && items[i + 1]; i += 2)
                fprintf(f, "%s = %s\n", items[i], items[i + 1]);
        fprintf(f,
                "lxc.rootfs.path = dir:%s\n"
                "lxc.uts.name = %s\n"
                "lxc.tty.max = 2\n"
                "lxc.signal.halt = SIGUSR2\n"
                "lxc.signal.reboot = SIGTERM\n"
                "lxc.cgroup2.pids.max = 50\n"
                "lxc.net.0.type = empty\n"
                "%s",
                rootfs_override ?: rootfs, name, strempty(extra));
        fclose(f);
        return write_text(config, text);
}

static int start_monitor(const char *name, pid_t *ret_pid, MonitorMessage *ret, WarrenError *e) {
        MonitorSpawnOptions o = {
                .monitor_path = monitor_path,
                .name = name,
                .state_dir = state_dir,
                .runtime_dir = runtime_dir,
                .config_dir = config_dir,
                .log_path = log_path,
        };
        int sync_fd;
        int r = monitor_spawn(&o, ret_pid, &sync_fd, e);
        if (r < 0)
                return r;
        r = monitor_read_sync(sync_fd, ret, e);
        close(sync_fd);
        return r;
}

static int wait_exit(pid_t pid) {
        int status;
        if (waitpid(pid, &status, 0) != pid)
                return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool path_exists(const char *p) {
        struct stat st;
        return lstat(p, &st) == 0;
}

/* No trace of NAME in any cgroup hierarchy, nor in the runtime dir. */
static void check_nothing_left(const char *name, const char *what) {
        _cleanup_cgroup_layout_ CgroupLayout *l = NULL;
        char p[PATH_MAX];
        bool left = false;
        if (cgroup_layout_detect(&l, NULL) >= 0) {
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
        }
        ok(!left, "%s: no cgroup left in any hierarchy", what);
        snprintf(p, sizeof(p), "%s/containers/%s", runtime_dir, name);
        ok(!path_exists(p), "%s: no runtime dir left (%s)", what, p);
}

static int read_pty_until(int fd, const char *needle, char *buf, size_t size, unsigned timeout_ms) {
        size_t n = 0;
        uint64_t end = now_ms() + timeout_ms;
        buf[0] = 0;
        while (now_ms() < end) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 100) <= 0)
                        continue;
                ssize_t k = read(fd, buf + n, size - n - 1);
                if (k <= 0)
                        return -EIO;
                n += (size_t) k;
                buf[n] = 0;
                if (strstr(buf, needle))
                        return 0;
                if (n > size / 2) { /* keep the tail */
                        memmove(buf, buf + n - size / 4, size / 4);
                        n = size / 4;
                        buf[n] = 0;
                }
        }
        return -ETIMEDOUT;
}

/* Waits for a pushed STATE event in state s (and, if init_pid_not > 0, a different init). */
static int wait_state_event(int sub, MonitorState s, pid_t init_pid_not, MonitorMessage *m,
                            unsigned timeout_ms) {
        uint64_t end = now_ms() + timeout_ms;
        while (now_ms() < end) {
                struct pollfd p = { .fd = sub, .events = POLLIN };
                if (poll(&p, 1, 100) <= 0)
                        continue;
                int r = monitor_receive(sub, m, NULL);
                if (r < 0)
                        return r;
                monitor_message_done(m);
                if (m->command == MONITOR_EVENT_STATE && m->state == s &&
                    (init_pid_not <= 0 || m->init_pid != init_pid_not))
                        return 0;
        }
        return -ETIMEDOUT;
}

static void check_console(int fd, const char *what) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *name = NULL;
        char buf[8192];
        int tty = -1;
        ok(monitor_get_tty(fd, 0, &tty, &name, &e) == 0, "%s: GET_TTY 0 (%s)", what,
           warren_error_message(&e));
        is_str(name, "console", "%s: tty 0 is the console", what);
        const char *cmd = "echo hello-from-console\n";
        ok(write(tty, cmd, strlen(cmd)) == (ssize_t) strlen(cmd), "%s: write to the console", what);
        /* The echo of the line starts with "echo"; the shell's output starts a line. */
        is(read_pty_until(tty, "\nhello-from-console", buf, sizeof(buf), 5000), 0, "%s: the shell answered",
           what);
        int tty2 = -1;
        warren_error_clear(&e);
        is(monitor_get_tty(fd, 0, &tty2, NULL, &e), -EBUSY, "%s: second GET_TTY 0 is busy", what);
        is_str(e.message, "console is busy: another client holds it", "%s: busy message", what);
        close(tty);
        warren_error_clear(&e);
        ok(monitor_get_tty(fd, 0, &tty2, NULL, &e) == 0, "%s: free again after close (%s)", what,
           warren_error_message(&e));
        safe_close(tty2);
}

/* How many of pid's fds point at a path containing needle. */
static int count_fds_to(pid_t pid, const char *needle) {
        char dir[64], p[PATH_MAX], target[PATH_MAX];
        int n = 0;
        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int) pid);
        for (int i = 0; i < 256; i++) {
                snprintf(p, sizeof(p), "%s/%d", dir, i);
                ssize_t k = readlink(p, target, sizeof(target) - 1);
                if (k <= 0)
                        continue;
                target[k] = 0;
                if (strstr(target, needle))
                        n++;
        }
        return n;
}

/* A flooding client is dropped and a crowd is capped; others are served throughout. */
static void test_bounds(int fd, const char *name) {
        MonitorMessage s;
        int flood = -1;
        ok(monitor_connect(runtime_dir, name, true, &flood, NULL) == 0, "flooding client connects");
        /* A big send buffer lets it queue more requests than the monitor can answer into its socket. */
        int big = 8 * 1024 * 1024;
        ok(setsockopt(flood, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) == 0,
           "flooding client: big send buffer");
        MonitorRequest req;
        monitor_request_init(&req, MONITOR_CMD_GET_STATE, 0, 0);
        unsigned sent = 0;
        for (; sent < 100000; sent++)
                if (send(flood, &req, sizeof(req), MSG_NOSIGNAL) < 0)
                        break;
        ok(sent > CLIENT_QUEUE_BOUND, "flooding client sent %u requests without reading", sent);
        double t0 = now_ms_f();
        ok(monitor_get_state(fd, &s, NULL) == 0 && s.state == MONITOR_STATE_RUNNING,
           "others are still served");
        printf("# GET_STATE during a flood: %.2f ms\n", now_ms_f() - t0);
        /* Its replies stop at the queue bound, then the connection ends. */
        unsigned replies = 0;
        int r;
        for (;;) {
                struct pollfd pf = { .fd = flood, .events = POLLIN };
                if (poll(&pf, 1, 2000) <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                r = monitor_receive(flood, &s, NULL);
                if (r < 0)
                        break;
                replies++;
        }
        is(r, -ECONNRESET, "the flooding client was dropped after %u replies", replies);
        safe_close(flood);

        int crowd[40], served = 0, refused = 0;
        for (unsigned i = 0; i < ELEMENTSOF(crowd); i++)
                if (monitor_connect(runtime_dir, name, false, &crowd[i], NULL) < 0)
                        crowd[i] = -1;
        for (unsigned i = 0; i < ELEMENTSOF(crowd); i++) {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                r = crowd[i] >= 0 ? monitor_get_state(crowd[i], &s, &e) : -EBADF;
                if (r == 0)
                        served++;
                else if (r == -EBUSY && streq_ptr(e.message, "Too many clients of this monitor"))
                        refused++;
        }
        /* fd and the subscription hold two of the 32 places. */
        ok(served == 30 && refused == 10, "client count is bounded: %d served, %d refused", served, refused);
        for (unsigned i = 0; i < ELEMENTSOF(crowd); i++)
                safe_close(crowd[i]);
        ok(monitor_get_state(fd, &s, NULL) == 0, "still served after the crowd");
}

/* The client's view of a monitor it must never wait on: a full accept
 * queue, the state file, the lock, the runtime dir. No root needed. */
static void test_client_facts(void) {
        char dir[] = "/tmp/test-monitor-facts-XXXXXX", p[PATH_MAX];
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage st;
        if (!ok(mkdtemp(dir) != NULL, "scratch runtime dir"))
                return;
        snprintf(p, sizeof p, "%s/containers/x", dir);
        ok(mkdir_p(p, 0700) == 0, "a runtime dir for x");
        is(monitor_runtime_dir_exists(dir, "x"), 1, "it exists");
        is(monitor_runtime_dir_exists(dir, "y"), 0, "y has none");
        is(monitor_lock_held(dir, "x"), 0, "no lock file: not held");

        /* A listener that never accepts: connects fill its queue. */
        int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/containers/x/control", dir);
        ok(l >= 0 && bind(l, (struct sockaddr *) &sa, sizeof sa) == 0 && listen(l, 2) == 0,
           "a stuck listener");
        int pidfd = -1;
        pid_t peer = 0;
        int c = -1;
        ok(monitor_connect(dir, "x", true, &c, NULL) == 0 && monitor_peer_pidfd(c, &pidfd, &peer) == 0 &&
                   peer == getpid(),
           "the peer pidfd of a listener that does not answer: its process");
        safe_close(pidfd);
        int fds[16], n = 0, r = 0;
        for (; n < 16; n++) {
                r = monitor_connect(dir, "x", true, &fds[n], &e);
                if (r < 0)
                        break;
        }
        is(r, -EAGAIN, "a full accept queue: EAGAIN after %d connects, never a wait", n);
        like(e.message, "accepts no connection", "...saying so");
        ok(n >= 0 && n <= 4, "the queue held %d more", n);
        for (int i = 0; i < n; i++)
                safe_close(fds[i]);
        safe_close(c);
        safe_close(l);

        snprintf(p, sizeof p, "%s/containers/x/state", dir);
        ok(write_file_atomic_at(AT_FDCWD, p, "state=FROZEN\ninit_pid=42\nmonitor_pid=41\n", 40, 0644) == 0,
           "a state file");
        ok(monitor_read_state_file(dir, "x", &st) == 0 && st.state == MONITOR_STATE_FROZEN &&
                   st.init_pid == 42 && st.monitor_pid == 41 && st.text[0] == 0,
           "read: FROZEN, init 42, monitor 41, no cgroup");
        static const char with_cgroup[] =
                "state=RUNNING\ninit_pid=42\nmonitor_pid=41\ncgroup=/machine.slice/warren-x.scope/payload\n";
        ok(write_file_atomic_at(AT_FDCWD, p, with_cgroup, sizeof with_cgroup - 1, 0644) == 0 &&
                   monitor_read_state_file(dir, "x", &st) == 0 &&
                   streq(st.text, "/machine.slice/warren-x.scope/payload"),
           "read: the cgroup the monitor made (below its scope)");
        ok(write_file_atomic_at(AT_FDCWD, p, "state=BOGUS\n", 12, 0644) == 0 &&
                   monitor_read_state_file(dir, "x", &st) == -EBADMSG,
           "garbage state: EBADMSG");
        is(monitor_read_state_file(dir, "y", &st), -ENOENT, "no state file: ENOENT");

        snprintf(p, sizeof p, "%s/containers/x/lock", dir);
        int lk = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        ok(lk >= 0 && flock(lk, LOCK_EX) == 0, "a monitor's lock");
        is(monitor_lock_held(dir, "x"), 1, "held");
        safe_close(lk);
        is(monitor_lock_held(dir, "x"), 0, "released with its holder");

        _cleanup_strv_free_ char **names = NULL;
        ok(monitor_list_dirs(dir, &names) == 0 && strv_length(names) == 1 && streq(names[0], "x"),
           "listed, live or not");
        /* What a helper killed between bind and rename leaves, and a name
         * no list knows: removed as well (else the teardown never ends). */
        const char *strays[] = { "attach.new", "something-else" };
        for (size_t i = 0; i < ELEMENTSOF(strays); i++) {
                snprintf(p, sizeof p, "%s/containers/x/%s", dir, strays[i]);
                safe_close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        }
        warren_error_clear(&e);
        ok(monitor_remove_runtime_dir(dir, "x", &e) == 0 && monitor_runtime_dir_exists(dir, "x") == 0,
           "a dead monitor's runtime dir is removed, stray files and all (%s)",
           e.error ? warren_error_message(&e) : "ok");
        ok(monitor_remove_runtime_dir(dir, "x", NULL) == 0, "twice is fine");
        snprintf(p, sizeof p, "%s/containers", dir);
        (void) rmdir(p);
        (void) rmdir(dir);
}

static void test_running_container(const char *name) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m, s;
        pid_t mpid, pid2;
        char p[PATH_MAX], buf[512];

        /* Not O_CLOEXEC on purpose: the monitor must close what its spawner leaks. */
        snprintf(p, sizeof(p), "%s/leaked-marker", tmpdir);
        int leak = open(p, O_RDWR | O_CREAT, 0600);
        double t0 = now_ms_f();
        int r = start_monitor(name, &mpid, &m, &e);
        double t1 = now_ms_f();
        safe_close(leak);
        if (!ok(r == 0, "monitor starts '%s' (%s)", name, r < 0 ? warren_error_message(&e) : "ok"))
                return;
        printf("# timing: monitor spawn -> RUNNING: %.1f ms\n", t1 - t0);
        ok(m.state == MONITOR_STATE_RUNNING && m.init_pid > 0 && m.monitor_pid == mpid,
           "sync result: RUNNING, init %d, monitor %d", (int) m.init_pid, (int) m.monitor_pid);
        pid_t init = m.init_pid;

        int fd = -1, sub = -1;
        ok(monitor_connect(runtime_dir, name, false, &fd, &e) == 0, "connect to the control socket");
        ok(monitor_get_state(fd, &s, &e) == 0, "GET_STATE");
        ok(s.state == MONITOR_STATE_RUNNING && s.init_pid == init && s.monitor_pid == mpid && s.n_ttys == 2,
           "GET_STATE: RUNNING, init pid, monitor pid, 2 ttys");
        snprintf(buf, sizeof(buf), "/warren/%s", name);
        is_str(s.text, buf, "GET_STATE: cgroup path");

        /* Runtime files. */
        struct stat st;
        snprintf(p, sizeof(p), "%s/containers/%s", runtime_dir, name);
        ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0700, "runtime dir is 0700");
        snprintf(p, sizeof(p), "%s/containers/%s/control", runtime_dir, name);
        ok(stat(p, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
           "control socket is 0600");
        snprintf(p, sizeof(p), "%s/containers/%s/state", runtime_dir, name);
        _cleanup_free_ char *state_text = NULL;
        snprintf(buf, sizeof(buf), "state=RUNNING\ninit_pid=%d\nmonitor_pid=%d\ncgroup=/warren/%s\n", (int) init,
                 (int) mpid, name);
        ok(read_full_file(p, 4096, &state_text, NULL) == 0, "state file readable");
        is_str(state_text, buf, "state file content");

        is(getsid(mpid), mpid, "the monitor leads its own session");
        ok(count_fds_to(mpid, "leaked-marker") == 0, "the monitor did not keep the spawner's fds");
        ok(count_fds_to(mpid, "/dev/null") >= 2, "the monitor's stdin/stdout are /dev/null");

        _cleanup_strv_free_ char **live = NULL;
        ok(monitor_list_running(runtime_dir, &live, NULL) == 0 && strv_contains(live, name),
           "listed as running");

        /* One monitor per container. */
        warren_error_clear(&e);
        r = start_monitor(name, &pid2, &s, &e);
        is(r, -EALREADY, "a second monitor for '%s' is refused", name);
        like(e.message, "is already running", "second monitor: message");
        is(wait_exit(pid2), 1, "second monitor exits 1");
        ok(monitor_get_state(fd, &s, NULL) == 0 && s.init_pid == init, "first monitor unharmed");

        /* Namespaces and limits. */
        char a[128] = "", b[128] = "";
        snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int) init);
        ok(readlink(p, a, sizeof(a) - 1) > 0 && readlink("/proc/self/ns/pid", b, sizeof(b) - 1) > 0 &&
                   !streq(a, b),
           "init's pid namespace differs (%s vs %s)", a, b);
        _cleanup_cgroup_layout_ CgroupLayout *l = NULL;
        ok(cgroup_layout_detect(&l, NULL) >= 0, "cgroup layout");
        const CgroupHierarchy *h = l ? cgroup_layout_v1_find(l, "pids") : NULL;
        if (h)
                snprintf(p, sizeof(p), "%s/warren/%s/pids.max", h->mount, name);
        else
                snprintf(p, sizeof(p), "%s/warren/%s/pids.max",
                         l && l->v2_mount ? l->v2_mount : "/nonexistent", name);
        _cleanup_free_ char *pids = NULL;
        (void) read_one_line_file(p, &pids);
        is_str(pids, "50", "%s reads 50", p);

        int pidfd = -1;
        ok(monitor_get_pidfd(fd, &pidfd, NULL) == 0, "PIDFD");
        _cleanup_free_ char *fdinfo = NULL;
        snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", pidfd);
        snprintf(buf, sizeof(buf), "Pid:\t%d\n", (int) init);
        ok(read_full_file(p, 4096, &fdinfo, NULL) == 0 && strstr(fdinfo, buf), "the pidfd is init's");
        safe_close(pidfd);

        ok(monitor_connect(runtime_dir, name, false, &sub, NULL) == 0 &&
                   monitor_call(sub, MONITOR_CMD_SUBSCRIBE, 0, 0, NULL, NULL) == 0,
           "SUBSCRIBE");

        /* ttys */
        check_console(fd, "console");
        int tty = -1;
        _cleanup_free_ char *tname = NULL;
        ok(monitor_get_tty(fd, 1, &tty, &tname, NULL) == 0 && streq_ptr(tname, "tty1"), "GET_TTY 1 is tty1");
        safe_close(tty);
        warren_error_clear(&e);
        is(monitor_get_tty(fd, 9, &tty, NULL, &e), -EINVAL, "GET_TTY 9");
        is_str(e.message, "tty 9 does not exist: the container has 2 ttys", "GET_TTY 9: message");
        _cleanup_free_ char *log = NULL, *logfile = NULL;
        ok(monitor_get_console_log(fd, &log, NULL, NULL) == 0 && strstr(log, "hello-from-console"),
           "GET_CONSOLE_LOG holds the console output");
        snprintf(p, sizeof(p), "%s/console-%s.log", tmpdir, name);
        ok(read_full_file(p, 1 << 20, &logfile, NULL) == 0 && strstr(logfile, "hello-from-console"),
           "lxc.console.logfile holds the console output");

        test_bounds(fd, name);

        /* Garbage and bad requests get errors, the connection survives. */
        warren_error_clear(&e);
        is(monitor_call(fd, MONITOR_CMD_KILL, 999, 0, NULL, &e), -EINVAL, "KILL 999");
        is_str(e.message, "Invalid signal 999", "KILL 999: message");
        ok(send(fd, "xyz", 3, 0) == 3, "send 3 garbage bytes");
        ok(monitor_receive(fd, &s, NULL) == 0 && s.command == MONITOR_CMD_INVALID && s.error == EBADMSG &&
                   streq(s.text, "Invalid monitor request: 3 bytes, expected 16"),
           "garbage: EBADMSG naming the size (%s)", s.text);
        MonitorRequest bad;
        monitor_request_init(&bad, MONITOR_CMD_GET_STATE, 0, 0);
        bad.version = 42;
        ok(send(fd, &bad, sizeof(bad), 0) == sizeof(bad) && monitor_receive(fd, &s, NULL) == 0 &&
                   s.error == EPROTO,
           "wrong version: EPROTO (%s)", s.text);

        /* Freeze */
        ok(monitor_freeze(fd, &e) == 0, "FREEZE");
        ok(monitor_get_state(fd, &s, NULL) == 0 && s.state == MONITOR_STATE_FROZEN, "FROZEN");
        is(wait_state_event(sub, MONITOR_STATE_FREEZING, 0, &s, 1000), 0, "event FREEZING");
        is(wait_state_event(sub, MONITOR_STATE_FROZEN, 0, &s, 1000), 0, "event FROZEN");
        warren_error_clear(&e);
        is(monitor_reboot(fd, &e), -EBUSY, "REBOOT while frozen is refused");
        ok(monitor_unfreeze(fd, NULL) == 0 && monitor_get_state(fd, &s, NULL) == 0 &&
                   s.state == MONITOR_STATE_RUNNING,
           "UNFREEZE: RUNNING");

        /* Reboot: same monitor, cgroup and ptys, new init. */
        ok(monitor_reboot(fd, NULL) == 0, "REBOOT");
        is(wait_state_event(sub, MONITOR_STATE_RUNNING, init, &s, 20000), 0,
           "RUNNING again with a new init (%d)", (int) s.init_pid);
        ok(s.init_pid > 0 && s.init_pid != init && kill(init, 0) < 0, "old init is gone");
        init = s.init_pid;
        ok(monitor_get_state(fd, &s, NULL) == 0 && s.init_pid == init && s.monitor_pid == mpid,
           "GET_STATE shows the new init");
        check_console(fd, "after reboot");

        /* Stop */
        double t2 = now_ms_f();
        warren_error_clear(&e);
        ok(monitor_stop(fd, 10, false, &e) == 0, "STOP (%s)", e.error ? warren_error_message(&e) : "ok");
        double t3 = now_ms_f();
        is(wait_exit(mpid), 0, "monitor exits 0");
        double t4 = now_ms_f();
        printf("# timing: STOP -> reply %.1f ms, -> monitor exit %.1f ms\n", t3 - t2, t4 - t2);
        ok(t3 - t2 < 10000, "clean stop within the timeout");
        ok(kill(init, 0) < 0 && errno == ESRCH, "init is gone");
        is(wait_state_event(sub, MONITOR_STATE_STOPPED, 0, &s, 1000), 0, "event STOPPED");
        is(monitor_receive(sub, &s, NULL), -ECONNRESET, "subscription ends with the monitor");
        check_nothing_left(name, "after STOP");
        strv_free(live);
        live = NULL;
        ok(monitor_list_running(runtime_dir, &live, NULL) == 0 && !strv_contains(live, name),
           "no longer listed");
        warren_error_clear(&e);
        is(monitor_connect(runtime_dir, name, false, &tty, &e), -ESRCH, "connect after stop: ESRCH");
        safe_close(fd);
        safe_close(sub);
}

static void test_stubborn_container(const char *name) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m = {};
        pid_t mpid;
        int fd = -1;
        /* Started by a process that exits right away, like a warrend that dies. */
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return;
        pid_t parent = fork();
        if (parent == 0) {
                MonitorMessage pm;
                pid_t child;
                int r = start_monitor(name, &child, &pm, NULL);
                pid_t v[2] = { r < 0 ? 0 : child, pm.init_pid };
                _exit(write(pfd[1], v, sizeof(v)) == sizeof(v) ? 0 : 1);
        }
        close(pfd[1]);
        pid_t v[2] = { 0, 0 };
        ok(read(pfd[0], v, sizeof(v)) == sizeof(v) && v[0] > 0,
           "stubborn container starts from a short-lived parent");
        close(pfd[0]);
        is(wait_exit(parent), 0, "that parent exited");
        mpid = v[0];
        m.init_pid = v[1];
        ok(mpid > 0 && kill(mpid, 0) == 0, "the monitor outlives its parent");
        ok(monitor_connect(runtime_dir, name, false, &fd, NULL) == 0, "connect");
        int tty = -1;
        is(monitor_get_tty(fd, 0, &tty, NULL, &e), -EINVAL, "lxc.console.path = none: no tty 0");
        is_str(e.message, "The container has no console (lxc.console.path = none)", "no console: message");
        warren_error_clear(&e);
        ok(monitor_get_tty(fd, 2, &tty, NULL, NULL) == 0, "but tty 2 exists");
        safe_close(tty);
        double t0 = now_ms_f();
        ok(monitor_stop(fd, 1, false, &e) == 0, "STOP with 1 s timeout");
        double t1 = now_ms_f();
        printf("# timing: STOP of a halt-ignoring init: %.1f ms\n", t1 - t0);
        ok(t1 - t0 >= 1000 && t1 - t0 < 5000, "killed after the 1 s timeout (%.0f ms)", t1 - t0);
        is(wait_exit(mpid), 0, "monitor exits 0");
        ok(kill(m.init_pid, 0) < 0, "init is gone");
        check_nothing_left(name, "stubborn");
        safe_close(fd);
}

/* A monitor killed with SIGKILL: init dies with it (PR_SET_PDEATHSIG), and
 * what it left (cgroups, runtime dir) is found and removed by the reaping
 * helpers warrend uses, which never wait. */
static void test_dead_monitor(const char *name) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_cgroup_layout_ CgroupLayout *l = NULL;
        MonitorMessage m, st;
        MonitorLeftovers left;
        pid_t mpid;
        int fd = -1, pidfd = -1;
        if (!ok(start_monitor(name, &mpid, &m, &e) == 0, "'%s' starts (%s)", name, warren_error_message(&e)))
                return;
        ok(monitor_connect(runtime_dir, name, true, &fd, NULL) == 0, "non-blocking connect");
        pid_t peer = 0;
        ok(monitor_peer_pidfd(fd, &pidfd, &peer) == 0 && peer == mpid,
           "the peer's pidfd is the monitor's (%d)", (int) peer);
        ok(monitor_read_state_file(runtime_dir, name, &st) == 0 && st.state == MONITOR_STATE_RUNNING &&
                   st.init_pid == m.init_pid && st.monitor_pid == mpid,
           "state file: RUNNING, init and monitor pid");
        is(monitor_lock_held(runtime_dir, name), 1, "its lock is held");
        ok(cgroup_layout_detect(&l, NULL) >= 0, "cgroup layout");
        ok(monitor_leftovers_check(l, runtime_dir, name, &left) == 0 && left.cgroup && left.n_procs >= 1 &&
                   left.runtime_dir && left.lock_held,
           "a live container: cgroup with %d processes, runtime dir, lock", left.n_procs);
        warren_error_clear(&e);
        is(monitor_leftovers_remove(l, runtime_dir, name, &e), -EBUSY,
           "nothing is removed under a live monitor");
        like(e.message, "still holds its lock", "...saying why");

        pid_t init = m.init_pid;
        /* Its other children (the attach helper: monitor-attach.h) are
         * reparented to us as well when it dies. */
        pid_t others[16];
        size_t n_others = 0;
        {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) mpid, (int) mpid);
                FILE *f = fopen(path, "re");
                int c;
                while (f && n_others < ELEMENTSOF(others) && fscanf(f, "%d", &c) == 1)
                        if (c != init)
                                others[n_others++] = c;
                if (f)
                        fclose(f);
        }
        ok(kill(mpid, SIGKILL) == 0, "SIGKILL the monitor");
        is(wait_exit(mpid), 128 + SIGKILL, "the monitor is dead");
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        ok(poll(&p, 1, 0) == 1, "its pidfd says so");
        bool gone = false;
        for (unsigned i = 0; i < 300 && !gone; i++) {
                /* Reparented to us (a subreaper): a zombie until we reap it. */
                gone = waitpid(init, NULL, WNOHANG) == init || (kill(init, 0) < 0 && errno == ESRCH);
                if (!gone)
                        usleep(10000);
        }
        ok(gone, "init died with its monitor (PR_SET_PDEATHSIG)");
        for (size_t k = 0; k < n_others; k++) {
                bool reaped = false;
                for (unsigned i = 0; i < 300 && !reaped; i++) {
                        reaped = waitpid(others[k], NULL, WNOHANG) == others[k] ||
                                 (kill(others[k], 0) < 0 && errno == ESRCH);
                        if (!reaped)
                                usleep(10000);
                }
                ok(reaped, "the monitor's child %d died with it", (int) others[k]);
        }
        is(monitor_lock_held(runtime_dir, name), 0, "the lock is free");
        ok(monitor_leftovers_check(l, runtime_dir, name, &left) == 0 && monitor_leftovers_any(&left) &&
                   !left.lock_held,
           "leftovers: cgroup %d, runtime dir %d, processes %d", left.cgroup, left.runtime_dir,
           left.n_procs);
        (void) monitor_leftovers_kill(l, name, NULL);
        int r = -EBUSY;
        for (unsigned i = 0; i < 300 && r == -EBUSY; i++) {
                warren_error_clear(&e);
                r = monitor_leftovers_remove(l, runtime_dir, name, &e);
                if (r == -EBUSY)
                        usleep(10000);
        }
        is(r, 0, "the teardown is finished (%s)", r < 0 ? warren_error_message(&e) : "ok");
        ok(monitor_leftovers_check(l, runtime_dir, name, &left) == 0 && !monitor_leftovers_any(&left),
           "nothing is left");
        check_nothing_left(name, "dead monitor");
        safe_close(fd);
        safe_close(pidfd);
}

/* An init that has no handler for the halt signal yet (still booting):
 * the kernel drops the signal, so the monitor sends it again until init
 * handles it, rather than wait for the timeout. */
static void test_late_handler(const char *name) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m;
        pid_t mpid;
        int fd = -1;
        if (!ok(start_monitor(name, &mpid, &m, &e) == 0, "'%s' starts (%s)", name, warren_error_message(&e)))
                return;
        ok(monitor_connect(runtime_dir, name, false, &fd, NULL) == 0, "connect");
        double t0 = now_ms_f();
        ok(monitor_stop(fd, 20, false, &e) == 0, "STOP at once, 20 s timeout");
        double t1 = now_ms_f();
        printf("# timing: STOP of an init that handles it only after 1 s: %.1f ms\n", t1 - t0);
        ok(t1 - t0 < 8000, "halted cleanly, not killed at the timeout (%.0f ms)", t1 - t0);
        is(wait_exit(mpid), 0, "monitor exits 0");
        check_nothing_left(name, "late handler");
        safe_close(fd);
}

/* The console's last lines reach lxc.console.logfile and an attached
 * console: the monitor drains the ptys before it closes them. Init writes
 * a marker right before it exits; and, to make the race deterministic, the
 * test writes a second one to the console (through a slave fd it took from
 * init) while the monitor sits in the stop hook, after its loop ended: only
 * the drain at teardown can see that one. Odd rounds with the console
 * attached to the end, even ones with nobody attached. */
static void test_last_words(const char *name, unsigned rounds) {
        char p[PATH_MAX], running[PATH_MAX], go[PATH_MAX], buf[65536];
        unsigned in_log = 0, late_in_log = 0, in_client = 0, late_in_client = 0, attached_rounds = 0;
        snprintf(p, sizeof(p), "%s/console-%s.log", tmpdir, name);
        snprintf(running, sizeof(running), "%s/stop-hook-running", tmpdir);
        snprintf(go, sizeof(go), "%s/stop-hook-go", tmpdir);
        for (unsigned i = 0; i < rounds; i++) {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                MonitorMessage m;
                pid_t mpid;
                int fd = -1, tty = -1, slave = -1;
                bool attached = i % 2 == 1;
                (void) unlink(p);
                (void) unlink(running);
                (void) unlink(go);
                int r = start_monitor(name, &mpid, &m, &e);
                if (!ok(r == 0, "last words %u: '%s' starts (%s)", i, name, r < 0 ? e.message : "ok"))
                        return;
                snprintf(buf, sizeof(buf), "/proc/%d/fd/1", (int) m.init_pid);
                slave = open(buf, O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (!ok(slave >= 0 && monitor_connect(runtime_dir, name, false, &fd, NULL) == 0 &&
                                monitor_get_tty(fd, 0, &tty, NULL, NULL) == 0,
                        "last words %u: console, and init's console as a slave fd", i)) {
                        (void) kill(mpid, SIGKILL);
                        (void) wait_exit(mpid);
                        return;
                }
                /* Init waits for this line, then writes its marker and exits. */
                ok(write(tty, "go\n", 3) == 3, "last words %u: go", i);
                if (!attached) {
                        /* Closed at once, the line could go with the hangup. */
                        (void) read_pty_until(tty, "go", buf, sizeof(buf), 5000);
                        tty = safe_close(tty);
                }
                uint64_t end = now_ms() + 10000;
                while (!path_exists(running) && now_ms() < end)
                        (void) usleep(5000);
                if (!ok(path_exists(running), "last words %u: the monitor runs the stop hook", i))
                        (void) kill(m.init_pid, SIGKILL);
                const char *late = "late-words-43\n";
                ok(write(slave, late, strlen(late)) == (ssize_t) strlen(late),
                   "last words %u: a late line on the console", i);
                /* The last round, something keeps writing: the end must not wait for it. */
                pid_t spewer = i + 1 == rounds ? fork() : 0;
                if (spewer == 0 && i + 1 == rounds) {
                        memset(buf, 'x', 1024);
                        buf[1023] = '\n';
                        while (write(slave, buf, 1024) > 0)
                                ;
                        _exit(0);
                }
                safe_close(slave);
                double t0 = now_ms_f();
                ok(write_text(go, "") == 0, "last words %u: the stop hook may end", i);
                if (attached) {
                        attached_rounds++;
                        /* Everything up to the monitor closing the console (then EIO);
                         * the markers come first, a flood after them is cut. */
                        size_t n = 0;
                        uint64_t stop = now_ms() + 10000;
                        for (;;) {
                                struct pollfd pf = { .fd = tty, .events = POLLIN };
                                if (now_ms() >= stop || poll(&pf, 1, 100) < 0)
                                        break;
                                ssize_t k = read(tty, buf + n, sizeof(buf) - 1 - n);
                                if (k < 0 && errno == EAGAIN)
                                        continue;
                                if (k <= 0)
                                        break;
                                n = MIN(n + (size_t) k, sizeof(buf) / 2);
                        }
                        buf[n] = 0;
                        in_client += !!strstr(buf, "\nlast-words-42");
                        late_in_client += !!strstr(buf, "late-words-43");
                        safe_close(tty);
                }
                is(wait_exit(mpid), 0, "last words %u: the monitor exits 0 when init does", i);
                if (spewer > 0) {
                        double t1 = now_ms_f();
                        printf("# timing: stop hook done -> monitor exit, console flooded: %.1f ms\n",
                               t1 - t0);
                        ok(t1 - t0 < 2000, "a flooded console does not hold up the end (%.0f ms)", t1 - t0);
                        is(wait_exit(spewer), 0, "the flood ends with the console (EIO)");
                }
                safe_close(fd);
                _cleanup_free_ char *log = NULL;
                (void) read_full_file(p, 1 << 20, &log, NULL);
                in_log += log && strstr(log, "\nlast-words-42");
                late_in_log += log && strstr(log, "late-words-43");
                if (!log || !strstr(log, "late-words-43"))
                        printf("# round %u: the log file ends with '%s'\n", i,
                               log ? log + (strlen(log) > 80 ? strlen(log) - 80 : 0) : "(none)");
        }
        is(in_log, rounds, "init's marker, written right before it exits, is in lxc.console.logfile (%u/%u)",
           in_log, rounds);
        is(late_in_log, rounds, "the late line is in lxc.console.logfile (%u/%u)", late_in_log, rounds);
        is(in_client, attached_rounds, "init's marker reached the attached console (%u/%u)", in_client,
           attached_rounds);
        is(late_in_client, attached_rounds, "the late line reached the attached console (%u/%u)",
           late_in_client, attached_rounds);
        check_nothing_left(name, "last words");
}

static void test_missing_rootfs(const char *name) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m;
        pid_t mpid;
        int r = start_monitor(name, &mpid, &m, &e);
        is(r, -ENOENT, "missing rootfs fails the start");
        like(e.message, "/nonexistent/warren-test-rootfs", "message names the rootfs");
        like(e.message, "does not exist", "message says what is wrong");
        is(wait_exit(mpid), 1, "monitor exits 1");
        check_nothing_left(name, "missing rootfs");
}

static void test_bad_start(const char *name, int err, const char *message, const char *what) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m;
        pid_t mpid;
        is(start_monitor(name, &mpid, &m, &e), -err, "%s: start fails", what);
        is_str(e.message, message, "%s: message", what);
        is(wait_exit(mpid), 1, "%s: monitor exits 1", what);
        check_nothing_left(name, what);
}

static void test_non_root_client(const char *name) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m;
        pid_t mpid;
        if (!ok(start_monitor(name, &mpid, &m, &e) == 0, "container for the permission test starts"))
                return;
        pid_t child = fork();
        if (child == 0) {
                /* uid 65534 keeping CAP_DAC_OVERRIDE: past the 0700 dir, so only SO_PEERCRED stops it. */
                cap_t caps = cap_from_text("cap_dac_override=ep");
                MonitorMessage r;
                int fd;
                if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                    setresuid(65534, 65534, 65534) < 0 || !caps || cap_set_proc(caps) < 0)
                        _exit(10);
                if (monitor_connect(runtime_dir, name, false, &fd, NULL) < 0)
                        _exit(11);
                WarrenError ce = WARREN_ERROR_NULL;
                int k = monitor_call(fd, MONITOR_CMD_GET_STATE, 0, 0, &r, &ce);
                printf("# non-root peer: %d %s\n", k, warren_error_message(&ce));
                fflush(stdout);
                _exit(k == -EPERM ? 0 : 12);
        }
        is(wait_exit(child), 0, "a non-root peer gets EPERM");
        int fd = -1;
        ok(monitor_connect(runtime_dir, name, false, &fd, NULL) == 0 && monitor_kill(fd, SIGKILL, NULL) == 0,
           "KILL 9");
        is(wait_exit(mpid), 0, "init killed: monitor exits 0");
        check_nothing_left(name, "KILL 9");
        fd = safe_close(fd);

        if (!ok(start_monitor(name, &mpid, &m, &e) == 0, "starts again (%s)", warren_error_message(&e)))
                return;
        ok(monitor_connect(runtime_dir, name, false, &fd, NULL) == 0 && monitor_stop(fd, 0, true, NULL) == 0,
           "STOP kill=true");
        is(wait_exit(mpid), 0, "monitor exits 0");
        check_nothing_left(name, "STOP kill=true");
        fd = safe_close(fd);

        if (!ok(start_monitor(name, &mpid, &m, &e) == 0, "starts again (%s)", warren_error_message(&e)))
                return;
        int tty = -1;
        ok(monitor_connect(runtime_dir, name, false, &fd, NULL) == 0 &&
                   monitor_get_tty(fd, 0, &tty, NULL, NULL) == 0,
           "console");
        ok(write(tty, "poweroff\n", 9) == 9, "poweroff from inside");
        is(wait_exit(mpid), 0, "halt from inside: monitor exits 0");
        check_nothing_left(name, "poweroff");
        safe_close(tty);
        fd = safe_close(fd);

        if (!ok(start_monitor(name, &mpid, &m, &e) == 0, "starts again (%s)", warren_error_message(&e)))
                return;
        ok(kill(mpid, SIGTERM) == 0, "SIGTERM to the monitor");
        is(wait_exit(mpid), 0, "SIGTERM: container halted, monitor exits 0");
        ok(kill(m.init_pid, 0) < 0, "init is gone");
        check_nothing_left(name, "SIGTERM");
}

/* ---- unprivileged containers ---- */

#define UNPRIV_MAP "lxc.idmap = u 0 200000 65536\nlxc.idmap = g 0 200000 65536\n"
#define UNPRIV_ROOT 200000U

static Idmap *unpriv_map(void) {
        IdmapLine l;
        Idmap *m = idmap_new();
        if (!m || idmap_line_parse("b 0 200000 65536", &l, NULL) < 0 || idmap_add(m, &l) < 0)
                abort();
        return m;
}

/* A busybox container with the map, /etc/shadow bound in as an
 * administrator would, in a 0700 container dir; shifted: its rootfs is
 * re-owned to the map, else it stays root's (an idmapped mount then). */
static int make_unprivileged(const char *name, bool shifted, const char *extra) {
        char dir[512], rootfs[600], cfg[1024];
        snprintf(cfg, sizeof(cfg),
                 UNPRIV_MAP "lxc.mount.entry = /etc/shadow etc/hostshadow none bind,ro,create=file 0 0\n%s",
                 strempty(extra));
        int r = make_container(name, NULL, cfg);
        if (r < 0)
                return r;
        snprintf(dir, sizeof(dir), "%s/containers/%s", state_dir, name);
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
        if (chmod(dir, 0700) < 0)
                return -errno;
        if (!shifted)
                return 0;
        _cleanup_idmap_ Idmap *m = unpriv_map();
        return idmap_shift_ownership(AT_FDCWD, rootfs, m, IDMAP_SHIFT_TO_HOST, NULL);
}

/* Runs cmd in the container's console shell; returns its output (without
 * the echoed command line) and sets *status to its exit status. */
static char *console_run(int tty, const char *cmd, int *status) {
        static unsigned seq;
        char line[1024], begin[64], needle[64], buf[16384];
        seq++;
        /* The echo of the line shows "@@B""EG" and "@@E""ND": only the output has the markers. */
        snprintf(line, sizeof(line), "echo \"@@B\"\"EG%u\"; %s; echo \"@@E\"\"ND%u $?\"\n", seq, cmd, seq);
        snprintf(begin, sizeof(begin), "@@BEG%u\r\n", seq);
        snprintf(needle, sizeof(needle), "@@END%u ", seq);
        *status = -1;
        if (write(tty, line, strlen(line)) != (ssize_t) strlen(line))
                return strdup("(write failed)");
        if (read_pty_until(tty, needle, buf, sizeof(buf), 5000) < 0)
                return strdup("(timeout)");
        /* Wait for the status digits and the newline after them. */
        char *end = strstr(buf, needle);
        size_t have = strlen(buf);
        while (!strchr(end, '\n') && have < sizeof(buf) - 1) {
                struct pollfd p = { .fd = tty, .events = POLLIN };
                if (poll(&p, 1, 1000) <= 0)
                        break;
                ssize_t k = read(tty, buf + have, sizeof(buf) - 1 - have);
                if (k <= 0)
                        break;
                have += (size_t) k;
                buf[have] = 0;
                end = strstr(buf, needle);
        }
        *status = atoi(end + strlen(needle));
        *end = 0;
        char *start = strstr(buf, begin);
        _cleanup_free_ char *out = strdup(start ? start + strlen(begin) : "(no begin marker)");
        if (!out)
                abort();
        /* Without \r, without a trailing newline. */
        char *d = out;
        for (char *c = out; *c; c++)
                if (*c != '\r')
                        *d++ = *c;
        *d = 0;
        while (d > out && d[-1] == '\n')
                *--d = 0;
        return TAKE_PTR(out);
}

static bool file_owner_is(const char *path, uid_t uid) {
        struct stat st;
        return lstat(path, &st) == 0 && st.st_uid == uid;
}

static void test_unprivileged_container(const char *name, bool shifted) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_cgroup_layout_ CgroupLayout *l = NULL;
        const char *what = shifted ? "unprivileged, shifted rootfs" : "unprivileged, idmapped rootfs";
        char p[PATH_MAX], host_name[128] = "", host_name_after[128] = "";
        MonitorMessage m, s;
        pid_t mpid;
        int st;

        double t0 = now_ms_f();
        int r = start_monitor(name, &mpid, &m, &e);
        double t1 = now_ms_f();
        if (!ok(r == 0, "%s: monitor starts '%s' (%s)", what, name, r < 0 ? warren_error_message(&e) : "ok"))
                return;
        printf("# timing: %s: monitor spawn -> RUNNING: %.1f ms\n", what, t1 - t0);
        pid_t init = m.init_pid;

        /* From the host. */
        _cleanup_free_ char *uid_map = NULL, *status = NULL;
        snprintf(p, sizeof(p), "/proc/%d/uid_map", (int) init);
        ok(read_full_file(p, 4096, &uid_map, NULL) == 0, "%s: init's uid_map readable", what);
        _cleanup_strv_free_ char **w = strv_split(strempty(uid_map), " \n");
        ok(strv_length(w) == 3 && streq(w[0], "0") && streq(w[1], "200000") && streq(w[2], "65536"),
           "%s: init's uid_map is 0 200000 65536", what);
        snprintf(p, sizeof(p), "/proc/%d/status", (int) init);
        ok(read_full_file(p, 65536, &status, NULL) == 0 &&
                   strstr(status, "\nUid:\t200000\t200000\t200000\t200000\n"),
           "%s: init runs as host uid 200000", what);
        char a[128] = "", b[128] = "";
        snprintf(p, sizeof(p), "/proc/%d/ns/user", (int) init);
        ok(readlink(p, a, sizeof(a) - 1) > 0 && readlink("/proc/self/ns/user", b, sizeof(b) - 1) > 0 &&
                   !streq(a, b),
           "%s: init has its own user namespace", what);

        ok(cgroup_layout_detect(&l, NULL) >= 0, "%s: cgroup layout", what);
        const CgroupHierarchy *pids = l ? cgroup_layout_v1_find(l, "pids") : NULL;
        char cg_pids[512], cg_v2[512];
        snprintf(cg_pids, sizeof(cg_pids), "%s/warren/%s",
                 pids               ? pids->mount
                 : l && l->v2_mount ? l->v2_mount
                                    : "/x",
                 name);
        snprintf(cg_v2, sizeof(cg_v2), "%s/warren/%s", l && l->v2_mount ? l->v2_mount : "/x", name);
        snprintf(p, sizeof(p), "%s/cgroup.procs", cg_pids);
        ok(file_owner_is(cg_pids, UNPRIV_ROOT) && file_owner_is(p, UNPRIV_ROOT),
           "%s: the cgroup and its cgroup.procs are delegated to 200000", what);
        snprintf(p, sizeof(p), "%s/pids.max", cg_pids);
        ok(file_owner_is(p, 0), "%s: pids.max stays root's", what);

        int fd = -1, tty = -1;
        ok(monitor_connect(runtime_dir, name, false, &fd, NULL) == 0, "%s: connect", what);
        ok(monitor_get_tty(fd, 0, &tty, NULL, &e) == 0, "%s: console (%s)", what,
           e.error ? warren_error_message(&e) : "ok");

        /* Inside, as the container's root, through the console. */
        gethostname(host_name, sizeof(host_name) - 1);
        _cleanup_free_ char *id = console_run(tty, "id -u", &st);
        is_str(id, "0", "%s: id -u is 0 inside", what);
        _cleanup_free_ char *map = console_run(tty, "cat /proc/self/uid_map | tr -s \" \"", &st);
        is_str(map, " 0 200000 65536", "%s: /proc/self/uid_map inside", what);
        _cleanup_free_ char *made = console_run(tty, "echo x >/made-inside", &st);
        is(st, 0, "%s: container root creates /made-inside", what);
        snprintf(p, sizeof(p), "%s/containers/%s/rootfs/made-inside", state_dir, name);
        /* Through an idmapped mount, container root's files are stored as uid 0. */
        ok(file_owner_is(p, shifted ? UNPRIV_ROOT : 0), "%s: on the host it is owned by %u", what,
           shifted ? UNPRIV_ROOT : 0);
        _cleanup_free_ char *mknod_out = console_run(tty, "mknod /dev/tn c 1 3", &st);
        ok(st != 0 && strstr(mknod_out, "Operation not permitted"), "%s: mknod fails with EPERM (%s)", what,
           mknod_out);
        _cleanup_free_ char *insmod = console_run(tty, "insmod /bin/busybox", &st);
        ok(st != 0 &&
                   (strstr(insmod, "Operation not permitted") || strstr(insmod, "kernel does not support")),
           "%s: loading a module fails (%s)", what, insmod);
        _cleanup_free_ char *hn = console_run(tty, "hostname inner-name && hostname", &st);
        is_str(hn, "inner-name", "%s: hostname changes inside", what);
        gethostname(host_name_after, sizeof(host_name_after) - 1);
        is_str(host_name_after, host_name, "%s: the host's hostname is unchanged", what);
        _cleanup_free_ char *shadow = console_run(tty, "cat /etc/hostshadow >/dev/null", &st);
        ok(st != 0 && strstr(shadow, "Permission denied"),
           "%s: /etc/shadow bound in by the admin is unreadable (%s)", what, shadow);

        /* Delegated cgroup: a nested one works, the limits stay out of reach. */
        const char *inner = pids                ? "/sys/fs/cgroup/pids"
                            : l && l->n_v1 == 0 ? "/sys/fs/cgroup"
                                                : "/sys/fs/cgroup/unified";
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "mkdir %s/nested && echo $$ >%s/nested/cgroup.procs", inner, inner);
        _cleanup_free_ char *nested = console_run(tty, cmd, &st);
        is(st, 0, "%s: a nested cgroup is made and joined from inside (%s)", what, nested);
        snprintf(p, sizeof(p), "%s/nested", cg_pids);
        ok(file_owner_is(p, UNPRIV_ROOT), "%s: on the host it is %s, owned by 200000", what, p);
        if (l && l->v2_mount && l->n_v1 > 0) {
                _cleanup_free_ char *nested2 = console_run(tty, "mkdir /sys/fs/cgroup/unified/nested", &st);
                is(st, 0, "%s: a nested cgroup2 cgroup too (%s)", what, nested2);
        }
        snprintf(cmd, sizeof(cmd), "echo 1000 >%s/pids.max", inner);
        _cleanup_free_ char *raise = console_run(tty, cmd, &st);
        ok(st != 0 && (strstr(raise, "Permission denied") || strstr(raise, "Operation not permitted")),
           "%s: writing its own pids.max fails (%s)", what, raise);
        _cleanup_free_ char *pids_max = NULL;
        snprintf(p, sizeof(p), "%s/pids.max", cg_pids);
        (void) read_one_line_file(p, &pids_max);
        is_str(pids_max, "50", "%s: pids.max is still 50", what);
        safe_close(tty);

        /* tty1's getty could open its pty. */
        ok(monitor_get_tty(fd, 1, &tty, NULL, NULL) == 0, "%s: tty1", what);
        char buf[4096];
        ok(write(tty, "\n", 1) == 1 && read_pty_until(tty, "login:", buf, sizeof(buf), 5000) == 0,
           "%s: getty prompts on tty1", what);
        tty = safe_close(tty);

        /* Reboot: a new init, the same map, a fresh delegated cgroup. */
        int sub = -1;
        ok(monitor_connect(runtime_dir, name, false, &sub, NULL) == 0 &&
                   monitor_call(sub, MONITOR_CMD_SUBSCRIBE, 0, 0, NULL, NULL) == 0,
           "%s: SUBSCRIBE", what);
        ok(monitor_reboot(fd, NULL) == 0, "%s: REBOOT", what);
        is(wait_state_event(sub, MONITOR_STATE_RUNNING, init, &s, 20000), 0, "%s: RUNNING again (init %d)",
           what, (int) s.init_pid);
        snprintf(p, sizeof(p), "%s/nested", cg_pids);
        ok(access(p, F_OK) < 0 && file_owner_is(cg_pids, UNPRIV_ROOT),
           "%s: after reboot the cgroup is new and delegated again", what);
        ok(monitor_get_tty(fd, 0, &tty, NULL, NULL) == 0, "%s: console after reboot", what);
        _cleanup_free_ char *id2 = console_run(tty, "id -u; cat /proc/self/gid_map | tr -s \" \"", &st);
        is_str(id2, "0\n 0 200000 65536", "%s: after reboot still root inside, same map", what);
        tty = safe_close(tty);

        ok(monitor_stop(fd, 10, false, NULL) == 0, "%s: STOP", what);
        is(wait_exit(mpid), 0, "%s: monitor exits 0", what);
        ok(kill(s.init_pid, 0) < 0, "%s: init is gone", what);
        check_nothing_left(name, what);
        safe_close(fd);
        safe_close(sub);
}

/* Start to RUNNING and kill, n times: the median start in ms. */
static double bench_start(const char *name, unsigned n) {
        double t[15];
        unsigned k = 0;
        n = MIN(n, (unsigned) ELEMENTSOF(t));
        for (unsigned i = 0; i < n; i++) {
                MonitorMessage m;
                pid_t mpid;
                int fd = -1;
                double t0 = now_ms_f();
                if (start_monitor(name, &mpid, &m, NULL) < 0)
                        break;
                t[k++] = now_ms_f() - t0;
                if (monitor_connect(runtime_dir, name, false, &fd, NULL) == 0)
                        (void) monitor_stop(fd, 0, true, NULL);
                safe_close(fd);
                (void) wait_exit(mpid);
        }
        if (k == 0)
                return -1;
        for (unsigned i = 1; i < k; i++)
                for (unsigned j = i; j > 0 && t[j - 1] > t[j]; j--) {
                        double x = t[j];
                        t[j] = t[j - 1];
                        t[j - 1] = x;
                }
        return t[k / 2];
}

static void test_unprivileged(const char *privileged) {
        char u1[64], u2[64], u3[64], u4[64], u5[64], msg[2048], dir[512], ovl[600], rw[600], opts[2048];
        snprintf(u1, sizeof(u1), "mon-unpriv-%d", (int) getpid());
        snprintf(u2, sizeof(u2), "mon-idmapped-%d", (int) getpid());
        snprintf(u3, sizeof(u3), "mon-noroot-%d", (int) getpid());
        snprintf(u4, sizeof(u4), "mon-overlay-%d", (int) getpid());
        snprintf(u5, sizeof(u5), "mon-overlap-%d", (int) getpid());

        ok(make_unprivileged(u1, true, NULL) > 0, "unprivileged container %s, rootfs shifted to 200000", u1);
        test_unprivileged_container(u1, true);
        ok(make_unprivileged(u2, false, NULL) == 0, "unprivileged container %s, rootfs root's", u2);
        test_unprivileged_container(u2, false);

        /* Figures: start to RUNNING, median of 9. */
        double tp = bench_start(privileged, 9), tu = bench_start(u1, 9), ti = bench_start(u2, 9);
        printf("# timing: start -> RUNNING, median of 9: privileged %.1f ms, unprivileged (shifted) %.1f "
               "ms, "
               "unprivileged (idmapped) %.1f ms\n",
               tp, tu, ti);
        ok(tp > 0 && tu > 0 && ti > 0, "bench starts all succeeded");
        check_nothing_left(u1, "after the bench");

        /* Bad maps and rootfs. */
        ok(make_container(u3, NULL, "lxc.idmap = u 1 200000 65536\nlxc.idmap = g 0 200000 65536\n") == 0,
           "container %s mapping no root", u3);
        snprintf(msg, sizeof(msg),
                 "lxc.idmap of container '%s' maps no uid 0: the container's root must be mapped (e.g. 'u 0 "
                 "100000 65536')",
                 u3);
        test_bad_start(u3, EINVAL, msg, "a map without root");
        ok(make_container(u5, NULL, UNPRIV_MAP "lxc.idmap = u 100 300000 10\n") == 0,
           "container %s with overlapping map lines", u5);
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorMessage m;
        pid_t mpid;
        is(start_monitor(u5, &mpid, &m, &e), -EINVAL, "overlapping lxc.idmap lines: start fails");
        like(e.message, "u 100 300000 10", "the message names the line (%s)", strna(e.message));
        is(wait_exit(mpid), 1, "overlapping map: monitor exits 1");
        check_nothing_left(u5, "overlapping map");

        /* A root-owned rootfs where idmapped mounts do not work: overlay. */
        snprintf(dir, sizeof(dir), "%s/containers/%s", state_dir, u4);
        snprintf(ovl, sizeof(ovl), "%s/overlay", dir);
        snprintf(rw, sizeof(rw), "%s/overlay-rw", tmpdir);
        snprintf(opts, sizeof(opts), "lowerdir=%s/rootfs,upperdir=%s/u,workdir=%s/w", dir, rw, rw);
        char cfg[1024];
        snprintf(cfg, sizeof(cfg), UNPRIV_MAP "lxc.rootfs.path = dir:%s\n", ovl);
        ok(make_container(u4, NULL, cfg) == 0 && mkdir(ovl, 0755) == 0 && mkdir(rw, 0755) == 0 &&
                   mount("tmpfs", rw, "tmpfs", 0, "mode=0755") == 0,
           "container %s on an overlay", u4);
        char u_dir[700], w_dir[700];
        snprintf(u_dir, sizeof(u_dir), "%s/u", rw);
        snprintf(w_dir, sizeof(w_dir), "%s/w", rw);
        ok(mkdir(u_dir, 0755) == 0 && mkdir(w_dir, 0755) == 0 &&
                   mount("overlay", ovl, "overlay", 0, opts) == 0,
           "overlay mounted");
        /* make_container() wrote lxc.rootfs.path twice: the last one counts. */
        snprintf(msg, sizeof(msg),
                 "Rootfs '%s' is owned by host uid 0, which the container's lxc.idmap does not map, and it "
                 "cannot be mounted idmapped (Cannot idmap '%s': its filesystem (overlay) does not support "
                 "idmapped mounts): it must be owned by the container's root, host uid 200000 (shift its "
                 "ownership to the map)",
                 ovl, ovl);
        test_bad_start(u4, EINVAL, msg, "root-owned overlay rootfs");
        (void) umount2(ovl, MNT_DETACH);
        (void) umount2(rw, MNT_DETACH);
}

static int find_monitor(void) {
        const char *env = getenv("WARREN_MONITOR_BINARY");
        if (env) {
                snprintf(monitor_path, sizeof(monitor_path), "%s", env);
                return 0;
        }
        char self[PATH_MAX - 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
                return -errno;
        self[n] = 0;
        *strrchr(self, '/') = 0; /* <build>/tests/unit */
        snprintf(monitor_path, sizeof(monitor_path), "%s/../../service/warren-monitor", self);
        return access(monitor_path, X_OK) < 0 ? -errno : 0;
}

static void cleanup_tree(void) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", tmpdir);
        if (system(cmd) != 0)
                printf("# failed to remove %s\n", tmpdir);
}

int main(void) {
        test_parse_signal();
        test_parse_buffer_size();
        test_halt_signal();
        test_protocol();
        test_client_facts();

        _cleanup_strv_free_ char **none = NULL;
        ok(monitor_list_running("/nonexistent/run", &none, NULL) == 0 && none && !none[0],
           "no runtime dir: nothing running");

        {
                /* A monitor binary that is not there: the exec error itself,
                 * naming the path, and no sync socket or child left. */
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                MonitorSpawnOptions o = {
                        .monitor_path = "/nonexistent/warren-monitor",
                        .name = "mon-noexec",
                        .state_dir = "/nonexistent/state",
                        .runtime_dir = "/nonexistent/run",
                        .config_dir = "/nonexistent/etc",
                };
                pid_t pid = 0;
                int sync_fd = -1;
                is(monitor_spawn(&o, &pid, &sync_fd, &e), -ENOENT, "missing monitor binary: ENOENT");
                like(e.message, "/nonexistent/warren-monitor", "the error names the binary");
                ok(sync_fd == -1 && waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
                   "no sync fd and no child left");
                warren_error_clear(&e);
                o.monitor_path = "/bin/true";
                o.name = "../x";
                is(monitor_spawn(&o, &pid, &sync_fd, &e), -EINVAL, "bad name refused before spawning");
        }

        if (geteuid() != 0) {
                ok(1, "# SKIP containers need root");
                return done_testing();
        }
        /* Whatever a container's network config does, it stays off the
         * host's network: this test gets a network namespace of its own. */
        if (!ok(unshare(CLONE_NEWNET) == 0, "own network namespace")) {
                return done_testing();
        }
        /* And a mount namespace of its own: nothing mounted here (an
         * overlay rootfs) or leaked by a monitor reaches the host's. */
        if (!ok(unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0,
                "own mount namespace"))
                return done_testing();
        if (!ok(find_monitor() == 0, "warren-monitor binary at %s", monitor_path))
                return done_testing();
        /* Whatever the monitors leave orphaned comes to us: we can prove there is nothing. */
        (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        if (!mkdtemp(tmpdir))
                return 1;
        snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
        snprintf(runtime_dir, sizeof(runtime_dir), "%s/run", tmpdir);
        snprintf(config_dir, sizeof(config_dir), "%s/etc", tmpdir);
        snprintf(log_path, sizeof(log_path), "%s/monitor.log", tmpdir);
        (void) mkdir(config_dir, 0755);

        char n1[64], n2[64], n3[64], n4[64];
        snprintf(n1, sizeof(n1), "mon-%d", (int) getpid());
        snprintf(n2, sizeof(n2), "mon-stubborn-%d", (int) getpid());
        snprintf(n3, sizeof(n3), "mon-norootfs-%d", (int) getpid());
        snprintf(n4, sizeof(n4), "mon-perm-%d", (int) getpid());
        char logcfg[512];
        snprintf(logcfg, sizeof(logcfg), "lxc.console.logfile = %s/console-%s.log\n", tmpdir, n1);
        ok(make_container(n1, NULL, logcfg) == 0, "busybox container %s", n1);
        ok(make_container(n2, NULL,
                          "lxc.init.cmd = /bin/sh -c \"trap '' USR2; while :; do sleep 1; done\"\n"
                          "lxc.console.path = none\n") == 0,
           "halt-ignoring container %s", n2);
        ok(make_container(n3, "/nonexistent/warren-test-rootfs", NULL) == 0, "container without rootfs %s",
           n3);
        ok(make_container(n4, NULL, NULL) == 0, "busybox container %s", n4);

        test_running_container(n1);
        test_dead_monitor(n1);
        test_stubborn_container(n2);
        test_missing_rootfs(n3);
        test_non_root_client(n4);

        char n6[64];
        snprintf(n6, sizeof(n6), "mon-late-%d", (int) getpid());
        ok(make_container(n6, NULL, "lxc.init.cmd = /bin/sh -c \"sleep 1; exec /sbin/init\"\n") == 0,
           "container whose init handles signals only after 1 s %s", n6);
        test_late_handler(n6);

        char n7[64], cfg7[2048];
        snprintf(n7, sizeof(n7), "mon-lastwords-%d", (int) getpid());
        snprintf(cfg7, sizeof(cfg7),
                 "lxc.console.logfile = %s/console-%s.log\n"
                 "lxc.init.cmd = /bin/sh -c \"read x; echo last-words-$((40+2)); exit 0\"\n"
                 "lxc.hook.stop = : >%s/stop-hook-running; i=0; while [ ! -e %s/stop-hook-go ] && "
                 "[ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; true\n",
                 tmpdir, n7, tmpdir, tmpdir);
        ok(make_container(n7, NULL, cfg7) == 0, "container whose init writes a marker and exits %s", n7);
        test_last_words(n7, 6);

        char n5[64], msg[512];
        snprintf(n5, sizeof(n5), "mon-veth-%d", (int) getpid());
        ok(make_container(n5, NULL, "lxc.net.0.type = veth\nlxc.net.0.link = nosuchbr0\n") == 0,
           "container with a veth on a missing bridge %s", n5);
        test_bad_start(n5, ENODEV, "lxc.net.0.link 'nosuchbr0': no such bridge on the host",
                       "veth on a missing bridge");
        snprintf(msg, sizeof(msg), "Container 'mon-none' does not exist (no %s/containers/mon-none/config)",
                 state_dir);
        test_bad_start("mon-none", ENOENT, msg, "no such container");

        test_unprivileged(n1);

        int status;
        errno = 0;
        ok(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD,
           "no process or zombie left behind (errno %d)", errno);
        if (getenv("TEST_MONITOR_KEEP"))
                printf("# kept %s\n", tmpdir);
        else
                cleanup_tree();
        return done_testing();
}
