/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrenctl's output (cli/output.c): tables through libsmartcols, JSON
 * through json-glib from the same rows, column choice, one size format,
 * valid UTF-8 in JSON whatever the input, escaped control characters. */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <sys/mman.h>
#include <unistd.h>

#undef MIN
#undef MAX
#include "basic/macro.h"
#include "output.h"
#include "tap.h"

/* Runs fn with stdout (fd 1) or stderr (fd 2) going to a memfd; returns what it wrote. */
static char *capture(int fd, int (*fn)(void *), void *userdata, int *ret) {
        fflush(stdout);
        fflush(stderr);
        int mem = memfd_create("capture", MFD_CLOEXEC), saved = dup(fd);
        if (mem < 0 || saved < 0 || dup2(mem, fd) < 0)
                abort();
        *ret = fn(userdata);
        fflush(stdout);
        fflush(stderr);
        dup2(saved, fd);
        close(saved);
        off_t size = lseek(mem, 0, SEEK_END);
        char *buf = calloc(1, (size_t) size + 1);
        if (!buf || pread(mem, buf, (size_t) size, 0) != size)
                abort();
        close(mem);
        return buf;
}

static const OutputColumn columns[] = {
        { "name", "NAME", OUTPUT_STRING, OUTPUT_DEFAULT, "name" },
        { "state", "STATE", OUTPUT_STRING, OUTPUT_DEFAULT, "state" },
        { "pid", "PID", OUTPUT_NUMBER, OUTPUT_RIGHT, "pid" },
        { "ipv4", "IPV4", OUTPUT_STRV, 0, "addresses" },
        { "auto", "AUTO", OUTPUT_BOOLEAN, OUTPUT_FANCY, "autostart" },
        { "size", "SIZE", OUTPUT_SIZE, 0, "bytes" },
        { "used", "USED", OUTPUT_TIME, 0, "time", "used_usec" },
        {},
};

typedef struct Row {
        const char *name, *state;
        uint64_t pid;
        char **ipv4;
        bool autostart;
} Row;

static int print_rows(void *userdata) {
        const Row *rows = userdata;
        OutputTable *t = NULL;
        int r = output_table_new(columns, "test", &t);
        if (r < 0)
                return r;
        for (const Row *row = rows; row->name; row++) {
                output_table_add_row(t);
                output_cell_string(t, "name", row->name);
                output_cell_string(t, "state", row->state);
                if (row->pid > 0)
                        output_cell_number(t, "pid", row->pid);
                output_cell_strv(t, "ipv4", row->ipv4);
                output_cell_bool(t, "auto", row->autostart, row->autostart ? "YES" : "NO");
                output_cell_size(t, "size", 1536);
                output_cell_time(t, "used", 1000000);
        }
        r = output_table_print(t);
        output_table_free(t);
        return r;
}

static void reset(void) {
        arg_json = JSON_OFF;
        arg_output = NULL;
        arg_noheadings = arg_raw = arg_fancy = false;
}

static bool matches(const char *text, const char *re) {
        regex_t rx;
        if (regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE) != 0)
                abort();
        bool m = regexec(&rx, text, 0, NULL, 0) == 0;
        regfree(&rx);
        if (!m)
                printf("#   '%s' does not match /%s/\n", text, re);
        return m;
}

static JsonNode *parse(const char *text) {
        g_autoptr(JsonParser) p = json_parser_new();
        if (!json_parser_load_from_data(p, text, -1, NULL))
                return NULL;
        return json_node_copy(json_parser_get_root(p));
}

static void test_sizes(void) {
        char buf[FORMAT_SIZE_MAX];
        is_str(format_size(0, buf), "0 B", "0 bytes");
        is_str(format_size(1023, buf), "1023 B", "1023 bytes");
        is_str(format_size(1024, buf), "1.0 KiB", "1 KiB");
        is_str(format_size(1536, buf), "1.5 KiB", "1.5 KiB");
        is_str(format_size(5ULL << 30, buf), "5.0 GiB", "5 GiB");
        is_str(format_size(UINT64_MAX, buf), "16.0 EiB", "the largest");
        char user[FORMAT_USER_MAX];
        is_str(format_user(0, user), "root", "uid 0 is root");
        is_str(format_user(3999999999U, user), "3999999999", "an unknown uid is its number");
}

static void test_tables(void) {
        char *ips[] = { (char *) "10.0.3.5", (char *) "10.0.4.5", NULL };
        char *none[] = { NULL };
        Row rows[] = {
                { "web", "RUNNING", 4242, ips, true },
                { "db", "STOPPED", 0, none, false },
                { "esc\x1b[31mred", "STOPPED", 0, none, false },
                {},
        };
        int r;

        reset();
        _cleanup_free_ char *t1 = capture(1, print_rows, rows, &r);
        is(r, 0, "default table printed");
        like(t1, "NAME", "heading");
        ok(strstr(t1, "PID") == NULL && strstr(t1, "IPV4") == NULL, "only the default columns");
        ok(strchr(t1, '\x1b') == NULL, "a control character is escaped in a table");
        like(t1, "esc\\x1b[31mred", "shown as \\x1b");

        reset();
        arg_output = "name,ipv4,pid";
        _cleanup_free_ char *t2 = capture(1, print_rows, rows, &r);
        ok(matches(t2, "^NAME +IPV4 +PID$"), "the chosen columns, in order");
        like(t2, "10.0.3.5,10.0.4.5", "a list joined by ','");
        like(t2, "4242", "a number");
        ok(strstr(t2, "STATE") == NULL, "state not chosen, not shown");
        ok(matches(t2, "^db +- +-$"), "an empty cell shows '-'");

        reset();
        arg_output = "+PID";
        _cleanup_free_ char *t3 = capture(1, print_rows, rows, &r);
        ok(matches(t3, "^NAME +STATE +PID$"), "+COLUMN adds to the defaults, any case");

        reset();
        arg_fancy = true;
        _cleanup_free_ char *t4 = capture(1, print_rows, rows, &r);
        like(t4, "YES", "fancy columns with their text");

        reset();
        arg_output = "name,state";
        arg_raw = arg_noheadings = true;
        _cleanup_free_ char *t5 = capture(1, print_rows, rows, &r);
        ok(strncmp(t5, "web RUNNING\ndb STOPPED\n", 23) == 0, "raw without heading");

        reset();
        arg_output = "name,nosuch";
        _cleanup_free_ char *e = capture(2, print_rows, rows, &r);
        is(r, -EINVAL, "an unknown column is refused");
        like(e, "Unknown column 'nosuch' for test; columns: name, state, pid",
             "naming it and the valid ones");
}

static void test_json(void) {
        char *ips[] = { (char *) "10.0.3.5", NULL };
        char *none[] = { NULL };
        Row rows[] = { { "web", "RUNNING", 4242, ips, true }, { "db", "STOPPED", 0, none, false }, {} };
        int r;

        reset();
        arg_json = JSON_SHORT;
        _cleanup_free_ char *j1 = capture(1, print_rows, rows, &r);
        is(r, 0, "JSON printed");
        ok(strchr(j1, '\n') == strrchr(j1, '\n'), "short JSON is one line");
        g_autoptr(JsonNode) n1 = parse(j1);
        ok(n1 && JSON_NODE_HOLDS_ARRAY(n1), "a JSON array");
        if (n1) {
                JsonObject *o = json_array_get_object_element(json_node_get_array(n1), 0);
                is_str(json_object_get_string_member(o, "name"), "web", "name");
                is(json_object_get_int_member(o, "pid"), 4242, "pid is a number");
                ok(json_object_get_boolean_member(o, "auto"), "a boolean");
                is(json_object_get_int_member(o, "size"), 1536, "a size is bytes");
                is(json_object_get_int_member(o, "used_usec"), 1000000, "a time is µs, under its JSON key");
                JsonArray *a = json_object_get_array_member(o, "ipv4");
                ok(a && json_array_get_length(a) == 1, "a list is an array");
                JsonObject *o2 = json_array_get_object_element(json_node_get_array(n1), 1);
                ok(!json_object_has_member(o2, "pid"), "an unset cell is left out");
                is(json_array_get_length(json_object_get_array_member(o2, "ipv4")), 0,
                   "an empty list is []");
        }

        reset();
        arg_json = JSON_PRETTY;
        arg_output = "name";
        _cleanup_free_ char *j2 = capture(1, print_rows, rows, &r);
        g_autoptr(JsonNode) n2 = parse(j2);
        ok(n2 && json_object_get_size(json_array_get_object_element(json_node_get_array(n2), 0)) == 1,
           "-o picks the JSON members too");

        /* Invalid UTF-8 and control characters still give valid JSON. */
        reset();
        arg_json = JSON_SHORT;
        Row bad[] = { { "a\xff\xfe"
                        "b\x01"
                        "c\xc3\xa9",
                        "STOPPED", 0, none, false },
                      {} };
        _cleanup_free_ char *j3 = capture(1, print_rows, bad, &r);
        ok(g_utf8_validate(j3, -1, NULL), "JSON output is valid UTF-8");
        g_autoptr(JsonNode) n3 = parse(j3);
        ok(n3 != NULL, "and parses");
        like(j3, "\\u0001", "a control character is escaped");
        like(j3, "\xc3\xa9", "valid UTF-8 is kept");
}

int main(void) {
        test_sizes();
        test_tables();
        test_json();
        return done_testing();
}
