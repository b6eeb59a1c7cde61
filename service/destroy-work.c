/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "bus-error.h"
#include "container-dbus.h"
#include "container.h"
#include "daemon.h"
#include "destroy-work.h"
#include "store.h"

typedef struct DestroyWork DestroyWork;
struct DestroyWork {
        Daemon *daemon;
        char *name;
        pid_t pid;
        int pidfd;
        int report_fd; /* the child writes "ERRNO\nMESSAGE" here if it fails */
        sd_event_source *exit_source;
        sd_bus_message *request;
        DestroyWork *next;
};

static DestroyWork *destroys = NULL;

static DestroyWork *work_free(DestroyWork *w) {
        if (!w)
                return NULL;
        for (DestroyWork **p = &destroys; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        w->exit_source = sd_event_source_disable_unref(w->exit_source);
        safe_close(w->pidfd);
        safe_close(w->report_fd);
        sd_bus_message_unref(w->request);
        free(w->name);
        free(w);
        return NULL;
}

bool destroy_work_in_progress(const char *name) {
        for (DestroyWork *w = destroys; w; w = w->next)
                if (streq(w->name, name))
                        return true;
        return false;
}

int destroy_work_check_busy(const char *name, sd_bus_error *error) {
        if (!destroy_work_in_progress(name))
                return 0;
        return sd_bus_error_setf(error, WARREN_ERROR_BUSY, "Container '%s' is being destroyed", name);
}

_Noreturn static void child(const char *state_dir, const char *name, int report_fd) {
        WarrenError e = WARREN_ERROR_NULL;
        sigset_t all;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        (void) signal(SIGPIPE, SIG_IGN);
        sigfillset(&all);
        (void) sigprocmask(SIG_UNBLOCK, &all, NULL);
        (void) setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
        /* Not the bus's, nor any other of warrend's: a hook inherits none. */
        if (dup3(report_fd, 3, O_CLOEXEC) < 0)
                _exit(EXIT_FAILURE);
        (void) close_range(4, ~0U, 0);
        /* The store's directory fd went with the rest: open it again. */
        Store *s = NULL;
        int r = store_open(state_dir, &s, &e);
        if (r >= 0)
                r = container_destroy(s, name, &e);
        if (r < 0)
                dprintf(3, "%d\n%s", -r, e.error ? warren_error_message(&e) : strerror(-r));
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static void work_finish(DestroyWork *w, int status) {
        Daemon *d = w->daemon;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char buf[4096];
        ssize_t n = read(w->report_fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';

        if (status == 0) {
                log_info("Destroyed container '%s'", w->name);
                (void) container_emit_removed(d, w->name);
                audit_end(w->request, NULL);
                (void) sd_bus_reply_method_return(w->request, NULL);
        } else {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                char *msg = strchr(buf, '\n');
                int err = msg ? atoi(buf) : 0;
                if (err <= 0)
                        err = EIO;
                int r = msg ? warren_error_set(&e, err, "%s", msg + 1)
                            : warren_error_set(&e, EIO, "Failed to destroy container '%s': its worker %s",
                                               w->name, status < 0 ? "was killed" : "failed");
                (void) bus_error_from_warren(&error, r, &e);
                audit_end(w->request, &error);
                (void) sd_bus_reply_method_error(w->request, &error);
                sd_bus_error_free(&error);
        }
        daemon_release(d);
        work_free(w);
}

static int on_child_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        DestroyWork *w = userdata;
        siginfo_t si = { 0 };
        if (waitid(P_PIDFD, (id_t) fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return 0; /* not yet */
        int status = si.si_code == CLD_EXITED ? si.si_status : -1;
        work_finish(w, status);
        return 0;
}

int destroy_work_start(Daemon *d, sd_bus_message *m, const char *name, uid_t owner, sd_bus_error *error) {
        int pipefd[2];
        DestroyWork *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (DestroyWork){ .daemon = d, .pid = 0, .pidfd = -EBADF, .report_fd = -EBADF };
        w->name = strdup(name);
        if (!w->name) {
                free(w);
                return -ENOMEM;
        }
        if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
                int r = -errno;
                work_free(w);
                return sd_bus_error_set_errnof(error, -r, "Failed to destroy container '%s': %m", name);
        }
        w->pid = fork();
        if (w->pid < 0) {
                int r = -errno;
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                work_free(w);
                return sd_bus_error_set_errnof(error, -r, "Failed to fork to destroy container '%s': %m",
                                               name);
        }
        if (w->pid == 0)
                child(d->state_dir, name, pipefd[1]);
        safe_close(pipefd[1]);
        w->report_fd = pipefd[0];
        /* Our child, not reaped before we are told: the pid is its. */
        w->pidfd = pidfd_open(w->pid, 0);
        int r = w->pidfd < 0
                        ? -errno
                        : sd_event_add_io(d->event, &w->exit_source, w->pidfd, EPOLLIN, on_child_exit, w);
        if (r < 0) {
                /* Cannot watch it: wait here, as before (rare). */
                int status;
                while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
                        ;
                w->next = destroys;
                destroys = w;
                w->request = sd_bus_message_ref(m);
                daemon_hold(d);
                audit_defer(m);
                work_finish(w, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                return 1;
        }
        w->request = sd_bus_message_ref(m);
        w->next = destroys;
        destroys = w;
        daemon_hold(d);
        audit_defer(m);
        log_debug("Destroying container '%s' (owner %u) in child %d", name, (unsigned) owner, (int) w->pid);
        return 1;
}

void destroy_work_free_all(Daemon *d) {
        (void) d;
        while (destroys)
                work_free(destroys);
}
