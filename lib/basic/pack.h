/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A flat little-endian serialization, for handing a job's parameters to an
 * exec'd helper (warren-worker): u32, u64, bool, strings (NULL kept apart
 * from "") and string lists, read back in the order written; arrays of
 * structs go field by field, with unpack_alloc() for their memory.
 *
 * The writer grows its buffer; a failed allocation is remembered and
 * reported once, by pack_finish(). The reader is strict: reading past the
 * end, a string without its NUL or with one inside, a bool other than 0/1
 * or a list longer than its limit marks it bad, after which every read
 * returns zero values; unpack_finish() then says -EBADMSG (or -ENOMEM).
 * Strings are read in place (pointers into the buffer, which must outlive
 * them); lists and unpack_alloc()'s arrays are owned by the reader until
 * unpack_done(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Packer {
        uint8_t *buf;
        size_t size, allocated;
        bool oom;
} Packer;

void pack_u32(Packer *p, uint32_t v);
void pack_u64(Packer *p, uint64_t v);
void pack_bool(Packer *p, bool v);
void pack_string(Packer *p, const char *s); /* NULL allowed */
void pack_strv(Packer *p, char *const *l);  /* NULL allowed */
/* Hands over the bytes (malloc'd) and resets p: 0, or -ENOMEM if any write failed. */
int pack_finish(Packer *p, uint8_t **ret, size_t *ret_size);
void pack_done(Packer *p);

typedef struct Unpacker {
        uint8_t *buf;
        size_t size, pos;
        int error;        /* 0, -EBADMSG or -ENOMEM: the first problem met */
        const char *what; /* what the first problem was, for messages */
        void **allocs;
        size_t n_allocs;
} Unpacker;

#define UNPACKER_INIT(b, s) ((Unpacker){ .buf = (b), .size = (s) })

uint32_t unpack_u32(Unpacker *u);
uint64_t unpack_u64(Unpacker *u);
bool unpack_bool(Unpacker *u);
char *unpack_string(Unpacker *u);
/* At most max entries; NULL for a NULL list. */
char **unpack_strv(Unpacker *u, size_t max);
/* n zeroed elements of size bytes that live as long as the reader; NULL
 * for n == 0, or when the reader went bad (n > max marks it bad). */
void *unpack_alloc(Unpacker *u, size_t n, size_t size, size_t max);
/* 0 if every read was good and the buffer is used up, else the error. */
int unpack_finish(const Unpacker *u);
/* Frees what the reader allocated (not the buffer). */
void unpack_done(Unpacker *u);
