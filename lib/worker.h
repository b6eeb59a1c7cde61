/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warren-worker: the executable that does warrend's long work, so that
 * warrend itself links none of libcurl, libarchive or gpgme and never
 * parses an untrusted byte: image pulls (lib/image-job.h), the local
 * template and remote listings (lib/image-child.h), and data jobs
 * (lib/data-worker.h: copies, restores, exports, file transfers).
 *
 * worker_spawn() forks; the child leaves warrend's world (its own process
 * group, SIGKILL when warrend dies, default signal dispositions with
 * SIGPIPE ignored, nothing blocked, no core dumps, umask 022, cwd /) and
 * keeps exactly these fds, every other one closed:
 *
 *   3      the report socket (SOCK_SEQPACKET), the job's existing protocol
 *   4      the job's parameters, packed (lib/basic/pack.h) in a sealed memfd
 *   5...   the caller's fds, in order (one absent, -EBADF, stays closed)
 *
 * and executes path (absolute: never searched in PATH) as
 * "warren-worker KIND" with warrend's environment. What privileges the
 * work runs with is the work's to set, exactly as the forked child did
 * before (see each kind's header). An exec failure comes back from
 * worker_spawn() with its errno. The child leads its process group:
 * process_group_reap() ends and reaps it. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

typedef enum WorkerKind {
        WORKER_IMAGE_PULL,   /* ImagePullParams (lib/image-job.h) */
        WORKER_IMAGE_LOCAL,  /* ImageLocalParams (lib/image-child.h) */
        WORKER_IMAGE_REMOTE, /* ImageRemoteParams (lib/image-child.h) */
        WORKER_COPY,         /* CopyWork (lib/clone.h) */
        WORKER_RESTORE,      /* RestoreWork (lib/snapshot.h) */
        WORKER_EXPORT,       /* ExportWork (lib/export.h) */
        WORKER_FILES,        /* FileWork (lib/file-transfer.h) */
        _WORKER_KIND_MAX,
        _WORKER_KIND_INVALID = -EINVAL,
} WorkerKind;

#define WORKER_SOCKET_FD 3
#define WORKER_PARAMS_FD 4
#define WORKER_FIRST_FD 5
#define WORKER_FDS_MAX 8U
#define WORKER_PARAMS_MAX (16U * 1024U * 1024U)

const char *worker_kind_to_string(WorkerKind k);
WorkerKind worker_kind_from_string(const char *s);

/* params: the kind's struct (see WorkerKind), packed here; fds: n_fds fds
 * the work needs (n_fds <= WORKER_FDS_MAX). *ret_sock gets warrend's end of
 * the report socket (O_CLOEXEC, blocking). */
int worker_spawn(const char *path, WorkerKind kind, const void *params, const int *fds, size_t n_fds,
                 pid_t *ret_pid, int *ret_sock, WarrenError *reterr);
