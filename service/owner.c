/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "idmap.h"
#include "owner-limits.h"
#include "owner.h"
#include "runtime.h"
#include "store.h"

#define USER_DEFAULT_CONF ".config/warren/default.conf"
#define USER_DEFAULT_CONF_MAX (64U * 1024U)
/* LXC's shared configs, which includes in owners' configs may name. */
#define SYSTEM_LXC_CONFIG_DIR "/usr/share/lxc/config"

void owner_done(Owner *o) {
        free(o->name);
        free(o->home);
        idmap_allowance_free(o->allowance);
        limits_free(o->limits);
        strv_free(o->include_allow);
        *o = (Owner){};
}

/* root.idmap.uid/gid from warren.conf: root's own range, which no other
 * owner may use. */
static int add_root_ranges(const Owner *o, WarrenError *reterr) {
        static const struct {
                char type;
                IdmapKind kind;
        } kinds[] = { { 'u', IDMAP_UID }, { 'g', IDMAP_GID } };
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                uint32_t start, count;
                if (limits_root_idmap(o->limits, kinds[i].type, &start, &count) < 0)
                        continue;
                int r = idmap_allowance_add(o->allowance, kinds[i].kind, o->uid == 0 ? NULL : "root", start,
                                            count, "warren.conf");
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to use root.idmap from warren.conf");
        }
        return 0;
}

int owner_load(Daemon *d, uid_t uid, Owner *ret, WarrenError *reterr) {
        _cleanup_free_ char *limits_path = NULL, *shared = NULL;
        Owner o = { .uid = uid, .gid = (gid_t) uid };
        struct passwd pw, *res = NULL;
        char buf[4096];
        int r;

        if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) {
                o.gid = pw.pw_gid;
                o.name = strdup(pw.pw_name);
                o.home = strdup(pw.pw_dir);
                if (!o.name || !o.home) {
                        owner_done(&o);
                        return -ENOMEM;
                }
        }
        if (asprintf(&limits_path, "%s/warren.conf", d->config_dir) < 0 ||
            asprintf(&shared, "%s/config", d->data_dir) < 0) {
                owner_done(&o);
                return -ENOMEM;
        }
        r = limits_load(limits_path, &o.limits, reterr);
        if (r >= 0)
                r = idmap_allowance_load(SUBUID_PATH, SUBGID_PATH, uid, o.name, &o.allowance, reterr);
        if (r >= 0)
                r = add_root_ranges(&o, reterr);
        if (r >= 0 &&
            (strv_extend(&o.include_allow, d->data_dir) < 0 || strv_extend(&o.include_allow, shared) < 0 ||
             strv_extend(&o.include_allow, SYSTEM_LXC_CONFIG_DIR) < 0))
                r = -ENOMEM;
        if (r < 0) {
                owner_done(&o);
                return r;
        }
        *ret = o;
        return 0;
}

int owner_default_idmap(const Owner *o, Idmap **ret, WarrenError *reterr) {
        return idmap_default_map(o->allowance, ret, reterr);
}

int owner_read_default_conf(const Owner *o, char **ret_text, char **ret_path, WarrenError *reterr) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        *ret_text = NULL;
        *ret_path = NULL;
        if (o->uid == 0 || !o->home || o->home[0] != '/')
                return 0;
        if (asprintf(&path, "%s/" USER_DEFAULT_CONF, o->home) < 0)
                return -ENOMEM;
        /* Opened as the owner: root never follows a link the owner planted. */
        int r = policy_read_user_file(o->uid, o->gid, path, USER_DEFAULT_CONF_MAX, &text, NULL, reterr);
        if (r == -ENOENT || r == -ENOTDIR) {
                warren_error_clear(reterr);
                return 0;
        }
        if (r < 0)
                return r;
        *ret_text = TAKE_PTR(text);
        *ret_path = TAKE_PTR(path);
        return 0;
}

void owner_policy_context(Daemon *d, const Owner *o, const char *container_dir, PolicyContext *ret) {
        *ret = (PolicyContext){
                .owner_uid = o->uid,
                .owner_gid = o->gid,
                .container_dir = container_dir,
                .include_allow = o->include_allow,
                .idmap = o->allowance,
        };
}

int owner_count_containers(Daemon *d, uid_t uid, bool running, uint64_t *ret) {
        if (running) {
                *ret = runtime_count_active(d, uid);
                return 0;
        }
        /* Creates still being built count: the quota holds while they run. */
        return store_count_owned(d->store, uid, true, ret);
}

int owner_check_may_run(Daemon *d, const char *name, uid_t owner, const LxcConfig *c, WarrenError *reterr) {
        _cleanup_(idmap_freep) Idmap *map = NULL;
        Owner o;
        if (owner == 0)
                return 0;
        int r = idmap_from_config(c, &map, reterr);
        if (r < 0)
                return r;
        if (!map || map->n == 0)
                return warren_error_set(reterr, EPERM,
                                        "Container '%s' is owned by uid %u but has no lxc.idmap: a non-root "
                                        "owner's container must be unprivileged",
                                        name, (unsigned) owner);
        r = owner_load(d, owner, &o, reterr);
        if (r < 0)
                return r;
        r = idmap_allowance_check(o.allowance, map, reterr);
        if (r < 0 && r != -ENOMEM)
                r = -EPERM; /* outside the owner's ranges */
        if (r >= 0)
                r = limits_check(o.limits, LIMIT_RUNNING, owner, o.name, runtime_count_active(d, owner),
                                 reterr);
        owner_done(&o);
        return r;
}

int owner_check_config_change(Daemon *d, const char *name, uid_t owner, char *const *kv,
                              WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *old = NULL, *new_config = NULL;
        _cleanup_free_ char *dir = NULL;
        Owner o;
        int r = container_load_config(d->store, name, LXC_INCLUDE_KEEP, &old, reterr);
        if (r < 0)
                return r;
        new_config = lxc_config_copy(old);
        dir = store_container_path(d->store, name, NULL);
        if (!new_config || !dir)
                return -ENOMEM;
        r = container_config_apply_items(new_config, kv, reterr);
        if (r < 0)
                return r;
        r = owner_load(d, owner, &o, reterr);
        if (r < 0)
                return r;
        PolicyContext ctx;
        owner_policy_context(d, &o, dir, &ctx);
        r = policy_check_change(&ctx, old, new_config, NULL, reterr);
        owner_done(&o);
        return r;
}

int owner_check_limit(Daemon *d, uid_t uid, LimitKind kind, uint64_t current, WarrenError *reterr) {
        _cleanup_free_ char *path = NULL;
        _cleanup_limits_ Limits *l = NULL;
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (asprintf(&path, "%s/warren.conf", d->config_dir) < 0)
                return -ENOMEM;
        int r = limits_load(path, &l, reterr);
        if (r < 0)
                return r;
        if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0)
                res = NULL;
        return limits_check(l, kind, uid, res ? res->pw_name : NULL, current, reterr);
}
