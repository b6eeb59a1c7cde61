/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Ends a child that leads its own process group (a worker: whatever it
 * started is in that group) and reaps it. With kill_first the group and
 * the leader are sent SIGKILL before the wait; after the wait whatever is
 * left of the group (a decompressor, a grandchild) is killed too: it has
 * no one to report to. Waits only for pid (never P_ALL), retrying on EINTR.
 * Returns its wait status as waitpid() gives it, or 0 if it could not be
 * waited for (pid <= 1, or not our child: reaped already, and then nothing
 * is killed after the failed wait). */
int process_group_reap(pid_t pid, bool kill_first);
