/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "caps.h"
#include "config-check.h"
#include "config.h"
#include "idmap.h"
#include "mount.h"
#include "container-spawn.h"
#include "network.h"
#include "hooks.h"
#include "monitor-stub.h"
#include "seccomp-filter.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SYNC_MESSAGE_MAX 4096
#define HOSTNAME_MAX 64

typedef struct SpawnLimit {
        const char *key; /* borrowed from the config strv */
        int resource;
        struct rlimit limit;
} SpawnLimit;

typedef struct SpawnSysctl {
        const char *key, *value; /* borrowed */
        char *path;              /* "sys/net/ipv4/ip_forward", below a procfs */
} SpawnSysctl;

/* Everything the child needs, worked out before clone so that config
 * errors come straight from the caller and the child only acts. */
typedef struct SpawnPlan {
        MountPlan *mounts;
        char **argv;
        char **env;
        const char *hostname;
        const char *cwd;
        uid_t uid;
        gid_t gid;
        bool set_uid, set_gid;
        gid_t *groups;
        size_t n_groups;
        bool set_groups;
        uint64_t caps_keep;
        char **prlimit_kv, **sysctl_kv;
        SpawnLimit *limits;
        size_t n_limits;
        SpawnSysctl *sysctls;
        size_t n_sysctls;
        SeccompProgram *seccomp;
        SeccompProgram *host_guard; /* privileged only (seccomp-filter.h) */
} SpawnPlan;

static SpawnPlan *spawn_plan_free(SpawnPlan *p) {
        if (!p)
                return NULL;
        mount_plan_free(p->mounts);
        strv_free(p->argv);
        strv_free(p->env);
        free(p->groups);
        for (size_t i = 0; i < p->n_sysctls; i++)
                free(p->sysctls[i].path);
        free(p->sysctls);
        free(p->limits);
        strv_free(p->prlimit_kv);
        strv_free(p->sysctl_kv);
        seccomp_program_free(p->seccomp);
        seccomp_program_free(p->host_guard);
        free(p);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(SpawnPlan *, spawn_plan_free);

static int parse_id(const char *key, const char *v, unsigned *ret, WarrenError *reterr) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || n >= UINT32_MAX)
                return warren_error_set(reterr, EINVAL, "Invalid %s '%s': not an id", key, v);
        *ret = (unsigned) n;
        return 0;
}

/* lxc.prlimit.*: the rules are config_rlimit_parse()'s, shared with SetConfig. */
static int plan_limits(SpawnPlan *p, const LxcConfig *c, bool new_user_ns, WarrenError *reterr) {
        p->prlimit_kv = lxc_config_get_prefix(c, "lxc.prlimit.");
        if (!p->prlimit_kv)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        size_t n = strv_length(p->prlimit_kv) / 2;
        p->limits = calloc(n ? n : 1, sizeof(SpawnLimit));
        if (!p->limits)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        for (size_t i = 0; i < n; i++) {
                SpawnLimit *l = &p->limits[p->n_limits++];
                l->key = p->prlimit_kv[2 * i];
                int r = config_rlimit_parse(l->key, p->prlimit_kv[2 * i + 1], new_user_ns, &l->resource,
                                            &l->limit, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* lxc.sysctl.*: names as config_sysctl_path() reads them, shared with SetConfig. */
static int plan_sysctls(SpawnPlan *p, const LxcConfig *c, WarrenError *reterr) {
        p->sysctl_kv = lxc_config_get_prefix(c, "lxc.sysctl.");
        if (!p->sysctl_kv)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        size_t n = strv_length(p->sysctl_kv) / 2;
        p->sysctls = calloc(n ? n : 1, sizeof(SpawnSysctl));
        if (!p->sysctls)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        for (size_t i = 0; i < n; i++) {
                SpawnSysctl *s = &p->sysctls[p->n_sysctls++];
                s->key = p->sysctl_kv[2 * i];
                s->value = p->sysctl_kv[2 * i + 1];
                int r = config_sysctl_path(s->key, &s->path, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_env(SpawnPlan *p, const LxcConfig *c, WarrenError *reterr) {
        _cleanup_strv_free_ char **items = lxc_config_get_all(c, "lxc.environment");
        if (!items || strv_extend(&p->env, "container=lxc") < 0 ||
            strv_extend(&p->env, "PATH=" DEFAULT_PATH) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        STRV_FOREACH(i, items) {
                const char *eq = strchr(*i, '=');
                /* LXC passes a bare KEY through from its own environment;
                 * warren's is a daemon's, so there is nothing to inherit. */
                int r = config_environment_check(*i, reterr);
                if (r < 0)
                        return r;
                if (!eq)
                        continue;
                size_t kl = (size_t) (eq - *i) + 1;
                char **slot = NULL;
                for (char **e = p->env; *e; e++)
                        if (strncmp(*e, *i, kl) == 0)
                                slot = e;
                char *v = strdup(*i);
                if (!v)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                if (slot) {
                        free(*slot);
                        *slot = v;
                } else if (strv_consume(&p->env, v) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        return 0;
}

static int plan_ids(SpawnPlan *p, const LxcConfig *c, WarrenError *reterr) {
        const char *v;
        unsigned id;
        int r;

        if ((v = lxc_config_get(c, "lxc.init.uid"))) {
                r = parse_id("lxc.init.uid", v, &id, reterr);
                if (r < 0)
                        return r;
                p->uid = id;
                p->set_uid = true;
        }
        if ((v = lxc_config_get(c, "lxc.init.gid"))) {
                r = parse_id("lxc.init.gid", v, &id, reterr);
                if (r < 0)
                        return r;
                p->gid = id;
                p->set_gid = true;
        }
        _cleanup_strv_free_ char **groups = lxc_config_get_all(c, "lxc.init.groups");
        if (!groups)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        STRV_FOREACH(g, groups) {
                _cleanup_strv_free_ char **l = strv_split(*g, ", \t");
                if (!l)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                STRV_FOREACH(x, l) {
                        r = parse_id("lxc.init.groups", *x, &id, reterr);
                        if (r < 0)
                                return r;
                        gid_t *n = reallocarray(p->groups, p->n_groups + 1, sizeof(gid_t));
                        if (!n)
                                return warren_error_set(reterr, ENOMEM, "Out of memory");
                        p->groups = n;
                        p->groups[p->n_groups++] = id;
                }
                p->set_groups = true;
        }
        return 0;
}

static int spawn_plan_new(const SpawnOptions *o, SpawnPlan **ret, WarrenError *reterr) {
        _cleanup_(spawn_plan_freep) SpawnPlan *p = calloc(1, sizeof(SpawnPlan));
        const LxcConfig *c = o->config;
        const char *v;
        int r;

        if (!p)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        r = caps_from_config(c, &p->caps_keep, reterr);
        if (r < 0)
                return r;
        /* Compiled here, before the fork: the child only installs it. */
        r = seccomp_program_from_config(c, &p->seccomp, reterr);
        if (r < 0)
                return r;
        /* Without a user namespace the container's superblocks are the
         * host's: keep it from remounting them read-only. */
        if (!o->new_user_ns) {
                r = seccomp_program_host_guard(&p->host_guard, reterr);
                if (r < 0)
                        return r;
        }
        const MountPlanOptions mo = {
                .keeps_sys_admin = p->caps_keep & (UINT64_C(1) << CAP_SYS_ADMIN),
                .owner_uid = o->owner_uid,
                .owner_gid = o->owner_gid,
        };
        r = mount_plan_new(c, &mo, &p->mounts, reterr);
        if (r < 0)
                return r;

        v = lxc_config_get(c, "lxc.init.cmd");
        r = config_command_split(v ? v : "/sbin/init", &p->argv, reterr);
        if (r < 0)
                return r;

        p->hostname = lxc_config_get(c, "lxc.uts.name");
        if (!p->hostname)
                p->hostname = o->name;
        if (strlen(p->hostname) > HOSTNAME_MAX)
                return warren_error_set(reterr, EINVAL, "Invalid hostname '%s': longer than %d characters",
                                        p->hostname, HOSTNAME_MAX);

        p->cwd = lxc_config_get(c, "lxc.init.cwd");
        r = plan_ids(p, c, reterr);
        if (r < 0)
                return r;
        r = plan_env(p, c, reterr);
        if (r < 0)
                return r;
        r = plan_limits(p, c, o->new_user_ns, reterr);
        if (r < 0)
                return r;
        r = plan_sysctls(p, c, reterr);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- the child ---- */

static int move_above_stdio(int *fd) {
        if (*fd < 0 || *fd >= 3)
                return 0;
        int n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
        if (n < 0)
                return -errno;
        *fd = n;
        return 0;
}

static int int_cmp(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return (x > y) - (x < y);
}

/* fd 0 from /dev/null, 1 and 2 to the log (or /dev/null) until the console
 * takes over; nothing else of the caller's survives but the sync socket,
 * keep_fd (the rootfs mount, if any) and the mount plan's bind clones. */
static int child_fds(int *sync_fd, int *keep_fd, const MountPlan *mounts, int log_fd, WarrenError *reterr) {
        int null_fd, r;

        if ((r = move_above_stdio(sync_fd)) < 0 || (r = move_above_stdio(keep_fd)) < 0)
                return warren_error_set(reterr, r, "Failed to move inherited fds: %s", strerror(-r));
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null_fd < 0)
                return warren_error_set(reterr, errno, "Failed to open /dev/null: %m");
        if (log_fd < 0)
                log_fd = null_fd;
        /* Order matters when log_fd is 0: take 1 and 2 from it first. */
        if (dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0 || dup2(null_fd, 0) < 0)
                return warren_error_set(reterr, errno, "Failed to set up stdio: %m");

        /* The bind clones were opened before stdio was set up, never as 0..2. */
        size_t n_trees, n = 0;
        const int *trees = mount_plan_fds(mounts, &n_trees);
        _cleanup_free_ int *keep = calloc(n_trees + 2, sizeof(int));
        if (!keep)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        keep[n++] = *sync_fd;
        if (*keep_fd >= 0)
                keep[n++] = *keep_fd;
        for (size_t i = 0; i < n_trees; i++)
                if (trees[i] >= 3)
                        keep[n++] = trees[i];
        qsort(keep, n, sizeof(int), int_cmp);
        unsigned next = 3;
        for (size_t i = 0; i < n; i++) {
                if ((unsigned) keep[i] > next && close_range(next, (unsigned) keep[i] - 1, 0) < 0)
                        return warren_error_set(reterr, errno, "Failed to close inherited fds: %m");
                next = (unsigned) keep[i] + 1;
        }
        if (close_range(next, ~0U, 0) < 0)
                return warren_error_set(reterr, errno, "Failed to close inherited fds: %m");
        return 0;
}

static int child_sysctls(const SpawnPlan *p, WarrenError *reterr) {
        _cleanup_close_ int fs = -EBADF, proc = -EBADF;

        if (p->n_sysctls == 0)
                return 0;
        /* A procfs of our own, never attached anywhere: the host's /proc/sys
         * may be read-only (warren nested in a container), the container's
         * may not exist or be read-only (proc:mixed). Namespaced sysctls
         * resolve to the writer's namespaces, i.e. the container's. */
        fs = fsopen("proc", FSOPEN_CLOEXEC);
        if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
            (proc = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) <
                    0)
                return warren_error_set(reterr, errno, "Failed to mount a procfs for lxc.sysctl: %m");
        for (size_t i = 0; i < p->n_sysctls; i++) {
                const SpawnSysctl *s = &p->sysctls[i];
                _cleanup_close_ int fd = openat(proc, s->path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                size_t n = strlen(s->value);
                if (fd < 0 || write(fd, s->value, n) != (ssize_t) n)
                        return warren_error_set(reterr, errno, "Failed to set %s to '%s': %m", s->key,
                                                s->value);
        }
        return 0;
}

static int child_console(const SpawnOptions *o, WarrenError *reterr) {
        _cleanup_close_ int fd = -EBADF;
        const char *path = o->console_path ? "/dev/console" : "/dev/null";

        if (setsid() < 0)
                return warren_error_set(reterr, errno, "Failed to create session: %m");
        fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open %s: %m", path);
        if (o->console_path && ioctl(fd, TIOCSCTTY, 0) < 0)
                return warren_error_set(reterr, errno, "Failed to make %s the controlling terminal: %m",
                                        path);
        if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                return warren_error_set(reterr, errno, "Failed to connect stdio to %s: %m", path);
        return 0;
}

static int child_credentials(const SpawnPlan *p, WarrenError *reterr) {
        if (p->set_groups && setgroups(p->n_groups, p->groups) < 0)
                return warren_error_set(reterr, errno, "Failed to set lxc.init.groups: %m");
        if (p->set_gid && setresgid(p->gid, p->gid, p->gid) < 0)
                return warren_error_set(reterr, errno, "Failed to switch to lxc.init.gid %u: %m",
                                        (unsigned) p->gid);
        if (p->set_uid && setresuid(p->uid, p->uid, p->uid) < 0)
                return warren_error_set(reterr, errno, "Failed to switch to lxc.init.uid %u: %m",
                                        (unsigned) p->uid);
        return 0;
}

/* The container lives only as long as its monitor (LXC's rule): a dead
 * monitor means a dead init, never an unmanaged container. Every change of
 * our credentials resets the parent-death signal, so this runs again after
 * each. getppid() cannot tell whether the monitor died before the prctl
 * took effect (the monitor is outside our pid namespace: it reads 0), but
 * our sync socket can: only the monitor holds its other end, so a hangup
 * there means it is gone. */
static void child_bind_to_monitor(int sync_fd) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(EXIT_FAILURE);
        struct pollfd p = { .fd = sync_fd, .events = POLLRDHUP };
        int n;
        do
                n = poll(&p, 1, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0 || (p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
                _exit(EXIT_FAILURE); /* orphaned already: nobody to tell */
}

static HookContext child_hook_context(const SpawnOptions *o, const char *rootfs_mount) {
        return (HookContext){
                .name = o->name,
                .config_path = o->config_path,
                .rootfs_path = o->rootfs,
                .rootfs_mount = rootfs_mount,
                .pid = 0,
        };
}

/* lxc.hook.mount, then lxc.hook.autodev (with lxc.autodev): every mount
 * made, the old root still visible, the rootfs at its host path. */
static int child_before_pivot(void *userdata, WarrenError *reterr) {
        const SpawnOptions *o = userdata;
        HookContext ctx = child_hook_context(o, o->rootfs);
        int r = hooks_run(o->config, HOOK_MOUNT, &ctx, reterr);
        if (r < 0)
                return r;
        const char *autodev = lxc_config_get(o->config, "lxc.autodev");
        if (!autodev || !streq(autodev, "0"))
                r = hooks_run(o->config, HOOK_AUTODEV, &ctx, reterr);
        return r;
}

static int child_run(const SpawnOptions *o, const SpawnPlan *p, int *sync_fd, int rootfs_mount_fd,
                     WarrenError *reterr) {
        mode_t old_umask;
        sigset_t all;
        char go;
        ssize_t n;
        int r;

        child_bind_to_monitor(*sync_fd);
        /* Until the parent has run its hook (uid/gid maps, cgroups,
         * network), nothing here may assume who we are. */
        do
                n = recv(*sync_fd, &go, 1, 0);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(EXIT_FAILURE); /* the parent gave up: nobody to tell */

        if (o->new_user_ns) {
                /* The maps are written now: become the namespace's root. */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return warren_error_set(reterr, errno,
                                                "Failed to become root in the user namespace: %m");
                child_bind_to_monitor(*sync_fd);
        }
        /* The caller's supplementary groups mean nothing inside; where
         * setgroups is denied (a user namespace) there are none to drop. */
        if (setgroups(0, NULL) < 0 && errno != EPERM)
                return warren_error_set(reterr, errno, "Failed to drop supplementary groups: %m");

        /* Unshared only now rather than in clone3(): the parent hook has put
         * us into the v1 cgroups, which then become the namespace's root in
         * every hierarchy (CLONE_INTO_CGROUP only places us in cgroup2). */
        if (unshare(CLONE_NEWCGROUP) < 0)
                return warren_error_set(reterr, errno, "Failed to create cgroup namespace: %m");

        r = child_fds(sync_fd, &rootfs_mount_fd, p->mounts, o->log_fd, reterr);
        if (r < 0)
                return r;

        /* The caller's "/" may be shared: nothing below may reach the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return warren_error_set(reterr, errno, "Failed to make mounts private: %m");

        if (sethostname(p->hostname, strlen(p->hostname)) < 0)
                return warren_error_set(reterr, errno, "Failed to set hostname '%s': %m", p->hostname);

        if (o->loopback_up && !o->host_netns) {
                r = network_loopback_up(reterr);
                if (r < 0)
                        return r;
        }

        r = child_sysctls(p, reterr);
        if (r < 0)
                return r;

        /* In our mount namespace, before the rootfs is mounted. */
        HookContext hctx = child_hook_context(o, o->rootfs);
        r = hooks_run(o->config, HOOK_PRE_MOUNT, &hctx, reterr);
        if (r < 0)
                return r;

        old_umask = umask(0);
        r = mount_setup_root(p->mounts,
                             &(MountSetup){
                                     .rootfs = o->rootfs,
                                     .rootfs_mount_fd = rootfs_mount_fd,
                                     .console_path = o->console_path,
                                     .tty_paths = o->tty_paths,
                                     .new_user_ns = o->new_user_ns,
                                     .before_pivot = hooks_any(o->config, HOOK_MOUNT) ||
                                                                     hooks_any(o->config, HOOK_AUTODEV)
                                                             ? child_before_pivot
                                                             : NULL,
                                     .userdata = (void *) o,
                             },
                             reterr);
        if (r < 0)
                return r;
        umask(old_umask);

        /* Inside the container now (its /bin/sh), right before init. */
        hctx = child_hook_context(o, "/");
        r = hooks_run(o->config, HOOK_START, &hctx, reterr);
        if (r < 0)
                return r;

        if (o->before_exec_hook) {
                /* "Set up": a report with no error; the parent answers "g". */
                int32_t ready = 0;
                if (send(*sync_fd, &ready, sizeof ready, MSG_NOSIGNAL) != sizeof ready)
                        _exit(EXIT_FAILURE);
                do
                        n = recv(*sync_fd, &go, 1, 0);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(EXIT_FAILURE); /* the parent gave up */
        }

        for (size_t i = 0; i < p->n_limits; i++)
                if (setrlimit(p->limits[i].resource, &p->limits[i].limit) < 0)
                        return warren_error_set(reterr, errno, "Failed to set %s: %m", p->limits[i].key);

        r = child_console(o, reterr);
        if (r < 0)
                return r;

        /* The seccomp filter needs CAP_SYS_ADMIN (in our user namespace)
         * without no_new_privs: before the capabilities go. The host guard
         * first, so that a profile refusing seccomp(2) cannot keep it out. */
        r = seccomp_program_install(p->host_guard);
        if (r < 0)
                return warren_error_set(reterr, -r, "Failed to install the seccomp host guard: %s",
                                        strerror(-r));
        r = seccomp_program_install(p->seccomp);
        if (r < 0)
                return warren_error_set(reterr, -r, "Failed to install the seccomp filter: %s",
                                        strerror(-r));
        /* Capabilities go before the uid switch, which needs CAP_SETUID
         * (and would drop them all anyway for a non-root init). */
        r = caps_apply(p->caps_keep, reterr);
        if (r < 0)
                return r;
        r = child_credentials(p, reterr);
        if (r < 0)
                return r;
        child_bind_to_monitor(*sync_fd);

        if (p->cwd && chdir(p->cwd) < 0)
                return warren_error_set(reterr, errno, "Failed to change to lxc.init.cwd '%s': %m", p->cwd);

        /* Ignored signals and the blocked mask survive exec; init must start
         * with neither (CLONE_CLEAR_SIGHAND only reset the handlers). */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);

        environ = p->env;
        execvp(p->argv[0], p->argv);
        return warren_error_set(reterr, errno, "Failed to exec '%s': %m", p->argv[0]);
}

_Noreturn static void child_main(const SpawnOptions *o, const SpawnPlan *p, int sync_fd,
                                 int rootfs_mount_fd) {
        WarrenError e = WARREN_ERROR_NULL;
        struct {
                int32_t error;
                char message[SYNC_MESSAGE_MAX];
        } msg = {};

        (void) child_run(o, p, &sync_fd, rootfs_mount_fd, &e);
        msg.error = e.error > 0 ? e.error : EIO;
        snprintf(msg.message, sizeof msg.message, "%s", warren_error_message(&e));
        (void) send(sync_fd, &msg, sizeof msg.error + strlen(msg.message), MSG_NOSIGNAL);
        _exit(EXIT_FAILURE);
}

/* What the child of a clone through the stub starts from: our memory as
 * it was at the clone, so these point into it. */
typedef struct ChildStart {
        const SpawnOptions *o;
        const SpawnPlan *plan;
        int parent_fd, child_fd, rootfs_mount_fd;
} ChildStart;

_Noreturn static void child_start(void *userdata) {
        const ChildStart *cs = userdata;
        safe_close(cs->parent_fd);
        child_main(cs->o, cs->plan, cs->child_fd, cs->rootfs_mount_fd);
}

/* ---- the parent ---- */

static void kill_and_reap(int pidfd) {
        siginfo_t si;
        (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        while (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
}

/* The rootfs directory, opened by us (we may be root, the init of a user
 * namespace may not search the container dir), and with a user namespace
 * whose map does not cover the directory's owner, an idmapped mount of it
 * (*ret_mount_fd, else -EBADF). */
static int open_rootfs(const SpawnOptions *o, int *ret_dir_fd, int *ret_mount_fd, WarrenError *reterr) {
        _cleanup_close_ int dir = -EBADF, tree = -EBADF;
        uint32_t inside;
        struct stat st;

        dir = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) {
                if (errno == ENOENT)
                        return warren_error_set(reterr, errno, "Rootfs '%s' does not exist", o->rootfs);
                if (errno == ENOTDIR)
                        return warren_error_set(reterr, errno, "Rootfs '%s' is not a directory", o->rootfs);
                return warren_error_set(reterr, errno, "Failed to open rootfs '%s': %m", o->rootfs);
        }
        if (o->idmap && fstat(dir, &st) < 0)
                return warren_error_set(reterr, errno, "Failed to stat rootfs '%s': %m", o->rootfs);
        if (o->idmap && idmap_from_host(o->idmap, IDMAP_UID, st.st_uid, &inside) < 0) {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                uint32_t root = 0;
                struct stat tst;
                tree = idmap_mount_rootfs(AT_FDCWD, o->rootfs, o->idmap, &e);
                /* By path for the messages: it must still be what we opened. */
                if (tree >= 0 &&
                    (fstat(tree, &tst) < 0 || tst.st_dev != st.st_dev || tst.st_ino != st.st_ino))
                        return warren_error_set(reterr, EBUSY, "Rootfs '%s' changed while being opened",
                                                o->rootfs);
                if (tree < 0 && (tree == -EINVAL || tree == -EOPNOTSUPP)) {
                        (void) idmap_to_host(o->idmap, IDMAP_UID, 0, &root);
                        return warren_error_set(
                                reterr, tree,
                                "Rootfs '%s' is owned by host uid %u, which the container's lxc.idmap does "
                                "not map, and it cannot be mounted idmapped (%s): it must be owned by the "
                                "container's root, host uid %u (shift its ownership to the map)",
                                o->rootfs, (unsigned) st.st_uid, warren_error_message(&e), (unsigned) root);
                }
                if (tree < 0)
                        return warren_error_set(reterr, tree, "%s", warren_error_message(&e));
                /* A clone of a shared mount joins its peer group: whatever
                 * the init mounts on it would appear on the host. */
                struct mount_attr priv = { .propagation = MS_PRIVATE };
                if (mount_setattr(tree, "", AT_EMPTY_PATH, &priv, sizeof priv) < 0)
                        return warren_error_set(reterr, errno,
                                                "Failed to make the idmapped rootfs private: %m");
                log_debug("Rootfs '%s' (owner %u) mounted idmapped", o->rootfs, (unsigned) st.st_uid);
        }
        *ret_dir_fd = TAKE_FD(dir);
        *ret_mount_fd = TAKE_FD(tree);
        return 0;
}

/* A hook of the caller's, the child waiting; on failure the child is killed. */
static int run_parent_hook(const SpawnOptions *o, SpawnParentHook hook, pid_t pid, int pidfd,
                           WarrenError *reterr) {
        if (!hook)
                return 0;
        int r = hook(pid, pidfd, o->hook_userdata, reterr);
        if (r >= 0)
                return 0;
        kill_and_reap(pidfd);
        if (!reterr || reterr->error == 0)
                return warren_error_set(reterr, r, "Failed to prepare container '%s': %s", o->name,
                                        strerror(-r));
        return r;
}

int container_spawn(const SpawnOptions *o, pid_t *ret_pid, int *ret_pidfd, WarrenError *reterr) {
        _cleanup_(spawn_plan_freep) SpawnPlan *plan = NULL;
        _cleanup_close_ int parent_fd = -EBADF, child_fd = -EBADF, pidfd = -EBADF;
        _cleanup_close_ int rootfs_fd = -EBADF, rootfs_mount_fd = -EBADF, cwd_fd = -EBADF;
        struct {
                int32_t error;
                char message[SYNC_MESSAGE_MAX + 1];
        } msg;
        int sv[2], r;
        ssize_t n;
        pid_t pid;

        if (!o || !o->name || !o->config || !o->rootfs || !ret_pid || !ret_pidfd)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid spawn options: name, config and rootfs are required");
        if (o->rootfs[0] != '/')
                return warren_error_set(reterr, EINVAL, "Invalid rootfs '%s': not an absolute path",
                                        o->rootfs);
        if (o->idmap && !o->new_user_ns)
                return warren_error_set(reterr, EINVAL, "Invalid spawn options: an idmap needs new_user_ns");

        r = spawn_plan_new(o, &plan, reterr);
        if (r < 0)
                return r;
        if (o->new_user_ns) {
                r = mount_plan_check_userns(plan->mounts, o->host_netns, reterr);
                if (r < 0)
                        return r;
        }
        r = open_rootfs(o, &rootfs_fd, &rootfs_mount_fd, reterr);
        if (r < 0)
                return r;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return warren_error_set(reterr, errno, "Failed to create sync socket: %m");
        parent_fd = sv[0];
        child_fd = sv[1];

        struct clone_args args = {
                .flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                         (o->host_netns ? 0 : CLONE_NEWNET) | CLONE_PIDFD | CLONE_CLEAR_SIGHAND |
                         (o->new_user_ns ? CLONE_NEWUSER : 0) | (o->cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = o->cgroup_fd >= 0 ? (uint64_t) o->cgroup_fd : 0,
        };
        /* The child starts in the rootfs: the kernel moves the cwd into the
         * new mount namespace's copy of the mount, where mount_setup_root()
         * takes it without looking the path up. */
        cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cwd_fd < 0)
                return warren_error_set(reterr, errno, "Failed to open the current directory: %m");
        if (fchdir(rootfs_fd) < 0)
                return warren_error_set(reterr, errno, "Failed to enter rootfs '%s': %m", o->rootfs);
        if (o->stub) {
                /* The child is the stub's sibling (CLONE_PARENT): its exit
                 * signal is the stub's SIGCHLD, to us. */
                const ChildStart cs = { .o = o,
                                        .plan = plan,
                                        .parent_fd = parent_fd,
                                        .child_fd = child_fd,
                                        .rootfs_mount_fd = rootfs_mount_fd };
                args.exit_signal = 0;
                pid = spawn_stub_clone(o->stub, &args, child_start, (void *) &cs, reterr);
                r = pid < 0 ? pid : 0;
        } else {
                /* Raw clone3 acts like fork() here (no stack given); we have
                 * no threads, so the child may use malloc until it execs. */
                pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
                if (pid == 0) {
                        parent_fd = safe_close(parent_fd);
                        child_main(o, plan, TAKE_FD(child_fd), rootfs_mount_fd);
                }
                r = pid < 0 ? -errno : 0;
        }
        if (fchdir(cwd_fd) < 0 && chdir("/") < 0)
                log_debug_errno(errno, "Failed to return to the previous directory: %m");
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to clone init of container '%s'%s: %s", o->name,
                                        o->cgroup_fd >= 0 ? " into its cgroup" : "", strerror(-r));
        child_fd = safe_close(child_fd);
        rootfs_mount_fd = safe_close(rootfs_mount_fd);

        /* The maps go first: until they are written the child has no ids
         * in its namespace, and the hook may rely on them. */
        if (o->idmap) {
                r = idmap_write(pid, o->idmap, reterr);
                if (r < 0) {
                        kill_and_reap(pidfd);
                        return r;
                }
        }
        r = run_parent_hook(o, o->parent_hook, pid, pidfd, reterr);
        if (r < 0)
                return r;

        /* A failed send means the child is gone: its report, if any, is
         * still in the socket. */
        (void) send(parent_fd, "g", 1, MSG_NOSIGNAL);
        if (o->while_child_sets_up) {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                if (o->while_child_sets_up(pid, pidfd, o->hook_userdata, &e) < 0)
                        log_debug("%s", warren_error_message(&e));
        }

        /* EOF: the sync socket was closed by a successful exec (O_CLOEXEC).
         * With a before_exec_hook, a bare "no error" comes first. */
        for (bool ready_seen = false;;) {
                do
                        n = recv(parent_fd, &msg, sizeof msg - 1, 0);
                while (n < 0 && errno == EINTR);
                if (!o->before_exec_hook || ready_seen || n != (ssize_t) sizeof msg.error || msg.error != 0)
                        break;
                ready_seen = true;
                r = run_parent_hook(o, o->before_exec_hook, pid, pidfd, reterr);
                if (r < 0)
                        return r;
                (void) send(parent_fd, "g", 1, MSG_NOSIGNAL);
        }
        if (n == 0) {
                *ret_pid = pid;
                *ret_pidfd = TAKE_FD(pidfd);
                return 0;
        }
        r = n < 0 ? -errno : 0;
        kill_and_reap(pidfd);
        if (n < 0)
                return warren_error_set(reterr, r, "Failed to read the start result of container '%s': %s",
                                        o->name, strerror(-r));
        if ((size_t) n <= sizeof msg.error)
                return warren_error_set(reterr, EPROTO, "Invalid start report from init of container '%s'",
                                        o->name);
        ((char *) &msg)[n] = 0;
        return warren_error_set(reterr, msg.error > 0 ? msg.error : EIO, "%s", msg.message);
}
