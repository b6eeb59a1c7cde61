/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a monitor that died without tearing its container down leaves
 * behind, and the means to finish that teardown without ever waiting (a
 * service's event loop calls these, again and again until done): the
 * processes in the container's cgroups, the cgroups in every hierarchy,
 * the host ends of its veths and its runtime directory. */

#include <stdbool.h>

#include "basic/error.h"

typedef struct CgroupLayout CgroupLayout;

typedef struct MonitorLeftovers {
        bool cgroup;      /* its cgroup exists in some hierarchy */
        int n_procs;      /* processes in it: every hierarchy, sub-cgroups included */
        bool runtime_dir; /* <runtime_dir>/containers/NAME exists */
        bool lock_held;   /* a monitor process still holds its lock */
} MonitorLeftovers;

int monitor_leftovers_check(const CgroupLayout *l, const char *runtime_dir, const char *name,
                            MonitorLeftovers *ret);
static inline bool monitor_leftovers_any(const MonitorLeftovers *m) {
        return m->cgroup || m->n_procs > 0 || m->runtime_dir;
}

/* SIGKILLs every process left in the container's cgroups (thawed first);
 * returns how many it signalled. */
int monitor_leftovers_kill(const CgroupLayout *l, const char *name, WarrenError *reterr);

/* Once no process is left: removes the cgroups, the host ends of the
 * veths and the runtime directory. -EBUSY naming the cgroup while
 * processes remain; -EBUSY too while a monitor holds the lock. */
int monitor_leftovers_remove(const CgroupLayout *l, const char *runtime_dir, const char *name,
                             WarrenError *reterr);

/* Every name with a runtime dir or a cgroup in some hierarchy (live or
 * not): what a service starting up looks at. */
int monitor_leftovers_list(const CgroupLayout *l, const char *runtime_dir, char ***ret_names);
