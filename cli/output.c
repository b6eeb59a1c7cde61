/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <libsmartcols/libsmartcols.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* GLib has its own MIN and MAX, the same; ours follow. */
#undef MIN
#undef MAX
#include "basic/macro.h"
#include "basic/strv.h"
#include "output.h"

JsonMode arg_json = JSON_OFF;
const char *arg_output = NULL;
bool arg_noheadings = false;
bool arg_raw = false;
bool arg_fancy = false;

int parse_json_mode(const char *s, JsonMode *ret) {
        if (!s || streq(s, "pretty"))
                *ret = JSON_PRETTY;
        else if (streq(s, "short"))
                *ret = JSON_SHORT;
        else {
                fprintf(stderr, "warrenctl: Invalid --json mode '%s': expected pretty or short\n", s);
                return -EINVAL;
        }
        return 0;
}

const char *format_size(uint64_t bytes, char buf[static FORMAT_SIZE_MAX]) {
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        if (bytes < 1024) {
                snprintf(buf, FORMAT_SIZE_MAX, "%" PRIu64 " B", bytes);
                return buf;
        }
        double v = (double) bytes / 1024.0;
        size_t i = 0;
        while (v >= 1024.0 && i + 1 < ELEMENTSOF(units)) {
                v /= 1024.0;
                i++;
        }
        snprintf(buf, FORMAT_SIZE_MAX, "%.1f %s", v, units[i]);
        return buf;
}

const char *format_duration(uint64_t usec, char buf[static FORMAT_DURATION_MAX]) {
        uint64_t s = usec / 1000000U;
        if (s < 60)
                snprintf(buf, FORMAT_DURATION_MAX, "%.1fs", (double) usec / 1e6);
        else if (s < 3600)
                snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600,
                         s / 60 % 60, s % 60);
        else
                snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
                         s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
        return buf;
}

const char *format_user(uint32_t uid, char buf[static FORMAT_USER_MAX]) {
        struct passwd pw, *res = NULL;
        char tmp[1024];
        if (getpwuid_r((uid_t) uid, &pw, tmp, sizeof tmp, &res) == 0 && res && res->pw_name &&
            strlen(res->pw_name) < FORMAT_USER_MAX)
                snprintf(buf, FORMAT_USER_MAX, "%s", res->pw_name);
        else
                snprintf(buf, FORMAT_USER_MAX, "%" PRIu32, uid);
        return buf;
}

JsonNode *output_json_string(const char *s) {
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        if (!s)
                s = "";
        if (g_utf8_validate(s, -1, NULL))
                json_node_set_string(n, s);
        else {
                g_autofree char *valid = g_utf8_make_valid(s, -1);
                json_node_set_string(n, valid);
        }
        return n;
}

JsonNode *output_json_strv(char *const *v) {
        JsonArray *a = json_array_new();
        for (size_t i = 0; v && v[i]; i++)
                json_array_add_element(a, output_json_string(v[i]));
        JsonNode *n = json_node_new(JSON_NODE_ARRAY);
        json_node_take_array(n, a);
        return n;
}

JsonNode *output_json_pairs(char *const *kv) {
        JsonArray *a = json_array_new();
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
                JsonObject *o = json_object_new();
                json_object_set_member(o, "key", output_json_string(kv[i]));
                json_object_set_member(o, "value", output_json_string(kv[i + 1]));
                json_array_add_object_element(a, o);
        }
        JsonNode *n = json_node_new(JSON_NODE_ARRAY);
        json_node_take_array(n, a);
        return n;
}

int output_json_print(JsonNode *node) {
        g_autoptr(JsonGenerator) g = json_generator_new();
        json_generator_set_pretty(g, arg_json != JSON_SHORT);
        json_generator_set_indent(g, 2);
        json_generator_set_root(g, node);
        g_autofree char *text = json_generator_to_data(g, NULL);
        json_node_unref(node);
        if (!text)
                return -ENOMEM;
        if (puts(text) < 0 || fflush(stdout) != 0)
                return -EIO;
        return 0;
}

/* --- tables ------------------------------------------------------------------- */

struct OutputTable {
        const OutputColumn *columns;
        size_t n_columns;
        size_t *shown; /* indexes into columns, in display order */
        size_t n_shown;
        struct libscols_table *scols;
        struct libscols_line *line;
        JsonArray *rows;
        JsonObject *row;
};

static ssize_t column_find(const OutputColumn *columns, size_t n, const char *name, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (strlen(columns[i].name) == len && strncasecmp(columns[i].name, name, len) == 0)
                        return (ssize_t) i;
        return -1;
}

static void unknown_column(const OutputColumn *columns, size_t n, const char *what, const char *name,
                           size_t len) {
        fprintf(stderr, "warrenctl: Unknown column '%.*s' for %s; columns:", (int) MIN(len, 64), name, what);
        for (size_t i = 0; i < n; i++)
                fprintf(stderr, "%s %s", i == 0 ? "" : ",", columns[i].name);
        fputc('\n', stderr);
}

static int table_add_shown(OutputTable *t, size_t idx) {
        for (size_t i = 0; i < t->n_shown; i++)
                if (t->shown[i] == idx)
                        return 0; /* once each */
        t->shown[t->n_shown++] = idx;
        return 0;
}

static int table_select(OutputTable *t, const char *what) {
        const char *spec = arg_output;
        unsigned want = arg_fancy ? OUTPUT_FANCY : OUTPUT_DEFAULT;

        if (!spec || spec[0] == '+') {
                for (size_t i = 0; i < t->n_columns; i++)
                        /* JSON without -o: everything there is. */
                        if ((arg_json != JSON_OFF && !spec) || (t->columns[i].flags & want))
                                table_add_shown(t, i);
                if (!spec)
                        return 0;
                spec++;
        }
        for (const char *p = spec;;) {
                size_t len = strcspn(p, ",");
                if (len > 0) {
                        ssize_t idx = column_find(t->columns, t->n_columns, p, len);
                        if (idx < 0) {
                                unknown_column(t->columns, t->n_columns, what, p, len);
                                return -EINVAL;
                        }
                        table_add_shown(t, (size_t) idx);
                }
                p += len;
                if (!*p)
                        break;
                p++;
        }
        if (t->n_shown == 0) {
                fprintf(stderr, "warrenctl: No columns in '%s'\n", arg_output);
                return -EINVAL;
        }
        return 0;
}

int output_table_new(const OutputColumn *columns, const char *what, OutputTable **ret) {
        OutputTable *t = calloc(1, sizeof *t);
        int r;
        if (!t)
                return -ENOMEM;
        t->columns = columns;
        while (columns[t->n_columns].name)
                t->n_columns++;
        t->shown = calloc(t->n_columns, sizeof *t->shown);
        if (!t->shown) {
                output_table_free(t);
                return -ENOMEM;
        }
        r = table_select(t, what);
        if (r < 0) {
                output_table_free(t);
                return r;
        }
        if (arg_json != JSON_OFF)
                t->rows = json_array_new();
        else {
                t->scols = scols_new_table();
                if (!t->scols) {
                        output_table_free(t);
                        return -ENOMEM;
                }
                scols_table_enable_noheadings(t->scols, arg_noheadings);
                scols_table_enable_raw(t->scols, arg_raw);
                for (size_t i = 0; i < t->n_shown; i++) {
                        const OutputColumn *c = &columns[t->shown[i]];
                        int flags = (c->flags & OUTPUT_RIGHT ? SCOLS_FL_RIGHT : 0) |
                                    (c->flags & OUTPUT_WRAP ? SCOLS_FL_WRAP : 0);
                        if (!scols_table_new_column(t->scols, c->header, 0, flags)) {
                                output_table_free(t);
                                return -ENOMEM;
                        }
                }
        }
        *ret = t;
        return 0;
}

OutputTable *output_table_free(OutputTable *t) {
        if (!t)
                return NULL;
        if (t->scols)
                scols_unref_table(t->scols);
        if (t->rows)
                json_array_unref(t->rows);
        free(t->shown);
        free(t);
        return NULL;
}

bool output_table_wants(const OutputTable *t, const char *name) {
        for (size_t i = 0; i < t->n_shown; i++)
                if (streq(t->columns[t->shown[i]].name, name))
                        return true;
        return false;
}

int output_table_add_row(OutputTable *t) {
        if (t->rows) {
                t->row = json_object_new();
                json_array_add_object_element(t->rows, t->row);
                return 0;
        }
        t->line = scols_table_new_line(t->scols, NULL);
        if (!t->line)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_shown; i++)
                if (scols_line_set_data(t->line, i, "-") < 0)
                        return -ENOMEM;
        return 0;
}

/* Where column goes in the last row: its display index, or -1 if hidden. */
static ssize_t shown_index(const OutputTable *t, const char *column, const OutputColumn **ret) {
        for (size_t i = 0; i < t->n_shown; i++)
                if (streq(t->columns[t->shown[i]].name, column)) {
                        *ret = &t->columns[t->shown[i]];
                        return (ssize_t) i;
                }
        return -1;
}

/* Takes node; text NULL or "" shows "-". */
static int cell_set(OutputTable *t, const char *column, JsonNode *node, const char *text) {
        const OutputColumn *c;
        ssize_t i = shown_index(t, column, &c);
        if (i < 0 || (!t->row && !t->line)) {
                json_node_unref(node);
                return 0;
        }
        if (t->rows) {
                json_object_set_member(t->row, c->json_key ?: c->name, node);
                return 0;
        }
        json_node_unref(node);
        return scols_line_set_data(t->line, (size_t) i, isempty(text) ? "-" : text) < 0 ? -ENOMEM : 0;
}

int output_cell_string(OutputTable *t, const char *column, const char *value) {
        return cell_set(t, column, output_json_string(value), value);
}

int output_cell_number(OutputTable *t, const char *column, uint64_t value) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu64, value);
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        json_node_set_int(n, (gint64) MIN(value, (uint64_t) INT64_MAX));
        return cell_set(t, column, n, buf);
}

int output_cell_bool(OutputTable *t, const char *column, bool value, const char *text) {
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        json_node_set_boolean(n, value);
        return cell_set(t, column, n, text ?: (value ? "yes" : "no"));
}

int output_cell_strv(OutputTable *t, const char *column, char *const *value) {
        _cleanup_free_ char *joined = value && value[0] ? strv_join(value, ",") : NULL;
        if (value && value[0] && !joined)
                return -ENOMEM;
        return cell_set(t, column, output_json_strv(value), joined);
}

int output_cell_size(OutputTable *t, const char *column, uint64_t bytes) {
        char buf[FORMAT_SIZE_MAX];
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        json_node_set_int(n, (gint64) MIN(bytes, (uint64_t) INT64_MAX));
        return cell_set(t, column, n, format_size(bytes, buf));
}

int output_cell_time(OutputTable *t, const char *column, uint64_t usec) {
        char buf[64] = "";
        time_t s = (time_t) (usec / 1000000ULL);
        struct tm tm;
        if (usec == 0 || !localtime_r(&s, &tm) || strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm) == 0)
                buf[0] = 0;
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        json_node_set_int(n, (gint64) MIN(usec, (uint64_t) INT64_MAX));
        return cell_set(t, column, n, buf);
}

int output_cell_percent(OutputTable *t, const char *column, double percent) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.1f", percent);
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        /* One decimal in JSON too: what was measured, not float noise. */
        json_node_set_double(n, (double) (int64_t) (percent * 10.0 + 0.5) / 10.0);
        return cell_set(t, column, n, buf);
}

int output_cell_duration(OutputTable *t, const char *column, uint64_t usec) {
        char buf[FORMAT_DURATION_MAX];
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        json_node_set_int(n, (gint64) MIN(usec, (uint64_t) INT64_MAX));
        return cell_set(t, column, n, format_duration(usec, buf));
}

int output_table_print(OutputTable *t) {
        if (t->rows) {
                JsonNode *n = json_node_new(JSON_NODE_ARRAY);
                json_node_take_array(n, TAKE_PTR(t->rows));
                return output_json_print(n);
        }
        if (scols_print_table(t->scols) < 0)
                return -EIO;
        return fflush(stdout) == 0 ? 0 : -EIO;
}

void output_columns_help(const OutputColumn *columns) {
        printf("\nColumns (* shown by default):\n");
        for (const OutputColumn *c = columns; c->name; c++)
                printf("  %-26s %c %s\n", c->name, c->flags & OUTPUT_DEFAULT ? '*' : ' ', strempty(c->help));
}

/* --- objects ---------------------------------------------------------------------- */

struct OutputObject {
        JsonObject *object;
};

OutputObject *output_object_new(void) {
        OutputObject *o = calloc(1, sizeof *o);
        if (!o)
                return NULL;
        o->object = json_object_new();
        return o;
}

OutputObject *output_object_free(OutputObject *o) {
        if (!o)
                return NULL;
        if (o->object)
                json_object_unref(o->object);
        free(o);
        return NULL;
}

int output_object_node(OutputObject *o, const char *key, JsonNode *node) {
        json_object_set_member(o->object, key, node);
        return 0;
}

int output_object_string(OutputObject *o, const char *key, const char *value) {
        if (!value)
                return 0;
        return output_object_node(o, key, output_json_string(value));
}

int output_object_number(OutputObject *o, const char *key, uint64_t value) {
        json_object_set_int_member(o->object, key, (gint64) MIN(value, (uint64_t) INT64_MAX));
        return 0;
}

int output_object_bool(OutputObject *o, const char *key, bool value) {
        json_object_set_boolean_member(o->object, key, value);
        return 0;
}

int output_object_strv(OutputObject *o, const char *key, char *const *value) {
        return output_object_node(o, key, output_json_strv(value));
}

int output_object_print(OutputObject *o) {
        JsonNode *n = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(n, TAKE_PTR(o->object));
        return output_json_print(n);
}
