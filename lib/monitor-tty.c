/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "monitor-tty.h"
#include "pty.h"

#define HOLDER_QUEUE_MAX (64U * 1024U)
#define IO_CHUNK 4096U
#define READS_PER_WAKEUP 16U
#define CONSOLE_BUFFER_DEFAULT (128U * 1024U)
#define CONSOLE_BUFFER_LIMIT (64U * 1024U * 1024U)

/* Bytes waiting for a slow reader, bounded. */
typedef struct ByteQueue {
        char *data;
        size_t len;
} ByteQueue;

typedef struct Tty {
        unsigned index; /* 0 = console */
        int master;     /* the container's tty, always read by us */
        int slave;      /* kept open so the master never hangs up between inits */
        char *slave_path;
        int proxy;         /* holder's proxy slave (its master went to the client), or -EBADF */
        struct winsize ws; /* last window size seen on the proxy */
        ByteQueue to_proxy, to_master;
        uint32_t master_mask, proxy_mask;
        unsigned eio_count;
        char name[16];
} Tty;

struct MonitorTtys {
        int epoll_fd;
        uint32_t tag_master, tag_proxy;
        Tty *ttys; /* n_ttys + 1, [0] is the console (master -EBADF if none) */
        unsigned n_ttys;
        /* The console's recent output. */
        char *ring;
        size_t ring_size, ring_start, ring_len;
        int logfile_fd;
};

int monitor_ttys_parse_buffer_size(const char *s, size_t *ret, WarrenError *reterr) {
        static const struct {
                const char *suffix;
                unsigned long long factor;
        } units[] = {
                { "", 1 },
                { "b", 1 },
                { "k", 1ULL << 10 },
                { "kb", 1ULL << 10 },
                { "kib", 1ULL << 10 },
                { "m", 1ULL << 20 },
                { "mb", 1ULL << 20 },
                { "mib", 1ULL << 20 },
                { "g", 1ULL << 30 },
                { "gb", 1ULL << 30 },
                { "gib", 1ULL << 30 },
        };
        if (!s || strcasecmp(s, "auto") == 0) {
                *ret = CONSOLE_BUFFER_DEFAULT;
                return 0;
        }
        if (s[0] < '0' || s[0] > '9')
                return warren_error_set(reterr, EINVAL,
                                        "Invalid lxc.console.buffer.size '%s': expected 'auto' or a size",
                                        s);
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0)
                return warren_error_set(reterr, EINVAL, "Invalid lxc.console.buffer.size '%s': out of range",
                                        s);
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (strcasecmp(end, units[i].suffix) != 0)
                        continue;
                if (v > CONSOLE_BUFFER_LIMIT / units[i].factor)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid lxc.console.buffer.size '%s': at most %u MiB", s,
                                                CONSOLE_BUFFER_LIMIT >> 20);
                *ret = (size_t) (v * units[i].factor);
                return 0;
        }
        return warren_error_set(reterr, EINVAL, "Invalid lxc.console.buffer.size '%s': unknown unit '%s'", s,
                                end);
}

static uint64_t tag_of(uint32_t tag, unsigned n) {
        return ((uint64_t) tag << 32) | n;
}

static void ring_append(MonitorTtys *s, const char *p, size_t n) {
        if (s->ring_size == 0 || n == 0)
                return;
        if (n >= s->ring_size) {
                memcpy(s->ring, p + n - s->ring_size, s->ring_size);
                s->ring_start = 0;
                s->ring_len = s->ring_size;
                return;
        }
        size_t end = (s->ring_start + s->ring_len) % s->ring_size;
        size_t first = MIN(n, s->ring_size - end);
        memcpy(s->ring + end, p, first);
        memcpy(s->ring, p + first, n - first);
        if (s->ring_len + n > s->ring_size) {
                s->ring_start = (s->ring_start + s->ring_len + n - s->ring_size) % s->ring_size;
                s->ring_len = s->ring_size;
        } else
                s->ring_len += n;
}

/* Appends what fits and returns how much was dropped: a holder that does
 * not read must not stall the container's output. */
static size_t queue_push(ByteQueue *q, const char *p, size_t n) {
        if (!q->data) {
                q->data = malloc(HOLDER_QUEUE_MAX);
                if (!q->data)
                        return n;
        }
        size_t take = MIN(n, HOLDER_QUEUE_MAX - q->len);
        memcpy(q->data + q->len, p, take);
        q->len += take;
        return n - take;
}

static void queue_free(ByteQueue *q) {
        free(q->data);
        *q = (ByteQueue){};
}

/* Writes as much of q as fd takes: 0, or -errno other than EAGAIN. */
static int queue_flush(ByteQueue *q, int fd) {
        while (q->len > 0) {
                ssize_t k = write(fd, q->data, q->len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                memmove(q->data, q->data + k, q->len - (size_t) k);
                q->len -= (size_t) k;
        }
        return 0;
}

static void watch(MonitorTtys *s, int fd, uint64_t tag, uint32_t events, uint32_t *current) {
        if (*current == events)
                return;
        struct epoll_event ev = { .events = events, .data.u64 = tag };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
                log_debug_errno(errno, "epoll_ctl(MOD) failed: %m");
        *current = events;
}

static void tty_update(MonitorTtys *s, Tty *t) {
        if (t->master >= 0 && t->master_mask != 0)
                watch(s, t->master, tag_of(s->tag_master, t->index),
                      EPOLLIN | (t->to_master.len > 0 ? EPOLLOUT : 0), &t->master_mask);
        if (t->proxy >= 0)
                watch(s, t->proxy, tag_of(s->tag_proxy, t->index),
                      (t->to_master.len == 0 ? EPOLLIN : 0) | (t->to_proxy.len > 0 ? EPOLLOUT : 0),
                      &t->proxy_mask);
}

static void tty_release(MonitorTtys *s, Tty *t) {
        if (t->proxy < 0)
                return;
        log_debug("%s released", t->name);
        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, t->proxy, NULL);
        t->proxy = safe_close(t->proxy);
        queue_free(&t->to_proxy);
        queue_free(&t->to_master);
        tty_update(s, t);
}

static void tty_flush_proxy(MonitorTtys *s, Tty *t) {
        if (t->proxy >= 0 && queue_flush(&t->to_proxy, t->proxy) < 0)
                tty_release(s, t);
}

static void tty_flush_master(Tty *t) {
        if (queue_flush(&t->to_master, t->master) < 0)
                t->to_master.len = 0;
}

static void tty_output(MonitorTtys *s, Tty *t, const char *buf, size_t n) {
        if (t->index == 0) {
                ring_append(s, buf, n);
                if (s->logfile_fd >= 0 && write_all(s->logfile_fd, buf, n) < 0)
                        log_debug_errno(errno, "Failed to write the console log file: %m");
        }
        if (t->proxy >= 0) {
                size_t dropped = queue_push(&t->to_proxy, buf, n);
                if (dropped > 0)
                        log_debug("%s: holder is not reading, dropped %zu bytes", t->name, dropped);
                tty_flush_proxy(s, t);
        }
}

static void tty_on_master(MonitorTtys *s, Tty *t, uint32_t events) {
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                char buf[IO_CHUNK];
                for (unsigned i = 0; i < READS_PER_WAKEUP; i++) {
                        ssize_t k = read(t->master, buf, sizeof(buf));
                        if (k > 0) {
                                t->eio_count = 0;
                                tty_output(s, t, buf, (size_t) k);
                                continue;
                        }
                        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                                break;
                        /* EIO: every slave fd was hung up (vhangup()); reopen ours
                         * so the master stays usable, but do not spin on it. */
                        t->slave = safe_close(t->slave);
                        if (++t->eio_count > 3 || (t->slave = pty_open_slave(t->master, O_RDWR, NULL)) < 0) {
                                log_debug("%s: master keeps failing, no longer watched", t->name);
                                (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, t->master, NULL);
                                t->master_mask = 0;
                                return;
                        }
                        break;
                }
        }
        if (events & EPOLLOUT)
                tty_flush_master(t);
        tty_update(s, t);
}

static void tty_on_proxy(MonitorTtys *s, Tty *t, uint32_t events) {
        if (t->proxy < 0)
                return;
        if (events & EPOLLOUT)
                tty_flush_proxy(s, t);
        if (t->proxy >= 0 && t->to_master.len == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                char buf[IO_CHUNK];
                ssize_t k = read(t->proxy, buf, sizeof(buf));
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        return tty_update(s, t);
                if (k <= 0) /* EOF/EIO on the proxy slave: the client closed its master */
                        return tty_release(s, t);
                struct winsize ws;
                /* A client's resize shows up only on its own pty: pass it on. */
                if (ioctl(t->proxy, TIOCGWINSZ, &ws) >= 0 &&
                    (ws.ws_row != t->ws.ws_row || ws.ws_col != t->ws.ws_col)) {
                        t->ws = ws;
                        (void) ioctl(t->master, TIOCSWINSZ, &ws);
                }
                (void) queue_push(&t->to_master, buf, (size_t) k);
                tty_flush_master(t);
        } else if (t->proxy >= 0 && (events & (EPOLLHUP | EPOLLERR)))
                return tty_release(s, t);
        tty_update(s, t);
}

void monitor_ttys_dispatch(MonitorTtys *s, uint32_t tag, unsigned n, uint32_t events) {
        if (n > s->n_ttys)
                return;
        Tty *t = &s->ttys[n];
        if (tag == s->tag_master && t->master >= 0)
                tty_on_master(s, t, events);
        else if (tag == s->tag_proxy)
                tty_on_proxy(s, t, events);
}

static uint64_t now_msec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000U + (uint64_t) ts.tv_nsec / 1000000U;
}

void monitor_ttys_drain(MonitorTtys *s, unsigned timeout_ms) {
        if (!s)
                return;
        uint64_t end = now_msec() + timeout_ms;
        /* More than the ring or a holder's queue can keep would be dropped anyway. */
        size_t cap = MAX(s->ring_size, (size_t) HOLDER_QUEUE_MAX);
        for (unsigned i = 0; i <= s->n_ttys; i++) {
                Tty *t = &s->ttys[i];
                char buf[IO_CHUNK];
                size_t total = 0;
                while (t->master >= 0 && total < cap && now_msec() < end) {
                        ssize_t k = read(t->master, buf, sizeof(buf));
                        if (k < 0 && errno == EINTR)
                                continue;
                        /* EAGAIN: empty; EIO: every slave is closed and nothing is left. */
                        if (k <= 0)
                                break;
                        total += (size_t) k;
                        tty_output(s, t, buf, (size_t) k);
                }
                if (total > 0)
                        log_debug("%s: %zu bytes read at the end", t->name, total);
        }
        /* The holders get what is queued for them, as far as they read it in time. */
        for (unsigned i = 0; i <= s->n_ttys; i++) {
                Tty *t = &s->ttys[i];
                while (t->proxy >= 0 && t->to_proxy.len > 0) {
                        uint64_t now = now_msec();
                        struct pollfd p = { .fd = t->proxy, .events = POLLOUT };
                        if (now >= end || poll(&p, 1, (int) (end - now)) <= 0)
                                break;
                        tty_flush_proxy(s, t);
                }
        }
}

int pty_spare_open(PtySpare *ret, WarrenError *reterr) {
        PtySpare p = { .master = -EBADF, .slave = -EBADF };
        int r = pty_open(&p.master, &p.slave_path, reterr);
        if (r >= 0 && fcntl(p.master, F_SETFL, O_NONBLOCK) < 0)
                r = warren_error_set(reterr, errno, "Failed to make pty master non-blocking: %m");
        if (r >= 0 && (r = pty_open_slave(p.master, O_RDWR, reterr)) >= 0)
                p.slave = r;
        if (r < 0) {
                pty_spare_clear(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void pty_spare_clear(PtySpare *p) {
        p->master = safe_close(p->master);
        p->slave = safe_close(p->slave);
        free(p->slave_path);
        p->slave_path = NULL;
}

static int tty_setup(MonitorTtys *s, Tty *t, PtySpare *spare, WarrenError *reterr) {
        PtySpare p = { .master = -EBADF, .slave = -EBADF };
        if (spare && spare->master >= 0) {
                p = *spare;
                *spare = (PtySpare){ .master = -EBADF, .slave = -EBADF };
        } else {
                int r = pty_spare_open(&p, reterr);
                if (r < 0)
                        return r;
        }
        t->master = p.master;
        t->slave = p.slave;
        t->slave_path = p.slave_path;
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag_of(s->tag_master, t->index) };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, t->master, &ev) < 0)
                return warren_error_set(reterr, errno, "Failed to watch pty master: %m");
        t->master_mask = EPOLLIN;
        return 0;
}

MonitorTtys *monitor_ttys_free(MonitorTtys *s) {
        if (!s)
                return NULL;
        for (unsigned i = 0; s->ttys && i <= s->n_ttys; i++) {
                Tty *t = &s->ttys[i];
                tty_release(s, t);
                if (t->master >= 0 && t->master_mask != 0)
                        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, t->master, NULL);
                safe_close(t->master);
                safe_close(t->slave);
                free(t->slave_path);
        }
        free(s->ttys);
        free(s->ring);
        safe_close(s->logfile_fd);
        free(s);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(MonitorTtys *, monitor_ttys_free);

int monitor_ttys_new(int epoll_fd, uint32_t tag_master, uint32_t tag_proxy, bool console, unsigned n_ttys,
                     size_t ring_size, const char *logfile, PtySpare *spares, size_t n_spares,
                     MonitorTtys **ret, WarrenError *reterr) {
        _cleanup_(monitor_ttys_freep) MonitorTtys *s = calloc(1, sizeof(MonitorTtys));
        if (!s)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        *s = (MonitorTtys){
                .epoll_fd = epoll_fd,
                .tag_master = tag_master,
                .tag_proxy = tag_proxy,
                .n_ttys = n_ttys,
                .ring_size = ring_size,
                .logfile_fd = -EBADF,
        };
        s->ttys = calloc(n_ttys + 1, sizeof(Tty));
        if (!s->ttys || (ring_size > 0 && !(s->ring = malloc(ring_size)))) {
                s->n_ttys = 0;
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        for (unsigned i = 0; i <= n_ttys; i++) {
                Tty *t = &s->ttys[i];
                *t = (Tty){ .index = i, .master = -EBADF, .slave = -EBADF, .proxy = -EBADF };
                if (i == 0)
                        strcpy(t->name, "console");
                else
                        snprintf(t->name, sizeof(t->name), "tty%u", i);
        }
        size_t next = 0;
        for (unsigned i = console ? 0 : 1; i <= n_ttys; i++) {
                while (next < n_spares && spares[next].master < 0)
                        next++;
                int r = tty_setup(s, &s->ttys[i], next < n_spares ? &spares[next] : NULL, reterr);
                if (r < 0) {
                        warren_error_prefix(reterr, "Failed to set up the container's %s", s->ttys[i].name);
                        return r;
                }
        }
        if (logfile) {
                s->logfile_fd = open(
                        logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
                if (s->logfile_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open lxc.console.logfile '%s': %m",
                                                logfile);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int monitor_ttys_chown(MonitorTtys *s, uid_t uid, gid_t gid, WarrenError *reterr) {
        for (unsigned i = 0; i <= s->n_ttys; i++) {
                if (s->ttys[i].master < 0)
                        continue;
                int r = pty_chown_slave(s->ttys[i].master, uid, gid, reterr);
                if (r < 0) {
                        warren_error_prefix(reterr, "%s", s->ttys[i].name);
                        return r;
                }
        }
        return 0;
}

const char *monitor_ttys_slave_path(const MonitorTtys *s, unsigned n) {
        return n <= s->n_ttys ? s->ttys[n].slave_path : NULL;
}

/* A fresh pty pair for the holder: its master goes to the client, its
 * slave stays here and is copied to and from the container's tty. */
int monitor_ttys_acquire(MonitorTtys *s, unsigned n, int *ret_master, const char **ret_name,
                         WarrenError *reterr) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        _cleanup_free_ char *path = NULL;
        struct termios tio;

        if (n > s->n_ttys)
                return warren_error_set(reterr, EINVAL, "tty %u does not exist: the container has %u ttys",
                                        n, s->n_ttys);
        Tty *t = &s->ttys[n];
        if (t->master < 0)
                return warren_error_set(reterr, EINVAL,
                                        "The container has no console (lxc.console.path = none)");
        /* A holder that has just closed its end may not have been noticed yet. */
        struct pollfd p = { .fd = t->proxy, .events = POLLIN };
        if (t->proxy >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
                tty_release(s, t);
        if (t->proxy >= 0)
                return warren_error_set(reterr, EBUSY, "%s is busy: another client holds it", t->name);

        int r = pty_open(&master, &path, reterr);
        if (r < 0)
                return r;
        slave = pty_open_slave(master, O_RDWR | O_NONBLOCK, reterr);
        if (slave < 0)
                return slave;
        /* Bytes pass through unchanged: the container's tty does the line discipline. */
        if (tcgetattr(slave, &tio) < 0)
                return warren_error_set(reterr, errno, "Failed to read proxy pty attributes: %m");
        cfmakeraw(&tio);
        if (tcsetattr(slave, TCSANOW, &tio) < 0)
                return warren_error_set(reterr, errno, "Failed to make proxy pty raw: %m");
        if (ioctl(t->master, TIOCGWINSZ, &t->ws) >= 0)
                (void) ioctl(slave, TIOCSWINSZ, &t->ws);
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag_of(s->tag_proxy, n) };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, slave, &ev) < 0)
                return warren_error_set(reterr, errno, "Failed to watch proxy pty: %m");
        t->proxy = TAKE_FD(slave);
        t->proxy_mask = EPOLLIN;
        log_debug("%s acquired", t->name);
        *ret_master = TAKE_FD(master);
        if (ret_name)
                *ret_name = t->name;
        return 0;
}

int monitor_ttys_console_log(const MonitorTtys *s, int *ret_fd, WarrenError *reterr) {
        _cleanup_close_ int fd = memfd_create("warren-console-log", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to create memfd: %m");
        int r = 0;
        if (s->ring_len > 0) {
                size_t first = MIN(s->ring_len, s->ring_size - s->ring_start);
                r = write_all(fd, s->ring + s->ring_start, first);
                if (r >= 0)
                        r = write_all(fd, s->ring, s->ring_len - first);
        }
        if (r >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                r = -errno;
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to copy the console log: %s", strerror(-r));
        *ret_fd = TAKE_FD(fd);
        return 0;
}
