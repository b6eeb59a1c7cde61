/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "data-worker.h"
#include "log.h"
#include "process.h"

#define PROGRESS_INTERVAL_USEC 100000ULL
#define MSG_MAX (DATA_WORKER_TEXT_MAX + 128U)

enum {
        MSG_PROGRESS = 'P',
        MSG_NOTE = 'N',
        MSG_RESULT = 'R',
};

struct DataWorker {
        pid_t pid;
        int fd;
        bool reaped, got_result, done;
        int error;
        char text[DATA_WORKER_TEXT_MAX + 1];
};

struct DataReport {
        int sock;
        char phase[32];
        uint64_t last_usec;
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* ---- child (in warren-worker) ---- */

static void send_msg(int sock, char type, const void *head, size_t head_size, const char *text) {
        uint8_t buf[MSG_MAX];
        size_t n = 0, k = text ? MIN(strlen(text), (size_t) DATA_WORKER_TEXT_MAX) : 0;
        buf[n++] = (uint8_t) type;
        if (head_size > 0)
                memcpy(buf + n, head, head_size);
        n += head_size;
        if (k > 0)
                memcpy(buf + n, text, k);
        n += k;
        (void) send(sock, buf, n, MSG_NOSIGNAL);
}

typedef struct ProgressHead {
        uint64_t done, total;
        char phase[32];
} ProgressHead;

void data_report_progress(DataReport *r, const char *phase, uint64_t done, uint64_t total) {
        uint64_t t = now_usec();
        bool same = strncmp(r->phase, phase, sizeof r->phase) == 0;
        if (same && t - r->last_usec < PROGRESS_INTERVAL_USEC && done < total)
                return;
        r->last_usec = t;
        snprintf(r->phase, sizeof r->phase, "%s", phase);
        ProgressHead h = { .done = done, .total = total };
        snprintf(h.phase, sizeof h.phase, "%s", phase);
        send_msg(r->sock, MSG_PROGRESS, &h, sizeof h, NULL);
}

void data_report_note(DataReport *r, const char *fmt, ...) {
        char *text = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (text)
                send_msg(r->sock, MSG_NOTE, NULL, 0, text);
        free(text);
}

int data_worker_drop_privileges(bool allow_mknod, WarrenError *reterr) {
        static const cap_value_t want[] = { CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
                                            CAP_FOWNER, CAP_FSETID,       CAP_SETFCAP,
                                            CAP_MKNOD };
        cap_value_t keep[ELEMENTSOF(want)];
        cap_flag_value_t setpcap = CAP_CLEAR;
        size_t n = 0;
        int r = 0;
        cap_t cur = cap_get_proc();
        if (!cur)
                return -ENOMEM;
        /* Of what we want, what we have (a test running unprivileged has none). */
        for (size_t i = 0; i < ELEMENTSOF(want) - (allow_mknod ? 0 : 1); i++) {
                cap_flag_value_t v = CAP_CLEAR;
                if (cap_get_flag(cur, want[i], CAP_PERMITTED, &v) >= 0 && v == CAP_SET)
                        keep[n++] = want[i];
        }
        (void) cap_get_flag(cur, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
        cap_free(cur);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return warren_error_set(reterr, errno, "Failed to set no_new_privs: %m");
        for (cap_value_t c = 0; setpcap == CAP_SET && c < 64 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0;
             c++) {
                bool k = false;
                for (size_t i = 0; i < n; i++)
                        k = k || keep[i] == c;
                if (!k && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        return warren_error_set(reterr, errno, "Failed to drop capability %d: %m", (int) c);
        }
        cap_t caps = cap_init();
        if (!caps)
                return -ENOMEM;
        if ((n > 0 && (cap_set_flag(caps, CAP_EFFECTIVE, (int) n, keep, CAP_SET) < 0 ||
                       cap_set_flag(caps, CAP_PERMITTED, (int) n, keep, CAP_SET) < 0)) ||
            cap_set_proc(caps) < 0)
                r = warren_error_set(reterr, errno, "Failed to drop capabilities: %m");
        cap_free(caps);
        /* Nothing of ours is inherited by anything the work might exec. */
        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        return r;
}

_Noreturn void data_worker_child_main(int sock, DataWorkFunc run, void *userdata) {
        WarrenError e = WARREN_ERROR_NULL;
        DataReport rep = { .sock = sock };
        int r = run(&rep, userdata, &e);
        int32_t err = r < 0 ? -r : 0;
        send_msg(sock, MSG_RESULT, &err, sizeof err,
                 r < 0 ? (e.error ? warren_error_message(&e) : strerror(-r)) : "");
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

_Noreturn void data_worker_child_fail(int sock, int error, const char *message) {
        int32_t err = error > 0 ? error : EIO;
        send_msg(sock, MSG_RESULT, &err, sizeof err, message);
        _exit(EXIT_FAILURE);
}

/* ---- parent ---- */

int data_worker_start(const char *worker_path, WorkerKind kind, const void *params, const int *fds,
                      size_t n_fds, DataWorker **ret, WarrenError *reterr) {
        DataWorker *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        int r = worker_spawn(worker_path, kind, params, fds, n_fds, &w->pid, &w->fd, reterr);
        if (r < 0) {
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

int data_worker_fd(const DataWorker *w) {
        return w->fd;
}

pid_t data_worker_pid(const DataWorker *w) {
        return w ? w->pid : 0;
}

static int reap(DataWorker *w, bool kill_first) {
        if (w->pid <= 0 || w->reaped)
                return 0;
        w->reaped = true;
        return process_group_reap(w->pid, kill_first);
}

static int decode(DataWorker *w, const uint8_t *buf, size_t n, DataEvent *ev) {
        if (n < 1)
                return -EBADMSG;
        switch (buf[0]) {
        case MSG_PROGRESS: {
                ProgressHead h;
                if (n != 1 + sizeof h)
                        return -EBADMSG;
                memcpy(&h, buf + 1, sizeof h);
                h.phase[sizeof h.phase - 1] = 0;
                ev->type = DATA_EVENT_PROGRESS;
                snprintf(ev->phase, sizeof ev->phase, "%s", h.phase);
                ev->done = h.done;
                ev->total = h.total;
                ev->progress = h.total > 0 ? (double) MIN(h.done, h.total) / (double) h.total : -1.0;
                return 0;
        }
        case MSG_NOTE:
                if (n - 1 > DATA_WORKER_TEXT_MAX)
                        return -EBADMSG;
                ev->type = DATA_EVENT_NOTE;
                memcpy(ev->text, buf + 1, n - 1);
                ev->text[n - 1] = 0;
                return 0;
        case MSG_RESULT: {
                int32_t err;
                if (n < 1 + sizeof err || n - 1 - sizeof err > DATA_WORKER_TEXT_MAX || w->got_result)
                        return -EBADMSG;
                memcpy(&err, buf + 1, sizeof err);
                w->got_result = true;
                w->error = err > 0 && err < 4096 ? err : err == 0 ? 0 : EIO;
                memcpy(w->text, buf + 1 + sizeof err, n - 1 - sizeof err);
                w->text[n - 1 - sizeof err] = 0;
                ev->type = DATA_EVENT_NONE;
                return 1; /* held until the child is gone */
        }
        default:
                return -EBADMSG;
        }
}

int data_worker_dispatch(DataWorker *w, DataEvent *ret) {
        uint8_t buf[MSG_MAX + 1];
        *ret = (DataEvent){ .type = DATA_EVENT_NONE };
        if (w->done)
                return 0;
        for (;;) {
                ssize_t n = recv(w->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n > 0) {
                        if ((size_t) n > MSG_MAX) {
                                log_debug("Worker %d sent an oversized report", (int) w->pid);
                                continue;
                        }
                        int r = decode(w, buf, (size_t) n, ret);
                        if (r < 0)
                                log_debug("Worker %d sent an invalid report", (int) w->pid);
                        if (r == 0)
                                return 0;
                        continue;
                }
                break; /* EOF or error: the child is gone */
        }
        int status = reap(w, false);
        w->done = true;
        ret->type = DATA_EVENT_DONE;
        if (w->got_result) {
                ret->error = w->error;
                memcpy(ret->text, w->text, sizeof w->text);
        } else {
                ret->error = EIO;
                snprintf(ret->text, sizeof ret->text, "The worker ended without a result (%s %d)",
                         WIFSIGNALED(status) ? "signal" : "status",
                         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
        return 0;
}

DataWorker *data_worker_free(DataWorker *w) {
        if (!w)
                return NULL;
        (void) reap(w, true);
        safe_close(w->fd);
        free(w);
        return NULL;
}
