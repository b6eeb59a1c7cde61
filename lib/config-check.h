/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One set of rules for what a container config may hold: what is accepted
 * is exactly what starts.
 *
 * The parser (config.c) stays LXC's: a config LXC 5 loads, loads, and is
 * listed and shown. Whether it would start here is decided here, by the
 * same functions the start itself uses to read those values (the monitor,
 * container-spawn.c, mount.c, network.c, cgroup-limits.c call them or are
 * called from here), so a value is refused with the same message whether
 * SetConfig or Start meets it first:
 *   - config_check_item(): one item on its own (and the config it goes
 *     into, for whether that is unprivileged). lxc_config_apply() calls it,
 *     so every item set through the API (SetConfig, create's items,
 *     templates) is checked before any authorization, for every caller.
 *   - config_check(): a whole config, every item and what items decide
 *     together (NICs, idmap, caps, cgroup limits on this host's layout,
 *     lxc.mount.auto sys with the host's netns in a user namespace). The
 *     result of SetConfig is checked with it before it is written, and the
 *     monitor checks the config it loaded with it before it starts anything.
 * What depends on the moment rather than the config (the rootfs, a bridge,
 * a bind source, a seccomp profile file) is looked at by the start only.
 * Who may set what is the owner policy's business (policy.h), decided on
 * configs that pass these checks. */

#include <stdbool.h>
#include <sys/resource.h>

#include "basic/error.h"

typedef struct LxcConfig LxcConfig;

/* At most this many lxc.tty.max ttys. */
#define CONFIG_TTY_MAX_LIMIT 64U

/* One item (normalized key; value non-empty: an empty value only removes)
 * as it would be met at start. context: the config it goes into (may be
 * NULL), for whether the container is unprivileged. Errors name the key and
 * value: -EINVAL (also for what the container's privileges can never do: a
 * raised prlimit, a host sysctl in an unprivileged container), -EOPNOTSUPP
 * (something warren does not implement). */
int config_check_item(const LxcConfig *context, const char *key, const char *value, WarrenError *reterr);

/* Every item, then what items decide together. */
int config_check(const LxcConfig *c, WarrenError *reterr);

/* The container gets a user namespace: it has an lxc.idmap line. */
bool config_is_unprivileged(const LxcConfig *c);

/* ---- the parsers the start uses ---- */

/* lxc.prlimit.NAME = "soft[:hard]" (numbers or "unlimited"; one value sets
 * both, as in LXC), soft <= hard. The hard limit may not go above this
 * process's (the service's, which the monitor inherits) unless the
 * container is privileged and we hold CAP_SYS_RESOURCE: the init could not
 * raise it (nor above fs.nr_open for nofile). */
int config_rlimit_parse(const char *key, const char *value, bool unprivileged, int *ret_resource,
                        struct rlimit *ret, WarrenError *reterr);

/* lxc.sysctl.a.b.c -> "sys/a/b/c" (below a procfs); every dotted
 * component a plain name. ret_path may be NULL. */
int config_sysctl_path(const char *key, char **ret_path, WarrenError *reterr);
/* Whether a sysctl (without "lxc.sysctl.") belongs to the container's own
 * namespaces: net., kernel.shm*, kernel.msg*, kernel.sem*, kernel.hostname,
 * kernel.domainname, fs.mqueue., user. Only those can be set by the root
 * of a user namespace. */
bool config_sysctl_is_namespaced(const char *name);

/* lxc.init.cmd into words on blanks; single and double quotes and
 * backslashes group words as in sh (no expansions). */
int config_command_split(const char *cmd, char ***ret, WarrenError *reterr);

/* One lxc.environment item: KEY=VALUE with a non-empty KEY (a bare KEY is
 * fine and skipped at start). */
int config_environment_check(const char *item, WarrenError *reterr);

/* lxc.tty.max: 0..CONFIG_TTY_MAX_LIMIT. */
int config_tty_max(const char *value, unsigned *ret, WarrenError *reterr);
