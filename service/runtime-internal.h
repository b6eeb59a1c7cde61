/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between runtime.c (the cache, subscriptions, monitor deaths, adoption)
 * and runtime-call.c (start, stop and the other requests). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "basic/error.h"
#include "bus-util.h"
#include "monitor-client.h"
#include "runtime.h"

/* A monitor answers a request within this, or is unresponsive. */
#define RUNTIME_DEADLINE_USEC (2ULL * 1000000ULL)
/* While calls wait on a monitor, or it is unresponsive: asked this often. */
#define RUNTIME_HEARTBEAT_USEC (1ULL * 1000000ULL)
/* A monitor not listening yet (or any more): connect retried this often. */
#define RUNTIME_RETRY_USEC (200ULL * 1000ULL)
/* Finishing a dead monitor's teardown: polled this often, this many times,
 * then every heartbeat (and a warning). */
#define RUNTIME_CLEANUP_POLL_USEC (20ULL * 1000ULL)
#define RUNTIME_CLEANUP_PATIENCE 250U
/* A monitor that is not our child and died without tearing down: how it
 * ended is known once its parent reaped it; waited for this often, this
 * many times, for the log to say. */
#define RUNTIME_EXIT_INFO_USEC (10ULL * 1000ULL)
#define RUNTIME_EXIT_INFO_TRIES 10U
/* After the monitor answered STOP, it must be gone within this. */
#define RUNTIME_STOP_EXIT_USEC (10ULL * 1000000ULL)

typedef enum EntryPhase {
        PHASE_STARTING,  /* spawned by us, its start result not in yet */
        PHASE_MONITORED, /* a monitor runs it (subscribed, or about to be) */
        PHASE_WAITING,   /* a monitor holds its lock but does not listen: retried */
        PHASE_CLEANUP,   /* its monitor died without tearing down: we finish that */
} EntryPhase;

typedef struct RuntimeCall RuntimeCall;
typedef struct RuntimeEntry RuntimeEntry;

struct RuntimeEntry {
        Daemon *daemon;
        char *name;
        uid_t owner; /* (uid_t) -1 if unreadable */
        EntryPhase phase;
        MonitorState state; /* as last emitted */
        pid_t init_pid;
        char *cgroup; /* "/warren/NAME", or below its scope: as its monitor says */
        int init_pidfd;
        sd_event_source *init_source;
        bool unresponsive;
        bool monitor_stopped; /* it reported STOPPED: torn down, exiting */
        uint64_t last_heard_usec;
        bool holds_daemon;

        pid_t monitor_pid;
        int monitor_pidfd;
        bool monitor_is_child; /* ours to reap */
        sd_event_source *monitor_source;
        sd_event_source *exit_timer; /* waiting to learn how a non-child ended */
        unsigned exit_info_tries;

        int sub_fd;
        sd_event_source *sub_source;
        sd_event_source *sub_timer; /* deadline of sub_pending */
        MonitorCommand sub_pending; /* MONITOR_CMD_INVALID: nothing outstanding */
        bool subscribed, sub_want_ping;
        sd_event_source *ping_timer;
        sd_event_source *work_timer; /* reconnects, teardown polling */

        /* The start that spawned the monitor. */
        sd_bus_message *start_request;
        BusPending start_pending;
        int sync_fd;
        sd_event_source *sync_source;
        int start_r;
        WarrenError start_err;

        char *cause; /* how the monitor died, for the logs */
        unsigned cleanup_rounds;

        RuntimeCall *calls;
        RuntimeEntry *next;
};

RuntimeEntry *runtime_entry_find(const char *name);
RuntimeEntry *runtime_entry_new(Daemon *d, const char *name, EntryPhase phase);
void runtime_entry_set_state(RuntimeEntry *e, MonitorState s);
void runtime_entry_update(RuntimeEntry *e, const MonitorMessage *msg);
void runtime_entry_unresponsive(RuntimeEntry *e, const char *what);
/* It answered something: responsive again. */
void runtime_entry_heard(RuntimeEntry *e);
/* Heartbeat: asks the monitor whether it answers (at once if now, else
 * at most every RUNTIME_HEARTBEAT_USEC) while calls wait or it is
 * unresponsive; stops when neither. */
void runtime_entry_ping(RuntimeEntry *e, bool now);
int runtime_entry_watch_monitor(RuntimeEntry *e, int pidfd, pid_t pid, bool child);
/* May free e (a monitor found gone): look it up again afterwards. */
int runtime_entry_subscribe(RuntimeEntry *e);
/* Frees e or starts finishing its teardown. */
void runtime_entry_monitor_exited(RuntimeEntry *e);
int runtime_timer_arm(Daemon *d, sd_event_source **s, uint64_t usec, sd_event_time_handler_t cb,
                      void *userdata);
int runtime_error_unresponsive(RuntimeEntry *e, sd_bus_error *error);

/* runtime-pool.c */
/* A warm monitor takes name: its pid, pidfd (now the caller's), the
 * caller's end of its sync socket, whether it is our child; -EAGAIN if
 * none is ready. */
int runtime_pool_take(Daemon *d, const char *name, pid_t *ret_pid, int *ret_pidfd, int *ret_sync_fd,
                      bool *ret_child);
/* Something happened to a container: the refill waits for quiet. */
void runtime_pool_touch(Daemon *d);

/* runtime-call.c */
/* The monitor exited while the start was in flight: takes any result it
 * reported (answering a success at once). */
void runtime_start_monitor_exited(RuntimeEntry *e);
/* The entry is being freed: answer the start (its failure, or NotRunning). */
void runtime_start_finish(RuntimeEntry *e, bool gone);
/* The entry is being freed: a Stop waiting for this succeeds if gone,
 * anything else fails with NotRunning. Frees c. */
void runtime_call_finish_gone(RuntimeCall *c, bool gone);
/* Fails e's calls with Unresponsive (but a Stop the monitor answered). */
void runtime_calls_fail_unresponsive(RuntimeEntry *e);
