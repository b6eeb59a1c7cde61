/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PullFiles and PushFiles in a data worker (lib/file-transfer.h). */
#include <archive.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "fileio.h"
#include "archive-tree.h"
#include "copy.h"
#include "data-worker.h"
#include "file-transfer.h"
#include "idmap.h"
#include "image-unpack.h"
#include "log.h"
#include "monitor-client.h"
#include "store.h"

#define MONITOR_TIMEOUT_SEC 10

static int open_in_root(int rootfd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | O_NOCTTY),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* Into the container: its namespaces if it runs, its rootfs if not.
 * *ret_in_userns: we are its root in its user namespace now. */
static int enter(FileWork *w, int *ret_rootfd, bool *ret_in_userns, WarrenError *reterr) {
        _cleanup_close_ int mon = -EBADF, pidfd = -EBADF;
        MonitorMessage m = { .fd = -EBADF };
        bool running = false;
        int r = monitor_connect(w->runtime_dir, w->container, false, &mon, NULL);
        if (r >= 0) {
                struct timeval tv = { .tv_sec = MONITOR_TIMEOUT_SEC };
                (void) setsockopt(mon, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                r = monitor_get_state(mon, &m, NULL);
                monitor_message_done(&m);
                running = r >= 0 && m.state != MONITOR_STATE_STOPPED && m.init_pid > 0;
        }
        *ret_in_userns = false;
        if (!running) {
                int fd = fcntl(w->fds[1], F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open the rootfs of '%s': %m",
                                                w->container);
                *ret_rootfd = fd;
                return 0;
        }
        r = monitor_get_pidfd(mon, &pidfd, reterr);
        if (r < 0) {
                warren_error_prefix(reterr, "Failed to reach the init of '%s'", w->container);
                return r;
        }
        /* Its user namespace first: then we may join its mount namespace as its root. */
        if (setns(pidfd, CLONE_NEWNS | (w->idmap ? CLONE_NEWUSER : 0)) < 0)
                return warren_error_set(reterr, errno, "Failed to enter the namespaces of '%s': %m",
                                        w->container);
        if (w->idmap) {
                if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return warren_error_set(reterr, errno, "Failed to become the root of '%s': %m",
                                                w->container);
                *ret_in_userns = true;
        }
        int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || chdir("/") < 0) {
                safe_close(fd);
                return warren_error_set(reterr, errno, "Failed to open the root of '%s': %m", w->container);
        }
        *ret_rootfd = fd;
        return 0;
}

/* ---- pull ---- */

static int on_pull_progress(uint64_t done, void *userdata) {
        data_report_progress(userdata, "pull", done, 0);
        return 0;
}

static int pull(FileWork *w, int rootfd, bool in_userns, DataReport *rep, WarrenError *reterr) {
        struct archive *a = NULL;
        ArchiveTree t;
        const ArchiveTreeOptions o = {
                .shift = !in_userns && w->rootfs_shifted ? w->idmap : NULL,
                .recursive = w->recursive,
                .progress = on_pull_progress,
                .userdata = rep,
        };
        int r = archive_tree_new_writer(w->fds[0], "none", &a, reterr);
        if (r < 0)
                return r;
        r = archive_tree_init(&t, a, &o, reterr);
        for (char **p = w->paths; r >= 0 && *p; p++) {
                _cleanup_free_ char *copy = strdup(*p);
                _cleanup_close_ int pfd = -EBADF;
                if (!copy) {
                        r = -ENOMEM;
                        break;
                }
                size_t k = strlen(copy);
                while (k > 1 && copy[k - 1] == '/')
                        copy[--k] = 0;
                char *slash = strrchr(copy, '/');
                const char *base = slash + 1;
                *slash = 0;
                pfd = open_in_root(rootfd, slash == copy ? "/" : copy, O_RDONLY | O_DIRECTORY);
                if (pfd < 0) {
                        r = warren_error_set(reterr, pfd, "Failed to open '%s' in '%s': %s", *p,
                                             w->container, strerror(-pfd));
                        break;
                }
                if (faccessat(pfd, base, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = warren_error_set(reterr, errno, "Failed to open '%s' in '%s': %m", *p,
                                             w->container);
                        break;
                }
                r = archive_tree_add(&t, pfd, base, base);
                if (r < 0)
                        warren_error_prefix(reterr, "Pulling '%s'", *p);
        }
        archive_tree_done(&t);
        int k = archive_tree_finish(a, r < 0 ? NULL : reterr);
        return r < 0 ? r : k;
}

/* ---- push ---- */

/* What a caller who is not root may not push: setuid/setgid files. */
static int check_setid(int fd, char *path, size_t len, WarrenError *reterr) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r_dir = opendir_fd(fd, &d);
        if (r_dir < 0)
                return r_dir;
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                int k = snprintf(path + len, PATH_MAX - len, "%s%s", len ? "/" : "", de->d_name);
                if (k < 0 || (size_t) k >= PATH_MAX - len)
                        return warren_error_set(reterr, ENAMETOOLONG, "Path too long below '%s'", path);
                if (!S_ISDIR(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)))
                        return warren_error_set(
                                reterr, EPERM,
                                "Refusing '%s': setuid and setgid files may only be pushed by root", path);
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int cfd = open_beneath(fd, de->d_name, O_RDONLY | O_DIRECTORY, true);
                        if (cfd < 0)
                                return cfd;
                        int r = check_setid(cfd, path, len + (size_t) k, reterr);
                        if (r < 0)
                                return r;
                }
                path[len] = 0;
        }
        return 0;
}

/* Whether every entry of src can move into dst: a directory meets a
 * directory (then the same below), anything else replaces a non-directory,
 * all on one filesystem. */
static int merge_check(int src, int dst, char *path, size_t len, WarrenError *reterr) {
        struct stat dst_st;
        if (fstat(dst, &dst_st) < 0)
                return -errno;
        _cleanup_(closedirp) DIR *d = NULL;
        int r_dir = opendir_fd(src, &d);
        if (r_dir < 0)
                return r_dir;
        for (struct dirent *de; (de = readdir(d));) {
                struct stat s, t;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int k = snprintf(path + len, PATH_MAX - len, "%s%s", len ? "/" : "", de->d_name);
                if (k < 0 || (size_t) k >= PATH_MAX - len)
                        return warren_error_set(reterr, ENAMETOOLONG, "Path too long below '%s'", path);
                if (fstatat(src, de->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (fstatat(dst, de->d_name, &t, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                return warren_error_set(reterr, errno, "Failed to look at '%s': %m", path);
                } else if (t.st_dev != dst_st.st_dev)
                        return warren_error_set(reterr, EXDEV,
                                                "Refusing to push onto '%s': it is a mount point", path);
                else if (S_ISDIR(s.st_mode) != S_ISDIR(t.st_mode))
                        return warren_error_set(reterr, S_ISDIR(t.st_mode) ? EISDIR : ENOTDIR,
                                                "Refusing to push '%s': a %s is there", path,
                                                S_ISDIR(t.st_mode) ? "directory"
                                                                   : "file that is no directory");
                else if (S_ISDIR(s.st_mode)) {
                        _cleanup_close_ int sfd = open_beneath(src, de->d_name, O_RDONLY | O_DIRECTORY,
                                                               true),
                                            dfd = open_beneath(dst, de->d_name, O_RDONLY | O_DIRECTORY,
                                                               true);
                        if (sfd < 0 || dfd < 0)
                                return warren_error_set(reterr, sfd < 0 ? sfd : dfd,
                                                        "Failed to open '%s': %s", path,
                                                        strerror(-(sfd < 0 ? sfd : dfd)));
                        int r = merge_check(sfd, dfd, path, len + (size_t) k, reterr);
                        if (r < 0)
                                return r;
                }
                path[len] = 0;
        }
        return 0;
}

/* Moves what merge_check() accepted: new names and non-directories by
 * rename(), directories that exist already by their contents. */
static int merge_move(int src, int dst, WarrenError *reterr) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r_dir = opendir_fd(src, &d);
        if (r_dir < 0)
                return r_dir;
        for (struct dirent *de; (de = readdir(d));) {
                struct stat t;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dst, de->d_name, &t, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(t.st_mode)) {
                        _cleanup_close_ int sfd = open_beneath(src, de->d_name, O_RDONLY | O_DIRECTORY,
                                                               true),
                                            dfd = open_beneath(dst, de->d_name, O_RDONLY | O_DIRECTORY,
                                                               true);
                        if (sfd < 0 || dfd < 0)
                                return warren_error_set(reterr, sfd < 0 ? sfd : dfd,
                                                        "Failed to open '%s': %s", de->d_name,
                                                        strerror(-(sfd < 0 ? sfd : dfd)));
                        int r = merge_move(sfd, dfd, reterr);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (renameat(src, de->d_name, dst, de->d_name) < 0)
                        return warren_error_set(reterr, errno, "Failed to put '%s' in place: %m",
                                                de->d_name);
        }
        return 0;
}

/* The container's id ranges as ids on both sides: push checks ids against
 * them without shifting (in its user namespace, or into a rootfs that holds
 * container ids). */
static int identity_ranges(const Idmap *m, ImageIdRange **ret, size_t *ret_n) {
        ImageIdRange *l = calloc(2 * m->n + 1, sizeof *l);
        size_t n = 0;
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < m->n; i++)
                for (int gid = 0; gid <= 1; gid++)
                        if (m->lines[i].kind & (gid ? IDMAP_GID : IDMAP_UID))
                                l[n++] = (ImageIdRange){ .gid = gid,
                                                         .ns_id = m->lines[i].nsid,
                                                         .host_id = m->lines[i].nsid,
                                                         .count = m->lines[i].count };
        *ret = l;
        *ret_n = n;
        return 0;
}

static int mapping_ranges(const Idmap *m, ImageIdRange **ret, size_t *ret_n) {
        int r = identity_ranges(m, ret, ret_n);
        if (r < 0)
                return r;
        size_t k = 0;
        for (size_t i = 0; i < m->n; i++)
                for (int gid = 0; gid <= 1; gid++)
                        if (m->lines[i].kind & (gid ? IDMAP_GID : IDMAP_UID))
                                (*ret)[k++].host_id = m->lines[i].hostid;
        return 0;
}

static int on_push_progress(uint64_t done, uint64_t total, void *userdata) {
        data_report_progress(userdata, "push", done, total);
        return 0;
}

static int push(FileWork *w, int rootfd, bool in_userns, DataReport *rep, WarrenError *reterr) {
        _cleanup_close_ int dest = -EBADF, tfd = -EBADF;
        _cleanup_free_ ImageIdRange *ranges = NULL;
        _cleanup_free_ char *tmp = NULL, *path = malloc(PATH_MAX);
        ImageUnpackStats stats = {};
        size_t n_ranges = 0;
        uint32_t rnd = 0;
        int r;

        if (!path)
                return -ENOMEM;
        dest = open_in_root(rootfd, w->dest_dir, O_RDONLY | O_DIRECTORY);
        if (dest < 0)
                return warren_error_set(reterr, dest, "Failed to open '%s' in '%s': %s", w->dest_dir,
                                        w->container, strerror(-dest));
        if (w->idmap) {
                r = !in_userns && w->rootfs_shifted ? mapping_ranges(w->idmap, &ranges, &n_ranges)
                                                    : identity_ranges(w->idmap, &ranges, &n_ranges);
                if (r < 0)
                        return r;
        }
        (void) getrandom(&rnd, sizeof rnd, GRND_INSECURE);
        if (asprintf(&tmp, ".#push.%08x", rnd) < 0)
                return -ENOMEM;
        const ImageUnpackOptions o = {
                .allow_devices = w->caller_root && !w->idmap,
                .idmap = ranges,
                .n_idmap = n_ranges,
                .progress = on_push_progress,
                .userdata = rep,
        };
        r = image_unpack(w->fds[0], dest, tmp, &o, &stats, reterr);
        if (r < 0)
                return r;
        tfd = open_beneath(dest, tmp, O_RDONLY | O_DIRECTORY, true);
        if (tfd < 0)
                r = warren_error_set(reterr, tfd, "Failed to open what was pushed: %s", strerror(-tfd));
        else if (stats.skipped > 0)
                r = warren_error_set(reterr, EPERM,
                                     "Refusing the stream: it holds %llu device node%s; only root may "
                                     "push device nodes into a privileged container",
                                     (unsigned long long) stats.skipped, stats.skipped == 1 ? "" : "s");
        if (r >= 0 && !w->caller_root) {
                path[0] = 0;
                r = check_setid(tfd, path, 0, reterr);
        }
        if (r >= 0) {
                path[0] = 0;
                r = merge_check(tfd, dest, path, 0, reterr);
        }
        if (r >= 0)
                r = merge_move(tfd, dest, reterr);
        int k = rm_rf_at(dest, tmp);
        if (k < 0)
                log_debug("Failed to remove '%s': %s", tmp, strerror(-k));
        if (r >= 0)
                data_report_note(rep, "Pushed %llu entries, %.1f MB into '%s'",
                                 (unsigned long long) stats.entries, (double) stats.bytes / 1e6,
                                 w->dest_dir);
        return r;
}

int file_work_run(DataReport *rep, void *userdata, WarrenError *reterr) {
        FileWork *w = userdata;
        _cleanup_close_ int rootfd = -EBADF;
        bool in_userns = false;
        int r = enter(w, &rootfd, &in_userns, reterr);
        if (r >= 0)
                r = data_worker_drop_privileges(w->push && w->caller_root && !w->idmap, reterr);
        if (r < 0)
                return r;
        return w->push ? push(w, rootfd, in_userns, rep, reterr) : pull(w, rootfd, in_userns, rep, reterr);
}
