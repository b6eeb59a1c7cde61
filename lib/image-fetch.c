/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_cache_fetch(): from a server's index to a verified cache entry,
 * downloading without the image's lock (image-cache.h explains the
 * layout and the locks). Runs in the forked image job. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "image-cache-private.h"
#include "image-index-fetch.h"
#include "image-verify.h"
#include "log.h"
#include "store.h"
#include "strv.h"

#define GNUPG_DIR "gnupg"
#define LOCK_POLL_USEC 100000U

void image_fetch_result_done(ImageFetchResult *r) {
        if (!r)
                return;
        free(r->build);
        free(r->path);
        safe_close(r->rootfs_fd);
        image_meta_free(r->meta);
        *r = IMAGE_FETCH_RESULT_NULL;
}

typedef struct Fetch {
        ImageCache *cache;
        const ImageFetchParams *p;
        ImageSpec spec; /* arch and variant resolved */
        ImageOrigin origin;
        char *server; /* canonical */
        char *vrel;   /* the variant directory below images/ */
        int vdirfd;
        char tmp[64]; /* ".#pull-<pid>" */
        int tfd;      /* the temporary, flocked while we live; -EBADF until made */
        ImageVerifier *verifier;
        ImagePhase phase;
} Fetch;

static void fetch_done(Fetch *f) {
        if (f->tfd >= 0) {
                f->tfd = safe_close(f->tfd);
                (void) rm_rf_at(f->vdirfd, f->tmp);
        }
        f->verifier = image_verifier_free(f->verifier);
        safe_close(f->vdirfd);
        free(f->server);
        free(f->vrel);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int fetch_progress(uint64_t done, uint64_t total, void *userdata) {
        Fetch *f = userdata;
        return f->p->progress ? f->p->progress(f->phase, done, total, f->p->userdata) : 0;
}

static ImageDownloadOptions download_options(Fetch *f, uint64_t max_size) {
        ImageDownloadOptions o = f->p->download;
        o.max_size = max_size;
        o.progress = fetch_progress;
        o.userdata = f;
        return o;
}

/* Hands e's error to reterr (unless one is recorded there already). */
static void error_pass(WarrenError *reterr, WarrenError *e) {
        if (reterr && reterr->error == 0) {
                *reterr = *e;
                *e = WARREN_ERROR_NULL;
        } else
                warren_error_clear(e);
}

static bool want_signatures(const Fetch *f) {
        return f->p->keyring && !f->p->no_verify;
}

static int touch_at(int dirfd, const char *name) {
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || futimens(fd, NULL) < 0)
                return -errno;
        return 0;
}

static int lock_entries(Fetch *f, int *ret_fd, WarrenError *reterr) {
        int r = image_cache_lock(f->vdirfd, IMAGE_CACHE_LOCK, true, ret_fd);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to lock '%s/%s/" IMAGE_CACHE_LOCK "': %s",
                                        f->cache->path, f->vrel, strerror(-r));
        return 0;
}

/* ---- cached entries (callers hold ".lock") ---- */

static int load_entry_meta(Fetch *f, const char *build, ImageMeta **ret, WarrenError *reterr) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int mfd = -EBADF;
        if (asprintf(&p, "%s/" IMAGE_CACHE_META_DIR, build) < 0)
                return -ENOMEM;
        mfd = openat(f->vdirfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd < 0)
                return warren_error_set(reterr, errno, "Failed to open cached '%s/%s': %m", f->vrel, p);
        return image_meta_load(mfd, f->p->mode, ret, reterr);
}

/* Opens a cached build into ret. A build whose meta is refused is removed,
 * so it cannot block later fetches: 0 then; 1 if used. */
static int use_entry(Fetch *f, const char *build, ImageFetchResult *ret, WarrenError *reterr) {
        _cleanup_close_ int efd = -EBADF, rfd = -EBADF;
        _cleanup_image_meta_ ImageMeta *meta = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *b = strdup(build);
        struct stat st;
        int r;

        if (!b || asprintf(&path, "%s/%s/%s", f->cache->path, f->vrel, build) < 0)
                return -ENOMEM;
        if (fstatat(f->vdirfd, build, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        r = load_entry_meta(f, build, &meta, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_debug("Removing cached build '%s': its meta is refused: %s", path,
                          warren_error_message(&e));
                r = rm_rf_at(f->vdirfd, build);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to remove refused cached build '%s': %s",
                                                path, strerror(-r));
                return 0;
        }
        efd = openat(f->vdirfd, build, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (efd < 0)
                return warren_error_set(reterr, errno, "Failed to open cached image '%s': %m", path);
        rfd = openat(efd, IMAGE_CACHE_ROOTFS, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (rfd < 0 && errno == ENOENT) {
                log_debug("Removing cached build '%s': no " IMAGE_CACHE_ROOTFS, path);
                (void) rm_rf_at(f->vdirfd, build);
                return 0;
        }
        if (rfd < 0)
                return warren_error_set(reterr, errno, "Failed to open '%s/" IMAGE_CACHE_ROOTFS "': %m",
                                        path);
        (void) touch_at(efd, IMAGE_CACHE_LAST_USED);
        free(ret->build);
        free(ret->path);
        safe_close(ret->rootfs_fd);
        image_meta_free(ret->meta);
        ret->build = TAKE_PTR(b);
        ret->path = TAKE_PTR(path);
        ret->rootfs_fd = TAKE_FD(rfd);
        ret->meta = TAKE_PTR(meta);
        return 1;
}

/* When a cached build was downloaded (its meta.tar.xz's mtime). */
static uint64_t entry_downloaded(Fetch *f, const char *build) {
        _cleanup_free_ char *p = NULL;
        struct stat st;
        if (asprintf(&p, "%s/" IMAGE_CACHE_META, build) < 0 ||
            fstatat(f->vdirfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        return (uint64_t) st.st_mtim.tv_sec;
}

/* The newest usable cached build: any (force_cache) or one whose capped
 * expiry has not passed (fresh_only). 1 if ret was filled. */
static int use_newest_cached(Fetch *f, bool fresh_only, ImageFetchResult *ret, WarrenError *reterr) {
        _cleanup_close_ int lockfd = -EBADF;
        _cleanup_strv_free_ char **builds = NULL;
        int r = lock_entries(f, &lockfd, reterr);
        if (r < 0)
                return r;
        r = image_cache_list_builds(f->vdirfd, &builds);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the image cache: %s", strerror(-r));
        for (size_t i = strv_length(builds); i > 0; i--) {
                const char *b = builds[i - 1];
                if (fresh_only) {
                        _cleanup_image_meta_ ImageMeta *meta = NULL;
                        uint64_t cap = entry_downloaded(f, b) + IMAGE_EXPIRY_CAP_SEC,
                                 now = (uint64_t) time(NULL);
                        if (load_entry_meta(f, b, &meta, NULL) < 0)
                                continue;
                        if (now >= MIN(meta->has_expiry ? meta->expiry : cap, cap))
                                return 0; /* the newest has expired: nothing older will do */
                }
                r = use_entry(f, b, ret, reterr);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int use_cached(Fetch *f, const char *build, ImageFetchResult *ret, WarrenError *reterr) {
        _cleanup_close_ int lockfd = -EBADF;
        int r = lock_entries(f, &lockfd, reterr);
        return r < 0 ? r : use_entry(f, build, ret, reterr);
}

static void remove_other_builds(Fetch *f, const char *keep) {
        _cleanup_strv_free_ char **builds = NULL;
        if (image_cache_list_builds(f->vdirfd, &builds) < 0)
                return;
        STRV_FOREACH(b, builds)
                if (!keep || !streq(*b, keep)) {
                        log_debug("Removing cached build '%s/%s'", f->vrel, *b);
                        (void) rm_rf_at(f->vdirfd, *b);
                }
}

/* ---- the temporary and the download lock ---- */

static int make_temp(Fetch *f, WarrenError *reterr) {
        _cleanup_close_ int lockfd = -EBADF;
        int r = lock_entries(f, &lockfd, reterr);
        if (r < 0)
                return r;
        /* Holding the lock: a temporary nobody holds is from a fetch that died. */
        image_cache_remove_stale(f->vdirfd);
        snprintf(f->tmp, sizeof f->tmp, IMAGE_CACHE_TEMP_PREFIX "%d", (int) getpid());
        (void) rm_rf_at(f->vdirfd, f->tmp);
        if (mkdirat(f->vdirfd, f->tmp, 0700) < 0)
                return warren_error_set(reterr, errno, "Failed to create cache temporary '%s/%s': %m",
                                        f->vrel, f->tmp);
        f->tfd = openat(f->vdirfd, f->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (f->tfd < 0 || flock(f->tfd, LOCK_EX | LOCK_NB) < 0) {
                r = warren_error_set(reterr, errno, "Failed to take cache temporary '%s/%s': %m", f->vrel,
                                     f->tmp);
                f->tfd = safe_close(f->tfd);
                (void) rm_rf_at(f->vdirfd, f->tmp);
                return r;
        }
        return 0;
}

/* Bytes in the other fetches' temporaries of this image. */
static uint64_t others_bytes(Fetch *f) {
        uint64_t total = 0;
        _cleanup_close_ int dfd = openat(f->vdirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(TAKE_FD(dfd)) : NULL;
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (strncmp(de->d_name, IMAGE_CACHE_TEMP_PREFIX, strlen(IMAGE_CACHE_TEMP_PREFIX)) != 0 ||
                    streq(de->d_name, f->tmp))
                        continue;
                _cleanup_close_ int t =
                        openat(f->vdirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                const char *files[] = { IMAGE_CACHE_SUMS, IMAGE_CACHE_META, IMAGE_CACHE_ROOTFS };
                for (size_t i = 0; t >= 0 && i < ELEMENTSOF(files); i++) {
                        struct stat st;
                        if (fstatat(t, files[i], &st, AT_SYMLINK_NOFOLLOW) >= 0)
                                total += (uint64_t) st.st_size + 1; /* +1: a file appearing counts */
                }
        }
        closedir(d);
        return total;
}

/* Waits while another fetch downloads this image, so both use one
 * transfer; but only while that transfer moves: after the stall timeout
 * without a byte, we download ourselves. 1: we hold the download lock
 * (*ret_fd), 0: we go on without it. */
static int wait_download(Fetch *f, int *ret_fd, WarrenError *reterr) {
        uint64_t stall = (uint64_t) (f->p->download.low_speed_time_s ?: 30) * 1000000ULL;
        uint64_t last = UINT64_MAX, since = now_usec();
        bool waited = false;

        f->phase = IMAGE_PHASE_META;
        for (;;) {
                int r = image_cache_lock(f->vdirfd, IMAGE_CACHE_DOWNLOAD, false, ret_fd);
                if (r >= 0)
                        return 1;
                if (r != -EBUSY)
                        return warren_error_set(reterr, r,
                                                "Failed to lock '%s/%s/" IMAGE_CACHE_DOWNLOAD "': %s",
                                                f->cache->path, f->vrel, strerror(-r));
                if (!waited)
                        log_debug("Another fetch downloads %s: waiting for it", f->vrel);
                waited = true;
                uint64_t b = others_bytes(f), t = now_usec();
                if (b != last) {
                        last = b;
                        since = t;
                } else if (t - since >= stall) {
                        log_debug("The other download of %s stalled: downloading ourselves", f->vrel);
                        return 0;
                }
                if (fetch_progress(0, 0, f) < 0)
                        return warren_error_set(reterr, ECANCELED, "Image pull canceled");
                usleep(LOCK_POLL_USEC);
        }
}

/* ---- downloads ---- */

/* url's body into a buffer; *ret_status is the HTTP status (404: absent). */
static int fetch_buffer(Fetch *f, const char *url, uint64_t max, char **ret, size_t *ret_size,
                        long *ret_status, WarrenError *reterr) {
        ImageDownloadOptions o = download_options(f, max);
        ImageDownloadResult res = {};
        int r = image_download_buffer(url, &o, ret, ret_size, &res, reterr);
        if (ret_status)
                *ret_status = res.http_status;
        return r;
}

static int verifier(Fetch *f, ImageVerifier **ret, WarrenError *reterr) {
        _cleanup_free_ char *home = NULL;
        if (!f->verifier) {
                if (asprintf(&home, "%s/%s/%s/" GNUPG_DIR, f->cache->path, f->vrel, f->tmp) < 0)
                        return -ENOMEM;
                int r = image_verifier_new(f->p->keyring, home, &f->verifier, reterr);
                if (r < 0)
                        return r;
        }
        *ret = f->verifier;
        return 0;
}

/* Fetches <url>.asc and checks it over the file data_fd or the buffer.
 * Absent (404): -ENOENT without a message, for the caller to decide. */
static int check_signature(Fetch *f, const char *url, const char *what, int data_fd, const char *data,
                           size_t size, WarrenError *reterr) {
        _cleanup_free_ char *sig_url = NULL, *sig = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        ImageVerifier *v;
        size_t sig_size = 0;
        long status = 0;
        int r;

        if (asprintf(&sig_url, "%s.asc", url) < 0)
                return -ENOMEM;
        r = fetch_buffer(f, sig_url, IMAGE_SIGNATURE_MAX, &sig, &sig_size, &status, &e);
        if (r < 0 && status == 404)
                return -ENOENT;
        if (r < 0) {
                error_pass(reterr, &e);
                return r;
        }
        r = verifier(f, &v, reterr);
        if (r < 0)
                return r;
        return image_verifier_check(v, data_fd, data, size, sig, sig_size, what, reterr);
}

static int not_signed(Fetch *f, const char *what, const char *alternatives, WarrenError *reterr) {
        return warren_error_set(reterr, EBADE,
                                "Verification of '%s' failed: it is not signed (the server has no %s) and "
                                "this server's images must be signed by a key of keyring '%s'",
                                what, alternatives, f->p->keyring);
}

static int fetch_index(Fetch *f, char **ret_build, char **ret_path, WarrenError *reterr) {
        _cleanup_image_index_ ImageIndex *idx = NULL;
        _cleanup_free_ char *text = NULL;
        const ImageIndexEntry *entry;
        ImageIndexFetchParams ip = {
                .server = f->server,
                .mode = f->p->mode,
                .download = download_options(f, f->p->limits.index_max ?: IMAGE_LIMIT_INDEX_DEFAULT),
                .keyring = f->p->keyring,
        };
        size_t size = 0;
        int r;

        f->phase = IMAGE_PHASE_INDEX;
        if (want_signatures(f)) {
                r = verifier(f, &ip.verifier, reterr);
                if (r < 0)
                        return r;
        }
        r = image_index_fetch(&ip, &text, &size, NULL, reterr);
        if (r < 0)
                return r;
        r = image_index_parse(text, size, &idx, reterr);
        if (r < 0)
                return r;
        r = image_index_find(idx, &f->spec, &entry, reterr);
        if (r < 0)
                return r;
        *ret_build = strdup(entry->build);
        *ret_path = strdup(entry->path);
        if (!*ret_build || !*ret_path)
                return -ENOMEM;
        return 0;
}

static int download_file(Fetch *f, const char *dir, const char *file, uint64_t max, const Sha256Sums *sums,
                         bool sign_each, WarrenError *reterr) {
        _cleanup_free_ char *url = image_url_join(dir, file);
        _cleanup_close_ int fd = -EBADF;
        ImageDownloadOptions o = download_options(f, max);
        ImageDownloadResult res = {};
        int r;

        if (!url)
                return -ENOMEM;
        fd = openat(f->tfd, file, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to create '%s' in the cache: %m", file);
        r = image_download_fd(url, fd, &o, &res, reterr);
        if (r < 0)
                return r;
        if (sums) {
                r = sha256sums_verify(sums, file, res.sha256, reterr);
                if (r < 0)
                        return r;
        }
        if (sign_each) {
                r = check_signature(f, url, file, fd, NULL, 0, reterr);
                if (r == -ENOENT) {
                        _cleanup_free_ char *alt = NULL;
                        if (asprintf(&alt, IMAGE_CACHE_SUMS ".asc nor %s.asc", file) < 0)
                                return -ENOMEM;
                        return not_signed(f, file, alt, reterr);
                }
                if (r < 0)
                        return r;
        }
        /* Cached files are not hashed again: they must survive a crash whole. */
        if (fsync(fd) < 0)
                return warren_error_set(reterr, errno, "Failed to sync '%s' in the cache: %m", file);
        return 0;
}

/* SHA256SUMS, and with a keyring its signature. *ret_signed: the
 * signature covered it (else each file needs its own). */
static int fetch_sums(Fetch *f, const char *dir, Sha256Sums **ret, bool *ret_signed, WarrenError *reterr) {
        const ImageLimits *l = &f->p->limits;
        _cleanup_free_ char *url = image_url_join(dir, IMAGE_CACHE_SUMS), *text = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        size_t size = 0;
        long status = 0;
        int r;

        *ret = NULL;
        *ret_signed = false;
        if (!url)
                return -ENOMEM;
        r = fetch_buffer(f, url, l->index_max ?: IMAGE_LIMIT_INDEX_DEFAULT, &text, &size, &status, &e);
        /* With signatures on each file, SHA256SUMS may be absent (LXC's way). */
        if (r < 0 && status == 404 && want_signatures(f))
                return 0;
        if (r < 0) {
                error_pass(reterr, &e);
                return r;
        }
        if (want_signatures(f)) {
                r = check_signature(f, url, IMAGE_CACHE_SUMS, -EBADF, text, size, reterr);
                if (r >= 0)
                        *ret_signed = true;
                else if (r != -ENOENT)
                        return r;
        }
        r = sha256sums_parse(text, size, ret, reterr);
        if (r >= 0)
                r = write_file_atomic_at(f->tfd, IMAGE_CACHE_SUMS, text, size, 0644);
        return r;
}

static int download_entry(Fetch *f, const char *image_path, WarrenError *reterr) {
        const ImageLimits *l = &f->p->limits;
        _cleanup_free_ char *dir = image_url_join(f->server, image_path);
        _cleanup_sha256sums_ Sha256Sums *sums = NULL;
        _cleanup_close_ int mfd = -EBADF, metafd = -EBADF;
        _cleanup_image_meta_ ImageMeta *meta = NULL;
        bool sums_signed = false;
        int r;

        if (!dir)
                return -ENOMEM;
        f->phase = IMAGE_PHASE_META;
        if (!f->p->no_verify) {
                r = fetch_sums(f, dir, &sums, &sums_signed, reterr);
                if (r < 0)
                        return r;
        }
        bool sign_each = want_signatures(f) && !sums_signed;
        r = download_file(f, dir, IMAGE_CACHE_META, l->meta_max ?: IMAGE_LIMIT_META_DEFAULT, sums, sign_each,
                          reterr);
        if (r < 0)
                return r;
        /* Check the meta before the big download: an image without a config
         * for this mode is refused early. */
        if (mkdirat(f->tfd, IMAGE_CACHE_META_DIR, 0755) < 0)
                return warren_error_set(reterr, errno, "Failed to create '%s/" IMAGE_CACHE_META_DIR "': %m",
                                        f->tmp);
        mfd = openat(f->tfd, IMAGE_CACHE_META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        metafd = openat(f->tfd, IMAGE_CACHE_META, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd < 0 || metafd < 0)
                return warren_error_set(reterr, errno, "Failed to open the downloaded meta: %m");
        r = image_meta_extract(metafd, mfd, reterr);
        if (r >= 0)
                r = image_meta_load(mfd, f->p->mode, &meta, reterr);
        if (r < 0)
                return r;

        f->phase = IMAGE_PHASE_ROOTFS;
        return download_file(f, dir, IMAGE_CACHE_ROOTFS, l->rootfs_max ?: IMAGE_LIMIT_ROOTFS_DEFAULT, sums,
                             sign_each, reterr);
}

/* Renames our temporary into place as build (unless someone else's copy
 * got there first: then that one is used) and opens it into ret. */
static int publish(Fetch *f, const char *build, ImageFetchResult *ret, WarrenError *reterr) {
        _cleanup_close_ int lockfd = -EBADF;
        int r;

        f->verifier = image_verifier_free(f->verifier);
        (void) rm_rf_at(f->tfd, GNUPG_DIR);
        if (fsync(f->tfd) < 0)
                return warren_error_set(reterr, errno, "Failed to sync '%s/%s': %m", f->vrel, f->tmp);
        r = lock_entries(f, &lockfd, reterr);
        if (r < 0)
                return r;
        if (renameat2(f->vdirfd, f->tmp, f->vdirfd, build, RENAME_NOREPLACE) < 0) {
                if (errno != EEXIST)
                        return warren_error_set(reterr, errno,
                                                "Failed to move the image into the cache as '%s/%s': %m",
                                                f->vrel, build);
                log_debug("Build '%s/%s' was cached meanwhile: using that copy", f->vrel, build);
        } else
                f->tfd = safe_close(f->tfd); /* it is the entry now */
        remove_other_builds(f, build);
        r = use_entry(f, build, ret, reterr);
        if (r == 0)
                return warren_error_set(reterr, EINVAL, "The image's meta was refused once cached: '%s/%s'",
                                        f->vrel, build);
        return r < 0 ? r : 0;
}

static int fetch_setup(ImageCache *c, const ImageFetchParams *p, Fetch *f, WarrenError *reterr) {
        int r;
        if (!f->spec.variant)
                f->spec.variant = IMAGE_VARIANT_DEFAULT;
        if (!f->spec.arch) {
                r = image_host_arch(&f->spec.arch, reterr);
                if (r < 0)
                        return r;
        }
        r = image_spec_validate(&f->spec, reterr);
        if (r < 0)
                return r;
        if (p->keyring && p->keyring[0] != '/')
                return warren_error_set(reterr, EINVAL, "Invalid keyring '%s': must be an absolute path",
                                        p->keyring);
        r = image_server_url(p->origin.server ?: IMAGE_SERVER_DEFAULT, &f->server, reterr);
        if (r < 0)
                return r;
        f->origin.server = f->server;
        r = image_cache_variant_rel(&f->origin, &f->spec, &f->vrel, reterr);
        if (r < 0)
                return r;
        return image_cache_open_variant(c, f->vrel, &f->vdirfd, reterr);
}

int image_cache_fetch(ImageCache *c, const ImageFetchParams *p, ImageFetchResult *ret, WarrenError *reterr) {
        _cleanup_(fetch_done) Fetch f = {
                .cache = c, .p = p, .spec = p->spec, .origin = p->origin, .vdirfd = -EBADF, .tfd = -EBADF
        };
        _cleanup_free_ char *build = NULL, *image_path = NULL;
        _cleanup_close_ int dlfd = -EBADF;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        int r;

        *ret = IMAGE_FETCH_RESULT_NULL;
        r = fetch_setup(c, p, &f, reterr);
        if (r < 0)
                return r;
        ret->signed_ = want_signatures(&f);

        if (p->force_cache && !p->flush_cache) {
                r = use_newest_cached(&f, false, ret, reterr);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if (p->flush_cache) {
                _cleanup_close_ int lockfd = -EBADF;
                r = lock_entries(&f, &lockfd, reterr);
                if (r < 0)
                        return r;
                remove_other_builds(&f, NULL);
        }
        r = make_temp(&f, reterr);
        if (r < 0)
                return r;
        if (want_signatures(&f)) {
                /* A keyring that cannot be used fails first, naming it. */
                ImageVerifier *v;
                r = verifier(&f, &v, reterr);
                if (r < 0)
                        return r;
        }

        /* A cached build never keeps us from asking the server. */
        r = fetch_index(&f, &build, &image_path, &e);
        if (r == -ECOMM && !p->flush_cache) {
                int k = use_newest_cached(&f, true, ret, reterr);
                if (k != 0) {
                        if (k > 0)
                                log_debug("Server unreachable (%s): using cached build '%s'",
                                          warren_error_message(&e), ret->build);
                        ret->offline = k > 0;
                        return k < 0 ? k : 0;
                }
        }
        if (r < 0) {
                error_pass(reterr, &e);
                return r;
        }
        ret->index_fetched = true;

        r = use_cached(&f, build, ret, reterr);
        if (r != 0)
                return r < 0 ? r : 0;
        /* One transfer per image and server: wait for a fetch already at it. */
        r = wait_download(&f, &dlfd, reterr);
        if (r < 0)
                return r;
        if (r > 0) {
                r = use_cached(&f, build, ret, reterr);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        r = download_entry(&f, image_path, reterr);
        if (r < 0)
                return r;
        r = publish(&f, build, ret, reterr);
        if (r < 0)
                return r;
        ret->downloaded = true;
        ret->index_fetched = true;
        return 0;
}
