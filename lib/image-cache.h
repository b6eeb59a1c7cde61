/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The image cache, keyed by where a build came from:
 *
 *   <cache-dir>/images/<partition>/<server>/<dist>/<release>/<arch>/<variant>/<build>/
 *
 * <partition> is "shared" (root's downloads, and users' downloads from
 * remotes the administrator listed for them) or "uid-<N>" (a non-root
 * caller's downloads from a server that is not a listed remote: nobody else,
 * root included, ever uses them). <server> is the canonical server URL
 * (image_server_url()) percent-escaped, so a fetch from server S only ever
 * finds builds that came from S. An entry holds the verified rootfs.tar.xz,
 * meta.tar.xz, SHA256SUMS (and signatures), the unpacked meta files in
 * meta/ and a last-used stamp.
 *
 * Locks, per <variant> directory: ".lock" (flock) is held only for short
 * steps on the entries (publish, use, remove); ".download" is held while
 * one fetch downloads, so a second fetch of the same image from the same
 * server in the same partition waits for that transfer instead of
 * repeating it — but never longer than the transfer keeps moving (the
 * stall timeout), and fetches from other servers never wait at all. A
 * download goes into its own temporary directory (".#pull-<pid>", flocked
 * by its fetch so that leftovers of dead fetches are told apart) and is
 * renamed into place, whole and verified, under ".lock". After a new build
 * is cached, older builds of the same image are removed (LXC keeps one
 * too). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "image-download.h"
#include "image-index.h"
#include "image-meta.h"

#define IMAGE_CACHE_SHARED "shared"
#define IMAGE_CACHE_USER_PREFIX "uid-"
/* An image server's "expiry" is believed for at most this long after the
 * download; it only decides whether a cached build may stand in when the
 * server cannot be reached. */
#define IMAGE_EXPIRY_CAP_SEC (30U * 86400U)

/* Where cached builds came from and who may use them. */
typedef struct ImageOrigin {
        const char *server; /* canonical URL; NULL: IMAGE_SERVER_DEFAULT */
        bool user;          /* a user's own partition (an ad-hoc server of a non-root caller) */
        uid_t uid;          /* whose, if user (never 0) */
} ImageOrigin;

typedef struct ImageCache ImageCache;

/* Opens (creating, mode 0755) <cache_dir>/images. */
int image_cache_open(const char *cache_dir, ImageCache **ret, WarrenError *reterr);
ImageCache *image_cache_free(ImageCache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageCache *, image_cache_free);
#define _cleanup_image_cache_ _cleanup_(image_cache_freep)
/* "<cache_dir>/images" */
const char *image_cache_path(const ImageCache *c);

typedef struct ImageCacheEntry {
        char *server; /* canonical URL */
        bool user;    /* in uid's own partition */
        uid_t uid;
        char *dist, *release, *arch, *variant, *build;
        char *path;              /* the entry directory */
        uint64_t size;           /* bytes of its files */
        uint64_t last_used_usec; /* CLOCK_REALTIME; when it was last fetched or used */
} ImageCacheEntry;

/* Every complete entry of every partition, sorted by partition, server,
 * dist, release, arch, variant, build. */
int image_cache_list(ImageCache *c, ImageCacheEntry **ret, size_t *ret_n, WarrenError *reterr);
ImageCacheEntry *image_cache_entries_free(ImageCacheEntry *e, size_t n);

/* Removes one build, or every build of the image if build is NULL (spec's
 * arch and variant must be set). -ENOENT naming the image if nothing was
 * there. Takes the image's ".lock" without waiting: -EBUSY if a fetch
 * holds it (the caller may be an event loop). */
int image_cache_remove(ImageCache *c, const ImageOrigin *origin, const ImageSpec *spec, const char *build,
                       WarrenError *reterr);

/* Percent-escapes a canonical server URL into the directory name that
 * keys it (NULL on ENOMEM or if longer than NAME_MAX), and back (NULL if
 * name is not one). */
char *image_cache_server_dirname(const char *url);
char *image_cache_server_from_dirname(const char *name);
/* "shared" or "uid-<N>"; NULL on ENOMEM. */
char *image_cache_partition_name(const ImageOrigin *origin);
/* The image's <variant> directory below cache_dir (the directory given to
 * image_cache_open(); spec fully set), and where a fetch by process pid
 * downloads in it, for a parent cleaning up after a killed child. NULL on
 * ENOMEM or a bad origin. */
char *image_cache_variant_path(const char *cache_dir, const ImageOrigin *origin, const ImageSpec *spec);
char *image_cache_temp_path(const char *cache_dir, const ImageOrigin *origin, const ImageSpec *spec,
                            pid_t pid);

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
        ImageOrigin origin;  /* the server (URL or host) and the cache partition */
        const char *keyring; /* OpenPGP keys that must have signed the index and files; NULL: none */
        ImageSpec spec;      /* arch NULL: the host's; variant NULL: "default" */
        ImageMode mode;      /* which index and meta files */
        bool no_verify;      /* skip SHA256SUMS and signatures (authorization is the caller's) */
        bool flush_cache;    /* drop cached builds of this image first */
        bool force_cache;    /* use a cached build, however old, without the network */
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
        bool offline;       /* the server could not be reached: a cached build within its expiry */
        bool signed_;       /* its files were checked against the keyring */
} ImageFetchResult;

#define IMAGE_FETCH_RESULT_NULL ((ImageFetchResult){ .rootfs_fd = -EBADF })
void image_fetch_result_done(ImageFetchResult *r);

/* Makes sure the newest build of the image from origin's server is cached
 * in origin's partition and returns it:
 *  1. with force_cache (and not flush_cache), the newest cached build is
 *     used without the network;
 *  2. else the server's index is fetched (and, with a keyring, its
 *     signature checked); a cached build never keeps us from asking. If the
 *     server cannot be reached (-ECOMM), the newest cached build whose
 *     expiry (capped at IMAGE_EXPIRY_CAP_SEC after its download) has not
 *     passed stands in;
 *  3. if the index's newest build is cached and its meta loads, it is used;
 *     a cached build whose meta is refused is removed;
 *  4. else SHA256SUMS, meta.tar.xz and rootfs.tar.xz are downloaded into
 *     the fetch's own temporary directory, without the image's lock, and
 *     verified: hashes (-EBADE naming the file and both hashes), and with a
 *     keyring the OpenPGP signature of SHA256SUMS (SHA256SUMS.asc) or else
 *     of each file (<file>.asc) (-EBADE naming the file); the meta is
 *     checked (-EINVAL if it has no config for the mode); then the entry is
 *     renamed into place. Nothing is cached on any failure. */
int image_cache_fetch(ImageCache *c, const ImageFetchParams *p, ImageFetchResult *ret, WarrenError *reterr);
