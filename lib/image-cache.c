/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
#include "image-cache.h"
#include "log.h"
#include "store.h"
#include "strv.h"

#define LOCK_FILE ".lock"
#define TEMP_PREFIX ".#pull-"
#define ROOTFS_FILE "rootfs.tar.xz"
#define META_FILE "meta.tar.xz"
#define SUMS_FILE "SHA256SUMS"
#define META_DIR "meta"
#define LAST_USED_FILE "last-used"

struct ImageCache {
        char *path;
        int dirfd;
};

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

const char *image_phase_to_string(ImagePhase p) {
        static const char *const names[_IMAGE_PHASE_MAX] = {
                [IMAGE_PHASE_INDEX] = "index",         [IMAGE_PHASE_META] = "meta",
                [IMAGE_PHASE_ROOTFS] = "rootfs",       [IMAGE_PHASE_UNPACK] = "unpack",
                [IMAGE_PHASE_CONFIGURE] = "configure", [IMAGE_PHASE_DONE] = "done",
        };
        return (unsigned) p < _IMAGE_PHASE_MAX ? names[p] : NULL;
}

int image_cache_open(const char *cache_dir, ImageCache **ret, WarrenError *reterr) {
        _cleanup_free_ ImageCache *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        if (isempty(cache_dir) || cache_dir[0] != '/')
                return warren_error_set(reterr, EINVAL,
                                        "Invalid cache directory '%s': must be an absolute path",
                                        strempty(cache_dir));
        if (asprintf(&c->path, "%s/images", streq(cache_dir, "/") ? "" : cache_dir) < 0)
                return -ENOMEM;
        r = mkdir_p(c->path, 0755);
        if (r < 0) {
                r = warren_error_set(reterr, r, "Failed to create image cache '%s': %s", c->path,
                                     strerror(-r));
                free(c->path);
                return r;
        }
        c->dirfd = open(c->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->dirfd < 0) {
                r = warren_error_set(reterr, errno, "Failed to open image cache '%s': %m", c->path);
                free(c->path);
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

ImageCache *image_cache_free(ImageCache *c) {
        if (!c)
                return NULL;
        safe_close(c->dirfd);
        free(c->path);
        free(c);
        return NULL;
}

const char *image_cache_path(const ImageCache *c) {
        return c->path;
}

static char *variant_rel(const ImageSpec *s) {
        char *p = NULL;
        if (asprintf(&p, "%s/%s/%s/%s", s->dist, s->release, s->arch, s->variant ?: IMAGE_VARIANT_DEFAULT) <
            0)
                return NULL;
        return p;
}

char *image_cache_temp_path(const char *cache_dir, const ImageSpec *spec, pid_t pid) {
        _cleanup_free_ char *rel = variant_rel(spec);
        char *p = NULL;
        if (!rel || asprintf(&p, "%s/images/%s/" TEMP_PREFIX "%d", streq(cache_dir, "/") ? "" : cache_dir,
                             rel, (int) pid) < 0)
                return NULL;
        return p;
}

/* Opens (creating) the image's variant directory and takes its lock. */
static int lock_variant(ImageCache *c, const ImageSpec *spec, int *ret_dirfd, int *ret_lockfd,
                        WarrenError *reterr) {
        _cleanup_free_ char *rel = variant_rel(spec), *abs = NULL;
        _cleanup_close_ int dfd = -EBADF, lfd = -EBADF;
        int r;

        if (!rel || asprintf(&abs, "%s/%s", c->path, rel) < 0)
                return -ENOMEM;
        r = mkdir_p(abs, 0755);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create cache directory '%s': %s", abs,
                                        strerror(-r));
        dfd = openat(c->dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return warren_error_set(reterr, errno, "Failed to open cache directory '%s': %m", abs);
        lfd = openat(dfd, LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lfd < 0)
                return warren_error_set(reterr, errno, "Failed to open cache lock '%s/" LOCK_FILE "': %m",
                                        abs);
        while (flock(lfd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return warren_error_set(reterr, errno, "Failed to lock '%s/" LOCK_FILE "': %m", abs);
        *ret_dirfd = TAKE_FD(dfd);
        *ret_lockfd = TAKE_FD(lfd);
        return 0;
}

typedef enum WalkFilter {
        WALK_BUILDS, /* complete entries */
        WALK_TEMPS,  /* leftovers of fetches that died */
} WalkFilter;

/* Names in dirfd matching filter; sorted (builds: oldest first). */
static int list_names(int dirfd, WalkFilter filter, char ***ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((errno = 0, de = readdir(d))) {
                bool want = filter == WALK_TEMPS ? strncmp(de->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0
                                                 : image_name_validate("build", de->d_name, NULL) >= 0;
                if (!want || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
                        continue;
                if (strv_extend(&l, de->d_name) < 0)
                        return -ENOMEM;
        }
        if (errno > 0)
                return -errno;
        size_t n = strv_length(l);
        for (size_t i = 1; i < n; i++) /* insertion sort: few builds */
                for (size_t k = i; k > 0 && image_build_compare(l[k - 1], l[k]) > 0; k--) {
                        char *t = l[k];
                        l[k] = l[k - 1];
                        l[k - 1] = t;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

static void remove_stale(int vdirfd) {
        _cleanup_strv_free_ char **temps = NULL;
        if (list_names(vdirfd, WALK_TEMPS, &temps) < 0)
                return;
        STRV_FOREACH(t, temps) {
                log_debug("Removing stale cache temporary '%s'", *t);
                (void) rm_rf_at(vdirfd, *t);
        }
}

static int touch_at(int dirfd, const char *name) {
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || futimens(fd, NULL) < 0)
                return -errno;
        return 0;
}

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
        char *server;
        int vdirfd;
        ImagePhase phase;
} Fetch;

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

/* Loads the meta of a cached build and opens its rootfs into ret. */
static int use_entry(Fetch *f, const char *build, bool downloaded, bool index_fetched, ImageFetchResult *ret,
                     WarrenError *reterr) {
        _cleanup_close_ int efd = -EBADF, mfd = -EBADF, rfd = -EBADF;
        _cleanup_image_meta_ ImageMeta *meta = NULL;
        _cleanup_free_ char *rel = variant_rel(&f->spec), *path = NULL, *b = strdup(build);
        int r;

        if (!rel || !b || asprintf(&path, "%s/%s/%s", f->cache->path, rel, build) < 0)
                return -ENOMEM;
        efd = openat(f->vdirfd, build, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (efd < 0)
                return warren_error_set(reterr, errno, "Failed to open cached image '%s': %m", path);
        mfd = openat(efd, META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd < 0)
                return warren_error_set(reterr, errno, "Failed to open '%s/" META_DIR "': %m", path);
        r = image_meta_load(mfd, f->p->mode, &meta, reterr);
        if (r < 0)
                return r;
        rfd = openat(efd, ROOTFS_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (rfd < 0)
                return warren_error_set(reterr, errno, "Failed to open '%s/" ROOTFS_FILE "': %m", path);
        (void) touch_at(efd, LAST_USED_FILE);

        *ret = (ImageFetchResult){
                .build = TAKE_PTR(b),
                .path = TAKE_PTR(path),
                .rootfs_fd = TAKE_FD(rfd),
                .meta = TAKE_PTR(meta),
                .downloaded = downloaded,
                .index_fetched = index_fetched,
        };
        return 0;
}

static int fetch_index(Fetch *f, char **ret_build, char **ret_path, WarrenError *reterr) {
        const ImageLimits *l = &f->p->limits;
        ImageDownloadOptions o = download_options(f, l->index_max ?: IMAGE_LIMIT_INDEX_DEFAULT);
        _cleanup_image_index_ ImageIndex *idx = NULL;
        _cleanup_free_ char *text = NULL;
        const ImageIndexEntry *entry;
        size_t size = 0;
        int r = -ECOMM;

        f->phase = IMAGE_PHASE_INDEX;
        for (int compat = 1; compat >= 0; compat--) {
                _cleanup_free_ char *url = image_index_url(f->server, f->p->mode, compat);
                ImageDownloadResult res = {};
                WarrenError e = WARREN_ERROR_NULL;
                if (!url)
                        return -ENOMEM;
                r = image_download_buffer(url, &o, &text, &size, &res, compat ? &e : reterr);
                /* index-<mode>.7 is optional: fall back on any HTTP error status. */
                if (r < 0 && compat && res.http_status >= 400 && res.http_status < 500) {
                        log_debug("No compat index: %s", warren_error_message(&e));
                        warren_error_clear(&e);
                        continue;
                }
                if (r < 0 && compat) {
                        if (reterr && reterr->error == 0)
                                *reterr = e;
                        else
                                warren_error_clear(&e);
                }
                break;
        }
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

static int download_file(Fetch *f, const char *image_path, const char *file, int dirfd, uint64_t max,
                         const Sha256Sums *sums, WarrenError *reterr) {
        _cleanup_free_ char *dir = image_url_join(f->server, image_path), *url = NULL;
        _cleanup_close_ int fd = -EBADF;
        ImageDownloadOptions o = download_options(f, max);
        ImageDownloadResult res = {};
        int r;

        if (!dir || !(url = image_url_join(dir, file)))
                return -ENOMEM;
        fd = openat(dirfd, file, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
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
        /* Cached files are not hashed again: they must survive a crash whole. */
        if (fsync(fd) < 0)
                return warren_error_set(reterr, errno, "Failed to sync '%s' in the cache: %m", file);
        return 0;
}

static int download_entry(Fetch *f, const char *build, const char *image_path, WarrenError *reterr) {
        const ImageLimits *l = &f->p->limits;
        _cleanup_free_ char *tmp = NULL, *dir = NULL, *sums_text = NULL;
        _cleanup_sha256sums_ Sha256Sums *sums = NULL;
        _cleanup_close_ int tfd = -EBADF, mfd = -EBADF, metafd = -EBADF;
        _cleanup_image_meta_ ImageMeta *meta = NULL;
        size_t sums_size = 0;
        int r;

        if (asprintf(&tmp, TEMP_PREFIX "%d", (int) getpid()) < 0)
                return -ENOMEM;
        (void) rm_rf_at(f->vdirfd, tmp);
        if (mkdirat(f->vdirfd, tmp, 0755) < 0)
                return warren_error_set(reterr, errno, "Failed to create cache temporary '%s': %m", tmp);
        tfd = openat(f->vdirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0) {
                r = warren_error_set(reterr, errno, "Failed to open cache temporary '%s': %m", tmp);
                goto fail;
        }

        f->phase = IMAGE_PHASE_META;
        if (!f->p->no_verify) {
                ImageDownloadOptions o = download_options(f, l->index_max ?: IMAGE_LIMIT_INDEX_DEFAULT);
                dir = image_url_join(f->server, image_path);
                _cleanup_free_ char *url = dir ? image_url_join(dir, SUMS_FILE) : NULL;
                if (!url) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = image_download_buffer(url, &o, &sums_text, &sums_size, NULL, reterr);
                if (r >= 0)
                        r = sha256sums_parse(sums_text, sums_size, &sums, reterr);
                if (r >= 0)
                        r = write_file_atomic_at(tfd, SUMS_FILE, sums_text, sums_size, 0644);
                if (r < 0)
                        goto fail;
        }
        r = download_file(f, image_path, META_FILE, tfd, l->meta_max ?: IMAGE_LIMIT_META_DEFAULT, sums,
                          reterr);
        if (r < 0)
                goto fail;
        /* Check the meta before the big download: an image without a config
         * for this mode is refused early. */
        if (mkdirat(tfd, META_DIR, 0755) < 0) {
                r = warren_error_set(reterr, errno, "Failed to create '%s/" META_DIR "': %m", tmp);
                goto fail;
        }
        mfd = openat(tfd, META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        metafd = openat(tfd, META_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd < 0 || metafd < 0) {
                r = warren_error_set(reterr, errno, "Failed to open the downloaded meta: %m");
                goto fail;
        }
        r = image_meta_extract(metafd, mfd, reterr);
        if (r >= 0)
                r = image_meta_load(mfd, f->p->mode, &meta, reterr);
        if (r < 0)
                goto fail;

        f->phase = IMAGE_PHASE_ROOTFS;
        r = download_file(f, image_path, ROOTFS_FILE, tfd, l->rootfs_max ?: IMAGE_LIMIT_ROOTFS_DEFAULT, sums,
                          reterr);
        if (r < 0)
                goto fail;
        if (fsync(tfd) < 0 || renameat2(f->vdirfd, tmp, f->vdirfd, build, RENAME_NOREPLACE) < 0) {
                r = warren_error_set(reterr, errno, "Failed to move the image into the cache as '%s': %m",
                                     build);
                goto fail;
        }
        return 0;
fail:
        (void) rm_rf_at(f->vdirfd, tmp);
        return r;
}

static void remove_other_builds(Fetch *f, const char *keep) {
        _cleanup_strv_free_ char **builds = NULL;
        if (list_names(f->vdirfd, WALK_BUILDS, &builds) < 0)
                return;
        STRV_FOREACH(b, builds)
                if (!streq(*b, keep)) {
                        log_debug("Removing older cached build '%s'", *b);
                        (void) rm_rf_at(f->vdirfd, *b);
                }
}

/* The newest cached build if it may be used without the network. */
static int usable_cached(Fetch *f, char **ret_build) {
        _cleanup_strv_free_ char **builds = NULL;
        size_t n;
        int r = list_names(f->vdirfd, WALK_BUILDS, &builds);
        if (r < 0)
                return r;
        n = strv_length(builds);
        for (size_t i = n; i > 0; i--) {
                _cleanup_close_ int mfd = -EBADF;
                _cleanup_image_meta_ ImageMeta *meta = NULL;
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/" META_DIR, builds[i - 1]) < 0)
                        return -ENOMEM;
                mfd = openat(f->vdirfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (mfd < 0 || image_meta_load(mfd, f->p->mode, &meta, NULL) < 0)
                        continue;
                if (f->p->force_cache || (meta->has_expiry && (uint64_t) time(NULL) < meta->expiry)) {
                        *ret_build = strdup(builds[i - 1]);
                        return *ret_build ? 1 : -ENOMEM;
                }
                return 0; /* the newest one has expired: ask the index */
        }
        return 0;
}

static bool build_cached(Fetch *f, const char *build) {
        struct stat st;
        return fstatat(f->vdirfd, build, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode);
}

int image_cache_fetch(ImageCache *c, const ImageFetchParams *p, ImageFetchResult *ret, WarrenError *reterr) {
        _cleanup_close_ int vdirfd = -EBADF, lockfd = -EBADF;
        _cleanup_free_ char *server = NULL, *build = NULL, *image_path = NULL;
        Fetch f = { .cache = c, .p = p, .spec = p->spec };
        int r;

        *ret = IMAGE_FETCH_RESULT_NULL;
        if (!f.spec.variant)
                f.spec.variant = IMAGE_VARIANT_DEFAULT;
        if (!f.spec.arch) {
                r = image_host_arch(&f.spec.arch, reterr);
                if (r < 0)
                        return r;
        }
        r = image_spec_validate(&f.spec, reterr);
        if (r < 0)
                return r;
        r = image_server_url(p->server ?: IMAGE_SERVER_DEFAULT, &server, reterr);
        if (r < 0)
                return r;
        f.server = server;

        r = lock_variant(c, &f.spec, &vdirfd, &lockfd, reterr);
        if (r < 0)
                return r;
        f.vdirfd = vdirfd;
        /* Holding the lock, any temporary here is from a fetch that died. */
        remove_stale(vdirfd);

        if (p->flush_cache)
                remove_other_builds(&f, "");
        else {
                r = usable_cached(&f, &build);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to read the image cache: %s",
                                                strerror(-r));
                if (r > 0)
                        return use_entry(&f, build, false, false, ret, reterr);
        }

        r = fetch_index(&f, &build, &image_path, reterr);
        if (r < 0)
                return r;
        if (build_cached(&f, build))
                return use_entry(&f, build, false, true, ret, reterr);

        r = download_entry(&f, build, image_path, reterr);
        if (r < 0)
                return r;
        remove_other_builds(&f, build);
        return use_entry(&f, build, true, true, ret, reterr);
}

static uint64_t dir_size(int dirfd, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        uint64_t total = 0;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return 0;
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
                    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(st.st_mode))
                        total += (uint64_t) st.st_size;
                else if (S_ISDIR(st.st_mode) && depth < 2) {
                        _cleanup_close_ int sub =
                                openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                total += dir_size(sub, depth + 1);
                }
        }
        return total;
}

/* The names in dirfd that are valid image names, sorted. */
static int list_level(int dirfd, const char *what, char ***ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;

        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (image_name_validate(what, de->d_name, NULL) >= 0 && strv_extend(&l, de->d_name) < 0)
                        return -ENOMEM;
        size_t n = strv_length(l);
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && image_build_compare(l[k - 1], l[k]) > 0; k--) {
                        char *t = l[k];
                        l[k] = l[k - 1];
                        l[k - 1] = t;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

ImageCacheEntry *image_cache_entries_free(ImageCacheEntry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].dist);
                free(e[i].release);
                free(e[i].arch);
                free(e[i].variant);
                free(e[i].build);
                free(e[i].path);
        }
        free(e);
        return NULL;
}

typedef struct EntryList {
        ImageCacheEntry *e;
        size_t n, alloc;
} EntryList;

static int add_entry(EntryList *l, const ImageCache *c, char *const names[5], int efd) {
        struct stat st;
        if (l->n == l->alloc) {
                size_t na = l->alloc ? l->alloc * 2 : 16;
                ImageCacheEntry *ne = reallocarray(l->e, na, sizeof *ne);
                if (!ne)
                        return -ENOMEM;
                l->e = ne;
                l->alloc = na;
        }
        ImageCacheEntry *e = &l->e[l->n];
        *e = (ImageCacheEntry){};
        e->dist = strdup(names[0]);
        e->release = strdup(names[1]);
        e->arch = strdup(names[2]);
        e->variant = strdup(names[3]);
        e->build = strdup(names[4]);
        l->n++;
        if (!e->dist || !e->release || !e->arch || !e->variant || !e->build ||
            asprintf(&e->path, "%s/%s/%s/%s/%s/%s", c->path, names[0], names[1], names[2], names[3],
                     names[4]) < 0) {
                e->path = NULL;
                return -ENOMEM;
        }
        e->size = dir_size(efd, 0);
        if (fstatat(efd, LAST_USED_FILE, &st, AT_SYMLINK_NOFOLLOW) >= 0 || fstat(efd, &st) >= 0)
                e->last_used_usec =
                        (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000ULL;
        return 0;
}

/* Walks dist/release/arch/variant/build below dirfd. */
static int walk(const ImageCache *c, int dirfd, unsigned level, char *names[5], EntryList *l) {
        static const char *const what[5] = { "distribution", "release", "architecture", "variant", "build" };
        _cleanup_strv_free_ char **sub = NULL;
        int r = list_level(dirfd, what[level], &sub);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        STRV_FOREACH(s, sub) {
                _cleanup_close_ int fd = openat(dirfd, *s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                names[level] = *s;
                r = level == 4 ? add_entry(l, c, names, fd) : walk(c, fd, level + 1, names, l);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_cache_list(ImageCache *c, ImageCacheEntry **ret, size_t *ret_n, WarrenError *reterr) {
        EntryList l = {};
        char *names[5] = {};
        int r = walk(c, c->dirfd, 0, names, &l);
        if (r < 0) {
                image_cache_entries_free(l.e, l.n);
                return warren_error_set(reterr, r, "Failed to list image cache '%s': %s", c->path,
                                        strerror(-r));
        }
        *ret = l.e;
        *ret_n = l.n;
        return 0;
}

int image_cache_remove(ImageCache *c, const ImageSpec *spec, const char *build, WarrenError *reterr) {
        _cleanup_close_ int vdirfd = -EBADF, lockfd = -EBADF;
        _cleanup_strv_free_ char **builds = NULL;
        ImageSpec s = *spec;
        unsigned removed = 0;
        int r;

        if (!s.arch || !s.variant)
                return warren_error_set(
                        reterr, EINVAL,
                        "Incomplete image specification: architecture and variant are needed");
        r = image_spec_validate(&s, reterr);
        if (r >= 0 && build)
                r = image_name_validate("build", build, reterr);
        if (r < 0)
                return r;
        r = lock_variant(c, &s, &vdirfd, &lockfd, reterr);
        if (r < 0)
                return r;
        r = list_names(vdirfd, WALK_BUILDS, &builds);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to list cached builds: %s", strerror(-r));
        STRV_FOREACH(b, builds) {
                if (build && !streq(*b, build))
                        continue;
                r = rm_rf_at(vdirfd, *b);
                if (r < 0)
                        return warren_error_set(reterr, r,
                                                "Failed to remove cached image %s %s %s %s build %s: %s",
                                                s.dist, s.release, s.arch, s.variant, *b, strerror(-r));
                removed++;
        }
        if (removed == 0)
                return warren_error_set(reterr, ENOENT, "No cached image %s %s %s %s%s%s", s.dist, s.release,
                                        s.arch, s.variant, build ? " build " : "", strempty(build));
        return 0;
}
