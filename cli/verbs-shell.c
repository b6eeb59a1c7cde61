/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Verbs that put the user inside a container: attach, console, console-log. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
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

/* ---- waiting for the attached process, passing signals on ---- */

typedef struct AttachWait {
        sd_bus *bus;
        const char *path;
        bool pty;
        sigset_t forward;          /* the signals we pass on: forward_signals but those ignored */
        int sfd;                   /* their signalfd (they are blocked meanwhile) */
        sd_bus_message *attach;    /* the reply to Attach, once in */
        uint64_t pending;          /* signals that came before the pid was known */
        uint64_t last_sigint_usec; /* for "a second Ctrl-C within a second kills" */
        uint32_t pid;              /* 0 until Attach replied */
        int status;                /* -1 until known */
        bool failed;
} AttachWait;

/* Passed on to the attached process without a pty. With one, the
 * terminal's own ^C travels through the pty as a byte; a SIGINT sent to
 * warrenctl itself then ends it as before (the pty's hangup tells the
 * process). */
static const int forward_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

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

static int on_attach_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        AttachWait *w = userdata;
        int fd;
        w->attach = sd_bus_message_ref(m);
        if (!sd_bus_message_is_method_error(m, NULL) && sd_bus_message_read(m, "hu", &fd, &w->pid) < 0)
                w->pid = 0; /* reported by the caller as a bad reply */
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

static int on_kill_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        /* It may have ended meanwhile: its status is on its way. */
        if (e && !(sd_bus_error_has_name(e, SD_BUS_ERROR_INVALID_ARGS) && e->message &&
                   strstr(e->message, "has exited")))
                (void) log_bus_error("Failed to pass the signal on", e, -sd_bus_message_get_errno(m));
        return 0;
}

static int forward_signal(AttachWait *w, int sig) {
        int r = sd_bus_call_method_async(w->bus, NULL, WARREN_BUS, w->path, WARREN_CONTAINER_IFACE,
                                         "KillAttached", on_kill_reply, NULL, "ui", w->pid, (int32_t) sig);
        if (r < 0)
                fprintf(stderr, "warrenctl: Failed to pass %s on: %s\n", strsignal(sig), strerror(-r));
        return 0;
}

/* One signal for us: 0 when passed on (or kept until the pid is known),
 * >0 when warrenctl should end with 128 + sig instead. */
static int attach_on_signal(void *userdata, int sig) {
        AttachWait *w = userdata;
        /* Ignored when we started (nohup): blocking made it arrive all the same. */
        if (!sigismember(&w->forward, sig))
                return 0;
        if (w->pty && sig == SIGINT)
                return 1;
        if (w->pid == 0) {
                /* Attach is pending (maybe a polkit prompt): keep it for the
                 * process; the same signal again gives up waiting. */
                if (w->pending & (1ULL << sig))
                        return 1;
                w->pending |= 1ULL << sig;
                return 0;
        }
        if (sig == SIGINT) {
                /* A second ^C within a second: the program ignores the first. */
                uint64_t now = now_usec();
                bool again = w->last_sigint_usec > 0 && now - w->last_sigint_usec < 1000000ULL;
                w->last_sigint_usec = now;
                if (again)
                        sig = SIGKILL;
        }
        return forward_signal(w, sig);
}

static void forward_pending(AttachWait *w) {
        for (size_t i = 0; i < ELEMENTSOF(forward_signals); i++)
                if (w->pending & (1ULL << forward_signals[i]))
                        (void) attach_on_signal(w, forward_signals[i]);
        w->pending = 0;
}

/* Blocks the signals we pass on, to read them from w->sfd instead. One
 * ignored from the start stays ignored, as nohup means. */
static int signals_block(AttachWait *w, sigset_t *ret_old) {
        sigemptyset(&w->forward);
        for (size_t i = 0; i < ELEMENTSOF(forward_signals); i++) {
                struct sigaction sa;
                if (sigaction(forward_signals[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
                        sigaddset(&w->forward, forward_signals[i]);
        }
        if (sigprocmask(SIG_BLOCK, &w->forward, ret_old) < 0)
                return -errno;
        w->sfd = signalfd(-1, &w->forward, SFD_CLOEXEC | SFD_NONBLOCK);
        if (w->sfd < 0) {
                int r = -errno;
                (void) sigprocmask(SIG_SETMASK, ret_old, NULL);
                return r;
        }
        return 0;
}

/* What still waits in the signalfd came after the end: dropped, so that
 * unblocking does not kill us on the way out. */
static void signals_restore(AttachWait *w, const sigset_t *old) {
        struct signalfd_siginfo si;
        if (w->sfd < 0)
                return;
        while (read(w->sfd, &si, sizeof si) == (ssize_t) sizeof si)
                ;
        w->sfd = safe_close(w->sfd);
        (void) sigprocmask(SIG_SETMASK, old, NULL);
}

static int bus_prepare(void *userdata, short *ret_events, int *ret_timeout_ms) {
        AttachWait *w = userdata;
        uint64_t until, now;
        int events = sd_bus_get_events(w->bus);
        if (events < 0)
                return events;
        *ret_events = (short) events;
        /* 0 when messages are already queued (read during an earlier call). */
        int r = sd_bus_get_timeout(w->bus, &until);
        if (r < 0)
                return r;
        now = now_usec();
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

/* Runs the bus and passes signals on until the Attach reply is in
 * (want_reply) or the status is known. >0 if a signal ended the wait
 * early: w->status is then 128 + that signal. */
static int attach_loop(AttachWait *w, bool want_reply) {
        int r;
        for (;;) {
                r = bus_dispatch(w);
                if (r < 0)
                        return r;
                if (want_reply ? w->attach != NULL : r > 0)
                        return 0;
                struct pollfd pf[2] = { { .fd = sd_bus_get_fd(w->bus) },
                                        { .fd = w->sfd, .events = POLLIN } };
                int timeout;
                r = bus_prepare(w, &pf[0].events, &timeout);
                if (r < 0)
                        return log_bus_error("Lost the bus connection", NULL, r);
                if (poll(pf, ELEMENTSOF(pf), timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_bus_error("Failed to wait", NULL, -errno);
                }
                struct signalfd_siginfo si;
                if ((pf[1].revents & POLLIN) && read(w->sfd, &si, sizeof si) == (ssize_t) sizeof si &&
                    attach_on_signal(w, (int) si.ssi_signo) > 0) {
                        w->status = 128 + (int) si.ssi_signo;
                        return 1;
                }
        }
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
                .on_signal = attach_on_signal,
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

static int attach_run(AttachWait *w, const char *name, char **cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *wait_call = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *match = NULL, *attach_slot = NULL, *wait_slot = NULL;
        _cleanup_close_ int master = -EBADF;
        bool pass[3];
        int fd, r;

        /* Subscribe before the process exists, so its end cannot slip past:
         * the bus daemon handles AddMatch before the Attach call queued
         * after it, so there is no need to wait for its reply. */
        r = sd_bus_match_signal_async(w->bus, &match, WARREN_BUS, w->path, WARREN_CONTAINER_IFACE,
                                      "AttachExited", on_attach_exited, NULL, w);
        if (r < 0)
                return log_bus_error("Failed to subscribe to AttachExited", NULL, r);

        plan_stdio(&w->pty, pass);
        r = build_attach_call(w->bus, w->path, cmd, w->pty, pass, &m);
        if (r < 0)
                return log_bus_error("Failed to build request", NULL, r);
        /* Asynchronously, so that a signal during a polkit prompt is seen. */
        r = sd_bus_call_async(w->bus, &attach_slot, m, on_attach_reply, w, CALL_TIMEOUT_USEC);
        if (r < 0)
                return log_bus_error("Failed to attach", NULL, r);
        r = attach_loop(w, true);
        if (r != 0)
                return r;
        if (sd_bus_message_is_method_error(w->attach, NULL)) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                r = sd_bus_error_copy(&error, sd_bus_message_get_error(w->attach));
                r = container_call_failed(w->bus, name, "Failed to attach", &error, r);
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_rewind(w->attach, true);
        if (r >= 0)
                r = sd_bus_message_read(w->attach, "hu", &fd, &w->pid);
        if (r < 0 || w->pid == 0)
                return log_bus_error("Bad reply to Attach", NULL, r < 0 ? r : -EBADMSG);
        /* Without a pty the handle is a placeholder. */
        if (w->pty && (master = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return log_bus_error("Failed to take the pty", NULL, -errno);
        forward_pending(w);

        /* Both ways to learn the status: the reply, or the signal if the
         * reply cannot come (the service lost track). */
        r = sd_bus_message_new_method_call(w->bus, &wait_call, WARREN_BUS, w->path, WARREN_CONTAINER_IFACE,
                                           "WaitAttached");
        if (r >= 0)
                r = sd_bus_message_append(wait_call, "u", w->pid);
        /* No timeout: a session may last for days. */
        if (r >= 0)
                r = sd_bus_call_async(w->bus, &wait_slot, wait_call, on_wait_reply, w, UINT64_MAX);
        if (r < 0)
                return log_bus_error("Failed to call WaitAttached", NULL, r);
        if (w->pty) {
                r = proxy_attached(w, master, pass);
                if (r < 0)
                        return r;
                master = safe_close(master);
                if (w->status >= 0)
                        return 0;
        }
        r = attach_loop(w, false);
        if (r < 0)
                return r;
        return w->status >= 0 ? 0 : -EIO;
}

static int verb_attach(sd_bus *bus, char **args) {
        _cleanup_free_ char *path = NULL;
        AttachWait w = { .bus = bus, .sfd = -EBADF, .status = -1 };
        sigset_t old_mask;

        int r = container_path_local(args[0], &path);
        if (r < 0)
                return log_bus_error("Failed to attach", NULL, r);
        w.path = path;
        /* Blocked from before the process exists until we are done, so a
         * signal to us reaches it, however early. */
        r = signals_block(&w, &old_mask);
        if (r < 0)
                return log_bus_error("Failed to set up signal forwarding", NULL, r);
        r = attach_run(&w, args[0], args + 1);
        signals_restore(&w, &old_mask);
        sd_bus_message_unref(w.attach);
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
                .end_on_input_eof = true,
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
        case TERMINAL_INPUT_EOF:
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
        {
                .name = "attach",
                .min_args = 1,
                .max_args = 1,
                .run = verb_attach,
                .flags = VERB_REST,
                .usage = "NAME [OPTIONS...] [-- COMMAND [ARGS...]]",
                .summary = "Run a command inside a running container",
                .description = "As lxc-attach: in all its namespaces and its cgroup; without a command,\n"
                               "root's login shell. warrenctl exits with the command's status; signals to\n"
                               "warrenctl go to the command (a second Ctrl-C within a second kills it).",
                .options = "-e --env=KEY=VALUE\tSet a variable (repeatable)\n"
                           "--clear-env\tStart from an empty environment\n"
                           "--cwd=DIR\tWorking directory inside\n"
                           "--uid=N --gid=N\tRun as this uid and gid of the container\n"
                           "--pty, --no-pty\tGive the command a pty, or our stdin, stdout and\n"
                           "\tstderr (default: a pty if any is a terminal; those that\n"
                           "\tare not go to the command as they are)\n",
                .example = "warrenctl attach web -- ps ax\n"
                           "echo hello | warrenctl attach web --no-pty -- cat\n",
        },
        {
                .name = "console",
                .min_args = 1,
                .max_args = 1,
                .run = verb_console,
                .usage = "NAME [-t N] [--escape=KEY]",
                .summary = "Connect to a container's console",
                .description = "As lxc-console: the terminal is connected to the console (or tty N), one\n"
                               "holder at a time. Leave with Ctrl-a q; input that ends (stdin at end of\n"
                               "file) ends it too.",
                .options = "-t --tty=N\ttty N instead of the console (0)\n"
                           "--escape=KEY\tThe escape prefix: a letter for Ctrl-that letter\n"
                           "\t(default a), or none\n",
                .example = "warrenctl console web\nwarrenctl console web -t 1 --escape=b\n",
        },
        {
                .name = "console-log",
                .min_args = 1,
                .max_args = 1,
                .run = verb_console_log,
                .usage = "NAME",
                .summary = "Print the console's recent output",
                .description = "What the console showed lately (a ring buffer in the container's monitor).",
                .example = "warrenctl console-log web | tail\n",
        },
        {},
};
