/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pack.h"

#define STRING_NULL UINT32_MAX

static void put(Packer *p, const void *data, size_t n) {
        if (p->oom || n == 0)
                return;
        if (p->allocated - p->size < n) {
                size_t want = MAX(p->allocated * 2, p->size + n);
                want = MAX(want, (size_t) 256);
                uint8_t *b = realloc(p->buf, want);
                if (!b) {
                        p->oom = true;
                        return;
                }
                p->buf = b;
                p->allocated = want;
        }
        memcpy(p->buf + p->size, data, n);
        p->size += n;
}

void pack_u32(Packer *p, uint32_t v) {
        uint8_t b[4] = { (uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24) };
        put(p, b, sizeof b);
}

void pack_u64(Packer *p, uint64_t v) {
        pack_u32(p, (uint32_t) v);
        pack_u32(p, (uint32_t) (v >> 32));
}

void pack_bool(Packer *p, bool v) {
        uint8_t b = v;
        put(p, &b, 1);
}

void pack_string(Packer *p, const char *s) {
        if (!s) {
                pack_u32(p, STRING_NULL);
                return;
        }
        size_t n = strlen(s);
        if (n >= STRING_NULL) {
                p->oom = true;
                return;
        }
        pack_u32(p, (uint32_t) n);
        put(p, s, n + 1); /* with its NUL: read in place */
}

void pack_strv(Packer *p, char *const *l) {
        size_t n = 0;
        if (!l) {
                pack_u32(p, STRING_NULL);
                return;
        }
        while (l[n])
                n++;
        pack_u32(p, (uint32_t) n);
        for (size_t i = 0; i < n; i++)
                pack_string(p, l[i]);
}

int pack_finish(Packer *p, uint8_t **ret, size_t *ret_size) {
        if (p->oom) {
                pack_done(p);
                return -ENOMEM;
        }
        *ret = p->buf;
        *ret_size = p->size;
        *p = (Packer){};
        return 0;
}

void pack_done(Packer *p) {
        free(p->buf);
        *p = (Packer){};
}

static void fail(Unpacker *u, int error, const char *what) {
        if (u->error == 0) {
                u->error = error;
                u->what = what;
        }
}

static const uint8_t *take(Unpacker *u, size_t n, const char *what) {
        if (u->error != 0)
                return NULL;
        if (u->size - u->pos < n) {
                fail(u, -EBADMSG, what);
                return NULL;
        }
        const uint8_t *b = u->buf + u->pos;
        u->pos += n;
        return b;
}

static void *remember(Unpacker *u, void *m) {
        if (!m) {
                fail(u, -ENOMEM, "out of memory");
                return NULL;
        }
        void **a = realloc(u->allocs, (u->n_allocs + 1) * sizeof *a);
        if (!a) {
                free(m);
                fail(u, -ENOMEM, "out of memory");
                return NULL;
        }
        u->allocs = a;
        u->allocs[u->n_allocs++] = m;
        return m;
}

uint32_t unpack_u32(Unpacker *u) {
        const uint8_t *b = take(u, 4, "truncated number");
        if (!b)
                return 0;
        return (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16 | (uint32_t) b[3] << 24;
}

uint64_t unpack_u64(Unpacker *u) {
        uint64_t lo = unpack_u32(u);
        return (uint64_t) unpack_u32(u) << 32 | lo;
}

bool unpack_bool(Unpacker *u) {
        const uint8_t *b = take(u, 1, "truncated flag");
        if (b && *b > 1) {
                fail(u, -EBADMSG, "flag neither 0 nor 1");
                return false;
        }
        return b && *b;
}

char *unpack_string(Unpacker *u) {
        uint32_t n = unpack_u32(u);
        if (u->error != 0 || n == STRING_NULL)
                return NULL;
        uint8_t *b = (uint8_t *) take(u, (size_t) n + 1, "truncated string");
        if (!b)
                return NULL;
        if (b[n] != 0 || memchr(b, 0, n)) {
                fail(u, -EBADMSG, "string with a misplaced NUL");
                return NULL;
        }
        return (char *) b;
}

char **unpack_strv(Unpacker *u, size_t max) {
        uint32_t n = unpack_u32(u);
        if (u->error != 0 || n == STRING_NULL)
                return NULL;
        if (n > max || n > u->size - u->pos) {
                fail(u, -EBADMSG, "list too long");
                return NULL;
        }
        char **l = remember(u, calloc((size_t) n + 1, sizeof(char *)));
        for (uint32_t i = 0; l && i < n; i++) {
                l[i] = unpack_string(u);
                if (!l[i]) {
                        fail(u, -EBADMSG, "list with a NULL entry");
                        return NULL;
                }
        }
        return u->error == 0 ? l : NULL;
}

void *unpack_alloc(Unpacker *u, size_t n, size_t size, size_t max) {
        if (u->error != 0 || n == 0)
                return NULL;
        if (n > max) {
                fail(u, -EBADMSG, "array too long");
                return NULL;
        }
        return remember(u, calloc(n, size));
}

int unpack_finish(const Unpacker *u) {
        if (u->error != 0)
                return u->error;
        return u->pos == u->size ? 0 : -EBADMSG;
}

void unpack_done(Unpacker *u) {
        for (size_t i = 0; i < u->n_allocs; i++)
                free(u->allocs[i]);
        free(u->allocs);
        u->allocs = NULL;
        u->n_allocs = 0;
}
