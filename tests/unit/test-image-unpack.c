/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Also a benchmark driver: test-image-unpack --bench ARCHIVE DEST [child|direct]
 * unpacks ARCHIVE into DEST (which must not exist) and prints the seconds. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "image-fixture.h"
#include "image-unpack.h"
#include "tap.h"

typedef struct TEntry {
        mode_t type; /* AE_IFREG, AE_IFDIR, AE_IFLNK (symlink), AE_IFCHR, AE_IFBLK, AE_IFIFO; 0: hardlink */
        const char *path;
        const char *link; /* symlink or hardlink target */
        const char *data;
        mode_t perm;
        long uid, gid;
        unsigned major, minor;
        const char *xattr_name;
        const void *xattr_value;
        size_t xattr_size;
        size_t fill; /* data = fill bytes of 'x' instead */
        bool acl;    /* add a user:1000:r-- ACL */
} TEntry;

static char outside[300]; /* a directory outside every unpack target */
static int parentfd = -EBADF;
static unsigned counter = 0;

/* Writes entries as a pax tarball, xz-compressed if xz. */
static int make_archive(const char *path, const TEntry *entries, size_t n, bool xz) {
        struct archive *a = archive_write_new();
        int r = -EIO;
        if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            (xz && archive_write_add_filter_xz(a) != ARCHIVE_OK) ||
            archive_write_open_filename(a, path) != ARCHIVE_OK)
                goto finish;
        for (size_t i = 0; i < n; i++) {
                const TEntry *t = &entries[i];
                struct archive_entry *e = archive_entry_new();
                char *fill = NULL;
                size_t size = t->fill ? t->fill : t->data ? strlen(t->data) : 0;
                archive_entry_set_pathname(e, t->path);
                archive_entry_set_filetype(e, t->type ? t->type : AE_IFREG);
                archive_entry_set_perm(e, t->perm ? t->perm : (t->type == AE_IFDIR ? 0755 : 0644));
                archive_entry_set_uid(e, t->uid);
                archive_entry_set_gid(e, t->gid);
                archive_entry_set_mtime(e, 1700000000 + (time_t) i, 0);
                if (t->type == AE_IFLNK)
                        archive_entry_set_symlink(e, t->link);
                if (t->type == 0 && t->link)
                        archive_entry_set_hardlink(e, t->link);
                if (t->type == AE_IFCHR || t->type == AE_IFBLK)
                        archive_entry_set_rdev(e, makedev(t->major, t->minor));
                if (t->xattr_name)
                        archive_entry_xattr_add_entry(e, t->xattr_name, t->xattr_value, t->xattr_size);
                if (t->acl) {
                        archive_entry_acl_add_entry(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS, 6,
                                                    ARCHIVE_ENTRY_ACL_USER_OBJ, -1, NULL);
                        archive_entry_acl_add_entry(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS, 4,
                                                    ARCHIVE_ENTRY_ACL_USER, 1000, "u");
                        archive_entry_acl_add_entry(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS, 4,
                                                    ARCHIVE_ENTRY_ACL_GROUP_OBJ, -1, NULL);
                        archive_entry_acl_add_entry(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS, 4,
                                                    ARCHIVE_ENTRY_ACL_MASK, -1, NULL);
                        archive_entry_acl_add_entry(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS, 4,
                                                    ARCHIVE_ENTRY_ACL_OTHER, -1, NULL);
                }
                if ((t->type == 0 && !t->link) || t->type == AE_IFREG)
                        archive_entry_set_size(e, (la_int64_t) size);
                if (archive_write_header(a, e) != ARCHIVE_OK) {
                        archive_entry_free(e);
                        goto finish;
                }
                if (size > 0 && (t->type == 0 || t->type == AE_IFREG) && !(t->type == 0 && t->link)) {
                        if (t->fill) {
                                fill = malloc(size);
                                memset(fill, 'x', size);
                        }
                        archive_write_data(a, fill ? fill : t->data, size);
                        free(fill);
                }
                archive_entry_free(e);
        }
        r = archive_write_close(a) == ARCHIVE_OK ? 0 : -EIO;
finish:
        if (r < 0 && a)
                fprintf(stderr, "make_archive: %s\n", strna(archive_error_string(a)));
        archive_write_free(a);
        return r;
}

typedef struct Run {
        int r;
        char msg[1024];
        char name[64];
        ImageUnpackStats stats;
} Run;

/* Builds the archive and unpacks it into a fresh name under the base dir. */
static Run unpack(const TEntry *entries, size_t n, bool xz, const ImageUnpackOptions *o) {
        char archive[PATH_MAX];
        WarrenError e = WARREN_ERROR_NULL;
        Run run = {};
        snprintf(run.name, sizeof run.name, "t%u", counter++);
        snprintf(archive, sizeof archive, "%s/%s.tar%s", fixture_base, run.name, xz ? ".xz" : "");
        if (make_archive(archive, entries, n, xz) < 0) {
                run.r = -EIO;
                snprintf(run.msg, sizeof run.msg, "could not build the test archive");
                return run;
        }
        int fd = open(archive, O_RDONLY | O_CLOEXEC);
        run.r = image_unpack(fd, parentfd, run.name, o, &run.stats, &e);
        snprintf(run.msg, sizeof run.msg, "%s", e.error ? warren_error_message(&e) : "");
        warren_error_clear(&e);
        close(fd);
        return run;
}

static int leftovers(void) {
        return fixture_count_prefix(fixture_base, ".#unpack.");
}

static bool file_is(const char *name, const char *sub, const char *content) {
        char p[PATH_MAX];
        char *t = NULL;
        snprintf(p, sizeof p, "%s/%s/%s", fixture_base, name, sub);
        bool r = read_full_file(p, 1 << 20, &t, NULL) == 0 && streq(t, content);
        free(t);
        return r;
}

static bool stat_in(const char *name, const char *sub, struct stat *st) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s/%s", fixture_base, name, sub);
        return lstat(p, st) == 0;
}

static const uint8_t CAP_V2[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00 }; /* cap_net_raw+ep */

static void test_basic(bool child) {
        const char *mode = child ? "child decompressor" : "in-process";
        TEntry t[] = {
                { AE_IFDIR, "./", .perm = 0755 },
                { AE_IFDIR, "./etc" },
                { AE_IFREG, "./etc/hostname", .data = "LXC_NAME\n" },
                { AE_IFDIR, "./ro", .perm = 0555 },
                { AE_IFREG, "./ro/file", .data = "inside a read-only dir\n" },
                { AE_IFREG, "./bin/busybox", .data = "#!binary\n", .perm = 04755 },
                { AE_IFLNK, "./bin/sh", .link = "busybox" },
                { AE_IFLNK, "./abs-link", .link = "/etc/hostname" },
                { 0, "./bin/hard", .link = "./bin/busybox" },
                { AE_IFDIR, "./home/user", .uid = 1000, .gid = 1000 },
                { AE_IFREG, "./home/user/f", .data = "mine\n", .uid = 1000, .gid = 1001 },
                { AE_IFIFO, "./run/fifo" },
                { AE_IFCHR, "./dev/null", .major = 1, .minor = 3, .perm = 0666 },
                { AE_IFREG, "./bin/ping", .data = "ping\n", .xattr_name = "security.capability",
                  .xattr_value = CAP_V2, .xattr_size = sizeof CAP_V2 },
                { AE_IFREG, "./user-xattr", .data = "x\n", .xattr_name = "user.warren", .xattr_value = "v",
                  .xattr_size = 1 },
                { AE_IFREG, "./big", .fill = 3 << 20 },
        };
        ImageUnpackOptions o = { .allow_devices = true, .decompress_in_child = child };
        char cwd_before[PATH_MAX], cwd_after[PATH_MAX];
        struct stat st, st2;

        if (!getcwd(cwd_before, sizeof cwd_before))
                cwd_before[0] = 0;
        Run r = unpack(t, ELEMENTSOF(t), true, &o);
        if (!is(r.r, 0, "%s: unpack succeeds", mode))
                printf("#   %s\n", r.msg);
        ok(getcwd(cwd_after, sizeof cwd_after) && streq(cwd_before, cwd_after),
           "%s: working directory restored", mode);
        is(leftovers(), 0, "%s: no temporary left", mode);
        is(r.stats.entries, ELEMENTSOF(t), "%s: all entries extracted", mode);
        ok(file_is(r.name, "etc/hostname", "LXC_NAME\n"), "%s: file content", mode);
        ok(file_is(r.name, "ro/file", "inside a read-only dir\n"), "%s: file in a 0555 dir", mode);
        ok(stat_in(r.name, "ro", &st) && (st.st_mode & 07777) == 0555,
           "%s: 0555 dir mode applied at the end", mode);
        ok(stat_in(r.name, "bin/busybox", &st) && (st.st_mode & 07777) == 04755, "%s: setuid mode kept",
           mode);
        ok(stat_in(r.name, "bin/busybox", &st) && st.st_mtime == 1700000000 + 5, "%s: mtime kept", mode);
        char buf[PATH_MAX], p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s/bin/sh", fixture_base, r.name);
        ssize_t k = readlink(p, buf, sizeof buf - 1);
        ok(k == 7 && memcmp(buf, "busybox", 7) == 0, "%s: symlink target", mode);
        snprintf(p, sizeof p, "%s/%s/abs-link", fixture_base, r.name);
        k = readlink(p, buf, sizeof buf - 1);
        ok(k == 13 && memcmp(buf, "/etc/hostname", 13) == 0, "%s: absolute symlink kept as a link", mode);
        ok(stat_in(r.name, "bin/hard", &st) && stat_in(r.name, "bin/busybox", &st2) &&
                   st.st_ino == st2.st_ino,
           "%s: hardlink shares the inode", mode);
        ok(stat_in(r.name, "run/fifo", &st) && S_ISFIFO(st.st_mode), "%s: fifo", mode);
        ok(stat_in(r.name, "big", &st) && st.st_size == 3 << 20, "%s: 3 MiB file complete", mode);
        ok(stat_in(r.name, ".", &st) && (st.st_mode & 07777) == 0755, "%s: root dir mode from './'", mode);
        snprintf(p, sizeof p, "%s/%s/user-xattr", fixture_base, r.name);
        k = getxattr(p, "user.warren", buf, sizeof buf);
        ok(k == 1 && buf[0] == 'v', "%s: user xattr restored", mode);
        if (geteuid() == 0) {
                ok(stat_in(r.name, "home/user/f", &st) && st.st_uid == 1000 && st.st_gid == 1001,
                   "%s: numeric owner", mode);
                ok(stat_in(r.name, "dev/null", &st) && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
                   "%s: device node created when allowed", mode);
                snprintf(p, sizeof p, "%s/%s/bin/ping", fixture_base, r.name);
                k = getxattr(p, "security.capability", buf, sizeof buf);
                ok(k == 20 && memcmp(buf, CAP_V2, 20) == 0, "%s: file capability restored after chown",
                   mode);
        } else
                for (int i = 0; i < 3; i++)
                        ok(1, "# skip %s: ownership, devices and capabilities need root", mode);
}

static void test_idmap(void) {
        const ImageIdRange map[] = {
                { .gid = false, .ns_id = 0, .host_id = 100000, .count = 65536 },
                { .gid = true, .ns_id = 0, .host_id = 200000, .count = 65536 },
        };
        TEntry t[] = {
                { AE_IFDIR, "./" },
                { AE_IFREG, "./root-file", .data = "r\n" },
                { AE_IFREG, "./user-file", .data = "u\n", .uid = 1000, .gid = 1001, .acl = true },
                { AE_IFREG, "./ping", .data = "p\n", .xattr_name = "security.capability",
                  .xattr_value = CAP_V2, .xattr_size = sizeof CAP_V2 },
                { AE_IFCHR, "./dev/null", .major = 1, .minor = 3 },
                { AE_IFREG, "./dev/keep", .data = "k\n" },
        };
        ImageUnpackOptions o = { .idmap = map, .n_idmap = ELEMENTSOF(map), .decompress_in_child = true };
        struct stat st;
        uint32_t id;

        is(image_idmap_map(map, 2, false, 1000, &id), 0, "uid 1000 maps");
        is(id, 101000, "to 101000");
        is(image_idmap_map(map, 2, true, 65535, &id), 0, "gid 65535 maps");
        is(id, 265535, "to 265535");
        is(image_idmap_map(map, 2, false, 65536, &id), -ERANGE, "uid 65536 is outside");
        is(image_idmap_map(map, 0, false, 7, &id), 0, "no map: identity");
        is(id, 7, "7 stays 7");

        Run r = unpack(t, ELEMENTSOF(t), true, &o);
        if (!is(r.r, 0, "idmap: unpack succeeds"))
                printf("#   %s\n", r.msg);
        is(r.stats.skipped, 1, "idmap: device node skipped without allow_devices");
        ok(!stat_in(r.name, "dev/null", &st), "idmap: no device node created");
        ok(stat_in(r.name, "dev/keep", &st), "idmap: regular file beside it kept");
        if (geteuid() != 0) {
                for (int i = 0; i < 5; i++)
                        ok(1, "# skip idmap ownership checks need root");
        } else {
                ok(stat_in(r.name, ".", &st) && st.st_uid == 100000 && st.st_gid == 200000,
                   "idmap: root dir shifted");
                ok(stat_in(r.name, "root-file", &st) && st.st_uid == 100000 && st.st_gid == 200000,
                   "idmap: root's file shifted");
                ok(stat_in(r.name, "user-file", &st) && st.st_uid == 101000 && st.st_gid == 201001,
                   "idmap: user's file shifted");
                uint8_t v[64];
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s/%s/ping", fixture_base, r.name);
                ssize_t k = getxattr(p, "security.capability", v, sizeof v);
                ok(k == 24 && v[3] == 0x03 && v[20] == 0xa0 && v[21] == 0x86 && v[22] == 0x01 && v[23] == 0,
                   "idmap: capability became v3 owned by the container's root (100000)");
                snprintf(p, sizeof p, "%s/%s/user-file", fixture_base, r.name);
                k = getxattr(p, "system.posix_acl_access", v, sizeof v);
                bool found = false;
                for (ssize_t off = 4; k > 4 && off + 8 <= k; off += 8)
                        if (v[off] == 0x02 && (v[off + 4] | v[off + 5] << 8 | v[off + 6] << 16) == 101000)
                                found = true;
                ok(found, "idmap: ACL user entry 1000 shifted to 101000");
        }

        TEntry bad[] = { { AE_IFDIR, "./" }, { AE_IFREG, "./x", .data = "x", .uid = 70000 } };
        r = unpack(bad, ELEMENTSOF(bad), true, &o);
        is(r.r, -EINVAL, "idmap: unmapped owner refused");
        like(r.msg, "Archive entry './x' is owned by 70000:0, outside the container's idmap",
             "idmap: message names entry and ids");
        ok(!stat_in(r.name, ".", &st) && leftovers() == 0, "idmap: nothing left behind");
}

/* Each hostile archive is refused (EPERM), leaves no tree and writes nothing outside. */
static void test_escapes(void) {
        char esc_file[PATH_MAX], esc_dir[PATH_MAX], target[PATH_MAX], updir[PATH_MAX];
        snprintf(esc_dir, sizeof esc_dir, "%s", outside);
        snprintf(esc_file, sizeof esc_file, "%s/victim", outside);
        (void) write_file_atomic_at(AT_FDCWD, esc_file, "original\n", 9, 0644);
        /* From the target <base>/tN, "../../" reaches the parent of <base>. */
        snprintf(updir, sizeof updir, "../%s", strrchr(outside, '/') + 1);

        struct {
                const char *what;
                TEntry e[3];
                size_t n;
                const char *msg;
        } cases[] = {
                { "'..' entry",
                  { { AE_IFREG, "../escape-dotdot", .data = "x" } },
                  1,
                  "'../escape-dotdot': '..' component" },
                { "'..' inside",
                  { { AE_IFREG, "./a/../../escape-dotdot", .data = "x" } },
                  1,
                  "'..' component" },
                { "absolute path",
                  { { AE_IFREG, "/tmp/warren-escape-absolute", .data = "x" } },
                  1,
                  "'/tmp/warren-escape-absolute': absolute path" },
                { "write through a symlink",
                  { { AE_IFLNK, "link", .link = esc_dir }, { AE_IFREG, "link/escape", .data = "x" } },
                  2,
                  "link/escape" },
                { "write through a relative symlink",
                  { { AE_IFLNK, "up", .link = ".." }, { AE_IFREG, "up/escape-rel", .data = "x" } },
                  2,
                  "up/escape-rel" },
                { "hardlink to an absolute path",
                  { { 0, "h", .link = "/etc/passwd" } },
                  1,
                  "hardlink to '/etc/passwd', absolute path" },
                { "hardlink with '..'",
                  { { 0, "h", .link = "../../etc/passwd" } },
                  1,
                  "hardlink to '../../etc/passwd', '..' component" },
                { "hardlink through a symlink",
                  { { AE_IFLNK, "link", .link = esc_dir }, { 0, "h", .link = "link/victim" } },
                  2,
                  "link/victim" },
                /* The symlink is known however the path spells it. */
                { "write through './link//x'",
                  { { AE_IFLNK, "./link", .link = esc_dir }, { AE_IFREG, ".//link//escape", .data = "x" } },
                  2,
                  "goes through the symlink 'link'" },
                { "write through 'a/./link/./x'",
                  { { AE_IFDIR, "a" }, { AE_IFLNK, "a/link/", .link = esc_dir },
                    { AE_IFREG, "a/./link/./escape", .data = "x" } },
                  3,
                  "goes through the symlink 'a/link'" },
                { "hardlink through './link'",
                  { { AE_IFLNK, "link", .link = esc_dir }, { 0, "h", .link = "./link//victim" } },
                  2,
                  "hardlink to './link//victim' goes through the symlink 'link'" },
                /* libarchive would follow the symlink to set the directory's owner and mode. */
                { "a directory over a symlink",
                  { { AE_IFLNK, "link", .link = esc_dir }, { AE_IFDIR, "./link/" } },
                  2,
                  "a directory over the symlink 'link'" },
                /* ...and the directory's deferred fixups would follow the symlink. */
                { "a symlink over a directory",
                  { { AE_IFDIR, "d" }, { AE_IFLNK, "./d", .link = esc_dir } },
                  2,
                  "a symlink over the directory 'd'" },
                { "a symlink over a directory made as a parent",
                  { { AE_IFREG, "p/q/file", .data = "x" }, { AE_IFLNK, "p/q", .link = esc_dir } },
                  2,
                  "a symlink over the directory 'p/q'" },
        };
        ImageUnpackOptions o = { .decompress_in_child = true };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Run r = unpack(cases[i].e, cases[i].n, true, &o);
                struct stat st;
                is(r.r, -EPERM, "escape (%s) refused", cases[i].what);
                like(r.msg, cases[i].msg, "escape (%s): message names the entry", cases[i].what);
                ok(!stat_in(r.name, ".", &st) && leftovers() == 0, "escape (%s): nothing left behind",
                   cases[i].what);
        }
        ok(!fixture_exists("%s/escape-dotdot", fixture_base) &&
                   !fixture_exists("/tmp/warren-escape-absolute") && !fixture_exists("%s/escape", outside) &&
                   !fixture_exists("%s/escape-rel", fixture_base),
           "escapes: nothing written outside");

        /* Replacing a symlink by a file, or a hardlink to a symlink, never writes through it. */
        TEntry replace[] = { { AE_IFLNK, "s", .link = esc_file }, { AE_IFREG, "s", .data = "overwritten" } };
        Run r = unpack(replace, ELEMENTSOF(replace), false, &o);
        is(r.r, 0, "a file replacing a symlink is fine");
        ok(file_is(r.name, "s", "overwritten"), "the file replaced the symlink");
        TEntry hl[] = { { AE_IFLNK, "s", .link = esc_file }, { 0, "h", .link = "s" } };
        r = unpack(hl, ELEMENTSOF(hl), false, &o);
        is(r.r, 0, "a hardlink to a symlink is fine");
        char *t = NULL;
        ok(read_full_file(esc_file, 100, &t, NULL) == 0 && streq(t, "original\n"),
           "the symlink's target is untouched");
        free(t);
        snprintf(target, sizeof target, "%s", esc_file);
}

static void test_excludes_and_limits(void) {
        char *excl[] = { "./dev/null", "var/cache", "*.pyc", NULL };
        TEntry t[] = {
                { AE_IFDIR, "./" },
                { AE_IFREG, "./dev/null", .data = "not a device" },
                { AE_IFREG, "./dev/zero", .data = "kept" },
                { AE_IFDIR, "./var/cache" },
                { AE_IFREG, "./var/cache/x", .data = "x" },
                { AE_IFREG, "./lib/a.pyc", .data = "x" },
                { AE_IFREG, "./lib/a.py", .data = "x" },
        };
        ImageUnpackOptions o = { .excludes = excl };
        struct stat st;

        is(image_path_excluded(excl, "dev/null"), 1, "excluded without './'");
        is(image_path_excluded(excl, "./var/cache/apt/x"), 1, "children of an excluded dir");
        is(image_path_excluded(excl, "./var/cachex"), 0, "a longer name is not excluded");
        is(image_path_excluded(NULL, "./x"), 0, "no patterns");

        Run r = unpack(t, ELEMENTSOF(t), false, &o);
        is(r.r, 0, "excludes: unpack succeeds");
        is(r.stats.skipped, 4, "excludes: four entries skipped");
        ok(!stat_in(r.name, "dev/null", &st) && !stat_in(r.name, "var/cache", &st) &&
                   !stat_in(r.name, "lib/a.pyc", &st),
           "excludes: excluded paths absent");
        ok(stat_in(r.name, "dev/zero", &st) && stat_in(r.name, "lib/a.py", &st), "excludes: others present");

        o = (ImageUnpackOptions){ .max_entries = 3 };
        r = unpack(t, ELEMENTSOF(t), false, &o);
        is(r.r, -EFBIG, "entry limit enforced");
        like(r.msg, "Refusing archive: more than 3 entries", "entry limit message");
        ok(!stat_in(r.name, ".", &st) && leftovers() == 0, "entry limit: nothing left");

        TEntry big[] = { { AE_IFDIR, "./" },
                         { AE_IFREG, "./a", .fill = 600 },
                         { AE_IFREG, "./b", .fill = 600 } };
        o = (ImageUnpackOptions){ .max_size = 1000 };
        r = unpack(big, ELEMENTSOF(big), true, &o);
        is(r.r, -EFBIG, "size limit enforced");
        like(r.msg, "Refusing archive: entry './b' takes it over 1000 bytes", "size limit message");
        ok(!stat_in(r.name, ".", &st) && leftovers() == 0, "size limit: nothing left");

        /* No "./" entry: the root still ends up 0755. */
        TEntry noroot[] = { { AE_IFREG, "file", .data = "x" } };
        r = unpack(noroot, ELEMENTSOF(noroot), false, &(ImageUnpackOptions){});
        ok(r.r == 0 && stat_in(r.name, ".", &st) && (st.st_mode & 07777) == 0755,
           "root dir 0755 without './'");

        WarrenError e = WARREN_ERROR_NULL;
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        is(image_unpack(fd, parentfd, r.name, &(ImageUnpackOptions){}, NULL, &e), -EEXIST,
           "existing target refused");
        warren_error_clear(&e);
        close(fd);
}

static void write_bytes(const char *path, const void *data, size_t n) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void) write_all(fd, data, n);
                close(fd);
        }
}

static void test_corrupt(void) {
        char path[PATH_MAX];
        TEntry t[] = { { AE_IFDIR, "./" },
                       { AE_IFREG, "./big", .fill = 1 << 20 },
                       { AE_IFREG, "./after", .data = "a" } };
        WarrenError e = WARREN_ERROR_NULL;
        char *data = NULL;
        size_t size = 0;
        struct stat st;

        snprintf(path, sizeof path, "%s/corrupt.tar.xz", fixture_base);
        ok(make_archive(path, t, ELEMENTSOF(t), true) == 0 &&
                   read_full_file(path, 8 << 20, &data, &size) == 0,
           "corrupt: archive built");
        for (int child = 0; child <= 1; child++) {
                ImageUnpackOptions o = { .decompress_in_child = child };
                write_bytes(path, data, size - size / 3); /* truncated */
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                int r = image_unpack(fd, parentfd, "corrupt", &o, NULL, &e);
                close(fd);
                ok(r < 0, "truncated xz refused (%s): %s", child ? "child" : "direct",
                   warren_error_message(&e));
                if (child)
                        like(e.message, "Failed to decompress the archive",
                             "the decompressor's error is reported");
                warren_error_clear(&e);
                ok(!fixture_exists("%s/corrupt", fixture_base) && leftovers() == 0,
                   "truncated: nothing left");

                data[size / 2] ^= 0x55; /* corrupt in the middle */
                write_bytes(path, data, size);
                data[size / 2] ^= 0x55;
                fd = open(path, O_RDONLY | O_CLOEXEC);
                r = image_unpack(fd, parentfd, "corrupt", &o, NULL, &e);
                close(fd);
                ok(r < 0, "corrupted xz refused (%s): %s", child ? "child" : "direct",
                   warren_error_message(&e));
                warren_error_clear(&e);
                ok(!fixture_exists("%s/corrupt", fixture_base) && leftovers() == 0,
                   "corrupted: nothing left");
        }
        free(data);

        write_bytes(path, "this is not an archive at all, just text\n", 42);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        is(image_unpack(fd, parentfd, "garbage", &(ImageUnpackOptions){ .decompress_in_child = true }, NULL,
                        &e),
           -EBADMSG, "garbage refused with EBADMSG");
        close(fd);
        warren_error_clear(&e);
        ok(lstat(path, &st) == 0 && !fixture_exists("%s/garbage", fixture_base) && leftovers() == 0,
           "garbage: nothing left");
}

/* A multi-block .xz (as xz -T writes) goes through the threaded decoder:
 * the same tree, and a corrupt block still fails. */
static void test_xz_blocks(void) {
        char tar[PATH_MAX], xz[PATH_MAX + 8], cmd[PATH_MAX * 3];
        TEntry t[] = { { AE_IFDIR, "./" },
                       { AE_IFREG, "./a", .fill = 3 << 20 },
                       { AE_IFREG, "./b", .fill = 2 << 20 },
                       { AE_IFREG, "./c", .data = "end" } };
        WarrenError e = WARREN_ERROR_NULL;
        ImageUnpackStats stats = {};
        struct stat st;

        snprintf(tar, sizeof tar, "%s/blocks.tar", fixture_base);
        snprintf(xz, sizeof xz, "%s.xz", tar);
        snprintf(cmd, sizeof cmd, "xz -T2 --block-size=512KiB -1 -c '%s' >'%s'", tar, xz);
        char *argv[] = { "/bin/sh", "-c", cmd, NULL };
        ok(make_archive(tar, t, ELEMENTSOF(t), false) == 0 && fixture_run(argv, false) == 0,
           "xz blocks: a multi-block .xz made with xz -T2");
        int fd = open(xz, O_RDONLY | O_CLOEXEC);
        is(image_unpack(fd, parentfd, "blocks", &(ImageUnpackOptions){ .decompress_in_child = true }, &stats, &e),
           0, "xz blocks: unpacked %s", e.error ? warren_error_message(&e) : "");
        close(fd);
        warren_error_clear(&e);
        ok(fstatat(parentfd, "blocks/a", &st, 0) == 0 && st.st_size == 3 << 20 &&
                   fstatat(parentfd, "blocks/b", &st, 0) == 0 && st.st_size == 2 << 20 &&
                   file_is("blocks", "c", "end"),
           "xz blocks: every file whole");
        fixture_rm_rf(xz);
}

static int progress_cb(uint64_t done, uint64_t total, void *userdata) {
        uint64_t *v = userdata; /* [0] last done, [1] total, [2] calls, [3] non-monotonic */
        if (done < v[0])
                v[3]++;
        v[0] = done;
        v[1] = total;
        v[2]++;
        return 0;
}

static void test_progress(void) {
        TEntry t[] = { { AE_IFDIR, "./" },
                       { AE_IFREG, "./a", .fill = 5 << 20 },
                       { AE_IFREG, "./b", .fill = 5 << 20 } };
        uint64_t v[4] = {};
        ImageUnpackOptions o = { .decompress_in_child = true, .progress = progress_cb, .userdata = v };
        Run r = unpack(t, ELEMENTSOF(t), true, &o);
        is(r.r, 0, "progress: unpack succeeds");
        ok(v[2] >= 3 && v[3] == 0, "progress: called %llu times, monotonic", (unsigned long long) v[2]);
        ok(v[1] > 0 && v[0] == v[1], "progress: ends at the archive size (%llu of %llu)",
           (unsigned long long) v[0], (unsigned long long) v[1]);
}

/* A full file system: the partial tree goes, the message says why. Needs a
 * mount namespace with a small tmpfs, so root. */
static void test_enospc(void) {
        if (geteuid() != 0) {
                for (int i = 0; i < 3; i++)
                        ok(1, "# skip ENOSPC test needs root");
                return;
        }
        char path[PATH_MAX], mnt[PATH_MAX];
        TEntry t[] = { { AE_IFDIR, "./" },
                       { AE_IFREG, "./small", .data = "s" },
                       { AE_IFREG, "./big", .fill = 4 << 20 } };
        snprintf(path, sizeof path, "%s/enospc.tar.xz", fixture_base);
        snprintf(mnt, sizeof mnt, "%s/small-fs", fixture_base);
        ok(make_archive(path, t, ELEMENTSOF(t), true) == 0 && mkdir(mnt, 0755) == 0, "enospc: setup");
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                char msg[512] = "";
                WarrenError e = WARREN_ERROR_NULL;
                int r = -1;
                if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                    mount("tmpfs", mnt, "tmpfs", 0, "size=1m") == 0) {
                        int dfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                            fd = open(path, O_RDONLY | O_CLOEXEC);
                        r = image_unpack(fd, dfd, "rootfs",
                                         &(ImageUnpackOptions){ .decompress_in_child = true }, NULL, &e);
                        snprintf(msg, sizeof msg, "%d|%d|%s", r, fixture_count_tree(mnt),
                                 warren_error_message(&e));
                } else
                        snprintf(msg, sizeof msg, "setup failed: %s", strerror(errno));
                (void) write_all(pipefd[1], msg, strlen(msg));
                _exit(0);
        }
        close(pipefd[1]);
        char buf[512] = "";
        ssize_t k = read(pipefd[0], buf, sizeof buf - 1);
        buf[k > 0 ? k : 0] = 0;
        close(pipefd[0]);
        waitpid(pid, NULL, 0);
        ok(strncmp(buf, "-28|0|", 6) == 0, "enospc: ENOSPC reported and the tmpfs is empty again (%s)", buf);
        like(buf, "No space left on device", "enospc: message says why");
}

static int bench(const char *archive, const char *dest, bool child) {
        WarrenError e = WARREN_ERROR_NULL;
        struct timespec a, b;
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dest);
        char *slash = strrchr(parent, '/');
        if (!slash)
                return 2;
        *slash = 0;
        int dfd = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int fd = open(archive, O_RDONLY | O_CLOEXEC);
        clock_gettime(CLOCK_MONOTONIC, &a);
        int r = image_unpack(fd, dfd, slash + 1,
                             &(ImageUnpackOptions){ .allow_devices = true, .decompress_in_child = child },
                             NULL, &e);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (r < 0) {
                fprintf(stderr, "unpack failed: %s\n", warren_error_message(&e));
                return 1;
        }
        printf("%.3f\n", (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9);
        return 0;
}

int main(int argc, char **argv) {
        if (argc >= 4 && streq(argv[1], "--bench"))
                return bench(argv[2], argv[3], argc < 5 || !streq(argv[4], "direct"));
        if (!ok(fixture_setup(false) == 0, "temp dir"))
                return done_testing();
        snprintf(outside, sizeof outside, "%s-outside", fixture_base);
        mkdir(outside, 0755);
        parentfd = open(fixture_base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        test_basic(false);
        test_basic(true);
        test_idmap();
        test_escapes();
        test_excludes_and_limits();
        test_corrupt();
        test_xz_blocks();
        test_progress();
        test_enospc();

        fixture_rm_rf(outside);
        return done_testing();
}
