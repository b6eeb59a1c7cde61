/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"

/* Ends the work behind a job (an image job's worker...): called by Cancel();
 * must end the job with job_finish(j, "canceled") or fail. */
typedef int (*JobCancelFunc)(Job *j, void *userdata);

struct Job {
        Daemon *daemon;
        uint32_t id;
        char *type;   /* "create", "pull" */
        char *target; /* container or image */
        double progress;
        uint64_t bytes_done;
        uint64_t bytes_total;
        char *phase;      /* of an image job: index, meta, rootfs, unpack, configure, done; "" if none */
        char *message;    /* the image's create-message when done, what failed when failed */
        char *error_name; /* the org.warren1.Error.* a failure maps to, "" otherwise */
        char *result;     /* set when finished: done, canceled, failed */
        uid_t uid;        /* who started it: may Cancel() without polkit */
        JobCancelFunc cancel;
        void *cancel_userdata;
        /* PropertiesChanged for progress is rate limited. */
        uint64_t last_emit_usec;
        bool emit_pending;
        sd_event_source *emit_timer;
        sd_event_source *finish_source;
        Job *next;
};

/* Creates a job, exports it and emits JobNew. */
int job_new(Daemon *d, const char *type, const char *target, Job **ret);
/* Makes Cancel() work (else it answers NotSupported). uid is the job's
 * starter, who may cancel it; anyone else needs org.warren1.manage. */
void job_set_cancel(Job *j, uid_t uid, JobCancelFunc cancel, void *userdata);
/* Progress (0..1), bytes of the current phase and the phase name (NULL:
 * unchanged). PropertiesChanged at most JOB_EMIT_INTERVAL_USEC apart; the
 * latest values always go out (from a timer, or before JobRemoved). */
#define JOB_EMIT_INTERVAL_USEC 200000ULL
void job_set_progress(Job *j, double progress, uint64_t bytes_done, uint64_t bytes_total, const char *phase);
/* Sets Message and Error (NULL: "") and emits PropertiesChanged at once, so
 * a client has them before JobRemoved. */
int job_set_message(Job *j, const char *error_name, const char *message);
/* Ends a job: emits JobRemoved(id, path, result) from the event loop (so
 * after any method reply already queued) and frees it. */
int job_finish(Job *j, const char *result);
char *job_bus_path(const Job *j);
void job_free_all(Daemon *d);
