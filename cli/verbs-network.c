/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrenctl network: managed bridges (NAT, DHCP, uplink) through warrend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "verbs-network.h"

static const char *arg_ipv4 = NULL;
static const char *arg_dhcp_range = NULL;
static const char *arg_uplink = NULL;
static bool arg_nat = false;
static bool arg_dhcp = false;
static bool arg_no_dns = false;
static bool arg_force = false;
static const char *arg_first_option = NULL; /* for "means nothing to VERB" */

int parse_network_option(int c, const char *arg) {
        static const char *const names[] = {
                [NETWORK_ARG_IPV4 - NETWORK_ARG_IPV4] = "--ipv4",
                [NETWORK_ARG_NAT - NETWORK_ARG_IPV4] = "--nat",
                [NETWORK_ARG_DHCP - NETWORK_ARG_IPV4] = "--dhcp",
                [NETWORK_ARG_DHCP_RANGE - NETWORK_ARG_IPV4] = "--dhcp-range",
                [NETWORK_ARG_NO_DNS - NETWORK_ARG_IPV4] = "--no-dns",
                [NETWORK_ARG_UPLINK - NETWORK_ARG_IPV4] = "--uplink",
                [NETWORK_ARG_FORCE - NETWORK_ARG_IPV4] = "--force",
        };
        if (c < NETWORK_ARG_IPV4 || c > NETWORK_ARG_FORCE)
                return -EINVAL;
        if (!arg_first_option)
                arg_first_option = names[c - NETWORK_ARG_IPV4];
        switch (c) {
        case NETWORK_ARG_IPV4:
                /* The server checks the CIDR; only the obviously empty is caught here. */
                if (isempty(arg)) {
                        fprintf(stderr, "warrenctl: Invalid --ipv4 '': expected ADDRESS/PREFIX\n");
                        return -EINVAL;
                }
                arg_ipv4 = arg;
                return 0;
        case NETWORK_ARG_NAT:
                arg_nat = true;
                return 0;
        case NETWORK_ARG_DHCP:
                arg_dhcp = true;
                return 0;
        case NETWORK_ARG_DHCP_RANGE:
                if (isempty(arg) || !strchr(arg, ',')) {
                        fprintf(stderr, "warrenctl: Invalid --dhcp-range '%s': expected FIRST,LAST\n", arg);
                        return -EINVAL;
                }
                arg_dhcp_range = arg;
                return 0;
        case NETWORK_ARG_NO_DNS:
                arg_no_dns = true;
                return 0;
        case NETWORK_ARG_UPLINK:
                if (isempty(arg)) {
                        fprintf(stderr, "warrenctl: Invalid --uplink '': expected an interface name\n");
                        return -EINVAL;
                }
                arg_uplink = arg;
                return 0;
        case NETWORK_ARG_FORCE:
                arg_force = true;
                return 0;
        }
        return -EINVAL;
}

int network_options_check(const char *verb) {
        if (!arg_first_option || streq(verb, "network"))
                return 0;
        fprintf(stderr, "warrenctl: %s means nothing for '%s' (it is for 'network create')\n",
                arg_first_option, verb);
        return -EINVAL;
}

static int call_failed(const char *what, const char *name, sd_bus_error *error, int r) {
        _cleanup_free_ char *w = NULL;
        if (asprintf(&w, "Failed to %s '%s'", what, name) < 0)
                w = NULL;
        r = log_bus_error(w ?: what, error, r);
        sd_bus_error_free(error);
        return r;
}

/* --- create / delete ------------------------------------------------------ */

static int append_options(sd_bus_message *m) {
        int r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg_ipv4)
                r = sd_bus_message_append(m, "{sv}", "ipv4.address", "s", arg_ipv4);
        if (r >= 0 && arg_nat)
                r = sd_bus_message_append(m, "{sv}", "nat", "b", 1);
        if (r >= 0 && arg_dhcp)
                r = sd_bus_message_append(m, "{sv}", "dhcp", "b", 1);
        if (r >= 0 && arg_dhcp_range)
                r = sd_bus_message_append(m, "{sv}", "dhcp.range", "s", arg_dhcp_range);
        if (r >= 0 && arg_no_dns)
                r = sd_bus_message_append(m, "{sv}", "dns", "b", 0);
        if (r >= 0 && arg_uplink)
                r = sd_bus_message_append(m, "{sv}", "uplink", "s", arg_uplink);
        if (r >= 0 && arg_force)
                r = sd_bus_message_append(m, "{sv}", "force", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int network_create(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, WARREN_MANAGER_PATH,
                                               WARREN_MANAGER_IFACE, "CreateNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = append_options(m);
        if (r < 0)
                return log_bus_error("Failed to build request", NULL, r);
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0)
                return call_failed("create network", name, &error, r);
        return 0;
}

static int network_delete(sd_bus *bus, char **names) {
        int ret = 0;
        STRV_FOREACH(n, names) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                int r = sd_bus_call_method(bus, WARREN_BUS, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                           "DeleteNetwork", &error, NULL, "s", *n);
                if (r < 0) {
                        r = call_failed("delete network", *n, &error, r);
                        if (ret == 0)
                                ret = r;
                }
        }
        return ret;
}

/* --- list / info ------------------------------------------------------------ */

typedef struct NetworkProps {
        char *name, *ipv4, *dhcp_range, *uplink;
        int nat, dhcp;
        char **containers;
} NetworkProps;

static void network_props_done(NetworkProps *p) {
        free(p->name);
        free(p->ipv4);
        free(p->dhcp_range);
        free(p->uplink);
        strv_free(p->containers);
        *p = (NetworkProps){};
}

static int network_get_props(sd_bus *bus, const char *path, NetworkProps *p) {
        static const struct bus_properties_map map[] = {
                { "Name", "s", NULL, offsetof(NetworkProps, name) },
                { "IPv4Address", "s", NULL, offsetof(NetworkProps, ipv4) },
                { "NAT", "b", NULL, offsetof(NetworkProps, nat) },
                { "DHCP", "b", NULL, offsetof(NetworkProps, dhcp) },
                { "DHCPRange", "s", NULL, offsetof(NetworkProps, dhcp_range) },
                { "Uplink", "s", NULL, offsetof(NetworkProps, uplink) },
                { "Containers", "as", NULL, offsetof(NetworkProps, containers) },
                {},
        };
        return bus_map_all_properties(bus, path, WARREN_NETWORK_IFACE, map, p);
}

static const OutputColumn network_columns[] = {
        { "name", "NAME", OUTPUT_STRING, OUTPUT_DEFAULT, "the bridge's name" },
        { "ipv4", "IPV4", OUTPUT_STRING, OUTPUT_DEFAULT, "the bridge's address (CIDR)" },
        { "nat", "NAT", OUTPUT_BOOLEAN, OUTPUT_DEFAULT, "masquerading out of the host" },
        { "dhcp", "DHCP", OUTPUT_BOOLEAN, OUTPUT_DEFAULT, "a DHCP (and DNS) server on it" },
        { "dhcp_range", "DHCP RANGE", OUTPUT_STRING, 0, "the DHCP range (FIRST,LAST)" },
        { "uplink", "UPLINK", OUTPUT_STRING, 0, "a host interface enslaved to it" },
        { "containers", "CONTAINERS", OUTPUT_STRV, OUTPUT_DEFAULT | OUTPUT_WRAP, "containers on it" },
        { "path", "PATH", OUTPUT_STRING, 0, "the D-Bus object path" },
        {},
};

static int network_row(OutputTable *t, const NetworkProps *p, const char *path) {
        int r = output_table_add_row(t);
        if (r >= 0)
                r = output_cell_string(t, "name", p->name);
        if (r >= 0)
                r = output_cell_string(t, "ipv4", strempty(p->ipv4));
        if (r >= 0)
                r = output_cell_bool(t, "nat", p->nat, NULL);
        if (r >= 0)
                r = output_cell_bool(t, "dhcp", p->dhcp, NULL);
        if (r >= 0)
                r = output_cell_string(t, "dhcp_range", strempty(p->dhcp_range));
        if (r >= 0)
                r = output_cell_string(t, "uplink", strempty(p->uplink));
        if (r >= 0)
                r = output_cell_strv(t, "containers", p->containers);
        if (r >= 0)
                r = output_cell_string(t, "path", path);
        return r;
}

static int network_list(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *ipv4, *path;
        OutputTable *t = NULL;
        int r = output_table_new(network_columns, "network list", &t);
        if (r < 0)
                return r;
        r = call_manager(bus, "ListNetworks", &reply, NULL);
        if (r >= 0 && (r = sd_bus_message_enter_container(reply, 'a', "(sso)")) < 0)
                log_bus_error("Bad reply to ListNetworks", NULL, r);
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sso)", &name, &ipv4, &path)) > 0) {
                NetworkProps p = {};
                /* A network deleted meanwhile is still listed, from the reply. */
                if (network_get_props(bus, path, &p) < 0) {
                        network_props_done(&p);
                        p.name = strdup(name);
                        p.ipv4 = strdup(ipv4);
                        if (!p.name || !p.ipv4) {
                                network_props_done(&p);
                                r = -ENOMEM;
                                break;
                        }
                }
                r = network_row(t, &p, path);
                network_props_done(&p);
        }
        if (r >= 0)
                r = output_table_print(t);
        output_table_free(t);
        return r;
}

/* No GetNetwork: the path comes from ListNetworks, whatever its escaping. */
static int network_path(sd_bus *bus, const char *name, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *n, *ipv4, *path;
        int r = call_manager(bus, "ListNetworks", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sso)");
        if (r < 0)
                return log_bus_error("Bad reply to ListNetworks", NULL, r);
        while ((r = sd_bus_message_read(reply, "(sso)", &n, &ipv4, &path)) > 0)
                if (streq(n, name)) {
                        *ret = strdup(path);
                        return *ret ? 0 : -ENOMEM;
                }
        if (r < 0)
                return log_bus_error("Bad reply to ListNetworks", NULL, r);
        fprintf(stderr, "warrenctl: No network '%s' (see warrenctl network list)\n", name);
        return -ENOENT;
}

static int network_info(sd_bus *bus, const char *name) {
        _cleanup_free_ char *path = NULL, *users = NULL;
        NetworkProps p = {};
        int r = network_path(bus, name, &path);
        if (r < 0)
                return r;
        r = network_get_props(bus, path, &p);
        if (r < 0) {
                network_props_done(&p);
                return log_bus_error("Failed to read the network's properties", NULL, r);
        }
        if (arg_json != JSON_OFF) {
                OutputObject *o = output_object_new();
                if (!o)
                        r = -ENOMEM;
                else {
                        output_object_string(o, "name", p.name);
                        output_object_string(o, "ipv4", strempty(p.ipv4));
                        output_object_bool(o, "nat", p.nat);
                        output_object_bool(o, "dhcp", p.dhcp);
                        output_object_string(o, "dhcp_range", strempty(p.dhcp_range));
                        output_object_string(o, "uplink", strempty(p.uplink));
                        output_object_strv(o, "containers", p.containers);
                        output_object_string(o, "path", path);
                        r = output_object_print(o);
                        output_object_free(o);
                }
                network_props_done(&p);
                return r;
        }
        users = strv_join(p.containers, " ");
        printf("Name:        %s\n", p.name);
        printf("IPv4:        %s\n", isempty(p.ipv4) ? "-" : p.ipv4);
        printf("NAT:         %s\n", p.nat ? "yes" : "no");
        if (p.dhcp)
                printf("DHCP:        yes (%s)\n", isempty(p.dhcp_range) ? "default range" : p.dhcp_range);
        else
                printf("DHCP:        no\n");
        printf("Uplink:      %s\n", isempty(p.uplink) ? "-" : p.uplink);
        printf("Containers:  %s\n", isempty(users) ? "-" : users);
        printf("Object:      %s\n", path);
        network_props_done(&p);
        return 0;
}

/* --- the verb ------------------------------------------------------------------ */

static int verb_network(sd_bus *bus, char **args) {
        const char *sub = args[0];
        size_t n = strv_length(args + 1);

        if (arg_first_option && !streq(sub, "create")) {
                fprintf(stderr,
                        "warrenctl: %s means nothing for 'network %s' (it is for 'network create')\n",
                        arg_first_option, sub);
                return -EINVAL;
        }
        if ((arg_json != JSON_OFF && !streq(sub, "list") && !streq(sub, "ls") && !streq(sub, "info")) ||
            ((arg_output || arg_noheadings || arg_raw) && !streq(sub, "list") && !streq(sub, "ls"))) {
                fprintf(stderr, "warrenctl: %s means nothing for 'network %s'\n",
                        arg_json != JSON_OFF ? "--json" : "--output/--noheadings/--raw", sub);
                return -EINVAL;
        }
        if (streq(sub, "create")) {
                if (n != 1) {
                        fprintf(stderr,
                                "warrenctl: network create NAME [--ipv4=CIDR] [--nat] [--dhcp] ...\n");
                        return -EINVAL;
                }
                return network_create(bus, args[1]);
        }
        if (streq(sub, "delete") || streq(sub, "rm")) {
                if (n == 0) {
                        fprintf(stderr, "warrenctl: network delete NAME...\n");
                        return -EINVAL;
                }
                return network_delete(bus, args + 1);
        }
        if (streq(sub, "list") || streq(sub, "ls")) {
                if (n != 0) {
                        fprintf(stderr, "warrenctl: network list takes no arguments\n");
                        return -EINVAL;
                }
                return network_list(bus);
        }
        if (streq(sub, "info")) {
                if (n != 1) {
                        fprintf(stderr, "warrenctl: network info NAME\n");
                        return -EINVAL;
                }
                return network_info(bus, args[1]);
        }
        fprintf(stderr, "warrenctl: Unknown network command '%s' (create, delete, list, info)\n", sub);
        return -EINVAL;
}

const Verb verbs_network[] = {
        {
                .name = "network",
                .min_args = 1,
                .max_args = -1,
                .run = verb_network,
                .flags = VERB_JSON | VERB_TABLE,
                .usage = "create NAME [--ipv4=CIDR] [--nat] [--dhcp] [--dhcp-range=FIRST,LAST]\n"
                         "       [--no-dns] [--uplink=IFACE [--force]]\n"
                         "delete NAME...\n"
                         "list [-o COLUMNS]\n"
                         "info NAME",
                .summary = "Manage container bridges",
                .description =
                        "Managed bridges: with an address, NAT, DHCP and DNS, or an uplink. delete is\n"
                        "refused while containers use the network. Creating and deleting need\n"
                        "org.warren1.network.",
                .options = "--ipv4=CIDR\tThe bridge's address, e.g. 10.0.4.1/24\n"
                           "--nat\tMasquerade traffic out of the host\n"
                           "--dhcp\tServe DHCP (and DNS unless --no-dns)\n"
                           "--dhcp-range=FIRST,LAST\tThe addresses DHCP hands out\n"
                           "--no-dns\tNo DNS server\n"
                           "--uplink=IFACE\tEnslave a host interface\n"
                           "--force\tEven if the uplink has addresses\n",
                .example = "warrenctl network create br1 --ipv4=10.0.4.1/24 --nat --dhcp\n"
                           "warrenctl network list -o name,containers\n",
                .columns = network_columns,
        },
        {},
};
