/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "config.h"
#include "name.h"
#include "monitor.h"
#include "monitor-attach.h"
#include "monitor-client.h"

#define ATTACH_PROTO_VERSION 1U
/* What warrend can send in one request is bounded by its bus message;
 * this bounds what the helper reads. */
#define REQUEST_MAX (128U * 1024U * 1024U)
#define CONNECTIONS_MAX 1024U

enum {
        REQ_PTY = 1U << 0,
        REQ_CLEAR_ENV = 1U << 1,
        REQ_STDIN = 1U << 2,
        REQ_STDOUT = 1U << 3,
        REQ_STDERR = 1U << 4,
};

/* The datagram; fds: memfd (argv, env, cwd as NUL-terminated strings),
 * init's pidfd, then the stdio fds its flags name, in that order. */
typedef struct AttachRequestHeader {
        uint32_t version;
        uint32_t flags;
        uint32_t uid, gid;
        uint32_t rows, cols;
        uint32_t argc, envc;
        uint32_t has_cwd;
        uint32_t payload; /* bytes in the memfd */
} AttachRequestHeader;

typedef struct AttachReplyHeader {
        uint32_t version;
        uint32_t type;
        int32_t error;
        int32_t pid;
        int32_t status;
        uint32_t text_len;
} AttachReplyHeader;

/* ---- a helper made ahead (a warm monitor's) ---- */

#define STANDBY_MAX (LXC_CONFIG_MAX_SIZE + 4096U)

int attach_helper_standby_send(int fd, const char *name, const LxcConfig *config, WarrenError *reterr) {
        _cleanup_free_ char *text = lxc_config_format(config);
        _cleanup_close_ int memfd = memfd_create("warren-attach-config", MFD_CLOEXEC);
        if (!text)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (memfd < 0)
                return warren_error_set(reterr, errno, "Failed to create a memfd: %m");
        size_t n_name = strlen(name) + 1, n_text = strlen(text);
        if (n_name + n_text > STANDBY_MAX)
                return warren_error_set(reterr, E2BIG, "The config of container '%s' is too big", name);
        if (write_all(memfd, name, n_name) < 0 || write_all(memfd, text, n_text) < 0)
                return warren_error_set(reterr, errno, "Failed to write the attach helper's context: %m");
        int r = send_with_fds(fd, "c", 1, &memfd, 1, MSG_DONTWAIT);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to hand container '%s' to its attach helper: %s",
                                        name, strerror(-r));
        return 0;
}

/* The container, as the monitor sent it: NULL on anything unexpected. */
static char *standby_read(int fd, char **ret_name, LxcConfig **ret_config) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int memfd = -EBADF;
        size_t n_fds = 0;
        char c;
        while (poll(&p, 1, -1) < 0)
                if (errno != EINTR)
                        return NULL;
        if (recv_with_fds(fd, &c, 1, &memfd, 1, &n_fds, MSG_DONTWAIT) != 1 || n_fds != 1) {
                if (n_fds > 0)
                        safe_close(memfd);
                return NULL;
        }
        _cleanup_close_ int mfd = memfd;
        struct stat st;
        if (fstat(mfd, &st) < 0 || st.st_size <= 0 || (uint64_t) st.st_size > STANDBY_MAX)
                return NULL;
        _cleanup_free_ char *data = malloc((size_t) st.st_size + 1);
        if (!data || pread(mfd, data, (size_t) st.st_size, 0) != st.st_size)
                return NULL;
        data[st.st_size] = 0;
        size_t n_name = strnlen(data, (size_t) st.st_size);
        if (n_name == (size_t) st.st_size || !container_name_is_valid(data))
                return NULL;
        _cleanup_lxc_config_ LxcConfig *config = lxc_config_new();
        const LxcParseOptions po = { .include_mode = LXC_INCLUDE_KEEP };
        if (!config || lxc_config_parse(config, data + n_name + 1, (size_t) st.st_size - n_name - 1,
                                        "<the monitor's config>", &po, NULL) < 0)
                return NULL;
        *ret_name = strdup(data);
        if (!*ret_name)
                return NULL;
        *ret_config = TAKE_PTR(config);
        return *ret_name;
}

_Noreturn void attach_helper_standby_main(void *userdata) {
        const AttachHelperStandby *sb = userdata;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != sb->monitor)
                _exit(EXIT_FAILURE);
        /* Not a monitor, for who looks for one by its command line. */
        if (sb->retitle)
                sb->retitle("(pool)");
        (void) prctl(PR_SET_NAME, "warren-attach");
        /* Nothing of the warm monitor's while we wait (its pool lock, its
         * connection to warrend...): only our fd, as 3. */
        if (sb->fd != 3 && dup3(sb->fd, 3, O_CLOEXEC) < 0)
                _exit(EXIT_FAILURE);
        (void) close_range(4, ~0U, 0);
        char *name = NULL;
        LxcConfig *config = NULL;
        Cgroup *cgroup = NULL;
        char *socket_path = NULL;
        if (!standby_read(3, &name, &config))
                _exit(EXIT_SUCCESS); /* not taken (or not understood): the monitor makes its own */
        if (cgroup_new(sb->layout, MONITOR_CGROUP_PARENT, name, &cgroup, NULL) < 0 ||
            asprintf(&socket_path, "%s/containers/%s/" MONITOR_ATTACH_SOCKET, sb->runtime_dir, name) < 0)
                _exit(EXIT_FAILURE);
        AttachHelperContext ctx = {
                .monitor = sb->monitor,
                .config = config,
                .cgroup = cgroup,
                .layout = sb->layout,
                .socket_path = socket_path,
                .name = name,
                .retitle = sb->retitle,
        };
        attach_helper_main(&ctx);
}

/* ---- warrend's side ---- */

int attach_helper_connect(const char *runtime_dir, const char *name, int *ret_fd) {
        _cleanup_free_ char *dir = monitor_dir_path(runtime_dir, name);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (!dir)
                return -ENOMEM;
        if ((size_t) snprintf(sa.sun_path, sizeof sa.sun_path, "%s/" MONITOR_ATTACH_SOCKET, dir) >=
            sizeof sa.sun_path)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return errno == ENOENT || errno == ECONNREFUSED || errno == EAGAIN ? -ESRCH : -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int write_strings(FILE *f, char *const *l, uint32_t *ret_n) {
        uint32_t n = 0;
        STRV_FOREACH(s, l) {
                if (fwrite(*s, 1, strlen(*s) + 1, f) != strlen(*s) + 1)
                        return -EIO;
                n++;
        }
        *ret_n = n;
        return 0;
}

int attach_helper_send(int fd, const AttachOptions *o, WarrenError *reterr) {
        _cleanup_close_ int memfd = memfd_create("warren-attach", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        AttachRequestHeader h = {
                .version = ATTACH_PROTO_VERSION,
                .flags = (o->pty ? REQ_PTY : 0) | (o->clear_env ? REQ_CLEAR_ENV : 0) |
                         (o->stdin_fd >= 0 ? REQ_STDIN : 0) | (o->stdout_fd >= 0 ? REQ_STDOUT : 0) |
                         (o->stderr_fd >= 0 ? REQ_STDERR : 0),
                .uid = o->uid,
                .gid = o->gid,
                .rows = o->rows,
                .cols = o->cols,
                .has_cwd = o->cwd != NULL,
        };
        if (memfd < 0)
                return warren_error_set(reterr, errno, "Failed to create a memfd: %m");
        int dupfd = fcntl(memfd, F_DUPFD_CLOEXEC, 3);
        FILE *f = dupfd >= 0 ? fdopen(dupfd, "w") : NULL;
        if (!f) {
                safe_close(dupfd);
                return warren_error_set(reterr, errno, "Failed to write the attach request: %m");
        }
        int r = write_strings(f, o->argv, &h.argc);
        if (r >= 0)
                r = write_strings(f, o->env, &h.envc);
        if (r >= 0 && o->cwd && fwrite(o->cwd, 1, strlen(o->cwd) + 1, f) != strlen(o->cwd) + 1)
                r = -EIO;
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        struct stat st;
        if (r >= 0 && fstat(memfd, &st) < 0)
                r = -errno;
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write the attach request: %s", strerror(-r));
        if ((uint64_t) st.st_size > REQUEST_MAX)
                return warren_error_set(reterr, E2BIG, "Attach request too large (%jd bytes)",
                                        (intmax_t) st.st_size);
        h.payload = (uint32_t) st.st_size;
        (void) fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
        int fds[5] = { memfd, o->init_pidfd };
        size_t n = 2;
        if (o->stdin_fd >= 0)
                fds[n++] = o->stdin_fd;
        if (o->stdout_fd >= 0)
                fds[n++] = o->stdout_fd;
        if (o->stderr_fd >= 0)
                fds[n++] = o->stderr_fd;
        r = send_with_fds(fd, &h, sizeof h, fds, n, MSG_DONTWAIT);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to send the attach request: %s", strerror(-r));
        return 0;
}

void attach_helper_reply_done(AttachHelperReply *r) {
        if (!r)
                return;
        r->pidfd = safe_close(r->pidfd);
        r->pty_master = safe_close(r->pty_master);
}

int attach_helper_receive(int fd, AttachHelperReply *ret) {
        char buf[sizeof(AttachReplyHeader) + sizeof(ret->text)];
        int fds[2] = { -EBADF, -EBADF };
        size_t n_fds = 0;
        AttachReplyHeader h;
        *ret = (AttachHelperReply){ .pidfd = -EBADF, .pty_master = -EBADF };
        ssize_t k = recv_with_fds(fd, buf, sizeof buf, fds, 2, &n_fds, MSG_DONTWAIT);
        if (k == -EAGAIN) /* recv_with_fds() retries EINTR itself */
                return -EAGAIN;
        if (k == 0 || k == -ECONNRESET)
                return -ECONNRESET;
        if (k < 0 || (size_t) k < sizeof h) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                return k < 0 ? (int) k : -EBADMSG;
        }
        memcpy(&h, buf, sizeof h);
        size_t len = (size_t) k - sizeof h;
        if (h.version != ATTACH_PROTO_VERSION || h.text_len != len ||
            (h.type != ATTACH_HELPER_RESULT && h.type != ATTACH_HELPER_EXITED) || h.error < 0 ||
            (h.type == ATTACH_HELPER_RESULT && h.error == 0 && (n_fds < 1 || h.pid <= 0))) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                return -EBADMSG;
        }
        ret->type = h.type;
        ret->error = h.error;
        ret->pid = h.pid;
        ret->status = h.status;
        memcpy(ret->text, buf + sizeof h, MIN(len, sizeof(ret->text) - 1));
        ret->text[MIN(len, sizeof(ret->text) - 1)] = 0;
        ret->pidfd = n_fds > 0 ? fds[0] : -EBADF;
        ret->pty_master = n_fds > 1 ? fds[1] : -EBADF;
        return 0;
}

/* ---- the helper ---- */

typedef struct Connection {
        int fd;
        pid_t child; /* its attached process, 0 before the request */
} Connection;

static void reply(int fd, AttachHelperReplyType type, int error, pid_t pid, int status, const char *text,
                  const int *fds, size_t n_fds) {
        char buf[sizeof(AttachReplyHeader) + 1024];
        size_t len = text ? MIN(strlen(text), (size_t) 1023) : 0;
        AttachReplyHeader h = { .version = ATTACH_PROTO_VERSION,
                                .type = type,
                                .error = error,
                                .pid = pid,
                                .status = status,
                                .text_len = (uint32_t) len };
        memcpy(buf, &h, sizeof h);
        if (len)
                memcpy(buf + sizeof h, text, len);
        (void) send_with_fds(fd, buf, sizeof h + len, fds, n_fds, MSG_DONTWAIT);
}

/* The strings of a request from its memfd into argv, env and cwd. */
static int read_request(int memfd, const AttachRequestHeader *h, char ***argv, char ***env, char **cwd) {
        struct stat st;
        if (fstat(memfd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t) st.st_size != h->payload ||
            h->payload > REQUEST_MAX || h->argc == 0 || h->argc > ATTACH_ARGV_MAX ||
            h->envc > ATTACH_ENV_MAX)
                return -EBADMSG;
        _cleanup_free_ char *data = malloc(h->payload + 1);
        if (!data)
                return -ENOMEM;
        size_t got = 0;
        while (got < h->payload) {
                ssize_t k = pread(memfd, data + got, h->payload - got, (off_t) got);
                if (k <= 0)
                        return k < 0 ? -errno : -EBADMSG;
                got += (size_t) k;
        }
        data[h->payload] = 0;
        char *p = data, *end = data + h->payload;
        uint32_t want[3] = { h->argc, h->envc, h->has_cwd ? 1 : 0 };
        char ***lists[2] = { argv, env };
        for (unsigned l = 0; l < 3; l++)
                for (uint32_t i = 0; i < want[l]; i++) {
                        char *nul = memchr(p, 0, (size_t) (end - p));
                        if (!nul || p >= end)
                                return -EBADMSG;
                        int r = l < 2 ? strv_extend(lists[l], p) : (*cwd = strdup(p)) ? 0 : -ENOMEM;
                        if (r < 0)
                                return r;
                        p = nul + 1;
                }
        return p == end ? 0 : -EBADMSG;
}

/* The helper serves one container, whose config does not change while it
 * runs: its caps and seccomp programs are computed once. */
static AttachCache attach_cache;

static void serve_request(const AttachHelperContext *ctx, Connection *c) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        _cleanup_free_ char *cwd = NULL;
        AttachRequestHeader h;
        int fds[5] = { -EBADF, -EBADF, -EBADF, -EBADF, -EBADF };
        size_t n_fds = 0;
        ssize_t k = recv_with_fds(c->fd, &h, sizeof h, fds, ELEMENTSOF(fds), &n_fds, MSG_DONTWAIT);
        if (k == -EAGAIN) /* recv_with_fds() retries EINTR itself */
                return;
        size_t want = 2 + !!(h.flags & REQ_STDIN) + !!(h.flags & REQ_STDOUT) + !!(h.flags & REQ_STDERR);
        int r = k != (ssize_t) sizeof h || h.version != ATTACH_PROTO_VERSION || n_fds != want ? -EBADMSG : 0;
        if (r >= 0)
                r = read_request(fds[0], &h, &argv, &env, &cwd);
        if (r < 0) {
                if (k > 0)
                        reply(c->fd, ATTACH_HELPER_RESULT, r == -ENOMEM ? ENOMEM : EBADMSG, 0, 0,
                              "Invalid attach request", NULL, 0);
        } else {
                AttachOptions o;
                AttachProcess p = { .pidfd = -EBADF, .pty_master = -EBADF };
                size_t i = 2;
                attach_options_init(&o);
                o.in_place = true;
                o.cache = &attach_cache;
                o.init_pidfd = fds[1];
                o.config = ctx->config;
                o.cgroup = cgroup_get_path(ctx->cgroup);
                o.cgroup_layout = ctx->layout;
                o.argv = argv;
                o.env = env;
                o.cwd = cwd;
                o.uid = h.uid;
                o.gid = h.gid;
                o.pty = h.flags & REQ_PTY;
                o.clear_env = h.flags & REQ_CLEAR_ENV;
                o.rows = (unsigned short) MIN(h.rows, 10000U);
                o.cols = (unsigned short) MIN(h.cols, 10000U);
                o.stdin_fd = h.flags & REQ_STDIN ? fds[i++] : -1;
                o.stdout_fd = h.flags & REQ_STDOUT ? fds[i++] : -1;
                o.stderr_fd = h.flags & REQ_STDERR ? fds[i++] : -1;
                r = attach_spawn(&o, &p, &e);
                if (r < 0)
                        reply(c->fd, ATTACH_HELPER_RESULT, -r, 0, 0, warren_error_message(&e), NULL, 0);
                else {
                        int out[2] = { p.pidfd, p.pty_master };
                        reply(c->fd, ATTACH_HELPER_RESULT, 0, p.pid, 0, NULL, out,
                              p.pty_master >= 0 ? 2 : 1);
                        c->child = p.pid;
                        attach_process_done(&p);
                }
        }
        for (size_t j = 0; j < n_fds; j++)
                safe_close(fds[j]);
}

static int epoll_add(int epfd, int fd, uint64_t tag) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
        return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void connection_close(int epfd, Connection *c) {
        (void) epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        c->fd = safe_close(c->fd);
        c->child = 0;
}

/* Its own cgroups, signals and fds: nothing of the monitor's but what
 * the context points to. */
static int helper_setup(const AttachHelperContext *ctx, int *ret_listen, int *ret_signal) {
        sigset_t mask;
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        (void) signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_SETMASK, &mask, NULL) < 0)
                return -errno;
        (void) close_range(3, ~0U, 0);
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0)
                return -errno;
        safe_close(null_fd); /* stderr stays the monitor's log */
        if (ctx->move_in) {
                /* "0": ourselves. The one move, off any caller's path. */
                int r = cgroup_attach_v1(ctx->cgroup, 0, NULL);
                if (r < 0)
                        return r;
        }
        *ret_signal = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (*ret_signal < 0)
                return -errno;
        /* Bound and listening under a temporary name, then renamed: the
         * socket appears only once a connect to it can succeed.
         * socket_path ends in MONITOR_ATTACH_SOCKET: the same directory. */
        _cleanup_free_ char *temp = NULL;
        if (asprintf(&temp, "%.*s" MONITOR_ATTACH_SOCKET_NEW,
                     (int) (strlen(ctx->socket_path) - strlen(MONITOR_ATTACH_SOCKET)), ctx->socket_path) < 0)
                return -ENOMEM;
        int r = *ret_listen = seqpacket_listen_private(ctx->socket_path, temp, 64);
        return r < 0 ? r : 0;
}

_Noreturn void attach_helper_main(void *userdata) {
        const AttachHelperContext *ctx = userdata;
        Connection *conns = NULL;
        size_t n_conns = 0;
        int listen_fd = -EBADF, signal_fd = -EBADF;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != ctx->monitor)
                _exit(EXIT_FAILURE);
        /* The command line first: who finds us by name reads the new one. */
        if (ctx->retitle)
                ctx->retitle(ctx->name);
        (void) prctl(PR_SET_NAME, "warren-attach");
        int r = helper_setup(ctx, &listen_fd, &signal_fd);
        int epfd = r >= 0 ? epoll_create1(EPOLL_CLOEXEC) : -EBADF;
        if (r < 0 || epfd < 0 || epoll_add(epfd, listen_fd, UINT64_MAX) < 0 ||
            epoll_add(epfd, signal_fd, UINT64_MAX - 1) < 0) {
                log_debug("The attach helper could not start: %s", strerror(r < 0 ? -r : errno));
                (void) unlink(ctx->socket_path);
                _exit(EXIT_FAILURE);
        }
        for (;;) {
                struct epoll_event ev[16];
                int n = epoll_wait(epfd, ev, (int) ELEMENTSOF(ev), -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        _exit(EXIT_FAILURE);
                for (int i = 0; i < n; i++) {
                        uint64_t tag = ev[i].data.u64;
                        if (tag == UINT64_MAX) {
                                _cleanup_close_ int fd =
                                        accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                                struct ucred cred;
                                socklen_t len = sizeof cred;
                                if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
                                    cred.uid != 0)
                                        continue;
                                size_t slot = 0;
                                while (slot < n_conns && conns[slot].fd >= 0)
                                        slot++;
                                if (slot == n_conns) {
                                        if (n_conns >= CONNECTIONS_MAX)
                                                continue;
                                        Connection *nc = reallocarray(conns, n_conns + 1, sizeof *nc);
                                        if (!nc)
                                                continue;
                                        conns = nc;
                                        n_conns++;
                                }
                                conns[slot] = (Connection){ .fd = TAKE_FD(fd) };
                                if (epoll_add(epfd, conns[slot].fd, slot) < 0)
                                        conns[slot].fd = safe_close(conns[slot].fd);
                        } else if (tag == UINT64_MAX - 1) {
                                struct signalfd_siginfo ssi;
                                while (read(signal_fd, &ssi, sizeof ssi) == (ssize_t) sizeof ssi)
                                        ;
                                for (;;) {
                                        siginfo_t si = {};
                                        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                                                break;
                                        for (size_t j = 0; j < n_conns; j++)
                                                if (conns[j].fd >= 0 && conns[j].child == si.si_pid) {
                                                        reply(conns[j].fd, ATTACH_HELPER_EXITED, 0,
                                                              si.si_pid, attach_status_from_siginfo(&si),
                                                              NULL, NULL, 0);
                                                        connection_close(epfd, &conns[j]);
                                                }
                                }
                        } else if (tag < n_conns && conns[tag].fd >= 0) {
                                Connection *c = &conns[tag];
                                if (c->child == 0 && !(ev[i].events & (EPOLLHUP | EPOLLERR))) {
                                        serve_request(ctx, c);
                                        if (c->child == 0)
                                                connection_close(epfd, c); /* refused: told why */
                                        continue;
                                }
                                /* Hung up (or more than one request): done with it;
                                 * its process, if any, is reaped unreported. */
                                char b;
                                if ((ev[i].events & (EPOLLHUP | EPOLLERR)) ||
                                    recv(c->fd, &b, 1, MSG_DONTWAIT) >= 0)
                                        connection_close(epfd, c);
                        }
                }
        }
}
