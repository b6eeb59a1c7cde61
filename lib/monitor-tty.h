/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The monitor's console and ttys (internal to warren-monitor).
 *
 * Every pty master is read all the time: console output goes to a ring
 * buffer (lxc.console.buffer.size) and to lxc.console.logfile. A client
 * never gets a container's master: it gets the master of a fresh proxy pty
 * whose slave the monitor copies to and from the container's tty (raw, so
 * the container's own line discipline is the only one). One holder per tty;
 * the tty is free again when the holder's fd is closed. Nothing here
 * blocks: output a holder does not read is dropped beyond 64 KiB. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

typedef struct MonitorTtys MonitorTtys;

/* Parses lxc.console.buffer.size: "auto" (or unset: NULL) is 128 KiB, "0"
 * none, else bytes with an optional k/M/G (or kB/KiB...) suffix, at most
 * 64 MiB. -EINVAL naming the value. */
int monitor_ttys_parse_buffer_size(const char *s, size_t *ret, WarrenError *reterr);

/* A pty allocated ahead of any container (by a warm monitor, off the
 * start's path): master (non-blocking) and slave open, unlocked. */
typedef struct PtySpare {
        int master, slave;
        char *slave_path;
} PtySpare;
int pty_spare_open(PtySpare *ret, WarrenError *reterr);
void pty_spare_clear(PtySpare *p);

/* Allocates the console (unless !console) and n_ttys ttys and registers
 * their fds with epoll_fd, tagged ((uint64_t) tag_master << 32 | n) and
 * ((uint64_t) tag_proxy << 32 | n). logfile: lxc.console.logfile or NULL.
 * The open ones of spares[n_spares] are used first; those used are taken
 * (their fields reset), the rest stay the caller's. */
int monitor_ttys_new(int epoll_fd, uint32_t tag_master, uint32_t tag_proxy, bool console, unsigned n_ttys,
                     size_t ring_size, const char *logfile, PtySpare *spares, size_t n_spares,
                     MonitorTtys **ret, WarrenError *reterr);
MonitorTtys *monitor_ttys_free(MonitorTtys *t);

/* Makes every slave (console and ttys) owned by uid:gid, mode 0620: the
 * host ids of an unprivileged container's root and tty group, so its init
 * and gettys can open the ptys bound into it. */
int monitor_ttys_chown(MonitorTtys *t, uid_t uid, gid_t gid, WarrenError *reterr);

/* The host path of tty n's slave ("/dev/pts/N"), n = 0 the console; NULL if none. */
const char *monitor_ttys_slave_path(const MonitorTtys *t, unsigned n);

/* An epoll event for one of our fds (tag as registered). */
void monitor_ttys_dispatch(MonitorTtys *t, uint32_t tag, unsigned n, uint32_t events);

/* Reads what the container's ptys still hold (non-blocking, until each is
 * empty or hung up) into the same places as ever: ring buffer, log file,
 * holders, then waits for the holders to take what is queued for them. At
 * most timeout_ms and about a buffer's worth per tty, so a container that
 * keeps writing cannot hold it up. For the end, before the ptys close:
 * output written right before init exited may not have been seen yet. */
void monitor_ttys_drain(MonitorTtys *t, unsigned timeout_ms);

/* A proxy master for tty n and its name ("console", "tty1", ...).
 * -EINVAL for a tty that does not exist, -EBUSY if held. */
int monitor_ttys_acquire(MonitorTtys *t, unsigned n, int *ret_master, const char **ret_name,
                         WarrenError *reterr);

/* A sealed memfd holding the console ring buffer's content. */
int monitor_ttys_console_log(const MonitorTtys *t, int *ret_fd, WarrenError *reterr);
