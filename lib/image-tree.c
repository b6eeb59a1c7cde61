/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image-tree.h"

/* Open addressing, linear probing; only directories and symlinks are kept. */
typedef struct Slot {
        char *path; /* canonical; NULL: empty */
        uint8_t kind;
} Slot;

struct ImageTree {
        Slot *slots;
        size_t n_slots, n_used;
};

ImageTree *image_tree_new(void) {
        ImageTree *t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        t->n_slots = 1024;
        t->slots = calloc(t->n_slots, sizeof *t->slots);
        if (!t->slots) {
                free(t);
                return NULL;
        }
        return t;
}

ImageTree *image_tree_free(ImageTree *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_slots; i++)
                free(t->slots[i].path);
        free(t->slots);
        free(t);
        return NULL;
}

static uint64_t hash(const char *s, size_t n) {
        uint64_t h = 14695981039346656037ULL; /* FNV-1a */
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= 1099511628211ULL;
        }
        return h;
}

/* The slot of path (n bytes) or the empty one where it would go. */
static Slot *lookup(const ImageTree *t, const char *path, size_t n) {
        size_t mask = t->n_slots - 1, i = (size_t) hash(path, n) & mask;
        for (;; i = (i + 1) & mask) {
                Slot *s = &t->slots[i];
                if (!s->path || (strlen(s->path) == n && memcmp(s->path, path, n) == 0))
                        return s;
        }
}

static int grow(ImageTree *t) {
        Slot *old = t->slots;
        size_t n_old = t->n_slots;
        Slot *slots = calloc(n_old * 2, sizeof *slots);
        if (!slots)
                return -ENOMEM;
        t->slots = slots;
        t->n_slots = n_old * 2;
        for (size_t i = 0; i < n_old; i++)
                if (old[i].path)
                        *lookup(t, old[i].path, strlen(old[i].path)) = old[i];
        free(old);
        return 0;
}

static int set(ImageTree *t, const char *path, size_t n, ImageTreeKind kind) {
        Slot *s = lookup(t, path, n);
        if (s->path) {
                /* Deleting from a probed table is awkward: an entry that is
                 * neither is kept as OTHER, which nothing checks. */
                s->kind = (uint8_t) kind;
                return 0;
        }
        if (kind == IMAGE_TREE_OTHER)
                return 0;
        if ((t->n_used + 1) * 2 > t->n_slots) {
                int r = grow(t);
                if (r < 0)
                        return r;
                s = lookup(t, path, n);
        }
        s->path = strndup(path, n);
        if (!s->path)
                return -ENOMEM;
        s->kind = (uint8_t) kind;
        t->n_used++;
        return 0;
}

static ImageTreeKind kind_of(const ImageTree *t, const char *path, size_t n) {
        const Slot *s = lookup(t, path, n);
        return s->path ? (ImageTreeKind) s->kind : IMAGE_TREE_OTHER;
}

/* The canonical form of p: components joined by '/', without "." and empty ones. */
static char *canonical(const char *p) {
        size_t n = 0;
        char *out = malloc(strlen(p) + 1);
        if (!out)
                return NULL;
        for (const char *c = p; *c;) {
                size_t k = strcspn(c, "/");
                if (k > 0 && !(k == 1 && c[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, c, k);
                        n += k;
                }
                c += k;
                c += strspn(c, "/");
        }
        out[n] = 0;
        return out;
}

/* The first parent of canonical path c that is a recorded symlink, as its
 * length; 0 if none. */
static size_t symlink_parent(const ImageTree *t, const char *c) {
        for (const char *slash = strchr(c, '/'); slash; slash = strchr(slash + 1, '/'))
                if (kind_of(t, c, (size_t) (slash - c)) == IMAGE_TREE_SYMLINK)
                        return (size_t) (slash - c);
        return 0;
}

int image_tree_check(ImageTree *t, const char *path, ImageTreeKind kind, const char *link_target,
                     WarrenError *reterr) {
        _cleanup_free_ char *c = canonical(path), *l = link_target ? canonical(link_target) : NULL;
        size_t k;

        if (!c || (link_target && !l))
                return -ENOMEM;
        k = symlink_parent(t, c);
        if (k > 0)
                return warren_error_set(reterr, EPERM,
                                        "Refusing archive entry '%s': it goes through the symlink '%.*s'",
                                        path, (int) k, c);
        if (l && (k = symlink_parent(t, l)) > 0)
                return warren_error_set(reterr, EPERM,
                                        "Refusing archive entry '%s': hardlink to '%s' goes through the "
                                        "symlink '%.*s'",
                                        path, link_target, (int) k, l);
        ImageTreeKind there = kind_of(t, c, strlen(c));
        if (kind == IMAGE_TREE_DIR && there == IMAGE_TREE_SYMLINK)
                return warren_error_set(reterr, EPERM,
                                        "Refusing archive entry '%s': a directory over the symlink '%s'",
                                        path, c);
        if (kind == IMAGE_TREE_SYMLINK && there == IMAGE_TREE_DIR)
                return warren_error_set(reterr, EPERM,
                                        "Refusing archive entry '%s': a symlink over the directory '%s'",
                                        path, c);
        return 0;
}

int image_tree_add(ImageTree *t, const char *path, ImageTreeKind kind) {
        _cleanup_free_ char *c = canonical(path);
        int r;
        if (!c)
                return -ENOMEM;
        if (*c == 0)
                return 0; /* the tree's root */
        for (const char *slash = strchr(c, '/'); slash; slash = strchr(slash + 1, '/'))
                if (kind_of(t, c, (size_t) (slash - c)) != IMAGE_TREE_DIR &&
                    (r = set(t, c, (size_t) (slash - c), IMAGE_TREE_DIR)) < 0)
                        return r;
        return set(t, c, strlen(c), kind);
}
