/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* Context for humans, carried alongside a -errno return value.
 * Set only on failure; the message names the value that was wrong. */
typedef struct WarrenError {
        int error;     /* positive errno */
        char *message; /* malloc'd, may be NULL if allocation failed */
} WarrenError;

#define WARREN_ERROR_NULL ((WarrenError){ 0, NULL })

/* Records err (positive or negative errno) and a printf-style message into
 * reterr if non-NULL (the first error set wins unless reset), and returns
 * -abs(err). Always usable as "return warren_error_set(reterr, EINVAL, ...)". */
int warren_error_set(WarrenError *reterr, int err, const char *fmt, ...) _printf_(3, 4);
/* Like warren_error_set() but overwrites an error already recorded. */
int warren_error_reset(WarrenError *reterr, int err, const char *fmt, ...) _printf_(3, 4);
/* Prefixes the recorded message with "prefix: " (if an error is recorded). */
void warren_error_prefix(WarrenError *e, const char *fmt, ...) _printf_(2, 3);
void warren_error_clear(WarrenError *e);
/* The message, or strerror() of the error, or "unknown error". */
const char *warren_error_message(const WarrenError *e);

static inline void warren_error_clearp(WarrenError *e) {
        warren_error_clear(e);
}
#define _cleanup_error_ _cleanup_(warren_error_clearp)
