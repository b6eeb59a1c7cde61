/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Container networking (lxc.net.N.*) and warren's managed networks.
 *
 * Container side (network.c). NIC types:
 *   veth     host end on lxc.net.N.link (a bridge; none: left unattached),
 *            named lxc.net.N.veth.pair or network_host_ifname(); the peer
 *            is created directly inside the container's netns under
 *            lxc.net.N.name (default ethN), before init runs.
 *   macvlan  on the host interface lxc.net.N.link, created inside the
 *            container's netns; macvlan.mode defaults to private (as LXC).
 *   empty    loopback only.
 *   none     the host's network namespace (privileged only): the spawner
 *            omits CLONE_NEWNET, see network_config_shares_host_netns().
 * Keys: flags (= up), hwaddr, mtu, ipv4.address / ipv6.address (several,
 * "ADDR/PREFIX [BROADCAST]"), ipv4.gateway / ipv6.gateway (ADDR, auto =
 * the bridge's first address, dev = a device route), veth.pair,
 * veth.ipv4.route / veth.ipv6.route (host routes to the container through
 * the host end). Loopback is always brought up. Other lxc.net.N keys
 * (script.*, vlan, router mode, ...) are refused, never silently ignored.
 *
 * Host ends carry the ifalias "warren:NAME", so leftovers of a container
 * are found by name even when lxc.net.N.veth.pair chose the ifname.
 *
 * The configuration inside the container's netns is done over a netlink
 * socket created in that namespace (netlink_open() with its fd): one
 * process, no threads, no fork, and the parent can still see both sides.
 *
 * Managed networks (network-managed.c): a bridge named like the network,
 * optionally with an IPv4 address, NAT (masquerade via nft.h), dnsmasq for
 * DHCP (and DNS) and an uplink interface enslaved to it. Definitions are
 * key=value files in <state-dir>/networks/NAME; dnsmasq's pid file, lease
 * file and log live in <runtime-dir>/networks/. */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"

typedef struct LxcConfig LxcConfig;

/* ---- container side ---- */

typedef enum NetworkCheckFlags {
        /* The owner is root: none, macvlan, veth.pair and host routes are
         * allowed (they reach host resources); otherwise only veth and empty. */
        NETWORK_CHECK_PRIVILEGED = 1 << 0,
        /* Look up each lxc.net.N.link on the host now: a veth's link must be
         * an existing bridge, a macvlan's an existing interface. */
        NETWORK_CHECK_HOST = 1 << 1,
        /* About to start: an hwaddr with 'x' placeholders left is invalid. */
        NETWORK_CHECK_START = 1 << 2,
} NetworkCheckFlags;

/* Validates every lxc.net.N.* of c: -EINVAL (bad value, duplicate name,
 * hwaddr or veth.pair, missing type or link), -EPERM (a key reserved to
 * privileged containers), -EOPNOTSUPP (a type or key warren does not
 * implement), -ENODEV (with NETWORK_CHECK_HOST: a link missing). The
 * message names the key and value. */
int network_check_config(const LxcConfig *c, NetworkCheckFlags flags, WarrenError *reterr);

/* One lxc.net.N.<sub> item on its own: -EOPNOTSUPP "lxc.net.0.veth.mode =
 * router: not supported by warren" for a key warren does not implement
 * (unless its value asks for nothing, e.g. veth.mode = bridge). The check
 * network_check_config() applies to every key of a NIC. */
int network_check_key(const char *key, const char *value, WarrenError *reterr);

/* True if a NIC has type none: the container shares the host's netns. */
bool network_config_shares_host_netns(const LxcConfig *c);

/* The bridge of every veth NIC in order (NIC without link: skipped), for
 * usernet quota checks; NULL on ENOMEM. */
char **network_config_bridges(const LxcConfig *c);

/* "veth" + 7 hex digits of a hash of name + "_" + index (<= 15 chars). */
void network_host_ifname(const char *name, unsigned index, char ret[16]);

/* Creates the container's NICs in the netns of init_pid (which waits for
 * it): host ends, peers moved in and named, addresses, routes, up; lo up.
 * Checks c first (flags | NETWORK_CHECK_HOST | NETWORK_CHECK_START). On
 * failure whatever was created on the host side is removed again. Does
 * nothing for a config that shares the host's netns. */
int network_setup_container(const LxcConfig *c, const char *name, pid_t init_pid, NetworkCheckFlags flags,
                            WarrenError *reterr);

/* Removes every host-side interface left for container name (tagged with
 * its ifalias, or named network_host_ifname(name, *)): the teardown at
 * stop and the sweep after a crash / at re-adoption. Returns how many were
 * removed. */
int network_teardown_container(const char *name, WarrenError *reterr);
/* The ifindexes of the host ends of container name's interfaces (as
 * network_teardown_container() finds them); *ret is malloc'd. */
int network_container_host_ifindexes(const char *name, int **ret, size_t *ret_n, WarrenError *reterr);
/* Whether c has an lxc.net.N.type = phys. */
bool network_config_has_phys(const LxcConfig *c);
/* Whether a NIC of c has a host side to set up or remove (veth, macvlan,
 * ipvlan, vlan, phys): else the network namespace holds only loopback
 * (network_setup_container() then only checks), or is the host's. */
bool network_config_has_host_links(const LxcConfig *c);
/* Brings up lo of the caller's network namespace (CAP_NET_ADMIN there). */
int network_loopback_up(WarrenError *reterr);
/* Moves every phys NIC of c still in the namespace netns_fd (the stopped
 * container's, kept open for this) back to ours under its lxc.net.N.link
 * name, down. Without this a dying namespace hands physical devices to the
 * initial namespace, not to ours. */
int network_restore_phys(const LxcConfig *c, int netns_fd, WarrenError *reterr);

/* How many host interfaces attached to bridge belong to the containers
 * names (by ifalias), for usernet quotas. */
int network_count_attached(const char *bridge, char *const *names, unsigned *ret, WarrenError *reterr);

/* The addresses (no prefix length) of family (AF_INET or AF_INET6) on the
 * interfaces in the netns of pid, in interface order; loopback (host
 * scope) and link-local addresses are skipped. */
int network_container_addresses(pid_t pid, int family, char ***ret, WarrenError *reterr);

/* ---- managed networks ---- */

typedef struct NetworkDef {
        char *name;         /* = the bridge's name */
        char *ipv4_address; /* "ipv4.address": the bridge's, "192.168.5.1/24"; NULL: none */
        bool nat;           /* "nat": masquerade the subnet, IPv4 forwarding on */
        bool dhcp;          /* "dhcp": run dnsmasq on the bridge */
        char *dhcp_range;   /* "dhcp.range": "FIRST,LAST"; NULL: the subnet minus the bridge */
        bool dns;           /* "dns": dnsmasq also answers DNS on the bridge (default true) */
        char *uplink;       /* "uplink": a host interface enslaved to the bridge */
        bool force;         /* "force": the uplink may hold the host's addresses/routes (moved) */
} NetworkDef;

#define NETWORK_NAME_MAX 15

/* A network (bridge) name: [A-Za-z][A-Za-z0-9_-]{0,14}. */
int network_name_validate(const char *name, WarrenError *reterr);

int network_def_new(const char *name, NetworkDef **ret, WarrenError *reterr);
NetworkDef *network_def_free(NetworkDef *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(NetworkDef *, network_def_free);
#define _cleanup_network_def_ _cleanup_(network_def_freep)

/* Sets one option (the keys above; booleans: true/false/yes/no/1/0/on/off).
 * -EINVAL naming key and value. */
int network_def_set(NetworkDef *d, const char *key, const char *value, WarrenError *reterr);
/* Cross-checks: nat and dhcp need ipv4.address, the range inside its
 * subnet, ... -EINVAL naming what is wrong. */
int network_def_check(const NetworkDef *d, WarrenError *reterr);
/* The key=value text of the definition file; NULL on ENOMEM. */
char *network_def_format(const NetworkDef *d);
/* The DHCP range to use: dhcp.range or the default. "FIRST,LAST". */
int network_def_dhcp_range(const NetworkDef *d, char **ret, WarrenError *reterr);

/* Sorted names of the defined networks. */
int network_list(const char *state_dir, char ***ret, WarrenError *reterr);
/* Loads <state_dir>/networks/NAME. -ENOENT naming NAME if undefined. */
int network_def_load(const char *state_dir, const char *name, NetworkDef **ret, WarrenError *reterr);

/* Defines and brings up a network: -EEXIST if defined or if an interface
 * of that name exists. On failure nothing is left. *ret_dnsmasq_pid: the
 * dnsmasq started (a child of the caller, who reaps it), or 0. */
int network_create(const char *state_dir, const char *runtime_dir, const NetworkDef *d,
                   pid_t *ret_dnsmasq_pid, WarrenError *reterr);
/* Makes the host match the definition again: re-creates a missing bridge,
 * address, NAT rule, uplink enslavement, and starts dnsmasq if it is not
 * running (then *ret_dnsmasq_pid is its pid, else 0). */
int network_ensure(const char *state_dir, const char *runtime_dir, const char *name, pid_t *ret_dnsmasq_pid,
                   WarrenError *reterr);
/* Stops dnsmasq, removes the NAT rules, moves an uplink's addresses and
 * routes back, deletes the bridge and the definition. The caller refuses
 * first if network_users() is not empty. */
int network_delete(const char *state_dir, const char *runtime_dir, const char *name, WarrenError *reterr);
/* Containers (sorted) whose config has an lxc.net.N.link naming the network. */
int network_users(const char *state_dir, const char *name, char ***ret, WarrenError *reterr);

/* dnsmasq for d (its DHCP range; DNS on the bridge unless d->dns is
 * false), in the foreground as a child of the caller, which reaps it.
 * Returns once it wrote its pid file, or its failure (naming its last log
 * line). */
int network_dnsmasq_spawn(const NetworkDef *d, const char *runtime_dir, pid_t *ret_pid, WarrenError *reterr);
/* 1 (and *ret_pid) if the network's dnsmasq runs, 0 if not. */
int network_dnsmasq_running(const char *name, const char *runtime_dir, pid_t *ret_pid);
/* SIGTERM (SIGKILL after 5 s) and waits until it is gone or a zombie
 * (reaping is the parent's). 0 if it was not running. */
int network_dnsmasq_stop(const char *name, const char *runtime_dir, WarrenError *reterr);
