/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container state cache and the monitor client (see runtime.h):
 * entries, their subscriptions, deadlines and heartbeats, monitor deaths
 * and the teardown warrend finishes for a monitor that died, adoption at
 * start. The requests (start, stop and the rest) are in runtime-call.c. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "daemon.h"
#include "monitor-client.h"
#include "monitor-reap.h"
#include "monitor.h"
#include "runtime-internal.h"
#include "store.h"
#include "systemd-notify.h"

static RuntimeEntry *entries = NULL;

/* ---- entries and their state ---------------------------------------------- */

RuntimeEntry *runtime_entry_find(const char *name) {
        for (RuntimeEntry *e = entries; e; e = e->next)
                if (streq(e->name, name))
                        return e;
        return NULL;
}

static void emit_state(Daemon *d, const char *name) {
        _cleanup_free_ char *path = container_bus_path(name);
        notify_status_changed(d);
        /* State with its value; the caller-restricted ones as invalidated. */
        if (path)
                (void) sd_bus_emit_properties_changed(d->bus, path, WARREN_CONTAINER_IFACE, "State",
                                                      "InitPID", "CGroup", "Namespaces", NULL);
        runtime_pool_touch(d); /* refills wait for quiet */
}

void runtime_entry_set_state(RuntimeEntry *e, MonitorState s) {
        if (e->state == s)
                return;
        log_debug("Container '%s': %s -> %s", e->name, monitor_state_to_string(e->state),
                  monitor_state_to_string(s));
        e->state = s;
        emit_state(e->daemon, e->name);
}

RuntimeEntry *runtime_entry_new(Daemon *d, const char *name, EntryPhase phase) {
        RuntimeEntry *e = calloc(1, sizeof *e);
        if (!e)
                return NULL;
        *e = (RuntimeEntry){
                .daemon = d,
                .phase = phase,
                .state = MONITOR_STATE_STOPPED,
                .owner = (uid_t) -1,
                .init_pidfd = -EBADF,
                .monitor_pidfd = -EBADF,
                .sub_fd = -EBADF,
                .sync_fd = -EBADF,
                .sub_pending = MONITOR_CMD_INVALID,
        };
        e->name = strdup(name);
        if (!e->name || asprintf(&e->cgroup, "/%s/%s", MONITOR_CGROUP_PARENT, name) < 0) {
                free(e->name);
                free(e);
                return NULL;
        }
        if (store_get_owner(d->store, name, &e->owner) < 0)
                e->owner = (uid_t) -1;
        e->next = entries;
        entries = e;
        return e;
}

static void entry_unlink(RuntimeEntry *e) {
        for (RuntimeEntry **p = &entries; *p; p = &(*p)->next)
                if (*p == e) {
                        *p = e->next;
                        return;
                }
}

static void entry_close_init(RuntimeEntry *e) {
        e->init_source = sd_event_source_disable_unref(e->init_source);
        e->init_pidfd = safe_close(e->init_pidfd);
}

static void entry_close_sub(RuntimeEntry *e) {
        e->sub_source = sd_event_source_disable_unref(e->sub_source);
        e->sub_timer = sd_event_source_disable_unref(e->sub_timer);
        e->sub_fd = safe_close(e->sub_fd);
        e->sub_pending = MONITOR_CMD_INVALID;
        e->sub_want_ping = false;
}

static void entry_close_monitor(RuntimeEntry *e) {
        e->monitor_source = sd_event_source_disable_unref(e->monitor_source);
        e->monitor_pidfd = safe_close(e->monitor_pidfd);
}

/* Frees e, answering what waited on it: calls fail with NotRunning (or
 * succeed, for Stop, if everything is gone), a start with its failure. */
static void entry_free(RuntimeEntry *e, bool gone) {
        entry_unlink(e);
        entry_close_sub(e);
        runtime_start_finish(e, gone);
        warren_error_clear(&e->start_err);
        while (e->calls)
                runtime_call_finish_gone(e->calls, gone);
        entry_close_init(e);
        entry_close_monitor(e);
        sd_event_source_disable_unref(e->ping_timer);
        sd_event_source_disable_unref(e->work_timer);
        sd_event_source_disable_unref(e->exit_timer);
        if (e->holds_daemon)
                daemon_release(e->daemon);
        free(e->cause);
        free(e->cgroup);
        free(e->name);
        free(e);
}

/* Nothing of the container is left: STOPPED, once. */
static void entry_gone(RuntimeEntry *e) {
        Daemon *d = e->daemon;
        _cleanup_free_ char *name = strdup(e->name);
        bool emit = e->state != MONITOR_STATE_STOPPED;
        e->state = MONITOR_STATE_STOPPED;
        e->init_pid = 0;
        entry_free(e, true);
        if (emit && name)
                emit_state(d, name);
}

static uint64_t now_usec(Daemon *d) {
        uint64_t t = 0;
        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &t);
        return t;
}

/* (Re)arms a oneshot timer source usec from now. */
int runtime_timer_arm(Daemon *d, sd_event_source **s, uint64_t usec, sd_event_time_handler_t cb,
                      void *userdata) {
        if (*s) {
                int r = sd_event_source_set_time_relative(*s, usec);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
        }
        return sd_event_add_time_relative(d->event, s, CLOCK_MONOTONIC, usec, 10000, cb, userdata);
}

/* ---- init: a pidfd of our own, from the pid the monitor told us ------------ */

static int on_init_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RuntimeEntry *e = userdata;
        entry_close_init(e);
        /* A monitor that answers says what happens next (reboot, stop); for
         * one that does not, init's death is the one fact there is. */
        if (e->unresponsive && e->state != MONITOR_STATE_STOPPING)
                runtime_entry_set_state(e, MONITOR_STATE_STOPPING);
        return 0;
}

/* init_pid comes from the monitor; the pidfd is opened by pid and kept only
 * if that process is in the container's cgroup. */
static void entry_open_init(RuntimeEntry *e, pid_t pid) {
        char path[64], *text = NULL;
        if (pid == e->init_pid && e->init_pidfd >= 0)
                return;
        entry_close_init(e);
        e->init_pid = pid;
        if (pid <= 0)
                return;
        _cleanup_close_ int fd = pidfd_open(pid, 0);
        if (fd < 0)
                return;
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        bool ours = false;
        if (read_full_file(path, 64 * 1024, &text, NULL) >= 0) {
                for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                        char *p = strchr(l, ':') ? strchr(strchr(l, ':') + 1, ':') : NULL;
                        size_t n = strlen(e->cgroup);
                        if (p && strncmp(p + 1, e->cgroup, n) == 0 && (p[1 + n] == '\n' || p[1 + n] == 0))
                                ours = true;
                }
                free(text);
        }
        if (!ours) {
                log_debug("Process %d is not in cgroup %s: not init of '%s'", (int) pid, e->cgroup, e->name);
                return;
        }
        if (sd_event_add_io(e->daemon->event, &e->init_source, fd, EPOLLIN, on_init_exit, e) < 0)
                return;
        e->init_pidfd = TAKE_FD(fd);
}

/* Where the monitor made the container's cgroup (/warren/NAME, or below
 * its systemd scope), as it says in its replies, events and state file. */
static void entry_set_cgroup(RuntimeEntry *e, const char *path) {
        if (!path || path[0] != '/' || strstr(path, "/..") || streq(path, e->cgroup))
                return;
        char *c = strdup(path);
        if (!c)
                return;
        free(e->cgroup);
        e->cgroup = c;
}

void runtime_entry_update(RuntimeEntry *e, const MonitorMessage *msg) {
        entry_set_cgroup(e, msg->text);
        /* STOPPED from the monitor means it tore everything down and is
         * about to exit: STOPPED is reported once it has. */
        if (msg->state == MONITOR_STATE_STOPPED) {
                e->monitor_stopped = true;
                entry_close_init(e);
                e->init_pid = 0;
                if (e->state != MONITOR_STATE_STOPPING && e->state != MONITOR_STATE_ABORTING)
                        runtime_entry_set_state(e, MONITOR_STATE_STOPPING);
                return;
        }
        entry_open_init(e, msg->init_pid);
        runtime_entry_set_state(e, msg->state);
}

/* ---- unresponsive monitors --------------------------------------------------- */

void runtime_entry_unresponsive(RuntimeEntry *e, const char *what) {
        if (!e->unresponsive)
                log_warning(
                        "The monitor of container '%s' (pid %d) did not answer %s within %.1f s; calls on "
                        "'%s' fail with Unresponsive until it does",
                        e->name, (int) e->monitor_pid, what, RUNTIME_DEADLINE_USEC / 1e6, e->name);
        e->unresponsive = true;
        /* Whatever waits on it would only wait longer. */
        runtime_calls_fail_unresponsive(e);
        runtime_entry_ping(e, false);
}

void runtime_entry_heard(RuntimeEntry *e) {
        e->last_heard_usec = now_usec(e->daemon);
        if (!e->unresponsive)
                return;
        e->unresponsive = false;
        log_info("The monitor of container '%s' (pid %d) answers again", e->name, (int) e->monitor_pid);
}

/* ---- the subscription: events, and a heartbeat while anyone waits ---------- */

static int sub_send_next(RuntimeEntry *e);
static int on_work_timer(sd_event_source *s, uint64_t usec, void *userdata);
static void entry_settle(RuntimeEntry *e, const char *cause);

static int on_sub_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        RuntimeEntry *e = userdata;
        runtime_entry_unresponsive(e, monitor_command_to_string(e->sub_pending));
        return 0;
}

static int on_sub_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RuntimeEntry *e = userdata;
        for (;;) {
                MonitorMessage msg = { .fd = -EBADF };
                int r = monitor_receive(e->sub_fd, &msg, NULL);
                if (r == -EAGAIN)
                        return 0;
                if (r < 0) {
                        /* It exited (its pidfd tells), or dropped us: subscribe again. */
                        entry_close_sub(e);
                        if (!e->monitor_stopped)
                                (void) runtime_timer_arm(e->daemon, &e->work_timer, RUNTIME_RETRY_USEC,
                                                         on_work_timer, e);
                        return 0;
                }
                if (msg.command != MONITOR_EVENT_STATE) {
                        if (msg.command == e->sub_pending || msg.command == MONITOR_CMD_INVALID) {
                                e->sub_pending = MONITOR_CMD_INVALID;
                                (void) sd_event_source_set_enabled(e->sub_timer, SD_EVENT_OFF);
                        }
                        runtime_entry_heard(e);
                }
                if (msg.error == 0)
                        runtime_entry_update(e, &msg);
                monitor_message_done(&msg);
                (void) sub_send_next(e);
        }
}

static int sub_send_next(RuntimeEntry *e) {
        if (e->sub_fd < 0 || e->sub_pending != MONITOR_CMD_INVALID)
                return 0;
        MonitorCommand c = !e->subscribed     ? MONITOR_CMD_SUBSCRIBE
                           : e->sub_want_ping ? MONITOR_CMD_GET_STATE
                                              : MONITOR_CMD_INVALID;
        if (c == MONITOR_CMD_INVALID)
                return 0;
        int r = monitor_send(e->sub_fd, c, 0, 0, NULL);
        if (r < 0)
                return r; /* hung up: the io source sees it */
        e->subscribed = true;
        e->sub_want_ping = false;
        e->sub_pending = c;
        return runtime_timer_arm(e->daemon, &e->sub_timer, RUNTIME_DEADLINE_USEC, on_sub_deadline, e);
}

static int on_ping_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RuntimeEntry *e = userdata;
        runtime_entry_ping(e, false);
        return 0;
}

void runtime_entry_ping(RuntimeEntry *e, bool now) {
        /* While a call waits (or the monitor is unresponsive), ask now and
         * then whether it still answers. */
        if (!e->calls && !e->unresponsive) {
                (void) sd_event_source_set_enabled(e->ping_timer, SD_EVENT_OFF);
                return;
        }
        if (e->sub_pending == MONITOR_CMD_INVALID &&
            (now || now_usec(e->daemon) >= e->last_heard_usec + RUNTIME_HEARTBEAT_USEC)) {
                e->sub_want_ping = true;
                (void) sub_send_next(e);
        }
        (void) runtime_timer_arm(e->daemon, &e->ping_timer, RUNTIME_HEARTBEAT_USEC, on_ping_timer, e);
}

static int on_monitor_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static int on_exit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return on_monitor_exit(NULL, -EBADF, 0, userdata);
}

static int on_monitor_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RuntimeEntry *e = userdata;
        /* A monitor that is not our child (a warm monitor an earlier
         * warrend started, one found at our start) and died without
         * tearing down: its parent reaps it, and then the kernel tells how
         * it ended. Worth a few ms before finishing its teardown. */
        if (!e->monitor_is_child && !e->monitor_stopped && e->exit_info_tries < RUNTIME_EXIT_INFO_TRIES &&
            monitor_pidfd_exit_status(e->monitor_pidfd, NULL) == 0) {
                e->exit_info_tries++;
                (void) sd_event_source_set_enabled(e->monitor_source, SD_EVENT_OFF);
                (void) runtime_timer_arm(e->daemon, &e->exit_timer, RUNTIME_EXIT_INFO_USEC, on_exit_timer,
                                         e);
                return 0;
        }
        runtime_entry_monitor_exited(e);
        return 0;
}

int runtime_entry_watch_monitor(RuntimeEntry *e, int pidfd, pid_t pid, bool child) {
        entry_close_monitor(e);
        e->monitor_pidfd = pidfd;
        e->monitor_pid = pid;
        e->monitor_is_child = child;
        return sd_event_add_io(e->daemon->event, &e->monitor_source, pidfd, EPOLLIN, on_monitor_exit, e);
}

/* Connects and subscribes; a monitor not listening (yet, or any more) or
 * not accepting is retried by the work timer. */

int runtime_entry_subscribe(RuntimeEntry *e) {
        _cleanup_close_ int fd = -EBADF;
        int r = monitor_connect(e->daemon->runtime_dir, e->name, true, &fd, NULL);
        if (r == -EAGAIN) {
                runtime_entry_unresponsive(e, "a connection");
                return runtime_timer_arm(e->daemon, &e->work_timer, RUNTIME_HEARTBEAT_USEC, on_work_timer,
                                         e);
        }
        if (r == -ESRCH) {
                /* Without its pidfd, only its lock tells a monitor that is
                 * setting up or tearing down from one that is gone. */
                if (e->monitor_pidfd < 0 && monitor_lock_held(e->daemon->runtime_dir, e->name) == 0) {
                        entry_settle(e, "was found gone");
                        return 0;
                }
                e->phase = PHASE_WAITING;
                return runtime_timer_arm(e->daemon, &e->work_timer, RUNTIME_RETRY_USEC, on_work_timer, e);
        }
        if (r < 0)
                return r;
        if (e->monitor_pidfd < 0) {
                int pidfd;
                pid_t pid;
                r = monitor_peer_pidfd(fd, &pidfd, &pid);
                if (r == -ESRCH) {
                        /* Gone between connect and now. */
                        runtime_entry_monitor_exited(e);
                        return 0;
                }
                if (r < 0)
                        return r;
                r = runtime_entry_watch_monitor(e, pidfd, pid, false);
                if (r < 0)
                        return r;
        }
        entry_close_sub(e);
        e->subscribed = false;
        r = sd_event_add_io(e->daemon->event, &e->sub_source, fd, EPOLLIN, on_sub_io, e);
        if (r < 0)
                return r;
        e->sub_fd = TAKE_FD(fd);
        e->phase = PHASE_MONITORED;
        return sub_send_next(e);
}

/* ---- monitors that die without tearing down -------------------------------- */

static void cleanup_step(RuntimeEntry *e);

static int on_work_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RuntimeEntry *e = userdata;
        if (e->phase == PHASE_CLEANUP)
                cleanup_step(e);
        else if (e->phase == PHASE_WAITING || e->sub_fd < 0) {
                int r = runtime_entry_subscribe(e);
                if (r < 0)
                        log_debug_errno(r, "Failed to subscribe to the monitor of '%s': %m", e->name);
        }
        return 0;
}

static void cleanup_step(RuntimeEntry *e) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        Daemon *d = e->daemon;
        e->cleanup_rounds++;
        int r = monitor_leftovers_remove(d->cgroup_layout, d->runtime_dir, e->name, &err);
        if (r >= 0) {
                log_info("Finished the teardown of container '%s' (its monitor %s).", e->name, e->cause);
                entry_gone(e);
                return;
        }
        /* Killed tasks take a moment to exit; new ones may have been forked
         * meanwhile (a v1-only straggler): kill again now and then. */
        if (e->cleanup_rounds % 25 == 0)
                (void) monitor_leftovers_kill(d->cgroup_layout, e->name, NULL);
        if (e->cleanup_rounds == RUNTIME_CLEANUP_PATIENCE)
                log_warning("Container '%s' is not torn down yet: %s", e->name, warren_error_message(&err));
        (void) runtime_timer_arm(d, &e->work_timer,
                                 e->cleanup_rounds < RUNTIME_CLEANUP_PATIENCE ? RUNTIME_CLEANUP_POLL_USEC
                                                                              : RUNTIME_HEARTBEAT_USEC,
                                 on_work_timer, e);
}

static void cleanup_begin(RuntimeEntry *e, const char *cause) {
        Daemon *d = e->daemon;
        free(e->cause);
        e->cause = strdup(cause);
        log_warning("The monitor of container '%s' %s without tearing it down: killing what is left of it "
                    "and removing its cgroups, veths and runtime directory.",
                    e->name, cause);
        e->phase = PHASE_CLEANUP;
        entry_close_sub(e);
        entry_close_monitor(e);
        if (!e->holds_daemon) {
                daemon_hold(d); /* no idle exit half-way */
                e->holds_daemon = true;
        }
        runtime_entry_set_state(e, MONITOR_STATE_ABORTING);
        if (e->init_pidfd >= 0)
                (void) pidfd_send_signal(e->init_pidfd, SIGKILL, NULL, 0);
        entry_close_init(e);
        e->init_pid = 0;
        (void) monitor_leftovers_kill(d->cgroup_layout, e->name, NULL);
        e->cleanup_rounds = 0;
        cleanup_step(e);
}

/* Decides after a monitor's death (or when a dead one's leftovers are
 * found) whether anything needs finishing. */
static void entry_settle(RuntimeEntry *e, const char *cause) {
        MonitorLeftovers left;
        Daemon *d = e->daemon;
        int r = monitor_leftovers_check(d->cgroup_layout, d->runtime_dir, e->name, &left);
        if (r >= 0 && !monitor_leftovers_any(&left)) {
                entry_gone(e);
                return;
        }
        if (r >= 0 && left.lock_held) {
                /* Another monitor process has it (it is still exiting, or
                 * someone started one by hand): follow that one. */
                e->phase = PHASE_WAITING;
                (void) runtime_timer_arm(d, &e->work_timer, RUNTIME_RETRY_USEC, on_work_timer, e);
                return;
        }
        cleanup_begin(e, cause);
}

void runtime_entry_monitor_exited(RuntimeEntry *e) {
        char cause[128] = "exited";
        siginfo_t si = {};
        int status;
        if (e->monitor_is_child && e->monitor_pidfd >= 0 &&
            waitid(P_PIDFD, (id_t) e->monitor_pidfd, &si, WEXITED | WNOHANG) >= 0 && si.si_pid > 0) {
                if (si.si_code == CLD_EXITED)
                        snprintf(cause, sizeof cause, "(pid %d) exited with status %d", (int) e->monitor_pid,
                                 si.si_status);
                else
                        snprintf(cause, sizeof cause, "(pid %d) was killed by signal %s",
                                 (int) e->monitor_pid, sigabbrev_np(si.si_status) ?: "?");
        } else if (e->monitor_pid > 0 && monitor_pidfd_exit_status(e->monitor_pidfd, &status) > 0) {
                if (WIFEXITED(status))
                        snprintf(cause, sizeof cause, "(pid %d) exited with status %d", (int) e->monitor_pid,
                                 WEXITSTATUS(status));
                else
                        snprintf(cause, sizeof cause, "(pid %d) was killed by signal %s",
                                 (int) e->monitor_pid, sigabbrev_np(WTERMSIG(status)) ?: "?");
        } else if (e->monitor_pid > 0)
                snprintf(cause, sizeof cause, "(pid %d) exited", (int) e->monitor_pid);
        log_debug("The monitor of '%s' %s", e->name, cause);
        e->exit_timer = sd_event_source_disable_unref(e->exit_timer);
        if (e->phase == PHASE_STARTING)
                runtime_start_monitor_exited(e);
        entry_close_monitor(e);
        entry_close_sub(e);
        entry_settle(e, cause);
}

/* ---- adoption --------------------------------------------------------------- */

/* A container warrend has no entry for: a live monitor (warrend restarted,
 * or one started by other means) or the leftovers of a dead one. */
static RuntimeEntry *entry_adopt(Daemon *d, const char *name, const char *cause) {
        MonitorLeftovers left;
        MonitorMessage st;
        int r = monitor_leftovers_check(d->cgroup_layout, d->runtime_dir, name, &left);
        if (r < 0 || !monitor_leftovers_any(&left))
                return NULL;
        RuntimeEntry *e = runtime_entry_new(d, name, PHASE_WAITING);
        if (!e)
                return NULL;
        /* What the monitor last wrote stands until it answers; never emitted:
         * nothing changed as far as anyone could see. */
        if (monitor_read_state_file(d->runtime_dir, name, &st) >= 0) {
                e->state = st.state;
                e->init_pid = st.init_pid;
                e->monitor_pid = st.monitor_pid;
                entry_set_cgroup(e, st.text);
        } else
                e->state = left.n_procs > 0 ? MONITOR_STATE_RUNNING : MONITOR_STATE_STOPPING;
        if (left.lock_held) {
                pid_t pid = e->init_pid;
                e->init_pid = 0;
                entry_open_init(e, pid);
                r = runtime_entry_subscribe(e);
                if (r < 0)
                        log_warning_errno(r, "Failed to subscribe to the monitor of container %s: %m", name);
                return runtime_entry_find(name);
        }
        cleanup_begin(e, cause);
        return runtime_entry_find(name);
}

int runtime_adopt_all(Daemon *d) {
        _cleanup_strv_free_ char **names = NULL;
        int r = monitor_leftovers_list(d->cgroup_layout, d->runtime_dir, &names);
        if (r < 0)
                return log_warning_errno(r, "Failed to look for running containers: %m");
        STRV_FOREACH(n, names) {
                /* A cgroup of a name that is not ours (nothing in our store
                 * or runtime dir) is someone else's business. */
                if (runtime_entry_find(*n) ||
                    (store_exists(d->store, *n) <= 0 && monitor_runtime_dir_exists(d->runtime_dir, *n) <= 0))
                        continue;
                RuntimeEntry *e = entry_adopt(d, *n, "was gone when warrend started");
                if (e)
                        log_debug("Adopted container %s (%s)", *n, monitor_state_to_string(e->state));
        }
        return 0;
}

void runtime_free_all(Daemon *d) {
        while (entries)
                entry_free(entries, false);
}

/* ---- reads ----------------------------------------------------------------- */

/* A runtime dir without an entry is a monitor warrend did not start (or a
 * dead one's): one lstat() tells. */
static RuntimeEntry *entry_lookup(Daemon *d, const char *name) {
        RuntimeEntry *e = runtime_entry_find(name);
        if (e || monitor_runtime_dir_exists(d->runtime_dir, name) <= 0)
                return e;
        return entry_adopt(d, name, "was found gone");
}

void runtime_get_info(Daemon *d, const char *name, RuntimeInfo *ret) {
        RuntimeEntry *e = entry_lookup(d, name);
        if (!e) {
                *ret = (RuntimeInfo){ .state = MONITOR_STATE_STOPPED, .cgroup = "" };
                return;
        }
        bool has_init = e->init_pid > 0 && e->state != MONITOR_STATE_STOPPED;
        *ret = (RuntimeInfo){
                .state = e->state,
                .init_pid = has_init ? e->init_pid : 0,
                .cgroup = has_init ? e->cgroup : "",
                .unresponsive = e->unresponsive,
        };
}

const char *runtime_state_string(Daemon *d, const char *name) {
        RuntimeInfo i;
        runtime_get_info(d, name, &i);
        return monitor_state_to_string(i.state);
}

bool runtime_is_active(Daemon *d, const char *name) {
        MonitorLeftovers left;
        if (entry_lookup(d, name))
                return true;
        if (monitor_leftovers_check(d->cgroup_layout, d->runtime_dir, name, &left) < 0)
                return true; /* cannot tell: not "stopped" */
        if (!monitor_leftovers_any(&left))
                return false;
        (void) entry_adopt(d, name, "was found gone");
        return true;
}

unsigned runtime_count_active(Daemon *d, uid_t owner) {
        unsigned n = 0;
        for (RuntimeEntry *e = entries; e; e = e->next)
                n += e->owner == owner;
        return n;
}

unsigned runtime_count_running(Daemon *d) {
        unsigned n = 0;
        for (RuntimeEntry *e = entries; e; e = e->next)
                n += e->state == MONITOR_STATE_RUNNING || e->state == MONITOR_STATE_FREEZING ||
                     e->state == MONITOR_STATE_FROZEN;
        return n;
}

int runtime_list_active(Daemon *d, uid_t owner, char ***ret_names) {
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        for (RuntimeEntry *e = entries; e; e = e->next)
                if (e->owner == owner && strv_extend(&names, e->name) < 0)
                        return -ENOMEM;
        *ret_names = TAKE_PTR(names);
        return 0;
}

int runtime_get_init(Daemon *d, const char *name, int *ret_pidfd, const char **ret_cgroup,
                     sd_bus_error *error) {
        RuntimeEntry *e = entry_lookup(d, name);
        if (e && e->init_pidfd >= 0 && e->state != MONITOR_STATE_STOPPING &&
            e->state != MONITOR_STATE_ABORTING) {
                *ret_pidfd = e->init_pidfd;
                *ret_cgroup = e->cgroup;
                return 0;
        }
        if (e && e->unresponsive)
                return runtime_error_unresponsive(e, error);
        if (e && e->phase == PHASE_STARTING)
                return sd_bus_error_setf(error, WARREN_ERROR_BUSY, "Container '%s' is still starting", name);
        return sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running", name);
}

int runtime_error_unresponsive(RuntimeEntry *e, sd_bus_error *error) {
        return sd_bus_error_setf(
                error, WARREN_ERROR_UNRESPONSIVE,
                "The monitor of container '%s' (pid %d) does not answer; calls on '%s' fail "
                "until it does (other containers are not affected)",
                e->name, (int) e->monitor_pid, e->name);
}
