/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libsystemd's sd-bus for warren-monitor, loaded only when it talks to
 * systemd (lazy-libsystemd.h). Each function systemd-scope.c and
 * systemd-machined.c call is defined here with the library's own prototype
 * (from its header) and calls the real one through a table; sd-bus's
 * variadic calls go through their va_list variants. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "basic/macro.h"
#include "lazy-libsystemd.h"

/* The soname of the ABI the callers are built against. */
#define LIBSYSTEMD_SONAME "libsystemd.so.0"

#define FOREACH_SYMBOL(X)                   \
        X(sd_bus_open_system)               \
        X(sd_bus_flush_close_unref)         \
        X(sd_bus_set_method_call_timeout)   \
        X(sd_bus_match_signal)              \
        X(sd_bus_call)                      \
        X(sd_bus_call_async)                \
        X(sd_bus_call_methodv)              \
        X(sd_bus_process)                   \
        X(sd_bus_wait)                      \
        X(sd_bus_error_free)                \
        X(sd_bus_error_has_name)            \
        X(sd_bus_message_new_method_call)   \
        X(sd_bus_message_appendv)           \
        X(sd_bus_message_append_array)      \
        X(sd_bus_message_open_container)    \
        X(sd_bus_message_close_container)   \
        X(sd_bus_message_readv)             \
        X(sd_bus_message_unref)             \
        X(sd_bus_message_get_error)         \
        X(sd_bus_slot_set_destroy_callback) \
        X(sd_bus_slot_set_floating)         \
        X(sd_bus_slot_unref)

static struct {
        void *handle;
#define FIELD(name) __typeof__(&name) name;
        FOREACH_SYMBOL(FIELD)
#undef FIELD
} lib;

int lazy_libsystemd_load(WarrenError *reterr) {
        if (lib.handle)
                return 0;
        void *handle = dlopen(LIBSYSTEMD_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!handle)
                return warren_error_set(reterr, ELIBACC, "Cannot load %s: %s", LIBSYSTEMD_SONAME, dlerror());
#define LOOKUP(name)                                                                                    \
        lib.name = (__typeof__(&name)) dlsym(handle, #name);                                            \
        if (!lib.name) {                                                                                \
                int r = warren_error_set(reterr, ELIBACC, "%s has no %s: %s", LIBSYSTEMD_SONAME, #name, \
                                         dlerror());                                                    \
                lib = (__typeof__(lib)){};                                                              \
                dlclose(handle);                                                                        \
                return r;                                                                               \
        }
        FOREACH_SYMBOL(LOOKUP)
#undef LOOKUP
        lib.handle = handle;
        return 0;
}

void lazy_libsystemd_unload(void) {
        if (!lib.handle)
                return;
        void *handle = lib.handle;
        lib = (__typeof__(lib)){};
        (void) dlclose(handle);
}

/* Each function: the real one once loaded, else a failure that does nothing. */
#define CALL(name, fail, ...) return lib.name ? lib.name(__VA_ARGS__) : (fail)

int sd_bus_open_system(sd_bus **ret) {
        CALL(sd_bus_open_system, -ELIBACC, ret);
}

sd_bus *sd_bus_flush_close_unref(sd_bus *bus) {
        CALL(sd_bus_flush_close_unref, NULL, bus);
}

int sd_bus_set_method_call_timeout(sd_bus *bus, uint64_t usec) {
        CALL(sd_bus_set_method_call_timeout, -ELIBACC, bus, usec);
}

int sd_bus_match_signal(sd_bus *bus, sd_bus_slot **ret, const char *sender, const char *path,
                        const char *interface, const char *member, sd_bus_message_handler_t callback,
                        void *userdata) {
        CALL(sd_bus_match_signal, -ELIBACC, bus, ret, sender, path, interface, member, callback, userdata);
}

int sd_bus_call(sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error,
                sd_bus_message **reply) {
        CALL(sd_bus_call, -ELIBACC, bus, m, usec, ret_error, reply);
}

int sd_bus_call_async(sd_bus *bus, sd_bus_slot **slot, sd_bus_message *m, sd_bus_message_handler_t callback,
                      void *userdata, uint64_t usec) {
        CALL(sd_bus_call_async, -ELIBACC, bus, slot, m, callback, userdata, usec);
}

int sd_bus_call_method(sd_bus *bus, const char *destination, const char *path, const char *interface,
                       const char *member, sd_bus_error *ret_error, sd_bus_message **reply,
                       const char *types, ...) {
        if (!lib.sd_bus_call_methodv)
                return -ELIBACC;
        va_list ap;
        va_start(ap, types);
        int r = lib.sd_bus_call_methodv(bus, destination, path, interface, member, ret_error, reply, types,
                                        ap);
        va_end(ap);
        return r;
}

int sd_bus_process(sd_bus *bus, sd_bus_message **r) {
        CALL(sd_bus_process, -ELIBACC, bus, r);
}

int sd_bus_wait(sd_bus *bus, uint64_t timeout_usec) {
        CALL(sd_bus_wait, -ELIBACC, bus, timeout_usec);
}

void sd_bus_error_free(sd_bus_error *e) {
        if (lib.sd_bus_error_free)
                lib.sd_bus_error_free(e);
}

int sd_bus_error_has_name(const sd_bus_error *e, const char *name) {
        CALL(sd_bus_error_has_name, 0, e, name);
}

/* Behind the sd_bus_error_has_names() macro: any of the NULL-terminated names. */
int sd_bus_error_has_names_sentinel(const sd_bus_error *e, ...) {
        va_list ap;
        int r = 0;
        va_start(ap, e);
        for (const char *n; r == 0 && (n = va_arg(ap, const char *));)
                r = sd_bus_error_has_name(e, n);
        va_end(ap);
        return r;
}

int sd_bus_message_new_method_call(sd_bus *bus, sd_bus_message **m, const char *destination,
                                   const char *path, const char *interface, const char *member) {
        CALL(sd_bus_message_new_method_call, -ELIBACC, bus, m, destination, path, interface, member);
}

int sd_bus_message_append(sd_bus_message *m, const char *types, ...) {
        if (!lib.sd_bus_message_appendv)
                return -ELIBACC;
        va_list ap;
        va_start(ap, types);
        int r = lib.sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_message_append_array(sd_bus_message *m, char type, const void *ptr, size_t size) {
        CALL(sd_bus_message_append_array, -ELIBACC, m, type, ptr, size);
}

int sd_bus_message_open_container(sd_bus_message *m, char type, const char *contents) {
        CALL(sd_bus_message_open_container, -ELIBACC, m, type, contents);
}

int sd_bus_message_close_container(sd_bus_message *m) {
        CALL(sd_bus_message_close_container, -ELIBACC, m);
}

int sd_bus_message_read(sd_bus_message *m, const char *types, ...) {
        if (!lib.sd_bus_message_readv)
                return -ELIBACC;
        va_list ap;
        va_start(ap, types);
        int r = lib.sd_bus_message_readv(m, types, ap);
        va_end(ap);
        return r;
}

sd_bus_message *sd_bus_message_unref(sd_bus_message *m) {
        CALL(sd_bus_message_unref, NULL, m);
}

const sd_bus_error *sd_bus_message_get_error(sd_bus_message *m) {
        CALL(sd_bus_message_get_error, NULL, m);
}

int sd_bus_slot_set_destroy_callback(sd_bus_slot *s, sd_bus_destroy_t callback) {
        CALL(sd_bus_slot_set_destroy_callback, -ELIBACC, s, callback);
}

int sd_bus_slot_set_floating(sd_bus_slot *slot, int b) {
        CALL(sd_bus_slot_set_floating, -ELIBACC, slot, b);
}

sd_bus_slot *sd_bus_slot_unref(sd_bus_slot *slot) {
        CALL(sd_bus_slot_unref, NULL, slot);
}
