/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny TAP producer for unit tests: ok()/is()/is_str(), done_testing(). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n = 0, tap_failed = 0;

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...) {
        va_list ap;
        tap_n++;
        if (!cond)
                tap_failed++;
        printf("%sok %d - ", cond ? "" : "not ", tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        return cond;
}

#define is(got, expected, ...)                                                              \
        ({                                                                                  \
                long long _g = (long long) (got), _e = (long long) (expected);              \
                int _r = ok(_g == _e, __VA_ARGS__);                                         \
                if (!_r)                                                                    \
                        printf("#   got %lld, expected %lld (%s:%d)\n", _g, _e, __FILE__, __LINE__); \
                _r;                                                                         \
        })

#define is_str(got, expected, ...)                                                          \
        ({                                                                                  \
                const char *_g = (got), *_e = (expected);                                   \
                int _r = ok(_g && _e ? strcmp(_g, _e) == 0 : _g == _e, __VA_ARGS__);        \
                if (!_r)                                                                    \
                        printf("#   got '%s', expected '%s' (%s:%d)\n", _g ? _g : "(null)",  \
                               _e ? _e : "(null)", __FILE__, __LINE__);                      \
                _r;                                                                         \
        })

/* Substring match, for error messages. */
#define like(got, needle, ...)                                                              \
        ({                                                                                  \
                const char *_g = (got), *_n = (needle);                                     \
                int _r = ok(_g && strstr(_g, _n) != NULL, __VA_ARGS__);                     \
                if (!_r)                                                                    \
                        printf("#   '%s' does not contain '%s' (%s:%d)\n", _g ? _g : "(null)", _n, \
                               __FILE__, __LINE__);                                         \
                _r;                                                                         \
        })

static inline int done_testing(void) {
        printf("1..%d\n", tap_n);
        return tap_failed == 0 ? 0 : 1;
}
