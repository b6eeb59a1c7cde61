/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What warrend knows about a container's owner: name and group, subordinate
 * id ranges, limits, and the rules their config must follow. */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "policy.h"

typedef struct Daemon Daemon;
typedef struct Idmap Idmap;
typedef struct IdmapAllowance IdmapAllowance;
typedef struct Limits Limits;

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
/* How many containers the owner has (all, or running only). */
int owner_count_containers(Daemon *d, uid_t uid, bool running, uint64_t *ret);
