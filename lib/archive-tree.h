/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Writing a directory tree (or one entry) into a tar archive (libarchive),
 * for Export and PullFiles.
 *
 * The walk is the copy's (lib/copy.h): fd-relative, openat2() with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV, symlinks stored
 * as symlinks and never followed, mounts below the top not entered (a
 * directory mount point is stored as an empty directory), device nodes
 * and FIFOs stored as such and never opened, hardlinks as tar hardlinks.
 * Entries carry numeric owners, modes, times and every xattr (so POSIX ACLs
 * and file capabilities).
 *
 * With shift (an unprivileged container whose rootfs holds host ids), ids
 * go back to the container's: owners, the ids in POSIX ACL xattrs and the
 * root id of a file capability (v3 becomes v2 when it is the container's
 * root); a host id outside the map becomes 65534 (nobody, what the
 * container sees). */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

struct archive;
typedef struct Idmap Idmap;
typedef struct InodeTable InodeTable;

#define ARCHIVE_TREE_OVERFLOW_ID 65534U
#define ARCHIVE_TREE_TEMPLATE_MAX (1024U * 1024U)

typedef int (*ArchiveTreeProgress)(uint64_t bytes_done, void *userdata);

typedef struct ArchiveTreeOptions {
        const Idmap *shift;
        /* etc/hostname and etc/hosts below the top: a word rename_from
         * becomes rename_to (Export writes LXC_NAME there). */
        const char *rename_from, *rename_to;
        bool recursive;  /* else a directory is -EISDIR */
        char ***devices; /* if set, the names of device nodes stored are added */
        ArchiveTreeProgress progress;
        void *userdata;
} ArchiveTreeOptions;

typedef struct ArchiveTree {
        struct archive *archive;
        const ArchiveTreeOptions *o;
        InodeTable *links;
        uint64_t bytes, entries;
        char *path;
        size_t path_len, path_alloc;
        uint64_t mnt_id;
        WarrenError *reterr;
} ArchiveTree;

int archive_tree_init(ArchiveTree *t, struct archive *a, const ArchiveTreeOptions *o, WarrenError *reterr);
void archive_tree_done(ArchiveTree *t);

/* Adds dirfd/name (one name, not followed if a symlink) and, if it is a
 * directory, everything below it, under the archive name entry_name
 * ("./", "rootfs", "hostname"...). */
int archive_tree_add(ArchiveTree *t, int dirfd, const char *name, const char *entry_name);

/* Adds a regular file made of data (metadata files, templates). */
int archive_tree_add_data(ArchiveTree *t, const char *entry_name, const void *data, size_t size,
                          uint32_t mode, int64_t mtime);
/* Adds an empty directory owned by root. */
int archive_tree_add_dir(ArchiveTree *t, const char *entry_name, int64_t mtime);

/* A new pax archive onto fd with compression "xz", "gzip", "zstd" or "none":
 * -EINVAL naming another. */
int archive_tree_new_writer(int fd, const char *compression, struct archive **ret, WarrenError *reterr);
/* Closes (flushing the compressor) and frees. */
int archive_tree_finish(struct archive *a, WarrenError *reterr);
