/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "table.h"

struct Table {
        size_t n_columns;
        size_t n_cells;
        char **cells;
};

Table *table_new(size_t n_columns, ...) {
        Table *t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        va_list ap;
        va_start(ap, n_columns);
        for (size_t i = 0; i < n_columns; i++)
                if (table_add(t, va_arg(ap, const char *)) < 0) {
                        va_end(ap);
                        return table_free(t);
                }
        va_end(ap);
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add(Table *t, const char *cell) {
        char **c = realloc(t->cells, (t->n_cells + 1) * sizeof(char *));
        if (!c)
                return -ENOMEM;
        t->cells = c;
        t->cells[t->n_cells] = strdup(cell && *cell ? cell : "-");
        if (!t->cells[t->n_cells])
                return -ENOMEM;
        t->n_cells++;
        return 0;
}

void table_print(const Table *t, bool header) {
        size_t width[32] = {};
        size_t ncol = MIN(t->n_columns, ELEMENTSOF(width));
        for (size_t i = 0; i < t->n_cells; i++)
                width[i % t->n_columns % ncol] = MAX(width[i % t->n_columns % ncol], strlen(t->cells[i]));
        for (size_t i = header ? 0 : t->n_columns; i < t->n_cells; i++) {
                size_t col = i % t->n_columns;
                bool last = col == t->n_columns - 1;
                if (last)
                        printf("%s\n", t->cells[i]);
                else
                        printf("%-*s ", (int) width[col % ncol], t->cells[i]);
        }
}

void json_print_string(const char *s) {
        putchar('"');
        for (const unsigned char *p = (const unsigned char *) s; p && *p; p++) {
                if (*p == '"' || *p == '\\')
                        printf("\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", stdout);
                else if (*p == '\t')
                        fputs("\\t", stdout);
                else if (*p < 0x20)
                        printf("\\u%04x", *p);
                else
                        putchar(*p);
        }
        putchar('"');
}
