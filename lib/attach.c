/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "caps.h"
#include "cgroup.h"
#include "config-check.h"
#include "config.h"
#include "seccomp-filter.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SYNC_TEXT_MAX 4096
#define PASSWD_MAX (4U * 1024U * 1024U)
#define CGROUP_FILE_MAX (64U * 1024U)
/* Setup takes milliseconds; this only bounds a container that makes the
 * attaching process hang (e.g. frozen meanwhile), since the caller is
 * warrend's single thread. */
#define SETUP_TIMEOUT_MS 10000
#define MAX_CGROUPS 32U

static void cap_freep(cap_t *c) {
        if (*c)
                cap_free(*c);
}

typedef enum SyncType {
        SYNC_PID = 1, /* from the helper: the attached pid, its pidfd attached */
        SYNC_PTY,     /* from the attached process: the pty master attached */
        SYNC_ERROR,   /* from either: errno + message */
        SYNC_ALIVE,   /* from the attached process, first thing: it was not killed at birth */
} SyncType;

typedef struct SyncMessage {
        int32_t type;
        int32_t error;
        int32_t pid;
        char text[SYNC_TEXT_MAX];
} SyncMessage;

/* Worked out by the caller before forking, so that bad input and config
 * errors come straight back and the children only act. */
typedef struct AttachPlan {
        const AttachOptions *o;
        char **env_base; /* container=lxc, PATH, lxc.environment */
        uint64_t caps_keep;
        SeccompProgram *seccomp;
        SeccompProgram *host_guard; /* privileged containers only, as init */
        bool borrowed;              /* caps and programs are o->cache's */
        bool no_new_privs;
        int ns_flags; /* namespaces of init that differ from ours (not pid) */
        bool new_pid_ns;
        int null_fd;
        int cgroup_fds[MAX_CGROUPS]; /* cgroup.procs to write "0" to */
        size_t n_cgroups;
        int v2_cgroup_fd; /* in place: init's cgroup2 cgroup, for CLONE_INTO_CGROUP */
        char *v2_dir;
} AttachPlan;

void attach_options_init(AttachOptions *o) {
        *o = (AttachOptions){
                .init_pidfd = -1,
                .uid = ATTACH_ID_UNSET,
                .gid = ATTACH_ID_UNSET,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
        };
}

void attach_cache_done(AttachCache *c) {
        if (!c)
                return;
        seccomp_program_free(c->seccomp);
        seccomp_program_free(c->host_guard);
        *c = (AttachCache){};
}

void attach_process_done(AttachProcess *p) {
        if (!p)
                return;
        p->pidfd = safe_close(p->pidfd);
        p->pty_master = safe_close(p->pty_master);
}

int attach_status_from_siginfo(const siginfo_t *si) {
        if (si->si_code == CLD_EXITED)
                return si->si_status & 0xff;
        return 128 + si->si_status;
}

int attach_wait(int pidfd, int *ret_status, WarrenError *reterr) {
        siginfo_t si = {};
        while (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED) < 0)
                if (errno != EINTR)
                        return warren_error_set(reterr, errno, "Failed to wait for attached process: %m");
        if (ret_status)
                *ret_status = attach_status_from_siginfo(&si);
        return 0;
}

int attach_pidfd_get_pid(int pidfd, pid_t *ret, WarrenError *reterr) {
        char path[64];
        _cleanup_free_ char *text = NULL;
        int r;

        if (pidfd < 0)
                return warren_error_set(reterr, EBADF, "Invalid init pidfd %d", pidfd);
        snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
        r = read_full_file(path, 64 * 1024, &text, NULL);
        if (r < 0)
                return warren_error_set(reterr, r == -ENOENT ? EBADF : r, "Invalid init pidfd %d: %s", pidfd,
                                        strerror(r == -ENOENT ? EBADF : -r));
        const char *p = strstr(text, "\nPid:");
        if (!p)
                return warren_error_set(reterr, EBADF, "Invalid init pidfd %d: not a pidfd", pidfd);
        long pid = strtol(p + 5, NULL, 10);
        if (pid <= 0)
                return warren_error_set(reterr, ESRCH, "The container's init (pidfd %d) has exited", pidfd);
        *ret = (pid_t) pid;
        return 0;
}

/* ---- the plan, in the caller ---- */

static int check_strings(const char *what, char *const *l, size_t max, bool need_eq, WarrenError *reterr) {
        size_t n = 0;
        STRV_FOREACH(s, l) {
                if (++n > max)
                        return warren_error_set(reterr, E2BIG, "Invalid %s: more than %zu items", what, max);
                if (strlen(*s) > ATTACH_STRING_MAX)
                        return warren_error_set(reterr, E2BIG,
                                                "Invalid %s item '%.40s...': longer than %u bytes", what, *s,
                                                ATTACH_STRING_MAX);
                if (need_eq && (!strchr(*s, '=') || **s == '='))
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid environment variable '%s': expected KEY=VALUE", *s);
        }
        return 0;
}

static int check_fd(const char *what, int fd, WarrenError *reterr) {
        if (fd == -1)
                return 0;
        if (fd < 0 || fcntl(fd, F_GETFD) < 0)
                return warren_error_set(reterr, EBADF, "Invalid %s fd %d: Bad file descriptor", what, fd);
        return 0;
}

static int check_options(const AttachOptions *o, WarrenError *reterr) {
        int r;

        if (!o->config)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid attach options: the container's config is required");
        if (!o->cgroup || o->cgroup[0] != '/' || strstr(o->cgroup, "/..") || strchr(o->cgroup, '\n'))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid container cgroup '%s': expected an absolute path",
                                        strna(o->cgroup));
        if (o->argv && o->argv[0] && isempty(o->argv[0]))
                return warren_error_set(reterr, EINVAL, "Invalid command '': empty program name");
        r = check_strings("command", o->argv, ATTACH_ARGV_MAX, false, reterr);
        if (r < 0)
                return r;
        r = check_strings("environment", o->env, ATTACH_ENV_MAX, true, reterr);
        if (r < 0)
                return r;
        if (o->cwd && (o->cwd[0] != '/' || strlen(o->cwd) > PATH_MAX))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid working directory '%s': not an absolute path", o->cwd);
        r = check_fd("stdin", o->stdin_fd, reterr);
        if (r >= 0)
                r = check_fd("stdout", o->stdout_fd, reterr);
        if (r >= 0)
                r = check_fd("stderr", o->stderr_fd, reterr);
        return r;
}

static int plan_env(AttachPlan *p, WarrenError *reterr) {
        _cleanup_strv_free_ char **items = lxc_config_get_all(p->o->config, "lxc.environment");
        if (!items || strv_extend(&p->env_base, "container=lxc") < 0 ||
            strv_extend(&p->env_base, "PATH=" DEFAULT_PATH) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        STRV_FOREACH(i, items) {
                /* A bare KEY would inherit warrend's own variable: not the
                 * container's business, as for init. */
                if (!strchr(*i, '=') || **i == '=')
                        continue;
                if (strv_extend(&p->env_base, *i) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        return 0;
}

static int plan_namespaces(AttachPlan *p, pid_t init_pid, WarrenError *reterr) {
        static const struct {
                const char *name;
                int flag;
        } table[] = {
                { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },  { "uts", CLONE_NEWUTS },
                { "ipc", CLONE_NEWIPC },   { "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP },
                { "pid", CLONE_NEWPID },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char self[64], theirs[64];
                struct stat a, b;
                snprintf(self, sizeof self, "/proc/self/ns/%s", table[i].name);
                snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int) init_pid, table[i].name);
                if (stat(self, &a) < 0)
                        return warren_error_set(reterr, errno, "Failed to stat %s: %m", self);
                if (stat(theirs, &b) < 0)
                        return warren_error_set(
                                reterr, errno == ENOENT ? ESRCH : errno,
                                "Failed to read the namespaces of the container's init (pid %d): %m",
                                (int) init_pid);
                if (a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                        continue;
                if (table[i].flag == CLONE_NEWPID)
                        p->new_pid_ns = true;
                else
                        p->ns_flags |= table[i].flag;
        }
        return 0;
}

/* 1 if the cgroup (or the v1 freezer) reports it frozen. */
static int cgroup_dir_frozen(const char *dir, bool v2, bool freezer) {
        char path[PATH_MAX + 32];
        _cleanup_free_ char *text = NULL;
        if (!v2 && !freezer)
                return 0;
        snprintf(path, sizeof path, "%s/%s", dir, v2 ? "cgroup.events" : "freezer.state");
        if (read_full_file(path, CGROUP_FILE_MAX, &text, NULL) < 0)
                return 0; /* no freezer there: nothing can be frozen */
        return v2 ? strstr(text, "\nfrozen 1") != NULL || strncmp(text, "frozen 1", 8) == 0
                  : strncmp(text, "THAWED", 6) != 0;
}

static bool path_at_or_below(const char *path, const char *base) {
        size_t n = strlen(base);
        if (streq(base, "/"))
                return true;
        return strncmp(path, base, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* Opens cgroup.procs of init's cgroup in every hierarchy it is in. Init
 * may have moved itself below the container's cgroup (systemd's
 * init.scope): joining it there keeps cgroup2's no-internal-process rule.
 * A path outside the container's cgroup (or a name crafted to look like
 * another line) is never trusted: the container's cgroup is used then. */
static int plan_cgroups(AttachPlan *p, pid_t init_pid, WarrenError *reterr) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *detected = NULL;
        const CgroupLayout *l = p->o->cgroup_layout;
        _cleanup_free_ char *text = NULL;
        char path[64];
        int r;

        if (!l) {
                r = cgroup_layout_detect(&detected, reterr);
                if (r < 0)
                        return r;
                l = detected;
        }
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) init_pid);
        r = read_full_file(path, CGROUP_FILE_MAX, &text, NULL);
        if (r < 0)
                return warren_error_set(reterr, r == -ENOENT ? ESRCH : r,
                                        "Failed to read the cgroups of the container's init (pid %d): %s",
                                        (int) init_pid, strerror(r == -ENOENT ? ESRCH : -r));

        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c1 = *c2 = 0;
                const char *controllers = c1 + 1, *cg = c2 + 1, *mount = NULL;
                bool v2 = streq(line, "0") && isempty(controllers), freezer = false;
                if (v2)
                        mount = l->v2_mount;
                else {
                        _cleanup_free_ char *first = strndup(controllers, strcspn(controllers, ","));
                        if (!first)
                                return warren_error_set(reterr, ENOMEM, "Out of memory");
                        const CgroupHierarchy *h = cgroup_layout_v1_find(l, first);
                        mount = h ? h->mount : NULL;
                        freezer = h && strv_contains(h->controllers, "freezer");
                }
                if (!mount)
                        continue; /* a hierarchy mounted nowhere here */
                if (!path_at_or_below(cg, p->o->cgroup) || strstr(cg, "/.."))
                        cg = p->o->cgroup;

                char dir[PATH_MAX];
                if ((size_t) snprintf(dir, sizeof dir, "%s%s", mount, streq(cg, "/") ? "" : cg) >=
                    sizeof dir)
                        return warren_error_set(reterr, ENAMETOOLONG, "Cgroup path '%s%s' is too long",
                                                mount, cg);
                if (cgroup_dir_frozen(dir, v2, freezer) > 0)
                        return warren_error_set(reterr, EBUSY,
                                                "Cannot attach: the container's cgroup '%s' is frozen", dir);
                if (p->o->in_place) {
                        /* v1: born in the helper's (the container's) cgroups. */
                        if (!v2 || p->v2_cgroup_fd >= 0)
                                continue;
                        p->v2_cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (p->v2_cgroup_fd < 0)
                                return warren_error_set(reterr, errno, "Failed to open %s: %m", dir);
                        if (!(p->v2_dir = strdup(dir)))
                                return warren_error_set(reterr, ENOMEM, "Out of memory");
                        continue;
                }
                if (p->n_cgroups >= MAX_CGROUPS)
                        return warren_error_set(reterr, E2BIG, "Too many cgroup hierarchies (more than %u)",
                                                MAX_CGROUPS);
                char procs[PATH_MAX + 16];
                snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
                int fd = open(procs, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                if (fd < 0) {
                        if (errno == ENOENT) {
                                log_debug("No cgroup %s to attach to, skipped", dir);
                                continue;
                        }
                        return warren_error_set(reterr, errno, "Failed to open %s: %m", procs);
                }
                p->cgroup_fds[p->n_cgroups++] = fd;
        }
        return 0;
}

static char *mfree_str(char *s) {
        free(s);
        return NULL;
}

static void plan_done(AttachPlan *p) {
        p->v2_cgroup_fd = safe_close(p->v2_cgroup_fd);
        p->v2_dir = mfree_str(p->v2_dir);
        if (!p->borrowed) {
                p->seccomp = seccomp_program_free(p->seccomp);
                p->host_guard = seccomp_program_free(p->host_guard);
        }
        strv_free(p->env_base);
        safe_close(p->null_fd);
        for (size_t i = 0; i < p->n_cgroups; i++)
                safe_close(p->cgroup_fds[i]);
}

static int plan_new(const AttachOptions *o, AttachPlan *p, WarrenError *reterr) {
        pid_t init_pid;
        const char *v;
        int r;

        *p = (AttachPlan){ .o = o, .null_fd = -EBADF, .v2_cgroup_fd = -EBADF };
        r = attach_pidfd_get_pid(o->init_pidfd, &init_pid, reterr);
        if (r < 0)
                return r;
        if (o->cache && o->cache->ready) {
                p->caps_keep = o->cache->caps_keep;
                p->seccomp = o->cache->seccomp;
                p->host_guard = o->cache->host_guard;
                p->borrowed = true;
        } else {
                r = caps_from_config(o->config, &p->caps_keep, reterr);
                if (r < 0)
                        return r;
                r = seccomp_program_from_config(o->config, &p->seccomp, reterr);
                if (r < 0)
                        return r;
                /* As container_spawn() decides for init: no lxc.idmap, no
                 * user namespace, the host's superblocks. */
                if (!config_is_unprivileged(o->config)) {
                        r = seccomp_program_host_guard(&p->host_guard, reterr);
                        if (r < 0)
                                return r;
                }
                if (o->cache) {
                        *o->cache = (AttachCache){ .ready = true,
                                                   .caps_keep = p->caps_keep,
                                                   .seccomp = p->seccomp,
                                                   .host_guard = p->host_guard };
                        p->borrowed = true;
                }
        }
        v = lxc_config_get(o->config, "lxc.no_new_privs");
        p->no_new_privs = v && (streq(v, "1") || streq(v, "true"));
        r = plan_env(p, reterr);
        if (r < 0)
                return r;
        r = plan_namespaces(p, init_pid, reterr);
        if (r < 0)
                return r;
        r = plan_cgroups(p, init_pid, reterr);
        if (r < 0)
                return r;
        /* What we read under /proc/PID was init's only if it still runs:
         * a pidfd cannot come back to life, so the pid was not reused. */
        if (pidfd_send_signal(o->init_pidfd, 0, NULL, 0) < 0)
                return warren_error_set(reterr, ESRCH, "The container's init (pid %d) has exited",
                                        (int) init_pid);
        /* The host's /dev/null, never one the container could replace. */
        p->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (p->null_fd < 0)
                return warren_error_set(reterr, errno, "Failed to open /dev/null: %m");
        return 0;
}

/* ---- the attached process ---- */

static int sync_send(int fd, SyncType type, int error, pid_t pid, int pass_fd, const char *text) {
        SyncMessage m = { .type = type, .error = error, .pid = pid };
        if (text)
                snprintf(m.text, sizeof m.text, "%s", text);
        return send_with_fds(fd, &m, offsetof(SyncMessage, text) + strlen(m.text), &pass_fd, pass_fd >= 0,
                             0);
}

_Noreturn static void report_and_exit(int sync_fd, const WarrenError *e) {
        (void) sync_send(sync_fd, SYNC_ERROR, e->error > 0 ? e->error : EIO, 0, -1, warren_error_message(e));
        _exit(EXIT_FAILURE);
}

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return (x > y) - (x < y);
}

/* Closes every fd >= 3 but those in keep. */
static int close_all_but(int *keep, size_t n) {
        unsigned next = 3;
        qsort(keep, n, sizeof(int), cmp_int);
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < (int) next)
                        continue;
                if ((unsigned) keep[i] > next && close_range(next, (unsigned) keep[i] - 1, 0) < 0)
                        return -errno;
                next = (unsigned) keep[i] + 1;
        }
        return close_range(next, ~0U, 0) < 0 ? -errno : 0;
}

static int move_above_stdio(int *fd) {
        if (*fd < 0 || *fd > 2)
                return 0;
        int n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
        if (n < 0)
                return -errno;
        *fd = n;
        return 0;
}

/* Sets fd 0..2 from src (given fds, else /dev/null for now) and closes
 * every fd of the caller but the few still needed, before anything of the
 * container is looked at: nothing of warrend's may be reachable from it
 * (not even through /proc/self/fd). */
static int child_fds(AttachPlan *p, int *sync_fd, int *pidfd, WarrenError *reterr) {
        int src[3] = { p->o->stdin_fd, p->o->stdout_fd, p->o->stderr_fd }, tmp[3];
        int keep[MAX_CGROUPS + 3];
        size_t n = 0;
        int r = 0;

        r = move_above_stdio(sync_fd);
        if (r >= 0)
                r = move_above_stdio(pidfd);
        if (r >= 0)
                r = move_above_stdio(&p->null_fd);
        for (size_t i = 0; r >= 0 && i < p->n_cgroups; i++)
                r = move_above_stdio(&p->cgroup_fds[i]);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to move fds: %s", strerror(-r));
        for (size_t i = 0; i < 3; i++) {
                tmp[i] = fcntl(src[i] >= 0 ? src[i] : p->null_fd, F_DUPFD_CLOEXEC, 3);
                if (tmp[i] < 0)
                        return warren_error_set(reterr, errno, "Failed to duplicate stdio fd %d: %m",
                                                src[i]);
        }
        for (int i = 0; i < 3; i++)
                if (dup2(tmp[i], i) < 0)
                        return warren_error_set(reterr, errno, "Failed to set up fd %d: %m", i);
        keep[n++] = *sync_fd;
        keep[n++] = *pidfd;
        keep[n++] = p->null_fd;
        for (size_t i = 0; i < p->n_cgroups; i++)
                keep[n++] = p->cgroup_fds[i];
        r = close_all_but(keep, n);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to close inherited fds: %s", strerror(-r));
        return 0;
}

/* Opens a file of the container for reading that cannot block us (FIFO)
 * or lead back to the host's (procfs, sysfs). */
static int open_container_file(const char *path, int flags) {
        struct statfs sfs;
        _cleanup_close_ int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        if (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC)
                return -EPERM;
        return TAKE_FD(fd);
}

typedef struct PasswdEntry {
        char *name, *home, *shell;
        gid_t gid;
} PasswdEntry;

static void passwd_entry_done(PasswdEntry *pw) {
        free(pw->name);
        free(pw->home);
        free(pw->shell);
}

/* The container's /etc/passwd entry of uid: 1 found, 0 not (or unreadable). */
static int passwd_lookup(uid_t uid, PasswdEntry *ret) {
        _cleanup_close_ int fd = open_container_file("/etc/passwd", O_RDONLY);
        _cleanup_free_ char *text = NULL;
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
            read_full_fd(fd, PASSWD_MAX, &text, NULL) < 0)
                return 0;
        for (char *line = text, *next; line && *line; line = next) {
                char *f[7];
                size_t n = 0;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                for (char *s = line; n < ELEMENTSOF(f); n++) {
                        f[n] = s;
                        s = strchr(s, ':');
                        if (!s) {
                                n++;
                                break;
                        }
                        *s++ = 0;
                }
                if (n < ELEMENTSOF(f) || strspn(f[2], "0123456789") != strlen(f[2]) || isempty(f[2]))
                        continue;
                if (strtoul(f[2], NULL, 10) != uid)
                        continue;
                *ret = (PasswdEntry){
                        .name = strdup(f[0]),
                        .home = strdup(f[5]),
                        .shell = strdup(f[6]),
                        .gid = (gid_t) strtoul(f[3], NULL, 10),
                };
                if (!ret->name || !ret->home || !ret->shell) {
                        passwd_entry_done(ret);
                        return -ENOMEM;
                }
                return 1;
        }
        return 0;
}

/* Opens a pty pair on the container's own devpts: the slave is what `tty`
 * shows inside. The node is checked to be a devpts ptmx, so a container
 * cannot hand us some other device. */
static int child_pty(const AttachPlan *p, int *ret_master, int *ret_slave, WarrenError *reterr) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        struct statfs sfs;
        struct stat st;
        int unlock = 0;

        master = open_container_file("/dev/pts/ptmx", O_RDWR);
        if (master < 0)
                return warren_error_set(reterr, -master, "Failed to open the container's /dev/pts/ptmx: %s",
                                        strerror(-master));
        if (fstatfs(master, &sfs) < 0 || fstat(master, &st) < 0)
                return warren_error_set(reterr, errno, "Failed to stat the container's /dev/pts/ptmx: %m");
        if (sfs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
            minor(st.st_rdev) != 2)
                return warren_error_set(reterr, ENOTTY,
                                        "The container's /dev/pts/ptmx is not a devpts ptmx");
        if (fcntl(master, F_SETFL, O_RDWR) < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return warren_error_set(reterr, errno, "Failed to unlock the pty: %m");
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return warren_error_set(reterr, errno, "Failed to open the pty slave: %m");
        if (p->o->rows > 0 && p->o->cols > 0) {
                struct winsize ws = { .ws_row = p->o->rows, .ws_col = p->o->cols };
                if (ioctl(master, TIOCSWINSZ, &ws) < 0)
                        return warren_error_set(reterr, errno, "Failed to set the window size: %m");
        }
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

/* KEEPCAPS: capabilities survive the switch to a non-root uid, so that the
 * bounding set can be dropped afterwards even if it loses CAP_SETUID. */
static int child_credentials(const AttachPlan *p, uid_t uid, gid_t gid, WarrenError *reterr) {
        /* The container's seccomp filter, as its init has it; installing it
         * without no_new_privs needs CAP_SYS_ADMIN, which we still hold.
         * The host guard first, as for init. */
        int k = seccomp_program_install(p->host_guard);
        if (k < 0)
                return warren_error_set(reterr, -k, "Failed to install the seccomp host guard: %s",
                                        strerror(-k));
        k = seccomp_program_install(p->seccomp);
        if (k < 0)
                return warren_error_set(reterr, -k, "Failed to install the container's seccomp filter: %s",
                                        strerror(-k));
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return warren_error_set(reterr, errno, "Failed to keep capabilities: %m");
        /* Denied in a user namespace whose setgroups is "deny": none to drop. */
        if (setgroups(0, NULL) < 0 && errno != EPERM)
                return warren_error_set(reterr, errno, "Failed to drop supplementary groups: %m");
        if (setresgid(gid, gid, gid) < 0)
                return warren_error_set(reterr, errno, "Failed to switch to gid %u: %m%s", (unsigned) gid,
                                        errno == EINVAL ? " (not mapped in the container)" : "");
        if (setresuid(uid, uid, uid) < 0)
                return warren_error_set(reterr, errno, "Failed to switch to uid %u: %m%s", (unsigned) uid,
                                        errno == EINVAL ? " (not mapped in the container)" : "");
        if (uid != 0) {
                /* The uid switch emptied the effective set: caps_apply()
                 * needs CAP_SETPCAP from it. */
                _cleanup_(cap_freep) cap_t c = cap_get_proc();
                if (!c || cap_fill(c, CAP_EFFECTIVE, CAP_PERMITTED) < 0 || cap_set_proc(c) < 0)
                        return warren_error_set(reterr, errno, "Failed to raise capabilities: %m");
        }
        int r = caps_apply(p->caps_keep, reterr);
        if (r < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return warren_error_set(reterr, errno, "Failed to reset keep-capabilities: %m");
        if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return warren_error_set(reterr, errno, "Failed to set lxc.no_new_privs: %m");
        return 0;
}

static int env_set(char ***env, const char *item) {
        size_t kl = strcspn(item, "=") + 1;
        char *v = strdup(item);
        if (!v)
                return -ENOMEM;
        for (char **e = *env; e && *e; e++)
                if (strncmp(*e, item, kl) == 0) {
                        free(*e);
                        *e = v;
                        return 0;
                }
        int r = strv_consume(env, v);
        if (r < 0)
                free(v);
        return r;
}

static int env_setf(char ***env, const char *key, const char *value) {
        _cleanup_free_ char *s = NULL;
        if (asprintf(&s, "%s=%s", key, value) < 0)
                return -ENOMEM;
        return env_set(env, s);
}

static int child_env(const AttachPlan *p, const PasswdEntry *pw, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        int r = 0;

        STRV_FOREACH(e, p->env_base)
                if ((r = env_set(&env, *e)) < 0)
                        return r;
        if (!p->o->clear_env) {
                r = env_setf(&env, "HOME", pw && !isempty(pw->home) ? pw->home : "/");
                if (r >= 0 && pw && !isempty(pw->name))
                        r = env_setf(&env, "USER", pw->name);
                if (r >= 0 && pw && !isempty(pw->name))
                        r = env_setf(&env, "LOGNAME", pw->name);
                if (r >= 0 && pw && !isempty(pw->shell))
                        r = env_setf(&env, "SHELL", pw->shell);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(e, p->o->env)
                if ((r = env_set(&env, *e)) < 0)
                        return r;
        if (!env && !(env = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

_Noreturn static void child_exec(char **argv, char **env) {
        sigset_t none;
        /* A shell's rules: 127 not found, 126 found but not runnable. */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        environ = env;
        execvp(argv[0], argv);
        int err = errno;
        if (err == ENOENT && !strchr(argv[0], '/'))
                dprintf(STDERR_FILENO, "%s: command not found\n", argv[0]);
        else
                dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(err));
        _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

static const char *default_shell(const PasswdEntry *pw) {
        if (pw && !isempty(pw->shell) && pw->shell[0] == '/' && access(pw->shell, X_OK) == 0)
                return pw->shell;
        return access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
}

static int child_run(AttachPlan *p, int *sync_fd, WarrenError *reterr) {
        const AttachOptions *o = p->o;
        _cleanup_(passwd_entry_done) PasswdEntry pw = {};
        _cleanup_strv_free_ char **env = NULL, **argv = NULL;
        int pidfd = o->init_pidfd, r;
        bool found;

        r = child_fds(p, sync_fd, &pidfd, reterr);
        if (r < 0)
                return r;

        /* Still in the host's cgroup namespace: the move must see both ends. */
        for (size_t i = 0; i < p->n_cgroups; i++)
                if (write(p->cgroup_fds[i], "0", 1) != 1)
                        return warren_error_set(reterr, errno, "Failed to join the container's cgroup: %m");
        if (p->ns_flags != 0 && setns(pidfd, p->ns_flags) < 0)
                return warren_error_set(reterr, errno, "Failed to enter the container's namespaces: %m");
        pidfd = safe_close(pidfd);
        for (size_t i = 0; i < p->n_cgroups; i++)
                p->cgroup_fds[i] = safe_close(p->cgroup_fds[i]);

        if (p->ns_flags & CLONE_NEWUSER) {
                /* setns() gave us every capability in the namespace, but as
                 * the host's root, which it may not map: become its root. */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return warren_error_set(
                                reterr, errno,
                                "Failed to become root in the container's user namespace: %m");
        }

        uid_t uid = o->uid != ATTACH_ID_UNSET ? o->uid : 0;
        r = passwd_lookup(uid, &pw);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the container's /etc/passwd: %s",
                                        strerror(-r));
        found = r > 0;
        gid_t gid = o->gid != ATTACH_ID_UNSET ? o->gid : found ? pw.gid : uid;

        if (setsid() < 0)
                return warren_error_set(reterr, errno, "Failed to create a session: %m");
        if (o->pty) {
                _cleanup_close_ int master = -EBADF, slave = -EBADF;
                r = child_pty(p, &master, &slave, reterr);
                if (r < 0)
                        return r;
                /* The group stays devpts' (tty), as for a login. */
                if (uid != 0 && fchown(slave, uid, (gid_t) -1) < 0)
                        return warren_error_set(reterr, errno, "Failed to give the pty to uid %u: %m",
                                                (unsigned) uid);
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        return warren_error_set(reterr, errno,
                                                "Failed to make the pty the controlling terminal: %m");
                int src[3] = { o->stdin_fd, o->stdout_fd, o->stderr_fd };
                for (int i = 0; i < 3; i++)
                        if (src[i] < 0 && dup2(slave, i) < 0)
                                return warren_error_set(reterr, errno,
                                                        "Failed to connect fd %d to the pty: %m", i);
                r = sync_send(*sync_fd, SYNC_PTY, 0, 0, master, NULL);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to send the pty master: %s",
                                                strerror(-r));
        }
        p->null_fd = safe_close(p->null_fd);

        if (o->cwd) {
                if (chdir(o->cwd) < 0)
                        return warren_error_set(reterr, errno,
                                                "Failed to change to working directory '%s': %m", o->cwd);
        } else if (!found || isempty(pw.home) || chdir(pw.home) < 0) {
                if (chdir("/") < 0)
                        return warren_error_set(reterr, errno, "Failed to change to '/': %m");
        }

        r = child_env(p, found ? &pw : NULL, &env);
        if (r >= 0) {
                if (o->argv && o->argv[0])
                        argv = strv_copy(o->argv);
                else
                        r = strv_extend(&argv, default_shell(found ? &pw : NULL));
        }
        if (r < 0 || !argv)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        r = child_credentials(p, uid, gid, reterr);
        if (r < 0)
                return r;
        child_exec(argv, env);
}

/* ---- the helper: in our namespaces, creates the attached process in
 * init's pid namespace as the caller's child ---- */

_Noreturn static void helper_main(AttachPlan *p, int sync_fd) {
        WarrenError e = WARREN_ERROR_NULL;
        int pidfd = -EBADF;

        /* Only our children go there: setns(CLONE_NEWPID) does not move us. */
        if (p->new_pid_ns && setns(p->o->init_pidfd, CLONE_NEWPID) < 0) {
                warren_error_set(&e, errno, "Failed to enter the container's pid namespace: %m");
                report_and_exit(sync_fd, &e);
        }
        struct clone_args args = {
                .flags = CLONE_PARENT | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = 0, /* CLONE_PARENT: the child signals our parent as we do */
        };
        pid_t pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0) {
                warren_error_set(&e, errno, "Failed to create the attached process: %m");
                report_and_exit(sync_fd, &e);
        }
        if (pid == 0) {
                (void) child_run(p, &sync_fd, &e);
                report_and_exit(sync_fd, &e);
        }
        if (sync_send(sync_fd, SYNC_PID, 0, pid, pidfd, NULL) < 0) {
                /* Unreported, the caller could never reap or kill it. */
                (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                _exit(EXIT_FAILURE);
        }
        _exit(EXIT_SUCCESS);
}

/* ---- the caller ---- */

static void kill_and_reap(int pidfd) {
        siginfo_t si;
        (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        while (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
}

static void reap_helper(pid_t helper, bool kill_it) {
        if (kill_it)
                (void) kill(helper, SIGKILL);
        /* ECHILD: a caller's SIGCHLD handler got it first. */
        while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
                ;
}

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

typedef struct SyncState {
        pid_t pid;
        int pidfd, master;
        bool alive;
        int error; /* first reported, positive */
        char text[SYNC_TEXT_MAX + 1];
} SyncState;

/* One message; 0 on EOF, 1 on a message, <0 on failure. */
static int sync_receive(int fd, SyncState *s) {
        SyncMessage m = {};
        _cleanup_close_ int passed = -EBADF;
        size_t n_fds;
        ssize_t n = recv_with_fds(fd, &m, sizeof m, &passed, 1, &n_fds, 0);
        if (n < 0)
                return (int) n;
        if (n == 0)
                return 0;
        if ((size_t) n < offsetof(SyncMessage, text))
                return -EBADMSG;
        size_t len = (size_t) n - offsetof(SyncMessage, text);
        switch (m.type) {
        case SYNC_PID:
                if (passed < 0 || m.pid <= 0 || s->pidfd >= 0)
                        return -EBADMSG;
                s->pid = m.pid;
                s->pidfd = TAKE_FD(passed);
                return 1;
        case SYNC_PTY:
                if (passed < 0 || s->master >= 0)
                        return -EBADMSG;
                s->master = TAKE_FD(passed);
                return 1;
        case SYNC_ALIVE:
                s->alive = true;
                return 1;
        case SYNC_ERROR:
                if (s->error == 0) {
                        s->error = m.error > 0 ? m.error : EIO;
                        memcpy(s->text, m.text, len);
                        s->text[len] = 0;
                }
                return 1;
        }
        return -EBADMSG;
}

/* Reads the sync socket until EOF: the attached process exec'd (or its
 * setup ended), the helper, if any, exited. */
static int sync_collect(int fd, SyncState *s) {
        long long deadline = now_ms() + SETUP_TIMEOUT_MS;
        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                long long left = deadline - now_ms();
                int k = left > 0 ? poll(&pfd, 1, (int) left) : 0;
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -ETIMEDOUT;
                int r = sync_receive(fd, s);
                if (r <= 0)
                        return r;
        }
}

/* Through the helper, in our namespaces: see attach.h. */
static int spawn_via_helper(AttachPlan *plan, SyncState *s, WarrenError *reterr) {
        _cleanup_close_ int parent_fd = -EBADF, child_fd = -EBADF;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return warren_error_set(reterr, errno, "Failed to create sync socket: %m");
        parent_fd = sv[0];
        child_fd = sv[1];
        pid_t helper = fork();
        if (helper < 0)
                return warren_error_set(reterr, errno, "Failed to fork the attach helper: %m");
        if (helper == 0) {
                parent_fd = safe_close(parent_fd);
                helper_main(plan, TAKE_FD(child_fd));
        }
        child_fd = safe_close(child_fd);
        int r = sync_collect(parent_fd, s);
        reap_helper(helper, r < 0);
        return r;
}

/* In place (a container's attach helper): the attached process is our
 * child, born in our v1 cgroups and, with CLONE_INTO_CGROUP, in init's
 * cgroup2 cgroup. */
static int spawn_in_place(AttachPlan *plan, SyncState *s, WarrenError *reterr) {
        const AttachOptions *o = plan->o;
        if (plan->new_pid_ns && setns(o->init_pidfd, CLONE_NEWPID) < 0)
                return warren_error_set(reterr, errno, "Failed to enter the container's pid namespace: %m");
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_close_ int parent_fd = -EBADF, child_fd = -EBADF;
                int sv[2], pidfd = -EBADF;
                bool into = plan->v2_cgroup_fd >= 0 && attempt == 0;
                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                        return warren_error_set(reterr, errno, "Failed to create sync socket: %m");
                parent_fd = sv[0];
                child_fd = sv[1];
                struct clone_args args = {
                        .flags = CLONE_PIDFD | (into ? CLONE_INTO_CGROUP : 0),
                        .pidfd = (uint64_t) (uintptr_t) &pidfd,
                        .exit_signal = SIGCHLD,
                        .cgroup = into ? (uint64_t) plan->v2_cgroup_fd : 0,
                };
                pid_t pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
                if (pid < 0)
                        return warren_error_set(reterr, errno, "Failed to create the attached process: %m");
                if (pid == 0) {
                        WarrenError e = WARREN_ERROR_NULL;
                        parent_fd = safe_close(parent_fd);
                        if (sync_send(child_fd, SYNC_ALIVE, 0, 0, -1, NULL) < 0)
                                _exit(EXIT_FAILURE);
                        (void) child_run(plan, &child_fd, &e);
                        report_and_exit(child_fd, &e);
                }
                child_fd = safe_close(child_fd);
                s->pid = pid;
                s->pidfd = pidfd;
                int r = sync_collect(parent_fd, s);
                if (r < 0 || s->alive || !into || s->error != 0)
                        return r;
                /* Killed at birth: this kernel (6.18) SIGKILLs what
                 * CLONE_INTO_CGROUP puts into a cgroup that once had
                 * cgroup.kill written. Join it by a write instead. */
                kill_and_reap(s->pidfd);
                s->pidfd = safe_close(s->pidfd);
                s->pid = 0;
                char procs[PATH_MAX + 16];
                snprintf(procs, sizeof procs, "%s/cgroup.procs", plan->v2_dir);
                int fd = open(procs, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                if (fd < 0)
                        return warren_error_set(reterr, errno, "Failed to open %s: %m", procs);
                if (plan->n_cgroups >= MAX_CGROUPS) {
                        safe_close(fd);
                        return warren_error_set(reterr, E2BIG, "Too many cgroups");
                }
                plan->cgroup_fds[plan->n_cgroups++] = fd;
        }
}

int attach_spawn(const AttachOptions *o, AttachProcess *ret, WarrenError *reterr) {
        AttachPlan plan;
        SyncState s = { .pidfd = -EBADF, .master = -EBADF };
        int r;

        if (!o || !ret)
                return warren_error_set(reterr, EINVAL, "Invalid attach options: none given");
        r = check_options(o, reterr);
        if (r < 0)
                return r;
        r = plan_new(o, &plan, reterr);
        if (r >= 0)
                r = o->in_place ? spawn_in_place(&plan, &s, reterr) : spawn_via_helper(&plan, &s, reterr);
        plan_done(&plan);
        if (r < 0 && reterr && reterr->error != 0 && r != -ETIMEDOUT) {
                /* Failed before any process was made (the message says why). */
                safe_close(s.master);
                if (s.pidfd >= 0)
                        kill_and_reap(s.pidfd);
                safe_close(s.pidfd);
                return r;
        }
        bool failed = r < 0 || s.error != 0;
        if (failed && s.pidfd >= 0) {
                if (r == -ETIMEDOUT) {
                        /* Not waited for: a v1-frozen process would block us. */
                        (void) pidfd_send_signal(s.pidfd, SIGKILL, NULL, 0);
                        (void) waitid(P_PIDFD, (id_t) s.pidfd, &(siginfo_t){}, WEXITED | WNOHANG);
                } else
                        kill_and_reap(s.pidfd);
        }
        if (failed) {
                safe_close(s.master);
                safe_close(s.pidfd);
        }

        if (r == -ETIMEDOUT)
                return warren_error_set(reterr, ETIMEDOUT, "Attaching did not finish within %d s",
                                        SETUP_TIMEOUT_MS / 1000);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the attach result: %s", strerror(-r));
        if (s.error)
                return warren_error_set(reterr, s.error, "%s", s.text);
        if (s.pidfd < 0 || (o->pty && s.master < 0)) {
                safe_close(s.pidfd);
                safe_close(s.master);
                return warren_error_set(reterr, EPROTO, "The attach helper exited without reporting");
        }
        *ret = (AttachProcess){ .pid = s.pid, .pidfd = s.pidfd, .pty_master = s.master };
        log_debug("Attached pid %d%s%s", (int) s.pid, o->pty ? " with a pty" : "",
                  o->in_place ? " in place" : "");
        return 0;
}
