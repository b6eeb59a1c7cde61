/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests to monitors (see runtime.h): Start spawns one and waits for its
 * start result; Stop asks it and answers once the container is gone; every
 * other request is one exchange on a connection of its own. All of them
 * run on the event loop with a deadline, and with the heartbeat of
 * runtime.c watching the monitor meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "audit.h"
#include "basic/log.h"
#include "bus-error.h"
#include "daemon.h"
#include "monitor-client.h"
#include "monitor-reap.h"
#include "runtime-internal.h"

/* FREEZE is answered once the kernel reports the cgroup frozen. */
#define FREEZE_DEADLINE_USEC (30ULL * 1000000ULL)
/* After the stop timeout and lxc.signal.stop's grace, the monitor kills. */
#define STOP_MARGIN_USEC (20ULL * 1000000ULL)

struct RuntimeCall {
        RuntimeEntry *entry;
        sd_bus_message *request;
        BusPending pending;
        MonitorCommand command;
        RuntimeReplyFunc done;
        int fd;
        sd_event_source *io, *timer;
        bool stop_answered; /* STOP: the monitor answered (or went); the container must be gone */
        RuntimeCall *next;
};

static void call_free(RuntimeCall *c) {
        RuntimeEntry *e = c->entry;
        for (RuntimeCall **p = &e->calls; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        safe_close(c->fd);
        sd_bus_message_unref(c->request);
        bus_pending_release(&c->pending);
        daemon_release(e->daemon);
        free(c);
        runtime_entry_ping(e, false);
}

static void call_reply_error(RuntimeCall *c, const sd_bus_error *error) {
        audit_end(c->request, error);
        (void) sd_bus_reply_method_error(c->request, error);
        call_free(c);
}

static int on_call_timer(sd_event_source *s, uint64_t usec, void *userdata);

static RuntimeCall *call_new(RuntimeEntry *e, sd_bus_message *request, MonitorCommand command,
                             RuntimeReplyFunc done, uint64_t deadline_usec, sd_bus_error *error, int *ret) {
        RuntimeCall *c = calloc(1, sizeof *c);
        if (!c) {
                *ret = -ENOMEM;
                return NULL;
        }
        *ret = bus_pending_acquire(request, &c->pending, error);
        if (*ret < 0) {
                free(c);
                return NULL;
        }
        *c = (RuntimeCall){
                .entry = e,
                .request = sd_bus_message_ref(request),
                .pending = c->pending,
                .command = command,
                .done = done,
                .fd = -EBADF,
        };
        daemon_hold(e->daemon);
        audit_defer(request); /* its record comes with the answer */
        c->next = e->calls;
        e->calls = c;
        *ret = runtime_timer_arm(e->daemon, &c->timer, deadline_usec, on_call_timer, c);
        if (*ret < 0) {
                call_free(c);
                return NULL;
        }
        runtime_entry_ping(e, true); /* a stuck monitor is found within one deadline */
        return c;
}

void runtime_calls_fail_unresponsive(RuntimeEntry *e) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        (void) runtime_error_unresponsive(e, &error);
        for (RuntimeCall *c = e->calls, *next; c; c = next) {
                next = c->next;
                if (!c->stop_answered) /* it answered; what remains is its exit */
                        call_reply_error(c, &error);
        }
        sd_bus_error_free(&error);
}

void runtime_call_finish_gone(RuntimeCall *c, bool gone) {
        const char *name = c->entry->name;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        if (gone && c->command == MONITOR_CMD_STOP) {
                audit_end(c->request, NULL);
                (void) sd_bus_reply_method_return(c->request, NULL);
        } else if (gone) {
                sd_bus_error_setf(&error, WARREN_ERROR_NOT_RUNNING, "Container '%s' stopped meanwhile",
                                  name);
                audit_end(c->request, &error);
                (void) sd_bus_reply_method_error(c->request, &error);
                sd_bus_error_free(&error);
        }
        call_free(c);
}

/* STOP answered, or its monitor gone: what is left is the container
 * being gone, which the entry's end reports (runtime_call_finish_gone). */
static void stop_wait_gone(RuntimeCall *c) {
        c->stop_answered = true;
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        (void) runtime_timer_arm(c->entry->daemon, &c->timer, RUNTIME_STOP_EXIT_USEC, on_call_timer, c);
}

static int on_call_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RuntimeCall *c = userdata;
        RuntimeEntry *e = c->entry;
        if (c->stop_answered) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_error_setf(&error, WARREN_ERROR_BUSY, "Container '%s' is not gone yet: %s", e->name,
                                  e->phase == PHASE_CLEANUP
                                          ? "processes of it still run after its monitor died"
                                          : "its monitor has not exited");
                call_reply_error(c, &error);
                sd_bus_error_free(&error);
                return 0;
        }
        runtime_entry_unresponsive(e, monitor_command_to_string(c->command));
        return 0;
}

/* A monitor's refusal as a bus error: its message names what was wrong. */
static void set_monitor_error(sd_bus_error *error, const char *name, int err, const char *text) {
        const char *msg = text && *text ? text : strerror(err);
        switch (err) {
        case ESRCH:
                sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running: %s", name,
                                  msg);
                break;
        case EBUSY:
        case ECANCELED:
                sd_bus_error_set(error, WARREN_ERROR_BUSY, msg);
                break;
        case EINVAL:
                sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, msg);
                break;
        default: {
                WarrenError e = { .error = err, .message = (char *) msg };
                (void) bus_error_from_warren(error, -err, &e);
        }
        }
}

static int on_call_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RuntimeCall *c = userdata;
        RuntimeEntry *e = c->entry;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        MonitorMessage msg = { .fd = -EBADF };
        int r;
        for (;;) {
                r = monitor_receive(c->fd, &msg, NULL);
                if (r < 0 || msg.command != MONITOR_EVENT_STATE)
                        break;
                monitor_message_done(&msg); /* not subscribed: none should come */
        }
        if (r == -EAGAIN)
                return 0;
        if (r < 0 && c->command == MONITOR_CMD_STOP) {
                /* It exited before answering: done, if nothing is left. */
                stop_wait_gone(c);
                return 0;
        }
        if (r < 0) {
                sd_bus_error_setf(&error, WARREN_ERROR_NOT_RUNNING,
                                  "Container '%s' is not running (its monitor went away)", e->name);
                call_reply_error(c, &error);
                sd_bus_error_free(&error);
                return 0;
        }
        runtime_entry_heard(e);
        if (msg.error != 0) {
                set_monitor_error(&error, e->name, msg.error, msg.text);
                monitor_message_done(&msg);
                call_reply_error(c, &error);
                sd_bus_error_free(&error);
                return 0;
        }
        if (c->command == MONITOR_CMD_STOP) {
                stop_wait_gone(c);
                return 0;
        }
        r = c->done ? c->done(c->request, &msg, e->name) : sd_bus_reply_method_return(c->request, NULL);
        monitor_message_done(&msg);
        if (r < 0) {
                sd_bus_error_set_errno(&error, r);
                (void) sd_bus_reply_method_error(c->request, &error);
        }
        audit_end(c->request, &error);
        sd_bus_error_free(&error);
        call_free(c);
        return 0;
}

/* The entry a request can go to, or the error that says why not. */
static RuntimeEntry *target(Daemon *d, const char *name, sd_bus_error *error, int *ret) {
        RuntimeEntry *e = runtime_is_active(d, name) ? runtime_entry_find(name) : NULL;
        *ret = 0;
        if (!e || e->monitor_stopped || e->phase == PHASE_CLEANUP)
                *ret = sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running",
                                         name);
        else if (e->unresponsive)
                *ret = runtime_error_unresponsive(e, error);
        else if (e->phase == PHASE_STARTING || e->phase == PHASE_WAITING)
                *ret = sd_bus_error_setf(error, WARREN_ERROR_BUSY, "Container '%s' is %s", name,
                                         e->phase == PHASE_STARTING ? "still starting"
                                                                    : "starting or stopping");
        return *ret < 0 ? NULL : e;
}

/* Connects to e's monitor for one request: Unresponsive for a monitor
 * whose accept queue is full, NotRunning for one no longer listening. */
static int call_connect(RuntimeEntry *e, int *ret_fd, sd_bus_error *error) {
        int r = monitor_connect(e->daemon->runtime_dir, e->name, true, ret_fd, NULL);
        if (r == -EAGAIN) {
                runtime_entry_unresponsive(e, "a connection");
                return runtime_error_unresponsive(e, error);
        }
        if (r == -ESRCH)
                return sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING,
                                         "Container '%s' is not running (its monitor is not listening)",
                                         e->name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to connect to the monitor of '%s': %m",
                                               e->name);
        return 0;
}

static int call_send(RuntimeCall *c, int fd, uint32_t arg, uint32_t flags, sd_bus_error *error) {
        c->fd = fd;
        int r = monitor_send(c->fd, c->command, arg, flags, NULL);
        if (r >= 0)
                r = sd_event_add_io(c->entry->daemon->event, &c->io, c->fd, EPOLLIN, on_call_io, c);
        if (r < 0) {
                call_free(c);
                return sd_bus_error_set_errnof(error, r, "Failed to send a request to the monitor: %m");
        }
        return 1;
}

int runtime_request(Daemon *d, sd_bus_message *request, const char *name, MonitorCommand command,
                    uint32_t arg, uint32_t flags, RuntimeReplyFunc done, sd_bus_error *error) {
        _cleanup_close_ int fd = -EBADF;
        int r;
        RuntimeEntry *e = target(d, name, error, &r);
        if (!e)
                return r;
        r = call_connect(e, &fd, error);
        if (r < 0)
                return r;
        RuntimeCall *c = call_new(
                e, request, command, done,
                command == MONITOR_CMD_FREEZE ? FREEZE_DEADLINE_USEC : RUNTIME_DEADLINE_USEC, error, &r);
        if (!c)
                return r;
        return call_send(c, TAKE_FD(fd), arg, flags, error);
}

int runtime_stop(Daemon *d, sd_bus_message *request, const char *name, uint32_t timeout_s, bool kill,
                 sd_bus_error *error) {
        _cleanup_close_ int fd = -EBADF;
        RuntimeEntry *e = runtime_is_active(d, name) ? runtime_entry_find(name) : NULL;
        uint64_t t =
                timeout_s == MONITOR_STOP_TIMEOUT_DEFAULT ? MONITOR_STOP_TIMEOUT_DEFAULT_SEC : timeout_s;
        int r;
        runtime_pool_touch(d);
        if (e && (e->phase == PHASE_CLEANUP || e->monitor_stopped)) {
                /* Going already: answer when it is gone. */
                RuntimeCall *c =
                        call_new(e, request, MONITOR_CMD_STOP, NULL, RUNTIME_STOP_EXIT_USEC, error, &r);
                if (!c)
                        return r;
                stop_wait_gone(c);
                return 1;
        }
        e = target(d, name, error, &r);
        if (!e)
                return r;
        r = call_connect(e, &fd, error);
        if (r < 0)
                return r;
        RuntimeCall *c = call_new(e, request, MONITOR_CMD_STOP, NULL,
                                  (kill ? 0 : t * 1000000ULL) + STOP_MARGIN_USEC, error, &r);
        if (!c)
                return r;
        return call_send(c, TAKE_FD(fd), timeout_s, kill ? MONITOR_STOP_KILL : 0, error);
}

/* ---- start ------------------------------------------------------------------ */

static void start_release(RuntimeEntry *e) {
        e->sync_source = sd_event_source_disable_unref(e->sync_source);
        e->sync_fd = safe_close(e->sync_fd);
        e->start_request = sd_bus_message_unref(e->start_request);
        bus_pending_release(&e->start_pending);
        if (e->holds_daemon) {
                e->holds_daemon = false;
                daemon_release(e->daemon);
        }
}

/* The start's error: the monitor's message names the file or key; a
 * missing or broken one is the config's problem, not a generic failure. */
static void reply_start_error(RuntimeEntry *e) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *msg = warren_error_message(&e->start_err);
        switch (-e->start_r) {
        case EINVAL:
        case EBADMSG:
        case ENOENT:
        case ENOTDIR:
        case EISDIR:
        case ELOOP:
        case EOPNOTSUPP:
                sd_bus_error_set(&error, WARREN_ERROR_INVALID_CONFIG, msg);
                break;
        case EALREADY:
        case EBUSY:
        case EDQUOT:
        case EACCES:
        case EPERM:
                (void) bus_error_from_warren(&error, e->start_r, &e->start_err);
                break;
        default:
                sd_bus_error_setf(&error, SD_BUS_ERROR_FAILED, "Failed to start container '%s': %s", e->name,
                                  msg);
        }
        audit_end(e->start_request, &error);
        (void) sd_bus_reply_method_error(e->start_request, &error);
        sd_bus_error_free(&error);
}

/* 1 if it reported (success or failure), 0 if nothing came yet. */
static int start_read_sync(RuntimeEntry *e) {
        MonitorMessage msg = { .fd = -EBADF };
        int r = monitor_read_sync(e->sync_fd, &msg, &e->start_err);
        monitor_message_done(&msg);
        if (r == -EAGAIN)
                return 0;
        e->sync_source = sd_event_source_disable_unref(e->sync_source);
        e->sync_fd = safe_close(e->sync_fd);
        if (r < 0) {
                log_debug("Start of %s failed: %s", e->name, warren_error_message(&e->start_err));
                e->start_r = r;
                runtime_entry_set_state(e, MONITOR_STATE_ABORTING);
                return 1; /* answered once the monitor is gone: it tears down first */
        }
        e->phase = PHASE_MONITORED;
        /* The caller waits for the reply, watchers of the properties do
         * not: it goes first. Nothing runs in between (one loop turn), so
         * no later call of the caller sees the state before the update. */
        (void) sd_bus_reply_method_return(e->start_request, NULL);
        audit_end(e->start_request, NULL);
        runtime_entry_update(e, &msg);
        start_release(e);
        return 1;
}

static int on_sync_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RuntimeEntry *e = userdata;
        if (start_read_sync(e) > 0 && e->phase == PHASE_MONITORED) {
                int r = runtime_entry_subscribe(e); /* may free e */
                if (r < 0)
                        log_warning_errno(r, "Failed to subscribe to the monitor: %m");
        }
        return 0;
}

void runtime_start_monitor_exited(RuntimeEntry *e) {
        if (e->sync_fd >= 0 && start_read_sync(e) == 0) {
                e->start_r = -ECHILD;
                warren_error_set(&e->start_err, ECHILD, "The monitor of '%s' exited without reporting",
                                 e->name);
        }
        e->phase = PHASE_MONITORED;
}

void runtime_start_finish(RuntimeEntry *e, bool gone) {
        if (e->start_request && gone) {
                if (e->start_r == 0) {
                        e->start_r = -ECHILD;
                        warren_error_set(&e->start_err, ECHILD,
                                         "The monitor of '%s' exited without reporting", e->name);
                }
                reply_start_error(e);
        }
        start_release(e);
}

int runtime_start(Daemon *d, sd_bus_message *request, const char *name, uid_t owner, sd_bus_error *error) {
        if (runtime_is_active(d, name)) {
                RuntimeEntry *old = runtime_entry_find(name);
                if (old && old->phase == PHASE_CLEANUP)
                        return sd_bus_error_setf(error, WARREN_ERROR_BUSY,
                                                 "Container '%s' is being torn down after its monitor died",
                                                 name);
                return sd_bus_error_setf(error, WARREN_ERROR_ALREADY_RUNNING,
                                         "Container '%s' is already running%s%s", name, old ? " " : "",
                                         old ? monitor_state_to_string(old->state)
                                             : " (its cgroup has processes)");
        }
        return runtime_start_inactive(d, request, name, owner, error);
}

int runtime_start_inactive(Daemon *d, sd_bus_message *request, const char *name, uid_t owner,
                           sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        /* From here on the start counts (quotas): nothing yields before. */
        RuntimeEntry *e = runtime_entry_new(d, name, PHASE_STARTING);
        if (!e)
                return -ENOMEM;
        e->owner = owner;
        e->holds_daemon = true;
        daemon_hold(d);
        const MonitorSpawnOptions o = {
                .monitor_path = d->monitor_path,
                .name = name,
                .state_dir = d->state_dir,
                .runtime_dir = d->runtime_dir,
                .config_dir = d->config_dir,
        };
        pid_t pid = 0;
        int pidfd = -EBADF;
        bool child = true;
        int r = bus_pending_acquire(request, &e->start_pending, error);
        /* A warm monitor if there is one, else a new one. */
        if (r >= 0 && runtime_pool_take(d, name, &pid, &pidfd, &e->sync_fd, &child) >= 0)
                r = runtime_entry_watch_monitor(e, pidfd, pid, child);
        else if (r >= 0) {
                pid = 0;
                r = monitor_spawn(&o, &pid, &e->sync_fd, &err);
                if (r >= 0) {
                        /* Our child, not reaped before we are told: the pid is its. */
                        pidfd = pidfd_open(pid, 0);
                        r = pidfd < 0 ? -errno : runtime_entry_watch_monitor(e, pidfd, pid, true);
                }
        }
        if (r >= 0 && fcntl(e->sync_fd, F_SETFL, O_NONBLOCK) < 0)
                r = -errno;
        if (r >= 0)
                r = sd_event_add_io(d->event, &e->sync_source, e->sync_fd, EPOLLIN, on_sync_io, e);
        if (r < 0) {
                if (pidfd >= 0 && e->monitor_pidfd < 0)
                        safe_close(pidfd);
                if (pid > 0) {
                        siginfo_t si;
                        (void) kill(pid, SIGKILL); /* it has done nothing yet worth a teardown */
                        (void) waitid(P_PID, (id_t) pid, &si, WEXITED);
                }
                bool set = sd_bus_error_is_set(error);
                runtime_entry_monitor_exited(e);
                if (set)
                        return r;
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "Failed to start the monitor of '%s': %s", name,
                                         err.error ? warren_error_message(&err) : strerror(-r));
        }
        e->start_request = sd_bus_message_ref(request);
        audit_defer(request); /* its record comes with the answer */
        runtime_entry_set_state(e, MONITOR_STATE_STARTING);
        return 1;
}
