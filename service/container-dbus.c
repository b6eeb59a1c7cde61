/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.warren1.Container: one object per container, served by a fallback
 * vtable; userdata is the Daemon and the name comes from the path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "name.h"
#include "owner.h"
#include "polkit.h"
#include "runtime.h"
#include "shell-dbus.h"
#include "store.h"

char *container_bus_path(const char *name) {
        char *p = NULL;
        if (sd_bus_path_encode(WARREN_CONTAINER_PREFIX, name, &p) < 0)
                return NULL;
        return p;
}

char *container_name_from_path(const char *path) {
        char *name = NULL;
        if (sd_bus_path_decode(path, WARREN_CONTAINER_PREFIX, &name) <= 0)
                return NULL;
        if (!container_name_is_valid(name)) {
                free(name);
                return NULL;
        }
        return name;
}

int container_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                          sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = container_name_from_path(path);
        if (!name)
                return 0;
        if (store_exists(d->store, name) <= 0)
                return 0;
        *found = d;
        return 1;
}

int container_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                              sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_strv_free_ char **names = NULL;
        int r = store_list(d->store, &names);
        if (r < 0)
                return r;
        return bus_paths_from_names(WARREN_CONTAINER_PREFIX, names, nodes);
}

/* The container a Container method is called on, checked to exist. */
static int message_container(Daemon *d, sd_bus_message *m, char **ret_name, uid_t *ret_owner,
                             sd_bus_error *error) {
        _cleanup_free_ char *name = container_name_from_path(sd_bus_message_get_path(m));
        if (!name)
                return sd_bus_error_setf(error, WARREN_ERROR_NO_SUCH_CONTAINER, "No container at path '%s'",
                                         sd_bus_message_get_path(m));
        return bus_container_lookup(d, TAKE_PTR(name), ret_name, ret_owner, error);
}

/* Names, states and owners are public; everything else about someone
 * else's container needs org.warren1.manage. Property reads cannot wait
 * for polkit, so they ask it synchronously and read empty if refused. */
static bool caller_may_read(Daemon *d, const char *name) {
        sd_bus_message *m = sd_bus_get_current_message(d->bus);
        uid_t caller, owner;
        if (!m || bus_caller_uid(m, &caller) < 0)
                return false;
        if (caller == 0)
                return true;
        if (store_get_owner(d->store, name, &owner) < 0)
                return false;
        if (caller == owner)
                return true;
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_check_sync(d, m, "org.warren1.manage", &det) > 0;
}

static int property_get_name(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = container_name_from_path(path);
        if (!name)
                return -ENOENT;
        return sd_bus_message_append(reply, "s", name);
}

static int property_get_owner(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = container_name_from_path(path);
        uid_t owner = 0;
        if (!name)
                return -ENOENT;
        int r = store_get_owner(d->store, name, &owner);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "u", (uint32_t) owner);
}

static int property_get_path(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = container_name_from_path(path), *p = NULL;
        if (!name)
                return -ENOENT;
        if (!caller_may_read(d, name))
                p = strdup("");
        else if (streq(property, "ConfigPath"))
                p = store_container_path(d->store, name, "config");
        else {
                _cleanup_lxc_config_ LxcConfig *c = NULL;
                if (container_load_config(d->store, name, LXC_INCLUDE_KEEP, &c, NULL) >= 0)
                        p = container_rootfs_from_config(c);
                if (!p)
                        p = strdup("");
        }
        if (!p)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", p);
}

/* Properties read from the effective config. */
static int property_get_from_config(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = container_name_from_path(path);
        _cleanup_lxc_config_ LxcConfig *c = NULL;
        if (!name)
                return -ENOENT;
        /* A config that no longer loads still has a readable object. */
        if (container_load_config(d->store, name, LXC_INCLUDE_EXPAND, &c, NULL) < 0)
                c = lxc_config_new();
        if (!c)
                return -ENOMEM;
        if (streq(property, "Unprivileged")) {
                _cleanup_strv_free_ char **maps = lxc_config_get_all(c, "lxc.idmap");
                return sd_bus_message_append(reply, "b", strv_length(maps) > 0);
        }
        if (streq(property, "Autostart")) {
                const char *v = lxc_config_get(c, "lxc.start.auto");
                return sd_bus_message_append(reply, "b", v && streq(v, "1"));
        }
        /* TTYs */
        const char *v = lxc_config_get(c, "lxc.tty.max");
        return sd_bus_message_append(reply, "u", v ? (uint32_t) strtoul(v, NULL, 10) : 0);
}

/* Properties of the running container, from its monitor. */
static int property_get_runtime(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = container_name_from_path(path);
        RuntimeInfo info = {};
        if (!name)
                return -ENOENT;
        runtime_get_info(d, name, streq(property, "MemoryCurrent"), &info);
        if (!streq(property, "State") && !caller_may_read(d, name)) {
                runtime_info_done(&info);
                info = (RuntimeInfo){ .state = info.state };
        }
        int r;
        if (streq(property, "State"))
                r = sd_bus_message_append(reply, "s", info.state);
        else if (streq(property, "InitPID"))
                r = sd_bus_message_append(reply, "u", (uint32_t) info.init_pid);
        else if (streq(property, "CGroup"))
                r = sd_bus_message_append(reply, "s", strempty(info.cgroup));
        else if (streq(property, "MemoryCurrent"))
                r = sd_bus_message_append(reply, "t", info.memory_current);
        else if (streq(property, "Namespaces"))
                r = runtime_append_namespaces(reply, info.init_pid);
        else /* IPv4Addresses, IPv6Addresses */
                r = runtime_append_addresses(reply, info.init_pid, streq(property, "IPv4Addresses") ? 4 : 6);
        runtime_info_done(&info);
        return r;
}

static int reply_config_items(sd_bus_message *m, const LxcConfig *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = bus_append_config_items(reply, c);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int do_get_config(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        _cleanup_lxc_config_ LxcConfig *c = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = container_load_config(d->store, name, LXC_INCLUDE_KEEP, &c, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        return reply_config_items(m, c);
}

static int method_get_config(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        int r = message_container(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        /* Someone else's config may hold secrets: reading it is managing it. */
        if (caller == owner)
                return do_get_config(m, userdata, error);
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(d, m, "org.warren1.manage", &det, do_get_config, d, error);
}

/* Whether the change needs the administrator: a non-root owner's config
 * follows the owner rules; only what the change adds or removes counts.
 * 1 yes, 0 no, <0 with error set. */
static int set_config_needs_admin(Daemon *d, const char *name, uid_t owner, char *const *kv, uid_t caller,
                                  char **ret_why, sd_bus_error *error) {
        _cleanup_lxc_config_ LxcConfig *old = NULL, *new_config = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *dir = NULL;
        Owner o;
        if (owner == 0 || caller == 0)
                return 0; /* root's own containers; root may do anything */
        int r = container_load_config(d->store, name, LXC_INCLUDE_KEEP, &old, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        new_config = lxc_config_copy(old);
        dir = store_container_path(d->store, name, NULL);
        if (!new_config || !dir)
                return -ENOMEM;
        r = container_config_apply_items(new_config, kv, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = owner_load(d, owner, &o, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        PolicyContext ctx;
        owner_policy_context(d, &o, dir, &ctx);
        r = policy_check_change(&ctx, old, new_config, NULL, &err);
        owner_done(&o);
        if (r == -EACCES) {
                if (ret_why)
                        *ret_why = strdup(warren_error_message(&err));
                return 1;
        }
        if (r == -EPERM)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        return 0;
}

static int do_set_config(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        _cleanup_strv_free_ char **kv = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = bus_read_config_items(m, &kv, error);
        if (r < 0)
                return r;
        r = container_set_config(d->store, name, kv, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = sd_bus_reply_method_return(m, NULL);
        /* Properties that come from the config may have changed. */
        _cleanup_free_ char *path = container_bus_path(name);
        if (path)
                (void) sd_bus_emit_properties_changed(d->bus, path, WARREN_CONTAINER_IFACE, "Autostart",
                                                      "Unprivileged", "TTYs", "RootfsPath", NULL);
        return r;
}

/* manage-own/manage granted; admin-only items need create-privileged too. */
static int do_set_config_authorized(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL, *why = NULL;
        _cleanup_strv_free_ char **kv = NULL;
        uid_t owner, caller;
        int r = message_container(d, m, &name, &owner, error);
        if (r >= 0)
                r = bus_read_config_items(m, &kv, error);
        if (r >= 0)
                r = bus_caller_uid(m, &caller);
        if (r >= 0)
                r = set_config_needs_admin(d, name, owner, kv, caller, &why, error);
        if (r < 0)
                return r;
        if (r == 0) {
                r = sd_bus_message_rewind(m, true);
                return r < 0 ? r : do_set_config(m, userdata, error);
        }
        const PolkitDetails det = { .container = name, .owner = owner, .why = why };
        return polkit_authorize(d, m, "org.warren1.create-privileged", &det, do_set_config, d, error);
}

static int method_set_config(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        _cleanup_strv_free_ char **kv = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        uid_t owner, caller;
        int r = message_container(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        /* Validate before authorizing: garbage never prompts anyone. */
        r = bus_read_config_items(m, &kv, error);
        if (r < 0)
                return r;
        _cleanup_lxc_config_ LxcConfig *scratch = lxc_config_new();
        if (!scratch)
                return -ENOMEM;
        r = container_config_apply_items(scratch, kv, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        r = set_config_needs_admin(d, name, owner, kv, caller, NULL, error);
        if (r < 0)
                return r;
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(
                d, m, polkit_pick_action(caller, owner, "org.warren1.manage-own", "org.warren1.manage"),
                &det, do_set_config_authorized, d, error);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = container_name_from_path(sd_bus_message_get_path(m));
        if (!name)
                return sd_bus_error_setf(error, WARREN_ERROR_NO_SUCH_CONTAINER, "No container at path '%s'",
                                         sd_bus_message_get_path(m));
        return bus_destroy_container(d, m, name, error);
}

const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_runtime, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InitPID", "u", property_get_runtime, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("OwnerUID", "u", property_get_owner, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Unprivileged", "b", property_get_from_config, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Autostart", "b", property_get_from_config, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IPv4Addresses", "as", property_get_runtime, 0, 0),
        SD_BUS_PROPERTY("IPv6Addresses", "as", property_get_runtime, 0, 0),
        SD_BUS_PROPERTY("Namespaces", "a(st)", property_get_runtime, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CGroup", "s", property_get_runtime, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ConfigPath", "s", property_get_path, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RootfsPath", "s", property_get_path, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TTYs", "u", property_get_from_config, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MemoryCurrent", "t", property_get_runtime, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_container_start,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_ARGS("u", timeout_s, "b", kill), SD_BUS_NO_RESULT,
                                method_container_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reboot", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_container_reboot,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("i", signal), SD_BUS_NO_RESULT, method_container_kill,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Freeze", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_container_freeze,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unfreeze", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_container_unfreeze,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Attach", SD_BUS_ARGS("as", argv, "a{sv}", options),
                                SD_BUS_RESULT("h", pty_master_or_none, "u", pid), method_attach,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("WaitAttached", SD_BUS_ARGS("u", pid), SD_BUS_RESULT("i", status),
                                method_wait_attached, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("KillAttached", SD_BUS_ARGS("u", pid, "i", signal), SD_BUS_NO_RESULT,
                                method_kill_attached, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("AttachExited", SD_BUS_ARGS("u", pid, "i", exit_status), 0),
        SD_BUS_METHOD_WITH_ARGS("OpenConsole", SD_BUS_ARGS("u", tty),
                                SD_BUS_RESULT("h", pty_master, "s", name), method_open_console,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetConsoleLog", SD_BUS_NO_ARGS, SD_BUS_RESULT("ay", log),
                                method_get_console_log, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Destroy", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_destroy,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetConfig", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ss)", items),
                                method_get_config, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetConfig", SD_BUS_ARGS("a(ss)", items), SD_BUS_NO_RESULT,
                                method_set_config, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
