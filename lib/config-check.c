/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "caps.h"
#include "cgroup.h"
#include "config-check.h"
#include "config.h"
#include "idmap.h"
#include "monitor-tty.h"
#include "monitor.h"
#include "mount.h"
#include "network.h"

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool config_is_unprivileged(const LxcConfig *c) {
        _cleanup_strv_free_ char **maps = c ? lxc_config_get_all(c, "lxc.idmap") : NULL;
        return strv_length(maps) > 0;
}

/* ---- prlimits ---- */

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
        { "as", RLIMIT_AS },           { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
        { "data", RLIMIT_DATA },       { "fsize", RLIMIT_FSIZE },       { "locks", RLIMIT_LOCKS },
        { "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
        { "nofile", RLIMIT_NOFILE },   { "nproc", RLIMIT_NPROC },       { "rss", RLIMIT_RSS },
        { "rtprio", RLIMIT_RTPRIO },   { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
        { "stack", RLIMIT_STACK },
};

static bool parse_rlim(const char *s, size_t n, rlim_t *ret) {
        if (n == 9 && strncmp(s, "unlimited", 9) == 0) {
                *ret = RLIM_INFINITY;
                return true;
        }
        if (n == 0 || n > 20 || strspn(s, "0123456789") < n)
                return false;
        char buf[21];
        memcpy(buf, s, n);
        buf[n] = 0;
        errno = 0;
        unsigned long long v = strtoull(buf, NULL, 10);
        if (errno || v >= RLIM_INFINITY)
                return false;
        *ret = (rlim_t) v;
        return true;
}

static bool have_cap_sys_resource(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};
        if (syscall(SYS_capget, &h, d) < 0)
                return false;
        return d[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective & CAP_TO_MASK(CAP_SYS_RESOURCE);
}

static void format_rlim(rlim_t v, char buf[static 24]) {
        if (v == RLIM_INFINITY)
                snprintf(buf, 24, "unlimited");
        else
                snprintf(buf, 24, "%llu", (unsigned long long) v);
}

int config_rlimit_parse(const char *key, const char *value, bool unprivileged, int *ret_resource,
                        struct rlimit *ret, WarrenError *reterr) {
        const char *name = key + strlen("lxc.prlimit.");
        size_t soft_len = strcspn(value, ":");
        struct rlimit l, cur;
        int resource = -1;

        for (size_t j = 0; j < ELEMENTSOF(rlimit_table); j++)
                if (streq(name, rlimit_table[j].name))
                        resource = rlimit_table[j].resource;
        if (resource < 0)
                return warren_error_set(reterr, EINVAL, "Unknown resource limit '%s'", key);
        if (!parse_rlim(value, soft_len, &l.rlim_cur) ||
            !parse_rlim(value[soft_len] ? value + soft_len + 1 : value,
                        value[soft_len] ? strlen(value + soft_len + 1) : soft_len, &l.rlim_max))
                return warren_error_set(
                        reterr, EINVAL,
                        "Invalid %s value '%s': expected soft[:hard], numbers or 'unlimited'", key, value);
        if (l.rlim_cur > l.rlim_max)
                return warren_error_set(reterr, EINVAL, "Invalid %s value '%s': soft limit above hard limit",
                                        key, value);

        /* The init sets it on itself: raising a hard limit needs
         * CAP_SYS_RESOURCE in the host's user namespace, which a user
         * namespace never has. */
        if (getrlimit(resource, &cur) < 0)
                return warren_error_set(reterr, errno, "Failed to read the service's %s limit: %m", name);
        bool may_raise = !unprivileged && have_cap_sys_resource();
        if (l.rlim_max > cur.rlim_max && !may_raise) {
                char want[24], have[24];
                format_rlim(l.rlim_max, want);
                format_rlim(cur.rlim_max, have);
                return warren_error_set(
                        reterr, EINVAL,
                        "Invalid %s value '%s': the hard limit %s is above the service's own (%s), "
                        "which %s cannot raise (that needs CAP_SYS_RESOURCE on the host)",
                        key, value, want, have, unprivileged ? "an unprivileged container" : "this service");
        }
        if (resource == RLIMIT_NOFILE) {
                _cleanup_free_ char *text = NULL;
                unsigned long long nr_open;
                if (read_full_file("/proc/sys/fs/nr_open", 64, &text, NULL) >= 0 &&
                    sscanf(text, "%llu", &nr_open) == 1 && l.rlim_max > nr_open)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid %s value '%s': above fs.nr_open (%llu), the most "
                                                "open files the kernel allows",
                                                key, value, nr_open);
        }
        if (ret_resource)
                *ret_resource = resource;
        if (ret)
                *ret = l;
        return 0;
}

/* ---- sysctls ---- */

int config_sysctl_path(const char *key, char **ret_path, WarrenError *reterr) {
        const char *name = key + strlen("lxc.sysctl.");
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "sys/%s", name) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        /* Dotted name -> path; every component must be a plain name. */
        for (char *comp = path + strlen("sys/");; comp++) {
                size_t l = strcspn(comp, ".");
                if (l == 0 || memchr(comp, '/', l))
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid sysctl name '%s': dotted plain names only (no '/', "
                                                "no empty component)",
                                                key);
                comp += l;
                if (!*comp)
                        break;
                *comp = '/';
        }
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}

bool config_sysctl_is_namespaced(const char *name) {
        static const char *const prefixes[] = {
                "net.", "kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue.", "user.",
        };
        if (streq(name, "kernel.hostname") || streq(name, "kernel.domainname"))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(name, prefixes[i]))
                        return true;
        return false;
}

/* ---- lxc.init.cmd, lxc.environment, lxc.tty.max ---- */

int config_command_split(const char *cmd, char ***ret, WarrenError *reterr) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *w = malloc(strlen(cmd) + 1);
        const char *p = cmd;

        if (!w)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        for (;;) {
                size_t n = 0;
                bool have = false;
                char q = 0;

                p += strspn(p, " \t\n");
                if (!*p)
                        break;
                for (; *p; p++) {
                        if (q == '\'') {
                                if (*p == '\'')
                                        q = 0;
                                else
                                        w[n++] = *p;
                        } else if (*p == '\\' && p[1] && (!q || strchr("\"\\$`", p[1]))) {
                                w[n++] = *++p;
                        } else if (q == '"') {
                                if (*p == '"')
                                        q = 0;
                                else
                                        w[n++] = *p;
                        } else if (*p == '\'' || *p == '"') {
                                q = *p;
                                have = true;
                        } else if (strchr(" \t\n", *p))
                                break;
                        else
                                w[n++] = *p;
                }
                if (q)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid lxc.init.cmd '%s': unterminated quote", cmd);
                if (n > 0 || have) {
                        w[n] = 0;
                        if (strv_extend(&l, w) < 0)
                                return warren_error_set(reterr, ENOMEM, "Out of memory");
                }
        }
        if (!l)
                return warren_error_set(reterr, EINVAL, "Invalid lxc.init.cmd '%s': no command", cmd);
        if (ret)
                *ret = TAKE_PTR(l);
        return 0;
}

int config_environment_check(const char *item, WarrenError *reterr) {
        if (item[0] == '=')
                return warren_error_set(reterr, EINVAL, "Invalid lxc.environment '%s': empty name", item);
        return 0;
}

int config_tty_max(const char *value, unsigned *ret, WarrenError *reterr) {
        unsigned long long v = 0;
        char *end = NULL;
        if (value) {
                errno = 0;
                v = strtoull(value, &end, 10);
        }
        if (value && (value[0] < '0' || value[0] > '9' || errno || *end || v > CONFIG_TTY_MAX_LIMIT))
                return warren_error_set(reterr, EINVAL, "Invalid lxc.tty.max '%s': expected 0..%u", value,
                                        CONFIG_TTY_MAX_LIMIT);
        if (ret)
                *ret = (unsigned) v;
        return 0;
}

/* ---- one item ---- */

int config_check_item(const LxcConfig *context, const char *key, const char *value, WarrenError *reterr) {
        int r;

        if (!value || !*value)
                return 0;
        if (streq(key, "lxc.mount.entry")) {
                _cleanup_(mount_entry_done) MountEntry e = {};
                return mount_entry_parse(value, &e, reterr);
        }
        if (streq(key, "lxc.mount.auto")) {
                MountAuto m = {};
                return mount_auto_parse(value, false, &m, reterr);
        }
        if (streq(key, "lxc.mount.fstab") && value[0] != '/')
                return warren_error_set(reterr, EINVAL, "Invalid lxc.mount.fstab '%s': not an absolute path",
                                        value);
        if (startswith(key, "lxc.cgroup.") || startswith(key, "lxc.cgroup2."))
                return cgroup_limits_check_key(key, value, reterr);
        if (startswith(key, "lxc.sysctl.")) {
                r = config_sysctl_path(key, NULL, reterr);
                if (r < 0)
                        return r;
                if (config_is_unprivileged(context) &&
                    !config_sysctl_is_namespaced(key + strlen("lxc.sysctl.")))
                        return warren_error_set(
                                reterr, EINVAL,
                                "%s = %s: not a sysctl of the container's own namespaces, which "
                                "the root of an unprivileged container cannot set",
                                key, value);
                return 0;
        }
        if (startswith(key, "lxc.prlimit."))
                return config_rlimit_parse(key, value, config_is_unprivileged(context), NULL, NULL, reterr);
        if (streq(key, "lxc.tty.max"))
                return config_tty_max(value, NULL, reterr);
        if (streq(key, "lxc.console.buffer.size")) {
                size_t size;
                return monitor_ttys_parse_buffer_size(value, &size, reterr);
        }
        if (streq(key, "lxc.console.path") && !streq(value, "none"))
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "lxc.console.path '%s' is not supported: only 'none' (or unset)",
                                        value);
        if (startswith(key, "lxc.signal.")) {
                int sig;
                r = monitor_parse_signal(value, &sig, reterr);
                if (r < 0)
                        warren_error_prefix(reterr, "%s", key);
                return r;
        }
        if (startswith(key, "lxc.net."))
                return network_check_key(key, value, reterr);
        if (streq(key, "lxc.init.cmd"))
                return config_command_split(value, NULL, reterr);
        if (streq(key, "lxc.environment"))
                return config_environment_check(value, reterr);
        return 0;
}

/* ---- a whole config ---- */

static int check_idmap(const LxcConfig *c, WarrenError *reterr) {
        _cleanup_idmap_ Idmap *m = NULL;
        uint32_t id;
        int r = idmap_from_config(c, &m, reterr);
        if (r < 0 || m->n == 0)
                return r;
        r = idmap_verify(m, reterr);
        if (r < 0)
                return r;
        if (idmap_to_host(m, IDMAP_UID, 0, &id) < 0)
                return warren_error_set(reterr, EINVAL,
                                        "lxc.idmap maps no uid 0: the container's root must be mapped (e.g. "
                                        "'u 0 100000 65536')");
        if (idmap_to_host(m, IDMAP_GID, 0, &id) < 0)
                return warren_error_set(reterr, EINVAL,
                                        "lxc.idmap maps no gid 0: the container's root group must be mapped "
                                        "(e.g. 'g 0 100000 65536')");
        return 0;
}

/* The limits on this host's cgroup layout, as the monitor will plan them. */
static int check_cgroup_limits(const LxcConfig *c, WarrenError *reterr) {
        _cleanup_strv_free_ char **kv = lxc_config_get_prefix(c, "lxc.cgroup");
        _cleanup_cgroup_layout_ CgroupLayout *layout = NULL;
        _cleanup_(cgroup_plan_freep) CgroupPlan *plan = NULL;
        if (!kv)
                return -ENOMEM;
        if (!kv[0] || cgroup_layout_detect(&layout, NULL) < 0)
                return 0; /* no cgroups here: the start says so */
        return cgroup_plan_limits(layout, kv, &plan, reterr);
}

int config_check(const LxcConfig *c, WarrenError *reterr) {
        bool unprivileged = config_is_unprivileged(c);
        uint64_t keep;
        int r;

        for (size_t i = 0, n = lxc_config_n_items(c); i < n; i++) {
                const char *k, *v;
                lxc_config_item(c, i, &k, &v);
                r = config_check_item(c, k, v, reterr);
                if (r < 0)
                        return r;
        }
        r = check_idmap(c, reterr);
        if (r < 0)
                return r;
        r = caps_from_config(c, &keep, reterr);
        if (r < 0)
                return r;
        r = network_check_config(c, unprivileged ? 0 : NETWORK_CHECK_PRIVILEGED, reterr);
        if (r < 0)
                return r;
        r = mount_config_check(c, keep & (UINT64_C(1) << CAP_SYS_ADMIN), unprivileged,
                               network_config_shares_host_netns(c), reterr);
        if (r < 0)
                return r;
        return check_cgroup_limits(c, reterr);
}
