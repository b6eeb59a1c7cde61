/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/log.h"
#include "monitor-stub.h"

/* The child runs on this stack until it execs: mounts, hooks, the
 * seccomp install. Reserved, not committed: only touched pages count. */
#define STUB_STACK_SIZE (1024U * 1024U)

struct SpawnStub {
        pid_t pid;
        int pidfd;
        pid_t parent;
        bool reaped;
        int go_read, go_write;     /* a pipe: one byte "g" starts a clone, EOF ends the stub */
        int done_read, done_write; /* a pipe: one byte after each clone */
        void *stack;
        size_t stack_size;
        /* The request, written before the go and read by the stub after it
         * (the pipe orders both). */
        struct clone_args *args;
        void (*fn)(void *userdata);
        void *userdata;
        long result; /* the stub's: pid, or -errno */
};

/* The stub. It shares our memory and TLS (errno, libc's thread state), so
 * while parked it calls nothing but plain syscall()s, which touch no libc
 * state on success, and it never fails where it waits: all its signals
 * have the default action (none is caught, so none interrupts the read;
 * the fatal ones just end it). */
static int stub_main(void *userdata) {
        SpawnStub *s = userdata;
        char go = 0;

        (void) syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (syscall(SYS_getppid) != s->parent)
                return 0; /* our monitor died before the prctl */
        (void) syscall(SYS_prctl, PR_SET_NAME, "warren-stub", 0, 0, 0);
        for (;;) {
                if (syscall(SYS_read, s->go_read, &go, 1) != 1 || go != 'g')
                        return 0;
                /* The monitor waits for our "done" from here on: only one of us runs. */
                long pid = syscall(SYS_clone3, s->args, sizeof *s->args);
                if (pid == 0) {
                        s->fn(s->userdata);
                        _exit(EXIT_FAILURE);
                }
                s->result = pid < 0 ? -errno : pid;
                if (syscall(SYS_write, s->done_write, "d", 1) != 1)
                        return 0;
        }
}

int spawn_stub_new(SpawnStub **ret, WarrenError *reterr) {
        long page = sysconf(_SC_PAGESIZE);
        int fds[2];
        SpawnStub *s = calloc(1, sizeof *s);
        if (!s)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        *s = (SpawnStub){ .pidfd = -EBADF,
                          .go_read = -EBADF,
                          .go_write = -EBADF,
                          .done_read = -EBADF,
                          .done_write = -EBADF,
                          .parent = getpid() };
        for (unsigned i = 0; i < 2; i++) {
                if (pipe2(fds, O_CLOEXEC) < 0) {
                        int r = warren_error_set(reterr, errno,
                                                 "Failed to create the spawn stub's pipes: %m");
                        spawn_stub_free(s);
                        return r;
                }
                *(i == 0 ? &s->go_read : &s->done_read) = fds[0];
                *(i == 0 ? &s->go_write : &s->done_write) = fds[1];
        }
        s->stack_size = STUB_STACK_SIZE;
        s->stack = mmap(NULL, s->stack_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (s->stack == MAP_FAILED) {
                s->stack = NULL;
                int r = warren_error_set(reterr, errno, "Failed to map the spawn stub's stack: %m");
                spawn_stub_free(s);
                return r;
        }
        /* A guard page: an overflow faults instead of writing into our heap. */
        if (page > 0)
                (void) mprotect(s->stack, (size_t) page, PROT_NONE);
        /* Not a thread: its own thread group, so its own cgroups and its
         * own signals; CLONE_FILES and CLONE_FS so that the child it makes
         * has our fds and our working directory of that moment. */
        int pidfd = -EBADF;
        pid_t pid = clone(stub_main, (char *) s->stack + s->stack_size,
                          CLONE_VM | CLONE_FILES | CLONE_FS | CLONE_PIDFD | SIGCHLD, s, &pidfd);
        if (pid < 0) {
                int r = warren_error_set(reterr, errno, "Failed to create the spawn stub: %m");
                spawn_stub_free(s);
                return r;
        }
        s->pid = pid;
        s->pidfd = pidfd;
        *ret = s;
        return 0;
}

pid_t spawn_stub_pid(const SpawnStub *s) {
        return s->pid;
}

int spawn_stub_pidfd(const SpawnStub *s) {
        return s->pidfd;
}

static void stub_reap(SpawnStub *s) {
        siginfo_t si;
        if (s->reaped || s->pidfd < 0)
                return;
        /* ECHILD: someone's waitpid(-1) got it first. */
        while (waitid(P_PIDFD, (id_t) s->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
        s->reaped = true;
}

pid_t spawn_stub_clone(SpawnStub *s, struct clone_args *args, void (*fn)(void *userdata), void *userdata,
                       WarrenError *reterr) {
        if (s->reaped || s->go_write < 0)
                return warren_error_set(reterr, ESRCH, "The spawn stub (pid %d) is gone", (int) s->pid);
        if (args->exit_signal != 0)
                return warren_error_set(reterr, EINVAL,
                                        "A clone through the spawn stub takes no exit signal");
        args->flags |= CLONE_PARENT;
        s->args = args;
        s->fn = fn;
        s->userdata = userdata;
        s->result = -ESRCH;
        /* A dead stub leaves the pipes open (we share its fd table): its
         * pidfd tells. */
        ssize_t n;
        do
                n = write(s->go_write, "g", 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                return warren_error_set(reterr, errno, "Failed to wake the spawn stub: %m");
        for (;;) {
                struct pollfd p[2] = { { .fd = s->done_read, .events = POLLIN },
                                       { .fd = s->pidfd, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return warren_error_set(reterr, errno, "Failed to wait for the spawn stub: %m");
                }
                char d;
                if ((p[0].revents & POLLIN) && read(s->done_read, &d, 1) == 1)
                        break;
                if (p[1].revents & POLLIN) {
                        stub_reap(s);
                        return warren_error_set(reterr, ESRCH, "The spawn stub (pid %d) died before cloning",
                                                (int) s->pid);
                }
        }
        if (s->result < 0)
                return warren_error_set(reterr, (int) -s->result, "clone3() failed: %s",
                                        strerror((int) -s->result));
        return (pid_t) s->result;
}

void spawn_stub_end(SpawnStub *s) {
        if (!s || s->pid <= 0 || s->reaped)
                return;
        /* EOF ends a parked stub; a stopped one gets SIGKILL, which ends
         * its thread group only, never ours. */
        s->go_write = safe_close(s->go_write);
        if (s->pidfd >= 0)
                (void) pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
}

SpawnStub *spawn_stub_free(SpawnStub *s) {
        if (!s)
                return NULL;
        spawn_stub_end(s);
        stub_reap(s);
        safe_close(s->pidfd);
        safe_close(s->go_read);
        safe_close(s->go_write);
        safe_close(s->done_read);
        safe_close(s->done_write);
        if (s->stack)
                (void) munmap(s->stack, s->stack_size);
        free(s);
        return NULL;
}
