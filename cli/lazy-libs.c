/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-glib (with GLib) and libsmartcols, loaded when warrenctl first
 * prints a table or JSON (output.c), not at every start: most runs (start,
 * stop, attach, scripts) print neither, and linking those libraries and
 * theirs (gio, gmodule, mount, selinux, blkid, pcre2, ffi...) at exec cost
 * more than the rest of warrenctl's start (measured: tests/bench/cli.sh).
 *
 * Each function output.c calls is defined here with the library's own
 * prototype (from its header) and calls the real one, looked up once. The
 * libraries are part of warren's dependencies: one missing is a broken
 * installation, reported as such. */
#include <dlfcn.h>
#include <json-glib/json-glib.h>
#include <libsmartcols/libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>

enum {
        LIB_JSON,
        LIB_SMARTCOLS,
        _LIB_MAX
};

/* The sonames of the ABIs output.c is built against. */
static const char *const sonames[_LIB_MAX] = {
        [LIB_JSON] = "libjson-glib-1.0.so.0", /* GLib and GObject come with it */
        [LIB_SMARTCOLS] = "libsmartcols.so.1",
};

static void *lazy_sym(unsigned lib, const char *name) {
        static void *handles[_LIB_MAX];
        if (!handles[lib]) {
                handles[lib] = dlopen(sonames[lib], RTLD_NOW | RTLD_LOCAL);
                if (!handles[lib]) {
                        fprintf(stderr, "warrenctl: Cannot load %s: %s\n", sonames[lib], dlerror());
                        exit(EXIT_FAILURE);
                }
        }
        /* dlsym() on a handle also searches what that library depends on. */
        void *p = dlsym(handles[lib], name);
        if (!p) {
                fprintf(stderr, "warrenctl: %s has no %s: %s\n", sonames[lib], name, dlerror());
                exit(EXIT_FAILURE);
        }
        return p;
}

#define LAZY(lib, ret, name, params, args)                               \
        ret name params {                                                \
                static __typeof__(&name) real;                           \
                if (!real)                                               \
                        real = (__typeof__(&name)) lazy_sym(lib, #name); \
                return real args;                                        \
        }
#define LAZY_VOID(lib, name, params, args)                               \
        void name params {                                               \
                static __typeof__(&name) real;                           \
                if (!real)                                               \
                        real = (__typeof__(&name)) lazy_sym(lib, #name); \
                real args;                                               \
        }

LAZY_VOID(LIB_JSON, g_free, (gpointer mem), (mem))
LAZY_VOID(LIB_JSON, g_object_unref, (gpointer object), (object))
LAZY(LIB_JSON, gboolean, g_utf8_validate, (const gchar *str, gssize max_len, const gchar **end),
     (str, max_len, end))
LAZY(LIB_JSON, gchar *, g_utf8_make_valid, (const gchar *str, gssize len), (str, len))

LAZY(LIB_JSON, JsonArray *, json_array_new, (void), ())
LAZY_VOID(LIB_JSON, json_array_unref, (JsonArray * array), (array))
LAZY_VOID(LIB_JSON, json_array_add_element, (JsonArray * array, JsonNode *node), (array, node))
LAZY_VOID(LIB_JSON, json_array_add_object_element, (JsonArray * array, JsonObject *value), (array, value))
LAZY(LIB_JSON, JsonObject *, json_object_new, (void), ())
LAZY_VOID(LIB_JSON, json_object_unref, (JsonObject * object), (object))
LAZY_VOID(LIB_JSON, json_object_set_member, (JsonObject * object, const gchar *member_name, JsonNode *node),
          (object, member_name, node))
LAZY_VOID(LIB_JSON, json_object_set_int_member,
          (JsonObject * object, const gchar *member_name, gint64 value), (object, member_name, value))
LAZY_VOID(LIB_JSON, json_object_set_boolean_member,
          (JsonObject * object, const gchar *member_name, gboolean value), (object, member_name, value))
LAZY(LIB_JSON, JsonNode *, json_node_new, (JsonNodeType type), (type))
LAZY_VOID(LIB_JSON, json_node_unref, (JsonNode * node), (node))
LAZY_VOID(LIB_JSON, json_node_set_string, (JsonNode * node, const gchar *value), (node, value))
LAZY_VOID(LIB_JSON, json_node_set_int, (JsonNode * node, gint64 value), (node, value))
LAZY_VOID(LIB_JSON, json_node_set_double, (JsonNode * node, gdouble value), (node, value))
LAZY_VOID(LIB_JSON, json_node_set_boolean, (JsonNode * node, gboolean value), (node, value))
LAZY_VOID(LIB_JSON, json_node_take_array, (JsonNode * node, JsonArray *array), (node, array))
LAZY_VOID(LIB_JSON, json_node_take_object, (JsonNode * node, JsonObject *object), (node, object))
LAZY(LIB_JSON, JsonGenerator *, json_generator_new, (void), ())
LAZY_VOID(LIB_JSON, json_generator_set_pretty, (JsonGenerator * generator, gboolean is_pretty),
          (generator, is_pretty))
LAZY_VOID(LIB_JSON, json_generator_set_indent, (JsonGenerator * generator, guint indent_level),
          (generator, indent_level))
LAZY_VOID(LIB_JSON, json_generator_set_root, (JsonGenerator * generator, JsonNode *node), (generator, node))
LAZY(LIB_JSON, gchar *, json_generator_to_data, (JsonGenerator * generator, gsize *length),
     (generator, length))

LAZY(LIB_SMARTCOLS, struct libscols_table *, scols_new_table, (void), ())
LAZY_VOID(LIB_SMARTCOLS, scols_unref_table, (struct libscols_table * tb), (tb))
LAZY(LIB_SMARTCOLS, int, scols_table_enable_noheadings, (struct libscols_table * tb, int enable),
     (tb, enable))
LAZY(LIB_SMARTCOLS, int, scols_table_enable_raw, (struct libscols_table * tb, int enable), (tb, enable))
LAZY(LIB_SMARTCOLS, struct libscols_column *, scols_table_new_column,
     (struct libscols_table * tb, const char *name, double whint, int flags), (tb, name, whint, flags))
LAZY(LIB_SMARTCOLS, struct libscols_line *, scols_table_new_line,
     (struct libscols_table * tb, struct libscols_line *parent), (tb, parent))
LAZY(LIB_SMARTCOLS, int, scols_line_set_data, (struct libscols_line * ln, size_t n, const char *data),
     (ln, n, data))
LAZY(LIB_SMARTCOLS, int, scols_print_table, (struct libscols_table * tb), (tb))
