/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Warm monitors: warren-monitor processes started ahead of time, already
 * exec'd and linked, that take a container when a Start comes. Nothing
 * about a container is decided before the take: a warm monitor only holds
 *  - on hosts with cgroup v1 hierarchies, a set of spare v1 cgroups
 *    <hierarchy>/MONITOR_CGROUP_PARENT/_pool.PID (never a container name:
 *    those start with a letter or digit) with a spawn stub
 *    (monitor-stub.h) moved into them at warm-up, off any caller's path.
 *    At the take they are renamed to the container's and the stub clones
 *    init in them: the start pays no cgroup-v1 move (an RCU grace period).
 *  - <runtime-dir>/pool/PID/ (0700): "lock", held by the warm monitor for
 *    as long as its spare cgroups exist, and "control", its socket while it
 *    waits (SOCK_SEQPACKET, root only).
 * Warm monitors outlive warrend (its idle exit included), like container
 * monitors: the next warrend adopts them through their sockets. One that
 * dies leaves a lock nobody holds: monitor_pool_sweep() removes what it
 * left (its stub dies with it, PR_SET_PDEATHSIG). */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "monitor-tty.h"

typedef struct Cgroup Cgroup;
typedef struct CgroupLayout CgroupLayout;
typedef struct SpawnStub SpawnStub;

/* The name prefix of spare cgroups. */
#define MONITOR_POOL_PREFIX "_pool."

/* ---- the warm monitor's side ---- */

typedef struct MonitorWarm MonitorWarm;

/* Warms up: spare cgroups with a stub moved in (where there are v1
 * hierarchies; a failure there only means a take without spares), the
 * pool directory and socket; then reports MONITOR_POOL_READY on sync_fd
 * (taken over: it stays a connection TAKE may come on). Blocks SIGCHLD,
 * SIGTERM, SIGINT and SIGHUP, as the monitor does. */
int monitor_warm_new(const char *runtime_dir, int sync_fd, void (*retitle_helper)(const char *name),
                     MonitorWarm **ret, WarrenError *reterr);
/* Waits for a TAKE: 1 with the container's name and its sync fd (both the
 * caller's), or 0 when the warm monitor is to go (SIGTERM, SIGINT, SIGHUP;
 * its stub or spare cgroups gone). The socket is closed before returning
 * 1: nothing else can be taken. */
int monitor_warm_wait(MonitorWarm *w, char **ret_name, int *ret_sync_fd, WarrenError *reterr);
/* cgroup_create() for cg out of the spare cgroups (cgroup_create_from()):
 * 1 if done, the stub now in cg's v1 cgroups; 0 if there are no spares
 * (or they cannot become cg, e.g. another parent): they are removed and
 * the caller creates cg as usual; <0 on a real failure. */
int monitor_warm_take_cgroup(MonitorWarm *w, Cgroup *cg, WarrenError *reterr);
/* The stub in cg's cgroups after monitor_warm_take_cgroup() returned 1
 * (until monitor_warm_done()), else NULL. */
SpawnStub *monitor_warm_stub(MonitorWarm *w);
/* The ptys it opened ahead (monitor_ttys_new() takes those it uses; the
 * rest close with w). NULL and 0 without w. */
#define MONITOR_WARM_PTYS 5
PtySpare *monitor_warm_ptys(MonitorWarm *w, size_t *ret_n);
/* The attach helper it made ahead in the spares (AttachHelperStandby),
 * once they became the container's cgroups: 1 and its pid, pidfd and the
 * fd to send it the container on, now the caller's; else 0. */
int monitor_warm_take_helper(MonitorWarm *w, pid_t *ret_pid, int *ret_pidfd, int *ret_fd);
/* The host's cgroup layout it read at warm-up, now the caller's; NULL if
 * none (or no w). */
CgroupLayout *monitor_warm_take_layout(MonitorWarm *w);
/* That stub, now the caller's (spawn_stub_free()); NULL if none. */
SpawnStub *monitor_warm_take_stub(MonitorWarm *w);
/* The stub served (or will not): gone, its spares too, and the pool
 * directory. */
void monitor_warm_done(MonitorWarm *w);
MonitorWarm *monitor_warm_free(MonitorWarm *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(MonitorWarm *, monitor_warm_free);

/* ---- warrend's side ---- */

/* <runtime_dir>/pool/PID/control of each warm monitor that holds its lock
 * (pids, unsorted); dead ones are not listed. */
int monitor_pool_list(const char *runtime_dir, pid_t **ret_pids, size_t *ret_n);
/* Connects to warm monitor pid (non-blocking, O_CLOEXEC): -ESRCH if it
 * does not listen (any more). */
int monitor_pool_connect(const char *runtime_dir, pid_t pid, int *ret_fd);
/* Sends TAKE(name) with sync_fd (which stays the caller's). */
int monitor_pool_send_take(int fd, const char *name, int sync_fd, WarrenError *reterr);
/* Reads what a warm monitor said on its connection: 1 for
 * MONITOR_POOL_READY, -EAGAIN if nothing yet, -ECONNRESET once it hung up
 * (it was taken by someone else, or died), -EBADMSG for garbage. */
int monitor_pool_receive(int fd);
/* Removes what dead warm monitors left: kills the processes in spare
 * cgroups whose lock no one holds, removes those cgroups and pool
 * directories. Never waits: returns how many spares are still there
 * (their killed stubs still exiting), to be swept again. */
int monitor_pool_sweep(const CgroupLayout *l, const char *runtime_dir);
