/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who did what, in the journal: one record per state-changing call once
 * it is answered (create, start, stop, destroy, config, attach, console,
 * networks, images, data, job cancel) and one per polkit denial. Each kind
 * of event has its MESSAGE_ID (journalctl MESSAGE_ID=...); the fields are
 * CONTAINER= (or TARGET= for a network, image or job), CALLER_UID=,
 * CALLER_PID=, POLKIT_ACTION=, RESULT= (success, failure, denied) and, on
 * failure, DBUS_ERROR= with the error's name. Successes are logged at
 * info, failures at warning (journalctl -p warning), denials at notice.
 *
 * The calls are the ones polkit_authorize() lets through: polkit.c begins
 * and ends each record around the handler it runs. A handler that answers
 * later (runtime.c's start, stop and requests) defers the record and ends
 * it with its answer. */

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct PolkitDetails PolkitDetails;

/* m was authorized for action (root, or polkit said yes). Again for the
 * same m (a second action checked) updates it. Calls that change nothing
 * (reads that need an authorization) get no record. */
void audit_begin(sd_bus_message *m, const char *action, const PolkitDetails *details);
/* m's handler answers later: its record waits for audit_end(). */
void audit_defer(sd_bus_message *m);
/* The handler of m returned r, maybe with error set: its record, unless it
 * was deferred (a failure is never deferred). */
void audit_handler_done(sd_bus_message *m, int r, const sd_bus_error *error);
/* A deferred call's answer; error NULL or unset: success. */
void audit_end(sd_bus_message *m, const sd_bus_error *error);
/* polkit refused m for action (or could not be asked: message says). */
void audit_denied(sd_bus_message *m, const char *action, const PolkitDetails *details, const char *message);
/* A job ended (a create from an image, a pull): what became of the work
 * its call started, with JOB_ID=, JOB_TYPE=, TARGET= (CONTAINER= for a
 * create), CALLER_UID= of who started it, RESULT= (done, failed,
 * canceled); a failure at warning. */
void audit_job_finished(uint32_t id, const char *type, const char *target, uid_t uid, const char *result,
                        const char *message);
void audit_free_all(void);
