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

/* Where a container's cgroup may be: warren's own /warren/NAME, and below
 * the systemd scope its monitor ran in (MONITOR_SCOPE_*). */
#define N_PLACES 2

static int container_cgroups(const CgroupLayout *l, const char *name, Cgroup *ret[N_PLACES],
                             WarrenError *reterr) {
        _cleanup_free_ char *base = NULL;
        if (!l)
                return warren_error_set(reterr, ENOMEDIUM, "No cgroup hierarchy is mounted");
        int r = cgroup_new(l, MONITOR_CGROUP_PARENT, name, &ret[0], reterr);
        if (r < 0)
                return r;
        if (asprintf(&base, "/%s/%s%s%s", MONITOR_SCOPE_SLICE, MONITOR_SCOPE_PREFIX, name,
                     MONITOR_SCOPE_SUFFIX) < 0)
                r = -ENOMEM;
        else
                r = cgroup_new_delegated(l, base, MONITOR_CGROUP_PAYLOAD, &ret[1], reterr);
        if (r < 0)
                ret[0] = cgroup_free(ret[0]);
        return r;
}

static void cgroups_free(Cgroup *(*c)[N_PLACES]) {
        for (size_t i = 0; i < N_PLACES; i++)
                (*c)[i] = cgroup_free((*c)[i]);
}

int monitor_leftovers_check(const CgroupLayout *l, const char *runtime_dir, const char *name,
                            MonitorLeftovers *ret) {
        _cleanup_(cgroups_free) Cgroup *cg[N_PLACES] = {};
        *ret = (MonitorLeftovers){};
        if (l && container_cgroups(l, name, cg, NULL) >= 0)
                for (size_t i = 0; i < N_PLACES && ret->n_procs >= 0; i++)
                        if (cgroup_exists(cg[i])) {
                                ret->cgroup = true;
                                int n = cgroup_count_procs_tree(cg[i]);
                                ret->n_procs = n < 0 ? n : ret->n_procs + n;
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
        _cleanup_(cgroups_free) Cgroup *cg[N_PLACES] = {};
        int r = container_cgroups(l, name, cg, reterr), n = 0;
        for (size_t i = 0; r >= 0 && i < N_PLACES; i++)
                if (cgroup_exists(cg[i])) {
                        r = cgroup_kill_tree(cg[i], reterr);
                        n += MAX(r, 0);
                }
        return r < 0 ? r : n;
}

int monitor_leftovers_remove(const CgroupLayout *l, const char *runtime_dir, const char *name,
                             WarrenError *reterr) {
        _cleanup_(cgroups_free) Cgroup *cg[N_PLACES] = {};
        int r = monitor_lock_held(runtime_dir, name);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to check the lock of container '%s': %s", name,
                                        strerror(-r));
        if (r > 0)
                return warren_error_set(reterr, EBUSY, "A monitor of container '%s' still holds its lock",
                                        name);
        if (l) {
                r = container_cgroups(l, name, cg, reterr);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < N_PLACES; i++) {
                        r = cgroup_count_procs_tree(cg[i]);
                        if (r > 0)
                                return warren_error_set(reterr, EBUSY,
                                                        "%d process%s of container '%s' still run", r,
                                                        r == 1 ? "" : "es", name);
                        /* A scope's own cgroup is systemd's to remove. */
                        r = cgroup_exists(cg[i]) ? cgroup_try_remove(cg[i], reterr) : 0;
                        if (r < 0)
                                return r;
                }
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

/* The NAME of each warren-NAME.scope in machine.slice (cgroup2, else
 * name=systemd): where a systemd host's monitors run. */
static int add_scope_names(const CgroupLayout *l, char ***names) {
        const CgroupHierarchy *h = cgroup_layout_v1_find(l, "name=systemd");
        const char *mount = l->v2_mount ?: h ? h->mount : NULL;
        _cleanup_free_ char *dir = NULL;
        if (!mount || asprintf(&dir, "%s/%s", mount, MONITOR_SCOPE_SLICE) < 0)
                return mount ? -ENOMEM : 0;
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        struct dirent *de;
        size_t pl = strlen(MONITOR_SCOPE_PREFIX), sl = strlen(MONITOR_SCOPE_SUFFIX);
        int r = 0;
        while (r >= 0 && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (de->d_type != DT_DIR || n <= pl + sl ||
                    strncmp(de->d_name, MONITOR_SCOPE_PREFIX, pl) != 0 ||
                    !streq(de->d_name + n - sl, MONITOR_SCOPE_SUFFIX))
                        continue;
                _cleanup_free_ char *name = strndup(de->d_name + pl, n - pl - sl);
                if (!name)
                        r = -ENOMEM;
                else if (container_name_is_valid(name) && !strv_contains(*names, name))
                        r = strv_extend(names, name);
        }
        closedir(d);
        return r;
}

int monitor_leftovers_list(const CgroupLayout *l, const char *runtime_dir, char ***ret_names) {
        _cleanup_strv_free_ char **names = NULL;
        int r = monitor_list_dirs(runtime_dir, &names);
        if (r < 0)
                return r;
        if (l && (r = add_scope_names(l, &names)) < 0)
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
