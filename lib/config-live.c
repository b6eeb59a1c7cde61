/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SetConfig with the running cgroups (see config-live.h). */
#include <errno.h>
#include <stdlib.h>

#include "cgroup.h"
#include "config-live.h"
#include "config.h"
#include "container.h"
#include "store.h"
#include "basic/strv.h"

void config_live_result_done(ConfigLiveResult *r) {
        r->applied_live = strv_free(r->applied_live);
        r->needs_restart = strv_free(r->needs_restart);
}

/* The running cgroups take the change: ret_undo gets what restores them. */
static int apply_live(const Cgroup *cg, const CgroupLayout *l, char *const *kv, const LxcConfig *expanded,
                      bool live, ConfigLiveResult *res, CgroupUndo **ret_undo, WarrenError *reterr) {
        _cleanup_strv_free_ char **effective = lxc_config_get_prefix(expanded, "lxc.cgroup"),
                                 **plan_kv = NULL;
        _cleanup_(cgroup_plan_freep) CgroupPlan *plan = NULL;
        if (!effective)
                return -ENOMEM;
        int r = cgroup_limits_live_items(kv, effective, live, &plan_kv, &res->applied_live,
                                         &res->needs_restart);
        if (r < 0)
                return r;
        if (!plan_kv[0])
                return 0;
        r = cgroup_plan_limits(l, plan_kv, &plan, reterr);
        if (r < 0)
                return r;
        r = cgroup_apply_plan_atomic(cg, plan, ret_undo, reterr);
        /* The kernel refusing a value makes it an invalid config (for now);
         * its errno is in the message. */
        if (r == -EINVAL || r == -EBUSY || r == -ERANGE || r == -ENOSPC || r == -EOVERFLOW)
                r = -EBADMSG;
        return r;
}

int container_set_config_live(Store *store, const char *name, char *const *kv, const CgroupLayout *layout,
                              const char *cgroup_parent, bool live, ConfigLiveResult *ret,
                              WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *expanded = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        _cleanup_(cgroup_undo_freep) CgroupUndo *undo = NULL;
        _cleanup_free_ char *text = NULL;
        ConfigLiveResult res = {};
        int r = container_config_prepare(store, name, kv, &text, &expanded, reterr);
        if (r < 0)
                return r;
        if (layout && cgroup_new(layout, cgroup_parent, name, &cg, NULL) >= 0 && cgroup_exists(cg)) {
                r = apply_live(cg, layout, kv, expanded, live, &res, &undo, reterr);
                if (r < 0) {
                        config_live_result_done(&res);
                        return r;
                }
        }
        r = store_write_config(store, name, text, reterr);
        if (r < 0) {
                /* Back to what the unchanged config says. */
                (void) cgroup_undo_apply(undo, NULL);
                config_live_result_done(&res);
                return r;
        }
        if ((!res.applied_live && !(res.applied_live = calloc(1, sizeof(char *)))) ||
            (!res.needs_restart && !(res.needs_restart = calloc(1, sizeof(char *))))) {
                config_live_result_done(&res);
                return -ENOMEM;
        }
        *ret = res;
        return 0;
}
