/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What warrenctl prints: tables through libsmartcols (column choice with
 * -o/--output, --noheadings, --raw) and JSON through json-glib (--json),
 * both from the same rows, so `list -o name,ipv4 --json` prints exactly
 * those columns as typed values. Text is always valid UTF-8 in JSON; in a
 * table libsmartcols escapes what a terminal would act on. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _JsonNode JsonNode;

typedef enum OutputType {
        OUTPUT_STRING,
        OUTPUT_NUMBER,   /* unsigned; a table shows "-" for an absent one */
        OUTPUT_BOOLEAN,  /* a table shows the text given with it */
        OUTPUT_STRV,     /* a table shows the items joined by ',' */
        OUTPUT_SIZE,     /* bytes: a table shows format_size(), JSON the number */
        OUTPUT_TIME,     /* µs since the epoch: a table shows local time, JSON the number */
        OUTPUT_PERCENT,  /* a table shows "12.3", JSON the number */
        OUTPUT_DURATION, /* µs: a table shows format_duration(), JSON the number */
} OutputType;

enum {
        OUTPUT_DEFAULT = 1 << 0, /* shown without -o */
        OUTPUT_FANCY = 1 << 1,   /* shown with --fancy (list) */
        OUTPUT_RIGHT = 1 << 2,   /* right-aligned */
        OUTPUT_WRAP = 1 << 3,    /* may wrap on a terminal (long text) */
};

typedef struct OutputColumn {
        const char *name;   /* for -o, and the JSON key unless json_key */
        const char *header; /* table heading */
        OutputType type;
        unsigned flags;       /* OUTPUT_* */
        const char *help;     /* one line, for VERB --help */
        const char *json_key; /* NULL: name */
} OutputColumn;

/* Global output options (warrenctl.c parses them). */
typedef enum JsonMode {
        JSON_OFF,
        JSON_SHORT,
        JSON_PRETTY,
} JsonMode;
extern JsonMode arg_json;
extern const char *arg_output;
extern bool arg_noheadings;
extern bool arg_raw;
extern bool arg_fancy;

/* "pretty", "short" or NULL (pretty). -EINVAL after printing what was wrong. */
int parse_json_mode(const char *s, JsonMode *ret);

typedef struct OutputTable OutputTable;

/* A table of columns (terminated by an entry with name NULL) showing
 * the columns -o names ("name,state", "+ipv4" adds to the defaults, names
 * in any case), else with --fancy the fancy ones, else the defaults; JSON
 * without -o has every column. what names the verb in messages. -EINVAL
 * after printing the unknown column and the valid ones. */
int output_table_new(const OutputColumn *columns, const char *what, OutputTable **ret);
OutputTable *output_table_free(OutputTable *t);
/* Whether column name is shown: to skip fetching what is not. */
bool output_table_wants(const OutputTable *t, const char *name);
/* Starts a row; cells not set then show "-" (JSON: omitted). */
int output_table_add_row(OutputTable *t);
/* Sets a cell of the last row (unknown or hidden columns are ignored). */
int output_cell_string(OutputTable *t, const char *column, const char *value);
int output_cell_number(OutputTable *t, const char *column, uint64_t value);
int output_cell_bool(OutputTable *t, const char *column, bool value, const char *text);
int output_cell_strv(OutputTable *t, const char *column, char *const *value);
int output_cell_size(OutputTable *t, const char *column, uint64_t bytes);
int output_cell_time(OutputTable *t, const char *column, uint64_t usec);
int output_cell_percent(OutputTable *t, const char *column, double percent);
int output_cell_duration(OutputTable *t, const char *column, uint64_t usec);
/* Prints the table, or its JSON array with --json. */
int output_table_print(OutputTable *t);
/* "Columns:" lines for a verb's help. */
void output_columns_help(const OutputColumn *columns);

/* Objects printed as JSON (info, state, network info): a builder of one
 * JSON object. A NULL string is left out; the caller leaves out what it
 * may not know. */
typedef struct OutputObject OutputObject;
OutputObject *output_object_new(void);
OutputObject *output_object_free(OutputObject *o);
int output_object_string(OutputObject *o, const char *key, const char *value);
int output_object_number(OutputObject *o, const char *key, uint64_t value);
int output_object_bool(OutputObject *o, const char *key, bool value);
int output_object_strv(OutputObject *o, const char *key, char *const *value);
/* Takes node. */
int output_object_node(OutputObject *o, const char *key, JsonNode *node);
/* Prints it as JSON on stdout. */
int output_object_print(OutputObject *o);
/* Prints any JSON node (taken) on stdout, per arg_json. */
int output_json_print(JsonNode *node);
/* A JSON string node; invalid UTF-8 made valid (U+FFFD). */
JsonNode *output_json_string(const char *s);
/* A JSON array of strings. */
JsonNode *output_json_strv(char *const *v);
/* [{"key": K, "value": V}, ...] from K, V, K, V, ... */
JsonNode *output_json_pairs(char *const *kv);

/* "0 B", "512 B", "1.5 KiB", "12.3 MiB" (1024-based, as everywhere in
 * warrenctl). */
#define FORMAT_SIZE_MAX 32
const char *format_size(uint64_t bytes, char buf[static FORMAT_SIZE_MAX]);
/* "45.2s" under a minute, "12:05" (minutes:seconds) under an hour,
 * "3:12:05", then "2d 03:12:05". */
#define FORMAT_DURATION_MAX 32
const char *format_duration(uint64_t usec, char buf[static FORMAT_DURATION_MAX]);
/* The user name of uid, or the number. */
#define FORMAT_USER_MAX 64
const char *format_user(uint32_t uid, char buf[static FORMAT_USER_MAX]);
