/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Creating a container's init: clone3() into fresh namespaces (and straight
 * into its cgroup), set up mounts, /dev, ptys, hostname, environment, limits
 * and capabilities in the child, then exec lxc.init.cmd. The child reports
 * any failure over a SOCK_SEQPACKET sync socket (errno + message) and
 * _exit()s; container_spawn() returns only once init has been exec'd or
 * with that precise error, and leaves no mount behind in the caller. */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"

typedef struct LxcConfig LxcConfig;
typedef struct Idmap Idmap;
typedef struct SpawnStub SpawnStub;

/* Called in the parent after clone, while the child waits: write
 * uid_map/gid_map, move network interfaces into the child's netns, attach
 * the child to v1 cgroups. A failure kills the child and fails the spawn. */
typedef int (*SpawnParentHook)(pid_t child, int child_pidfd, void *userdata, WarrenError *reterr);

typedef struct SpawnOptions {
        const char *name;            /* container name (hostname default) */
        const LxcConfig *config;     /* effective config (includes expanded) */
        const char *rootfs;          /* absolute host path of the rootfs directory */
        int cgroup_fd;               /* v2 cgroup dir for CLONE_INTO_CGROUP, or -1 */
        const char *console_path;    /* host pty slave to bind over /dev/console, or NULL */
        char *const *tty_paths;      /* host pty slaves for /dev/tty1..N (NULL-terminated), or NULL */
        bool new_user_ns;            /* CLONE_NEWUSER (config has lxc.idmap) */
        const Idmap *idmap;          /* with new_user_ns, or NULL: see below */
        bool host_netns;             /* no CLONE_NEWNET (lxc.net.N.type = none) */
        bool loopback_up;            /* the child brings its netns' lo up (no NIC needs the host) */
        const char *config_path;     /* LXC_CONFIG_FILE for lxc.hook.* run in the child, or NULL */
        SpawnParentHook parent_hook; /* may be NULL */
        /* Run once the child is set up (mounts, pivot_root, lxc.hook.start)
         * and before it execs init (lxc.hook.start-host), or NULL; costs
         * one more round trip with the child. Gets hook_userdata. */
        SpawnParentHook before_exec_hook;
        /* May be NULL: called once the child was told to go on, while it
         * sets itself up (mounts, /dev...), for the caller's own work that
         * need not delay init. Its error is only logged. */
        SpawnParentHook while_child_sets_up;
        void *hook_userdata;
        int log_fd; /* if >= 0, the child's stdout/stderr before exec (else /dev/null),
                       NOT the console: init gets the console as stdio */
        /* The container's owner (the store's owner file). Root: binds keep
         * LXC's semantics. Anyone else: bind sources are opened as the owner
         * and mounted from that fd (MountPlanOptions in mount.h). */
        uid_t owner_uid;
        gid_t owner_gid;
        /* If set, init is cloned by this stub (monitor-stub.h) instead of
         * by us: it is born in the stub's cgroups (the container's v1
         * cgroups, renamed from spares the stub was moved into ahead of
         * time) and still our child. The stub serves once. */
        SpawnStub *stub;
} SpawnOptions;

/* With o->idmap (and new_user_ns), container_spawn() itself writes it as
 * the init's uid_map and gid_map right after clone, before parent_hook and
 * before the child goes on (without it, parent_hook must write the maps).
 * It also decides how the rootfs is mounted:
 *  - the rootfs directory is owned by a host uid the map covers (the rootfs
 *    was shifted to the mapped ids): a plain recursive bind;
 *  - it is owned by an unmapped uid (host root: a rootfs made before the
 *    map was known): an idmapped mount of it through the map (ids on disk
 *    are read as container ids: disk uid 0 is container root), not
 *    recursive. Where the filesystem cannot be idmapped (-EINVAL,
 *    -EOPNOTSUPP) the spawn fails naming the rootfs, its owner and the
 *    mapped root it must be owned by instead.
 * The rootfs is opened by the caller (which may be root while the init of
 * a user namespace cannot search a 0700 container dir) and handed over as
 * the child's cwd: "Rootfs '/x' does not exist" comes before any clone.
 * With new_user_ns, lxc.mount.auto sys and host_netns together are refused
 * (mount_plan_check_userns()).
 *
 * On success returns 0 with the init's host pid and a pidfd (O_CLOEXEC). */
int container_spawn(const SpawnOptions *o, pid_t *ret_pid, int *ret_pidfd, WarrenError *reterr);

/* How the child gets there (see also mount.h):
 *  1. waits for the parent's go (after parent_hook); with a user namespace
 *     becomes its root (setresuid/setresgid 0);
 *  2. unshare(CLONE_NEWCGROUP) now rather than in clone3(): the hook has
 *     attached it to the v1 hierarchies by then, so every hierarchy's
 *     namespace root is the container's cgroup (CLONE_INTO_CGROUP alone
 *     only covers cgroup2);
 *  3. stdio from log_fd//dev/null, every other inherited fd closed;
 *     "/" made MS_REC|MS_PRIVATE; hostname (lxc.uts.name, else name);
 *  4. lxc.sysctl.* written through a procfs of its own (fsmount(), never
 *     attached), so neither the host's nor the container's read-only
 *     /proc/sys is in the way; namespaced keys land in its namespaces;
 *  5. mounts and pivot_root (mount_setup_root());
 *  6. lxc.prlimit.* (setrlimit; "soft[:hard]", "unlimited"), setsid and
 *     /dev/console as controlling tty and stdio (/dev/null without a
 *     console), lxc.cap.* (caps_apply()), lxc.init.groups/gid/uid,
 *     lxc.init.cwd, default signal dispositions and mask;
 *  7. execvp() of lxc.init.cmd (default /sbin/init), split into words on
 *     blanks with sh-like quotes ("/bin/sh -c 'a b'" is three words), with
 *     the environment container=lxc, PATH=<default>, then lxc.environment
 *     KEY=VALUE items (a bare KEY is skipped: there is nothing to inherit).
 * Config errors (bad prlimit, mount entry, sysctl name, init.cmd...) are
 * found before clone3() and returned without a child ever existing. */
