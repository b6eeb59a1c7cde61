/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Warm monitors (lib/monitor-pool.h): warrend keeps up to --pool-size of
 * them, exec'd and waiting, each with spare v1 cgroups its spawn stub was
 * moved into. A Start hands one the container (TAKE) instead of spawning
 * a monitor, and pays neither the exec nor the cgroup-v1 move.
 *
 * Refilling is the one thing here that costs: a warm monitor's stub move
 * waits for an RCU grace period while holding the kernel's cgroup_mutex,
 * which stalls every cgroup mkdir, rename, rmdir and CLONE_INTO_CGROUP on
 * the host meanwhile, ours included. So the pool refills only once
 * warrend's containers have been quiet (no start, stop or state change)
 * for RUNTIME_POOL_QUIET_USEC, and all missing monitors at once: their
 * moves share one grace period. A burst of starts drains the pool and
 * goes on with spawned monitors (the ordinary path), never waiting for a
 * refill.
 *
 * Warm monitors outlive warrend: at its start it sweeps what dead ones
 * left and adopts the live ones through their sockets (retiring those of
 * another warren-monitor binary, e.g. after an upgrade, or of another
 * mount namespace). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/log.h"
#include "daemon.h"
#include "monitor-client.h"
#include "monitor-pool.h"
#include "runtime-internal.h"

/* Nothing happened to any container for this long: refill. */
#define RUNTIME_POOL_QUIET_USEC (30ULL * 1000ULL)
/* Warm monitors that die before they are ready, in a row, stop refills
 * for a while (a broken binary must not spawn in a loop). */
#define RUNTIME_POOL_MAX_FAILURES 3U
#define RUNTIME_POOL_BACKOFF_USEC (30ULL * 1000000ULL)
/* Spares of dead warm monitors are swept again until gone, this often. */
#define RUNTIME_POOL_SWEEP_USEC (100ULL * 1000ULL)

typedef struct PoolEntry PoolEntry;
struct PoolEntry {
        Daemon *daemon;
        pid_t pid;
        int pidfd;
        int fd;     /* the sync socket it was spawned with, or a connection to its socket */
        bool child; /* ours to reap */
        bool ready;
        bool retiring; /* told to go: kept until its exit, to reap it */
        sd_event_source *pid_source, *io_source;
        PoolEntry *next;
};

static PoolEntry *pool = NULL;
static unsigned failures = 0;
static sd_event_source *refill_timer = NULL, *sweep_timer = NULL;

static unsigned pool_count(void) {
        unsigned n = 0;
        for (PoolEntry *p = pool; p; p = p->next)
                n += !p->retiring;
        return n;
}

static void entry_unlink(PoolEntry *p) {
        for (PoolEntry **i = &pool; *i; i = &(*i)->next)
                if (*i == p) {
                        *i = p->next;
                        return;
                }
}

/* Forgets p; it keeps running if it does. */
static void entry_free(PoolEntry *p) {
        entry_unlink(p);
        sd_event_source_disable_unref(p->io_source);
        sd_event_source_disable_unref(p->pid_source);
        safe_close(p->fd);
        safe_close(p->pidfd);
        free(p);
}

/* Tells p to go (it removes its spares and socket itself); it is
 * forgotten once it exited. */
static void entry_retire(PoolEntry *p) {
        log_debug("Retiring warm monitor %d", (int) p->pid);
        p->retiring = true;
        p->ready = false;
        p->io_source = sd_event_source_disable_unref(p->io_source);
        p->fd = safe_close(p->fd);
        if (pidfd_send_signal(p->pidfd, SIGTERM, NULL, 0) < 0 && errno == ESRCH && !p->child)
                entry_free(p);
}

static int on_refill_timer(sd_event_source *s, uint64_t usec, void *userdata);
static int on_sweep_timer(sd_event_source *s, uint64_t usec, void *userdata);

void runtime_pool_touch(Daemon *d) {
        if (d->pool_size == 0 || pool_count() >= d->pool_size)
                return;
        uint64_t delay =
                failures >= RUNTIME_POOL_MAX_FAILURES ? RUNTIME_POOL_BACKOFF_USEC : RUNTIME_POOL_QUIET_USEC;
        (void) runtime_timer_arm(d, &refill_timer, delay, on_refill_timer, d);
}

static void schedule_sweep(Daemon *d) {
        (void) runtime_timer_arm(d, &sweep_timer, RUNTIME_POOL_SWEEP_USEC, on_sweep_timer, d);
}

static int on_sweep_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        int left = monitor_pool_sweep(d->cgroup_layout, d->runtime_dir);
        if (left > 0)
                schedule_sweep(d);
        return 0;
}

static int on_pool_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PoolEntry *p = userdata;
        Daemon *d = p->daemon;
        siginfo_t si = {};
        if (p->child)
                (void) waitid(P_PIDFD, (id_t) p->pidfd, &si, WEXITED | WNOHANG);
        if (!p->ready && !p->retiring && ++failures == RUNTIME_POOL_MAX_FAILURES)
                log_warning("Warm monitors keep exiting before they are ready (the last: pid %d, %s %d); "
                            "retrying in %llu s",
                            (int) p->pid, si.si_code == CLD_EXITED ? "status" : "signal", si.si_status,
                            RUNTIME_POOL_BACKOFF_USEC / 1000000ULL);
        else
                log_debug("Warm monitor %d exited", (int) p->pid);
        entry_free(p);
        /* Its stub dies with it (PR_SET_PDEATHSIG): its spares empty soon. */
        schedule_sweep(d);
        runtime_pool_touch(d);
        return 0;
}

static int on_pool_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PoolEntry *p = userdata;
        for (;;) {
                int r = monitor_pool_receive(p->fd);
                if (r == -EAGAIN)
                        return 0;
                if (r > 0) {
                        p->ready = true;
                        failures = 0;
                        continue;
                }
                /* Hung up (its exit comes through the pidfd) or garbage:
                 * a warm monitor we cannot talk to is of no use. */
                log_debug("Lost the connection to warm monitor %d", (int) p->pid);
                entry_retire(p);
                return 0;
        }
}

static PoolEntry *entry_new(Daemon *d, pid_t pid, int pidfd, int fd, bool child, bool ready) {
        PoolEntry *p = calloc(1, sizeof *p);
        if (!p) {
                safe_close(pidfd);
                safe_close(fd);
                return NULL;
        }
        *p = (PoolEntry){
                .daemon = d, .pid = pid, .pidfd = pidfd, .fd = fd, .child = child, .ready = ready
        };
        p->next = pool;
        pool = p;
        if (sd_event_add_io(d->event, &p->pid_source, pidfd, EPOLLIN, on_pool_exit, p) < 0 ||
            sd_event_add_io(d->event, &p->io_source, fd, EPOLLIN, on_pool_io, p) < 0) {
                (void) pidfd_send_signal(p->pidfd, SIGTERM, NULL, 0);
                entry_free(p);
                return NULL;
        }
        return p;
}

static int pool_spawn(Daemon *d) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        const MonitorSpawnOptions o = {
                .monitor_path = d->monitor_path,
                .pool = true,
                .state_dir = d->state_dir,
                .runtime_dir = d->runtime_dir,
                .config_dir = d->config_dir,
        };
        pid_t pid;
        int sync_fd;
        int r = monitor_spawn(&o, &pid, &sync_fd, &err);
        if (r < 0) {
                failures++;
                log_warning("Failed to start a warm monitor: %s", warren_error_message(&err));
                return r;
        }
        int pidfd = pidfd_open(pid, 0); /* our child, not reaped yet: it is that pid */
        if (pidfd < 0 || fcntl(sync_fd, F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                siginfo_t si;
                (void) kill(pid, SIGKILL);
                (void) waitid(P_PID, (id_t) pid, &si, WEXITED);
                safe_close(pidfd);
                safe_close(sync_fd);
                return r;
        }
        return entry_new(d, pid, pidfd, sync_fd, true, false) ? 0 : -ENOMEM;
}

static int on_refill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        if (failures >= RUNTIME_POOL_MAX_FAILURES)
                failures = RUNTIME_POOL_MAX_FAILURES - 1; /* one more try after the back-off */
        /* All at once: their moves share one grace period. */
        while (pool_count() < d->pool_size)
                if (pool_spawn(d) < 0)
                        break;
        return 0;
}

int runtime_pool_take(Daemon *d, const char *name, pid_t *ret_pid, int *ret_pidfd, int *ret_sync_fd,
                      bool *ret_child) {
        runtime_pool_touch(d);
        for (PoolEntry *p = pool, *next; p; p = next) {
                _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
                int sv[2];
                next = p->next;
                if (!p->ready || p->retiring)
                        continue;
                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                        return -errno;
                int r = monitor_pool_send_take(p->fd, name, sv[1], &err);
                safe_close(sv[1]);
                if (r < 0) {
                        log_debug("%s", warren_error_message(&err));
                        safe_close(sv[0]);
                        entry_retire(p);
                        continue;
                }
                log_debug("Container '%s' goes to warm monitor %d", name, (int) p->pid);
                *ret_pid = p->pid;
                *ret_pidfd = TAKE_FD(p->pidfd);
                *ret_sync_fd = sv[0];
                *ret_child = p->child;
                entry_free(p);
                return 0;
        }
        return -EAGAIN;
}

/* A warm monitor running another binary than ours (an upgrade since it
 * was started) would start containers with old code: retired. */
static bool runs_our_binary(Daemon *d, pid_t pid) {
        char path[64], exe[PATH_MAX], want[PATH_MAX];
        snprintf(path, sizeof path, "/proc/%d/exe", (int) pid);
        ssize_t n = readlink(path, exe, sizeof exe - 1);
        if (n < 0 || !realpath(d->monitor_path, want))
                return false;
        exe[n] = 0;
        return streq(exe, want);
}

/* A warm monitor of another mount namespace (a warrend started in
 * another one since) sees other cgroup and /run mounts than ours: it
 * would place the container where we do not look. Retired. */
static bool in_our_mount_ns(pid_t pid) {
        char path[64];
        struct stat ours, theirs;
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int) pid);
        return stat("/proc/self/ns/mnt", &ours) >= 0 && stat(path, &theirs) >= 0 &&
               ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

void runtime_pool_init(Daemon *d) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (monitor_pool_sweep(d->cgroup_layout, d->runtime_dir) > 0)
                schedule_sweep(d);
        if (monitor_pool_list(d->runtime_dir, &pids, &n) < 0)
                n = 0;
        for (size_t i = 0; i < n; i++) {
                int fd, pidfd;
                pid_t pid;
                if (monitor_pool_connect(d->runtime_dir, pids[i], &fd) < 0)
                        continue;
                if (monitor_peer_pidfd(fd, &pidfd, &pid) < 0) {
                        safe_close(fd);
                        continue;
                }
                if (pid != pids[i] || !runs_our_binary(d, pid) || !in_our_mount_ns(pid) ||
                    pool_count() >= d->pool_size) {
                        log_debug("Retiring warm monitor %d", (int) pid);
                        (void) pidfd_send_signal(pidfd, SIGTERM, NULL, 0);
                        safe_close(pidfd);
                        safe_close(fd);
                        continue;
                }
                if (entry_new(d, pid, pidfd, fd, false, true))
                        log_debug("Adopted warm monitor %d", (int) pid);
        }
        runtime_pool_touch(d);
}

void runtime_pool_free_all(Daemon *d) {
        /* They stay: the next warrend adopts them. */
        while (pool)
                entry_free(pool);
        refill_timer = sd_event_source_disable_unref(refill_timer);
        sweep_timer = sd_event_source_disable_unref(sweep_timer);
}
