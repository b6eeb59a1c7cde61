/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor_run() (monitor.h): the monitor's life from setup through its
 * loop to teardown. The parts are monitor-setup.c, monitor-control.c and
 * monitor-init.c, sharing the Monitor of monitor-private.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "cgroup.h"
#include "config.h"
#include "idmap.h"
#include "monitor-client.h"
#include "monitor-pool.h"
#include "monitor-private.h"
#include "monitor-proto.h"
#include "monitor-tty.h"
#include "monitor.h"

/* ---- small pieces ---- */

int monitor_epoll_add(Monitor *m, int fd, uint64_t tag, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.u64 = tag };
        return epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int monitor_arm_timer(int fd, uint64_t sec, long nsec, bool repeat) {
        struct itimerspec its = {
                .it_value = { .tv_sec = (time_t) sec, .tv_nsec = nsec },
                .it_interval = { .tv_sec = repeat ? (time_t) sec : 0, .tv_nsec = repeat ? nsec : 0 },
        };
        return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

/* ---- the loop ---- */

static void dispatch(Monitor *m, uint64_t tag, uint32_t events) {
        uint32_t idx = (uint32_t) tag;
        switch ((Tag) (tag >> 32)) {
        case TAG_LISTEN:
                return monitor_on_listen(m);
        case TAG_SIGNAL:
                return monitor_on_signal(m);
        case TAG_STOP_TIMER:
                return monitor_on_stop_timer(m);
        case TAG_FREEZE_TIMER:
                return monitor_on_freeze_timer(m);
        case TAG_CLIENT:
                if (idx < MAX_CLIENTS && m->clients[idx])
                        monitor_client_on_event(m, m->clients[idx], events);
                return;
        case TAG_MASTER:
        case TAG_PROXY:
                if (m->ttys)
                        monitor_ttys_dispatch(m->ttys, (uint32_t) (tag >> 32), idx, events);
                return;
        }
}

static int monitor_loop(Monitor *m) {
        struct epoll_event ev[32];
        while (!m->done) {
                int n = epoll_wait(m->epoll_fd, ev, (int) ELEMENTSOF(ev), -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_debug_errno(errno, "epoll_wait failed: %m");
                }
                for (int i = 0; i < n; i++)
                        dispatch(m, ev[i].data.u64, ev[i].events);
                monitor_clients_gc(m);
        }
        return 0;
}

/* A warm monitor: spares, stub and pool socket, then the wait for a TAKE.
 * 1 once taken (name and sync fd set), 0 when told to go. */
static int warm_up(Monitor *m, WarrenError *reterr) {
        int r = monitor_warm_new(m->o->runtime_dir, TAKE_FD(m->sync_fd), m->o->retitle_attach_helper,
                                 &m->warm, reterr);
        if (r < 0)
                return r;
        r = monitor_warm_wait(m->warm, &m->taken_name, &m->sync_fd, reterr);
        if (r <= 0) {
                m->warm = monitor_warm_free(m->warm);
                return r;
        }
        m->opts.name = m->taken_name;
        if (m->o->on_take)
                m->o->on_take(m->taken_name);
        return 1;
}

static void report_sync(Monitor *m, int r, const WarrenError *e) {
        if (m->sync_fd < 0)
                return;
        char buf[MONITOR_MESSAGE_MAX];
        /* Success says where the container's cgroup is, as STATE events do. */
        size_t n = monitor_reply_encode(buf, MONITOR_SYNC_RESULT, r < 0 ? -r : 0, m->state, m->init_pid,
                                        m->pid, m->tty_max,
                                        r < 0       ? warren_error_message(e)
                                        : m->cgroup ? cgroup_get_path(m->cgroup)
                                                    : NULL);
        if (send(m->sync_fd, buf, n, MSG_NOSIGNAL) < 0)
                log_debug_errno(errno, "Failed to report the start result: %m");
        m->sync_fd = safe_close(m->sync_fd);
}

static Monitor *monitor_free(Monitor *m) {
        if (!m)
                return NULL;
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
                monitor_client_free(m, m->clients[i]);
        monitor_ttys_free(m->ttys);
        safe_close(m->init_pidfd);
        safe_close(m->netns_fd);
        safe_close(m->listen_fd);
        safe_close(m->stop_timer_fd);
        safe_close(m->freeze_timer_fd);
        safe_close(m->signal_fd);
        safe_close(m->epoll_fd);
        safe_close(m->sync_fd);
        safe_close(m->lock_fd);
        safe_close(m->dir_fd);
        free(m->dir_path);
        cgroup_free(m->cgroup);
        cgroup_layout_free(m->layout);
        free(m->rootfs);
        free(m->config_path);
        idmap_free(m->idmap);
        lxc_config_free(m->config);
        monitor_warm_free(m->warm);
        spawn_stub_free(m->stub);
        safe_close(m->attach_pidfd);
        safe_close(m->standby_fd);
        free(m->attach_path);
        free(m->taken_name);
        free(m);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(Monitor *, monitor_free);

int monitor_run(const MonitorOptions *o, WarrenError *reterr) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_(monitor_freep) Monitor *m = calloc(1, sizeof(Monitor));
        if (!m) {
                safe_close(o->sync_fd);
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        *m = (Monitor){
                .opts = *o,
                .pid = getpid(),
                .sync_fd = o->sync_fd,
                .epoll_fd = -EBADF,
                .signal_fd = -EBADF,
                .listen_fd = -EBADF,
                .stop_timer_fd = -EBADF,
                .freeze_timer_fd = -EBADF,
                .lock_fd = -EBADF,
                .dir_fd = -EBADF,
                .init_pidfd = -EBADF,
                .netns_fd = -EBADF,
                .attach_pidfd = -EBADF,
                .standby_fd = -EBADF,
        };
        m->o = &m->opts;

        int r = o->detach ? monitor_detach(m, &e) : 0;
        if (r >= 0 && o->pool) {
                r = warm_up(m, &e);
                if (r == 0)
                        return 0; /* retired before any take */
                if (r < 0)
                        return warren_error_set(reterr, r, "Warm monitor failed: %s",
                                                warren_error_message(&e));
        }
        if (r >= 0)
                r = monitor_setup(m, &e);
        if (r < 0) {
                if (m->owns_dir)
                        monitor_set_state(m, MONITOR_STATE_ABORTING);
                monitor_teardown(m);
                report_sync(m, r, &e);
                return warren_error_set(reterr, r, "%s", warren_error_message(&e));
        }
        report_sync(m, 0, NULL);
        monitor_after_start(m);

        r = monitor_loop(m);
        bool aborted = m->state == MONITOR_STATE_ABORTING;
        monitor_teardown(m);
        if (r < 0)
                return warren_error_set(reterr, r, "Monitor of '%s' failed: %s", o->name, strerror(-r));
        if (aborted)
                return warren_error_set(reterr, EIO, "Container '%s' failed to restart after a reboot",
                                        o->name);
        return 0;
}
