/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A spawn stub: a parked process that makes one clone3() for us, from
 * wherever it sits in the cgroup trees.
 *
 * Why: on a host with cgroup v1 hierarchies, the first write of a task
 * into a v1 cgroup.procs waits for an RCU grace period (10-15 ms here);
 * clone3(CLONE_INTO_CGROUP) spares that only on cgroup2. A child is born
 * in its parent's cgroups without any move, so a warm monitor keeps a stub
 * that was moved into a spare set of v1 cgroups ahead of time (at idle
 * time, off any caller's path); a start renames those cgroups to the
 * container's and has the stub clone init there.
 *
 * The stub shares our memory, file table and fs (CLONE_VM | CLONE_FILES |
 * CLONE_FS, not a thread: its own thread group, hence its own cgroups), so
 * the clone3() it makes is exactly the one we would make: the child gets a
 * copy of our address space as it is at that moment (the spawn plan, the
 * fds opened for it) and runs fn there. CLONE_PARENT makes the child ours,
 * not the stub's: we reap it and its PR_SET_PDEATHSIG watches us. Like
 * vfork, only one of us runs at a time while the stub works: we wait for
 * its "done". Otherwise it only sleeps in a read() with plain syscalls
 * (no libc state touched) and dies with us (PR_SET_PDEATHSIG).
 *
 * Not for processes with threads (the child copies only the caller's
 * thread), like any fork without exec. */

#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"

struct clone_args;
typedef struct SpawnStub SpawnStub;

/* Parks a new stub (our child, born in our cgroups). */
int spawn_stub_new(SpawnStub **ret, WarrenError *reterr);
/* Tells a parked stub to exit and reaps it; NULL-safe. */
SpawnStub *spawn_stub_free(SpawnStub *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SpawnStub *, spawn_stub_free);
#define _cleanup_spawn_stub_ _cleanup_(spawn_stub_freep)

/* Tells the stub to exit, without waiting: the caller reaps it (a
 * waitpid(-1) may) and then frees it, which no longer waits. NULL-safe. */
void spawn_stub_end(SpawnStub *s);

pid_t spawn_stub_pid(const SpawnStub *s);
/* A pidfd of the stub (borrowed), readable once it exited. */
int spawn_stub_pidfd(const SpawnStub *s);

/* The stub calls clone3(args) with CLONE_PARENT added (args->exit_signal
 * must be 0: the child is born with the stub's SIGCHLD). In the child,
 * fn(userdata) runs and must not return (exec or _exit). The stub parks
 * again afterwards (spawn_stub_free() ends it). Returns the child's pid
 * (args' pidfd filled as clone3 does), or -errno: -ESRCH if the stub died
 * (nothing was cloned), else clone3's error. */
pid_t spawn_stub_clone(SpawnStub *s, struct clone_args *args, void (*fn)(void *userdata), void *userdata,
                       WarrenError *reterr);
