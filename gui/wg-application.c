/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "wg-application.h"
#include "wg-create-dialog.h"
#include "wg-format.h"
#include "wg-settings-dialog.h"
#include "wg-terminal.h"
#include "wg-window.h"

/* A clean stop: the halt signal to init, then SIGKILL after this long. */
#define CLEAN_STOP_TIMEOUT_S 30

struct _WgApplication {
        AdwApplication parent_instance;
        WgClient *client;
        WgWindow *window;
        char *image_server;
        GHashTable *busy;          /* name -> count of calls on their way */
        GHashTable *confirmations; /* name -> its open "Destroy?" dialog */
};

G_DEFINE_FINAL_TYPE(WgApplication, wg_application, ADW_TYPE_APPLICATION)

WgClient *wg_application_get_client(WgApplication *app) {
        return app->client;
}

const char *wg_application_get_image_server(WgApplication *app) {
        return app->image_server ? app->image_server : "";
}

gboolean wg_application_is_busy(WgApplication *app, const char *name) {
        return GPOINTER_TO_UINT(g_hash_table_lookup(app->busy, name)) > 0;
}

static void busy_add(WgApplication *app, const char *name, int delta) {
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(app->busy, name));
        n = (guint) ((int) n + delta);
        if (n == 0)
                g_hash_table_remove(app->busy, name);
        else
                g_hash_table_insert(app->busy, g_strdup(name), GUINT_TO_POINTER(n));
        if (app->window)
                wg_window_update_busy(app->window);
}

static GtkWindow *dialog_parent(WgApplication *app) {
        GtkWindow *w = gtk_application_get_active_window(GTK_APPLICATION(app));
        return w ? w : GTK_WINDOW(app->window);
}

void wg_application_report_error(WgApplication *app, const char *heading, const GError *error) {
        g_autofree char *message = wg_error_message(error);
        g_autofree char *name =
                g_dbus_error_is_remote_error(error) ? g_dbus_error_get_remote_error(error) : NULL;
        g_printerr("warren-containers: %s: %s%s%s\n", heading, name ? name : "", name ? ": " : "", message);
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                return;
        GtkWidget *dialog = adw_message_dialog_new(dialog_parent(app), heading, NULL);
        gtk_window_set_title(GTK_WINDOW(dialog), heading);
        g_autofree char *body = name ? g_markup_printf_escaped("%s\n\n<small>%s</small>", message, name)
                                     : g_markup_escape_text(message, -1);
        adw_message_dialog_set_body_use_markup(ADW_MESSAGE_DIALOG(dialog), TRUE);
        adw_message_dialog_set_body(ADW_MESSAGE_DIALOG(dialog), body);
        adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", "_Close");
        gtk_window_present(GTK_WINDOW(dialog));
}

/* ---- calls on one container ---- */

typedef struct {
        WgApplication *app;
        char *name, *heading, *done_toast;
} ContainerCall;

static void container_call_free(ContainerCall *cc) {
        busy_add(cc->app, cc->name, -1);
        g_object_unref(cc->app);
        g_free(cc->name);
        g_free(cc->heading);
        g_free(cc->done_toast);
        g_free(cc);
}

static void on_container_call_done(GObject *source, GAsyncResult *res, gpointer user_data) {
        ContainerCall *cc = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (!reply)
                wg_application_report_error(cc->app, cc->heading, error);
        else if (cc->done_toast && cc->app->window)
                wg_window_toast(cc->app->window, cc->done_toast);
        container_call_free(cc);
}

/* METHOD of org.warren1.Container on NAME; failures as "Could not VERB “NAME”". */
static void container_call(WgApplication *app, const char *name, const char *method, GVariant *params,
                           const char *verb, const char *done_toast) {
        WgContainer *item = wg_client_lookup(app->client, name);
        g_autofree char *path = item ? g_strdup(wg_container_get_path(item)) : wg_container_path(name);
        ContainerCall *cc = g_new0(ContainerCall, 1);
        cc->app = g_object_ref(app);
        cc->name = g_strdup(name);
        cc->heading = g_strdup_printf("Could not %s “%s”", verb, name);
        cc->done_toast = g_strdup(done_toast);
        busy_add(app, name, +1);
        wg_client_call(app->client, path, WG_CONTAINER_IFACE, method, params, NULL, NULL,
                       on_container_call_done, cc);
}

static const char *param_name(GVariant *parameter) {
        return g_variant_get_string(parameter, NULL);
}

static void on_start(GSimpleAction *a, GVariant *p, gpointer app) {
        container_call(app, param_name(p), "Start", NULL, "start", NULL);
}

static void on_stop(GSimpleAction *a, GVariant *p, gpointer app) {
        container_call(app, param_name(p), "Stop", g_variant_new("(ub)", CLEAN_STOP_TIMEOUT_S, FALSE),
                       "stop", NULL);
}

static void on_force_stop(GSimpleAction *a, GVariant *p, gpointer app) {
        container_call(app, param_name(p), "Stop", g_variant_new("(ub)", 0u, TRUE), "stop", NULL);
}

static void on_reboot(GSimpleAction *a, GVariant *p, gpointer app) {
        g_autofree char *toast = g_strdup_printf("“%s” is rebooting", param_name(p));
        container_call(app, param_name(p), "Reboot", NULL, "reboot", toast);
}

static void on_freeze(GSimpleAction *a, GVariant *p, gpointer app) {
        container_call(app, param_name(p), "Freeze", NULL, "freeze", NULL);
}

static void on_unfreeze(GSimpleAction *a, GVariant *p, gpointer app) {
        container_call(app, param_name(p), "Unfreeze", NULL, "unfreeze", NULL);
}

static void on_destroy_now(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        const char *name = param_name(p);
        /* A terminal on a container that goes away has nothing left to show. */
        for (GList *l = gtk_application_get_windows(GTK_APPLICATION(app)); l;) {
                GList *next = l->next;
                if (WG_IS_TERMINAL(l->data) && g_strcmp0(wg_terminal_get_container_name(l->data), name) == 0)
                        gtk_window_destroy(l->data);
                l = next;
        }
        /* Asked and answered (by the dialog or the bus): the question goes. */
        GtkWindow *question = g_hash_table_lookup(app->confirmations, name);
        if (question)
                gtk_window_destroy(question);
        g_autofree char *toast = g_strdup_printf("“%s” destroyed", name);
        container_call(app, name, "Destroy", NULL, "destroy", toast);
}

static void on_destroy_response(AdwMessageDialog *dialog, const char *response, gpointer user_data) {
        WgApplication *app = user_data;
        const char *name = g_object_get_data(G_OBJECT(dialog), "container");
        if (g_str_equal(response, "destroy"))
                g_action_group_activate_action(G_ACTION_GROUP(app), "destroy-now",
                                               g_variant_new_string(name));
}

static void on_confirmation_gone(GtkWidget *dialog, gpointer user_data) {
        WgApplication *app = user_data;
        const char *name = g_object_get_data(G_OBJECT(dialog), "container");
        if (name && g_hash_table_lookup(app->confirmations, name) == dialog)
                g_hash_table_remove(app->confirmations, name);
}

static void on_destroy(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        const char *name = param_name(p);
        g_autofree char *heading = g_strdup_printf("Destroy “%s”?", name);
        GtkWidget *dialog = adw_message_dialog_new(
                dialog_parent(app), heading,
                "Its root file system, configuration and snapshots are deleted. This cannot be undone.");
        gtk_window_set_title(GTK_WINDOW(dialog), heading);
        adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", "_Cancel", "destroy",
                                         "_Destroy", NULL);
        adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), "destroy",
                                                   ADW_RESPONSE_DESTRUCTIVE);
        adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
        adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
        g_object_set_data_full(G_OBJECT(dialog), "container", g_strdup(name), g_free);
        g_signal_connect(dialog, "response", G_CALLBACK(on_destroy_response), app);
        g_signal_connect(dialog, "destroy", G_CALLBACK(on_confirmation_gone), app);
        GtkWindow *old = g_hash_table_lookup(app->confirmations, name);
        if (old)
                gtk_window_destroy(old);
        g_hash_table_insert(app->confirmations, g_strdup(name), dialog);
        gtk_window_present(GTK_WINDOW(dialog));
}

/* ---- create ---- */

typedef struct {
        WgApplication *app;
        char *name;
        WgCreateDone done;
        gpointer user_data;
} CreateCall;

static void on_job_finished(WgJob *job, gpointer user_data) {
        WgApplication *app = user_data;
        const char *result = wg_job_get_result(job), *target = wg_job_get_target(job);
        const char *message = wg_job_get_message(job);
        g_signal_handlers_disconnect_by_func(job, on_job_finished, app);
        g_printerr("warren-containers: job %s (%s %s): %s%s%s\n", wg_job_get_path(job),
                   wg_job_get_type_name(job), target, result, *message ? ": " : "", message);
        if (g_str_equal(result, "done")) {
                g_autofree char *heading = g_strdup_printf("“%s” is ready", target);
                if (*message) {
                        /* The image's create-message: how to log in, what to change. */
                        GtkWidget *dialog = adw_message_dialog_new(dialog_parent(app), heading, message);
                        gtk_window_set_title(GTK_WINDOW(dialog), heading);
                        adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", "_Close");
                        gtk_window_present(GTK_WINDOW(dialog));
                } else if (app->window)
                        wg_window_toast(app->window, heading);
                if (app->window)
                        wg_window_select(app->window, target);
        } else if (g_str_equal(result, "canceled")) {
                g_autofree char *toast = g_strdup_printf("Creating “%s” was canceled", target);
                if (app->window)
                        wg_window_toast(app->window, toast);
        } else {
                g_autofree char *heading = g_strdup_printf("Could not create “%s”", target);
                const char *error_name = wg_job_get_error(job);
                g_autoptr(GError) error = g_dbus_error_new_for_dbus_error(
                        *error_name ? error_name : "org.warren1.Error.Failed",
                        *message ? message : "The job failed without saying why.");
                wg_application_report_error(app, heading, error);
        }
}

static void on_create_done(GObject *source, GAsyncResult *res, gpointer user_data) {
        CreateCall *cc = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (!reply) {
                g_autofree char *heading = g_strdup_printf("Could not create “%s”", cc->name);
                wg_application_report_error(cc->app, heading, error);
        } else {
                const char *job_path;
                g_variant_get(reply, "(&o&o)", NULL, &job_path);
                WgJob *job = wg_client_track_job(cc->app->client, job_path);
                if (!*wg_job_get_target(job)) {
                        /* Over before we could read it (busybox): we know what it made. */
                        g_autoptr(GVariant) known = g_variant_ref_sink(
                                g_variant_new_parsed("{'Target': <%s>, 'Type': <'create'>}", cc->name));
                        wg_job_apply_properties(job, known, g_get_monotonic_time());
                }
                if (wg_job_get_result(job))
                        on_job_finished(job, cc->app); /* a busybox create is over before its reply */
                else
                        g_signal_connect_object(job, "finished", G_CALLBACK(on_job_finished), cc->app, 0);
                if (cc->app->window)
                        wg_window_select(cc->app->window, cc->name);
        }
        if (cc->done)
                cc->done(reply != NULL, cc->user_data);
        busy_add(cc->app, cc->name, -1);
        g_object_unref(cc->app);
        g_free(cc->name);
        g_free(cc);
}

void wg_application_create(WgApplication *app, const char *name, const char *template, GVariant *args,
                           GVariant *options, WgCreateDone done, gpointer user_data) {
        CreateCall *cc = g_new0(CreateCall, 1);
        cc->app = g_object_ref(app);
        cc->name = g_strdup(name);
        cc->done = done;
        cc->user_data = user_data;
        busy_add(app, name, +1);
        wg_client_call(app->client, WG_MANAGER_PATH, WG_MANAGER_IFACE, "CreateContainer",
                       g_variant_new("(ss@as@a{sv})", name, template, args, options), G_VARIANT_TYPE("(oo)"),
                       NULL, on_create_done, cc);
}

static void on_create(GSimpleAction *a, GVariant *p, gpointer user_data) {
        const char *name, *template;
        g_autoptr(GVariant) args = NULL, options = NULL;
        g_variant_get(p, "(&s&s@as@a{sv})", &name, &template, &args, &options);
        wg_application_create(user_data, name, template, args, options, NULL, NULL);
}

static void on_job_cancel_done(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgApplication) app = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (!reply)
                wg_application_report_error(app, "Could not cancel the job", error);
}

static void on_cancel_job(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        WgJob *job = wg_client_find_job(app->client, param_name(p));
        if (!job) {
                g_autofree char *msg = g_strdup_printf("No job is working on “%s”.", param_name(p));
                g_autoptr(GError) error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_NOT_FOUND, msg);
                wg_application_report_error(app, "Could not cancel the job", error);
                return;
        }
        wg_client_call(app->client, wg_job_get_path(job), WG_JOB_IFACE, "Cancel", NULL, NULL, NULL,
                       on_job_cancel_done, g_object_ref(app));
}

static void on_new_container(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        gtk_window_present(GTK_WINDOW(wg_create_dialog_new(app, dialog_parent(app))));
}

/* ---- terminals, settings, selection ---- */

static WgTerminal *newest_terminal(WgApplication *app, const char *name) {
        /* The list is most recently focused first. */
        for (GList *l = gtk_application_get_windows(GTK_APPLICATION(app)); l; l = l->next)
                if (WG_IS_TERMINAL(l->data) && g_strcmp0(wg_terminal_get_container_name(l->data), name) == 0)
                        return l->data;
        return NULL;
}

static void open_terminal(WgApplication *app, const char *name, gboolean console) {
        WgContainer *item = wg_client_lookup(app->client, name);
        if (!item) {
                g_autofree char *heading = g_strdup_printf("Could not open a terminal in “%s”", name);
                g_autofree char *msg = g_strdup_printf("There is no container named “%s”.", name);
                g_autoptr(GError) error =
                        g_dbus_error_new_for_dbus_error("org.warren1.Error.NoSuchContainer", msg);
                wg_application_report_error(app, heading, error);
                return;
        }
        gtk_window_present(GTK_WINDOW(wg_terminal_new(app, item, console)));
}

static void on_open_terminal(GSimpleAction *a, GVariant *p, gpointer app) {
        open_terminal(app, param_name(p), FALSE);
}

static void on_open_console(GSimpleAction *a, GVariant *p, gpointer app) {
        open_terminal(app, param_name(p), TRUE);
}

static void on_terminal_input(GSimpleAction *a, GVariant *p, gpointer app) {
        const char *name, *text;
        g_variant_get(p, "(&s&s)", &name, &text);
        WgTerminal *t = newest_terminal(app, name);
        if (t)
                wg_terminal_input(t, text);
        else
                g_printerr("warren-containers: terminal-input: no terminal open on “%s”\n", name);
}

static void on_close_terminals(GSimpleAction *a, GVariant *p, gpointer app) {
        WgTerminal *t;
        while ((t = newest_terminal(app, param_name(p))))
                gtk_window_destroy(GTK_WINDOW(t));
}

static void on_settings(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        WgContainer *item = wg_client_lookup(app->client, param_name(p));
        if (!item)
                return;
        gtk_window_present(GTK_WINDOW(wg_settings_dialog_new(app, dialog_parent(app), item)));
}

static void on_configure(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        const char *name;
        g_autoptr(GVariant) settings = NULL;
        g_variant_get(p, "(&s@a{sv})", &name, &settings);
        wg_settings_apply(app, name, settings, NULL, NULL);
}

static void on_select(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        if (app->window) {
                wg_window_select(app->window, param_name(p));
                gtk_window_present(GTK_WINDOW(app->window));
        }
}

static void on_refresh(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        wg_client_refresh(app->client);
        if (app->window)
                wg_window_recheck_auth(app->window);
}

static void on_about(GSimpleAction *a, GVariant *p, gpointer user_data) {
        WgApplication *app = user_data;
        const char *developers[] = { "The warren authors", NULL };
        GtkWidget *about =
                g_object_new(ADW_TYPE_ABOUT_WINDOW, "transient-for", dialog_parent(app), "application-icon",
                             WG_APP_ID, "application-name", "Containers", "developer-name",
                             "The warren authors", "version", PACKAGE_VERSION, "comments",
                             "Manage your system containers through warren, without sudo: "
                             "polkit asks when a password is needed.",
                             "license-type", GTK_LICENSE_LGPL_2_1, "developers", developers, NULL);
        gtk_window_present(GTK_WINDOW(about));
}

static void on_quit(GSimpleAction *a, GVariant *p, gpointer user_data) {
        g_application_quit(G_APPLICATION(user_data));
}

static const GActionEntry app_actions[] = {
        { "new-container", on_new_container, NULL, NULL, NULL },
        { "create", on_create, "(ssasa{sv})", NULL, NULL },
        { "select", on_select, "s", NULL, NULL },
        { "start", on_start, "s", NULL, NULL },
        { "stop", on_stop, "s", NULL, NULL },
        { "force-stop", on_force_stop, "s", NULL, NULL },
        { "reboot", on_reboot, "s", NULL, NULL },
        { "freeze", on_freeze, "s", NULL, NULL },
        { "unfreeze", on_unfreeze, "s", NULL, NULL },
        { "destroy", on_destroy, "s", NULL, NULL },
        { "destroy-now", on_destroy_now, "s", NULL, NULL },
        { "open-terminal", on_open_terminal, "s", NULL, NULL },
        { "open-console", on_open_console, "s", NULL, NULL },
        { "terminal-input", on_terminal_input, "(ss)", NULL, NULL },
        { "close-terminals", on_close_terminals, "s", NULL, NULL },
        { "settings", on_settings, "s", NULL, NULL },
        { "configure", on_configure, "(sa{sv})", NULL, NULL },
        { "cancel-job", on_cancel_job, "s", NULL, NULL },
        { "refresh", on_refresh, NULL, NULL, NULL },
        { "about", on_about, NULL, NULL, NULL },
        { "quit", on_quit, NULL, NULL, NULL },
};

/* ---- life ---- */

static void wg_application_startup(GApplication *gapp) {
        WgApplication *app = WG_APPLICATION(gapp);
        G_APPLICATION_CLASS(wg_application_parent_class)->startup(gapp);
        g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
        const char *new_accels[] = { "<Control>n", NULL }, *quit_accels[] = { "<Control>q", NULL },
                   *refresh_accels[] = { "F5", NULL };
        gtk_application_set_accels_for_action(GTK_APPLICATION(app), "app.new-container", new_accels);
        gtk_application_set_accels_for_action(GTK_APPLICATION(app), "app.quit", quit_accels);
        gtk_application_set_accels_for_action(GTK_APPLICATION(app), "app.refresh", refresh_accels);
        wg_client_start(app->client);
}

static void wg_application_activate(GApplication *gapp) {
        WgApplication *app = WG_APPLICATION(gapp);
        if (!app->window) {
                app->window = wg_window_new(app);
                g_object_add_weak_pointer(G_OBJECT(app->window), (gpointer *) &app->window);
        }
        gtk_window_present(GTK_WINDOW(app->window));
}

static int wg_application_handle_local_options(GApplication *gapp, GVariantDict *options) {
        WgApplication *app = WG_APPLICATION(gapp);
        const char *server;
        if (g_variant_dict_lookup(options, "image-server", "&s", &server)) {
                g_free(app->image_server);
                app->image_server = g_strdup(server);
        }
        if (g_variant_dict_contains(options, "version")) {
                g_print("warren-containers %s\n", PACKAGE_VERSION);
                return 0;
        }
        return -1;
}

static void wg_application_finalize(GObject *object) {
        WgApplication *app = WG_APPLICATION(object);
        g_clear_object(&app->client);
        g_free(app->image_server);
        g_hash_table_unref(app->busy);
        g_hash_table_unref(app->confirmations);
        G_OBJECT_CLASS(wg_application_parent_class)->finalize(object);
}

static void wg_application_class_init(WgApplicationClass *klass) {
        G_OBJECT_CLASS(klass)->finalize = wg_application_finalize;
        G_APPLICATION_CLASS(klass)->startup = wg_application_startup;
        G_APPLICATION_CLASS(klass)->activate = wg_application_activate;
        G_APPLICATION_CLASS(klass)->handle_local_options = wg_application_handle_local_options;
}

static void wg_application_init(WgApplication *app) {
        app->client = wg_client_new();
        app->busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        app->confirmations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        const GOptionEntry entries[] = {
                { "image-server", 0, 0, G_OPTION_ARG_STRING, NULL,
                  "Image server the create dialog offers first (default: warrend's)", "URL" },
                { "version", 0, 0, G_OPTION_ARG_NONE, NULL, "Show the version", NULL },
                { NULL },
        };
        g_application_add_main_option_entries(G_APPLICATION(app), entries);
}

WgApplication *wg_application_new(void) {
        return g_object_new(WG_TYPE_APPLICATION, "application-id", WG_APP_ID, "flags",
                            G_APPLICATION_DEFAULT_FLAGS, "resource-base-path", "/org/warren1/Containers",
                            NULL);
}
