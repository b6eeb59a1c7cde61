/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lxc.cgroup2.* / lxc.cgroup.* config items -> cgroup file writes for a
 * given layout, translating cgroup2 names to v1 where the controller only
 * exists as a v1 hierarchy (pure: reads and writes nothing); and the live
 * side: which changed items a running container's cgroups take, and
 * writing them all or nothing. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"

/* Interface files the runtime drives itself; a config must not write them. */
static const char *const managed_files[] = {
        "cgroup.procs", "cgroup.threads", "cgroup.kill",       "cgroup.freeze",         "cgroup.type",
        "tasks",        "release_agent",  "notify_on_release", "cgroup.clone_children",
};

static int parse_u64(const char *s, uint64_t *ret) {
        if (!s || !(*s >= '0' && *s <= '9'))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* A byte count as the kernel's memparse() reads it: digits and an optional
 * K/M/G/T/P/E suffix (powers of 1024). */
static int parse_bytes(const char *s, uint64_t *ret) {
        static const char suffixes[] = "kmgtpe";
        if (!s || !(*s >= '0' && *s <= '9'))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0)
                return -ERANGE;
        if (*end != 0) {
                const char *p = end[1] == 0 ? strchr(suffixes, end[0] | 0x20) : NULL;
                if (!p || end[0] == 0)
                        return -EINVAL;
                for (ptrdiff_t i = 0; i <= p - suffixes; i++) {
                        if (v > UINT64_MAX / 1024U)
                                return -ERANGE;
                        v *= 1024U;
                }
        }
        *ret = v;
        return 0;
}

/* ---- limits: config items -> file writes ---- */

CgroupPlan *cgroup_plan_free(CgroupPlan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_settings; i++) {
                CgroupSetting *s = &p->settings[i];
                free(s->key);
                free(s->config_value);
                free(s->mount);
                free(s->file);
                free(s->value);
        }
        free(p->settings);
        strv_free(p->ignored);
        free(p);
        return NULL;
}

static int plan_add(CgroupPlan *p, const char *key, const char *cvalue, const char *mount, bool v1,
                    const char *file, const char *value) {
        CgroupSetting *n = realloc(p->settings, (p->n_settings + 1) * sizeof(CgroupSetting));
        if (!n)
                return -ENOMEM;
        p->settings = n;
        CgroupSetting s = {
                .key = strdup(key),
                .config_value = strdup(cvalue),
                .mount = strdup(mount),
                .v1 = v1,
                .file = strdup(file),
                .value = strdup(value),
        };
        if (!s.key || !s.config_value || !s.mount || !s.file || !s.value) {
                free(s.key);
                free(s.config_value);
                free(s.mount);
                free(s.file);
                free(s.value);
                return -ENOMEM;
        }
        p->settings[p->n_settings++] = s;
        return 0;
}

static int plan_ignore(CgroupPlan *p, const char *key, const char *why) {
        char *m = NULL;
        if (asprintf(&m, "%s: %s", key, why) < 0)
                return -ENOMEM;
        int r = strv_consume(&p->ignored, m);
        if (r < 0)
                free(m);
        return r;
}

/* A cgroup interface file name: "controller.rest", nothing that walks paths. */
static int validate_file(const char *key, const char *file, WarrenError *reterr) {
        static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
        size_t n = strlen(file);

        if (n == 0 || n > 128 || strspn(file, allowed) != n || file[0] == '.' || file[n - 1] == '.' ||
            strstr(file, "..") || !strchr(file, '.'))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid cgroup key '%s': '%s' is not a cgroup file name "
                                        "(CONTROLLER.FILE of [A-Za-z0-9_.-], no '/' or '..')",
                                        key, file);
        for (size_t i = 0; i < ELEMENTSOF(managed_files); i++)
                if (streq(file, managed_files[i]))
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid cgroup key '%s': '%s' is managed by warren", key,
                                                file);
        return 0;
}

static int unavailable(const CgroupLayout *l, const char *key, const char *ctrl, WarrenError *reterr) {
        if (l->v2_mount)
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "%s: controller '%s' is not available (neither in cgroup2 at %s nor "
                                        "as a v1 hierarchy)",
                                        key, ctrl, l->v2_mount);
        return warren_error_set(
                reterr, EOPNOTSUPP,
                "%s: controller '%s' is not available (no cgroup2 mount, and not a v1 hierarchy)", key,
                ctrl);
}

static int invalid_value(const char *key, const char *value, const char *why, WarrenError *reterr) {
        return warren_error_set(reterr, EINVAL, "Invalid value '%s' for %s: %s", value, key, why);
}

/* "max" means unlimited, which v1 spells -1. */
static const char *v1_limit(const char *v) {
        return streq(v, "max") ? "-1" : v;
}

static int translate_cpu_max(CgroupPlan *p, const char *mnt, const char *key, const char *value,
                             WarrenError *reterr) {
        _cleanup_strv_free_ char **w = strv_split(value, " \t");
        uint64_t q, period;
        if (!w)
                return -ENOMEM;
        size_t n = strv_length(w);
        if (n < 1 || n > 2 || (!streq(w[0], "max") && (parse_u64(w[0], &q) < 0 || q == 0)) ||
            (n == 2 && (parse_u64(w[1], &period) < 0 || period == 0)))
                return invalid_value(key, value,
                                     "must be 'QUOTA [PERIOD]' in microseconds, QUOTA may be 'max'", reterr);
        /* The period first: the kernel checks the quota against it. */
        if (n == 2 && plan_add(p, key, value, mnt, true, "cpu.cfs_period_us", w[1]) < 0)
                return -ENOMEM;
        if (plan_add(p, key, value, mnt, true, "cpu.cfs_quota_us", v1_limit(w[0])) < 0)
                return -ENOMEM;
        return 0;
}

static int translate_io_weight(CgroupPlan *p, const char *mnt, const char *key, const char *value,
                               WarrenError *reterr) {
        _cleanup_strv_free_ char **w = strv_split(value, " \t");
        uint64_t weight;
        char buf[64];
        if (!w)
                return -ENOMEM;
        size_t n = strv_length(w);
        if (n < 1 || n > 2 || parse_u64(w[n - 1], &weight) < 0 || weight < 1 || weight > 10000)
                return invalid_value(
                        key, value,
                        "must be 'WEIGHT', 'default WEIGHT' or 'MAJ:MIN WEIGHT', WEIGHT 1..10000", reterr);
        uint64_t v1w = MIN(MAX(weight * 500U / 100U, 10U), 1000U);
        if (n == 2 && !streq(w[0], "default")) {
                unsigned maj, min;
                char tail;
                if (sscanf(w[0], "%u:%u%c", &maj, &min, &tail) != 2)
                        return invalid_value(key, value,
                                             "must be 'WEIGHT', 'default WEIGHT' or 'MAJ:MIN WEIGHT'",
                                             reterr);
                snprintf(buf, sizeof(buf), "%u:%u %" PRIu64, maj, min, v1w);
                return plan_add(p, key, value, mnt, true, "blkio.weight_device", buf);
        }
        snprintf(buf, sizeof(buf), "%" PRIu64, v1w);
        return plan_add(p, key, value, mnt, true, "blkio.weight", buf);
}

/* memory.swap.max on v1: memsw limits memory + swap together. */
static int translate_swap(CgroupPlan *p, const char *mnt, const char *key, const char *value,
                          const char *mem_max, WarrenError *reterr) {
        uint64_t swap, mem;
        char buf[32];
        if (streq(value, "max"))
                return plan_add(p, key, value, mnt, true, "memory.memsw.limit_in_bytes", "-1");
        if (parse_bytes(value, &swap) < 0)
                return invalid_value(key, value, "must be a byte count (K/M/G/T suffixes allowed) or 'max'",
                                     reterr);
        if (!mem_max || parse_bytes(mem_max, &mem) < 0)
                return warren_error_set(reterr, EINVAL,
                                        "%s = %s: cgroup v1 limits memory and swap together, which needs "
                                        "lxc.cgroup2.memory.max set to a byte count (it is %s%s%s)",
                                        key, value, mem_max ? "'" : "", mem_max ? mem_max : "unset",
                                        mem_max ? "'" : "");
        if (mem > UINT64_MAX - swap)
                return invalid_value(key, value, "memory.max + memory.swap.max overflows", reterr);
        snprintf(buf, sizeof(buf), "%" PRIu64, mem + swap);
        return plan_add(p, key, value, mnt, true, "memory.memsw.limit_in_bytes", buf);
}

static const char *kv_last(char *const *kv, const char *key) {
        const char *v = NULL;
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
                if (streq(kv[i], key))
                        v = kv[i + 1];
        return v;
}

static int plan_v2_key(const CgroupLayout *l, CgroupPlan *p, const char *key, const char *file,
                       const char *value, const char **swap_key, const char **swap_value,
                       WarrenError *reterr) {
        _cleanup_free_ char *ctrl = strndup(file, strcspn(file, "."));
        if (!ctrl)
                return -ENOMEM;

        if (streq(ctrl, "devices")) {
                const CgroupHierarchy *h = cgroup_layout_v1_find(l, "devices");
                if (!streq(file, "devices.allow") && !streq(file, "devices.deny"))
                        return warren_error_set(
                                reterr, EINVAL,
                                "Invalid cgroup key '%s': only devices.allow and devices.deny exist", key);
                if (h)
                        return plan_add(p, key, value, h->mount, true, file, value);
                return plan_ignore(p, key,
                                   "no cgroup v1 devices hierarchy, and cgroup2 device filters (eBPF) are "
                                   "not supported");
        }
        if (l->v2_mount && (streq(ctrl, "cgroup") || cgroup_layout_v2_has(l, ctrl)))
                return plan_add(p, key, value, l->v2_mount, false, file, value);
        if (streq(ctrl, "cgroup"))
                return warren_error_set(reterr, EOPNOTSUPP, "%s: '%s' needs cgroup2, which is not mounted",
                                        key, file);

        const CgroupHierarchy *h = cgroup_layout_v1_find(l, streq(ctrl, "io") ? "blkio" : ctrl);
        if (!h)
                return unavailable(l, key, ctrl, reterr);

        if (streq(file, "memory.max"))
                return plan_add(p, key, value, h->mount, true, "memory.limit_in_bytes", v1_limit(value));
        if (streq(file, "memory.high"))
                return plan_add(p, key, value, h->mount, true, "memory.soft_limit_in_bytes",
                                v1_limit(value));
        if (streq(file, "memory.swap.max")) {
                /* Deferred until every memory.max is planned: v1 wants memsw >= limit. */
                *swap_key = key;
                *swap_value = value;
                return 0;
        }
        if (streq(file, "pids.max") || streq(file, "cpuset.cpus") || streq(file, "cpuset.mems"))
                return plan_add(p, key, value, h->mount, true, file, value);
        if (streq(file, "cpu.max"))
                return translate_cpu_max(p, h->mount, key, value, reterr);
        if (streq(file, "cpu.weight")) {
                uint64_t w;
                char buf[32];
                if (parse_u64(value, &w) < 0 || w < 1 || w > 10000)
                        return invalid_value(key, value, "must be 1..10000", reterr);
                snprintf(buf, sizeof(buf), "%" PRIu64, MIN(MAX(w * 1024U / 100U, 2U), 262144U));
                return plan_add(p, key, value, h->mount, true, "cpu.shares", buf);
        }
        if (streq(file, "io.weight"))
                return translate_io_weight(p, h->mount, key, value, reterr);

        return warren_error_set(reterr, EOPNOTSUPP,
                                "%s: controller '%s' is only available as a cgroup v1 hierarchy at %s, and "
                                "'%s' has no cgroup v1 equivalent",
                                key, ctrl, h->mount, file);
}

static int plan_v1_key(const CgroupLayout *l, CgroupPlan *p, const char *key, const char *file,
                       const char *value, WarrenError *reterr) {
        _cleanup_free_ char *ctrl = strndup(file, strcspn(file, "."));
        if (!ctrl)
                return -ENOMEM;
        const CgroupHierarchy *h = cgroup_layout_v1_find(l, ctrl);
        if (h)
                return plan_add(p, key, value, h->mount, true, file, value);
        if (streq(ctrl, "devices"))
                return plan_ignore(p, key,
                                   "no cgroup v1 devices hierarchy, and cgroup2 device filters (eBPF) are "
                                   "not supported");
        if (l->v2_mount)
                return warren_error_set(
                        reterr, EOPNOTSUPP,
                        "%s: controller '%s' is not available as a cgroup v1 hierarchy on this host "
                        "(cgroup2 is at %s: use lxc.cgroup2.* keys)",
                        key, ctrl, l->v2_mount);
        return unavailable(l, key, ctrl, reterr);
}

/* LXC keys under lxc.cgroup. that place the cgroup rather than limit it. */
static bool is_placement_key(const char *rest) {
        return streq(rest, "dir") || strncmp(rest, "dir.", 4) == 0 || streq(rest, "relative") ||
               streq(rest, "pattern") || streq(rest, "use");
}

int cgroup_limits_check_key(const char *key, const char *value, WarrenError *reterr) {
        if (value && (strlen(value) > 4096 || strpbrk(value, "\n\r")))
                return invalid_value(key, value, "must be a single line of at most 4096 bytes", reterr);
        if (strncmp(key, "lxc.cgroup2.", 12) == 0) {
                int r = validate_file(key, key + 12, reterr);
                if (r < 0)
                        return r;
                if (strncmp(key + 12, "devices.", 8) == 0 && !streq(key + 12, "devices.allow") &&
                    !streq(key + 12, "devices.deny"))
                        return warren_error_set(
                                reterr, EINVAL,
                                "Invalid cgroup key '%s': only devices.allow and devices.deny exist", key);
                return 0;
        }
        if (strncmp(key, "lxc.cgroup.", 11) == 0)
                return is_placement_key(key + 11) ? 0 : validate_file(key, key + 11, reterr);
        return warren_error_set(reterr, EINVAL,
                                "Invalid cgroup key '%s': not an lxc.cgroup.* or lxc.cgroup2.* key", key);
}

int cgroup_plan_limits(const CgroupLayout *l, char *const *kv, CgroupPlan **ret, WarrenError *reterr) {
        _cleanup_(cgroup_plan_freep) CgroupPlan *p = calloc(1, sizeof(CgroupPlan));
        const char *swap_key = NULL, *swap_value = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        for (size_t i = 0; kv && kv[i]; i += 2) {
                const char *key = kv[i], *value = kv[i + 1];
                if (!value)
                        return warren_error_set(reterr, EINVAL, "Cgroup key '%s' has no value", key);
                r = cgroup_limits_check_key(key, value, reterr);
                if (r < 0)
                        return r;
                if (strncmp(key, "lxc.cgroup2.", 12) == 0)
                        r = plan_v2_key(l, p, key, key + 12, value, &swap_key, &swap_value, reterr);
                else if (is_placement_key(key + 11))
                        continue;
                else
                        r = plan_v1_key(l, p, key, key + 11, value, reterr);
                if (r < 0)
                        return r;
        }
        if (swap_key) {
                /* Set only after the memory hierarchy was found. */
                const CgroupHierarchy *h = cgroup_layout_v1_find(l, "memory");
                r = translate_swap(p, h->mount, swap_key, swap_value, kv_last(kv, "lxc.cgroup2.memory.max"),
                                   reterr);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- live: changing a running container's limits ---- */

/* What an emptied key means for a running cgroup: the kernel's default
 * (the value a fresh cgroup has). */
static const struct {
        const char *file;
        const char *value;
} live_defaults[] = {
        /* cgroup2 names (lxc.cgroup2.*; translated for v1 hierarchies) */
        { "memory.max", "max" },
        { "memory.high", "max" },
        { "memory.low", "0" },
        { "memory.min", "0" },
        { "memory.swap.max", "max" },
        { "pids.max", "max" },
        { "cpu.max", "max" },
        { "cpu.weight", "100" },
        { "io.weight", "default 100" },
        { "cgroup.max.descendants", "max" },
        { "cgroup.max.depth", "max" },
        /* cgroup v1 names (lxc.cgroup.*) */
        { "memory.limit_in_bytes", "-1" },
        { "memory.soft_limit_in_bytes", "-1" },
        { "memory.memsw.limit_in_bytes", "-1" },
        { "cpu.cfs_quota_us", "-1" },
        { "cpu.shares", "1024" },
        { "blkio.weight", "500" },
};

static const char *live_default(const char *key) {
        bool v2 = strncmp(key, "lxc.cgroup2.", 12) == 0;
        const char *file = key + (v2 ? 12 : 11);
        size_t n = strlen(file);
        for (size_t i = 0; i < ELEMENTSOF(live_defaults); i++)
                if (streq(file, live_defaults[i].file))
                        return live_defaults[i].value;
        if (strncmp(file, "hugetlb.", 8) == 0 && v2 && n > 4 && streq(file + n - 4, ".max"))
                return "max";
        if (strncmp(file, "hugetlb.", 8) == 0 && !v2 && n > 15 && streq(file + n - 15, ".limit_in_bytes"))
                return "-1";
        return NULL;
}

/* Keys whose change a running cgroup cannot take: placement, device
 * rules (a list the kernel keeps as the sum of every write), the bare
 * "lxc.cgroup" that clears them. */
static bool live_key(const char *key) {
        const char *file = strncmp(key, "lxc.cgroup2.", 12) == 0  ? key + 12
                           : strncmp(key, "lxc.cgroup.", 11) == 0 ? key + 11
                                                                  : NULL;
        return file && !is_placement_key(file) && strncmp(file, "devices.", 8) != 0;
}

/* Keys that only say when or whether it starts: nothing to restart for. */
static bool start_only_key(const char *key) {
        return strncmp(key, "lxc.start.", 10) == 0 || streq(key, "lxc.group");
}

int cgroup_limits_live_items(char *const *items, char *const *effective, bool live_allowed,
                             char ***ret_plan_kv, char ***ret_live, char ***ret_restart) {
        _cleanup_strv_free_ char **plan = calloc(1, sizeof(char *)), **live = calloc(1, sizeof(char *)),
                                 **restart = calloc(1, sizeof(char *));
        if (!plan || !live || !restart)
                return -ENOMEM;
        for (size_t i = 0; items && items[i] && items[i + 1]; i += 2) {
                const char *key = items[i];
                if (strv_contains(live, key) || strv_contains(restart, key))
                        continue;
                const char *value = kv_last(effective, key);
                if (!value && live_key(key))
                        value = live_default(key);
                if (!live_allowed || !live_key(key) || !value) {
                        if (!start_only_key(key) && strv_extend(&restart, key) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (strv_extend(&live, key) < 0 || strv_extend(&plan, key) < 0 ||
                    strv_extend(&plan, value) < 0)
                        return -ENOMEM;
        }
        /* v1 limits memory and swap together: a change of either rewrites
         * both (the plan needs memory.max to translate swap.max). */
        static const char *const pair[] = { "lxc.cgroup2.memory.max", "lxc.cgroup2.memory.swap.max" };
        for (size_t i = 0; i < 2; i++) {
                const char *other = kv_last(effective, pair[1 - i]);
                if (kv_last(plan, pair[i]) && !kv_last(plan, pair[1 - i]) && other &&
                    (strv_extend(&plan, pair[1 - i]) < 0 || strv_extend(&plan, other) < 0))
                        return -ENOMEM;
        }
        *ret_plan_kv = TAKE_PTR(plan);
        *ret_live = TAKE_PTR(live);
        *ret_restart = TAKE_PTR(restart);
        return 0;
}

struct CgroupUndo {
        size_t n;
        char **paths;  /* n of them, in the order written */
        char **values; /* what each held before */
};

CgroupUndo *cgroup_undo_free(CgroupUndo *u) {
        if (!u)
                return NULL;
        for (size_t i = 0; i < u->n; i++) {
                free(u->paths[i]);
                free(u->values[i]);
        }
        free(u->paths);
        free(u->values);
        free(u);
        return NULL;
}

/* Writes back what a file held: a multi-line file (io.weight, a device
 * list) one line per write, as cgroupfs takes it. */
static int restore_file(const char *path, const char *saved) {
        _cleanup_strv_free_ char **lines = strv_split(saved, "\n");
        int ret = 0;
        if (!lines)
                return -ENOMEM;
        STRV_FOREACH(l, lines) {
                int r = write_string_file_at(AT_FDCWD, path, *l);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

int cgroup_undo_apply(const CgroupUndo *u, WarrenError *reterr) {
        int ret = 0;
        for (size_t i = u ? u->n : 0; i > 0; i--) {
                int r = restore_file(u->paths[i - 1], u->values[i - 1]);
                if (r < 0 && ret == 0)
                        ret = warren_error_set(reterr, r, "restoring '%s' in %s failed: %s",
                                               u->values[i - 1], u->paths[i - 1], strerror(-r));
        }
        return ret;
}

static int parse_v1_limit(const char *s, uint64_t *ret) {
        if (streq(s, "-1") || streq(s, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_bytes(s, ret);
}

/* v1 wants memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every
 * moment: raising the limit past the current memsw writes memsw first. */
static void order_memsw(const CgroupPlan *p, char **saved, size_t *order) {
        size_t lim = SIZE_MAX, sw = SIZE_MAX;
        for (size_t i = 0; i < p->n_settings; i++) {
                if (!p->settings[i].v1)
                        continue;
                if (streq(p->settings[i].file, "memory.limit_in_bytes"))
                        lim = i;
                else if (streq(p->settings[i].file, "memory.memsw.limit_in_bytes"))
                        sw = i;
        }
        uint64_t new_limit, old_memsw;
        if (lim == SIZE_MAX || sw == SIZE_MAX || sw < lim ||
            parse_v1_limit(p->settings[lim].value, &new_limit) < 0 ||
            parse_v1_limit(saved[sw], &old_memsw) < 0 || new_limit <= old_memsw)
                return;
        for (size_t i = sw; i > lim; i--)
                order[i] = order[i - 1];
        order[lim] = sw;
}

typedef struct LiveFiles {
        size_t n;
        char **paths;
        char **saved;
        size_t *order;
} LiveFiles;

static void live_files_done(LiveFiles *f) {
        for (size_t i = 0; i < f->n; i++) {
                free(f->paths[i]);
                free(f->saved[i]);
        }
        free(f->paths);
        free(f->saved);
        free(f->order);
}

/* Reads what every file of the plan holds, before anything is written. */
static int live_files_read(const Cgroup *cg, const CgroupPlan *p, LiveFiles *f, WarrenError *reterr) {
        f->paths = calloc(p->n_settings + 1, sizeof(char *));
        f->saved = calloc(p->n_settings + 1, sizeof(char *));
        f->order = calloc(p->n_settings + 1, sizeof(size_t));
        if (!f->paths || !f->saved || !f->order)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_settings; i++) {
                const CgroupSetting *s = &p->settings[i];
                f->n = i + 1;
                f->order[i] = i;
                if (asprintf(&f->paths[i], "%s%s/%s", s->mount, cgroup_get_path(cg), s->file) < 0) {
                        f->paths[i] = NULL;
                        return -ENOMEM;
                }
                int r = read_full_file(f->paths[i], 64U * 1024U, &f->saved[i], NULL);
                if (r == -ENOENT)
                        return warren_error_set(
                                reterr, r, "%s = %s: %s does not exist (the kernel has no such cgroup file)",
                                s->key, s->config_value, f->paths[i]);
                if (r < 0)
                        return warren_error_set(reterr, r, "%s = %s: cannot read %s: %s", s->key,
                                                s->config_value, f->paths[i], strerror(-r));
                for (size_t n = strlen(f->saved[i]); n > 0 && f->saved[i][n - 1] == '\n'; n--)
                        f->saved[i][n - 1] = 0;
        }
        return 0;
}

int cgroup_apply_plan_atomic(const Cgroup *cg, const CgroupPlan *p, CgroupUndo **ret_undo,
                             WarrenError *reterr) {
        _cleanup_(cgroup_undo_freep) CgroupUndo *u = calloc(1, sizeof(CgroupUndo));
        LiveFiles f = {};
        int r = u ? live_files_read(cg, p, &f, reterr) : -ENOMEM;
        if (r >= 0 && (!(u->paths = calloc(p->n_settings + 1, sizeof(char *))) ||
                       !(u->values = calloc(p->n_settings + 1, sizeof(char *)))))
                r = -ENOMEM;
        if (r < 0) {
                live_files_done(&f);
                return r;
        }
        order_memsw(p, f.saved, f.order);
        for (size_t k = 0; k < p->n_settings; k++) {
                size_t i = f.order[k];
                const CgroupSetting *s = &p->settings[i];
                r = write_string_file_at(AT_FDCWD, f.paths[i], s->value);
                if (r < 0) {
                        _cleanup_error_ WarrenError undo_err = WARREN_ERROR_NULL;
                        int k2 = cgroup_undo_apply(u, &undo_err);
                        r = warren_error_set(reterr, r,
                                             "%s = %s: the kernel rejected '%s' in %s: %s (errno %d)%s%s",
                                             s->key, s->config_value, s->value, f.paths[i], strerror(-r), -r,
                                             k2 < 0 ? "; and " : "; nothing was changed",
                                             k2 < 0 ? warren_error_message(&undo_err) : "");
                        live_files_done(&f);
                        return r;
                }
                log_debug("cgroup: wrote '%s' to %s (%s), live", s->value, f.paths[i], s->key);
                /* Moved, not copied: nothing can fail between a write and its record. */
                u->paths[u->n] = TAKE_PTR(f.paths[i]);
                u->values[u->n++] = TAKE_PTR(f.saved[i]);
        }
        live_files_done(&f);
        if (ret_undo)
                *ret_undo = TAKE_PTR(u);
        return 0;
}
