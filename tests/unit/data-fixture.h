/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the data unit tests: running a data worker (the build tree's
 * warren-worker) to its end. */

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data-worker.h"
#include "worker-fixture.h"

typedef struct WorkerOutcome {
        int error;                           /* 0 or a positive errno */
        char text[DATA_WORKER_TEXT_MAX + 1]; /* what failed */
        char note[DATA_WORKER_TEXT_MAX + 1]; /* the last note */
        unsigned progress;                   /* progress reports seen */
        bool froze, thawed;
} WorkerOutcome;

static inline int run_worker(WorkerKind kind, void *params, int *fds, size_t n, WorkerOutcome *ret) {
        DataWorker *w = NULL;
        WarrenError err = WARREN_ERROR_NULL;
        *ret = (WorkerOutcome){};
        int r = data_worker_start(test_worker_path(), kind, params, fds, n, &w, &err);
        if (r < 0) {
                snprintf(ret->text, sizeof ret->text, "%s", warren_error_message(&err));
                warren_error_clear(&err);
                ret->error = -r;
                return r;
        }
        for (;;) {
                DataEvent ev;
                struct pollfd p = { .fd = data_worker_fd(w), .events = POLLIN };
                (void) poll(&p, 1, 60000);
                (void) data_worker_dispatch(w, &ev);
                if (ev.type == DATA_EVENT_PROGRESS)
                        ret->progress++;
                else if (ev.type == DATA_EVENT_NOTE) {
                        if (ev.text[0] == '\x01')
                                (strstr(ev.text, "thawed") ? (ret->thawed = true) : (ret->froze = true));
                        else
                                snprintf(ret->note, sizeof ret->note, "%s", ev.text);
                } else if (ev.type == DATA_EVENT_DONE) {
                        ret->error = ev.error;
                        snprintf(ret->text, sizeof ret->text, "%s", ev.text);
                        break;
                }
        }
        data_worker_free(w);
        return ret->error ? -ret->error : 0;
}
