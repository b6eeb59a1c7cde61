/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/basic/process: a worker's process group killed and its leader reaped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/process.h"
#include "tap.h"

/* A group leader with a grandchild in its group: the grandchild's pid comes
 * back through a pipe. The leader exits with status (or sleeps if < 0). */
static pid_t spawn_group(int status, pid_t *ret_grandchild) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                (void) setpgid(0, 0);
                pid_t g = fork();
                if (g == 0) {
                        for (;;)
                                pause();
                }
                (void) write(p[1], &g, sizeof g);
                if (status >= 0)
                        _exit(status);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (pid < 0 || read(p[0], ret_grandchild, sizeof *ret_grandchild) != sizeof *ret_grandchild)
                pid = -1;
        close(p[0]);
        return pid;
}

/* The grandchild was reparented to us (subreaper): how it ended. */
static bool killed_by_sigkill(pid_t g) {
        int st = 0;
        return waitpid(g, &st, 0) == g && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

int main(void) {
        pid_t g = 0;
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return printf("Bail out! subreaper: %m\n"), 1;

        pid_t pid = spawn_group(7, &g);
        ok(pid > 0, "a leader that exits by itself");
        int st = process_group_reap(pid, false);
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 7, "its exit status comes back (0x%x)", st);
        ok(killed_by_sigkill(g), "what it left in its group is killed after the wait");
        ok(waitpid(pid, &st, WNOHANG) < 0 && errno == ECHILD, "the leader is reaped");

        pid = spawn_group(-1, &g);
        ok(pid > 0, "a leader that runs on");
        st = process_group_reap(pid, true);
        ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "kill_first ends it with SIGKILL (0x%x)", st);
        ok(killed_by_sigkill(g), "and its group with it");

        /* A child that never made its own group: kill_first still reaches it. */
        pid = fork();
        if (pid == 0) {
                for (;;)
                        pause();
        }
        st = process_group_reap(pid, true);
        ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "a leader without a group of its own is killed too");

        is(process_group_reap(0, true), 0, "pid 0 is refused (kill(0) would hit our own group)");
        is(process_group_reap(-1, true), 0, "a negative pid is refused");
        pid = fork();
        if (pid == 0)
                _exit(0);
        (void) waitpid(pid, &st, 0);
        is(process_group_reap(pid, false), 0, "a child reaped already: status 0");
        return done_testing();
}
