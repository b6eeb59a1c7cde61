/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fileio.h"
#include "copy.h"
#include "inode-table.h"
#include "log.h"
#include "store.h"

#define REPORT_EVERY_BYTES (8U * 1024U * 1024U)
#define COPY_CHUNK (64U * 1024U * 1024U)
#define BTRFS_FIRST_FREE_OBJECTID 256ULL
#define STATX_WANT (STATX_BASIC_STATS | STATX_MNT_ID)

static const char *const how_names[_COPY_HOW_MAX] = {
        [COPY_HOW_COPY] = "a plain copy",
        [COPY_HOW_REFLINK] = "reflinks",
        [COPY_HOW_REFLINK_MIXED] = "reflinks where possible, copies elsewhere",
        [COPY_HOW_SNAPSHOT] = "a btrfs subvolume snapshot",
};

const char *copy_how_to_string(CopyHow h) {
        return h >= 0 && h < _COPY_HOW_MAX ? how_names[h] : NULL;
}

int open_beneath(int dirfd, const char *path, int flags, bool no_xdev) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                           (no_xdev ? RESOLVE_NO_XDEV : 0),
        };
        int fd = (int) syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* ---- xattrs ---- */

static void proc_fd_path(char buf[static 64], int fd) {
        snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

static ssize_t xlist(int fd, bool o_path, char *buf, size_t size) {
        char p[64];
        if (!o_path)
                return flistxattr(fd, buf, size);
        proc_fd_path(p, fd);
        /* The magic link leads to the inode itself, symlinks included. */
        return listxattr(p, buf, size);
}

static ssize_t xget(int fd, bool o_path, const char *name, void *buf, size_t size) {
        char p[64];
        if (!o_path)
                return fgetxattr(fd, name, buf, size);
        proc_fd_path(p, fd);
        return getxattr(p, name, buf, size);
}

static int xset(int fd, bool o_path, const char *name, const void *value, size_t size) {
        char p[64];
        if (!o_path)
                return fsetxattr(fd, name, value, size, 0) < 0 ? -errno : 0;
        proc_fd_path(p, fd);
        return setxattr(p, name, value, size, 0) < 0 ? -errno : 0;
}

void xattr_list_done(XattrList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->entries[i].value);
        free(l->entries);
        free(l->names);
        *l = (XattrList){};
}

static bool xattr_unsupported(int e) {
        return e == EOPNOTSUPP || e == ENOTSUP;
}

static int read_names(int fd, bool o_path, XattrList *l) {
        for (unsigned attempt = 0; attempt < 8; attempt++) {
                ssize_t n = xlist(fd, o_path, NULL, 0);
                if (n < 0)
                        return xattr_unsupported(errno) ? 0 : -errno;
                if (n == 0)
                        return 0;
                free(l->names);
                l->names = malloc((size_t) n);
                if (!l->names)
                        return -ENOMEM;
                ssize_t k = xlist(fd, o_path, l->names, (size_t) n);
                if (k < 0 && errno == ERANGE)
                        continue; /* grew meanwhile */
                if (k < 0)
                        return -errno;
                l->names_size = (size_t) k;
                return 0;
        }
        return -EBUSY;
}

static int read_value(int fd, bool o_path, const char *name, uint8_t **ret, size_t *ret_size) {
        for (unsigned attempt = 0; attempt < 8; attempt++) {
                ssize_t n = xget(fd, o_path, name, NULL, 0);
                if (n < 0)
                        return -errno;
                uint8_t *v = malloc(MAX((size_t) n, (size_t) 1));
                if (!v)
                        return -ENOMEM;
                ssize_t k = xget(fd, o_path, name, v, (size_t) n);
                if (k < 0) {
                        int e = errno;
                        free(v);
                        if (e == ERANGE)
                                continue;
                        return -e;
                }
                *ret = v;
                *ret_size = (size_t) k;
                return 0;
        }
        return -EBUSY;
}

int xattr_list_read(int fd, bool o_path, XattrList *ret, WarrenError *reterr) {
        XattrList l = {};
        size_t count = 0;
        int r = read_names(fd, o_path, &l);
        if (r < 0) {
                xattr_list_done(&l);
                return warren_error_set(reterr, r, "Failed to list xattrs: %s", strerror(-r));
        }
        for (size_t off = 0; off < l.names_size; off += strlen(l.names + off) + 1)
                count++;
        if (count > 0 && !(l.entries = calloc(count, sizeof *l.entries))) {
                xattr_list_done(&l);
                return -ENOMEM;
        }
        for (size_t off = 0; off < l.names_size; off += strlen(l.names + off) + 1) {
                const char *name = l.names + off;
                struct XattrEntry *e = &l.entries[l.n];
                if (!*name)
                        continue;
                r = read_value(fd, o_path, name, &e->value, &e->size);
                if (r == -ENODATA)
                        continue; /* removed meanwhile */
                if (r < 0) {
                        xattr_list_done(&l);
                        return warren_error_set(reterr, r, "Failed to read xattr %s: %s", name,
                                                strerror(-r));
                }
                e->name = name;
                l.n++;
        }
        *ret = l;
        return 0;
}

/* ---- the copy ---- */

typedef struct Copy {
        const CopyOptions *o;
        CopyStats stats;
        int dst_root_fd;
        uint64_t mnt_id;
        InodeTable *links;
        char *path; /* relative to the top, for messages and hardlinks */
        size_t path_len, path_alloc;
        uint64_t since_report;
        bool no_clone, no_copy_range;
        WarrenError *reterr;
} Copy;

static int path_push(Copy *c, const char *name, size_t *ret_saved) {
        size_t k = strlen(name), need = c->path_len + k + 2;
        if (need > c->path_alloc) {
                size_t na = MAX(need, c->path_alloc * 2);
                char *p = realloc(c->path, na);
                if (!p)
                        return -ENOMEM;
                c->path = p;
                c->path_alloc = na;
        }
        *ret_saved = c->path_len;
        if (c->path_len > 0)
                c->path[c->path_len++] = '/';
        memcpy(c->path + c->path_len, name, k + 1);
        c->path_len += k;
        return 0;
}

static void path_pop(Copy *c, size_t saved) {
        c->path_len = saved;
        if (c->path)
                c->path[saved] = 0;
}

static const char *cur_path(const Copy *c) {
        return c->path_len > 0 ? c->path : ".";
}

static int fail(Copy *c, int r, const char *what) {
        return warren_error_set(c->reterr, r, "Failed to %s '%s': %s", what, cur_path(c), strerror(-r));
}

static int report(Copy *c, uint64_t bytes) {
        c->stats.bytes += bytes;
        c->since_report += bytes;
        if (!c->o->progress || c->since_report < REPORT_EVERY_BYTES)
                return 0;
        c->since_report = 0;
        if (c->o->progress(c->stats.bytes, c->o->bytes_total, c->o->userdata) < 0)
                return warren_error_set(c->reterr, ECANCELED, "Copy canceled");
        return 0;
}

static int stat_entry(int dirfd, const char *name, struct statx *sx) {
        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_WANT, sx) < 0)
                return -errno;
        return 0;
}

static bool is_mount(const Copy *c, const struct statx *sx) {
        if ((sx->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
            (sx->stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return true;
        return (sx->stx_mask & STATX_MNT_ID) && sx->stx_mnt_id != c->mnt_id;
}

/* The file we opened is the one we looked at. */
static int check_same(Copy *c, int fd, const struct statx *sx) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return fail(c, -errno, "stat");
        if (st.st_ino != sx->stx_ino || (st.st_mode & S_IFMT) != (sx->stx_mode & S_IFMT))
                return warren_error_set(c->reterr, EAGAIN, "'%s' changed while it was copied", cur_path(c));
        return 0;
}

static int copy_xattrs(Copy *c, int sfd, bool s_opath, int dfd, bool d_opath) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        XattrList l;
        int r = xattr_list_read(sfd, s_opath, &l, &err);
        if (r < 0)
                return warren_error_set(c->reterr, r, "'%s': %s", cur_path(c), warren_error_message(&err));
        for (size_t i = 0; i < l.n && r >= 0; i++) {
                r = xset(dfd, d_opath, l.entries[i].name, l.entries[i].value, l.entries[i].size);
                if (r == -EPERM && strncmp(l.entries[i].name, "trusted.", 8) == 0) {
                        c->stats.xattrs_lost++;
                        r = 0;
                } else if (r < 0)
                        r = warren_error_set(c->reterr, r, "Failed to set xattr %s on '%s': %s",
                                             l.entries[i].name, cur_path(c), strerror(-r));
        }
        xattr_list_done(&l);
        return r;
}

/* Owner, mode, xattrs, times, in that order: chown() clears setuid bits and
 * file capabilities. dfd is the new inode's fd (O_PATH if d_opath); times
 * are set through dirfd/name for symlinks. */
static int apply_attrs(Copy *c, int sfd, bool s_opath, int dfd, bool d_opath, int dirfd, const char *name,
                       const struct statx *sx) {
        bool lnk = S_ISLNK(sx->stx_mode);
        const struct timespec ts[2] = {
                { .tv_sec = sx->stx_atime.tv_sec, .tv_nsec = sx->stx_atime.tv_nsec },
                { .tv_sec = sx->stx_mtime.tv_sec, .tv_nsec = sx->stx_mtime.tv_nsec },
        };
        int r;
        if ((d_opath ? fchownat(dirfd, name, sx->stx_uid, sx->stx_gid, AT_SYMLINK_NOFOLLOW)
                     : fchown(dfd, sx->stx_uid, sx->stx_gid)) < 0)
                return fail(c, -errno, "set the owner of");
        /* fchmodat() follows symlinks, but name is one we just made in our own tree. */
        if (!lnk && (d_opath ? fchmodat(dirfd, name, sx->stx_mode & 07777, 0)
                             : fchmod(dfd, sx->stx_mode & 07777)) < 0)
                return fail(c, -errno, "set the mode of");
        if (sfd >= 0) {
                r = copy_xattrs(c, sfd, s_opath, dfd, d_opath);
                if (r < 0)
                        return r;
        }
        if ((d_opath ? utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) : futimens(dfd, ts)) < 0)
                return fail(c, -errno, "set the times of");
        return 0;
}

static int copy_range(Copy *c, int sfd, int dfd, off_t off, off_t end) {
        static uint8_t buf[256 * 1024];
        while (off < end) {
                size_t len = (size_t) MIN((off_t) COPY_CHUNK, end - off);
                ssize_t n = -1;
                if (!c->no_copy_range) {
                        loff_t in = off, out = off;
                        n = copy_file_range(sfd, &in, dfd, &out, len, 0);
                        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                                      errno == EOPNOTSUPP || errno == ETXTBSY))
                                c->no_copy_range = true;
                        else if (n < 0)
                                return fail(c, -errno, "copy");
                }
                if (c->no_copy_range) {
                        n = pread(sfd, buf, MIN(len, sizeof buf), off);
                        if (n < 0)
                                return fail(c, -errno, "read");
                        if (n > 0) {
                                ssize_t w = pwrite(dfd, buf, (size_t) n, off);
                                if (w < 0)
                                        return fail(c, -errno, "write");
                                if (w != n)
                                        return fail(c, -EIO, "write");
                        }
                }
                if (n == 0)
                        return 0; /* it shrank: the size is set at the end anyway */
                off += n;
                int r = report(c, (uint64_t) n);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Data extents only: holes stay holes. */
static int copy_data(Copy *c, int sfd, int dfd, uint64_t size) {
        int r;
        if (size == 0)
                return 0;
        if (c->o->cow && !c->no_clone) {
                if (ioctl(dfd, FICLONE, sfd) >= 0) {
                        c->stats.files_cloned++;
                        return report(c, size);
                }
                if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EXDEV || errno == ENOSYS)
                        c->no_clone = true;
                else if (errno != EINVAL)
                        return fail(c, -errno, "clone");
        }
        c->stats.files_copied++;
        off_t pos = 0;
        for (;;) {
                off_t data = lseek(sfd, pos, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break; /* only a hole is left */
                if (data < 0) {
                        /* No SEEK_DATA here: everything is data. */
                        r = copy_range(c, sfd, dfd, pos, (off_t) size);
                        if (r < 0)
                                return r;
                        break;
                }
                off_t hole = lseek(sfd, data, SEEK_HOLE);
                if (hole < 0)
                        hole = (off_t) size;
                r = copy_range(c, sfd, dfd, data, hole);
                if (r < 0)
                        return r;
                if ((uint64_t) hole >= size)
                        break;
                pos = hole;
        }
        if (ftruncate(dfd, (off_t) size) < 0)
                return fail(c, -errno, "set the size of");
        return 0;
}

/* A second name of an inode copied before: 1 if linked. */
static int try_hardlink(Copy *c, int dirfd, const char *name, const struct statx *sx) {
        const char *first = NULL;
        if (S_ISDIR(sx->stx_mode) || sx->stx_nlink < 2)
                return 0;
        int r = inode_table_put(c->links, makedev(sx->stx_dev_major, sx->stx_dev_minor), sx->stx_ino,
                                c->path, &first);
        if (r < 0)
                return r;
        if (!first)
                return 0;
        /* first is a path we created ourselves in the new tree: only our own directories lead there. */
        if (linkat(c->dst_root_fd, first, dirfd, name, 0) < 0)
                return fail(c, -errno, "hardlink");
        c->stats.hardlinks++;
        return 1;
}

static int copy_children(Copy *c, int sfd, int dfd, unsigned depth);

static int copy_dir(Copy *c, int sdirfd, int ddirfd, const char *name, const struct statx *sx,
                    unsigned depth) {
        _cleanup_close_ int s = -EBADF, d = -EBADF;
        bool mounted = is_mount(c, sx);
        int r;
        if (!mounted) {
                if (depth + 1 > COPY_MAX_DEPTH)
                        return warren_error_set(c->reterr, ELOOP,
                                                "Refusing to copy '%s': deeper than %u levels", cur_path(c),
                                                COPY_MAX_DEPTH);
                s = open_beneath(sdirfd, name, O_RDONLY | O_DIRECTORY, true);
                if (s == -EXDEV)
                        mounted = true;
                else if (s < 0)
                        return fail(c, s, "open");
                else if ((r = check_same(c, s, sx)) < 0)
                        return r;
        }
        if (mkdirat(ddirfd, name, 0700) < 0)
                return fail(c, -errno, "create");
        d = open_beneath(ddirfd, name, O_RDONLY | O_DIRECTORY, false);
        if (d < 0)
                return fail(c, d, "open the copy of");
        c->stats.entries++;
        if (mounted)
                c->stats.skipped_mounts++; /* an empty directory, as the mount point's root looks */
        else if ((r = copy_children(c, s, d, depth + 1)) < 0)
                return r;
        return apply_attrs(c, s, false, d, false, ddirfd, name, sx);
}

static int copy_regular(Copy *c, int sdirfd, int ddirfd, const char *name, const struct statx *sx) {
        _cleanup_close_ int s = -EBADF, d = -EBADF;
        int r;
        if (is_mount(c, sx)) {
                c->stats.skipped_mounts++; /* a bind-mounted file is not ours to copy */
                return 0;
        }
        s = open_beneath(sdirfd, name, O_RDONLY | O_NONBLOCK | O_NOATIME, true);
        if (s == -EPERM)
                s = open_beneath(sdirfd, name, O_RDONLY | O_NONBLOCK, true);
        if (s == -EXDEV) {
                c->stats.skipped_mounts++;
                return 0;
        }
        if (s < 0)
                return fail(c, s, "open");
        r = check_same(c, s, sx);
        if (r < 0)
                return r;
        d = openat(ddirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (d < 0)
                return fail(c, -errno, "create");
        c->stats.entries++;
        r = copy_data(c, s, d, sx->stx_size);
        if (r < 0)
                return r;
        return apply_attrs(c, s, false, d, false, ddirfd, name, sx);
}

/* Symlinks, device nodes, FIFOs, sockets: made by name, attributes set
 * through O_PATH fds. */
static int copy_other(Copy *c, int sdirfd, int ddirfd, const char *name, const struct statx *sx) {
        _cleanup_close_ int s = -EBADF, d = -EBADF;
        if (is_mount(c, sx)) {
                c->stats.skipped_mounts++;
                return 0;
        }
        if (S_ISLNK(sx->stx_mode)) {
                char target[PATH_MAX + 1];
                ssize_t n = readlinkat(sdirfd, name, target, sizeof target);
                if (n < 0)
                        return fail(c, -errno, "read the symlink");
                if ((size_t) n >= sizeof target)
                        return fail(c, -ENAMETOOLONG, "read the symlink");
                target[n] = 0;
                if (symlinkat(target, ddirfd, name) < 0)
                        return fail(c, -errno, "create the symlink");
        } else if (mknodat(ddirfd, name, (sx->stx_mode & S_IFMT) | 0600,
                           makedev(sx->stx_rdev_major, sx->stx_rdev_minor)) < 0)
                return fail(c, -errno, "create the node");
        c->stats.entries++;
        s = open_beneath(sdirfd, name, O_PATH | O_NOFOLLOW, true);
        if (s < 0 && s != -ENOENT)
                return fail(c, s, "open");
        d = open_beneath(ddirfd, name, O_PATH | O_NOFOLLOW, false);
        if (d < 0)
                return fail(c, d, "open the copy of");
        return apply_attrs(c, s, true, d, true, ddirfd, name, sx);
}

static int copy_entry(Copy *c, int sdirfd, int ddirfd, const char *name, unsigned depth) {
        struct statx sx;
        size_t saved;
        int r = path_push(c, name, &saved);
        if (r < 0)
                return r;
        r = stat_entry(sdirfd, name, &sx);
        if (r == -ENOENT)
                r = 0; /* gone meanwhile (a running container's file) */
        else if (r < 0)
                r = fail(c, r, "stat");
        else {
                r = try_hardlink(c, ddirfd, name, &sx);
                if (r == 0) {
                        if (S_ISDIR(sx.stx_mode))
                                r = copy_dir(c, sdirfd, ddirfd, name, &sx, depth);
                        else if (S_ISREG(sx.stx_mode))
                                r = copy_regular(c, sdirfd, ddirfd, name, &sx);
                        else
                                r = copy_other(c, sdirfd, ddirfd, name, &sx);
                }
        }
        path_pop(c, saved);
        return r < 0 ? r : 0;
}

static int copy_children(Copy *c, int sfd, int dfd, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r_dir = opendir_fd(sfd, &d);
        if (r_dir < 0)
                return fail(c, r_dir, "read");
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return fail(c, -errno, "read");
                        return 0;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int r = copy_entry(c, sfd, dfd, de->d_name, depth);
                if (r < 0)
                        return r;
        }
}

/* Nested subvolumes are empty directories in a snapshot: 1 if there is one. */
static int has_nested_subvolume(int fd, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r_dir = opendir_fd(fd, &d);
        if (r_dir < 0)
                return r_dir;
        if (depth > COPY_MAX_DEPTH)
                return 1;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_close_ int cfd = open_beneath(fd, de->d_name, O_RDONLY | O_DIRECTORY, true);
                struct stat st;
                if (cfd < 0 || fstat(cfd, &st) < 0)
                        return 1; /* a mount or a race: no snapshot */
                if (st.st_ino == BTRFS_FIRST_FREE_OBJECTID)
                        return 1;
                int r = has_nested_subvolume(cfd, depth + 1);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* 1 if the source is a btrfs subvolume and was snapshotted to dst_name.
 * (f_fsid differs between subvolumes: another filesystem fails with EXDEV.) */
static int try_btrfs_snapshot(int sfd, int dst_dirfd, const char *dst_name) {
        struct statfs ss, ds;
        struct stat st;
        if (fstatfs(sfd, &ss) < 0 || fstatfs(dst_dirfd, &ds) < 0 || fstat(sfd, &st) < 0)
                return 0;
        if ((unsigned long) ss.f_type != BTRFS_SUPER_MAGIC ||
            (unsigned long) ds.f_type != BTRFS_SUPER_MAGIC || st.st_ino != BTRFS_FIRST_FREE_OBJECTID ||
            strlen(dst_name) >= BTRFS_SUBVOL_NAME_MAX)
                return 0;
        if (has_nested_subvolume(sfd, 0) != 0)
                return 0;
        struct btrfs_ioctl_vol_args_v2 args = { .fd = sfd };
        memcpy(args.name, dst_name, strlen(dst_name) + 1);
        if (ioctl(dst_dirfd, BTRFS_IOC_SNAP_CREATE_V2, &args) < 0) {
                log_debug("btrfs snapshot to '%s' failed, copying instead: %m", dst_name);
                return 0;
        }
        return 1;
}

int copy_tree(int src_dirfd, const char *src_path, int dst_dirfd, const char *dst_name, const CopyOptions *o,
              CopyStats *ret, WarrenError *reterr) {
        static const CopyOptions defaults = {};
        _cleanup_close_ int s = -EBADF, d = -EBADF;
        Copy c = { .o = o ?: &defaults, .reterr = reterr, .dst_root_fd = -EBADF };
        struct statx sx;
        int r;

        if (isempty(dst_name) || strchr(dst_name, '/') || streq(dst_name, ".") || streq(dst_name, ".."))
                return warren_error_set(reterr, EINVAL, "Invalid copy target name '%s'", strempty(dst_name));
        s = open_beneath(src_dirfd, src_path, O_RDONLY | O_DIRECTORY, false);
        if (s < 0)
                return warren_error_set(reterr, s, "Failed to open '%s' to copy it: %s", src_path,
                                        strerror(-s));
        if (statx(s, "", AT_EMPTY_PATH, STATX_WANT, &sx) < 0)
                return warren_error_set(reterr, errno, "Failed to stat '%s': %m", src_path);
        if (fstatat(dst_dirfd, dst_name, &(struct stat){}, AT_SYMLINK_NOFOLLOW) >= 0)
                return warren_error_set(reterr, EEXIST, "Copy target '%s' already exists", dst_name);

        if (c.o->cow && try_btrfs_snapshot(s, dst_dirfd, dst_name) > 0) {
                if (ret)
                        *ret = (CopyStats){ .how = COPY_HOW_SNAPSHOT, .bytes = c.o->bytes_total };
                return 0;
        }

        c.mnt_id = sx.stx_mnt_id;
        c.links = inode_table_new();
        if (!c.links)
                return -ENOMEM;
        if (mkdirat(dst_dirfd, dst_name, 0700) < 0) {
                inode_table_free(c.links);
                return warren_error_set(reterr, errno, "Failed to create '%s': %m", dst_name);
        }
        d = open_beneath(dst_dirfd, dst_name, O_RDONLY | O_DIRECTORY, false);
        if (d < 0)
                r = warren_error_set(reterr, d, "Failed to open '%s': %s", dst_name, strerror(-d));
        else {
                c.dst_root_fd = d;
                r = copy_children(&c, s, d, 0);
                if (r >= 0)
                        r = apply_attrs(&c, s, false, d, false, dst_dirfd, dst_name, &sx);
        }
        inode_table_free(c.links);
        free(c.path);
        if (r < 0) {
                d = safe_close(d);
                int k = rm_rf_at(dst_dirfd, dst_name);
                if (k < 0)
                        log_debug("Failed to remove the partial copy '%s': %s", dst_name, strerror(-k));
                if (r == -ENOMEM)
                        warren_error_set(reterr, r, "Out of memory while copying '%s'", src_path);
                return r;
        }
        c.stats.how = c.stats.files_cloned == 0   ? COPY_HOW_COPY
                      : c.stats.files_copied == 0 ? COPY_HOW_REFLINK
                                                  : COPY_HOW_REFLINK_MIXED;
        if (c.o->progress)
                (void) c.o->progress(c.stats.bytes, MAX(c.o->bytes_total, c.stats.bytes), c.o->userdata);
        if (ret)
                *ret = c.stats;
        return 0;
}

/* ---- measuring ---- */

typedef struct Measure {
        uint64_t mnt_id, bytes, entries;
        InodeTable *links;
} Measure;

static int measure_dir(Measure *m, int fd, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r_dir = opendir_fd(fd, &d);
        if (r_dir < 0)
                return r_dir;
        if (depth > COPY_MAX_DEPTH)
                return -ELOOP;
        for (struct dirent *de; (de = readdir(d));) {
                struct statx sx;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (stat_entry(fd, de->d_name, &sx) < 0)
                        continue;
                if ((sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id != m->mnt_id)
                        continue;
                if (!S_ISDIR(sx.stx_mode) && sx.stx_nlink > 1) {
                        const char *first = NULL;
                        int r = inode_table_put(m->links, makedev(sx.stx_dev_major, sx.stx_dev_minor),
                                                sx.stx_ino, "", &first);
                        if (r < 0)
                                return r;
                        if (first)
                                continue;
                }
                m->entries++;
                if (S_ISREG(sx.stx_mode))
                        m->bytes += MIN(sx.stx_size, sx.stx_blocks * 512ULL);
                if (S_ISDIR(sx.stx_mode)) {
                        _cleanup_close_ int cfd = open_beneath(fd, de->d_name, O_RDONLY | O_DIRECTORY, true);
                        if (cfd < 0)
                                continue;
                        int r = measure_dir(m, cfd, depth + 1);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int copy_tree_measure(int dirfd, const char *path, uint64_t *ret_bytes, uint64_t *ret_entries,
                      WarrenError *reterr) {
        _cleanup_close_ int fd = open_beneath(dirfd, path, O_RDONLY | O_DIRECTORY, false);
        struct statx sx;
        Measure m = {};
        if (fd < 0)
                return warren_error_set(reterr, fd, "Failed to open '%s': %s", path, strerror(-fd));
        if (statx(fd, "", AT_EMPTY_PATH, STATX_WANT, &sx) < 0)
                return warren_error_set(reterr, errno, "Failed to stat '%s': %m", path);
        m.mnt_id = sx.stx_mnt_id;
        m.links = inode_table_new();
        if (!m.links)
                return -ENOMEM;
        int r = measure_dir(&m, fd, 0);
        inode_table_free(m.links);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to measure '%s': %s", path, strerror(-r));
        if (ret_bytes)
                *ret_bytes = m.bytes;
        if (ret_entries)
                *ret_entries = m.entries + 1;
        return 0;
}
