/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parses arbitrary bytes as a SHA256SUMS file; every name it lists must be
 * found again with a 64-digit lower-case hash, and verification against a
 * digest must give 0 or -EBADE, nothing else. Aborts if not. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image-sums.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const Sha256Sums *s, const char *name) {
        const char *hex = sha256sums_find(s, name);
        uint8_t d[SHA256_DIGEST_SIZE] = {};
        if (!hex)
                return;
        if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
                abort();
        int r = sha256sums_verify(s, name, d, NULL);
        if (r != 0 && r != -EBADE)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_sha256sums_ Sha256Sums *s = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        char hex[SHA256_HEX_SIZE];

        sha256_hex_of(data, size, hex); /* the hash itself must cope with any input */
        if (sha256sums_parse((const char *) data, size, &s, &e) < 0) {
                if (e.error == 0 || !e.message)
                        abort();
                return 0;
        }
        if (sha256sums_count(s) > SHA256SUMS_MAX_ENTRIES)
                abort();
        check(s, "rootfs.tar.xz");
        check(s, "meta.tar.xz");
        check(s, "./rootfs.tar.xz");
        /* Every line that looks like an entry names something findable. */
        for (size_t pos = 0; pos < size;) {
                const uint8_t *nl = memchr(data + pos, '\n', size - pos);
                size_t len = nl ? (size_t) (nl - (data + pos)) : size - pos;
                if (len > 66 && len < 4096 && (data[pos + 64] == ' ')) {
                        char name[4096];
                        memcpy(name, data + pos + 66, len - 66);
                        name[len - 66] = 0;
                        if (len - 66 > 0 && name[len - 67] == '\r')
                                name[len - 67] = 0;
                        check(s, name);
                }
                pos += len + 1;
        }
        return 0;
}
