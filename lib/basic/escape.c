/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid;
 * *ret the code point. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *ret) {
        size_t len;
        uint32_t c;
        if (p[0] < 0x80) {
                *ret = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0) {
                len = 2;
                c = p[0] & 0x1f;
        } else if ((p[0] & 0xf0) == 0xe0) {
                len = 3;
                c = p[0] & 0x0f;
        } else if ((p[0] & 0xf8) == 0xf0) {
                len = 4;
                c = p[0] & 0x07;
        } else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
        if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *ret = c;
        return len;
}

char *escape_untrusted_text(const char *s, size_t max) {
        const unsigned char *p = (const unsigned char *) (s ? s : "");
        size_t n = strlen((const char *) p), k = 0;
        char *out;

        if (max > 0 && n > max)
                n = max;
        out = malloc(n * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                uint32_t c = 0;
                size_t len = utf8_seq(p + i, n - i, &c);
                if (len == 0 || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ||
                    (c >= 0x80 && c <= 0x9f)) {
                        size_t bytes = len ? len : 1;
                        for (size_t b = 0; b < bytes; b++)
                                k += (size_t) sprintf(out + k, "\\x%02x", p[i + b]);
                        i += bytes;
                        continue;
                }
                memcpy(out + k, p + i, len);
                k += len;
                i += len;
        }
        out[k] = 0;
        return out;
}
