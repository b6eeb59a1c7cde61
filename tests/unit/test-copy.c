/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/copy: everything a rootfs holds survives a copy, on tmpfs, on the
 * host's ext4 /tmp and, with copy-on-write, on XFS (reflinks) and btrfs
 * (subvolume snapshot, reflinks); symlinks are never followed, mounts never
 * entered, and a failed or canceled copy leaves nothing.
 * Also a benchmark driver: test-copy --bench SRC DSTPARENT NAME [cow]. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "fileio.h"
#include "store.h"
#include "tap.h"

static bool root;
static char outside[256];

/* ACL access xattr: user::rw-, user:1000:r--, group::r--, mask::r--, other::r-- */
static const uint8_t acl_value[] = {
        2,    0, 0, 0,                         /* version */
        0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff, /* USER_OBJ rw */
        0x02, 0, 4, 0, 0xe8, 0x03, 0,    0,    /* USER 1000 r */
        0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff, /* GROUP_OBJ r */
        0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff, /* MASK r */
        0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff, /* OTHER r */
};
/* security.capability v2: cap_net_bind_service (10) permitted + effective. */
static const uint8_t cap_value[20] = { 0x01, 0, 0, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0 };

static void wr(const char *dir, const char *name, const char *data) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void) write_all(fd, data, strlen(data));
                close(fd);
        }
}

static char *rd(const char *dir, const char *name) {
        char p[512];
        char *t = NULL;
        snprintf(p, sizeof p, "%s/%s", dir, name);
        if (read_full_file(p, 1 << 24, &t, NULL) < 0)
                return NULL;
        return t;
}

static int st(const char *dir, const char *name, struct stat *s) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        return lstat(p, s);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
        char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&cmd, fmt, ap) >= 0 && system(cmd) != 0)
                printf("# command failed: %s\n", cmd);
        va_end(ap);
        free(cmd);
}

/* The source: one of each thing a rootfs has. */
static void make_tree(const char *src) {
        char p[512];
        sh("mkdir -p %s/etc %s/bin %s/ro %s/deep/a/b %s/escape-target-parent %s/mnt", src, src, src, src,
           src, src);
        wr(src, "etc/hostname", "c1\n");
        wr(src, "bin/tool", "#!/bin/sh\necho tool\n");
        wr(src, "ro/inside", "in a read-only dir\n");
        wr(src, "empty", "");
        wr(src, "mnt/hidden", "under the mount\n");
        snprintf(p, sizeof p, "%s/bin/tool", src);
        chmod(p, 04755);
        snprintf(p, sizeof p, "%s/ro", src);
        chmod(p, 0555);
        snprintf(p, sizeof p, "%s/etc/hostname", src);
        (void) setxattr(p, "user.warren", "yes", 3, 0);
        (void) setxattr(p, "system.posix_acl_access", acl_value, sizeof acl_value, 0);
        snprintf(p, sizeof p, "%s/etc", src);
        (void) setxattr(p, "user.dir", "d", 1, 0);
        /* hardlinks: three names of one inode */
        wr(src, "bin/multi", "one inode\n");
        sh("ln %s/bin/multi %s/bin/multi2 && ln %s/bin/multi %s/etc/multi3", src, src, src, src);
        /* sparse: 8 MiB, 4 KiB of data at the end */
        snprintf(p, sizeof p, "%s/sparse", src);
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        (void) pwrite(fd, "DATA", 4, 8 * 1024 * 1024 - 4096);
        (void) ftruncate(fd, 8 * 1024 * 1024);
        close(fd);
        /* symlinks out of the tree, absolute and relative, and one to a directory */
        snprintf(p, sizeof p, "%s/abs", src);
        (void) symlink(outside, p);
        snprintf(p, sizeof p, "%s/rel", src);
        (void) symlink("../../../../../../../../etc/passwd", p);
        snprintf(p, sizeof p, "%s/escape-target-parent/dirlink", src);
        (void) symlink(outside, p);
        /* a FIFO and a socket */
        snprintf(p, sizeof p, "%s/fifo", src);
        (void) mkfifo(p, 0640);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sock", src);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        (void) bind(s, (struct sockaddr *) &sa, sizeof sa);
        close(s);
        struct timespec ts[2] = { { 1600000000, 0 }, { 1650000000, 123456789 } };
        snprintf(p, sizeof p, "%s/etc/hostname", src);
        (void) utimensat(AT_FDCWD, p, ts, 0);
        if (!root)
                return;
        snprintf(p, sizeof p, "%s/dev", src);
        (void) mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/dev/null", src);
        (void) mknod(p, S_IFCHR | 0666, makedev(1, 3));
        snprintf(p, sizeof p, "%s/owned", src);
        wr(src, "owned", "owned by 1234:5678\n");
        (void) chown(p, 1234, 5678);
        snprintf(p, sizeof p, "%s/bin/capped", src);
        wr(src, "bin/capped", "capped\n");
        (void) setxattr(p, "security.capability", cap_value, sizeof cap_value, 0);
        snprintf(p, sizeof p, "%s/abs", src);
        (void) lsetxattr(p, "trusted.link", "L", 1, 0);
        (void) lchown(p, 4321, 4321);
        snprintf(p, sizeof p, "%s/bin/tool", src);
        (void) chown(p, 0, 0);
        (void) chmod(p, 04755);
}

static bool same_xattr(const char *a, const char *b, const char *name, bool link) {
        char va[512], vb[512];
        ssize_t na = link ? lgetxattr(a, name, va, sizeof va) : getxattr(a, name, va, sizeof va);
        ssize_t nb = link ? lgetxattr(b, name, vb, sizeof vb) : getxattr(b, name, vb, sizeof vb);
        return na > 0 && na == nb && memcmp(va, vb, (size_t) na) == 0;
}

static void check_tree(const char *what, const char *src, const char *dst, bool cow_expected) {
        char a[512], b[512];
        struct stat s1, s2;
        /* Times first: reading sets the atime. */
        ok(st(dst, "etc/hostname", &s2) == 0 && s2.st_mtim.tv_sec == 1650000000 &&
                   s2.st_mtim.tv_nsec == 123456789 && s2.st_atim.tv_sec == 1600000000,
           "%s: times to the nanosecond", what);
        _cleanup_free_ char *t = rd(dst, "etc/hostname");
        is_str(t, "c1\n", "%s: file content", what);
        ok(st(dst, "bin/tool", &s2) == 0 && (s2.st_mode & 07777) == 04755, "%s: setuid mode kept", what);
        ok(st(dst, "ro", &s2) == 0 && (s2.st_mode & 07777) == 0555,
           "%s: a read-only directory kept its mode", what);
        free(t);
        t = rd(dst, "ro/inside");
        is_str(t, "in a read-only dir\n", "%s: ...and its content", what);
        ok(st(dst, "empty", &s2) == 0 && S_ISREG(s2.st_mode) && s2.st_size == 0, "%s: empty file", what);
        snprintf(a, sizeof a, "%s/etc/hostname", src);
        snprintf(b, sizeof b, "%s/etc/hostname", dst);
        ok(same_xattr(a, b, "user.warren", false), "%s: user xattr", what);
        ok(same_xattr(a, b, "system.posix_acl_access", false), "%s: POSIX ACL", what);
        snprintf(a, sizeof a, "%s/etc", src);
        snprintf(b, sizeof b, "%s/etc", dst);
        ok(same_xattr(a, b, "user.dir", false), "%s: directory xattr", what);
        struct stat m1, m2, m3;
        ok(st(dst, "bin/multi", &m1) == 0 && st(dst, "bin/multi2", &m2) == 0 &&
                   st(dst, "etc/multi3", &m3) == 0 && m1.st_ino == m2.st_ino && m1.st_ino == m3.st_ino &&
                   m1.st_nlink == 3,
           "%s: three hardlinks stay one inode", what);
        /* A snapshot keeps inode numbers, in another subvolume (st_dev). */
        ok(st(src, "bin/multi", &s1) == 0 && (s1.st_ino != m1.st_ino || s1.st_dev != m1.st_dev),
           "%s: ...a new one", what);
        ok(st(dst, "sparse", &s2) == 0 && s2.st_size == 8 * 1024 * 1024, "%s: sparse file size", what);
        if (!cow_expected)
                ok(s2.st_blocks * 512 <= 64 * 1024, "%s: sparse file still sparse (%lld bytes allocated)",
                   what, (long long) s2.st_blocks * 512);
        char lnk[512] = "";
        snprintf(b, sizeof b, "%s/abs", dst);
        ssize_t n = readlink(b, lnk, sizeof lnk - 1);
        lnk[n > 0 ? n : 0] = 0;
        is_str(lnk, outside, "%s: absolute symlink copied as a symlink", what);
        snprintf(b, sizeof b, "%s/rel", dst);
        n = readlink(b, lnk, sizeof lnk - 1);
        lnk[n > 0 ? n : 0] = 0;
        is_str(lnk, "../../../../../../../../etc/passwd", "%s: relative symlink kept", what);
        ok(st(dst, "escape-target-parent/dirlink", &s2) == 0 && S_ISLNK(s2.st_mode),
           "%s: a symlink to a directory is not entered", what);
        ok(st(outside, "secret", &s2) == 0 && s2.st_nlink == 1,
           "%s: the outside file was not linked or touched", what);
        ok(st(dst, "fifo", &s2) == 0 && S_ISFIFO(s2.st_mode) && (s2.st_mode & 0777) == 0640, "%s: FIFO",
           what);
        ok(st(dst, "sock", &s2) == 0 && S_ISSOCK(s2.st_mode), "%s: socket", what);
        if (!root) {
                ok(1, "# skip %s: owners, devices, capabilities and trusted xattrs need root", what);
                return;
        }
        ok(st(src, "dev/null", &s1) == 0 && st(dst, "dev/null", &s2) == 0 && S_ISCHR(s2.st_mode) &&
                   s2.st_rdev == makedev(1, 3) && s2.st_mode == s1.st_mode,
           "%s: device node", what);
        ok(st(dst, "owned", &s2) == 0 && s2.st_uid == 1234 && s2.st_gid == 5678, "%s: numeric owner", what);
        ok(st(dst, "abs", &s2) == 0 && s2.st_uid == 4321, "%s: symlink owner", what);
        snprintf(a, sizeof a, "%s/bin/capped", src);
        snprintf(b, sizeof b, "%s/bin/capped", dst);
        ok(same_xattr(a, b, "security.capability", false), "%s: file capability", what);
        snprintf(a, sizeof a, "%s/abs", src);
        snprintf(b, sizeof b, "%s/abs", dst);
        ok(same_xattr(a, b, "trusted.link", true), "%s: xattr on a symlink", what);
        ok(st(dst, "bin/tool", &s2) == 0 && (s2.st_mode & 04000), "%s: setuid survives chown", what);
}

static int parentfd(const char *dir) {
        return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void test_on(const char *what, const char *base, bool cow, CopyHow expected_how) {
        char src[300], dst[300];
        CopyStats stats = {};
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        static unsigned n = 0;
        char sub[280];
        snprintf(sub, sizeof sub, "%s/t%u", base, n++);
        base = sub;
        snprintf(src, sizeof src, "%s/src", base);
        snprintf(dst, sizeof dst, "%s/dst", base);
        sh("mkdir -p %s", src);
        make_tree(src);
        /* A mount inside the source is not entered. */
        char mnt[320];
        snprintf(mnt, sizeof mnt, "%s/mnt", src);
        bool mounted = root && mount(outside, mnt, NULL, MS_BIND, NULL) == 0;
        int pfd = parentfd(base);
        uint64_t bytes = 0, entries = 0;
        int r = copy_tree_measure(pfd, "src", &bytes, &entries, &err);
        is(r, 0, "%s: measure", what);
        ok(bytes >= 4096 && bytes < 200000, "%s: measured %llu bytes (sparse data only)", what,
           (unsigned long long) bytes);
        const CopyOptions o = { .cow = cow, .bytes_total = bytes };
        r = copy_tree(pfd, "src", pfd, "dst", &o, &stats, &err);
        is(r, 0, "%s: copy_tree (%s)", what, warren_error_message(&err));
        is(stats.how, expected_how, "%s: done by %s", what, strna(copy_how_to_string(stats.how)));
        check_tree(what, src, dst, expected_how != COPY_HOW_COPY);
        if (mounted) {
                struct stat s;
                ok(st(dst, "mnt", &s) == 0 && S_ISDIR(s.st_mode), "%s: the mount point is a directory",
                   what);
                ok(st(dst, "mnt/secret", &s) < 0 && st(dst, "mnt/hidden", &s) < 0, "%s: ...an empty one",
                   what);
                is(stats.skipped_mounts, 1, "%s: one mount skipped", what);
                umount2(mnt, MNT_DETACH);
        }
        r = copy_tree(pfd, "src", pfd, "dst", &o, NULL, &err);
        is(r, -EEXIST, "%s: an existing target is refused", what);
        sh("chmod -R u+w %s/dst; rm -rf %s/dst", base, base);
        close(pfd);
}

static void test_refusals(const char *base) {
        _cleanup_error_ WarrenError e1 = WARREN_ERROR_NULL, e2 = WARREN_ERROR_NULL, e3 = WARREN_ERROR_NULL;
        char p[512];
        int pfd = parentfd(base);
        sh("mkdir -p %s/r/real && ln -sfn real %s/r/link && ln -sfn %s %s/r/out", base, base, outside, base);
        int r = copy_tree(pfd, "r/link", pfd, "x", NULL, NULL, &e1);
        is(r, -ELOOP, "a source path through a symlink is refused");
        like(warren_error_message(&e1), "r/link", "...naming it");
        r = copy_tree(pfd, "r/out", pfd, "x", NULL, NULL, &e1);
        is(r, -ELOOP, "a source symlink out of the tree is refused");
        r = copy_tree(pfd, "r/real", pfd, "../x", NULL, NULL, &e2);
        is(r, -EINVAL, "a target with a slash is refused");
        /* deeper than COPY_MAX_DEPTH */
        snprintf(p, sizeof p, "%s/deep", base);
        mkdir(p, 0755);
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (unsigned i = 0; i < COPY_MAX_DEPTH + 2; i++) {
                (void) mkdirat(fd, "d", 0755);
                int n = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(fd);
                fd = n;
        }
        close(fd);
        r = copy_tree(pfd, "deep", pfd, "deepcopy", NULL, NULL, &e3);
        is(r, -ELOOP, "a tree deeper than %u levels is refused", COPY_MAX_DEPTH);
        like(warren_error_message(&e3), "deeper than", "...saying so");
        ok(faccessat(pfd, "deepcopy", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "...and nothing is left");
        close(pfd);
}

static int cancel_at_once(uint64_t done, uint64_t total, void *userdata) {
        return -1;
}

static void test_cancel(const char *base) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        char p[512];
        sh("mkdir -p %s/big", base);
        snprintf(p, sizeof p, "%s/big/data", base);
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        static char buf[1 << 20];
        memset(buf, 'x', sizeof buf);
        for (int i = 0; i < 16; i++)
                (void) write_all(fd, buf, sizeof buf);
        close(fd);
        int pfd = parentfd(base);
        const CopyOptions o = { .progress = cancel_at_once };
        int r = copy_tree(pfd, "big", pfd, "bigcopy", &o, NULL, &err);
        is(r, -ECANCELED, "a canceled copy fails with ECANCELED");
        ok(faccessat(pfd, "bigcopy", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "...and leaves nothing");
        close(pfd);
}

/* ENOSPC midway: nothing left on the full filesystem. */
static void test_enospc(const char *base) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        char mnt[400];
        if (!root) {
                ok(1, "# skip ENOSPC needs root");
                return;
        }
        snprintf(mnt, sizeof mnt, "%s/small", base);
        mkdir(mnt, 0755);
        if (mount("tmpfs", mnt, "tmpfs", 0, "size=4m") < 0) {
                ok(0, "mount a 4 MiB tmpfs: %m");
                return;
        }
        int pfd = parentfd(base), mfd = parentfd(mnt);
        int r = copy_tree(pfd, "big", mfd, "full", NULL, NULL, &err);
        is(r, -ENOSPC, "a copy onto a full filesystem fails with ENOSPC");
        like(warren_error_message(&err), "'data'", "...naming the file (%s)", warren_error_message(&err));
        ok(faccessat(mfd, "full", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "...and leaves nothing");
        struct statfs sf;
        ok(fstatfs(mfd, &sf) == 0 && sf.f_bfree == sf.f_blocks, "...not a block used");
        close(pfd);
        close(mfd);
        umount2(mnt, MNT_DETACH);
}

/* A loop-mounted filesystem made by mkfs in base/NAME. */
static bool loop_fs(const char *base, const char *fstype, char *ret_mnt, size_t size) {
        char img[400];
        snprintf(img, sizeof img, "%s/%s.img", base, fstype);
        snprintf(ret_mnt, size, "%s/%s", base, fstype);
        sh("truncate -s 320M %s && mkfs.%s -q %s %s >/dev/null 2>&1", img, fstype,
           streq(fstype, "btrfs") ? "-f" : "-f -m reflink=1", img);
        mkdir(ret_mnt, 0755);
        char cmd[800];
        snprintf(cmd, sizeof cmd, "mount -o loop %s %s", img, ret_mnt);
        if (system(cmd) != 0)
                return false;
        unlink(img); /* freed when unmounted */
        return true;
}

static void test_cow(const char *base) {
        char mnt[400];
        if (!root) {
                ok(1, "# skip copy-on-write filesystems need root (loop mounts)");
                return;
        }
        if (!loop_fs(base, "xfs", mnt, sizeof mnt))
                ok(0, "mount an XFS filesystem (mkfs.xfs: xfsprogs)");
        else {
                test_on("xfs, cow", mnt, true, COPY_HOW_REFLINK);
                test_on("xfs, plain", mnt, false, COPY_HOW_COPY);
                umount2(mnt, MNT_DETACH);
        }
        if (!loop_fs(base, "btrfs", mnt, sizeof mnt)) {
                ok(0, "mount a btrfs filesystem (mkfs.btrfs: btrfs-progs)");
                return;
        }
        test_on("btrfs dir, cow", mnt, true, COPY_HOW_REFLINK);
        /* A subvolume rootfs is snapshotted whole. */
        char sv[512];
        snprintf(sv, sizeof sv, "%s/sv", mnt);
        sh("btrfs -q subvolume create %s/sv && mkdir -p %s/sv/src", mnt, mnt);
        int pfd = parentfd(mnt);
        make_tree(sv);
        CopyStats stats = {};
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        const CopyOptions o = { .cow = true };
        int r = copy_tree(pfd, "sv", pfd, "snap", &o, &stats, &err);
        is(r, 0, "btrfs subvolume: copy (%s)", warren_error_message(&err));
        is(stats.how, COPY_HOW_SNAPSHOT, "btrfs subvolume: done by a snapshot");
        char snap[512];
        snprintf(snap, sizeof snap, "%s/snap", mnt);
        check_tree("btrfs snapshot", sv, snap, true);
        close(pfd);
        umount2(mnt, MNT_DETACH);
}

static int bench(char **argv, int argc) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        struct timespec a, b;
        CopyStats s = {};
        int sfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC), dfd = parentfd(argv[3]);
        const CopyOptions o = { .cow = argc > 5 && streq(argv[5], "cow") };
        clock_gettime(CLOCK_MONOTONIC, &a);
        int r = copy_tree(sfd, ".", dfd, argv[4], &o, &s, &err);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (r < 0) {
                fprintf(stderr, "copy failed: %s\n", warren_error_message(&err));
                return 1;
        }
        printf("%.3f %s\n", (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9,
               copy_how_to_string(s.how));
        return 0;
}

int main(int argc, char **argv) {
        if (argc >= 5 && streq(argv[1], "--bench"))
                return bench(argv, argc);
        root = geteuid() == 0;
        /* Mounts (tmpfs, bind, loop) stay in our own mount namespace. */
        if (root && (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
                root = false;
        char tmp[] = "/tmp/test-copy.XXXXXX";
        if (!mkdtemp(tmp))
                return 1;
        snprintf(outside, sizeof outside, "%s/outside", tmp);
        mkdir(outside, 0755);
        wr(outside, "secret", "outside the tree\n");

        char ext[300];
        snprintf(ext, sizeof ext, "%s/ext4", tmp);
        mkdir(ext, 0755);
        struct statfs sf;
        if (statfs(ext, &sf) == 0)
                printf("# /tmp is %s\n", sf.f_type == 0xEF53 ? "ext4" : "not ext4");
        test_on("/tmp", ext, false, COPY_HOW_COPY);
        test_on("/tmp, cow asked", ext, true, sf.f_type == 0xEF53 ? COPY_HOW_COPY : COPY_HOW_REFLINK);
        test_refusals(ext);
        test_cancel(ext);
        test_enospc(ext);
        if (root) {
                char tm[300];
                snprintf(tm, sizeof tm, "%s/tmpfs", tmp);
                mkdir(tm, 0755);
                if (mount("tmpfs", tm, "tmpfs", 0, "size=64m") == 0) {
                        test_on("tmpfs", tm, true, COPY_HOW_COPY);
                        umount2(tm, MNT_DETACH);
                } else
                        ok(0, "mount a tmpfs: %m");
        } else
                ok(1, "# skip tmpfs needs root");
        test_cow(tmp);
        sh("chmod -R u+w %s; rm -rf %s", tmp, tmp);
        return done_testing();
}
