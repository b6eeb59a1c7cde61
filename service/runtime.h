/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrend's view of running containers and its client of their monitors.
 *
 * One entry per container that has a monitor (or the leftovers of one):
 * its state, init pid and cgroup, fed by the STATE events the monitor
 * pushes on a subscribed connection. Reads (properties, listings) come
 * from this cache and never talk to a monitor. Requests run on the event
 * loop only: non-blocking connects, and every exchange has a deadline; a
 * monitor that misses one makes calls on its container fail at once with
 * org.warren1.Error.Unresponsive until it answers again, while every
 * other container is served as usual.
 *
 * A container's lifetime is bound to its monitor's (init dies with it,
 * PR_SET_PDEATHSIG). When a monitor dies without having torn its
 * container down, warrend finishes that itself: kills what is left in the
 * container's cgroups, removes them, its veths and its runtime directory,
 * reporting ABORTING and then STOPPED. At start it does the same for any
 * container whose monitor is gone but whose cgroup or runtime dir is not.
 * State is never assumed: no entry means nothing of the container runs. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "monitor-proto.h"

typedef struct Daemon Daemon;
typedef struct MonitorMessage MonitorMessage;

typedef struct RuntimeInfo {
        MonitorState state;
        pid_t init_pid;     /* 0 when there is no init */
        const char *cgroup; /* "" when none; valid until the event loop runs again */
        bool unresponsive;  /* the monitor missed a deadline and has not answered since */
} RuntimeInfo;

/* From the cache; never blocks, never fails. */
void runtime_get_info(Daemon *d, const char *name, RuntimeInfo *ret);
const char *runtime_state_string(Daemon *d, const char *name);
/* Whether anything of NAME runs or is left: an entry (monitor, start in
 * flight, teardown being finished) or, checked in the kernel, processes in
 * its cgroup, a cgroup or a runtime dir (which then get an entry). */
bool runtime_is_active(Daemon *d, const char *name);
/* Containers of owner with an entry: running, starting (a start in
 * flight counts from the moment it is accepted) or being torn down; their
 * number, or their names. */
unsigned runtime_count_active(Daemon *d, uid_t owner);
/* Containers whose init runs (RUNNING, FREEZING, FROZEN), for STATUS=. */
unsigned runtime_count_running(Daemon *d);
int runtime_list_active(Daemon *d, uid_t owner, char ***ret_names);

/* For Attach: a borrowed pidfd of NAME's init and its cgroup path, from
 * the cache. NotRunning / Unresponsive as error otherwise. */
int runtime_get_init(Daemon *d, const char *name, int *ret_pidfd, const char **ret_cgroup,
                     sd_bus_error *error);

/* The operations reply to request themselves (they return 1 once they
 * took it over, or <0 with error set; the contract of a method handler).
 * runtime_start(): spawns the monitor; the entry exists (and counts for
 * quotas) from this call on; answers once init runs or with the failure.
 * runtime_stop(): answers once init and the monitor are gone and nothing
 * of the container is left, never before. */
int runtime_start(Daemon *d, sd_bus_message *request, const char *name, uid_t owner, sd_bus_error *error);
/* The same, for a caller that found !runtime_is_active(d, name) with
 * nothing yielding since (the kernel's leftovers are not looked at twice). */
int runtime_start_inactive(Daemon *d, sd_bus_message *request, const char *name, uid_t owner,
                           sd_bus_error *error);
int runtime_stop(Daemon *d, sd_bus_message *request, const char *name, uint32_t timeout_s, bool kill,
                 sd_bus_error *error);

/* Any other request (KILL, REBOOT, FREEZE, UNFREEZE, GET_TTY,
 * GET_CONSOLE_LOG): done() replies to the request with what the monitor
 * answered (msg->fd is the caller's to take); NULL replies empty. */
typedef int (*RuntimeReplyFunc)(sd_bus_message *request, MonitorMessage *msg, const char *name);
int runtime_request(Daemon *d, sd_bus_message *request, const char *name, MonitorCommand command,
                    uint32_t arg, uint32_t flags, RuntimeReplyFunc done, sd_bus_error *error);

/* At warrend's start: subscribes to every live monitor (re-adoption) and
 * finishes the teardown of containers whose monitor is gone. */
int runtime_adopt_all(Daemon *d);
void runtime_free_all(Daemon *d);

/* Warm monitors (runtime-pool.c): at warrend's start, sweeps what dead
 * ones left, adopts the live ones and fills the pool up to
 * d->pool_size once containers are quiet; at its exit, leaves them
 * running. */
void runtime_pool_init(Daemon *d);
void runtime_pool_free_all(Daemon *d);
