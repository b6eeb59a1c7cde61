/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warren-monitor: one process per running container (LXC's lxc-start
 * monitor). It locks <runtime-dir>/containers/NAME, loads the config, makes
 * the cgroup, the console and tty ptys (keeping the masters), spawns init,
 * and then serves the control socket (monitor-proto.h) from a single poll
 * loop: state, stop, reboot, kill, freeze, tty proxies, console log. It
 * reaps init (and, as a child subreaper, everything orphaned below it),
 * spawns init again when it rebooted (killed by SIGHUP), and tears
 * everything down when the container stops, leaving no cgroup, pty,
 * socket or runtime file behind. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "basic/error.h"

typedef struct LxcConfig LxcConfig;

/* A container's cgroup is <hierarchy>/MONITOR_CGROUP_PARENT/NAME in every hierarchy. */
#define MONITOR_CGROUP_PARENT "warren"

/* Under a delegated cgroup (see MonitorHooks.place) the monitor moves
 * itself into <base>/MONITOR_CGROUP_SELF and the container's cgroup is
 * <base>/MONITOR_CGROUP_PAYLOAD. */
#define MONITOR_CGROUP_SELF "monitor"
#define MONITOR_CGROUP_PAYLOAD "payload"
/* The scope warren-monitor makes for itself under systemd (its place
 * hook, service/systemd-scope.c): /machine.slice/warren-NAME.scope. What
 * a dead monitor left is looked for there too (monitor-reap.h). */
#define MONITOR_SCOPE_SLICE "machine.slice"
#define MONITOR_SCOPE_PREFIX "warren-"
#define MONITOR_SCOPE_SUFFIX ".scope"

/* What the monitor's host may add around a container's life without lib/
 * knowing of it (warren-monitor's main() uses them for systemd: a scope
 * of its own, machined). Each may be NULL. */
typedef struct MonitorHooks {
        /* Once the container's lock is held, before anything of it is made:
         * may move the monitor into a cgroup delegated to it. 1 if it did
         * (the container's cgroup then goes below the monitor's own), 0 if
         * not (the container's cgroup is /MONITOR_CGROUP_PARENT/NAME). A
         * failure fails the start. */
        int (*place)(const char *name, void *userdata, WarrenError *reterr);
        /* Init runs: after the start and after each reboot. rootfs is the
         * container's root directory, ifindexes the host ends of its
         * network interfaces. Failures are the hook's to log. */
        void (*running)(const char *name, pid_t init_pid, const char *rootfs, const int *ifindexes,
                        size_t n_ifindexes, void *userdata);
        /* Init is gone (stop, reboot), before the teardown. */
        void (*stopped)(const char *name, void *userdata);
        void *userdata;
} MonitorHooks;

typedef struct MonitorOptions {
        const char *name;
        const char *state_dir;     /* container at <state_dir>/containers/NAME/config */
        const char *runtime_dir;   /* control socket etc. under <runtime_dir>/containers/NAME */
        const char *config_dir;    /* warren's system config dir (currently unused by the monitor) */
        int sync_fd;               /* SOCK_SEQPACKET to report the start result on, or -1 */
        bool detach;               /* setsid, chdir /, close every other fd, stdio to /dev/null */
        const char *log_path;      /* with detach: stderr appended here instead of /dev/null */
        const MonitorHooks *hooks; /* or NULL */
        /* A warm monitor (monitor-pool.h): name is NULL; it warms up,
         * reports MONITOR_POOL_READY on sync_fd and waits for a TAKE, which
         * brings the name and the sync fd to report the start on. */
        bool pool;
        void (*on_take)(const char *name); /* then called with the name, or NULL */
        /* In the container's attach helper (monitor-attach.h), which starts
         * with a copy of our command line: to say what it is, or NULL. */
        void (*retitle_attach_helper)(const char *name);
} MonitorOptions;

/* Runs the monitor until the container has stopped and everything is torn
 * down. The start result goes to o->sync_fd (error 0 once init runs, else
 * the setup failure's errno and message) and, on failure, also to reterr.
 * Returns 0 after a normal stop, <0 if the start failed (nothing is left
 * behind then either). A warm monitor that is told to go before a take
 * returns 0 too, having removed its spare cgroups and pool directory. */
int monitor_run(const MonitorOptions *o, WarrenError *reterr);

/* Parses a signal as LXC does for lxc.signal.*: a number ("30"), a name with
 * or without "SIG" in any case ("SIGPWR", "pwr"), or "SIGRTMIN+N" /
 * "SIGRTMAX-N". -EINVAL naming the value otherwise. */
int monitor_parse_signal(const char *s, int *ret, WarrenError *reterr);

/* The signal that halts init: lxc.signal.halt if set, else SIGRTMIN+3 when
 * init blocks it (systemd), else SIGPWR. blocked_mask is init's SigBlk from
 * /proc/PID/status (bit N-1 for signal N). */
int monitor_halt_signal(const LxcConfig *c, unsigned long long blocked_mask, int *ret, WarrenError *reterr);
