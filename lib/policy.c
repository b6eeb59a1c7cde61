/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "config-check.h"
#include "config.h"
#include "idmap.h"
#include "mount.h"
#include "policy.h"

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool in_list(const char *s, const char *const *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(s, l[i]))
                        return true;
        return false;
}
#define IN_LIST(s, l) in_list((s), (l), ELEMENTSOF(l))

_printf_(2, 3) static int reason(char **ret, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 1;
}

/* Lexical: collapses "//", "." and ".."; ".." never climbs above "/".
 * Absolute paths only (NULL otherwise or on ENOMEM). */
static char *path_normalize(const char *path) {
        if (!path || path[0] != '/')
                return NULL;
        char *out = malloc(strlen(path) + 2);
        if (!out)
                return NULL;
        size_t o = 0;
        for (const char *p = path; *p;) {
                p += strspn(p, "/");
                size_t n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (n == 1 && p[0] == '.') {
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                } else {
                        out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = 0;
        return out;
}

static bool path_under(const char *path, const char *dir) {
        size_t n = strlen(dir);
        if (streq(dir, "/"))
                return true;
        return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* ---- Items ---- */

static const char *const virtual_fstypes[] = {
        "proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "ramfs", "none",
};

static int mount_entry_reason(const PolicyContext *ctx, const char *value, char **ret, WarrenError *reterr) {
        _cleanup_(mount_entry_done) MountEntry e = {};
        int r = mount_entry_parse(value, &e, reterr);
        if (r < 0)
                return r;
        if (!(e.flags & MS_BIND)) {
                /* Virtual filesystems ignore their source; a remount only
                 * touches a mount inside the container. */
                if ((e.flags & MS_REMOUNT) || IN_LIST(e.fstype, virtual_fstypes))
                        return 0;
                return reason(ret, "it mounts a host filesystem (type '%s', source '%s')", e.fstype,
                              e.source);
        }
        if (ctx->owner_uid == 0)
                return reason(ret, "it bind-mounts the host path '%s' into a container of root", e.source);
        /* The same rule the monitor applies at each start, where the source
         * is opened again and mounted from that fd: no approval could make
         * another path start, so none is asked for. */
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_close_ int fd =
                policy_open_bind_source(ctx->owner_uid, ctx->owner_gid, e.source, NULL, &err);
        if (fd >= 0 || (fd == -ENOENT && e.optional))
                return 0;
        if (fd == -ENOMEM)
                return fd;
        return warren_error_set(reterr, fd == -EPERM ? EPERM : EINVAL, "lxc.mount.entry = '%s': %s%s", value,
                                warren_error_message(&err),
                                fd == -EPERM
                                        ? " (the sources of a non-root owner's binds are the owner's own "
                                          "files; an administrator shares other host paths through a "
                                          "root-owned file the config includes)"
                                        : "");
}

static int net_reason(const char *key, const char *value, char **ret) {
        /* key is "lxc.net.N.SUB" */
        const char *sub = key + strlen("lxc.net.");
        sub += strspn(sub, "0123456789");
        if (*sub++ != '.')
                return 0;
        if (streq(sub, "type")) {
                if (streq(value, "none"))
                        return reason(ret, "the container would share the host's network namespace");
                if (streq(value, "phys"))
                        return reason(ret, "it moves a host network device into the container");
                if (streq(value, "macvlan") || streq(value, "ipvlan") || streq(value, "vlan"))
                        return reason(ret, "it creates a %s device on a host network interface", value);
                return 0;
        }
        if (streq(sub, "script.up") || streq(sub, "script.down"))
                return reason(ret, "network scripts run on the host as root");
        if (streq(sub, "veth.pair"))
                return reason(ret, "it names a network interface on the host");
        if (streq(sub, "veth.ipv4.route") || streq(sub, "veth.ipv6.route"))
                return reason(ret, "it adds routes on the host");
        if (streq(sub, "veth.vlan.id") || streq(sub, "veth.vlan.tagged.id"))
                return reason(ret, "it changes VLAN filtering on a host bridge");
        if (streq(sub, "l2proxy") && !streq(value, "0") && !streq(value, "false"))
                return reason(ret, "it adds proxy ARP/NDP entries on the host");
        return 0;
}

static int cgroup_reason(const char *key, char **ret) {
        static const char *const controllers[] = {
                "cpu", "cpuset", "memory", "io", "pids", "hugetlb", "blkio", "rdma", "misc", "cpuacct",
        };
        static const char *const host_wide[] = {
                "cpuset.cpus.partition",          "cpuset.cpus.exclusive", "cpuset.cpu_exclusive",
                "cpuset.mem_exclusive",           "cpuset.mem_hardwall",   "cpuset.sched_load_balance",
                "cpuset.memory_pressure_enabled",
        };
        const char *file =
                key + (startswith(key, "lxc.cgroup2.") ? strlen("lxc.cgroup2.") : strlen("lxc.cgroup."));
        if (startswith(key, "lxc.cgroup.dir") || streq(key, "lxc.cgroup.relative"))
                return reason(ret, "it places the container's cgroup in the host's hierarchy");
        if (startswith(file, "devices."))
                return reason(ret, "it changes which host devices the container may use");
        size_t n = strcspn(file, ".");
        char controller[16] = "";
        if (n < sizeof controller)
                memcpy(controller, file, n);
        if (file[n] != '.' || !IN_LIST(controller, controllers) || IN_LIST(file, host_wide))
                return reason(ret,
                              "it writes the cgroup file '%s', which is not a resource limit of the "
                              "container's own cgroup",
                              file);
        return 0;
}

static int sysctl_reason(const char *key, char **ret) {
        const char *name = key + strlen("lxc.sysctl.");
        if (config_sysctl_is_namespaced(name))
                return 0;
        return reason(ret, "'%s' is not a namespaced sysctl: it would change the host", name);
}

/* A file the service writes as root: directly in the container dir, and
 * none of the store's own files. */
static int log_file_reason(const PolicyContext *ctx, const char *value, char **ret) {
        _cleanup_free_ char *p = path_normalize(value), *dir = path_normalize(ctx->container_dir);
        if (p && dir && path_under(p, dir) && p[strlen(dir)] == '/') {
                const char *base = p + strlen(dir) + 1;
                if (!strchr(base, '/') && base[0] != '.' && !streq(base, "config") &&
                    !streq(base, "rootfs") && !streq(base, "owner"))
                        return 0;
        }
        return reason(ret,
                      "the service writes it as root: it must be a file directly in '%s' (not config, "
                      "rootfs, owner)",
                      strna(ctx->container_dir));
}

static int rootfs_reason(const PolicyContext *ctx, const char *value, char **ret) {
        const char *path = startswith(value, "dir:") ? value + 4 : value;
        _cleanup_free_ char *p = path_normalize(path), *dir = path_normalize(ctx->container_dir);
        if (p && dir) {
                _cleanup_free_ char *want = NULL;
                if (asprintf(&want, "%s/rootfs", streq(dir, "/") ? "" : dir) < 0)
                        return -ENOMEM;
                if (streq(p, want))
                        return 0;
        }
        return reason(ret, "the rootfs must be '%s/rootfs'", strna(ctx->container_dir));
}

static int include_reason(const PolicyContext *ctx, const char *value, char **ret) {
        _cleanup_free_ char *p = path_normalize(value);
        if (p)
                STRV_FOREACH(a, ctx->include_allow) {
                        _cleanup_free_ char *d = path_normalize(*a);
                        if (d && path_under(p, d))
                                return 0;
                }
        _cleanup_free_ char *allowed = strv_join(ctx->include_allow, ", ");
        if (!allowed)
                return -ENOMEM;
        return reason(ret, "only files under the shared config directories (%s) may be included",
                      *allowed ? allowed : "none");
}

static int idmap_reason(const PolicyContext *ctx, const char *value, char **ret, WarrenError *reterr) {
        IdmapLine l;
        int r = idmap_line_parse(value, &l, reterr);
        if (r < 0)
                return r;
        if (!ctx->idmap)
                return reason(ret, "no subordinate id ranges are known for uid %u",
                              (unsigned) ctx->owner_uid);
        WarrenError e = WARREN_ERROR_NULL;
        r = idmap_allowance_check_line(ctx->idmap, &l, &e);
        if (r == -EPERM)
                r = reason(ret, "%s", warren_error_message(&e));
        warren_error_clear(&e);
        return r;
}

/* Removing these lifts a restriction. */
static int removal_reason(const char *key, char **ret) {
        if (streq(key, "lxc.cgroup.devices.deny") || streq(key, "lxc.cgroup2.devices.deny"))
                return reason(ret, "it lifts restrictions on host devices");
        if (streq(key, "lxc.cgroup") || streq(key, "lxc.cgroup2"))
                return reason(ret, "it clears the device rules of the container's cgroup");
        if (streq(key, "lxc.seccomp.profile"))
                return reason(ret, "it removes the seccomp filter");
        if (streq(key, "lxc.apparmor.profile") || streq(key, "lxc.selinux.context"))
                return reason(ret, "it removes the security module confinement");
        if (streq(key, "lxc.include"))
                return reason(ret, "it drops the settings of a shared config (device rules, seccomp, ...)");
        return 0;
}

int policy_item_admin_reason(const PolicyContext *ctx, const char *key, const char *value, char **ret_reason,
                             WarrenError *reterr) {
        *ret_reason = NULL;
        if (isempty(value))
                return removal_reason(key, ret_reason);
        if (streq(key, "lxc.hook.version"))
                return 0;
        if (startswith(key, "lxc.hook."))
                return reason(ret_reason, "hooks run programs on the host as root");
        if (startswith(key, "lxc.net."))
                return net_reason(key, value, ret_reason);
        if (startswith(key, "lxc.cgroup.") || startswith(key, "lxc.cgroup2."))
                return cgroup_reason(key, ret_reason);
        if (streq(key, "lxc.mount.entry"))
                return mount_entry_reason(ctx, value, ret_reason, reterr);
        if (streq(key, "lxc.mount.fstab"))
                return reason(ret_reason, "the service reads that file as root (use lxc.mount.entry)");
        if (streq(key, "lxc.rootfs.path"))
                return rootfs_reason(ctx, value, ret_reason);
        if (streq(key, "lxc.rootfs.mount") || streq(key, "lxc.rootfs.options"))
                return reason(ret_reason, "it changes how the host mounts the rootfs");
        if (streq(key, "lxc.console.logfile") || streq(key, "lxc.log.file"))
                return log_file_reason(ctx, value, ret_reason);
        if (streq(key, "lxc.console.path"))
                return streq(value, "none") || streq(value, "auto")
                               ? 0
                               : reason(ret_reason, "it uses the host device '%s' as the console", value);
        if (startswith(key, "lxc.apparmor.") || startswith(key, "lxc.selinux."))
                return reason(ret_reason, "it overrides the security module confinement");
        if (streq(key, "lxc.seccomp.profile"))
                return reason(ret_reason, "the service reads the profile file as root");
        if (streq(key, "lxc.seccomp.notify.proxy"))
                return reason(ret_reason, "the service connects to that socket as root");
        if (streq(key, "lxc.idmap"))
                return idmap_reason(ctx, value, ret_reason, reterr);
        if (streq(key, "lxc.include"))
                return include_reason(ctx, value, ret_reason);
        if (startswith(key, "lxc.sysctl."))
                return sysctl_reason(key, ret_reason);
        if (startswith(key, "lxc.namespace."))
                return reason(ret_reason, "it shares, keeps or chooses the container's namespaces");
        if (startswith(key, "lxc.proc."))
                return reason(ret_reason, "the service writes it into /proc of the init as root");
        return 0;
}

/* ---- Whole configs ---- */

typedef struct Item {
        const char *key, *value;
        bool used;
} Item;

static int item_cmp(const void *a, const void *b) {
        const Item *x = a, *y = b;
        int r = strcmp(x->key, y->key);
        return r != 0 ? r : strcmp(x->value, y->value);
}

static Item *items_of(const LxcConfig *c, size_t *ret_n) {
        size_t n = c ? lxc_config_n_items(c) : 0;
        Item *items = calloc(n + 1, sizeof(Item));
        if (!items)
                return NULL;
        for (size_t i = 0; i < n; i++)
                lxc_config_item(c, i, &items[i].key, &items[i].value);
        *ret_n = n;
        return items;
}

/* Hard rules on the resulting config. Sets *privileged for a container
 * without lxc.idmap (owner root only). */
static int check_result(const PolicyContext *ctx, const LxcConfig *c, bool *privileged,
                        WarrenError *reterr) {
        _cleanup_idmap_ Idmap *m = NULL;
        int r = idmap_from_config(c, &m, reterr);
        if (r < 0)
                return r;
        r = idmap_verify(m, reterr);
        if (r < 0)
                return r;
        IdmapKind have = 0;
        for (size_t i = 0; i < m->n; i++)
                have |= m->lines[i].kind;
        *privileged = m->n == 0;
        if (ctx->owner_uid != 0 && have != IDMAP_BOTH)
                return warren_error_set(
                        reterr, EPERM,
                        "A container of uid %u must be unprivileged: its config has no lxc.idmap "
                        "line for %s",
                        (unsigned) ctx->owner_uid, have & IDMAP_UID ? "gids" : "uids");
        return 0;
}

typedef struct Finding {
        const char *key, *value;
        bool removed;
        char *why;
} Finding;

static void findings_free(Finding *f, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(f[i].why);
        free(f);
}

static int report(Finding *f, size_t n, char ***ret_admin_keys, WarrenError *reterr) {
        _cleanup_strv_free_ char **keys = NULL;
        for (size_t i = 0; i < n; i++)
                if (!strv_contains(keys, f[i].key) && strv_extend(&keys, f[i].key) < 0)
                        return -ENOMEM;
        _cleanup_free_ char *more = strv_length(keys) > 1 ? strv_join(keys + 1, ", ") : strdup("");
        if (!more)
                return -ENOMEM;
        int r = warren_error_set(reterr, EACCES, "%s%s = '%s' needs %s: %s%s%s%s",
                                 f[0].removed ? "Removing " : "", f[0].key, f[0].value, POLICY_ADMIN_ACTION,
                                 f[0].why, *more ? " (also: " : "", more, *more ? ")" : "");
        if (ret_admin_keys)
                *ret_admin_keys = TAKE_PTR(keys);
        return r;
}

int policy_check_change(const PolicyContext *ctx, const LxcConfig *old, const LxcConfig *new_config,
                        char ***ret_admin_keys, WarrenError *reterr) {
        bool privileged;
        if (ret_admin_keys)
                *ret_admin_keys = NULL;
        int r = check_result(ctx, new_config, &privileged, reterr);
        if (r < 0)
                return r;

        size_t n_old, n_new, n_found = 0;
        _cleanup_free_ Item *o = items_of(old, &n_old), *n = items_of(new_config, &n_new);
        Finding *found = calloc(n_old + n_new + 1, sizeof(Finding));
        if (!o || !n || !found) {
                free(found);
                return -ENOMEM;
        }
        qsort(o, n_old, sizeof(Item), item_cmp);

        for (size_t i = 0; i < n_new && r >= 0; i++) {
                Item *hit = bsearch(&n[i], o, n_old, sizeof(Item), item_cmp);
                if (hit) {
                        /* First of the equal run, then the first unused one. */
                        while (hit > o && item_cmp(hit - 1, &n[i]) == 0)
                                hit--;
                        while (hit < o + n_old && hit->used && item_cmp(hit, &n[i]) == 0)
                                hit++;
                        if (hit < o + n_old && !hit->used && item_cmp(hit, &n[i]) == 0) {
                                hit->used = true;
                                continue;
                        }
                }
                char *why = NULL;
                if (privileged)
                        r = reason(&why, "the container is privileged (no lxc.idmap): its settings act on "
                                         "the host as root");
                else
                        r = policy_item_admin_reason(ctx, n[i].key, n[i].value, &why, reterr);
                if (r > 0)
                        found[n_found++] = (Finding){ n[i].key, n[i].value, false, why };
        }
        for (size_t i = 0; i < n_old && r >= 0; i++) {
                if (o[i].used || isempty(o[i].value))
                        continue;
                char *why = NULL;
                if (privileged)
                        r = reason(&why, "the container is privileged (no lxc.idmap): its settings act on "
                                         "the host as root");
                else
                        r = removal_reason(o[i].key, &why);
                if (r > 0)
                        found[n_found++] = (Finding){ o[i].key, o[i].value, true, why };
        }
        if (r >= 0)
                r = n_found > 0 ? report(found, n_found, ret_admin_keys, reterr) : 0;
        findings_free(found, n_found);
        return r;
}

int policy_check_config(const PolicyContext *ctx, const LxcConfig *c, char ***ret_admin_keys,
                        WarrenError *reterr) {
        return policy_check_change(ctx, NULL, c, ret_admin_keys, reterr);
}

/* ---- Acting as a user ---- */

typedef enum HelperTag {
        TAG_STATUS = 'S', /* HelperStatus, with the fd for an open */
        TAG_DATA = 'D',   /* file bytes */
        TAG_END = 'E',    /* int: 0 or the read error */
} HelperTag;

typedef struct HelperStatus {
        char tag;
        int error;
        struct stat st;
} HelperStatus;

#define HELPER_CHUNK 32768U

static void kill_and_reap(pid_t *pid) {
        if (*pid <= 0)
                return;
        (void) kill(*pid, SIGKILL);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                ;
        *pid = 0;
}

/* In the child: only async-signal-safe calls. *sock moves to fd 3. */
static int become_user(uid_t uid, gid_t gid, int *sock) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                return -errno;
        /* Nothing of the service's (bus, monitor sockets) stays within reach. */
        if (*sock != 3) {
                if (dup2(*sock, 3) < 0)
                        return -errno;
                *sock = 3;
        }
        if (close_range(4, ~0U, 0) < 0)
                return -errno;
        if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return -errno;
        /* The user may not ptrace this process even with fs.suid_dumpable=1. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return -errno;
        if (uid != 0) {
                struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
                struct __user_cap_data_struct d[2] = {};
                if (syscall(SYS_capget, &h, d) < 0)
                        return -errno;
                /* SECBIT_NO_SETUID_FIXUP or the like would keep them. */
                if (d[0].effective || d[1].effective || d[0].permitted || d[1].permitted)
                        return -EPERM;
        }
        return 0;
}

static void send_status(int sock, int error, const struct stat *st, int fd) {
        HelperStatus s = { .tag = TAG_STATUS, .error = error };
        if (st)
                s.st = *st;
        (void) send_with_fds(sock, &s, sizeof s, &fd, fd >= 0, 0);
}

/* What a helper is asked to do. */
typedef struct HelperRequest {
        uid_t uid;
        gid_t gid;
        const char *path;
        int flags;
        bool read_data; /* send the bytes of a regular file, not the fd */
        size_t max;
        bool no_symlinks; /* no symbolic link in any component, not just the last */
} HelperRequest;

_Noreturn static void helper_child(int sock, const HelperRequest *q) {
        int r = become_user(q->uid, q->gid, &sock);
        if (r < 0) {
                send_status(sock, -r, NULL, -EBADF);
                _exit(EXIT_FAILURE);
        }
        int fd;
        if (q->no_symlinks) {
                /* openat2() refuses O_PATH with any flag it ignores. */
                int f = q->flags | O_CLOEXEC | ((q->flags & O_PATH) ? 0 : O_NOCTTY);
                struct open_how how = {
                        .flags = (uint64_t) f,
                        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                };
                fd = (int) syscall(SYS_openat2, AT_FDCWD, q->path, &how, sizeof how);
        } else
                fd = open(q->path, q->flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                send_status(sock, errno, NULL, -EBADF);
                _exit(EXIT_FAILURE);
        }
        bool read_data = q->read_data;
        size_t max = q->max;
        send_status(sock, 0, &st, read_data ? -EBADF : fd);
        if (!read_data || !S_ISREG(st.st_mode))
                _exit(EXIT_SUCCESS);
        char buf[1 + HELPER_CHUNK];
        size_t total = 0;
        int err = 0;
        buf[0] = TAG_DATA;
        while (total <= max) {
                ssize_t n = read(fd, buf + 1, MIN((size_t) HELPER_CHUNK, max + 1 - total));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        err = n < 0 ? errno : 0;
                        break;
                }
                if (send(sock, buf, (size_t) n + 1, MSG_NOSIGNAL) < 0)
                        _exit(EXIT_FAILURE);
                total += (size_t) n;
        }
        buf[0] = TAG_END;
        memcpy(buf + 1, &err, sizeof err);
        (void) send(sock, buf, 1 + sizeof err, MSG_NOSIGNAL);
        _exit(EXIT_SUCCESS);
}

typedef struct Helper {
        pid_t pid;
        int sock;
        struct timespec deadline;
} Helper;

static void helper_done(Helper *h) {
        h->sock = safe_close(h->sock);
        kill_and_reap(&h->pid);
}

static int helper_start(Helper *h, const HelperRequest *q) {
        int pair[2];
        *h = (Helper){ .sock = -EBADF };
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                safe_close(pair[0]);
                safe_close(pair[1]);
                return -errno;
        }
        if (pid == 0)
                helper_child(pair[1], q);
        safe_close(pair[1]);
        h->pid = pid;
        h->sock = pair[0];
        clock_gettime(CLOCK_MONOTONIC, &h->deadline);
        h->deadline.tv_sec += POLICY_USER_TIMEOUT_MS / 1000;
        h->deadline.tv_nsec += (POLICY_USER_TIMEOUT_MS % 1000) * 1000000L;
        if (h->deadline.tv_nsec >= 1000000000L) {
                h->deadline.tv_sec++;
                h->deadline.tv_nsec -= 1000000000L;
        }
        return 0;
}

/* One packet, waiting until the deadline. 0 on EOF; *ret_fd gets a passed fd. */
static ssize_t helper_recv(Helper *h, void *buf, size_t size, int *ret_fd) {
        for (;;) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long long ms = (h->deadline.tv_sec - now.tv_sec) * 1000LL +
                               (h->deadline.tv_nsec - now.tv_nsec) / 1000000L;
                if (ms <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = h->sock, .events = POLLIN };
                int r = poll(&p, 1, (int) ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                break;
        }
        /* An fd only where one is expected, and only one. */
        int fd = -EBADF;
        size_t n_fds;
        ssize_t n = recv_with_fds(h->sock, buf, size, &fd, ret_fd && *ret_fd < 0, &n_fds, 0);
        if (n == -EBADMSG)
                return -EPROTO;
        if (n < 0)
                return n;
        if (n_fds > 0)
                *ret_fd = fd;
        return n;
}

static int helper_error(int r, uid_t uid, const char *path, const char *verb, WarrenError *reterr) {
        if (r == -ETIMEDOUT)
                return warren_error_set(reterr, r, "Timed out after %d ms trying to %s '%s' as uid %u",
                                        POLICY_USER_TIMEOUT_MS, verb, path, (unsigned) uid);
        if (r == -ELOOP)
                return warren_error_set(reterr, EACCES,
                                        "Refusing to %s '%s' as uid %u: it is a symbolic link", verb, path,
                                        (unsigned) uid);
        if (r == -ENOENT)
                return warren_error_set(reterr, r, "'%s' does not exist (looked up as uid %u)", path,
                                        (unsigned) uid);
        return warren_error_set(reterr, r, "Failed to %s '%s' as uid %u: %s", verb, path, (unsigned) uid,
                                strerror(-r));
}

/* The first packet: the status. */
static int helper_status(Helper *h, HelperStatus *ret, int *ret_fd) {
        ssize_t n = helper_recv(h, ret, sizeof *ret, ret_fd);
        if (n < 0)
                return (int) n;
        if (n != sizeof *ret || ret->tag != TAG_STATUS)
                return -EPROTO;
        return ret->error > 0 ? -ret->error : 0;
}

static int open_as_user(const HelperRequest *q, struct stat *ret_st, WarrenError *reterr) {
        _cleanup_(helper_done) Helper h = { .sock = -EBADF };
        _cleanup_close_ int fd = -EBADF;
        HelperStatus s;
        int r = helper_start(&h, q);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to start a helper as uid %u: %s",
                                        (unsigned) q->uid, strerror(-r));
        r = helper_status(&h, &s, &fd);
        if (r >= 0 && fd < 0)
                r = -EPROTO;
        if (r < 0)
                return r;
        if (ret_st)
                *ret_st = s.st;
        return TAKE_FD(fd);
}

int policy_open_as_user(uid_t uid, gid_t gid, const char *path, int flags, struct stat *ret_st,
                        WarrenError *reterr) {
        const HelperRequest q = { .uid = uid, .gid = gid, .path = path, .flags = flags };
        int fd = open_as_user(&q, ret_st, reterr);
        if (fd < 0 && (!reterr || reterr->error == 0))
                return helper_error(fd, uid, path, "open", reterr);
        return fd;
}

int policy_open_bind_source(uid_t uid, gid_t gid, const char *path, struct stat *ret_st,
                            WarrenError *reterr) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (!path || path[0] != '/')
                return warren_error_set(reterr, EINVAL, "Bind source '%s' is not an absolute host path",
                                        strempty(path));
        const HelperRequest q = {
                .uid = uid, .gid = gid, .path = path, .flags = O_PATH, .no_symlinks = true
        };
        fd = open_as_user(&q, &st, reterr);
        if (fd == -ELOOP || fd == -EXDEV)
                return warren_error_set(reterr, EPERM,
                                        "Refusing bind source '%s': the path goes through a symbolic link "
                                        "(opened as uid %u, following none)",
                                        path, (unsigned) uid);
        if (fd == -ENOENT)
                return warren_error_set(reterr, ENOENT,
                                        "Bind source '%s' does not exist (looked up as uid %u)", path,
                                        (unsigned) uid);
        if (fd < 0 && (!reterr || reterr->error == 0))
                return helper_error(fd, uid, path, "open bind source", reterr);
        if (fd < 0)
                return fd;
        if (S_ISLNK(st.st_mode)) /* cannot be: openat2() refused every link */
                return warren_error_set(reterr, EPERM, "Refusing bind source '%s': it is a symbolic link",
                                        path);
        if (st.st_uid != uid)
                return warren_error_set(reterr, EPERM,
                                        "Refusing bind source '%s': it is owned by uid %u, not by the "
                                        "container's owner (uid %u)",
                                        path, (unsigned) st.st_uid, (unsigned) uid);
        if (ret_st)
                *ret_st = st;
        return TAKE_FD(fd);
}

int policy_read_user_file(uid_t uid, gid_t gid, const char *path, size_t max, char **ret, size_t *ret_size,
                          WarrenError *reterr) {
        _cleanup_(helper_done) Helper h = { .sock = -EBADF };
        HelperStatus s;
        if (max >= SIZE_MAX - HELPER_CHUNK)
                return -EINVAL;
        const HelperRequest q = { .uid = uid,
                                  .gid = gid,
                                  .path = path,
                                  .flags = O_RDONLY | O_NONBLOCK,
                                  .read_data = true,
                                  .max = max };
        int r = helper_start(&h, &q);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to start a helper as uid %u: %s", (unsigned) uid,
                                        strerror(-r));
        r = helper_status(&h, &s, NULL);
        if (r < 0)
                return helper_error(r, uid, path, "read", reterr);
        if (!S_ISREG(s.st.st_mode))
                return warren_error_set(reterr, EINVAL,
                                        "Refusing to read '%s' as uid %u: not a regular file", path,
                                        (unsigned) uid);
        size_t alloc = MIN(max, (size_t) 65536) + 1, n = 0;
        _cleanup_free_ char *data = malloc(alloc);
        _cleanup_free_ char *pkt = malloc(1 + HELPER_CHUNK);
        if (!data || !pkt)
                return -ENOMEM;
        for (;;) {
                ssize_t k = helper_recv(&h, pkt, 1 + HELPER_CHUNK, NULL);
                if (k < 0)
                        return helper_error((int) k, uid, path, "read", reterr);
                if (k == 0)
                        return helper_error(-EPROTO, uid, path, "read", reterr);
                if (pkt[0] == TAG_END && k == 1 + (ssize_t) sizeof(int)) {
                        int err;
                        memcpy(&err, pkt + 1, sizeof err);
                        if (err > 0)
                                return helper_error(-err, uid, path, "read", reterr);
                        break;
                }
                if (pkt[0] != TAG_DATA)
                        return helper_error(-EPROTO, uid, path, "read", reterr);
                size_t len = (size_t) k - 1;
                if (n + len > max)
                        return warren_error_set(reterr, EFBIG, "'%s' is larger than %zu bytes", path, max);
                if (n + len + 1 > alloc) {
                        size_t na = MIN(MAX(alloc * 2, n + len + 1), max + 1);
                        char *nd = realloc(data, na);
                        if (!nd)
                                return -ENOMEM;
                        data = nd;
                        alloc = na;
                }
                memcpy(data + n, pkt + 1, len);
                n += len;
        }
        data[n] = 0;
        if (ret_size)
                *ret_size = n;
        *ret = TAKE_PTR(data);
        return 0;
}

gid_t policy_owner_gid(uid_t uid) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res)
                return pw.pw_gid;
        return (gid_t) uid;
}
