/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between image-cache.c (layout, locks, listing) and image-fetch.c. */

#include <stdbool.h>

#include "image-cache.h"

#define IMAGE_CACHE_LOCK ".lock"         /* short steps on the entries */
#define IMAGE_CACHE_DOWNLOAD ".download" /* held during one fetch's transfer */
#define IMAGE_CACHE_TEMP_PREFIX ".#pull-"
#define IMAGE_CACHE_ROOTFS "rootfs.tar.xz"
#define IMAGE_CACHE_META "meta.tar.xz"
#define IMAGE_CACHE_SUMS "SHA256SUMS"
#define IMAGE_CACHE_META_DIR "meta"
#define IMAGE_CACHE_LAST_USED "last-used"

struct ImageCache {
        char *path; /* <cache_dir>/images */
        int dirfd;
};

/* "<partition>/<server>/<dist>/<release>/<arch>/<variant>" (spec fully
 * set, origin->server canonical); -EINVAL naming a bad origin. */
int image_cache_variant_rel(const ImageOrigin *origin, const ImageSpec *spec, char **ret,
                            WarrenError *reterr);
/* Opens (creating, mode 0700 for the partition and 0755 below) the
 * variant directory. */
int image_cache_open_variant(ImageCache *c, const char *rel, int *ret_fd, WarrenError *reterr);
/* flock()s dirfd/name (created 0600): waiting, or -EBUSY at once. */
int image_cache_lock(int dirfd, const char *name, bool wait, int *ret_fd);
/* The complete builds in a variant directory, oldest first. */
int image_cache_list_builds(int vdirfd, char ***ret);
/* Removes the temporaries of dead fetches (their flock is free). Call with
 * the variant's lock held. */
void image_cache_remove_stale(int vdirfd);
