/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The terminal side of `warrenctl attach` and `warrenctl console`: raw
 * mode that is restored on every way out (normal return, exit(), fatal and
 * terminating signals), and a proxy between the user's terminal and a pty
 * master, with an escape sequence (console: Ctrl-a q) and the window size
 * forwarded. No D-Bus here: the bus fd is just an extra fd to watch. */

#include <stdbool.h>
#include <stddef.h>

/* Escape sequence state: "PREFIX q" quits, "PREFIX PREFIX" sends one
 * PREFIX, PREFIX followed by anything else sends both bytes. */
typedef struct TerminalEscape {
        int key;      /* the prefix byte (1 = Ctrl-a), or -1 for none */
        bool pending; /* the prefix was the last byte seen */
} TerminalEscape;

#define TERMINAL_ESCAPE_DEFAULT 1 /* Ctrl-a, as lxc-console */

/* Filters n typed bytes into out, which must have room for n + 1 bytes.
 * Returns how many bytes of out to forward. Sets *ret_quit when the quit
 * sequence was seen (nothing after it is forwarded). State carries across
 * calls, so a prefix at the end of one read combines with the next. */
size_t terminal_escape_filter(TerminalEscape *e, const char *in, size_t n, char *out, bool *ret_quit);

/* "a".."z" (Ctrl- that letter, like lxc-console -e), "^a"/"^A", or
 * "none" (-1). -EINVAL otherwise. */
int terminal_parse_escape(const char *s, int *ret_key);
/* "Ctrl-a" etc. for messages (static buffer). */
const char *terminal_escape_name(int key);

/* Puts the terminal fd in raw mode, remembering its settings to restore
 * them: terminal_restore(), at exit(), and from handlers of SIGTERM,
 * SIGINT, SIGHUP, SIGQUIT and the fatal signals (which then re-raise).
 * -ENOTTY if fd is not a terminal. */
int terminal_raw_enter(int fd);
/* Idempotent; async-signal-safe. */
void terminal_restore(void);

typedef enum TerminalEnd {
        TERMINAL_HANGUP,    /* the master reported EOF/EIO: every slave fd is closed */
        TERMINAL_ESCAPE,    /* the user typed the escape sequence */
        TERMINAL_DONE,      /* extra_dispatch() asked to stop (output drained first) */
        TERMINAL_SIGNAL,    /* SIGTERM/SIGINT/SIGHUP/SIGQUIT arrived (or on_signal said stop): *ret_signal */
        TERMINAL_INPUT_EOF, /* in_fd ended and end_on_input_eof was set (what it gave was sent) */
} TerminalEnd;

typedef struct TerminalProxy {
        int in_fd, out_fd; /* the user's side (a terminal, or pipes); -1: none (output dropped) */
        int master;        /* the pty master; made non-blocking */
        int escape_key;    /* -1: no escape (attach) */
        bool winch; /* copy the window size of in_fd (else out_fd) to the master now and on SIGWINCH */
        /* An optional extra fd (the bus): extra_prepare() gives its poll
         * events and timeout (ms, -1 none) before each poll (NULL: POLLIN, -1),
         * extra_dispatch() runs after each wake-up and returns <0 on error,
         * >0 to stop (TERMINAL_DONE), 0 to go on. */
        int extra_fd;
        int (*extra_prepare)(void *userdata, short *ret_events, int *ret_timeout_ms);
        int (*extra_dispatch)(void *userdata);
        void *userdata;
        int drain_ms; /* after TERMINAL_DONE, keep copying output until quiet this long (0: 50) */
        /* End (TERMINAL_INPUT_EOF) when in_fd ends, rather than passing the
         * end on as an EOF character (console: nothing more will be typed). */
        bool end_on_input_eof;
        /* Optional: gets SIGTERM, SIGINT, SIGHUP, SIGQUIT, and then also
         * SIGUSR1 and SIGUSR2, instead of ending at once (attach passes
         * them on); returns 0 to go on, >0 to end with TERMINAL_SIGNAL,
         * <0 on error. */
        int (*on_signal)(void *userdata, int sig);
} TerminalProxy;

/* Copies in_fd -> master and master -> out_fd until one of TerminalEnd
 * happens. Never blocks on the master (buffers both ways), so a program
 * that does not read its input cannot wedge its output. Terminating
 * signals are blocked meanwhile and reported, not acted on: the caller
 * restores the terminal and exits. Returns 0 or -errno (EPIPE if out_fd
 * went away). */
int terminal_proxy_run(const TerminalProxy *p, TerminalEnd *ret_end, int *ret_signal);
