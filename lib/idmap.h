/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* User namespace id maps: the owner's subordinate id ranges (/etc/subuid,
 * /etc/subgid), lxc.idmap lines checked against them, the maps written to
 * /proc/PID/{uid,gid}_map, id translation, shifting a tree's ownership, and
 * idmapped mounts of a rootfs.
 *
 * subuid/subgid files: one "owner:start:count" per line, owner being a
 * login name or a decimal uid (both match the user). Empty lines and lines
 * starting with '#' are skipped. Anything else is an error naming the file
 * and the line. A missing file holds no range.
 *
 * A map line (lxc.idmap value) is "u|g|b NSID HOSTID COUNT": container ids
 * NSID..NSID+COUNT-1 are host ids HOSTID..; 'b' is both a uid and a gid
 * line. A map is valid for an owner when, for uids and gids separately, its
 * lines overlap neither in container ids nor in host ids, every line's host
 * ids lie inside ONE of the owner's ranges, and no host id is in a range of
 * any other user (a range listed for both is refused). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"

typedef struct LxcConfig LxcConfig;

typedef enum IdmapKind {
        IDMAP_UID = 1 << 0,
        IDMAP_GID = 1 << 1,
        IDMAP_BOTH = IDMAP_UID | IDMAP_GID, /* a 'b' line */
} IdmapKind;

/* The default map of a new unprivileged container: container ids 0..65535. */
#define IDMAP_DEFAULT_COUNT 65536U
/* The kernel takes at most this many lines per map (Linux 4.15). */
#define IDMAP_MAX_LINES 340U
#define IDMAP_SUBID_MAX_SIZE (4U * 1024U * 1024U)

typedef struct IdmapLine {
        IdmapKind kind;
        uint32_t nsid, hostid, count; /* nsid + count and hostid + count <= UINT32_MAX */
} IdmapLine;

typedef struct Idmap {
        IdmapLine *lines;
        size_t n;
} Idmap;

Idmap *idmap_free(Idmap *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Idmap *, idmap_free);
#define _cleanup_idmap_ _cleanup_(idmap_freep)
Idmap *idmap_new(void);
int idmap_add(Idmap *m, const IdmapLine *l);

/* Parses one lxc.idmap value (blanks between the four fields).
 * Error -EINVAL: "Invalid lxc.idmap 'V': why". */
int idmap_line_parse(const char *value, IdmapLine *ret, WarrenError *reterr);
/* "u 0 100000 65536"; NULL on ENOMEM. */
char *idmap_line_format(const IdmapLine *l);
/* Every lxc.idmap item of c, in order (an empty map if there is none). */
int idmap_from_config(const LxcConfig *c, Idmap **ret, WarrenError *reterr);
/* Self-consistency, whoever the owner: no overlap between lines of a kind
 * (in container or host ids), at most IDMAP_MAX_LINES lines per kind.
 * Error -EINVAL naming both lines. */
int idmap_verify(const Idmap *m, WarrenError *reterr);

/* The text for /proc/PID/uid_map (kind IDMAP_UID) or gid_map (IDMAP_GID):
 * "NSID HOSTID COUNT\n" per line of that kind ('b' lines in both). */
int idmap_format(const Idmap *m, IdmapKind kind, char **ret);

/* Writes uid_map then gid_map of pid (a child waiting in its new user
 * namespace), each with ONE write() as the kernel requires. Both kinds must
 * have lines. setgroups is left at "allow": the writer is root in the
 * parent namespace (CAP_SETGID there), which the kernel accepts without
 * "deny", and the container's root needs setgroups() (login, su, daemons
 * dropping groups). Allowing it grants nothing on the host: the namespace's
 * processes never hold the owner's host groups, only mapped subordinate
 * gids, so dropping a group cannot escape a group-denied permission.
 * Error names the file, the map and the reason. */
int idmap_write(pid_t pid, const Idmap *m, WarrenError *reterr);

/* Container id -> host id and back through the lines of kind (IDMAP_UID or
 * IDMAP_GID). -ERANGE if the id is not mapped. */
int idmap_to_host(const Idmap *m, IdmapKind kind, uint32_t id, uint32_t *ret);
int idmap_from_host(const Idmap *m, IdmapKind kind, uint32_t id, uint32_t *ret);

/* ---- The owner's subordinate ranges ---- */

typedef struct IdmapAllowance IdmapAllowance;

/* Loads the ranges of the owner (uid, and login name user if known) and of
 * every other user from the two files. Garbage: -EINVAL "FILE:LINE: ...". */
int idmap_allowance_load(const char *subuid_path, const char *subgid_path, uid_t uid, const char *user,
                         IdmapAllowance **ret, WarrenError *reterr);
IdmapAllowance *idmap_allowance_free(IdmapAllowance *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(IdmapAllowance *, idmap_allowance_free);
#define _cleanup_idmap_allowance_ _cleanup_(idmap_allowance_freep)
/* Adds a range found elsewhere (e.g. root's from warren.conf): the owner's
 * if who is NULL, else one of user who's. source names it in messages. */
int idmap_allowance_add(IdmapAllowance *a, IdmapKind kind, const char *who, uint32_t start, uint32_t count,
                        const char *source);
/* Whether the owner has any range of kind (IDMAP_UID or IDMAP_GID). */
bool idmap_allowance_has_range(const IdmapAllowance *a, IdmapKind kind);

/* "u 0 START 65536" and "g 0 START 65536" from the owner's first range of
 * at least 65536 ids (of each file) that passes idmap_allowance_check_line().
 * Error -EPERM: "User alice (uid 4242) has no range of at least 65536 ids
 * in /etc/subuid". */
int idmap_default_map(const IdmapAllowance *a, Idmap **ret, WarrenError *reterr);
/* One line against the ranges. Error -EPERM naming the line, the host ids,
 * the file, the user and the range:
 *   "lxc.idmap 'u 0 200000 65536': host uids 200000-265535 are not inside
 *    a range of user alice (uid 4242) in /etc/subuid (alice's ranges: 100000-165535)"
 *   "lxc.idmap 'u 0 100000 65536': host uids 100000-165535 overlap range
 *    150000-215535 of user bob in /etc/subuid"
 *   "lxc.idmap 'u 0 100000 65536': user alice (uid 4242) has no range in /etc/subuid" */
int idmap_allowance_check_line(const IdmapAllowance *a, const IdmapLine *l, WarrenError *reterr);
/* idmap_verify() and every line; the service runs this before it writes
 * the maps of a container with a non-root owner. */
int idmap_allowance_check(const IdmapAllowance *a, const Idmap *m, WarrenError *reterr);

/* ---- Ownership of files ---- */

typedef enum IdmapShiftFlags {
        IDMAP_SHIFT_TO_HOST = 0,        /* ids on disk are container ids: make them host ids */
        IDMAP_SHIFT_FROM_HOST = 1 << 0, /* the reverse */
} IdmapShiftFlags;

/* Walks the directory dirfd/path (path "" or NULL: dirfd itself; a symlink
 * there is refused) and re-owns every inode through m: fd-relative, never
 * following a symlink (symlinks themselves are re-owned), never crossing a
 * mount point (mount points are skipped, not entered), each hard-linked
 * inode once. chown() clears setuid/setgid bits and file capabilities: the
 * mode is restored and a security.capability is rewritten for the new root
 * (v3, rootid shifted; v2 becomes v3 with the host id of container root).
 * POSIX ACL entries (access and default) are shifted too. An id the map
 * does not cover: -ERANGE naming the path and the id (the tree is then
 * partly shifted; shift a tree nobody uses yet). Returns the number of
 * inodes re-owned. */
int idmap_shift_ownership(int dirfd, const char *path, const Idmap *m, IdmapShiftFlags flags,
                          WarrenError *reterr);

/* ---- Idmapped mounts ---- */

/* A user namespace with map m, as an fd (O_CLOEXEC) of /proc/CHILD/ns/user:
 * a short-lived child unshares CLONE_NEWUSER, we write its maps, open its
 * namespace and let it exit. */
int idmap_userns_open(const Idmap *m, WarrenError *reterr);

/* A detached clone of the mount at dirfd/path (not recursive: submounts
 * are not included), idmapped through m: a file owned by uid K on disk is
 * seen as host uid map(K), so a rootfs unpacked with container ids (0..)
 * needs no chown. Returns the mount fd (O_CLOEXEC) for move_mount(), or
 * -EOPNOTSUPP (kernel without the mount API or idmapped mounts) or -EINVAL
 * (the filesystem does not support idmapped mounts, or the mount is already
 * idmapped): the caller then shifts ownership instead. Other errors as is.
 * Seen on Linux 6.18: ext4, tmpfs, overlay support it. */
int idmap_mount_rootfs(int dirfd, const char *path, const Idmap *m, WarrenError *reterr);
