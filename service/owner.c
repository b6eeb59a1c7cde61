/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
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
        _cleanup_strv_free_ char **names = NULL;
        uint64_t n = 0;
        int r = store_list(d->store, &names);
        if (r < 0)
                return r;
        STRV_FOREACH(c, names) {
                uid_t owner;
                if (store_get_owner(d->store, *c, &owner) < 0 || owner != uid)
                        continue;
                if (!running || runtime_is_active(d, *c))
                        n++;
        }
        *ret = n;
        return 0;
}
