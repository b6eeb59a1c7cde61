/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "config-check.h"
#include "config.h"
#include "container.h"
#include "idmap.h"
#include "monitor-attach.h"
#include "monitor-client.h"
#include "monitor-pool.h"
#include "monitor-stub.h"
#include "network.h"
#include "monitor-proto.h"
#include "monitor-tty.h"
#include "monitor.h"
#include "name.h"
#include "policy.h"
#include "store.h"
#include "container-spawn.h"
#include "hooks.h"

#define MAX_CLIENTS 32U
#define LISTEN_BACKLOG 128
#define CLIENT_QUEUE_MAX 32U /* replies/events queued for a slow client before it is dropped */
#define STOP_GRACE_SEC 10U   /* after a non-KILL lxc.signal.stop, before SIGKILL */
#define FREEZE_POLL_NSEC (5L * 1000L * 1000L)
#define HALT_RETRY_NSEC (100L * 1000L * 1000L) /* the halt signal again while init has no handler */
#define TTY_DRAIN_TIMEOUT_MS 20U               /* reading what the ptys still hold at the end, at most */

typedef enum Tag {
        TAG_LISTEN,
        TAG_SIGNAL,
        TAG_STOP_TIMER,
        TAG_FREEZE_TIMER,
        TAG_CLIENT,
        TAG_MASTER,
        TAG_PROXY,
} Tag;
#define TAG(kind, idx) (((uint64_t) (kind) << 32) | (uint32_t) (idx))

typedef enum StopPhase {
        STOP_NONE,
        STOP_HALT_SENT,
        STOP_SIGNAL_SENT,
        STOP_KILLED,
} StopPhase;

typedef struct QueuedMessage {
        size_t len;
        int fd;
        char data[];
} QueuedMessage;

typedef struct Client {
        unsigned index;
        int fd;
        bool subscribed;
        bool broken;
        MonitorCommand waiting; /* a deferred reply (STOP, FREEZE), or MONITOR_CMD_INVALID */
        QueuedMessage *queue[CLIENT_QUEUE_MAX];
        size_t n_queue;
        uint32_t mask;
} Client;

typedef struct Monitor {
        NetworkCheckFlags net_flags;
        const MonitorOptions *o; /* &opts */
        MonitorOptions opts;
        char *taken_name;               /* a warm monitor's container, from the TAKE */
        MonitorWarm *warm;              /* a warm monitor's spares and stub, until init is spawned */
        bool init_via_stub;             /* init was born in its v1 cgroups: no move */
        AttachHelperContext attach_ctx; /* what the attach helper starts from */
        char *attach_path;
        pid_t attach_pid; /* the attach helper, 0 if none */
        int attach_pidfd;
        pid_t pid;
        MonitorState state;

        LxcConfig *config;
        char *rootfs;
        Idmap *idmap;    /* lxc.idmap; NULL: privileged (no user namespace) */
        uid_t owner_uid; /* from the store's owner file: decides how binds are opened */
        gid_t owner_gid;
        uid_t root_uid; /* host ids of the container's root and its tty group */
        gid_t root_gid, tty_gid;
        unsigned tty_max;
        bool has_console;
        int halt_signal, stop_signal, reboot_signal; /* halt_signal 0: decided at stop time */
        size_t console_buffer_size;

        CgroupLayout *layout;
        Cgroup *cgroup;
        bool cgroup_created;
        bool placed;        /* the host's place hook put us in a delegated cgroup */
        bool pre_start_ran; /* lxc.hook.post-stop runs at teardown */
        int netns_fd;       /* the container's, kept while it has phys NICs to give back */
        bool init_ran;      /* lxc.hook.stop runs at teardown */
        char *config_path;
        bool cgroup_killed; /* cgroup.kill was used: no CLONE_INTO_CGROUP any more */

        char *dir_path; /* <runtime>/containers/NAME */
        int dir_fd;
        int lock_fd;
        bool owns_dir;

        int sync_fd, epoll_fd, signal_fd, listen_fd, stop_timer_fd, freeze_timer_fd;
        sigset_t blocked;

        pid_t init_pid;
        int init_pidfd;
        StopPhase stop_phase;
        int stop_halt_signal;
        uint64_t stop_deadline_usec;
        bool done;

        MonitorTtys *ttys;

        Client *clients[MAX_CLIENTS];
} Monitor;

/* ---- small pieces ---- */

static int parse_uint(const char *s, unsigned long long max, unsigned long long *ret) {
        if (isempty(s) || s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int monitor_parse_signal(const char *s, int *ret, WarrenError *reterr) {
        static const struct {
                const char *name;
                int sig;
        } aliases[] = { { "IOT", SIGABRT }, { "POLL", SIGIO }, { "CLD", SIGCHLD } };
        unsigned long long v;

        if (!s || parse_uint(s, (unsigned long long) SIGRTMAX, &v) >= 0) {
                if (!s || v == 0)
                        return warren_error_set(reterr, EINVAL, "Invalid signal '%s'", strna(s));
                *ret = (int) v;
                return 0;
        }
        const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0) {
                bool min = strncasecmp(n, "RTMIN", 5) == 0;
                const char *off = n + 5;
                v = 0;
                if (*off != 0 && (*off != (min ? '+' : '-') ||
                                  parse_uint(off + 1, (unsigned long long) (SIGRTMAX - SIGRTMIN), &v) < 0))
                        return warren_error_set(
                                reterr, EINVAL,
                                "Invalid signal '%s': expected SIGRTMIN+N or SIGRTMAX-N within %d..%d", s,
                                SIGRTMIN, SIGRTMAX);
                *ret = min ? SIGRTMIN + (int) v : SIGRTMAX - (int) v;
                return 0;
        }
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev && strcasecmp(abbrev, n) == 0) {
                        *ret = sig;
                        return 0;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (strcasecmp(aliases[i].name, n) == 0) {
                        *ret = aliases[i].sig;
                        return 0;
                }
        return warren_error_set(reterr, EINVAL, "Invalid signal '%s': not a signal name or number", s);
}

int monitor_halt_signal(const LxcConfig *c, unsigned long long blocked_mask, int *ret, WarrenError *reterr) {
        const char *v = lxc_config_get(c, "lxc.signal.halt");
        if (v) {
                int r = monitor_parse_signal(v, ret, reterr);
                if (r < 0)
                        warren_error_prefix(reterr, "lxc.signal.halt");
                return r;
        }
        /* LXC's rule: an init blocking SIGRTMIN+3 is systemd, which halts on it. */
        int rt3 = SIGRTMIN + 3;
        *ret = blocked_mask & (1ULL << (rt3 - 1)) ? rt3 : SIGPWR;
        return 0;
}

/* A signal mask of pid from /proc/PID/status: "SigBlk", "SigCgt". */
static unsigned long long read_sig_mask(pid_t pid, const char *field) {
        char path[64], key[16], *text = NULL;
        unsigned long long mask = 0;
        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        snprintf(key, sizeof(key), "\n%s:", field);
        if (read_full_file(path, 64 * 1024, &text, NULL) < 0)
                return 0;
        const char *p = strstr(text, key);
        if (p)
                mask = strtoull(p + strlen(key), NULL, 16);
        free(text);
        return mask;
}

static unsigned long long read_blocked_mask(pid_t pid) {
        return read_sig_mask(pid, "SigBlk");
}

/* Whether init has decided about sig: a handler, or SIG_IGN on purpose. */
static bool init_catches(pid_t pid, int sig) {
        unsigned long long bit = 1ULL << (sig - 1);
        return (read_sig_mask(pid, "SigCgt") & bit) || (read_sig_mask(pid, "SigIgn") & bit);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static void epoll_update(Monitor *m, int fd, uint64_t tag, uint32_t events, uint32_t *current) {
        if (*current == events)
                return;
        struct epoll_event ev = { .events = events, .data.u64 = tag };
        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
                log_debug_errno(errno, "epoll_ctl(MOD) failed: %m");
        *current = events;
}

static int epoll_add(Monitor *m, int fd, uint64_t tag, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.u64 = tag };
        return epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int arm_timer(int fd, uint64_t sec, long nsec, bool repeat) {
        struct itimerspec its = {
                .it_value = { .tv_sec = (time_t) sec, .tv_nsec = nsec },
                .it_interval = { .tv_sec = repeat ? (time_t) sec : 0, .tv_nsec = repeat ? nsec : 0 },
        };
        return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

/* ---- state and clients ---- */

static void write_state_file(Monitor *m) {
        if (!m->owns_dir)
                return;
        char buf[256 + MONITOR_TEXT_MAX];
        int n = snprintf(buf, sizeof(buf), "state=%s\ninit_pid=%d\nmonitor_pid=%d\ncgroup=%s\n",
                         monitor_state_to_string(m->state), (int) m->init_pid, (int) m->pid,
                         m->cgroup ? cgroup_get_path(m->cgroup) : "");
        /* Runtime data: atomic by rename, no fsync. */
        _cleanup_close_ int fd =
                openat(m->dir_fd, "state.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || write_all(fd, buf, (size_t) n) < 0 ||
            renameat(m->dir_fd, "state.tmp", m->dir_fd, "state") < 0)
                log_debug_errno(errno, "Failed to write state file: %m");
}

static void client_update(Monitor *m, Client *c) {
        uint32_t mask = (c->waiting == MONITOR_CMD_INVALID ? EPOLLIN : 0) | (c->n_queue > 0 ? EPOLLOUT : 0);
        epoll_update(m, c->fd, TAG(TAG_CLIENT, c->index), mask, &c->mask);
}

static int send_with_fd(int sock, const void *buf, size_t len, int fd) {
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
                mh.msg_control = &control;
                mh.msg_controllen = sizeof(control);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        return sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Never blocks: what the socket does not take now is queued (bounded); a
 * client that lets its queue overflow or whose socket fails is dropped. */
static void client_send(Monitor *m, Client *c, const void *buf, size_t len, int fd) {
        if (c->broken)
                return;
        if (c->n_queue == 0) {
                int r = send_with_fd(c->fd, buf, len, fd);
                if (r >= 0)
                        return;
                if (r != -EAGAIN) {
                        c->broken = true;
                        return;
                }
        }
        if (c->n_queue >= CLIENT_QUEUE_MAX) {
                log_debug("Dropping client %u: %zu messages unread", c->index, c->n_queue);
                c->broken = true;
                return;
        }
        QueuedMessage *q = malloc(sizeof(QueuedMessage) + len);
        if (!q) {
                c->broken = true;
                return;
        }
        q->len = len;
        q->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -EBADF;
        if (fd >= 0 && q->fd < 0) {
                free(q);
                c->broken = true;
                return;
        }
        memcpy(q->data, buf, len);
        c->queue[c->n_queue++] = q;
        client_update(m, c);
}

static void client_flush(Monitor *m, Client *c) {
        size_t i = 0;
        for (; i < c->n_queue; i++) {
                QueuedMessage *q = c->queue[i];
                int r = send_with_fd(c->fd, q->data, q->len, q->fd);
                if (r == -EAGAIN)
                        break;
                if (r < 0)
                        c->broken = true;
                safe_close(q->fd);
                free(q);
        }
        memmove(c->queue, c->queue + i, (c->n_queue - i) * sizeof(QueuedMessage *));
        c->n_queue -= i;
        client_update(m, c);
}

static Client *client_free(Monitor *m, Client *c) {
        if (!c)
                return NULL;
        (void) epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        for (size_t i = 0; i < c->n_queue; i++) {
                safe_close(c->queue[i]->fd);
                free(c->queue[i]);
        }
        safe_close(c->fd);
        m->clients[c->index] = NULL;
        free(c);
        return NULL;
}

static void clients_gc(Monitor *m) {
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
                if (m->clients[i] && m->clients[i]->broken)
                        client_free(m, m->clients[i]);
}

static void send_message(Monitor *m, Client *c, MonitorCommand cmd, int error, const char *text, int fd) {
        char buf[MONITOR_MESSAGE_MAX];
        size_t len = monitor_reply_encode(buf, cmd, error, m->state, m->init_pid, m->pid, m->tty_max, text);
        client_send(m, c, buf, len, fd);
}

static void reply_ok(Monitor *m, Client *c, MonitorCommand cmd, const char *text, int fd) {
        send_message(m, c, cmd, 0, text, fd);
}

_printf_(5, 6) static void reply_error(Monitor *m, Client *c, MonitorCommand cmd, int error, const char *fmt,
                                       ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        send_message(m, c, cmd, error, text, -EBADF);
}

/* Answers every client waiting on cmd. */
static void finish_waiting(Monitor *m, MonitorCommand cmd, int error, const char *text) {
        for (unsigned i = 0; i < MAX_CLIENTS; i++) {
                Client *c = m->clients[i];
                if (!c || c->waiting != cmd)
                        continue;
                c->waiting = MONITOR_CMD_INVALID;
                send_message(m, c, cmd, error, text, -EBADF);
                if (!c->broken)
                        client_update(m, c);
        }
}

static void set_state(Monitor *m, MonitorState s) {
        m->state = s;
        log_debug("Container '%s' is %s", m->o->name, monitor_state_to_string(s));
        write_state_file(m);
        const char *path = m->cgroup ? cgroup_get_path(m->cgroup) : NULL;
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
                if (m->clients[i] && m->clients[i]->subscribed)
                        send_message(m, m->clients[i], MONITOR_EVENT_STATE, 0, path, -EBADF);
}

/* ---- init: spawn, signals, stop, reboot ---- */

static int run_hooks(Monitor *m, HookType t, pid_t pid, const char *target, WarrenError *reterr) {
        HookContext ctx = {
                .name = m->o->name,
                .config_path = m->config_path,
                .rootfs_path = m->rootfs,
                .pid = pid,
                .target = target,
        };
        return hooks_run(m->config, t, &ctx, reterr);
}

/* stop and post-stop: a failing one is logged, the container stops anyway. */
static void run_stop_hooks(Monitor *m, const char *target) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        if (m->init_ran && run_hooks(m, HOOK_STOP, 0, target, &e) < 0)
                log_warning("%s", warren_error_message(&e));
        warren_error_clear(&e);
        if (m->pre_start_ran && run_hooks(m, HOOK_POST_STOP, 0, target, &e) < 0)
                log_warning("%s", warren_error_message(&e));
        m->init_ran = m->pre_start_ran = false;
}

static int attach_hook(pid_t child, int child_pidfd, void *userdata, WarrenError *reterr) {
        Monitor *m = userdata;
        /* Without CLONE_INTO_CGROUP the child joins the cgroup2 cgroup here
         * too; born of the stub, it is in the v1 cgroups already. */
        int r = m->cgroup_killed   ? cgroup_attach(m->cgroup, child, reterr)
                : m->init_via_stub ? 0
                                   : cgroup_attach_v1(m->cgroup, child, reterr);
        if (r < 0)
                return r;
        /* Leftovers of a previous run (a crash, or the old netns of a
         * reboot still dying) would collide with the new host ends. */
        (void) network_teardown_container(m->o->name, NULL);
        if (network_config_has_phys(m->config)) {
                /* Keeps the namespace alive after init: its phys NICs go
                 * back to us, not to the initial namespace. */
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/ns/net", (int) child);
                m->netns_fd = safe_close(m->netns_fd);
                m->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
                if (m->netns_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open %s: %m", path);
        }
        return network_setup_container(m->config, m->o->name, child, m->net_flags, reterr);
}

static void restore_phys(Monitor *m) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        if (m->netns_fd < 0)
                return;
        if (network_restore_phys(m->config, m->netns_fd, &e) < 0)
                log_warning("%s", warren_error_message(&e));
        m->netns_fd = safe_close(m->netns_fd);
}

/* lxc.hook.start-host: host namespaces, the container set up, init not
 * yet exec'd. */
static int start_host_hook(pid_t child, int child_pidfd, void *userdata, WarrenError *reterr) {
        return run_hooks(userdata, HOOK_START_HOST, child, NULL, reterr);
}

/* ---- the host's hooks (MonitorHooks) ---- */

static void hook_running(Monitor *m) {
        const MonitorHooks *h = m->o->hooks;
        _cleanup_free_ int *ifindexes = NULL;
        size_t n = 0;
        if (!h || !h->running || m->init_pid <= 0)
                return;
        if (network_container_host_ifindexes(m->o->name, &ifindexes, &n, NULL) < 0)
                n = 0;
        h->running(m->o->name, m->init_pid, m->rootfs, ifindexes, n, h->userdata);
}

static void hook_stopped(Monitor *m) {
        const MonitorHooks *h = m->o->hooks;
        if (h && h->stopped)
                h->stopped(m->o->name, h->userdata);
}

/* The container's attach helper (monitor-attach.h): cloned by the stub
 * (born in the container's v1 cgroups), else by us (it moves in itself).
 * Only an optimization: without it Attach goes the old way. */
static void spawn_attach_helper(Monitor *m, SpawnStub *stub) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        int pidfd = -EBADF;
        if (!m->attach_path && asprintf(&m->attach_path, "%s/" MONITOR_ATTACH_SOCKET, m->dir_path) < 0) {
                m->attach_path = NULL;
                return;
        }
        m->attach_ctx = (AttachHelperContext){
                .monitor = m->pid,
                .config = m->config,
                .cgroup = m->cgroup,
                .layout = m->layout,
                .socket_path = m->attach_path,
                .move_in = !stub && m->layout->n_v1 > 0,
                .name = m->o->name,
                .retitle = m->o->retitle_attach_helper,
        };
        struct clone_args args = { .flags = CLONE_PIDFD, .pidfd = (uint64_t) (uintptr_t) &pidfd };
        pid_t pid;
        if (stub)
                pid = spawn_stub_clone(stub, &args, attach_helper_main, &m->attach_ctx, &e);
        else {
                args.exit_signal = SIGCHLD;
                /* Like the stub's clone: a child with a copy of us, no threads here. */
                pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
                if (pid == 0)
                        attach_helper_main(&m->attach_ctx);
                if (pid < 0)
                        warren_error_set(&e, errno, "clone3() failed: %m");
        }
        if (pid < 0) {
                log_debug("No attach helper: %s", warren_error_message(&e));
                return;
        }
        m->attach_pid = pid;
        m->attach_pidfd = pidfd;
}

static void stop_attach_helper(Monitor *m) {
        if (m->attach_pid <= 0)
                return;
        (void) pidfd_send_signal(m->attach_pidfd, SIGKILL, NULL, 0);
        while (waitpid(m->attach_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        m->attach_pid = 0;
        m->attach_pidfd = safe_close(m->attach_pidfd);
        if (m->attach_path)
                (void) unlink(m->attach_path);
}

static int spawn_init(Monitor *m, WarrenError *reterr) {
        _cleanup_close_ int cgroup_fd = m->cgroup_killed ? -EBADF : cgroup_open_fd(m->cgroup, NULL);
        _cleanup_strv_free_ char **tty_paths = NULL;
        for (unsigned i = 1; i <= m->tty_max; i++)
                if (strv_extend(&tty_paths, monitor_ttys_slave_path(m->ttys, i)) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
        SpawnOptions so = {
                .name = m->o->name,
                .config = m->config,
                .rootfs = m->rootfs,
                .cgroup_fd = cgroup_fd,
                .console_path = monitor_ttys_slave_path(m->ttys, 0),
                .tty_paths = tty_paths,
                .new_user_ns = m->idmap != NULL,
                .idmap = m->idmap,
                .host_netns = network_config_shares_host_netns(m->config),
                .config_path = m->config_path,
                .parent_hook = attach_hook,
                .before_exec_hook = hooks_any(m->config, HOOK_START_HOST) ? start_host_hook : NULL,
                .hook_userdata = m,
                .log_fd = STDERR_FILENO,
                .owner_uid = m->owner_uid,
                .owner_gid = m->owner_gid,
                .stub = m->cgroup_killed ? NULL : monitor_warm_stub(m->warm),
        };
        /* Our blocked signals do not reach init: the child resets its mask before exec. */
        pid_t pid;
        int pidfd;
        m->init_via_stub = so.stub != NULL;
        int r = container_spawn(&so, &pid, &pidfd, reterr);
        if (r >= 0 && m->attach_pid == 0)
                spawn_attach_helper(m, so.stub);
        /* The stub served (or never will): a reboot's init moves in. */
        m->warm = monitor_warm_free(m->warm);
        m->init_via_stub = false;
        if (r < 0)
                return r;
        m->init_pid = pid;
        m->init_pidfd = pidfd;
        m->stop_phase = STOP_NONE;
        m->init_ran = true;
        return 0;
}

static int run_pre_start(Monitor *m, WarrenError *reterr) {
        m->pre_start_ran = true; /* post-stop runs even if pre-start fails, as in LXC */
        return run_hooks(m, HOOK_PRE_START, 0, NULL, reterr);
}

static void signal_init(Monitor *m, int sig) {
        if (m->init_pidfd < 0)
                return;
        log_debug("Sending signal %d to init %d", sig, (int) m->init_pid);
        if (pidfd_send_signal(m->init_pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
                log_debug_errno(errno, "Failed to send signal %d to init: %m", sig);
}

static void unfreeze_for_stop(Monitor *m) {
        if (m->state != MONITOR_STATE_FROZEN && m->state != MONITOR_STATE_FREEZING)
                return;
        (void) arm_timer(m->freeze_timer_fd, 0, 0, false);
        (void) cgroup_unfreeze(m->cgroup, 1000U * 1000U, NULL);
        finish_waiting(m, MONITOR_CMD_FREEZE, ECANCELED, "The container is being stopped");
}

static void begin_stop(Monitor *m, uint32_t timeout_s, bool kill) {
        if (m->init_pid <= 0)
                return;
        if (m->stop_phase == STOP_NONE) {
                unfreeze_for_stop(m);
                set_state(m, MONITOR_STATE_STOPPING);
        }
        if (kill) {
                if (m->stop_phase != STOP_KILLED) {
                        (void) arm_timer(m->stop_timer_fd, 0, 0, false);
                        signal_init(m, SIGKILL);
                        m->stop_phase = STOP_KILLED;
                }
                return;
        }
        if (m->stop_phase != STOP_NONE)
                return; /* the first stop's timeout stands */

        int sig = m->halt_signal;
        if (sig == 0)
                (void) monitor_halt_signal(m->config, read_blocked_mask(m->init_pid), &sig, NULL);
        signal_init(m, sig);
        m->stop_phase = STOP_HALT_SENT;
        m->stop_halt_signal = sig;
        if (timeout_s == MONITOR_STOP_TIMEOUT_DEFAULT)
                timeout_s = MONITOR_STOP_TIMEOUT_DEFAULT_SEC;
        m->stop_deadline_usec = now_usec() + (uint64_t) timeout_s * 1000000U;
        /* The kernel drops a signal to a namespace's init that has no
         * handler for it: an init still booting would never see it. */
        if (timeout_s > 0 && !init_catches(m->init_pid, sig) &&
            arm_timer(m->stop_timer_fd, 0, HALT_RETRY_NSEC, false) >= 0)
                return;
        if (timeout_s == 0 || arm_timer(m->stop_timer_fd, timeout_s, 0, false) < 0) {
                signal_init(m, m->stop_signal);
                m->stop_phase = m->stop_signal == SIGKILL ? STOP_KILLED : STOP_SIGNAL_SENT;
                if (m->stop_phase == STOP_SIGNAL_SENT)
                        (void) arm_timer(m->stop_timer_fd, STOP_GRACE_SEC, 0, false);
        }
}

static void on_stop_timer(Monitor *m) {
        uint64_t n, now = now_usec();
        (void) read(m->stop_timer_fd, &n, sizeof(n));
        if (m->stop_phase == STOP_HALT_SENT && now < m->stop_deadline_usec && m->init_pid > 0) {
                /* Sent before init had a handler: again, until it has one. */
                bool caught = init_catches(m->init_pid, m->stop_halt_signal);
                uint64_t left = m->stop_deadline_usec - now;
                if (caught)
                        log_debug("Init handles signal %d now; sending it again", m->stop_halt_signal);
                signal_init(m, m->stop_halt_signal);
                if (caught || left <= HALT_RETRY_NSEC / 1000U)
                        (void) arm_timer(m->stop_timer_fd, left / 1000000U, (long) (left % 1000000U) * 1000L,
                                         false);
                else
                        (void) arm_timer(m->stop_timer_fd, 0, HALT_RETRY_NSEC, false);
                return;
        }
        if (m->stop_phase == STOP_HALT_SENT && m->stop_signal != SIGKILL) {
                log_debug("Init ignored the halt signal; sending lxc.signal.stop");
                signal_init(m, m->stop_signal);
                m->stop_phase = STOP_SIGNAL_SENT;
                (void) arm_timer(m->stop_timer_fd, STOP_GRACE_SEC, 0, false);
        } else if (m->stop_phase != STOP_NONE && m->stop_phase != STOP_KILLED) {
                log_debug("Init did not stop in time; killing it");
                signal_init(m, SIGKILL);
                m->cgroup_killed = true;
                (void) cgroup_kill_all(m->cgroup, NULL);
                m->stop_phase = STOP_KILLED;
        }
}

static int make_cgroup(Monitor *m, WarrenError *reterr);

/* A delegated cgroup is made anew for the next init: what the old one's
 * root made of it (sub-cgroups, controllers enabled in
 * cgroup.subtree_control, which would refuse the new init as an internal
 * process) must not outlive it. */
static int renew_delegated_cgroup(Monitor *m, WarrenError *reterr) {
        if (!m->idmap)
                return 0;
        int r = cgroup_remove(m->cgroup, reterr);
        if (r < 0)
                return r;
        m->cgroup_created = false;
        return make_cgroup(m, reterr);
}

/* What is left of the old init's processes goes before a new init comes
 * (normally nothing: the pid namespace died with the old init). */
static void empty_cgroup(Monitor *m) {
        (void) cgroup_unfreeze(m->cgroup, 1000U * 1000U, NULL);
        if (cgroup_count_procs(m->cgroup) <= 0)
                return;
        /* After cgroup.kill, this kernel (6.18) SIGKILLs every child later
         * cloned with CLONE_INTO_CGROUP into that cgroup (its kill_seq check
         * looks at the parent's cgroup): attach the next init by pid instead. */
        m->cgroup_killed = true;
        (void) cgroup_kill_all(m->cgroup, NULL);
        for (unsigned i = 0; i < 200 && cgroup_count_procs(m->cgroup) > 0; i++) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                (void) usleep(10000);
        }
}

static void on_init_exit(Monitor *m, int status) {
        log_debug("Init %d exited with status 0x%x", (int) m->init_pid, (unsigned) status);
        m->init_pid = 0;
        m->init_pidfd = safe_close(m->init_pidfd);
        (void) arm_timer(m->stop_timer_fd, 0, 0, false);

        /* reboot(2) in a pid namespace kills its init with SIGHUP (restart)
         * or SIGINT (halt, power off). */
        if (m->stop_phase == STOP_NONE && WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP) {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                (void) arm_timer(m->freeze_timer_fd, 0, 0, false);
                finish_waiting(m, MONITOR_CMD_FREEZE, ECANCELED, "The container rebooted");
                set_state(m, MONITOR_STATE_STARTING);
                hook_stopped(m);
                empty_cgroup(m);
                restore_phys(m);
                run_stop_hooks(m, "reboot");
                if (run_pre_start(m, &e) >= 0 && renew_delegated_cgroup(m, &e) >= 0 &&
                    spawn_init(m, &e) >= 0) {
                        set_state(m, MONITOR_STATE_RUNNING);
                        hook_running(m);
                        return;
                }
                log_debug("Failed to restart init of '%s': %s", m->o->name, warren_error_message(&e));
                set_state(m, MONITOR_STATE_ABORTING);
                m->done = true;
                return;
        }
        if (m->state != MONITOR_STATE_STOPPING)
                set_state(m, MONITOR_STATE_STOPPING);
        m->done = true;
}

static void reap_children(Monitor *m) {
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        return;
                if (pid == m->init_pid)
                        on_init_exit(m, status);
                else if (pid == m->attach_pid) {
                        log_debug("The attach helper exited (status 0x%x)", (unsigned) status);
                        m->attach_pid = 0;
                        m->attach_pidfd = safe_close(m->attach_pidfd);
                        if (m->attach_path)
                                (void) unlink(m->attach_path);
                }
        }
}

static void on_signal(Monitor *m) {
        struct signalfd_siginfo si;
        while (read(m->signal_fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGCHLD)
                        reap_children(m);
                else {
                        log_debug("Got signal %u, stopping the container", si.ssi_signo);
                        begin_stop(m, MONITOR_STOP_TIMEOUT_DEFAULT, false);
                }
        }
}

static void on_freeze_timer(Monitor *m) {
        uint64_t n;
        (void) read(m->freeze_timer_fd, &n, sizeof(n));
        if (m->state != MONITOR_STATE_FREEZING || cgroup_is_frozen(m->cgroup) <= 0)
                return;
        (void) arm_timer(m->freeze_timer_fd, 0, 0, false);
        set_state(m, MONITOR_STATE_FROZEN);
        finish_waiting(m, MONITOR_CMD_FREEZE, 0, NULL);
}

/* ---- requests ---- */

static bool init_alive(Monitor *m, Client *c, MonitorCommand cmd) {
        if (m->init_pid > 0)
                return true;
        reply_error(m, c, cmd, ESRCH, "Container '%s' has no running init (%s)", m->o->name,
                    monitor_state_to_string(m->state));
        return false;
}

static void handle_stop(Monitor *m, Client *c, const MonitorRequest *req) {
        if (!init_alive(m, c, MONITOR_CMD_STOP))
                return;
        c->waiting = MONITOR_CMD_STOP; /* answered at teardown, once init is dead */
        client_update(m, c);
        begin_stop(m, req->arg, req->flags & MONITOR_STOP_KILL);
}

static void handle_reboot(Monitor *m, Client *c) {
        if (m->state != MONITOR_STATE_RUNNING)
                return reply_error(m, c, MONITOR_CMD_REBOOT, EBUSY, "Cannot reboot container '%s': it is %s",
                                   m->o->name, monitor_state_to_string(m->state));
        signal_init(m, m->reboot_signal);
        reply_ok(m, c, MONITOR_CMD_REBOOT, NULL, -EBADF);
}

static void handle_kill(Monitor *m, Client *c, const MonitorRequest *req) {
        if (req->arg == 0 || req->arg >= (uint32_t) _NSIG)
                return reply_error(m, c, MONITOR_CMD_KILL, EINVAL, "Invalid signal %u", req->arg);
        if (!init_alive(m, c, MONITOR_CMD_KILL))
                return;
        if (pidfd_send_signal(m->init_pidfd, (int) req->arg, NULL, 0) < 0)
                return reply_error(m, c, MONITOR_CMD_KILL, errno, "Failed to send signal %u to init %d: %s",
                                   req->arg, (int) m->init_pid, strerror(errno));
        reply_ok(m, c, MONITOR_CMD_KILL, NULL, -EBADF);
}

static void handle_freeze(Monitor *m, Client *c) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        if (m->state == MONITOR_STATE_FROZEN)
                return reply_ok(m, c, MONITOR_CMD_FREEZE, NULL, -EBADF);
        if (m->state != MONITOR_STATE_RUNNING && m->state != MONITOR_STATE_FREEZING)
                return reply_error(m, c, MONITOR_CMD_FREEZE, EBUSY, "Cannot freeze container '%s': it is %s",
                                   m->o->name, monitor_state_to_string(m->state));
        if (m->state == MONITOR_STATE_RUNNING) {
                set_state(m, MONITOR_STATE_FREEZING);
                /* Timeout 0: start freezing, check once, never block here. */
                int r = cgroup_freeze(m->cgroup, 0, &e);
                if (r == 0) {
                        set_state(m, MONITOR_STATE_FROZEN);
                        return reply_ok(m, c, MONITOR_CMD_FREEZE, NULL, -EBADF);
                }
                if (r != -ETIMEDOUT) {
                        (void) cgroup_unfreeze(m->cgroup, 1000U * 1000U, NULL);
                        set_state(m, MONITOR_STATE_RUNNING);
                        return reply_error(m, c, MONITOR_CMD_FREEZE, -r, "%s", warren_error_message(&e));
                }
                (void) arm_timer(m->freeze_timer_fd, 0, FREEZE_POLL_NSEC, true);
        }
        c->waiting = MONITOR_CMD_FREEZE;
        client_update(m, c);
}

static void handle_unfreeze(Monitor *m, Client *c) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        if (m->state == MONITOR_STATE_RUNNING)
                return reply_ok(m, c, MONITOR_CMD_UNFREEZE, NULL, -EBADF);
        if (m->state != MONITOR_STATE_FROZEN && m->state != MONITOR_STATE_FREEZING)
                return reply_error(m, c, MONITOR_CMD_UNFREEZE, EBUSY,
                                   "Cannot unfreeze container '%s': it is %s", m->o->name,
                                   monitor_state_to_string(m->state));
        (void) arm_timer(m->freeze_timer_fd, 0, 0, false);
        int r = cgroup_unfreeze(m->cgroup, 1000U * 1000U, &e);
        if (r < 0)
                return reply_error(m, c, MONITOR_CMD_UNFREEZE, -r, "%s", warren_error_message(&e));
        finish_waiting(m, MONITOR_CMD_FREEZE, ECANCELED, "The container was unfrozen before it froze");
        set_state(m, MONITOR_STATE_RUNNING);
        reply_ok(m, c, MONITOR_CMD_UNFREEZE, NULL, -EBADF);
}

static void handle_get_tty(Monitor *m, Client *c, const MonitorRequest *req) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_close_ int master = -EBADF;
        const char *name;
        int r = monitor_ttys_acquire(m->ttys, req->arg, &master, &name, &e);
        if (r < 0)
                return reply_error(m, c, MONITOR_CMD_GET_TTY, -r, "%s", warren_error_message(&e));
        reply_ok(m, c, MONITOR_CMD_GET_TTY, name, master);
}

static void handle_get_console_log(Monitor *m, Client *c) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_close_ int fd = -EBADF;
        int r = monitor_ttys_console_log(m->ttys, &fd, &e);
        if (r < 0)
                return reply_error(m, c, MONITOR_CMD_GET_CONSOLE_LOG, -r, "%s", warren_error_message(&e));
        reply_ok(m, c, MONITOR_CMD_GET_CONSOLE_LOG, NULL, fd);
}

static void handle_request(Monitor *m, Client *c, const MonitorRequest *req) {
        MonitorCommand cmd = (MonitorCommand) req->command;
        log_debug("Request %s(%u, %u) from client %u", monitor_command_to_string(cmd), req->arg, req->flags,
                  c->index);
        switch (cmd) {
        case MONITOR_CMD_GET_STATE:
                return reply_ok(m, c, cmd, cgroup_get_path(m->cgroup), -EBADF);
        case MONITOR_CMD_PIDFD:
                if (init_alive(m, c, cmd))
                        reply_ok(m, c, cmd, NULL, m->init_pidfd);
                return;
        case MONITOR_CMD_STOP:
                return handle_stop(m, c, req);
        case MONITOR_CMD_REBOOT:
                return handle_reboot(m, c);
        case MONITOR_CMD_KILL:
                return handle_kill(m, c, req);
        case MONITOR_CMD_FREEZE:
                return handle_freeze(m, c);
        case MONITOR_CMD_UNFREEZE:
                return handle_unfreeze(m, c);
        case MONITOR_CMD_GET_TTY:
                return handle_get_tty(m, c, req);
        case MONITOR_CMD_SUBSCRIBE:
                c->subscribed = true;
                return reply_ok(m, c, cmd, cgroup_get_path(m->cgroup), -EBADF);
        case MONITOR_CMD_GET_CONSOLE_LOG:
                return handle_get_console_log(m, c);
        default:
                return reply_error(m, c, MONITOR_CMD_INVALID, EOPNOTSUPP, "Unknown monitor request %u",
                                   req->command);
        }
}

static void client_on_event(Monitor *m, Client *c, uint32_t events) {
        if (events & EPOLLOUT)
                client_flush(m, c);
        if (c->broken || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return;
        if (c->waiting != MONITOR_CMD_INVALID) {
                /* No new request before the deferred reply; a hangup means
                 * nobody is left to answer. */
                if (events & (EPOLLHUP | EPOLLERR))
                        c->broken = true;
                return;
        }
        char buf[MONITOR_MESSAGE_MAX];
        ssize_t k = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (k <= 0) {
                c->broken = true;
                return;
        }
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        MonitorRequest req;
        int r = monitor_request_check(buf, (size_t) k, &req, &e);
        if (r < 0)
                return reply_error(m, c, MONITOR_CMD_INVALID, -r, "%s", warren_error_message(&e));
        handle_request(m, c, &req);
}

static void on_listen(Monitor *m) {
        _cleanup_close_ int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        char buf[MONITOR_MESSAGE_MAX];
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
                size_t n = monitor_reply_encode(buf, MONITOR_CMD_INVALID, EPERM, m->state, 0, m->pid, 0,
                                                "Permission denied: only root may use the monitor socket");
                (void) send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                return;
        }
        unsigned i = 0;
        while (i < MAX_CLIENTS && m->clients[i])
                i++;
        if (i == MAX_CLIENTS) {
                size_t n = monitor_reply_encode(buf, MONITOR_CMD_INVALID, EBUSY, m->state, m->init_pid,
                                                m->pid, m->tty_max, "Too many clients of this monitor");
                (void) send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                return;
        }
        Client *c = calloc(1, sizeof(Client));
        if (!c)
                return;
        *c = (Client){ .index = i, .fd = fd, .mask = EPOLLIN };
        if (epoll_add(m, fd, TAG(TAG_CLIENT, i), EPOLLIN) < 0) {
                free(c);
                return;
        }
        TAKE_FD(fd);
        m->clients[i] = c;
}

static void dispatch(Monitor *m, uint64_t tag, uint32_t events) {
        uint32_t idx = (uint32_t) tag;
        switch ((Tag) (tag >> 32)) {
        case TAG_LISTEN:
                return on_listen(m);
        case TAG_SIGNAL:
                return on_signal(m);
        case TAG_STOP_TIMER:
                return on_stop_timer(m);
        case TAG_FREEZE_TIMER:
                return on_freeze_timer(m);
        case TAG_CLIENT:
                if (idx < MAX_CLIENTS && m->clients[idx])
                        client_on_event(m, m->clients[idx], events);
                return;
        case TAG_MASTER:
        case TAG_PROXY:
                if (m->ttys)
                        monitor_ttys_dispatch(m->ttys, (uint32_t) (tag >> 32), idx, events);
                return;
        }
}

static int monitor_loop(Monitor *m) {
        struct epoll_event ev[32];
        while (!m->done) {
                int n = epoll_wait(m->epoll_fd, ev, (int) ELEMENTSOF(ev), -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_debug_errno(errno, "epoll_wait failed: %m");
                }
                for (int i = 0; i < n; i++)
                        dispatch(m, ev[i].data.u64, ev[i].events);
                clients_gc(m);
        }
        return 0;
}

/* ---- setup and teardown ---- */

static int detach(Monitor *m, WarrenError *reterr) {
        /* Our own session: warrend's death or its terminal's hangup is no concern of ours. */
        if (setsid() < 0)
                log_debug_errno(errno, "setsid() failed, continuing: %m");
        if (chdir("/") < 0)
                return warren_error_set(reterr, errno, "Failed to chdir to /: %m");
        _cleanup_close_ int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null_fd < 0)
                return warren_error_set(reterr, errno, "Failed to open /dev/null: %m");
        _cleanup_close_ int log_fd = -EBADF;
        if (m->o->log_path) {
                log_fd = open(m->o->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
                if (log_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open log file '%s': %m",
                                                m->o->log_path);
        }
        if (m->sync_fd >= 0 && m->sync_fd < 3) {
                int fd = fcntl(m->sync_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return warren_error_set(reterr, errno, "Failed to move the sync fd: %m");
                m->sync_fd = fd;
        }
        if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
            dup2(log_fd >= 0 ? log_fd : null_fd, STDERR_FILENO) < 0)
                return warren_error_set(reterr, errno, "Failed to redirect stdio: %m");
        /* Nothing of warrend's may stay open here (and later leak into init). */
        if (m->sync_fd >= 3) {
                if (m->sync_fd > 3)
                        (void) close_range(3, (unsigned) m->sync_fd - 1, 0);
                (void) close_range((unsigned) m->sync_fd + 1, ~0U, 0);
                (void) fcntl(m->sync_fd, F_SETFD, FD_CLOEXEC);
        } else
                (void) close_range(3, ~0U, 0);
        TAKE_FD(null_fd);
        /* Diagnostics go to the journal when one listens, as a service's do. */
        if (log_fd < 0)
                (void) log_use_journal_if_listening();
        TAKE_FD(log_fd);
        umask(0022);
        return 0;
}

static int setup_signals(Monitor *m, WarrenError *reterr) {
        /* Start from a clean slate: whatever our spawner ignored would pass on to init. */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&m->blocked);
        sigaddset(&m->blocked, SIGCHLD);
        /* These stop the container, like a service manager stopping us would mean. */
        sigaddset(&m->blocked, SIGTERM);
        sigaddset(&m->blocked, SIGINT);
        sigaddset(&m->blocked, SIGHUP);
        if (sigprocmask(SIG_SETMASK, &m->blocked, NULL) < 0)
                return warren_error_set(reterr, errno, "Failed to block signals: %m");
        m->signal_fd = signalfd(-1, &m->blocked, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m->signal_fd < 0)
                return warren_error_set(reterr, errno, "Failed to create signalfd: %m");
        return 0;
}

static int setup_loop(Monitor *m, WarrenError *reterr) {
        m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epoll_fd < 0)
                return warren_error_set(reterr, errno, "Failed to create epoll fd: %m");
        m->stop_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        m->freeze_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (m->stop_timer_fd < 0 || m->freeze_timer_fd < 0)
                return warren_error_set(reterr, errno, "Failed to create timerfd: %m");
        int r = epoll_add(m, m->signal_fd, TAG(TAG_SIGNAL, 0), EPOLLIN);
        if (r >= 0)
                r = epoll_add(m, m->stop_timer_fd, TAG(TAG_STOP_TIMER, 0), EPOLLIN);
        if (r >= 0)
                r = epoll_add(m, m->freeze_timer_fd, TAG(TAG_FREEZE_TIMER, 0), EPOLLIN);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to set up epoll: %s", strerror(-r));
        return 0;
}

/* Locks <runtime>/containers/NAME/lock. The previous monitor removes the
 * directory while holding the lock, so a lock taken on a file that is no
 * longer at its path is worthless: retry then. */
static int take_lock(Monitor *m, WarrenError *reterr) {
        _cleanup_free_ char *parent = NULL;
        if (asprintf(&parent, "%s/containers", m->o->runtime_dir) < 0 ||
            !(m->dir_path = monitor_dir_path(m->o->runtime_dir, m->o->name)))
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        int r = mkdir_p(parent, 0755);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create runtime directory %s: %s", parent,
                                        strerror(-r));

        for (unsigned attempt = 0; attempt < 8; attempt++) {
                m->lock_fd = safe_close(m->lock_fd);
                m->dir_fd = safe_close(m->dir_fd);
                if (mkdir(m->dir_path, 0700) < 0 && errno != EEXIST)
                        return warren_error_set(reterr, errno, "Failed to create %s: %m", m->dir_path);
                m->dir_fd = open(m->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (m->dir_fd < 0 && errno == ENOENT)
                        continue;
                if (m->dir_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open %s: %m", m->dir_path);
                m->lock_fd = openat(m->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (m->lock_fd < 0 && errno == ENOENT)
                        continue;
                if (m->lock_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open %s/lock: %m", m->dir_path);
                if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                        if (errno == EWOULDBLOCK)
                                return warren_error_set(
                                        reterr, EALREADY,
                                        "Container '%s' is already running (another monitor holds %s/lock)",
                                        m->o->name, m->dir_path);
                        return warren_error_set(reterr, errno, "Failed to lock %s/lock: %m", m->dir_path);
                }
                _cleanup_free_ char *lock_path = NULL;
                struct stat a, b;
                if (asprintf(&lock_path, "%s/lock", m->dir_path) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                if (fstat(m->lock_fd, &a) < 0 || lstat(lock_path, &b) < 0 || a.st_ino != b.st_ino ||
                    a.st_dev != b.st_dev)
                        continue;
                m->owns_dir = true;
                (void) fchmod(m->dir_fd, 0700);
                /* Leftovers of a monitor that was killed. */
                (void) unlinkat(m->dir_fd, "control", 0);
                (void) unlinkat(m->dir_fd, "state.tmp", 0);
                (void) unlinkat(m->dir_fd, MONITOR_ATTACH_SOCKET, 0);
                (void) unlinkat(m->dir_fd, MONITOR_ATTACH_SOCKET_NEW, 0);
                return 0;
        }
        return warren_error_set(reterr, EAGAIN, "Failed to lock %s: it keeps being replaced", m->dir_path);
}

/* lxc.idmap: any line makes the container unprivileged. The service has
 * checked the lines against the owner's subordinate ranges; here they must
 * be consistent and map the container's root. */
static int load_idmap(Monitor *m, WarrenError *reterr) {
        _cleanup_idmap_ Idmap *map = NULL;
        uint32_t uid, gid, tty;
        int r = idmap_from_config(m->config, &map, reterr);
        if (r < 0)
                return r;
        if (map->n == 0)
                return 0;
        r = idmap_verify(map, reterr);
        if (r < 0)
                return r;
        if (idmap_to_host(map, IDMAP_UID, 0, &uid) < 0)
                return warren_error_set(reterr, EINVAL,
                                        "lxc.idmap of container '%s' maps no uid 0: the container's root "
                                        "must be mapped (e.g. 'u 0 100000 65536')",
                                        m->o->name);
        if (idmap_to_host(map, IDMAP_GID, 0, &gid) < 0)
                return warren_error_set(reterr, EINVAL,
                                        "lxc.idmap of container '%s' maps no gid 0: the container's root "
                                        "group must be mapped (e.g. 'g 0 100000 65536')",
                                        m->o->name);
        /* The ptys go to group tty (5) inside where it is mapped, as devpts does. */
        m->root_uid = uid;
        m->root_gid = gid;
        m->tty_gid = idmap_to_host(map, IDMAP_GID, 5, &tty) >= 0 ? tty : gid;
        m->idmap = TAKE_PTR(map);
        return 0;
}

/* A container made by hand (no owner file) is root's, as for the service,
 * which never starts one it cannot tell the owner of. */
static int load_owner(Monitor *m, WarrenError *reterr) {
        _cleanup_store_ Store *store = NULL;
        int r = store_open(m->o->state_dir, &store, reterr);
        if (r < 0)
                return r;
        r = store_get_owner(store, m->o->name, &m->owner_uid);
        if (r == -ENOENT)
                m->owner_uid = 0;
        else if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the owner of container '%s': %s",
                                        m->o->name, strerror(-r));
        m->owner_gid = m->owner_uid == 0 ? 0 : policy_owner_gid(m->owner_uid);
        return 0;
}

static int load_config(Monitor *m, WarrenError *reterr) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/containers/%s/config", m->o->state_dir, m->o->name) < 0 ||
            !(m->config_path = strdup(path)) || !(m->config = lxc_config_new()))
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return warren_error_set(reterr, ENOENT, "Container '%s' does not exist (no %s)", m->o->name,
                                        path);
        LxcParseOptions po = { .include_mode = LXC_INCLUDE_EXPAND };
        r = lxc_config_load(m->config, path, &po, reterr);
        if (r < 0)
                return r;
        r = load_owner(m, reterr);
        if (r < 0)
                return r;

        r = config_tty_max(lxc_config_get(m->config, "lxc.tty.max"), &m->tty_max, reterr);
        if (r < 0)
                return r;
        const char *s;

        s = lxc_config_get(m->config, "lxc.console.path");
        if (s && !streq(s, "none"))
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "lxc.console.path '%s' is not supported: only 'none' (or unset)", s);
        m->has_console = !s;
        r = monitor_ttys_parse_buffer_size(lxc_config_get(m->config, "lxc.console.buffer.size"),
                                           &m->console_buffer_size, reterr);
        if (r < 0)
                return r;

        static const struct {
                const char *key;
                int def;
                size_t offset;
        } signals[] = {
                { "lxc.signal.halt", 0, offsetof(Monitor, halt_signal) },
                { "lxc.signal.reboot", SIGINT, offsetof(Monitor, reboot_signal) },
                { "lxc.signal.stop", SIGKILL, offsetof(Monitor, stop_signal) },
        };
        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                int *dest = (int *) ((char *) m + signals[i].offset);
                s = lxc_config_get(m->config, signals[i].key);
                *dest = signals[i].def;
                if (s && (r = monitor_parse_signal(s, dest, reterr)) < 0) {
                        warren_error_prefix(reterr, "%s", signals[i].key);
                        return r;
                }
        }

        r = load_idmap(m, reterr);
        if (r < 0)
                return r;
        /* Host-reaching network types need a privileged (root-owned, no
         * idmap) container; the bridges must exist now. */
        m->net_flags = m->idmap ? 0 : NETWORK_CHECK_PRIVILEGED;
        r = network_check_config(m->config, m->net_flags | NETWORK_CHECK_HOST | NETWORK_CHECK_START, reterr);
        if (r < 0)
                return r;
        /* What SetConfig accepts, and nothing else, starts: the same rules,
         * before anything (a hook, a cgroup) is made. */
        r = config_check(m->config, reterr);
        if (r < 0)
                return r;

        m->rootfs = container_rootfs_from_config(m->config);
        if (!m->rootfs && asprintf(&m->rootfs, "%s/containers/%s/rootfs", m->o->state_dir, m->o->name) < 0)
                m->rootfs = NULL;
        if (!m->rootfs)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        struct stat st;
        if (stat(m->rootfs, &st) < 0)
                return warren_error_set(reterr, errno, "Root filesystem '%s' of container '%s' %s",
                                        m->rootfs, m->o->name,
                                        errno == ENOENT ? "does not exist" : strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return warren_error_set(reterr, ENOTDIR,
                                        "Root filesystem '%s' of container '%s' is not a directory",
                                        m->rootfs, m->o->name);
        return 0;
}

/* Creates the cgroup (in every hierarchy), applies the config's limits and,
 * for an unprivileged container, delegates it. */
static int make_cgroup(Monitor *m, WarrenError *reterr) {
        _cleanup_strv_free_ char **ignored = NULL;
        /* A warm monitor's spares become the cgroups, its stub in them. */
        int r = m->warm ? monitor_warm_take_cgroup(m->warm, m->cgroup, reterr) : 0;
        if (r == 0)
                r = cgroup_create(m->cgroup, reterr);
        if (r < 0)
                return r;
        m->cgroup_created = true;
        r = cgroup_apply_config(m->cgroup, m->config, &ignored, reterr);
        if (r < 0)
                return r;
        STRV_FOREACH(i, ignored)
                log_debug("Ignored %s", *i);
        /* The container's root may manage its own subtree (a systemd or a
         * nested container inside), never the limits set above: those
         * files stay root's. */
        if (m->idmap)
                return cgroup_delegate(m->cgroup, m->root_uid, m->root_gid, reterr);
        return 0;
}

/* Ours, /MONITOR_CGROUP_PARENT/NAME at each hierarchy's root; or, once
 * the host placed us in a cgroup delegated to us (a systemd scope), below
 * that: <base>/MONITOR_CGROUP_PAYLOAD, with ourselves moved to
 * <base>/MONITOR_CGROUP_SELF so that base may hand controllers down. */
static int setup_cgroup(Monitor *m, WarrenError *reterr) {
        _cleanup_free_ char *base = NULL;
        int r = cgroup_layout_detect(&m->layout, reterr);
        if (r < 0)
                return r;
        if (!m->placed)
                r = cgroup_new(m->layout, MONITOR_CGROUP_PARENT, m->o->name, &m->cgroup, reterr);
        else {
                r = cgroup_pid_path(0, &base, reterr);
                if (r >= 0)
                        r = cgroup_move_below(m->layout, base, MONITOR_CGROUP_SELF, 0, reterr);
                if (r >= 0)
                        r = cgroup_new_delegated(m->layout, base, MONITOR_CGROUP_PAYLOAD, &m->cgroup,
                                                 reterr);
        }
        if (r >= 0)
                r = make_cgroup(m, reterr);
        return r;
}

static int place(Monitor *m, WarrenError *reterr) {
        const MonitorHooks *h = m->o->hooks;
        if (!h || !h->place)
                return 0;
        int r = h->place(m->o->name, h->userdata, reterr);
        if (r < 0)
                return r;
        m->placed = r > 0;
        return 0;
}

static int setup_socket(Monitor *m, WarrenError *reterr) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(m->dir_path) + strlen("/control") >= sizeof(sa.sun_path))
                return warren_error_set(reterr, ENAMETOOLONG,
                                        "Runtime directory '%s' is too long for a socket path", m->dir_path);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", m->dir_path);
        m->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (m->listen_fd < 0)
                return warren_error_set(reterr, errno, "Failed to create control socket: %m");
        /* Born 0600: root only (the directory is 0700 as well). */
        mode_t old = umask(0177);
        int r = bind(m->listen_fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old);
        /* warrend connects without waiting and takes a full queue for a
         * stuck monitor: room for a burst of calls to a healthy one. */
        if (r < 0 || listen(m->listen_fd, LISTEN_BACKLOG) < 0)
                return warren_error_set(reterr, errno, "Failed to listen on %s: %m", sa.sun_path);
        r = epoll_add(m, m->listen_fd, TAG(TAG_LISTEN, 0), EPOLLIN);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to watch control socket: %s", strerror(-r));
        return 0;
}

static int setup(Monitor *m, WarrenError *reterr) {
        int r = container_name_validate(m->o->name, reterr);
        if (r < 0)
                return r;
        /* Orphans of the container get reparented to us, not to a PID 1 that may reap late. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return warren_error_set(reterr, errno, "Failed to become a child subreaper: %m");
        if ((r = setup_signals(m, reterr)) < 0 || (r = setup_loop(m, reterr)) < 0 ||
            (r = take_lock(m, reterr)) < 0)
                return r;
        set_state(m, MONITOR_STATE_STARTING);
        if ((r = place(m, reterr)) < 0 || (r = load_config(m, reterr)) < 0 ||
            (r = run_pre_start(m, reterr)) < 0 || (r = setup_cgroup(m, reterr)) < 0)
                return r;
        r = monitor_ttys_new(m->epoll_fd, TAG_MASTER, TAG_PROXY, m->has_console, m->tty_max,
                             m->console_buffer_size, lxc_config_get(m->config, "lxc.console.logfile"),
                             &m->ttys, reterr);
        if (r >= 0 && m->idmap)
                r = monitor_ttys_chown(m->ttys, m->root_uid, m->tty_gid, reterr);
        if (r < 0 || (r = setup_socket(m, reterr)) < 0 || (r = spawn_init(m, reterr)) < 0)
                return r;
        set_state(m, MONITOR_STATE_RUNNING);
        hook_running(m);
        return 0;
}

/* Leaves nothing: init and every process of the cgroup dead and reaped, the
 * cgroup gone from every hierarchy, ptys closed, runtime files removed. Then
 * the waiting STOP requests are answered. */
static void teardown(Monitor *m) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        if (m->init_ran)
                hook_stopped(m);
        if (m->init_pid > 0) {
                signal_init(m, SIGKILL);
                while (waitpid(m->init_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                m->init_pid = 0;
                m->init_pidfd = safe_close(m->init_pidfd);
        }
        restore_phys(m);
        if (m->config)
                (void) network_teardown_container(m->o->name, NULL);
        /* A stub still parked in the container's cgroups goes first, and
         * the attach helper that lives there. */
        m->warm = monitor_warm_free(m->warm);
        stop_attach_helper(m);
        if (m->cgroup_created) {
                empty_cgroup(m);
                if (cgroup_remove(m->cgroup, &e) < 0)
                        log_debug("%s", warren_error_message(&e));
                m->cgroup_created = false;
        }
        if (m->config)
                run_stop_hooks(m, "stop");
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        /* Init's last lines may still be in the ptys: the loop ended when it exited. */
        monitor_ttys_drain(m->ttys, TTY_DRAIN_TIMEOUT_MS);
        m->ttys = monitor_ttys_free(m->ttys);
        m->listen_fd = safe_close(m->listen_fd);
        if (m->owns_dir) {
                static const char *const files[] = {
                        "control", MONITOR_ATTACH_SOCKET, MONITOR_ATTACH_SOCKET_NEW,
                        "state",   "state.tmp",           "lock"
                };
                for (size_t i = 0; i < ELEMENTSOF(files); i++)
                        (void) unlinkat(m->dir_fd, files[i], 0);
                if (rmdir(m->dir_path) < 0)
                        log_debug_errno(errno, "Failed to remove %s: %m", m->dir_path);
                m->owns_dir = false;
        }
        m->lock_fd = safe_close(m->lock_fd);

        set_state(m, MONITOR_STATE_STOPPED);
        finish_waiting(m, MONITOR_CMD_STOP, 0, NULL);
        finish_waiting(m, MONITOR_CMD_FREEZE, ESRCH, "The container stopped");
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
                if (m->clients[i]) {
                        client_flush(m, m->clients[i]);
                        client_free(m, m->clients[i]);
                }
}

/* A warm monitor: spares, stub and pool socket, then the wait for a TAKE.
 * 1 once taken (name and sync fd set), 0 when told to go. */
static int warm_up(Monitor *m, WarrenError *reterr) {
        int r = monitor_warm_new(m->o->runtime_dir, TAKE_FD(m->sync_fd), &m->warm, reterr);
        if (r < 0)
                return r;
        r = monitor_warm_wait(m->warm, &m->taken_name, &m->sync_fd, reterr);
        if (r <= 0) {
                m->warm = monitor_warm_free(m->warm);
                return r;
        }
        m->opts.name = m->taken_name;
        if (m->o->on_take)
                m->o->on_take(m->taken_name);
        return 1;
}

static void report_sync(Monitor *m, int r, const WarrenError *e) {
        if (m->sync_fd < 0)
                return;
        char buf[MONITOR_MESSAGE_MAX];
        /* Success says where the container's cgroup is, as STATE events do. */
        size_t n = monitor_reply_encode(buf, MONITOR_SYNC_RESULT, r < 0 ? -r : 0, m->state, m->init_pid,
                                        m->pid, m->tty_max,
                                        r < 0       ? warren_error_message(e)
                                        : m->cgroup ? cgroup_get_path(m->cgroup)
                                                    : NULL);
        if (send(m->sync_fd, buf, n, MSG_NOSIGNAL) < 0)
                log_debug_errno(errno, "Failed to report the start result: %m");
        m->sync_fd = safe_close(m->sync_fd);
}

static Monitor *monitor_free(Monitor *m) {
        if (!m)
                return NULL;
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
                client_free(m, m->clients[i]);
        monitor_ttys_free(m->ttys);
        safe_close(m->init_pidfd);
        safe_close(m->netns_fd);
        safe_close(m->listen_fd);
        safe_close(m->stop_timer_fd);
        safe_close(m->freeze_timer_fd);
        safe_close(m->signal_fd);
        safe_close(m->epoll_fd);
        safe_close(m->sync_fd);
        safe_close(m->lock_fd);
        safe_close(m->dir_fd);
        free(m->dir_path);
        cgroup_free(m->cgroup);
        cgroup_layout_free(m->layout);
        free(m->rootfs);
        free(m->config_path);
        idmap_free(m->idmap);
        lxc_config_free(m->config);
        monitor_warm_free(m->warm);
        safe_close(m->attach_pidfd);
        free(m->attach_path);
        free(m->taken_name);
        free(m);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(Monitor *, monitor_free);

int monitor_run(const MonitorOptions *o, WarrenError *reterr) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_(monitor_freep) Monitor *m = calloc(1, sizeof(Monitor));
        if (!m) {
                safe_close(o->sync_fd);
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        *m = (Monitor){
                .opts = *o,
                .pid = getpid(),
                .sync_fd = o->sync_fd,
                .epoll_fd = -EBADF,
                .signal_fd = -EBADF,
                .listen_fd = -EBADF,
                .stop_timer_fd = -EBADF,
                .freeze_timer_fd = -EBADF,
                .lock_fd = -EBADF,
                .dir_fd = -EBADF,
                .init_pidfd = -EBADF,
                .netns_fd = -EBADF,
                .attach_pidfd = -EBADF,
        };
        m->o = &m->opts;

        int r = o->detach ? detach(m, &e) : 0;
        if (r >= 0 && o->pool) {
                r = warm_up(m, &e);
                if (r == 0)
                        return 0; /* retired before any take */
                if (r < 0)
                        return warren_error_set(reterr, r, "Warm monitor failed: %s",
                                                warren_error_message(&e));
        }
        if (r >= 0)
                r = setup(m, &e);
        if (r < 0) {
                if (m->owns_dir)
                        set_state(m, MONITOR_STATE_ABORTING);
                teardown(m);
                report_sync(m, r, &e);
                return warren_error_set(reterr, r, "%s", warren_error_message(&e));
        }
        report_sync(m, 0, NULL);

        r = monitor_loop(m);
        bool aborted = m->state == MONITOR_STATE_ABORTING;
        teardown(m);
        if (r < 0)
                return warren_error_set(reterr, r, "Monitor of '%s' failed: %s", o->name, strerror(-r));
        if (aborted)
                return warren_error_set(reterr, EIO, "Container '%s' failed to restart after a reboot",
                                        o->name);
        return 0;
}
