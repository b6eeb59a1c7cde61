/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "wg-client.h"

/* Action calls may wait for a person typing a password into the polkit
 * agent: give them minutes, not D-Bus's default 25 s. */
#define ACTION_TIMEOUT_MS (10 * 60 * 1000)
#define POLL_INTERVAL_S 3
#define RECONNECT_DELAY_S 3
/* How long a finished job stays findable by path (a create's reply may
 * come after its JobRemoved). */
#define FINISHED_JOB_KEEP_S 120

struct _WgClient {
        GObject parent_instance;
        GDBusConnection *bus;
        /* Cancelled when the connection goes: no reply of an old
         * connection reaches the new state. */
        GCancellable *cancellable;
        char *problem;
        guint watch_id;
        gboolean service_running;
        GDBusObjectManager *om;
        GCancellable *om_cancellable;
        GListStore *containers;
        GHashTable *by_name; /* name -> WgContainer, borrowed from the store */
        GListStore *jobs;
        GHashTable *job_table; /* path -> WgJob (ref), running and recently finished */
        GArray *subscriptions;
        guint reconnect_id, poll_id;
        gboolean polling;
        int has_stats; /* -1 not known yet, 0 no GetStats, 1 yes */
};

G_DEFINE_FINAL_TYPE(WgClient, wg_client, G_TYPE_OBJECT)

enum {
        SIGNAL_STATUS_CHANGED,
        SIGNAL_JOB_ADDED,
        SIGNAL_ATTACH_EXITED,
        N_SIGNALS
};
static guint signals[N_SIGNALS];

static void connect_bus(WgClient *c);
static void poll_containers(WgClient *c);

/* ---- the model ---- */

static int compare_names(gconstpointer a, gconstpointer b, gpointer user_data) {
        return g_strcmp0(wg_container_get_name((WgContainer *) a), wg_container_get_name((WgContainer *) b));
}

WgContainer *wg_client_lookup(WgClient *c, const char *name) {
        return name ? g_hash_table_lookup(c->by_name, name) : NULL;
}

static WgContainer *lookup_path(WgClient *c, const char *path) {
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, c->by_name);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (g_str_equal(wg_container_get_path(value), path))
                        return value;
        return NULL;
}

/* The item for NAME, made if new (*ret_new tells). */
static WgContainer *ensure_container(WgClient *c, const char *name, const char *path, gboolean *ret_new) {
        WgContainer *item = wg_client_lookup(c, name);
        if (ret_new)
                *ret_new = item == NULL;
        if (item)
                return item;
        g_autoptr(WgContainer) made = wg_container_new(name, path);
        g_hash_table_insert(c->by_name, g_strdup(name), made);
        g_list_store_insert_sorted(c->containers, made, compare_names, NULL);
        return made;
}

static void remove_container(WgClient *c, WgContainer *item) {
        guint pos;
        if (!item)
                return;
        g_object_ref(item);
        g_hash_table_remove(c->by_name, wg_container_get_name(item));
        if (g_list_store_find(c->containers, item, &pos))
                g_list_store_remove(c->containers, pos);
        g_object_unref(item);
}

static gboolean may_read(WgContainer *item) {
        uid_t me = geteuid();
        return me == 0 || wg_container_get_owner_uid(item) == me;
}

static void set_problem(WgClient *c, const char *problem) {
        if (g_strcmp0(c->problem, problem) == 0)
                return;
        g_free(c->problem);
        c->problem = g_strdup(problem);
        g_signal_emit(c, signals[SIGNAL_STATUS_CHANGED], 0);
}

/* ---- reading properties ---- */

static void on_container_get_all(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgContainer) item = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
        if (!reply) {
                if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                        g_debug("GetAll %s: %s", wg_container_get_path(item), error->message);
                return;
        }
        g_autoptr(GVariant) dict = g_variant_get_child_value(reply, 0);
        wg_container_apply_properties(item, dict);
}

static void fetch_container(WgClient *c, WgContainer *item) {
        if (!c->bus)
                return;
        g_dbus_connection_call(
                c->bus, WG_BUS_NAME, wg_container_get_path(item), "org.freedesktop.DBus.Properties",
                "GetAll", g_variant_new("(s)", WG_CONTAINER_IFACE), G_VARIANT_TYPE("(a{sv})"),
                G_DBUS_CALL_FLAGS_NONE, -1, c->cancellable, on_container_get_all, g_object_ref(item));
}

typedef struct {
        WgClient *client;
        WgContainer *item;
} StatsCall;

static void on_get_stats(GObject *source, GAsyncResult *res, gpointer user_data) {
        StatsCall *sc = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
        if (reply) {
                sc->client->has_stats = 1;
                g_autoptr(GVariant) dict = g_variant_get_child_value(reply, 0);
                wg_container_apply_stats(sc->item, dict, g_get_monotonic_time());
        } else if (g_dbus_error_is_remote_error(error)) {
                g_autofree char *name = g_dbus_error_get_remote_error(error);
                /* Not on this warrend's interface (yet): MemoryCurrent it is. */
                if (g_strcmp0(name, "org.freedesktop.DBus.Error.UnknownMethod") == 0 ||
                    g_strcmp0(name, "org.freedesktop.DBus.Error.UnknownInterface") == 0)
                        sc->client->has_stats = 0;
        }
        g_object_unref(sc->client);
        g_object_unref(sc->item);
        g_free(sc);
}

static void poll_containers(WgClient *c) {
        if (!c->bus)
                return;
        guint n = g_list_model_get_n_items(G_LIST_MODEL(c->containers));
        for (guint i = 0; i < n; i++) {
                g_autoptr(WgContainer) item = g_list_model_get_item(G_LIST_MODEL(c->containers), i);
                if (!wg_container_is_running(item) || !may_read(item))
                        continue;
                fetch_container(c, item);
                if (c->has_stats != 0) {
                        StatsCall *sc = g_new0(StatsCall, 1);
                        sc->client = g_object_ref(c);
                        sc->item = g_object_ref(item);
                        g_dbus_connection_call(c->bus, WG_BUS_NAME, wg_container_get_path(item),
                                               WG_CONTAINER_IFACE, "GetStats", NULL,
                                               G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1,
                                               c->cancellable, on_get_stats, sc);
                }
        }
}

static void on_list_containers(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgClient) c = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
        if (!reply) {
                if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                        return;
                g_autofree char *why =
                        g_dbus_error_is_remote_error(error) ? g_dbus_error_get_remote_error(error) : NULL;
                g_dbus_error_strip_remote_error(error);
                g_autofree char *msg =
                        g_strdup_printf("The container service (%s) does not answer: %s%s%s%s", WG_BUS_NAME,
                                        error->message, why ? " (" : "", why ? why : "", why ? ")" : "");
                g_printerr("warren-containers: %s\n", msg);
                set_problem(c, msg);
                return;
        }
        set_problem(c, "");

        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GVariantIter) it = NULL;
        const char *name, *state, *path;
        guint32 uid;
        g_variant_get(reply, "(a(ssuo))", &it);
        while (g_variant_iter_next(it, "(&s&su&o)", &name, &state, &uid, &path)) {
                gboolean made;
                WgContainer *item = ensure_container(c, name, path, &made);
                g_hash_table_add(seen, (gpointer) wg_container_get_name(item));
                wg_container_set_owner_uid(item, uid);
                wg_container_set_state(item, state);
                if (made)
                        fetch_container(c, item);
        }
        /* Gone while we were not told (warrend was away, or a signal lost). */
        GPtrArray *gone = g_ptr_array_new();
        GHashTableIter hi;
        gpointer key, value;
        g_hash_table_iter_init(&hi, c->by_name);
        while (g_hash_table_iter_next(&hi, &key, &value))
                if (!g_hash_table_contains(seen, key))
                        g_ptr_array_add(gone, value);
        for (guint i = 0; i < gone->len; i++)
                remove_container(c, gone->pdata[i]);
        g_ptr_array_free(gone, TRUE);
        poll_containers(c);
}

void wg_client_refresh(WgClient *c) {
        if (!c->bus)
                return;
        /* No NO_AUTO_START: this is what brings warrend back after it
         * exited when idle. */
        g_dbus_connection_call(c->bus, WG_BUS_NAME, WG_MANAGER_PATH, WG_MANAGER_IFACE, "ListContainers",
                               NULL, G_VARIANT_TYPE("(a(ssuo))"), G_DBUS_CALL_FLAGS_NONE, -1, c->cancellable,
                               on_list_containers, g_object_ref(c));
}

static gboolean poll_tick(gpointer user_data) {
        WgClient *c = user_data;
        gboolean any = FALSE;
        guint n = g_list_model_get_n_items(G_LIST_MODEL(c->containers));
        for (guint i = 0; i < n && !any; i++) {
                g_autoptr(WgContainer) item = g_list_model_get_item(G_LIST_MODEL(c->containers), i);
                any = wg_container_is_running(item) && may_read(item);
        }
        /* Nothing to measure: let warrend exit when idle. */
        if (any)
                poll_containers(c);
        return G_SOURCE_CONTINUE;
}

void wg_client_set_polling(WgClient *c, gboolean enabled) {
        if (enabled == c->polling)
                return;
        c->polling = enabled;
        if (enabled) {
                c->poll_id = g_timeout_add_seconds(POLL_INTERVAL_S, poll_tick, c);
                wg_client_refresh(c);
        } else
                g_clear_handle_id(&c->poll_id, g_source_remove);
}

/* ---- jobs ---- */

static void on_job_get_all(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgJob) job = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
        if (!reply)
                return; /* it may be over already; its signals tell the rest */
        g_autoptr(GVariant) dict = g_variant_get_child_value(reply, 0);
        wg_job_apply_properties(job, dict, g_get_monotonic_time());
}

typedef struct {
        WgClient *client;
        WgJob *job;
} ForgetJob;

static gboolean forget_job(gpointer user_data) {
        ForgetJob *f = user_data;
        const char *path = wg_job_get_path(f->job);
        /* Only if the path still names this job: ids start again at 1 with
         * each warrend. */
        if (g_hash_table_lookup(f->client->job_table, path) == f->job)
                g_hash_table_remove(f->client->job_table, path);
        g_object_unref(f->client);
        g_object_unref(f->job);
        g_free(f);
        return G_SOURCE_REMOVE;
}

static gboolean is_finished(gpointer key, gpointer value, gpointer user_data) {
        return wg_job_get_result(value) != NULL;
}

/* A new warrend numbers its jobs from 1 again: finished jobs of an old one
 * must not be mistaken for its new ones. */
static void forget_finished_jobs(WgClient *c) {
        g_hash_table_foreach_remove(c->job_table, is_finished, NULL);
}

WgJob *wg_client_track_job(WgClient *c, const char *path) {
        WgJob *job = g_hash_table_lookup(c->job_table, path);
        if (job)
                return job;
        job = wg_job_new(path);
        g_hash_table_insert(c->job_table, g_strdup(path), job);
        g_list_store_append(c->jobs, job);
        if (c->bus)
                g_dbus_connection_call(c->bus, WG_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                       "GetAll", g_variant_new("(s)", WG_JOB_IFACE),
                                       G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                                       c->cancellable, on_job_get_all, g_object_ref(job));
        g_signal_emit(c, signals[SIGNAL_JOB_ADDED], 0, job);
        return job;
}

static void finish_job(WgClient *c, WgJob *job, const char *result) {
        guint pos;
        g_object_ref(job);
        if (g_list_store_find(c->jobs, job, &pos))
                g_list_store_remove(c->jobs, pos);
        wg_job_finish(job, result);
        ForgetJob *f = g_new0(ForgetJob, 1);
        f->client = g_object_ref(c);
        f->job = g_object_ref(job);
        g_timeout_add_seconds(FINISHED_JOB_KEEP_S, forget_job, f);
        g_object_unref(job);
}

WgJob *wg_client_find_job(WgClient *c, const char *target) {
        guint n = g_list_model_get_n_items(G_LIST_MODEL(c->jobs));
        for (guint i = 0; i < n; i++) {
                g_autoptr(WgJob) job = g_list_model_get_item(G_LIST_MODEL(c->jobs), i);
                if (g_strcmp0(wg_job_get_target(job), target) == 0)
                        return job; /* the store keeps it */
        }
        return NULL;
}

/* ---- signals ---- */

static void on_signal(GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                      const char *member, GVariant *params, gpointer user_data) {
        WgClient *c = user_data;
        const char *name, *opath, *result;
        guint32 id;

        if (g_str_equal(iface, WG_MANAGER_IFACE)) {
                if (g_str_equal(member, "ContainerNew") &&
                    g_variant_is_of_type(params, G_VARIANT_TYPE("(so)"))) {
                        g_variant_get(params, "(&s&o)", &name, &opath);
                        fetch_container(c, ensure_container(c, name, opath, NULL));
                } else if (g_str_equal(member, "ContainerRemoved") &&
                           g_variant_is_of_type(params, G_VARIANT_TYPE("(so)"))) {
                        g_variant_get(params, "(&s&o)", &name, &opath);
                        remove_container(c, wg_client_lookup(c, name));
                } else if (g_str_equal(member, "JobNew") &&
                           g_variant_is_of_type(params, G_VARIANT_TYPE("(uo)"))) {
                        g_variant_get(params, "(u&o)", &id, &opath);
                        WgJob *old = g_hash_table_lookup(c->job_table, opath);
                        if (old && wg_job_get_result(old))
                                g_hash_table_remove(c->job_table, opath); /* a new job on an old path */
                        wg_client_track_job(c, opath);
                } else if (g_str_equal(member, "JobRemoved") &&
                           g_variant_is_of_type(params, G_VARIANT_TYPE("(uos)"))) {
                        g_variant_get(params, "(u&o&s)", &id, &opath, &result);
                        finish_job(c, wg_client_track_job(c, opath), result);
                }
        } else if (g_str_equal(iface, "org.freedesktop.DBus.Properties") &&
                   g_str_equal(member, "PropertiesChanged") &&
                   g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)"))) {
                const char *which;
                g_autoptr(GVariant) changed = NULL;
                g_autofree const char **invalidated = NULL;
                g_variant_get(params, "(&s@a{sv}^a&s)", &which, &changed, &invalidated);
                if (g_str_equal(which, WG_CONTAINER_IFACE)) {
                        WgContainer *item = lookup_path(c, path);
                        if (item) {
                                wg_container_apply_properties(item, changed);
                                if (invalidated && invalidated[0])
                                        fetch_container(c, item);
                        }
                } else if (g_str_equal(which, WG_JOB_IFACE)) {
                        WgJob *job = wg_client_track_job(c, path);
                        wg_job_apply_properties(job, changed, g_get_monotonic_time());
                }
        } else if (g_str_equal(iface, "org.freedesktop.DBus.ObjectManager") &&
                   g_str_equal(member, "InterfacesRemoved") &&
                   g_variant_is_of_type(params, G_VARIANT_TYPE("(oas)"))) {
                g_autofree const char **ifaces = NULL;
                g_variant_get(params, "(&o^a&s)", &opath, &ifaces);
                if (g_strv_contains(ifaces, WG_CONTAINER_IFACE))
                        remove_container(c, lookup_path(c, opath));
        } else if (g_str_equal(iface, WG_CONTAINER_IFACE) && g_str_equal(member, "AttachExited") &&
                   g_variant_is_of_type(params, G_VARIANT_TYPE("(ui)"))) {
                guint32 pid;
                gint32 status;
                g_variant_get(params, "(ui)", &pid, &status);
                g_signal_emit(c, signals[SIGNAL_ATTACH_EXITED], 0, path, pid, status);
        }
}

/* Sender org.warren1 only; arg0 narrows PropertiesChanged to our interfaces. */
static void subscribe(WgClient *c, const char *iface, const char *member, const char *arg0) {
        guint id = g_dbus_connection_signal_subscribe(c->bus, WG_BUS_NAME, iface, member, NULL, arg0,
                                                      G_DBUS_SIGNAL_FLAGS_NONE, on_signal, c, NULL);
        g_array_append_val(c->subscriptions, id);
}

/* ---- the object manager: what exists, and what is added ---- */

static GVariant *cached_properties(GDBusProxy *proxy) {
        GVariantBuilder b;
        g_auto(GStrv) names = g_dbus_proxy_get_cached_property_names(proxy);
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        for (char **n = names; n && *n; n++) {
                g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(proxy, *n);
                if (v)
                        g_variant_builder_add(&b, "{sv}", *n, v);
        }
        return g_variant_builder_end(&b);
}

static void take_object(WgClient *c, GDBusObject *object) {
        g_autoptr(GDBusInterface) iface = g_dbus_object_get_interface(object, WG_CONTAINER_IFACE);
        if (iface) {
                GDBusProxy *proxy = G_DBUS_PROXY(iface);
                g_autoptr(GVariant) props = cached_properties(proxy);
                const char *name;
                if (g_variant_lookup(props, "Name", "&s", &name)) {
                        WgContainer *item =
                                ensure_container(c, name, g_dbus_object_get_object_path(object), NULL);
                        wg_container_apply_properties(item, props);
                }
        }
        g_autoptr(GDBusInterface) job_iface = g_dbus_object_get_interface(object, WG_JOB_IFACE);
        if (job_iface) {
                g_autoptr(GVariant) props = cached_properties(G_DBUS_PROXY(job_iface));
                WgJob *job = wg_client_track_job(c, g_dbus_object_get_object_path(object));
                wg_job_apply_properties(job, props, g_get_monotonic_time());
        }
}

static void on_object_added(GDBusObjectManager *om, GDBusObject *object, gpointer user_data) {
        take_object(user_data, object);
}

static void drop_object_manager(WgClient *c) {
        if (c->om_cancellable) {
                g_cancellable_cancel(c->om_cancellable);
                g_clear_object(&c->om_cancellable);
        }
        if (c->om) {
                /* Its own reaction to the owner leaving (object-removed for
                 * everything) must not empty our list: containers outlive warrend. */
                g_signal_handlers_disconnect_by_data(c->om, c);
                g_clear_object(&c->om);
        }
}

static void on_object_manager_ready(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgClient) c = user_data;
        g_autoptr(GError) error = NULL;
        GDBusObjectManager *om = g_dbus_object_manager_client_new_finish(res, &error);
        if (!om) {
                if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                        g_printerr("warren-containers: object manager of %s: %s\n", WG_BUS_NAME,
                                   error->message);
                return;
        }
        drop_object_manager(c);
        c->om = om;
        g_signal_connect(om, "object-added", G_CALLBACK(on_object_added), c);
        GList *objects = g_dbus_object_manager_get_objects(om);
        for (GList *l = objects; l; l = l->next)
                take_object(c, l->data);
        g_list_free_full(objects, g_object_unref);
}

static void on_name_appeared(GDBusConnection *bus, const char *name, const char *owner, gpointer user_data) {
        WgClient *c = user_data;
        c->service_running = TRUE;
        c->has_stats = -1; /* a new warrend may be a newer one */
        forget_finished_jobs(c);
        drop_object_manager(c);
        c->om_cancellable = g_cancellable_new();
        /* A new client for the new owner: it loads GetManagedObjects afresh. */
        g_dbus_object_manager_client_new(bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                         WG_BUS_NAME, WG_MANAGER_PATH, NULL, NULL, NULL, c->om_cancellable,
                                         on_object_manager_ready, g_object_ref(c));
        g_signal_emit(c, signals[SIGNAL_STATUS_CHANGED], 0);
        wg_client_refresh(c);
}

static void on_name_vanished(GDBusConnection *bus, const char *name, gpointer user_data) {
        WgClient *c = user_data;
        gboolean was = c->service_running;
        c->service_running = FALSE;
        drop_object_manager(c);
        /* Jobs die with warrend: no JobRemoved will come for them. */
        if (was) {
                GPtrArray *running = g_ptr_array_new_with_free_func(g_object_unref);
                guint n = g_list_model_get_n_items(G_LIST_MODEL(c->jobs));
                for (guint i = 0; i < n; i++)
                        g_ptr_array_add(running, g_list_model_get_item(G_LIST_MODEL(c->jobs), i));
                g_autoptr(GVariant) why = g_variant_ref_sink(
                        g_variant_new_parsed("{'Error': <'org.freedesktop.DBus.Error.NoReply'>,"
                                             " 'Message': <'warrend exited while the job ran'>}"));
                for (guint i = 0; i < running->len; i++) {
                        wg_job_apply_properties(running->pdata[i], why, g_get_monotonic_time());
                        finish_job(c, running->pdata[i], "failed");
                }
                g_ptr_array_free(running, TRUE);
        }
        g_signal_emit(c, signals[SIGNAL_STATUS_CHANGED], 0);
}

/* ---- the connection ---- */

static gboolean reconnect(gpointer user_data) {
        WgClient *c = user_data;
        c->reconnect_id = 0;
        connect_bus(c);
        return G_SOURCE_REMOVE;
}

static void schedule_reconnect(WgClient *c) {
        if (!c->reconnect_id)
                c->reconnect_id = g_timeout_add_seconds(RECONNECT_DELAY_S, reconnect, c);
}

static void on_bus_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
                          gpointer user_data) {
        WgClient *c = user_data;
        g_autofree char *msg = g_strdup_printf("The system bus closed the connection%s%s; reconnecting…",
                                               error ? ": " : "", error ? error->message : "");
        g_printerr("warren-containers: %s\n", msg);
        g_cancellable_cancel(c->cancellable);
        g_clear_object(&c->cancellable);
        c->cancellable = g_cancellable_new();
        drop_object_manager(c);
        g_clear_handle_id(&c->watch_id, g_bus_unwatch_name);
        for (guint i = 0; i < c->subscriptions->len; i++)
                g_dbus_connection_signal_unsubscribe(bus, g_array_index(c->subscriptions, guint, i));
        g_array_set_size(c->subscriptions, 0);
        g_signal_handlers_disconnect_by_data(bus, c);
        g_clear_object(&c->bus);
        c->service_running = FALSE;
        /* A new bus knows nothing of the old one's objects. */
        g_hash_table_remove_all(c->by_name);
        g_list_store_remove_all(c->containers);
        on_name_vanished(NULL, WG_BUS_NAME, c);
        set_problem(c, msg);
        schedule_reconnect(c);
}

static void on_bus_ready(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgClient) c = user_data;
        g_autoptr(GError) error = NULL;
        GDBusConnection *bus = g_dbus_connection_new_for_address_finish(res, &error);
        if (!bus) {
                if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                        return;
                g_autofree char *msg =
                        g_strdup_printf("Cannot connect to the system bus: %s", error->message);
                g_printerr("warren-containers: %s\n", msg);
                set_problem(c, msg);
                schedule_reconnect(c);
                return;
        }
        c->bus = bus;
        g_signal_connect(bus, "closed", G_CALLBACK(on_bus_closed), c);
        subscribe(c, WG_MANAGER_IFACE, NULL, NULL);
        subscribe(c, "org.freedesktop.DBus.Properties", "PropertiesChanged", WG_CONTAINER_IFACE);
        subscribe(c, "org.freedesktop.DBus.Properties", "PropertiesChanged", WG_JOB_IFACE);
        subscribe(c, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", NULL);
        subscribe(c, WG_CONTAINER_IFACE, "AttachExited", NULL);
        c->watch_id = g_bus_watch_name_on_connection(bus, WG_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                     on_name_appeared, on_name_vanished, c, NULL);
        set_problem(c, "");
        /* Activates warrend if it is not running: the list shows at once. */
        wg_client_refresh(c);
}

static void connect_bus(WgClient *c) {
        g_autoptr(GError) error = NULL;
        /* Our own connection, not g_bus_get()'s shared one: we decide what
         * happens when it closes (reconnect, not exit). */
        g_autofree char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        if (!address) {
                g_autofree char *msg = g_strdup_printf("No system bus address: %s", error->message);
                set_problem(c, msg);
                schedule_reconnect(c);
                return;
        }
        g_dbus_connection_new_for_address(address,
                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                          NULL, c->cancellable, on_bus_ready, g_object_ref(c));
}

void wg_client_start(WgClient *c) {
        if (!c->bus && !c->reconnect_id)
                connect_bus(c);
}

/* ---- calls ---- */

typedef struct {
        GVariant *reply;
        GUnixFDList *fds;
} CallResult;

static void call_result_free(gpointer p) {
        CallResult *r = p;
        if (r->reply)
                g_variant_unref(r->reply);
        g_clear_object(&r->fds);
        g_free(r);
}

static void on_call_done(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(GTask) task = user_data;
        GError *error = NULL;
        CallResult *r = g_new0(CallResult, 1);
        r->reply = g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(source), &r->fds, res,
                                                                   &error);
        if (!r->reply) {
                call_result_free(r);
                g_task_return_error(task, error);
                return;
        }
        g_task_return_pointer(task, r, call_result_free);
}

void wg_client_call(WgClient *c, const char *path, const char *iface, const char *method, GVariant *params,
                    const GVariantType *reply_type, GCancellable *cancellable, GAsyncReadyCallback callback,
                    gpointer user_data) {
        GTask *task = g_task_new(c, cancellable, callback, user_data);
        if (!c->bus) {
                if (params)
                        g_variant_unref(g_variant_ref_sink(params));
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                        "Not connected to the system bus%s%s",
                                        c->problem && *c->problem ? ": " : "", c->problem ? c->problem : "");
                g_object_unref(task);
                return;
        }
        g_dbus_connection_call_with_unix_fd_list(c->bus, WG_BUS_NAME, path, iface, method, params,
                                                 reply_type,
                                                 G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
                                                 ACTION_TIMEOUT_MS, NULL, cancellable, on_call_done, task);
}

GVariant *wg_client_call_finish(WgClient *c, GAsyncResult *result, GUnixFDList **ret_fds, GError **error) {
        CallResult *r = g_task_propagate_pointer(G_TASK(result), error);
        if (!r)
                return NULL;
        GVariant *reply = g_steal_pointer(&r->reply);
        if (ret_fds)
                *ret_fds = g_steal_pointer(&r->fds);
        call_result_free(r);
        return reply;
}

/* ---- polkit ---- */

const char *wg_client_manage_action(WgContainer *container) {
        return wg_container_get_owner_uid(container) == geteuid() ? "org.warren1.manage-own"
                                                                  : "org.warren1.manage";
}

const char *wg_client_shell_action(WgContainer *container) {
        return wg_container_get_owner_uid(container) == geteuid() ? "org.warren1.shell-own"
                                                                  : "org.warren1.shell";
}

typedef struct {
        char *action, *container;
        guint32 owner;
        gboolean with_details;
} AuthQuery;

static void auth_query_free(gpointer p) {
        AuthQuery *q = p;
        g_free(q->action);
        g_free(q->container);
        g_free(q);
}

static void ask_polkit(GTask *task);

static void on_check_authorization(GObject *source, GAsyncResult *res, gpointer user_data) {
        GTask *task = user_data;
        AuthQuery *q = g_task_get_task_data(task);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
        if (!reply) {
                /* Some polkit versions take details from trusted callers only:
                 * ask again without them before giving up. */
                if (q->with_details && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                        q->with_details = FALSE;
                        ask_polkit(task);
                        return;
                }
                g_debug("CheckAuthorization %s: %s", q->action, error->message);
                g_task_return_int(task, WG_AUTH_UNKNOWN);
                g_object_unref(task);
                return;
        }
        gboolean authorized, challenge;
        g_variant_get(reply, "((bb@a{ss}))", &authorized, &challenge, NULL);
        g_task_return_int(task, authorized ? WG_AUTH_YES : challenge ? WG_AUTH_CHALLENGE : WG_AUTH_NO);
        g_object_unref(task);
}

static void ask_polkit(GTask *task) {
        WgClient *c = g_task_get_source_object(task);
        AuthQuery *q = g_task_get_task_data(task);
        GVariantBuilder subject_details, details;
        g_variant_builder_init(&subject_details, G_VARIANT_TYPE_VARDICT);
        /* Our own connection is the subject warrend will present: same uid,
         * so polkit lets us ask about ourselves. */
        g_variant_builder_add(&subject_details, "{sv}", "name",
                              g_variant_new_string(g_dbus_connection_get_unique_name(c->bus)));
        g_variant_builder_init(&details, G_VARIANT_TYPE("a{ss}"));
        if (q->with_details && q->container) {
                g_autofree char *owner = g_strdup_printf("%u", q->owner);
                g_variant_builder_add(&details, "{ss}", "container", q->container);
                g_variant_builder_add(&details, "{ss}", "owner", owner);
        }
        g_dbus_connection_call(c->bus, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                               "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization",
                               g_variant_new("((sa{sv})sa{ss}us)", "system-bus-name", &subject_details,
                                             q->action, &details, 0u, ""),
                               G_VARIANT_TYPE("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE, -1,
                               g_task_get_cancellable(task), on_check_authorization, task);
}

void wg_client_check_auth(WgClient *c, const char *action, WgContainer *container, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data) {
        GTask *task = g_task_new(c, cancellable, callback, user_data);
        if (geteuid() == 0) {
                g_task_return_int(task, WG_AUTH_YES);
                g_object_unref(task);
                return;
        }
        if (!c->bus) {
                g_task_return_int(task, WG_AUTH_UNKNOWN);
                g_object_unref(task);
                return;
        }
        AuthQuery *q = g_new0(AuthQuery, 1);
        q->action = g_strdup(action);
        q->container = container ? g_strdup(wg_container_get_name(container)) : NULL;
        q->owner = container ? wg_container_get_owner_uid(container) : 0;
        q->with_details = TRUE;
        g_task_set_task_data(task, q, auth_query_free);
        ask_polkit(task);
}

WgAuth wg_client_check_auth_finish(WgClient *c, GAsyncResult *result) {
        return (WgAuth) g_task_propagate_int(G_TASK(result), NULL);
}

/* ---- the object ---- */

GListModel *wg_client_get_containers(WgClient *c) {
        return G_LIST_MODEL(c->containers);
}

GListModel *wg_client_get_jobs(WgClient *c) {
        return G_LIST_MODEL(c->jobs);
}

const char *wg_client_get_problem(WgClient *c) {
        return c->problem ? c->problem : "";
}

gboolean wg_client_is_connected(WgClient *c) {
        return c->bus != NULL;
}

gboolean wg_client_service_running(WgClient *c) {
        return c->service_running;
}

GDBusConnection *wg_client_get_bus(WgClient *c) {
        return c->bus;
}

static void wg_client_dispose(GObject *object) {
        WgClient *c = WG_CLIENT(object);
        g_clear_handle_id(&c->reconnect_id, g_source_remove);
        g_clear_handle_id(&c->poll_id, g_source_remove);
        g_clear_handle_id(&c->watch_id, g_bus_unwatch_name);
        drop_object_manager(c);
        if (c->cancellable)
                g_cancellable_cancel(c->cancellable);
        if (c->bus) {
                for (guint i = 0; i < c->subscriptions->len; i++)
                        g_dbus_connection_signal_unsubscribe(c->bus,
                                                             g_array_index(c->subscriptions, guint, i));
                g_array_set_size(c->subscriptions, 0);
                g_signal_handlers_disconnect_by_data(c->bus, c);
                g_clear_object(&c->bus);
        }
        G_OBJECT_CLASS(wg_client_parent_class)->dispose(object);
}

static void wg_client_finalize(GObject *object) {
        WgClient *c = WG_CLIENT(object);
        g_clear_object(&c->cancellable);
        g_hash_table_unref(c->by_name);
        g_hash_table_unref(c->job_table);
        g_object_unref(c->containers);
        g_object_unref(c->jobs);
        g_array_unref(c->subscriptions);
        g_free(c->problem);
        G_OBJECT_CLASS(wg_client_parent_class)->finalize(object);
}

static void wg_client_class_init(WgClientClass *klass) {
        GObjectClass *oc = G_OBJECT_CLASS(klass);
        oc->dispose = wg_client_dispose;
        oc->finalize = wg_client_finalize;
        signals[SIGNAL_STATUS_CHANGED] =
                g_signal_new("status-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                             NULL, G_TYPE_NONE, 0);
        signals[SIGNAL_JOB_ADDED] = g_signal_new("job-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                 NULL, NULL, NULL, G_TYPE_NONE, 1, WG_TYPE_JOB);
        signals[SIGNAL_ATTACH_EXITED] =
                g_signal_new("attach-exited", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                             NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_INT);
}

static void wg_client_init(WgClient *c) {
        c->cancellable = g_cancellable_new();
        c->containers = g_list_store_new(WG_TYPE_CONTAINER);
        c->jobs = g_list_store_new(WG_TYPE_JOB);
        c->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        c->job_table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
        c->subscriptions = g_array_new(FALSE, FALSE, sizeof(guint));
        c->has_stats = -1;
        c->problem = g_strdup("");
}

WgClient *wg_client_new(void) {
        return g_object_new(WG_TYPE_CLIENT, NULL);
}
