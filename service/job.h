/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "daemon.h"

struct Job {
        Daemon *daemon;
        uint32_t id;
        char *type;   /* "create", "pull" */
        char *target; /* container or image */
        double progress;
        uint64_t bytes_done;
        uint64_t bytes_total;
        char *result; /* set when finished: done, canceled, failed */
        sd_event_source *finish_source;
        Job *next;
};

/* Creates a job, exports it and emits JobNew. */
int job_new(Daemon *d, const char *type, const char *target, Job **ret);
/* Ends a job: emits JobRemoved(id, path, result) from the event loop (so
 * after any method reply already queued) and frees it. */
int job_finish(Job *j, const char *result);
char *job_bus_path(const Job *j);
void job_free_all(Daemon *d);
