/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warren-worker KIND: warrend's long work, in a process of its own that
 * links what the work needs (libcurl, libarchive, gpgme) so that warrend
 * does not. Started by worker_spawn() (lib/worker.h) only: fd 3 is the
 * report socket, fd 4 the packed parameters, fds 5... the work's. The work
 * (and the privileges it keeps) is each kind's, see lib/worker.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "build-config.h"
#include "clone.h"
#include "data-worker.h"
#include "export.h"
#include "file-transfer.h"
#include "image-child.h"
#include "image-job.h"
#include "snapshot.h"
#include "worker-params.h"
#include "worker.h"

static bool kind_is_image(WorkerKind k) {
        return k == WORKER_IMAGE_PULL || k == WORKER_IMAGE_LOCAL || k == WORKER_IMAGE_REMOTE;
}

/* The work never ran: the failure goes out in the kind's own protocol. */
_Noreturn static void fail(WorkerKind kind, int r, const WarrenError *e) {
        const char *msg = e && e->message ? e->message : strerror(-r);
        log_debug("%s", msg);
        if (kind_is_image(kind)) {
                ImageJobMsg m = { .type = IMAGE_JOB_MSG_RESULT,
                                  .result = { .error = -r, .message = (char *) msg } };
                image_job_msg_send(WORKER_SOCKET_FD, &m);
                _exit(EXIT_FAILURE);
        }
        data_worker_child_fail(WORKER_SOCKET_FD, -r, msg);
}

static int read_params(WorkerKind kind, WorkerParams *ret, WarrenError *reterr) {
        char *buf = NULL;
        size_t size = 0;
        int r = lseek(WORKER_PARAMS_FD, 0, SEEK_SET) < 0 ? -errno : 0;
        if (r >= 0)
                r = read_full_fd(WORKER_PARAMS_FD, WORKER_PARAMS_MAX, &buf, &size);
        (void) close(WORKER_PARAMS_FD);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the worker's parameters: %s",
                                        strerror(-r));
        return worker_params_unpack(kind, (uint8_t *) buf, size, ret, reterr);
}

int main(int argc, char *argv[]) {
        WarrenError e = WARREN_ERROR_NULL;
        WorkerParams p = {};
        struct stat st;
        int sig = 0, r;

        log_set_prefix("warren-worker");
        log_parse_environment();
        WorkerKind kind = argc == 2 ? worker_kind_from_string(argv[1]) : _WORKER_KIND_INVALID;
        if (kind < 0) {
                fprintf(stderr,
                        "warren-worker %s: started by warrend only (warren-worker KIND, with its fds).\n",
                        PACKAGE_VERSION);
                return EXIT_FAILURE;
        }
        /* Only as worker_spawn() leaves it: the report socket, and death
         * with warrend (a worker that outlived it would work for no one). */
        if (fstat(WORKER_SOCKET_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
                fprintf(stderr, "warren-worker: fd %d is not the report socket; started by warrend only.\n",
                        WORKER_SOCKET_FD);
                return EXIT_FAILURE;
        }
        if (prctl(PR_GET_PDEATHSIG, &sig) < 0 || sig != SIGKILL) {
                r = warren_error_set(&e, EPERM,
                                     "warren-worker runs only as warrend's child (no death signal set)");
                fail(kind, r, &e);
        }
        r = read_params(kind, &p, &e);
        if (r < 0)
                fail(kind, r, &e);

        switch (kind) {
        case WORKER_IMAGE_PULL:
                image_pull_child(WORKER_SOCKET_FD, &p.pull);
        case WORKER_IMAGE_LOCAL:
                image_local_child(WORKER_SOCKET_FD, &p.local);
        case WORKER_IMAGE_REMOTE:
                image_remote_child(WORKER_SOCKET_FD, &p.remote);
        case WORKER_COPY:
                data_worker_child_main(WORKER_SOCKET_FD, copy_work_run, &p.copy);
        case WORKER_RESTORE:
                data_worker_child_main(WORKER_SOCKET_FD, restore_work_run, &p.restore);
        case WORKER_EXPORT:
                data_worker_child_main(WORKER_SOCKET_FD, export_work_run, &p.export);
        case WORKER_FILES:
                data_worker_child_main(WORKER_SOCKET_FD, file_work_run, &p.files);
        default:
                fail(kind, -EINVAL, NULL);
        }
}
