/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* NULL-terminated arrays of malloc'd strings. NULL is a valid empty strv. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
/* Appends (takes ownership of value on success only). */
int strv_consume(char ***l, char *value);
/* Appends a copy. */
int strv_extend(char ***l, const char *value);
/* Splits on any char of separators, dropping empty fields. */
char **strv_split(const char *s, const char *separators);
/* Joins with separator; returns malloc'd string or NULL on ENOMEM. */
char *strv_join(char *const *l, const char *separator);
bool strv_equal(char *const *a, char *const *b);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
