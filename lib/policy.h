/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a container owner may put in a config without the administrator's
 * authorization (org.warren1.create-privileged), and reading files with a
 * user's credentials.
 *
 * The config checked is the one the owner writes, parsed with
 * LXC_INCLUDE_KEEP: items of included files are not checked (they may only
 * come from the allowed shared dirs, which the administrator controls).
 *
 * Items that need the administrator, and why:
 *   lxc.hook.* (not .version), lxc.net.N.script.up/down
 *                        programs the service runs on the host as root
 *   lxc.net.N.type none|phys|macvlan|ipvlan|vlan
 *                        the host's netns, a host device moved in, or a
 *                        device on a host interface (veth, empty are fine;
 *                        lxc.net.N.link is the usernet quota's business)
 *   lxc.net.N.veth.pair, veth.ipv4.route, veth.ipv6.route, veth.vlan.id,
 *   veth.vlan.tagged.id, l2proxy (true)
 *                        names, routes, VLANs or proxy entries on the host
 *   lxc.cgroup.devices.*, lxc.cgroup2.devices.*
 *                        the container's access to host devices
 *   lxc.cgroup.dir*, lxc.cgroup.relative
 *                        where the cgroup sits in the host's hierarchy
 *   lxc.cgroup[2].FILE   unless FILE is a resource limit of the container's
 *                        own cgroup (cpu. cpuset. memory. io. pids. hugetlb.
 *                        blkio. rdma. misc. cpuacct.; not the cpuset
 *                        partition/exclusive files)
 *   lxc.mount.entry      any bind for owner root, a non-virtual filesystem
 *                        (anything but proc, sysfs, tmpfs, devpts, mqueue,
 *                        cgroup, cgroup2, ramfs, whose source is ignored).
 *                        Targets are always inside the rootfs. A non-root
 *                        owner's bind is no matter of authorization: its
 *                        source must pass policy_open_bind_source() (else a
 *                        hard error, -EPERM or -EINVAL; a missing source is
 *                        fine with "optional"), the rule the monitor applies
 *                        again at every start.
 *   lxc.mount.fstab      the service reads that file as root
 *   lxc.rootfs.path      anything but CONTAINER_DIR/rootfs ("dir:" prefix
 *                        allowed); lxc.rootfs.mount, lxc.rootfs.options
 *   lxc.console.logfile, lxc.log.file
 *                        anything but a file directly in CONTAINER_DIR
 *                        (not config, rootfs, owner or a dot file): the
 *                        service writes it as root
 *   lxc.console.path     anything but none or auto (a host device)
 *   lxc.apparmor.*, lxc.selinux.*
 *                        security module confinement
 *   lxc.seccomp.profile, lxc.seccomp.notify.proxy
 *                        a file the service reads / a socket it connects
 *                        to as root (allow_nesting, notify.cookie are fine)
 *   lxc.idmap            a line outside the owner's subordinate ranges
 *   lxc.include          a path outside ctx->include_allow (lexical)
 *   lxc.sysctl.KEY       unless KEY is namespaced (net., kernel.shm*,
 *                        kernel.msg*, kernel.sem*, kernel.hostname,
 *                        kernel.domainname, fs.mqueue., user.)
 *   lxc.namespace.*      sharing, keeping or choosing namespaces
 *   lxc.proc.*           written to /proc/PID of init by the service
 * Fine: everything else, e.g. lxc.mount.auto (proc:rw, sys:rw, cgroup:rw
 * only reach the container's own namespaces and cgroup, whose limit files
 * stay root's), lxc.cgroup2.memory.max, lxc.prlimit.* (the init sets them
 * inside its user namespace: the kernel refuses raising a hard limit
 * there, since that needs CAP_SYS_RESOURCE in the initial namespace),
 * lxc.environment, lxc.init.*, lxc.autodev, lxc.cap.*, lxc.net.N.link.
 *
 * Removing items is fine except for lxc.cgroup[2].devices.deny, clearing
 * lxc.cgroup/lxc.cgroup2 (drops device rules), lxc.seccomp.profile,
 * lxc.apparmor.profile and lxc.selinux.context: those removals need the
 * administrator too. A container of owner root without lxc.idmap is
 * privileged: there every added or removed item needs the administrator.
 *
 * Hard errors (not a matter of authorization): -EPERM when a non-root
 * owner's config lacks a uid or a gid lxc.idmap line, or binds a source
 * policy_open_bind_source() refuses; -EINVAL for a malformed lxc.idmap or
 * lxc.mount.entry, overlapping idmap lines, or a bind source that cannot be
 * opened. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "basic/error.h"

typedef struct LxcConfig LxcConfig;
typedef struct IdmapAllowance IdmapAllowance;
struct stat;

#define POLICY_ADMIN_ACTION "org.warren1.create-privileged"
/* How long a helper acting as the user may take (a FUSE path may hang). */
#define POLICY_USER_TIMEOUT_MS 5000

typedef struct PolicyContext {
        uid_t owner_uid;
        gid_t owner_gid;
        /* Absolute: <state-dir>/containers/NAME. */
        const char *container_dir;
        /* Dirs lxc.include may name, e.g. <data-dir>/config, /usr/share/lxc/config. */
        char *const *include_allow;
        /* The owner's ranges; NULL: none known, any lxc.idmap needs the admin. */
        const IdmapAllowance *idmap;
} PolicyContext;

/* Whether one item (normalized key, value; "" removes) needs the
 * administrator: 1 with *ret_reason (malloc'd, e.g. "hooks run programs on
 * the host as root"), 0 if not, <0 on hard errors. */
int policy_item_admin_reason(const PolicyContext *ctx, const char *key, const char *value, char **ret_reason,
                             WarrenError *reterr);

/* A new config (create). 0: the owner may have it as is. -EACCES: some
 * items need POLICY_ADMIN_ACTION; *ret_admin_keys lists their keys (each
 * once, in order) and the message names the first item and why:
 *   "lxc.hook.start = '/bin/x' needs org.warren1.create-privileged: hooks
 *    run programs on the host as root (also: lxc.net.0.type)"
 * Other errors as above. ret_admin_keys may be NULL. */
int policy_check_config(const PolicyContext *ctx, const LxcConfig *c, char ***ret_admin_keys,
                        WarrenError *reterr);

/* A change (SetConfig, default.conf layers): the same, but only items
 * added to or removed from old count, so an administrator's hook that the
 * owner leaves alone does not stop the owner from changing anything else.
 * Items are compared as (key, value) multisets; the result is checked as a
 * whole for the hard errors. */
int policy_check_change(const PolicyContext *ctx, const LxcConfig *old, const LxcConfig *new_config,
                        char ***ret_admin_keys, WarrenError *reterr);

/* ---- Acting as a user ----
 * A forked helper closes every fd it inherited, drops to uid/gid with no
 * supplementary groups (never more than the user's own rights), makes
 * itself non-dumpable, checks it holds no capability (uid != 0), and opens
 * path with O_NOFOLLOW for the last component, so root never follows a
 * link the user planted. */

/* Reads a regular file as the user, at most max bytes (-EFBIG beyond).
 * A symlink: -EACCES "Refusing to read '/home/u/x' as uid 4242: it is a
 * symbolic link"; -ENOENT if missing; messages name the path. The result is
 * NUL-terminated; ret_size may be NULL. */
int policy_read_user_file(uid_t uid, gid_t gid, const char *path, size_t max, char **ret, size_t *ret_size,
                          WarrenError *reterr);

/* Opens path as the user (flags get O_NOFOLLOW|O_CLOEXEC|O_NOCTTY added;
 * O_PATH works) and returns the fd, plus its stat if ret_st. */
int policy_open_as_user(uid_t uid, gid_t gid, const char *path, int flags, struct stat *ret_st,
                        WarrenError *reterr);

/* THE rule for the host source of a bind in a non-root owner's container,
 * used by the owner policy at SetConfig/create and by the monitor at every
 * start (which then mounts from the returned fd, never from the path, so
 * nothing can be swapped in between): the absolute path is opened O_PATH
 * as the owner (a helper with uid/gid and no other group or capability)
 * with openat2(RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), and what was
 * opened must be owned by uid. Errors name the path:
 *   -EPERM  "Refusing bind source '/home/a/d': the path goes through a
 *            symbolic link (opened as uid 1001, following none)"
 *           "Refusing bind source '/srv': it is owned by uid 0, not by the
 *            container's owner (uid 1001)"
 *   -ENOENT "Bind source '/home/a/d' does not exist (looked up as uid 1001)"
 *   -EINVAL not absolute; -EACCES and others: the owner cannot open it. */
int policy_open_bind_source(uid_t uid, gid_t gid, const char *path, struct stat *ret_st,
                            WarrenError *reterr);

/* The primary group of uid from the user database, else gid == uid (what
 * the service assumes for an owner that is not in the database). */
gid_t policy_owner_gid(uid_t uid);
