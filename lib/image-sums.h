/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-256 of image files, from OpenSSL's libcrypto (EVP), which libcurl
 * already brings into the process; and the parser of an image directory's
 * SHA256SUMS file ("<64 hex>  <name>" lines, as sha256sum writes them). */

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/macro.h"

#define SHA256_DIGEST_SIZE 32U
#define SHA256_HEX_SIZE 65U /* 64 hex digits and a NUL */

struct evp_md_ctx_st;

typedef struct Sha256 {
        struct evp_md_ctx_st *ctx;
} Sha256;

#define SHA256_NULL ((Sha256){ NULL })

/* Starts (or restarts) a hash; -ENOMEM, or -EIO if libcrypto refuses. */
int sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t size);
/* Writes the digest; s must be initialized again before reuse. */
int sha256_final(Sha256 *s, uint8_t ret[SHA256_DIGEST_SIZE]);
/* Frees what sha256_init() allocated. */
void sha256_done(Sha256 *s);
/* Lower-case hex, NUL-terminated. */
void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char ret[SHA256_HEX_SIZE]);
int sha256_hex_of(const void *data, size_t size, char ret[SHA256_HEX_SIZE]);
/* Hashes fd from its current offset to EOF. */
int sha256_fd(int fd, char ret[SHA256_HEX_SIZE]);

/* SHA256SUMS. At most this many entries and bytes. */
#define SHA256SUMS_MAX_ENTRIES 4096U
#define SHA256SUMS_MAX_SIZE (1024U * 1024U)

typedef struct Sha256Sums Sha256Sums;

/* Parses text (size bytes, need not be NUL-terminated). Lines are
 * "<64 hex digits><space><space or *><name>"; "\r\n" endings are accepted,
 * blank lines and lines of any other shape are skipped (sha256sum -c only
 * warns about them too). A name listed twice with different hashes, a NUL
 * byte, or more than the limits: -EBADMSG naming the line. */
int sha256sums_parse(const char *text, size_t size, Sha256Sums **ret, WarrenError *reterr);
Sha256Sums *sha256sums_free(Sha256Sums *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sha256Sums *, sha256sums_free);
#define _cleanup_sha256sums_ _cleanup_(sha256sums_freep)

size_t sha256sums_count(const Sha256Sums *s);
/* Lines that were skipped as malformed. */
size_t sha256sums_skipped(const Sha256Sums *s);
/* The lower-case hex digest listed for name ("name" and "./name" are the
 * same), or NULL. Borrowed. */
const char *sha256sums_find(const Sha256Sums *s, const char *name);

/* Checks that the file called name hashed to digest, as listed in s:
 * -EBADE naming the file and both hashes on a mismatch, or the file and
 * "no entry" if s does not list it. */
int sha256sums_verify(const Sha256Sums *s, const char *name, const uint8_t digest[SHA256_DIGEST_SIZE],
                      WarrenError *reterr);
