/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/seccomp-filter: policies compiled with libseccomp and installed in a
 * forked child, whose system calls then get the policy's answers. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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

int main(void) {
        if (geteuid() != 0) {
                ok(1, "# SKIP installing filters without no_new_privs needs root");
                return done_testing();
        }
        test_default();
        test_policies();
        test_config_garbage();
        return done_testing();
}
