/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "config.h"
#include "idmap.h"

static const char *kind_ids(IdmapKind k) {
        return k == IDMAP_GID ? "gids" : "uids";
}

/* Decimal digits only, at most UINT32_MAX. */
static bool parse_u32(const char *s, size_t n, uint32_t *ret) {
        uint64_t v = 0;
        if (n == 0 || n > 10)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        if (v > UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

static bool ranges_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
        return a < b + bn && b < a + an;
}

/* ---- Maps ---- */

Idmap *idmap_new(void) {
        return calloc(1, sizeof(Idmap));
}

Idmap *idmap_free(Idmap *m) {
        if (!m)
                return NULL;
        free(m->lines);
        free(m);
        return NULL;
}

int idmap_add(Idmap *m, const IdmapLine *l) {
        IdmapLine *n = reallocarray(m->lines, m->n + 1, sizeof(IdmapLine));
        if (!n)
                return -ENOMEM;
        m->lines = n;
        m->lines[m->n++] = *l;
        return 0;
}

int idmap_line_parse(const char *value, IdmapLine *ret, WarrenError *reterr) {
        const char *f[5];
        size_t len[5], n = 0;
        for (const char *p = value;;) {
                p += strspn(p, " \t");
                if (!*p)
                        break;
                if (n == ELEMENTSOF(f))
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid lxc.idmap '%s': expected 'u|g|b NSID HOSTID COUNT'",
                                                value);
                f[n] = p;
                len[n] = strcspn(p, " \t");
                p += len[n++];
        }
        if (n != 4)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid lxc.idmap '%s': expected 'u|g|b NSID HOSTID COUNT'", value);
        IdmapLine l = {};
        if (len[0] != 1 || !strchr("ugb", f[0][0]))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid lxc.idmap '%s': type '%.*s' is not u, g or b", value,
                                        (int) len[0], f[0]);
        l.kind = f[0][0] == 'u' ? IDMAP_UID : f[0][0] == 'g' ? IDMAP_GID : IDMAP_BOTH;
        static const char *const what[] = { "NSID", "HOSTID", "COUNT" };
        uint32_t *dst[] = { &l.nsid, &l.hostid, &l.count };
        for (size_t i = 0; i < 3; i++)
                if (!parse_u32(f[i + 1], len[i + 1], dst[i]))
                        return warren_error_set(
                                reterr, EINVAL,
                                "Invalid lxc.idmap '%s': %s '%.*s' is not a number from 0 to %u", value,
                                what[i], (int) len[i + 1], f[i + 1], UINT32_MAX);
        if (l.count == 0)
                return warren_error_set(reterr, EINVAL, "Invalid lxc.idmap '%s': COUNT is 0", value);
        /* The kernel refuses a range that reaches id 4294967295 (-1). */
        if ((uint64_t) l.nsid + l.count > UINT32_MAX || (uint64_t) l.hostid + l.count > UINT32_MAX)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid lxc.idmap '%s': the range goes beyond id %u", value,
                                        UINT32_MAX - 1);
        *ret = l;
        return 0;
}

char *idmap_line_format(const IdmapLine *l) {
        char *s = NULL;
        char t = l->kind == IDMAP_UID ? 'u' : l->kind == IDMAP_GID ? 'g' : 'b';
        if (asprintf(&s, "%c %u %u %u", t, l->nsid, l->hostid, l->count) < 0)
                return NULL;
        return s;
}

int idmap_from_config(const LxcConfig *c, Idmap **ret, WarrenError *reterr) {
        _cleanup_strv_free_ char **values = lxc_config_get_all(c, "lxc.idmap");
        _cleanup_idmap_ Idmap *m = idmap_new();
        if (!values || !m)
                return -ENOMEM;
        STRV_FOREACH(v, values) {
                IdmapLine l;
                int r = idmap_line_parse(*v, &l, reterr);
                if (r < 0)
                        return r;
                if (idmap_add(m, &l) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int idmap_verify(const Idmap *m, WarrenError *reterr) {
        static const IdmapKind kinds[] = { IDMAP_UID, IDMAP_GID };
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                IdmapKind kind = kinds[k];
                size_t count = 0;
                for (size_t i = 0; i < m->n; i++) {
                        const IdmapLine *a = &m->lines[i];
                        if (!(a->kind & kind))
                                continue;
                        if (++count > IDMAP_MAX_LINES)
                                return warren_error_set(
                                        reterr, EINVAL,
                                        "lxc.idmap has more than %u lines for %s: the kernel "
                                        "refuses such a map",
                                        IDMAP_MAX_LINES, kind_ids(kind));
                        for (size_t j = 0; j < i; j++) {
                                const IdmapLine *b = &m->lines[j];
                                if (!(b->kind & kind))
                                        continue;
                                bool ns = ranges_overlap(a->nsid, a->count, b->nsid, b->count);
                                if (!ns && !ranges_overlap(a->hostid, a->count, b->hostid, b->count))
                                        continue;
                                uint32_t sa = ns ? a->nsid : a->hostid, sb = ns ? b->nsid : b->hostid;
                                uint64_t lo = MAX(sa, sb),
                                         hi = MIN((uint64_t) sa + a->count, (uint64_t) sb + b->count);
                                _cleanup_free_ char *fa = idmap_line_format(a), *fb = idmap_line_format(b);
                                if (!fa || !fb)
                                        return -ENOMEM;
                                return warren_error_set(
                                        reterr, EINVAL,
                                        "lxc.idmap '%s' and '%s' overlap in %s %s %" PRIu64 "-%" PRIu64, fb,
                                        fa, ns ? "container" : "host", kind_ids(kind), lo, hi - 1);
                        }
                }
        }
        return 0;
}

int idmap_format(const Idmap *m, IdmapKind kind, char **ret) {
        assert(kind == IDMAP_UID || kind == IDMAP_GID);
        size_t size = 1, len = 0;
        for (size_t i = 0; i < m->n; i++)
                size += 33; /* three u32 in decimal, two blanks, a newline */
        _cleanup_free_ char *s = malloc(size);
        if (!s)
                return -ENOMEM;
        s[0] = 0;
        for (size_t i = 0; i < m->n; i++) {
                const IdmapLine *l = &m->lines[i];
                if (l->kind & kind)
                        len += (size_t) snprintf(s + len, size - len, "%u %u %u\n", l->nsid, l->hostid,
                                                 l->count);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int write_map(pid_t pid, const Idmap *m, IdmapKind kind, WarrenError *reterr) {
        const char *file = kind == IDMAP_UID ? "uid_map" : "gid_map";
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
        _cleanup_free_ char *text = NULL;
        if (idmap_format(m, kind, &text) < 0)
                return -ENOMEM;
        size_t len = strlen(text);
        if (len == 0)
                return warren_error_set(reterr, EINVAL, "Cannot write %s: the id map has no line for %s",
                                        path, kind_ids(kind));
        long page = sysconf(_SC_PAGESIZE);
        if (page > 0 && len >= (size_t) page)
                return warren_error_set(
                        reterr, EINVAL,
                        "Cannot write %s: the map is %zu bytes, the kernel takes %ld at most", path, len,
                        page - 1);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open %s: %m", path);
        /* The kernel takes a map in one write() only: no write_all(). */
        ssize_t n = write(fd, text, len);
        if (n < 0 || (size_t) n != len) {
                int err = n < 0 ? errno : EIO;
                text[len - 1] = 0;
                for (char *p = text; (p = strchr(p, '\n'));)
                        *p = ';';
                return warren_error_set(reterr, err, "Failed to write %s ('%s'): %s", path, text,
                                        strerror(err));
        }
        return 0;
}

int idmap_write(pid_t pid, const Idmap *m, WarrenError *reterr) {
        int r = idmap_verify(m, reterr);
        if (r < 0)
                return r;
        r = write_map(pid, m, IDMAP_UID, reterr);
        if (r < 0)
                return r;
        return write_map(pid, m, IDMAP_GID, reterr);
}

static int translate(const Idmap *m, IdmapKind kind, uint32_t id, bool to_host, uint32_t *ret) {
        for (size_t i = 0; i < m->n; i++) {
                const IdmapLine *l = &m->lines[i];
                uint32_t from = to_host ? l->nsid : l->hostid, to = to_host ? l->hostid : l->nsid;
                if ((l->kind & kind) && id >= from && id - from < l->count) {
                        *ret = to + (id - from);
                        return 0;
                }
        }
        return -ERANGE;
}

int idmap_to_host(const Idmap *m, IdmapKind kind, uint32_t id, uint32_t *ret) {
        return translate(m, kind, id, true, ret);
}

int idmap_from_host(const Idmap *m, IdmapKind kind, uint32_t id, uint32_t *ret) {
        return translate(m, kind, id, false, ret);
}

/* ---- Subordinate ranges ---- */

typedef struct SubRange {
        IdmapKind kind;
        uint32_t start, count;
        bool own;
        char *who;     /* as written in the file */
        size_t source; /* index into IdmapAllowance.sources */
        unsigned line; /* 0 if not from a file */
} SubRange;

struct IdmapAllowance {
        uid_t uid;
        char *user;     /* login name, or NULL */
        char **sources; /* [0] the subuid file, [1] the subgid file, then added sources */
        SubRange *ranges;
        size_t n;
};

IdmapAllowance *idmap_allowance_free(IdmapAllowance *a) {
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->n; i++)
                free(a->ranges[i].who);
        free(a->ranges);
        strv_free(a->sources);
        free(a->user);
        free(a);
        return NULL;
}

static bool is_owner(const IdmapAllowance *a, const char *who) {
        uint32_t id;
        if (a->user && streq(who, a->user))
                return true;
        return parse_u32(who, strlen(who), &id) && id == a->uid;
}

static size_t source_index(IdmapAllowance *a, const char *source) {
        size_t i = 0;
        STRV_FOREACH(s, a->sources) {
                if (streq(*s, source))
                        return i;
                i++;
        }
        return strv_extend(&a->sources, source) < 0 ? SIZE_MAX : i;
}

static int add_range(IdmapAllowance *a, IdmapKind kind, const char *who, bool own, uint32_t start,
                     uint32_t count, size_t source, unsigned line) {
        SubRange *n = reallocarray(a->ranges, a->n + 1, sizeof(SubRange));
        if (!n)
                return -ENOMEM;
        a->ranges = n;
        char *w = strdup(who);
        if (!w)
                return -ENOMEM;
        a->ranges[a->n++] = (SubRange){ kind, start, count, own, w, source, line };
        return 0;
}

static int parse_subid(IdmapAllowance *a, IdmapKind kind, const char *path, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = read_full_file(path, IDMAP_SUBID_MAX_SIZE, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r == -EFBIG)
                return warren_error_set(reterr, r, "%s is larger than %u bytes", path, IDMAP_SUBID_MAX_SIZE);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read %s: %s", path, strerror(-r));
        if (strlen(text) != size)
                return warren_error_set(reterr, EINVAL, "%s contains a NUL byte", path);
        size_t src = kind == IDMAP_UID ? 0 : 1;
        unsigned line = 0;
        for (char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                char *l = p;
                p += n + (p[n] == '\n');
                l[n] = 0;
                line++;
                if (n == 0 || l[0] == '#')
                        continue;
                char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                uint32_t start, count;
                if (!c2 || c1 == l)
                        return warren_error_set(
                                reterr, EINVAL,
                                "%s:%u: invalid line '%s': expected 'NAME_OR_UID:START:COUNT'", path, line,
                                l);
                if (strpbrk(l, " \t") || (size_t) (c1 - l) > 256)
                        return warren_error_set(reterr, EINVAL, "%s:%u: invalid line '%s': bad user '%.*s'",
                                                path, line, l, (int) MIN(c1 - l, 256), l);
                if (!parse_u32(c1 + 1, (size_t) (c2 - c1 - 1), &start))
                        return warren_error_set(reterr, EINVAL,
                                                "%s:%u: invalid line '%s': start '%.*s' is not a number",
                                                path, line, l, (int) (c2 - c1 - 1), c1 + 1);
                if (!parse_u32(c2 + 1, strlen(c2 + 1), &count) || count == 0)
                        return warren_error_set(
                                reterr, EINVAL,
                                "%s:%u: invalid line '%s': count '%s' is not a number from 1", path, line, l,
                                c2 + 1);
                if ((uint64_t) start + count > UINT32_MAX)
                        return warren_error_set(reterr, EINVAL,
                                                "%s:%u: invalid line '%s': the range goes beyond id %u",
                                                path, line, l, UINT32_MAX - 1);
                *c1 = 0;
                if (add_range(a, kind, l, is_owner(a, l), start, count, src, line) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int idmap_allowance_load(const char *subuid_path, const char *subgid_path, uid_t uid, const char *user,
                         IdmapAllowance **ret, WarrenError *reterr) {
        _cleanup_idmap_allowance_ IdmapAllowance *a = calloc(1, sizeof(IdmapAllowance));
        if (!a)
                return -ENOMEM;
        a->uid = uid;
        if ((user && !(a->user = strdup(user))) || strv_extend(&a->sources, subuid_path) < 0 ||
            strv_extend(&a->sources, subgid_path) < 0)
                return -ENOMEM;
        int r = parse_subid(a, IDMAP_UID, subuid_path, reterr);
        if (r < 0)
                return r;
        r = parse_subid(a, IDMAP_GID, subgid_path, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

int idmap_allowance_add(IdmapAllowance *a, IdmapKind kind, const char *who, uint32_t start, uint32_t count,
                        const char *source) {
        if (count == 0 || (uint64_t) start + count > UINT32_MAX)
                return -EINVAL;
        size_t src = source_index(a, source);
        if (src == SIZE_MAX)
                return -ENOMEM;
        for (IdmapKind k = IDMAP_UID; k <= IDMAP_GID; k <<= 1)
                if ((kind & k) && add_range(a, k, who ?: a->user ?: "", !who, start, count, src, 0) < 0)
                        return -ENOMEM;
        return 0;
}

bool idmap_allowance_has_range(const IdmapAllowance *a, IdmapKind kind) {
        for (size_t i = 0; i < a->n; i++)
                if (a->ranges[i].own && a->ranges[i].kind == kind)
                        return true;
        return false;
}

static char *owner_text(const IdmapAllowance *a) {
        char *s = NULL;
        int r = a->user ? asprintf(&s, "user %s (uid %u)", a->user, (unsigned) a->uid)
                        : asprintf(&s, "user %u", (unsigned) a->uid);
        return r < 0 ? NULL : s;
}

/* "/etc/subuid", or "/etc/subuid or /etc/warren/warren.conf" if the owner
 * has ranges of kind from elsewhere too. */
static char *sources_text(const IdmapAllowance *a, IdmapKind kind) {
        _cleanup_strv_free_ char **l = NULL;
        if (strv_extend(&l, a->sources[kind == IDMAP_UID ? 0 : 1]) < 0)
                return NULL;
        for (size_t i = 0; i < a->n; i++) {
                const SubRange *r = &a->ranges[i];
                if (r->own && r->kind == kind && !strv_contains(l, a->sources[r->source]) &&
                    strv_extend(&l, a->sources[r->source]) < 0)
                        return NULL;
        }
        return strv_join(l, " or ");
}

static char *own_ranges_text(const IdmapAllowance *a, IdmapKind kind) {
        _cleanup_free_ char *s = strdup("");
        size_t shown = 0;
        for (size_t i = 0; s && i < a->n; i++) {
                const SubRange *r = &a->ranges[i];
                if (!r->own || r->kind != kind)
                        continue;
                char *n = NULL;
                if (shown++ == 8) {
                        if (asprintf(&n, "%s, ...", s) < 0)
                                return NULL;
                        free(s);
                        return n;
                }
                if (asprintf(&n, "%s%s%u-%" PRIu64, s, *s ? ", " : "", r->start,
                             (uint64_t) r->start + r->count - 1) < 0)
                        return NULL;
                free(s);
                s = n;
        }
        return TAKE_PTR(s);
}

static int check_kind(const IdmapAllowance *a, const IdmapLine *l, IdmapKind kind, WarrenError *reterr) {
        uint64_t lo = l->hostid, hi = (uint64_t) l->hostid + l->count - 1;
        bool inside = false, any = false;
        for (size_t i = 0; i < a->n; i++) {
                const SubRange *r = &a->ranges[i];
                if (!r->own || r->kind != kind)
                        continue;
                any = true;
                if (lo >= r->start && hi < (uint64_t) r->start + r->count)
                        inside = true;
        }
        _cleanup_free_ char *line = idmap_line_format(l), *who = owner_text(a), *src = sources_text(a, kind);
        if (!line || !who || !src)
                return -ENOMEM;
        if (!any)
                return warren_error_set(reterr, EPERM, "lxc.idmap '%s': %s has no range in %s", line, who,
                                        src);
        if (!inside) {
                _cleanup_free_ char *ranges = own_ranges_text(a, kind);
                if (!ranges)
                        return -ENOMEM;
                return warren_error_set(reterr, EPERM,
                                        "lxc.idmap '%s': host %s %" PRIu64 "-%" PRIu64
                                        " are not inside a range of %s in %s (%s's ranges: %s)",
                                        line, kind_ids(kind), lo, hi, who, src, a->user ?: who, ranges);
        }
        for (size_t i = 0; i < a->n; i++) {
                const SubRange *r = &a->ranges[i];
                if (r->own || r->kind != kind || !ranges_overlap(lo, l->count, r->start, r->count))
                        continue;
                char where[32] = "";
                if (r->line > 0)
                        snprintf(where, sizeof where, " (line %u)", r->line);
                return warren_error_set(reterr, EPERM,
                                        "lxc.idmap '%s': host %s %" PRIu64 "-%" PRIu64
                                        " overlap range %u-%" PRIu64 " of user %s in %s%s",
                                        line, kind_ids(kind), lo, hi, r->start,
                                        (uint64_t) r->start + r->count - 1, r->who, a->sources[r->source],
                                        where);
        }
        return 0;
}

int idmap_allowance_check_line(const IdmapAllowance *a, const IdmapLine *l, WarrenError *reterr) {
        for (IdmapKind k = IDMAP_UID; k <= IDMAP_GID; k <<= 1)
                if (l->kind & k) {
                        int r = check_kind(a, l, k, reterr);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int idmap_allowance_check(const IdmapAllowance *a, const Idmap *m, WarrenError *reterr) {
        int r = idmap_verify(m, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n; i++) {
                r = idmap_allowance_check_line(a, &m->lines[i], reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int idmap_default_map(const IdmapAllowance *a, Idmap **ret, WarrenError *reterr) {
        _cleanup_idmap_ Idmap *m = idmap_new();
        if (!m)
                return -ENOMEM;
        for (IdmapKind k = IDMAP_UID; k <= IDMAP_GID; k <<= 1) {
                WarrenError first = WARREN_ERROR_NULL;
                bool found = false;
                for (size_t i = 0; i < a->n && !found; i++) {
                        const SubRange *r = &a->ranges[i];
                        if (!r->own || r->kind != k || r->count < IDMAP_DEFAULT_COUNT)
                                continue;
                        IdmapLine l = { k, 0, r->start, IDMAP_DEFAULT_COUNT };
                        WarrenError e = WARREN_ERROR_NULL;
                        int q = idmap_allowance_check_line(a, &l, &e);
                        if (q == -ENOMEM) {
                                warren_error_clear(&e);
                                warren_error_clear(&first);
                                return q;
                        }
                        if (q < 0) {
                                if (first.error == 0)
                                        first = e;
                                else
                                        warren_error_clear(&e);
                                continue;
                        }
                        if (idmap_add(m, &l) < 0) {
                                warren_error_clear(&first);
                                return -ENOMEM;
                        }
                        found = true;
                }
                if (found) {
                        warren_error_clear(&first);
                        continue;
                }
                if (first.error != 0) {
                        int q = warren_error_set(reterr, first.error, "%s", warren_error_message(&first));
                        warren_error_clear(&first);
                        return q;
                }
                _cleanup_free_ char *who = owner_text(a), *src = sources_text(a, k);
                if (!who || !src)
                        return -ENOMEM;
                return warren_error_set(reterr, EPERM, "U%s has no range of at least %u ids in %s", who + 1,
                                        IDMAP_DEFAULT_COUNT, src);
        }
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- Shifting ownership ---- */

static bool no_xattr(int err) {
        return err == ENODATA || err == ENOTSUP || err == EOPNOTSUPP;
}

#define SHIFT_MAX_DEPTH 256U

/* Inodes with more than one link already shifted (open addressing; a slot
 * holds ino + 1, 0 is empty). One filesystem only, so the inode suffices. */
typedef struct InoSet {
        uint64_t *slots;
        size_t size, n;
} InoSet;

static int ino_set_add(InoSet *s, uint64_t ino) {
        if (2 * (s->n + 1) > s->size) {
                size_t size = s->size ? s->size * 2 : 64;
                uint64_t *slots = calloc(size, sizeof(uint64_t));
                if (!slots)
                        return -ENOMEM;
                for (size_t i = 0; i < s->size; i++)
                        if (s->slots[i]) {
                                size_t j = (size_t) (s->slots[i] * 0x9E3779B97F4A7C15ULL) & (size - 1);
                                while (slots[j])
                                        j = (j + 1) & (size - 1);
                                slots[j] = s->slots[i];
                        }
                free(s->slots);
                s->slots = slots;
                s->size = size;
        }
        uint64_t key = ino + 1;
        size_t j = (size_t) (key * 0x9E3779B97F4A7C15ULL) & (s->size - 1);
        for (; s->slots[j]; j = (j + 1) & (s->size - 1))
                if (s->slots[j] == key)
                        return 0;
        s->slots[j] = key;
        s->n++;
        return 1;
}

typedef struct ShiftCtx {
        const Idmap *map;
        bool reverse;
        bool no_openat2;
        dev_t dev;
        InoSet seen;
        int count;
        WarrenError *e;
} ShiftCtx;

static int shift_id(const ShiftCtx *s, IdmapKind kind, uint32_t id, uint32_t *ret, const char *path,
                    const char *what) {
        int r = s->reverse ? idmap_from_host(s->map, kind, id, ret) : idmap_to_host(s->map, kind, id, ret);
        if (r < 0)
                return warren_error_set(
                        s->e, ERANGE,
                        "Cannot shift the ownership of '%s': %s %u is not mapped by the id map", path, what,
                        id);
        return 0;
}

static uint32_t get_le32(const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return le32toh(v);
}

static void put_le32(uint8_t *p, uint32_t v) {
        v = htole32(v);
        memcpy(p, &v, sizeof v);
}

/* security.capability: VFS_CAP_REVISION_1 (12 bytes), _2 (20), _3 (24,
 * with the uid of the namespace root it is valid for). */
#define CAP_REV_MASK 0xFF000000U
#define CAP_REV_1 0x01000000U
#define CAP_REV_2 0x02000000U
#define CAP_REV_3 0x03000000U
#define CAP_FLAG_EFFECTIVE 0x000001U

static int shift_caps(const ShiftCtx *s, uint8_t *buf, size_t len, size_t *ret_len, const char *path) {
        uint32_t magic = len >= 4 ? get_le32(buf) : 0, rev = magic & CAP_REV_MASK, rootid = 0, new_rootid;
        size_t want = rev == CAP_REV_1 ? 12 : rev == CAP_REV_2 ? 20 : rev == CAP_REV_3 ? 24 : 0;
        if (want == 0 || len != want)
                return warren_error_set(s->e, EINVAL, "Invalid security.capability on '%s' (%zu bytes)",
                                        path, len);
        if (rev == CAP_REV_3)
                rootid = get_le32(buf + 20);
        else if (s->reverse) {
                /* Valid in the initial namespace only: nothing to shift. */
                *ret_len = len;
                return 0;
        }
        int r = shift_id(s, IDMAP_UID, rootid, &new_rootid, path, "the capability root uid");
        if (r < 0)
                return r;
        if (rev == CAP_REV_1)
                memset(buf + 12, 0, 8);
        if (s->reverse && new_rootid == 0) {
                put_le32(buf, CAP_REV_2 | (magic & CAP_FLAG_EFFECTIVE));
                *ret_len = 20;
                return 0;
        }
        put_le32(buf, CAP_REV_3 | (magic & CAP_FLAG_EFFECTIVE));
        put_le32(buf + 20, new_rootid);
        *ret_len = 24;
        return 0;
}

/* POSIX ACL xattr: a le32 version (2), then entries {le16 tag, le16 perm,
 * le32 id}; only ACL_USER and ACL_GROUP entries carry an id. */
#define ACL_XATTR_VERSION 0x0002U
#define ACL_TAG_USER 0x02U
#define ACL_TAG_GROUP 0x08U

static int shift_acl(const ShiftCtx *s, int fd, const char *attr, const char *path) {
        ssize_t size = fgetxattr(fd, attr, NULL, 0);
        if (size < 0)
                return no_xattr(errno)
                               ? 0
                               : warren_error_set(s->e, errno, "Failed to read %s of '%s': %m", attr, path);
        _cleanup_free_ uint8_t *buf = malloc((size_t) size + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t len = fgetxattr(fd, attr, buf, (size_t) size);
        if (len < 0)
                return warren_error_set(s->e, errno, "Failed to read %s of '%s': %m", attr, path);
        if (len < 4 || (len - 4) % 8 != 0 || get_le32(buf) != ACL_XATTR_VERSION)
                return warren_error_set(s->e, EINVAL, "Invalid %s on '%s'", attr, path);
        bool changed = false;
        for (ssize_t o = 4; o < len; o += 8) {
                uint16_t tag = (uint16_t) (buf[o] | buf[o + 1] << 8);
                if (tag != ACL_TAG_USER && tag != ACL_TAG_GROUP)
                        continue;
                uint32_t id = get_le32(buf + o + 4), new_id;
                bool user = tag == ACL_TAG_USER;
                int r = shift_id(s, user ? IDMAP_UID : IDMAP_GID, id, &new_id, path,
                                 user ? "the ACL entry of uid" : "the ACL entry of gid");
                if (r < 0)
                        return r;
                changed = changed || new_id != id;
                put_le32(buf + o + 4, new_id);
        }
        if (changed && fsetxattr(fd, attr, buf, (size_t) len, 0) < 0)
                return warren_error_set(s->e, errno, "Failed to write %s of '%s': %m", attr, path);
        return 0;
}

static int open_entry(ShiftCtx *s, int dfd, const char *name, int flags, bool root) {
        /* The root's own path is the caller's: it may pass through symlinks. */
        if (!root && !s->no_openat2) {
                struct open_how how = {
                        .flags = (uint64_t) flags,
                        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
                };
                int fd = (int) syscall(SYS_openat2, dfd, name, &how, sizeof how);
                if (fd >= 0 || errno != ENOSYS)
                        return fd < 0 ? -errno : fd;
                s->no_openat2 = true;
        }
        /* Without openat2() the st_dev check alone keeps us on one filesystem. */
        int fd = openat(dfd, name, flags);
        return fd < 0 ? -errno : fd;
}

static int list_dir(int fd, char ***ret) {
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0, alloc = 0;
        int r = 0;
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        r = errno > 0 ? -errno : 0;
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n + 2 > alloc) {
                        alloc = alloc ? alloc * 2 : 16;
                        char **nl = reallocarray(names, alloc, sizeof(char *));
                        if (!nl) {
                                r = -ENOMEM;
                                break;
                        }
                        names = nl;
                }
                names[n] = strdup(de->d_name);
                names[n + 1] = NULL;
                if (!names[n]) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        return 0;
}

static int shift_tree(ShiftCtx *s, int dfd, const char *name, const char *path, unsigned depth) {
        struct stat st, st2;
        if (depth > SHIFT_MAX_DEPTH)
                return warren_error_set(s->e, ELOOP,
                                        "Cannot shift the ownership of '%s': more than %u levels deep", path,
                                        SHIFT_MAX_DEPTH);
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT && depth > 0)
                        return 0;
                return warren_error_set(s->e, errno, "Failed to stat '%s': %m", path);
        }
        if (depth == 0) {
                if (S_ISLNK(st.st_mode))
                        return warren_error_set(s->e, ELOOP,
                                                "Cannot shift the ownership of '%s': it is a symbolic link",
                                                path);
                if (!S_ISDIR(st.st_mode))
                        return warren_error_set(s->e, ENOTDIR,
                                                "Cannot shift the ownership of '%s': not a directory", path);
                s->dev = st.st_dev;
        } else if (st.st_dev != s->dev)
                return 0; /* another filesystem mounted here */

        int flags = O_NOFOLLOW | O_CLOEXEC;
        flags |= S_ISDIR(st.st_mode)   ? O_RDONLY | O_DIRECTORY
                 : S_ISREG(st.st_mode) ? O_RDONLY | O_NONBLOCK | O_NOCTTY
                                       : O_PATH;
        _cleanup_close_ int fd = open_entry(s, dfd, name, flags, depth == 0);
        if (fd == -EXDEV)
                return 0; /* a mount point: neither re-owned nor entered */
        if (fd < 0)
                return warren_error_set(s->e, fd, "Failed to open '%s': %s", path, strerror(-fd));
        if (fstat(fd, &st2) < 0)
                return warren_error_set(s->e, errno, "Failed to stat '%s': %m", path);
        if (st2.st_ino != st.st_ino || st2.st_dev != st.st_dev ||
            (st2.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
                return warren_error_set(s->e, EBUSY, "'%s' changed while its ownership was shifted", path);
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                int r = ino_set_add(&s->seen, (uint64_t) st.st_ino);
                if (r <= 0)
                        return r; /* another link of it was done */
        }

        uint32_t uid, gid;
        int r = shift_id(s, IDMAP_UID, st.st_uid, &uid, path, "uid");
        if (r >= 0)
                r = shift_id(s, IDMAP_GID, st.st_gid, &gid, path, "gid");
        if (r < 0)
                return r;

        uint8_t caps[24];
        ssize_t caps_len = -1;
        if (S_ISREG(st.st_mode)) {
                caps_len = fgetxattr(fd, "security.capability", caps, sizeof caps);
                if (caps_len < 0 && !no_xattr(errno))
                        return warren_error_set(s->e, errno,
                                                "Failed to read security.capability of '%s': %m", path);
        }
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                r = shift_acl(s, fd, "system.posix_acl_access", path);
                if (r >= 0 && S_ISDIR(st.st_mode))
                        r = shift_acl(s, fd, "system.posix_acl_default", path);
                if (r < 0)
                        return r;
        }

        if (uid != st.st_uid || gid != st.st_gid) {
                if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                        return warren_error_set(s->e, errno,
                                                "Failed to change the owner of '%s' to %u:%u: %m", path, uid,
                                                gid);
                if (s->count < INT_MAX)
                        s->count++;
                /* chown() cleared these; the file is the same program for the container. */
                if (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) &&
                    fchmod(fd, st.st_mode & 07777) < 0)
                        return warren_error_set(s->e, errno, "Failed to restore the mode %04o of '%s': %m",
                                                (unsigned) (st.st_mode & 07777), path);
                size_t len = 0;
                if (caps_len > 0) {
                        r = shift_caps(s, caps, (size_t) caps_len, &len, path);
                        if (r < 0)
                                return r;
                        if (fsetxattr(fd, "security.capability", caps, len, 0) < 0)
                                return warren_error_set(
                                        s->e, errno, "Failed to restore the file capabilities of '%s': %m",
                                        path);
                }
        }

        if (!S_ISDIR(st.st_mode))
                return 0;
        _cleanup_strv_free_ char **names = NULL;
        r = list_dir(fd, &names);
        if (r < 0)
                return warren_error_set(s->e, r, "Failed to read the directory '%s': %s", path,
                                        strerror(-r));
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *child = NULL;
                if (asprintf(&child, "%s/%s", path, *n) < 0)
                        return -ENOMEM;
                r = shift_tree(s, fd, *n, child, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int idmap_shift_ownership(int dirfd, const char *path, const Idmap *m, IdmapShiftFlags flags,
                          WarrenError *reterr) {
        ShiftCtx s = {
                .map = m,
                .reverse = flags & IDMAP_SHIFT_FROM_HOST,
                .e = reterr,
        };
        const char *name = isempty(path) ? "." : path;
        int r = shift_tree(&s, dirfd, name, name, 0);
        free(s.seen.slots);
        return r < 0 ? r : s.count;
}

/* ---- Idmapped mounts ---- */

static void kill_and_reap(pid_t *pid) {
        if (*pid <= 0)
                return;
        (void) kill(*pid, SIGKILL);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                ;
        *pid = 0;
}

static void close_pair(int (*p)[2]) {
        safe_close((*p)[0]);
        safe_close((*p)[1]);
}

int idmap_userns_open(const Idmap *m, WarrenError *reterr) {
        _cleanup_(close_pair) int ready[2] = { -EBADF, -EBADF }, go[2] = { -EBADF, -EBADF };
        int r = idmap_verify(m, reterr);
        if (r < 0)
                return r;
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
                return warren_error_set(reterr, errno, "Failed to create a pipe: %m");

        _cleanup_(kill_and_reap) pid_t pid = fork();
        if (pid < 0)
                return warren_error_set(reterr, errno, "Failed to fork: %m");
        if (pid == 0) {
                /* Only async-signal-safe calls from here. */
                safe_close(ready[0]);
                safe_close(go[1]);
                int err = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
                char c;
                if (write(ready[1], &err, sizeof err) != sizeof err)
                        _exit(EXIT_FAILURE);
                /* Hold the namespace until the parent has opened it (EOF). */
                (void) read(go[0], &c, 1);
                _exit(err ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        ready[1] = safe_close(ready[1]);
        int err = 0;
        ssize_t n;
        do
                n = read(ready[0], &err, sizeof err);
        while (n < 0 && errno == EINTR);
        if (n != sizeof err)
                return warren_error_set(reterr, EPROTO, "The user namespace helper died before reporting");
        if (err != 0)
                return warren_error_set(reterr, err, "Failed to create a user namespace: %s", strerror(err));
        r = idmap_write(pid, m, reterr);
        if (r < 0)
                return r;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open %s: %m", path);
        go[1] = safe_close(go[1]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        pid = 0;
        return TAKE_FD(fd);
}

static const char *fs_name(int fd) {
        static const struct {
                unsigned long magic;
                const char *name;
        } names[] = {
                { EXT4_SUPER_MAGIC, "ext4" },
                { TMPFS_MAGIC, "tmpfs" },
                { XFS_SUPER_MAGIC, "xfs" },
                { BTRFS_SUPER_MAGIC, "btrfs" },
                { OVERLAYFS_SUPER_MAGIC, "overlay" },
                { NFS_SUPER_MAGIC, "nfs" },
                { SQUASHFS_MAGIC, "squashfs" },
                { 0x65735546UL, "fuse" },
                { 0xE0F5E1E2UL, "erofs" },
                { PROC_SUPER_MAGIC, "proc" },
        };
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return "unknown";
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if ((unsigned long) sf.f_type == names[i].magic)
                        return names[i].name;
        return "unknown";
}

int idmap_mount_rootfs(int dirfd, const char *path, const Idmap *m, WarrenError *reterr) {
        const char *shown = isempty(path) ? "." : path;
        _cleanup_close_ int tree =
                open_tree(dirfd, strempty(path),
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (isempty(path) ? AT_EMPTY_PATH : 0));
        if (tree < 0) {
                if (errno == ENOSYS)
                        return warren_error_set(reterr, EOPNOTSUPP,
                                                "Cannot idmap '%s': no open_tree() (Linux 5.2)", shown);
                return warren_error_set(reterr, errno, "Failed to clone the mount of '%s': %m", shown);
        }
        _cleanup_close_ int userns = idmap_userns_open(m, reterr);
        if (userns < 0)
                return userns;
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_IDMAP,
                .userns_fd = (uint64_t) userns,
        };
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
                if (errno == ENOSYS || errno == E2BIG)
                        return warren_error_set(
                                reterr, EOPNOTSUPP,
                                "Cannot idmap '%s': the kernel has no idmapped mounts (Linux 5.12)", shown);
                if (errno == EINVAL)
                        return warren_error_set(
                                reterr, EINVAL,
                                "Cannot idmap '%s': its filesystem (%s) does not support idmapped mounts",
                                shown, fs_name(tree));
                return warren_error_set(reterr, errno, "Failed to idmap the mount of '%s': %m", shown);
        }
        log_debug("Idmapped mount of '%s' (%s)", shown, fs_name(tree));
        return TAKE_FD(tree);
}
