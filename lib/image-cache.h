/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The image cache: <cache-dir>/images/<dist>/<release>/<arch>/<variant>/<build>/
 * holding the verified rootfs.tar.xz, meta.tar.xz and SHA256SUMS, the
 * unpacked meta files in meta/, and a last-used stamp. An entry appears
 * atomically (built in ".#pull-<pid>" beside it, renamed when complete) and
 * only after verification; each <variant> directory has a ".lock" file
 * (flock) that a fetch or removal holds, so concurrent pulls of one image
 * wait for each other instead of corrupting it. After a new build is
 * cached, older builds of the same image are removed (LXC keeps one too). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "image-download.h"
#include "image-index.h"
#include "image-meta.h"

typedef struct ImageCache ImageCache;

/* Opens (creating, mode 0755) <cache_dir>/images. */
int image_cache_open(const char *cache_dir, ImageCache **ret, WarrenError *reterr);
ImageCache *image_cache_free(ImageCache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageCache *, image_cache_free);
#define _cleanup_image_cache_ _cleanup_(image_cache_freep)
/* "<cache_dir>/images" */
const char *image_cache_path(const ImageCache *c);

typedef struct ImageCacheEntry {
        char *dist, *release, *arch, *variant, *build;
        char *path;              /* the entry directory */
        uint64_t size;           /* bytes of its files */
        uint64_t last_used_usec; /* CLOCK_REALTIME; when it was last fetched or used */
} ImageCacheEntry;

/* Every complete entry, sorted by dist, release, arch, variant, build. */
int image_cache_list(ImageCache *c, ImageCacheEntry **ret, size_t *ret_n, WarrenError *reterr);
ImageCacheEntry *image_cache_entries_free(ImageCacheEntry *e, size_t n);

/* Removes one build, or every build of the image if build is NULL (spec's
 * arch and variant must be set). -ENOENT naming the image if nothing was
 * there. Takes the image's lock. */
int image_cache_remove(ImageCache *c, const ImageSpec *spec, const char *build, WarrenError *reterr);

/* Where a fetch by process pid builds its entry below cache_dir (the
 * directory given to image_cache_open()), for a parent cleaning up after a
 * killed child (spec fully set). NULL on ENOMEM. */
char *image_cache_temp_path(const char *cache_dir, const ImageSpec *spec, pid_t pid);

typedef enum ImagePhase {
        IMAGE_PHASE_INDEX,
        IMAGE_PHASE_META,   /* SHA256SUMS and meta.tar.xz */
        IMAGE_PHASE_ROOTFS, /* rootfs.tar.xz */
        IMAGE_PHASE_UNPACK,
        IMAGE_PHASE_CONFIGURE,
        IMAGE_PHASE_DONE,
        _IMAGE_PHASE_MAX,
} ImagePhase;

const char *image_phase_to_string(ImagePhase p);

/* Bytes of the current phase; a negative return cancels (-ECANCELED). */
typedef int (*ImagePhaseProgressFunc)(ImagePhase phase, uint64_t done, uint64_t total, void *userdata);

typedef struct ImageLimits {
        uint64_t index_max;  /* index and SHA256SUMS; 0: 1 MiB */
        uint64_t meta_max;   /* meta.tar.xz; 0: 16 MiB */
        uint64_t rootfs_max; /* rootfs.tar.xz; 0: 4 GiB */
} ImageLimits;

#define IMAGE_LIMIT_INDEX_DEFAULT (1ULL << 20)
#define IMAGE_LIMIT_META_DEFAULT (16ULL << 20)
#define IMAGE_LIMIT_ROOTFS_DEFAULT (4ULL << 30)

typedef struct ImageFetchParams {
        const char *server; /* --server: URL or host; NULL: IMAGE_SERVER_DEFAULT */
        ImageSpec spec;     /* arch NULL: the host's; variant NULL: "default" */
        ImageMode mode;     /* which index and meta files */
        bool no_verify;     /* skip SHA256SUMS (authorization is the caller's) */
        bool flush_cache;   /* drop cached builds of this image first */
        bool force_cache;   /* use a cached build even if expired, without the network */
        ImageLimits limits;
        ImageDownloadOptions
                download; /* timeouts, attempts, retry delay; max_size/progress are set per file */
        ImagePhaseProgressFunc progress;
        void *userdata;
} ImageFetchParams;

typedef struct ImageFetchResult {
        char *build;
        char *path;         /* the cache entry directory */
        int rootfs_fd;      /* its rootfs.tar.xz, opened while locked */
        ImageMeta *meta;    /* its meta files for the mode */
        bool downloaded;    /* the image files came over the network this time */
        bool index_fetched; /* the index was downloaded */
} ImageFetchResult;

#define IMAGE_FETCH_RESULT_NULL ((ImageFetchResult){ .rootfs_fd = -EBADF })
void image_fetch_result_done(ImageFetchResult *r);

/* Makes sure the newest build of the image is cached and returns it:
 *  1. unless flush_cache, a cached build is used without any download if
 *     force_cache is set or its expiry has not passed;
 *  2. else the index is fetched; if its newest build is cached, that is
 *     used (nothing else downloaded);
 *  3. else SHA256SUMS, meta.tar.xz and rootfs.tar.xz are downloaded,
 *     verified (-EBADE naming the file and both hashes), the meta checked
 *     (-EINVAL if it has no config for the mode), and the entry renamed
 *     into place. Nothing is cached on any failure. */
int image_cache_fetch(ImageCache *c, const ImageFetchParams *p, ImageFetchResult *ret, WarrenError *reterr);
