/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "monitor-client.h"
#include "name.h"

/* A console log larger than this is refused rather than read into memory. */
#define CONSOLE_LOG_MAX (64U * 1024U * 1024U)

static const char *const state_names[_MONITOR_STATE_MAX] = {
        [MONITOR_STATE_STOPPED] = "STOPPED",   [MONITOR_STATE_STARTING] = "STARTING",
        [MONITOR_STATE_RUNNING] = "RUNNING",   [MONITOR_STATE_STOPPING] = "STOPPING",
        [MONITOR_STATE_ABORTING] = "ABORTING", [MONITOR_STATE_FREEZING] = "FREEZING",
        [MONITOR_STATE_FROZEN] = "FROZEN",
};

static const char *const command_names[_MONITOR_CMD_MAX] = {
        [MONITOR_CMD_INVALID] = "INVALID",
        [MONITOR_CMD_GET_STATE] = "GET_STATE",
        [MONITOR_CMD_PIDFD] = "PIDFD",
        [MONITOR_CMD_STOP] = "STOP",
        [MONITOR_CMD_REBOOT] = "REBOOT",
        [MONITOR_CMD_KILL] = "KILL",
        [MONITOR_CMD_FREEZE] = "FREEZE",
        [MONITOR_CMD_UNFREEZE] = "UNFREEZE",
        [MONITOR_CMD_GET_TTY] = "GET_TTY",
        [MONITOR_CMD_SUBSCRIBE] = "SUBSCRIBE",
        [MONITOR_CMD_GET_CONSOLE_LOG] = "GET_CONSOLE_LOG",
        [MONITOR_CMD_TAKE] = "TAKE",
};

void monitor_message_done(MonitorMessage *m) {
        if (!m)
                return;
        m->fd = safe_close(m->fd);
}

const char *monitor_state_to_string(MonitorState s) {
        if ((unsigned) s >= _MONITOR_STATE_MAX)
                return NULL;
        return state_names[s];
}

int monitor_state_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (unsigned i = 0; i < _MONITOR_STATE_MAX; i++)
                if (streq(state_names[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *monitor_command_to_string(MonitorCommand c) {
        if (c == MONITOR_EVENT_STATE)
                return "STATE";
        if (c == MONITOR_SYNC_RESULT)
                return "SYNC_RESULT";
        if (c == MONITOR_POOL_READY)
                return "POOL_READY";
        if (c < 0 || c >= _MONITOR_CMD_MAX)
                return NULL;
        return command_names[c];
}

static char *path_join3(const char *runtime_dir, const char *name, const char *sub) {
        char *p = NULL;
        if (asprintf(&p, "%s/containers/%s%s%s", runtime_dir, name, sub ? "/" : "", strempty(sub)) < 0)
                return NULL;
        return p;
}

char *monitor_dir_path(const char *runtime_dir, const char *name) {
        return path_join3(runtime_dir, name, NULL);
}

char *monitor_socket_path(const char *runtime_dir, const char *name) {
        return path_join3(runtime_dir, name, "control");
}

char *monitor_state_path(const char *runtime_dir, const char *name) {
        return path_join3(runtime_dir, name, "state");
}

void monitor_request_init(MonitorRequest *req, MonitorCommand command, uint32_t arg, uint32_t flags) {
        *req = (MonitorRequest){
                .version = MONITOR_PROTO_VERSION,
                .command = (uint32_t) command,
                .arg = arg,
                .flags = flags,
        };
}

int monitor_request_check(const void *buf, size_t size, MonitorRequest *ret, WarrenError *reterr) {
        MonitorRequest req;
        if (size != sizeof(req))
                return warren_error_set(reterr, EBADMSG, "Invalid monitor request: %zu bytes, expected %zu",
                                        size, sizeof(req));
        memcpy(&req, buf, sizeof(req));
        if (req.version != MONITOR_PROTO_VERSION)
                return warren_error_set(reterr, EPROTO,
                                        "Unsupported monitor protocol version %u: this monitor speaks %u",
                                        req.version, MONITOR_PROTO_VERSION);
        if (req.command == 0 || req.command >= _MONITOR_CMD_MAX)
                return warren_error_set(reterr, EOPNOTSUPP, "Unknown monitor request %u", req.command);
        *ret = req;
        return 0;
}

size_t monitor_reply_encode(void *buf, MonitorCommand command, int error, MonitorState state, pid_t init_pid,
                            pid_t monitor_pid, unsigned n_ttys, const char *text) {
        size_t len = text ? MIN(strlen(text), (size_t) MONITOR_TEXT_MAX) : 0;
        MonitorReply h = {
                .version = MONITOR_PROTO_VERSION,
                .command = (uint32_t) command,
                .error = error < 0 ? -error : error,
                .state = (uint32_t) state,
                .init_pid = init_pid > 0 ? (uint32_t) init_pid : 0,
                .monitor_pid = monitor_pid > 0 ? (uint32_t) monitor_pid : 0,
                .n_ttys = n_ttys,
                .text_len = (uint32_t) len,
        };
        memcpy(buf, &h, sizeof(h));
        if (len > 0)
                memcpy((char *) buf + sizeof(h), text, len);
        return sizeof(h) + len;
}

int monitor_reply_decode(const void *buf, size_t size, MonitorMessage *ret, WarrenError *reterr) {
        MonitorReply h;
        if (size < sizeof(h) || size > MONITOR_MESSAGE_MAX)
                return warren_error_set(reterr, EBADMSG, "Invalid monitor message: %zu bytes", size);
        memcpy(&h, buf, sizeof(h));
        if (h.version != MONITOR_PROTO_VERSION)
                return warren_error_set(reterr, EPROTO, "Monitor speaks protocol version %u, expected %u",
                                        h.version, MONITOR_PROTO_VERSION);
        if (h.text_len != size - sizeof(h))
                return warren_error_set(reterr, EBADMSG,
                                        "Invalid monitor message: text length %u in a %zu byte message",
                                        h.text_len, size);
        if (h.state >= _MONITOR_STATE_MAX)
                return warren_error_set(reterr, EBADMSG, "Invalid monitor message: unknown state %u",
                                        h.state);
        if (h.error < 0 || h.error > 4095)
                return warren_error_set(reterr, EBADMSG, "Invalid monitor message: error %d", h.error);
        if (!monitor_command_to_string((MonitorCommand) h.command))
                return warren_error_set(reterr, EBADMSG, "Invalid monitor message: unknown command %u",
                                        h.command);
        if (h.init_pid > INT32_MAX || h.monitor_pid > INT32_MAX)
                return warren_error_set(reterr, EBADMSG, "Invalid monitor message: pid out of range");

        ret->command = (MonitorCommand) h.command;
        ret->error = h.error;
        ret->state = (MonitorState) h.state;
        ret->init_pid = (pid_t) h.init_pid;
        ret->monitor_pid = (pid_t) h.monitor_pid;
        ret->n_ttys = h.n_ttys;
        memcpy(ret->text, (const char *) buf + sizeof(h), h.text_len);
        ret->text[h.text_len] = 0;
        ret->fd = -EBADF;
        return 0;
}

int monitor_connect(const char *runtime_dir, const char *name, bool nonblock, int *ret_fd,
                    WarrenError *reterr) {
        _cleanup_free_ char *path = monitor_socket_path(runtime_dir, name);
        if (!path)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return warren_error_set(reterr, ENAMETOOLONG, "Monitor socket path '%s' is too long", path);
        strcpy(sa.sun_path, path);

        _cleanup_close_ int fd =
                socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to create socket: %m");
        /* A unix connect completes at once or not at all: non-blocking, a
         * monitor whose accept queue is full (it is stuck) is EAGAIN. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
                        return warren_error_set(reterr, ESRCH,
                                                "Container '%s' is not running (no monitor at %s)", name,
                                                path);
                if (errno == EAGAIN || errno == EINPROGRESS)
                        return warren_error_set(reterr, EAGAIN,
                                                "The monitor of container '%s' accepts no connection (%s)",
                                                name, path);
                return warren_error_set(reterr, errno, "Failed to connect to monitor socket %s: %m", path);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int monitor_send(int fd, MonitorCommand command, uint32_t arg, uint32_t flags, WarrenError *reterr) {
        MonitorRequest req;
        monitor_request_init(&req, command, arg, flags);
        ssize_t k = send(fd, &req, sizeof(req), MSG_NOSIGNAL);
        if (k < 0) {
                if (errno == EAGAIN)
                        return -EAGAIN;
                if (errno == EPIPE || errno == ECONNRESET)
                        return warren_error_set(reterr, ECONNRESET, "Monitor closed the connection");
                return warren_error_set(reterr, errno, "Failed to send %s request to monitor: %m",
                                        monitor_command_to_string(command));
        }
        if ((size_t) k != sizeof(req))
                return warren_error_set(reterr, EIO, "Short send to monitor");
        return 0;
}

int monitor_receive(int fd, MonitorMessage *ret, WarrenError *reterr) {
        char buf[MONITOR_MESSAGE_MAX];
        _cleanup_close_ int received = -EBADF;
        size_t n_fds;
        ssize_t k = recv_with_fds(fd, buf, sizeof(buf), &received, 1, &n_fds, 0);
        /* A monitor that closes with our request unread makes the kernel
         * report ECONNRESET before the reply it queued: fetch that reply. */
        if (k == -ECONNRESET) {
                k = recv_with_fds(fd, buf, sizeof(buf), &received, 1, &n_fds, MSG_DONTWAIT);
                if (k == 0 || (k < 0 && k != -EBADMSG))
                        k = -ECONNRESET;
        }
        if (k == -EAGAIN)
                return -EAGAIN;
        if (k == 0 || k == -ECONNRESET)
                return warren_error_set(reterr, ECONNRESET, "Monitor closed the connection");
        if (k == -EBADMSG)
                return warren_error_set(reterr, EBADMSG,
                                        "Oversized message from monitor, or more than one fd with it");
        if (k < 0)
                return warren_error_set(reterr, (int) -k, "Failed to receive from monitor: %s",
                                        strerror((int) -k));

        int r = monitor_reply_decode(buf, (size_t) k, ret, reterr);
        if (r < 0)
                return r;
        ret->fd = TAKE_FD(received);
        return 0;
}

int monitor_call(int fd, MonitorCommand command, uint32_t arg, uint32_t flags, MonitorMessage *ret,
                 WarrenError *reterr) {
        MonitorMessage local;
        MonitorMessage *m = ret ?: &local;
        _cleanup_error_ WarrenError send_error = WARREN_ERROR_NULL;
        int r = monitor_send(fd, command, arg, flags, &send_error);
        /* A monitor that refused us (EPERM, too many clients) hung up after
         * saying why: read that rather than report the hangup. */
        if (r == -ECONNRESET && monitor_receive(fd, m, NULL) >= 0)
                goto received;
        if (r < 0)
                return warren_error_set(reterr, r, "%s", warren_error_message(&send_error));
        for (;;) {
                r = monitor_receive(fd, m, reterr);
                if (r < 0)
                        return r;
                if (m->command == MONITOR_EVENT_STATE) {
                        monitor_message_done(m);
                        continue;
                }
                break;
        }
received:
        if (m->command != command && !(m->command == MONITOR_CMD_INVALID && m->error != 0)) {
                monitor_message_done(m);
                return warren_error_set(reterr, EPROTO, "Monitor answered %s to a %s request",
                                        monitor_command_to_string(m->command),
                                        monitor_command_to_string(command));
        }
        if (m->error != 0) {
                monitor_message_done(m);
                return warren_error_set(reterr, m->error, "%s", m->text[0] ? m->text : strerror(m->error));
        }
        if (!ret)
                monitor_message_done(m);
        return 0;
}

int monitor_get_state(int fd, MonitorMessage *ret, WarrenError *reterr) {
        return monitor_call(fd, MONITOR_CMD_GET_STATE, 0, 0, ret, reterr);
}

static int call_for_fd(int fd, MonitorCommand command, uint32_t arg, MonitorMessage *m,
                       WarrenError *reterr) {
        int r = monitor_call(fd, command, arg, 0, m, reterr);
        if (r < 0)
                return r;
        if (m->fd < 0)
                return warren_error_set(reterr, EBADMSG, "Monitor sent no fd with its %s reply",
                                        monitor_command_to_string(command));
        return 0;
}

int monitor_get_pidfd(int fd, int *ret_pidfd, WarrenError *reterr) {
        MonitorMessage m;
        int r = call_for_fd(fd, MONITOR_CMD_PIDFD, 0, &m, reterr);
        if (r < 0)
                return r;
        *ret_pidfd = TAKE_FD(m.fd);
        return 0;
}

int monitor_stop(int fd, uint32_t timeout_s, bool kill, WarrenError *reterr) {
        return monitor_call(fd, MONITOR_CMD_STOP, timeout_s, kill ? MONITOR_STOP_KILL : 0, NULL, reterr);
}

int monitor_reboot(int fd, WarrenError *reterr) {
        return monitor_call(fd, MONITOR_CMD_REBOOT, 0, 0, NULL, reterr);
}

int monitor_kill(int fd, int sig, WarrenError *reterr) {
        if (sig <= 0 || sig >= _NSIG)
                return warren_error_set(reterr, EINVAL, "Invalid signal %d", sig);
        return monitor_call(fd, MONITOR_CMD_KILL, (uint32_t) sig, 0, NULL, reterr);
}

int monitor_freeze(int fd, WarrenError *reterr) {
        return monitor_call(fd, MONITOR_CMD_FREEZE, 0, 0, NULL, reterr);
}

int monitor_unfreeze(int fd, WarrenError *reterr) {
        return monitor_call(fd, MONITOR_CMD_UNFREEZE, 0, 0, NULL, reterr);
}

int monitor_get_tty(int fd, unsigned n, int *ret_master, char **ret_name, WarrenError *reterr) {
        MonitorMessage m;
        int r = call_for_fd(fd, MONITOR_CMD_GET_TTY, n, &m, reterr);
        if (r < 0)
                return r;
        if (ret_name) {
                char *s = strdup(m.text);
                if (!s) {
                        monitor_message_done(&m);
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                }
                *ret_name = s;
        }
        *ret_master = TAKE_FD(m.fd);
        return 0;
}

int monitor_get_console_log(int fd, char **ret_data, size_t *ret_size, WarrenError *reterr) {
        MonitorMessage m;
        int r = call_for_fd(fd, MONITOR_CMD_GET_CONSOLE_LOG, 0, &m, reterr);
        if (r < 0)
                return r;
        _cleanup_close_ int memfd = TAKE_FD(m.fd);
        return monitor_read_console_log(memfd, ret_data, ret_size, reterr);
}

int monitor_read_console_log(int memfd, char **ret_data, size_t *ret_size, WarrenError *reterr) {
        struct stat st;
        if (fstat(memfd, &st) < 0)
                return warren_error_set(reterr, errno, "Failed to stat console log: %m");
        if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t) st.st_size > CONSOLE_LOG_MAX)
                return warren_error_set(reterr, EBADMSG, "Invalid console log from monitor (%lld bytes)",
                                        (long long) st.st_size);
        size_t size = (size_t) st.st_size;
        _cleanup_free_ char *data = malloc(size + 1);
        if (!data)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        size_t done = 0;
        while (done < size) {
                ssize_t k = pread(memfd, data + done, size - done, (off_t) done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return warren_error_set(reterr, errno, "Failed to read console log: %m");
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        data[done] = 0;
        *ret_data = TAKE_PTR(data);
        if (ret_size)
                *ret_size = done;
        return 0;
}

int monitor_spawn(const MonitorSpawnOptions *o, pid_t *ret_pid, int *ret_sync_fd, WarrenError *reterr) {
        const char *path = o->monitor_path;
        if (!path || !o->name == !o->pool || !o->state_dir || !o->runtime_dir || !o->config_dir)
                return warren_error_set(reterr, EINVAL, "Monitor spawn options are incomplete");
        int r = o->pool ? 0 : container_name_validate(o->name, reterr);
        if (r < 0)
                return r;

        const char *argv[16];
        size_t n = 0;
        argv[n++] = path;
        if (o->pool)
                argv[n++] = "--pool";
        else {
                argv[n++] = "--name";
                argv[n++] = o->name;
        }
        argv[n++] = "--state-dir";
        argv[n++] = o->state_dir;
        argv[n++] = "--runtime-dir";
        argv[n++] = o->runtime_dir;
        argv[n++] = "--config-dir";
        argv[n++] = o->config_dir;
        argv[n++] = "--sync-fd";
        argv[n++] = "3";
        if (o->log_path) {
                argv[n++] = "--log-file";
                argv[n++] = o->log_path;
        }
        argv[n] = NULL;

        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return warren_error_set(reterr, errno, "Failed to create sync socket: %m");
        _cleanup_close_ int ours = sp[0], theirs = sp[1];
        /* dup2() onto 3 clears O_CLOEXEC, which dup2() of 3 onto itself
         * would not do: keep the source elsewhere. */
        if (theirs == 3) {
                int fd = fcntl(theirs, F_DUPFD_CLOEXEC, 4);
                if (fd < 0)
                        return warren_error_set(reterr, errno, "Failed to move the sync socket: %m");
                safe_close(theirs);
                theirs = fd;
        }

        /* posix_spawn (vfork underneath): no copy of warrend's address
         * space, and an exec failure comes back as its errno. */
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attr;
        sigset_t none;
        sigemptyset(&none);
        r = posix_spawn_file_actions_init(&actions);
        if (r != 0)
                return warren_error_set(reterr, r, "Failed to prepare the monitor's spawn: %s", strerror(r));
        r = posix_spawnattr_init(&attr);
        if (r != 0) {
                posix_spawn_file_actions_destroy(&actions);
                return warren_error_set(reterr, r, "Failed to prepare the monitor's spawn: %s", strerror(r));
        }
        r = posix_spawn_file_actions_adddup2(&actions, theirs, 3);
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
        pid_t pid = 0;
        if (r == 0)
                r = posix_spawn(&pid, path, &actions, &attr, (char *const *) argv, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
        if (r != 0)
                return warren_error_set(reterr, r, "Failed to execute monitor '%s': %s", path, strerror(r));

        *ret_pid = pid;
        *ret_sync_fd = TAKE_FD(ours);
        return 0;
}

int monitor_read_sync(int sync_fd, MonitorMessage *ret, WarrenError *reterr) {
        char buf[MONITOR_MESSAGE_MAX];
        ssize_t k;
        do
                k = recv(sync_fd, buf, sizeof(buf), MSG_TRUNC);
        while (k < 0 && errno == EINTR);
        if (k < 0) {
                if (errno == EAGAIN)
                        return -EAGAIN;
                return warren_error_set(reterr, errno, "Failed to read the monitor's start result: %m");
        }
        if (k == 0)
                return warren_error_set(reterr, ECHILD,
                                        "The monitor exited without reporting a start result");
        if ((size_t) k > sizeof(buf))
                return warren_error_set(reterr, EBADMSG, "Oversized start result from monitor (%zd bytes)",
                                        k);

        MonitorMessage local;
        MonitorMessage *m = ret ?: &local;
        int r = monitor_reply_decode(buf, (size_t) k, m, reterr);
        if (r < 0)
                return r;
        if (m->command != MONITOR_SYNC_RESULT)
                return warren_error_set(reterr, EPROTO, "Monitor sent %s instead of a start result",
                                        monitor_command_to_string(m->command));
        if (m->error != 0)
                return warren_error_set(reterr, m->error, "%s", m->text[0] ? m->text : strerror(m->error));
        return 0;
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int monitor_list_running(const char *runtime_dir, char ***ret_names, WarrenError *reterr) {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/containers", runtime_dir) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        _cleanup_strv_free_ char **names = NULL;
        DIR *d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return warren_error_set(reterr, errno, "Failed to open %s: %m", dir);
        } else {
                struct dirent *de;
                int r = 0;
                while ((de = readdir(d))) {
                        if (!container_name_is_valid(de->d_name))
                                continue;
                        /* Liveness is "answers on its socket": the lock cannot be
                         * probed without racing a monitor that is taking it. */
                        int fd;
                        if (monitor_connect(runtime_dir, de->d_name, false, &fd, NULL) < 0)
                                continue;
                        safe_close(fd);
                        r = strv_extend(&names, de->d_name);
                        if (r < 0)
                                break;
                }
                closedir(d);
                if (r < 0)
                        return warren_error_set(reterr, r, "Out of memory");
        }
        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        qsort(names, strv_length(names), sizeof(char *), strcmp_ptr);
        *ret_names = TAKE_PTR(names);
        return 0;
}

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

int monitor_peer_pidfd(int fd, int *ret_pidfd, pid_t *ret_pid) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        /* The listener's pidfd, race-free (Linux 6.5); else by pid, which
         * is still the monitor's as long as the connection is open and
         * the monitor is not reaped... close enough to check below. */
        int pidfd = -EBADF;
        len = sizeof(pidfd);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
                pidfd = pidfd_open(cred.pid, 0);
                if (pidfd < 0)
                        return -errno;
        }
        *ret_pidfd = pidfd;
        if (ret_pid)
                *ret_pid = cred.pid;
        return 0;
}

/* <linux/pidfd.h> of Linux 6.15; Debian 12's headers predate it. */
struct monitor_pidfd_info {
        uint64_t mask;
        uint64_t cgroupid;
        uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
        int32_t exit_code;
        uint32_t coredump_mask;
        uint32_t spare;
};
#define MONITOR_PIDFD_GET_INFO _IOWR(0xFF, 11, struct monitor_pidfd_info)
#define MONITOR_PIDFD_INFO_EXIT (1ULL << 3)

int monitor_pidfd_exit_status(int pidfd, int *ret_status) {
        struct monitor_pidfd_info info = { .mask = MONITOR_PIDFD_INFO_EXIT };
        if (pidfd < 0 || ioctl(pidfd, MONITOR_PIDFD_GET_INFO, &info) < 0 ||
            !(info.mask & MONITOR_PIDFD_INFO_EXIT))
                return 0;
        if (ret_status)
                *ret_status = info.exit_code;
        return 1;
}

int monitor_read_state_file(const char *runtime_dir, const char *name, MonitorMessage *ret) {
        _cleanup_free_ char *path = monitor_state_path(runtime_dir, name), *text = NULL;
        if (!path)
                return -ENOMEM;
        int r = read_full_file(path, 4096, &text, NULL);
        if (r < 0)
                return r;
        *ret = (MonitorMessage){ .command = MONITOR_EVENT_STATE, .fd = -EBADF };
        bool have_state = false;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = 0;
                const char *v = eq + 1;
                if (streq(line, "state")) {
                        int s = monitor_state_from_string(v);
                        if (s < 0)
                                return -EBADMSG;
                        ret->state = (MonitorState) s;
                        have_state = true;
                } else if (streq(line, "init_pid") || streq(line, "monitor_pid")) {
                        char *end;
                        errno = 0;
                        long p = strtol(v, &end, 10);
                        if (errno != 0 || *end != 0 || p < 0 || p > INT32_MAX)
                                return -EBADMSG;
                        *(streq(line, "init_pid") ? &ret->init_pid : &ret->monitor_pid) = (pid_t) p;
                } else if (streq(line, "cgroup") && strlen(v) <= MONITOR_TEXT_MAX)
                        strcpy(ret->text, v);
        }
        return have_state ? 0 : -EBADMSG;
}

int monitor_lock_held(const char *runtime_dir, const char *name) {
        _cleanup_free_ char *dir = monitor_dir_path(runtime_dir, name), *path = NULL;
        if (!dir || asprintf(&path, "%s/lock", dir) < 0)
                return -ENOMEM;
        return monitor_lock_file_held(path);
}

int monitor_lock_file_held(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        /* A shared lock is compatible with no monitor's: held only for
         * this instant, and a monitor taking its exclusive lock right now
         * would report "already running"; callers ask only when no monitor
         * of theirs can be starting. */
        if (flock(fd, LOCK_SH | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1 : -errno;
        (void) flock(fd, LOCK_UN);
        return 0;
}

int monitor_runtime_dir_exists(const char *runtime_dir, const char *name) {
        _cleanup_free_ char *dir = monitor_dir_path(runtime_dir, name);
        if (!dir)
                return -ENOMEM;
        struct stat st;
        if (lstat(dir, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        return 1;
}

int monitor_remove_runtime_dir(const char *runtime_dir, const char *name, WarrenError *reterr) {
        _cleanup_free_ char *dir = monitor_dir_path(runtime_dir, name);
        if (!dir)
                return -ENOMEM;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return warren_error_set(reterr, errno, "Failed to open %s: %m", dir);
        }
        /* Whatever is in it (control, attach, state, lock, and the
         * temporary names a process killed half-way leaves, such as
         * attach.new or state.tmp): only warren's processes write here. */
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                safe_close(fd);
                return warren_error_set(reterr, r, "Failed to read %s: %s", dir, strerror(-r));
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        int r = -errno;
                        closedir(d);
                        return warren_error_set(reterr, r, "Failed to remove %s/%s: %s", dir, de->d_name,
                                                strerror(-r));
                }
        closedir(d);
        if (rmdir(dir) < 0 && errno != ENOENT)
                return warren_error_set(reterr, errno, "Failed to remove %s: %m", dir);
        return 0;
}

int monitor_list_dirs(const char *runtime_dir, char ***ret_names) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **names = NULL;
        if (asprintf(&dir, "%s/containers", runtime_dir) < 0)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (d) {
                struct dirent *de;
                int r = 0;
                while (r >= 0 && (de = readdir(d)))
                        if (container_name_is_valid(de->d_name))
                                r = strv_extend(&names, de->d_name);
                closedir(d);
                if (r < 0)
                        return r;
        } else if (errno != ENOENT)
                return -errno;
        if (!names && !(names = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret_names = TAKE_PTR(names);
        return 0;
}
