/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Unpacking an image's rootfs tarball (libarchive) into a new directory.
 *
 * The tree is built in a temporary directory beside the target
 * (".#unpack.<name>.XXXXXX", mode 0700) and renamed into place only when
 * complete; on any failure (ENOSPC included) the partial tree is removed and
 * the message says what failed. Numeric owners, modes, times, xattrs, ACLs,
 * hardlinks and symlinks are restored; device nodes only if allowed.
 *
 * Nothing can land outside the tree: absolute paths, ".." components and
 * writes through a symlink are refused (-EPERM naming the entry), on top of
 * libarchive's ARCHIVE_EXTRACT_SECURE_{NODOTDOT,SYMLINKS,NOABSOLUTEPATHS}.
 * Hardlink targets get the same checks, and a hardlink entry never carries
 * data (so it cannot write through a linked symlink).
 *
 * With an idmap, every uid/gid is shifted while extracting (so are the ids
 * inside POSIX ACLs and security.capability, which becomes a v3 capability
 * owned by the container's root); an id outside the map is an error.
 *
 * Not reentrant: while it runs, the process's working directory is the
 * temporary directory (libarchive's secure checks are cwd-relative); it is
 * restored before returning. No threads. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "image-download.h"

typedef struct ImageIdRange {
        bool gid;         /* false: a uid range ('u'), true: a gid range ('g') */
        uint32_t ns_id;   /* first id inside the container */
        uint32_t host_id; /* what it maps to on the host */
        uint32_t count;
} ImageIdRange;

#define IMAGE_UNPACK_MAX_ENTRIES_DEFAULT 1000000ULL
#define IMAGE_UNPACK_MAX_SIZE_DEFAULT (16ULL << 30) /* bytes of file data */

typedef struct ImageUnpackOptions {
        bool allow_devices;        /* create char/block device nodes (privileged containers) */
        const ImageIdRange *idmap; /* n_idmap ranges; none: ids as in the archive */
        size_t n_idmap;
        char *const *excludes; /* tar --anchored --exclude patterns (excludes-user); "./" optional */
        uint64_t max_entries;  /* 0: IMAGE_UNPACK_MAX_ENTRIES_DEFAULT */
        uint64_t max_size;     /* sum of entry sizes; 0: IMAGE_UNPACK_MAX_SIZE_DEFAULT */
        /* Decompress in a forked child feeding a pipe, so decompression and
         * file creation overlap on two cores, as with tar -xJf | xz. */
        bool decompress_in_child;
        /* Compressed bytes consumed / archive size; a negative return cancels. */
        ImageProgressFunc progress;
        void *userdata;
} ImageUnpackOptions;

typedef struct ImageUnpackStats {
        uint64_t entries; /* extracted */
        uint64_t skipped; /* excluded, or device nodes not allowed */
        uint64_t bytes;   /* file data written */
} ImageUnpackStats;

/* Maps id through the ranges of one kind. -ERANGE if it is not mapped.
 * No ranges of that kind: the identity. */
int image_idmap_map(const ImageIdRange *idmap, size_t n, bool gid, uint64_t id, uint32_t *ret);

/* Unpacks the archive open at archive_fd (any compression libarchive reads;
 * read from offset 0, or from where it is for a pipe or socket) into parent_dirfd/name, which must not exist
 * (-EEXIST). ret_stats may be NULL. */
int image_unpack(int archive_fd, int parent_dirfd, const char *name, const ImageUnpackOptions *o,
                 ImageUnpackStats *ret_stats, WarrenError *reterr);

/* 1 if path (an archive member name, "./" optional) is excluded by one of
 * the patterns: fnmatch() against the name or any of its leading
 * directories, as tar --anchored --exclude does. */
int image_path_excluded(char *const *patterns, const char *path);
