/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "bus-util.h"
#include "daemon.h"
#include "polkit.h"

#define POLKIT_CHECK_TIMEOUT_USEC (120ULL * 1000000ULL) /* an agent may prompt a human */

typedef struct PolkitQuery {
        Daemon *daemon;
        sd_bus_message *request;
        BusPending pending; /* a check in flight is held for its caller: capped */
        sd_bus_slot *slot;
        char *action;
        char *why;
        char *container; /* the details, for the records of audit.h */
        char *extra_key, *extra_value;
        AuthorizedFunc cont;
        PolkitDecidedFunc decided; /* instead of cont: told yes or no */
        void *userdata;
} PolkitQuery;

static void polkit_query_free(PolkitQuery *q) {
        if (!q)
                return;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        bus_pending_release(&q->pending);
        free(q->action);
        free(q->why);
        free(q->container);
        free(q->extra_key);
        free(q->extra_value);
        daemon_release(q->daemon);
        free(q);
}

static int reply_after(sd_bus_message *request, int r, sd_bus_error *error) {
        if (r >= 0 && !sd_bus_error_is_set(error))
                return r;
        if (sd_bus_error_is_set(error))
                return sd_bus_reply_method_error(request, error);
        return sd_bus_reply_method_errno(request, r, NULL);
}

/* Runs an authorized handler, its record begun before and ended after
 * (unless it answers later: audit.h). */
static int run_authorized(sd_bus_message *m, const char *action, const PolkitDetails *details,
                          AuthorizedFunc cont, void *userdata, sd_bus_error *error) {
        audit_begin(m, action, details);
        int r = cont(m, userdata, error);
        audit_handler_done(m, r, error);
        return r;
}

static PolkitDetails query_details(const PolkitQuery *q) {
        return (PolkitDetails){ .container = q->container,
                                .owner = (uid_t) -1,
                                .extra_key = q->extra_key,
                                .extra_value = q->extra_value,
                                .why = q->why };
}

static int polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const PolkitDetails details = query_details(q);
        int authorized = 0, challenge = 0, r;

        if (q->decided) {
                /* A failed check, a "no" and a challenge all mean no here. */
                if (!sd_bus_message_is_method_error(reply, NULL) &&
                    sd_bus_message_enter_container(reply, 'r', "bba{ss}") >= 0 &&
                    sd_bus_message_read(reply, "bb", &authorized, &challenge) < 0)
                        authorized = 0;
                (void) sd_bus_message_rewind(q->request, true);
                r = q->decided(q->request, q->userdata, authorized > 0, &error);
                (void) reply_after(q->request, r, &error);
                sd_bus_error_free(&error);
                polkit_query_free(q);
                return 0;
        }
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                log_warning("polkit check for %s failed: %s", q->action, e->message);
                sd_bus_error_setf(&error, SD_BUS_ERROR_ACCESS_DENIED,
                                  "Access denied: could not check authorization for %s: %s", q->action,
                                  e->message);
                goto finish_error;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                sd_bus_error_setf(&error, SD_BUS_ERROR_ACCESS_DENIED,
                                  "Access denied: malformed reply from polkit for %s", q->action);
                goto finish_error;
        }
        if (!authorized) {
                sd_bus_error_setf(&error, SD_BUS_ERROR_ACCESS_DENIED,
                                  "Access denied: not authorized for %s%s%s%s", q->action,
                                  challenge ? " (authentication required)" : "", q->why ? ": " : "",
                                  strempty(q->why));
                goto finish_error;
        }

        (void) sd_bus_message_rewind(q->request, true);
        r = run_authorized(q->request, q->action, &details, q->cont, q->userdata, &error);
        (void) reply_after(q->request, r, &error);
        sd_bus_error_free(&error);
        polkit_query_free(q);
        return 0;

finish_error:
        audit_denied(q->request, q->action, &details, error.message);
        (void) sd_bus_reply_method_error(q->request, &error);
        sd_bus_error_free(&error);
        polkit_query_free(q);
        return 0;
}

static int append_detail(sd_bus_message *m, const char *k, const char *v) {
        return sd_bus_message_append(m, "{ss}", k, v);
}

static int polkit_query_start(Daemon *d, sd_bus_message *m, const char *action, const PolkitDetails *details,
                              AuthorizedFunc cont, PolkitDecidedFunc decided, void *userdata,
                              sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        uid_t uid;
        int r;

        r = bus_caller_uid(m, &uid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to determine the caller: %m");
        if (uid == 0) {
                /* cont reads its arguments again, as after the async path. */
                r = sd_bus_message_rewind(m, true);
                if (r < 0)
                        return r;
                return decided ? decided(m, userdata, true, error)
                               : run_authorized(m, action, details, cont, userdata, error);
        }

        const char *sender = sd_bus_message_get_sender(m);
        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied: caller has no bus name");

        r = sd_bus_message_new_method_call(d->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(call, 'a', "{ss}");
        if (r < 0)
                return r;
        char owner_buf[32];
        if (details && details->container && (r = append_detail(call, "container", details->container)) < 0)
                return r;
        if (details && details->owner != (uid_t) -1) {
                snprintf(owner_buf, sizeof owner_buf, "%u", (unsigned) details->owner);
                if ((r = append_detail(call, "owner", owner_buf)) < 0)
                        return r;
        }
        if (details && details->extra_key && details->extra_value &&
            (r = append_detail(call, details->extra_key, details->extra_value)) < 0)
                return r;
        r = sd_bus_message_close_container(call);
        if (r < 0)
                return r;
        /* Flag 1 = AllowUserInteraction, only if the caller allowed it (and
         * never for a question whose "no" is an answer). */
        r = sd_bus_message_append(
                call, "us",
                (uint32_t) (!decided && sd_bus_message_get_allow_interactive_authorization(m) > 0), "");
        if (r < 0)
                return r;

        PolkitQuery *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        r = bus_pending_acquire(m, &q->pending, error);
        if (r < 0) {
                free(q);
                return r;
        }
        q->daemon = d;
        daemon_hold(d);
        q->request = sd_bus_message_ref(m);
        q->cont = cont;
        q->decided = decided;
        q->userdata = userdata;
        q->action = strdup(action);
        q->why = details && details->why ? strdup(details->why) : NULL;
        q->container = details && details->container ? strdup(details->container) : NULL;
        q->extra_key = details && details->extra_key ? strdup(details->extra_key) : NULL;
        q->extra_value = details && details->extra_value ? strdup(details->extra_value) : NULL;
        if (!q->action || (details && details->why && !q->why) ||
            (details && details->container && !q->container) ||
            (details && details->extra_key && !q->extra_key) ||
            (details && details->extra_value && !q->extra_value)) {
                polkit_query_free(q);
                return -ENOMEM;
        }
        r = sd_bus_call_async(d->bus, &q->slot, call, polkit_reply, q, POLKIT_CHECK_TIMEOUT_USEC);
        if (r < 0) {
                polkit_query_free(q);
                return sd_bus_error_set_errnof(error, r, "Failed to ask polkit: %m");
        }
        /* A second check of a call already authorized once: its record
         * waits for this one's answer. */
        audit_defer(m);
        return 1;
}

int polkit_authorize(Daemon *d, sd_bus_message *m, const char *action, const PolkitDetails *details,
                     AuthorizedFunc cont, void *userdata, sd_bus_error *error) {
        return polkit_query_start(d, m, action, details, cont, NULL, userdata, error);
}

int polkit_decide(Daemon *d, sd_bus_message *m, const char *action, const PolkitDetails *details,
                  PolkitDecidedFunc decided, void *userdata, sd_bus_error *error) {
        return polkit_query_start(d, m, action, details, NULL, decided, userdata, error);
}

const char *polkit_pick_action(uid_t caller, uid_t owner, const char *own_action, const char *other_action) {
        return caller == owner ? own_action : other_action;
}
