/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "basic/macro.h"
#include "terminal.h"

#define BUFFER_SIZE 65536

size_t terminal_escape_filter(TerminalEscape *e, const char *in, size_t n, char *out, bool *ret_quit) {
        size_t k = 0;
        *ret_quit = false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) in[i];
                if (e->key < 0) {
                        out[k++] = (char) c;
                        continue;
                }
                if (e->pending) {
                        e->pending = false;
                        if (c == 'q' || c == 'Q') {
                                *ret_quit = true;
                                return k;
                        }
                        out[k++] = (char) e->key;
                        if (c != (unsigned char) e->key)
                                out[k++] = (char) c;
                        continue;
                }
                if (c == (unsigned char) e->key)
                        e->pending = true;
                else
                        out[k++] = (char) c;
        }
        return k;
}

int terminal_parse_escape(const char *s, int *ret_key) {
        if (streq(s, "none")) {
                *ret_key = -1;
                return 0;
        }
        if (s[0] == '^' && s[1])
                s++;
        if (strlen(s) != 1)
                return -EINVAL;
        char c = s[0];
        if (c >= 'A' && c <= 'Z')
                c = (char) (c - 'A' + 'a');
        if (c < 'a' || c > 'z')
                return -EINVAL;
        *ret_key = c - 'a' + 1;
        return 0;
}

const char *terminal_escape_name(int key) {
        static char buf[16];
        if (key < 1 || key > 26)
                return "none";
        snprintf(buf, sizeof buf, "Ctrl-%c", 'a' + key - 1);
        return buf;
}

/* ---- raw mode ---- */

static struct termios saved_termios;
static volatile sig_atomic_t saved_fd = -1;

void terminal_restore(void) {
        int fd = saved_fd;
        if (fd < 0)
                return;
        /* TCSANOW: draining could block forever on a stopped terminal. */
        (void) tcsetattr(fd, TCSANOW, &saved_termios);
        saved_fd = -1;
}

static void restore_and_reraise(int sig) {
        int saved_errno = errno;
        terminal_restore();
        /* SA_RESETHAND made the disposition default again. */
        (void) raise(sig);
        errno = saved_errno;
}

static void install_handlers(void) {
        static bool installed = false;
        static const int sigs[] = { SIGTERM, SIGINT,  SIGHUP, SIGQUIT, SIGSEGV,
                                    SIGBUS,  SIGABRT, SIGFPE, SIGILL };
        struct sigaction sa = { .sa_handler = restore_and_reraise, .sa_flags = SA_RESETHAND | SA_NODEFER };

        if (installed)
                return;
        installed = true;
        (void) atexit(terminal_restore);
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++) {
                struct sigaction old;
                /* Keep an ignored signal ignored (nohup). */
                if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
                        continue;
                (void) sigaction(sigs[i], &sa, NULL);
        }
}

int terminal_raw_enter(int fd) {
        struct termios t;
        if (tcgetattr(fd, &t) < 0)
                return -errno;
        if (saved_fd < 0) {
                saved_termios = t;
                install_handlers();
                saved_fd = fd;
        }
        cfmakeraw(&t);
        /* Keep output post-processing off too: the container's own tty does
         * the \n -> \r\n mapping already. */
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        if (tcsetattr(fd, TCSANOW, &t) < 0) {
                int r = -errno;
                terminal_restore();
                return r;
        }
        return 0;
}

/* ---- the proxy ---- */

typedef struct Buffer {
        char data[BUFFER_SIZE];
        size_t len;
} Buffer;

static int buffer_write(Buffer *b, int fd) {
        ssize_t n = write(fd, b->data, b->len);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        memmove(b->data, b->data + n, b->len - (size_t) n);
        b->len -= (size_t) n;
        return 0;
}

static void copy_window_size(const TerminalProxy *p) {
        struct winsize ws;
        if (ioctl(p->in_fd, TIOCGWINSZ, &ws) < 0 && ioctl(p->out_fd, TIOCGWINSZ, &ws) < 0)
                return;
        if (ws.ws_row > 0 && ws.ws_col > 0)
                (void) ioctl(p->master, TIOCSWINSZ, &ws);
}

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* Flushes b to fd, blocking in poll (out_fd may be a blocking terminal). */
static int flush_all(Buffer *b, int fd) {
        while (b->len > 0) {
                struct pollfd pf = { .fd = fd, .events = POLLOUT };
                if (poll(&pf, 1, -1) < 0 && errno != EINTR)
                        return -errno;
                int r = buffer_write(b, fd);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* After the input ended (console): until output is quiet this long, at most that long. */
#define INPUT_EOF_DRAIN_MS 100
#define INPUT_EOF_DRAIN_MAX_MS 1000

typedef struct ProxyState {
        const TerminalProxy *p;
        TerminalEscape esc;
        Buffer *to_master, *to_out;
        bool in_eof, master_gone, input_ended;
        long long drain_until; /* >0: TERMINAL_DONE pending, stop when output is quiet until then */
        long long drain_cap;   /* >0: and at the latest then */
} ProxyState;

/* Reads what the user typed; 1 when the escape sequence was seen. */
static int read_input(ProxyState *s) {
        char raw[BUFFER_SIZE / 2], filtered[BUFFER_SIZE / 2 + 1];
        size_t room = sizeof s->to_master->data - s->to_master->len;
        bool quit;
        ssize_t n = read(s->p->in_fd, raw, MIN(sizeof raw, room - 1));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                s->in_eof = true;
                /* Piped input into a pty: pass the end on as the terminal's
                 * EOF character, so a reading program finishes. */
                if (!isatty(s->p->in_fd) && !s->p->end_on_input_eof)
                        s->to_master->data[s->to_master->len++] = 0x04;
                return 0;
        }
        size_t k = terminal_escape_filter(&s->esc, raw, (size_t) n, filtered, &quit);
        memcpy(s->to_master->data + s->to_master->len, filtered, k);
        s->to_master->len += k;
        return quit ? 1 : 0;
}

static int read_master(ProxyState *s) {
        Buffer *b = s->to_out;
        char discard[4096];
        /* No out_fd: output is only the echo of input passed on directly. */
        ssize_t n = s->p->out_fd < 0 ? read(s->p->master, discard, sizeof discard)
                                     : read(s->p->master, b->data + b->len, sizeof b->data - b->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                /* EIO on a pty master: the last slave fd was closed. */
                s->master_gone = true;
                return 0;
        }
        if (s->p->out_fd >= 0)
                b->len += (size_t) n;
        if (s->drain_until > 0) {
                s->drain_until = now_ms() + (s->p->drain_ms > 0 ? s->p->drain_ms : 50);
                if (s->drain_cap > 0 && s->drain_until > s->drain_cap)
                        s->drain_until = s->drain_cap;
        }
        return 0;
}

static int proxy_loop(ProxyState *s, int sfd, TerminalEnd *ret_end, int *ret_signal) {
        const TerminalProxy *p = s->p;
        int r;

        for (;;) {
                struct pollfd pf[5];
                int timeout = -1;
                short extra_events = POLLIN;
                size_t n = 0;

                if (s->master_gone || (s->drain_until > 0 && now_ms() >= s->drain_until)) {
                        r = flush_all(s->to_out, p->out_fd);
                        *ret_end = s->master_gone   ? TERMINAL_HANGUP
                                   : s->input_ended ? TERMINAL_INPUT_EOF
                                                    : TERMINAL_DONE;
                        return r;
                }
                if (p->extra_fd >= 0 && p->extra_prepare && s->drain_until == 0) {
                        r = p->extra_prepare(p->userdata, &extra_events, &timeout);
                        if (r < 0)
                                return r;
                }
                if (s->drain_until > 0)
                        timeout = (int) MAX(0LL, s->drain_until - now_ms());

                pf[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
                pf[n++] = (struct pollfd){
                        .fd = p->master,
                        .events = (short) ((s->to_out->len < sizeof s->to_out->data ? POLLIN : 0) |
                                           (s->to_master->len > 0 ? POLLOUT : 0)),
                };
                pf[n++] = (struct pollfd){
                        .fd = s->in_eof || s->to_master->len + 2 >= sizeof s->to_master->data ? -1
                                                                                              : p->in_fd,
                        .events = POLLIN,
                };
                pf[n++] = (struct pollfd){ .fd = s->to_out->len > 0 ? p->out_fd : -1, .events = POLLOUT };
                pf[n++] = (struct pollfd){ .fd = s->drain_until == 0 ? p->extra_fd : -1,
                                           .events = extra_events };

                if (poll(pf, n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (pf[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                                if (si.ssi_signo == SIGWINCH) {
                                        if (p->winch)
                                                copy_window_size(p);
                                } else {
                                        r = p->on_signal ? p->on_signal(p->userdata, (int) si.ssi_signo) : 1;
                                        if (r < 0)
                                                return r;
                                        if (r > 0) {
                                                *ret_signal = (int) si.ssi_signo;
                                                *ret_end = TERMINAL_SIGNAL;
                                                return 0;
                                        }
                                }
                        }
                }
                if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (read_input(s) > 0) {
                                /* Send what came before the escape, then leave. */
                                (void) buffer_write(s->to_master, p->master);
                                r = flush_all(s->to_out, p->out_fd);
                                *ret_end = TERMINAL_ESCAPE;
                                return r;
                        }
                        if (s->in_eof && p->end_on_input_eof && !s->input_ended) {
                                /* What was typed goes on, and the other side gets a
                                 * moment to take it before our end of the pty closes. */
                                s->input_ended = true;
                                s->drain_until = now_ms() + INPUT_EOF_DRAIN_MS;
                                s->drain_cap = now_ms() + INPUT_EOF_DRAIN_MAX_MS;
                        }
                }
                if (pf[1].revents & POLLOUT) {
                        r = buffer_write(s->to_master, p->master);
                        if (r < 0 && r != -EIO)
                                return r;
                }
                if (pf[1].revents & (POLLIN | POLLHUP | POLLERR))
                        (void) read_master(s);
                if (pf[3].revents & (POLLOUT | POLLERR | POLLHUP)) {
                        r = buffer_write(s->to_out, p->out_fd);
                        if (r < 0)
                                return r;
                }
                if (p->extra_fd >= 0 && p->extra_dispatch && s->drain_until == 0) {
                        r = p->extra_dispatch(p->userdata);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                s->drain_until = now_ms() + (p->drain_ms > 0 ? p->drain_ms : 50);
                }
        }
}

int terminal_proxy_run(const TerminalProxy *p, TerminalEnd *ret_end, int *ret_signal) {
        _cleanup_free_ Buffer *to_master = malloc(sizeof(Buffer)), *to_out = malloc(sizeof(Buffer));
        _cleanup_close_ int sfd = -EBADF;
        sigset_t mask, old_mask;
        struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
        int flags, r, sig = 0;
        TerminalEnd end = TERMINAL_HANGUP;

        if (!to_master || !to_out)
                return -ENOMEM;
        to_master->len = to_out->len = 0;
        flags = fcntl(p->master, F_GETFL);
        if (flags < 0 || fcntl(p->master, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;

        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        if (p->on_signal) {
                sigaddset(&mask, SIGUSR1);
                sigaddset(&mask, SIGUSR2);
        }
        if (sigprocmask(SIG_BLOCK, &mask, &old_mask) < 0)
                return -errno;
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                r = -errno;
                (void) sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return r;
        }
        /* A closed stdout shows up as EPIPE, not as death. */
        (void) sigaction(SIGPIPE, &ign, &old_pipe);

        if (p->winch)
                copy_window_size(p);
        ProxyState s = {
                .p = p,
                .esc = { .key = p->escape_key },
                .to_master = to_master,
                .to_out = to_out,
                .in_eof = p->in_fd < 0,
        };
        r = proxy_loop(&s, sfd, &end, &sig);

        (void) sigaction(SIGPIPE, &old_pipe, NULL);
        (void) sigprocmask(SIG_SETMASK, &old_mask, NULL);
        if (r < 0)
                return r;
        *ret_end = end;
        if (ret_signal)
                *ret_signal = sig;
        return 0;
}
