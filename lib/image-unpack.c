/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "image-unpack.h"
#include "log.h"
#include "store.h"
#include "strv.h"

#define READ_BLOCK (256U * 1024U)
#define PIPE_SIZE (1024 * 1024)
#define DECOMPRESSOR_ERROR_MAX 512U

/* security.capability layout (linux/capability.h), little-endian. */
#define VFS_CAP_REVISION_MASK 0xFF000000U
#define VFS_CAP_REVISION_2 0x02000000U
#define VFS_CAP_REVISION_3 0x03000000U
#define VFS_CAP_V2_SIZE 20U
#define VFS_CAP_V3_SIZE 24U
/* system.posix_acl_* layout: a 4-byte version, then 8-byte entries. */
#define POSIX_ACL_XATTR_VERSION 2U
#define POSIX_ACL_TAG_USER 0x02U
#define POSIX_ACL_TAG_GROUP 0x08U

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free);

static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

int image_idmap_map(const ImageIdRange *idmap, size_t n, bool gid, uint64_t id, uint32_t *ret) {
        bool any = false;
        for (size_t i = 0; i < n; i++) {
                if (idmap[i].gid != gid)
                        continue;
                any = true;
                if (id >= idmap[i].ns_id && id - idmap[i].ns_id < idmap[i].count) {
                        *ret = (uint32_t) (idmap[i].host_id + (id - idmap[i].ns_id));
                        return 0;
                }
        }
        if (any || id > UINT32_MAX - 1)
                return -ERANGE;
        *ret = (uint32_t) id;
        return 0;
}

static const char *skip_dot_slash(const char *p) {
        for (;;) {
                if (p[0] == '.' && p[1] == '/')
                        p += 2;
                else if (p[0] == '/')
                        p++;
                else
                        return p;
        }
}

int image_path_excluded(char *const *patterns, const char *path) {
        char buf[PATH_MAX];
        const char *p = skip_dot_slash(path);
        size_t n = strlen(p);

        if (strv_length(patterns) == 0 || n == 0 || n >= sizeof buf)
                return 0;
        memcpy(buf, p, n + 1);
        while (n > 1 && buf[n - 1] == '/')
                buf[--n] = 0;
        /* The name itself, then each leading directory. */
        for (;;) {
                STRV_FOREACH(pat, patterns) {
                        const char *q = skip_dot_slash(*pat);
                        if (!isempty(q) && fnmatch(q, buf, 0) == 0)
                                return 1;
                }
                char *slash = strrchr(buf, '/');
                if (!slash)
                        return 0;
                *slash = 0;
        }
}

/* An absolute path or one with a ".." component. */
static const char *unsafe_path_reason(const char *p) {
        if (p[0] == '/')
                return "absolute path";
        for (const char *c = p; *c;) {
                size_t k = strcspn(c, "/");
                if (k == 2 && c[0] == '.' && c[1] == '.')
                        return "'..' component";
                c += k;
                c += strspn(c, "/");
        }
        return NULL;
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

/* A capability xattr for the container's root: v3 with the mapped rootid. */
static int shift_capability(const ImageUnpackOptions *o, const uint8_t *v, size_t n,
                            uint8_t out[VFS_CAP_V3_SIZE]) {
        uint32_t magic, root = 0, mapped;
        if (n < 4)
                return -EBADMSG;
        magic = le32(v);
        if ((magic & VFS_CAP_REVISION_MASK) == VFS_CAP_REVISION_2 && n == VFS_CAP_V2_SIZE)
                root = 0;
        else if ((magic & VFS_CAP_REVISION_MASK) == VFS_CAP_REVISION_3 && n == VFS_CAP_V3_SIZE)
                root = le32(v + 20);
        else
                return -EBADMSG;
        if (image_idmap_map(o->idmap, o->n_idmap, false, root, &mapped) < 0)
                return -ERANGE;
        memcpy(out, v, VFS_CAP_V2_SIZE);
        put_le32(out, (magic & ~VFS_CAP_REVISION_MASK) | VFS_CAP_REVISION_3);
        put_le32(out + 20, mapped);
        return 0;
}

static int shift_posix_acl_xattr(const ImageUnpackOptions *o, uint8_t *v, size_t n) {
        if (n < 4 || (n - 4) % 8 != 0 || le32(v) != POSIX_ACL_XATTR_VERSION)
                return -EBADMSG;
        for (size_t off = 4; off < n; off += 8) {
                unsigned tag = (unsigned) v[off] | (unsigned) v[off + 1] << 8;
                uint32_t mapped;
                if (tag != POSIX_ACL_TAG_USER && tag != POSIX_ACL_TAG_GROUP)
                        continue;
                if (image_idmap_map(o->idmap, o->n_idmap, tag == POSIX_ACL_TAG_GROUP, le32(v + off + 4),
                                    &mapped) < 0)
                        return -ERANGE;
                put_le32(v + off + 4, mapped);
        }
        return 0;
}

typedef struct Xattr {
        char *name;
        uint8_t *value;
        size_t size;
} Xattr;

/* Rewrites the id-carrying xattrs of e for the idmap. */
static int shift_xattrs(struct archive_entry *e, const ImageUnpackOptions *o, const char *path,
                        WarrenError *reterr) {
        int n = archive_entry_xattr_reset(e);
        _cleanup_free_ Xattr *list = NULL;
        bool changed = false;
        int i = 0, r = 0;

        if (n <= 0)
                return 0;
        list = calloc((size_t) n, sizeof *list);
        if (!list)
                return -ENOMEM;
        for (const char *name; i < n; i++) {
                const void *value;
                size_t size;
                if (archive_entry_xattr_next(e, &name, &value, &size) != ARCHIVE_OK)
                        break;
                bool cap = streq(name, "security.capability");
                bool acl = streq(name, "system.posix_acl_access") || streq(name, "system.posix_acl_default");
                list[i].name = strdup(name);
                list[i].size = cap ? VFS_CAP_V3_SIZE : size;
                list[i].value = malloc(MAX(list[i].size, (size_t) 1));
                if (!list[i].name || !list[i].value) {
                        i++;
                        r = -ENOMEM;
                        goto finish;
                }
                if (cap)
                        r = shift_capability(o, value, size, list[i].value);
                else {
                        memcpy(list[i].value, value, size);
                        r = acl ? shift_posix_acl_xattr(o, list[i].value, size) : 0;
                }
                if (r < 0) {
                        i++;
                        r = warren_error_set(reterr, r == -ERANGE ? EINVAL : EBADMSG,
                                             "Cannot shift xattr %s of archive entry '%s': %s", name, path,
                                             r == -ERANGE ? "an id in it is outside the container's idmap"
                                                          : "malformed value");
                        goto finish;
                }
                changed = changed || cap || acl;
        }
        if (changed) {
                archive_entry_xattr_clear(e);
                for (int k = 0; k < i; k++)
                        archive_entry_xattr_add_entry(e, list[k].name, list[k].value, list[k].size);
        }
finish:
        for (int k = 0; k < i; k++) {
                free(list[k].name);
                free(list[k].value);
        }
        return r;
}

typedef struct AclItem {
        int type, permset, tag, qual;
} AclItem;

static int shift_acl_type(struct archive_entry *e, const ImageUnpackOptions *o, int want, AclItem **items,
                          size_t *n, size_t *alloc) {
        int type, permset, tag, qual;
        const char *name;
        if (archive_entry_acl_reset(e, want) <= 0)
                return 0;
        while (archive_entry_acl_next(e, want, &type, &permset, &tag, &qual, &name) == ARCHIVE_OK) {
                if (tag == ARCHIVE_ENTRY_ACL_USER || tag == ARCHIVE_ENTRY_ACL_GROUP) {
                        uint32_t m;
                        if (qual < 0 ||
                            image_idmap_map(o->idmap, o->n_idmap, tag == ARCHIVE_ENTRY_ACL_GROUP,
                                            (uint64_t) qual, &m) < 0 ||
                            m > INT_MAX)
                                return -ERANGE;
                        qual = (int) m;
                }
                if (*n == *alloc) {
                        size_t na = *alloc ? *alloc * 2 : 8;
                        AclItem *ni = reallocarray(*items, na, sizeof *ni);
                        if (!ni)
                                return -ENOMEM;
                        *items = ni;
                        *alloc = na;
                }
                (*items)[(*n)++] = (AclItem){ type, permset, tag, qual };
        }
        return 0;
}

/* ACL entries read from pax headers carry ids too. Names are dropped: with
 * numeric owners only the ids count. */
static int shift_acls(struct archive_entry *e, const ImageUnpackOptions *o, const char *path,
                      WarrenError *reterr) {
        _cleanup_free_ AclItem *items = NULL;
        size_t n = 0, alloc = 0;
        int r;

        if (archive_entry_acl_types(e) == 0)
                return 0;
        r = shift_acl_type(e, o, ARCHIVE_ENTRY_ACL_TYPE_POSIX1E, &items, &n, &alloc);
        if (r >= 0)
                r = shift_acl_type(e, o, ARCHIVE_ENTRY_ACL_TYPE_NFS4, &items, &n, &alloc);
        if (r == -ERANGE)
                return warren_error_set(reterr, EINVAL,
                                        "Cannot shift the ACL of archive entry '%s': an id in it is outside "
                                        "the container's idmap",
                                        path);
        if (r < 0)
                return r;
        archive_entry_acl_clear(e);
        for (size_t i = 0; i < n; i++)
                if (archive_entry_acl_add_entry(e, items[i].type, items[i].permset, items[i].tag,
                                                items[i].qual, NULL) != ARCHIVE_OK)
                        return warren_error_set(reterr, EBADMSG, "Invalid ACL on archive entry '%s'", path);
        return 0;
}

static int shift_ids(struct archive_entry *e, const ImageUnpackOptions *o, const char *path,
                     WarrenError *reterr) {
        uint32_t uid, gid;
        int r;

        if (archive_entry_uid(e) < 0 || archive_entry_gid(e) < 0 ||
            image_idmap_map(o->idmap, o->n_idmap, false, (uint64_t) archive_entry_uid(e), &uid) < 0 ||
            image_idmap_map(o->idmap, o->n_idmap, true, (uint64_t) archive_entry_gid(e), &gid) < 0)
                return warren_error_set(
                        reterr, EINVAL,
                        "Archive entry '%s' is owned by %lld:%lld, outside the container's idmap", path,
                        (long long) archive_entry_uid(e), (long long) archive_entry_gid(e));
        archive_entry_set_uid(e, uid);
        archive_entry_set_gid(e, gid);
        if (o->n_idmap == 0)
                return 0;
        /* Ownership-independent names would be looked up again: drop them. */
        archive_entry_copy_uname(e, NULL);
        archive_entry_copy_gname(e, NULL);
        r = shift_xattrs(e, o, path, reterr);
        if (r >= 0)
                r = shift_acls(e, o, path, reterr);
        return r;
}

typedef struct Decompressor {
        pid_t pid;
        int read_fd, err_fd;
} Decompressor;

/* The child: archive_fd through libarchive's decompression filters ("raw"
 * format: the bytes as they are) into the pipe. */
_Noreturn static void decompressor_run(int archive_fd, int out_fd, int err_fd) {
        struct archive *a = archive_read_new();
        static char buf[READ_BLOCK];
        struct archive_entry *e;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) signal(SIGPIPE, SIG_DFL);
        if (!a || archive_read_support_filter_all(a) != ARCHIVE_OK ||
            archive_read_support_format_raw(a) != ARCHIVE_OK ||
            archive_read_open_fd(a, archive_fd, READ_BLOCK) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK)
                goto fail;
        for (;;) {
                la_ssize_t k = archive_read_data(a, buf, sizeof buf);
                if (k < 0)
                        goto fail;
                if (k == 0)
                        _exit(EXIT_SUCCESS);
                if (write_all(out_fd, buf, (size_t) k) < 0)
                        _exit(2); /* the reader went away: it knows why */
        }
fail:
        dprintf(err_fd, "%s", a ? strna(archive_error_string(a)) : "out of memory");
        _exit(EXIT_FAILURE);
}

static int decompressor_start(int archive_fd, Decompressor *ret, WarrenError *reterr) {
        int data[2], err[2];

        if (pipe2(data, O_CLOEXEC) < 0)
                return warren_error_set(reterr, errno, "Failed to create decompressor pipe: %m");
        if (pipe2(err, O_CLOEXEC) < 0) {
                int e = errno;
                safe_close(data[0]);
                safe_close(data[1]);
                return warren_error_set(reterr, e, "Failed to create decompressor pipe: %m");
        }
        (void) fcntl(data[1], F_SETPIPE_SZ, PIPE_SIZE);
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                safe_close(data[0]);
                safe_close(data[1]);
                safe_close(err[0]);
                safe_close(err[1]);
                return warren_error_set(reterr, e, "Failed to fork decompressor: %m");
        }
        if (pid == 0) {
                safe_close(data[0]);
                safe_close(err[0]);
                decompressor_run(archive_fd, data[1], err[1]);
        }
        safe_close(data[1]);
        safe_close(err[1]);
        *ret = (Decompressor){ .pid = pid, .read_fd = data[0], .err_fd = err[0] };
        return 0;
}

/* Stops and reaps the child. 0 if it finished cleanly, -EBADMSG if it
 * failed on its own (msg says why), -EPIPE if it was stopped or lost its
 * reader (then the reader's error is the one that counts). */
static int decompressor_finish(Decompressor *d, bool kill_it, char msg[DECOMPRESSOR_ERROR_MAX]) {
        int status = 0;
        msg[0] = 0;
        if (d->pid <= 0)
                return 0;
        d->read_fd = safe_close(d->read_fd);
        if (kill_it)
                (void) kill(d->pid, SIGKILL);
        while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
                ;
        d->pid = 0;
        ssize_t k = read(d->err_fd, msg, DECOMPRESSOR_ERROR_MAX - 1);
        msg[k > 0 ? k : 0] = 0;
        d->err_fd = safe_close(d->err_fd);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_FAILURE)
                return -EBADMSG;
        snprintf(msg, DECOMPRESSOR_ERROR_MAX, "decompressor %s %d",
                 WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        return -EPIPE;
}

typedef struct Unpack {
        const ImageUnpackOptions *o;
        int archive_fd;
        uint64_t archive_size;
        ImageUnpackStats stats;
        bool saw_root;
} Unpack;

static int report(Unpack *u) {
        if (!u->o->progress)
                return 0;
        off_t pos = lseek(u->archive_fd, 0, SEEK_CUR);
        uint64_t done = pos > 0 ? MIN((uint64_t) pos, u->archive_size) : 0;
        return u->o->progress(done, u->archive_size, u->o->userdata) < 0 ? -ECANCELED : 0;
}

static int archive_err(struct archive *a, int fallback) {
        int e = archive_errno(a);
        return e > 0 ? e : fallback;
}

/* Reading: anything but a system failure means the archive is bad. */
static int read_err(struct archive *a) {
        int e = archive_errno(a);
        return e == ENOMEM || e == EIO ? e : EBADMSG;
}

static int copy_data(Unpack *u, struct archive *in, struct archive *out, const char *path,
                     WarrenError *reterr) {
        uint64_t since_report = 0;
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;
                int r = archive_read_data_block(in, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return warren_error_set(reterr, read_err(in),
                                                "Failed to read archive entry '%s': %s", path,
                                                strna(archive_error_string(in)));
                /* A failed write() (ENOSPC, EIO) is only ARCHIVE_WARN here. */
                if (archive_write_data_block(out, buf, size, offset) != ARCHIVE_OK) {
                        int e = archive_err(out, EIO);
                        return warren_error_set(reterr, e, "Failed to extract '%s': %s: %s", path,
                                                strna(archive_error_string(out)), strerror(e));
                }
                u->stats.bytes += size;
                since_report += size;
                if (since_report >= 4U * 1024U * 1024U) {
                        since_report = 0;
                        if (report(u) < 0)
                                return warren_error_set(reterr, ECANCELED, "Unpacking canceled");
                }
        }
}

/* One entry: checks, limits, idmap, then libarchive writes it. */
static int unpack_entry(Unpack *u, struct archive *in, struct archive *out, struct archive_entry *e,
                        WarrenError *reterr) {
        const ImageUnpackOptions *o = u->o;
        const char *path = archive_entry_pathname(e), *link = archive_entry_hardlink(e), *why;
        mode_t type = archive_entry_filetype(e);
        uint64_t max_entries = o->max_entries ?: IMAGE_UNPACK_MAX_ENTRIES_DEFAULT;
        uint64_t max_size = o->max_size ?: IMAGE_UNPACK_MAX_SIZE_DEFAULT;
        int r;

        if (isempty(path))
                return warren_error_set(reterr, EBADMSG, "Invalid archive entry without a name");
        if (u->stats.entries + u->stats.skipped >= max_entries)
                return warren_error_set(reterr, EFBIG, "Refusing archive: more than %llu entries",
                                        (unsigned long long) max_entries);
        why = unsafe_path_reason(path);
        if (why)
                return warren_error_set(reterr, EPERM, "Refusing archive entry '%s': %s", path, why);
        if (link) {
                why = unsafe_path_reason(link);
                if (why)
                        return warren_error_set(reterr, EPERM,
                                                "Refusing archive entry '%s': hardlink to '%s', %s", path,
                                                link, why);
                archive_entry_set_size(e, 0);
        }
        if (!o->allow_devices && (type == AE_IFCHR || type == AE_IFBLK)) {
                log_debug("Skipping device node '%s'", path);
                u->stats.skipped++;
                return 0;
        }
        if (image_path_excluded(o->excludes, path)) {
                log_debug("Skipping excluded '%s'", path);
                u->stats.skipped++;
                return 0;
        }
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
                uint64_t size = (uint64_t) archive_entry_size(e);
                if (size > max_size || u->stats.bytes > max_size - size)
                        return warren_error_set(reterr, EFBIG,
                                                "Refusing archive: entry '%s' takes it over %llu bytes",
                                                path, (unsigned long long) max_size);
        }
        if (streq(skip_dot_slash(path), "") || streq(path, "."))
                u->saw_root = true;
        r = shift_ids(e, o, path, reterr);
        if (r < 0)
                return r;

        r = archive_write_header(out, e);
        if (r < ARCHIVE_WARN)
                return warren_error_set(reterr, archive_err(out, EPERM), "Refusing archive entry '%s': %s",
                                        path, strna(archive_error_string(out)));
        if (r == ARCHIVE_WARN)
                log_debug("Archive entry '%s': %s", path, strna(archive_error_string(out)));
        if (archive_entry_size(e) > 0) {
                r = copy_data(u, in, out, path, reterr);
                if (r < 0)
                        return r;
        }
        r = archive_write_finish_entry(out);
        if (r < ARCHIVE_WARN)
                return warren_error_set(reterr, archive_err(out, EIO), "Failed to extract '%s': %s", path,
                                        strna(archive_error_string(out)));
        if (r == ARCHIVE_WARN)
                log_debug("Archive entry '%s': %s", path, strna(archive_error_string(out)));
        u->stats.entries++;
        return 0;
}

static int unpack_stream(Unpack *u, int read_fd, bool raw_tar, WarrenError *reterr) {
        _cleanup_(archive_read_freep) struct archive *in = archive_read_new();
        _cleanup_(archive_write_freep) struct archive *out = archive_write_disk_new();
        struct archive_entry *e;
        int r;

        if (!in || !out)
                return -ENOMEM;
        if ((!raw_tar && archive_read_support_filter_all(in) != ARCHIVE_OK) ||
            archive_read_support_format_tar(in) != ARCHIVE_OK ||
            archive_write_disk_set_options(
                    out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS) != ARCHIVE_OK)
                return warren_error_set(reterr, ENOTSUP, "Failed to set up libarchive");
        if (archive_read_open_fd(in, read_fd, READ_BLOCK) != ARCHIVE_OK)
                return warren_error_set(reterr, read_err(in), "Failed to open archive: %s",
                                        strna(archive_error_string(in)));

        for (;;) {
                r = archive_read_next_header(in, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return warren_error_set(reterr, read_err(in), "Invalid archive: %s",
                                                strna(archive_error_string(in)));
                r = unpack_entry(u, in, out, e, reterr);
                if (r < 0)
                        return r;
                if (report(u) < 0)
                        return warren_error_set(reterr, ECANCELED, "Unpacking canceled");
        }
        /* Applies deferred directory modes and times. */
        if (archive_write_close(out) < ARCHIVE_WARN)
                return warren_error_set(reterr, archive_err(out, EIO), "Failed to finish unpacking: %s",
                                        strna(archive_error_string(out)));
        return 0;
}

/* Reads what follows the tar end marker, so the decompressor reaches the
 * end of its input and checks it; bounded by the size limit. */
static int drain(Unpack *u, int fd, WarrenError *reterr) {
        uint64_t max_size = u->o->max_size ?: IMAGE_UNPACK_MAX_SIZE_DEFAULT, n = 0;
        static char buf[64 * 1024];
        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return warren_error_set(reterr, errno,
                                                "Failed to read the decompressed archive: %m");
                }
                if (k == 0)
                        return 0;
                n += (uint64_t) k;
                if (n > max_size)
                        return warren_error_set(reterr, EFBIG,
                                                "Refusing archive: more than %llu bytes after its end",
                                                (unsigned long long) max_size);
        }
}

static int make_temp_dir(int parent_dirfd, const char *name, char **ret) {
        for (unsigned i = 0; i < 64; i++) {
                uint32_t rnd;
                char *t = NULL;
                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        rnd = (uint32_t) random();
                if (asprintf(&t, ".#unpack.%s.%08x", name, rnd) < 0)
                        return -ENOMEM;
                if (mkdirat(parent_dirfd, t, 0700) >= 0) {
                        *ret = t;
                        return 0;
                }
                int e = errno;
                free(t);
                if (e != EEXIST)
                        return -e;
        }
        return -EEXIST;
}

typedef struct CwdGuard {
        int saved;
} CwdGuard;

static void cwd_restore(CwdGuard *g) {
        if (g->saved >= 0) {
                if (fchdir(g->saved) < 0)
                        log_debug("Failed to restore the working directory: %m");
                g->saved = safe_close(g->saved);
        }
}

typedef struct TempTree {
        int dirfd;
        char *name;
} TempTree;

static void temp_tree_remove(TempTree *t) {
        if (!t->name)
                return;
        int r = rm_rf_at(t->dirfd, t->name);
        if (r < 0)
                log_debug("Failed to remove partial tree '%s': %s", t->name, strerror(-r));
        free(t->name);
        t->name = NULL;
}

int image_unpack(int archive_fd, int parent_dirfd, const char *name, const ImageUnpackOptions *o,
                 ImageUnpackStats *ret_stats, WarrenError *reterr) {
        _cleanup_(temp_tree_remove) TempTree tmp = { .dirfd = parent_dirfd };
        _cleanup_(cwd_restore) CwdGuard cwd = { .saved = -EBADF };
        _cleanup_close_ int tmpfd = -EBADF;
        Decompressor d = { .read_fd = -EBADF, .err_fd = -EBADF };
        char dmsg[DECOMPRESSOR_ERROR_MAX];
        Unpack u = { .o = o, .archive_fd = archive_fd };
        struct stat st;
        int r;

        if (isempty(name) || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return warren_error_set(reterr, EINVAL, "Invalid unpack target name '%s'", strempty(name));
        if (fstat(archive_fd, &st) < 0)
                return warren_error_set(reterr, errno, "Failed to stat the archive: %m");
        u.archive_size = S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
        /* A pipe or socket (PushFiles) is read from where it is. */
        if (lseek(archive_fd, 0, SEEK_SET) < 0 && errno != ESPIPE)
                return warren_error_set(reterr, errno, "Failed to rewind the archive: %m");
        if (fstatat(parent_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return warren_error_set(reterr, EEXIST, "Unpack target '%s' already exists", name);

        r = make_temp_dir(parent_dirfd, name, &tmp.name);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create a temporary directory for '%s': %s",
                                        name, strerror(-r));
        tmpfd = openat(parent_dirfd, tmp.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmpfd < 0)
                return warren_error_set(reterr, errno, "Failed to open '%s': %m", tmp.name);

        cwd.saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cwd.saved < 0)
                return warren_error_set(reterr, errno, "Failed to open the working directory: %m");
        if (fchdir(tmpfd) < 0)
                return warren_error_set(reterr, errno, "Failed to enter '%s': %m", tmp.name);

        if (o->decompress_in_child) {
                r = decompressor_start(archive_fd, &d, reterr);
                if (r < 0)
                        return r;
                r = unpack_stream(&u, d.read_fd, true, reterr);
                if (r >= 0)
                        r = drain(&u, d.read_fd, reterr);
                /* A failed decompression is the cause of whatever the reader saw. */
                int dr = decompressor_finish(&d, r < 0, dmsg);
                if (dr == -EBADMSG || (dr < 0 && r >= 0))
                        r = warren_error_reset(reterr, EBADMSG, "Failed to decompress the archive: %s",
                                               dmsg);
        } else
                r = unpack_stream(&u, archive_fd, false, reterr);
        cwd_restore(&cwd);
        if (r < 0) {
                warren_error_prefix(reterr, "Failed to unpack into '%s'", name);
                return r;
        }

        /* Without a "./" entry the tree root would keep mkdir's 0700 and our owner. */
        if (!u.saw_root) {
                uint32_t uid, gid;
                if (image_idmap_map(o->idmap, o->n_idmap, false, 0, &uid) < 0 ||
                    image_idmap_map(o->idmap, o->n_idmap, true, 0, &gid) < 0)
                        uid = gid = 0;
                if (fchmod(tmpfd, 0755) < 0 || (geteuid() == 0 && fchown(tmpfd, uid, gid) < 0))
                        return warren_error_set(reterr, errno, "Failed to set up the root of '%s': %m",
                                                name);
        }
        if (renameat2(parent_dirfd, tmp.name, parent_dirfd, name, RENAME_NOREPLACE) < 0)
                return warren_error_set(reterr, errno, "Failed to move unpacked tree into place as '%s': %m",
                                        name);
        free(tmp.name);
        tmp.name = NULL;
        if (ret_stats)
                *ret_stats = u.stats;
        return 0;
}
