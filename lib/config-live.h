/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SetConfig on a container that may be running (issue 18): the config
 * file and the running cgroups change together or not at all, as
 * lxc-cgroup and machinectl set-property change a running one. */

#include <stdbool.h>

#include "basic/error.h"

typedef struct Store Store;
typedef struct CgroupLayout CgroupLayout;

typedef struct ConfigLiveResult {
        char **applied_live;  /* cgroup keys written to the running cgroups */
        char **needs_restart; /* keys that take effect at the next start */
} ConfigLiveResult;

void config_live_result_done(ConfigLiveResult *r);

/* Applies items (key, value, ...) to NAME's config and validates it as
 * container_set_config() does. If layout is given (NAME runs, its cgroup
 * "<cgroup_parent>/NAME" on that layout), the cgroup keys among the items
 * are first written to the running cgroups (cgroup_limits_live_items(),
 * cgroup_apply_plan_atomic()): a value the kernel refuses fails the call
 * with -EBADMSG (the kernel's errno in the message) and nothing changed; then the config is written, and if
 * that fails the cgroup files are restored. Without live, nothing is written to the cgroups and every key
 * (but lxc.start.* and lxc.group) needs a restart. Without layout (or if the cgroup is gone meanwhile), only
 * the config is written and both lists are empty. */
int container_set_config_live(Store *store, const char *name, char *const *kv, const CgroupLayout *layout,
                              const char *cgroup_parent, bool live, ConfigLiveResult *ret,
                              WarrenError *reterr);
