/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sha256.h"

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n) {
        return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static void compress(uint32_t h[8], const uint8_t *block) {
        uint32_t w[64];
        for (unsigned i = 0; i < 16; i++)
                w[i] = load_be32(block + 4 * i);
        for (unsigned i = 16; i < 64; i++) {
                uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }

        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (unsigned i = 0; i < 64; i++) {
                uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                k = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += k;
}

void sha256_init(Sha256 *s) {
        static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
        memcpy(s->h, iv, sizeof iv);
        s->length = 0;
        s->n_buf = 0;
}

void sha256_update(Sha256 *s, const void *data, size_t size) {
        const uint8_t *p = data;

        s->length += size;
        if (s->n_buf > 0) {
                size_t k = MIN(size, 64 - s->n_buf);
                memcpy(s->buf + s->n_buf, p, k);
                s->n_buf += k;
                p += k;
                size -= k;
                if (s->n_buf < 64)
                        return;
                compress(s->h, s->buf);
                s->n_buf = 0;
        }
        for (; size >= 64; p += 64, size -= 64)
                compress(s->h, p);
        if (size > 0) {
                memcpy(s->buf, p, size);
                s->n_buf = size;
        }
}

void sha256_final(Sha256 *s, uint8_t ret[SHA256_DIGEST_SIZE]) {
        uint64_t bits = s->length * 8;

        s->buf[s->n_buf++] = 0x80;
        if (s->n_buf > 56) {
                memset(s->buf + s->n_buf, 0, 64 - s->n_buf);
                compress(s->h, s->buf);
                s->n_buf = 0;
        }
        memset(s->buf + s->n_buf, 0, 56 - s->n_buf);
        for (unsigned i = 0; i < 8; i++)
                s->buf[56 + i] = (uint8_t) (bits >> (56 - 8 * i));
        compress(s->h, s->buf);
        for (unsigned i = 0; i < 8; i++) {
                ret[4 * i] = (uint8_t) (s->h[i] >> 24);
                ret[4 * i + 1] = (uint8_t) (s->h[i] >> 16);
                ret[4 * i + 2] = (uint8_t) (s->h[i] >> 8);
                ret[4 * i + 3] = (uint8_t) s->h[i];
        }
}

void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char ret[SHA256_HEX_SIZE]) {
        static const char hex[] = "0123456789abcdef";
        for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
                ret[2 * i] = hex[digest[i] >> 4];
                ret[2 * i + 1] = hex[digest[i] & 15];
        }
        ret[64] = 0;
}

void sha256_hex_of(const void *data, size_t size, char ret[SHA256_HEX_SIZE]) {
        Sha256 s;
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256_init(&s);
        sha256_update(&s, data, size);
        sha256_final(&s, d);
        sha256_to_hex(d, ret);
}

int sha256_fd(int fd, char ret[SHA256_HEX_SIZE]) {
        _cleanup_free_ uint8_t *buf = malloc(128 * 1024);
        uint8_t d[SHA256_DIGEST_SIZE];
        Sha256 s;

        if (!buf)
                return -ENOMEM;
        sha256_init(&s);
        for (;;) {
                ssize_t k = read(fd, buf, 128 * 1024);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                sha256_update(&s, buf, (size_t) k);
        }
        sha256_final(&s, d);
        sha256_to_hex(d, ret);
        return 0;
}

/* ---- SHA256SUMS ---- */

typedef struct Sha256SumsEntry {
        char *name;
        char hex[SHA256_HEX_SIZE];
} Sha256SumsEntry;

struct Sha256Sums {
        Sha256SumsEntry *entries;
        size_t n_entries;
        size_t n_skipped;
};

Sha256Sums *sha256sums_free(Sha256Sums *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_entries; i++)
                free(s->entries[i].name);
        free(s->entries);
        free(s);
        return NULL;
}

size_t sha256sums_count(const Sha256Sums *s) {
        return s ? s->n_entries : 0;
}

size_t sha256sums_skipped(const Sha256Sums *s) {
        return s ? s->n_skipped : 0;
}

static const char *strip_dot_slash(const char *name) {
        while (name[0] == '.' && name[1] == '/')
                name += 2;
        return name;
}

const char *sha256sums_find(const Sha256Sums *s, const char *name) {
        if (!s || !name)
                return NULL;
        name = strip_dot_slash(name);
        for (size_t i = 0; i < s->n_entries; i++)
                if (streq(s->entries[i].name, name))
                        return s->entries[i].hex;
        return NULL;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* One line without its terminator. 1: entry parsed, 0: not an entry line. */
static int parse_line(const char *line, size_t len, char hex[SHA256_HEX_SIZE], const char **ret_name,
                      size_t *ret_name_len) {
        if (len < 64 + 2 + 1)
                return 0;
        for (unsigned i = 0; i < 64; i++) {
                int v = hexval(line[i]);
                if (v < 0)
                        return 0;
                hex[i] = "0123456789abcdef"[v];
        }
        hex[64] = 0;
        if (line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
                return 0;
        *ret_name = line + 66;
        *ret_name_len = len - 66;
        return 1;
}

int sha256sums_parse(const char *text, size_t size, Sha256Sums **ret, WarrenError *reterr) {
        _cleanup_sha256sums_ Sha256Sums *s = NULL;
        size_t lineno = 0, alloc = 0;

        if (size > SHA256SUMS_MAX_SIZE)
                return warren_error_set(reterr, EBADMSG,
                                        "Invalid SHA256SUMS: %zu bytes, more than the limit of %u", size,
                                        SHA256SUMS_MAX_SIZE);
        if (size > 0 && memchr(text, 0, size))
                return warren_error_set(reterr, EBADMSG, "Invalid SHA256SUMS: contains a NUL byte");

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;

        for (size_t pos = 0; pos < size;) {
                const char *line = text + pos, *nl = memchr(line, '\n', size - pos), *name;
                size_t len = nl ? (size_t) (nl - line) : size - pos, name_len;
                char hex[SHA256_HEX_SIZE];

                pos += len + (nl ? 1 : 0);
                lineno++;
                if (len > 0 && line[len - 1] == '\r')
                        len--;
                if (len == 0)
                        continue;
                if (parse_line(line, len, hex, &name, &name_len) == 0) {
                        s->n_skipped++;
                        log_debug("SHA256SUMS line %zu skipped: not '<hex>  <name>'", lineno);
                        continue;
                }

                _cleanup_free_ char *n = strndup(name, name_len);
                if (!n)
                        return -ENOMEM;
                const char *stripped = strip_dot_slash(n);
                if (isempty(stripped)) {
                        s->n_skipped++;
                        continue;
                }
                const char *old = sha256sums_find(s, stripped);
                if (old) {
                        if (!streq(old, hex))
                                return warren_error_set(reterr, EBADMSG,
                                                        "Invalid SHA256SUMS line %zu: '%s' listed twice "
                                                        "with different hashes",
                                                        lineno, stripped);
                        continue;
                }
                if (s->n_entries >= SHA256SUMS_MAX_ENTRIES)
                        return warren_error_set(reterr, EBADMSG,
                                                "Invalid SHA256SUMS line %zu: more than %u entries", lineno,
                                                SHA256SUMS_MAX_ENTRIES);
                if (s->n_entries == alloc) {
                        size_t na = alloc ? alloc * 2 : 16;
                        Sha256SumsEntry *e = reallocarray(s->entries, na, sizeof *e);
                        if (!e)
                                return -ENOMEM;
                        s->entries = e;
                        alloc = na;
                }
                Sha256SumsEntry *e = &s->entries[s->n_entries];
                e->name = stripped == n ? TAKE_PTR(n) : strdup(stripped);
                if (!e->name)
                        return -ENOMEM;
                memcpy(e->hex, hex, sizeof hex);
                s->n_entries++;
        }

        *ret = TAKE_PTR(s);
        return 0;
}

int sha256sums_verify(const Sha256Sums *s, const char *name, const uint8_t digest[SHA256_DIGEST_SIZE],
                      WarrenError *reterr) {
        char got[SHA256_HEX_SIZE];
        const char *want = sha256sums_find(s, name);

        sha256_to_hex(digest, got);
        if (!want)
                return warren_error_set(
                        reterr, EBADE,
                        "Verification of '%s' failed: SHA256SUMS has no entry for it (got %s)", name, got);
        if (!streq(want, got))
                return warren_error_set(reterr, EBADE,
                                        "Verification of '%s' failed: expected SHA-256 %s, got %s", name,
                                        want, got);
        return 0;
}
