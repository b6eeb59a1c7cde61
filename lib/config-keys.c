/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config-keys.h"
#include "config.h"
#include "macro.h"

/* Value checks. Only formats LXC documents precisely are checked; paths,
 * commands, hwaddr (may hold 'x' placeholders), arch (templates put
 * placeholders there) and the like are free-form. */
enum {
        T_ANY,
        T_CLEAR, /* no value allowed */
        T_BOOL,
        T_UINT,
        T_INT,
        T_SIGNAL,
        T_NET_TYPE,
        T_IDMAP,
        T_MOUNT_AUTO,
        T_CAPS,
        T_NAMESPACES,
        T_IPV4_ADDR,
        T_IPV6_ADDR,
        T_IPV4_GW,
        T_IPV6_GW,
        T_IPV4_ROUTE,
        T_IPV6_ROUTE,
        T_MACVLAN_MODE,
        T_IPVLAN_MODE,
        T_IPVLAN_ISOLATION,
        T_VETH_MODE,
        T_IFNAME,
        T_VLAN_ID,
        T_VETH_VLAN_ID,
        T_VLAN_TAGGED_ID,
        T_LOG_LEVEL,
        T_UTSNAME,
        T_TIME_OFFSET,
        T_GID_LIST,
        T_PRLIMIT,
        T_BYTE_SIZE,
};

#define S(n, t) \
        { n, LXC_KIND_SCALAR, t, LXC_GROUP_NONE, false }
#define L(n, t) \
        { n, LXC_KIND_LIST, t, LXC_GROUP_NONE, false }
#define SG(n, t, g) \
        { n, LXC_KIND_SCALAR, t, g, false }
#define LG(n, t, g) \
        { n, LXC_KIND_LIST, t, g, false }
#define C(n, g) \
        { n, LXC_KIND_CLEAR, T_CLEAR, g, false }
#define P(n, t, g) \
        { n, LXC_KIND_SCALAR, t, g, true }

/* Sorted by strcmp() on name (lxc_keys_table_sorted() checks). From LXC's
 * lxc.container.conf(5) and its confile.c key table. */
static const LxcKeyInfo key_table[] = {
        S("lxc.apparmor.allow_incomplete", T_BOOL),
        S("lxc.apparmor.allow_nesting", T_BOOL),
        S("lxc.apparmor.profile", T_ANY),
        L("lxc.apparmor.raw", T_ANY),
        S("lxc.arch", T_ANY),
        S("lxc.autodev", T_BOOL),
        S("lxc.autodev.tmpfs.size", T_UINT),
        L("lxc.cap.drop", T_CAPS),
        L("lxc.cap.keep", T_CAPS),
        C("lxc.cgroup", LXC_GROUP_CGROUP),
        LG("lxc.cgroup.devices.allow", T_ANY, LXC_GROUP_CGROUP),
        LG("lxc.cgroup.devices.deny", T_ANY, LXC_GROUP_CGROUP),
        S("lxc.cgroup.dir", T_ANY),
        S("lxc.cgroup.dir.container", T_ANY),
        S("lxc.cgroup.dir.container.inner", T_ANY),
        S("lxc.cgroup.dir.monitor", T_ANY),
        S("lxc.cgroup.dir.monitor.pivot", T_ANY),
        S("lxc.cgroup.relative", T_BOOL),
        C("lxc.cgroup2", LXC_GROUP_CGROUP2),
        LG("lxc.cgroup2.devices.allow", T_ANY, LXC_GROUP_CGROUP2),
        LG("lxc.cgroup2.devices.deny", T_ANY, LXC_GROUP_CGROUP2),
        S("lxc.console.buffer.size", T_BYTE_SIZE),
        S("lxc.console.logfile", T_ANY),
        S("lxc.console.path", T_ANY),
        S("lxc.console.rotate", T_BOOL),
        S("lxc.console.size", T_BYTE_SIZE),
        L("lxc.environment", T_ANY),
        S("lxc.ephemeral", T_BOOL),
        S("lxc.execute.cmd", T_ANY),
        L("lxc.group", T_ANY),
        C("lxc.hook", LXC_GROUP_HOOK),
        LG("lxc.hook.autodev", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.clone", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.destroy", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.mount", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.post-stop", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.pre-mount", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.pre-start", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.start", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.start-host", T_ANY, LXC_GROUP_HOOK),
        LG("lxc.hook.stop", T_ANY, LXC_GROUP_HOOK),
        S("lxc.hook.version", T_BOOL),
        L("lxc.idmap", T_IDMAP),
        L("lxc.include", T_ANY),
        S("lxc.init.cmd", T_ANY),
        S("lxc.init.cwd", T_ANY),
        S("lxc.init.gid", T_UINT),
        L("lxc.init.groups", T_GID_LIST),
        S("lxc.init.uid", T_UINT),
        S("lxc.keyring.session", T_BOOL),
        S("lxc.log.file", T_ANY),
        S("lxc.log.level", T_LOG_LEVEL),
        S("lxc.log.syslog", T_ANY),
        S("lxc.monitor.signal.pdeath", T_SIGNAL),
        S("lxc.monitor.unshare", T_BOOL),
        L("lxc.mount.auto", T_MOUNT_AUTO),
        L("lxc.mount.entry", T_ANY),
        S("lxc.mount.fstab", T_ANY),
        L("lxc.namespace.clone", T_NAMESPACES),
        L("lxc.namespace.keep", T_NAMESPACES),
        C("lxc.net", LXC_GROUP_NET),
        S("lxc.no_new_privs", T_BOOL),
        C("lxc.prlimit", LXC_GROUP_PRLIMIT),
        C("lxc.proc", LXC_GROUP_PROC),
        S("lxc.pty.max", T_UINT),
        S("lxc.rootfs.managed", T_BOOL),
        S("lxc.rootfs.mount", T_ANY),
        S("lxc.rootfs.options", T_ANY),
        S("lxc.rootfs.path", T_ANY),
        S("lxc.sched.core", T_BOOL),
        S("lxc.seccomp.allow_nesting", T_BOOL),
        S("lxc.seccomp.notify.cookie", T_ANY),
        S("lxc.seccomp.notify.proxy", T_ANY),
        S("lxc.seccomp.profile", T_ANY),
        S("lxc.selinux.context", T_ANY),
        S("lxc.selinux.context.keyring", T_ANY),
        S("lxc.signal.halt", T_SIGNAL),
        S("lxc.signal.reboot", T_SIGNAL),
        S("lxc.signal.stop", T_SIGNAL),
        S("lxc.start.auto", T_BOOL),
        S("lxc.start.delay", T_UINT),
        S("lxc.start.order", T_INT),
        C("lxc.sysctl", LXC_GROUP_SYSCTL),
        S("lxc.time.offset.boot", T_TIME_OFFSET),
        S("lxc.time.offset.monotonic", T_TIME_OFFSET),
        S("lxc.tty.dir", T_ANY),
        S("lxc.tty.max", T_UINT),
        S("lxc.uts.name", T_UTSNAME),
};

/* "lxc.<prefix><suffix>": every full key is a scalar of its own. Checked
 * after the exact table, so lxc.cgroup.dir is not a cgroup-v1 controller. */
static const LxcKeyInfo prefix_table[] = {
        P("lxc.cgroup.", T_ANY, LXC_GROUP_CGROUP),        P("lxc.cgroup2.", T_ANY, LXC_GROUP_CGROUP2),
        P("lxc.namespace.share.", T_ANY, LXC_GROUP_NONE), P("lxc.proc.", T_ANY, LXC_GROUP_PROC),
        P("lxc.prlimit.", T_PRLIMIT, LXC_GROUP_PRLIMIT),  P("lxc.sysctl.", T_ANY, LXC_GROUP_SYSCTL),
};

/* lxc.net.N.<name>, sorted. */
static const LxcKeyInfo net_table[] = {
        SG("flags", T_ANY, LXC_GROUP_NET),
        SG("hwaddr", T_ANY, LXC_GROUP_NET),
        LG("ipv4.address", T_IPV4_ADDR, LXC_GROUP_NET),
        SG("ipv4.gateway", T_IPV4_GW, LXC_GROUP_NET),
        LG("ipv6.address", T_IPV6_ADDR, LXC_GROUP_NET),
        SG("ipv6.gateway", T_IPV6_GW, LXC_GROUP_NET),
        SG("ipvlan.isolation", T_IPVLAN_ISOLATION, LXC_GROUP_NET),
        SG("ipvlan.mode", T_IPVLAN_MODE, LXC_GROUP_NET),
        SG("l2proxy", T_BOOL, LXC_GROUP_NET),
        SG("link", T_IFNAME, LXC_GROUP_NET),
        SG("macvlan.mode", T_MACVLAN_MODE, LXC_GROUP_NET),
        SG("mtu", T_UINT, LXC_GROUP_NET),
        SG("name", T_IFNAME, LXC_GROUP_NET),
        SG("script.down", T_ANY, LXC_GROUP_NET),
        SG("script.up", T_ANY, LXC_GROUP_NET),
        SG("type", T_NET_TYPE, LXC_GROUP_NET),
        LG("veth.ipv4.route", T_IPV4_ROUTE, LXC_GROUP_NET),
        LG("veth.ipv6.route", T_IPV6_ROUTE, LXC_GROUP_NET),
        SG("veth.mode", T_VETH_MODE, LXC_GROUP_NET),
        SG("veth.n_rxqueues", T_UINT, LXC_GROUP_NET),
        SG("veth.n_txqueues", T_UINT, LXC_GROUP_NET),
        SG("veth.pair", T_IFNAME, LXC_GROUP_NET),
        SG("veth.vlan.id", T_VETH_VLAN_ID, LXC_GROUP_NET),
        LG("veth.vlan.tagged.id", T_VLAN_TAGGED_ID, LXC_GROUP_NET),
        SG("vlan.id", T_VLAN_ID, LXC_GROUP_NET),
};

/* LXC 2.x names (lxc-update-config's list), sorted. new == NULL: obsolete,
 * ignored. lxc.limit.* and lxc.network.* are renamed as prefixes too. */
typedef struct LegacyName {
        const char *old, *new;
} LegacyName;

static const LegacyName legacy_table[] = {
        { "lxc.aa_allow_incomplete", "lxc.apparmor.allow_incomplete" },
        { "lxc.aa_profile", "lxc.apparmor.profile" },
        { "lxc.console", "lxc.console.path" },
        { "lxc.devttydir", "lxc.tty.dir" },
        { "lxc.haltsignal", "lxc.signal.halt" },
        { "lxc.id_map", "lxc.idmap" },
        { "lxc.init_cmd", "lxc.init.cmd" },
        { "lxc.init_gid", "lxc.init.gid" },
        { "lxc.init_uid", "lxc.init.uid" },
        { "lxc.kmsg", NULL },
        { "lxc.limit", "lxc.prlimit" },
        { "lxc.logfile", "lxc.log.file" },
        { "lxc.loglevel", "lxc.log.level" },
        { "lxc.mount", "lxc.mount.fstab" },
        { "lxc.network", "lxc.net" },
        { "lxc.pivotdir", NULL },
        { "lxc.pts", "lxc.pty.max" },
        { "lxc.rebootsignal", "lxc.signal.reboot" },
        { "lxc.rootfs", "lxc.rootfs.path" },
        { "lxc.rootfs.backend", NULL },
        { "lxc.se_context", "lxc.selinux.context" },
        { "lxc.seccomp", "lxc.seccomp.profile" },
        { "lxc.stopsignal", "lxc.signal.stop" },
        { "lxc.syslog", "lxc.log.syslog" },
        { "lxc.tty", "lxc.tty.max" },
        { "lxc.utsname", "lxc.uts.name" },
};

static const char *const prlimit_names[] = {
        "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
        "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",
};

static const char *const namespace_names[] = {
        "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts",
};

static bool in_list(const char *s, const char *const *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(s, l[i]))
                        return true;
        return false;
}
#define IN_LIST(s, l) in_list((s), (l), ELEMENTSOF(l))

static int info_cmp(const void *a, const void *b) {
        return strcmp(a, ((const LxcKeyInfo *) b)->name);
}

static const LxcKeyInfo *table_find(const LxcKeyInfo *t, size_t n, const char *name) {
        return bsearch(name, t, n, sizeof(LxcKeyInfo), info_cmp);
}

static int legacy_cmp(const void *a, const void *b) {
        return strcmp(a, ((const LegacyName *) b)->old);
}

static const LegacyName *legacy_find(const char *key) {
        return bsearch(key, legacy_table, ELEMENTSOF(legacy_table), sizeof(LegacyName), legacy_cmp);
}

bool lxc_keys_table_sorted(void) {
        for (size_t i = 1; i < ELEMENTSOF(key_table); i++)
                if (strcmp(key_table[i - 1].name, key_table[i].name) >= 0)
                        return false;
        for (size_t i = 1; i < ELEMENTSOF(net_table); i++)
                if (strcmp(net_table[i - 1].name, net_table[i].name) >= 0)
                        return false;
        for (size_t i = 1; i < ELEMENTSOF(legacy_table); i++)
                if (strcmp(legacy_table[i - 1].old, legacy_table[i].old) >= 0)
                        return false;
        return true;
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Decimal digits only (no sign, no spaces), at most max. */
static bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                unsigned d = (unsigned) (s[i] - '0');
                if (d > max || v > (max - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        if (ret)
                *ret = v;
        return true;
}

static bool parse_uint_str(const char *s, uint64_t max, uint64_t *ret) {
        return parse_u64(s, strlen(s), max, ret);
}

bool lxc_key_is_legacy_net(const char *key, bool *ret_is_type) {
        if (!startswith(key, "lxc.network."))
                return false;
        const char *sub = key + strlen("lxc.network.");
        if (*sub >= '0' && *sub <= '9')
                return false;
        if (ret_is_type)
                *ret_is_type = streq(sub, "type");
        return true;
}

/* Legacy NIC sub-keys that were renamed. */
static const char *net_sub_rename(const char *sub) {
        if (streq(sub, "ipv4"))
                return "ipv4.address";
        if (streq(sub, "ipv6"))
                return "ipv6.address";
        return sub;
}

static bool key_chars_ok(const char *key) {
        for (const char *p = key; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f || *p == '=')
                        return false;
        return true;
}

static int unknown_key(WarrenError *reterr, const char *key) {
        return warren_error_set(reterr, EINVAL, "unknown key '%s'", key);
}

/* Resolves "lxc.net.<rest>" (rest = "N.sub") into a canonical name. */
static int resolve_net(const char *key, const char *rest, bool legacy, char **ret_name, LxcKey *ret,
                       WarrenError *reterr) {
        size_t ilen = strcspn(rest, ".");
        uint64_t idx;
        if (!parse_u64(rest, ilen, UINT64_MAX / 16, &idx))
                return warren_error_set(reterr, EINVAL,
                                        "invalid NIC index '%.*s' in key '%s': must be 0..%u",
                                        (int) MIN(ilen, 64), rest, key, LXC_CONFIG_MAX_NET_INDEX);
        if (idx > LXC_CONFIG_MAX_NET_INDEX)
                return warren_error_set(reterr, EINVAL, "NIC index %.*s in key '%s' is out of range 0..%u",
                                        (int) MIN(ilen, 64), rest, key, LXC_CONFIG_MAX_NET_INDEX);
        if (rest[ilen] == 0) {
                /* "lxc.net.N =": clears NIC N, as "lxc.net =" clears all. */
                static const LxcKeyInfo nic_clear = { "", LXC_KIND_CLEAR, T_CLEAR, LXC_GROUP_NET, false };
                char *name = NULL;
                if (asprintf(&name, "lxc.net.%u", (unsigned) idx) < 0)
                        return -ENOMEM;
                *ret_name = name;
                *ret = (LxcKey){ .info = &nic_clear, .nic = (int) idx };
                return 1;
        }
        if (rest[ilen] != '.')
                return unknown_key(reterr, key);
        const char *sub = rest + ilen + 1;
        if (legacy)
                sub = net_sub_rename(sub);
        const LxcKeyInfo *info = table_find(net_table, ELEMENTSOF(net_table), sub);
        if (!info)
                return unknown_key(reterr, key);
        char *name = NULL;
        if (asprintf(&name, "lxc.net.%u.%s", (unsigned) idx, info->name) < 0)
                return -ENOMEM;
        *ret_name = name;
        *ret = (LxcKey){ .info = info, .nic = (int) idx };
        return 1;
}

static int resolve_prefix(const char *key, const LxcKeyInfo *info, WarrenError *reterr) {
        const char *suffix = key + strlen(info->name);
        if (*suffix == 0 || *suffix == '.' || suffix[strlen(suffix) - 1] == '.')
                return unknown_key(reterr, key);
        if (info->type == T_PRLIMIT && !IN_LIST(suffix, prlimit_names))
                return warren_error_set(reterr, EINVAL, "unknown key '%s': no resource limit '%s'", key,
                                        suffix);
        if (streq(info->name, "lxc.namespace.share.") && !IN_LIST(suffix, namespace_names))
                return warren_error_set(reterr, EINVAL, "unknown key '%s': no namespace '%s'", key, suffix);
        return 0;
}

int lxc_key_resolve(const char *key, int legacy_nic, char **ret_name, LxcKey *ret, WarrenError *reterr) {
        _cleanup_free_ char *renamed = NULL;
        const char *name = key;
        bool legacy_net = false;

        if (!startswith(key, "lxc.") || !key_chars_ok(key))
                return unknown_key(reterr, key);

        /* Legacy names: exact renames, then lxc.limit.* and lxc.network.*. */
        const LegacyName *l = legacy_find(key);
        if (l) {
                if (!l->new) {
                        *ret_name = NULL;
                        *ret = (LxcKey){ .info = NULL, .nic = -1 };
                        return 0;
                }
                name = l->new;
        } else if (startswith(key, "lxc.limit.")) {
                if (asprintf(&renamed, "lxc.prlimit%s", key + strlen("lxc.limit")) < 0)
                        return -ENOMEM;
                name = renamed;
        } else if (startswith(key, "lxc.network.")) {
                bool is_type;
                legacy_net = true;
                if (lxc_key_is_legacy_net(key, &is_type)) {
                        if (legacy_nic < 0)
                                return warren_error_set(reterr, EINVAL,
                                                        "key '%s' comes before any 'lxc.network.type'", key);
                        if (asprintf(&renamed, "lxc.net.%d.%s", legacy_nic, key + strlen("lxc.network.")) <
                            0)
                                return -ENOMEM;
                } else if (asprintf(&renamed, "lxc.net%s", key + strlen("lxc.network")) < 0)
                        return -ENOMEM;
                name = renamed;
        }

        if (startswith(name, "lxc.net."))
                return resolve_net(key, name + strlen("lxc.net."), legacy_net, ret_name, ret, reterr);

        const LxcKeyInfo *info = table_find(key_table, ELEMENTSOF(key_table), name);
        if (!info) {
                for (size_t i = 0; i < ELEMENTSOF(prefix_table) && !info; i++)
                        if (startswith(name, prefix_table[i].name))
                                info = &prefix_table[i];
                if (!info)
                        return unknown_key(reterr, key);
                int r = resolve_prefix(name, info, reterr);
                if (r < 0)
                        return r;
        }
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        *ret_name = copy;
        *ret = (LxcKey){ .info = info, .nic = -1 };
        return 1;
}

/* Value checks. Each returns NULL if value is fine, else why it is not. */

static const char *check_bool(const char *v) {
        uint64_t b;
        if (!parse_uint_str(v, UINT32_MAX, &b) || b > 1)
                return "must be 0 or 1";
        return NULL;
}

static const char *check_int(const char *v) {
        const char *d = v[0] == '-' ? v + 1 : v;
        if (!parse_uint_str(d, (uint64_t) INT32_MAX + (v[0] == '-'), NULL))
                return "must be an integer";
        return NULL;
}

static const struct {
        const char *name;
        int num;
} signal_names[] = {
        { "HUP", SIGHUP },       { "INT", SIGINT },     { "QUIT", SIGQUIT }, { "ILL", SIGILL },
        { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },   { "IOT", SIGIOT },   { "BUS", SIGBUS },
        { "FPE", SIGFPE },       { "KILL", SIGKILL },   { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },   { "ALRM", SIGALRM }, { "TERM", SIGTERM },
        { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CLD", SIGCHLD },  { "CONT", SIGCONT },
        { "STOP", SIGSTOP },     { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
        { "URG", SIGURG },       { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
        { "PROF", SIGPROF },     { "WINCH", SIGWINCH }, { "IO", SIGIO },     { "POLL", SIGPOLL },
        { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

/* Like LXC: a number, or a name with the SIG prefix (any case), including
 * SIGRTMIN+n and SIGRTMAX-n. */
static const char *check_signal(const char *v) {
        uint64_t n;
        if (v[0] >= '0' && v[0] <= '9') {
                if (!parse_uint_str(v, UINT32_MAX, &n) || n < 1 || n > (uint64_t) SIGRTMAX)
                        return "not a valid signal number";
                return NULL;
        }
        if (strncasecmp(v, "SIG", 3) != 0)
                return "must be a signal number or a name like SIGPWR or SIGRTMIN+3";
        const char *s = v + 3;
        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (strcasecmp(s, signal_names[i].name) == 0)
                        return NULL;
        bool min = strncasecmp(s, "RTMIN", 5) == 0, max = strncasecmp(s, "RTMAX", 5) == 0;
        if (min || max) {
                s += 5;
                if (*s == 0)
                        return NULL;
                if (*s == (min ? '+' : '-') && parse_uint_str(s + 1, UINT32_MAX, &n) &&
                    n <= (uint64_t) (SIGRTMAX - SIGRTMIN))
                        return NULL;
                return "real-time signal out of range";
        }
        return "unknown signal name";
}

static const char *check_token(const char *v, const char *const *l, size_t n, const char *why) {
        return in_list(v, l, n) ? NULL : why;
}
#define CHECK_TOKEN(v, l, why) check_token((v), (l), ELEMENTSOF(l), (why))

/* Applies check to every blank-separated word of v. */
static const char *check_words(const char *v, const char *(*check)(const char *w)) {
        char buf[256];
        while (*v) {
                v += strspn(v, " \t");
                size_t n = strcspn(v, " \t");
                if (n == 0)
                        break;
                if (n >= sizeof(buf))
                        return "word too long";
                memcpy(buf, v, n);
                buf[n] = 0;
                const char *why = check(buf);
                if (why)
                        return why;
                v += n;
        }
        return NULL;
}

static const char *check_cap_word(const char *w) {
        for (const char *p = w; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_'))
                        return "capability names are letters, digits and '_'";
        return NULL;
}

static const char *check_ns_word(const char *w) {
        return CHECK_TOKEN(w, namespace_names, "namespaces are cgroup ipc mnt net pid time user uts");
}

static const char *check_mount_auto_word(const char *w) {
        static const char *const tokens[] = {
                "proc",
                "proc:mixed",
                "proc:rw",
                "sys",
                "sys:ro",
                "sys:mixed",
                "sys:rw",
                "cgroup",
                "cgroup:mixed",
                "cgroup:ro",
                "cgroup:rw",
                "cgroup:force",
                "cgroup:mixed:force",
                "cgroup:ro:force",
                "cgroup:rw:force",
                "cgroup-full",
                "cgroup-full:mixed",
                "cgroup-full:ro",
                "cgroup-full:rw",
                "cgroup-full:force",
                "cgroup-full:mixed:force",
                "cgroup-full:ro:force",
                "cgroup-full:rw:force",
        };
        if (startswith(w, "shmounts:") && w[strlen("shmounts:")] != 0)
                return NULL;
        return CHECK_TOKEN(w, tokens,
                           "unknown automount (proc[:mixed|:rw], sys[:ro|:mixed|:rw], "
                           "cgroup[-full][:mixed|:ro|:rw][:force], shmounts:PATH)");
}

static const char *check_idmap(const char *v) {
        uint64_t f[3];
        const char *p = v;

        if ((p[0] != 'u' && p[0] != 'g' && p[0] != 'b') || (p[1] != ' ' && p[1] != '\t'))
                return "must be 'u|g|b NSID HOSTID RANGE'";
        p++;
        for (size_t i = 0; i < 3; i++) {
                p += strspn(p, " \t");
                size_t n = strcspn(p, " \t");
                if (!parse_u64(p, n, UINT32_MAX, &f[i]))
                        return "must be 'u|g|b NSID HOSTID RANGE' with numbers below 2^32";
                p += n;
        }
        p += strspn(p, " \t");
        if (*p)
                return "trailing text after 'u|g|b NSID HOSTID RANGE'";
        if (f[2] == 0)
                return "range must be at least 1";
        /* The last id of each side must stay below (uid_t) -1. */
        if (f[0] + f[2] > UINT32_MAX || f[1] + f[2] > UINT32_MAX)
                return "id range overflows 32 bits";
        return NULL;
}

static const char *check_prefixlen(const char *s, unsigned max) {
        uint64_t n;
        if (!parse_uint_str(s, max, &n))
                return max == 32 ? "prefix length must be 0..32" : "prefix length must be 0..128";
        return NULL;
}

/* "ADDR[/PREFIX]", for ipv4 also followed by " BROADCAST". need_prefix for routes. */
static const char *check_addr(const char *v, int af, bool need_prefix, bool allow_bcast) {
        char buf[INET6_ADDRSTRLEN + 8];
        unsigned char bin[16];
        const char *bcast = NULL;
        size_t n = strcspn(v, " \t");

        if (v[n]) {
                if (!allow_bcast)
                        return "unexpected text after the address";
                bcast = v + n + strspn(v + n, " \t");
        }
        if (n >= sizeof(buf))
                return "address too long";
        memcpy(buf, v, n);
        buf[n] = 0;
        char *slash = strchr(buf, '/');
        if (slash) {
                *slash = 0;
                const char *why = check_prefixlen(slash + 1, af == AF_INET ? 32 : 128);
                if (why)
                        return why;
        } else if (need_prefix)
                return "must be ADDRESS/PREFIX";
        if (inet_pton(af, buf, bin) != 1)
                return af == AF_INET ? "not an IPv4 address" : "not an IPv6 address";
        if (bcast) {
                size_t bn = strlen(bcast);
                if (bn >= sizeof(buf) || bcast[strcspn(bcast, " \t")])
                        return "must be ADDRESS[/PREFIX] [BROADCAST]";
                memcpy(buf, bcast, bn + 1);
                if (inet_pton(AF_INET, buf, bin) != 1)
                        return "broadcast is not an IPv4 address";
        }
        return NULL;
}

static const char *check_gateway(const char *v, int af) {
        unsigned char bin[16];
        if (streq(v, "auto") || streq(v, "dev"))
                return NULL;
        if (inet_pton(af, v, bin) != 1)
                return af == AF_INET ? "must be an IPv4 address, 'auto' or 'dev'"
                                     : "must be an IPv6 address, 'auto' or 'dev'";
        return NULL;
}

static const char *check_vlan(const char *v, uint64_t min, uint64_t max) {
        uint64_t n;
        if (!parse_uint_str(v, UINT32_MAX, &n) || n < min || n > max)
                return min == 0 ? "must be a VLAN id 0..4095" : "must be a VLAN id 1..4094";
        return NULL;
}

static const char *check_log_level(const char *v) {
        static const char *const names[] = {
                "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRIT", "ALERT", "FATAL",
        };
        uint64_t n;
        if (parse_uint_str(v, 8, &n))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(v, names[i]) == 0)
                        return NULL;
        return "must be 0..8 or TRACE DEBUG INFO NOTICE WARN ERROR CRIT ALERT FATAL";
}

static const char *check_time_offset(const char *v) {
        static const char *const units[] = { "h", "m", "s", "ms", "us", "ns" };
        const char *p = v[0] == '-' ? v + 1 : v;
        size_t n = strspn(p, "0123456789");
        if (!parse_u64(p, n, INT64_MAX, NULL))
                return "must be an integer with a unit h, m, s, ms, us or ns";
        p += n;
        p += strspn(p, " \t");
        return CHECK_TOKEN(p, units, "must be an integer with a unit h, m, s, ms, us or ns");
}

static const char *check_gid_list(const char *v) {
        for (;;) {
                size_t n = strcspn(v, ",");
                if (!parse_u64(v, n, UINT32_MAX - 1, NULL))
                        return "must be a comma-separated list of gids";
                if (!v[n])
                        return NULL;
                v += n + 1;
        }
}

static const char *check_rlimit_one(const char *s, size_t n) {
        if (n == strlen("unlimited") && strncmp(s, "unlimited", n) == 0)
                return NULL;
        return parse_u64(s, n, UINT64_MAX, NULL) ? NULL : "must be N, 'unlimited' or SOFT:HARD";
}

static const char *check_prlimit(const char *v) {
        size_t n = strcspn(v, ":");
        const char *why = check_rlimit_one(v, n);
        if (why || !v[n])
                return why;
        return check_rlimit_one(v + n + 1, strlen(v + n + 1));
}

static const char *check_byte_size(const char *v) {
        static const char *const units[] = { "", "B", "k", "K", "kB", "KB", "M", "MB", "G", "GB" };
        if (streq(v, "auto"))
                return NULL;
        size_t n = strspn(v, "0123456789");
        if (!parse_u64(v, n, INT64_MAX, NULL))
                return "must be 'auto' or a size like 4096, 128kB, 1MB";
        v += n;
        v += strspn(v, " \t");
        return CHECK_TOKEN(v, units, "must be 'auto' or a size like 4096, 128kB, 1MB");
}

static const char *check_value(const LxcKeyInfo *info, const char *v) {
        static const char *const net_types[] = {
                "veth", "macvlan", "ipvlan", "vlan", "phys", "empty", "none"
        };
        static const char *const macvlan_modes[] = { "private", "vepa", "bridge", "passthru" };
        static const char *const ipvlan_modes[] = { "l2", "l3", "l3s" };
        static const char *const ipvlan_isolations[] = { "bridge", "private", "vepa" };
        static const char *const veth_modes[] = { "bridge", "router" };

        switch (info->type) {
        case T_ANY:
                return NULL;
        case T_CLEAR:
                return "this key only takes an empty value (which clears it)";
        case T_BOOL:
                return check_bool(v);
        case T_UINT:
                return parse_uint_str(v, UINT32_MAX, NULL) ? NULL : "must be an unsigned integer";
        case T_INT:
                return check_int(v);
        case T_SIGNAL:
                return check_signal(v);
        case T_NET_TYPE:
                return CHECK_TOKEN(v, net_types, "must be veth, macvlan, ipvlan, vlan, phys, empty or none");
        case T_IDMAP:
                return check_idmap(v);
        case T_MOUNT_AUTO:
                return check_words(v, check_mount_auto_word);
        case T_CAPS:
                return check_words(v, check_cap_word);
        case T_NAMESPACES:
                return check_words(v, check_ns_word);
        case T_IPV4_ADDR:
                return check_addr(v, AF_INET, false, true);
        case T_IPV6_ADDR:
                return check_addr(v, AF_INET6, false, false);
        case T_IPV4_GW:
                return check_gateway(v, AF_INET);
        case T_IPV6_GW:
                return check_gateway(v, AF_INET6);
        case T_IPV4_ROUTE:
                return check_addr(v, AF_INET, true, false);
        case T_IPV6_ROUTE:
                return check_addr(v, AF_INET6, true, false);
        case T_MACVLAN_MODE:
                return CHECK_TOKEN(v, macvlan_modes, "must be private, vepa, bridge or passthru");
        case T_IPVLAN_MODE:
                return CHECK_TOKEN(v, ipvlan_modes, "must be l2, l3 or l3s");
        case T_IPVLAN_ISOLATION:
                return CHECK_TOKEN(v, ipvlan_isolations, "must be bridge, private or vepa");
        case T_VETH_MODE:
                return CHECK_TOKEN(v, veth_modes, "must be bridge or router");
        case T_IFNAME:
                return strlen(v) < 16 && !strpbrk(v, " \t/")
                               ? NULL
                               : "must be an interface name (at most 15 characters)";
        case T_VLAN_ID:
                return check_vlan(v, 0, 4095);
        case T_VETH_VLAN_ID:
                return streq(v, "none") ? NULL : check_vlan(v, 1, 4094);
        case T_VLAN_TAGGED_ID:
                return check_vlan(v, 1, 4094);
        case T_LOG_LEVEL:
                return check_log_level(v);
        case T_UTSNAME:
                return strlen(v) <= 64 ? NULL : "host name longer than 64 characters";
        case T_TIME_OFFSET:
                return check_time_offset(v);
        case T_GID_LIST:
                return check_gid_list(v);
        case T_PRLIMIT:
                return check_prlimit(v);
        case T_BYTE_SIZE:
                return check_byte_size(v);
        }
        return NULL;
}

int lxc_value_check(const LxcKey *k, const char *key, const char *value, WarrenError *reterr) {
        const char *why = check_value(k->info, value);
        if (why)
                return warren_error_set(reterr, EINVAL, "invalid value '%.256s' for '%s': %s", value, key,
                                        why);
        return 0;
}
