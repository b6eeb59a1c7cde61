/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "monitor-client.h"
#include "monitor-reap.h"
#include "monitor.h"
#include "name.h"
#include "network.h"

static int container_cgroup(const CgroupLayout *l, const char *name, Cgroup **ret, WarrenError *reterr) {
        if (!l)
                return warren_error_set(reterr, ENOMEDIUM, "No cgroup hierarchy is mounted");
        return cgroup_new(l, MONITOR_CGROUP_PARENT, name, ret, reterr);
}

int monitor_leftovers_check(const CgroupLayout *l, const char *runtime_dir, const char *name,
                            MonitorLeftovers *ret) {
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        *ret = (MonitorLeftovers){};
        if (l && container_cgroup(l, name, &cg, NULL) >= 0) {
                ret->cgroup = cgroup_exists(cg);
                if (ret->cgroup)
                        ret->n_procs = cgroup_count_procs_tree(cg);
        }
        int r = monitor_runtime_dir_exists(runtime_dir, name);
        if (r < 0)
                return r;
        ret->runtime_dir = r > 0;
        if (ret->runtime_dir) {
                r = monitor_lock_held(runtime_dir, name);
                if (r < 0)
                        return r;
                ret->lock_held = r > 0;
        }
        return ret->n_procs < 0 ? ret->n_procs : 0;
}

int monitor_leftovers_kill(const CgroupLayout *l, const char *name, WarrenError *reterr) {
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        int r = container_cgroup(l, name, &cg, reterr);
        if (r < 0)
                return r;
        return cgroup_kill_tree(cg, reterr);
}

int monitor_leftovers_remove(const CgroupLayout *l, const char *runtime_dir, const char *name,
                             WarrenError *reterr) {
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        int r = monitor_lock_held(runtime_dir, name);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to check the lock of container '%s': %s", name,
                                        strerror(-r));
        if (r > 0)
                return warren_error_set(reterr, EBUSY, "A monitor of container '%s' still holds its lock",
                                        name);
        if (l) {
                r = container_cgroup(l, name, &cg, reterr);
                if (r < 0)
                        return r;
                r = cgroup_count_procs_tree(cg);
                if (r > 0)
                        return warren_error_set(reterr, EBUSY, "%d process%s of container '%s' still run", r,
                                                r == 1 ? "" : "es", name);
                r = cgroup_try_remove(cg, reterr);
                if (r < 0)
                        return r;
        }
        /* Veths die with their namespace; a host end of one that did not
         * (its peer was moved elsewhere) goes now. */
        r = network_teardown_container(name, reterr);
        if (r < 0)
                return r;
        return monitor_remove_runtime_dir(runtime_dir, name, reterr);
}

static int add_dir_names(const char *dir, char ***names) {
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d)))
                if (de->d_type == DT_DIR && container_name_is_valid(de->d_name) &&
                    !strv_contains(*names, de->d_name))
                        r = strv_extend(names, de->d_name);
        closedir(d);
        return r;
}

int monitor_leftovers_list(const CgroupLayout *l, const char *runtime_dir, char ***ret_names) {
        _cleanup_strv_free_ char **names = NULL;
        int r = monitor_list_dirs(runtime_dir, &names);
        if (r < 0)
                return r;
        for (size_t i = 0; l && i <= l->n_v1; i++) {
                const char *mount = i < l->n_v1 ? l->v1[i].mount : l->v2_mount;
                _cleanup_free_ char *dir = NULL;
                if (!mount)
                        continue;
                if (asprintf(&dir, "%s/%s", mount, MONITOR_CGROUP_PARENT) < 0)
                        return -ENOMEM;
                r = add_dir_names(dir, &names);
                if (r < 0)
                        return r;
        }
        *ret_names = TAKE_PTR(names);
        return 0;
}
