/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd_notify READY=1 and STATUS= (see systemd-notify.h). */
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "daemon.h"
#include "runtime.h"
#include "store.h"
#include "systemd-notify.h"

static sd_event_source *pending = NULL;

static void send_status(Daemon *d) {
        _cleanup_strv_free_ char **names = NULL;
        unsigned running = runtime_count_running(d);
        size_t total = store_list(d->store, &names) >= 0 ? strv_length(names) : 0;
        char status[128];
        snprintf(status, sizeof status, "STATUS=%u of %zu container%s running", running, total,
                 total == 1 ? "" : "s");
        (void) sd_notify(0, status);
}

static int on_idle(sd_event_source *s, void *userdata) {
        pending = sd_event_source_disable_unref(pending);
        send_status(userdata);
        return 0;
}

void notify_status_changed(Daemon *d) {
        if (pending || !d->event || !getenv("NOTIFY_SOCKET"))
                return;
        if (sd_event_add_defer(d->event, &pending, on_idle, d) < 0)
                return;
        /* After the replies and signals of this round. */
        (void) sd_event_source_set_priority(pending, SD_EVENT_PRIORITY_IDLE);
}

void notify_ready(Daemon *d) {
        if (!getenv("NOTIFY_SOCKET"))
                return;
        (void) sd_notify(0, "READY=1");
        send_status(d);
}

void notify_free(Daemon *d) {
        pending = sd_event_source_disable_unref(pending);
        if (getenv("NOTIFY_SOCKET"))
                (void) sd_notify(0, "STOPPING=1\nSTATUS=Exiting");
}
