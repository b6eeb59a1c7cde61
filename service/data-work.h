/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The jobs behind container data methods (clone, snapshot, restore,
 * export, file transfers): warren-worker (lib/data-worker.h) does the work;
 * warrend watches its reports, turns them into Job properties and, when it
 * ends, commits or aborts what the work was building (a new container, a
 * snapshot), thaws a container the worker left frozen, and answers a
 * method call that waits for the work (RestoreSnapshot).
 *
 * At most DATA_JOBS_MAX run at once, and each user's count of jobs is held
 * to limit.jobs. While one runs, its container (and a container it
 * creates) is busy: other data methods, Rename and Destroy answer Busy. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "data-worker.h"

typedef struct Daemon Daemon;
typedef struct Job Job;
typedef struct StoreCreate StoreCreate;
typedef struct SnapshotCreate SnapshotCreate;

#define DATA_JOBS_MAX 4U

typedef struct DataWorkSpec {
        const char *type;      /* the Job's Type: clone, snapshot, restore, export, pull, push */
        const char *container; /* the container acted on */
        const char *creates;   /* a container this work creates (clone, restore as), or NULL */
        uid_t creates_owner;   /* ...and its owner */
        const char *target;    /* the Job's Target; NULL: creates ?: container */
        uid_t caller;
        WorkerKind kind; /* what warren-worker runs: WORKER_COPY, _RESTORE, _EXPORT, _FILES */
        void *params;    /* kind's struct, packed at the start: may live on the caller's stack */
        int *fds;
        size_t n_fds;
        /* Taken over (even on failure): committed when the work succeeds, aborted otherwise. */
        StoreCreate *create;
        SnapshotCreate *snapshot;
        /* Restore in place: the container's directory fd (taken) and the
         * copy's temporary name, for restore_work_cleanup() after a failure. */
        int cleanup_dirfd;
        const char *cleanup_tmp;
        /* Replied to (empty, or the error) when the work ends, if set. */
        sd_bus_message *reply_when_done;
} DataWorkSpec;

/* Starts the worker and its Job (JobNew). On failure everything taken is
 * released. */
int data_work_start(Daemon *d, const DataWorkSpec *s, Job **ret_job, sd_bus_error *error);

/* QuotaExceeded if DATA_JOBS_MAX run, or the caller's jobs reached limit.jobs. */
int data_work_check_limits(Daemon *d, uid_t caller, sd_bus_error *error);
/* Busy naming name if a data job acts on it or creates it. */
int data_work_check_busy(const char *name, sd_bus_error *error);
/* How many containers being created by data jobs belong to owner. */
size_t data_work_count_creates(Daemon *d, uid_t owner);
bool data_work_in_progress(const char *name);

/* Cancels every data job (warrend exiting). */
void data_work_free_all(Daemon *d);

/* The bus error a failed data job's errno maps to. */
const char *data_work_error_name(int err);
