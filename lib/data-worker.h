/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warren-worker (lib/worker.h) running the long work behind data jobs
 * (copies, archives, file transfers), so warrend never walks a container's
 * tree or parses a tar stream itself, nor links libarchive.
 *
 * The worker leads its own process group (killing the group ends whatever
 * it started), dies with its parent, has default signal dispositions and
 * keeps only its report socket (fd 3) and the fds the caller listed,
 * renumbered 5, 6, ... in that order (the work's struct gets those
 * numbers). It runs the kind's work function with warrend's privileges
 * (the work drops what it does not need: data_worker_drop_privileges()),
 * sends the result and _exit()s. Reports are SOCK_SEQPACKET datagrams:
 * progress (phase, bytes done and total), notes (text for the job's
 * Message) and one result.
 *
 * The parent watches data_worker_fd() for input and calls
 * data_worker_dispatch() until DATA_EVENT_NONE; DATA_EVENT_DONE comes once,
 * after the child is gone and reaped. No sd-event here: warrend wraps it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "worker.h"

typedef struct DataWorker DataWorker;
typedef struct DataReport DataReport;

#define DATA_WORKER_TEXT_MAX 2048U

/* Runs in the worker. Returns 0 or -errno with reterr set. */
typedef int (*DataWorkFunc)(DataReport *rep, void *userdata, WarrenError *reterr);

/* kind: WORKER_COPY, WORKER_RESTORE, WORKER_EXPORT or WORKER_FILES, with
 * params its struct; fds: the struct's fds array. worker_path: the
 * installed warren-worker (WARREN_WORKER_PATH, for warrend). */
int data_worker_start(const char *worker_path, WorkerKind kind, const void *params, const int *fds,
                      size_t n_fds, DataWorker **ret, WarrenError *reterr);
int data_worker_fd(const DataWorker *w);
pid_t data_worker_pid(const DataWorker *w);

typedef enum DataEventType {
        DATA_EVENT_NONE,
        DATA_EVENT_PROGRESS,
        DATA_EVENT_NOTE,
        DATA_EVENT_DONE,
} DataEventType;

typedef struct DataEvent {
        DataEventType type;
        char phase[32]; /* PROGRESS */
        uint64_t done, total;
        double progress;                     /* PROGRESS: done/total, or -1 if total is 0 */
        int error;                           /* DONE: 0 or a positive errno */
        char text[DATA_WORKER_TEXT_MAX + 1]; /* NOTE: the note; DONE: what failed ("" on success) */
} DataEvent;

/* Reads one report; DATA_EVENT_NONE if nothing is queued yet. */
int data_worker_dispatch(DataWorker *w, DataEvent *ret);
/* Kills a child still running (its whole group) and reaps it; frees. */
DataWorker *data_worker_free(DataWorker *w);

/* ---- in the worker ---- */

/* Runs run(userdata) reporting on sock, sends its result, _exit()s. */
_Noreturn void data_worker_child_main(int sock, DataWorkFunc run, void *userdata);
/* Sends a failure as the result (the work never ran) and _exit()s. */
_Noreturn void data_worker_child_fail(int sock, int error, const char *message);

/* Rate limited to one per 100 ms per phase (a new phase always goes out). */
void data_report_progress(DataReport *r, const char *phase, uint64_t done, uint64_t total);
void data_report_note(DataReport *r, const char *fmt, ...) _printf_(2, 3);

/* Keeps only the capabilities writing a rootfs takes (CAP_CHOWN,
 * CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
 * CAP_SETFCAP, and CAP_MKNOD if allow_mknod), in every set and the bounding
 * set, with no_new_privs. Call it once the work needs nothing more (after
 * setns(), chroot()). */
int data_worker_drop_privileges(bool allow_mknod, WarrenError *reterr);
