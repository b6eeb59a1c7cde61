/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Managed networks: Manager.ListNetworks/CreateNetwork/DeleteNetwork and
 * org.warren1.Network objects, plus what a container start needs from
 * them (bridges ensured, the default network, usernet quotas). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "network-dbus.h"
#include "systemd-scope.h"
#include "network.h"
#include "polkit.h"
#include "runtime.h"
#include "store.h"
#include "usernet.h"

/* The network default.conf attaches new containers to, created on first
 * use with LXC's lxcbr0 defaults when nobody defined it. */
#define DEFAULT_NETWORK "warrenbr0"
#define DEFAULT_NETWORK_ADDRESS "10.0.3.1/24"

char *network_bus_path(const char *name) {
        char *p = NULL;
        if (sd_bus_path_encode(WARREN_NETWORK_PREFIX, name, &p) < 0)
                return NULL;
        return p;
}

static char *network_name_from_path(const char *path) {
        char *name = NULL;
        if (sd_bus_path_decode(path, WARREN_NETWORK_PREFIX, &name) <= 0)
                return NULL;
        if (network_name_validate(name, NULL) < 0) {
                free(name);
                return NULL;
        }
        return name;
}

static int reap_dnsmasq(sd_event_source *s, const siginfo_t *si, void *userdata) {
        log_debug("dnsmasq %d exited", (int) si->si_pid);
        return 0;
}

static void watch_dnsmasq(Daemon *d, const char *network, pid_t pid) {
        /* dnsmasq is our child; it outlives us if we exit on idle: under
         * systemd in a scope of its own, not left in warrend.service. */
        if (pid <= 0)
                return;
        (void) sd_event_add_child(d->event, NULL, pid, WEXITED, reap_dnsmasq, NULL);
        if (systemd_is_running()) {
                _cleanup_free_ char *unit = systemd_dnsmasq_scope_name(network), *desc = NULL;
                if (unit && asprintf(&desc, "dnsmasq of warren network %s", network) >= 0)
                        (void) systemd_scope_adopt_async(d->bus, unit, desc, pid);
        }
}

void networks_ensure_all(Daemon *d) {
        _cleanup_strv_free_ char **names = NULL;
        if (network_list(d->state_dir, &names, NULL) < 0)
                return;
        STRV_FOREACH(n, names) {
                _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
                pid_t pid = 0;
                if (network_ensure(d->state_dir, d->runtime_dir, *n, &pid, &err) < 0)
                        log_warning("Failed to bring up network %s: %s", *n, warren_error_message(&err));
                watch_dnsmasq(d, *n, pid);
        }
}

static int create_default_network(Daemon *d, WarrenError *reterr) {
        _cleanup_network_def_ NetworkDef *def = NULL;
        pid_t pid = 0;
        int r = network_def_new(DEFAULT_NETWORK, &def, reterr);
        if (r >= 0)
                r = network_def_set(def, "ipv4.address", DEFAULT_NETWORK_ADDRESS, reterr);
        if (r >= 0)
                r = network_def_set(def, "nat", "true", reterr);
        if (r >= 0)
                r = network_def_set(def, "dhcp", "true", reterr);
        if (r >= 0)
                r = network_create(d->state_dir, d->runtime_dir, def, &pid, reterr);
        if (r < 0)
                return r;
        log_info("Created the default network %s (%s, NAT, DHCP).", DEFAULT_NETWORK,
                 DEFAULT_NETWORK_ADDRESS);
        watch_dnsmasq(d, DEFAULT_NETWORK, pid);
        return 0;
}

/* Names of the containers owned by uid. */
static int owned_containers(Daemon *d, uid_t uid, char ***ret) {
        _cleanup_strv_free_ char **names = NULL, **mine = NULL;
        int r = store_list(d->store, &names);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                uid_t owner;
                if (store_get_owner(d->store, *n, &owner) >= 0 && owner == uid && strv_extend(&mine, *n) < 0)
                        return -ENOMEM;
        }
        if (!mine && !(mine = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(mine);
        return 0;
}

static unsigned count_str(char *const *l, const char *s) {
        unsigned n = 0;
        STRV_FOREACH(x, l)
                n += streq(*x, s);
        return n;
}

/* Veths of the owner on bridge. A container with an entry in the runtime
 * cache (starting, running, stopping) counts what its config asks for or
 * what it has attached, whichever is more: a start in flight has not
 * attached its veths yet, and its monitor attaches them while we count,
 * so counting what is attached alone races. Any other container of the
 * owner counts what is attached (normally nothing). */
static int usernet_in_use(Daemon *d, char *const *mine, char *const *active, const char *bridge,
                          unsigned *ret, WarrenError *reterr) {
        _cleanup_strv_free_ char **idle = NULL;
        unsigned current = 0;
        STRV_FOREACH(n, mine)
                if (!strv_contains(active, *n) && strv_extend(&idle, *n) < 0)
                        return -ENOMEM;
        int r = network_count_attached(bridge, idle, &current, reterr);
        if (r < 0)
                return r;
        STRV_FOREACH(n, active) {
                _cleanup_lxc_config_ LxcConfig *c = NULL;
                _cleanup_strv_free_ char **theirs = NULL;
                char *one[] = { *n, NULL };
                unsigned attached = 0, wanted = 0;
                if (container_load_config(d->store, *n, LXC_INCLUDE_EXPAND, &c, NULL) >= 0 &&
                    (theirs = network_config_bridges(c)))
                        wanted = count_str(theirs, bridge);
                r = network_count_attached(bridge, one, &attached, reterr);
                if (r < 0)
                        return r;
                current += MAX(wanted, attached);
        }
        *ret = current;
        return 0;
}

static int check_usernet(Daemon *d, uid_t owner, char *const *bridges, WarrenError *reterr) {
        _cleanup_free_ char *user = NULL, *path = NULL;
        _cleanup_strv_free_ char **groups = NULL, **mine = NULL, **active = NULL, **seen = NULL;
        int r = usernet_lookup_user(owner, &user, &groups, reterr);
        if (r < 0)
                return r;
        r = owned_containers(d, owner, &mine);
        if (r < 0)
                return r;
        r = runtime_list_active(d, owner, &active);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/usernet", d->config_dir) < 0)
                return -ENOMEM;
        STRV_FOREACH(b, bridges) {
                unsigned current = 0, quota = 0, wanted = count_str(bridges, *b);
                if (strv_contains(seen, *b))
                        continue;
                if (strv_extend(&seen, *b) < 0)
                        return -ENOMEM;
                r = usernet_in_use(d, mine, active, *b, &current, reterr);
                if (r < 0)
                        return r;
                r = usernet_may_attach(path, user, groups, *b, current + wanted - 1, &quota, reterr);
                if (r < 0)
                        return r;
                if (r == 0)
                        return warren_error_set(
                                reterr, EDQUOT,
                                "User %s may attach at most %u veth interface%s to bridge %s "
                                "(%s): %u in use, %u more wanted",
                                user, quota, quota == 1 ? "" : "s", *b, path, current, wanted);
        }
        return 0;
}

int networks_prepare_start(Daemon *d, const LxcConfig *c, uid_t owner, WarrenError *reterr) {
        _cleanup_strv_free_ char **bridges = network_config_bridges(c), **defined = NULL;
        if (!bridges)
                return -ENOMEM;
        int r = network_list(d->state_dir, &defined, reterr);
        if (r < 0)
                return r;
        STRV_FOREACH(b, bridges) {
                if (strv_contains(defined, *b)) {
                        pid_t pid = 0;
                        r = network_ensure(d->state_dir, d->runtime_dir, *b, &pid, reterr);
                        watch_dnsmasq(d, *b, pid);
                        if (r < 0)
                                return r;
                } else if (streq(*b, DEFAULT_NETWORK) && if_nametoindex(*b) == 0) {
                        r = create_default_network(d, reterr);
                        if (r < 0)
                                return r;
                        if (strv_extend(&defined, *b) < 0)
                                return -ENOMEM;
                }
        }
        if (owner == 0)
                return 0;
        return check_usernet(d, owner, bridges, reterr);
}

/* --- bus ------------------------------------------------------------------- */

int method_list_networks(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = network_list(d->state_dir, &names, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sso)");
        STRV_FOREACH(n, names) {
                _cleanup_network_def_ NetworkDef *def = NULL;
                _cleanup_free_ char *path = network_bus_path(*n);
                if (r < 0)
                        break;
                if (!path)
                        return -ENOMEM;
                if (network_def_load(d->state_dir, *n, &def, NULL) < 0)
                        continue;
                r = sd_bus_message_append(reply, "(sso)", *n, strempty(def->ipv4_address), path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int read_network_options(sd_bus_message *m, NetworkDef *def, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        static const char *const string_keys[] = { "ipv4.address", "dhcp.range", "uplink" };
        static const char *const bool_keys[] = { "nat", "dhcp", "dns", "force" };
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *s = NULL;
                bool known = false;
                int b;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(string_keys); i++)
                        if (streq(key, string_keys[i])) {
                                known = true;
                                if (sd_bus_message_read(m, "v", "s", &s) < 0)
                                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                                 "Option '%s' must be a string (s)", key);
                        }
                for (size_t i = 0; i < ELEMENTSOF(bool_keys); i++)
                        if (streq(key, bool_keys[i])) {
                                known = true;
                                if (sd_bus_message_read(m, "v", "b", &b) < 0)
                                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                                 "Option '%s' must be a boolean (b)", key);
                                s = b ? "true" : "false";
                        }
                if (!known)
                        return sd_bus_error_setf(
                                error, SD_BUS_ERROR_INVALID_ARGS,
                                "Unknown option '%s' (known: ipv4.address, nat, dhcp, dhcp.range, "
                                "dns, uplink, force)",
                                key);
                r = network_def_set(def, key, s, &err);
                if (r < 0)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                warren_error_message(&err)),
                               r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        r = network_def_check(def, &err);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        return 0;
}

static int read_network_def(sd_bus_message *m, NetworkDef **ret, sd_bus_error *error) {
        _cleanup_network_def_ NetworkDef *def = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = network_def_new(name, &def, &err);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        r = read_network_options(m, def, error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(def);
        return 0;
}

static int do_create_network(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_network_def_ NetworkDef *def = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        pid_t pid = 0;
        int r = read_network_def(m, &def, error);
        if (r < 0)
                return r;
        r = network_create(d->state_dir, d->runtime_dir, def, &pid, &err);
        if (r == -EEXIST)
                return sd_bus_error_set(error, WARREN_ERROR_ALREADY_EXISTS, warren_error_message(&err)), r;
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", warren_error_message(&err));
        watch_dnsmasq(d, def->name, pid);
        path = network_bus_path(def->name);
        if (!path)
                return -ENOMEM;
        (void) sd_bus_emit_object_added(d->bus, path);
        return sd_bus_reply_method_return(m, "o", path);
}

int method_create_network(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_network_def_ NetworkDef *def = NULL;
        int r = read_network_def(m, &def, error);
        if (r < 0)
                return r;
        return polkit_authorize(userdata, m, "org.warren1.network", NULL, do_create_network, userdata,
                                error);
}

/* The network named by the first argument, checked to be defined. */
static int network_arg(Daemon *d, sd_bus_message *m, char **ret, sd_bus_error *error) {
        _cleanup_network_def_ NetworkDef *def = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = network_name_validate(name, &err);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        r = network_def_load(d->state_dir, name, &def, NULL);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No such network '%s'", name);
        *ret = strdup(name);
        return *ret ? 0 : -ENOMEM;
}

static int check_unused(Daemon *d, const char *name, sd_bus_error *error) {
        _cleanup_strv_free_ char **users = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = network_users(d->state_dir, name, &users, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        if (strv_length(users) == 0)
                return 0;
        _cleanup_free_ char *list = strv_join(users, ", ");
        return sd_bus_error_setf(error, WARREN_ERROR_BUSY, "Network '%s' is in use by container%s %s", name,
                                 strv_length(users) == 1 ? "" : "s", strna(list));
}

static int do_delete_network(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL, *path = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = network_arg(d, m, &name, error);
        if (r < 0)
                return r;
        r = check_unused(d, name, error);
        if (r < 0)
                return r;
        r = network_delete(d->state_dir, d->runtime_dir, name, &err);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", warren_error_message(&err));
        path = network_bus_path(name);
        if (path)
                (void) sd_bus_emit_object_removed(d->bus, path);
        return sd_bus_reply_method_return(m, NULL);
}

int method_delete_network(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        int r = network_arg(d, m, &name, error);
        if (r < 0)
                return r;
        r = check_unused(d, name, error);
        if (r < 0)
                return r;
        return polkit_authorize(d, m, "org.warren1.network", NULL, do_delete_network, d, error);
}

/* --- network objects -------------------------------------------------------- */

int network_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = network_name_from_path(path);
        _cleanup_network_def_ NetworkDef *def = NULL;
        if (!name || network_def_load(d->state_dir, name, &def, NULL) < 0)
                return 0;
        *found = d;
        return 1;
}

int network_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                            sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_strv_free_ char **names = NULL;
        int r = network_list(d->state_dir, &names, NULL);
        if (r < 0)
                return r;
        return bus_paths_from_names(WARREN_NETWORK_PREFIX, names, nodes);
}

static int property_get_network(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = network_name_from_path(path), *range = NULL;
        _cleanup_network_def_ NetworkDef *def = NULL;
        if (!name)
                return -ENOENT;
        int r = network_def_load(d->state_dir, name, &def, NULL);
        if (r < 0)
                return r;
        if (streq(property, "Name"))
                return sd_bus_message_append(reply, "s", def->name);
        if (streq(property, "IPv4Address"))
                return sd_bus_message_append(reply, "s", strempty(def->ipv4_address));
        if (streq(property, "NAT"))
                return sd_bus_message_append(reply, "b", def->nat);
        if (streq(property, "DHCP"))
                return sd_bus_message_append(reply, "b", def->dhcp);
        if (streq(property, "Uplink"))
                return sd_bus_message_append(reply, "s", strempty(def->uplink));
        if (streq(property, "DHCPRange")) {
                if (def->dhcp && network_def_dhcp_range(def, &range, NULL) < 0)
                        range = NULL;
                return sd_bus_message_append(reply, "s", strempty(range));
        }
        /* Containers */
        _cleanup_strv_free_ char **users = NULL;
        r = network_users(d->state_dir, name, &users, NULL);
        if (r < 0)
                return r;
        return sd_bus_message_append_strv(reply, users);
}

const sd_bus_vtable network_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IPv4Address", "s", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NAT", "b", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DHCP", "b", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DHCPRange", "s", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Uplink", "s", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Containers", "as", property_get_network, 0, 0),
        SD_BUS_VTABLE_END,
};
