/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "data-worker.h"
#include "fileio.h"
#include "log.h"
#include "monitor-client.h"
#include "name.h"
#include "snapshot.h"
#include "store.h"

#define TMP_PREFIX ".#new."
#define DEL_PREFIX ".#del."
#define TS_FILE "ts"
#define COMMENT_FILE "comment"
#define CONFIG_FILE "config"
#define CONFIG_MAX (4U * 1024U * 1024U)

void snapshot_info_free_many(SnapshotInfo *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].name);
                free(l[i].comment);
        }
        free(l);
}

int snapshot_name_validate(const char *name, WarrenError *reterr) {
        if (!container_name_is_valid(name))
                return warren_error_set(
                        reterr, EINVAL,
                        "Invalid snapshot name '%s': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
                        strempty(name));
        return 0;
}

int snapshot_comment_validate(const char *comment, WarrenError *reterr) {
        size_t n = strlen(comment);
        if (n > SNAPSHOT_COMMENT_MAX)
                return warren_error_set(reterr, EINVAL, "Snapshot comment too long: %zu bytes, at most %u",
                                        n, SNAPSHOT_COMMENT_MAX);
        return 0;
}

/* The container's snaps/ directory, created (0700) if make. -ENOENT if it
 * does not exist and !make. */
static int open_snaps(Store *s, const char *container, bool make, WarrenError *reterr) {
        _cleanup_close_ int cfd = open_beneath(store_dirfd(s), container, O_RDONLY | O_DIRECTORY, false);
        if (cfd < 0)
                return warren_error_set(reterr, cfd == -ENOTDIR || cfd == -ELOOP ? -ENOENT : cfd,
                                        "Failed to open container '%s': %s", container, strerror(-cfd));
        if (make && mkdirat(cfd, SNAPSHOTS_DIR, 0700) < 0 && errno != EEXIST)
                return warren_error_set(reterr, errno, "Failed to create the snapshots of '%s': %m",
                                        container);
        int fd = open_beneath(cfd, SNAPSHOTS_DIR, O_RDONLY | O_DIRECTORY, false);
        if (fd == -ENOENT && !make)
                return -ENOENT;
        if (fd < 0)
                return warren_error_set(reterr, fd, "Failed to open the snapshots of '%s': %s", container,
                                        strerror(-fd));
        return fd;
}

/* N of "snapN" (also behind TMP_PREFIX), or -1. */
static long snap_number(const char *n) {
        if (strncmp(n, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
                n += strlen(TMP_PREFIX);
        if (strncmp(n, "snap", 4) != 0 || !n[4] || strspn(n + 4, "0123456789") != strlen(n + 4) ||
            strlen(n + 4) > 6 || (n[4] == '0' && n[5]))
                return -1;
        return strtol(n + 4, NULL, 10);
}

static int read_ts(int dfd, uint64_t *ret) {
        _cleanup_free_ char *t = NULL;
        struct tm tm = {};
        int r = read_full_file_at(dfd, TS_FILE, 256, 1, &t, NULL);
        if (r < 0)
                return r;
        if (sscanf(t, "%d:%d:%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec) != 6)
                return -EBADMSG;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t s = timegm(&tm);
        if (s < 0)
                return -EBADMSG;
        *ret = (uint64_t) s * 1000000ULL;
        return 0;
}

static int cmp_info(const void *a, const void *b) {
        const SnapshotInfo *x = a, *y = b;
        long nx = snap_number(x->name), ny = snap_number(y->name);
        if (nx >= 0 && ny >= 0)
                return nx < ny ? -1 : nx > ny;
        if ((nx >= 0) != (ny >= 0))
                return nx >= 0 ? -1 : 1;
        return strcmp(x->name, y->name);
}

int snapshot_list(Store *s, const char *container, SnapshotInfo **ret, size_t *ret_n, WarrenError *reterr) {
        SnapshotInfo *l = NULL;
        size_t n = 0;
        int fd = open_snaps(s, container, false, reterr);
        if (fd == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (fd < 0)
                return fd;
        _cleanup_(closedirp) DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -ENOMEM;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (!container_name_is_valid(de->d_name) || de->d_type != DT_DIR)
                        continue;
                _cleanup_close_ int sfd = open_beneath(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY, false);
                if (sfd < 0)
                        continue;
                SnapshotInfo *nl = reallocarray(l, n + 1, sizeof *l);
                if (!nl) {
                        snapshot_info_free_many(l, n);
                        return -ENOMEM;
                }
                l = nl;
                l[n] = (SnapshotInfo){ .name = strdup(de->d_name) };
                if (read_full_file_at(sfd, COMMENT_FILE, SNAPSHOT_COMMENT_MAX, 1, &l[n].comment, NULL) < 0)
                        l[n].comment = strdup("");
                (void) read_ts(sfd, &l[n].created_usec);
                n++;
                if (!l[n - 1].name || !l[n - 1].comment) {
                        snapshot_info_free_many(l, n);
                        return -ENOMEM;
                }
        }
        if (n > 0)
                qsort(l, n, sizeof *l, cmp_info);
        *ret = l;
        *ret_n = n;
        return 0;
}

struct SnapshotCreate {
        int snaps_fd;
        int fd; /* the temporary directory, locked */
        char *name, *tmp_name;
        bool committed;
};

SnapshotCreate *snapshot_create_abort(SnapshotCreate *c) {
        if (!c)
                return NULL;
        if (!c->committed && c->tmp_name && c->snaps_fd >= 0) {
                int r = rm_rf_at(c->snaps_fd, c->tmp_name);
                if (r < 0)
                        log_debug("Failed to remove '%s': %s", c->tmp_name, strerror(-r));
        }
        safe_close(c->fd);
        safe_close(c->snaps_fd);
        free(c->name);
        free(c->tmp_name);
        free(c);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(SnapshotCreate *, snapshot_create_abort);

/* Removes unlocked leftovers and finds the next free number. */
static int scan(int snaps_fd, long *ret_next, size_t *ret_count) {
        _cleanup_(closedirp) DIR *d = NULL;
        long next = 0;
        size_t count = 0;
        int r_dir = opendir_fd(snaps_fd, &d);
        if (r_dir < 0)
                return r_dir;
        for (struct dirent *de; (de = readdir(d));) {
                if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 ||
                    strncmp(de->d_name, DEL_PREFIX, strlen(DEL_PREFIX)) == 0) {
                        _cleanup_close_ int fd =
                                open_beneath(snaps_fd, de->d_name, O_RDONLY | O_DIRECTORY, false);
                        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
                                count++; /* in use: its name is taken */
                                next = MAX(next, snap_number(de->d_name) + 1);
                                continue;
                        }
                        (void) rm_rf_at(snaps_fd, de->d_name);
                        continue;
                }
                if (!container_name_is_valid(de->d_name))
                        continue;
                count++;
                next = MAX(next, snap_number(de->d_name) + 1);
        }
        *ret_next = next;
        *ret_count = count;
        return 0;
}

static int write_ts(int dfd, uint64_t now_usec) {
        char buf[64];
        struct tm tm;
        time_t t = (time_t) (now_usec / 1000000ULL);
        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y:%m:%d %H:%M:%S\n", &tm) == 0)
                return -EINVAL;
        return write_file_atomic_at(dfd, TS_FILE, buf, strlen(buf), 0644);
}

int snapshot_create_begin(Store *s, const char *container, const char *comment, uint64_t now_usec,
                          SnapshotCreate **ret, WarrenError *reterr) {
        _cleanup_(snapshot_create_abortp) SnapshotCreate *c = calloc(1, sizeof *c);
        _cleanup_free_ char *config = NULL;
        _cleanup_close_ int cfd = -EBADF;
        long next = 0;
        size_t count = 0;
        int r;

        if (!c)
                return -ENOMEM;
        c->fd = c->snaps_fd = -EBADF;
        r = snapshot_comment_validate(comment, reterr);
        if (r < 0)
                return r;
        cfd = open_beneath(store_dirfd(s), container, O_RDONLY | O_DIRECTORY, false);
        if (cfd < 0)
                return warren_error_set(reterr, cfd, "Failed to open container '%s': %s", container,
                                        strerror(-cfd));
        r = read_full_file_at(cfd, CONFIG_FILE, CONFIG_MAX, 1, &config, NULL);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the config of '%s': %s", container,
                                        strerror(-r));
        c->snaps_fd = open_snaps(s, container, true, reterr);
        if (c->snaps_fd < 0)
                return c->snaps_fd;
        r = scan(c->snaps_fd, &next, &count);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to list the snapshots of '%s': %s", container,
                                        strerror(-r));
        if (count >= SNAPSHOTS_MAX)
                return warren_error_set(reterr, EDQUOT, "Container '%s' has %zu snapshots: the limit is %u",
                                        container, count, SNAPSHOTS_MAX);
        if (asprintf(&c->name, "snap%ld", next) < 0 || asprintf(&c->tmp_name, TMP_PREFIX "%s", c->name) < 0)
                return -ENOMEM;
        if (mkdirat(c->snaps_fd, c->tmp_name, 0700) < 0) {
                r = -errno;
                free(c->tmp_name);
                c->tmp_name = NULL; /* not ours to remove */
                return warren_error_set(reterr, r, "Failed to create snapshot '%s' of '%s': %s", c->name,
                                        container, strerror(-r));
        }
        c->fd = open_beneath(c->snaps_fd, c->tmp_name, O_RDONLY | O_DIRECTORY, false);
        if (c->fd < 0)
                return warren_error_set(reterr, c->fd, "Failed to open snapshot '%s': %s", c->name,
                                        strerror(-c->fd));
        if (flock(c->fd, LOCK_EX | LOCK_NB) < 0)
                return warren_error_set(reterr, errno, "Failed to lock snapshot '%s': %m", c->name);
        r = write_file_atomic_at(c->fd, CONFIG_FILE, config, strlen(config), 0600);
        if (r >= 0)
                r = write_ts(c->fd, now_usec);
        if (r >= 0 && !isempty(comment))
                r = write_file_atomic_at(c->fd, COMMENT_FILE, comment, strlen(comment), 0644);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write snapshot '%s': %s", c->name,
                                        strerror(-r));
        *ret = TAKE_PTR(c);
        return 0;
}

const char *snapshot_create_name(const SnapshotCreate *c) {
        return c->name;
}

int snapshot_create_dirfd(const SnapshotCreate *c) {
        return c->fd;
}

int snapshot_create_commit(SnapshotCreate *c, WarrenError *reterr) {
        struct stat st;
        if (c->committed)
                return warren_error_set(reterr, EALREADY, "Snapshot '%s' was already committed", c->name);
        if (fstatat(c->fd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return warren_error_set(reterr, EPROTO, "Snapshot '%s' has no rootfs", c->name);
        if (renameat2(c->snaps_fd, c->tmp_name, c->snaps_fd, c->name, RENAME_NOREPLACE) < 0)
                return warren_error_set(reterr, errno, "Failed to move snapshot '%s' into place: %m",
                                        c->name);
        c->committed = true;
        (void) fsync(c->snaps_fd);
        return 0;
}

int snapshot_open(Store *s, const char *container, const char *name, int *ret_fd, WarrenError *reterr) {
        int r = snapshot_name_validate(name, reterr);
        if (r < 0)
                return r;
        _cleanup_close_ int sfd = open_snaps(s, container, false, reterr);
        if (sfd == -ENOENT)
                return warren_error_set(reterr, ENOENT, "Container '%s' has no snapshot '%s'", container,
                                        name);
        if (sfd < 0)
                return sfd;
        int fd = open_beneath(sfd, name, O_RDONLY | O_DIRECTORY, false);
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
                return warren_error_set(reterr, ENOENT, "Container '%s' has no snapshot '%s'", container,
                                        name);
        if (fd < 0)
                return warren_error_set(reterr, fd, "Failed to open snapshot '%s' of '%s': %s", name,
                                        container, strerror(-fd));
        *ret_fd = fd;
        return 0;
}

int snapshot_delete(Store *s, const char *container, const char *name, WarrenError *reterr) {
        _cleanup_free_ char *del = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint8_t rnd[4];
        int r = snapshot_open(s, container, name, &fd, reterr);
        if (r < 0)
                return r;
        fd = safe_close(fd);
        _cleanup_close_ int sfd = open_snaps(s, container, false, reterr);
        if (sfd < 0)
                return sfd;
        if (getrandom(rnd, sizeof rnd, GRND_INSECURE) != (ssize_t) sizeof rnd)
                memset(rnd, 0, sizeof rnd);
        if (asprintf(&del, DEL_PREFIX "%s.%02x%02x%02x%02x", name, rnd[0], rnd[1], rnd[2], rnd[3]) < 0)
                return -ENOMEM;
        /* Gone from listings at once, then removed. */
        if (renameat2(sfd, name, sfd, del, RENAME_NOREPLACE) < 0)
                return warren_error_set(reterr, errno, "Failed to remove snapshot '%s' of '%s': %m", name,
                                        container);
        r = rm_rf_at(sfd, del);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to remove snapshot '%s' of '%s': %s", name,
                                        container, strerror(-r));
        return 0;
}

/* ---- restoring in place ---- */

static int on_progress(uint64_t done, uint64_t total, void *userdata) {
        data_report_progress(userdata, "copy", done, total);
        return 0;
}

static bool still_stopped(const char *runtime_dir, const char *container) {
        _cleanup_close_ int fd = -EBADF;
        return monitor_connect(runtime_dir, container, false, &fd, NULL) == -ESRCH;
}

void restore_work_cleanup(int container_dirfd, const char *tmp_name) {
        _cleanup_free_ char *old = NULL;
        struct stat st;
        if (asprintf(&old, ".#old.%s", tmp_name + strspn(tmp_name, ".#")) < 0)
                return;
        /* Killed between the two renames: the old rootfs goes back. */
        if (fstatat(container_dirfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                (void) renameat2(container_dirfd, old, container_dirfd, "rootfs", RENAME_NOREPLACE);
        (void) rm_rf_at(container_dirfd, tmp_name);
        (void) rm_rf_at(container_dirfd, old);
}

int restore_work_run(DataReport *rep, void *userdata, WarrenError *reterr) {
        RestoreWork *w = userdata;
        _cleanup_free_ char *old = NULL;
        uint64_t bytes = 0;
        CopyStats stats = {};
        int r = data_worker_drop_privileges(true, reterr);
        if (r >= 0)
                r = copy_tree_measure(w->fds[0], ".", &bytes, NULL, reterr);
        if (r < 0)
                return r;
        const CopyOptions o = {
                .cow = w->cow, .bytes_total = bytes, .progress = on_progress, .userdata = rep
        };
        r = copy_tree(w->fds[0], ".", w->fds[1], w->tmp_name, &o, &stats, reterr);
        if (r < 0)
                return r;
        if (asprintf(&old, ".#old.%s", w->tmp_name + strspn(w->tmp_name, ".#")) < 0) {
                (void) rm_rf_at(w->fds[1], w->tmp_name);
                return -ENOMEM;
        }
        if (!still_stopped(w->runtime_dir, w->container)) {
                (void) rm_rf_at(w->fds[1], w->tmp_name);
                return warren_error_set(reterr, EBUSY, "Container '%s' was started meanwhile: not restored",
                                        w->container);
        }
        if (renameat2(w->fds[1], "rootfs", w->fds[1], old, RENAME_NOREPLACE) < 0) {
                r = warren_error_set(reterr, errno, "Failed to move the old rootfs of '%s' aside: %m",
                                     w->container);
                (void) rm_rf_at(w->fds[1], w->tmp_name);
                return r;
        }
        if (renameat2(w->fds[1], w->tmp_name, w->fds[1], "rootfs", RENAME_NOREPLACE) < 0 ||
            (r = write_file_atomic_at(w->fds[1], CONFIG_FILE, w->config, strlen(w->config), 0644)) < 0) {
                int e = r < 0 ? -r : errno;
                /* Back as it was: the old rootfs, the old config (not written). */
                (void) renameat2(w->fds[1], "rootfs", w->fds[1], w->tmp_name, RENAME_NOREPLACE);
                (void) renameat2(w->fds[1], old, w->fds[1], "rootfs", RENAME_NOREPLACE);
                (void) rm_rf_at(w->fds[1], w->tmp_name);
                return warren_error_set(reterr, e, "Failed to put the restored rootfs of '%s' in place: %s",
                                        w->container, strerror(e));
        }
        r = rm_rf_at(w->fds[1], old);
        if (r < 0)
                log_debug("Failed to remove the old rootfs: %s", strerror(-r));
        data_report_note(rep, "Restored with %s: %.1f MB", copy_how_to_string(stats.how),
                         (double) stats.bytes / 1e6);
        return 0;
}
