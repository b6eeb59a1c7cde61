/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What an archive has made so far in the tree it unpacks into, so that no
 * entry is written through a symlink without a syscall per path component
 * (libarchive's ARCHIVE_EXTRACT_SECURE_SYMLINKS costs ~10 per entry). This
 * holds because the tree starts empty and nobody else writes into it while
 * it is unpacked: every symlink in it came from the archive and is known
 * here. Paths are compared in canonical form: "." components, empty
 * components and trailing slashes dropped (as the kernel resolves them and
 * as libarchive cleans them); the caller has refused absolute paths and
 * ".." components before. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "basic/macro.h"

typedef struct ImageTree ImageTree;

ImageTree *image_tree_new(void);
ImageTree *image_tree_free(ImageTree *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageTree *, image_tree_free);

typedef enum ImageTreeKind {
        IMAGE_TREE_OTHER, /* a file, device, fifo, socket or hardlink */
        IMAGE_TREE_DIR,
        IMAGE_TREE_SYMLINK,
} ImageTreeKind;

/* May an entry of kind be created at path (and, for a hardlink, pointing
 * at link_target)? -EPERM naming the entry and the symlink in the way if
 * a parent of either is a symlink the archive made, if a directory would
 * replace a symlink (libarchive would follow it to set the directory's
 * owner, mode and times) or a symlink a directory (whose deferred fixups
 * would then follow it). */
int image_tree_check(ImageTree *t, const char *path, ImageTreeKind kind, const char *link_target,
                     WarrenError *reterr);
/* Records that the entry was created: its parents are directories now. */
int image_tree_add(ImageTree *t, const char *path, ImageTreeKind kind);
