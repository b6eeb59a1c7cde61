/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The client side of warren-monitor's control protocol (monitor-proto.h),
 * for warrend and tests.
 *
 * Every call works on a plain fd, so it fits both styles:
 *   - blocking: monitor_connect(..., false, ...), then monitor_call() or the
 *     typed wrappers below (each sends one request and waits for its reply,
 *     dropping STATE events that arrive meanwhile);
 *   - event loop (sd-event): monitor_connect(..., true, ...), watch the fd
 *     for EPOLLIN, monitor_send() requests and monitor_receive() until
 *     -EAGAIN; each message is a reply (in request order) or, on a
 *     subscribed connection, a MONITOR_EVENT_STATE event.
 * On a non-blocking fd monitor_send() returns -EAGAIN only if the socket
 * buffer is full, which with one outstanding request never happens.
 * Use one connection for SUBSCRIBE and separate ones for blocking calls.
 *
 * Errors: a failed connect is -ESRCH ("not running"); replies carry the
 * monitor's errno and message, which monitor_call() returns as -errno with
 * reterr set: ESRCH not running, EALREADY already running, EBUSY tty held or
 * container busy stopping, EINVAL bad tty or signal, EPERM caller not root,
 * EPROTO/EBADMSG protocol mismatch or garbage. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "monitor-proto.h"

/* A decoded reply, event or sync result. */
typedef struct MonitorMessage {
        MonitorCommand command;
        int error; /* 0 or a positive errno */
        MonitorState state;
        pid_t init_pid; /* 0 if none */
        pid_t monitor_pid;
        unsigned n_ttys;
        char text[MONITOR_TEXT_MAX + 1]; /* NUL-terminated; message, cgroup path or tty name */
        int fd;                          /* received fd (owned by the caller) or -EBADF */
} MonitorMessage;

/* Closes m->fd if set. */
void monitor_message_done(MonitorMessage *m);

const char *monitor_state_to_string(MonitorState s);
/* -EINVAL for an unknown name. */
int monitor_state_from_string(const char *s);
const char *monitor_command_to_string(MonitorCommand c);

/* Paths of a container's monitor files (malloc'd, NULL on ENOMEM):
 * <runtime_dir>/containers/NAME, .../control, .../state. */
char *monitor_dir_path(const char *runtime_dir, const char *name);
char *monitor_socket_path(const char *runtime_dir, const char *name);
char *monitor_state_path(const char *runtime_dir, const char *name);

/* Pure encoding/decoding (no I/O), also used by the monitor itself. */
void monitor_request_init(MonitorRequest *req, MonitorCommand command, uint32_t arg, uint32_t flags);
/* Validates a received request: size, version, command. Returns 0, or
 * -EBADMSG (wrong size) / -EPROTO (version) / -EOPNOTSUPP (command) with a
 * message naming the bad value. */
int monitor_request_check(const void *buf, size_t size, MonitorRequest *ret, WarrenError *reterr);
/* Fills buf (MONITOR_MESSAGE_MAX bytes) with a reply; text may be NULL and
 * is cut at MONITOR_TEXT_MAX. Returns the message size. */
size_t monitor_reply_encode(void *buf, MonitorCommand command, int error, MonitorState state, pid_t init_pid,
                            pid_t monitor_pid, unsigned n_ttys, const char *text);
/* Decodes a received reply/event; fd is set to -EBADF. -EBADMSG/-EPROTO on
 * garbage, naming what was wrong. */
int monitor_reply_decode(const void *buf, size_t size, MonitorMessage *ret, WarrenError *reterr);

/* Connects to NAME's control socket (O_CLOEXEC, and O_NONBLOCK if asked).
 * -ESRCH if no monitor listens there. Non-blocking, the connect itself
 * never waits either: -EAGAIN if the monitor's accept queue is full (it
 * is not serving its socket). */
int monitor_connect(const char *runtime_dir, const char *name, bool nonblock, int *ret_fd,
                    WarrenError *reterr);
/* Sends one request. */
int monitor_send(int fd, MonitorCommand command, uint32_t arg, uint32_t flags, WarrenError *reterr);
/* Receives one message (and its fd, if any). -EAGAIN on a non-blocking fd
 * with nothing queued; -ECONNRESET when the monitor closed the connection
 * (it exited). A reply with error != 0 is still returned as 0 here: look
 * at ret->error. */
int monitor_receive(int fd, MonitorMessage *ret, WarrenError *reterr);

/* Blocking request/reply on a blocking fd: skips STATE events, returns
 * -ret->error with reterr set to the monitor's message if it failed.
 * ret may be NULL (then a received fd is closed). */
int monitor_call(int fd, MonitorCommand command, uint32_t arg, uint32_t flags, MonitorMessage *ret,
                 WarrenError *reterr);

/* Typed wrappers around monitor_call(). */
int monitor_get_state(int fd, MonitorMessage *ret, WarrenError *reterr);
int monitor_get_pidfd(int fd, int *ret_pidfd, WarrenError *reterr);
/* Waits until init is dead and the monitor has torn everything down. */
int monitor_stop(int fd, uint32_t timeout_s, bool kill, WarrenError *reterr);
int monitor_reboot(int fd, WarrenError *reterr);
int monitor_kill(int fd, int sig, WarrenError *reterr);
int monitor_freeze(int fd, WarrenError *reterr);
int monitor_unfreeze(int fd, WarrenError *reterr);
/* A pty master proxying tty n (0 = console); ret_name (optional, malloc'd)
 * is the container's device name: "console", "tty1", ... */
int monitor_get_tty(int fd, unsigned n, int *ret_master, char **ret_name, WarrenError *reterr);
/* The console ring buffer's content (malloc'd, NUL-terminated for convenience). */
int monitor_get_console_log(int fd, char **ret_data, size_t *ret_size, WarrenError *reterr);
/* The same from the memfd a GET_CONSOLE_LOG reply carries. */
int monitor_read_console_log(int memfd, char **ret_data, size_t *ret_size, WarrenError *reterr);

/* Kernel facts about a monitor, for a client that must not wait on it:
 * monitor_peer_pidfd(): a pidfd (and the pid) of the monitor at the other
 * end of a connected control socket, even one that does not answer.
 * monitor_read_state_file(): what the monitor last wrote to its state
 * file (state, init_pid, monitor_pid in ret; the container's cgroup path
 * in text, empty if none yet). monitor_lock_held(): 1 if a
 * monitor process holds NAME's lock (it runs, or is still tearing down),
 * 0 if no process does. monitor_runtime_dir_exists(): 1 if NAME has a
 * runtime dir. monitor_remove_runtime_dir(): removes what a dead
 * monitor left there. monitor_list_dirs(): every valid name under
 * runtime_dir/containers, live or not. */
int monitor_peer_pidfd(int fd, int *ret_pidfd, pid_t *ret_pid);
/* How the process of pidfd ended, as a wait status, for a process that is
 * not ours to wait for (Linux 6.15 PIDFD_INFO_EXIT: known once whoever is
 * its parent reaped it). 1 with *ret_status set, 0 if not known (yet, or
 * on older kernels). */
int monitor_pidfd_exit_status(int pidfd, int *ret_status);
int monitor_read_state_file(const char *runtime_dir, const char *name, MonitorMessage *ret);
int monitor_lock_held(const char *runtime_dir, const char *name);
/* The same for the lock file at path (a warm monitor's: monitor-pool.h). */
int monitor_lock_file_held(const char *path);
int monitor_runtime_dir_exists(const char *runtime_dir, const char *name);
int monitor_remove_runtime_dir(const char *runtime_dir, const char *name, WarrenError *reterr);
int monitor_list_dirs(const char *runtime_dir, char ***ret_names);

/* Starting a monitor. */
typedef struct MonitorSpawnOptions {
        const char *monitor_path; /* the warren-monitor binary (warrend: WARREN_MONITOR_PATH) */
        const char *name;
        const char *state_dir;
        const char *runtime_dir;
        const char *config_dir;
        const char *log_path; /* optional: the monitor's stderr, appended */
        bool pool;            /* a warm monitor (monitor-pool.h): no name; it reports
                                 MONITOR_POOL_READY on the sync fd, not a start result */
} MonitorSpawnOptions;

/* Forks and execs the monitor for o->name with a sync socket. Returns the
 * monitor's pid (the caller's child: the caller must reap it, e.g. with an
 * sd-event child source) and the caller's end of the sync socket
 * (SOCK_SEQPACKET, O_CLOEXEC, blocking; poll it for EPOLLIN and call
 * monitor_read_sync()). The monitor detaches (setsid) and outlives the
 * caller. */
int monitor_spawn(const MonitorSpawnOptions *o, pid_t *ret_pid, int *ret_sync_fd, WarrenError *reterr);
/* Reads the start result from the sync fd: 0 with ret filled (state
 * RUNNING, init and monitor pid) once init runs, or the setup failure as
 * -errno with reterr set to the monitor's message. -EAGAIN if the fd is
 * non-blocking and nothing arrived yet; -ECHILD with a message if the
 * monitor exited without reporting. ret may be NULL. */
int monitor_read_sync(int sync_fd, MonitorMessage *ret, WarrenError *reterr);

/* Names (sorted) of the containers under runtime_dir whose monitor answers
 * on its control socket: what warrend re-adopts after a restart. Missing
 * runtime dir: empty list. */
int monitor_list_running(const char *runtime_dir, char ***ret_names, WarrenError *reterr);
