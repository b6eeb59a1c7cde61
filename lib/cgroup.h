/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Container cgroups on whatever layout the host has: a cgroup2 mount (the
 * unified hierarchy), cgroup v1 hierarchies, or both ("hybrid"). The layout
 * is read from /proc/self/mounts, never assumed.
 *
 * A container NAME gets "<parent>/<name>" under the cgroup2 mount (the fd
 * for clone3(CLONE_INTO_CGROUP)) and, on hybrid hosts, under every v1
 * hierarchy's mount (joined with cgroup_attach_v1()). Limits come from
 * lxc.cgroup2.* (cgroup2 file names) and lxc.cgroup.* (v1 file names) keys;
 * a cgroup2 limit whose controller only exists as a v1 hierarchy is
 * translated (see cgroup_plan_limits()). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"

typedef struct LxcConfig LxcConfig;

/* One cgroup v1 hierarchy. */
typedef struct CgroupHierarchy {
        char *mount;        /* e.g. "/sys/fs/cgroup/memory" */
        char **controllers; /* e.g. { "cpu", "cpuacct" }; a named one as "name=systemd" */
} CgroupHierarchy;

typedef struct CgroupLayout {
        char *v2_mount;        /* first cgroup2 mount, NULL if none */
        char **v2_controllers; /* the v2 root's cgroup.controllers (may be empty) */
        CgroupHierarchy *v1;   /* v1 hierarchies, first mount of each controller set wins */
        size_t n_v1;
} CgroupLayout;

/* Parses mounts text in /proc/self/mounts format and reads cgroup.controllers
 * of the cgroup2 mount found (an unreadable file counts as no controllers).
 * -ENOMEDIUM if there is no cgroup mount at all. */
int cgroup_layout_parse(const char *mounts, CgroupLayout **ret, WarrenError *reterr);
/* The same, from /proc/self/mounts. */
int cgroup_layout_detect(CgroupLayout **ret, WarrenError *reterr);
CgroupLayout *cgroup_layout_free(CgroupLayout *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(CgroupLayout *, cgroup_layout_free);
#define _cleanup_cgroup_layout_ _cleanup_(cgroup_layout_freep)

/* true if cgroup2 is mounted and no v1 hierarchy is. */
bool cgroup_layout_is_unified(const CgroupLayout *l);
bool cgroup_layout_v2_has(const CgroupLayout *l, const char *controller);
/* The v1 hierarchy carrying controller ("memory", "name=systemd"), or NULL. */
const CgroupHierarchy *cgroup_layout_v1_find(const CgroupLayout *l, const char *controller);

/* One file write in a container's cgroup, derived from one config item. */
typedef struct CgroupSetting {
        char *key;          /* the config key, e.g. "lxc.cgroup2.memory.max" */
        char *config_value; /* its value as configured, e.g. "64M" */
        char *mount;        /* hierarchy mount point the file lives under */
        bool v1;            /* mount is a v1 hierarchy */
        char *file;         /* e.g. "memory.limit_in_bytes" */
        char *value;        /* what is written, e.g. "64M" or "-1" */
} CgroupSetting;

typedef struct CgroupPlan {
        CgroupSetting *settings; /* in the order they must be written */
        size_t n_settings;
        /* Keys that do not apply on this host, each with the reason
         * ("KEY: why"), for the caller to log: device rules (lxc.cgroup*.devices.*)
         * when there is no v1 devices hierarchy, as cgroup2 device filtering
         * needs an eBPF program which warren does not install. */
        char **ignored;
} CgroupPlan;

CgroupPlan *cgroup_plan_free(CgroupPlan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(CgroupPlan *, cgroup_plan_free);
#define _cleanup_cgroup_plan_ _cleanup_(cgroup_plan_freep)

/* Turns config items into file writes, without touching the filesystem.
 * kv: alternating key, value (as lxc_config_get_prefix(c, "lxc.cgroup")
 * returns), in config order. Keys other than lxc.cgroup2.<file> and
 * lxc.cgroup.<controller>.<file> that LXC uses for placement (lxc.cgroup.dir*,
 * lxc.cgroup.relative, lxc.cgroup.pattern) are skipped.
 *
 * lxc.cgroup2.<file> goes to the cgroup2 file when its controller is in the
 * v2 root's cgroup.controllers ("cgroup.*" files always). Otherwise, if the
 * controller is a v1 hierarchy, these are translated:
 *   memory.max       -> memory.limit_in_bytes       ("max" -> -1)
 *   memory.high      -> memory.soft_limit_in_bytes  ("max" -> -1)
 *   memory.swap.max  -> memory.memsw.limit_in_bytes = memory.max + swap.max
 *                       (v1 limits memory and swap together, so this needs
 *                       lxc.cgroup2.memory.max set to a byte count, else
 *                       -EINVAL; "max" -> -1; written after memory.max)
 *   pids.max         -> pids.max
 *   cpu.max "Q [P]"  -> cpu.cfs_period_us = P, then cpu.cfs_quota_us = Q ("max" -> -1)
 *   cpu.weight W     -> cpu.shares = clamp(W * 1024 / 100, 2, 262144)
 *   cpuset.cpus/mems -> cpuset.cpus/mems
 *   io.weight W      -> blkio.weight = clamp(W * 500 / 100, 10, 1000) (v2's
 *                       default 100 maps to v1's default 500; "MAJ:MIN W"
 *                       lines go to blkio.weight_device)
 *   devices.allow/deny -> devices.allow/deny
 * any other file: -EOPNOTSUPP naming the key ("no cgroup v1 equivalent").
 *
 * Errors name the key: -EINVAL for a malformed key (anything but
 * [A-Za-z0-9_.-], "..", a missing controller part) or value, or a file
 * warren manages itself (cgroup.procs, tasks, ...); -EOPNOTSUPP when the
 * controller is nowhere on this host. */
int cgroup_plan_limits(const CgroupLayout *l, char *const *kv, CgroupPlan **ret, WarrenError *reterr);
/* The checks cgroup_plan_limits() makes of one key on its own, whatever the
 * layout: a file name of the container's own cgroup ("CONTROLLER.FILE" of
 * [A-Za-z0-9_.-], no '/' or "..", not a file warren manages), a value of a
 * single line; placement keys (lxc.cgroup.dir...) pass. -EINVAL naming
 * the key. */
int cgroup_limits_check_key(const char *key, const char *value, WarrenError *reterr);

typedef struct Cgroup Cgroup;

/* Live limits: what of a config change a running container's cgroups take.
 * items: the change (key, value, ...); effective: the lxc.cgroup* items
 * of the changed config as the next start reads it (includes expanded).
 * Each cgroup key of items goes live with its effective value, or, if the
 * change removed it, the kernel's default for that file (memory.max "max",
 * cpu.weight 100, cpu.shares 1024, ...); placement and device keys, and a
 * removed key without a known default, need a restart, as does every
 * other key of items but lxc.start.* and lxc.group (they only say when it
 * starts). ret_plan_kv: the pairs to plan (with memory.max or
 * memory.swap.max, the other one too: v1 limits them together);
 * ret_live, ret_restart: keys, each once. Without live_allowed, every
 * key goes to ret_restart (but lxc.start.* and lxc.group). */
int cgroup_limits_live_items(char *const *items, char *const *effective, bool live_allowed,
                             char ***ret_plan_kv, char ***ret_live, char ***ret_restart);

/* Writes a plan to a running cgroup all or nothing: every file is read
 * first; a write the kernel rejects writes back the ones done, in reverse,
 * and fails naming key, value, file and errno ("nothing was changed", or
 * what could not be restored). v1 memory.limit_in_bytes and
 * memory.memsw.limit_in_bytes are written in the order the kernel accepts.
 * ret_undo (optional): what restores the files, for a caller whose next
 * step fails. */
typedef struct CgroupUndo CgroupUndo;
int cgroup_apply_plan_atomic(const Cgroup *cg, const CgroupPlan *p, CgroupUndo **ret_undo,
                             WarrenError *reterr);
int cgroup_undo_apply(const CgroupUndo *u, WarrenError *reterr);
CgroupUndo *cgroup_undo_free(CgroupUndo *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(CgroupUndo *, cgroup_undo_free);

/* A container's cgroup "<parent>/<name>" on layout l (copied). parent and
 * name are single path components ([A-Za-z0-9_.-], not starting with '.').
 * Touches nothing. */
int cgroup_new(const CgroupLayout *l, const char *parent, const char *name, Cgroup **ret,
               WarrenError *reterr);
/* A container's cgroup "<base>/<name>" below base, a cgroup delegated to
 * the caller (a systemd scope with Delegate=yes it runs in: see
 * cgroup_pid_path()). base is an absolute path of up to 16 components as
 * cgroup_new() wants them. Nothing above base is ever touched: no
 * controller is enabled there and nothing removed; on cgroup2 base must
 * exist. In a v1 hierarchy that lacks base (one whose controllers its
 * manager does not run, as systemd does not run freezer or cpuset) the
 * missing directories are made, and base is removed with the cgroup. */
int cgroup_new_delegated(const CgroupLayout *l, const char *base, const char *name, Cgroup **ret,
                         WarrenError *reterr);
/* The cgroup at path (as cgroup_get_path() gives it, at least two
 * components), e.g. a running container's as its monitor reported it:
 * for reading its files, or killing and removing what is in it. */
int cgroup_new_at(const CgroupLayout *l, const char *path, Cgroup **ret, WarrenError *reterr);
/* The cgroup a process (0: the caller) is in, in the hierarchy systemd
 * tracks processes by: cgroup2's, else name=systemd's. -ENODATA if it is
 * in neither. */
int cgroup_pid_path(pid_t pid, char **ret, WarrenError *reterr);
/* Moves pid from base into "<base>/<name>" on cgroup2 (made if needed), so
 * that base holds no process and may enable controllers for its children
 * (cgroup2's no-internal-process rule); a no-op without cgroup2. */
int cgroup_move_below(const CgroupLayout *l, const char *base, const char *name, pid_t pid,
                      WarrenError *reterr);
Cgroup *cgroup_free(Cgroup *cg);
DEFINE_TRIVIAL_CLEANUP_FUNC(Cgroup *, cgroup_free);
#define _cleanup_cgroup_ _cleanup_(cgroup_freep)

/* Creates the cgroup in every hierarchy: on cgroup2 the parent first, with
 * every controller of the root enabled in the root's and the parent's
 * cgroup.subtree_control (those the kernel refuses are left out); on v1,
 * cpuset.cpus/mems are copied down from the parent. An existing empty
 * cgroup is reused; one with processes is -EBUSY. On failure whatever this
 * call created is removed again. */
int cgroup_create(Cgroup *cg, WarrenError *reterr);

/* Spare cgroups for a warm monitor's spawn stub (monitor-stub.h): the v1
 * ones only, cpuset.cpus/mems copied down as cgroup_create() does (the
 * cgroup2 one needs no move: CLONE_INTO_CGROUP). -EEXIST naming the
 * directory if one exists already. On failure whatever this call created
 * is removed again. */
int cgroup_create_v1(Cgroup *cg, WarrenError *reterr);
/* cgroup_create() for cg, except that its v1 cgroups are spare's renamed
 * (v1 allows renaming a cgroup within its parent): the processes in spare
 * are in cg's v1 cgroups afterwards without ever having moved. spare must
 * have cg's parent (-EXDEV otherwise, nothing done). A leftover empty
 * cgroup of cg's name is removed first, one with processes is -EBUSY. On
 * failure what was renamed is renamed back and nothing else is left. */
int cgroup_create_from(Cgroup *cg, const Cgroup *spare, WarrenError *reterr);

/* "/<parent>/<name>" (or "<base>/<name>"): the cgroup's path relative to
 * the hierarchy roots, what the Container's CGroup property shows. */
const char *cgroup_get_path(const Cgroup *cg);
/* Absolute directory of the cgroup2 cgroup, NULL if there is no cgroup2. */
const char *cgroup_get_v2_dir(const Cgroup *cg);

/* A new O_RDONLY|O_DIRECTORY|O_CLOEXEC fd of the cgroup2 cgroup, for
 * clone3(CLONE_INTO_CGROUP). -EOPNOTSUPP without cgroup2. */
int cgroup_open_fd(const Cgroup *cg, WarrenError *reterr);
/* Moves pid into the cgroup of every v1 hierarchy (0 and no-op if none). */
int cgroup_attach_v1(const Cgroup *cg, pid_t pid, WarrenError *reterr);
/* Moves pid into the cgroup2 cgroup and every v1 one. */
int cgroup_attach(const Cgroup *cg, pid_t pid, WarrenError *reterr);

/* Writes a plan's settings in order. A write the kernel rejects fails with
 * its errno, naming key, value and file. */
int cgroup_apply_plan(const Cgroup *cg, const CgroupPlan *p, WarrenError *reterr);
/* cgroup_plan_limits() + cgroup_apply_plan(); ret_ignored (optional) gets
 * the plan's ignored list. */
int cgroup_apply_limits(const Cgroup *cg, char *const *kv, char ***ret_ignored, WarrenError *reterr);
/* The same with the lxc.cgroup* items of a config. */
int cgroup_apply_config(const Cgroup *cg, const LxcConfig *c, char ***ret_ignored, WarrenError *reterr);

/* Freezes every process (cgroup2 cgroup.freeze, else the v1 freezer) and
 * waits up to timeout_usec until the kernel reports the cgroup frozen:
 * -ETIMEDOUT otherwise (it stays freezing). Unfreeze likewise. */
int cgroup_freeze(const Cgroup *cg, uint64_t timeout_usec, WarrenError *reterr);
int cgroup_unfreeze(const Cgroup *cg, uint64_t timeout_usec, WarrenError *reterr);
/* 1 if frozen, 0 if not, <0 on error. */
int cgroup_is_frozen(const Cgroup *cg);

/* SIGKILLs every process: cgroup2 cgroup.kill when the kernel has it, else
 * freeze + kill each pid listed + thaw; then each pid still listed in a v1
 * cgroup. Does not wait for them to exit (cgroup_remove() does). */
int cgroup_kill_all(const Cgroup *cg, WarrenError *reterr);
/* Number of processes in the cgroup (the largest count of any hierarchy);
 * <0 on error. */
int cgroup_count_procs(const Cgroup *cg);

/* memory.current (cgroup2) or memory.usage_in_bytes (v1), in bytes.
 * -EOPNOTSUPP if the memory controller is in neither. */
int cgroup_memory_current(const Cgroup *cg, uint64_t *ret, WarrenError *reterr);

/* Lets uid/gid manage the cgroup (an unprivileged container's root): on
 * cgroup2 the directory and cgroup.procs, cgroup.subtree_control,
 * cgroup.threads; on v1 the directory, cgroup.procs and tasks. Limit files
 * stay root's. */
int cgroup_delegate(const Cgroup *cg, uid_t uid, gid_t gid, WarrenError *reterr);

/* Removes the cgroup (and any sub-cgroups the container made, deepest
 * first) from every hierarchy, retrying for up to ~2 s while killed tasks
 * exit: then -EBUSY. A cgroup already gone is fine. */
int cgroup_remove(const Cgroup *cg, WarrenError *reterr);
/* For finishing the teardown of a container whose monitor died: never
 * waits. cgroup_exists(): its directory exists in some hierarchy.
 * cgroup_count_procs_tree(): the processes in every hierarchy, sub-cgroups
 * included. cgroup_kill_tree(): thaws, then SIGKILLs them all (cgroup.kill
 * where the kernel has it, and each pid listed anywhere in the tree);
 * returns how many pids it signalled. cgroup_try_remove(): one pass of
 * cgroup_remove(), -EBUSY naming the directory while processes remain. */
bool cgroup_exists(const Cgroup *cg);
int cgroup_count_procs_tree(const Cgroup *cg);
int cgroup_kill_tree(const Cgroup *cg, WarrenError *reterr);
int cgroup_try_remove(const Cgroup *cg, WarrenError *reterr);
/* Removes <parent> from every hierarchy if it is empty: 0 if removed or
 * absent, -ENOTEMPTY/-EBUSY if other cgroups remain. */
int cgroup_remove_parent(const CgroupLayout *l, const char *parent, WarrenError *reterr);
