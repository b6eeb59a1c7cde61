/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image cache's layout, locks, listing and removal; the fetch itself
 * is image-fetch.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "image-cache-private.h"
#include "log.h"
#include "store.h"
#include "strv.h"

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

/* ---- names ---- */

static bool plain_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '~' || c == '+' || c == '-';
}

char *image_cache_server_dirname(const char *url) {
        size_t n = 0;
        char *out;
        for (const char *c = url; *c; c++)
                n += plain_char(*c) ? 1 : 3;
        if (n == 0 || n > NAME_MAX || url[0] == '.')
                return NULL;
        out = malloc(n + 1);
        if (!out)
                return NULL;
        n = 0;
        for (const char *c = url; *c; c++) {
                if (plain_char(*c))
                        out[n++] = *c;
                else
                        n += (size_t) sprintf(out + n, "%%%02X", (unsigned char) *c);
        }
        out[n] = 0;
        return out;
}

static int hexval(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *image_cache_server_from_dirname(const char *name) {
        _cleanup_free_ char *url = malloc(strlen(name) + 1), *again = NULL;
        size_t n = 0;
        if (!url)
                return NULL;
        for (const char *c = name; *c; c++) {
                if (*c != '%') {
                        url[n++] = *c;
                        continue;
                }
                int hi = hexval(c[1]), lo = hi >= 0 ? hexval(c[2]) : -1;
                if (lo < 0 || (hi == 0 && lo == 0))
                        return NULL;
                url[n++] = (char) (hi * 16 + lo);
                c += 2;
        }
        url[n] = 0;
        /* Only the one spelling we write, of an http(s) URL. */
        again = image_cache_server_dirname(url);
        if (!again || !streq(again, name) ||
            (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
                return NULL;
        return TAKE_PTR(url);
}

char *image_cache_partition_name(const ImageOrigin *origin) {
        char *p = NULL;
        if (!origin->user)
                return strdup(IMAGE_CACHE_SHARED);
        if (origin->uid == 0 || origin->uid == (uid_t) -1)
                return NULL;
        if (asprintf(&p, IMAGE_CACHE_USER_PREFIX "%u", (unsigned) origin->uid) < 0)
                return NULL;
        return p;
}

/* "uid-<N>" -> N (not 0). */
static bool parse_partition(const char *name, bool *ret_user, uid_t *ret_uid) {
        if (streq(name, IMAGE_CACHE_SHARED)) {
                *ret_user = false;
                *ret_uid = 0;
                return true;
        }
        if (strncmp(name, IMAGE_CACHE_USER_PREFIX, strlen(IMAGE_CACHE_USER_PREFIX)) != 0)
                return false;
        const char *d = name + strlen(IMAGE_CACHE_USER_PREFIX);
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(d, &end, 10);
        if (errno || end == d || *end || d[0] == '0' || v == 0 || v >= (unsigned long) (uid_t) -1)
                return false;
        *ret_user = true;
        *ret_uid = (uid_t) v;
        return true;
}

int image_cache_variant_rel(const ImageOrigin *origin, const ImageSpec *spec, char **ret,
                            WarrenError *reterr) {
        _cleanup_free_ char *part = image_cache_partition_name(origin), *srv = NULL;
        if (!origin->server)
                return warren_error_set(reterr, EINVAL, "No image server for the cache");
        srv = image_cache_server_dirname(origin->server);
        if (!part || !srv)
                return warren_error_set(reterr, EINVAL, "Invalid image cache origin: server '%s', %s %u",
                                        origin->server, origin->user ? "uid" : "shared",
                                        (unsigned) origin->uid);
        if (asprintf(ret, "%s/%s/%s/%s/%s/%s", part, srv, spec->dist, spec->release, spec->arch,
                     spec->variant ?: IMAGE_VARIANT_DEFAULT) < 0)
                return -ENOMEM;
        return 0;
}

char *image_cache_variant_path(const char *cache_dir, const ImageOrigin *origin, const ImageSpec *spec) {
        _cleanup_free_ char *rel = NULL;
        char *p = NULL;
        if (image_cache_variant_rel(origin, spec, &rel, NULL) < 0 ||
            asprintf(&p, "%s/images/%s", streq(cache_dir, "/") ? "" : cache_dir, rel) < 0)
                return NULL;
        return p;
}

char *image_cache_temp_path(const char *cache_dir, const ImageOrigin *origin, const ImageSpec *spec,
                            pid_t pid) {
        _cleanup_free_ char *v = image_cache_variant_path(cache_dir, origin, spec);
        char *p = NULL;
        if (!v || asprintf(&p, "%s/" IMAGE_CACHE_TEMP_PREFIX "%d", v, (int) pid) < 0)
                return NULL;
        return p;
}

/* ---- directories and locks ---- */

int image_cache_open_variant(ImageCache *c, const char *rel, int *ret_fd, WarrenError *reterr) {
        _cleanup_free_ char *abs = NULL, *part = strndup(rel, strcspn(rel, "/"));
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!part || asprintf(&abs, "%s/%s", c->path, rel) < 0)
                return -ENOMEM;
        /* A partition is nobody's business but warrend's. */
        if (mkdirat(c->dirfd, part, 0700) < 0 && errno != EEXIST)
                return warren_error_set(reterr, errno, "Failed to create cache partition '%s/%s': %m",
                                        c->path, part);
        r = mkdir_p(abs, 0755);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create cache directory '%s': %s", abs,
                                        strerror(-r));
        fd = openat(c->dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open cache directory '%s': %m", abs);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int image_cache_lock(int dirfd, const char *name, bool wait, int *ret_fd) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0)
                if (errno != EINTR)
                        return errno == EWOULDBLOCK ? -EBUSY : -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

typedef enum WalkFilter {
        WALK_BUILDS, /* complete entries */
        WALK_TEMPS,  /* fetches' temporaries */
} WalkFilter;

static void sort_builds(char **l) {
        size_t n = strv_length(l);
        for (size_t i = 1; i < n; i++) /* insertion sort: few builds */
                for (size_t k = i; k > 0 && image_build_compare(l[k - 1], l[k]) > 0; k--) {
                        char *t = l[k];
                        l[k] = l[k - 1];
                        l[k - 1] = t;
                }
}

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
                bool want = filter == WALK_TEMPS ? strncmp(de->d_name, IMAGE_CACHE_TEMP_PREFIX,
                                                           strlen(IMAGE_CACHE_TEMP_PREFIX)) == 0
                                                 : image_name_validate("build", de->d_name, NULL) >= 0;
                if (!want || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
                        continue;
                if (strv_extend(&l, de->d_name) < 0)
                        return -ENOMEM;
        }
        if (errno > 0)
                return -errno;
        sort_builds(l);
        *ret = TAKE_PTR(l);
        return 0;
}

int image_cache_list_builds(int vdirfd, char ***ret) {
        return list_names(vdirfd, WALK_BUILDS, ret);
}

void image_cache_remove_stale(int vdirfd) {
        _cleanup_strv_free_ char **temps = NULL;
        if (list_names(vdirfd, WALK_TEMPS, &temps) < 0)
                return;
        STRV_FOREACH(t, temps) {
                _cleanup_close_ int fd = openat(vdirfd, *t, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                /* A live fetch holds its temporary's flock. */
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                log_debug("Removing stale cache temporary '%s'", *t);
                (void) rm_rf_at(vdirfd, *t);
        }
}

/* ---- listing ---- */

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

typedef enum Level {
        LEVEL_PARTITION,
        LEVEL_SERVER,
        LEVEL_DIST,
        LEVEL_RELEASE,
        LEVEL_ARCH,
        LEVEL_VARIANT,
        LEVEL_BUILD,
        _LEVEL_MAX,
} Level;

static bool level_name_ok(Level level, const char *name) {
        static const char *const what[_LEVEL_MAX] = {
                [LEVEL_DIST] = "distribution", [LEVEL_RELEASE] = "release", [LEVEL_ARCH] = "architecture",
                [LEVEL_VARIANT] = "variant",   [LEVEL_BUILD] = "build",
        };
        bool user;
        uid_t uid;
        if (level == LEVEL_PARTITION)
                return parse_partition(name, &user, &uid);
        if (level == LEVEL_SERVER) {
                _cleanup_free_ char *u = image_cache_server_from_dirname(name);
                return u != NULL;
        }
        return image_name_validate(what[level], name, NULL) >= 0;
}

/* The valid names of a level in dirfd, sorted. */
static int list_level(int dirfd, Level level, char ***ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;

        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && level_name_ok(level, de->d_name) &&
                    strv_extend(&l, de->d_name) < 0)
                        return -ENOMEM;
        sort_builds(l);
        *ret = TAKE_PTR(l);
        return 0;
}

ImageCacheEntry *image_cache_entries_free(ImageCacheEntry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].server);
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

static int add_entry(EntryList *l, const ImageCache *c, char *const names[_LEVEL_MAX], int efd) {
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
        l->n++;
        (void) parse_partition(names[LEVEL_PARTITION], &e->user, &e->uid);
        e->server = image_cache_server_from_dirname(names[LEVEL_SERVER]);
        e->dist = strdup(names[LEVEL_DIST]);
        e->release = strdup(names[LEVEL_RELEASE]);
        e->arch = strdup(names[LEVEL_ARCH]);
        e->variant = strdup(names[LEVEL_VARIANT]);
        e->build = strdup(names[LEVEL_BUILD]);
        if (!e->server || !e->dist || !e->release || !e->arch || !e->variant || !e->build ||
            asprintf(&e->path, "%s/%s/%s/%s/%s/%s/%s/%s", c->path, names[0], names[1], names[2], names[3],
                     names[4], names[5], names[6]) < 0) {
                e->path = NULL;
                return -ENOMEM;
        }
        e->size = dir_size(efd, 0);
        if (fstatat(efd, IMAGE_CACHE_LAST_USED, &st, AT_SYMLINK_NOFOLLOW) >= 0 || fstat(efd, &st) >= 0)
                e->last_used_usec =
                        (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000ULL;
        return 0;
}

static int walk(const ImageCache *c, int dirfd, Level level, char *names[_LEVEL_MAX], EntryList *l) {
        _cleanup_strv_free_ char **sub = NULL;
        int r = list_level(dirfd, level, &sub);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        STRV_FOREACH(s, sub) {
                _cleanup_close_ int fd = openat(dirfd, *s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                names[level] = *s;
                r = level == LEVEL_BUILD ? add_entry(l, c, names, fd) : walk(c, fd, level + 1, names, l);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_cache_list(ImageCache *c, ImageCacheEntry **ret, size_t *ret_n, WarrenError *reterr) {
        EntryList l = {};
        char *names[_LEVEL_MAX] = {};
        int r = walk(c, c->dirfd, LEVEL_PARTITION, names, &l);
        if (r < 0) {
                image_cache_entries_free(l.e, l.n);
                return warren_error_set(reterr, r, "Failed to list image cache '%s': %s", c->path,
                                        strerror(-r));
        }
        *ret = l.e;
        *ret_n = l.n;
        return 0;
}

/* ---- removal ---- */

int image_cache_remove(ImageCache *c, const ImageOrigin *origin, const ImageSpec *spec, const char *build,
                       WarrenError *reterr) {
        _cleanup_close_ int vdirfd = -EBADF, lockfd = -EBADF;
        _cleanup_strv_free_ char **builds = NULL;
        _cleanup_free_ char *rel = NULL;
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
        if (r >= 0)
                r = image_cache_variant_rel(origin, &s, &rel, reterr);
        if (r < 0)
                return r;
        vdirfd = openat(c->dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (vdirfd < 0 && errno == ENOENT)
                return warren_error_set(reterr, ENOENT, "No cached image %s %s %s %s%s%s from %s", s.dist,
                                        s.release, s.arch, s.variant, build ? " build " : "",
                                        strempty(build), origin->server);
        if (vdirfd < 0)
                return warren_error_set(reterr, errno, "Failed to open '%s/%s': %m", c->path, rel);
        r = image_cache_lock(vdirfd, IMAGE_CACHE_LOCK, false, &lockfd);
        if (r == -EBUSY)
                return warren_error_set(reterr, EBUSY,
                                        "Image %s %s %s %s from %s is being updated by a job; try again",
                                        s.dist, s.release, s.arch, s.variant, origin->server);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to lock '%s/%s': %s", c->path, rel, strerror(-r));
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
                return warren_error_set(reterr, ENOENT, "No cached image %s %s %s %s%s%s from %s", s.dist,
                                        s.release, s.arch, s.variant, build ? " build " : "",
                                        strempty(build), origin->server);
        return 0;
}
