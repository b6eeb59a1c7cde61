/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "cgroup.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "idmap.h"
#include "monitor-client.h"
#include "owner-limits.h"
#include "owner.h"
#include "network-dbus.h"
#include "network.h"
#include "polkit.h"
#include "runtime.h"

/* A monitor that does not answer within this is treated as gone for reads. */
#define MONITOR_READ_TIMEOUT_SEC 2

/* --- reading state ------------------------------------------------------ */

int runtime_connect(Daemon *d, const char *name, int *ret_fd) {
        int fd, r = monitor_connect(d->runtime_dir, name, false, &fd, NULL);
        if (r < 0)
                return r;
        struct timeval tv = { .tv_sec = MONITOR_READ_TIMEOUT_SEC };
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        *ret_fd = fd;
        return 0;
}

void runtime_get_info(Daemon *d, const char *name, bool want_memory, RuntimeInfo *ret) {
        _cleanup_close_ int fd = -EBADF;
        MonitorMessage msg = { .fd = -EBADF };
        *ret = (RuntimeInfo){ .state = "STOPPED" };
        if (runtime_connect(d, name, &fd) < 0)
                return;
        if (monitor_get_state(fd, &msg, NULL) < 0)
                return;
        ret->state = monitor_state_to_string(msg.state);
        ret->init_pid = msg.init_pid;
        ret->cgroup = msg.text[0] ? strdup(msg.text) : NULL;
        monitor_message_done(&msg);

        if (!want_memory || ret->init_pid == 0)
                return;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        if (d->cgroup_layout && cgroup_new(d->cgroup_layout, "warren", name, &cg, NULL) >= 0)
                (void) cgroup_memory_current(cg, &ret->memory_current, NULL);
}

void runtime_info_done(RuntimeInfo *i) {
        free(i->cgroup);
        i->cgroup = NULL;
}

bool runtime_is_active(Daemon *d, const char *name) {
        RuntimeInfo info;
        runtime_get_info(d, name, false, &info);
        bool active = !streq(info.state, "STOPPED");
        runtime_info_done(&info);
        return active;
}

int runtime_append_namespaces(sd_bus_message *reply, pid_t init_pid) {
        static const char *const types[] = { "pid", "mnt", "uts", "ipc", "net", "cgroup", "user", "time" };
        int r = sd_bus_message_open_container(reply, 'a', "(st)");
        if (r < 0)
                return r;
        for (size_t i = 0; init_pid > 0 && i < ELEMENTSOF(types); i++) {
                char path[64];
                struct stat st;
                snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) init_pid, types[i]);
                if (stat(path, &st) < 0)
                        continue;
                r = sd_bus_message_append(reply, "(st)", types[i], (uint64_t) st.st_ino);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

int runtime_append_addresses(sd_bus_message *reply, pid_t init_pid, int family) {
        _cleanup_strv_free_ char **addresses = NULL;
        /* Read from the container's own netns: static or DHCP-acquired. */
        if (init_pid > 0)
                (void) network_container_addresses(init_pid, family == 6 ? AF_INET6 : AF_INET, &addresses,
                                                   NULL);
        return sd_bus_message_append_strv(reply, addresses);
}

/* --- watching monitors for PropertiesChanged ----------------------------- */

typedef struct Watch {
        Daemon *daemon;
        char *name;
        int fd;
        sd_event_source *source;
        struct Watch *next;
} Watch;

static Watch *watches = NULL;

static void emit_state_changed(Daemon *d, const char *name) {
        _cleanup_free_ char *path = container_bus_path(name);
        if (path)
                (void) sd_bus_emit_properties_changed(d->bus, path, WARREN_CONTAINER_IFACE, "State",
                                                      "InitPID", "Namespaces", "CGroup", NULL);
}

static void watch_free(Watch *w) {
        for (Watch **p = &watches; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        sd_event_source_disable_unref(w->source);
        safe_close(w->fd);
        free(w->name);
        free(w);
}

static Watch *watch_find(const char *name) {
        for (Watch *w = watches; w; w = w->next)
                if (streq(w->name, name))
                        return w;
        return NULL;
}

static int watch_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Watch *w = userdata;
        for (;;) {
                MonitorMessage msg = { .fd = -EBADF };
                int r = monitor_receive(w->fd, &msg, NULL);
                if (r == -EAGAIN)
                        return 0;
                if (r < 0) {
                        /* The monitor exited: the container is STOPPED now. */
                        Daemon *d = w->daemon;
                        _cleanup_free_ char *name = strdup(w->name);
                        watch_free(w);
                        if (name)
                                emit_state_changed(d, name);
                        return 0;
                }
                if (msg.command == MONITOR_EVENT_STATE)
                        emit_state_changed(w->daemon, w->name);
                monitor_message_done(&msg);
        }
}

static int watch_add(Daemon *d, const char *name) {
        if (watch_find(name))
                return 0;
        Watch *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->daemon = d;
        w->fd = -EBADF;
        w->name = strdup(name);
        int r = w->name ? monitor_connect(d->runtime_dir, name, true, &w->fd, NULL) : -ENOMEM;
        if (r >= 0)
                r = monitor_send(w->fd, MONITOR_CMD_SUBSCRIBE, 0, 0, NULL);
        if (r >= 0)
                r = sd_event_add_io(d->event, &w->source, w->fd, EPOLLIN, watch_io, w);
        w->next = watches;
        watches = w;
        if (r < 0) {
                watch_free(w);
                return r;
        }
        return 0;
}

int runtime_adopt_all(Daemon *d) {
        _cleanup_strv_free_ char **names = NULL;
        int r = monitor_list_running(d->runtime_dir, &names, NULL);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                r = watch_add(d, *n);
                if (r < 0)
                        log_warning_errno(r, "Failed to re-adopt container %s: %m", *n);
                else
                        log_debug("Re-adopted running container %s.", *n);
        }
        return 0;
}

void runtime_free_all(Daemon *d) {
        while (watches)
                watch_free(watches);
}

/* --- asynchronous requests to a monitor ---------------------------------- */

typedef struct MonitorCall {
        Daemon *daemon;
        sd_bus_message *request;
        sd_event_source *source;
        int fd;
        char *name;
        MonitorCommand command;
        /* Start only: the monitor process, and a failure kept until it exited. */
        sd_event_source *child;
        bool child_exited;
        int start_r;
        WarrenError start_err;
} MonitorCall;

static void monitor_call_free(MonitorCall *c) {
        if (c->child && !c->child_exited) {
                /* A running monitor is still ours to reap when it exits. */
                (void) sd_event_source_set_userdata(c->child, NULL);
                (void) sd_event_source_set_floating(c->child, true);
        }
        sd_event_source_unref(c->child);
        warren_error_clear(&c->start_err);
        sd_event_source_disable_unref(c->source);
        safe_close(c->fd);
        sd_bus_message_unref(c->request);
        free(c->name);
        daemon_release(c->daemon);
        free(c);
}

/* Errors of runtime operations: the generic mapping, except that a failed
 * start is reported with the monitor's message and a generic name (ENOENT
 * there is a missing file, not a missing container). */
static void reply_runtime_error(MonitorCall *c, int r, const WarrenError *err) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *msg = err && err->error ? warren_error_message(err) : strerror(-r);
        switch (-r) {
        case ESRCH:
                sd_bus_error_setf(&error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running%s%s",
                                  c->name, err && err->error ? ": " : "", err && err->error ? msg : "");
                break;
        case EALREADY:
        case EBUSY:
        case EDQUOT:
        case EACCES:
        case EPERM:
                bus_error_from_warren(&error, r, err);
                break;
        case EINVAL:
        case EBADMSG:
                sd_bus_error_set(&error,
                                 c->command == MONITOR_CMD_INVALID ? WARREN_ERROR_INVALID_CONFIG
                                                                   : SD_BUS_ERROR_INVALID_ARGS,
                                 msg);
                break;
        default:
                sd_bus_error_setf(&error, SD_BUS_ERROR_FAILED, "%s", msg);
        }
        (void) sd_bus_reply_method_error(c->request, &error);
        sd_bus_error_free(&error);
}

/* Reads the start result: 0 if nothing arrived yet, 1 for a failure kept
 * in c, 2 for a success (replied, and c freed). */
static int start_read_sync(MonitorCall *c) {
        MonitorMessage msg = { .fd = -EBADF };
        int r = monitor_read_sync(c->fd, &msg, &c->start_err);
        monitor_message_done(&msg);
        if (r == -EAGAIN)
                return 0;
        c->source = sd_event_source_disable_unref(c->source);
        if (r >= 0) {
                (void) watch_add(c->daemon, c->name);
                emit_state_changed(c->daemon, c->name);
                (void) sd_bus_reply_method_return(c->request, NULL);
                monitor_call_free(c);
                return 2;
        }
        log_debug("Start of %s failed: %s", c->name, warren_error_message(&c->start_err));
        c->start_r = r;
        return 1;
}

static void start_fail(MonitorCall *c) {
        reply_runtime_error(c, c->start_r, &c->start_err);
        monitor_call_free(c);
}

static int start_sync_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        MonitorCall *c = userdata;
        if (start_read_sync(c) != 1)
                return 0;
        /* A failed start is answered once the monitor is gone: it tore
         * everything down before reporting, and then exits. */
        if (c->child_exited)
                start_fail(c);
        return 0;
}

static int start_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        MonitorCall *c = userdata;
        if (!c)
                return 0; /* a monitor that started fine has exited: reaped */
        c->child_exited = true;
        if (c->start_r == 0 && c->source) {
                /* It exited; whatever it reported is queued (or it said nothing). */
                int k = start_read_sync(c);
                if (k == 2)
                        return 0; /* it had started fine (c is freed) and has stopped since */
                if (k == 0) {
                        c->start_r = -ECHILD;
                        warren_error_set(&c->start_err, ECHILD,
                                         "The monitor of '%s' exited without reporting", c->name);
                }
        }
        start_fail(c);
        return 0;
}

static int monitor_reply_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        MonitorCall *c = userdata;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        for (;;) {
                MonitorMessage msg = { .fd = -EBADF };
                int r = monitor_receive(c->fd, &msg, &err);
                if (r == -EAGAIN)
                        return 0;
                if (r == -ECONNRESET && c->command == MONITOR_CMD_STOP)
                        r = 0; /* it stopped and exited before answering: done all the same */
                else if (r >= 0 && msg.command == MONITOR_EVENT_STATE) {
                        monitor_message_done(&msg);
                        continue;
                } else if (r >= 0 && msg.error != 0)
                        r = warren_error_set(&err, msg.error, "%s",
                                             msg.text[0] ? msg.text : strerror(msg.error));
                monitor_message_done(&msg);
                if (r < 0)
                        reply_runtime_error(c, r, &err);
                else
                        (void) sd_bus_reply_method_return(c->request, NULL);
                monitor_call_free(c);
                return 0;
        }
}

static MonitorCall *monitor_call_new(Daemon *d, sd_bus_message *m, const char *name,
                                     MonitorCommand command) {
        MonitorCall *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        c->daemon = d;
        daemon_hold(d);
        c->fd = -EBADF;
        c->command = command;
        c->request = sd_bus_message_ref(m);
        c->name = strdup(name);
        if (!c->name) {
                monitor_call_free(c);
                return NULL;
        }
        return c;
}

/* The container a runtime method acts on: Manager shortcuts pass its name
 * first, Container methods have it in their path. */
int runtime_target(Daemon *d, sd_bus_message *m, char **ret_name, uid_t *ret_owner, sd_bus_error *error) {
        char *name;
        if (streq(sd_bus_message_get_interface(m), WARREN_MANAGER_IFACE)) {
                const char *arg;
                int r = sd_bus_message_read(m, "s", &arg);
                if (r < 0)
                        return r;
                name = strdup(arg);
        } else {
                name = container_name_from_path(sd_bus_message_get_path(m));
                if (!name)
                        return sd_bus_error_setf(error, WARREN_ERROR_NO_SUCH_CONTAINER,
                                                 "No container at path '%s'", sd_bus_message_get_path(m));
        }
        if (!name)
                return -ENOMEM;
        return bus_container_lookup(d, name, ret_name, ret_owner, error);
}

/* A container owned by anyone but root runs in a user namespace whose map
 * lies inside the owner's ranges, within the owner's running limit. */
static int check_owner_may_run(Daemon *d, const char *name, uid_t owner, sd_bus_error *error) {
        _cleanup_lxc_config_ LxcConfig *c = NULL;
        _cleanup_(idmap_freep) Idmap *map = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        Owner o;
        uint64_t running;
        if (owner == 0)
                return 0;
        int r = container_load_config(d->store, name, LXC_INCLUDE_EXPAND, &c, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = idmap_from_config(c, &map, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        if (!map || map->n == 0)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_ACCESS_DENIED,
                        "Container '%s' is owned by uid %u but has no lxc.idmap: a non-root owner's "
                        "container must be unprivileged",
                        name, (unsigned) owner);
        r = owner_load(d, owner, &o, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = idmap_allowance_check(o.allowance, map, &err);
        if (r >= 0)
                r = owner_count_containers(d, owner, true, &running);
        if (r >= 0)
                r = limits_check(o.limits, LIMIT_RUNNING, owner, o.name, running, &err);
        owner_done(&o);
        if (r == -EDQUOT)
                return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED, warren_error_message(&err)), r;
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, warren_error_message(&err)), r;
        return 0;
}

static int prepare_networks(Daemon *d, const char *name, uid_t owner, sd_bus_error *error) {
        _cleanup_lxc_config_ LxcConfig *c = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = container_load_config(d->store, name, LXC_INCLUDE_EXPAND, &c, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = networks_prepare_start(d, c, owner, &err);
        if (r == -EDQUOT)
                return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED, warren_error_message(&err)), r;
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "Failed to prepare the networks of '%s': %s", name,
                                         warren_error_message(&err));
        return 0;
}

static int do_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        uid_t owner;
        int r = runtime_target(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        r = check_owner_may_run(d, name, owner, error);
        if (r < 0)
                return r;
        r = prepare_networks(d, name, owner, error);
        if (r < 0)
                return r;
        if (runtime_is_active(d, name))
                return sd_bus_error_setf(error, WARREN_ERROR_ALREADY_RUNNING,
                                         "Container '%s' is already running", name);
        MonitorCall *c = monitor_call_new(d, m, name, MONITOR_CMD_INVALID);
        if (!c)
                return -ENOMEM;
        const MonitorSpawnOptions o = {
                .monitor_path = d->monitor_path,
                .name = name,
                .state_dir = d->state_dir,
                .runtime_dir = d->runtime_dir,
                .config_dir = d->config_dir,
        };
        pid_t pid;
        r = monitor_spawn(&o, &pid, &c->fd, &err);
        /* The monitor detaches but stays our child until we exit. */
        if (r >= 0)
                r = sd_event_add_child(d->event, &c->child, pid, WEXITED, start_child_exit, c);
        if (r >= 0)
                r = sd_event_add_io(d->event, &c->source, c->fd, EPOLLIN, start_sync_io, c);
        if (r < 0) {
                monitor_call_free(c);
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to start monitor for '%s': %s",
                                         name, err.error ? warren_error_message(&err) : strerror(-r));
        }
        return 1;
}

/* Sends one request to the monitor and replies to m when it answers. */
static int monitor_request_async(Daemon *d, sd_bus_message *m, const char *name, MonitorCommand command,
                                 uint32_t arg, uint32_t flags, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        MonitorCall *c = monitor_call_new(d, m, name, command);
        if (!c)
                return -ENOMEM;
        int r = monitor_connect(d->runtime_dir, name, true, &c->fd, &err);
        if (r == -ESRCH) {
                monitor_call_free(c);
                return sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running",
                                         name);
        }
        if (r >= 0)
                r = monitor_send(c->fd, command, arg, flags, &err);
        if (r >= 0)
                r = sd_event_add_io(d->event, &c->source, c->fd, EPOLLIN, monitor_reply_io, c);
        if (r < 0) {
                monitor_call_free(c);
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "Failed to reach the monitor of '%s': %s", name,
                                         err.error ? warren_error_message(&err) : strerror(-r));
        }
        return 1;
}

static int do_monitor_request(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        const char *member = sd_bus_message_get_member(m);
        uint32_t arg = 0, flags = 0;
        MonitorCommand command;
        int r = runtime_target(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        if (streq(member, "Stop") || streq(member, "StopContainer")) {
                int kill = 0;
                r = sd_bus_message_read(m, "ub", &arg, &kill);
                if (r < 0)
                        return r;
                flags = kill ? MONITOR_STOP_KILL : 0;
                command = MONITOR_CMD_STOP;
        } else if (streq(member, "Kill")) {
                int32_t sig;
                r = sd_bus_message_read(m, "i", &sig);
                if (r < 0)
                        return r;
                arg = (uint32_t) sig;
                command = MONITOR_CMD_KILL;
        } else if (streq(member, "Reboot"))
                command = MONITOR_CMD_REBOOT;
        else if (streq(member, "Freeze"))
                command = MONITOR_CMD_FREEZE;
        else
                command = MONITOR_CMD_UNFREEZE;
        return monitor_request_async(d, m, name, command, arg, flags, error);
}

/* Validate, then authorize manage-own/manage, then cont. */
static int runtime_method(sd_bus_message *m, void *userdata, sd_bus_error *error, AuthorizedFunc cont) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        int r = runtime_target(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        const char *member = sd_bus_message_get_member(m);
        if (streq(member, "Kill")) {
                int32_t sig;
                r = sd_bus_message_read(m, "i", &sig);
                if (r < 0)
                        return r;
                if (sig <= 0 || sig >= _NSIG)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal %d", sig);
        }
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(
                d, m, polkit_pick_action(caller, owner, "org.warren1.manage-own", "org.warren1.manage"),
                &det, cont, d, error);
}

int method_container_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_start);
}
int method_manager_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_start);
}
int method_container_stop(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_monitor_request);
}
int method_manager_stop(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_monitor_request);
}
int method_container_reboot(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_monitor_request);
}
int method_container_kill(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_monitor_request);
}
int method_container_freeze(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_monitor_request);
}
int method_container_unfreeze(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_monitor_request);
}
