/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <unistd.h>

#include "wg-application.h"
#include "wg-format.h"
#include "wg-window.h"

struct _WgWindow {
        AdwApplicationWindow parent_instance;
        WgApplication *app;
        WgClient *client;

        AdwToastOverlay *toasts;
        AdwLeaflet *leaflet;
        GtkStack *side_stack, *content_stack;
        AdwStatusPage *problem_page;
        GtkListBox *jobs_list, *container_list;
        GtkWidget *jobs_header;
        AdwWindowTitle *content_title;
        GtkWidget *back_button, *spinner;

        /* the detail pane */
        GtkLabel *auth_label;
        AdwActionRow *row_state, *row_owner, *row_ipv4, *row_ipv6, *row_memory, *row_cpu, *row_pid,
                *row_privileges, *row_autostart, *row_problem;
        GtkWidget *freeze_button, *unfreeze_button;

        WgContainer *selected;
        gulong selected_changed_id;
        char *pending_select;
        WgAuth manage_auth, shell_auth;
        GCancellable *auth_cancellable;
        gboolean selecting; /* our own selection change, not the user's */
        guint job_tick_id;
};

G_DEFINE_FINAL_TYPE(WgWindow, wg_window, ADW_TYPE_APPLICATION_WINDOW)

static void update_details(WgWindow *w);

/* ---- small helpers ---- */

static const char *state_css(const char *state) {
        if (g_str_equal(state, "RUNNING"))
                return "success";
        if (g_str_equal(state, "FROZEN") || g_str_equal(state, "FREEZING"))
                return "accent";
        if (g_str_equal(state, "STOPPED"))
                return "dim-label";
        return "warning";
}

static void set_state_css(GtkWidget *label, const char *state) {
        static const char *const classes[] = { "success", "accent", "dim-label", "warning" };
        for (size_t i = 0; i < G_N_ELEMENTS(classes); i++)
                gtk_widget_remove_css_class(label, classes[i]);
        gtk_widget_add_css_class(label, state_css(state));
}

static char *join_or_dash(const char *const *v) {
        return v && v[0] ? g_strjoinv(", ", (char **) v) : g_strdup("—");
}

/* "alice · 10.0.3.12 · 12.3 MiB" */
static char *row_subtitle(WgContainer *c) {
        GString *s = g_string_new(wg_container_get_owner_name(c));
        const char *const *ipv4 = wg_container_get_ipv4(c);
        if (ipv4 && ipv4[0])
                g_string_append_printf(s, " · %s", ipv4[0]);
        g_autofree char *mem = wg_format_memory(wg_container_get_memory(c));
        if (*mem)
                g_string_append_printf(s, " · %s", mem);
        return g_string_free(s, FALSE);
}

/* ---- the container list ---- */

typedef struct {
        GtkWidget *row, *state, *badge;
        WgContainer *item;
} ContainerRow;

static void container_row_update(WgContainer *item, gpointer user_data) {
        ContainerRow *r = user_data;
        g_autofree char *subtitle = row_subtitle(item);
        adw_action_row_set_subtitle(ADW_ACTION_ROW(r->row), subtitle);
        gtk_label_set_text(GTK_LABEL(r->state), wg_state_label(wg_container_get_state(item)));
        set_state_css(r->state, wg_container_get_state(item));
        gtk_widget_set_visible(r->badge, wg_container_get_unprivileged(item));
}

/* g_signal_connect_object with G_CONNECT_SWAPPED passes the row first. */
static void container_row_update_swapped(GtkWidget *row, WgContainer *item) {
        container_row_update(item, g_object_get_data(G_OBJECT(row), "wg-row"));
}

static GtkWidget *make_container_row(gpointer object, gpointer user_data) {
        WgContainer *item = object;
        ContainerRow *r = g_new0(ContainerRow, 1);
        r->item = item;
        r->row = adw_action_row_new();
        adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(r->row), FALSE);
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r->row), wg_container_get_name(item));
        gtk_widget_set_name(r->row, wg_container_get_name(item));
        r->badge = gtk_label_new("unprivileged");
        gtk_widget_add_css_class(r->badge, "wg-badge");
        gtk_widget_set_valign(r->badge, GTK_ALIGN_CENTER);
        gtk_widget_set_tooltip_text(r->badge,
                                    "Runs in a user namespace: root inside is not root on the host");
        r->state = gtk_label_new(NULL);
        gtk_widget_add_css_class(r->state, "wg-state");
        adw_action_row_add_suffix(ADW_ACTION_ROW(r->row), r->badge);
        adw_action_row_add_suffix(ADW_ACTION_ROW(r->row), r->state);
        g_object_set_data_full(G_OBJECT(r->row), "wg-row", r, g_free);
        g_object_set_data_full(G_OBJECT(r->row), "wg-container", g_object_ref(item), g_object_unref);
        g_signal_connect_object(item, "changed", G_CALLBACK(container_row_update_swapped), r->row,
                                G_CONNECT_SWAPPED);
        container_row_update(item, r);
        return r->row;
}

/* ---- the job list ---- */

typedef struct {
        GtkWidget *row, *title, *detail, *bar, *cancel;
} JobRow;

static void job_row_update(GtkWidget *row, WgJob *job) {
        JobRow *r = g_object_get_data(G_OBJECT(row), "wg-row");
        const char *target = wg_job_get_target(job);
        g_autofree char *title = g_strcmp0(wg_job_get_type_name(job), "pull") == 0
                                         ? g_strdup_printf("Downloading %s", target)
                                         : g_strdup_printf("Creating “%s”", target);
        g_autofree char *detail = wg_job_describe(job, g_get_monotonic_time());
        gtk_label_set_text(GTK_LABEL(r->title), title);
        gtk_label_set_text(GTK_LABEL(r->detail), detail);
        double p = wg_job_get_progress(job);
        if (p >= 0)
                gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(r->bar), p);
        else
                gtk_progress_bar_pulse(GTK_PROGRESS_BAR(r->bar));
        gtk_actionable_set_action_target(GTK_ACTIONABLE(r->cancel), "s", target);
}

/* Title, bar, "phase · bytes · rate · ETA" under it, and Cancel. */
static GtkWidget *make_job_row(gpointer object, gpointer user_data) {
        WgJob *job = object;
        JobRow *r = g_new0(JobRow, 1);
        r->row = gtk_list_box_row_new();
        gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(r->row), FALSE);
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
        gtk_widget_set_margin_top(box, 6);
        gtk_widget_set_margin_bottom(box, 6);
        GtkWidget *text = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
        gtk_widget_set_hexpand(text, TRUE);
        r->title = gtk_label_new(NULL);
        gtk_label_set_xalign(GTK_LABEL(r->title), 0);
        gtk_label_set_ellipsize(GTK_LABEL(r->title), PANGO_ELLIPSIZE_END);
        r->bar = gtk_progress_bar_new();
        r->detail = gtk_label_new(NULL);
        gtk_label_set_xalign(GTK_LABEL(r->detail), 0);
        gtk_label_set_wrap(GTK_LABEL(r->detail), TRUE);
        gtk_widget_add_css_class(r->detail, "caption");
        gtk_widget_add_css_class(r->detail, "dim-label");
        gtk_box_append(GTK_BOX(text), r->title);
        gtk_box_append(GTK_BOX(text), r->bar);
        gtk_box_append(GTK_BOX(text), r->detail);
        r->cancel = gtk_button_new_from_icon_name("process-stop-symbolic");
        gtk_widget_set_valign(r->cancel, GTK_ALIGN_CENTER);
        gtk_widget_add_css_class(r->cancel, "flat");
        gtk_widget_add_css_class(r->cancel, "circular");
        gtk_widget_set_tooltip_text(r->cancel, "Cancel");
        gtk_accessible_update_property(GTK_ACCESSIBLE(r->cancel), GTK_ACCESSIBLE_PROPERTY_LABEL, "Cancel",
                                       -1);
        gtk_actionable_set_action_name(GTK_ACTIONABLE(r->cancel), "app.cancel-job");
        gtk_box_append(GTK_BOX(box), text);
        gtk_box_append(GTK_BOX(box), r->cancel);
        gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(r->row), box);
        g_object_set_data_full(G_OBJECT(r->row), "wg-row", r, g_free);
        g_object_set_data_full(G_OBJECT(r->row), "wg-job", g_object_ref(job), g_object_unref);
        g_signal_connect_object(job, "changed", G_CALLBACK(job_row_update), r->row, G_CONNECT_SWAPPED);
        job_row_update(r->row, job);
        return r->row;
}

/* Rates and "stalled" change with time, not only with signals. */
static gboolean tick_jobs(gpointer user_data) {
        WgWindow *w = user_data;
        GtkListBoxRow *row;
        for (int i = 0; (row = gtk_list_box_get_row_at_index(w->jobs_list, i)); i++)
                job_row_update(GTK_WIDGET(row), g_object_get_data(G_OBJECT(row), "wg-job"));
        return G_SOURCE_CONTINUE;
}

static void on_jobs_changed(GListModel *jobs, guint pos, guint removed, guint added, gpointer user_data) {
        WgWindow *w = user_data;
        gboolean any = g_list_model_get_n_items(jobs) > 0;
        gtk_widget_set_visible(GTK_WIDGET(w->jobs_list), any);
        gtk_widget_set_visible(w->jobs_header, any);
        if (any && !w->job_tick_id)
                w->job_tick_id = g_timeout_add_seconds(1, tick_jobs, w);
        else if (!any)
                g_clear_handle_id(&w->job_tick_id, g_source_remove);
}

/* ---- which page the sidebar shows ---- */

static void update_side(WgWindow *w) {
        const char *problem = wg_client_get_problem(w->client);
        guint n = g_list_model_get_n_items(wg_client_get_containers(w->client));
        guint jobs = g_list_model_get_n_items(wg_client_get_jobs(w->client));
        if (n == 0 && *problem) {
                adw_status_page_set_description(w->problem_page, problem);
                gtk_stack_set_visible_child_name(w->side_stack, "problem");
        } else if (n == 0 && jobs == 0)
                gtk_stack_set_visible_child_name(w->side_stack, "empty");
        else
                gtk_stack_set_visible_child_name(w->side_stack, "list");
}

/* ---- selection and the detail pane ---- */

static void set_row(AdwActionRow *row, const char *value) {
        adw_action_row_set_subtitle(row, value && *value ? value : "—");
}

static void action_enable(WgWindow *w, const char *name, gboolean enabled) {
        GAction *a = g_action_map_lookup_action(G_ACTION_MAP(w), name);
        g_simple_action_set_enabled(G_SIMPLE_ACTION(a), enabled);
}

static const char *auth_word(WgAuth a) {
        switch (a) {
        case WG_AUTH_YES:
                return "yes";
        case WG_AUTH_CHALLENGE:
                return "challenge";
        case WG_AUTH_NO:
                return "no";
        default:
                return "unknown";
        }
}

static void update_actions(WgWindow *w) {
        WgContainer *c = w->selected;
        const char *state = c ? wg_container_get_state(c) : "";
        gboolean manage = c && w->manage_auth != WG_AUTH_NO, shell = c && w->shell_auth != WG_AUTH_NO;
        gboolean stopped = g_str_equal(state, "STOPPED"), running = g_str_equal(state, "RUNNING"),
                 frozen = g_str_equal(state, "FROZEN");
        gboolean up = c && wg_container_is_running(c);

        action_enable(w, "start", manage && stopped);
        action_enable(w, "stop", manage && up);
        action_enable(w, "force-stop", manage && up);
        action_enable(w, "reboot", manage && running);
        action_enable(w, "freeze", manage && running);
        action_enable(w, "unfreeze", manage && frozen);
        action_enable(w, "destroy", manage && stopped);
        action_enable(w, "settings", manage);
        action_enable(w, "terminal", shell && running);
        action_enable(w, "console", shell && running);
        gtk_widget_set_visible(w->freeze_button, !frozen);
        gtk_widget_set_visible(w->unfreeze_button, frozen);

        /* Why buttons are off, or what a press will do, in words. */
        GString *why = g_string_new(NULL);
        if (c) {
                const char *owner = wg_container_get_owner_name(c);
                const char *manage_action = wg_client_manage_action(c),
                           *shell_action = wg_client_shell_action(c);
                if (w->manage_auth == WG_AUTH_NO)
                        g_string_append_printf(why,
                                               "You may not manage “%s” (owner: %s): polkit refuses %s. "
                                               "Start, stop, settings and destroy are off.",
                                               wg_container_get_name(c), owner, manage_action);
                else if (w->manage_auth == WG_AUTH_CHALLENGE)
                        g_string_append_printf(why,
                                               "Managing “%s” (owner: %s) needs authentication (%s): "
                                               "you will be asked for a password.",
                                               wg_container_get_name(c), owner, manage_action);
                if (w->shell_auth == WG_AUTH_NO)
                        g_string_append_printf(why,
                                               "%sYou may not open a terminal in it: polkit refuses %s.",
                                               why->len ? "\n" : "", shell_action);
                else if (w->shell_auth == WG_AUTH_CHALLENGE && w->manage_auth != WG_AUTH_CHALLENGE)
                        g_string_append_printf(why, "%sA terminal in it needs authentication (%s).",
                                               why->len ? "\n" : "", shell_action);
        }
        gtk_label_set_text(w->auth_label, why->str);
        gtk_widget_set_visible(GTK_WIDGET(w->auth_label), why->len > 0);
        /* For tests and assistive technology: the verdicts as they stand. */
        g_autofree char *desc =
                g_strdup_printf("manage %s, shell %s", auth_word(w->manage_auth), auth_word(w->shell_auth));
        gtk_widget_set_tooltip_text(GTK_WIDGET(w->auth_label), desc);
        g_string_free(why, TRUE);
}

typedef struct {
        WgWindow *window;
        gboolean shell;
} AuthReply;

static void on_auth(GObject *source, GAsyncResult *res, gpointer user_data) {
        AuthReply *ar = user_data;
        WgAuth a = wg_client_check_auth_finish(WG_CLIENT(source), res);
        GCancellable *cancel = g_task_get_cancellable(G_TASK(res));
        if (!g_cancellable_is_cancelled(cancel)) {
                if (ar->shell)
                        ar->window->shell_auth = a;
                else
                        ar->window->manage_auth = a;
                update_actions(ar->window);
        }
        g_object_unref(ar->window);
        g_free(ar);
}

void wg_window_recheck_auth(WgWindow *w) {
        if (w->auth_cancellable) {
                g_cancellable_cancel(w->auth_cancellable);
                g_clear_object(&w->auth_cancellable);
        }
        w->manage_auth = w->shell_auth = WG_AUTH_UNKNOWN;
        if (!w->selected) {
                update_actions(w);
                return;
        }
        w->auth_cancellable = g_cancellable_new();
        for (int shell = 0; shell < 2; shell++) {
                AuthReply *ar = g_new0(AuthReply, 1);
                ar->window = g_object_ref(w);
                ar->shell = shell;
                wg_client_check_auth(w->client,
                                     shell ? wg_client_shell_action(w->selected)
                                           : wg_client_manage_action(w->selected),
                                     w->selected, w->auth_cancellable, on_auth, ar);
        }
        update_actions(w);
}

static void update_details(WgWindow *w) {
        WgContainer *c = w->selected;
        if (!c) {
                adw_window_title_set_title(w->content_title, "");
                adw_window_title_set_subtitle(w->content_title, "");
                gtk_stack_set_visible_child_name(w->content_stack, "none");
                update_actions(w);
                wg_window_update_busy(w);
                return;
        }
        const char *state = wg_state_label(wg_container_get_state(c));
        adw_window_title_set_title(w->content_title, wg_container_get_name(c));
        adw_window_title_set_subtitle(w->content_title, state);
        gtk_stack_set_visible_child_name(w->content_stack, "details");

        set_row(w->row_state, state);
        guint32 uid = wg_container_get_owner_uid(c);
        g_autofree char *owner = uid == WG_UID_UNKNOWN
                                         ? g_strdup("")
                                         : g_strdup_printf("%s (uid %u)%s", wg_container_get_owner_name(c),
                                                           uid, uid == geteuid() ? " — you" : "");
        set_row(w->row_owner, owner);
        g_autofree char *ipv4 = join_or_dash(wg_container_get_ipv4(c));
        g_autofree char *ipv6 = join_or_dash(wg_container_get_ipv6(c));
        set_row(w->row_ipv4, ipv4);
        set_row(w->row_ipv6, ipv6);
        g_autofree char *mem = wg_format_memory(wg_container_get_memory(c));
        set_row(w->row_memory, mem);
        double cpu = wg_container_get_cpu_percent(c);
        g_autofree char *cpu_text = g_strdup_printf("%.1f %%", cpu);
        gtk_widget_set_visible(GTK_WIDGET(w->row_cpu), cpu >= 0);
        set_row(w->row_cpu, cpu_text);
        g_autofree char *pid = wg_container_get_init_pid(c)
                                       ? g_strdup_printf("%u", wg_container_get_init_pid(c))
                                       : g_strdup("");
        set_row(w->row_pid, pid);
        set_row(w->row_privileges, wg_container_get_unprivileged(c)
                                           ? "Unprivileged (user namespace)"
                                           : "Privileged (root inside is root on the host)");
        set_row(w->row_autostart, wg_container_get_autostart(c) ? "Starts with the host" : "No");
        const char *problem = wg_container_get_problem(c);
        set_row(w->row_problem, problem);
        gtk_widget_set_visible(GTK_WIDGET(w->row_problem), *problem != '\0');
        update_actions(w);
}

static void on_selected_changed(WgContainer *c, gpointer user_data) {
        WgWindow *w = user_data;
        guint32 before = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(c), "wg-checked-owner"));
        update_details(w);
        /* The owner decides which action polkit is asked about. */
        if (before != wg_container_get_owner_uid(c) + 1) {
                g_object_set_data(G_OBJECT(c), "wg-checked-owner",
                                  GUINT_TO_POINTER(wg_container_get_owner_uid(c) + 1));
                wg_window_recheck_auth(w);
        }
}

static void set_selected(WgWindow *w, WgContainer *c) {
        if (c == w->selected)
                return;
        if (w->selected) {
                g_clear_signal_handler(&w->selected_changed_id, w->selected);
                g_clear_object(&w->selected);
        }
        if (c) {
                w->selected = g_object_ref(c);
                g_object_set_data(G_OBJECT(c), "wg-checked-owner",
                                  GUINT_TO_POINTER(wg_container_get_owner_uid(c) + 1));
                w->selected_changed_id = g_signal_connect(c, "changed", G_CALLBACK(on_selected_changed), w);
        }
        wg_window_recheck_auth(w);
        update_details(w);
        wg_window_update_busy(w);
}

static void on_row_selected(GtkListBox *box, GtkListBoxRow *row, gpointer user_data) {
        WgWindow *w = user_data;
        if (w->selecting)
                return;
        if (!row) {
                set_selected(w, NULL);
                return;
        }
        set_selected(w, g_object_get_data(G_OBJECT(row), "wg-container"));
        g_clear_pointer(&w->pending_select, g_free);
        adw_leaflet_navigate(w->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static gboolean select_row_of(WgWindow *w, const char *name) {
        GListModel *model = wg_client_get_containers(w->client);
        guint n = g_list_model_get_n_items(model);
        for (guint i = 0; i < n; i++) {
                g_autoptr(WgContainer) c = g_list_model_get_item(model, i);
                if (g_strcmp0(wg_container_get_name(c), name) != 0)
                        continue;
                GtkListBoxRow *row = gtk_list_box_get_row_at_index(w->container_list, (int) i);
                w->selecting = TRUE;
                gtk_list_box_select_row(w->container_list, row);
                w->selecting = FALSE;
                set_selected(w, c);
                return TRUE;
        }
        return FALSE;
}

void wg_window_select(WgWindow *w, const char *name) {
        g_clear_pointer(&w->pending_select, g_free);
        if (!select_row_of(w, name))
                w->pending_select = g_strdup(name);
}

static void on_containers_changed(GListModel *model, guint pos, guint removed, guint added,
                                  gpointer user_data) {
        WgWindow *w = user_data;
        if (w->pending_select && select_row_of(w, w->pending_select))
                g_clear_pointer(&w->pending_select, g_free);
        /* The selection went away (destroyed, or the bus was lost). */
        if (w->selected && !wg_client_lookup(w->client, wg_container_get_name(w->selected))) {
                w->selecting = TRUE;
                gtk_list_box_unselect_all(w->container_list);
                w->selecting = FALSE;
                set_selected(w, NULL);
        } else if (w->selected && removed + added > 0) {
                /* Rows were rebuilt around it: keep it highlighted. */
                g_autofree char *name = g_strdup(wg_container_get_name(w->selected));
                select_row_of(w, name);
        }
        update_side(w);
}

static void on_status_changed(WgClient *client, gpointer user_data) {
        update_side(user_data);
}

void wg_window_update_busy(WgWindow *w) {
        gboolean busy = w->selected && wg_application_is_busy(w->app, wg_container_get_name(w->selected));
        gtk_widget_set_visible(w->spinner, busy);
        if (busy)
                gtk_spinner_start(GTK_SPINNER(w->spinner));
        else
                gtk_spinner_stop(GTK_SPINNER(w->spinner));
}

void wg_window_toast(WgWindow *w, const char *text) {
        AdwToast *t = adw_toast_new(text);
        adw_toast_set_timeout(t, 4);
        adw_toast_overlay_add_toast(w->toasts, t);
}

/* ---- window actions: the buttons, on the selection ---- */

static void forward_to_app(GSimpleAction *action, GVariant *parameter, gpointer user_data) {
        WgWindow *w = user_data;
        if (!w->selected)
                return;
        static const struct {
                const char *win, *app;
        } map[] = {
                { "terminal", "open-terminal" },
                { "console", "open-console" },
        };
        const char *name = g_action_get_name(G_ACTION(action)), *app_action = name;
        for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
                if (g_str_equal(name, map[i].win))
                        app_action = map[i].app;
        g_action_group_activate_action(G_ACTION_GROUP(w->app), app_action,
                                       g_variant_new_string(wg_container_get_name(w->selected)));
}

static const GActionEntry win_actions[] = {
        { "start", forward_to_app, NULL, NULL, NULL },      { "stop", forward_to_app, NULL, NULL, NULL },
        { "force-stop", forward_to_app, NULL, NULL, NULL }, { "reboot", forward_to_app, NULL, NULL, NULL },
        { "freeze", forward_to_app, NULL, NULL, NULL },     { "unfreeze", forward_to_app, NULL, NULL, NULL },
        { "destroy", forward_to_app, NULL, NULL, NULL },    { "settings", forward_to_app, NULL, NULL, NULL },
        { "terminal", forward_to_app, NULL, NULL, NULL },   { "console", forward_to_app, NULL, NULL, NULL },
};

/* ---- building ---- */

static GtkWidget *action_button(const char *icon, const char *label, const char *action,
                                const char *tooltip) {
        GtkWidget *b = gtk_button_new();
        GtkWidget *content = adw_button_content_new();
        adw_button_content_set_icon_name(ADW_BUTTON_CONTENT(content), icon);
        adw_button_content_set_label(ADW_BUTTON_CONTENT(content), label);
        adw_button_content_set_use_underline(ADW_BUTTON_CONTENT(content), TRUE);
        gtk_button_set_child(GTK_BUTTON(b), content);
        gtk_actionable_set_action_name(GTK_ACTIONABLE(b), action);
        gtk_widget_set_tooltip_text(b, tooltip);
        return b;
}

static AdwActionRow *info_row(GtkWidget *group, const char *title) {
        GtkWidget *row = adw_action_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
        adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
        gtk_widget_add_css_class(row, "property");
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
        return ADW_ACTION_ROW(row);
}

static GtkWidget *build_details(WgWindow *w) {
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18);
        gtk_widget_set_margin_top(box, 18);
        gtk_widget_set_margin_bottom(box, 18);
        gtk_widget_set_margin_start(box, 12);
        gtk_widget_set_margin_end(box, 12);

        GtkWidget *start = action_button("media-playback-start-symbolic", "_Start", "win.start", "Start it");
        gtk_widget_add_css_class(start, "suggested-action");
        GMenu *stop_menu = g_menu_new();
        g_menu_append(stop_menu, "_Force Stop (kill at once)", "win.force-stop");
        GtkWidget *stop = adw_split_button_new();
        adw_split_button_set_label(ADW_SPLIT_BUTTON(stop), "S_top");
        adw_split_button_set_use_underline(ADW_SPLIT_BUTTON(stop), TRUE);
        adw_split_button_set_menu_model(ADW_SPLIT_BUTTON(stop), G_MENU_MODEL(stop_menu));
        gtk_actionable_set_action_name(GTK_ACTIONABLE(stop), "win.stop");
        gtk_widget_set_tooltip_text(stop, "Stop it cleanly: its init is asked to halt");
        g_object_unref(stop_menu);
        w->freeze_button = action_button("media-playback-pause-symbolic", "_Freeze", "win.freeze",
                                         "Freeze all its processes");
        w->unfreeze_button = action_button("media-playback-start-symbolic", "_Unfreeze", "win.unfreeze",
                                           "Let its processes run again");
        GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
        GtkWidget *run_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
        GtkWidget *run_widgets[] = {
                start,
                stop,
                action_button("view-refresh-symbolic", "_Reboot", "win.reboot", "Reboot it"),
                w->freeze_button,
                w->unfreeze_button,
        };
        for (size_t i = 0; i < G_N_ELEMENTS(run_widgets); i++)
                gtk_box_append(GTK_BOX(run_row), run_widgets[i]);
        gtk_box_append(GTK_BOX(buttons), run_row);

        GtkWidget *use_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
        GtkWidget *destroy = action_button("user-trash-symbolic", "_Destroy", "win.destroy", "Destroy it");
        gtk_widget_add_css_class(destroy, "destructive-action");
        gtk_widget_set_hexpand(destroy, TRUE);
        gtk_widget_set_halign(destroy, GTK_ALIGN_END);
        GtkWidget *use_widgets[] = {
                action_button("utilities-terminal-symbolic", "_Terminal", "win.terminal",
                              "Open a root shell in it"),
                action_button("computer-symbolic", "_Console", "win.console", "Attach to its console"),
                action_button("emblem-system-symbolic", "Se_ttings", "win.settings", "Change its settings"),
                destroy,
        };
        for (size_t i = 0; i < G_N_ELEMENTS(use_widgets); i++)
                gtk_box_append(GTK_BOX(use_row), use_widgets[i]);
        gtk_box_append(GTK_BOX(buttons), use_row);
        gtk_box_append(GTK_BOX(box), buttons);

        w->auth_label = GTK_LABEL(gtk_label_new(NULL));
        gtk_label_set_wrap(w->auth_label, TRUE);
        gtk_label_set_xalign(w->auth_label, 0);
        gtk_widget_add_css_class(GTK_WIDGET(w->auth_label), "wg-auth");
        gtk_box_append(GTK_BOX(box), GTK_WIDGET(w->auth_label));

        GtkWidget *group = adw_preferences_group_new();
        adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), "Status");
        w->row_state = info_row(group, "State");
        w->row_owner = info_row(group, "Owner");
        w->row_ipv4 = info_row(group, "IPv4");
        w->row_ipv6 = info_row(group, "IPv6");
        w->row_memory = info_row(group, "Memory");
        w->row_cpu = info_row(group, "CPU");
        w->row_pid = info_row(group, "Init PID (host)");
        w->row_privileges = info_row(group, "Privileges");
        w->row_autostart = info_row(group, "Autostart");
        w->row_problem = info_row(group, "Problem");
        gtk_box_append(GTK_BOX(box), group);

        GtkWidget *clamp = adw_clamp_new();
        adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 720);
        adw_clamp_set_child(ADW_CLAMP(clamp), box);
        GtkWidget *scroll = gtk_scrolled_window_new();
        gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
        gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), clamp);
        gtk_widget_set_vexpand(scroll, TRUE);
        return scroll;
}

static GtkWidget *build_sidebar(WgWindow *w) {
        GtkWidget *side = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        gtk_widget_set_size_request(side, 300, -1);
        GtkWidget *header = adw_header_bar_new();
        adw_header_bar_set_show_end_title_buttons(ADW_HEADER_BAR(header), FALSE);
        GtkWidget *title = adw_window_title_new("Containers", NULL);
        adw_header_bar_set_title_widget(ADW_HEADER_BAR(header), title);
        GtkWidget *add = gtk_button_new_from_icon_name("list-add-symbolic");
        gtk_widget_set_tooltip_text(add, "New Container");
        gtk_accessible_update_property(GTK_ACCESSIBLE(add), GTK_ACCESSIBLE_PROPERTY_LABEL, "New Container",
                                       -1);
        gtk_actionable_set_action_name(GTK_ACTIONABLE(add), "app.new-container");
        adw_header_bar_pack_start(ADW_HEADER_BAR(header), add);
        GMenu *menu = g_menu_new();
        g_menu_append(menu, "_Refresh", "app.refresh");
        g_menu_append(menu, "_About Containers", "app.about");
        g_menu_append(menu, "_Quit", "app.quit");
        GtkWidget *menu_button = gtk_menu_button_new();
        gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(menu_button), "open-menu-symbolic");
        gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(menu_button), G_MENU_MODEL(menu));
        gtk_widget_set_tooltip_text(menu_button, "Main Menu");
        gtk_accessible_update_property(GTK_ACCESSIBLE(menu_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Main Menu", -1);
        g_object_unref(menu);
        adw_header_bar_pack_end(ADW_HEADER_BAR(header), menu_button);
        gtk_box_append(GTK_BOX(side), header);

        w->side_stack = GTK_STACK(gtk_stack_new());
        gtk_widget_set_vexpand(GTK_WIDGET(w->side_stack), TRUE);

        GtkWidget *lists = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        w->jobs_header = gtk_label_new("In progress");
        gtk_widget_add_css_class(w->jobs_header, "heading");
        gtk_label_set_xalign(GTK_LABEL(w->jobs_header), 0);
        gtk_widget_set_margin_start(w->jobs_header, 12);
        gtk_widget_set_margin_top(w->jobs_header, 6);
        w->jobs_list = GTK_LIST_BOX(gtk_list_box_new());
        gtk_list_box_set_selection_mode(w->jobs_list, GTK_SELECTION_NONE);
        gtk_widget_add_css_class(GTK_WIDGET(w->jobs_list), "navigation-sidebar");
        gtk_list_box_bind_model(w->jobs_list, wg_client_get_jobs(w->client), make_job_row, w, NULL);
        w->container_list = GTK_LIST_BOX(gtk_list_box_new());
        gtk_widget_add_css_class(GTK_WIDGET(w->container_list), "navigation-sidebar");
        gtk_list_box_bind_model(w->container_list, wg_client_get_containers(w->client), make_container_row,
                                w, NULL);
        g_signal_connect(w->container_list, "row-selected", G_CALLBACK(on_row_selected), w);
        gtk_box_append(GTK_BOX(lists), w->jobs_header);
        gtk_box_append(GTK_BOX(lists), GTK_WIDGET(w->jobs_list));
        gtk_box_append(GTK_BOX(lists), GTK_WIDGET(w->container_list));
        GtkWidget *scroll = gtk_scrolled_window_new();
        gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
        gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), lists);
        gtk_stack_add_named(w->side_stack, scroll, "list");

        GtkWidget *empty = adw_status_page_new();
        adw_status_page_set_icon_name(ADW_STATUS_PAGE(empty), WG_APP_ID "-symbolic");
        adw_status_page_set_title(ADW_STATUS_PAGE(empty), "No Containers");
        adw_status_page_set_description(ADW_STATUS_PAGE(empty), "Create one to get started.");
        GtkWidget *create = gtk_button_new_with_mnemonic("_New Container");
        gtk_widget_set_halign(create, GTK_ALIGN_CENTER);
        gtk_widget_add_css_class(create, "pill");
        gtk_widget_add_css_class(create, "suggested-action");
        gtk_actionable_set_action_name(GTK_ACTIONABLE(create), "app.new-container");
        adw_status_page_set_child(ADW_STATUS_PAGE(empty), create);
        gtk_widget_add_css_class(empty, "compact");
        gtk_stack_add_named(w->side_stack, empty, "empty");

        w->problem_page = ADW_STATUS_PAGE(adw_status_page_new());
        adw_status_page_set_icon_name(w->problem_page, "network-offline-symbolic");
        adw_status_page_set_title(w->problem_page, "Cannot Reach warren");
        GtkWidget *retry = gtk_button_new_with_mnemonic("_Try Again");
        gtk_widget_set_halign(retry, GTK_ALIGN_CENTER);
        gtk_widget_add_css_class(retry, "pill");
        gtk_actionable_set_action_name(GTK_ACTIONABLE(retry), "app.refresh");
        adw_status_page_set_child(w->problem_page, retry);
        gtk_widget_add_css_class(GTK_WIDGET(w->problem_page), "compact");
        gtk_stack_add_named(w->side_stack, GTK_WIDGET(w->problem_page), "problem");

        gtk_box_append(GTK_BOX(side), GTK_WIDGET(w->side_stack));
        return side;
}

static void on_back(GtkButton *b, gpointer user_data) {
        WgWindow *w = user_data;
        adw_leaflet_navigate(w->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static GtkWidget *build_content(WgWindow *w) {
        GtkWidget *content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        gtk_widget_set_hexpand(content, TRUE);
        GtkWidget *header = adw_header_bar_new();
        w->content_title = ADW_WINDOW_TITLE(adw_window_title_new("", NULL));
        adw_header_bar_set_title_widget(ADW_HEADER_BAR(header), GTK_WIDGET(w->content_title));
        w->back_button = gtk_button_new_from_icon_name("go-previous-symbolic");
        gtk_widget_set_tooltip_text(w->back_button, "Back");
        gtk_accessible_update_property(GTK_ACCESSIBLE(w->back_button), GTK_ACCESSIBLE_PROPERTY_LABEL, "Back",
                                       -1);
        g_signal_connect(w->back_button, "clicked", G_CALLBACK(on_back), w);
        adw_header_bar_pack_start(ADW_HEADER_BAR(header), w->back_button);
        w->spinner = gtk_spinner_new();
        gtk_widget_set_visible(w->spinner, FALSE);
        adw_header_bar_pack_end(ADW_HEADER_BAR(header), w->spinner);
        gtk_box_append(GTK_BOX(content), header);

        w->content_stack = GTK_STACK(gtk_stack_new());
        GtkWidget *none = adw_status_page_new();
        adw_status_page_set_icon_name(ADW_STATUS_PAGE(none), WG_APP_ID);
        adw_status_page_set_title(ADW_STATUS_PAGE(none), "Containers");
        adw_status_page_set_description(
                ADW_STATUS_PAGE(none), "Pick a container on the left, or create one. Actions that need more "
                                       "rights ask for a password.");
        gtk_stack_add_named(w->content_stack, none, "none");
        gtk_stack_add_named(w->content_stack, build_details(w), "details");
        gtk_widget_set_vexpand(GTK_WIDGET(w->content_stack), TRUE);
        gtk_box_append(GTK_BOX(content), GTK_WIDGET(w->content_stack));
        return content;
}

static void on_folded(AdwLeaflet *leaflet, GParamSpec *pspec, gpointer user_data) {
        WgWindow *w = user_data;
        gtk_widget_set_visible(w->back_button, adw_leaflet_get_folded(leaflet));
}

/* Memory and addresses have no signals: poll while someone can see them. */
static void update_polling(WgWindow *w) {
        GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(w));
        gboolean minimized = surface && GDK_IS_TOPLEVEL(surface) &&
                             (gdk_toplevel_get_state(GDK_TOPLEVEL(surface)) & GDK_TOPLEVEL_STATE_MINIMIZED);
        wg_client_set_polling(w->client, gtk_widget_get_mapped(GTK_WIDGET(w)) && !minimized);
}

static void on_surface_state(GObject *surface, GParamSpec *pspec, gpointer user_data) {
        update_polling(user_data);
}

static void wg_window_map(GtkWidget *widget) {
        WgWindow *w = WG_WINDOW(widget);
        GTK_WIDGET_CLASS(wg_window_parent_class)->map(widget);
        GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(w));
        if (surface)
                g_signal_connect_object(surface, "notify::state", G_CALLBACK(on_surface_state), w, 0);
        update_polling(w);
}

static void wg_window_unmap(GtkWidget *widget) {
        GTK_WIDGET_CLASS(wg_window_parent_class)->unmap(widget);
        update_polling(WG_WINDOW(widget));
}

static void on_active(GObject *object, GParamSpec *pspec, gpointer user_data) {
        WgWindow *w = user_data;
        /* Back in front: grants may have changed meanwhile. */
        if (gtk_window_is_active(GTK_WINDOW(w)))
                wg_window_recheck_auth(w);
}

static void wg_window_dispose(GObject *object) {
        WgWindow *w = WG_WINDOW(object);
        g_clear_handle_id(&w->job_tick_id, g_source_remove);
        if (w->client) {
                wg_client_set_polling(w->client, FALSE);
                g_signal_handlers_disconnect_by_data(w->client, w);
                g_signal_handlers_disconnect_by_data(wg_client_get_containers(w->client), w);
                g_signal_handlers_disconnect_by_data(wg_client_get_jobs(w->client), w);
        }
        if (w->auth_cancellable) {
                g_cancellable_cancel(w->auth_cancellable);
                g_clear_object(&w->auth_cancellable);
        }
        if (w->selected) {
                g_clear_signal_handler(&w->selected_changed_id, w->selected);
                g_clear_object(&w->selected);
        }
        g_clear_pointer(&w->pending_select, g_free);
        G_OBJECT_CLASS(wg_window_parent_class)->dispose(object);
}

static void wg_window_class_init(WgWindowClass *klass) {
        G_OBJECT_CLASS(klass)->dispose = wg_window_dispose;
        GTK_WIDGET_CLASS(klass)->map = wg_window_map;
        GTK_WIDGET_CLASS(klass)->unmap = wg_window_unmap;
}

static void wg_window_init(WgWindow *w) {
}

WgWindow *wg_window_new(WgApplication *app) {
        WgWindow *w = g_object_new(WG_TYPE_WINDOW, "application", app, "title", "Containers",
                                   "default-width", 1000, "default-height", 640, NULL);
        w->app = app;
        w->client = wg_application_get_client(app);
        g_action_map_add_action_entries(G_ACTION_MAP(w), win_actions, G_N_ELEMENTS(win_actions), w);

        w->toasts = ADW_TOAST_OVERLAY(adw_toast_overlay_new());
        w->leaflet = ADW_LEAFLET(adw_leaflet_new());
        adw_leaflet_set_can_navigate_back(w->leaflet, TRUE);
        GtkWidget *side = build_sidebar(w);
        adw_leaflet_append(w->leaflet, side);
        AdwLeafletPage *sep = adw_leaflet_append(w->leaflet, gtk_separator_new(GTK_ORIENTATION_VERTICAL));
        adw_leaflet_page_set_navigatable(sep, FALSE);
        adw_leaflet_append(w->leaflet, build_content(w));
        g_signal_connect(w->leaflet, "notify::folded", G_CALLBACK(on_folded), w);
        on_folded(w->leaflet, NULL, w);
        adw_toast_overlay_set_child(w->toasts, GTK_WIDGET(w->leaflet));
        adw_application_window_set_content(ADW_APPLICATION_WINDOW(w), GTK_WIDGET(w->toasts));

        g_signal_connect(wg_client_get_containers(w->client), "items-changed",
                         G_CALLBACK(on_containers_changed), w);
        g_signal_connect(wg_client_get_jobs(w->client), "items-changed", G_CALLBACK(on_jobs_changed), w);
        g_signal_connect_swapped(wg_client_get_jobs(w->client), "items-changed", G_CALLBACK(update_side), w);
        g_signal_connect(w->client, "status-changed", G_CALLBACK(on_status_changed), w);
        g_signal_connect(w, "notify::is-active", G_CALLBACK(on_active), w);
        on_jobs_changed(wg_client_get_jobs(w->client), 0, 0, 0, w);
        update_side(w);
        update_details(w);
        return w;
}
