/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.warren1.Container: one object per container, served by a fallback
 * vtable; userdata is the Daemon and the name comes from the path (or, for
 * the Manager shortcuts, the first argument). Attach and consoles live in
 * attach-dbus.c and shell-dbus.c. Runtime state comes from the cache in
 * runtime.c: no property read talks to a monitor. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "cgroup.h"
#include "config-live.h"
#include "config.h"
#include "container-dbus.h"
#include "container.h"
#include "daemon.h"
#include "data-dbus.h"
#include "data-work.h"
#include "destroy-work.h"
#include "monitor-client.h"
#include "monitor.h"
#include "network-dbus.h"
#include "network.h"
#include "owner.h"
#include "polkit.h"
#include "runtime.h"
#include "systemd-notify.h"
#include "shell-dbus.h"
#include "stats-dbus.h"
#include "store.h"

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

/* ---- properties -------------------------------------------------------------- */

/* Name, state, owner, config flags and problems are public. The rest (init
 * pid, cgroup, namespaces, paths, memory, addresses) only root and the
 * owner read; others read them empty. No polkit here: a property read
 * never waits, and a broadcast has no caller (these are signalled as
 * invalidated, never with a value). */
static bool caller_may_read(Daemon *d, const char *name) {
        sd_bus_message *m = sd_bus_get_current_message(d->bus);
        uid_t caller, owner;
        if (!m || bus_caller_uid(m, &caller) < 0)
                return false;
        if (caller == 0)
                return true;
        return store_get_owner(d->store, name, &owner) >= 0 && caller == owner;
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
        uid_t owner;
        if (!name)
                return -ENOENT;
        /* A damaged owner file reads as (uid_t) -1, never as an error: one
         * container's damage must not fail GetAll/GetManagedObjects. */
        if (store_get_owner(d->store, name, &owner) < 0)
                owner = (uid_t) -1;
        return sd_bus_message_append(reply, "u", (uint32_t) owner);
}

static int property_get_problem(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = container_name_from_path(path), *problem = NULL;
        if (!name)
                return -ENOENT;
        int r = container_check(d->store, name, &problem);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "s", strempty(problem));
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

static int append_namespaces(sd_bus_message *reply, pid_t init_pid) {
        static const char *const types[] = { "pid", "mnt", "uts", "ipc", "net", "cgroup", "user", "time" };
        int r = sd_bus_message_open_container(reply, 'a', "(st)");
        if (r < 0)
                return r;
        for (size_t i = 0; init_pid > 0 && i < ELEMENTSOF(types); i++) {
                char path[64];
                struct stat st;
                snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) init_pid, types[i]);
                if (stat(path, &st) < 0)
                        continue;
                r = sd_bus_message_append(reply, "(st)", types[i], (uint64_t) st.st_ino);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int append_addresses(sd_bus_message *reply, pid_t init_pid, int family) {
        _cleanup_strv_free_ char **addresses = NULL;
        /* Read from the container's own netns: static or DHCP-acquired. */
        if (init_pid > 0)
                (void) network_container_addresses(init_pid, family, &addresses, NULL);
        return sd_bus_message_append_strv(reply, addresses);
}

static uint64_t memory_current(Daemon *d, const char *cgroup) {
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        uint64_t v = 0;
        if (d->cgroup_layout && cgroup_new_at(d->cgroup_layout, cgroup, &cg, NULL) >= 0)
                (void) cgroup_memory_current(cg, &v, NULL);
        return v;
}

/* Properties of the running container, from the cache (and the kernel). */
static int property_get_runtime(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = container_name_from_path(path);
        RuntimeInfo info;
        if (!name)
                return -ENOENT;
        runtime_get_info(d, name, &info);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", monitor_state_to_string(info.state));
        if (!caller_may_read(d, name))
                info = (RuntimeInfo){ .cgroup = "" };
        if (streq(property, "InitPID"))
                return sd_bus_message_append(reply, "u", (uint32_t) info.init_pid);
        if (streq(property, "CGroup"))
                return sd_bus_message_append(reply, "s", info.cgroup);
        if (streq(property, "MemoryCurrent"))
                return sd_bus_message_append(reply, "t",
                                             info.init_pid > 0 ? memory_current(d, info.cgroup) : 0);
        if (streq(property, "Namespaces"))
                return append_namespaces(reply, info.init_pid);
        return append_addresses(reply, info.init_pid, streq(property, "IPv4Addresses") ? AF_INET : AF_INET6);
}

/* ---- signals ------------------------------------------------------------------- */

/* What sd-bus lists for every object besides ours. */
static const char *const standard_interfaces[] = {
        "org.freedesktop.DBus.Peer",
        "org.freedesktop.DBus.Introspectable",
        "org.freedesktop.DBus.Properties",
};

/* At creation these are true for every reader: it does not run. */
static const char *const added_properties[] = {
        "Name",      "State",      "InitPID", "OwnerUID", "Unprivileged",
        "Autostart", "Namespaces", "CGroup",  "TTYs",     "Problem",
};

static int append_property(sd_bus_message *m, Daemon *d, const char *path, const char *property) {
        const sd_bus_vtable *v = container_vtable;
        for (; v->type != _SD_BUS_VTABLE_END; v++)
                if (v->type == _SD_BUS_VTABLE_PROPERTY && streq(v->x.property.member, property))
                        break;
        if (v->type == _SD_BUS_VTABLE_END)
                return -ENOENT;
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", property);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', v->x.property.signature);
        if (r >= 0)
                r = v->x.property.get(d->bus, path, WARREN_CONTAINER_IFACE, property, m, d, NULL);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int container_emit_added(Daemon *d, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = container_bus_path(name);
        if (!path)
                return -ENOMEM;
        int r = sd_bus_message_new_signal(d->bus, &m, WARREN_MANAGER_PATH,
                                          "org.freedesktop.DBus.ObjectManager", "InterfacesAdded");
        if (r >= 0)
                r = sd_bus_message_append(m, "o", path);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(standard_interfaces); i++)
                r = sd_bus_message_append(m, "{sa{sv}}", standard_interfaces[i], 0);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'e', "sa{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", WARREN_CONTAINER_IFACE);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(added_properties); i++)
                r = append_property(m, d, path, added_properties[i]);
        for (unsigned i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_send(d->bus, m, NULL);
        (void) sd_bus_emit_signal(d->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE, "ContainerNew", "so",
                                  name, path);
        notify_status_changed(d);
        return r;
}

int container_emit_removed(Daemon *d, const char *name) {
        _cleanup_free_ char *path = container_bus_path(name);
        if (!path)
                return -ENOMEM;
        (void) sd_bus_emit_signal(d->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE, "ContainerRemoved",
                                  "so", name, path);
        notify_status_changed(d);
        return sd_bus_emit_interfaces_removed(d->bus, path, standard_interfaces[0], standard_interfaces[1],
                                              standard_interfaces[2], WARREN_CONTAINER_IFACE, NULL);
}

/* ---- runtime methods (and their Manager shortcuts) ----------------------------- */

/* Start: the container's files are sound, the owner may run it (map
 * inside the owner's ranges, limit.running), its networks are ready and
 * within the usernet quota; then the monitor. Counting and reserving are
 * one step: nothing yields between the counts and runtime_start(). */
static int do_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL, *problem = NULL;
        _cleanup_lxc_config_ LxcConfig *c = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        uid_t owner;
        int r = bus_message_container(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        r = container_check(d->store, name, &problem);
        if (r < 0)
                return r;
        if (problem)
                return sd_bus_error_setf(error, WARREN_ERROR_INVALID_CONFIG,
                                         "Cannot start container '%s': %s", name, problem);
        if (runtime_is_active(d, name))
                return runtime_start(d, m, name, owner, error); /* says why not */
        /* A clone, export or restore working on its files. */
        r = data_work_check_busy(name, error);
        if (r < 0)
                return r;
        r = container_load_config(d->store, name, LXC_INCLUDE_EXPAND, &c, &err);
        if (r >= 0)
                r = owner_check_may_run(d, name, owner, c, &err);
        if (r >= 0)
                r = networks_prepare_start(d, c, owner, &err);
        if (r == -EDQUOT)
                return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED, warren_error_message(&err)), r;
        if (r == -EPERM || r == -EACCES)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        return runtime_start_inactive(d, m, name, owner, error);
}

static int do_stop(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uint32_t timeout;
        int kill;
        int r = bus_message_container(d, m, &name, NULL, error);
        if (r >= 0)
                r = sd_bus_message_read(m, "ub", &timeout, &kill);
        if (r < 0)
                return r;
        return runtime_stop(d, m, name, timeout, kill, error);
}

static int do_request(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        const char *member = sd_bus_message_get_member(m);
        int32_t sig = 0;
        int r = bus_message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        if (streq(member, "Kill")) {
                r = sd_bus_message_read(m, "i", &sig);
                if (r < 0)
                        return r;
                return runtime_request(d, m, name, MONITOR_CMD_KILL, (uint32_t) sig, 0, NULL, error);
        }
        MonitorCommand command = streq(member, "Reboot")   ? MONITOR_CMD_REBOOT
                                 : streq(member, "Freeze") ? MONITOR_CMD_FREEZE
                                                           : MONITOR_CMD_UNFREEZE;
        return runtime_request(d, m, name, command, 0, 0, NULL, error);
}

/* Validate, then authorize manage-own/manage, then cont. */
static int runtime_method(sd_bus_message *m, void *userdata, sd_bus_error *error, AuthorizedFunc cont) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        int r = bus_message_container(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        if (streq(sd_bus_message_get_member(m), "Kill")) {
                int32_t sig;
                r = sd_bus_message_read(m, "i", &sig);
                if (r < 0)
                        return r;
                if (sig <= 0 || sig >= _NSIG)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid signal %" PRIi32 ": expected 1..%d", sig,
                                                 _NSIG - 1);
        }
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(
                d, m, polkit_pick_action(caller, owner, "org.warren1.manage-own", "org.warren1.manage"),
                &det, cont, d, error);
}

int method_container_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_start);
}

int method_container_stop(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_stop);
}

static int method_request(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return runtime_method(m, userdata, error, do_request);
}

/* ---- Destroy -------------------------------------------------------------------- */

/* The owner of a container whose owner file is damaged is nobody: only
 * root (or org.warren1.manage) may destroy it. */
static int destroy_target(Daemon *d, sd_bus_message *m, char **ret_name, uid_t *ret_owner,
                          sd_bus_error *error) {
        int r = bus_message_container(d, m, ret_name, NULL, error);
        if (r < 0)
                return r;
        if (store_get_owner(d->store, *ret_name, ret_owner) < 0)
                *ret_owner = (uid_t) -1;
        return 0;
}

static int do_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *name = NULL;
        uid_t owner;
        int r = destroy_target(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        /* Nothing of it may run on: a live init over a deleted rootfs is
         * the worst kind of leftover. */
        if (runtime_is_active(d, name))
                return sd_bus_error_setf(error, WARREN_ERROR_BUSY, "Container '%s' is %s; stop it first",
                                         name, runtime_state_string(d, name));
        /* A clone, snapshot or export reading it, or a restore writing it. */
        r = data_work_check_busy(name, error);
        if (r < 0)
                return r;
        /* The hooks and the removal run in a child (destroy-work.h). */
        return destroy_work_start(d, m, name, owner, error);
}

int method_container_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        int r = destroy_target(d, m, &name, &owner, error);
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

/* ---- config ------------------------------------------------------------------------ */

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
        int r = bus_message_container(d, m, &name, NULL, error);
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
        int r = bus_message_container(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        /* Someone else's config may hold secrets: reading it is managing it. */
        if (caller == owner) {
                r = sd_bus_message_rewind(m, true);
                return r < 0 ? r : do_get_config(m, userdata, error);
        }
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(d, m, "org.warren1.manage", &det, do_get_config, d, error);
}

/* Whether the change needs the administrator: a non-root owner's config
 * follows the owner rules; only what the change adds or removes counts.
 * 1 yes, 0 no, <0 with error set. */
static int set_config_needs_admin(Daemon *d, const char *name, uid_t owner, char *const *kv, uid_t caller,
                                  char **ret_why, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        if (owner == 0 || caller == 0)
                return 0; /* root's own containers; root may do anything */
        int r = owner_check_config_change(d, name, owner, kv, &err);
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

/* ---- SetConfig on a running container: cgroup keys apply live ---- */

/* SetConfigWithResult's options: live b (default true: cgroup keys also
 * go to the running cgroups). InvalidArgs naming anything else. */
static int read_set_config_options(sd_bus_message *m, bool *ret_live, sd_bus_error *error) {
        const char *key, *contents;
        int live = 1;
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                if (!streq(key, "live"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown option '%s' (known: live)", key);
                if (!streq(contents, "b"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option 'live' must be a boolean (b), not '%s'", contents);
                r = sd_bus_message_read(m, "v", "b", &live);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        *ret_live = live;
        return r;
}

/* The layout of the cgroups the change goes to, or NULL: only a container
 * that runs settled (not starting or stopping) takes it live. */
static const CgroupLayout *live_layout(Daemon *d, const char *name) {
        RuntimeInfo info;
        runtime_get_info(d, name, &info);
        bool settled = info.state == MONITOR_STATE_RUNNING || info.state == MONITOR_STATE_FROZEN ||
                       info.state == MONITOR_STATE_FREEZING;
        return settled ? d->cgroup_layout : NULL;
}

static int reply_set_config(sd_bus_message *m, const ConfigLiveResult *res) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        if (!streq_ptr(sd_bus_message_get_member(m), "SetConfigWithResult"))
                return sd_bus_reply_method_return(m, NULL);
        int r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, res->applied_live);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, res->needs_restart);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int do_set_config(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL, *path = NULL;
        _cleanup_strv_free_ char **kv = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        ConfigLiveResult res = {};
        bool live = true;
        int r = bus_message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = bus_read_config_items(m, &kv, error);
        if (r >= 0 && streq_ptr(sd_bus_message_get_member(m), "SetConfigWithResult"))
                r = read_set_config_options(m, &live, error);
        if (r < 0)
                return r;
        r = container_set_config_live(d->store, name, kv, live_layout(d, name), MONITOR_CGROUP_PARENT, live,
                                      &res, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = reply_set_config(m, &res);
        config_live_result_done(&res);
        /* Properties that come from the config may have changed. */
        path = container_bus_path(name);
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
        int r = bus_message_container(d, m, &name, &owner, error);
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
        int r = bus_message_container(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        /* Validate before authorizing: garbage never prompts anyone. */
        r = bus_read_config_items(m, &kv, error);
        bool live;
        if (r >= 0 && streq_ptr(sd_bus_message_get_member(m), "SetConfigWithResult"))
                r = read_set_config_options(m, &live, error);
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

/* Caller-restricted properties change with the state but are only ever
 * signalled as invalidated (a broadcast has no caller to decide for). */
#define RESTRICTED SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION
#define UNPRIV SD_BUS_VTABLE_UNPRIVILEGED

const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_runtime, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InitPID", "u", property_get_runtime, 0, RESTRICTED),
        SD_BUS_PROPERTY("OwnerUID", "u", property_get_owner, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Unprivileged", "b", property_get_from_config, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Autostart", "b", property_get_from_config, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IPv4Addresses", "as", property_get_runtime, 0, 0),
        SD_BUS_PROPERTY("IPv6Addresses", "as", property_get_runtime, 0, 0),
        SD_BUS_PROPERTY("Namespaces", "a(st)", property_get_runtime, 0, RESTRICTED),
        SD_BUS_PROPERTY("CGroup", "s", property_get_runtime, 0, RESTRICTED),
        SD_BUS_PROPERTY("ConfigPath", "s", property_get_path, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RootfsPath", "s", property_get_path, 0, RESTRICTED),
        SD_BUS_PROPERTY("TTYs", "u", property_get_from_config, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MemoryCurrent", "t", property_get_runtime, 0, 0),
        SD_BUS_PROPERTY("Problem", "s", property_get_problem, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_container_start, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_ARGS("u", timeout_s, "b", kill), SD_BUS_NO_RESULT,
                                method_container_stop, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Reboot", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_request, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("i", signal), SD_BUS_NO_RESULT, method_request, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Freeze", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_request, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Unfreeze", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_request, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("Attach", SD_BUS_ARGS("as", argv, "a{sv}", options),
                                SD_BUS_RESULT("h", pty_master_or_none, "u", pid), method_attach, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("WaitAttached", SD_BUS_ARGS("u", pid), SD_BUS_RESULT("i", status),
                                method_wait_attached, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("KillAttached", SD_BUS_ARGS("u", pid, "i", signal), SD_BUS_NO_RESULT,
                                method_kill_attached, UNPRIV),
        SD_BUS_SIGNAL_WITH_ARGS("AttachExited", SD_BUS_ARGS("u", pid, "i", exit_status), 0),
        SD_BUS_METHOD_WITH_ARGS("OpenConsole", SD_BUS_ARGS("u", tty),
                                SD_BUS_RESULT("h", pty_master, "s", name), method_open_console, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetConsoleLog", SD_BUS_NO_ARGS, SD_BUS_RESULT("ay", log),
                                method_get_console_log, UNPRIV),
        DATA_CONTAINER_METHODS,
        SD_BUS_METHOD_WITH_ARGS("Destroy", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_container_destroy,
                                UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetConfig", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ss)", items),
                                method_get_config, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("SetConfig", SD_BUS_ARGS("a(ss)", items), SD_BUS_NO_RESULT,
                                method_set_config, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("SetConfigWithResult", SD_BUS_ARGS("a(ss)", items, "a{sv}", options),
                                SD_BUS_RESULT("as", applied_live, "as", needs_restart), method_set_config,
                                UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("GetStats", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", stats),
                                method_container_get_stats, UNPRIV),
        SD_BUS_VTABLE_END,
};
