/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/process.h"
#include "worker-params.h"
#include "worker.h"

static const char *const kind_names[_WORKER_KIND_MAX] = {
        [WORKER_IMAGE_PULL] = "image-pull",
        [WORKER_IMAGE_LOCAL] = "image-local",
        [WORKER_IMAGE_REMOTE] = "image-remote",
        [WORKER_COPY] = "copy",
        [WORKER_RESTORE] = "restore",
        [WORKER_EXPORT] = "export",
        [WORKER_FILES] = "files",
};

const char *worker_kind_to_string(WorkerKind k) {
        return k >= 0 && k < _WORKER_KIND_MAX ? kind_names[k] : NULL;
}

WorkerKind worker_kind_from_string(const char *s) {
        for (size_t i = 0; s && i < _WORKER_KIND_MAX; i++)
                if (streq(kind_names[i], s))
                        return (WorkerKind) i;
        return _WORKER_KIND_INVALID;
}

/* The parameters in a memfd sealed against any change: what the worker
 * reads is what warrend wrote. */
static int params_memfd(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = memfd_create("warren-worker-params", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, data, size);
        if (r < 0)
                return r;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
            lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* In the child: the socket to 3, the parameters to 4, fds to 5..., the
 * exec-error pipe to the first free number after them (still O_CLOEXEC);
 * every other fd closed. Sources are first moved above all targets, so no
 * dup3() overwrites one that is still to be moved. */
static int child_fds(int sock, int params, const int *fds, size_t n, int *errpipe) {
        int low = WORKER_FIRST_FD + (int) n, moved[WORKER_FDS_MAX];
        /* First the pipe: a failure below is reported on it, so it must
         * not be one of the numbers overwritten on the way. */
        int e = fcntl(*errpipe, F_DUPFD_CLOEXEC, low + 1);
        if (e < 0)
                return -errno;
        *errpipe = e;
        int s = fcntl(sock, F_DUPFD_CLOEXEC, low + 1), q = fcntl(params, F_DUPFD_CLOEXEC, low + 1);
        if (s < 0 || q < 0)
                return -errno;
        for (size_t i = 0; i < n; i++)
                if ((moved[i] = fds[i] < 0 ? -EBADF : fcntl(fds[i], F_DUPFD_CLOEXEC, low + 1)) < 0 &&
                    fds[i] >= 0)
                        return -errno;
        /* dup2() clears O_CLOEXEC on the target: these survive the exec. */
        if (dup2(s, WORKER_SOCKET_FD) < 0 || dup2(q, WORKER_PARAMS_FD) < 0)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                int target = WORKER_FIRST_FD + (int) i;
                if (moved[i] < 0)
                        (void) close(target); /* whatever of warrend's sat there */
                else if (dup2(moved[i], target) < 0)
                        return -errno;
        }
        if (dup3(e, low, O_CLOEXEC) < 0)
                return -errno;
        *errpipe = low;
        (void) close_range((unsigned) low + 1, ~0U, 0);
        return 0;
}

_Noreturn static void child(const char *path, WorkerKind kind, int sock, int params, const int *fds,
                            size_t n, pid_t parent, int errpipe) {
        const char *argv[] = { "warren-worker", worker_kind_to_string(kind), NULL };
        sigset_t all;
        int r;

        /* Leave warrend's world: own process group (so killing it ends
         * whatever the work starts), death with warrend, default signals.
         * The worker checks the death signal is set before it works. */
        (void) setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        /* Kept across the exec: a peer closing early (OpenSSL writes without
         * MSG_NOSIGNAL, a closed output fd) is an error, not a death. */
        (void) signal(SIGPIPE, SIG_IGN);
        sigfillset(&all);
        (void) sigprocmask(SIG_UNBLOCK, &all, NULL);
        (void) setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
        umask(022);
        int failed[2] = { 0 }; /* what failed (0: setting up, 1: the exec), its errno */
        r = child_fds(sock, params, fds, n, &errpipe);
        if (r >= 0 && chdir("/") < 0)
                r = -errno;
        if (r >= 0) {
                /* warrend's environment, as the forked child had it (proxies
                 * for libcurl, sanitizer options); the path is absolute. */
                execve(path, (char *const *) argv, environ);
                r = -errno;
                failed[0] = 1;
        }
        failed[1] = -r;
        (void) write(errpipe, failed, sizeof failed);
        _exit(127);
}

int worker_spawn(const char *path, WorkerKind kind, const void *params, const int *fds, size_t n_fds,
                 pid_t *ret_pid, int *ret_sock, WarrenError *reterr) {
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_close_ int mfd = -EBADF, ours = -EBADF, theirs = -EBADF, ep_read = -EBADF,
                            ep_write = -EBADF;
        size_t size = 0;
        int sv[2], ep[2], r;

        if (!path || path[0] != '/')
                return warren_error_set(reterr, EINVAL, "Invalid worker path '%s': must be absolute",
                                        strempty(path));
        if (!worker_kind_to_string(kind) || n_fds > WORKER_FDS_MAX)
                return warren_error_set(reterr, EINVAL, "Invalid worker job (kind %d, %zu fds)", (int) kind,
                                        n_fds);
        r = worker_params_pack(kind, params, fds, n_fds, &data, &size);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to pack the parameters of the %s worker: %s",
                                        worker_kind_to_string(kind), strerror(-r));
        mfd = params_memfd(data, size);
        if (mfd < 0)
                return warren_error_set(reterr, mfd, "Failed to hand over the worker's parameters: %s",
                                        strerror(-mfd));
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return warren_error_set(reterr, errno, "Failed to create the worker's socket: %m");
        ours = sv[0];
        theirs = sv[1];
        if (pipe2(ep, O_CLOEXEC) < 0)
                return warren_error_set(reterr, errno, "Failed to create a pipe: %m");
        ep_read = ep[0];
        ep_write = ep[1];

        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return warren_error_set(reterr, errno, "Failed to fork a worker: %m");
        if (pid == 0)
                child(path, kind, theirs, mfd, fds, n_fds, parent, ep_write);
        (void) setpgid(pid, pid); /* here too: a kill right away reaches the group */
        ep_write = safe_close(ep_write);
        theirs = safe_close(theirs);

        /* EOF once the exec succeeded (the pipe is O_CLOEXEC), else what failed. */
        int failed[2] = { 0 };
        ssize_t k;
        do
                k = read(ep_read, failed, sizeof failed);
        while (k < 0 && errno == EINTR);
        if (k == (ssize_t) sizeof failed && failed[1] > 0) {
                (void) process_group_reap(pid, true);
                return warren_error_set(reterr, failed[1], "Failed to %s the worker '%s': %s",
                                        failed[0] ? "execute" : "set up the fds of", path,
                                        strerror(failed[1]));
        }
        *ret_pid = pid;
        *ret_sock = TAKE_FD(ours);
        return 0;
}
