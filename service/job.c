/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "job.h"

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

static void job_unlink_and_free(Job *j) {
        Daemon *d = j->daemon;
        for (Job **p = &d->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        sd_event_source_unref(j->finish_source);
        free(j->type);
        free(j->target);
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
        j->progress = -1;
        if (!j->type || !j->target) {
                free(j->type);
                free(j->target);
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
        if (path)
                (void) sd_bus_emit_signal(d->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE, "JobNew", "uo",
                                          j->id, path);
        *ret = j;
        return 0;
}

static int job_finish_handler(sd_event_source *s, void *userdata) {
        Job *j = userdata;
        _cleanup_free_ char *path = job_bus_path(j);
        if (path)
                (void) sd_bus_emit_signal(j->daemon->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                          "JobRemoved", "uos", j->id, path, j->result);
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
        if (streq(result, "done") && j->progress != 1.0) {
                j->progress = 1.0;
                _cleanup_free_ char *path = job_bus_path(j);
                if (path)
                        (void) sd_bus_emit_properties_changed(j->daemon->bus, path, WARREN_JOB_IFACE,
                                                              "Progress", NULL);
        }
        int r = sd_event_add_defer(j->daemon->event, &j->finish_source, job_finish_handler, j);
        if (r < 0) {
                job_finish_handler(NULL, j);
                return r;
        }
        return 0;
}

int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Daemon *d = userdata;
        const char *e = path + strlen(WARREN_JOB_PREFIX "/");
        char *end;
        if (strncmp(path, WARREN_JOB_PREFIX "/", strlen(WARREN_JOB_PREFIX "/")) != 0 || !*e)
                return 0;
        errno = 0;
        unsigned long id = strtoul(e, &end, 10);
        if (errno || *end || id > UINT32_MAX)
                return 0;
        Job *j = job_by_id(d, (uint32_t) id);
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

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        /* Jobs that finish inside one event-loop turn have nothing to cancel. */
        if (j->finish_source)
                return sd_bus_error_setf(error, "org.warren1.Error.Busy", "Job %u is already finishing",
                                         j->id);
        return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED, "Job %u (%s) cannot be canceled", j->id,
                                 j->type);
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
        SD_BUS_METHOD("Cancel", "", "", method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
