/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container's filesystem view, built by its init in its own mount
 * namespace before exec: the rootfs bind, lxc.mount.auto (proc, sys,
 * cgroup), lxc.mount.fstab and lxc.mount.entry lines, a minimal /dev with
 * the console and ttys, then pivot_root. Config is parsed (and host files
 * read) in the caller before clone, so the child only mounts.
 *
 * Every path inside the rootfs is resolved with openat2(RESOLVE_IN_ROOT):
 * a symlink in the rootfs (absolute or with "..") stays inside it. Mounts
 * then go through the resolved fd (open_tree/move_mount/mount_setattr for
 * binds, mount(2) on /proc/self/fd/N for filesystems), never the path.
 *
 * lxc.mount.auto, as LXC:
 *   proc, proc:mixed  proc rw; /proc/sys (except /proc/sys/net, which is
 *                     the container's own netns) and /proc/sysrq-trigger
 *                     read-only binds
 *   proc:rw           proc rw
 *   sys, sys:mixed    sysfs read-only, /sys/devices/virtual/net writable
 *   sys:ro, sys:rw    sysfs read-only / read-write
 *   cgroup:mixed|ro|rw (cgroup-full:* is treated the same, ":force" is
 *                     accepted and ignored; bare "cgroup" is rw if the
 *                     container keeps CAP_SYS_ADMIN, else mixed)
 *     The init is in a new cgroup namespace, so a fresh cgroup mount shows
 *     the container's own cgroup as its root.
 *     - cgroup2-only host: cgroup2 at /sys/fs/cgroup (ro for :ro, else rw:
 *       all of it is the container's own cgroup).
 *     - v1 or hybrid host: a tmpfs at /sys/fs/cgroup, each v1 hierarchy of
 *       the host (from /proc/self/mounts) mounted fresh under its host
 *       directory name (co-mounted "cpu,cpuacct" also gets "cpu" and
 *       "cpuacct" symlinks), cgroup2 at "unified" (hybrid). :mixed makes the
 *       tmpfs read-only and the hierarchies rw (their root is the
 *       container's cgroup); :ro everything read-only; :rw everything rw.
 *   shmounts:* is not supported (-EOPNOTSUPP).
 *
 * lxc.mount.entry / lxc.mount.fstab lines are fstab lines: "source target
 * fstype options [dump [pass]]", octal escapes (\040) allowed. target is
 * relative to the rootfs (an absolute one is taken inside the rootfs too).
 * options: the mount(8) flags (ro, rw, nosuid, nodev, noexec, noatime,
 * relatime, strictatime, ...), bind, rbind, propagation ([r]private,
 * [r]shared, [r]slave, [r]unbindable), create=dir, create=file (target and
 * missing parents are made), optional (a failure is ignored); anything
 * else is passed to the filesystem as data. Bind options (ro, nosuid, ...)
 * are applied to the new mount before it is attached; with rbind they
 * apply to every mount of the tree. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"

typedef struct LxcConfig LxcConfig;

typedef enum MountCreate {
        MOUNT_CREATE_NONE,
        MOUNT_CREATE_DIR,
        MOUNT_CREATE_FILE,
} MountCreate;

typedef struct MountEntry {
        char *line; /* as configured, for messages */
        char *source;
        char *target;
        char *fstype;
        unsigned long flags;       /* MS_* including MS_BIND and MS_REC */
        unsigned long propagation; /* MS_PRIVATE/SHARED/SLAVE/UNBINDABLE (|MS_REC), or 0 */
        char *data;                /* other options for the filesystem, or NULL */
        MountCreate create;
        bool optional;
} MountEntry;

/* Parses one fstab line. Errors (-EINVAL, -EOPNOTSUPP for LXC options warren
 * does not implement: relative, idmap=) name the line. */
int mount_entry_parse(const char *line, MountEntry *ret, WarrenError *reterr);
void mount_entry_done(MountEntry *e);

typedef enum MountAutoMode {
        MOUNT_AUTO_NONE,
        MOUNT_AUTO_RO,
        MOUNT_AUTO_RW,
        MOUNT_AUTO_MIXED,
} MountAutoMode;

typedef struct MountAuto {
        MountAutoMode proc, sys, cgroup;
} MountAuto;

/* Parses one lxc.mount.auto value (space-separated items) into *m, adding
 * to what is there. keeps_sys_admin decides a bare "cgroup". */
int mount_auto_parse(const char *value, bool keeps_sys_admin, MountAuto *m, WarrenError *reterr);

typedef struct MountPlan MountPlan;

typedef struct MountPlanOptions {
        /* The init keeps CAP_SYS_ADMIN (decides a bare "cgroup"). */
        bool keeps_sys_admin;
        /* The container's owner. Root (0): binds keep LXC's semantics, the
         * init looks the source up by path (following symbolic links on the
         * host side). Anyone else: every bind from the config's own lines
         * (lxc.mount.entry, or lxc.mount.fstab set there; not those of an
         * included file, which root wrote) is opened now by
         * policy_open_bind_source() as the owner, refused unless it passes,
         * and cloned from that fd with its options (open_tree, private
         * propagation first); the init only attaches the clone. A missing
         * source of an "optional" entry is skipped; every other refusal fails
         * the plan, naming the entry and the path, before anything exists. */
        uid_t owner_uid;
        gid_t owner_gid;
} MountPlanOptions;

/* Reads lxc.mount.auto, lxc.mount.fstab (the file is read now),
 * lxc.mount.entry, lxc.autodev, lxc.autodev.tmpfs.size and, if cgroups are
 * to be mounted, the host's cgroup mounts from /proc/self/mounts.
 * o may be NULL (all zero: owner root). */
int mount_plan_new(const LxcConfig *c, const MountPlanOptions *o, MountPlan **ret, WarrenError *reterr);

/* What mount_plan_new() checks of the config itself, without reading a
 * file or opening a bind source: lxc.mount.auto, lxc.autodev[.tmpfs.size],
 * every lxc.mount.entry parsed, lxc.mount.fstab absolute and, with a user
 * namespace, mount_plan_check_userns(). */
int mount_config_check(const LxcConfig *c, bool keeps_sys_admin, bool userns, bool host_netns,
                       WarrenError *reterr);

/* The fds the plan holds (detached bind clones, O_CLOEXEC) that must stay
 * open in the init until mount_setup_root(). */
const int *mount_plan_fds(const MountPlan *p, size_t *ret_n);
MountPlan *mount_plan_free(MountPlan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(MountPlan *, mount_plan_free);
#define _cleanup_mount_plan_ _cleanup_(mount_plan_freep)

/* What a user namespace may mount, checked before clone: proc needs the pid
 * namespace, sysfs a network namespace and cgroup filesystems a cgroup
 * namespace owned by the user namespace (the kernel refuses them
 * otherwise). The init always gets its own pid and cgroup namespaces, so
 * only "sys" with the host's network namespace is refused here:
 *   "lxc.mount.auto sys: sysfs cannot be mounted in a user namespace that
 *    shares the host's network namespace (lxc.net.0.type = none)" */
int mount_plan_check_userns(const MountPlan *p, bool host_netns, WarrenError *reterr);

typedef struct MountSetup {
        const char *rootfs;       /* host path, for messages */
        int rootfs_mount_fd;      /* a detached mount (open_tree) to use as the rootfs, e.g. an
                                     idmapped one, or -1: the cwd's tree is cloned (recursively) */
        const char *console_path; /* host pty slave for /dev/console, or NULL */
        char *const *tty_paths;   /* host pty slaves for /dev/tty1..N, or NULL */
        bool new_user_ns;         /* no mknod: device nodes are binds of the host's */
        /* Called once everything is mounted, before pivot_root (lxc.hook.mount
         * and autodev), or NULL. */
        int (*before_pivot)(void *userdata, WarrenError *reterr);
        void *userdata;
} MountSetup;

/* In the container's init, inside its new (private) mount namespace with
 * umask 0, with the cwd at the rootfs directory: builds the filesystem
 * view and pivot_root()s into it; the old root is detached and the cwd is
 * the new "/". The rootfs is taken from the cwd rather than by its path
 * because the init of a user namespace may not be able to look the path up
 * (a 0700 root-owned container dir): the cwd set before clone is carried
 * into the new mount namespace by the kernel. The caller's "/" must
 * already be MS_PRIVATE recursively. Errors name the rootfs, the entry or
 * the auto mount that failed:
 *   "Failed to mount entry 'proc dev/bogus proc defaults 0 0': No such file or directory" */
int mount_setup_root(const MountPlan *p, const MountSetup *s, WarrenError *reterr);
