/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "data-work.h"
#include "name.h"
#include "polkit.h"
#include "runtime.h"
#include "store.h"

int bus_validate_name(const char *name, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = container_name_validate(name, &err);
        if (r < 0)
                return sd_bus_error_set(error, WARREN_ERROR_INVALID_NAME, warren_error_message(&err)), r;
        return 0;
}

int bus_container_lookup(Daemon *d, char *name, char **ret_name, uid_t *ret_owner, sd_bus_error *error) {
        _cleanup_free_ char *n = name;
        int r = bus_validate_name(n, error);
        if (r < 0)
                return r;
        r = store_exists(d->store, n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to look up container '%s': %m", n);
        if (r == 0)
                return sd_bus_error_setf(error, WARREN_ERROR_NO_SUCH_CONTAINER, "No such container '%s'", n);
        if (ret_owner) {
                r = store_get_owner(d->store, n, ret_owner);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r,
                                                       "Failed to read the owner of container '%s': %m", n);
        }
        if (ret_name)
                *ret_name = TAKE_PTR(n);
        return 0;
}

int bus_append_config_items(sd_bus_message *m, const LxcConfig *c) {
        int r = sd_bus_message_open_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < lxc_config_n_items(c); i++) {
                const char *k, *v;
                lxc_config_item(c, i, &k, &v);
                r = sd_bus_message_append(m, "(ss)", k, v);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int bus_read_config_items(sd_bus_message *m, char ***ret_kv, sd_bus_error *error) {
        _cleanup_strv_free_ char **kv = NULL;
        const char *k, *v;
        size_t n = 0;
        int r = sd_bus_message_enter_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ss)", &k, &v)) > 0) {
                if (++n > LXC_CONFIG_MAX_ITEMS)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Too many config items (more than %u)",
                                                 LXC_CONFIG_MAX_ITEMS);
                if (strv_extend(&kv, k) < 0 || strv_extend(&kv, v) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        if (!kv && !(kv = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret_kv = TAKE_PTR(kv);
        return 0;
}

static int do_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *name = NULL, *path = NULL;
        const char *arg = NULL;
        int r;

        /* Re-derive the name: Manager passes it, Container has it in the path. */
        if (streq(sd_bus_message_get_member(m), "DestroyContainer")) {
                r = sd_bus_message_read(m, "s", &arg);
                if (r < 0)
                        return r;
                name = strdup(arg);
        } else
                name = container_name_from_path(sd_bus_message_get_path(m));
        if (!name)
                return -ENOMEM;
        if (runtime_is_active(d, name))
                return sd_bus_error_setf(error, WARREN_ERROR_BUSY,
                                         "Container '%s' is running; stop it first", name);
        /* A clone, snapshot or export reading it, or a restore writing it. */
        r = data_work_check_busy(name, error);
        if (r < 0)
                return r;
        r = container_destroy(d->store, name, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        path = container_bus_path(name);
        if (path)
                (void) sd_bus_emit_signal(d->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                          "ContainerRemoved", "so", name, path);
        return sd_bus_reply_method_return(m, NULL);
}

int bus_destroy_container(Daemon *d, sd_bus_message *m, const char *name, sd_bus_error *error) {
        uid_t owner, caller;
        char *n = strdup(name);
        if (!n)
                return -ENOMEM;
        int r = bus_container_lookup(d, n, NULL, &owner, error);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(
                d, m, polkit_pick_action(caller, owner, "org.warren1.manage-own", "org.warren1.manage"),
                &det, do_destroy, d, error);
}

int bus_paths_from_names(const char *prefix, char *const *names, char ***ret) {
        _cleanup_strv_free_ char **paths = calloc(1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        STRV_FOREACH(n, names) {
                char *p = NULL;
                int r = sd_bus_path_encode(prefix, *n, &p);
                if (r < 0)
                        return r;
                if (strv_consume(&paths, p) < 0) {
                        free(p);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(paths);
        return 0;
}
