/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Copying a container's rootfs (clone, snapshots, restore).
 *
 * The copy keeps owners (numeric, as on disk), modes (setuid included),
 * times, every xattr (so POSIX ACLs and file capabilities), hardlinks (each
 * linked inode once), sparse files (holes stay holes), device nodes, FIFOs
 * and sockets. It walks fd-relative: each step opens one name below a
 * directory fd it holds, with openat2() RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
 * | RESOLVE_NO_XDEV, so a symlink is copied as a symlink and never followed,
 * and a concurrent swap of a directory for a symlink fails instead of
 * leading out of the tree. Mount points below the top are not entered: a
 * directory mount point is copied as an empty directory (counted in
 * skipped_mounts), anything else mounted is left out.
 *
 * With cow, copy-on-write is used where the filesystem offers it: a btrfs
 * subvolume is snapshotted whole (BTRFS_IOC_SNAP_CREATE_V2); otherwise each
 * regular file is first tried with FICLONE (btrfs, XFS with reflink, ...).
 * Without cow, or where neither works, bytes are copied (copy_file_range(),
 * only the data extents of sparse files). CopyStats says which happened.
 *
 * Needs what writing any rootfs takes: CAP_CHOWN, CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_MKNOD (device nodes) and
 * CAP_SETFCAP (file capabilities); trusted.* xattrs also CAP_SYS_ADMIN:
 * without it they are left out and counted in xattrs_lost. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

/* Directories deeper than this below the top are refused (-ELOOP). */
#define COPY_MAX_DEPTH 256U

/* Bytes done of total; a negative return cancels the copy (-ECANCELED). */
typedef int (*CopyProgressFunc)(uint64_t bytes_done, uint64_t bytes_total, void *userdata);

typedef struct CopyOptions {
        bool cow;
        uint64_t bytes_total; /* for progress: copy_tree_measure()'s bytes; 0 if unknown */
        CopyProgressFunc progress;
        void *userdata;
} CopyOptions;

typedef enum CopyHow {
        COPY_HOW_COPY,          /* every byte was copied */
        COPY_HOW_REFLINK,       /* every regular file (with data) was cloned */
        COPY_HOW_REFLINK_MIXED, /* some cloned, some copied */
        COPY_HOW_SNAPSHOT,      /* one btrfs subvolume snapshot */
        _COPY_HOW_MAX,
} CopyHow;

typedef struct CopyStats {
        CopyHow how;
        uint64_t entries;        /* inodes created (hardlinks not counted) */
        uint64_t bytes;          /* file data copied or cloned */
        uint64_t files_cloned;   /* by FICLONE */
        uint64_t files_copied;   /* byte by byte */
        uint64_t hardlinks;      /* extra names of an inode already copied */
        uint64_t skipped_mounts; /* mount points not entered or left out */
        uint64_t xattrs_lost;    /* trusted.* xattrs without CAP_SYS_ADMIN */
} CopyStats;

/* "a plain copy", "reflinks", "reflinks where possible, copies elsewhere",
 * "a btrfs subvolume snapshot". */
const char *copy_how_to_string(CopyHow h);

/* Walks dirfd/path like copy_tree() and adds up what a copy would move:
 * file data (the allocated part of sparse files) and inodes. */
int copy_tree_measure(int dirfd, const char *path, uint64_t *ret_bytes, uint64_t *ret_entries,
                      WarrenError *reterr);

/* Copies the directory src_dirfd/src_path (a path below src_dirfd, no
 * symlink in it) to dst_dirfd/dst_name, which must not exist (-EEXIST) and
 * is one name. On failure nothing is left at dst_name; the message names
 * the path that failed, relative to the top. ret may be NULL. */
int copy_tree(int src_dirfd, const char *src_path, int dst_dirfd, const char *dst_name, const CopyOptions *o,
              CopyStats *ret, WarrenError *reterr);

/* openat2() of path below dirfd with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
 * | RESOLVE_NO_MAGICLINKS (and RESOLVE_NO_XDEV if no_xdev): -ELOOP for a
 * symlink anywhere in path, -EXDEV for a mount point if no_xdev. O_CLOEXEC
 * is added. */
int open_beneath(int dirfd, const char *path, int flags, bool no_xdev);

/* The xattrs of an inode: names (NUL-separated, as listxattr() gives them)
 * and, for each, its value. fd is an fd of the inode, O_PATH allowed (then
 * it goes through /proc/self/fd, which also works for symlinks). */
typedef struct XattrList {
        char *names;
        size_t names_size;
        size_t n;
        struct XattrEntry {
                const char *name; /* into names */
                uint8_t *value;
                size_t size;
        } * entries;
} XattrList;

int xattr_list_read(int fd, bool o_path, XattrList *ret, WarrenError *reterr);
void xattr_list_done(XattrList *l);
