/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "name.h"
#include "store.h"
#include "strv.h"

#define TMP_NEW_PREFIX ".#new."
#define TMP_DEL_PREFIX ".#del."
#define OWNER_FILE "owner"
#define CONFIG_FILE "config"
#define ROOTFS_DIR "rootfs"
#define CONFIG_MAX_SIZE (4U * 1024U * 1024U)
#define OWNER_MAX_SIZE 32U
/* rm_rf_at() holds one directory open per level; subtrees deeper than this
 * are moved up to the top directory instead, so any depth takes bounded
 * stack and fds. */
#define RM_RF_MAX_DEPTH 32U

struct Store {
        char *path;
        int dirfd;
};

int store_open(const char *state_dir, Store **ret, WarrenError *reterr) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len;
        int r;

        if (isempty(state_dir) || state_dir[0] != '/')
                return warren_error_set(reterr, EINVAL,
                                        "Invalid state directory '%s': must be an absolute path",
                                        strempty(state_dir));

        len = strlen(state_dir);
        while (len > 1 && state_dir[len - 1] == '/')
                len--;
        dir = strndup(state_dir, len);
        if (!dir)
                return -ENOMEM;
        if (asprintf(&path, "%s/containers", len == 1 ? "" : dir) < 0)
                return -ENOMEM;

        r = mkdir_p(dir, 0755);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create state directory '%s': %s", dir,
                                        strerror(-r));
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return warren_error_set(reterr, errno, "Failed to create container store '%s': %m", path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open container store '%s': %m", path);

        Store *s = calloc(1, sizeof(Store));
        if (!s)
                return -ENOMEM;
        s->path = TAKE_PTR(path);
        s->dirfd = TAKE_FD(fd);
        *ret = s;
        return 0;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        safe_close(s->dirfd);
        free(s->path);
        free(s);
        return NULL;
}

int store_dirfd(const Store *s) {
        return s->dirfd;
}

const char *store_path(const Store *s) {
        return s->path;
}

char *store_container_path(const Store *s, const char *name, const char *sub) {
        char *p = NULL;

        if (!container_name_is_valid(name)) {
                errno = EINVAL;
                return NULL;
        }
        if (asprintf(&p, "%s/%s%s%s", s->path, name, sub ? "/" : "", strempty(sub)) < 0)
                return NULL;
        return p;
}

/* Opens NAME's directory; anything that is not a plain directory is not a container. */
static int open_container(const Store *s, const char *name, WarrenError *reterr) {
        int fd = openat(s->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                return warren_error_set(reterr, ENOENT, "Container '%s' does not exist", name);
        return warren_error_set(reterr, errno, "Failed to open container '%s': %m", name);
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool entry_is_dir(int dirfd, const struct dirent *de) {
        struct stat st;

        if (de->d_type != DT_UNKNOWN)
                return de->d_type == DT_DIR;
        return fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode);
}

/* A fresh stream over the store directory (its own offset, so lists can run
 * while the Store's fd is used elsewhere). */
static DIR *store_opendir(const Store *s) {
        int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d)
                safe_close(fd);
        return d;
}

int store_list(const Store *s, char ***ret_names) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r;

        d = store_opendir(s);
        if (!d)
                return negative_errno();

        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return -errno;
                        break;
                }
                /* Skips temporaries too: they start with '.'. */
                if (!container_name_is_valid(de->d_name) || !entry_is_dir(dirfd(d), de))
                        continue;
                r = strv_extend(&names, de->d_name);
                if (r < 0)
                        return r;
                n++;
        }

        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return -ENOMEM;
        }
        qsort(names, n, sizeof(char *), cmp_names);
        *ret_names = TAKE_PTR(names);
        return (int) MIN(n, (size_t) INT32_MAX);
}

int store_exists(const Store *s, const char *name) {
        struct stat st;

        if (!container_name_is_valid(name))
                return -EINVAL;
        if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return S_ISDIR(st.st_mode);
}

/* Decimal, no sign, no leading zeros, one optional trailing newline. */
static int parse_uid(const char *text, size_t size, uid_t *ret) {
        uint64_t v = 0;
        size_t len = size;

        if (len > 0 && text[len - 1] == '\n')
                len--;
        if (len == 0 || len > 10 || (text[0] == '0' && len > 1))
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (text[i] < '0' || text[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (text[i] - '0');
        }
        if (v >= UINT32_MAX) /* (uid_t) -1 is never an owner */
                return -EBADMSG;
        *ret = (uid_t) v;
        return 0;
}

int store_get_owner(const Store *s, const char *name, uid_t *ret_uid) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        if (!container_name_is_valid(name))
                return -EINVAL;
        fd = open_container(s, name, NULL);
        if (fd < 0)
                return fd;
        r = read_full_file_at(fd, OWNER_FILE, OWNER_MAX_SIZE, 1, &text, &size);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        return parse_uid(text, size, ret_uid);
}

int store_read_owner(const Store *s, const char *name, uid_t *ret_uid, WarrenError *reterr) {
        int r = store_get_owner(s, name, ret_uid);
        if (r >= 0)
                return r;
        _cleanup_free_ char *path = store_container_path(s, name, OWNER_FILE);
        if (!path)
                return -ENOMEM;
        switch (-r) {
        case ENOENT:
                if (store_exists(s, name) <= 0)
                        return warren_error_set(reterr, ENOENT, "Container '%s' does not exist", name);
                return warren_error_set(reterr, EBADMSG,
                                        "Container '%s' is damaged: its owner file %s is missing", name,
                                        path);
        case EBADMSG:
        case EFBIG:
                return warren_error_set(reterr, EBADMSG,
                                        "Container '%s' is damaged: its owner file %s does not hold a uid "
                                        "(decimal, 0..4294967294)",
                                        name, path);
        default:
                return warren_error_set(reterr, EBADMSG, "Container '%s' is damaged: its owner file %s: %s",
                                        name, path, strerror(-r));
        }
}

/* Whether temporary directory n of the store is a create in progress
 * (store_create_begin() holds its lock) owned by uid. */
static bool tmp_create_owned_by(int dirfd, const char *n, uid_t uid) {
        _cleanup_close_ int fd = openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        uid_t owner;
        if (fd < 0)
                return false;
        if (flock(fd, LOCK_SH | LOCK_NB) >= 0)
                return false; /* nobody is building it: stale */
        if (read_full_file_at(fd, OWNER_FILE, OWNER_MAX_SIZE, 1, &text, &size) < 0)
                return false;
        return parse_uid(text, size, &owner) >= 0 && owner == uid;
}

int store_count_owned(const Store *s, uid_t uid, bool in_progress, uint64_t *ret) {
        _cleanup_(closedirp) DIR *d = store_opendir(s);
        uint64_t n = 0;
        if (!d)
                return negative_errno();
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return -errno;
                        break;
                }
                uid_t owner;
                if (container_name_is_valid(de->d_name)) {
                        if (entry_is_dir(dirfd(d), de) && store_get_owner(s, de->d_name, &owner) >= 0 &&
                            owner == uid)
                                n++;
                } else if (in_progress && strncmp(de->d_name, TMP_NEW_PREFIX, strlen(TMP_NEW_PREFIX)) == 0 &&
                           tmp_create_owned_by(dirfd(d), de->d_name, uid))
                        n++;
        }
        *ret = n;
        return 0;
}

/* PREFIX NAME . six random characters */
static int tmp_name(const char *prefix, const char *name, char **ret) {
        static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char rnd[6];
        char suffix[sizeof rnd + 1];

        if (getrandom(rnd, sizeof rnd, GRND_INSECURE) != (ssize_t) sizeof rnd) {
                /* Uniqueness is all we need; EEXIST makes callers retry. */
                uint64_t t = (uint64_t) random() ^ ((uint64_t) getpid() << 20);
                memcpy(rnd, &t, sizeof rnd);
        }
        for (size_t i = 0; i < sizeof rnd; i++)
                suffix[i] = chars[rnd[i] % (sizeof chars - 1)];
        suffix[sizeof rnd] = 0;

        return asprintf(ret, "%s%s.%s", prefix, name, suffix) < 0 ? -ENOMEM : 0;
}

/* Makes, opens and locks a fresh ".#new.NAME.XXXXXX"; the lock tells
 * store_cleanup_stale() that it is in use. */
static int make_tmp_dir(int dirfd, const char *name, char **ret_name) {
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                _cleanup_free_ char *t = NULL;
                int r = tmp_name(TMP_NEW_PREFIX, name, &t);
                if (r < 0)
                        return r;
                if (mkdirat(dirfd, t, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return -errno;
                }
                *ret_name = TAKE_PTR(t);

                _cleanup_close_ int fd =
                        openat(dirfd, *ret_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                        return -errno;
                /* The umask may have narrowed it; 0700 is exact either way. */
                if (fchmod(fd, 0700) < 0)
                        return -errno;
                return TAKE_FD(fd);
        }
        return -EEXIST;
}

struct StoreCreate {
        int store_fd;   /* our own dup of the store's directory */
        int fd;         /* the temporary directory, locked */
        char *name;     /* NAME */
        char *tmp_name; /* ".#new.NAME.XXXXXX"; NULL once committed */
        char *tmp_path, *final_path;
};

static int check_built(int fd, const char *name, WarrenError *reterr) {
        struct stat st;

        if (fstatat(fd, CONFIG_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                return warren_error_set(reterr, EPROTO,
                                        "Building container '%s' did not create a config file", name);
        if (fstatat(fd, ROOTFS_DIR, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return warren_error_set(reterr, EPROTO,
                                        "Building container '%s' did not create a rootfs directory", name);
        return 0;
}

StoreCreate *store_create_abort(StoreCreate *c) {
        if (!c)
                return NULL;
        if (c->tmp_name) {
                int r = rm_rf_at(c->store_fd, c->tmp_name);
                if (r < 0)
                        log_debug("Failed to remove '%s' after a failed create: %s", c->tmp_path,
                                  strerror(-r));
        }
        safe_close(c->fd);
        safe_close(c->store_fd);
        free(c->name);
        free(c->tmp_name);
        free(c->tmp_path);
        free(c->final_path);
        free(c);
        return NULL;
}

int store_create_begin(Store *s, const char *name, uid_t owner, StoreCreate **ret, WarrenError *reterr) {
        _cleanup_store_create_ StoreCreate *c = NULL;
        char owner_text[16];
        int r;

        r = container_name_validate(name, reterr);
        if (r < 0)
                return r;
        if (owner == (uid_t) -1)
                return warren_error_set(reterr, EINVAL, "Invalid owner of container '%s': uid %u", name,
                                        owner);

        /* Cheap early answer; RENAME_NOREPLACE at commit is what decides. */
        r = store_exists(s, name);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to check for container '%s': %s", name,
                                        strerror(-r));
        if (r > 0)
                return warren_error_set(reterr, EEXIST, "Container '%s' already exists", name);

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        c->store_fd = fcntl(s->dirfd, F_DUPFD_CLOEXEC, 3);
        if (c->store_fd < 0)
                return warren_error_set(reterr, errno, "Failed to duplicate the store's fd: %m");
        c->name = strdup(name);
        c->final_path = store_container_path(s, name, NULL);
        if (!c->name || !c->final_path)
                return -ENOMEM;

        c->fd = make_tmp_dir(c->store_fd, name, &c->tmp_name);
        if (c->fd < 0)
                return warren_error_set(
                        reterr, c->fd,
                        "Failed to create a temporary directory for container '%s' in '%s': %s", name,
                        s->path, strerror(-c->fd));
        if (asprintf(&c->tmp_path, "%s/%s", s->path, c->tmp_name) < 0) {
                c->tmp_path = NULL;
                return -ENOMEM;
        }

        snprintf(owner_text, sizeof owner_text, "%u\n", (unsigned) owner);
        r = write_file_atomic_at(c->fd, OWNER_FILE, owner_text, strlen(owner_text), 0644);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to record the owner of container '%s': %s", name,
                                        strerror(-r));
        *ret = TAKE_PTR(c);
        return 0;
}

int store_create_dirfd(const StoreCreate *c) {
        return c->fd;
}

const char *store_create_temp_path(const StoreCreate *c) {
        return c->tmp_path;
}

const char *store_create_final_path(const StoreCreate *c) {
        return c->final_path;
}

int store_create_commit(StoreCreate *c, WarrenError *reterr) {
        int r;

        if (!c->tmp_name)
                return warren_error_set(reterr, EALREADY, "Container '%s' was already committed", c->name);
        r = check_built(c->fd, c->name, reterr);
        if (r < 0)
                return r;
        if (fsync(c->fd) < 0)
                return warren_error_set(reterr, errno, "Failed to sync container '%s': %m", c->name);
        if (renameat2(c->store_fd, c->tmp_name, c->store_fd, c->name, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST)
                        return warren_error_set(reterr, EEXIST, "Container '%s' already exists", c->name);
                return warren_error_set(reterr, errno, "Failed to move container '%s' into place: %m",
                                        c->name);
        }
        free(c->tmp_name);
        c->tmp_name = NULL;
        (void) fsync(c->store_fd);
        return 0;
}

int store_create(Store *s, const char *name, uid_t owner, StoreBuildFunc build, void *userdata,
                 WarrenError *reterr) {
        _cleanup_store_create_ StoreCreate *c = NULL;
        int r;

        r = store_create_begin(s, name, owner, &c, reterr);
        if (r < 0)
                return r;
        if (!build)
                return warren_error_set(reterr, EINVAL, "No build function for container '%s'", name);
        r = build(c->fd, c->final_path, userdata, reterr);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to build container '%s': %s", name, strerror(-r));
        r = store_create_commit(c, reterr);
        if (r < 0)
                return r;
        log_debug("Created container '%s' owned by uid %u", name, (unsigned) owner);
        return 0;
}

/* rm_rf_at() machinery. The walk never follows a symlink (each step is one
 * name below an fd we hold, opened O_NOFOLLOW) and never enters another mount
 * (a bind mount of a host directory would otherwise lose its contents). */
typedef struct RmRf {
        int topfd;
        uid_t euid;
        uint64_t mnt_id;
        bool have_mnt_id;
        uint32_t dev_major, dev_minor;
        unsigned moved;
        char *bad_path; /* what failed, relative to the top's parent */
} RmRf;

static int rm_statx(int dirfd, const char *name, int flags, struct statx *sx) {
        if (statx(dirfd, name, flags | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                  STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO | STATX_MNT_ID, sx) < 0)
                return -errno;
        return 0;
}

/* An unprivileged owner cannot list or empty a directory of its own that
 * lacks u+rwx (image trees have those); root needs no help. */
static void rm_make_accessible(const RmRf *c, int dirfd, const char *name, const struct statx *sx) {
        if (c->euid == 0 || sx->stx_uid != c->euid || (sx->stx_mode & 0700) == 0700)
                return;
        (void) fchmodat(dirfd, name, (sx->stx_mode & 07777) | 0700, AT_SYMLINK_NOFOLLOW);
}

static bool rm_is_mount(const RmRf *c, const struct statx *sx) {
        if ((sx->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
            (sx->stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return true;
        if (c->have_mnt_id && (sx->stx_mask & STATX_MNT_ID))
                return sx->stx_mnt_id != c->mnt_id;
        return sx->stx_dev_major != c->dev_major || sx->stx_dev_minor != c->dev_minor;
}

static int rm_fail(RmRf *c, const char *name, int r) {
        if (!c->bad_path)
                c->bad_path = strdup(name);
        return r;
}

static int rm_prefix(RmRf *c, const char *name, int r) {
        char *p = NULL;

        if (c->bad_path && asprintf(&p, "%s/%s", name, c->bad_path) >= 0) {
                free(c->bad_path);
                c->bad_path = p;
        }
        return r;
}

static int rm_move_up(RmRf *c, int dirfd, const char *name) {
        char t[32];

        for (unsigned attempt = 0; attempt < 1024; attempt++) {
                snprintf(t, sizeof t, ".#deep.%u", c->moved++);
                if (renameat2(dirfd, name, c->topfd, t, RENAME_NOREPLACE) >= 0 || errno == ENOENT)
                        return 0;
                if (errno != EEXIST)
                        return rm_fail(c, name, -errno);
        }
        return rm_fail(c, name, -EEXIST);
}

static int rm_children(RmRf *c, int fd, unsigned depth);

static int rm_entry(RmRf *c, int dirfd, const char *name, unsigned depth) {
        struct statx sx;
        int r;

        r = rm_statx(dirfd, name, 0, &sx);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return rm_fail(c, name, r);
        if (rm_is_mount(c, &sx))
                return rm_fail(c, name, -EBUSY);

        if (!S_ISDIR(sx.stx_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        return rm_fail(c, name, -errno);
                return 0;
        }

        if (depth + 1 >= RM_RF_MAX_DEPTH)
                return rm_move_up(c, dirfd, name);
        rm_make_accessible(c, dirfd, name, &sx);

        int cfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (cfd < 0)
                return errno == ENOENT ? 0 : rm_fail(c, name, -errno);
        /* Judge what was opened, not what was looked at: it may have been swapped. */
        r = rm_statx(cfd, "", AT_EMPTY_PATH, &sx);
        if (r >= 0 && rm_is_mount(c, &sx))
                r = -EBUSY;
        if (r < 0) {
                safe_close(cfd);
                return rm_fail(c, name, r);
        }

        r = rm_children(c, cfd, depth + 1);
        if (r < 0)
                return rm_prefix(c, name, r);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return rm_fail(c, name, -errno);
        return 0;
}

/* Takes fd. Reads the directory again until a pass finds it empty, so entries
 * moved up (or added meanwhile) are not missed. */
static int rm_children(RmRf *c, int fd, unsigned depth) {
        _cleanup_(closedirp) DIR *d = fdopendir(fd);
        int r;

        if (!d) {
                r = negative_errno();
                safe_close(fd);
                return r;
        }

        for (;;) {
                bool any = false;

                rewinddir(d);
                for (;;) {
                        errno = 0;
                        struct dirent *de = readdir(d);
                        if (!de) {
                                if (errno != 0)
                                        return -errno;
                                break;
                        }
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        any = true;
                        r = rm_entry(c, dirfd(d), de->d_name, depth);
                        if (r < 0)
                                return r;
                }
                if (!any)
                        return 0;
        }
}

/* Splits "a/b/c/" into an fd for "a/b" (following symlinks there: that part
 * is the caller's) and "c". */
static int rm_split(int dirfd, const char *path, int *ret_parent, char **ret_base) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;

        size_t len = strlen(p);
        while (len > 1 && p[len - 1] == '/')
                p[--len] = 0;

        char *slash = strrchr(p, '/');
        const char *base = slash ? slash + 1 : p;
        if (isempty(base) || streq(base, ".") || streq(base, ".."))
                return -EINVAL;

        int pfd = -EBADF;
        if (slash) {
                *slash = 0;
                pfd = openat(dirfd, slash == p ? "/" : p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (pfd < 0)
                        return -errno;
        }
        char *b = strdup(base);
        if (!b) {
                safe_close(pfd);
                return -ENOMEM;
        }
        *ret_parent = pfd;
        *ret_base = b;
        return 0;
}

static int rm_rf_full(int dirfd, const char *path, char **ret_bad_path) {
        _cleanup_free_ char *base = NULL;
        _cleanup_close_ int pfd_owned = -EBADF;
        RmRf c = {};
        struct statx sx;
        int pfd, r;

        if (isempty(path))
                return -EINVAL;
        r = rm_split(dirfd, path, &pfd_owned, &base);
        if (r < 0)
                return r;
        pfd = pfd_owned >= 0 ? pfd_owned : dirfd;

        r = rm_statx(pfd, base, 0, &sx);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!S_ISDIR(sx.stx_mode)) {
                if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }

        c.euid = geteuid();
        rm_make_accessible(&c, pfd, base, &sx);
        int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = rm_statx(fd, "", AT_EMPTY_PATH, &sx);
        if (r >= 0 && (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
            (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                r = -EBUSY;
        if (r < 0) {
                safe_close(fd);
                if (ret_bad_path)
                        *ret_bad_path = strdup(base);
                return r;
        }
        c.topfd = fd;
        c.have_mnt_id = sx.stx_mask & STATX_MNT_ID;
        c.mnt_id = sx.stx_mnt_id;
        c.dev_major = sx.stx_dev_major;
        c.dev_minor = sx.stx_dev_minor;

        r = rm_children(&c, fd, 0);
        if (r >= 0 && unlinkat(pfd, base, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = -errno;
        if (r < 0 && ret_bad_path) {
                if (c.bad_path)
                        (void) rm_prefix(&c, base, r);
                else
                        c.bad_path = strdup(base);
                *ret_bad_path = TAKE_PTR(c.bad_path);
        }
        free(c.bad_path);
        return r;
}

int rm_rf_at(int dirfd, const char *name) {
        return rm_rf_full(dirfd, name, NULL);
}

int store_destroy(Store *s, const char *name, WarrenError *reterr) {
        _cleanup_free_ char *del = NULL, *bad = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = container_name_validate(name, reterr);
        if (r < 0)
                return r;

        fd = open_container(s, name, reterr);
        if (fd < 0)
                return fd;
        /* Keeps a concurrent store_cleanup_stale() off the tree once renamed. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        return warren_error_set(reterr, EBUSY, "Container '%s' is being created or removed",
                                                name);
                return warren_error_set(reterr, errno, "Failed to lock container '%s': %m", name);
        }

        for (unsigned attempt = 0;; attempt++) {
                free(del);
                del = NULL;
                r = tmp_name(TMP_DEL_PREFIX, name, &del);
                if (r < 0)
                        return r;
                if (renameat2(s->dirfd, name, s->dirfd, del, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno == EEXIST && attempt < 64)
                        continue;
                if (errno == ENOENT)
                        return warren_error_set(reterr, ENOENT, "Container '%s' does not exist", name);
                return warren_error_set(reterr, errno, "Failed to rename container '%s' for removal: %m",
                                        name);
        }
        (void) fsync(s->dirfd);

        r = rm_rf_full(s->dirfd, del, &bad);
        if (r == -EBUSY)
                return warren_error_set(reterr, r,
                                        "Failed to remove container '%s': '%s/%s' is a mount point", name,
                                        s->path, strna(bad));
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to remove container '%s': '%s/%s': %s", name,
                                        s->path, strna(bad), strerror(-r));

        log_debug("Removed container '%s'", name);
        return 0;
}

int store_rename(Store *s, const char *name, const char *new_name, WarrenError *reterr) {
        _cleanup_close_ int fd = -EBADF;
        int r = container_name_validate(name, reterr);
        if (r >= 0)
                r = container_name_validate(new_name, reterr);
        if (r < 0)
                return r;
        fd = open_container(s, name, reterr);
        if (fd < 0)
                return fd;
        /* A destroy in progress holds this lock. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return warren_error_set(reterr, errno == EWOULDBLOCK ? EBUSY : errno,
                                        "Container '%s' is being created or removed", name);
        if (renameat2(s->dirfd, name, s->dirfd, new_name, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST)
                        return warren_error_set(reterr, EEXIST, "Container '%s' already exists", new_name);
                return warren_error_set(reterr, errno, "Failed to rename container '%s' to '%s': %m", name,
                                        new_name);
        }
        (void) fsync(s->dirfd);
        return 0;
}

int store_read_config(const Store *s, const char *name, char **ret_text) {
        _cleanup_close_ int fd = -EBADF;

        if (!container_name_is_valid(name))
                return -EINVAL;
        fd = open_container(s, name, NULL);
        if (fd < 0)
                return fd;
        return read_full_file_at(fd, CONFIG_FILE, CONFIG_MAX_SIZE, 1, ret_text, NULL);
}

int store_write_config(Store *s, const char *name, const char *text, WarrenError *reterr) {
        _cleanup_close_ int fd = -EBADF;
        size_t len;
        int r;

        r = container_name_validate(name, reterr);
        if (r < 0)
                return r;
        len = strlen(text);
        if (len > CONFIG_MAX_SIZE)
                return warren_error_set(reterr, EFBIG,
                                        "Config of container '%s' is too large (%zu > %u bytes)", name, len,
                                        CONFIG_MAX_SIZE);
        fd = open_container(s, name, reterr);
        if (fd < 0)
                return fd;
        /* 0644 is fine: the container directory (0700) already keeps others out. */
        r = write_file_atomic_at(fd, CONFIG_FILE, text, len, 0644);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write config of container '%s': %s", name,
                                        strerror(-r));
        return 0;
}

static bool is_tmp_name(const char *n) {
        return strncmp(n, TMP_NEW_PREFIX, strlen(TMP_NEW_PREFIX)) == 0 ||
               strncmp(n, TMP_DEL_PREFIX, strlen(TMP_DEL_PREFIX)) == 0;
}

int store_cleanup_stale(Store *s) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **stale = NULL;
        int r, ret = 0, removed = 0;

        d = store_opendir(s);
        if (!d)
                return negative_errno();
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return -errno;
                        break;
                }
                if (is_tmp_name(de->d_name)) {
                        r = strv_extend(&stale, de->d_name);
                        if (r < 0)
                                return r;
                }
        }

        STRV_FOREACH(n, stale) {
                _cleanup_close_ int fd =
                        openat(s->dirfd, *n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        log_debug("Skipping '%s/%s': in use", s->path, *n);
                        continue;
                }
                r = rm_rf_at(s->dirfd, *n);
                if (r < 0) {
                        log_debug("Failed to remove stale '%s/%s': %s", s->path, *n, strerror(-r));
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                removed++;
        }
        return ret < 0 ? ret : removed;
}
