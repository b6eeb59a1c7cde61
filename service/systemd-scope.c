/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Transient scopes through org.freedesktop.systemd1.Manager.StartTransientUnit
 * (see systemd-scope.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "cgroup.h"
#include "monitor.h"
#include "systemd-scope.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

/* The monitor waits this long for systemd to make its scope. */
#define SCOPE_ENTER_TIMEOUT_USEC (20ULL * 1000000ULL)
/* A scope of the same name still going away (its container just stopped):
 * tried again this often, this many times. */
#define SCOPE_EXISTS_RETRY_USEC (100ULL * 1000ULL)
#define SCOPE_EXISTS_RETRIES 30U

/* sd_booted()'s test, without libsystemd (warren-monitor asks this at
 * every start, lazy-libsystemd.h). */
bool systemd_is_running(void) {
        return access("/run/systemd/system/", F_OK) >= 0;
}

static char *unit_name(const char *prefix, const char *s, const char *suffix) {
        char *n = NULL;
        if (asprintf(&n, "%s%s%s", prefix, s, suffix) < 0)
                return NULL;
        return n;
}

char *systemd_scope_name(const char *container) {
        return unit_name(MONITOR_SCOPE_PREFIX, container, MONITOR_SCOPE_SUFFIX);
}

char *systemd_halt_unit_name(const char *container) {
        return unit_name("warren-halt@", container, ".service");
}

char *systemd_dnsmasq_scope_name(const char *network) {
        return unit_name("warren-dnsmasq-", network, ".scope");
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* StartTransientUnit(name, "fail", properties, no auxiliary units) with
 * PIDs=[pid] and the properties every scope of ours has; extra adds more. */
typedef int (*AppendFunc)(sd_bus_message *m, const void *userdata);

static int new_start_call(sd_bus *bus, const char *unit, const char *description, pid_t pid,
                          AppendFunc extra, const void *userdata, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                               "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", description, "PIDs", "au",
                                          1, (uint32_t) pid, "CollectMode", "s", "inactive-or-failed");
        if (r >= 0 && extra)
                r = extra(m, userdata);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- a container's scope, entered by its monitor ---------------------------- */

static int append_container(sd_bus_message *m, const void *userdata) {
        const char *halt = userdata;
        /* Delegate: the monitor makes the container's cgroups below the
         * scope's. The halt unit is ordered after the scope (so its stop,
         * the clean halt, comes first) and bound to it. */
        return sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Slice", "s", MONITOR_SCOPE_SLICE,
                                     "Delegate", "b", 1, "TimeoutStopUSec", "t",
                                     WARREN_SCOPE_TIMEOUT_STOP_USEC, "After", "as", 2, "network.target",
                                     "remote-fs.target", "Wants", "as", 1, halt);
}

typedef struct JobWait {
        const char *job; /* our job's path, once known */
        char **removed;  /* "path\nresult" of every JobRemoved seen */
        size_t n_removed;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        char **n = realloc(w->removed, (w->n_removed + 1) * sizeof(char *));
        if (!n)
                return 0;
        w->removed = n;
        if (asprintf(&w->removed[w->n_removed], "%s\n%s", path, result) >= 0)
                w->n_removed++;
        return 0;
}

/* The result of our job once its JobRemoved came, else NULL. */
static const char *job_result(const JobWait *w) {
        size_t l = strlen(w->job);
        for (size_t i = 0; i < w->n_removed; i++)
                if (strncmp(w->removed[i], w->job, l) == 0 && w->removed[i][l] == '\n')
                        return w->removed[i] + l + 1;
        return NULL;
}

static void job_wait_done(JobWait *w) {
        for (size_t i = 0; i < w->n_removed; i++)
                free(w->removed[i]);
        free(w->removed);
}

int systemd_scope_enter(const char *container, WarrenError *reterr) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *unit = systemd_scope_name(container), *halt = systemd_halt_unit_name(container),
                            *description = NULL, *cg = NULL;
        JobWait w = {};
        const char *job;
        int r;

        if (!systemd_is_running())
                return 0;
        if (!unit || !halt || asprintf(&description, "warren container %s", container) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to connect to the system bus: %s", strerror(-r));
        (void) sd_bus_set_method_call_timeout(bus, SCOPE_ENTER_TIMEOUT_USEC);
        /* Subscribed before the call: systemd sends its job signals to the
         * caller that queued the job. */
        r = sd_bus_match_signal(bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved",
                                on_job_removed, &w);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to watch systemd's jobs: %s", strerror(-r));

        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                r = new_start_call(bus, unit, description, getpid(), append_container, halt, &m);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to build the call for %s: %s", unit,
                                                strerror(-r));
                r = sd_bus_call(bus, m, 0, &error, &reply);
                if (r >= 0)
                        break;
                /* The scope of the container's last run, not gone yet. */
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists") &&
                    attempt < SCOPE_EXISTS_RETRIES) {
                        usleep(SCOPE_EXISTS_RETRY_USEC);
                        continue;
                }
                return warren_error_set(reterr, r, "systemd refused the scope %s for container '%s': %s",
                                        unit, container, error.message ?: strerror(-r));
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return warren_error_set(reterr, r, "Unexpected reply of systemd's StartTransientUnit: %s",
                                        strerror(-r));
        w.job = job;
        const char *result = NULL;
        for (uint64_t deadline = now_usec() + SCOPE_ENTER_TIMEOUT_USEC; !(result = job_result(&w));) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                uint64_t now = now_usec();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0)
                        break;
        }
        if (!result) {
                job_wait_done(&w);
                return warren_error_set(reterr, r,
                                        "systemd did not start the scope %s for container '%s': %s", unit,
                                        container, strerror(-r));
        }
        if (!streq(result, "done")) {
                r = warren_error_set(reterr, EIO,
                                     "systemd's start of the scope %s for container '%s' ended: %s", unit,
                                     container, result);
                job_wait_done(&w);
                return r;
        }
        job_wait_done(&w);
        /* Trust the kernel, not the job: are we in it? */
        r = cgroup_pid_path(0, &cg, reterr);
        if (r < 0)
                return r;
        size_t l = strlen(cg), u = strlen(unit);
        if (l <= u || cg[l - u - 1] != '/' || !streq(cg + l - u, unit))
                return warren_error_set(reterr, EIO, "systemd started %s, but the monitor of '%s' is in %s",
                                        unit, container, cg);
        log_debug("Monitor of '%s' runs in %s", container, cg);
        return 1;
}

/* ---- other processes of warrend's: asynchronously ------------------------------ */

static int on_adopt_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const char *unit = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        if (e)
                log_warning("systemd refused the scope %s: %s", unit, e->message);
        else
                log_debug("Scope %s queued", unit);
        return 0;
}

int systemd_scope_adopt_async(sd_bus *bus, const char *unit, const char *description, pid_t pid) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *copy = strdup(unit);
        sd_bus_slot *slot = NULL;
        if (!copy)
                return -ENOMEM;
        int r = new_start_call(bus, unit, description, pid, NULL, NULL, &m);
        if (r < 0)
                return r;
        r = sd_bus_call_async(bus, &slot, m, on_adopt_reply, copy, 0);
        if (r < 0)
                return r;
        /* The slot lives until the reply (or the bus) goes; the name with it. */
        (void) sd_bus_slot_set_destroy_callback(slot, free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        TAKE_PTR(copy);
        return 0;
}
