/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's side of init's life (monitor-private.h): spawning it with
 * the attach helper beside it, the lxc.hook.* around it, the halt and stop
 * signals with their timers, reaping, and a reboot's fresh init. */
#include <errno.h>
#include <linux/sched.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "config.h"
#include "container-spawn.h"
#include "hooks.h"
#include "monitor-attach.h"
#include "monitor-pool.h"
#include "monitor-private.h"
#include "monitor-stub.h"
#include "monitor-tty.h"
#include "monitor.h"
#include "network.h"

#define STOP_GRACE_SEC 10U                     /* after a non-KILL lxc.signal.stop, before SIGKILL */
#define HALT_RETRY_NSEC (100L * 1000L * 1000L) /* the halt signal again while init has no handler */

/* ---- signals ---- */

static int parse_uint(const char *s, unsigned long long max, unsigned long long *ret) {
        if (isempty(s) || s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int monitor_parse_signal(const char *s, int *ret, WarrenError *reterr) {
        static const struct {
                const char *name;
                int sig;
        } aliases[] = { { "IOT", SIGABRT }, { "POLL", SIGIO }, { "CLD", SIGCHLD } };
        unsigned long long v;

        if (!s || parse_uint(s, (unsigned long long) SIGRTMAX, &v) >= 0) {
                if (!s || v == 0)
                        return warren_error_set(reterr, EINVAL, "Invalid signal '%s'", strna(s));
                *ret = (int) v;
                return 0;
        }
        const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0) {
                bool min = strncasecmp(n, "RTMIN", 5) == 0;
                const char *off = n + 5;
                v = 0;
                if (*off != 0 && (*off != (min ? '+' : '-') ||
                                  parse_uint(off + 1, (unsigned long long) (SIGRTMAX - SIGRTMIN), &v) < 0))
                        return warren_error_set(
                                reterr, EINVAL,
                                "Invalid signal '%s': expected SIGRTMIN+N or SIGRTMAX-N within %d..%d", s,
                                SIGRTMIN, SIGRTMAX);
                *ret = min ? SIGRTMIN + (int) v : SIGRTMAX - (int) v;
                return 0;
        }
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev && strcasecmp(abbrev, n) == 0) {
                        *ret = sig;
                        return 0;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (strcasecmp(aliases[i].name, n) == 0) {
                        *ret = aliases[i].sig;
                        return 0;
                }
        return warren_error_set(reterr, EINVAL, "Invalid signal '%s': not a signal name or number", s);
}

int monitor_halt_signal(const LxcConfig *c, unsigned long long blocked_mask, int *ret, WarrenError *reterr) {
        const char *v = lxc_config_get(c, "lxc.signal.halt");
        if (v) {
                int r = monitor_parse_signal(v, ret, reterr);
                if (r < 0)
                        warren_error_prefix(reterr, "lxc.signal.halt");
                return r;
        }
        /* LXC's rule: an init blocking SIGRTMIN+3 is systemd, which halts on it. */
        int rt3 = SIGRTMIN + 3;
        *ret = blocked_mask & (1ULL << (rt3 - 1)) ? rt3 : SIGPWR;
        return 0;
}

/* A signal mask of pid from /proc/PID/status: "SigBlk", "SigCgt". */
static unsigned long long read_sig_mask(pid_t pid, const char *field) {
        char path[64], key[16], *text = NULL;
        unsigned long long mask = 0;
        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        snprintf(key, sizeof(key), "\n%s:", field);
        if (read_full_file(path, 64 * 1024, &text, NULL) < 0)
                return 0;
        const char *p = strstr(text, key);
        if (p)
                mask = strtoull(p + strlen(key), NULL, 16);
        free(text);
        return mask;
}

static unsigned long long read_blocked_mask(pid_t pid) {
        return read_sig_mask(pid, "SigBlk");
}

/* Whether init has decided about sig: a handler, or SIG_IGN on purpose. */
static bool init_catches(pid_t pid, int sig) {
        unsigned long long bit = 1ULL << (sig - 1);
        return (read_sig_mask(pid, "SigCgt") & bit) || (read_sig_mask(pid, "SigIgn") & bit);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

/* ---- init: spawn, signals, stop, reboot ---- */

static int run_hooks(Monitor *m, HookType t, pid_t pid, const char *target, WarrenError *reterr) {
        HookContext ctx = {
                .name = m->o->name,
                .config_path = m->config_path,
                .rootfs_path = m->rootfs,
                .pid = pid,
                .target = target,
        };
        return hooks_run(m->config, t, &ctx, reterr);
}

/* stop and post-stop: a failing one is logged, the container stops anyway. */
void monitor_run_stop_hooks(Monitor *m, const char *target) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        if (m->init_ran && run_hooks(m, HOOK_STOP, 0, target, &e) < 0)
                log_warning("%s", warren_error_message(&e));
        warren_error_clear(&e);
        if (m->pre_start_ran && run_hooks(m, HOOK_POST_STOP, 0, target, &e) < 0)
                log_warning("%s", warren_error_message(&e));
        m->init_ran = m->pre_start_ran = false;
}

static int attach_hook(pid_t child, int child_pidfd, void *userdata, WarrenError *reterr) {
        Monitor *m = userdata;
        /* Without CLONE_INTO_CGROUP the child joins the cgroup2 cgroup here
         * too; born of the stub, it is in the v1 cgroups already. */
        int r = m->cgroup_killed   ? cgroup_attach(m->cgroup, child, reterr)
                : m->init_via_stub ? 0
                                   : cgroup_attach_v1(m->cgroup, child, reterr);
        if (r < 0)
                return r;
        /* Only loopback (or the host's namespace): the child brings lo up
         * itself, network_setup_container() only checks. */
        if (!m->host_links)
                return network_setup_container(m->config, m->o->name, child, m->net_flags, reterr);
        /* Leftovers of a previous run (a crash, or the old netns of a
         * reboot still dying) would collide with the new host ends. */
        (void) network_teardown_container(m->o->name, NULL);
        if (network_config_has_phys(m->config)) {
                /* Keeps the namespace alive after init: its phys NICs go
                 * back to us, not to the initial namespace. */
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/ns/net", (int) child);
                m->netns_fd = safe_close(m->netns_fd);
                m->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
                if (m->netns_fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open %s: %m", path);
        }
        return network_setup_container(m->config, m->o->name, child, m->net_flags, reterr);
}

void monitor_restore_phys(Monitor *m) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        if (m->netns_fd < 0)
                return;
        if (network_restore_phys(m->config, m->netns_fd, &e) < 0)
                log_warning("%s", warren_error_message(&e));
        m->netns_fd = safe_close(m->netns_fd);
}

/* lxc.hook.start-host: host namespaces, the container set up, init not
 * yet exec'd. */
static int start_host_hook(pid_t child, int child_pidfd, void *userdata, WarrenError *reterr) {
        return run_hooks(userdata, HOOK_START_HOST, child, NULL, reterr);
}

/* ---- the host's hooks (MonitorHooks) ---- */

void monitor_hook_running(Monitor *m) {
        const MonitorHooks *h = m->o->hooks;
        _cleanup_free_ int *ifindexes = NULL;
        size_t n = 0;
        if (!h || !h->running || m->init_pid <= 0)
                return;
        if (network_container_host_ifindexes(m->o->name, &ifindexes, &n, NULL) < 0)
                n = 0;
        h->running(m->o->name, m->init_pid, m->rootfs, ifindexes, n, h->userdata);
}

void monitor_hook_stopped(Monitor *m) {
        const MonitorHooks *h = m->o->hooks;
        if (h && h->stopped)
                h->stopped(m->o->name, h->userdata);
}

/* The container's attach helper (monitor-attach.h): cloned by the stub
 * (born in the container's v1 cgroups), else by us (it moves in itself).
 * Only an optimization: without it Attach goes the old way. */
static void spawn_attach_helper(Monitor *m, SpawnStub *stub) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        int pidfd = -EBADF;
        if (!m->attach_path && asprintf(&m->attach_path, "%s/" MONITOR_ATTACH_SOCKET, m->dir_path) < 0) {
                m->attach_path = NULL;
                return;
        }
        m->attach_ctx = (AttachHelperContext){
                .monitor = m->pid,
                .config = m->config,
                .cgroup = m->cgroup,
                .layout = m->layout,
                .socket_path = m->attach_path,
                .move_in = !stub && m->layout->n_v1 > 0,
                .name = m->o->name,
                .retitle = m->o->retitle_attach_helper,
        };
        struct clone_args args = { .flags = CLONE_PIDFD, .pidfd = (uint64_t) (uintptr_t) &pidfd };
        pid_t pid;
        if (stub)
                pid = spawn_stub_clone(stub, &args, attach_helper_main, &m->attach_ctx, &e);
        else {
                args.exit_signal = SIGCHLD;
                /* Like the stub's clone: a child with a copy of us, no threads here. */
                pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
                if (pid == 0)
                        attach_helper_main(&m->attach_ctx);
                if (pid < 0)
                        warren_error_set(&e, errno, "clone3() failed: %m");
        }
        if (pid < 0) {
                log_debug("No attach helper: %s", warren_error_message(&e));
                return;
        }
        m->attach_pid = pid;
        m->attach_pidfd = pidfd;
}

void monitor_kill_attach_helper(Monitor *m) {
        if (m->attach_pid > 0)
                (void) pidfd_send_signal(m->attach_pidfd, SIGKILL, NULL, 0);
}

void monitor_stop_attach_helper(Monitor *m) {
        if (m->attach_pid <= 0)
                return;
        monitor_kill_attach_helper(m);
        while (waitpid(m->attach_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        m->attach_pid = 0;
        m->attach_pidfd = safe_close(m->attach_pidfd);
        if (m->attach_path)
                (void) unlink(m->attach_path);
}

/* While init sets itself up, on a CPU of its own: the attach helper,
 * cloned by the stub so that it is born in the container's v1 cgroups;
 * then the stub goes (dead long before init's exec, so nobody looking for
 * the monitor by its command line, which the stub shares, finds two). */
static int while_init_sets_up(pid_t child, int child_pidfd, void *userdata, WarrenError *reterr) {
        Monitor *m = userdata;
        SpawnStub *stub = monitor_warm_stub(m->warm);
        if (m->standby_fd >= 0) {
                /* The helper made ahead only needs to know the container. */
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                if (attach_helper_standby_send(m->standby_fd, m->o->name, m->config, &e) < 0) {
                        log_debug("%s", warren_error_message(&e));
                        monitor_stop_attach_helper(m);
                }
                m->standby_fd = safe_close(m->standby_fd);
        }
        if (m->attach_pid == 0)
                spawn_attach_helper(m, stub);
        spawn_stub_end(stub); /* reaped by reap_children() */
        return 0;
}

int monitor_spawn_init(Monitor *m, WarrenError *reterr) {
        _cleanup_close_ int cgroup_fd = m->cgroup_killed ? -EBADF : cgroup_open_fd(m->cgroup, NULL);
        _cleanup_strv_free_ char **tty_paths = NULL;
        for (unsigned i = 1; i <= m->tty_max; i++)
                if (strv_extend(&tty_paths, monitor_ttys_slave_path(m->ttys, i)) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
        SpawnOptions so = {
                .name = m->o->name,
                .config = m->config,
                .rootfs = m->rootfs,
                .cgroup_fd = cgroup_fd,
                .console_path = monitor_ttys_slave_path(m->ttys, 0),
                .tty_paths = tty_paths,
                .new_user_ns = m->idmap != NULL,
                .idmap = m->idmap,
                .host_netns = network_config_shares_host_netns(m->config),
                .loopback_up = !m->host_links,
                .config_path = m->config_path,
                .parent_hook = attach_hook,
                .before_exec_hook = hooks_any(m->config, HOOK_START_HOST) ? start_host_hook : NULL,
                .hook_userdata = m,
                .log_fd = STDERR_FILENO,
                .owner_uid = m->owner_uid,
                .owner_gid = m->owner_gid,
                .stub = m->cgroup_killed ? NULL : monitor_warm_stub(m->warm),
        };
        if (so.stub)
                so.while_child_sets_up = while_init_sets_up;
        /* Our blocked signals do not reach init: the child resets its mask before exec. */
        pid_t pid;
        int pidfd;
        m->init_via_stub = so.stub != NULL;
        int r = container_spawn(&so, &pid, &pidfd, reterr);
        /* The stub served (or never will): a reboot's init moves in. */
        m->stub = monitor_warm_take_stub(m->warm);
        m->warm = monitor_warm_free(m->warm);
        m->init_via_stub = false;
        if (r < 0)
                return r;
        m->init_pid = pid;
        m->init_pidfd = pidfd;
        m->stop_phase = STOP_NONE;
        m->init_ran = true;
        return 0;
}

/* Once RUNNING is out: what a start without a stub (a reboot's init) still
 * lacks. */
void monitor_after_start(Monitor *m) {
        /* What building init's plan took (the seccomp programs, copies of
         * the config) goes back to the kernel: a monitor lives as long as
         * its container. */
        (void) malloc_trim(0);
        if (m->init_pid > 0 && m->attach_pid == 0)
                spawn_attach_helper(m, NULL);
}

int monitor_run_pre_start(Monitor *m, WarrenError *reterr) {
        m->pre_start_ran = true; /* post-stop runs even if pre-start fails, as in LXC */
        return run_hooks(m, HOOK_PRE_START, 0, NULL, reterr);
}

void monitor_signal_init(Monitor *m, int sig) {
        if (m->init_pidfd < 0)
                return;
        log_debug("Sending signal %d to init %d", sig, (int) m->init_pid);
        if (pidfd_send_signal(m->init_pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
                log_debug_errno(errno, "Failed to send signal %d to init: %m", sig);
}

static void unfreeze_for_stop(Monitor *m) {
        if (m->state != MONITOR_STATE_FROZEN && m->state != MONITOR_STATE_FREEZING)
                return;
        (void) monitor_arm_timer(m->freeze_timer_fd, 0, 0, false);
        (void) cgroup_unfreeze(m->cgroup, 1000U * 1000U, NULL);
        monitor_finish_waiting(m, MONITOR_CMD_FREEZE, ECANCELED, "The container is being stopped");
}

void monitor_begin_stop(Monitor *m, uint32_t timeout_s, bool kill) {
        if (m->init_pid <= 0)
                return;
        if (m->stop_phase == STOP_NONE) {
                unfreeze_for_stop(m);
                monitor_set_state(m, MONITOR_STATE_STOPPING);
        }
        if (kill) {
                if (m->stop_phase != STOP_KILLED) {
                        (void) monitor_arm_timer(m->stop_timer_fd, 0, 0, false);
                        monitor_signal_init(m, SIGKILL);
                        /* Nothing more to attach: it dies beside init, not after. */
                        monitor_kill_attach_helper(m);
                        m->stop_phase = STOP_KILLED;
                }
                return;
        }
        if (m->stop_phase != STOP_NONE)
                return; /* the first stop's timeout stands */

        int sig = m->halt_signal;
        if (sig == 0)
                (void) monitor_halt_signal(m->config, read_blocked_mask(m->init_pid), &sig, NULL);
        monitor_signal_init(m, sig);
        m->stop_phase = STOP_HALT_SENT;
        m->stop_halt_signal = sig;
        if (timeout_s == MONITOR_STOP_TIMEOUT_DEFAULT)
                timeout_s = MONITOR_STOP_TIMEOUT_DEFAULT_SEC;
        m->stop_deadline_usec = now_usec() + (uint64_t) timeout_s * 1000000U;
        /* The kernel drops a signal to a namespace's init that has no
         * handler for it: an init still booting would never see it. */
        if (timeout_s > 0 && !init_catches(m->init_pid, sig) &&
            monitor_arm_timer(m->stop_timer_fd, 0, HALT_RETRY_NSEC, false) >= 0)
                return;
        if (timeout_s == 0 || monitor_arm_timer(m->stop_timer_fd, timeout_s, 0, false) < 0) {
                monitor_signal_init(m, m->stop_signal);
                m->stop_phase = m->stop_signal == SIGKILL ? STOP_KILLED : STOP_SIGNAL_SENT;
                if (m->stop_phase == STOP_SIGNAL_SENT)
                        (void) monitor_arm_timer(m->stop_timer_fd, STOP_GRACE_SEC, 0, false);
        }
}

void monitor_on_stop_timer(Monitor *m) {
        uint64_t n, now = now_usec();
        (void) read(m->stop_timer_fd, &n, sizeof(n));
        if (m->stop_phase == STOP_HALT_SENT && now < m->stop_deadline_usec && m->init_pid > 0) {
                /* Sent before init had a handler: again, until it has one. */
                bool caught = init_catches(m->init_pid, m->stop_halt_signal);
                uint64_t left = m->stop_deadline_usec - now;
                if (caught)
                        log_debug("Init handles signal %d now; sending it again", m->stop_halt_signal);
                monitor_signal_init(m, m->stop_halt_signal);
                if (caught || left <= HALT_RETRY_NSEC / 1000U)
                        (void) monitor_arm_timer(m->stop_timer_fd, left / 1000000U,
                                                 (long) (left % 1000000U) * 1000L, false);
                else
                        (void) monitor_arm_timer(m->stop_timer_fd, 0, HALT_RETRY_NSEC, false);
                return;
        }
        if (m->stop_phase == STOP_HALT_SENT && m->stop_signal != SIGKILL) {
                log_debug("Init ignored the halt signal; sending lxc.signal.stop");
                monitor_signal_init(m, m->stop_signal);
                m->stop_phase = STOP_SIGNAL_SENT;
                (void) monitor_arm_timer(m->stop_timer_fd, STOP_GRACE_SEC, 0, false);
        } else if (m->stop_phase != STOP_NONE && m->stop_phase != STOP_KILLED) {
                log_debug("Init did not stop in time; killing it");
                monitor_signal_init(m, SIGKILL);
                m->cgroup_killed = true;
                (void) cgroup_kill_all(m->cgroup, NULL);
                m->stop_phase = STOP_KILLED;
        }
}

/* A delegated cgroup is made anew for the next init: what the old one's
 * root made of it (sub-cgroups, controllers enabled in
 * cgroup.subtree_control, which would refuse the new init as an internal
 * process) must not outlive it. */
static int renew_delegated_cgroup(Monitor *m, WarrenError *reterr) {
        if (!m->idmap)
                return 0;
        int r = cgroup_remove(m->cgroup, reterr);
        if (r < 0)
                return r;
        m->cgroup_created = false;
        return monitor_make_cgroup(m, reterr);
}

/* What is left of the old init's processes goes before a new init comes
 * (normally nothing: the pid namespace died with the old init). */
void monitor_empty_cgroup(Monitor *m) {
        (void) cgroup_unfreeze(m->cgroup, 1000U * 1000U, NULL);
        if (cgroup_count_procs(m->cgroup) <= 0)
                return;
        /* After cgroup.kill, this kernel (6.18) SIGKILLs every child later
         * cloned with CLONE_INTO_CGROUP into that cgroup (its kill_seq check
         * looks at the parent's cgroup): attach the next init by pid instead. */
        m->cgroup_killed = true;
        (void) cgroup_kill_all(m->cgroup, NULL);
        for (unsigned i = 0; i < 200 && cgroup_count_procs(m->cgroup) > 0; i++) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                (void) usleep(10000);
        }
}

static void on_init_exit(Monitor *m, int status) {
        log_debug("Init %d exited with status 0x%x", (int) m->init_pid, (unsigned) status);
        m->init_pid = 0;
        m->init_pidfd = safe_close(m->init_pidfd);
        (void) monitor_arm_timer(m->stop_timer_fd, 0, 0, false);

        /* reboot(2) in a pid namespace kills its init with SIGHUP (restart)
         * or SIGINT (halt, power off). */
        if (m->stop_phase == STOP_NONE && WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP) {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                (void) monitor_arm_timer(m->freeze_timer_fd, 0, 0, false);
                monitor_finish_waiting(m, MONITOR_CMD_FREEZE, ECANCELED, "The container rebooted");
                monitor_set_state(m, MONITOR_STATE_STARTING);
                monitor_hook_stopped(m);
                monitor_empty_cgroup(m);
                monitor_restore_phys(m);
                monitor_run_stop_hooks(m, "reboot");
                if (monitor_run_pre_start(m, &e) >= 0 && renew_delegated_cgroup(m, &e) >= 0 &&
                    monitor_spawn_init(m, &e) >= 0) {
                        monitor_set_state(m, MONITOR_STATE_RUNNING);
                        monitor_hook_running(m);
                        monitor_after_start(m);
                        return;
                }
                log_debug("Failed to restart init of '%s': %s", m->o->name, warren_error_message(&e));
                monitor_set_state(m, MONITOR_STATE_ABORTING);
                m->done = true;
                return;
        }
        if (m->state != MONITOR_STATE_STOPPING)
                monitor_set_state(m, MONITOR_STATE_STOPPING);
        m->done = true;
}

static void reap_children(Monitor *m) {
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        return;
                if (pid == m->init_pid)
                        on_init_exit(m, status);
                else if (m->stub && pid == spawn_stub_pid(m->stub))
                        m->stub = spawn_stub_free(m->stub); /* reaped: no wait */
                else if (pid == m->attach_pid) {
                        log_debug("The attach helper exited (status 0x%x)", (unsigned) status);
                        m->attach_pid = 0;
                        m->attach_pidfd = safe_close(m->attach_pidfd);
                        if (m->attach_path)
                                (void) unlink(m->attach_path);
                }
        }
}

void monitor_on_signal(Monitor *m) {
        struct signalfd_siginfo si;
        while (read(m->signal_fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGCHLD)
                        reap_children(m);
                else {
                        log_debug("Got signal %u, stopping the container", si.ssi_signo);
                        monitor_begin_stop(m, MONITOR_STOP_TIMEOUT_DEFAULT, false);
                }
        }
}

void monitor_on_freeze_timer(Monitor *m) {
        uint64_t n;
        (void) read(m->freeze_timer_fd, &n, sizeof(n));
        if (m->state != MONITOR_STATE_FREEZING || cgroup_is_frozen(m->cgroup) <= 0)
                return;
        (void) monitor_arm_timer(m->freeze_timer_fd, 0, 0, false);
        monitor_set_state(m, MONITOR_STATE_FROZEN);
        monitor_finish_waiting(m, MONITOR_CMD_FREEZE, 0, NULL);
}
