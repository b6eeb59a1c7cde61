/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image-sums.h"
#include "log.h"

/* ---- SHA-256 (libcrypto) ---- */

int sha256_init(Sha256 *s) {
        if (!s->ctx) {
                s->ctx = EVP_MD_CTX_new();
                if (!s->ctx)
                        return -ENOMEM;
        }
        return EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

void sha256_update(Sha256 *s, const void *data, size_t size) {
        if (s->ctx && size > 0)
                (void) EVP_DigestUpdate(s->ctx, data, size);
}

int sha256_final(Sha256 *s, uint8_t ret[SHA256_DIGEST_SIZE]) {
        unsigned n = 0;
        if (!s->ctx || EVP_DigestFinal_ex(s->ctx, ret, &n) != 1 || n != SHA256_DIGEST_SIZE)
                return -EIO;
        return 0;
}

void sha256_done(Sha256 *s) {
        EVP_MD_CTX_free(s->ctx);
        s->ctx = NULL;
}

void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char ret[SHA256_HEX_SIZE]) {
        static const char hex[] = "0123456789abcdef";
        for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
                ret[2 * i] = hex[digest[i] >> 4];
                ret[2 * i + 1] = hex[digest[i] & 15];
        }
        ret[64] = 0;
}

int sha256_hex_of(const void *data, size_t size, char ret[SHA256_HEX_SIZE]) {
        uint8_t d[SHA256_DIGEST_SIZE];
        unsigned n = 0;
        if (EVP_Digest(data, size, d, &n, EVP_sha256(), NULL) != 1 || n != SHA256_DIGEST_SIZE)
                return -EIO;
        sha256_to_hex(d, ret);
        return 0;
}

int sha256_fd(int fd, char ret[SHA256_HEX_SIZE]) {
        Sha256 s = SHA256_NULL;
        uint8_t buf[64 * 1024], d[SHA256_DIGEST_SIZE];
        int r = sha256_init(&s);
        for (ssize_t k; r >= 0;) {
                k = read(fd, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = -errno;
                if (k <= 0)
                        break;
                sha256_update(&s, buf, (size_t) k);
        }
        if (r >= 0)
                r = sha256_final(&s, d);
        sha256_done(&s);
        if (r < 0)
                return r;
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
