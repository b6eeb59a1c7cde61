/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/process.h"
#include "image-helper.h"
#include "image-job.h"
#include "store.h"
#include "worker.h"

struct ImageHelper {
        pid_t pid;
        bool reaped;
        sd_event_source *io; /* owns the socket */
        char *scratch;       /* the remote listing's scratch directory, removed at reaping */
        ImageHelperMessageFunc on_message;
        ImageHelperExitFunc on_exit;
        void *userdata;
};

static int helper_reap(ImageHelper *h, bool kill_first) {
        if (h->pid <= 0 || h->reaped)
                return 0;
        h->reaped = true;
        int status = process_group_reap(h->pid, kill_first);
        if (h->scratch)
                (void) rm_rf_at(AT_FDCWD, h->scratch);
        return status;
}

static int helper_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        static uint8_t buf[IMAGE_JOB_MSG_MAX + 1];
        ImageHelper *h = userdata;
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0)
                        break;
                /* A datagram over the limit arrives cut: the receiver sees size > IMAGE_JOB_MSG_MAX. */
                h->on_message(h, buf, MIN((size_t) n, sizeof buf), h->userdata);
        }
        h->io = sd_event_source_disable_unref(h->io);
        int status = helper_reap(h, false);
        h->on_exit(h, status, h->userdata);
        return 0;
}

static int helper_start(sd_event *e, const char *worker_path, WorkerKind kind, const void *params,
                        const char *scratch_dir, ImageHelperMessageFunc on_message,
                        ImageHelperExitFunc on_exit, void *userdata, ImageHelper **ret,
                        WarrenError *reterr) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        ImageHelper *h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->on_message = on_message;
        h->on_exit = on_exit;
        h->userdata = userdata;
        r = worker_spawn(worker_path, kind, params, NULL, 0, &h->pid, &fd, reterr);
        if (r < 0) {
                free(h);
                return r;
        }
        if (scratch_dir && image_remote_scratch_path(scratch_dir, h->pid, &h->scratch) < 0) {
                image_helper_free(h);
                return -ENOMEM;
        }
        r = sd_event_add_io(e, &h->io, fd, EPOLLIN, helper_io, h);
        if (r < 0) {
                image_helper_free(h);
                return warren_error_set(reterr, r, "Failed to watch the image helper: %s", strerror(-r));
        }
        (void) sd_event_source_set_io_fd_own(h->io, true);
        TAKE_FD(fd);
        *ret = h;
        return 0;
}

int image_helper_start_local(sd_event *e, const char *worker_path, const ImageLocalParams *p,
                             ImageHelperMessageFunc on_message, ImageHelperExitFunc on_exit, void *userdata,
                             ImageHelper **ret, WarrenError *reterr) {
        return helper_start(e, worker_path, WORKER_IMAGE_LOCAL, p, NULL, on_message, on_exit, userdata, ret,
                            reterr);
}

int image_helper_start_remote(sd_event *e, const char *worker_path, const ImageRemoteParams *p,
                              ImageHelperMessageFunc on_message, ImageHelperExitFunc on_exit, void *userdata,
                              ImageHelper **ret, WarrenError *reterr) {
        return helper_start(e, worker_path, WORKER_IMAGE_REMOTE, p, p->keyring ? p->scratch_dir : NULL,
                            on_message, on_exit, userdata, ret, reterr);
}

pid_t image_helper_pid(const ImageHelper *h) {
        return h ? h->pid : 0;
}

ImageHelper *image_helper_free(ImageHelper *h) {
        if (!h)
                return NULL;
        h->io = sd_event_source_disable_unref(h->io);
        (void) helper_reap(h, true);
        free(h->scratch);
        free(h);
        return NULL;
}
