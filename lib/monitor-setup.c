/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Setting a container up and tearing it down (monitor-private.h): the
 * monitor's own process (detach, signals, loop), the runtime directory's
 * lock, the config and what follows from it (idmap, owner, signals), the
 * cgroup, the ptys; and the teardown that leaves none of it behind. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "config-check.h"
#include "config.h"
#include "container.h"
#include "idmap.h"
#include "monitor-attach.h"
#include "monitor-client.h"
#include "monitor-pool.h"
#include "monitor-private.h"
#include "monitor-proto.h"
#include "monitor-tty.h"
#include "monitor.h"
#include "name.h"
#include "network.h"
#include "policy.h"
#include "store.h"

#define TTY_DRAIN_TIMEOUT_MS 20U /* reading what the ptys still hold at the end, at most */

/* ---- setup and teardown ---- */

int monitor_detach(Monitor *m, WarrenError *reterr) {
        /* Our own session: warrend's death or its terminal's hangup is no concern of ours. */
        if (setsid() < 0)
                log_debug_errno(errno, "setsid() failed, continuing: %m");
        if (chdir("/") < 0)
                return warren_error_set(reterr, errno, "Failed to chdir to /: %m");
        _cleanup_close_ int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null_fd < 0)
                return warren_error_set(reterr, errno, "Failed to open /dev/null: %m");
        _cleanup_close_ int log_fd = -EBADF;
        if (m->o->log_path) {
                log_fd = open(m->o->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
                if (log_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open log file '%s': %m",
                                                m->o->log_path);
        }
        if (m->sync_fd >= 0 && m->sync_fd < 3) {
                int fd = fcntl(m->sync_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return warren_error_set(reterr, errno, "Failed to move the sync fd: %m");
                m->sync_fd = fd;
        }
        if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
            dup2(log_fd >= 0 ? log_fd : null_fd, STDERR_FILENO) < 0)
                return warren_error_set(reterr, errno, "Failed to redirect stdio: %m");
        /* Nothing of warrend's may stay open here (and later leak into init). */
        if (m->sync_fd >= 3) {
                if (m->sync_fd > 3)
                        (void) close_range(3, (unsigned) m->sync_fd - 1, 0);
                (void) close_range((unsigned) m->sync_fd + 1, ~0U, 0);
                (void) fcntl(m->sync_fd, F_SETFD, FD_CLOEXEC);
        } else
                (void) close_range(3, ~0U, 0);
        TAKE_FD(null_fd);
        /* Diagnostics go to the journal when one listens, as a service's do. */
        if (log_fd < 0)
                (void) log_use_journal_if_listening();
        TAKE_FD(log_fd);
        umask(0022);
        return 0;
}

static int setup_signals(Monitor *m, WarrenError *reterr) {
        /* Start from a clean slate: whatever our spawner ignored would pass on to init. */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&m->blocked);
        sigaddset(&m->blocked, SIGCHLD);
        /* These stop the container, like a service manager stopping us would mean. */
        sigaddset(&m->blocked, SIGTERM);
        sigaddset(&m->blocked, SIGINT);
        sigaddset(&m->blocked, SIGHUP);
        if (sigprocmask(SIG_SETMASK, &m->blocked, NULL) < 0)
                return warren_error_set(reterr, errno, "Failed to block signals: %m");
        m->signal_fd = signalfd(-1, &m->blocked, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m->signal_fd < 0)
                return warren_error_set(reterr, errno, "Failed to create signalfd: %m");
        return 0;
}

static int setup_loop(Monitor *m, WarrenError *reterr) {
        m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epoll_fd < 0)
                return warren_error_set(reterr, errno, "Failed to create epoll fd: %m");
        m->stop_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        m->freeze_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (m->stop_timer_fd < 0 || m->freeze_timer_fd < 0)
                return warren_error_set(reterr, errno, "Failed to create timerfd: %m");
        int r = monitor_epoll_add(m, m->signal_fd, TAG(TAG_SIGNAL, 0), EPOLLIN);
        if (r >= 0)
                r = monitor_epoll_add(m, m->stop_timer_fd, TAG(TAG_STOP_TIMER, 0), EPOLLIN);
        if (r >= 0)
                r = monitor_epoll_add(m, m->freeze_timer_fd, TAG(TAG_FREEZE_TIMER, 0), EPOLLIN);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to set up epoll: %s", strerror(-r));
        return 0;
}

/* Locks <runtime>/containers/NAME/lock. The previous monitor removes the
 * directory while holding the lock, so a lock taken on a file that is no
 * longer at its path is worthless: retry then. */
static int take_lock(Monitor *m, WarrenError *reterr) {
        _cleanup_free_ char *parent = NULL;
        if (asprintf(&parent, "%s/containers", m->o->runtime_dir) < 0 ||
            !(m->dir_path = monitor_dir_path(m->o->runtime_dir, m->o->name)))
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        int r = mkdir_p(parent, 0755);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create runtime directory %s: %s", parent,
                                        strerror(-r));

        for (unsigned attempt = 0; attempt < 8; attempt++) {
                m->lock_fd = safe_close(m->lock_fd);
                m->dir_fd = safe_close(m->dir_fd);
                if (mkdir(m->dir_path, 0700) < 0 && errno != EEXIST)
                        return warren_error_set(reterr, errno, "Failed to create %s: %m", m->dir_path);
                m->dir_fd = open(m->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (m->dir_fd < 0 && errno == ENOENT)
                        continue;
                if (m->dir_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open %s: %m", m->dir_path);
                m->lock_fd = openat(m->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (m->lock_fd < 0 && errno == ENOENT)
                        continue;
                if (m->lock_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open %s/lock: %m", m->dir_path);
                if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                        if (errno == EWOULDBLOCK)
                                return warren_error_set(
                                        reterr, EALREADY,
                                        "Container '%s' is already running (another monitor holds %s/lock)",
                                        m->o->name, m->dir_path);
                        return warren_error_set(reterr, errno, "Failed to lock %s/lock: %m", m->dir_path);
                }
                _cleanup_free_ char *lock_path = NULL;
                struct stat a, b;
                if (asprintf(&lock_path, "%s/lock", m->dir_path) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                if (fstat(m->lock_fd, &a) < 0 || lstat(lock_path, &b) < 0 || a.st_ino != b.st_ino ||
                    a.st_dev != b.st_dev)
                        continue;
                m->owns_dir = true;
                (void) fchmod(m->dir_fd, 0700);
                /* Leftovers of a monitor that was killed. */
                (void) unlinkat(m->dir_fd, "control", 0);
                (void) unlinkat(m->dir_fd, "state.tmp", 0);
                (void) unlinkat(m->dir_fd, MONITOR_ATTACH_SOCKET, 0);
                (void) unlinkat(m->dir_fd, MONITOR_ATTACH_SOCKET_NEW, 0);
                return 0;
        }
        return warren_error_set(reterr, EAGAIN, "Failed to lock %s: it keeps being replaced", m->dir_path);
}

/* lxc.idmap: any line makes the container unprivileged. The service has
 * checked the lines against the owner's subordinate ranges; here they must
 * be consistent and map the container's root. */
static int load_idmap(Monitor *m, WarrenError *reterr) {
        _cleanup_idmap_ Idmap *map = NULL;
        uint32_t uid, gid, tty;
        int r = idmap_from_config(m->config, &map, reterr);
        if (r < 0)
                return r;
        if (map->n == 0)
                return 0;
        r = idmap_verify(map, reterr);
        if (r < 0)
                return r;
        if (idmap_to_host(map, IDMAP_UID, 0, &uid) < 0)
                return warren_error_set(reterr, EINVAL,
                                        "lxc.idmap of container '%s' maps no uid 0: the container's root "
                                        "must be mapped (e.g. 'u 0 100000 65536')",
                                        m->o->name);
        if (idmap_to_host(map, IDMAP_GID, 0, &gid) < 0)
                return warren_error_set(reterr, EINVAL,
                                        "lxc.idmap of container '%s' maps no gid 0: the container's root "
                                        "group must be mapped (e.g. 'g 0 100000 65536')",
                                        m->o->name);
        /* The ptys go to group tty (5) inside where it is mapped, as devpts does. */
        m->root_uid = uid;
        m->root_gid = gid;
        m->tty_gid = idmap_to_host(map, IDMAP_GID, 5, &tty) >= 0 ? tty : gid;
        m->idmap = TAKE_PTR(map);
        return 0;
}

/* A container made by hand (no owner file) is root's, as for the service,
 * which never starts one it cannot tell the owner of. */
static int load_owner(Monitor *m, WarrenError *reterr) {
        _cleanup_store_ Store *store = NULL;
        int r = store_open(m->o->state_dir, &store, reterr);
        if (r < 0)
                return r;
        r = store_get_owner(store, m->o->name, &m->owner_uid);
        if (r == -ENOENT)
                m->owner_uid = 0;
        else if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the owner of container '%s': %s",
                                        m->o->name, strerror(-r));
        m->owner_gid = m->owner_uid == 0 ? 0 : policy_owner_gid(m->owner_uid);
        return 0;
}

static int load_config(Monitor *m, WarrenError *reterr) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/containers/%s/config", m->o->state_dir, m->o->name) < 0 ||
            !(m->config_path = strdup(path)) || !(m->config = lxc_config_new()))
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return warren_error_set(reterr, ENOENT, "Container '%s' does not exist (no %s)", m->o->name,
                                        path);
        LxcParseOptions po = { .include_mode = LXC_INCLUDE_EXPAND };
        r = lxc_config_load(m->config, path, &po, reterr);
        if (r < 0)
                return r;
        r = load_owner(m, reterr);
        if (r < 0)
                return r;
        m->host_links = network_config_has_host_links(m->config);

        r = config_tty_max(lxc_config_get(m->config, "lxc.tty.max"), &m->tty_max, reterr);
        if (r < 0)
                return r;
        const char *s;

        s = lxc_config_get(m->config, "lxc.console.path");
        if (s && !streq(s, "none"))
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "lxc.console.path '%s' is not supported: only 'none' (or unset)", s);
        m->has_console = !s;
        r = monitor_ttys_parse_buffer_size(lxc_config_get(m->config, "lxc.console.buffer.size"),
                                           &m->console_buffer_size, reterr);
        if (r < 0)
                return r;

        static const struct {
                const char *key;
                int def;
                size_t offset;
        } signals[] = {
                { "lxc.signal.halt", 0, offsetof(Monitor, halt_signal) },
                { "lxc.signal.reboot", SIGINT, offsetof(Monitor, reboot_signal) },
                { "lxc.signal.stop", SIGKILL, offsetof(Monitor, stop_signal) },
        };
        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                int *dest = (int *) ((char *) m + signals[i].offset);
                s = lxc_config_get(m->config, signals[i].key);
                *dest = signals[i].def;
                if (s && (r = monitor_parse_signal(s, dest, reterr)) < 0) {
                        warren_error_prefix(reterr, "%s", signals[i].key);
                        return r;
                }
        }

        r = load_idmap(m, reterr);
        if (r < 0)
                return r;
        /* Host-reaching network types need a privileged (root-owned, no
         * idmap) container; the bridges must exist now. */
        m->net_flags = m->idmap ? 0 : NETWORK_CHECK_PRIVILEGED;
        r = network_check_config(m->config, m->net_flags | NETWORK_CHECK_HOST | NETWORK_CHECK_START, reterr);
        if (r < 0)
                return r;
        /* What SetConfig accepts, and nothing else, starts: the same rules,
         * before anything (a hook, a cgroup) is made. */
        r = config_check(m->config, reterr);
        if (r < 0)
                return r;

        m->rootfs = container_rootfs_from_config(m->config);
        if (!m->rootfs && asprintf(&m->rootfs, "%s/containers/%s/rootfs", m->o->state_dir, m->o->name) < 0)
                m->rootfs = NULL;
        if (!m->rootfs)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        struct stat st;
        if (stat(m->rootfs, &st) < 0)
                return warren_error_set(reterr, errno, "Root filesystem '%s' of container '%s' %s",
                                        m->rootfs, m->o->name,
                                        errno == ENOENT ? "does not exist" : strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return warren_error_set(reterr, ENOTDIR,
                                        "Root filesystem '%s' of container '%s' is not a directory",
                                        m->rootfs, m->o->name);
        return 0;
}

/* Creates the cgroup (in every hierarchy), applies the config's limits and,
 * for an unprivileged container, delegates it. */
int monitor_make_cgroup(Monitor *m, WarrenError *reterr) {
        _cleanup_strv_free_ char **ignored = NULL;
        /* A warm monitor's spares become the cgroups, its stub in them. */
        int r = m->warm ? monitor_warm_take_cgroup(m->warm, m->cgroup, reterr) : 0;
        /* With them, the attach helper it made in them: ours now. */
        if (r > 0 && m->attach_pid == 0 &&
            monitor_warm_take_helper(m->warm, &m->attach_pid, &m->attach_pidfd, &m->standby_fd) > 0 &&
            !m->attach_path && asprintf(&m->attach_path, "%s/" MONITOR_ATTACH_SOCKET, m->dir_path) < 0)
                m->attach_path = NULL;
        if (r == 0)
                r = cgroup_create(m->cgroup, reterr);
        if (r < 0)
                return r;
        m->cgroup_created = true;
        r = cgroup_apply_config(m->cgroup, m->config, &ignored, reterr);
        if (r < 0)
                return r;
        STRV_FOREACH(i, ignored)
                log_debug("Ignored %s", *i);
        /* The container's root may manage its own subtree (a systemd or a
         * nested container inside), never the limits set above: those
         * files stay root's. */
        if (m->idmap)
                return cgroup_delegate(m->cgroup, m->root_uid, m->root_gid, reterr);
        return 0;
}

/* Ours, /MONITOR_CGROUP_PARENT/NAME at each hierarchy's root; or, once
 * the host placed us in a cgroup delegated to us (a systemd scope), below
 * that: <base>/MONITOR_CGROUP_PAYLOAD, with ourselves moved to
 * <base>/MONITOR_CGROUP_SELF so that base may hand controllers down. */
static int setup_cgroup(Monitor *m, WarrenError *reterr) {
        _cleanup_free_ char *base = NULL;
        /* A warm monitor read the host's hierarchies already. */
        m->layout = monitor_warm_take_layout(m->warm);
        int r = m->layout ? 0 : cgroup_layout_detect(&m->layout, reterr);
        if (r < 0)
                return r;
        if (!m->placed)
                r = cgroup_new(m->layout, MONITOR_CGROUP_PARENT, m->o->name, &m->cgroup, reterr);
        else {
                r = cgroup_pid_path(0, &base, reterr);
                if (r >= 0)
                        r = cgroup_move_below(m->layout, base, MONITOR_CGROUP_SELF, 0, reterr);
                if (r >= 0)
                        r = cgroup_new_delegated(m->layout, base, MONITOR_CGROUP_PAYLOAD, &m->cgroup,
                                                 reterr);
        }
        if (r >= 0)
                r = monitor_make_cgroup(m, reterr);
        return r;
}

static int place(Monitor *m, WarrenError *reterr) {
        const MonitorHooks *h = m->o->hooks;
        if (!h || !h->place)
                return 0;
        int r = h->place(m->o->name, h->userdata, reterr);
        if (r < 0)
                return r;
        m->placed = r > 0;
        return 0;
}

int monitor_setup(Monitor *m, WarrenError *reterr) {
        int r = container_name_validate(m->o->name, reterr);
        if (r < 0)
                return r;
        /* Orphans of the container get reparented to us, not to a PID 1 that may reap late. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return warren_error_set(reterr, errno, "Failed to become a child subreaper: %m");
        if ((r = setup_signals(m, reterr)) < 0 || (r = setup_loop(m, reterr)) < 0 ||
            (r = take_lock(m, reterr)) < 0)
                return r;
        monitor_set_state(m, MONITOR_STATE_STARTING);
        if ((r = place(m, reterr)) < 0 || (r = load_config(m, reterr)) < 0 ||
            (r = monitor_run_pre_start(m, reterr)) < 0 || (r = setup_cgroup(m, reterr)) < 0)
                return r;
        size_t n_spares;
        PtySpare *spares = monitor_warm_ptys(m->warm, &n_spares);
        r = monitor_ttys_new(m->epoll_fd, TAG_MASTER, TAG_PROXY, m->has_console, m->tty_max,
                             m->console_buffer_size, lxc_config_get(m->config, "lxc.console.logfile"),
                             spares, n_spares, &m->ttys, reterr);
        if (r >= 0 && m->idmap)
                r = monitor_ttys_chown(m->ttys, m->root_uid, m->tty_gid, reterr);
        if (r < 0 || (r = monitor_setup_socket(m, reterr)) < 0 || (r = monitor_spawn_init(m, reterr)) < 0)
                return r;
        monitor_set_state(m, MONITOR_STATE_RUNNING);
        monitor_hook_running(m);
        return 0;
}

/* Leaves nothing: init and every process of the cgroup dead and reaped, the
 * cgroup gone from every hierarchy, ptys closed, runtime files removed. Then
 * the waiting STOP requests are answered. */
void monitor_teardown(Monitor *m) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        monitor_kill_attach_helper(m); /* it dies while we tear down the rest */
        if (m->init_ran)
                monitor_hook_stopped(m);
        if (m->init_pid > 0) {
                monitor_signal_init(m, SIGKILL);
                while (waitpid(m->init_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                m->init_pid = 0;
                m->init_pidfd = safe_close(m->init_pidfd);
        }
        monitor_restore_phys(m);
        if (m->config && m->host_links)
                (void) network_teardown_container(m->o->name, NULL);
        /* A stub still parked in the container's cgroups goes first, and
         * the attach helper that lives there. */
        m->warm = monitor_warm_free(m->warm);
        m->stub = spawn_stub_free(m->stub);
        monitor_stop_attach_helper(m);
        if (m->cgroup_created) {
                /* Init's death emptied it, mostly: then one rmdir in each hierarchy does. */
                if (cgroup_try_remove(m->cgroup, NULL) >= 0)
                        m->cgroup_created = false;
        }
        if (m->cgroup_created) {
                monitor_empty_cgroup(m);
                if (cgroup_remove(m->cgroup, &e) < 0)
                        log_debug("%s", warren_error_message(&e));
                m->cgroup_created = false;
        }
        if (m->config)
                monitor_run_stop_hooks(m, "stop");
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        /* Init's last lines may still be in the ptys: the loop ended when it exited. */
        monitor_ttys_drain(m->ttys, TTY_DRAIN_TIMEOUT_MS);
        m->ttys = monitor_ttys_free(m->ttys);
        m->listen_fd = safe_close(m->listen_fd);
        if (m->owns_dir) {
                static const char *const files[] = {
                        "control", MONITOR_ATTACH_SOCKET, MONITOR_ATTACH_SOCKET_NEW,
                        "state",   "state.tmp",           "lock"
                };
                for (size_t i = 0; i < ELEMENTSOF(files); i++)
                        (void) unlinkat(m->dir_fd, files[i], 0);
                if (rmdir(m->dir_path) < 0)
                        log_debug_errno(errno, "Failed to remove %s: %m", m->dir_path);
                m->owns_dir = false;
        }
        m->lock_fd = safe_close(m->lock_fd);

        monitor_set_state(m, MONITOR_STATE_STOPPED);
        monitor_finish_waiting(m, MONITOR_CMD_STOP, 0, NULL);
        monitor_finish_waiting(m, MONITOR_CMD_FREEZE, ESRCH, "The container stopped");
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
                if (m->clients[i]) {
                        monitor_client_flush(m, m->clients[i]);
                        monitor_client_free(m, m->clients[i]);
                }
}
