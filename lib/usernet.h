/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Veth quotas of unprivileged owners: <config-dir>/usernet, in the format
 * of LXC's lxc-usernet:
 *
 *   # comment
 *   alice   veth warrenbr0 10
 *   @warren veth warrenbr0 2
 *
 * A line applies to the user named in it or, with '@', to the members of
 * that group. As lxc-user-nic does, every line that applies to the user
 * and the bridge counts: their numbers add up (alice above, if in group
 * warren, may attach 12). No line: no veth at all. Unlike LXC, a line that
 * is not "NAME veth BRIDGE COUNT" is an error naming file and line,
 * rather than silently skipped. */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"

#define USERNET_MAX_SIZE (1024U * 1024U)

/* The quota of user (member of groups: names, may be NULL) on bridge in
 * text (need not be NUL-terminated; filename is for messages). */
int usernet_quota_from_text(const char *text, size_t len, const char *filename, const char *user,
                            char *const *groups, const char *bridge, unsigned *ret_quota,
                            WarrenError *reterr);
/* The same read from path; a missing file means no quota (0). */
int usernet_quota(const char *path, const char *user, char *const *groups, const char *bridge,
                  unsigned *ret_quota, WarrenError *reterr);

/* May user attach one more veth to bridge, holding current already?
 * 1 yes, 0 no (-EDQUOT is for the caller to return, naming user, bridge
 * and *ret_quota), <0 on error (garbage in the file). */
int usernet_may_attach(const char *path, const char *user, char *const *groups, const char *bridge,
                       unsigned current, unsigned *ret_quota, WarrenError *reterr);

/* The name of uid and the names of its groups (primary and supplementary,
 * from the group database), for the functions above. */
int usernet_lookup_user(uid_t uid, char **ret_user, char ***ret_groups, WarrenError *reterr);
