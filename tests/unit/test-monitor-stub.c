/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The spawn stub (lib/monitor-stub.c): a parked process sharing our
 * memory that clones a child for us, born in the stub's cgroups and still
 * our child. Real processes; the cgroup part needs root and a v1
 * hierarchy (this machine has nine). */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "cgroup.h"
#include "monitor-stub.h"
#include "tap.h"

static volatile unsigned long secret;
static int report_fd = -1;

static char *read_text(const char *path) {
        char *s = NULL;
        if (read_full_file(path, 1 << 16, &s, NULL) < 0)
                return NULL;
        return s;
}

/* /proc/PID/status field ("PPid") as a number. */
static long status_field(pid_t pid, const char *field) {
        char p[64], key[32];
        snprintf(p, sizeof p, "/proc/%d/status", (int) pid);
        snprintf(key, sizeof key, "\n%s:", field);
        _cleanup_free_ char *s = read_text(p);
        const char *f = s ? strstr(s, key) : NULL;
        return f ? strtol(f + strlen(key), NULL, 10) : -1;
}

/* In the child: what it sees of us and of itself, down report_fd. */
static void child_report(void *userdata) {
        char buf[4096];
        const char *cgfile = userdata;
        _cleanup_free_ char *cg = cgfile ? read_text("/proc/self/cgroup") : NULL;
        int n = snprintf(buf, sizeof buf, "ppid=%d secret=%lu cgroup=%s", (int) getppid(), secret,
                         cg ? cg : "-");
        if (write(report_fd, buf, (size_t) n) != n)
                _exit(2);
        _exit(42);
}

static void test_basics(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        SpawnStub *s = NULL;
        int pipefd[2], pidfd = -EBADF;
        char buf[4096], p[64];

        is(spawn_stub_new(&s, &e), 0, "stub parked");
        if (!s)
                return;
        pid_t stub = spawn_stub_pid(s);
        ok(stub > 0 && stub != getpid(), "the stub is a process of its own (%d)", (int) stub);
        is(status_field(stub, "PPid"), getpid(), "...our child");
        is(status_field(stub, "Tgid"), stub, "...its own thread group, not a thread of ours");
        snprintf(p, sizeof p, "/proc/%d/comm", (int) stub);
        _cleanup_free_ char *comm = NULL;
        for (unsigned i = 0; i < 200; i++) { /* it names itself once it runs */
                free(comm);
                comm = read_text(p);
                if (comm && streq(comm, "warren-stub\n"))
                        break;
                usleep(5000);
        }
        is_str(comm, "warren-stub\n", "named warren-stub");

        /* After the stub was made: the child must still see these. */
        secret = 0xfeedbeefUL;
        ok(pipe2(pipefd, O_CLOEXEC) == 0, "a pipe opened after the stub");
        report_fd = pipefd[1];

        struct clone_args a = { .flags = CLONE_PIDFD, .pidfd = (uint64_t) (uintptr_t) &pidfd };
        pid_t child = spawn_stub_clone(s, &a, child_report, NULL, &e);
        ok(child > 0, "the stub cloned a child (%d)", (int) child);
        ok(pidfd >= 0, "with a pidfd in our fd table");
        safe_close(pipefd[1]);
        ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        safe_close(pipefd[0]);
        char expect[128];
        snprintf(expect, sizeof expect, "ppid=%d secret=%lu", (int) getpid(), 0xfeedbeefUL);
        like(buf, expect, "the child is ours (CLONE_PARENT) and sees our memory as it was at the clone");
        siginfo_t si = {};
        ok(waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED) == 0 && si.si_code == CLD_EXITED &&
                   si.si_status == 42,
           "we reap it: exit status 42");
        safe_close(pidfd);
        ok(kill(stub, 0) == 0, "the stub is parked again");

        /* Again: a second child from the same stub. */
        secret = 42;
        ok(pipe2(pipefd, O_CLOEXEC) == 0, "another pipe");
        report_fd = pipefd[1];
        a = (struct clone_args){};
        child = spawn_stub_clone(s, &a, child_report, NULL, &e);
        ok(child > 0, "a second clone");
        safe_close(pipefd[1]);
        n = read(pipefd[0], buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        safe_close(pipefd[0]);
        like(buf, "secret=42", "...sees our memory as it is now");
        ok(waitpid(child, NULL, 0) == child, "...and is ours to reap");
        s = spawn_stub_free(s);
        ok(kill(stub, 0) < 0 && errno == ESRCH, "free ends the stub and reaps it");

        /* A dead stub is told, not hung on. */
        is(spawn_stub_new(&s, NULL), 0, "another stub");
        stub = spawn_stub_pid(s);
        ok(kill(stub, SIGKILL) == 0, "SIGKILL to the stub");
        usleep(20000);
        ok(getpid() > 0 && kill(getpid(), 0) == 0, "we survive it (its own thread group)");
        a = (struct clone_args){};
        is(spawn_stub_clone(s, &a, child_report, NULL, &e), -ESRCH, "a clone through a dead stub: ESRCH");
        like(e.message, "died before cloning", "...saying so");
        is(spawn_stub_clone(s, &a, child_report, NULL, &e), -ESRCH, "...and again: ESRCH");
        warren_error_clear(&e);
        s = spawn_stub_free(s);

        is(spawn_stub_new(&s, NULL), 0, "a third stub");
        a = (struct clone_args){ .exit_signal = SIGCHLD };
        is(spawn_stub_clone(s, &a, child_report, NULL, &e), -EINVAL, "an exit signal is refused");
        like(e.message, "no exit signal", "...saying so");
        warren_error_clear(&e);
        stub = spawn_stub_pid(s);
        s = spawn_stub_free(s);
        ok(kill(stub, 0) < 0 && errno == ESRCH, "free ends a parked stub and reaps it");
}

/* The point of it: the child is born in the stub's v1 cgroup, with no
 * move of its own. */
static void test_cgroup(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *l = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        SpawnStub *s = NULL;
        char parent[64], buf[4096], expect[256];
        int pipefd[2];

        if (geteuid() != 0 || cgroup_layout_detect(&l, NULL) < 0 || l->n_v1 == 0) {
                ok(1, "# SKIP needs root and a cgroup v1 hierarchy");
                return;
        }
        snprintf(parent, sizeof parent, "warren-test-stub-%d", (int) getpid());
        is(cgroup_new(l, parent, "spare", &cg, &e), 0, "a cgroup");
        is(cgroup_create_v1(cg, &e), 0, "its v1 directories");
        is(spawn_stub_new(&s, &e), 0, "a stub");
        is(cgroup_attach_v1(cg, spawn_stub_pid(s), &e), 0, "moved into the v1 cgroups");
        ok(pipe2(pipefd, O_CLOEXEC) == 0, "a pipe");
        report_fd = pipefd[1];
        struct clone_args a = {};
        pid_t child = spawn_stub_clone(s, &a, child_report, "cgroup", &e);
        ok(child > 0, "cloned");
        safe_close(pipefd[1]);
        ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        safe_close(pipefd[0]);
        /* Every v1 line ("N:controllers:path"; "0::path" is cgroup2). */
        unsigned v1_lines = 0, in_spare = 0;
        snprintf(expect, sizeof expect, "%s", cgroup_get_path(cg));
        for (char *line = strstr(buf, "cgroup="), *next; line; line = next) {
                line = line == strstr(buf, "cgroup=") ? line + strlen("cgroup=") : line;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (!*line || strncmp(line, "0::", 3) == 0)
                        continue;
                char *path = strchr(line, ':') ? strchr(strchr(line, ':') + 1, ':') : NULL;
                v1_lines++;
                in_spare += path && streq(path + 1, expect);
        }
        is(v1_lines, l->n_v1, "the child's /proc/self/cgroup has a line per v1 hierarchy");
        is(in_spare, l->n_v1, "born in the stub's v1 cgroups (%s), no move of its own", expect);
        if (child > 0)
                (void) waitpid(child, NULL, 0);
        s = spawn_stub_free(s);
        is(cgroup_remove(cg, &e), 0, "the cgroups go (nothing left in them)");
        (void) cgroup_remove_parent(l, parent, NULL);
}

int main(void) {
        test_basics();
        test_cgroup();
        return done_testing();
}
