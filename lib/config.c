/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-check.h"
#include "config-keys.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

/* Files one parse may open (includes), and bytes it may read in all. */
#define MAX_INCLUDE_FILES 1024U
#define MAX_TOTAL_BYTES (8U * LXC_CONFIG_MAX_SIZE)
#define DEFAULT_MAX_DEPTH 16U
#define MAX_MAX_DEPTH 255U

typedef struct Item {
        char *key; /* one allocation: key, NUL, value, NUL */
        char *value;
        uint32_t hash;
        int16_t nic;   /* N of lxc.net.N.*, else -1 */
        uint8_t group; /* LxcKeyGroup */
        bool included; /* read from an included file */
} Item;

struct LxcConfig {
        Item *items;
        size_t n, alloc;
};

static uint32_t key_hash(const char *s) {
        uint32_t h = 2166136261U;
        for (; *s; s++)
                h = (h ^ (uint8_t) *s) * 16777619U;
        return h;
}

static int item_init(Item *it, const char *key, const char *value, const LxcKey *k) {
        size_t kl = strlen(key), vl = strlen(value);
        char *buf = malloc(kl + vl + 2);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, key, kl + 1);
        memcpy(buf + kl + 1, value, vl + 1);
        *it = (Item){
                .key = buf,
                .value = buf + kl + 1,
                .hash = key_hash(key),
                .nic = (int16_t) (k ? k->nic : -1),
                .group = k ? k->info->group : LXC_GROUP_NONE,
        };
        return 0;
}

LxcConfig *lxc_config_new(void) {
        return calloc(1, sizeof(LxcConfig));
}

static void config_clear(LxcConfig *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->items[i].key);
        free(c->items);
        c->items = NULL;
        c->n = c->alloc = 0;
}

LxcConfig *lxc_config_free(LxcConfig *c) {
        if (!c)
                return NULL;
        config_clear(c);
        free(c);
        return NULL;
}

LxcConfig *lxc_config_copy(const LxcConfig *c) {
        _cleanup_lxc_config_ LxcConfig *n = lxc_config_new();
        if (!n)
                return NULL;
        if (c->n == 0)
                return TAKE_PTR(n);
        n->items = calloc(c->n, sizeof(Item));
        if (!n->items)
                return NULL;
        n->alloc = c->n;
        for (size_t i = 0; i < c->n; i++) {
                const Item *s = &c->items[i];
                size_t kl = strlen(s->key), vl = strlen(s->value);
                char *buf = malloc(kl + vl + 2);
                if (!buf)
                        return NULL;
                memcpy(buf, s->key, kl + vl + 2);
                n->items[i] = *s;
                n->items[i].key = buf;
                n->items[i].value = buf + kl + 1;
                n->n++;
        }
        return TAKE_PTR(n);
}

static int config_reserve(LxcConfig *c, size_t extra) {
        if (c->n + extra <= c->alloc)
                return 0;
        if (c->n + extra > LXC_CONFIG_MAX_ITEMS)
                return -E2BIG;
        size_t na = MAX(c->alloc * 2, (size_t) 32);
        na = MIN(MAX(na, c->n + extra), (size_t) LXC_CONFIG_MAX_ITEMS);
        Item *ni = realloc(c->items, na * sizeof(Item));
        if (!ni)
                return -ENOMEM;
        c->items = ni;
        c->alloc = na;
        return 0;
}

typedef bool (*ItemMatch)(const Item *it, const void *userdata);

static size_t config_remove_if(LxcConfig *c, ItemMatch match, const void *userdata) {
        size_t j = 0, removed = 0;
        for (size_t i = 0; i < c->n; i++) {
                if (match(&c->items[i], userdata)) {
                        free(c->items[i].key);
                        removed++;
                } else
                        c->items[j++] = c->items[i];
        }
        c->n = j;
        return removed;
}

typedef struct KeyMatch {
        const char *key;
        uint32_t hash;
} KeyMatch;

static bool match_key(const Item *it, const void *userdata) {
        const KeyMatch *m = userdata;
        return it->hash == m->hash && streq(it->key, m->key);
}

static bool match_nic(const Item *it, const void *userdata) {
        return it->nic == *(const int *) userdata;
}

static bool match_group(const Item *it, const void *userdata) {
        return it->group == *(const uint8_t *) userdata;
}

static bool match_empty(const Item *it, const void *userdata) {
        return it->value[0] == 0;
}

static size_t remove_key(LxcConfig *c, const char *key) {
        KeyMatch m = { key, key_hash(key) };
        return config_remove_if(c, match_key, &m);
}

static bool config_has_include(const LxcConfig *c) {
        uint32_t h = key_hash("lxc.include");
        for (size_t i = 0; i < c->n; i++)
                if (c->items[i].hash == h && c->items[i].value[0] && streq(c->items[i].key, "lxc.include"))
                        return true;
        return false;
}

/* An empty item records a clear. It only matters while an unexpanded
 * lxc.include precedes it (the included file may set what it clears), so it
 * is kept only then, and dropped when the last include goes. */
static void drop_clears_if_no_include(LxcConfig *c) {
        if (!config_has_include(c))
                config_remove_if(c, match_empty, NULL);
}

/* Applies a resolved key (canonical name) with an already checked value.
 * Allocates before it removes anything, so a failure leaves c unchanged. */
static int config_set(LxcConfig *c, const char *name, const LxcKey *k, const char *value, bool included,
                      WarrenError *e) {
        bool empty = value[0] == 0;
        bool record = !empty || (config_has_include(c) && !streq(name, "lxc.include"));
        Item it = {};
        int r;

        if (record) {
                r = config_reserve(c, 1);
                if (r == -E2BIG)
                        return warren_error_set(e, r, "too many items, the limit is %u",
                                                LXC_CONFIG_MAX_ITEMS);
                if (r < 0)
                        return r;
                r = item_init(&it, name, value, k);
                if (r < 0)
                        return r;
                it.included = included;
        }

        if (k->info->kind == LXC_KIND_CLEAR && k->nic >= 0)
                config_remove_if(c, match_nic, &k->nic); /* lxc.net.N = */
        else if (k->info->kind == LXC_KIND_CLEAR)
                config_remove_if(c, match_group, &k->info->group);
        else if (k->nic >= 0 && streq(k->info->name, "type"))
                /* lxc.net.N.type starts NIC N afresh. */
                config_remove_if(c, match_nic, &k->nic);
        else if (empty || k->info->kind == LXC_KIND_SCALAR)
                remove_key(c, name);

        if (record)
                c->items[c->n++] = it;
        if (empty && streq(name, "lxc.include"))
                drop_clears_if_no_include(c);
        return 0;
}

static unsigned config_net_count(const LxcConfig *c) {
        int max = -1;
        for (size_t i = 0; i < c->n; i++)
                if (c->items[i].nic > max && c->items[i].value[0])
                        max = c->items[i].nic;
        return (unsigned) (max + 1);
}

unsigned lxc_config_net_count(const LxcConfig *c) {
        return config_net_count(c);
}

/* LXC's default.conf has "hwaddr = 00:16:3e:xx:xx:xx": each x becomes a
 * random hex digit. Only the first word: whatever follows is no address. */
static void fill_hwaddr(char *v) {
        static const char hex[] = "0123456789abcdef";
        uint8_t rnd[64];
        size_t n = strcspn(v, " \t");

        if (n > sizeof(rnd))
                n = sizeof(rnd);
        if (getrandom(rnd, n, GRND_NONBLOCK) != (ssize_t) n)
                for (size_t i = 0; i < n; i++)
                        rnd[i] = (uint8_t) random();
        for (size_t i = 0; i < n; i++) {
                if (v[i] != 'x' && v[i] != 'X')
                        continue;
                /* The low nibble of the first octet: unicast, locally administered. */
                v[i] = i == 1 ? hex[(rnd[i] & 0x0c) | 0x02] : hex[rnd[i] & 0x0f];
        }
}

static bool value_chars_ok(const char *v) {
        for (const unsigned char *p = (const unsigned char *) v; *p; p++)
                if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
                        return false;
        return true;
}

/* ---- Paths for lxc.include ---- */

/* Lexical: collapses "//", "." and ".."; ".." never climbs above "/". */
static char *path_normalize(const char *path) {
        bool abs = path[0] == '/';
        size_t len = strlen(path);
        _cleanup_free_ char *out = malloc(len + 3);
        if (!out)
                return NULL;
        size_t o = 0;
        if (abs)
                out[o++] = '/';
        size_t base = o;    /* the start of the components, never backed over */
        size_t dotdots = 0; /* leading ".." of a relative path */

        for (const char *p = path; *p;) {
                p += strspn(p, "/");
                size_t n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (n == 1 && p[0] == '.') {
                        p += n;
                        continue;
                }
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (o > base + dotdots * 3) {
                                /* Drop the last component. */
                                while (o > base && out[o - 1] != '/')
                                        o--;
                                if (o > base)
                                        o--;
                                p += n;
                                continue;
                        }
                        if (abs) {
                                p += n;
                                continue;
                        }
                        dotdots++;
                }
                if (o > base)
                        out[o++] = '/';
                memcpy(out + o, p, n);
                o += n;
                p += n;
        }
        if (o == 0)
                out[o++] = '.';
        out[o] = 0;
        return TAKE_PTR(out);
}

static char *path_dirname(const char *path) {
        const char *s = strrchr(path, '/');
        if (!s)
                return strdup(".");
        if (s == path)
                return strdup("/");
        return strndup(path, (size_t) (s - path));
}

static char *path_join(const char *a, const char *b) {
        char *r = NULL;
        size_t al = strlen(a);
        if (asprintf(&r, "%s%s%s", a, al > 0 && a[al - 1] == '/' ? "" : "/", b) < 0)
                return NULL;
        return r;
}

static bool path_under(const char *path, const char *dir) {
        size_t n = strlen(dir);
        if (streq(dir, "/"))
                return path[0] == '/';
        return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* ---- Parsing ---- */

typedef struct Frame {
        const struct Frame *parent;
        const char *display;     /* file name in messages */
        const char *logical_dir; /* for relative includes and include_allow */
        const char *real_dir;
        dev_t dev;
        ino_t ino;
} Frame;

typedef struct ParseCtx {
        const LxcParseOptions *opts;
        unsigned max_depth;
        unsigned n_files;
        size_t total_bytes;
        bool located; /* the error recorded already says FILE:LINE */
} ParseCtx;

static int fail_errno(WarrenError *e, int err, const char *what, const char *path) {
        return warren_error_set(e, err, "%s '%s': %s", what, path, strerror(err));
}

static int parse_text(LxcConfig *c, ParseCtx *ctx, const Frame *f, unsigned depth, const char *text,
                      size_t len, WarrenError *e);

static int parse_file(LxcConfig *c, ParseCtx *ctx, const Frame *parent, unsigned depth, const char *logical,
                      const char *real, WarrenError *e) {
        _cleanup_free_ char *buf = NULL, *ldir = NULL, *rdir = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t size;
        int r;

        if (depth > ctx->max_depth)
                return warren_error_set(e, ELOOP, "includes nested deeper than %u at '%s'", ctx->max_depth,
                                        real);
        if (++ctx->n_files > MAX_INCLUDE_FILES)
                return warren_error_set(e, E2BIG, "more than %u included files at '%s'", MAX_INCLUDE_FILES,
                                        real);

        fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return fail_errno(e, errno, "cannot open", real);
        if (fstat(fd, &st) < 0)
                return fail_errno(e, errno, "cannot stat", real);
        if (S_ISDIR(st.st_mode))
                return warren_error_set(e, EISDIR, "cannot read '%s': is a directory", real);
        for (const Frame *p = parent; p; p = p->parent)
                if (p->dev == st.st_dev && p->ino == st.st_ino)
                        return warren_error_set(e, ELOOP, "include loop: '%s' includes itself (via '%s')",
                                                real, p->display);

        r = read_full_fd(fd, LXC_CONFIG_MAX_SIZE, &buf, &size);
        if (r == -EFBIG)
                return warren_error_set(e, r, "'%s' is larger than %u bytes", real, LXC_CONFIG_MAX_SIZE);
        if (r < 0)
                return fail_errno(e, -r, "cannot read", real);
        ctx->total_bytes += size;
        if (ctx->total_bytes > MAX_TOTAL_BYTES)
                return warren_error_set(e, E2BIG, "included files exceed %u bytes in all at '%s'",
                                        MAX_TOTAL_BYTES, real);

        ldir = path_dirname(logical);
        rdir = path_dirname(real);
        if (!ldir || !rdir)
                return -ENOMEM;
        Frame f = {
                .parent = parent,
                .display = real,
                .logical_dir = ldir,
                .real_dir = rdir,
                .dev = st.st_dev,
                .ino = st.st_ino,
        };
        log_debug("Reading LXC config '%s'", real);
        return parse_text(c, ctx, &f, depth, buf, size, e);
}

static int dirent_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int include_dir(LxcConfig *c, ParseCtx *ctx, const Frame *f, unsigned depth, const char *logical,
                       const char *real, WarrenError *e) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        size_t n_names = 0;
        int r;

        _cleanup_close_ int fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : fail_errno(e, errno, "cannot open directory", real);
        d = fdopendir(fd);
        if (!d)
                return fail_errno(e, errno, "cannot open directory", real);
        (void) TAKE_FD(fd);
        for (struct dirent *de; (de = readdir(d));) {
                size_t n = strlen(de->d_name);
                if (n < 6 || !streq(de->d_name + n - 5, ".conf"))
                        continue;
                if (++n_names > MAX_INCLUDE_FILES)
                        return warren_error_set(e, E2BIG, "more than %u files in '%s'", MAX_INCLUDE_FILES,
                                                real);
                r = strv_extend(&names, de->d_name);
                if (r < 0)
                        return r;
        }

        if (n_names > 1)
                qsort(names, n_names, sizeof(char *), dirent_cmp);
        STRV_FOREACH(name, names) {
                _cleanup_free_ char *l = path_join(logical, *name), *p = path_join(real, *name);
                if (!l || !p)
                        return -ENOMEM;
                r = parse_file(c, ctx, f, depth + 1, l, p, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* lxc.include in EXPAND mode (expand) or a check of its path (KEEP mode). */
static int do_include(LxcConfig *c, ParseCtx *ctx, const Frame *f, unsigned depth, const char *value,
                      bool expand, WarrenError *e) {
        _cleanup_free_ char *logical = NULL, *real = NULL, *joined = NULL;
        const LxcParseOptions *o = ctx->opts;
        bool abs = value[0] == '/';

        if (abs)
                logical = path_normalize(value);
        else {
                joined = path_join(f->logical_dir, value);
                logical = joined ? path_normalize(joined) : NULL;
        }
        if (!logical)
                return -ENOMEM;

        if (o && o->include_allow) {
                bool ok = false;
                STRV_FOREACH(a, o->include_allow) {
                        _cleanup_free_ char *d = path_normalize(*a);
                        if (!d)
                                return -ENOMEM;
                        if (path_under(logical, d)) {
                                ok = true;
                                break;
                        }
                }
                if (!ok)
                        return warren_error_set(e, EPERM, "include '%s' is outside the allowed directories",
                                                value);
        }
        if (!expand)
                return 0;

        if (abs && o && !isempty(o->root)) {
                real = path_join(o->root, logical + 1);
        } else if (abs)
                real = strdup(logical);
        else {
                free(joined);
                joined = path_join(f->real_dir, value);
                real = joined ? path_normalize(joined) : NULL;
        }
        if (!real)
                return -ENOMEM;

        struct stat st;
        bool want_dir = value[strlen(value) - 1] == '/';
        if (stat(real, &st) < 0) {
                if (errno == ENOENT && want_dir)
                        return 0; /* like LXC: a missing include directory is fine */
                return fail_errno(e, errno, "cannot include", value);
        }
        if (S_ISDIR(st.st_mode))
                return include_dir(c, ctx, f, depth, logical, real, e);
        return parse_file(c, ctx, f, depth + 1, logical, real, e);
}

/* Errors from inside an included file already name that file and line. */
static int error_at(ParseCtx *ctx, WarrenError *e, int r, const Frame *f, unsigned line) {
        if (e->error == 0)
                warren_error_set(e, r, "%s", strerror(-r));
        if (!ctx->located)
                warren_error_prefix(e, "%s:%u", f->display, line);
        ctx->located = true;
        return r;
}

/* One "key = value" line: resolve, check, then apply or include. */
static int apply_line(LxcConfig *c, ParseCtx *ctx, const Frame *f, unsigned depth, const char *key,
                      char *value, WarrenError *e) {
        _cleanup_free_ char *name = NULL;
        LxcKey k;
        bool is_type;
        int r, nic = -1;

        if (lxc_key_is_legacy_net(key, &is_type)) {
                /* Un-indexed legacy keys: lxc.network.type starts the next NIC,
                 * the others go to the last one. */
                nic = (int) config_net_count(c);
                if (!is_type)
                        nic--;
        }
        r = lxc_key_resolve(key, nic, &name, &k, e);
        if (r <= 0)
                return r; /* obsolete keys (lxc.pivotdir, ...) are accepted and dropped */

        if (value[0]) {
                if (k.nic >= 0 && ctx->opts && ctx->opts->fill_hwaddr && streq(k.info->name, "hwaddr"))
                        fill_hwaddr(value);
                r = lxc_value_check(&k, key, value, e);
                if (r < 0)
                        return r;
        }

        if (streq(name, "lxc.include") && value[0]) {
                bool expand = ctx->opts && ctx->opts->include_mode == LXC_INCLUDE_EXPAND;
                r = do_include(c, ctx, f, depth, value, expand, e);
                if (r < 0 || expand)
                        return r;
        } else if (streq(name, "lxc.include") && ctx->opts && ctx->opts->include_mode == LXC_INCLUDE_EXPAND)
                return 0;

        return config_set(c, name, &k, value, depth > 0, e);
}

static void strip_blanks(char **s) {
        char *p = *s + strspn(*s, " \t");
        size_t n = strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
        p[n] = 0;
        *s = p;
}

static int parse_text(LxcConfig *c, ParseCtx *ctx, const Frame *f, unsigned depth, const char *text,
                      size_t len, WarrenError *e) {
        _cleanup_free_ char *buf = NULL;
        size_t buf_alloc = 0;
        unsigned line = 0;
        int r;

        for (const char *p = text, *end = text + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                const char *next = nl ? nl + 1 : end;

                line++;
                if (n > LXC_CONFIG_MAX_LINE)
                        return error_at(ctx, e,
                                        warren_error_set(e, EBADMSG, "line longer than %u bytes",
                                                         LXC_CONFIG_MAX_LINE),
                                        f, line);
                if (n > 0 && p[n - 1] == '\r')
                        n--;
                for (size_t i = 0; i < n; i++) {
                        unsigned char ch = (unsigned char) p[i];
                        if (ch == 0)
                                return error_at(ctx, e,
                                                warren_error_set(e, EBADMSG, "NUL byte in config text"), f,
                                                line);
                        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                                return error_at(ctx, e,
                                                warren_error_set(e, EBADMSG,
                                                                 "binary data (byte 0x%02x) in config text",
                                                                 ch),
                                                f, line);
                }

                const char *s = p;
                size_t skip = 0;
                while (skip < n && (s[skip] == ' ' || s[skip] == '\t')) /* text is not NUL-terminated */
                        skip++;
                p = next;
                if (skip >= n || s[skip] == '#')
                        continue;

                if (n + 1 > buf_alloc) {
                        char *nb = realloc(buf, n + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        buf_alloc = n + 1;
                }
                memcpy(buf, s, n);
                buf[n] = 0;

                char *key = buf + skip;
                if (strncmp(key, "lxc.", 4) != 0)
                        return error_at(ctx, e,
                                        warren_error_set(e, EBADMSG,
                                                         "invalid line '%.64s': expected 'lxc.KEY = VALUE'",
                                                         key),
                                        f, line);
                char *eq = strchr(key, '=');
                if (!eq)
                        return error_at(ctx, e,
                                        warren_error_set(e, EBADMSG, "missing '=' in line '%.64s'", key), f,
                                        line);
                *eq = 0;
                char *value = eq + 1;
                strip_blanks(&key);
                strip_blanks(&value);
                /* Like LXC: one pair of matching quotes around the value goes. */
                size_t vl = strlen(value);
                if (vl > 1 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
                        value[vl - 1] = 0;
                        value++;
                }

                r = apply_line(c, ctx, f, depth, key, value, e);
                if (r < 0)
                        return error_at(ctx, e, r, f, line);
        }
        return 0;
}

static void config_swap(LxcConfig *a, LxcConfig *b) {
        LxcConfig t = *a;
        *a = *b;
        *b = t;
}

static void error_move(WarrenError *reterr, WarrenError *e, int r) {
        if (e->error == 0)
                warren_error_set(e, r, "%s", strerror(-r));
        if (reterr)
                warren_error_set(reterr, e->error, "%s", warren_error_message(e));
}

static int parse_start(LxcConfig *c, const LxcParseOptions *opts, const char *path, const char *text,
                       size_t len, const char *filename, WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *work = lxc_config_copy(c);
        _cleanup_free_ char *dir = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        ParseCtx ctx = {
                .opts = opts,
                .max_depth =
                        MIN(opts && opts->max_depth ? opts->max_depth : DEFAULT_MAX_DEPTH, MAX_MAX_DEPTH),
        };
        int r;

        if (!work)
                return warren_error_set(reterr, ENOMEM, "out of memory");
        if (path)
                r = parse_file(work, &ctx, NULL, 0, path, path, &e);
        else {
                dir = filename ? path_dirname(filename) : strdup(".");
                if (!dir)
                        return warren_error_set(reterr, ENOMEM, "out of memory");
                Frame f = {
                        .display = filename ?: "<string>",
                        .logical_dir = dir,
                        .real_dir = dir,
                };
                r = parse_text(work, &ctx, &f, 0, text, len, &e);
        }
        if (r < 0) {
                error_move(reterr, &e, r);
                return r;
        }
        config_swap(c, work);
        return 0;
}

int lxc_config_parse(LxcConfig *c, const char *text, size_t len, const char *filename,
                     const LxcParseOptions *opts, WarrenError *reterr) {
        if (len > LXC_CONFIG_MAX_SIZE)
                return warren_error_set(reterr, EFBIG, "%s: config larger than %u bytes",
                                        filename ?: "<string>", LXC_CONFIG_MAX_SIZE);
        return parse_start(c, opts, NULL, text, len, filename, reterr);
}

int lxc_config_load(LxcConfig *c, const char *path, const LxcParseOptions *opts, WarrenError *reterr) {
        return parse_start(c, opts, path, NULL, 0, NULL, reterr);
}

int lxc_config_apply(LxcConfig *c, const char *key, const char *value, WarrenError *reterr) {
        _cleanup_free_ char *name = NULL;
        bool is_type;
        LxcKey k;
        int r, nic = -1;

        if (lxc_key_is_legacy_net(key, &is_type))
                nic = (int) config_net_count(c) - (is_type ? 0 : 1);
        r = lxc_key_resolve(key, nic, &name, &k, reterr);
        if (r <= 0)
                return r;
        if (!value_chars_ok(value))
                return warren_error_set(reterr, EINVAL,
                                        "invalid value for '%s': control characters are not allowed", key);
        if (value[0]) {
                r = lxc_value_check(&k, key, value, reterr);
                if (r < 0)
                        return r;
                /* Set through the API: only what would start. */
                r = config_check_item(c, name, value, reterr);
                if (r < 0)
                        return r;
        }
        r = config_set(c, name, &k, value, false, reterr);
        if (r < 0 && reterr && reterr->error == 0)
                warren_error_set(reterr, r, "cannot set '%s': %s", key, strerror(-r));
        return r;
}

size_t lxc_config_n_items(const LxcConfig *c) {
        return c->n;
}

void lxc_config_item(const LxcConfig *c, size_t i, const char **ret_key, const char **ret_value) {
        if (ret_key)
                *ret_key = i < c->n ? c->items[i].key : NULL;
        if (ret_value)
                *ret_value = i < c->n ? c->items[i].value : NULL;
}

bool lxc_config_item_included(const LxcConfig *c, size_t i) {
        return i < c->n && c->items[i].included;
}

const char *lxc_config_get(const LxcConfig *c, const char *key) {
        uint32_t h = key_hash(key);
        for (size_t i = c->n; i > 0; i--) {
                const Item *it = &c->items[i - 1];
                if (it->hash == h && streq(it->key, key))
                        return it->value[0] ? it->value : NULL;
        }
        return NULL;
}

char **lxc_config_get_all(const LxcConfig *c, const char *key) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        uint32_t h = key_hash(key);
        if (!l)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                const Item *it = &c->items[i];
                if (it->hash == h && it->value[0] && streq(it->key, key) && strv_extend(&l, it->value) < 0)
                        return NULL;
        }
        return TAKE_PTR(l);
}

char **lxc_config_get_prefix(const LxcConfig *c, const char *prefix) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n = strlen(prefix);
        if (!l)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                const Item *it = &c->items[i];
                if (!it->value[0] || strncmp(it->key, prefix, n) != 0)
                        continue;
                if (strv_extend(&l, it->key) < 0 || strv_extend(&l, it->value) < 0)
                        return NULL;
        }
        return TAKE_PTR(l);
}

size_t lxc_config_unset(LxcConfig *c, const char *key) {
        size_t n = remove_key(c, key);
        if (n > 0 && streq(key, "lxc.include"))
                drop_clears_if_no_include(c);
        return n;
}

/* Values that would not read back as themselves get one pair of quotes:
 * the parser trims blanks and strips one pair of matching quotes. */
static bool value_needs_quotes(const char *v, size_t n) {
        if (n == 0)
                return false;
        if (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t')
                return true;
        return n > 1 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0];
}

char *lxc_config_format(const LxcConfig *c) {
        size_t total = 1;
        for (size_t i = 0; i < c->n; i++)
                total += strlen(c->items[i].key) + strlen(c->items[i].value) + 6;
        char *out = malloc(total), *p = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                const char *k = c->items[i].key, *v = c->items[i].value;
                size_t kl = strlen(k), vl = strlen(v);
                bool q = value_needs_quotes(v, vl);
                memcpy(p, k, kl);
                p += kl;
                if (vl == 0) {
                        memcpy(p, " =\n", 3);
                        p += 3;
                        continue;
                }
                memcpy(p, " = ", 3);
                p += 3;
                if (q)
                        *p++ = '"';
                memcpy(p, v, vl);
                p += vl;
                if (q)
                        *p++ = '"';
                *p++ = '\n';
        }
        *p = 0;
        return out;
}

char *lxc_key_normalize(const char *key, WarrenError *reterr) {
        char *name = NULL;
        LxcKey k;
        int r = lxc_key_resolve(key, 0, &name, &k, reterr);
        if (r == 0)
                warren_error_set(reterr, EOPNOTSUPP, "key '%s' is obsolete and ignored", key);
        return r > 0 ? name : NULL;
}

bool lxc_key_is_known(const char *key) {
        _cleanup_free_ char *name = NULL;
        LxcKey k;
        return lxc_key_resolve(key, 0, &name, &k, NULL) >= 0;
}

bool lxc_key_is_list(const char *key) {
        _cleanup_free_ char *name = NULL;
        LxcKey k;
        return lxc_key_resolve(key, 0, &name, &k, NULL) > 0 && k.info->kind == LXC_KIND_LIST;
}
