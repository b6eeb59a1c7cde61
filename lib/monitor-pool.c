/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/sched.h>
#include <sys/pidfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "monitor-client.h"
#include "monitor-attach.h"
#include "monitor-pool.h"
#include "monitor-tty.h"
#include "monitor-proto.h"
#include "monitor-stub.h"
#include "monitor.h"
#include "name.h"

#define WARM_CLIENTS_MAX 8U

struct MonitorWarm {
        pid_t pid;
        char *dir; /* <runtime>/pool/PID */
        int dir_fd, lock_fd, listen_fd, epoll_fd, signal_fd;
        int clients[WARM_CLIENTS_MAX];
        CgroupLayout *layout;
        Cgroup *spare;
        SpawnStub *stub;
        bool stub_taken;                  /* the spares became the container's cgroups */
        PtySpare ptys[MONITOR_WARM_PTYS]; /* a console and 4 ttys, opened ahead */
        /* An attach helper made ahead, in the spares (AttachHelperStandby) */
        pid_t helper_pid;
        int helper_pidfd, helper_fd;
        const char *runtime_dir;
        void (*retitle_helper)(const char *name);
};

enum {
        TAG_LISTEN = WARM_CLIENTS_MAX,
        TAG_SIGNAL,
        TAG_STUB
};

static char *pool_path(const char *runtime_dir, pid_t pid, const char *file) {
        char *p = NULL;
        if (asprintf(&p, "%s/pool/%d%s%s", runtime_dir, (int) pid, file ? "/" : "", strempty(file)) < 0)
                return NULL;
        return p;
}

/* ---- the warm monitor's side ---- */

static void release_pool_dir(MonitorWarm *w) {
        if (w->dir_fd >= 0) {
                (void) unlinkat(w->dir_fd, "control", 0);
                (void) unlinkat(w->dir_fd, "lock", 0);
                if (rmdir(w->dir) < 0)
                        log_debug_errno(errno, "Failed to remove %s: %m", w->dir);
        }
        w->dir_fd = safe_close(w->dir_fd);
        w->lock_fd = safe_close(w->lock_fd);
}

static void close_loop(MonitorWarm *w) {
        for (unsigned i = 0; i < WARM_CLIENTS_MAX; i++)
                w->clients[i] = safe_close(w->clients[i]);
        w->listen_fd = safe_close(w->listen_fd);
        w->signal_fd = safe_close(w->signal_fd);
        w->epoll_fd = safe_close(w->epoll_fd);
        if (w->dir_fd >= 0)
                (void) unlinkat(w->dir_fd, "control", 0);
}

static void drop_helper(MonitorWarm *w) {
        if (w->helper_pid > 0) {
                (void) pidfd_send_signal(w->helper_pidfd, SIGKILL, NULL, 0);
                while (waitid(P_PIDFD, (id_t) w->helper_pidfd, &(siginfo_t){}, WEXITED) < 0 &&
                       errno == EINTR)
                        ;
        }
        w->helper_pid = 0;
        w->helper_pidfd = safe_close(w->helper_pidfd);
        w->helper_fd = safe_close(w->helper_fd);
}

static void drop_spares(MonitorWarm *w) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        drop_helper(w);
        w->stub = spawn_stub_free(w->stub); /* reaped: its cgroups are empty */
        if (w->spare && !w->stub_taken && cgroup_remove(w->spare, &e) < 0)
                log_debug("%s", warren_error_message(&e));
        w->spare = cgroup_free(w->spare);
}

void monitor_warm_done(MonitorWarm *w) {
        if (!w)
                return;
        drop_spares(w);
        release_pool_dir(w);
}

MonitorWarm *monitor_warm_free(MonitorWarm *w) {
        if (!w)
                return NULL;
        close_loop(w);
        monitor_warm_done(w);
        for (size_t i = 0; i < MONITOR_WARM_PTYS; i++)
                pty_spare_clear(&w->ptys[i]);
        cgroup_layout_free(w->layout);
        free(w->dir);
        free(w);
        return NULL;
}

static int epoll_add(MonitorWarm *w, int fd, uint64_t tag) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
        return epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* <runtime>/pool/PID, locked: a dir of a dead process that had our pid is
 * ours to reuse. */
static int make_pool_dir(MonitorWarm *w, const char *runtime_dir, WarrenError *reterr) {
        _cleanup_free_ char *parent = NULL;
        if (asprintf(&parent, "%s/pool", runtime_dir) < 0 ||
            !(w->dir = pool_path(runtime_dir, w->pid, NULL)))
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        int r = mkdir_p(parent, 0700);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create %s: %s", parent, strerror(-r));
        if (mkdir(w->dir, 0700) < 0 && errno != EEXIST)
                return warren_error_set(reterr, errno, "Failed to create %s: %m", w->dir);
        w->dir_fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (w->dir_fd < 0)
                return warren_error_set(reterr, errno, "Failed to open %s: %m", w->dir);
        (void) fchmod(w->dir_fd, 0700);
        w->lock_fd = openat(w->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (w->lock_fd < 0 || flock(w->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return warren_error_set(reterr, errno, "Failed to lock %s/lock: %m", w->dir);
        (void) unlinkat(w->dir_fd, "control", 0);
        return 0;
}

/* The container's attach helper, made now by the stub (so in the spares),
 * told which container at the take. Only an optimization too. */
static void make_helper(MonitorWarm *w) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        int sv[2], pidfd = -EBADF;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return;
        AttachHelperStandby sb = {
                .monitor = w->pid,
                .fd = sv[1],
                .runtime_dir = w->runtime_dir,
                .layout = w->layout,
                .retitle = w->retitle_helper,
        };
        struct clone_args args = { .flags = CLONE_PIDFD, .pidfd = (uint64_t) (uintptr_t) &pidfd };
        pid_t pid = spawn_stub_clone(w->stub, &args, attach_helper_standby_main, &sb, &e);
        safe_close(sv[1]);
        if (pid < 0) {
                log_debug("No attach helper made ahead: %s", warren_error_message(&e));
                safe_close(sv[0]);
                return;
        }
        w->helper_pid = pid;
        w->helper_pidfd = pidfd;
        w->helper_fd = sv[0];
}

/* The spare v1 cgroups with the stub in them. Only an optimization:
 * anything failing here leaves a warm monitor without spares. */
static void make_spares(MonitorWarm *w) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        char name[64];
        snprintf(name, sizeof name, MONITOR_POOL_PREFIX "%d", (int) w->pid);
        int r = cgroup_layout_detect(&w->layout, &e);
        if (r < 0 || w->layout->n_v1 == 0)
                return;
        r = cgroup_new(w->layout, MONITOR_CGROUP_PARENT, name, &w->spare, &e);
        if (r >= 0 && cgroup_exists(w->spare)) {
                /* Left by a dead warm monitor that had our pid. */
                (void) cgroup_kill_tree(w->spare, NULL);
                r = cgroup_remove(w->spare, &e);
        }
        if (r >= 0)
                r = cgroup_create_v1(w->spare, &e);
        if (r < 0) {
                w->spare = cgroup_free(w->spare);
                log_debug("No spare cgroups: %s", warren_error_message(&e));
                return;
        }
        r = spawn_stub_new(&w->stub, &e);
        /* The one cgroup-v1 move of this container's start, paid now. */
        if (r >= 0)
                r = cgroup_attach_v1(w->spare, spawn_stub_pid(w->stub), &e);
        if (r < 0) {
                log_debug("No spare cgroups: %s", warren_error_message(&e));
                drop_spares(w);
                return;
        }
        make_helper(w);
}

static int make_socket(MonitorWarm *w, WarrenError *reterr) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/control", w->dir) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        int r = w->listen_fd = seqpacket_listen_private(path, NULL, 16);
        if (r == -ENAMETOOLONG)
                return warren_error_set(reterr, r, "Runtime directory '%s' is too long for a socket",
                                        w->dir);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to listen on %s: %s", path, strerror(-r));
        return 0;
}

static int setup_loop(MonitorWarm *w, WarrenError *reterr) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return warren_error_set(reterr, errno, "Failed to block signals: %m");
        w->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (w->signal_fd < 0 || w->epoll_fd < 0)
                return warren_error_set(reterr, errno, "Failed to set up the warm monitor's loop: %m");
        int r = epoll_add(w, w->signal_fd, TAG_SIGNAL);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to watch signals: %s", strerror(-r));
        return 0;
}

int monitor_warm_new(const char *runtime_dir, int sync_fd, void (*retitle_helper)(const char *name),
                     MonitorWarm **ret, WarrenError *reterr) {
        _cleanup_(monitor_warm_freep) MonitorWarm *w = calloc(1, sizeof *w);
        int r;
        if (!w) {
                safe_close(sync_fd);
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        *w = (MonitorWarm){ .pid = getpid(),
                            .dir_fd = -EBADF,
                            .lock_fd = -EBADF,
                            .listen_fd = -EBADF,
                            .epoll_fd = -EBADF,
                            .signal_fd = -EBADF,
                            .helper_pidfd = -EBADF,
                            .helper_fd = -EBADF,
                            .runtime_dir = runtime_dir,
                            .retitle_helper = retitle_helper };
        for (unsigned i = 0; i < WARM_CLIENTS_MAX; i++)
                w->clients[i] = -EBADF;
        for (size_t i = 0; i < MONITOR_WARM_PTYS; i++)
                w->ptys[i] = (PtySpare){ .master = -EBADF, .slave = -EBADF };
        w->clients[0] = sync_fd;
        /* Signals first: the stub inherits the mask. The lock before the
         * spares: a sweep never takes live spares for a dead one's. */
        if ((r = setup_loop(w, reterr)) < 0 || (r = make_pool_dir(w, runtime_dir, reterr)) < 0)
                return r;
        make_spares(w);
        /* Only an optimization too: a start opens what is missing. */
        for (size_t i = 0; i < MONITOR_WARM_PTYS; i++)
                if (pty_spare_open(&w->ptys[i], NULL) < 0)
                        break;
        r = make_socket(w, reterr);
        if (r < 0)
                return r;
        r = epoll_add(w, w->listen_fd, TAG_LISTEN);
        if (r >= 0 && w->stub)
                r = epoll_add(w, spawn_stub_pidfd(w->stub), TAG_STUB);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to set up the warm monitor's loop: %s",
                                        strerror(-r));
        if (sync_fd >= 0) {
                char buf[MONITOR_MESSAGE_MAX];
                size_t n = monitor_reply_encode(buf, MONITOR_POOL_READY, 0, MONITOR_STATE_STOPPED, 0, w->pid,
                                                0, NULL);
                if (send(sync_fd, buf, n, MSG_NOSIGNAL) < 0 || (r = epoll_add(w, sync_fd, 0)) < 0)
                        w->clients[0] = safe_close(w->clients[0]); /* warrend went: others may come */
        }
        *ret = TAKE_PTR(w);
        return 0;
}

static void on_listen(MonitorWarm *w) {
        _cleanup_close_ int fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0)
                return;
        for (unsigned i = 0; i < WARM_CLIENTS_MAX; i++)
                if (w->clients[i] < 0) {
                        if (epoll_add(w, fd, i) >= 0)
                                w->clients[i] = TAKE_FD(fd);
                        return;
                }
}

/* Tells the sender of a TAKE it cannot be done, on the fd it sent. */
static void refuse_take(int sync_fd, pid_t pid, const char *message) {
        char buf[MONITOR_MESSAGE_MAX];
        size_t n = monitor_reply_encode(buf, MONITOR_SYNC_RESULT, EINVAL, MONITOR_STATE_STOPPED, 0, pid, 0,
                                        message);
        (void) send(sync_fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* 1 with a TAKE read, 0 if the client is done or sent garbage (closed). */
static int on_client(MonitorWarm *w, unsigned i, char **ret_name, int *ret_sync_fd) {
        char buf[sizeof(MonitorRequest) + CONTAINER_NAME_MAX + 1];
        _cleanup_close_ int fd = -EBADF;
        size_t n_fds;
        ssize_t k = recv_with_fds(w->clients[i], buf, sizeof(buf), &fd, 1, &n_fds, MSG_DONTWAIT);
        if (k == -EAGAIN)
                return 0;
        MonitorRequest req;
        if (k < (ssize_t) sizeof(req)) {
                /* EOF (warrend went) or garbage: that connection is over. */
                (void) epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, w->clients[i], NULL);
                w->clients[i] = safe_close(w->clients[i]);
                return 0;
        }
        memcpy(&req, buf, sizeof(req));
        size_t len = (size_t) k - sizeof(req);
        char name[CONTAINER_NAME_MAX + 1];
        memcpy(name, buf + sizeof(req), MIN(len, (size_t) CONTAINER_NAME_MAX));
        name[MIN(len, (size_t) CONTAINER_NAME_MAX)] = 0;
        if (req.version != MONITOR_PROTO_VERSION || req.command != MONITOR_CMD_TAKE || fd < 0 ||
            req.arg != len || len > CONTAINER_NAME_MAX || strlen(name) != len ||
            !container_name_is_valid(name)) {
                log_debug("Refusing a pool request (command %u, %zu bytes of name)", req.command, len);
                if (fd >= 0)
                        refuse_take(fd, w->pid, "Invalid TAKE request to a warm monitor");
                return 0;
        }
        char *n = strdup(name);
        if (!n) {
                refuse_take(fd, w->pid, "Out of memory");
                return 0;
        }
        *ret_name = n;
        *ret_sync_fd = TAKE_FD(fd);
        return 1;
}

int monitor_warm_wait(MonitorWarm *w, char **ret_name, int *ret_sync_fd, WarrenError *reterr) {
        for (;;) {
                struct epoll_event ev[8];
                int n = epoll_wait(w->epoll_fd, ev, (int) ELEMENTSOF(ev), -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return warren_error_set(reterr, errno, "epoll_wait failed: %m");
                for (int i = 0; i < n; i++) {
                        uint64_t tag = ev[i].data.u64;
                        if (tag == TAG_LISTEN)
                                on_listen(w);
                        else if (tag == TAG_STUB) {
                                log_debug("The spawn stub died: retiring");
                                return 0;
                        } else if (tag == TAG_SIGNAL) {
                                struct signalfd_siginfo si;
                                while (read(w->signal_fd, &si, sizeof si) == (ssize_t) sizeof si)
                                        if (si.ssi_signo != SIGCHLD) {
                                                log_debug("Got signal %u: retiring", si.ssi_signo);
                                                return 0;
                                        }
                        } else if (tag < WARM_CLIENTS_MAX && w->clients[tag] >= 0 &&
                                   on_client(w, (unsigned) tag, ret_name, ret_sync_fd) > 0) {
                                close_loop(w);
                                return 1;
                        }
                }
        }
}

int monitor_warm_take_cgroup(MonitorWarm *w, Cgroup *cg, WarrenError *reterr) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        if (!w->spare || !w->stub) {
                monitor_warm_done(w);
                return 0;
        }
        int r = cgroup_create_from(cg, w->spare, &e);
        if (r < 0) {
                log_debug("Spare cgroups not taken: %s", warren_error_message(&e));
                monitor_warm_done(w);
                return 0;
        }
        w->stub_taken = true;
        w->spare = cgroup_free(w->spare);
        release_pool_dir(w);
        return 1;
}

SpawnStub *monitor_warm_stub(MonitorWarm *w) {
        return w && w->stub_taken ? w->stub : NULL;
}

PtySpare *monitor_warm_ptys(MonitorWarm *w, size_t *ret_n) {
        *ret_n = w ? MONITOR_WARM_PTYS : 0;
        return w ? w->ptys : NULL;
}

int monitor_warm_take_helper(MonitorWarm *w, pid_t *ret_pid, int *ret_pidfd, int *ret_fd) {
        if (!monitor_warm_stub(w) || w->helper_pid <= 0)
                return 0;
        *ret_pid = w->helper_pid;
        *ret_pidfd = TAKE_FD(w->helper_pidfd);
        *ret_fd = TAKE_FD(w->helper_fd);
        w->helper_pid = 0;
        return 1;
}

CgroupLayout *monitor_warm_take_layout(MonitorWarm *w) {
        CgroupLayout *l = w ? w->layout : NULL;
        if (w)
                w->layout = NULL;
        return l;
}

SpawnStub *monitor_warm_take_stub(MonitorWarm *w) {
        SpawnStub *s = monitor_warm_stub(w);
        if (s)
                w->stub = NULL;
        return s;
}

/* ---- warrend's side ---- */

static int pool_lock_held(const char *runtime_dir, pid_t pid) {
        _cleanup_free_ char *path = pool_path(runtime_dir, pid, "lock");
        if (!path)
                return -ENOMEM;
        return monitor_lock_file_held(path);
}

static bool parse_pid(const char *s, pid_t *ret) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v <= 0 || v > INT32_MAX || s[0] == '0' || s[0] == '+')
                return false;
        *ret = (pid_t) v;
        return true;
}

int monitor_pool_list(const char *runtime_dir, pid_t **ret_pids, size_t *ret_n) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (asprintf(&dir, "%s/pool", runtime_dir) < 0)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (d) {
                struct dirent *de;
                pid_t pid;
                while ((de = readdir(d)))
                        if (parse_pid(de->d_name, &pid) && pool_lock_held(runtime_dir, pid) > 0) {
                                pid_t *p = reallocarray(pids, n + 1, sizeof(pid_t));
                                if (!p) {
                                        closedir(d);
                                        return -ENOMEM;
                                }
                                pids = p;
                                pids[n++] = pid;
                        }
                closedir(d);
        } else if (errno != ENOENT)
                return -errno;
        *ret_pids = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

int monitor_pool_connect(const char *runtime_dir, pid_t pid, int *ret_fd) {
        _cleanup_free_ char *path = pool_path(runtime_dir, pid, "control");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (!path)
                return -ENOMEM;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return errno == ENOENT || errno == ECONNREFUSED || errno == EAGAIN ? -ESRCH : -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int monitor_pool_send_take(int fd, const char *name, int sync_fd, WarrenError *reterr) {
        char buf[sizeof(MonitorRequest) + CONTAINER_NAME_MAX];
        size_t len = strlen(name);
        if (len == 0 || len > CONTAINER_NAME_MAX)
                return warren_error_set(reterr, EINVAL, "Invalid container name '%s'", name);
        MonitorRequest req;
        monitor_request_init(&req, MONITOR_CMD_TAKE, (uint32_t) len, 0);
        memcpy(buf, &req, sizeof(req));
        memcpy(buf + sizeof(req), name, len);
        int r = send_with_fds(fd, buf, sizeof(req) + len, &sync_fd, 1, MSG_DONTWAIT);
        if (r < 0)
                return warren_error_set(reterr, -r, "Failed to hand container '%s' to a warm monitor: %s",
                                        name, strerror(-r));
        return 0;
}

int monitor_pool_receive(int fd) {
        char buf[MONITOR_MESSAGE_MAX];
        MonitorMessage m;
        ssize_t k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? -EAGAIN : -ECONNRESET;
        if (k == 0)
                return -ECONNRESET;
        if ((size_t) k > sizeof(buf) || monitor_reply_decode(buf, (size_t) k, &m, NULL) < 0 ||
            m.command != MONITOR_POOL_READY)
                return -EBADMSG;
        return 1;
}

/* The spares of each hierarchy named like a dead warm monitor's. */
static int sweep_cgroups(const CgroupLayout *l, const char *runtime_dir) {
        int left = 0;
        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/%s", l->v1[i].mount, MONITOR_CGROUP_PARENT) < 0)
                        return -ENOMEM;
                DIR *d = opendir(dir);
                if (!d)
                        continue;
                struct dirent *de;
                while ((de = readdir(d))) {
                        pid_t pid;
                        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                        if (de->d_type != DT_DIR ||
                            strncmp(de->d_name, MONITOR_POOL_PREFIX, strlen(MONITOR_POOL_PREFIX)) != 0 ||
                            !parse_pid(de->d_name + strlen(MONITOR_POOL_PREFIX), &pid))
                                continue;
                        if (pool_lock_held(runtime_dir, pid) != 0) {
                                /* Its stub shares its fd table, lock included,
                                 * and dies a moment after it: again later. */
                                if (kill(pid, 0) < 0 && errno == ESRCH)
                                        left++;
                                continue;
                        }
                        if (cgroup_new(l, MONITOR_CGROUP_PARENT, de->d_name, &cg, NULL) < 0)
                                continue;
                        (void) cgroup_kill_tree(cg, NULL);
                        if (cgroup_try_remove(cg, NULL) < 0)
                                left++;
                        else
                                log_debug("Removed the spare cgroups %s of a dead warm monitor",
                                          cgroup_get_path(cg));
                }
                closedir(d);
        }
        return left;
}

int monitor_pool_sweep(const CgroupLayout *l, const char *runtime_dir) {
        int left = l ? sweep_cgroups(l, runtime_dir) : 0;
        _cleanup_free_ char *dir = NULL;
        if (left < 0 || asprintf(&dir, "%s/pool", runtime_dir) < 0)
                return left < 0 ? left : -ENOMEM;
        DIR *d = opendir(dir);
        if (!d)
                return left;
        struct dirent *de;
        while ((de = readdir(d))) {
                pid_t pid;
                if (!parse_pid(de->d_name, &pid) || pool_lock_held(runtime_dir, pid) != 0)
                        continue;
                _cleanup_free_ char *p = pool_path(runtime_dir, pid, NULL);
                if (!p)
                        break;
                _cleanup_close_ int fd =
                        openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd >= 0) {
                        (void) unlinkat(fd, "control", 0);
                        (void) unlinkat(fd, "lock", 0);
                }
                if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                        log_debug_errno(errno, "Failed to remove %s: %m", p);
        }
        closedir(d);
        return left;
}
