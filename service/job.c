/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.warren1.Job: one object per job, until Manager.JobRemoved. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "basic/log.h"
#include "bus-error.h"
#include "job.h"
#include "polkit.h"

char *job_bus_path(const Job *j) {
        char *p = NULL;
        if (asprintf(&p, WARREN_JOB_PREFIX "/%u", j->id) < 0)
                return NULL;
        return p;
}

static Job *job_by_id(Daemon *d, uint32_t id) {
        for (Job *j = d->jobs; j; j = j->next)
                if (j->id == id)
                        return j;
        return NULL;
}

static Job *job_by_path(Daemon *d, const char *path) {
        const char *e = path + strlen(WARREN_JOB_PREFIX "/");
        char *end;
        if (strncmp(path, WARREN_JOB_PREFIX "/", strlen(WARREN_JOB_PREFIX "/")) != 0 || !*e || *e == '0')
                return NULL;
        errno = 0;
        unsigned long id = strtoul(e, &end, 10);
        if (errno || *end || id > UINT32_MAX || !(*e >= '1' && *e <= '9'))
                return NULL;
        return job_by_id(d, (uint32_t) id);
}

static void job_unlink_and_free(Job *j) {
        Daemon *d = j->daemon;
        for (Job **p = &d->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        sd_event_source_disable_unref(j->emit_timer);
        sd_event_source_unref(j->finish_source);
        free(j->type);
        free(j->target);
        free(j->phase);
        free(j->message);
        free(j->error_name);
        free(j->result);
        free(j);
        daemon_release(d);
}

void job_free_all(Daemon *d) {
        while (d->jobs)
                job_unlink_and_free(d->jobs);
}

int job_new(Daemon *d, const char *type, const char *target, Job **ret) {
        Job *j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->daemon = d;
        j->type = strdup(type);
        j->target = strdup(target);
        j->phase = strdup("");
        j->message = strdup("");
        j->error_name = strdup("");
        j->progress = -1;
        j->uid = (uid_t) -1;
        if (!j->type || !j->target || !j->phase || !j->message || !j->error_name) {
                free(j->type);
                free(j->target);
                free(j->phase);
                free(j->message);
                free(j->error_name);
                free(j);
                return -ENOMEM;
        }
        do
                j->id = ++d->last_job_id;
        while (j->id == 0 || job_by_id(d, j->id));
        j->next = d->jobs;
        d->jobs = j;
        daemon_hold(d);

        _cleanup_free_ char *path = job_bus_path(j);
        /* ObjectManager's InterfacesAdded (with Type and Target: a job may
         * be gone before anyone could read them), then JobNew. */
        if (path)
                (void) sd_bus_emit_object_added(d->bus, path);
        if (path)
                (void) sd_bus_emit_signal(d->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE, "JobNew", "uo",
                                          j->id, path);
        *ret = j;
        return 0;
}

void job_set_cancel(Job *j, uid_t uid, JobCancelFunc cancel, void *userdata) {
        j->uid = uid;
        j->cancel = cancel;
        j->cancel_userdata = userdata;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static void job_emit_progress(Job *j) {
        _cleanup_free_ char *path = job_bus_path(j);
        j->emit_pending = false;
        j->last_emit_usec = now_usec();
        if (path)
                (void) sd_bus_emit_properties_changed(j->daemon->bus, path, WARREN_JOB_IFACE, "Progress",
                                                      "BytesDone", "BytesTotal", "Phase", NULL);
}

static int emit_timer_handler(sd_event_source *s, uint64_t usec, void *userdata) {
        Job *j = userdata;
        if (j->emit_pending)
                job_emit_progress(j);
        return 0;
}

void job_set_progress(Job *j, double progress, uint64_t bytes_done, uint64_t bytes_total,
                      const char *phase) {
        if (j->finish_source)
                return;
        /* Progress never goes back: a retried download restarts its bytes, not the job. */
        if (progress > j->progress)
                j->progress = progress > 1.0 ? 1.0 : progress;
        j->bytes_done = bytes_done;
        j->bytes_total = bytes_total;
        if (phase && !streq(phase, j->phase)) {
                char *p = strdup(phase);
                if (p) {
                        free(j->phase);
                        j->phase = p;
                }
        }
        uint64_t now = now_usec();
        if (now - j->last_emit_usec >= JOB_EMIT_INTERVAL_USEC) {
                job_emit_progress(j);
                return;
        }
        j->emit_pending = true;
        uint64_t due = j->last_emit_usec + JOB_EMIT_INTERVAL_USEC;
        if (j->emit_timer) {
                (void) sd_event_source_set_time(j->emit_timer, due);
                (void) sd_event_source_set_enabled(j->emit_timer, SD_EVENT_ONESHOT);
        } else if (sd_event_add_time(j->daemon->event, &j->emit_timer, CLOCK_MONOTONIC, due, 10000,
                                     emit_timer_handler, j) < 0)
                job_emit_progress(j); /* no timer: rather too often than stale */
}

int job_set_message(Job *j, const char *error_name, const char *message) {
        char *e = strdup(strempty(error_name)), *m = strdup(strempty(message));
        if (!e || !m) {
                free(e);
                free(m);
                return -ENOMEM;
        }
        free(j->error_name);
        free(j->message);
        j->error_name = e;
        j->message = m;
        _cleanup_free_ char *path = job_bus_path(j);
        if (path)
                (void) sd_bus_emit_properties_changed(j->daemon->bus, path, WARREN_JOB_IFACE, "Message",
                                                      "Error", NULL);
        return 0;
}

static int job_finish_handler(sd_event_source *s, void *userdata) {
        Job *j = userdata;
        _cleanup_free_ char *path = job_bus_path(j);
        if (path)
                (void) sd_bus_emit_signal(j->daemon->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                          "JobRemoved", "uos", j->id, path, j->result);
        if (path)
                (void) sd_bus_emit_object_removed(j->daemon->bus, path);
        job_unlink_and_free(j);
        return 0;
}

int job_finish(Job *j, const char *result) {
        if (j->finish_source)
                return 0;
        free(j->result);
        j->result = strdup(result);
        if (!j->result)
                return -ENOMEM;
        j->cancel = NULL;
        if (streq(result, "done") && j->progress != 1.0) {
                j->progress = 1.0;
                j->emit_pending = true;
        }
        /* The last values go out before JobRemoved, however recent the previous ones. */
        if (j->emit_pending)
                job_emit_progress(j);
        j->emit_timer = sd_event_source_disable_unref(j->emit_timer);
        audit_job_finished(j->id, j->type, j->target, j->uid, j->result, j->message);
        int r = sd_event_add_defer(j->daemon->event, &j->finish_source, job_finish_handler, j);
        if (r < 0) {
                job_finish_handler(NULL, j);
                return r;
        }
        return 0;
}

int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Job *j = job_by_path(userdata, path);
        if (!j)
                return 0;
        *found = j;
        return 1;
}

int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Daemon *d = userdata;
        size_t n = 0;
        for (Job *j = d->jobs; j; j = j->next)
                n++;
        char **l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        size_t i = 0;
        for (Job *j = d->jobs; j; j = j->next) {
                l[i] = job_bus_path(j);
                if (!l[i]) {
                        for (size_t k = 0; k < i; k++)
                                free(l[k]);
                        free(l);
                        return -ENOMEM;
                }
                i++;
        }
        *nodes = l;
        return 0;
}

static int property_get_progress(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        return sd_bus_message_append(reply, "d", j->progress);
}

/* After polkit: the job may have ended meanwhile. */
static int do_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        Job *j = job_by_path(d, sd_bus_message_get_path(m));
        if (!j || j->finish_source)
                return sd_bus_error_setf(error, WARREN_ERROR_BUSY, "Job %s has already finished",
                                         sd_bus_message_get_path(m));
        if (!j->cancel)
                return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED, "Job %u (%s) cannot be canceled",
                                         j->id, j->type);
        JobCancelFunc cancel = TAKE_PTR(j->cancel);
        int r = cancel(j, j->cancel_userdata);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to cancel job %u: %m", j->id);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        uid_t caller;
        /* Jobs that finish inside one event-loop turn have nothing to cancel. */
        if (j->finish_source)
                return sd_bus_error_setf(error, WARREN_ERROR_BUSY, "Job %u is already finishing", j->id);
        if (!j->cancel)
                return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED, "Job %u (%s) cannot be canceled",
                                         j->id, j->type);
        int r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        if (caller == j->uid)
                return do_cancel(m, j->daemon, error);
        const PolkitDetails det = { .container = streq(j->type, "create") ? j->target : NULL,
                                    .owner = j->uid };
        return polkit_authorize(j->daemon, m, "org.warren1.manage", &det, do_cancel, j->daemon, error);
}

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(Job, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", NULL, offsetof(Job, type), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Target", "s", NULL, offsetof(Job, target), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Progress", "d", property_get_progress, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesDone", "t", NULL, offsetof(Job, bytes_done),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesTotal", "t", NULL, offsetof(Job, bytes_total),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Phase", "s", NULL, offsetof(Job, phase), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Message", "s", NULL, offsetof(Job, message), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Error", "s", NULL, offsetof(Job, error_name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Cancel", "", "", method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
