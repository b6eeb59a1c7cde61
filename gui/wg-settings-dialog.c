/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "wg-application.h"
#include "wg-format.h"
#include "wg-settings-dialog.h"
#include "wg-window.h"

#define KEY_AUTOSTART "lxc.start.auto"
#define KEY_MEMORY "lxc.cgroup2.memory.max"

struct _WgSettingsDialog {
        AdwWindow parent_instance;
        WgApplication *app;
        char *name, *path;
        GtkWidget *apply_button;
        GtkSwitch *autostart;
        AdwEntryRow *memory;
        AdwComboRow *network;
        GtkStringList *networks; /* [0] is "None", then bridge names */
        GtkLabel *status;
        /* as loaded, to send only what changed */
        gboolean loaded_autostart;
        char *loaded_memory, *loaded_network;
        GCancellable *cancellable;
        gboolean disposed; /* replies that come later find nothing to fill */
};

G_DEFINE_FINAL_TYPE(WgSettingsDialog, wg_settings_dialog, ADW_TYPE_WINDOW)

#define NETWORK_NONE "None (loopback only)"

/* The value of KEY in GetConfig's a(ss), NULL if absent. */
static const char *config_value(GVariant *items, const char *key) {
        GVariantIter it;
        const char *k, *v, *found = NULL;
        g_variant_iter_init(&it, items);
        while (g_variant_iter_next(&it, "(&s&s)", &k, &v))
                if (g_str_equal(k, key))
                        found = v; /* the last one wins, as in the file */
        return found;
}

/* ---- applying (the dialog and the "configure" action) ---- */

typedef struct {
        WgApplication *app;
        char *name, *path;
        GVariant *settings;
        WgSettingsDone done;
        gpointer user_data;
} Apply;

static void apply_free(Apply *a) {
        g_object_unref(a->app);
        g_free(a->name);
        g_free(a->path);
        g_variant_unref(a->settings);
        g_free(a);
}

static void apply_end(Apply *a, gboolean ok) {
        if (a->done)
                a->done(ok, a->user_data);
        apply_free(a);
}

static void on_set_config(GObject *source, GAsyncResult *res, gpointer user_data) {
        Apply *a = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (!reply) {
                g_autofree char *heading = g_strdup_printf("Could not change the settings of “%s”", a->name);
                wg_application_report_error(a->app, heading, error);
        } else {
                g_printerr("warren-containers: settings of %s saved\n", a->name);
                GtkWindow *main = gtk_application_get_active_window(GTK_APPLICATION(a->app));
                for (GList *l = gtk_application_get_windows(GTK_APPLICATION(a->app)); l; l = l->next)
                        if (WG_IS_WINDOW(l->data))
                                main = l->data;
                if (main && WG_IS_WINDOW(main)) {
                        g_autofree char *toast = g_strdup_printf("Settings of “%s” saved", a->name);
                        wg_window_toast(WG_WINDOW(main), toast);
                }
        }
        apply_end(a, reply != NULL);
}

static void on_get_config_for_apply(GObject *source, GAsyncResult *res, gpointer user_data) {
        Apply *a = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (!reply) {
                g_autofree char *heading = g_strdup_printf("Could not read the settings of “%s”", a->name);
                wg_application_report_error(a->app, heading, error);
                apply_end(a, FALSE);
                return;
        }
        g_autoptr(GVariant) items = g_variant_get_child_value(reply, 0);
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(ss)"));
        gboolean autostart;
        const char *memory, *network;
        if (g_variant_lookup(a->settings, "autostart", "b", &autostart))
                g_variant_builder_add(&b, "(ss)", KEY_AUTOSTART, autostart ? "1" : "0");
        if (g_variant_lookup(a->settings, "memory-limit", "&s", &memory)) {
                g_autofree char *trimmed = g_strstrip(g_strdup(memory));
                g_variant_builder_add(&b, "(ss)", KEY_MEMORY, trimmed);
        }
        if (g_variant_lookup(a->settings, "network", "&s", &network)) {
                if (!*network)
                        g_variant_builder_add(&b, "(ss)", "lxc.net", ""); /* clears every NIC */
                else if (g_strcmp0(config_value(items, "lxc.net.0.type"), "veth") == 0)
                        g_variant_builder_add(&b, "(ss)", "lxc.net.0.link", network);
                else {
                        g_variant_builder_add(&b, "(ss)", "lxc.net", "");
                        g_variant_builder_add(&b, "(ss)", "lxc.net.0.type", "veth");
                        g_variant_builder_add(&b, "(ss)", "lxc.net.0.link", network);
                        g_variant_builder_add(&b, "(ss)", "lxc.net.0.flags", "up");
                }
        }
        wg_client_call(wg_application_get_client(a->app), a->path, WG_CONTAINER_IFACE, "SetConfig",
                       g_variant_new("(a(ss))", &b), NULL, NULL, on_set_config, a);
}

void wg_settings_apply(WgApplication *app, const char *name, GVariant *settings, WgSettingsDone done,
                       gpointer user_data) {
        WgClient *client = wg_application_get_client(app);
        WgContainer *item = wg_client_lookup(client, name);
        Apply *a = g_new0(Apply, 1);
        a->app = g_object_ref(app);
        a->name = g_strdup(name);
        a->path = item ? g_strdup(wg_container_get_path(item)) : wg_container_path(name);
        a->settings = g_variant_ref_sink(settings);
        a->done = done;
        a->user_data = user_data;
        /* The current config first: how the network is set depends on it. */
        wg_client_call(client, a->path, WG_CONTAINER_IFACE, "GetConfig", NULL, G_VARIANT_TYPE("(a(ss))"),
                       NULL, on_get_config_for_apply, a);
}

/* ---- the dialog ---- */

static const char *selected_network(WgSettingsDialog *d) {
        guint i = adw_combo_row_get_selected(d->network);
        if (i == 0 || i == GTK_INVALID_LIST_POSITION)
                return "";
        return gtk_string_list_get_string(d->networks, i);
}

static void select_network(WgSettingsDialog *d, const char *name) {
        if (!name || !*name) {
                adw_combo_row_set_selected(d->network, 0);
                return;
        }
        guint n = g_list_model_get_n_items(G_LIST_MODEL(d->networks));
        for (guint i = 1; i < n; i++)
                if (g_str_equal(gtk_string_list_get_string(d->networks, i), name)) {
                        adw_combo_row_set_selected(d->network, i);
                        return;
                }
        gtk_string_list_append(d->networks, name);
        adw_combo_row_set_selected(d->network, n);
}

static void on_networks(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgSettingsDialog) d = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (!reply || d->disposed)
                return; /* the current network stays the only choice */
        g_autoptr(GVariantIter) it = NULL;
        const char *name;
        g_variant_get(reply, "(a(sso))", &it);
        g_autofree char *keep = g_strdup(selected_network(d));
        while (g_variant_iter_next(it, "(&s&s&o)", &name, NULL, NULL)) {
                gboolean seen = FALSE;
                guint n = g_list_model_get_n_items(G_LIST_MODEL(d->networks));
                for (guint i = 1; i < n && !seen; i++)
                        seen = g_str_equal(gtk_string_list_get_string(d->networks, i), name);
                if (!seen)
                        gtk_string_list_append(d->networks, name);
        }
        select_network(d, keep);
}

static void on_get_config(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgSettingsDialog) d = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (d->disposed)
                return;
        if (!reply) {
                g_autofree char *message = wg_error_message(error);
                g_autofree char *text = g_strdup_printf("Cannot read the settings: %s", message);
                gtk_label_set_text(d->status, text);
                return;
        }
        g_autoptr(GVariant) items = g_variant_get_child_value(reply, 0);
        const char *autostart = config_value(items, KEY_AUTOSTART),
                   *memory = config_value(items, KEY_MEMORY);
        const char *type = config_value(items, "lxc.net.0.type"),
                   *link = config_value(items, "lxc.net.0.link");
        d->loaded_autostart = autostart && g_str_equal(autostart, "1");
        d->loaded_memory = g_strdup(memory ? memory : "");
        d->loaded_network = g_strdup(type && link && g_str_equal(type, "veth") ? link : "");
        gtk_switch_set_active(d->autostart, d->loaded_autostart);
        gtk_editable_set_text(GTK_EDITABLE(d->memory), d->loaded_memory);
        select_network(d, d->loaded_network);
        gtk_label_set_text(d->status, "");
        gtk_widget_set_sensitive(d->apply_button, TRUE);
}

static void on_applied(gboolean ok, gpointer user_data) {
        g_autoptr(WgSettingsDialog) d = user_data;
        if (d->disposed)
                return;
        if (ok)
                gtk_window_destroy(GTK_WINDOW(d));
        else
                gtk_widget_set_sensitive(d->apply_button, TRUE);
}

static void on_apply(GtkButton *b, gpointer user_data) {
        WgSettingsDialog *d = user_data;
        GVariantBuilder s;
        g_variant_builder_init(&s, G_VARIANT_TYPE_VARDICT);
        gboolean autostart = gtk_switch_get_active(d->autostart);
        g_autofree char *memory = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(d->memory))));
        const char *network = selected_network(d);
        if (autostart != d->loaded_autostart)
                g_variant_builder_add(&s, "{sv}", "autostart", g_variant_new_boolean(autostart));
        if (g_strcmp0(memory, d->loaded_memory) != 0)
                g_variant_builder_add(&s, "{sv}", "memory-limit", g_variant_new_string(memory));
        if (g_strcmp0(network, d->loaded_network) != 0)
                g_variant_builder_add(&s, "{sv}", "network", g_variant_new_string(network));
        GVariant *settings = g_variant_builder_end(&s);
        if (g_variant_n_children(settings) == 0) {
                g_variant_unref(g_variant_ref_sink(settings));
                gtk_window_destroy(GTK_WINDOW(d));
                return;
        }
        gtk_widget_set_sensitive(d->apply_button, FALSE);
        wg_settings_apply(d->app, d->name, settings, on_applied, g_object_ref(d));
}

static void on_cancel(GtkButton *b, gpointer user_data) {
        gtk_window_destroy(GTK_WINDOW(user_data));
}

static void wg_settings_dialog_dispose(GObject *object) {
        WgSettingsDialog *d = WG_SETTINGS_DIALOG(object);
        d->disposed = TRUE;
        if (d->cancellable) {
                g_cancellable_cancel(d->cancellable);
                g_clear_object(&d->cancellable);
        }
        g_clear_object(&d->networks);
        G_OBJECT_CLASS(wg_settings_dialog_parent_class)->dispose(object);
}

static void wg_settings_dialog_finalize(GObject *object) {
        WgSettingsDialog *d = WG_SETTINGS_DIALOG(object);
        g_free(d->name);
        g_free(d->path);
        g_free(d->loaded_memory);
        g_free(d->loaded_network);
        G_OBJECT_CLASS(wg_settings_dialog_parent_class)->finalize(object);
}

static void wg_settings_dialog_class_init(WgSettingsDialogClass *klass) {
        G_OBJECT_CLASS(klass)->dispose = wg_settings_dialog_dispose;
        G_OBJECT_CLASS(klass)->finalize = wg_settings_dialog_finalize;
        gtk_widget_class_add_binding_action(GTK_WIDGET_CLASS(klass), GDK_KEY_Escape, 0, "window.close",
                                            NULL);
}

static void wg_settings_dialog_init(WgSettingsDialog *d) {
        d->cancellable = g_cancellable_new();
}

WgSettingsDialog *wg_settings_dialog_new(WgApplication *app, GtkWindow *parent, WgContainer *container) {
        g_autofree char *title = g_strdup_printf("Settings of “%s”", wg_container_get_name(container));
        WgSettingsDialog *d =
                g_object_new(WG_TYPE_SETTINGS_DIALOG, "transient-for", parent, "modal", TRUE, "title", title,
                             "default-width", 520, "default-height", 420, NULL);
        d->app = app;
        d->name = g_strdup(wg_container_get_name(container));
        d->path = g_strdup(wg_container_get_path(container));

        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        GtkWidget *header = adw_header_bar_new();
        adw_header_bar_set_show_end_title_buttons(ADW_HEADER_BAR(header), FALSE);
        GtkWidget *cancel = gtk_button_new_with_mnemonic("_Cancel");
        g_signal_connect(cancel, "clicked", G_CALLBACK(on_cancel), d);
        adw_header_bar_pack_start(ADW_HEADER_BAR(header), cancel);
        d->apply_button = gtk_button_new_with_mnemonic("_Apply");
        gtk_widget_add_css_class(d->apply_button, "suggested-action");
        gtk_widget_set_sensitive(d->apply_button, FALSE);
        g_signal_connect(d->apply_button, "clicked", G_CALLBACK(on_apply), d);
        adw_header_bar_pack_end(ADW_HEADER_BAR(header), d->apply_button);
        gtk_box_append(GTK_BOX(box), header);

        GtkWidget *page = adw_preferences_page_new();
        gtk_widget_set_vexpand(page, TRUE);
        GtkWidget *group = adw_preferences_group_new();
        adw_preferences_group_set_description(
                ADW_PREFERENCES_GROUP(group),
                "Written to its config (LXC keys in brackets); warrend refuses what it "
                "knows to be wrong.");
        GtkWidget *row = adw_action_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), "Autostart");
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), "Start it when the host boots (" KEY_AUTOSTART ")");
        d->autostart = GTK_SWITCH(gtk_switch_new());
        gtk_widget_set_valign(GTK_WIDGET(d->autostart), GTK_ALIGN_CENTER);
        adw_action_row_add_suffix(ADW_ACTION_ROW(row), GTK_WIDGET(d->autostart));
        adw_action_row_set_activatable_widget(ADW_ACTION_ROW(row), GTK_WIDGET(d->autostart));
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
        d->memory = ADW_ENTRY_ROW(adw_entry_row_new());
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(d->memory),
                                      "Memory limit, e.g. 512M; empty: none (" KEY_MEMORY ")");
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), GTK_WIDGET(d->memory));
        d->network = ADW_COMBO_ROW(adw_combo_row_new());
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(d->network), "Network");
        adw_action_row_set_subtitle(ADW_ACTION_ROW(d->network),
                                    "The bridge its first NIC (veth) joins (lxc.net.0.link)");
        d->networks = gtk_string_list_new((const char *const[]){ NETWORK_NONE, NULL });
        adw_combo_row_set_model(d->network, G_LIST_MODEL(d->networks));
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), GTK_WIDGET(d->network));
        d->status = GTK_LABEL(gtk_label_new("Loading…"));
        gtk_label_set_wrap(d->status, TRUE);
        gtk_label_set_xalign(d->status, 0);
        gtk_widget_add_css_class(GTK_WIDGET(d->status), "dim-label");
        gtk_widget_set_margin_top(GTK_WIDGET(d->status), 6);
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), GTK_WIDGET(d->status));
        adw_preferences_page_add(ADW_PREFERENCES_PAGE(page), ADW_PREFERENCES_GROUP(group));
        gtk_box_append(GTK_BOX(box), page);
        adw_window_set_content(ADW_WINDOW(d), box);

        WgClient *client = wg_application_get_client(app);
        wg_client_call(client, d->path, WG_CONTAINER_IFACE, "GetConfig", NULL, G_VARIANT_TYPE("(a(ss))"),
                       d->cancellable, on_get_config, g_object_ref(d));
        wg_client_call(client, WG_MANAGER_PATH, WG_MANAGER_IFACE, "ListNetworks", NULL,
                       G_VARIANT_TYPE("(a(sso))"), d->cancellable, on_networks, g_object_ref(d));
        return d;
}
