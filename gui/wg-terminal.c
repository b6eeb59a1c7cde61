/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <vte/vte.h>

#include "wg-application.h"
#include "wg-format.h"
#include "wg-terminal.h"

#define INITIAL_ROWS 24
#define INITIAL_COLS 90

struct _WgTerminal {
        AdwApplicationWindow parent_instance;
        WgApplication *app;
        WgClient *client;
        char *name, *path;
        gboolean console;
        VteTerminal *vte;
        AdwWindowTitle *title;
        guint32 pid; /* the attached shell, 0 if none (yet) */
        gboolean ended;
        GCancellable *cancellable;
        gboolean disposed; /* replies that come later find nothing to draw on */
};

G_DEFINE_FINAL_TYPE(WgTerminal, wg_terminal, ADW_TYPE_APPLICATION_WINDOW)

const char *wg_terminal_get_container_name(WgTerminal *t) {
        return t->name;
}

void wg_terminal_input(WgTerminal *t, const char *text) {
        g_autoptr(GString) keys = g_string_new(text);
        /* The Enter key sends CR; the line discipline makes it NL. */
        g_string_replace(keys, "\n", "\r", 0);
        vte_terminal_feed_child(t->vte, keys->str, (gssize) keys->len);
}

static void say(WgTerminal *t, const char *text) {
        g_autoptr(GString) s = g_string_new("\r\n\033[1m");
        g_string_append(s, text);
        g_string_append(s, "\033[0m\r\n");
        vte_terminal_feed(t->vte, s->str, (gssize) s->len);
}

static void end(WgTerminal *t, const char *subtitle, const char *text) {
        if (t->ended)
                return;
        t->ended = TRUE;
        adw_window_title_set_subtitle(t->title, subtitle);
        say(t, text);
}

static void on_eof(VteTerminal *vte, gpointer user_data) {
        WgTerminal *t = user_data;
        end(t, "Closed", t->console ? "[the console closed]" : "[the terminal closed]");
}

static void on_attach_exited(WgClient *client, const char *path, guint pid, int status, gpointer user_data) {
        WgTerminal *t = user_data;
        if (t->console || pid != t->pid || g_strcmp0(path, t->path) != 0)
                return;
        g_autofree char *subtitle = g_strdup_printf("Exited with status %d", status);
        g_autofree char *text = g_strdup_printf("[the shell exited with status %d]", status);
        t->pid = 0;
        end(t, subtitle, text);
}

/* Takes fd: VTE reads and writes the master from now on. */
static gboolean use_pty(WgTerminal *t, int fd, GError **error) {
        VtePty *pty = vte_pty_new_foreign_sync(fd, NULL, error);
        if (!pty) {
                close(fd);
                return FALSE;
        }
        vte_terminal_set_pty(t->vte, pty);
        g_object_unref(pty);
        gtk_widget_grab_focus(GTK_WIDGET(t->vte));
        return TRUE;
}

static void failed(WgTerminal *t, const char *what, const GError *error) {
        g_autofree char *message = wg_error_message(error);
        g_autofree char *heading = g_strdup_printf("Could not %s “%s”", what, t->name);
        g_autofree char *text = g_strdup_printf("%s: %s", heading, message);
        end(t, "Failed", text);
        wg_application_report_error(t->app, heading, error);
}

/* The fd the reply's handle names, as our own fd. */
static int reply_fd(GVariant *reply, GUnixFDList *fds, GError **error) {
        gint32 handle;
        g_variant_get_child(reply, 0, "h", &handle);
        if (!fds || handle < 0 || handle >= g_unix_fd_list_get_length(fds)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "The reply carries no pty (handle %d)", handle);
                return -1;
        }
        return g_unix_fd_list_get(fds, handle, error);
}

static void on_attach(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgTerminal) t = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GUnixFDList) fds = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, &fds, &error);
        if (t->disposed)
                return;
        if (!reply) {
                failed(t, "open a shell in", error);
                return;
        }
        int fd = reply_fd(reply, fds, &error);
        if (fd < 0 || !use_pty(t, fd, &error)) {
                failed(t, "open a shell in", error);
                return;
        }
        g_variant_get_child(reply, 1, "u", &t->pid);
        g_debug("terminal on %s: attached shell pid %u (host)", t->name, t->pid);
        g_autofree char *subtitle = g_strdup_printf("Root shell (pid %u on the host)", t->pid);
        adw_window_title_set_subtitle(t->title, subtitle);
}

static void on_open_console(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgTerminal) t = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GUnixFDList) fds = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, &fds, &error);
        if (t->disposed)
                return;
        if (!reply) {
                failed(t, "attach to the console of", error);
                return;
        }
        int fd = reply_fd(reply, fds, &error);
        if (fd < 0 || !use_pty(t, fd, &error)) {
                failed(t, "attach to the console of", error);
                return;
        }
        const char *tty;
        g_variant_get_child(reply, 1, "&s", &tty);
        g_debug("console of %s: %s", t->name, tty);
        g_autofree char *subtitle = g_strdup_printf("Console (%s)", tty);
        adw_window_title_set_subtitle(t->title, subtitle);
}

static void on_console_log(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(WgTerminal) t = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, &error);
        if (t->disposed)
                return;
        if (reply) {
                gsize n = 0;
                g_autoptr(GVariant) bytes = g_variant_get_child_value(reply, 0);
                const char *log = g_variant_get_fixed_array(bytes, &n, 1);
                g_debug("console of %s: %zu bytes of console log shown", t->name, n);
                if (n > 0) {
                        vte_terminal_feed(t->vte, log, (gssize) n);
                        say(t, "[the console log ends here; live from now on]");
                }
        } else {
                /* Not fatal: the console itself may still open. */
                g_autofree char *message = wg_error_message(error);
                g_autofree char *text = g_strdup_printf("[no console log: %s]", message);
                say(t, text);
        }
        wg_client_call(t->client, t->path, WG_CONTAINER_IFACE, "OpenConsole", g_variant_new("(u)", 0u),
                       G_VARIANT_TYPE("(hs)"), t->cancellable, on_open_console, g_object_ref(t));
}

static void start(WgTerminal *t) {
        if (t->console) {
                wg_client_call(t->client, t->path, WG_CONTAINER_IFACE, "GetConsoleLog", NULL,
                               G_VARIANT_TYPE("(ay)"), t->cancellable, on_console_log, g_object_ref(t));
                return;
        }
        /* As warrenctl attach does: bash where it exists. The pty is sized
         * before the shell runs. */
        const char *argv[] = { "/bin/sh", "-c", "[ -x /bin/bash ] && exec /bin/bash -l; exec /bin/sh -l",
                               NULL };
        const char *env[] = { "TERM=xterm-256color", NULL };
        GVariantBuilder options;
        g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&options, "{sv}", "pty", g_variant_new_boolean(TRUE));
        g_variant_builder_add(&options, "{sv}", "rows", g_variant_new_uint32(INITIAL_ROWS));
        g_variant_builder_add(&options, "{sv}", "cols", g_variant_new_uint32(INITIAL_COLS));
        g_variant_builder_add(&options, "{sv}", "env", g_variant_new_strv(env, -1));
        wg_client_call(t->client, t->path, WG_CONTAINER_IFACE, "Attach",
                       g_variant_new("(^as@a{sv})", argv, g_variant_builder_end(&options)),
                       G_VARIANT_TYPE("(hu)"), t->cancellable, on_attach, g_object_ref(t));
}

static void on_hangup_done(GObject *source, GAsyncResult *res, gpointer user_data) {
        g_autoptr(GVariant) reply = wg_client_call_finish(WG_CLIENT(source), res, NULL, NULL);
}

static void wg_terminal_dispose(GObject *object) {
        WgTerminal *t = WG_TERMINAL(object);
        t->disposed = TRUE;
        if (t->cancellable) {
                g_cancellable_cancel(t->cancellable);
                g_clear_object(&t->cancellable);
        }
        if (t->client) {
                g_signal_handlers_disconnect_by_data(t->client, t);
                /* Closing the master hangs the shell up; say it outright too,
                 * in case it ignores the hangup of its tty. */
                if (t->pid)
                        wg_client_call(t->client, t->path, WG_CONTAINER_IFACE, "KillAttached",
                                       g_variant_new("(ui)", t->pid, SIGHUP), NULL, NULL, on_hangup_done,
                                       NULL);
                t->pid = 0;
                g_clear_object(&t->client);
        }
        G_OBJECT_CLASS(wg_terminal_parent_class)->dispose(object);
}

static void wg_terminal_finalize(GObject *object) {
        WgTerminal *t = WG_TERMINAL(object);
        g_free(t->name);
        g_free(t->path);
        G_OBJECT_CLASS(wg_terminal_parent_class)->finalize(object);
}

static void wg_terminal_class_init(WgTerminalClass *klass) {
        G_OBJECT_CLASS(klass)->dispose = wg_terminal_dispose;
        G_OBJECT_CLASS(klass)->finalize = wg_terminal_finalize;
}

static void wg_terminal_init(WgTerminal *t) {
        t->cancellable = g_cancellable_new();
}

WgTerminal *wg_terminal_new(WgApplication *app, WgContainer *container, gboolean console) {
        WgTerminal *t = g_object_new(WG_TYPE_TERMINAL, "application", app, "default-width", 820,
                                     "default-height", 520, NULL);
        t->app = app;
        t->client = g_object_ref(wg_application_get_client(app));
        t->name = g_strdup(wg_container_get_name(container));
        t->path = g_strdup(wg_container_get_path(container));
        t->console = console;
        g_autofree char *window_title =
                g_strdup_printf("%s — %s", t->name, console ? "Console" : "Terminal");
        gtk_window_set_title(GTK_WINDOW(t), window_title);

        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        GtkWidget *header = adw_header_bar_new();
        t->title = ADW_WINDOW_TITLE(adw_window_title_new(t->name, console ? "Console" : "Connecting…"));
        adw_header_bar_set_title_widget(ADW_HEADER_BAR(header), GTK_WIDGET(t->title));
        gtk_box_append(GTK_BOX(box), header);

        t->vte = VTE_TERMINAL(vte_terminal_new());
        vte_terminal_set_size(t->vte, INITIAL_COLS, INITIAL_ROWS);
        vte_terminal_set_scrollback_lines(t->vte, 10000);
        PangoFontDescription *font = pango_font_description_from_string("Monospace 11");
        vte_terminal_set_font(t->vte, font);
        pango_font_description_free(font);
        gtk_widget_set_vexpand(GTK_WIDGET(t->vte), TRUE);
        gtk_widget_set_hexpand(GTK_WIDGET(t->vte), TRUE);
        GtkWidget *scroll = gtk_scrolled_window_new();
        gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
        gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), GTK_WIDGET(t->vte));
        gtk_box_append(GTK_BOX(box), scroll);
        adw_application_window_set_content(ADW_APPLICATION_WINDOW(t), box);

        g_signal_connect(t->vte, "eof", G_CALLBACK(on_eof), t);
        g_signal_connect(t->client, "attach-exited", G_CALLBACK(on_attach_exited), t);
        start(t);
        return t;
}
