/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.warren1.Manager at /org/warren1. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "checkconfig.h"
#include "config.h"
#include "container-dbus.h"
#include "container.h"
#include "daemon.h"
#include "create-dbus.h"
#include "image-dbus.h"
#include "job.h"
#include "network-dbus.h"
#include "owner.h"
#include "polkit.h"
#include "runtime.h"
#include "shell-dbus.h"
#include "store.h"

static int method_list_containers(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r = store_list(d->store, &names);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to list containers: %m");
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssuo)");
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *path = container_bus_path(*n);
                uid_t owner;
                if (!path)
                        return -ENOMEM;
                /* A damaged container is listed all the same (its Problem says why). */
                if (store_get_owner(d->store, *n, &owner) < 0)
                        owner = (uid_t) -1;
                r = sd_bus_message_append(reply, "(ssuo)", *n, runtime_state_string(d, *n), (uint32_t) owner,
                                          path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *arg;
        _cleanup_free_ char *name = NULL, *path = NULL;
        int r = sd_bus_message_read(m, "s", &arg);
        if (r < 0)
                return r;
        char *n = strdup(arg);
        if (!n)
                return -ENOMEM;
        r = bus_container_lookup(d, n, &name, NULL, error);
        if (r < 0)
                return r;
        path = container_bus_path(name);
        if (!path)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "o", path);
}

static int method_validate_config(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        const char *text;
        if (!c)
                return -ENOMEM;
        int r = sd_bus_message_read(m, "s", &text);
        if (r < 0)
                return r;
        /* Includes are recorded, never opened: warrend reads no file for a
         * caller; and anyone but root may only name the shared config dirs. */
        uid_t caller;
        Owner o = {};
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        if (caller != 0 && (r = owner_load(d, caller, &o, &err)) < 0)
                return bus_error_from_config(error, r, &err);
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP, .include_allow = o.include_allow };
        r = lxc_config_parse(c, text, strlen(text), "<input>", &opts, &err);
        owner_done(&o);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = bus_append_config_items(reply, c);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_check_config(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_check_report_ CheckReport *report = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = checkconfig_run(NULL, &report, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < report->n_items; i++) {
                const CheckItem *it = &report->items[i];
                r = sd_bus_message_append(reply, "(sss)", it->feature, check_status_to_string(it->status),
                                          strempty(it->detail));
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Every method is open to all callers (SD_BUS_VTABLE_UNPRIVILEGED): polkit decides inside. */
#define UNPRIV SD_BUS_VTABLE_UNPRIVILEGED

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListContainers", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssuo)", containers),
                                method_list_containers, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetContainer", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", container),
                                method_get_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("CreateContainer",
                                SD_BUS_ARGS("s", name, "s", template, "as", template_args, "a{sv}", options),
                                SD_BUS_RESULT("o", container, "o", job), method_create_container, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("DestroyContainer", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_container_destroy, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("StartContainer", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_container_start, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("StopContainer", SD_BUS_ARGS("s", name, "u", timeout_s, "b", kill),
                                SD_BUS_NO_RESULT, method_container_stop, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("AttachContainer", SD_BUS_ARGS("s", name, "as", argv, "a{sv}", options),
                                SD_BUS_RESULT("h", pty_master_or_none, "u", pid), method_attach, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ValidateConfig", SD_BUS_ARGS("s", text), SD_BUS_RESULT("a(ss)", items),
                                method_validate_config, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("CheckConfig", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sss)", features),
                                method_check_config, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssstto)", images),
                                method_list_images, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("PullImage", SD_BUS_ARGS("as", template_args, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_pull_image, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("o", image), SD_BUS_NO_RESULT,
                                method_remove_image, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ListNetworks", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sso)", networks),
                                method_list_networks, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("CreateNetwork", SD_BUS_ARGS("s", name, "a{sv}", options),
                                SD_BUS_RESULT("o", network), method_create_network, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("DeleteNetwork", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_delete_network, UNPRIV),
        SD_BUS_SIGNAL_WITH_ARGS("ContainerNew", SD_BUS_ARGS("s", name, "o", container), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ContainerRemoved", SD_BUS_ARGS("s", name, "o", container), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobNew", SD_BUS_ARGS("u", id, "o", job), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved", SD_BUS_ARGS("u", id, "o", job, "s", result), 0),
        SD_BUS_VTABLE_END,
};
