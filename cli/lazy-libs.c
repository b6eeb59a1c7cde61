/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-glib (with GLib) and libsmartcols, loaded when warrenctl first
 * prints a table or JSON (output.c), and libarchive, loaded when a file
 * push or pull first makes or reads a tar stream (verbs-data.c), not at
 * every start: most runs (start, stop, attach, scripts) need none of them,
 * and linking those libraries and theirs (gio, gmodule, mount, selinux,
 * blkid, pcre2, ffi; xml2, icu, nettle, acl, bz2...) at exec cost more than
 * the rest of warrenctl's start (measured: tests/bench/cli.sh).
 *
 * Each function output.c calls is defined here with the library's own
 * prototype (from its header) and calls the real one, looked up once. The
 * libraries are part of warren's dependencies: one missing is a broken
 * installation, reported as such. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <json-glib/json-glib.h>
#include <libsmartcols/libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>

enum {
        LIB_JSON,
        LIB_SMARTCOLS,
        LIB_ARCHIVE,
        _LIB_MAX
};

/* The sonames of the ABIs output.c is built against. */
static const char *const sonames[_LIB_MAX] = {
        [LIB_JSON] = "libjson-glib-1.0.so.0", /* GLib and GObject come with it */
        [LIB_SMARTCOLS] = "libsmartcols.so.1",
        [LIB_ARCHIVE] = "libarchive.so.13",
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

#define A LIB_ARCHIVE
LAZY(A, struct archive *, archive_read_new, (void), ())
LAZY(A, struct archive *, archive_read_disk_new, (void), ())
LAZY(A, struct archive *, archive_write_new, (void), ())
LAZY(A, struct archive *, archive_write_disk_new, (void), ())
LAZY(A, int, archive_read_free, (struct archive * a), (a))
LAZY(A, int, archive_write_free, (struct archive * a), (a))
LAZY(A, int, archive_write_close, (struct archive * a), (a))
LAZY(A, const char *, archive_error_string, (struct archive * a), (a))
LAZY(A, int, archive_read_support_format_tar, (struct archive * a), (a))
LAZY(A, int, archive_read_open_fd, (struct archive * a, int fd, size_t block_size), (a, fd, block_size))
LAZY(A, int, archive_read_next_header, (struct archive * a, struct archive_entry **e), (a, e))
LAZY(A, int, archive_read_next_header2, (struct archive * a, struct archive_entry *e), (a, e))
LAZY(A, la_ssize_t, archive_read_data, (struct archive * a, void *buf, size_t n), (a, buf, n))
LAZY(A, int, archive_read_data_block, (struct archive * a, const void **buf, size_t *n, la_int64_t *offset),
     (a, buf, n, offset))
LAZY(A, int, archive_read_disk_open, (struct archive * a, const char *path), (a, path))
LAZY(A, int, archive_read_disk_descend, (struct archive * a), (a))
LAZY(A, int, archive_read_disk_set_behavior, (struct archive * a, int flags), (a, flags))
LAZY(A, int, archive_read_disk_set_symlink_physical, (struct archive * a), (a))
LAZY(A, int, archive_write_set_format_pax_restricted, (struct archive * a), (a))
LAZY(A, int, archive_write_open_fd, (struct archive * a, int fd), (a, fd))
LAZY(A, int, archive_write_disk_set_options, (struct archive * a, int flags), (a, flags))
LAZY(A, int, archive_write_header, (struct archive * a, struct archive_entry *e), (a, e))
LAZY(A, la_ssize_t, archive_write_data, (struct archive * a, const void *buf, size_t n), (a, buf, n))
LAZY(A, la_ssize_t, archive_write_data_block,
     (struct archive * a, const void *buf, size_t n, la_int64_t offset), (a, buf, n, offset))
LAZY(A, int, archive_write_finish_entry, (struct archive * a), (a))

LAZY(A, struct archive_entry *, archive_entry_new, (void), ())
LAZY(A, struct archive_entry *, archive_entry_clear, (struct archive_entry * e), (e))
LAZY_VOID(A, archive_entry_free, (struct archive_entry * e), (e))
LAZY(A, const char *, archive_entry_pathname, (struct archive_entry * e), (e))
LAZY(A, const char *, archive_entry_hardlink, (struct archive_entry * e), (e))
LAZY(A, __LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
LAZY(A, __LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e))
LAZY(A, la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
LAZY_VOID(A, archive_entry_copy_pathname, (struct archive_entry * e, const char *s), (e, s))
LAZY_VOID(A, archive_entry_copy_hardlink, (struct archive_entry * e, const char *s), (e, s))
LAZY_VOID(A, archive_entry_copy_uname, (struct archive_entry * e, const char *s), (e, s))
LAZY_VOID(A, archive_entry_copy_gname, (struct archive_entry * e, const char *s), (e, s))
LAZY_VOID(A, archive_entry_set_uid, (struct archive_entry * e, la_int64_t id), (e, id))
LAZY_VOID(A, archive_entry_set_gid, (struct archive_entry * e, la_int64_t id), (e, id))
LAZY_VOID(A, archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T mode), (e, mode))
#undef A
