/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A plain text table: add a header row then cells; prints aligned columns. */
typedef struct Table Table;

Table *table_new(size_t n_columns, ...); /* column headers, n_columns of them */
Table *table_free(Table *t);
int table_add(Table *t, const char *cell); /* NULL prints "-" */
void table_print(const Table *t, bool header);

/* Writes s as a JSON string literal (with quotes) to stdout. */
void json_print_string(const char *s);
