/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The parameters of each WorkerKind as they travel to warren-worker
 * (lib/worker.h): a header (magic, format version, kind, how many fds and
 * which are present), then the kind's struct field by field
 * (lib/basic/pack.h). Callbacks are not carried: the worker sets its own. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/pack.h"
#include "clone.h"
#include "export.h"
#include "file-transfer.h"
#include "image-child.h"
#include "image-job.h"
#include "snapshot.h"
#include "worker.h"

/* Bumped whenever a kind's fields change: a worker of another build
 * refuses the parameters instead of misreading them. */
#define WORKER_PARAMS_VERSION 1U

int worker_params_pack(WorkerKind kind, const void *params, const int *fds, size_t n_fds, uint8_t **ret,
                       size_t *ret_size);

typedef struct WorkerParams {
        WorkerKind kind;
        union {
                ImagePullParams pull;
                ImageLocalParams local;
                ImageRemoteParams remote;
                CopyWork copy;
                RestoreWork restore;
                ExportWork export;
                FileWork files;
        };
        uint8_t *buf; /* what the strings point into */
        Unpacker unpacker;
} WorkerParams;

/* Reads the parameters of kind from buf (taken, even on failure). The
 * struct's fds are WORKER_FIRST_FD + i where the caller passed one, -EBADF
 * where not. -EBADMSG naming what is wrong; -EPROTO for a header of
 * another format version or kind. */
int worker_params_unpack(WorkerKind kind, uint8_t *buf, size_t size, WorkerParams *ret, WarrenError *reterr);
void worker_params_done(WorkerParams *p);
