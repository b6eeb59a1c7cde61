/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inode-table.h"
#include "macro.h"

typedef struct Slot {
        uint64_t dev, ino;
        char *path; /* NULL: free */
} Slot;

struct InodeTable {
        Slot *slots;
        size_t n_slots, n_used; /* n_slots: a power of two */
};

InodeTable *inode_table_new(void) {
        return calloc(1, sizeof(InodeTable));
}

InodeTable *inode_table_free(InodeTable *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_slots; i++)
                free(t->slots[i].path);
        free(t->slots);
        free(t);
        return NULL;
}

static size_t slot_of(const InodeTable *t, uint64_t dev, uint64_t ino) {
        uint64_t h = ino * 0x9E3779B97F4A7C15ULL ^ (dev + 0x7F4A7C15ULL) * 0xC2B2AE3D27D4EB4FULL;
        size_t i = (size_t) (h ^ (h >> 29)) & (t->n_slots - 1);
        while (t->slots[i].path && !(t->slots[i].dev == dev && t->slots[i].ino == ino))
                i = (i + 1) & (t->n_slots - 1);
        return i;
}

static int grow(InodeTable *t) {
        size_t n = t->n_slots ? t->n_slots * 2 : 64;
        Slot *old = t->slots;
        size_t old_n = t->n_slots;
        t->slots = calloc(n, sizeof(Slot));
        if (!t->slots) {
                t->slots = old;
                return -ENOMEM;
        }
        t->n_slots = n;
        for (size_t i = 0; i < old_n; i++)
                if (old[i].path)
                        t->slots[slot_of(t, old[i].dev, old[i].ino)] = old[i];
        free(old);
        return 0;
}

int inode_table_put(InodeTable *t, uint64_t dev, uint64_t ino, const char *path, const char **ret_first) {
        if ((t->n_used + 1) * 4 > t->n_slots * 3) {
                int r = grow(t);
                if (r < 0)
                        return r;
        }
        Slot *s = &t->slots[slot_of(t, dev, ino)];
        if (s->path) {
                *ret_first = s->path;
                return 0;
        }
        s->path = strdup(path);
        if (!s->path)
                return -ENOMEM;
        s->dev = dev;
        s->ino = ino;
        t->n_used++;
        *ret_first = NULL;
        return 0;
}
