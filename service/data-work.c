/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "bus-error.h"
#include "clone.h"
#include "daemon.h"
#include "data-work.h"
#include "job.h"
#include "monitor-client.h"
#include "owner-limits.h"
#include "owner.h"
#include "snapshot.h"
#include "store.h"

typedef struct DataWork DataWork;
struct DataWork {
        Daemon *daemon;
        Job *job;
        uid_t caller;
        char *container, *creates;
        uid_t creates_owner;
        DataWorker *worker;
        sd_event_source *io;
        StoreCreate *create;
        SnapshotCreate *snapshot;
        int cleanup_dirfd;
        char *cleanup_tmp;
        bool frozen; /* the worker froze the container and has not said it thawed it */
        char *note;
        sd_bus_message *reply_when_done;
        DataWork *next;
};

static DataWork *works = NULL;

const char *data_work_error_name(int err) {
        switch (err) {
        case EEXIST:
                return WARREN_ERROR_ALREADY_EXISTS;
        case EDQUOT:
                return WARREN_ERROR_QUOTA_EXCEEDED;
        case EBUSY:
                return WARREN_ERROR_BUSY;
        case EACCES:
        case EPERM:
                return SD_BUS_ERROR_ACCESS_DENIED;
        case ENOENT:
        case ENOTDIR:
                return SD_BUS_ERROR_FILE_NOT_FOUND;
        case EINVAL:
        case EBADMSG:
        case ELOOP:
        case EFBIG:
        case ENAMETOOLONG:
                return SD_BUS_ERROR_INVALID_ARGS;
        case EOPNOTSUPP:
                return SD_BUS_ERROR_NOT_SUPPORTED;
        default:
                return SD_BUS_ERROR_FAILED;
        }
}

static DataWork *work_free(DataWork *w) {
        if (!w)
                return NULL;
        for (DataWork **p = &works; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        if (w->job && w->job->cancel_userdata == w)
                job_set_cancel(w->job, w->caller, NULL, NULL);
        w->io = sd_event_source_disable_unref(w->io);
        data_worker_free(w->worker);
        store_create_abort(w->create);
        snapshot_create_abort(w->snapshot);
        safe_close(w->cleanup_dirfd);
        sd_bus_message_unref(w->reply_when_done);
        free(w->cleanup_tmp);
        free(w->container);
        free(w->creates);
        free(w->note);
        free(w);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(DataWork *, work_free);

bool data_work_in_progress(const char *name) {
        for (DataWork *w = works; w; w = w->next)
                if (streq(w->container, name) || (w->creates && streq(w->creates, name)))
                        return true;
        return false;
}

int data_work_check_busy(const char *name, sd_bus_error *error) {
        for (DataWork *w = works; w; w = w->next) {
                if (streq(w->container, name))
                        return sd_bus_error_setf(error, WARREN_ERROR_BUSY,
                                                 "Container '%s' is busy: job %u (%s) is running on it",
                                                 name, w->job ? w->job->id : 0,
                                                 w->job ? w->job->type : "data");
                if (w->creates && streq(w->creates, name))
                        return sd_bus_error_setf(error, WARREN_ERROR_BUSY,
                                                 "Container '%s' is being created by job %u (%s)", name,
                                                 w->job ? w->job->id : 0, w->job ? w->job->type : "data");
        }
        return 0;
}

size_t data_work_count_creates(Daemon *d, uid_t owner) {
        size_t n = 0;
        for (DataWork *w = works; w; w = w->next)
                if (w->creates && w->creates_owner == owner)
                        n++;
        return n;
}

int data_work_check_limits(Daemon *d, uid_t caller, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        size_t n = 0, mine = 0;
        for (DataWork *w = works; w; w = w->next)
                n++;
        if (n >= DATA_JOBS_MAX)
                return sd_bus_error_setf(error, WARREN_ERROR_QUOTA_EXCEEDED,
                                         "Too many data jobs: %zu are running, the limit is %u per warrend",
                                         n, DATA_JOBS_MAX);
        if (caller == 0)
                return 0;
        /* Every job of the caller's counts, image jobs too. */
        for (Job *j = d->jobs; j; j = j->next)
                if (j->uid == caller && !j->finish_source)
                        mine++;
        Owner o;
        int r = owner_load(d, caller, &o, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = limits_check(o.limits, LIMIT_JOBS, caller, o.name, mine, &err);
        owner_done(&o);
        if (r < 0)
                return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED, warren_error_message(&err)), r;
        return 0;
}

/* Fire and forget: a container the worker left frozen is thawed. */
static void thaw(Daemon *d, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        if (monitor_connect(d->runtime_dir, name, true, &fd, NULL) < 0 ||
            monitor_send(fd, MONITOR_CMD_UNFREEZE, 0, 0, NULL) < 0)
                log_warning("Container '%s' may still be frozen: its monitor could not be reached", name);
        else
                log_info("Thawed '%s' after its snapshot job ended early", name);
}

static void work_end(DataWork *w, int r, const char *message) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        Daemon *d = w->daemon;

        if (w->frozen)
                thaw(d, w->container);
        if (r >= 0 && w->create) {
                r = store_create_commit(w->create, &err);
                if (r < 0)
                        message = warren_error_message(&err);
        }
        if (r >= 0 && w->snapshot) {
                r = snapshot_create_commit(w->snapshot, &err);
                if (r < 0)
                        message = warren_error_message(&err);
        }
        if (r < 0 && w->cleanup_dirfd >= 0 && w->cleanup_tmp)
                restore_work_cleanup(w->cleanup_dirfd, w->cleanup_tmp);

        if (r >= 0) {
                if (w->creates) {
                        _cleanup_free_ char *cpath = container_bus_path(w->creates);
                        if (cpath) {
                                (void) sd_bus_emit_signal(d->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                                          "ContainerNew", "so", w->creates, cpath);
                                (void) sd_bus_emit_object_added(d->bus, cpath);
                        }
                }
                log_debug("Data job %u (%s %s) done: %s", w->job->id, w->job->type, w->job->target,
                          strempty(w->note));
                (void) job_set_message(w->job, NULL, w->note);
                if (w->reply_when_done)
                        (void) sd_bus_reply_method_return(w->reply_when_done, NULL);
                (void) job_finish(w->job, "done");
        } else {
                const char *name = r == -ECANCELED ? NULL : data_work_error_name(-r);
                if (!message)
                        message = strerror(-r);
                if (r == -ECANCELED)
                        log_info("Data job %u (%s %s) canceled", w->job->id, w->job->type, w->job->target);
                else
                        log_warning("Data job %u (%s %s) failed: %s", w->job->id, w->job->type,
                                    w->job->target, message);
                (void) job_set_message(w->job, name, r == -ECANCELED ? "Canceled" : message);
                if (w->reply_when_done)
                        (void) sd_bus_reply_method_errorf(w->reply_when_done,
                                                          name ?: "org.freedesktop.DBus.Error.Failed", "%s",
                                                          r == -ECANCELED ? "Canceled" : message);
                (void) job_finish(w->job, r == -ECANCELED ? "canceled" : "failed");
        }
        work_free(w);
}

static int on_worker_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        DataWork *w = userdata;
        for (;;) {
                DataEvent ev;
                (void) data_worker_dispatch(w->worker, &ev);
                switch (ev.type) {
                case DATA_EVENT_NONE:
                        return 0;
                case DATA_EVENT_PROGRESS:
                        job_set_progress(w->job, ev.progress, ev.done, ev.total, ev.phase);
                        continue;
                case DATA_EVENT_NOTE:
                        if (streq(ev.text, COPY_WORK_NOTE_FROZEN))
                                w->frozen = true;
                        else if (streq(ev.text, COPY_WORK_NOTE_THAWED))
                                w->frozen = false;
                        else {
                                char *n = strdup(ev.text);
                                if (n) {
                                        free(w->note);
                                        w->note = n;
                                }
                        }
                        continue;
                case DATA_EVENT_DONE:
                        work_end(w, ev.error ? -ev.error : 0, ev.error ? ev.text : NULL);
                        return 0;
                }
        }
}

static int work_cancel(Job *j, void *userdata) {
        DataWork *w = userdata;
        w->io = sd_event_source_disable_unref(w->io);
        w->worker = data_worker_free(w->worker); /* killed and reaped: nothing more happens in the tree */
        work_end(w, -ECANCELED, NULL);
        return 0;
}

int data_work_start(Daemon *d, const DataWorkSpec *s, Job **ret_job, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_(work_freep) DataWork *w = calloc(1, sizeof *w);
        int r;

        if (!w) {
                store_create_abort(s->create);
                snapshot_create_abort(s->snapshot);
                safe_close(s->cleanup_dirfd);
                return -ENOMEM;
        }
        w->daemon = d;
        w->caller = s->caller;
        w->create = s->create;
        w->snapshot = s->snapshot;
        w->cleanup_dirfd = s->cleanup_dirfd;
        w->creates_owner = s->creates_owner;
        w->reply_when_done = sd_bus_message_ref(s->reply_when_done);
        w->container = strdup(s->container);
        if (!w->container || (s->creates && !(w->creates = strdup(s->creates))) ||
            (s->cleanup_tmp && !(w->cleanup_tmp = strdup(s->cleanup_tmp))))
                return -ENOMEM;
        r = data_worker_start(d->worker_path, s->kind, s->params, s->fds, s->n_fds, &w->worker, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = sd_event_add_io(d->event, &w->io, data_worker_fd(w->worker), EPOLLIN, on_worker_io, w);
        if (r < 0)
                return r;
        r = job_new(d, s->type, s->target ?: s->creates ?: s->container, &w->job);
        if (r < 0)
                return r;
        job_set_cancel(w->job, s->caller, work_cancel, w);
        job_set_progress(w->job, 0.0, 0, 0, "start");
        w->next = works;
        works = w;
        log_debug("Data job %u (%s %s) started for uid %u", w->job->id, s->type, w->job->target,
                  (unsigned) s->caller);
        if (ret_job)
                *ret_job = w->job;
        TAKE_PTR(w);
        return 0;
}

void data_work_free_all(Daemon *d) {
        while (works) {
                Job *j = works->job;
                works->worker = data_worker_free(works->worker);
                if (works->frozen)
                        thaw(d, works->container);
                if (works->cleanup_dirfd >= 0 && works->cleanup_tmp)
                        restore_work_cleanup(works->cleanup_dirfd, works->cleanup_tmp);
                work_free(works);
                if (j)
                        (void) job_finish(j, "canceled");
        }
}
