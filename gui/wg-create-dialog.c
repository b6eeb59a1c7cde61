/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <unistd.h>

#include "wg-application.h"
#include "wg-create-dialog.h"
#include "wg-format.h"

enum {
        TEMPLATE_BUSYBOX,
        TEMPLATE_DOWNLOAD,
        TEMPLATE_LOCAL
};
static const char *const template_names[] = { "busybox", "download", "local" };

typedef struct {
        char *dist, *release, *arch, *variant, *build;
} RemoteImage;

struct _WgCreateDialog {
        AdwWindow parent_instance;
        WgApplication *app;
        GtkWidget *create_button;
        AdwEntryRow *name_row;
        AdwComboRow *template_row;
        GtkWidget *unprivileged_row;
        GtkSwitch *unprivileged_switch;
        GtkWidget *image_group, *local_group;
        AdwEntryRow *server_row, *path_row, *metadata_row;
        AdwComboRow *dist_row, *release_row, *arch_row, *variant_row;
        GtkLabel *image_status;
        GPtrArray *images; /* RemoteImage, as the server lists them */
        GCancellable *cancellable;
        gboolean filling; /* our own model changes, not the user's */
        gboolean submitting;
        gboolean disposed; /* replies that come later find nothing to fill */
};

G_DEFINE_FINAL_TYPE(WgCreateDialog, wg_create_dialog, ADW_TYPE_WINDOW)

static void remote_image_free(gpointer p) {
        RemoteImage *i = p;
        g_free(i->dist);
        g_free(i->release);
        g_free(i->arch);
        g_free(i->variant);
        g_free(i->build);
        g_free(i);
}

static const char *combo_value(AdwComboRow *row) {
        GObject *item = adw_combo_row_get_selected_item(row);
        return item ? gtk_string_object_get_string(GTK_STRING_OBJECT(item)) : NULL;
}

static guint template_of(WgCreateDialog *d) {
        return adw_combo_row_get_selected(d->template_row);
}

static void update_sensitivity(WgCreateDialog *d) {
        const char *name = gtk_editable_get_text(GTK_EDITABLE(d->name_row));
        gboolean ok = name && *name && !d->submitting;
        switch (template_of(d)) {
        case TEMPLATE_DOWNLOAD:
                ok = ok && combo_value(d->dist_row) && combo_value(d->release_row) &&
                     combo_value(d->arch_row);
                break;
        case TEMPLATE_LOCAL:
                ok = ok && *gtk_editable_get_text(GTK_EDITABLE(d->path_row));
                break;
        }
        gtk_widget_set_sensitive(d->create_button, ok);
}

static int compare_strings(gconstpointer a, gconstpointer b) {
        return g_strcmp0(*(const char *const *) a, *(const char *const *) b);
}

/* Fills ROW with the distinct values FIELD takes among the images that
 * match the choices above it, keeping the current or PREFERRED choice. */
static void fill(WgCreateDialog *d, AdwComboRow *row, size_t field_offset, const char *preferred) {
        const char *dist = combo_value(d->dist_row), *release = combo_value(d->release_row),
                   *arch = combo_value(d->arch_row);
        g_autofree char *keep = g_strdup(combo_value(row));
        g_autoptr(GPtrArray) values = g_ptr_array_new();
        for (guint i = 0; i < d->images->len; i++) {
                RemoteImage *img = d->images->pdata[i];
                if (field_offset > G_STRUCT_OFFSET(RemoteImage, dist) && g_strcmp0(img->dist, dist) != 0)
                        continue;
                if (field_offset > G_STRUCT_OFFSET(RemoteImage, release) &&
                    g_strcmp0(img->release, release) != 0)
                        continue;
                if (field_offset > G_STRUCT_OFFSET(RemoteImage, arch) && g_strcmp0(img->arch, arch) != 0)
                        continue;
                const char *v = G_STRUCT_MEMBER(const char *, img, field_offset);
                gboolean seen = FALSE;
                for (guint j = 0; j < values->len && !seen; j++)
                        seen = g_str_equal(values->pdata[j], v);
                if (!seen)
                        g_ptr_array_add(values, (gpointer) v);
        }
        g_ptr_array_sort(values, compare_strings);
        g_ptr_array_add(values, NULL);
        GtkStringList *model = gtk_string_list_new((const char *const *) values->pdata);
        guint pick = 0;
        for (guint j = 0; values->pdata[j]; j++) {
                if (keep && g_str_equal(values->pdata[j], keep)) {
                        pick = j;
                        break;
                }
                if (preferred && g_str_equal(values->pdata[j], preferred))
                        pick = j;
        }
        d->filling = TRUE;
        adw_combo_row_set_model(row, G_LIST_MODEL(model));
        if (values->len > 1)
                adw_combo_row_set_selected(row, pick);
        d->filling = FALSE;
        g_object_unref(model);
}

static void describe_choice(WgCreateDialog *d) {
        const char *dist = combo_value(d->dist_row), *release = combo_value(d->release_row),
                   *arch = combo_value(d->arch_row), *variant = combo_value(d->variant_row);
        for (guint i = 0; i < d->images->len; i++) {
                RemoteImage *img = d->images->pdata[i];
                if (g_strcmp0(img->dist, dist) == 0 && g_strcmp0(img->release, release) == 0 &&
                    g_strcmp0(img->arch, arch) == 0 && g_strcmp0(img->variant, variant) == 0) {
                        g_autofree char *text = g_strdup_printf("%u images offered; this one is build %s.",
                                                                d->images->len, img->build);
                        gtk_label_set_text(d->image_status, text);
                        return;
                }
        }
}

static void refill_from(WgCreateDialog *d, AdwComboRow *changed) {
        if (changed == NULL)
                fill(d, d->dist_row, G_STRUCT_OFFSET(RemoteImage, dist), "debian");
        if (changed == NULL || changed == d->dist_row)
                fill(d, d->release_row, G_STRUCT_OFFSET(RemoteImage, release), NULL);
        if (changed == NULL || changed == d->dist_row || changed == d->release_row)
                fill(d, d->arch_row, G_STRUCT_OFFSET(RemoteImage, arch), wg_debian_arch(NULL));
        if (changed != d->variant_row)
                fill(d, d->variant_row, G_STRUCT_OFFSET(RemoteImage, variant), "default");
        describe_choice(d);
        update_sensitivity(d);
}

static void on_choice(AdwComboRow *row, GParamSpec *pspec, gpointer user_data) {
        WgCreateDialog *d = user_data;
        if (!d->filling)
                refill_from(d, row);
}

static void on_remote_images(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgCreateDialog) d = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (d->disposed || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                return;
        g_ptr_array_set_size(d->images, 0);
        if (!reply) {
                g_autofree char *message = wg_error_message(error);
                g_autofree char *text = g_strdup_printf("Cannot list the server’s images: %s", message);
                g_printerr("warren-containers: %s\n", text);
                gtk_label_set_text(d->image_status, text);
                refill_from(d, NULL);
                return;
        }
        g_autoptr(GVariantIter) it = NULL;
        const char *dist, *release, *arch, *variant, *build;
        g_variant_get(reply, "(a(sssss))", &it);
        while (g_variant_iter_next(it, "(&s&s&s&s&s)", &dist, &release, &arch, &variant, &build)) {
                RemoteImage *img = g_new0(RemoteImage, 1);
                img->dist = g_strdup(dist);
                img->release = g_strdup(release);
                img->arch = g_strdup(arch);
                img->variant = g_strdup(variant);
                img->build = g_strdup(build);
                g_ptr_array_add(d->images, img);
        }
        if (d->images->len == 0)
                gtk_label_set_text(d->image_status, "The server offers no images.");
        refill_from(d, NULL);
}

static void load_remote(WgCreateDialog *d) {
        if (d->cancellable)
                g_cancellable_cancel(d->cancellable);
        g_clear_object(&d->cancellable);
        d->cancellable = g_cancellable_new();
        const char *server = gtk_editable_get_text(GTK_EDITABLE(d->server_row));
        gtk_label_set_text(d->image_status, "Loading the server’s image list…");
        wg_client_call(wg_application_get_client(d->app), WG_MANAGER_PATH, WG_MANAGER_IFACE,
                       "ListRemoteImages", g_variant_new("(sa{sv})", server, NULL),
                       G_VARIANT_TYPE("(a(sssss))"), d->cancellable, on_remote_images, g_object_ref(d));
}

static void on_template(AdwComboRow *row, GParamSpec *pspec, gpointer user_data) {
        WgCreateDialog *d = user_data;
        guint t = template_of(d);
        gtk_widget_set_visible(d->image_group, t == TEMPLATE_DOWNLOAD);
        gtk_widget_set_visible(d->local_group, t == TEMPLATE_LOCAL);
        if (t == TEMPLATE_DOWNLOAD && d->images->len == 0)
                load_remote(d);
        update_sensitivity(d);
}

static void on_created(gboolean accepted, gpointer user_data) {
        g_autoptr(WgCreateDialog) d = user_data;
        d->submitting = FALSE;
        if (d->disposed)
                return;
        if (accepted)
                gtk_window_destroy(GTK_WINDOW(d));
        else
                update_sensitivity(d);
}

static void on_create(GtkButton *button, gpointer user_data) {
        WgCreateDialog *d = user_data;
        const char *name = gtk_editable_get_text(GTK_EDITABLE(d->name_row));
        guint t = template_of(d);
        GVariantBuilder args, options;
        g_variant_builder_init(&args, G_VARIANT_TYPE_STRING_ARRAY);
        g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
        if (t == TEMPLATE_DOWNLOAD) {
                const char *variant = combo_value(d->variant_row);
                const char *server = gtk_editable_get_text(GTK_EDITABLE(d->server_row));
                g_variant_builder_add(&args, "s", "-d");
                g_variant_builder_add(&args, "s", combo_value(d->dist_row));
                g_variant_builder_add(&args, "s", "-r");
                g_variant_builder_add(&args, "s", combo_value(d->release_row));
                g_variant_builder_add(&args, "s", "-a");
                g_variant_builder_add(&args, "s", combo_value(d->arch_row));
                if (variant && !g_str_equal(variant, "default")) {
                        g_variant_builder_add(&args, "s", "--variant");
                        g_variant_builder_add(&args, "s", variant);
                }
                if (*server) {
                        g_variant_builder_add(&args, "s", "--server");
                        g_variant_builder_add(&args, "s", server);
                }
        } else if (t == TEMPLATE_LOCAL) {
                const char *metadata = gtk_editable_get_text(GTK_EDITABLE(d->metadata_row));
                g_variant_builder_add(&args, "s", gtk_editable_get_text(GTK_EDITABLE(d->path_row)));
                if (*metadata) {
                        g_variant_builder_add(&args, "s", "--metadata");
                        g_variant_builder_add(&args, "s", metadata);
                }
        }
        if (geteuid() == 0)
                g_variant_builder_add(&options, "{sv}", "unprivileged",
                                      g_variant_new_boolean(gtk_switch_get_active(d->unprivileged_switch)));
        d->submitting = TRUE;
        update_sensitivity(d);
        wg_application_create(d->app, name, template_names[t], g_variant_builder_end(&args),
                              g_variant_builder_end(&options), on_created, g_object_ref(d));
}

static void on_name_activate(AdwEntryRow *row, gpointer user_data) {
        WgCreateDialog *d = user_data;
        if (gtk_widget_get_sensitive(d->create_button))
                on_create(NULL, d);
}

static void on_changed(GtkEditable *e, gpointer user_data) {
        update_sensitivity(user_data);
}

static void on_server_apply(AdwEntryRow *row, gpointer user_data) {
        load_remote(user_data);
}

static void on_cancel(GtkButton *b, gpointer user_data) {
        gtk_window_destroy(GTK_WINDOW(user_data));
}

static AdwComboRow *combo(GtkWidget *group, const char *title) {
        GtkWidget *row = adw_combo_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
        return ADW_COMBO_ROW(row);
}

static AdwEntryRow *entry(GtkWidget *group, const char *title) {
        GtkWidget *row = adw_entry_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
        return ADW_ENTRY_ROW(row);
}

static void wg_create_dialog_dispose(GObject *object) {
        WgCreateDialog *d = WG_CREATE_DIALOG(object);
        d->disposed = TRUE;
        if (d->cancellable) {
                g_cancellable_cancel(d->cancellable);
                g_clear_object(&d->cancellable);
        }
        g_clear_pointer(&d->images, g_ptr_array_unref);
        G_OBJECT_CLASS(wg_create_dialog_parent_class)->dispose(object);
}

static void wg_create_dialog_class_init(WgCreateDialogClass *klass) {
        G_OBJECT_CLASS(klass)->dispose = wg_create_dialog_dispose;
        gtk_widget_class_add_binding_action(GTK_WIDGET_CLASS(klass), GDK_KEY_Escape, 0, "window.close",
                                            NULL);
}

static void wg_create_dialog_init(WgCreateDialog *d) {
        d->images = g_ptr_array_new_with_free_func(remote_image_free);
}

WgCreateDialog *wg_create_dialog_new(WgApplication *app, GtkWindow *parent) {
        WgCreateDialog *d =
                g_object_new(WG_TYPE_CREATE_DIALOG, "transient-for", parent, "modal", TRUE, "title",
                             "New Container", "default-width", 560, "default-height", 640, NULL);
        d->app = app;

        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        GtkWidget *header = adw_header_bar_new();
        adw_header_bar_set_show_end_title_buttons(ADW_HEADER_BAR(header), FALSE);
        GtkWidget *cancel = gtk_button_new_with_mnemonic("_Cancel");
        g_signal_connect(cancel, "clicked", G_CALLBACK(on_cancel), d);
        adw_header_bar_pack_start(ADW_HEADER_BAR(header), cancel);
        d->create_button = gtk_button_new_with_mnemonic("C_reate");
        gtk_widget_add_css_class(d->create_button, "suggested-action");
        g_signal_connect(d->create_button, "clicked", G_CALLBACK(on_create), d);
        adw_header_bar_pack_end(ADW_HEADER_BAR(header), d->create_button);
        gtk_box_append(GTK_BOX(box), header);

        GtkWidget *page = adw_preferences_page_new();
        gtk_widget_set_vexpand(page, TRUE);
        GtkWidget *general = adw_preferences_group_new();
        d->name_row = entry(general, "Name");
        g_signal_connect(d->name_row, "changed", G_CALLBACK(on_changed), d);
        adw_entry_row_set_activates_default(d->name_row, FALSE);
        g_signal_connect(d->name_row, "entry-activated", G_CALLBACK(on_name_activate), d);
        d->template_row = combo(general, "Template");
        GtkStringList *templates = gtk_string_list_new((const char *const[]){
                "Busybox (small, offline)", "Download an image", "Local root file system tarball", NULL });
        adw_combo_row_set_model(d->template_row, G_LIST_MODEL(templates));
        g_object_unref(templates);
        d->unprivileged_row = adw_action_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(d->unprivileged_row), "Unprivileged");
        adw_action_row_set_subtitle(ADW_ACTION_ROW(d->unprivileged_row),
                                    "In a user namespace: root inside is not root on the host");
        d->unprivileged_switch = GTK_SWITCH(gtk_switch_new());
        gtk_widget_set_valign(GTK_WIDGET(d->unprivileged_switch), GTK_ALIGN_CENTER);
        adw_action_row_add_suffix(ADW_ACTION_ROW(d->unprivileged_row), GTK_WIDGET(d->unprivileged_switch));
        adw_action_row_set_activatable_widget(ADW_ACTION_ROW(d->unprivileged_row),
                                              GTK_WIDGET(d->unprivileged_switch));
        /* Everyone else's containers are always unprivileged. */
        gtk_widget_set_visible(d->unprivileged_row, geteuid() == 0);
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(general), d->unprivileged_row);
        adw_preferences_page_add(ADW_PREFERENCES_PAGE(page), ADW_PREFERENCES_GROUP(general));

        d->image_group = adw_preferences_group_new();
        adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(d->image_group), "Image");
        d->server_row = entry(d->image_group, "Image server (empty: the default)");
        gtk_editable_set_text(GTK_EDITABLE(d->server_row), wg_application_get_image_server(app));
        adw_entry_row_set_show_apply_button(d->server_row, TRUE);
        g_signal_connect(d->server_row, "apply", G_CALLBACK(on_server_apply), d);
        d->dist_row = combo(d->image_group, "Distribution");
        d->release_row = combo(d->image_group, "Release");
        d->arch_row = combo(d->image_group, "Architecture");
        d->variant_row = combo(d->image_group, "Variant");
        AdwComboRow *rows[] = { d->dist_row, d->release_row, d->arch_row, d->variant_row };
        for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
                g_signal_connect(rows[i], "notify::selected", G_CALLBACK(on_choice), d);
        d->image_status = GTK_LABEL(gtk_label_new(NULL));
        gtk_label_set_wrap(d->image_status, TRUE);
        gtk_label_set_xalign(d->image_status, 0);
        gtk_widget_add_css_class(GTK_WIDGET(d->image_status), "dim-label");
        gtk_widget_set_margin_top(GTK_WIDGET(d->image_status), 6);
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(d->image_group), GTK_WIDGET(d->image_status));
        adw_preferences_page_add(ADW_PREFERENCES_PAGE(page), ADW_PREFERENCES_GROUP(d->image_group));

        d->local_group = adw_preferences_group_new();
        adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(d->local_group), "Local Files");
        adw_preferences_group_set_description(ADW_PREFERENCES_GROUP(d->local_group),
                                              "Paths on the host; only root may create from local files.");
        d->path_row = entry(d->local_group, "Root file system tarball");
        g_signal_connect(d->path_row, "changed", G_CALLBACK(on_changed), d);
        d->metadata_row = entry(d->local_group, "Metadata tarball (optional)");
        adw_preferences_page_add(ADW_PREFERENCES_PAGE(page), ADW_PREFERENCES_GROUP(d->local_group));

        gtk_box_append(GTK_BOX(box), page);
        adw_window_set_content(ADW_WINDOW(d), box);
        /* With an image server given, downloading is what one came for. */
        adw_combo_row_set_selected(d->template_row, *wg_application_get_image_server(app)
                                                            ? TEMPLATE_DOWNLOAD
                                                            : TEMPLATE_BUSYBOX);
        g_signal_connect(d->template_row, "notify::selected", G_CALLBACK(on_template), d);
        on_template(d->template_row, NULL, d);
        gtk_widget_grab_focus(GTK_WIDGET(d->name_row));
        return d;
}
