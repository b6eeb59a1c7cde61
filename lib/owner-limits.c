/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "owner-limits.h"

typedef struct LimitOverride {
        LimitKind kind;
        char *user; /* as written: a login name or a decimal uid */
        bool by_uid;
        uint32_t uid;
        uint64_t value;
        char *key;
} LimitOverride;

struct Limits {
        uint64_t value[_LIMIT_MAX];
        LimitOverride *overrides;
        size_t n;
        bool root_set[2]; /* uid, gid */
        uint32_t root_range[2][2];
};

static const char *const kind_names[_LIMIT_MAX] = {
        [LIMIT_CONTAINERS] = "containers",
        [LIMIT_RUNNING] = "running",
        [LIMIT_JOBS] = "jobs",
        [LIMIT_ATTACH] = "attach",
};

static const char *const default_keys[_LIMIT_MAX] = {
        [LIMIT_CONTAINERS] = "limit.containers",
        [LIMIT_RUNNING] = "limit.running",
        [LIMIT_JOBS] = "limit.jobs",
        [LIMIT_ATTACH] = "limit.attach",
};

const char *limit_kind_to_string(LimitKind k) {
        return (unsigned) k < _LIMIT_MAX ? kind_names[k] : NULL;
}

Limits *limits_new(void) {
        Limits *l = calloc(1, sizeof(Limits));
        if (!l)
                return NULL;
        l->value[LIMIT_CONTAINERS] = LIMIT_DEFAULT_CONTAINERS;
        l->value[LIMIT_RUNNING] = LIMIT_DEFAULT_RUNNING;
        l->value[LIMIT_JOBS] = LIMIT_DEFAULT_JOBS;
        l->value[LIMIT_ATTACH] = LIMIT_DEFAULT_ATTACH;
        return l;
}

Limits *limits_free(Limits *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++) {
                free(l->overrides[i].user);
                free(l->overrides[i].key);
        }
        free(l->overrides);
        free(l);
        return NULL;
}

/* Decimal digits only, at most max. */
static bool parse_num(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;
        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (max - (uint64_t) (*s - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = v;
        return true;
}

/* A portable login name (useradd's default rule, plus a trailing '$'). */
static bool user_name_ok(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 32 || s[0] == '-' || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || c == '-' || c == '.' || (c == '$' && i == n - 1);
                if (!ok)
                        return false;
        }
        return true;
}

static int set_override(Limits *l, LimitKind kind, const char *user, const char *key, uint64_t value) {
        uint64_t uid = 0;
        for (size_t i = 0; i < l->n; i++)
                if (l->overrides[i].kind == kind && streq(l->overrides[i].user, user)) {
                        l->overrides[i].value = value;
                        return 0;
                }
        LimitOverride *n = reallocarray(l->overrides, l->n + 1, sizeof(LimitOverride));
        if (!n)
                return -ENOMEM;
        l->overrides = n;
        LimitOverride o = { .kind = kind, .value = value };
        o.by_uid = parse_num(user, UINT32_MAX, &uid);
        o.uid = (uint32_t) uid;
        o.user = strdup(user);
        o.key = strdup(key);
        if (!o.user || !o.key) {
                free(o.user);
                free(o.key);
                return -ENOMEM;
        }
        l->overrides[l->n++] = o;
        return 0;
}

static char *strip(char *s) {
        s += strspn(s, " \t\r");
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\r", s[n - 1]))
                s[--n] = 0;
        return s;
}

static int parse_line(Limits *l, char *line, const char *path, unsigned lineno, WarrenError *reterr) {
        char *eq = strchr(line, '=');
        if (!eq)
                return warren_error_set(reterr, EINVAL, "%s:%u: invalid line '%s': expected 'key = value'",
                                        path, lineno, line);
        *eq = 0;
        char *key = strip(line), *value = strip(eq + 1);
        if (!*key)
                return warren_error_set(reterr, EINVAL, "%s:%u: missing key before '= %s'", path, lineno,
                                        value);

        if (streq(key, "root.idmap.uid") || streq(key, "root.idmap.gid")) {
                char *sp = value + strcspn(value, " \t");
                char *count_s = sp + strspn(sp, " \t");
                uint64_t start, count;
                bool ok = *sp != 0;
                *sp = 0;
                ok = ok && parse_num(value, UINT32_MAX, &start) && parse_num(count_s, UINT32_MAX, &count) &&
                     count > 0 && start + count <= UINT32_MAX;
                if (!ok) {
                        if (sp != count_s)
                                *sp = ' ';
                        return warren_error_set(
                                reterr, EINVAL,
                                "%s:%u: invalid value '%s' for '%s': expected 'START COUNT' (a range "
                                "of ids below %u)",
                                path, lineno, value, key, UINT32_MAX);
                }
                size_t i = key[strlen(key) - 3] == 'u' ? 0 : 1;
                l->root_set[i] = true;
                l->root_range[i][0] = (uint32_t) start;
                l->root_range[i][1] = (uint32_t) count;
                return 0;
        }

        if (strncmp(key, "limit.", 6) != 0)
                return warren_error_set(reterr, EINVAL, "%s:%u: unknown key '%s'", path, lineno, key);
        const char *name = key + 6;
        size_t n = strcspn(name, ".");
        LimitKind kind = _LIMIT_MAX;
        for (LimitKind k = 0; k < _LIMIT_MAX; k++)
                if (strlen(kind_names[k]) == n && strncmp(name, kind_names[k], n) == 0)
                        kind = k;
        if (kind == _LIMIT_MAX)
                return warren_error_set(reterr, EINVAL, "%s:%u: unknown key '%s'", path, lineno, key);
        const char *user = name[n] == '.' ? name + n + 1 : NULL;
        if (user && !user_name_ok(user))
                return warren_error_set(reterr, EINVAL,
                                        "%s:%u: invalid key '%s': '%s' is not a user name or uid", path,
                                        lineno, key, user);
        uint64_t v;
        if (streq(value, "unlimited"))
                v = LIMIT_UNLIMITED;
        else if (!parse_num(value, UINT32_MAX, &v))
                return warren_error_set(
                        reterr, EINVAL,
                        "%s:%u: invalid value '%s' for '%s': expected a number or 'unlimited'", path, lineno,
                        value, key);
        if (!user) {
                l->value[kind] = v;
                return 0;
        }
        return set_override(l, kind, user, key, v);
}

int limits_parse(const char *text, size_t len, const char *path, Limits **ret, WarrenError *reterr) {
        path = path ?: "<string>";
        if (memchr(text, 0, len))
                return warren_error_set(reterr, EINVAL, "%s contains a NUL byte", path);
        _cleanup_limits_ Limits *l = limits_new();
        _cleanup_free_ char *buf = strndup(text, len);
        if (!l || !buf)
                return -ENOMEM;
        unsigned lineno = 0;
        for (char *p = buf; *p;) {
                size_t n = strcspn(p, "\n");
                char *line = p;
                p += n + (p[n] == '\n');
                line[n] = 0;
                lineno++;
                line = strip(line);
                if (!*line || *line == '#')
                        continue;
                int r = parse_line(l, line, path, lineno, reterr);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int limits_load(const char *path, Limits **ret, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = read_full_file(path, LIMITS_MAX_FILE_SIZE, &text, &size);
        if (r == -ENOENT) {
                *ret = limits_new();
                return *ret ? 0 : -ENOMEM;
        }
        if (r == -EFBIG)
                return warren_error_set(reterr, r, "%s is larger than %u bytes", path, LIMITS_MAX_FILE_SIZE);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read %s: %s", path, strerror(-r));
        return limits_parse(text, size, path, ret, reterr);
}

uint64_t limits_get(const Limits *l, LimitKind kind, uid_t uid, const char *user, const char **ret_key) {
        const LimitOverride *by_name = NULL;
        for (size_t i = 0; i < l->n; i++) {
                const LimitOverride *o = &l->overrides[i];
                if (o->kind != kind)
                        continue;
                if (o->by_uid && o->uid == uid) {
                        if (ret_key)
                                *ret_key = o->key;
                        return o->value;
                }
                if (!o->by_uid && user && streq(o->user, user))
                        by_name = o;
        }
        if (by_name) {
                if (ret_key)
                        *ret_key = by_name->key;
                return by_name->value;
        }
        if (uid == 0) {
                if (ret_key)
                        *ret_key = "root";
                return LIMIT_UNLIMITED;
        }
        if (ret_key)
                *ret_key = default_keys[kind];
        return l->value[kind];
}

int limits_check(const Limits *l, LimitKind kind, uid_t uid, const char *user, uint64_t current,
                 WarrenError *reterr) {
        const char *key;
        uint64_t max = limits_get(l, kind, uid, user, &key);
        if (max == LIMIT_UNLIMITED || current < max)
                return 0;
        static const char *const what[_LIMIT_MAX][2] = {
                [LIMIT_CONTAINERS] = { "container", "containers" },
                [LIMIT_RUNNING] = { "running container", "running containers" },
                [LIMIT_JOBS] = { "job", "jobs" },
                [LIMIT_ATTACH] = { "attached process", "attached processes" },
        };
        char who[32];
        if (!user)
                snprintf(who, sizeof who, "%u", (unsigned) uid);
        return warren_error_set(reterr, EDQUOT, "User %s has %" PRIu64 " %s: the limit %s is %" PRIu64,
                                user ?: who, current, what[kind][current != 1], key, max);
}

int limits_root_idmap(const Limits *l, char type, uint32_t *ret_start, uint32_t *ret_count) {
        size_t i = type == 'u' ? 0 : type == 'g' ? 1 : 2;
        if (i > 1)
                return -EINVAL;
        if (!l->root_set[i])
                return -ENOENT;
        *ret_start = l->root_range[i][0];
        *ret_count = l->root_range[i][1];
        return 0;
}
