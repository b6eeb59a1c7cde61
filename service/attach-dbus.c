/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container.Attach, WaitAttached, KillAttached, AttachExited and the Manager shortcut.
 * The attached process is made by the container's attach helper
 * (lib/monitor-attach.h: no cgroup move, asynchronously, its exit status
 * sent on the request's connection), or where there is none (a container
 * of an older monitor, the helper still moving in) by warrend itself as its
 * own child (lib/attach.c), watched with a pidfd child source. Its status
 * is kept until someone waits for it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "attach.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "monitor-attach.h"
#include "monitor-client.h"
#include "owner-limits.h"
#include "owner.h"
#include "polkit.h"
#include "runtime.h"
#include "shell-dbus.h"

/* Statuses nobody waited for are dropped after this, and beyond this many
 * per user the oldest go first; at most ATTACH_MAX_PROCESSES records in
 * all (running or exited), and limit.attach running ones per user. */
#define ATTACH_EXITED_KEEP_USEC (300ULL * 1000000ULL)
#define ATTACH_EXITED_PER_USER 64U
#define ATTACH_MAX_PROCESSES 1024U
/* An attach helper answers a request within this (attach_spawn()'s own
 * bound is 10 s). */
#define ATTACH_HELPER_DEADLINE_USEC (15ULL * 1000000ULL)

typedef struct Waiter {
        sd_bus_message *request;
        BusPending pending;
        struct Waiter *next;
} Waiter;

typedef struct Attached {
        Daemon *daemon;
        char *name;
        pid_t pid;
        uid_t caller;
        int pidfd;
        sd_event_source *child;
        int helper_fd; /* made by the attach helper: its exit status comes here */
        sd_event_source *helper_source, *gone_source;
        unsigned gone_tries;
        sd_event_source *expire;
        bool exited;
        int status;
        uint64_t exited_usec;
        Waiter *waiters;
        struct Attached *next;
} Attached;

static Attached *attached = NULL;
static unsigned n_attached = 0;

static void attached_free(Attached *a) {
        for (Attached **p = &attached; *p; p = &(*p)->next)
                if (*p == a) {
                        *p = a->next;
                        break;
                }
        while (a->waiters) {
                Waiter *w = a->waiters;
                a->waiters = w->next;
                sd_bus_message_unref(w->request);
                bus_pending_release(&w->pending);
                free(w);
        }
        if (!a->exited)
                daemon_release(a->daemon);
        sd_event_source_disable_unref(a->child);
        sd_event_source_disable_unref(a->helper_source);
        sd_event_source_disable_unref(a->gone_source);
        sd_event_source_disable_unref(a->expire);
        safe_close(a->helper_fd);
        safe_close(a->pidfd);
        free(a->name);
        free(a);
        n_attached--;
}

static Attached *attached_find(pid_t pid) {
        for (Attached *a = attached; a; a = a->next)
                if (a->pid == pid)
                        return a;
        return NULL;
}

static int on_expire(sd_event_source *s, uint64_t usec, void *userdata) {
        attached_free(userdata);
        return 0;
}

static void attached_exited(Attached *a, int status) {
        Daemon *d = a->daemon;
        a->exited = true;
        a->status = status;
        daemon_release(d);
        a->helper_source = sd_event_source_disable_unref(a->helper_source);
        a->gone_source = sd_event_source_disable_unref(a->gone_source);
        a->helper_fd = safe_close(a->helper_fd);
        _cleanup_free_ char *path = container_bus_path(a->name);
        if (path)
                (void) sd_bus_emit_signal(d->bus, path, WARREN_CONTAINER_IFACE, "AttachExited", "ui",
                                          (uint32_t) a->pid, (int32_t) a->status);
        while (a->waiters) {
                Waiter *w = a->waiters;
                a->waiters = w->next;
                (void) sd_bus_reply_method_return(w->request, "i", (int32_t) a->status);
                sd_bus_message_unref(w->request);
                bus_pending_release(&w->pending);
                free(w);
        }
        uint64_t now;
        if (sd_event_now(d->event, CLOCK_MONOTONIC, &now) < 0 ||
            sd_event_add_time(d->event, &a->expire, CLOCK_MONOTONIC, now + ATTACH_EXITED_KEEP_USEC, 0,
                              on_expire, a) < 0) {
                attached_free(a);
                return;
        }
        a->exited_usec = now;
        /* Statuses are kept for their attacher, in number as well as time. */
        for (;;) {
                Attached *oldest = NULL;
                unsigned n = 0;
                for (Attached *x = attached; x; x = x->next)
                        if (x->exited && x->caller == a->caller) {
                                n++;
                                if (!oldest || x->exited_usec <= oldest->exited_usec)
                                        oldest = x;
                        }
                if (n <= ATTACH_EXITED_PER_USER || !oldest)
                        break;
                attached_free(oldest);
        }
}

static int timer_arm(Daemon *d, sd_event_source **s, uint64_t usec, sd_event_time_handler_t cb,
                     void *userdata) {
        if (*s) {
                int r = sd_event_source_set_time_relative(*s, usec);
                return r < 0 ? r : sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
        }
        return sd_event_add_time_relative(d->event, s, CLOCK_MONOTONIC, usec, 1000, cb, userdata);
}

static int on_attached_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        attached_exited(userdata, attach_status_from_siginfo(si));
        return 0;
}

/* The helper went before telling how the process ended (it died): the
 * process is not ours to wait for, the kernel tells once it is reaped. */
static int on_attached_gone(sd_event_source *s, uint64_t usec, void *userdata);

static int check_attached_gone(Attached *a) {
        int status;
        struct pollfd p = { .fd = a->pidfd, .events = POLLIN };
        if (poll(&p, 1, 0) <= 0) /* still running */
                return timer_arm(a->daemon, &a->gone_source, 100ULL * 1000ULL, on_attached_gone, a);
        if (monitor_pidfd_exit_status(a->pidfd, &status) > 0)
                attached_exited(a, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        else if (++a->gone_tries < 50)
                return timer_arm(a->daemon, &a->gone_source, 20ULL * 1000ULL, on_attached_gone, a);
        else
                attached_exited(a, 255); /* ended, how is not known */
        return 0;
}

static int on_attached_gone(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) check_attached_gone(userdata);
        return 0;
}

static int on_helper_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Attached *a = userdata;
        AttachHelperReply rep;
        int r = attach_helper_receive(a->helper_fd, &rep);
        if (r == -EAGAIN)
                return 0;
        attach_helper_reply_done(&rep);
        if (r >= 0 && rep.type == ATTACH_HELPER_EXITED) {
                attached_exited(a, rep.status);
                return 0;
        }
        a->helper_source = sd_event_source_disable_unref(a->helper_source);
        a->helper_fd = safe_close(a->helper_fd);
        (void) check_attached_gone(a);
        return 0;
}

/* Running attached processes of uid. */
static unsigned attached_running(uid_t uid) {
        unsigned n = 0;
        for (Attached *a = attached; a; a = a->next)
                n += !a->exited && a->caller == uid;
        return n;
}

/* An Attach handed to the container's attach helper, its answer not in
 * yet. */
typedef struct AttachCall {
        Daemon *daemon;
        sd_bus_message *request;
        BusPending pending;
        char *name;
        uid_t caller;
        int fd;
        sd_event_source *io, *timer;
        struct AttachCall *next;
} AttachCall;

static AttachCall *calls = NULL;

static void attach_call_free(AttachCall *c) {
        for (AttachCall **p = &calls; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        safe_close(c->fd);
        sd_bus_message_unref(c->request);
        bus_pending_release(&c->pending);
        daemon_release(c->daemon);
        free(c->name);
        free(c);
}

/* The same errors as warrend's own attach_spawn() gives. */
static void attach_call_fail(AttachCall *c, int err, const char *text) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        if (err == ESRCH)
                sd_bus_error_setf(&error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running",
                                  c->name);
        else if (err == EINVAL || err == EBADF)
                sd_bus_error_set(&error, SD_BUS_ERROR_INVALID_ARGS, text);
        else
                sd_bus_error_setf(&error, SD_BUS_ERROR_FAILED, "Failed to attach to '%s': %s", c->name,
                                  text);
        (void) sd_bus_reply_method_error(c->request, &error);
        sd_bus_error_free(&error);
        attach_call_free(c);
}

static int reply_attached(sd_bus_message *m, Attached *at, int master);

static int on_attach_call_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        attach_call_fail(userdata, ETIMEDOUT, "its attach helper did not answer in time");
        return 0;
}

static int on_attach_call_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AttachCall *c = userdata;
        AttachHelperReply rep;
        int r = attach_helper_receive(c->fd, &rep);
        if (r == -EAGAIN)
                return 0;
        if (r < 0 || rep.type != ATTACH_HELPER_RESULT) {
                attach_helper_reply_done(&rep);
                attach_call_fail(c, EIO,
                                 r == -ECONNRESET ? "its attach helper went away"
                                                  : "garbage from its attach helper");
                return 0;
        }
        if (rep.error != 0) {
                attach_call_fail(c, rep.error, rep.text[0] ? rep.text : strerror(rep.error));
                return 0;
        }
        Attached *at = calloc(1, sizeof *at);
        if (!at) {
                (void) pidfd_send_signal(rep.pidfd, SIGKILL, NULL, 0);
                attach_helper_reply_done(&rep);
                attach_call_fail(c, ENOMEM, "Out of memory");
                return 0;
        }
        *at = (Attached){ .daemon = c->daemon,
                          .name = TAKE_PTR(c->name),
                          .pid = rep.pid,
                          .caller = c->caller,
                          .pidfd = TAKE_FD(rep.pidfd),
                          .helper_fd = TAKE_FD(c->fd) };
        at->next = attached;
        attached = at;
        n_attached++;
        daemon_hold(at->daemon);
        c->io = sd_event_source_disable_unref(c->io);
        r = sd_event_add_io(at->daemon->event, &at->helper_source, at->helper_fd, EPOLLIN, on_helper_io, at);
        if (r < 0)
                (void) check_attached_gone(at);
        (void) reply_attached(c->request, at, rep.pty_master);
        attach_helper_reply_done(&rep);
        attach_call_free(c);
        return 0;
}

typedef struct AttachArgs {
        char **argv;
        char **env;
        const char *cwd;
        uint32_t uid, gid;
        int pty; /* -1: not given */
        uint32_t rows, cols;
        int clear_env;
        int stdin_fd, stdout_fd, stderr_fd;
} AttachArgs;

static void attach_args_done(AttachArgs *a) {
        strv_free(a->argv);
        strv_free(a->env);
}

/* What a caller may hand an attached process as stdio: a pipe, a socket,
 * a tty (or /dev/null) or a regular file, open for the right direction;
 * never a directory, an O_PATH fd or an anonymous inode (epoll, eventfd,
 * pidfd...), which are no stdio and may reach host objects. */
static int check_stdio_fd(int fd, const char *key, sd_bus_error *error) {
        struct stat st;
        char link[64], target[32] = "";
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fstat(fd, &st) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Option '%s': invalid file descriptor", key);
        if (flags & O_PATH)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_INVALID_ARGS,
                        "Option '%s' is an O_PATH file descriptor: pass a pipe, socket, tty or "
                        "regular file",
                        key);
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        (void) !readlink(link, target, sizeof target - 1);
        bool ok = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
                  (S_ISREG(st.st_mode) && strncmp(target, "anon_inode:", 11) != 0) ||
                  (S_ISCHR(st.st_mode) && (isatty(fd) || st.st_rdev == makedev(1, 3)));
        if (!ok)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Option '%s' must be a pipe, socket, tty or regular file, not %s",
                                         key,
                                         S_ISDIR(st.st_mode)   ? "a directory"
                                         : S_ISCHR(st.st_mode) ? "a device"
                                         : S_ISBLK(st.st_mode) ? "a block device"
                                         : target[0]           ? target
                                                               : "this kind of file");
        int mode = flags & O_ACCMODE;
        bool in = streq(key, "stdin");
        if (in ? mode == O_WRONLY : mode == O_RDONLY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option '%s' is not open for %s",
                                         key, in ? "reading" : "writing");
        return 0;
}

static int read_fd_option(sd_bus_message *m, int *ret, const char *key, sd_bus_error *error) {
        int fd, r = sd_bus_message_read(m, "v", "h", &fd);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Option '%s' must be a file descriptor (h)", key);
        r = check_stdio_fd(fd, key, error);
        if (r < 0)
                return r;
        *ret = fd; /* borrowed from the message */
        return 0;
}

/* Reads argv and options; validates everything that needs no container. */
static int read_attach_args(sd_bus_message *m, AttachArgs *a, sd_bus_error *error) {
        *a = (AttachArgs){ .uid = ATTACH_ID_UNSET,
                           .gid = ATTACH_ID_UNSET,
                           .pty = -1,
                           .stdin_fd = -1,
                           .stdout_fd = -1,
                           .stderr_fd = -1 };
        int r = sd_bus_message_read_strv(m, &a->argv);
        if (r < 0)
                return r;
        if (strv_length(a->argv) > ATTACH_ARGV_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Too many arguments (more than %u)", ATTACH_ARGV_MAX);
        if (strv_length(a->argv) == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Invalid command: argv is empty (name the program to run, e.g. "
                                        "[\"/bin/sh\"])");
        if (!a->argv[0][0])
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Invalid command: argv[0] is empty");
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "env")) {
                        strv_free(a->env);
                        a->env = NULL;
                        r = sd_bus_message_enter_container(m, 'v', "as");
                        if (r >= 0)
                                r = sd_bus_message_read_strv(m, &a->env);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                        "Option 'env' must be as");
                        STRV_FOREACH(e, a->env)
                                if (!strchr(*e, '=') || **e == '=')
                                        return sd_bus_error_setf(
                                                error, SD_BUS_ERROR_INVALID_ARGS,
                                                "Invalid environment item '%s': expected KEY=VALUE", *e);
                } else if (streq(key, "cwd")) {
                        r = sd_bus_message_read(m, "v", "s", &a->cwd);
                        if (r < 0 || a->cwd[0] != '/')
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option 'cwd' must be an absolute path (s)");
                } else if (streq(key, "uid") || streq(key, "gid")) {
                        r = sd_bus_message_read(m, "v", "u", streq(key, "uid") ? &a->uid : &a->gid);
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option '%s' must be u", key);
                } else if (streq(key, "rows") || streq(key, "cols")) {
                        uint32_t *v = streq(key, "rows") ? &a->rows : &a->cols;
                        r = sd_bus_message_read(m, "v", "u", v);
                        if (r < 0 || *v > 10000)
                                return sd_bus_error_setf(
                                        error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Option '%s' must be a window size (u, at most 10000)", key);
                } else if (streq(key, "pty") || streq(key, "clear-env")) {
                        int b;
                        r = sd_bus_message_read(m, "v", "b", &b);
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option '%s' must be b", key);
                        if (streq(key, "pty"))
                                a->pty = b;
                        else
                                a->clear_env = b;
                } else if (streq(key, "stdin"))
                        r = read_fd_option(m, &a->stdin_fd, key, error);
                else if (streq(key, "stdout"))
                        r = read_fd_option(m, &a->stdout_fd, key, error);
                else if (streq(key, "stderr"))
                        r = read_fd_option(m, &a->stderr_fd, key, error);
                else
                        return sd_bus_error_setf(
                                error, SD_BUS_ERROR_INVALID_ARGS,
                                "Unknown option '%s' (known: env, cwd, uid, gid, pty, stdin, stdout, "
                                "stderr, clear-env)",
                                key);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* 1 once handed to the container's attach helper (the reply comes
 * later), 0 if it has none listening: attach ourselves. */
static int attach_via_helper(Daemon *d, sd_bus_message *m, const char *name, uid_t caller,
                             const AttachOptions *o, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_close_ int fd = -EBADF;
        if (attach_helper_connect(d->runtime_dir, name, &fd) < 0)
                return 0;
        if (attach_helper_send(fd, o, &err) < 0) {
                log_debug("Attach helper of '%s': %s", name, warren_error_message(&err));
                return 0;
        }
        AttachCall *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (AttachCall){ .daemon = d, .caller = caller, .fd = TAKE_FD(fd) };
        daemon_hold(d);
        c->next = calls;
        calls = c;
        int r = bus_pending_acquire(m, &c->pending, error);
        if (r >= 0)
                r = (c->name = strdup(name)) ? 0 : -ENOMEM;
        if (r >= 0)
                r = sd_event_add_io(d->event, &c->io, c->fd, EPOLLIN, on_attach_call_io, c);
        if (r >= 0)
                r = timer_arm(d, &c->timer, ATTACH_HELPER_DEADLINE_USEC, on_attach_call_timer, c);
        if (r < 0) {
                /* The helper may make the process anyway: it ends when the
                 * helper finds our connection gone... only once it exits.
                 * Nothing to do but say so. */
                attach_call_free(c);
                return r;
        }
        c->request = sd_bus_message_ref(m);
        return 1;
}

static int do_attach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(attach_args_done) AttachArgs a = {};
        _cleanup_free_ char *name = NULL;
        const char *cgroup = NULL;
        int init_pidfd = -EBADF;
        _cleanup_lxc_config_ LxcConfig *config = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        AttachProcess p = { .pidfd = -EBADF, .pty_master = -EBADF };
        uid_t caller;
        int r = bus_message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = read_attach_args(m, &a, error);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        if (n_attached >= ATTACH_MAX_PROCESSES)
                return sd_bus_error_setf(error, WARREN_ERROR_QUOTA_EXCEEDED,
                                         "Too many attached processes (limit %u per warrend)",
                                         ATTACH_MAX_PROCESSES);
        r = owner_check_limit(d, caller, LIMIT_ATTACH, attached_running(caller), &err);
        if (r == -EDQUOT)
                return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        /* Init's pidfd and cgroup from the cache: no monitor round trip. */
        r = runtime_get_init(d, name, &init_pidfd, &cgroup, error);
        if (r < 0)
                return r;

        AttachOptions o;
        attach_options_init(&o);
        o.init_pidfd = init_pidfd;
        o.cgroup_layout = d->cgroup_layout;
        o.cgroup = cgroup;
        o.argv = a.argv;
        o.env = a.env;
        o.cwd = a.cwd;
        o.uid = a.uid;
        o.gid = a.gid;
        o.clear_env = a.clear_env > 0;
        o.pty = a.pty > 0;
        o.rows = (unsigned short) a.rows;
        o.cols = (unsigned short) a.cols;
        o.stdin_fd = a.stdin_fd;
        o.stdout_fd = a.stdout_fd;
        o.stderr_fd = a.stderr_fd;

        /* The container's attach helper, where it has one (it checks the
         * options, with the config the container runs with). */
        r = attach_via_helper(d, m, name, caller, &o, error);
        if (r != 0)
                return r;
        r = container_load_config(d->store, name, LXC_INCLUDE_EXPAND, &config, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        o.config = config;
        r = attach_spawn(&o, &p, &err);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running",
                                         name);
        if (r == -EINVAL || r == -EBADF)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to attach to '%s': %s", name,
                                         warren_error_message(&err));

        Attached *at = calloc(1, sizeof *at);
        if (!at) {
                attach_process_done(&p);
                return -ENOMEM;
        }
        *at = (Attached){ .daemon = d,
                          .name = TAKE_PTR(name),
                          .pid = p.pid,
                          .caller = caller,
                          .pidfd = p.pidfd,
                          .helper_fd = -EBADF };
        p.pidfd = -EBADF;
        at->next = attached;
        attached = at;
        n_attached++;
        daemon_hold(d);
        r = sd_event_add_child_pidfd(d->event, &at->child, at->pidfd, WEXITED, on_attached_exit, at);
        if (r < 0) {
                /* Cannot watch it: wait for it here rather than leak a zombie. */
                int status;
                (void) attach_wait(at->pidfd, &status, NULL);
                attached_free(at);
                attach_process_done(&p);
                return sd_bus_error_set_errnof(error, r, "Failed to watch the attached process: %m");
        }
        r = reply_attached(m, at, p.pty_master);
        attach_process_done(&p);
        return r;
}

static int reply_attached(sd_bus_message *m, Attached *at, int master) {
        _cleanup_close_ int none = -EBADF;
        /* Without a pty there is no master to return: a /dev/null fd
         * stands in for "none", since D-Bus has no null fd. */
        if (master < 0) {
                none = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (none < 0)
                        return -errno;
                master = none;
        }
        return sd_bus_reply_method_return(m, "hu", master, (uint32_t) at->pid);
}

static int attach_method(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(attach_args_done) AttachArgs a = {};
        _cleanup_free_ char *name = NULL, *cmdline = NULL;
        uid_t owner, caller;
        int r = bus_message_container(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        r = read_attach_args(m, &a, error);
        if (r < 0)
                return r;
        RuntimeInfo info;
        runtime_get_info(d, name, &info);
        if (info.state == MONITOR_STATE_STOPPED)
                return sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running",
                                         name);
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        cmdline = a.argv && a.argv[0] ? strv_join(a.argv, " ") : strdup("");
        if (!cmdline)
                return -ENOMEM;
        const PolkitDetails det = {
                .container = name, .owner = owner, .extra_key = "command_line", .extra_value = cmdline
        };
        return polkit_authorize(
                d, m, polkit_pick_action(caller, owner, "org.warren1.shell-own", "org.warren1.shell"), &det,
                do_attach, d, error);
}

int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return attach_method(m, userdata, error);
}

int method_wait_attached(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uint32_t pid;
        uid_t caller;
        int r = bus_message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "u", &pid);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        Attached *a = attached_find((pid_t) pid);
        /* Only the process's own attacher (or root) learns its status. */
        if (!a || !streq(a->name, name) || (caller != 0 && caller != a->caller))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "No process %u attached to container '%s' by this caller", pid,
                                         name);
        if (a->exited) {
                r = sd_bus_reply_method_return(m, "i", (int32_t) a->status);
                attached_free(a);
                return r;
        }
        Waiter *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        r = bus_pending_acquire(m, &w->pending, error);
        if (r < 0) {
                free(w);
                return r;
        }
        w->request = sd_bus_message_ref(m);
        w->next = a->waiters;
        a->waiters = w;
        return 1;
}

/* Reads KillAttached's arguments and finds the process: attached to this
 * container and still running, the signal a real one. Validation only. */
static int kill_attached_target(Daemon *d, sd_bus_message *m, char **ret_name, uid_t *ret_owner,
                                Attached **ret, int *ret_signal, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        RuntimeInfo info;
        uint32_t pid;
        int32_t sig;
        int r = bus_message_container(d, m, &name, ret_owner, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ui", &pid, &sig);
        if (r < 0)
                return r;
        if (sig <= 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid signal %" PRIi32 ": expected 1..%d", sig, _NSIG - 1);
        runtime_get_info(d, name, &info);
        if (info.state == MONITOR_STATE_STOPPED)
                return sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running",
                                         name);
        Attached *a = pid > 0 && pid <= INT32_MAX ? attached_find((pid_t) pid) : NULL;
        if (!a || !streq(a->name, name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "No attached process %" PRIu32 " in container '%s'", pid, name);
        if (a->exited)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Attached process %" PRIu32 " in container '%s' has exited", pid,
                                         name);
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        *ret = a;
        *ret_signal = sig;
        return 0;
}

static int do_kill_attached(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        Attached *a;
        int sig;
        /* Again: during a polkit check the process may have ended. */
        int r = kill_attached_target(userdata, m, &name, NULL, &a, &sig, error);
        if (r < 0)
                return r;
        /* By pidfd: the pid alone could name a new process by now. */
        if (pidfd_send_signal(a->pidfd, sig, NULL, 0) < 0) {
                if (errno == ESRCH)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Attached process %d in container '%s' has exited",
                                                 (int) a->pid, name);
                return sd_bus_error_set_errnof(error, errno, "Failed to signal attached process %d: %m",
                                               (int) a->pid);
        }
        return sd_bus_reply_method_return(m, NULL);
}

int method_kill_attached(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        Attached *a;
        int sig;
        int r = kill_attached_target(d, m, &name, &owner, &a, &sig, error);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        /* Whoever started the process may signal it, as they could have
         * from their own terminal; anyone else needs the shell right. */
        if (caller == a->caller) {
                r = sd_bus_message_rewind(m, true);
                if (r < 0)
                        return r;
                return do_kill_attached(m, d, error);
        }
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(
                d, m, polkit_pick_action(caller, owner, "org.warren1.shell-own", "org.warren1.shell"), &det,
                do_kill_attached, d, error);
}

void attach_free_all(void) {
        while (calls)
                attach_call_free(calls);
        while (attached)
                attached_free(attached);
}
