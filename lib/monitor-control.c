/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's state and its control socket (monitor-proto.h): clients
 * that never block the loop, the requests warrend sends and their
 * replies, deferred ones (STOP, FREEZE) answered when the state comes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/socket.h"
#include "basic/macro.h"
#include "cgroup.h"
#include "monitor-client.h"
#include "monitor-private.h"
#include "monitor-proto.h"
#include "monitor-tty.h"
#include "monitor.h"

#define LISTEN_BACKLOG 128
#define FREEZE_POLL_NSEC (5L * 1000L * 1000L)

/* ---- state and clients ---- */

static void epoll_update(Monitor *m, int fd, uint64_t tag, uint32_t events, uint32_t *current) {
        if (*current == events)
                return;
        struct epoll_event ev = { .events = events, .data.u64 = tag };
        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
                log_debug_errno(errno, "epoll_ctl(MOD) failed: %m");
        *current = events;
}

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

/* Never blocks: what the socket does not take now is queued (bounded); a
 * client that lets its queue overflow or whose socket fails is dropped. */
static void client_send(Monitor *m, Client *c, const void *buf, size_t len, int fd) {
        if (c->broken)
                return;
        if (c->n_queue == 0) {
                int r = send_with_fds(c->fd, buf, len, &fd, fd >= 0, MSG_DONTWAIT);
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

void monitor_client_flush(Monitor *m, Client *c) {
        size_t i = 0;
        for (; i < c->n_queue; i++) {
                QueuedMessage *q = c->queue[i];
                int r = send_with_fds(c->fd, q->data, q->len, &q->fd, q->fd >= 0, MSG_DONTWAIT);
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

Client *monitor_client_free(Monitor *m, Client *c) {
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

void monitor_clients_gc(Monitor *m) {
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
                if (m->clients[i] && m->clients[i]->broken)
                        monitor_client_free(m, m->clients[i]);
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
void monitor_finish_waiting(Monitor *m, MonitorCommand cmd, int error, const char *text) {
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

void monitor_set_state(Monitor *m, MonitorState s) {
        m->state = s;
        log_debug("Container '%s' is %s", m->o->name, monitor_state_to_string(s));
        write_state_file(m);
        const char *path = m->cgroup ? cgroup_get_path(m->cgroup) : NULL;
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
                if (m->clients[i] && m->clients[i]->subscribed)
                        send_message(m, m->clients[i], MONITOR_EVENT_STATE, 0, path, -EBADF);
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
        monitor_begin_stop(m, req->arg, req->flags & MONITOR_STOP_KILL);
}

static void handle_reboot(Monitor *m, Client *c) {
        if (m->state != MONITOR_STATE_RUNNING)
                return reply_error(m, c, MONITOR_CMD_REBOOT, EBUSY, "Cannot reboot container '%s': it is %s",
                                   m->o->name, monitor_state_to_string(m->state));
        monitor_signal_init(m, m->reboot_signal);
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
                monitor_set_state(m, MONITOR_STATE_FREEZING);
                /* Timeout 0: start freezing, check once, never block here. */
                int r = cgroup_freeze(m->cgroup, 0, &e);
                if (r == 0) {
                        monitor_set_state(m, MONITOR_STATE_FROZEN);
                        return reply_ok(m, c, MONITOR_CMD_FREEZE, NULL, -EBADF);
                }
                if (r != -ETIMEDOUT) {
                        (void) cgroup_unfreeze(m->cgroup, 1000U * 1000U, NULL);
                        monitor_set_state(m, MONITOR_STATE_RUNNING);
                        return reply_error(m, c, MONITOR_CMD_FREEZE, -r, "%s", warren_error_message(&e));
                }
                (void) monitor_arm_timer(m->freeze_timer_fd, 0, FREEZE_POLL_NSEC, true);
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
        (void) monitor_arm_timer(m->freeze_timer_fd, 0, 0, false);
        int r = cgroup_unfreeze(m->cgroup, 1000U * 1000U, &e);
        if (r < 0)
                return reply_error(m, c, MONITOR_CMD_UNFREEZE, -r, "%s", warren_error_message(&e));
        monitor_finish_waiting(m, MONITOR_CMD_FREEZE, ECANCELED,
                               "The container was unfrozen before it froze");
        monitor_set_state(m, MONITOR_STATE_RUNNING);
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

void monitor_client_on_event(Monitor *m, Client *c, uint32_t events) {
        if (events & EPOLLOUT)
                monitor_client_flush(m, c);
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

void monitor_on_listen(Monitor *m) {
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
        if (monitor_epoll_add(m, fd, TAG(TAG_CLIENT, i), EPOLLIN) < 0) {
                free(c);
                return;
        }
        TAKE_FD(fd);
        m->clients[i] = c;
}

/* ---- the socket ---- */

int monitor_setup_socket(Monitor *m, WarrenError *reterr) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/control", m->dir_path) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        /* Root only (the directory is 0700 as well). warrend connects
         * without waiting and takes a full queue for a stuck monitor: room
         * for a burst of calls to a healthy one. */
        int r = m->listen_fd = seqpacket_listen_private(path, NULL, LISTEN_BACKLOG);
        if (r == -ENAMETOOLONG)
                return warren_error_set(reterr, r, "Runtime directory '%s' is too long for a socket path",
                                        m->dir_path);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to listen on %s: %s", path, strerror(-r));
        r = monitor_epoll_add(m, m->listen_fd, TAG(TAG_LISTEN, 0), EPOLLIN);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to watch control socket: %s", strerror(-r));
        return 0;
}
