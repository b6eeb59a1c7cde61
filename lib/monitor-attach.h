/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A running container's attach helper: a process of its monitor's that
 * sits in the container's cgroup-v1 cgroups for the container's lifetime,
 * so that Attach costs no cgroup move (on this kind of host the first
 * write of a task into a v1 cgroup.procs waits for an RCU grace period,
 * 10-15 ms). A fork inside a cgroup costs nothing.
 *
 * It is born there: the monitor's spawn stub (monitor-stub.h), which sits
 * in the container's v1 cgroups when init is cloned, clones it right
 * after init. Without a stub (no spares, a cgroup2-only host) the monitor
 * forks it and it moves itself in (nothing waits for that: Attach goes the
 * old way until the helper listens). It stays in the host's pid and other
 * namespaces, so nothing of it shows in the container's /proc; it is not
 * in the container's cgroup2 cgroup either (cgroup2's no-internal-process
 * rule stays the container's own business). Inside, a v1 cgroup.procs
 * lists it as 0 and it counts as one task against a v1 pids.max. It dies
 * with its monitor (PR_SET_PDEATHSIG) and is killed at the container's
 * teardown before its cgroups go.
 *
 * It serves <runtime-dir>/containers/NAME/attach (SOCK_SEQPACKET, 0600 in
 * the monitor's 0700 dir, SO_PEERCRED root only): warrend sends one
 * request per connection, the helper makes the attached process with
 * attach_spawn() in place (lib/attach.h: the same checks, namespaces,
 * pty from the container's devpts, ids, capability bounding set, seccomp
 * filter, environment, no host fd; the config is the one the container was
 * started with), answers with its pid, pidfd and pty master, and later
 * sends its exit status on the same connection. The attached process is
 * the helper's child. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach.h"
#include "basic/error.h"

typedef struct LxcConfig LxcConfig;
typedef struct Cgroup Cgroup;
typedef struct CgroupLayout CgroupLayout;

#define MONITOR_ATTACH_SOCKET "attach"
/* Where the helper binds it before it listens (then renames it). */
#define MONITOR_ATTACH_SOCKET_NEW MONITOR_ATTACH_SOCKET ".new"

/* What the helper starts from: pointers into the monitor's memory, which
 * the helper has a copy of. */
typedef struct AttachHelperContext {
        pid_t monitor;           /* our parent: we die with it */
        const LxcConfig *config; /* the config the container was started with */
        const Cgroup *cgroup;    /* the container's */
        const CgroupLayout *layout;
        const char *socket_path;           /* <runtime>/containers/NAME/attach */
        bool move_in;                      /* not born in the container's v1 cgroups: join them first */
        const char *name;                  /* the container's */
        void (*retitle)(const char *name); /* our command line, a copy of the monitor's: say what we are */
} AttachHelperContext;

/* The helper's main(); never returns. */
_Noreturn void attach_helper_main(void *ctx);

/* A helper made ahead of any container: a warm monitor's stub clones it
 * into the spare cgroups at warm-up, where it waits on fd. The monitor
 * that takes a container sends it the container (the name and the config
 * init starts with, attach_helper_standby_send()); it then serves that
 * container as attach_helper_main(). EOF (the monitor retired unused, or
 * died) ends it. */
typedef struct AttachHelperStandby {
        pid_t monitor;
        int fd;
        const char *runtime_dir;
        const CgroupLayout *layout;
        void (*retitle)(const char *name);
} AttachHelperStandby;

_Noreturn void attach_helper_standby_main(void *standby);
int attach_helper_standby_send(int fd, const char *name, const LxcConfig *config, WarrenError *reterr);

/* ---- warrend's side ---- */

/* Connects (non-blocking, O_CLOEXEC) to NAME's helper: -ESRCH if none
 * listens (an old monitor, or it is still moving into the cgroups). */
int attach_helper_connect(const char *runtime_dir, const char *name, int *ret_fd);

/* Sends the request: o's init_pidfd, argv, env, cwd, ids, flags, window
 * size and stdio fds (config, cgroup and layout are the helper's own). */
int attach_helper_send(int fd, const AttachOptions *o, WarrenError *reterr);

typedef enum AttachHelperReplyType {
        ATTACH_HELPER_RESULT = 1, /* pid, pidfd, pty master (with a pty); or error + text */
        ATTACH_HELPER_EXITED,     /* status: as attach_status_from_siginfo() */
} AttachHelperReplyType;

typedef struct AttachHelperReply {
        AttachHelperReplyType type;
        int error; /* positive errno, 0 */
        pid_t pid;
        int status;
        int pidfd, pty_master; /* the receiver's, or -EBADF */
        char text[1024];
} AttachHelperReply;

/* Reads one reply: -EAGAIN if none yet, -ECONNRESET once the helper hung
 * up, -EBADMSG for garbage. */
int attach_helper_receive(int fd, AttachHelperReply *ret);
void attach_helper_reply_done(AttachHelperReply *r);
