/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The wire protocol between warren-monitor and its clients (warrend, tests).
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socket at
 * <runtime-dir>/containers/NAME/control (dir 0700, socket 0600; the monitor
 * also checks SO_PEERCRED and answers only uid 0). One datagram is one
 * message; nothing is ever split or merged.
 *
 * A client sends MonitorRequest; the monitor answers every request with
 * exactly one MonitorReply, in request order. Replies to PIDFD, GET_TTY and
 * GET_CONSOLE_LOG carry one fd in SCM_RIGHTS when error == 0. After
 * SUBSCRIBE the connection also receives unsolicited MonitorReply messages
 * with command == MONITOR_EVENT_STATE at every state change; they can
 * arrive between a request and its reply, and are told apart by command.
 *
 * The sync fd that a starting monitor reports on (see monitor_spawn()) uses
 * the same MonitorReply with command == MONITOR_SYNC_RESULT: error 0 and
 * state RUNNING once init has been exec'd, else the errno and message of
 * the setup failure.
 *
 * Both ends run on the same host, so integers are in host byte order.
 * Every message starts with the protocol version; a monitor answers an
 * unknown version with EPROTO and an unknown command with EOPNOTSUPP, so an
 * older monitor that survived an upgrade of warrend is recognisable. */

#include <stdint.h>

#define MONITOR_PROTO_VERSION 1U

/* Largest message in either direction (header included). */
#define MONITOR_MESSAGE_MAX 4096U

typedef enum MonitorCommand {
        MONITOR_CMD_INVALID = 0,   /* reply to a request that could not be parsed */
        MONITOR_CMD_GET_STATE = 1, /* reply text: cgroup path */
        MONITOR_CMD_PIDFD = 2,     /* reply fd: pidfd of init */
        MONITOR_CMD_STOP = 3,      /* arg: timeout_s; flags: MONITOR_STOP_KILL */
        MONITOR_CMD_REBOOT = 4,
        MONITOR_CMD_KILL = 5,   /* arg: signal number */
        MONITOR_CMD_FREEZE = 6, /* replied once FROZEN */
        MONITOR_CMD_UNFREEZE = 7,
        MONITOR_CMD_GET_TTY = 8, /* arg: tty, 0 = console; reply fd: pty master; text: name */
        MONITOR_CMD_SUBSCRIBE = 9,
        MONITOR_CMD_GET_CONSOLE_LOG = 10, /* reply fd: sealed memfd holding the ring buffer */
        MONITOR_CMD_TAKE = 11,            /* to a warm monitor only: see MonitorTakeRequest */
        _MONITOR_CMD_MAX,

        MONITOR_EVENT_STATE = 0x100, /* pushed to subscribers; text: cgroup path */
        MONITOR_SYNC_RESULT = 0x200, /* on the sync fd only */
        MONITOR_POOL_READY = 0x300,  /* a warm monitor, on the sync fd it was spawned with */
} MonitorCommand;

/* STOP: timeout_s value meaning "the default" (60 s). 0 means do not wait:
 * the halt signal is followed at once by lxc.signal.stop. */
#define MONITOR_STOP_TIMEOUT_DEFAULT UINT32_MAX
#define MONITOR_STOP_TIMEOUT_DEFAULT_SEC 60U
/* STOP flags */
#define MONITOR_STOP_KILL 0x1U

typedef enum MonitorState {
        MONITOR_STATE_STOPPED = 0,
        MONITOR_STATE_STARTING,
        MONITOR_STATE_RUNNING,
        MONITOR_STATE_STOPPING,
        MONITOR_STATE_ABORTING,
        MONITOR_STATE_FREEZING,
        MONITOR_STATE_FROZEN,
        _MONITOR_STATE_MAX,
} MonitorState;

typedef struct MonitorRequest {
        uint32_t version; /* MONITOR_PROTO_VERSION */
        uint32_t command; /* MonitorCommand */
        uint32_t arg;
        uint32_t flags;
} MonitorRequest;

typedef struct MonitorReply {
        uint32_t version;  /* MONITOR_PROTO_VERSION */
        uint32_t command;  /* the request's, MONITOR_EVENT_STATE or MONITOR_SYNC_RESULT */
        int32_t error;     /* 0, or a positive errno; then text is the message */
        uint32_t state;    /* MonitorState at the time of the reply */
        uint32_t init_pid; /* 0 when there is no init */
        uint32_t monitor_pid;
        uint32_t n_ttys;   /* lxc.tty.max; the console is not counted */
        uint32_t text_len; /* bytes of text after the header, no NUL */
        /* char text[text_len]; */
} MonitorReply;

#define MONITOR_TEXT_MAX (MONITOR_MESSAGE_MAX - (unsigned) sizeof(MonitorReply))

/* Warm monitors (monitor-pool.h): spawned with --pool, a warm monitor
 * reports MONITOR_POOL_READY on its sync fd once it can take a container,
 * then listens at <runtime-dir>/pool/PID/control as well. TAKE hands it
 * the container: the request is a MonitorRequest (command
 * MONITOR_CMD_TAKE, arg = the name's length) followed by the name (no
 * NUL), with one fd in SCM_RIGHTS: the SOCK_SEQPACKET socket the start
 * result is to be reported on, as if the monitor had been spawned for
 * that container with it as its sync fd. There is no other reply: a TAKE
 * with a bad name is answered on that socket with EINVAL, and the warm
 * monitor then exits. */

_Static_assert(sizeof(MonitorRequest) == 16, "MonitorRequest layout");
_Static_assert(sizeof(MonitorReply) == 32, "MonitorReply layout");
