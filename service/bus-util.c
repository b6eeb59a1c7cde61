/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "destroy-work.h"
#include "config.h"
#include "daemon.h"
#include "name.h"
#include "store.h"

/* Unique names are never reused on a bus, and a connection's uid and pid
 * never change: a few remembered spare the bus daemon a round trip per
 * property of a GetManagedObjects (and per record of audit.c). */
#define CALLER_CACHE_SIZE 64U
static struct {
        char *sender;
        uid_t uid;
        pid_t pid;
} caller_cache[CALLER_CACHE_SIZE];
static unsigned caller_cache_next = 0;

static int caller_lookup(sd_bus_message *m, uid_t *ret_uid, pid_t *ret_pid) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        uid_t uid;
        pid_t pid = 0;
        for (unsigned i = 0; sender && i < CALLER_CACHE_SIZE; i++)
                if (caller_cache[i].sender && streq(caller_cache[i].sender, sender)) {
                        *ret_uid = caller_cache[i].uid;
                        *ret_pid = caller_cache[i].pid;
                        return 0;
                }
        /* The uid the bus daemon saw when the caller connected (SO_PEERCRED:
         * the effective uid), not one read from /proc, which races with exec. */
        int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        (void) sd_bus_creds_get_pid(creds, &pid);
        *ret_uid = uid;
        *ret_pid = pid;
        if (!sender)
                return 0;
        char *copy = strdup(sender);
        if (copy) {
                unsigned i = caller_cache_next++ % CALLER_CACHE_SIZE;
                free(caller_cache[i].sender);
                caller_cache[i].sender = copy;
                caller_cache[i].uid = uid;
                caller_cache[i].pid = pid;
        }
        return 0;
}

int bus_caller_uid(sd_bus_message *m, uid_t *ret) {
        pid_t pid;
        return caller_lookup(m, ret, &pid);
}

int bus_caller_pid(sd_bus_message *m, pid_t *ret) {
        uid_t uid;
        return caller_lookup(m, &uid, ret);
}

void bus_caller_cache_free(void) {
        for (unsigned i = 0; i < CALLER_CACHE_SIZE; i++)
                caller_cache[i].sender = (free(caller_cache[i].sender), NULL);
}

int bus_validate_name(const char *name, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = container_name_validate(name, &err);
        if (r < 0)
                return sd_bus_error_set(error, WARREN_ERROR_INVALID_NAME, warren_error_message(&err)), r;
        return 0;
}

char *container_bus_path(const char *name) {
        char *p = NULL;
        if (sd_bus_path_encode(WARREN_CONTAINER_PREFIX, name, &p) < 0)
                return NULL;
        return p;
}

char *container_name_from_path(const char *path) {
        char *name = NULL;
        if (sd_bus_path_decode(path, WARREN_CONTAINER_PREFIX, &name) <= 0)
                return NULL;
        if (!container_name_is_valid(name)) {
                free(name);
                return NULL;
        }
        return name;
}

int bus_container_lookup(Daemon *d, char *name, char **ret_name, uid_t *ret_owner, sd_bus_error *error) {
        _cleanup_free_ char *n = name;
        int r = bus_validate_name(n, error);
        if (r < 0)
                return r;
        r = store_exists(d->store, n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to look up container '%s': %m", n);
        if (r == 0)
                return sd_bus_error_setf(error, WARREN_ERROR_NO_SUCH_CONTAINER, "No such container '%s'", n);
        r = destroy_work_check_busy(n, error);
        if (r < 0)
                return r;
        if (ret_owner) {
                _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
                r = store_read_owner(d->store, n, ret_owner, &err);
                if (r < 0)
                        return bus_error_from_config(error, r, &err);
        }
        if (ret_name)
                *ret_name = TAKE_PTR(n);
        return 0;
}

int bus_message_container(Daemon *d, sd_bus_message *m, char **ret_name, uid_t *ret_owner,
                          sd_bus_error *error) {
        char *name;
        if (streq_ptr(sd_bus_message_get_interface(m), WARREN_MANAGER_IFACE)) {
                const char *arg;
                int r = sd_bus_message_read(m, "s", &arg);
                if (r < 0)
                        return r;
                name = strdup(arg);
        } else {
                name = container_name_from_path(sd_bus_message_get_path(m));
                if (!name)
                        return sd_bus_error_setf(error, WARREN_ERROR_NO_SUCH_CONTAINER,
                                                 "No container at path '%s'", sd_bus_message_get_path(m));
        }
        if (!name)
                return -ENOMEM;
        return bus_container_lookup(d, name, ret_name, ret_owner, error);
}

int bus_append_config_items(sd_bus_message *m, const LxcConfig *c) {
        int r = sd_bus_message_open_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < lxc_config_n_items(c); i++) {
                const char *k, *v;
                lxc_config_item(c, i, &k, &v);
                r = sd_bus_message_append(m, "(ss)", k, v);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int bus_read_config_items(sd_bus_message *m, char ***ret_kv, sd_bus_error *error) {
        _cleanup_strv_free_ char **kv = NULL;
        const char *k, *v;
        size_t n = 0;
        int r = sd_bus_message_enter_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ss)", &k, &v)) > 0) {
                if (++n > LXC_CONFIG_MAX_ITEMS)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Too many config items (more than %u)",
                                                 LXC_CONFIG_MAX_ITEMS);
                if (strv_extend(&kv, k) < 0 || strv_extend(&kv, v) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        if (!kv && !(kv = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret_kv = TAKE_PTR(kv);
        return 0;
}

int bus_paths_from_names(const char *prefix, char *const *names, char ***ret) {
        _cleanup_strv_free_ char **paths = calloc(1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        STRV_FOREACH(n, names) {
                char *p = NULL;
                int r = sd_bus_path_encode(prefix, *n, &p);
                if (r < 0)
                        return r;
                if (strv_consume(&paths, p) < 0) {
                        free(p);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(paths);
        return 0;
}

/* Held work per sender and per user. A few hundred callers at most: lists. */
typedef struct PendingCount {
        char *sender; /* NULL for a per-user count */
        uid_t uid;
        unsigned n;
        struct PendingCount *next;
} PendingCount;

static PendingCount *pending_counts = NULL;

static PendingCount *pending_find(const char *sender, uid_t uid, bool create) {
        for (PendingCount *p = pending_counts; p; p = p->next)
                if (sender ? streq_ptr(p->sender, sender) : (!p->sender && p->uid == uid))
                        return p;
        if (!create)
                return NULL;
        PendingCount *p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        p->uid = uid;
        p->sender = sender ? strdup(sender) : NULL;
        if (sender && !p->sender) {
                free(p);
                return NULL;
        }
        p->next = pending_counts;
        pending_counts = p;
        return p;
}

/* Drops a count that reached 0. */
static void pending_gc(PendingCount *p) {
        if (!p || p->n > 0)
                return;
        for (PendingCount **q = &pending_counts; *q; q = &(*q)->next)
                if (*q == p) {
                        *q = p->next;
                        break;
                }
        free(p->sender);
        free(p);
}

int bus_pending_acquire(sd_bus_message *m, BusPending *ret, sd_bus_error *error) {
        const char *sender = sd_bus_message_get_sender(m);
        uid_t uid;
        *ret = (BusPending){ .uid = (uid_t) -1 };
        int r = bus_caller_uid(m, &uid);
        if (r < 0)
                return r;
        if (uid == 0 || !sender)
                return 0; /* root (and direct connections, which are root's) */
        PendingCount *s = pending_find(sender, uid, true), *u = pending_find(NULL, uid, true);
        if (s && u && s->n >= BUS_PENDING_PER_SENDER)
                r = sd_bus_error_setf(error, WARREN_ERROR_QUOTA_EXCEEDED,
                                      "Too many calls of connection %s waiting: %u, the limit is %u per "
                                      "connection",
                                      sender, s->n, BUS_PENDING_PER_SENDER);
        else if (s && u && u->n >= BUS_PENDING_PER_USER)
                r = sd_bus_error_setf(error, WARREN_ERROR_QUOTA_EXCEEDED,
                                      "Too many calls of uid %u waiting: %u, the limit is %u per user",
                                      (unsigned) uid, u->n, BUS_PENDING_PER_USER);
        else if (!s || !u || !(ret->sender = strdup(sender)))
                r = -ENOMEM;
        if (r < 0) {
                pending_gc(s);
                pending_gc(u);
                return r;
        }
        s->n++;
        u->n++;
        ret->uid = uid;
        return 0;
}

void bus_pending_release(BusPending *p) {
        if (!p->sender)
                return;
        PendingCount *s = pending_find(p->sender, p->uid, false), *u = pending_find(NULL, p->uid, false);
        if (s && s->n > 0)
                s->n--;
        if (u && u->n > 0)
                u->n--;
        pending_gc(s);
        pending_gc(u);
        free(p->sender);
        p->sender = NULL;
}
