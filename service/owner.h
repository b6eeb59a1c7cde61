/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What warrend knows about a container's owner: name and group, subordinate
 * id ranges, limits, and the rules their config must follow. */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "owner-limits.h"
#include "policy.h"

typedef struct Daemon Daemon;
typedef struct Idmap Idmap;
typedef struct IdmapAllowance IdmapAllowance;
typedef struct LxcConfig LxcConfig;

#define SUBUID_PATH "/etc/subuid"
#define SUBGID_PATH "/etc/subgid"

typedef struct Owner {
        uid_t uid;
        gid_t gid;
        char *name; /* NULL if not in the user database */
        char *home;
        IdmapAllowance *allowance;
        Limits *limits;
        char **include_allow;
} Owner;

int owner_load(Daemon *d, uid_t uid, Owner *ret, WarrenError *reterr);
void owner_done(Owner *o);

/* The default map: the owner's first range of 65536 ids (root: warren.conf's
 * root.idmap.* or root's subuid entry). -EPERM naming file, user, range. */
int owner_default_idmap(const Owner *o, Idmap **ret, WarrenError *reterr);
/* ~/.config/warren/default.conf read with the owner's credentials; NULL
 * (and 0) if there is none. */
int owner_read_default_conf(const Owner *o, char **ret_text, char **ret_path, WarrenError *reterr);
/* The policy context for the owner's container NAME. */
void owner_policy_context(Daemon *d, const Owner *o, const char *container_dir, PolicyContext *ret);
/* How many containers the owner has: all (creates in progress included),
 * or running only (starts in flight and teardowns included). */
int owner_count_containers(Daemon *d, uid_t uid, bool running, uint64_t *ret);

/* Whether owner may run NAME with config c: root always; anyone else only
 * an unprivileged container whose lxc.idmap lies inside their ranges
 * (-EPERM naming file, user and range), within limit.running (-EDQUOT). */
int owner_check_may_run(Daemon *d, const char *name, uid_t owner, const LxcConfig *c, WarrenError *reterr);
/* Whether the items kv may change NAME's config under the owner rules:
 * 0 yes, -EACCES if the administrator must allow it (create-privileged),
 * -EPERM never, other errors for bad config. */
int owner_check_config_change(Daemon *d, const char *name, uid_t owner, char *const *kv,
                              WarrenError *reterr);
/* Whether uid, who has current of kind, may have one more under
 * warren.conf: -EDQUOT naming user, count and key otherwise. */
int owner_check_limit(Daemon *d, uid_t uid, LimitKind kind, uint64_t current, WarrenError *reterr);
