/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "checkconfig.h"
#include "cgroup.h"
#include "basic/fileio.h"
#include "basic/strv.h"

typedef struct KconfigEntry {
        char *name; /* without "CONFIG_" */
        char *value;
} KconfigEntry;

struct KernelConfig {
        KconfigEntry *entries;
        size_t n;
};

/* The kernel's clone3() argument block up to version 2 (with .cgroup). */
struct clone_args_v2 {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};
#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL

/* ---- kernel config ---- */

KernelConfig *kernel_config_free(KernelConfig *k) {
        if (!k)
                return NULL;
        for (size_t i = 0; i < k->n; i++) {
                free(k->entries[i].name);
                free(k->entries[i].value);
        }
        free(k->entries);
        free(k);
        return NULL;
}

size_t kernel_config_size(const KernelConfig *k) {
        return k ? k->n : 0;
}

static int kconfig_add(KernelConfig *k, size_t *alloc, const char *name, size_t name_len, const char *value,
                       size_t value_len) {
        if (k->n >= KERNEL_CONFIG_MAX_ENTRIES)
                return -E2BIG;
        if (k->n == *alloc) {
                size_t na = *alloc ? *alloc * 2 : 1024;
                KconfigEntry *e = realloc(k->entries, na * sizeof(KconfigEntry));
                if (!e)
                        return -ENOMEM;
                k->entries = e;
                *alloc = na;
        }
        KconfigEntry e = { strndup(name, name_len), strndup(value, value_len) };
        if (!e.name || !e.value) {
                free(e.name);
                free(e.value);
                return -ENOMEM;
        }
        k->entries[k->n++] = e;
        return 0;
}

static size_t symbol_len(const char *s, size_t max) {
        size_t i = 0;
        while (i < max && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
                           (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                i++;
        return i;
}

static int bad_line(unsigned lineno, const char *line, size_t len, WarrenError *reterr) {
        char shown[65];
        size_t n = MIN(len, sizeof(shown) - 1);
        /* The line may be binary garbage: show only printable ASCII. */
        for (size_t i = 0; i < n; i++)
                shown[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
        shown[n] = 0;
        return warren_error_set(reterr, EBADMSG,
                                "Invalid kernel config line %u: '%s%s': expected CONFIG_NAME=VALUE or '# "
                                "CONFIG_NAME is not set'",
                                lineno, shown, len > n ? "..." : "");
}

int kernel_config_parse(const char *text, size_t len, KernelConfig **ret, WarrenError *reterr) {
        _cleanup_(kernel_config_freep) KernelConfig *k = calloc(1, sizeof(KernelConfig));
        size_t alloc = 0;
        unsigned lineno = 0;
        int r;

        if (!k)
                return -ENOMEM;
        if (len > KERNEL_CONFIG_MAX_SIZE)
                return warren_error_set(reterr, EFBIG, "Kernel config too large (%zu bytes, at most %u)",
                                        len, KERNEL_CONFIG_MAX_SIZE);
        if (memchr(text, 0, len))
                return warren_error_set(reterr, EBADMSG,
                                        "Invalid kernel config: contains a NUL byte at offset %zu",
                                        (size_t) ((const char *) memchr(text, 0, len) - text));

        for (size_t pos = 0; pos < len;) {
                const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
                size_t ll = nl ? (size_t) (nl - line) : len - pos;
                pos += ll + (nl ? 1 : 0);
                lineno++;
                if (ll > 0 && line[ll - 1] == '\r')
                        ll--;
                size_t blank = 0;
                while (blank < ll && (line[blank] == ' ' || line[blank] == '\t'))
                        blank++;
                if (blank == ll)
                        continue;

                if (line[0] == '#') {
                        static const char prefix[] = "# CONFIG_", suffix[] = " is not set";
                        size_t pl = sizeof(prefix) - 1, sl = sizeof(suffix) - 1;
                        if (ll > pl + sl && memcmp(line, prefix, pl) == 0 &&
                            memcmp(line + ll - sl, suffix, sl) == 0) {
                                size_t nlen = ll - pl - sl;
                                if (nlen > 0 && symbol_len(line + pl, nlen) == nlen) {
                                        r = kconfig_add(k, &alloc, line + pl, nlen, "n", 1);
                                        if (r < 0)
                                                return r == -E2BIG
                                                               ? warren_error_set(reterr, r,
                                                                                  "Kernel config has more "
                                                                                  "than %u entries",
                                                                                  KERNEL_CONFIG_MAX_ENTRIES)
                                                               : r;
                                        continue;
                                }
                        }
                        continue; /* any other comment */
                }
                if (ll < 8 || memcmp(line, "CONFIG_", 7) != 0)
                        return bad_line(lineno, line, ll, reterr);
                size_t nlen = symbol_len(line + 7, ll - 7);
                if (nlen == 0 || 7 + nlen >= ll || line[7 + nlen] != '=')
                        return bad_line(lineno, line, ll, reterr);
                const char *value = line + 7 + nlen + 1;
                size_t vlen = ll - 7 - nlen - 1;
                for (size_t i = 0; i < vlen; i++)
                        if ((unsigned char) value[i] < 0x20 && value[i] != '\t')
                                return bad_line(lineno, line, ll, reterr);
                r = kconfig_add(k, &alloc, line + 7, nlen, value, vlen);
                if (r < 0)
                        return r == -E2BIG ? warren_error_set(reterr, r,
                                                              "Kernel config has more than %u entries",
                                                              KERNEL_CONFIG_MAX_ENTRIES)
                                           : r;
        }
        *ret = TAKE_PTR(k);
        return 0;
}

static void gzclosep(gzFile *f) {
        if (*f)
                (void) gzclose(*f);
}

/* zlib undoes gzip in-process with a size bound (no zcat to fork and exec)
 * and passes an uncompressed file through unchanged. */
static int read_maybe_gzip(const char *path, char **ret, size_t *ret_len, WarrenError *reterr) {
        _cleanup_(gzclosep) gzFile gz = NULL;
        size_t n = 0, alloc = 64 * 1024;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open %s: %m", path);
        gz = gzdopen(fd, "rb");
        if (!gz) {
                safe_close(fd);
                return -ENOMEM;
        }
        _cleanup_free_ char *buf = malloc(alloc + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (n == alloc) {
                        if (alloc >= KERNEL_CONFIG_MAX_SIZE)
                                return warren_error_set(reterr, EFBIG,
                                                        "Kernel config %s is larger than %u bytes", path,
                                                        KERNEL_CONFIG_MAX_SIZE);
                        size_t na = MIN(alloc * 2, (size_t) KERNEL_CONFIG_MAX_SIZE);
                        char *nb = realloc(buf, na + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc = na;
                }
                int k = gzread(gz, buf + n, (unsigned) (alloc - n));
                if (k < 0) {
                        int zerr = Z_OK;
                        const char *msg = gzerror(gz, &zerr);
                        if (zerr == Z_ERRNO)
                                return warren_error_set(reterr, errno, "Failed to read %s: %m", path);
                        if (zerr == Z_MEM_ERROR)
                                return -ENOMEM;
                        return warren_error_set(reterr, EBADMSG, "Failed to read %s: %s", path, strna(msg));
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

int kernel_config_load(const char *path, KernelConfig **ret, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_maybe_gzip(path, &text, &len, reterr);
        if (r < 0)
                return r;
        r = kernel_config_parse(text, len, ret, reterr);
        if (r < 0)
                warren_error_prefix(reterr, "%s", path);
        return r;
}

int kernel_config_load_running(KernelConfig **ret, char **ret_source, WarrenError *reterr) {
        struct utsname u;
        _cleanup_free_ char *boot = NULL;
        const char *path = "/proc/config.gz";

        if (access(path, R_OK) < 0) {
                if (uname(&u) < 0 || asprintf(&boot, "/boot/config-%s", u.release) < 0)
                        return -ENOMEM;
                if (access(boot, R_OK) < 0)
                        return warren_error_set(reterr, ENOENT,
                                                "No kernel config: neither /proc/config.gz nor %s exists",
                                                boot);
                path = boot;
        }
        int r = kernel_config_load(path, ret, reterr);
        if (r < 0)
                return r;
        if (ret_source && !(*ret_source = strdup(path))) {
                *ret = kernel_config_free(*ret);
                return -ENOMEM;
        }
        return 0;
}

const char *kernel_config_get_value(const KernelConfig *k, const char *symbol) {
        if (!k || !symbol)
                return NULL;
        if (strncmp(symbol, "CONFIG_", 7) == 0)
                symbol += 7;
        for (size_t i = k->n; i > 0; i--)
                if (streq(k->entries[i - 1].name, symbol))
                        return k->entries[i - 1].value;
        return NULL;
}

KconfigValue kernel_config_get(const KernelConfig *k, const char *symbol) {
        const char *v = kernel_config_get_value(k, symbol);
        if (!v)
                return KCONFIG_ABSENT;
        if (streq(v, "y"))
                return KCONFIG_YES;
        if (streq(v, "m"))
                return KCONFIG_MODULE;
        if (streq(v, "n"))
                return KCONFIG_NO;
        return KCONFIG_OTHER;
}

/* ---- report ---- */

const char *check_status_to_string(CheckStatus s) {
        switch (s) {
        case CHECK_ENABLED:
                return "enabled";
        case CHECK_MISSING:
                return "missing";
        case CHECK_OPTIONAL:
                return "optional";
        }
        return NULL;
}

CheckReport *check_report_free(CheckReport *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_items; i++) {
                free(r->items[i].feature);
                free(r->items[i].detail);
        }
        free(r->items);
        free(r);
        return NULL;
}

const CheckItem *check_report_find(const CheckReport *r, const char *feature) {
        for (size_t i = 0; r && i < r->n_items; i++)
                if (streq(r->items[i].feature, feature))
                        return &r->items[i];
        return NULL;
}

_printf_(4, 5) static int add(CheckReport *rep, const char *feature, CheckStatus s, const char *fmt, ...) {
        CheckItem *n = realloc(rep->items, (rep->n_items + 1) * sizeof(CheckItem));
        char *detail = NULL;
        va_list ap;
        if (!n)
                return -ENOMEM;
        rep->items = n;
        va_start(ap, fmt);
        int k = vasprintf(&detail, fmt, ap);
        va_end(ap);
        char *f = strdup(feature);
        if (k < 0 || !f) {
                free(f);
                if (k >= 0)
                        free(detail);
                return -ENOMEM;
        }
        rep->items[rep->n_items++] = (CheckItem){ .feature = f, .status = s, .detail = detail };
        return 0;
}

static CheckStatus absent(bool required) {
        return required ? CHECK_MISSING : CHECK_OPTIONAL;
}

static bool kernel_at_least(unsigned major, unsigned minor) {
        struct utsname u;
        unsigned ma = 0, mi = 0;
        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
                return false;
        return ma > major || (ma == major && mi >= minor);
}

static int check_namespaces(CheckReport *rep, const KernelConfig *kc) {
        static const struct {
                const char *feature, *file, *symbol;
                bool required;
        } ns[] = {
                { "pid namespace", "pid", "PID_NS", true },
                { "mount namespace", "mnt", NULL, true },
                { "uts namespace", "uts", "UTS_NS", true },
                { "ipc namespace", "ipc", "IPC_NS", true },
                { "network namespace", "net", "NET_NS", true },
                { "cgroup namespace", "cgroup", "CGROUPS", true },
                { "user namespace", "user", "USER_NS", true },
                { "time namespace", "time", "TIME_NS", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(ns); i++) {
                char path[64], target[128];
                snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i].file);
                ssize_t k = readlink(path, target, sizeof(target) - 1);
                int r;
                if (k > 0) {
                        target[k] = 0;
                        r = add(rep, ns[i].feature, CHECK_ENABLED, "%s", target);
                } else
                        r = add(rep, ns[i].feature, absent(ns[i].required), "no %s%s%s%s", path,
                                ns[i].symbol ? " (CONFIG_" : "", strempty(ns[i].symbol),
                                ns[i].symbol
                                        ? (kernel_config_get(kc, ns[i].symbol) == KCONFIG_NO ? " is not set)"
                                                                                             : ")")
                                        : "");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Root creates warren's user namespaces, so only the global limit matters;
 * unprivileged_userns_clone (Debian) restricts unprivileged callers only. */
static int check_userns_allowed(CheckReport *rep) {
        _cleanup_free_ char *max = NULL, *clone = NULL;
        char note[128] = "";
        if (read_one_line_file("/proc/sys/kernel/unprivileged_userns_clone", &clone) >= 0)
                snprintf(note, sizeof(note),
                         "; kernel.unprivileged_userns_clone=%s (applies to non-root only)", clone);
        if (read_one_line_file("/proc/sys/user/max_user_namespaces", &max) < 0)
                return add(rep, "user namespaces allowed", CHECK_OPTIONAL,
                           "unknown: cannot read /proc/sys/user/max_user_namespaces%s", note);
        if (streq(max, "0"))
                return add(rep, "user namespaces allowed", CHECK_MISSING,
                           "user.max_user_namespaces is 0: set it above 0%s", note);
        return add(rep, "user namespaces allowed", CHECK_ENABLED, "user.max_user_namespaces=%s%s", max,
                   note);
}

static int check_cgroups(CheckReport *rep) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *l = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        int r = cgroup_layout_detect(&l, &e);
        if (r < 0) {
                r = add(rep, "cgroup2", CHECK_MISSING, "%s", warren_error_message(&e));
                warren_error_clear(&e);
                return r < 0 ? r : add(rep, "cgroup v1", CHECK_OPTIONAL, "none");
        }

        if (l->v2_mount) {
                _cleanup_free_ char *c = strv_join(l->v2_controllers, " ");
                if (!c)
                        return -ENOMEM;
                r = add(rep, "cgroup2", CHECK_ENABLED, "%s (controllers: %s)", l->v2_mount,
                        isempty(c) ? "none" : c);
        } else
                r = add(rep, "cgroup2", CHECK_MISSING,
                        "no cgroup2 mount (needed for clone3 CLONE_INTO_CGROUP and freezing)");
        if (r < 0)
                return r;

        _cleanup_strv_free_ char **v1 = calloc(1, sizeof(char *));
        if (!v1)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_v1; i++)
                STRV_FOREACH(c, l->v1[i].controllers)
                        if (strv_extend(&v1, *c) < 0)
                                return -ENOMEM;
        _cleanup_free_ char *v1s = strv_join(v1, " ");
        if (!v1s)
                return -ENOMEM;
        r = l->n_v1 > 0 ? add(rep, "cgroup v1", CHECK_ENABLED, "hierarchies: %s", v1s)
                        : add(rep, "cgroup v1", CHECK_OPTIONAL, "none (cgroup2 only)");
        if (r < 0)
                return r;

        static const struct {
                const char *feature, *v2, *v1;
        } ctrl[] = {
                { "memory controller", "memory", "memory" }, { "pids controller", "pids", "pids" },
                { "cpu controller", "cpu", "cpu" },          { "cpuset controller", "cpuset", "cpuset" },
                { "io controller", "io", "blkio" },
        };
        for (size_t i = 0; i < ELEMENTSOF(ctrl); i++) {
                const CgroupHierarchy *h = cgroup_layout_v1_find(l, ctrl[i].v1);
                if (cgroup_layout_v2_has(l, ctrl[i].v2))
                        r = add(rep, ctrl[i].feature, CHECK_ENABLED, "cgroup2");
                else if (h)
                        r = add(rep, ctrl[i].feature, CHECK_ENABLED, "cgroup v1 (%s at %s)", ctrl[i].v1,
                                h->mount);
                else
                        r = add(rep, ctrl[i].feature, CHECK_OPTIONAL,
                                "not available: lxc.cgroup2.%s.* limits will fail", ctrl[i].v2);
                if (r < 0)
                        return r;
        }
        const CgroupHierarchy *fz = cgroup_layout_v1_find(l, "freezer");
        /* cgroup.freeze exists only below the root, so go by the version that added it. */
        if (l->v2_mount && kernel_at_least(5, 2))
                return add(rep, "freezer", CHECK_ENABLED, "cgroup2 cgroup.freeze");
        if (fz)
                return add(rep, "freezer", CHECK_ENABLED, "cgroup v1 (freezer at %s)", fz->mount);
        return add(rep, "freezer", CHECK_OPTIONAL,
                   "neither cgroup2 cgroup.freeze (Linux 5.2) nor a v1 freezer: Freeze() will fail");
}

/* A feature only the kernel config can tell about (a loaded module is proof too). */
static int check_kconfig(CheckReport *rep, const KernelConfig *kc, const char *feature, bool required,
                         const char *module, const char *const *symbols, size_t n) {
        char buf[256] = "";
        size_t off = 0;
        bool all = true;
        if (!kc) {
                char p[128];
                snprintf(p, sizeof(p), "/sys/module/%s", module);
                if (access(p, F_OK) >= 0)
                        return add(rep, feature, CHECK_ENABLED, "module %s present", module);
                return add(rep, feature, CHECK_OPTIONAL, "unknown: no kernel config to tell (CONFIG_%s)",
                           symbols[0]);
        }
        for (size_t i = 0; i < n; i++) {
                KconfigValue v = kernel_config_get(kc, symbols[i]);
                const char *what = v == KCONFIG_YES      ? "=y"
                                   : v == KCONFIG_MODULE ? "=m"
                                   : v == KCONFIG_ABSENT ? " absent"
                                   : v == KCONFIG_NO     ? " not set"
                                                         : "=?";
                if (v != KCONFIG_YES && v != KCONFIG_MODULE)
                        all = false;
                off += (size_t) snprintf(buf + off, sizeof(buf) - MIN(off, sizeof(buf)), "%sCONFIG_%s%s",
                                         i > 0 ? ", " : "", symbols[i], what);
                if (off >= sizeof(buf))
                        off = sizeof(buf) - 1;
        }
        return add(rep, feature, all ? CHECK_ENABLED : absent(required), "%s", buf);
}

static int check_network(CheckReport *rep, const KernelConfig *kc) {
        static const struct {
                const char *feature, *module;
                bool required;
                const char *symbols[2];
        } net[] = {
                { "veth", "veth", true, { "VETH" } },
                { "bridge", "bridge", true, { "BRIDGE" } },
                { "macvlan", "macvlan", false, { "MACVLAN" } },
                { "vlan", "8021q", false, { "VLAN_8021Q" } },
                { "ipvlan", "ipvlan", false, { "IPVLAN" } },
                { "nf_tables", "nf_tables", true, { "NF_TABLES" } },
                { "nat", "nf_nat", true, { "NF_NAT", "NFT_NAT" } },
                { "masquerade", "nft_masq", true, { "NFT_MASQ" } },
        };
        for (size_t i = 0; i < ELEMENTSOF(net); i++) {
                int r = check_kconfig(rep, kc, net[i].feature, net[i].required, net[i].module,
                                      net[i].symbols, net[i].symbols[1] ? 2 : 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_seccomp(CheckReport *rep, const KernelConfig *kc) {
        _cleanup_free_ char *actions = NULL;
        int r;
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0)
                r = add(rep, "seccomp", CHECK_ENABLED, "prctl(PR_GET_SECCOMP) works");
        else
                r = add(rep, "seccomp", CHECK_MISSING, "prctl(PR_GET_SECCOMP): %s (CONFIG_SECCOMP)",
                        strerror(errno));
        if (r < 0)
                return r;
        if (read_one_line_file("/proc/sys/kernel/seccomp/actions_avail", &actions) >= 0)
                r = add(rep, "seccomp filter", CHECK_ENABLED, "actions: %s", actions);
        else if (kernel_config_get(kc, "SECCOMP_FILTER") == KCONFIG_YES)
                r = add(rep, "seccomp filter", CHECK_ENABLED, "CONFIG_SECCOMP_FILTER=y");
        else
                r = add(rep, "seccomp filter", CHECK_MISSING,
                        "no /proc/sys/kernel/seccomp/actions_avail (CONFIG_SECCOMP_FILTER)");
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **a = actions ? strv_split(actions, " ") : NULL;
        if (strv_contains(a, "user_notif"))
                return add(rep, "seccomp user notification", CHECK_ENABLED, "user_notif action available");
        return add(rep, "seccomp user notification", CHECK_OPTIONAL,
                   "no user_notif seccomp action (Linux 5.0)");
}

/* clone3() with CLONE_INTO_CGROUP and a bad fd: EBADF if the kernel knows
 * the flag, EINVAL if not. It cannot create a process without a valid fd;
 * should it ever, the child leaves at once. */
static int probe_clone_into_cgroup(void) {
        struct clone_args_v2 a = { .flags = CLONE_INTO_CGROUP_FLAG,
                                   .exit_signal = SIGCHLD,
                                   .cgroup = INT_MAX };
        long pid = syscall(SYS_clone3, &a, sizeof(a));
        if (pid == 0)
                _exit(0);
        if (pid > 0) {
                (void) waitpid((pid_t) pid, NULL, 0);
                return 0;
        }
        return errno == EBADF ? 0 : -errno;
}

static int check_syscalls(CheckReport *rep) {
        int r;
        long fd = syscall(SYS_pidfd_open, getpid(), 0);
        if (fd >= 0) {
                close((int) fd);
                r = add(rep, "pidfd", CHECK_ENABLED, "pidfd_open() works");
        } else
                r = add(rep, "pidfd", CHECK_MISSING, "pidfd_open(): %s (Linux 5.3)", strerror(errno));
        if (r < 0)
                return r;

        /* A too-small argument block: EINVAL from a kernel that has clone3. */
        if (syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS)
                r = add(rep, "clone3", CHECK_MISSING, "clone3(): %s (Linux 5.3)", strerror(ENOSYS));
        else
                r = add(rep, "clone3", CHECK_ENABLED, "clone3() available");
        if (r < 0)
                return r;

        int k = probe_clone_into_cgroup();
        r = k >= 0 ? add(rep, "clone into cgroup", CHECK_ENABLED, "clone3(CLONE_INTO_CGROUP) known")
                   : add(rep, "clone into cgroup", CHECK_MISSING,
                         "clone3(CLONE_INTO_CGROUP): %s (Linux 5.7)", strerror(-k));
        if (r < 0)
                return r;

        if (syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno == ENOSYS)
                return add(rep, "idmapped mounts", CHECK_OPTIONAL, "no mount_setattr() (Linux 5.12)");
        return add(rep, "idmapped mounts", CHECK_ENABLED,
                   "mount_setattr() available (support depends on the filesystem)");
}

static int check_helper(CheckReport *rep, const char *name) {
        static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char p[128];
                struct stat st;
                snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
                if (stat(p, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                        continue;
                return add(rep, name, CHECK_ENABLED, "%s%s", p,
                           (st.st_mode & S_ISUID) && st.st_uid == 0 ? " (setuid root)" : "");
        }
        return add(rep, name, CHECK_OPTIONAL,
                   "not found (the uidmap package; warren writes id maps itself)");
}

int checkconfig_run(const CheckOptions *o, CheckReport **ret, WarrenError *reterr) {
        _cleanup_(check_report_freep) CheckReport *rep = calloc(1, sizeof(CheckReport));
        _cleanup_(kernel_config_freep) KernelConfig *own = NULL;
        _cleanup_free_ char *source = NULL;
        const KernelConfig *kc = o ? o->kernel_config : NULL;
        int r;

        if (!rep)
                return -ENOMEM;
        if (kc)
                r = add(rep, "kernel config", CHECK_ENABLED, "given by the caller (%zu symbols)",
                        kernel_config_size(kc));
        else {
                WarrenError e = WARREN_ERROR_NULL;
                r = kernel_config_load_running(&own, &source, &e);
                if (r == -ENOMEM)
                        return r;
                kc = own;
                r = kc ? add(rep, "kernel config", CHECK_ENABLED, "%s (%zu symbols)", source,
                             kernel_config_size(kc))
                       : add(rep, "kernel config", CHECK_OPTIONAL, "%s", warren_error_message(&e));
                warren_error_clear(&e);
        }
        if (r >= 0)
                r = check_namespaces(rep, kc);
        if (r >= 0)
                r = check_userns_allowed(rep);
        if (r >= 0)
                r = check_cgroups(rep);
        if (r >= 0)
                r = check_network(rep, kc);
        if (r >= 0)
                r = check_seccomp(rep, kc);
        if (r >= 0)
                r = check_syscalls(rep);
        if (r >= 0)
                r = check_helper(rep, "newuidmap");
        if (r >= 0)
                r = check_helper(rep, "newgidmap");
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to check the kernel configuration: %s",
                                        strerror(-r));
        *ret = TAKE_PTR(rep);
        return 0;
}
