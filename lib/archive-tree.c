/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive-tree.h"
#include "clone.h"
#include "copy.h"
#include "fileio.h"
#include "idmap.h"
#include "inode-table.h"
#include "strv.h"

#define REPORT_EVERY (4U * 1024U * 1024U)
#define VFS_CAP_REVISION_MASK 0xFF000000U
#define VFS_CAP_REVISION_2 0x02000000U
#define VFS_CAP_REVISION_3 0x03000000U
#define VFS_CAP_V2_SIZE 20U
#define VFS_CAP_V3_SIZE 24U
#define ACL_XATTR_VERSION 2U
#define ACL_TAG_USER 0x02U
#define ACL_TAG_GROUP 0x08U

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

static uint32_t shift_id(const ArchiveTree *t, IdmapKind kind, uint32_t id) {
        uint32_t ns;
        if (!t->o->shift)
                return id;
        return idmap_from_host(t->o->shift, kind, id, &ns) >= 0 ? ns : ARCHIVE_TREE_OVERFLOW_ID;
}

int archive_tree_init(ArchiveTree *t, struct archive *a, const ArchiveTreeOptions *o, WarrenError *reterr) {
        static const ArchiveTreeOptions defaults = {};
        *t = (ArchiveTree){ .archive = a, .o = o ?: &defaults, .reterr = reterr };
        t->links = inode_table_new();
        return t->links ? 0 : -ENOMEM;
}

void archive_tree_done(ArchiveTree *t) {
        inode_table_free(t->links);
        free(t->path);
        t->links = NULL;
        t->path = NULL;
}

static int path_push(ArchiveTree *t, const char *name, size_t *saved) {
        size_t k = strlen(name), need = t->path_len + k + 2;
        if (need > t->path_alloc) {
                char *p = realloc(t->path, MAX(need, t->path_alloc * 2));
                if (!p)
                        return -ENOMEM;
                t->path = p;
                t->path_alloc = MAX(need, t->path_alloc * 2);
        }
        *saved = t->path_len;
        if (t->path_len > 0)
                t->path[t->path_len++] = '/';
        memcpy(t->path + t->path_len, name, k + 1);
        t->path_len += k;
        return 0;
}

static void path_pop(ArchiveTree *t, size_t saved) {
        t->path_len = saved;
        if (t->path)
                t->path[saved] = 0;
}

static const char *cur(const ArchiveTree *t) {
        return t->path_len > 0 ? t->path : ".";
}

static int fail(ArchiveTree *t, int r, const char *what) {
        return warren_error_set(t->reterr, r, "Failed to %s '%s': %s", what, cur(t), strerror(-r));
}

static int fail_archive(ArchiveTree *t, const char *what) {
        int e = archive_errno(t->archive);
        return warren_error_set(t->reterr, e > 0 ? e : EIO, "Failed to %s '%s': %s", what, cur(t),
                                archive_error_string(t->archive) ?: "archive error");
}

/* ---- xattrs ---- */

/* A capability for the container: v2 if its root is the container's
 * root, v3 with the container's id otherwise; 0 to drop it. */
static size_t shift_capability(const ArchiveTree *t, const uint8_t *v, size_t n,
                               uint8_t out[VFS_CAP_V3_SIZE]) {
        uint32_t magic, ns;
        if (n < 4)
                return 0;
        magic = le32(v);
        if ((magic & VFS_CAP_REVISION_MASK) == VFS_CAP_REVISION_2 && n == VFS_CAP_V2_SIZE) {
                memcpy(out, v, n);
                return n;
        }
        if ((magic & VFS_CAP_REVISION_MASK) != VFS_CAP_REVISION_3 || n != VFS_CAP_V3_SIZE)
                return 0;
        if (idmap_from_host(t->o->shift, IDMAP_UID, le32(v + 20), &ns) < 0)
                return 0; /* it applies to no one inside */
        memcpy(out, v, VFS_CAP_V3_SIZE);
        if (ns == 0) {
                put_le32(out, (magic & ~VFS_CAP_REVISION_MASK) | VFS_CAP_REVISION_2);
                return VFS_CAP_V2_SIZE;
        }
        put_le32(out + 20, ns);
        return VFS_CAP_V3_SIZE;
}

static void shift_acl(const ArchiveTree *t, uint8_t *v, size_t n) {
        if (n < 4 || (n - 4) % 8 != 0 || le32(v) != ACL_XATTR_VERSION)
                return;
        for (size_t off = 4; off < n; off += 8) {
                unsigned tag = (unsigned) v[off] | (unsigned) v[off + 1] << 8;
                if (tag == ACL_TAG_USER || tag == ACL_TAG_GROUP)
                        put_le32(v + off + 4, shift_id(t, tag == ACL_TAG_USER ? IDMAP_UID : IDMAP_GID,
                                                       le32(v + off + 4)));
        }
}

/* Symlinks and nodes have no fd to read xattrs from: their name, relative
 * to the working directory moved to their directory (no /proc needed, so
 * it works in a container's mount namespace too). */
static int read_xattrs_by_name(int dirfd, const char *name, XattrList *ret) {
        XattrList l = {};
        ssize_t n;
        if (fchdir(dirfd) < 0)
                return -errno;
        n = llistxattr(name, NULL, 0);
        if (n <= 0) {
                *ret = l;
                return n < 0 && errno != EOPNOTSUPP && errno != ENOTSUP ? -errno : 0;
        }
        l.names = malloc((size_t) n);
        if (!l.names)
                return -ENOMEM;
        n = llistxattr(name, l.names, (size_t) n);
        if (n < 0) {
                xattr_list_done(&l);
                return -errno;
        }
        l.names_size = (size_t) n;
        size_t count = 0;
        for (size_t off = 0; off < l.names_size; off += strlen(l.names + off) + 1)
                count++;
        l.entries = calloc(count + 1, sizeof *l.entries);
        if (!l.entries) {
                xattr_list_done(&l);
                return -ENOMEM;
        }
        for (size_t off = 0; off < l.names_size; off += strlen(l.names + off) + 1) {
                const char *x = l.names + off;
                ssize_t k = lgetxattr(name, x, NULL, 0);
                if (k < 0 || !*x)
                        continue;
                uint8_t *v = malloc((size_t) k + 1);
                if (!v) {
                        xattr_list_done(&l);
                        return -ENOMEM;
                }
                k = lgetxattr(name, x, v, (size_t) k);
                if (k < 0) {
                        free(v);
                        continue;
                }
                l.entries[l.n++] = (struct XattrEntry){ .name = x, .value = v, .size = (size_t) k };
        }
        *ret = l;
        return 0;
}

static int add_xattrs(ArchiveTree *t, struct archive_entry *e, int dirfd, const char *name, int fd) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        XattrList l;
        int r = fd >= 0 ? xattr_list_read(fd, false, &l, &err) : read_xattrs_by_name(dirfd, name, &l);
        if (r < 0)
                return fail(t, r, "read the xattrs of");
        for (size_t i = 0; i < l.n; i++) {
                struct XattrEntry *x = &l.entries[i];
                uint8_t cap[VFS_CAP_V3_SIZE];
                if (t->o->shift && streq(x->name, "security.capability")) {
                        size_t k = shift_capability(t, x->value, x->size, cap);
                        if (k > 0)
                                archive_entry_xattr_add_entry(e, x->name, cap, k);
                        continue;
                }
                if (t->o->shift && (streq(x->name, "system.posix_acl_access") ||
                                    streq(x->name, "system.posix_acl_default")))
                        shift_acl(t, x->value, x->size);
                archive_entry_xattr_add_entry(e, x->name, x->value, x->size);
        }
        xattr_list_done(&l);
        return 0;
}

/* ---- entries ---- */

static void fill_stat(ArchiveTree *t, struct archive_entry *e, const char *entry_name,
                      const struct statx *sx) {
        archive_entry_copy_pathname(e, entry_name);
        archive_entry_set_filetype(e, sx->stx_mode & S_IFMT);
        archive_entry_set_perm(e, sx->stx_mode & 07777);
        archive_entry_set_uid(e, shift_id(t, IDMAP_UID, sx->stx_uid));
        archive_entry_set_gid(e, shift_id(t, IDMAP_GID, sx->stx_gid));
        archive_entry_set_mtime(e, sx->stx_mtime.tv_sec, sx->stx_mtime.tv_nsec);
        archive_entry_set_atime(e, sx->stx_atime.tv_sec, sx->stx_atime.tv_nsec);
        if (S_ISCHR(sx->stx_mode) || S_ISBLK(sx->stx_mode))
                archive_entry_set_rdev(e, makedev(sx->stx_rdev_major, sx->stx_rdev_minor));
}

static bool is_template(const ArchiveTree *t) {
        return t->o->rename_from && t->o->rename_to &&
               (streq(cur(t), "etc/hostname") || streq(cur(t), "etc/hosts"));
}

static int write_data(ArchiveTree *t, int fd, uint64_t size) {
        static uint8_t buf[256 * 1024];
        uint64_t done = 0, since = 0;
        while (done < size) {
                ssize_t n = read(fd, buf, (size_t) MIN((uint64_t) sizeof buf, size - done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return fail(t, -errno, "read");
                if (n == 0)
                        break; /* shrank meanwhile: the archive pads it */
                if (archive_write_data(t->archive, buf, (size_t) n) != n)
                        return fail_archive(t, "write");
                done += (uint64_t) n;
                since += (uint64_t) n;
                t->bytes += (uint64_t) n;
                if (since >= REPORT_EVERY && t->o->progress) {
                        since = 0;
                        if (t->o->progress(t->bytes, t->o->userdata) < 0)
                                return warren_error_set(t->reterr, ECANCELED, "Canceled");
                }
        }
        return 0;
}

static int add_children(ArchiveTree *t, int fd, const char *entry_name, unsigned depth);

static int add_entry(ArchiveTree *t, int dirfd, const char *name, const char *entry_name, unsigned depth) {
        struct archive_entry *e = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL, *out = NULL;
        size_t out_size = 0;
        struct statx sx;
        bool mount = false;
        int r;

        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID,
                  &sx) < 0)
                return errno == ENOENT && depth > 0 ? 0 : fail(t, -errno, "stat");
        if (depth == 0)
                t->mnt_id = sx.stx_mnt_id;
        else
                mount = ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                         (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) ||
                        ((sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id != t->mnt_id);
        if (mount && !S_ISDIR(sx.stx_mode))
                return 0; /* a bind-mounted file is not part of the tree */
        if (S_ISDIR(sx.stx_mode) && !t->o->recursive)
                return warren_error_set(t->reterr, EISDIR, "'%s' is a directory (pull it recursively)",
                                        cur(t));
        e = archive_entry_new();
        if (!e)
                return -ENOMEM;
        fill_stat(t, e, entry_name, &sx);

        if (!S_ISDIR(sx.stx_mode) && sx.stx_nlink > 1) {
                const char *first = NULL;
                r = inode_table_put(t->links, makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino,
                                    entry_name, &first);
                if (r < 0)
                        goto finish;
                if (first) {
                        archive_entry_set_hardlink(e, first);
                        archive_entry_set_size(e, 0);
                        r = archive_write_header(t->archive, e) < ARCHIVE_WARN ? fail_archive(t, "write")
                                                                               : 0;
                        goto finish;
                }
        }
        if (S_ISREG(sx.stx_mode) || (S_ISDIR(sx.stx_mode) && !mount)) {
                int flags = S_ISDIR(sx.stx_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK;
                fd = open_beneath(dirfd, name, flags, depth > 0);
                if (fd < 0) {
                        r = fail(t, fd, "open");
                        goto finish;
                }
                struct stat st;
                if (fstat(fd, &st) < 0 || st.st_ino != sx.stx_ino) {
                        r = warren_error_set(t->reterr, EAGAIN, "'%s' changed while it was read", cur(t));
                        goto finish;
                }
        }
        if (S_ISLNK(sx.stx_mode)) {
                char target[PATH_MAX + 1];
                ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
                if (n < 0) {
                        r = fail(t, -errno, "read the symlink");
                        goto finish;
                }
                target[n] = 0;
                archive_entry_copy_symlink(e, target);
        }
        if (S_ISCHR(sx.stx_mode) || S_ISBLK(sx.stx_mode)) {
                if (t->o->devices && strv_extend(t->o->devices, entry_name) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        r = add_xattrs(t, e, dirfd, name, fd);
        if (r < 0)
                goto finish;
        if (S_ISREG(sx.stx_mode)) {
                archive_entry_set_size(e, (la_int64_t) sx.stx_size);
                /* A size of 0 is what /proc and /sys files say: read them to see. */
                bool pseudo = sx.stx_size == 0;
                if ((is_template(t) && sx.stx_size <= ARCHIVE_TREE_TEMPLATE_MAX) || pseudo) {
                        size_t size = 0;
                        r = read_full_fd(fd, ARCHIVE_TREE_TEMPLATE_MAX, &text, &size);
                        if (r < 0) {
                                r = fail(t, r, "read");
                                goto finish;
                        }
                        if (is_template(t))
                                out = text_replace_word(text, size, t->o->rename_from, t->o->rename_to);
                        else
                                out = TAKE_PTR(text);
                        if (!out) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        out_size = is_template(t) ? strlen(out) : size;
                        archive_entry_set_size(e, (la_int64_t) out_size);
                }
        } else
                archive_entry_set_size(e, 0);
        if (archive_write_header(t->archive, e) < ARCHIVE_WARN) {
                r = fail_archive(t, "write");
                goto finish;
        }
        t->entries++;
        if (out) {
                r = out_size == 0 || archive_write_data(t->archive, out, out_size) == (la_ssize_t) out_size
                            ? 0
                            : fail_archive(t, "write");
                goto finish;
        }
        if (S_ISREG(sx.stx_mode))
                r = write_data(t, fd, sx.stx_size);
        else if (S_ISDIR(sx.stx_mode) && !mount) {
                if (depth + 1 > COPY_MAX_DEPTH)
                        r = warren_error_set(t->reterr, ELOOP, "Refusing '%s': deeper than %u levels",
                                             cur(t), COPY_MAX_DEPTH);
                else {
                        archive_entry_free(e);
                        e = NULL;
                        r = add_children(t, fd, entry_name, depth + 1);
                }
        }
finish:
        archive_entry_free(e);
        return r;
}

static int add_children(ArchiveTree *t, int fd, const char *entry_name, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r_dir = opendir_fd(fd, &d);
        if (r_dir < 0)
                return fail(t, r_dir, "read");
        size_t k = strlen(entry_name);
        bool slash = k > 0 && entry_name[k - 1] == '/';
        for (;;) {
                _cleanup_free_ char *child = NULL;
                size_t saved = t->path_len;
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        return errno ? fail(t, -errno, "read") : 0;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&child, "%s%s%s", entry_name, slash ? "" : "/", de->d_name) < 0)
                        return -ENOMEM;
                int r = path_push(t, de->d_name, &saved);
                if (r >= 0)
                        r = add_entry(t, fd, de->d_name, child, depth);
                path_pop(t, saved);
                if (r < 0)
                        return r;
        }
}

int archive_tree_add(ArchiveTree *t, int dirfd, const char *name, const char *entry_name) {
        path_pop(t, 0);
        int r = add_entry(t, dirfd, name, entry_name, 0);
        if (r == -ENOMEM)
                warren_error_set(t->reterr, r, "Out of memory while archiving '%s'", cur(t));
        return r;
}

int archive_tree_add_data(ArchiveTree *t, const char *entry_name, const void *data, size_t size,
                          uint32_t mode, int64_t mtime) {
        struct archive_entry *e = archive_entry_new();
        int r = 0;
        if (!e)
                return -ENOMEM;
        archive_entry_copy_pathname(e, entry_name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, mode);
        archive_entry_set_size(e, (la_int64_t) size);
        archive_entry_set_mtime(e, mtime, 0);
        if (archive_write_header(t->archive, e) < ARCHIVE_WARN ||
            (size > 0 && archive_write_data(t->archive, data, size) != (la_ssize_t) size))
                r = warren_error_set(t->reterr, EIO, "Failed to write '%s': %s", entry_name,
                                     archive_error_string(t->archive) ?: "archive error");
        archive_entry_free(e);
        return r;
}

int archive_tree_add_dir(ArchiveTree *t, const char *entry_name, int64_t mtime) {
        struct archive_entry *e = archive_entry_new();
        int r = 0;
        if (!e)
                return -ENOMEM;
        archive_entry_copy_pathname(e, entry_name);
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_mtime(e, mtime, 0);
        if (archive_write_header(t->archive, e) < ARCHIVE_WARN)
                r = warren_error_set(t->reterr, EIO, "Failed to write '%s': %s", entry_name,
                                     archive_error_string(t->archive) ?: "archive error");
        archive_entry_free(e);
        return r;
}

int archive_tree_new_writer(int fd, const char *compression, struct archive **ret, WarrenError *reterr) {
        struct archive *a = archive_write_new();
        int r = ARCHIVE_OK;
        if (!a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK) {
                archive_write_free(a);
                return warren_error_set(reterr, ENOTSUP, "libarchive has no pax format");
        }
        /* GNU tar (LXC's templates) knows SCHILY.xattr.*, not LIBARCHIVE.xattr.* */
        (void) archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY");
        if (streq(compression, "xz")) {
                r = archive_write_add_filter_xz(a);
                if (r == ARCHIVE_OK)
                        (void) archive_write_set_filter_option(a, "xz", "threads", "0");
        } else if (streq(compression, "gzip"))
                r = archive_write_add_filter_gzip(a);
        else if (streq(compression, "zstd"))
                r = archive_write_add_filter_zstd(a);
        else if (!streq(compression, "none")) {
                archive_write_free(a);
                return warren_error_set(reterr, EINVAL,
                                        "Unknown compression '%s' (known: xz, gzip, zstd, none)",
                                        compression);
        }
        if (r != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                int e = archive_errno(a) > 0 ? archive_errno(a) : EIO;
                r = warren_error_set(reterr, e, "Failed to start a %s archive: %s", compression,
                                     archive_error_string(a) ?: "archive error");
                archive_write_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

int archive_tree_finish(struct archive *a, WarrenError *reterr) {
        int r = 0;
        if (archive_write_close(a) != ARCHIVE_OK)
                r = warren_error_set(reterr, archive_errno(a) > 0 ? archive_errno(a) : EIO,
                                     "Failed to finish the archive: %s",
                                     archive_error_string(a) ?: "archive error");
        archive_write_free(a);
        return r;
}
