/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal records of who did what (see audit.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "bus-util.h"
#include "daemon.h"
#include "polkit.h"

/* Fixed ids, one per kind of event: journalctl MESSAGE_ID=<id>. */
#define ID_CREATE "a92451c7ad4346a092ffecc38d05b38a"
#define ID_START "eed9b937a7dd4886af14e86144f228ff"
#define ID_STOP "351d0d90c0584d68991509d978a159b5"
#define ID_REBOOT "4afa8548643f49f39d7e9a1c610f7c95"
#define ID_KILL "af0fd937b2d24e11a589b1fbe6a7a9a8"
#define ID_FREEZE "ebff4d043954444b80e51c799d690a70"
#define ID_UNFREEZE "782f51b5591a4428ae4ed979d939cfc4"
#define ID_DESTROY "dcb100179e53415295cc1a2dfdd6bf4e"
#define ID_CONFIG "a0f77aa67cae42c5ae743cd3dd9cce11"
#define ID_ATTACH "f5c621b77fd7410682d0f30e038c328e"
#define ID_CONSOLE "2499b7a666334a24be6b5d319a7ef460"
#define ID_NETWORK_CREATE "a6fb4afecfe546659a9dc8b2b3d7d299"
#define ID_NETWORK_DELETE "152f3e84b5b843698be975a95d548e63"
#define ID_IMAGE_PULL "f16c8f947f564c86a9b53f32f093ff26"
#define ID_IMAGE_REMOVE "7ed73391f0dc4b92903509bf3361ba2a"
#define ID_DATA "242759266ae84b96947a62d7da248748"
#define ID_JOB_CANCEL "1b1bfeb46c854e12857f0c21ea6cd988"
#define ID_DENIED "1c87737509884208885cc1b6d3e6a137"
#define ID_JOB_FINISHED "6b4480ee0e8f45069ba63ee9ea622755"

typedef struct AuditKind {
        const char *member; /* the method, on any of our interfaces */
        const char *id;
        const char *verb;   /* "start": "uid 1000 (pid 42) failed to start container 'web'" */
        const char *done;   /* "started": "uid 1000 (pid 42) started container 'web'" */
        const char *object; /* what the target is when it is no container */
} AuditKind;

static const AuditKind kinds[] = {
        { "CreateContainer", ID_CREATE, "create", "created", NULL },
        { "Start", ID_START, "start", "started", NULL },
        { "StartContainer", ID_START, "start", "started", NULL },
        { "Stop", ID_STOP, "stop", "stopped", NULL },
        { "StopContainer", ID_STOP, "stop", "stopped", NULL },
        { "Reboot", ID_REBOOT, "reboot", "rebooted", NULL },
        { "Kill", ID_KILL, "signal", "signalled", NULL },
        { "Freeze", ID_FREEZE, "freeze", "froze", NULL },
        { "Unfreeze", ID_UNFREEZE, "unfreeze", "unfroze", NULL },
        { "Destroy", ID_DESTROY, "destroy", "destroyed", NULL },
        { "DestroyContainer", ID_DESTROY, "destroy", "destroyed", NULL },
        { "SetConfig", ID_CONFIG, "change the config of", "changed the config of", NULL },
        { "SetConfigWithResult", ID_CONFIG, "change the config of", "changed the config of", NULL },
        { "Attach", ID_ATTACH, "attach to", "attached to", NULL },
        { "AttachContainer", ID_ATTACH, "attach to", "attached to", NULL },
        { "KillAttached", ID_ATTACH, "signal a process attached to", "signalled a process attached to",
          NULL },
        { "OpenConsole", ID_CONSOLE, "open the console of", "opened the console of", NULL },
        { "CreateNetwork", ID_NETWORK_CREATE, "create", "created", "network" },
        { "DeleteNetwork", ID_NETWORK_DELETE, "delete", "deleted", "network" },
        { "PullImage", ID_IMAGE_PULL, "pull", "pulled", "image" },
        { "RemoveImage", ID_IMAGE_REMOVE, "remove", "removed", "image" },
        { "Clone", ID_DATA, "clone", "cloned", NULL },
        { "CloneContainer", ID_DATA, "clone", "cloned", NULL },
        { "Rename", ID_DATA, "rename", "renamed", NULL },
        { "RenameContainer", ID_DATA, "rename", "renamed", NULL },
        { "CreateSnapshot", ID_DATA, "snapshot", "snapshotted", NULL },
        { "CreateSnapshotWithOptions", ID_DATA, "snapshot", "snapshotted", NULL },
        { "SnapshotContainer", ID_DATA, "snapshot", "snapshotted", NULL },
        { "RestoreSnapshot", ID_DATA, "restore a snapshot of", "restored a snapshot of", NULL },
        { "RestoreContainerSnapshot", ID_DATA, "restore a snapshot of", "restored a snapshot of", NULL },
        { "DeleteSnapshot", ID_DATA, "delete a snapshot of", "deleted a snapshot of", NULL },
        { "DeleteContainerSnapshot", ID_DATA, "delete a snapshot of", "deleted a snapshot of", NULL },
        { "PushFiles", ID_DATA, "push files into", "pushed files into", NULL },
        { "PushContainerFiles", ID_DATA, "push files into", "pushed files into", NULL },
        { "Cancel", ID_JOB_CANCEL, "cancel", "cancelled", "job" },
};

#define ADD_IF(f)                          \
        do {                               \
                if (f)                     \
                        fields[n++] = (f); \
        } while (0)

typedef struct AuditCall {
        sd_bus_message *m;
        const AuditKind *kind;
        char *action;
        char *container; /* or NULL */
        char *target;    /* what else it acts on: first string argument, or the object path */
        char *detail;    /* "COMMAND_LINE=..." for an attach, or NULL */
        bool deferred;
        struct AuditCall *next;
} AuditCall;

static AuditCall *calls = NULL;

static const AuditKind *kind_of(sd_bus_message *m) {
        const char *member = sd_bus_message_get_member(m);
        for (size_t i = 0; member && i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].member, member))
                        return &kinds[i];
        return NULL;
}

static AuditCall *call_find(sd_bus_message *m) {
        for (AuditCall *c = calls; c; c = c->next)
                if (c->m == m)
                        return c;
        return NULL;
}

static void call_free(AuditCall *c) {
        for (AuditCall **p = &calls; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        sd_bus_message_unref(c->m);
        free(c->action);
        free(c->container);
        free(c->target);
        free(c->detail);
        free(c);
}

/* A network's, image's or job's name: the method's first string argument
 * (the message is rewound for the handler), else the object path. */
static char *target_of(sd_bus_message *m) {
        const char *s = NULL, *sig = sd_bus_message_get_signature(m, true);
        char *t = NULL;
        if (sig && sig[0] == 's' && sd_bus_message_rewind(m, true) >= 0 &&
            sd_bus_message_read(m, "s", &s) > 0)
                t = strdup(s);
        (void) sd_bus_message_rewind(m, true);
        return t ?: strdup(strempty(sd_bus_message_get_path(m)));
}

/* "COMMAND_LINE=..." from a detail key "command_line". */
static char *detail_field(const PolkitDetails *d) {
        if (!d || !d->extra_key || !d->extra_value)
                return NULL;
        char *f = NULL;
        if (asprintf(&f, "%s=%s", d->extra_key, d->extra_value) < 0)
                return NULL;
        for (char *p = f; *p && *p != '='; p++)
                *p = isalnum((unsigned char) *p) ? (char) toupper((unsigned char) *p) : '_';
        return f;
}

void audit_begin(sd_bus_message *m, const char *action, const PolkitDetails *details) {
        const AuditKind *k = kind_of(m);
        if (!k)
                return;
        AuditCall *c = call_find(m);
        if (!c) {
                c = calloc(1, sizeof *c);
                if (!c)
                        return;
                c->m = sd_bus_message_ref(m);
                c->kind = k;
                c->target = target_of(m);
                c->next = calls;
                calls = c;
        }
        c->deferred = false;
        free(c->action);
        c->action = strdup(action);
        if (details && details->container && !c->container)
                c->container = strdup(details->container);
        if (!c->detail)
                c->detail = detail_field(details);
}

void audit_defer(sd_bus_message *m) {
        AuditCall *c = call_find(m);
        if (c)
                c->deferred = true;
}

/* "uid 1000 (pid 4242)" and its fields, of m's sender. */
typedef struct Caller {
        char who[64], uid[32], pid[32];
} Caller;

static void caller_of(sd_bus_message *m, Caller *ret) {
        uid_t uid = (uid_t) -1;
        pid_t pid = 0;
        (void) bus_caller_uid(m, &uid);
        (void) bus_caller_pid(m, &pid);
        snprintf(ret->uid, sizeof ret->uid, "CALLER_UID=%u", (unsigned) uid);
        snprintf(ret->pid, sizeof ret->pid, "CALLER_PID=%d", (int) pid);
        if (pid > 0)
                snprintf(ret->who, sizeof ret->who, "uid %u (pid %d)", (unsigned) uid, (int) pid);
        else
                snprintf(ret->who, sizeof ret->who, "uid %u", (unsigned) uid);
}

/* 'web' as "container 'web'", a network as "network 'br0'". */
static void object_of(const AuditCall *c, char *buf, size_t size) {
        if (c->container && !c->kind->object)
                snprintf(buf, size, "container '%s'", c->container);
        else
                snprintf(buf, size, "%s '%s'", c->kind->object ?: "object", strempty(c->target));
}

static void call_log(AuditCall *c, const sd_bus_error *error) {
        _cleanup_free_ char *f_container = NULL, *f_target = NULL, *f_action = NULL, *f_error = NULL;
        char object[512], mid[64];
        Caller who;
        bool failed = error && sd_bus_error_is_set(error);
        caller_of(c->m, &who);
        object_of(c, object, sizeof object);
        snprintf(mid, sizeof mid, "MESSAGE_ID=%s", c->kind->id);
        if (c->container && asprintf(&f_container, "CONTAINER=%s", c->container) < 0)
                f_container = NULL;
        if (c->kind->object && asprintf(&f_target, "TARGET=%s", strempty(c->target)) < 0)
                f_target = NULL;
        if (asprintf(&f_action, "POLKIT_ACTION=%s", strempty(c->action)) < 0)
                f_action = NULL;
        if (failed && asprintf(&f_error, "DBUS_ERROR=%s", error->name) < 0)
                f_error = NULL;
        /* Fields that could not be made are left out. */
        char *fields[12];
        size_t n = 0;
        fields[n++] = mid;
        fields[n++] = who.uid;
        fields[n++] = who.pid;
        fields[n++] = failed ? (char *) "RESULT=failure" : (char *) "RESULT=success";
        ADD_IF(f_action);
        ADD_IF(f_container);
        ADD_IF(f_target);
        ADD_IF(f_error);
        ADD_IF(c->detail);
        fields[n] = NULL;
        if (failed)
                log_struct(LOG_WARNING, 0, fields, "%s failed to %s %s: %s", who.who, c->kind->verb, object,
                           error->message ?: error->name);
        else
                log_struct(LOG_INFO, 0, fields, "%s %s %s", who.who, c->kind->done, object);
}

void audit_handler_done(sd_bus_message *m, int r, const sd_bus_error *error) {
        AuditCall *c = call_find(m);
        if (!c)
                return;
        bool failed = r < 0 || (error && sd_bus_error_is_set(error));
        if (c->deferred && !failed)
                return;
        if (failed && !(error && sd_bus_error_is_set(error))) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) sd_bus_error_set_errno(&e, r);
                call_log(c, &e);
                sd_bus_error_free(&e);
        } else
                call_log(c, error);
        call_free(c);
}

void audit_end(sd_bus_message *m, const sd_bus_error *error) {
        AuditCall *c = call_find(m);
        if (!c)
                return;
        call_log(c, error);
        call_free(c);
}

void audit_denied(sd_bus_message *m, const char *action, const PolkitDetails *details, const char *message) {
        _cleanup_free_ char *f_container = NULL, *f_action = NULL, *f_method = NULL;
        const char *member = strempty(sd_bus_message_get_member(m));
        const char *container = details ? details->container : NULL;
        Caller who;
        caller_of(m, &who);
        if (container && asprintf(&f_container, "CONTAINER=%s", container) < 0)
                f_container = NULL;
        if (asprintf(&f_action, "POLKIT_ACTION=%s", action) < 0)
                f_action = NULL;
        if (asprintf(&f_method, "DBUS_METHOD=%s", member) < 0)
                f_method = NULL;
        char *fields[8];
        size_t n = 0;
        fields[n++] = (char *) "MESSAGE_ID=" ID_DENIED;
        fields[n++] = who.uid;
        fields[n++] = who.pid;
        fields[n++] = (char *) "RESULT=denied";
        ADD_IF(f_action);
        ADD_IF(f_method);
        ADD_IF(f_container);
        fields[n] = NULL;
        log_struct(LOG_NOTICE, 0, fields, "%s was denied %s (%s%s%s%s): %s", who.who, action, member,
                   container ? " of container '" : "", strempty(container), container ? "'" : "", message);
        AuditCall *c = call_find(m);
        if (c)
                call_free(c);
}

void audit_job_finished(uint32_t id, const char *type, const char *target, uid_t uid, const char *result,
                        const char *message) {
        _cleanup_free_ char *f_id = NULL, *f_type = NULL, *f_target = NULL, *f_uid = NULL, *f_result = NULL;
        bool create = streq_ptr(type, "create"), failed = streq_ptr(result, "failed");
        if (asprintf(&f_id, "JOB_ID=%u", id) < 0 || asprintf(&f_type, "JOB_TYPE=%s", strempty(type)) < 0 ||
            asprintf(&f_target, "%s=%s", create ? "CONTAINER" : "TARGET", strempty(target)) < 0 ||
            asprintf(&f_uid, "CALLER_UID=%u", (unsigned) uid) < 0 ||
            asprintf(&f_result, "RESULT=%s", strempty(result)) < 0)
                return;
        char *fields[] = {
                (char *) "MESSAGE_ID=" ID_JOB_FINISHED, f_id, f_type, f_target, f_uid, f_result, NULL
        };
        log_struct(failed ? LOG_WARNING : LOG_INFO, 0, fields,
                   "Job %u (%s of %s '%s', started by uid %u): %s%s%s", id, strempty(type),
                   create ? "container" : "image", strempty(target), (unsigned) uid, strempty(result),
                   failed && !isempty(message) ? ": " : "", failed ? strempty(message) : "");
}

void audit_free_all(void) {
        while (calls)
                call_free(calls);
}
