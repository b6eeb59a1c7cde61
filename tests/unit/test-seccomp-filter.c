/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/seccomp-filter: policies compiled with libseccomp and installed in a
 * forked child, whose system calls then get the policy's answers; the host
 * guard of privileged containers, tried on a private tmpfs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/macro.h"
#include "config.h"
#include "seccomp-filter.h"
#include "tap.h"

/* For policies whose default refuses what no rule names: what the child
 * (and a sanitizer runtime in it) needs to report and exit. */
#define KEEP_ALIVE_HEADER(list) "2\n" list "\n"
#define KEEP_ALIVE_ALLOW(act)                                                                           \
        "write" act "\nread" act "\nexit_group" act "\nexit" act "\nmmap" act "\nmunmap" act            \
        "\nmprotect" act "\nbrk" act "\nmadvise" act "\nsigaltstack" act "\nrt_sigaction" act           \
        "\nrt_sigprocmask" act "\nfutex" act "\nprctl" act "\ngettid" act "\ngetpid" act "\ntgkill" act \
        "\nclose" act "\n"

static int compile_text(const char *text, SeccompProgram **ret, WarrenError *e) {
        _cleanup_seccomp_policy_ SeccompPolicy *p = NULL;
        int r = seccomp_policy_parse(text, strlen(text), "test", &p, e);
        if (r < 0)
                return r;
        return seccomp_program_compile(p, ret, e);
}

/* Runs probe() in a child that installed prog first; returns the errno
 * probe() saw (0 on success), or -1 if the child died another way. */
typedef long (*Probe)(void);

static int errno_under(const SeccompProgram *prog, Probe probe) {
        int pipefd[2];
        if (pipe(pipefd) < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                close(pipefd[0]);
                int err = 0;
                if (seccomp_program_install(prog) < 0)
                        err = 9999;
                else {
                        errno = 0;
                        long r = probe();
                        err = r < 0 ? errno : 0;
                }
                (void) !write(pipefd[1], &err, sizeof err);
                _exit(0);
        }
        close(pipefd[1]);
        int err = -1;
        if (read(pipefd[0], &err, sizeof err) != sizeof err)
                err = -1;
        close(pipefd[0]);
        int status;
        waitpid(pid, &status, 0);
        return err;
}

static long probe_open_by_handle_at(void) {
        return syscall(SYS_open_by_handle_at, -1, NULL, 0);
}
static long probe_delete_module(void) {
        return syscall(SYS_delete_module, "warren_no_such_module", 0);
}
static long probe_init_module(void) {
        return syscall(SYS_init_module, NULL, 0, "");
}
static long probe_kexec_load(void) {
        return syscall(SYS_kexec_load, 0, 0, NULL, 0);
}
static long probe_umount_force(void) {
        return umount2("/nonexistent/warren-test", MNT_FORCE);
}
static long probe_umount(void) {
        return umount2("/nonexistent/warren-test", 0);
}
static long probe_getppid(void) {
        return syscall(SYS_getppid);
}
static long probe_dup_100(void) {
        return syscall(SYS_dup, 100);
}
static long probe_dup_0(void) {
        long r = syscall(SYS_dup, 0);
        if (r >= 0)
                close((int) r);
        return r;
}

static void test_default(void) {
        _cleanup_seccomp_program_ SeccompProgram *none = NULL, *def = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();

        ok(seccomp_program_from_config(c, &def, &e) == 0, "default profile compiles (%s)",
           warren_error_message(&e));
        ok(seccomp_program_size(def) > 10, "and makes a filter (%zu instructions)",
           seccomp_program_size(def));

        /* Without a filter, as root: the kernel's own answers. */
        is(errno_under(NULL, probe_open_by_handle_at), EFAULT,
           "no filter: open_by_handle_at(NULL handle) is EFAULT");
        is(errno_under(NULL, probe_umount_force), ENOENT, "no filter: umount2 -f of nothing is ENOENT");

        is(errno_under(def, probe_open_by_handle_at), EPERM, "default: open_by_handle_at is EPERM");
        is(errno_under(def, probe_delete_module), EPERM, "default: delete_module is EPERM");
        is(errno_under(def, probe_init_module), EPERM, "default: init_module is EPERM");
        is(errno_under(def, probe_kexec_load), EPERM, "default: kexec_load is EPERM");
        is(errno_under(def, probe_umount_force), EACCES, "default: umount2 with MNT_FORCE is EACCES");
        is(errno_under(def, probe_umount), ENOENT, "default: a plain umount2 reaches the kernel (ENOENT)");
        is(errno_under(def, probe_getppid), 0, "default: everything else is allowed");
}

static void test_policies(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        SeccompProgram *p = NULL;

        ok(compile_text("2\ndenylist\ngetppid errno 77\n", &p, &e) == 0, "denylist with errno compiles");
        is(errno_under(p, probe_getppid), 77, "getppid answers errno 77");
        is(errno_under(p, probe_dup_0), 0, "dup still works");
        p = seccomp_program_free(p);

        ok(compile_text("2\ndenylist\n[x86_64]\ndup errno 5 [0,100,SCMP_CMP_EQ]\n", &p, &e) == 0,
           "an argument condition compiles");
        is(errno_under(p, probe_dup_100), EIO, "dup(100) matches the condition: EIO");
        is(errno_under(p, probe_dup_0), 0, "dup(0) does not match it");
        p = seccomp_program_free(p);

        ok(compile_text("2\ndenylist\n[aarch64]\ngetppid errno 9\n[all]\n", &p, &e) == 0,
           "a rule for another architecture compiles");
        is(errno_under(p, probe_getppid), 0, "and does not apply here");
        p = seccomp_program_free(p);

        ok(compile_text("2\ndenylist\nno_such_syscall_here errno 1\ngetppid errno 3\n", &p, &e) == 0,
           "an unknown system call is skipped, as LXC does");
        is(errno_under(p, probe_getppid), 3, "the rules after it apply");
        p = seccomp_program_free(p);

        /* (write and exit allowed: the child must report and leave) */
        ok(compile_text(KEEP_ALIVE_HEADER("denylist errno 38") KEEP_ALIVE_ALLOW(" allow"), &p, &e) == 0,
           "a deny list with its own default compiles");
        is(errno_under(p, probe_getppid), 38, "its default answers the calls no rule names");
        p = seccomp_program_free(p);

        /* An allow list: everything else gets the default (errno, to survive). */
        ok(compile_text(KEEP_ALIVE_HEADER("allowlist errno 1") KEEP_ALIVE_ALLOW("") "getppid\n", &p, &e) ==
                   0,
           "an allow list compiles");
        is(errno_under(p, probe_getppid), 0, "a listed call works");
        is(errno_under(p, probe_dup_0), EPERM, "an unlisted one gets the default");
        p = seccomp_program_free(p);

        ok(compile_text("2\ndenylist\ngetppid kill\n", &p, &e) == 0, "kill compiles");
        {
                pid_t pid = fork();
                if (pid == 0) {
                        (void) seccomp_program_install(p);
                        syscall(SYS_getppid);
                        _exit(0);
                }
                int status = 0;
                waitpid(pid, &status, 0);
                ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "kill ends the process with SIGSYS");
        }
        p = seccomp_program_free(p);
}

static void test_config_garbage(void) {
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        SeccompProgram *p = NULL;
        char path[] = "/tmp/warren-test-seccomp-XXXXXX";

        ok(lxc_config_apply(c, "lxc.seccomp.profile", "relative/profile", NULL) == 0,
           "set a relative profile");
        is(seccomp_program_from_config(c, &p, &e), -EINVAL, "a relative profile path is refused");
        like(e.message, "relative/profile", "naming it");
        warren_error_clear(&e);

        ok(lxc_config_apply(c, "lxc.seccomp.profile", "/nonexistent/warren.seccomp", NULL) == 0,
           "set a missing profile");
        ok(seccomp_program_from_config(c, &p, &e) < 0, "a missing profile fails the start");
        like(e.message, "lxc.seccomp.profile", "naming the key");
        like(e.message, "/nonexistent/warren.seccomp", "and the file");
        warren_error_clear(&e);

        int fd = mkstemp(path);
        ok(fd >= 0, "a profile file");
        const char *bad = "2\ndenylist\nkexec_load explode\n";
        ok(write(fd, bad, strlen(bad)) == (ssize_t) strlen(bad), "with garbage in it");
        close(fd);
        ok(lxc_config_apply(c, "lxc.seccomp.profile", path, NULL) == 0, "set it");
        ok(seccomp_program_from_config(c, &p, &e) < 0, "a bad profile fails the start");
        like(e.message, "explode", "naming the bad word");
        like(e.message, ":3", "and its line");
        warren_error_clear(&e);

        fd = open(path, O_WRONLY | O_TRUNC);
        const char *good = "2\ndenylist\ngetppid errno 5\n";
        ok(fd >= 0 && write(fd, good, strlen(good)) == (ssize_t) strlen(good), "a good profile");
        close(fd);
        ok(seccomp_program_from_config(c, &p, &e) == 0, "loads");
        is(errno_under(p, probe_getppid), EIO, "and applies");
        p = seccomp_program_free(p);
        unlink(path);

        _cleanup_lxc_config_ LxcConfig *n = lxc_config_new();
        ok(lxc_config_apply(n, "lxc.seccomp.notify.proxy", "unix:/run/proxy", NULL) == 0,
           "notify proxy set");
        is(seccomp_program_from_config(n, &p, &e), -EOPNOTSUPP, "notify is refused");
        like(e.message, "lxc.seccomp.notify.proxy", "naming the key");
        warren_error_clear(&e);

        is(seccomp_program_compile(NULL, &p, &e), -EINVAL, "no policy: EINVAL");
        is(seccomp_program_install(NULL), 0, "installing no filter is a no-op");
        is(seccomp_program_size(NULL), 0, "no filter has no size");
}

/* ---- the host guard of privileged containers ---- */

#ifndef FS_IOC_SHUTDOWN
#define FS_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#endif

enum {
        G_REMOUNT_RO,       /* mount(MS_REMOUNT|MS_RDONLY): the superblock */
        G_REMOUNT_RO_MAGIC, /* the same with MS_MGC_VAL and more flags */
        G_STILL_RW,         /* the superblock after those: 1 if still rw */
        G_REMOUNT_RW,       /* mount(MS_REMOUNT): rw stays allowed */
        G_BIND_RO,          /* mount(MS_REMOUNT|MS_BIND|MS_RDONLY): the mount only */
        G_BIND_RO_SEEN,     /* 1 if the mount then reads ro */
        G_BIND_RW,          /* and back */
        G_SETATTR_RO,       /* mount_setattr(MOUNT_ATTR_RDONLY) */
        G_FSPICK,
        G_OPEN_TREE,       /* open_tree() without OPEN_TREE_CLONE */
        G_OPEN_TREE_CLONE, /* with it */
        G_FIFREEZE,
        G_FIFREEZE_HIGH, /* cmd with bits above 32 set (the kernel ignores them) */
        G_FITHAW,
        G_SHUTDOWN,
        G_COMPAT_REMOUNT_RO, /* through the i386 entry (int $0x80), -2 if unavailable */
        G_OTHER,             /* getppid */
        G_N,
};

static int err_of(long r) {
        return r < 0 ? errno : 0;
}

/* mount(2) through the 32-bit entry (int $0x80): the filter's i386 table.
 * In a child of its own: a kernel without IA32 emulation answers int $0x80
 * with a general protection fault. -2: no 32-bit entry. */
static int compat_remount_ro(const char *target) {
#if defined(__x86_64__)
        char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (low == MAP_FAILED)
                return -2;
        snprintf(low, 4000, "%s", target);
        int *result = (int *) (low + 4000);
        *result = -2;
        pid_t pid = fork();
        if (pid == 0) {
                long ret;
                /* i386 mount is 21: ebx source, ecx target, edx type, esi flags */
                __asm__ volatile("int $0x80"
                                 : "=a"(ret)
                                 : "a"(21L), "b"(0L), "c"((long) (uintptr_t) low), "d"(0L),
                                   "S"((long) (MS_REMOUNT | MS_RDONLY))
                                 : "memory");
                *result = ret < 0 ? (int) -ret : 0;
                _exit(0);
        }
        int status = 0, r = -2;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
                r = *result;
        munmap(low, 4096);
        return r;
#else
        (void) target;
        return -2;
#endif
}

static bool is_rdonly(const char *path) {
        struct statvfs sv;
        return statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

static bool superblock_rw(const char *path) {
        /* The superblock's own options, last field of mountinfo: "rw,..." */
        char line[4096];
        bool rw = false;
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return false;
        while (fgets(line, sizeof line, f)) {
                char mp[PATH_MAX];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 || strcmp(mp, path) != 0)
                        continue;
                const char *dash = strstr(line, " - ");
                const char *opts = dash ? strrchr(dash, ' ') : NULL;
                rw = opts && strncmp(opts + 1, "rw", 2) == 0;
        }
        fclose(f);
        return rw;
}

/* In a child, in a mount namespace of its own (private: nothing reaches the
 * host), with a tmpfs of its own at dir: installs the programs, then tries
 * everything on that tmpfs. Paths are not seen by seccomp, so the tmpfs
 * stands for "/" without the risk of remounting the host read-only should
 * the guard fail. res[] gets errno values (0 success). */
static int guard_probe(const SeccompProgram *first, const SeccompProgram *second, const char *dir,
                       int res[static G_N]) {
        int pipefd[2];
        if (pipe(pipefd) < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                int out[G_N];
                for (size_t i = 0; i < G_N; i++)
                        out[i] = -1;
                close(pipefd[0]);
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("warren-guard", dir, "tmpfs", 0, "size=1m") < 0)
                        _exit(3);
                if (seccomp_program_install(first) < 0 || seccomp_program_install(second) < 0)
                        _exit(4);
                out[G_REMOUNT_RO] = err_of(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL));
                out[G_REMOUNT_RO_MAGIC] = err_of(mount(
                        NULL, dir, NULL, MS_MGC_VAL | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL));
                out[G_STILL_RW] = superblock_rw(dir);
                if (!out[G_STILL_RW])
                        (void) mount(NULL, dir, NULL, MS_REMOUNT, NULL); /* back to rw, for what follows */
                out[G_REMOUNT_RW] = err_of(mount(NULL, dir, NULL, MS_REMOUNT, NULL));
                out[G_BIND_RO] = err_of(mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
                out[G_BIND_RO_SEEN] = is_rdonly(dir);
                out[G_BIND_RW] = err_of(mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND, NULL));
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
                out[G_SETATTR_RO] = err_of(syscall(SYS_mount_setattr, AT_FDCWD, dir, 0, &attr, sizeof attr));
                attr = (struct mount_attr){ .attr_clr = MOUNT_ATTR_RDONLY };
                (void) syscall(SYS_mount_setattr, AT_FDCWD, dir, 0, &attr, sizeof attr);
                long fd = syscall(SYS_fspick, AT_FDCWD, dir, FSPICK_CLOEXEC);
                out[G_FSPICK] = err_of(fd);
                if (fd >= 0)
                        close((int) fd);
                fd = syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLOEXEC);
                out[G_OPEN_TREE] = err_of(fd);
                if (fd >= 0)
                        close((int) fd);
                fd = syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                out[G_OPEN_TREE_CLONE] = err_of(fd);
                if (fd >= 0)
                        close((int) fd);
                /* tmpfs can be neither frozen nor shut down: without the
                 * guard these reach the kernel and fail harmlessly. */
                int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                uint32_t how = 0;
                out[G_FIFREEZE] = err_of(ioctl(dfd, FIFREEZE, 0));
                out[G_FIFREEZE_HIGH] =
                        err_of(syscall(SYS_ioctl, dfd, (unsigned long) FIFREEZE | (UINT64_C(1) << 32), 0));
                out[G_FITHAW] = err_of(ioctl(dfd, FITHAW, 0));
                out[G_SHUTDOWN] = err_of(ioctl(dfd, FS_IOC_SHUTDOWN, &how));
                close(dfd);
                out[G_COMPAT_REMOUNT_RO] = compat_remount_ro(dir);
                if (out[G_COMPAT_REMOUNT_RO] == 0)
                        (void) mount(NULL, dir, NULL, MS_REMOUNT, NULL);
                out[G_OTHER] = err_of(syscall(SYS_getppid));
                (void) !write(pipefd[1], out, sizeof out);
                _exit(0);
        }
        close(pipefd[1]);
        ssize_t n = read(pipefd[0], res, sizeof(int) * G_N);
        close(pipefd[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        if (n != (ssize_t) (sizeof(int) * G_N))
                return WIFEXITED(status) ? -WEXITSTATUS(status) : -100;
        return 0;
}

static void test_host_guard(void) {
        _cleanup_seccomp_program_ SeccompProgram *guard = NULL, *def = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        char dir[] = "/tmp/warren-test-guard-XXXXXX";
        int res[G_N];

        ok(seccomp_program_host_guard(&guard, &e) == 0, "the host guard compiles");
        ok(seccomp_program_size(guard) > 10 && seccomp_program_size(guard) < 400,
           "into a small filter (%zu instructions)", seccomp_program_size(guard));
        ok(seccomp_program_from_config(c, &def, &e) == 0, "the default profile too");
        if (!mkdtemp(dir)) {
                ok(0, "a temporary directory: %m");
                return;
        }

        /* Without it: the kernel's answers (the test can fail). */
        is(guard_probe(NULL, NULL, dir, res), 0, "no filter: the probe ran");
        is(res[G_REMOUNT_RO], 0, "no filter: a superblock remount read-only succeeds");
        is(res[G_STILL_RW], 0, "no filter: and the superblock is read-only");
        is(res[G_FSPICK], 0, "no filter: fspick succeeds");
        is(res[G_OPEN_TREE], 0, "no filter: open_tree succeeds");
        is(res[G_FIFREEZE], EOPNOTSUPP, "no filter: FIFREEZE reaches tmpfs (EOPNOTSUPP)");
        bool compat = res[G_COMPAT_REMOUNT_RO] != -2;
        if (compat)
                is(res[G_COMPAT_REMOUNT_RO], 0, "no filter: the i386 mount(2) remounts read-only");
        else
                ok(1, "# SKIP no 32-bit system call entry in this kernel");

        /* The guard alone, then stacked under the default profile. */
        for (int pass = 0; pass < 2; pass++) {
                const char *how = pass == 0 ? "guard" : "guard + default";
                is(guard_probe(guard, pass == 0 ? NULL : def, dir, res), 0, "%s: the probe ran", how);
                is(res[G_REMOUNT_RO], EACCES, "%s: mount(MS_REMOUNT|MS_RDONLY) is EACCES", how);
                is(res[G_REMOUNT_RO_MAGIC], EACCES, "%s: also with MS_MGC_VAL|MS_NOSUID|MS_NODEV", how);
                is(res[G_STILL_RW], 1, "%s: the superblock stayed read-write", how);
                is(res[G_REMOUNT_RW], 0, "%s: a superblock remount read-write is allowed", how);
                is(res[G_BIND_RO], 0, "%s: a bind remount read-only (the mount only) is allowed", how);
                is(res[G_BIND_RO_SEEN], 1, "%s: and makes the mount read-only", how);
                is(res[G_BIND_RW], 0, "%s: and back", how);
                is(res[G_SETATTR_RO], 0, "%s: mount_setattr(MOUNT_ATTR_RDONLY) is allowed", how);
                is(res[G_FSPICK], ENOSYS, "%s: fspick is ENOSYS", how);
                is(res[G_OPEN_TREE], ENOSYS, "%s: open_tree without OPEN_TREE_CLONE is ENOSYS", how);
                is(res[G_OPEN_TREE_CLONE], 0, "%s: open_tree with OPEN_TREE_CLONE is allowed", how);
                is(res[G_FIFREEZE], EACCES, "%s: FIFREEZE is EACCES", how);
                is(res[G_FIFREEZE_HIGH], EACCES, "%s: FIFREEZE with high bits set is EACCES", how);
                is(res[G_FITHAW], EACCES, "%s: FITHAW is EACCES", how);
                is(res[G_SHUTDOWN], EACCES, "%s: FS_IOC_SHUTDOWN is EACCES", how);
                if (compat)
                        is(res[G_COMPAT_REMOUNT_RO], EACCES, "%s: the i386 mount(2) read-only is EACCES",
                           how);
                is(res[G_OTHER], 0, "%s: everything else is allowed", how);
        }
        rmdir(dir);
}

int main(void) {
        if (geteuid() != 0) {
                ok(1, "# SKIP installing filters without no_new_privs needs root");
                return done_testing();
        }
        test_default();
        test_policies();
        test_config_garbage();
        test_host_guard();
        return done_testing();
}
