/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running a command inside a running container (lxc-attach).
 *
 * The caller (warrend) forks a short-lived helper that joins the
 * container's pid namespace for its children and clone3()s the attached
 * process with CLONE_PARENT|CLONE_PIDFD: the attached process is thus the
 * CALLER's child (no subreaper, no long-lived intermediate), born in the
 * container's pid namespace, and its exit status comes straight from
 * waitid(P_PIDFD) on the returned pidfd (the caller must reap it: an
 * sd-event child source on the pidfd, or attach_wait()). The helper exits
 * at once and is reaped by attach_spawn() itself.
 *
 * The attached process then, in this order:
 *   - joins the container's cgroup in cgroup2 and every v1 hierarchy (init's
 *     own cgroup when it lies at or below AttachOptions.cgroup, else that
 *     cgroup itself), while still in the host's cgroup namespace;
 *   - setns()es through init's pidfd into its user (if it has its own),
 *     mount, uts, ipc, net and cgroup namespaces in one call;
 *   - becomes root of the container's user namespace, reads the container's
 *     /etc/passwd for the user's name, home and shell;
 *   - with a pty: opens the container's /dev/pts/ptmx (its own devpts
 *     instance), sends the master to the caller over the sync socket, makes
 *     the slave its controlling tty and stdio;
 *   - switches to gid/uid (ids of the container's user namespace), drops
 *     capabilities to lxc.cap.drop/keep's bounding set, honours
 *     lxc.no_new_privs, closes every other fd, chdirs, and execs.
 * Failures before exec come back over a SOCK_SEQPACKET sync socket (errno +
 * message) and nothing is left running. An exec failure is not a setup
 * failure: as in a shell, the process writes "CMD: command not found" (or
 * the error) to its stderr and exits 127 (not found) or 126 (not
 * executable), which the caller sees as the exit status.
 *
 * Environment: container=lxc, PATH (a default), the config's
 * lxc.environment, then - unless clear_env - HOME, USER, LOGNAME and SHELL
 * of the user from the container's /etc/passwd (HOME=/ if not found), then
 * AttachOptions.env (which overrides everything). */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

typedef struct LxcConfig LxcConfig;
typedef struct CgroupLayout CgroupLayout;

/* uid/gid not given: root (uid 0), and the user's passwd group (else 0). */
#define ATTACH_ID_UNSET ((uint32_t) -1)

/* Limits on what a caller can make us allocate and pass. */
#define ATTACH_ARGV_MAX 4096U
#define ATTACH_ENV_MAX 4096U
#define ATTACH_STRING_MAX (128U * 1024U) /* one argument, variable or path */

typedef struct AttachOptions {
        /* Required: the container's init, its config (capabilities,
         * environment, no_new_privs) and its cgroup below the hierarchy
         * roots, e.g. "/warren/NAME". */
        int init_pidfd;
        const LxcConfig *config;
        const char *cgroup;
        const CgroupLayout *cgroup_layout; /* NULL: detected from /proc/self/mounts */
        char *const *argv; /* NULL or empty: the user's shell (passwd), else /bin/bash, else /bin/sh */
        char *const *env;  /* KEY=VALUE items set last; may be NULL */
        const char *cwd;   /* NULL: the user's home if it exists, else "/" */
        uint32_t uid, gid; /* ids inside the container, or ATTACH_ID_UNSET */
        bool clear_env;
        bool pty;
        unsigned short rows, cols; /* with pty: initial window size, 0 = leave */
        /* stdio. Without pty: -1 = /dev/null (the host's, opened here).
         * With pty: -1 = the pty slave; a given fd overrides the slave for
         * that stream (e.g. stdout redirected to a file). */
        int stdin_fd, stdout_fd, stderr_fd;
        /* The caller is a container's attach helper (monitor-attach.h):
         * it sits in the container's v1 cgroups already and may change its
         * own namespace for children. The process is then cloned directly
         * as the caller's child: born in the caller's v1 cgroups (no move),
         * into init's cgroup2 cgroup with CLONE_INTO_CGROUP (no move), in
         * init's pid namespace (setns(CLONE_NEWPID) of the caller). */
        bool in_place;
        /* NULL, or what a long-lived attacher of this one config keeps
         * across attaches (attach_cache_done() frees it). */
        struct AttachCache *cache;
} AttachOptions;

/* What an attach derives from the config alone: the capabilities kept and
 * the seccomp programs. A container's attach helper computes them once. */
typedef struct AttachCache {
        bool ready;
        uint64_t caps_keep;
        struct SeccompProgram *seccomp;
        struct SeccompProgram *host_guard;
} AttachCache;
void attach_cache_done(AttachCache *c);

/* Sets every fd to -1, the ids to ATTACH_ID_UNSET, the rest to 0/NULL. */
void attach_options_init(AttachOptions *o);

typedef struct AttachProcess {
        pid_t pid;      /* as seen from the caller's pid namespace */
        int pidfd;      /* O_CLOEXEC; the process is the caller's child */
        int pty_master; /* O_RDWR|O_NOCTTY|O_CLOEXEC with pty, else -EBADF */
} AttachProcess;

/* Closes the fds (does not kill or reap). */
void attach_process_done(AttachProcess *p);

/* Starts argv in the container. Returns 0 once the command was exec'd (or
 * failed to exec: see above), with ret filled; else -errno with reterr
 * naming what failed and nothing left running or unreaped.
 * Errors: -EINVAL bad options (empty argv[0], NUL-free limits, bad fd,
 * uid/gid not mapped in the container), -EBADF init_pidfd, -ESRCH init has
 * exited, otherwise the errno of the step that failed. */
int attach_spawn(const AttachOptions *o, AttachProcess *ret, WarrenError *reterr);

/* The exit status as a shell reports it: the code, or 128 + signal. */
int attach_status_from_siginfo(const siginfo_t *si);

/* Blocks until the process (the caller's child) exits and reaps it.
 * ret_status: as attach_status_from_siginfo(). */
int attach_wait(int pidfd, int *ret_status, WarrenError *reterr);

/* The pid a pidfd refers to, from /proc/self/fdinfo: -ESRCH once it has
 * exited, -EBADF if fd is not a pidfd. */
int attach_pidfd_get_pid(int pidfd, pid_t *ret, WarrenError *reterr);
