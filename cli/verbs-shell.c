/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Verbs that put the user inside a container: attach, console, console-log. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "terminal.h"
#include "verbs-shell.h"
#include "warrenctl.h"

static int arg_pty = -1; /* -1: if any of stdin/stdout/stderr is a terminal */
static char **arg_env = NULL;
static const char *arg_cwd = NULL;
static int64_t arg_uid = -1, arg_gid = -1;
static bool arg_clear_env = false;
static int arg_escape = TERMINAL_ESCAPE_DEFAULT;
static uint32_t arg_tty = 0;

static int parse_u32(const char *what, const char *s, uint32_t max, uint32_t *ret) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v > max) {
                fprintf(stderr, "warrenctl: Invalid %s '%s': expected a number up to %u\n", what, s, max);
                return -EINVAL;
        }
        *ret = (uint32_t) v;
        return 0;
}

int parse_shell_option(int c, const char *arg) {
        uint32_t v;
        switch (c) {
        case 'e':
                if (!strchr(arg, '=') || arg[0] == '=') {
                        fprintf(stderr, "warrenctl: Invalid environment variable '%s': expected KEY=VALUE\n",
                                arg);
                        return -EINVAL;
                }
                return strv_extend(&arg_env, arg);
        case SHELL_ARG_PTY:
                arg_pty = 1;
                return 0;
        case SHELL_ARG_NO_PTY:
                arg_pty = 0;
                return 0;
        case SHELL_ARG_CWD:
                arg_cwd = arg;
                return 0;
        case SHELL_ARG_UID:
                if (parse_u32("uid", arg, UINT32_MAX - 1, &v) < 0)
                        return -EINVAL;
                arg_uid = v;
                return 0;
        case SHELL_ARG_GID:
                if (parse_u32("gid", arg, UINT32_MAX - 1, &v) < 0)
                        return -EINVAL;
                arg_gid = v;
                return 0;
        case SHELL_ARG_CLEAR_ENV:
                arg_clear_env = true;
                return 0;
        case SHELL_ARG_ESCAPE:
                if (terminal_parse_escape(arg, &arg_escape) < 0) {
                        fprintf(stderr,
                                "warrenctl: Invalid escape key '%s': expected a letter (a for Ctrl-a) or "
                                "'none'\n",
                                arg);
                        return -EINVAL;
                }
                return 0;
        case SHELL_ARG_TTY:
                return parse_u32("tty number", arg, 1024, &arg_tty);
        }
        return -EINVAL;
}

/* ---- waiting for the attached process's exit status ---- */

typedef struct AttachWait {
        sd_bus *bus;
        uint32_t pid;
        int status; /* -1 until known */
        bool failed;
} AttachWait;

/* The reply to Attach is sent before the process can be reaped, and a
 * connection's messages arrive in order: the pid is known by then. */
static int on_attach_exited(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        AttachWait *w = userdata;
        uint32_t pid;
        int32_t status;
        if (sd_bus_message_read(m, "ui", &pid, &status) < 0)
                return 0;
        if (w->pid != 0 && pid == w->pid && w->status < 0)
                w->status = status;
        return 0;
}

static int on_wait_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        AttachWait *w = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int32_t status;
        if (w->status >= 0)
                return 0;
        if (e) {
                /* Any AttachExited for us came before this reply. */
                (void) log_bus_error("WaitAttached", e, -sd_bus_message_get_errno(m));
                w->failed = true;
                return 0;
        }
        if (sd_bus_message_read(m, "i", &status) >= 0)
                w->status = status;
        else
                w->failed = true;
        return 0;
}

static int bus_prepare(void *userdata, short *ret_events, int *ret_timeout_ms) {
        AttachWait *w = userdata;
        struct timespec ts;
        uint64_t until, now;
        int events = sd_bus_get_events(w->bus);
        if (events < 0)
                return events;
        *ret_events = (short) events;
        /* 0 when messages are already queued (read during an earlier call). */
        int r = sd_bus_get_timeout(w->bus, &until);
        if (r < 0)
                return r;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
        if (until == UINT64_MAX)
                *ret_timeout_ms = -1;
        else
                *ret_timeout_ms = until <= now ? 0 : (int) MIN((until - now + 999) / 1000, (uint64_t) 60000);
        return 0;
}

static int bus_dispatch(void *userdata) {
        AttachWait *w = userdata;
        int r;
        while ((r = sd_bus_process(w->bus, NULL)) > 0)
                ;
        if (r < 0)
                return log_bus_error("Lost the bus connection", NULL, r);
        return w->status >= 0 || w->failed ? 1 : 0;
}

static int wait_status(AttachWait *w) {
        while (w->status < 0 && !w->failed) {
                int r = sd_bus_process(w->bus, NULL);
                if (r < 0)
                        return log_bus_error("Lost the bus connection", NULL, r);
                if (r > 0)
                        continue;
                r = sd_bus_wait(w->bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return log_bus_error("Lost the bus connection", NULL, r);
        }
        return w->status >= 0 ? 0 : -EIO;
}

/* ---- attach ---- */

static int append_env(sd_bus_message *m, char **env) {
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "env");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, env);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Which of our stdio fds go to the container as they are (the others are
 * the pty): with --no-pty all, with --pty none, by default those that are
 * not terminals (as lxc-attach). */
static void plan_stdio(bool *ret_pty, bool pass[3]) {
        bool tty[3];
        for (int i = 0; i < 3; i++)
                tty[i] = isatty(i);
        bool pty = arg_pty >= 0 ? arg_pty : (tty[0] || tty[1] || tty[2]);
        for (int i = 0; i < 3; i++)
                pass[i] = !pty || (arg_pty < 0 && !tty[i]);
        *ret_pty = pty;
}

static int build_attach_call(sd_bus *bus, const char *path, char **cmd, bool pty, const bool pass[3],
                             sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_strv_free_ char **env = NULL;
        static const char *const stdio_names[] = { "stdin", "stdout", "stderr" };
        const char *term = getenv("TERM");
        int r;

        /* The terminal type travels with the terminal; -e TERM=... wins. */
        if (pty && term && strv_extend(&env, "TERM=") >= 0) {
                free(env[0]);
                if (asprintf(&env[0], "TERM=%s", term) < 0)
                        env[0] = NULL;
                if (!env[0])
                        return -ENOMEM;
        }
        STRV_FOREACH(e, arg_env)
                if (strv_extend(&env, *e) < 0)
                        return -ENOMEM;

        /* No command: the container's root shell, bash where it exists.
         * The bus method itself wants an explicit argv. */
        static char *root_shell[] = { (char *) "/bin/sh", (char *) "-c",
                                      (char *) "[ -x /bin/bash ] && exec /bin/bash -l; exec /bin/sh -l",
                                      NULL };
        if (strv_length(cmd) == 0)
                cmd = root_shell;
        r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, path, WARREN_CONTAINER_IFACE, "Attach");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, cmd);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "pty", "b", (int) pty);
        /* Size the pty before the command runs, not after: a quick command
         * would otherwise see 0x0. */
        struct winsize ws = {};
        if (r >= 0 && pty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_row > 0 && ws.ws_col > 0)
                r = sd_bus_message_append(m, "{sv}{sv}", "rows", "u", (uint32_t) ws.ws_row, "cols", "u",
                                          (uint32_t) ws.ws_col);
        for (int i = 0; r >= 0 && i < 3; i++)
                if (pass[i])
                        r = sd_bus_message_append(m, "{sv}", stdio_names[i], "h", i);
        if (r >= 0 && env)
                r = append_env(m, env);
        if (r >= 0 && arg_cwd)
                r = sd_bus_message_append(m, "{sv}", "cwd", "s", arg_cwd);
        if (r >= 0 && arg_uid >= 0)
                r = sd_bus_message_append(m, "{sv}", "uid", "u", (uint32_t) arg_uid);
        if (r >= 0 && arg_gid >= 0)
                r = sd_bus_message_append(m, "{sv}", "gid", "u", (uint32_t) arg_gid);
        if (r >= 0 && arg_clear_env)
                r = sd_bus_message_append(m, "{sv}", "clear-env", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static int proxy_attached(AttachWait *w, int master, const bool pass[3]) {
        int out = !pass[1] ? STDOUT_FILENO : !pass[2] ? STDERR_FILENO : -1;
        TerminalProxy p = {
                .in_fd = pass[0] ? -1 : STDIN_FILENO,
                .out_fd = out,
                .master = master,
                .escape_key = -1, /* as lxc-attach: every byte is the program's */
                .winch = true,
                .extra_fd = sd_bus_get_fd(w->bus),
                .extra_prepare = bus_prepare,
                .extra_dispatch = bus_dispatch,
                .userdata = w,
        };
        TerminalEnd end;
        int sig = 0, r;

        if (p.extra_fd < 0)
                return log_bus_error("No bus fd", NULL, p.extra_fd);
        if (!pass[0] && isatty(STDIN_FILENO)) {
                r = terminal_raw_enter(STDIN_FILENO);
                if (r < 0) {
                        fprintf(stderr, "warrenctl: Failed to set the terminal to raw mode: %s\n",
                                strerror(-r));
                        return r;
                }
        }
        r = terminal_proxy_run(&p, &end, &sig);
        terminal_restore();
        if (r < 0) {
                fprintf(stderr, "warrenctl: Terminal proxy failed: %s\n", strerror(-r));
                return r;
        }
        if (end == TERMINAL_SIGNAL) {
                /* Our end of the pty goes with us: the program gets SIGHUP. */
                w->status = 128 + sig;
                return 0;
        }
        return 0;
}

static int verb_attach(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL, *wait_call = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *match = NULL, *wait_slot = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int master = -EBADF;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        AttachWait w = { .bus = bus, .status = -1 };
        bool pty, pass[3];
        int fd, r;

        r = container_path_local(args[0], &path);
        if (r < 0)
                return log_bus_error("Failed to attach", NULL, r);
        /* Subscribe before the process exists, so its end cannot slip past:
         * the bus daemon handles AddMatch before the Attach call queued
         * after it, so there is no need to wait for its reply. */
        r = sd_bus_match_signal_async(bus, &match, WARREN_BUS, path, WARREN_CONTAINER_IFACE, "AttachExited",
                                      on_attach_exited, NULL, &w);
        if (r < 0)
                return log_bus_error("Failed to subscribe to AttachExited", NULL, r);

        plan_stdio(&pty, pass);
        r = build_attach_call(bus, path, args + 1, pty, pass, &m);
        if (r < 0)
                return log_bus_error("Failed to build request", NULL, r);
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0) {
                r = container_call_failed(bus, args[0], "Failed to attach", &error, r);
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_read(reply, "hu", &fd, &w.pid);
        if (r < 0)
                return log_bus_error("Bad reply to Attach", NULL, r);
        /* Without a pty the handle is a placeholder. */
        if (pty && (master = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return log_bus_error("Failed to take the pty", NULL, -errno);

        /* Both ways to learn the status: the reply, or the signal if the
         * reply cannot come (the service lost track). */
        r = sd_bus_message_new_method_call(bus, &wait_call, WARREN_BUS, path, WARREN_CONTAINER_IFACE,
                                           "WaitAttached");
        if (r >= 0)
                r = sd_bus_message_append(wait_call, "u", w.pid);
        /* No timeout: a session may last for days. */
        if (r >= 0)
                r = sd_bus_call_async(bus, &wait_slot, wait_call, on_wait_reply, &w, UINT64_MAX);
        if (r < 0)
                return log_bus_error("Failed to call WaitAttached", NULL, r);
        if (pty) {
                r = proxy_attached(&w, master, pass);
                if (r < 0)
                        return r;
                master = safe_close(master);
        }
        r = wait_status(&w);
        if (r < 0)
                return r;
        arg_exit_status = w.status;
        return 0;
}

/* ---- console ---- */

static int verb_console(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int master = -EBADF;
        const char *name;
        int fd, r;

        r = call_container(bus, args[0], "OpenConsole", &reply, "u", arg_tty);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "hs", &fd, &name);
        if (r < 0)
                return log_bus_error("Bad reply to OpenConsole", NULL, r);
        master = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (master < 0)
                return log_bus_error("Failed to take the console", NULL, -errno);

        fprintf(stderr, "Connected to %s of container '%s'.\n", name, args[0]);
        if (arg_escape > 0) {
                const char *k = terminal_escape_name(arg_escape);
                fprintf(stderr, "Type <%s q> to leave the console, <%s %s> to send %s itself.\n", k, k, k,
                        k);
        }
        fflush(stderr);

        TerminalProxy p = {
                .in_fd = STDIN_FILENO,
                .out_fd = STDOUT_FILENO,
                .master = master,
                .escape_key = arg_escape,
                .winch = true,
                .extra_fd = -1,
        };
        TerminalEnd end;
        int sig = 0;
        if (isatty(STDIN_FILENO) && (r = terminal_raw_enter(STDIN_FILENO)) < 0) {
                fprintf(stderr, "warrenctl: Failed to set the terminal to raw mode: %s\n", strerror(-r));
                return r;
        }
        r = terminal_proxy_run(&p, &end, &sig);
        terminal_restore();
        if (r < 0) {
                fprintf(stderr, "\nwarrenctl: Console proxy failed: %s\n", strerror(-r));
                return r;
        }
        switch (end) {
        case TERMINAL_HANGUP:
                fprintf(stderr, "\nConsole of '%s' closed (the container stopped?).\n", args[0]);
                return 0;
        case TERMINAL_SIGNAL:
                arg_exit_status = 128 + sig;
                return 0;
        default:
                fprintf(stderr, "\n");
                return 0;
        }
}

static int verb_console_log(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const void *data;
        size_t size;
        int r = call_container(bus, args[0], "GetConsoleLog", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(reply, 'y', &data, &size);
        if (r < 0)
                return log_bus_error("Bad reply to GetConsoleLog", NULL, r);
        r = write_all(STDOUT_FILENO, data, size);
        if (r < 0) {
                fprintf(stderr, "warrenctl: Failed to write the console log: %s\n", strerror(-r));
                return r;
        }
        return 0;
}

const Verb verbs_shell[] = {
        { "attach", 1, 1, verb_attach, true },
        { "console", 1, 1, verb_console, false },
        { "console-log", 1, 1, verb_console_log, false },
        {},
};

const char *verbs_shell_help(void) {
        return "  attach NAME [-- CMD ARGS...]          Run a command (default: root's shell) inside\n"
               "       [-e KEY=VAL] [--cwd=DIR] [--uid=N] [--gid=N] [--clear-env] [--pty|--no-pty]\n"
               "  console NAME [-t N] [--escape=X]      Connect to the console (tty N; leave with Ctrl-a "
               "q)\n"
               "  console-log NAME                      Print the console's recent output\n";
}
