/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Destroy without making warrend wait: a container's lxc.hook.destroy may
 * run for up to a minute and removing a big rootfs takes seconds, and while
 * warrend's one loop waited, every other user's call waited too. A forked
 * child runs container_destroy() (the hooks, then the store's rename and
 * removal); warrend answers the Destroy call when it ends, with its error if
 * it failed. Meanwhile the container is busy: every method on it answers
 * Busy (bus_container_lookup()), so nothing starts it, copies it or
 * destroys it twice. The child is not killed if warrend goes: a hook runs
 * to its end and what it leaves renamed is swept at the next start
 * (store_cleanup_stale()). */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

/* Starts the destroy of name and answers m when it ends (deferred: 1). */
int destroy_work_start(Daemon *d, sd_bus_message *m, const char *name, uid_t owner, sd_bus_error *error);
/* Busy naming name if it is being destroyed, else 0. */
int destroy_work_check_busy(const char *name, sd_bus_error *error);
bool destroy_work_in_progress(const char *name);
/* warrend exiting: forgets the children (they finish on their own). */
void destroy_work_free_all(Daemon *d);
