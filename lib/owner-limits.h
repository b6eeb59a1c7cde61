/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Per-owner limits and service settings: <config-dir>/warren.conf.
 * (Not "limits.h": lib/ is on the include path and would shadow <limits.h>.)
 *
 * Format: "key = value" lines (blanks around '=' optional), '#' starts a
 * comment line, blank lines are skipped; a key given twice: the last wins.
 *
 *   limit.containers = 16            containers a user may own
 *   limit.running = 16               of those, running at once
 *   limit.jobs = 4                   concurrent jobs (create, pull...) of a user
 *   limit.attach = 64                processes a user has attached (Attach) and
 *                                    running at once
 *   limit.containers.alice = 32      a per-user override: login name ...
 *   limit.running.1001 = unlimited   ... or decimal uid; "unlimited" or 0..2^32-1
 *   root.idmap.uid = 1000000 65536   START COUNT: the host ids of unprivileged
 *   root.idmap.gid = 1000000 65536   containers owned by root (else root's
 *                                    /etc/subuid and /etc/subgid entries)
 *
 * A per-user override by uid wins over one by name. uid 0 is not limited
 * unless an override names root or 0. A missing file means the defaults.
 * Garbage is an error naming the file, the line and the key:
 *   "/etc/warren/warren.conf:3: unknown key 'limit.bogus'"
 *   "/etc/warren/warren.conf:4: invalid value 'lots' for 'limit.containers':
 *    expected a number or 'unlimited'" */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"

typedef enum LimitKind {
        LIMIT_CONTAINERS,
        LIMIT_RUNNING,
        LIMIT_JOBS,
        LIMIT_ATTACH,
        _LIMIT_MAX,
} LimitKind;

#define LIMIT_UNLIMITED UINT64_MAX
#define LIMIT_DEFAULT_CONTAINERS 16U
#define LIMIT_DEFAULT_RUNNING 16U
#define LIMIT_DEFAULT_JOBS 4U
#define LIMIT_DEFAULT_ATTACH 64U
#define LIMITS_MAX_FILE_SIZE (1024U * 1024U)

typedef struct Limits Limits;

/* The defaults. NULL on ENOMEM. */
Limits *limits_new(void);
Limits *limits_free(Limits *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Limits *, limits_free);
#define _cleanup_limits_ _cleanup_(limits_freep)

/* text need not be NUL-terminated; path names it in messages. */
int limits_parse(const char *text, size_t len, const char *path, Limits **ret, WarrenError *reterr);
/* Reads path (a missing file gives the defaults). */
int limits_load(const char *path, Limits **ret, WarrenError *reterr);

/* "containers", "running", "jobs", "attach". */
const char *limit_kind_to_string(LimitKind k);

/* The limit of kind for the user (uid, login name user or NULL), and the
 * key it comes from ("limit.containers", "limit.containers.alice"), or
 * LIMIT_UNLIMITED (root with no override: key "root"). */
uint64_t limits_get(const Limits *l, LimitKind kind, uid_t uid, const char *user, const char **ret_key);

/* Whether the user, who now has current of kind, may have one more.
 * -EDQUOT: "User alice has 16 containers: the limit limit.containers is 16"
 * (running: "16 running containers", jobs: "4 jobs", attach: "64 attached
 * processes"). */
int limits_check(const Limits *l, LimitKind kind, uid_t uid, const char *user, uint64_t current,
                 WarrenError *reterr);

/* root.idmap.uid (type 'u') or root.idmap.gid ('g'); -ENOENT if not set. */
int limits_root_idmap(const Limits *l, char type, uint32_t *ret_start, uint32_t *ret_count);
