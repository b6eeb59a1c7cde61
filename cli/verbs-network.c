/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrenctl network: managed bridges (NAT, DHCP, uplink) through warrend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "table.h"
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
        if (sd_bus_error_is_set(error))
                fprintf(stderr, "warrenctl: Failed to %s '%s': %s\n", what, name,
                        error->message ? error->message : error->name);
        else
                fprintf(stderr, "warrenctl: Failed to %s '%s': %s\n", what, name, strerror(-r));
        sd_bus_error_free(error);
        return r < 0 ? r : -EIO;
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

static void network_print_json(const NetworkProps *p, const char *path) {
        printf("{\"name\": ");
        json_print_string(p->name);
        printf(", \"ipv4\": ");
        json_print_string(strempty(p->ipv4));
        printf(", \"nat\": %s, \"dhcp\": %s, \"dhcp_range\": ", p->nat ? "true" : "false",
               p->dhcp ? "true" : "false");
        json_print_string(strempty(p->dhcp_range));
        printf(", \"uplink\": ");
        json_print_string(strempty(p->uplink));
        printf(", \"containers\": [");
        for (size_t i = 0; p->containers && p->containers[i]; i++) {
                if (i > 0)
                        printf(", ");
                json_print_string(p->containers[i]);
        }
        printf("], \"path\": ");
        json_print_string(path);
        printf("}");
}

static int network_list(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *ipv4, *path;
        bool first = true;
        int r = call_manager(bus, "ListNetworks", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sso)");
        if (r < 0)
                return log_bus_error("Bad reply to ListNetworks", NULL, r);
        Table *t = table_new(5, "NAME", "IPV4", "NAT", "DHCP", "CONTAINERS");
        if (!t)
                return -ENOMEM;
        if (arg_json)
                printf("[");
        while ((r = sd_bus_message_read(reply, "(sso)", &name, &ipv4, &path)) > 0) {
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
                if (arg_json) {
                        printf("%s\n  ", first ? "" : ",");
                        network_print_json(&p, path);
                } else {
                        _cleanup_free_ char *users = strv_join(p.containers, ",");
                        table_add(t, name);
                        table_add(t, p.ipv4);
                        table_add(t, p.nat ? "yes" : "no");
                        table_add(t, p.dhcp ? "yes" : "no");
                        table_add(t, users);
                }
                network_props_done(&p);
                first = false;
        }
        if (r < 0)
                log_bus_error("Bad reply to ListNetworks", NULL, r);
        else if (arg_json)
                printf("%s]\n", first ? "" : "\n");
        else
                table_print(t, true);
        table_free(t);
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
        if (arg_json) {
                network_print_json(&p, path);
                printf("\n");
                network_props_done(&p);
                return 0;
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
        { "network", 1, -1, verb_network, false },
        {},
};

const char *verbs_network_help(void) {
        return "  network create NAME [--ipv4=CIDR] [--nat] [--dhcp] [--dhcp-range=FIRST,LAST]\n"
               "                 [--no-dns] [--uplink=IFACE [--force]]  Create a managed bridge\n"
               "  network delete NAME...                Delete managed networks (refused while in use)\n"
               "  network list [--json]                 List managed networks\n"
               "  network info NAME [--json]            Show a network's details\n";
}
