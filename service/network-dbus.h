/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "basic/error.h"

typedef struct Daemon Daemon;
typedef struct LxcConfig LxcConfig;

#define WARREN_NETWORK_PREFIX "/org/warren1/network"
#define WARREN_NETWORK_IFACE "org.warren1.Network"

/* Manager methods. */
int method_list_networks(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_create_network(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_delete_network(sd_bus_message *m, void *userdata, sd_bus_error *error);
extern const sd_bus_vtable network_vtable[];
int network_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error);
int network_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                            sd_bus_error *error);
char *network_bus_path(const char *name);

/* warrend's start: every defined network's bridge, rules and dnsmasq. */
void networks_ensure_all(Daemon *d);
/* Before a container starts: the networks its NICs use are up (the
 * default network created on first use), and a non-root owner stays
 * within the usernet quota (-EDQUOT naming user, bridge and count). */
int networks_prepare_start(Daemon *d, const LxcConfig *c, uid_t owner, WarrenError *reterr);
