/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small rtnetlink layer over libnl-route-3: links, addresses and routes,
 * in the caller's network namespace or in another one (netlink_open() with a
 * netns fd creates the socket there: a netlink socket stays bound to the
 * namespace it was created in, so every later request on it acts there,
 * without threads and without forking). Nothing else in lib/ includes libnl.
 *
 * Errors are -errno; libnl's own codes are mapped to the nearest errno
 * (NLE_EXIST -> -EEXIST, NLE_OBJ_NOTFOUND/NLE_NODEV -> -ENODEV, ...). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/macro.h"

#define NL_IFNAMSIZ 16 /* IFNAMSIZ, with the NUL */
#define NL_IFALIASZ 256

typedef struct NlSocket NlSocket;

/* An rtnetlink socket in the namespace of netns_fd (an fd of a
 * /proc/PID/ns/net file or a pidfd), or in the caller's if netns_fd < 0. */
int netlink_open(int netns_fd, NlSocket **ret, WarrenError *reterr);
NlSocket *netlink_close(NlSocket *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NlSocket *, netlink_close);
#define _cleanup_netlink_close_ _cleanup_(netlink_closep)

/* ---- links ---- */

typedef struct NlLink {
        int ifindex;
        char name[NL_IFNAMSIZ];
        char kind[16];  /* "bridge", "veth", "macvlan", ... or "" (a physical device, lo) */
        int master;     /* ifindex of the bridge it is a port of, 0 if none */
        unsigned flags; /* IFF_* */
        unsigned mtu;
        uint8_t mac[6];
        char alias[NL_IFALIASZ]; /* IFLA_IFALIAS, "" if none */
} NlLink;

/* -ENODEV if there is no link of that name / index. */
int netlink_link_get_by_name(NlSocket *s, const char *name, NlLink *ret);
int netlink_link_get_by_index(NlSocket *s, int ifindex, NlLink *ret);
/* Every link of the namespace, in ifindex order; *ret is malloc'd. */
int netlink_link_list(NlSocket *s, NlLink **ret, size_t *ret_n);

/* What to set when creating or changing a link; zero / NULL / -1 fields
 * are left alone. */
typedef struct NlLinkSpec {
        const char *name;   /* create: the name; change: rename to it */
        const uint8_t *mac; /* 6 bytes */
        unsigned mtu;
        int master;        /* ifindex of a bridge; change: 0 = leave, NL_NOMASTER = detach */
        int up;            /* 1 up, 0 down, -1 leave */
        const char *alias; /* "" clears */
        int netns_fd;      /* move into (change) / create in (create) that namespace; -1 none */
} NlLinkSpec;
#define NL_NOMASTER (-1)
#define NL_LINK_SPEC_INIT \
        { .up = -1, .netns_fd = -1 }

int netlink_link_change(NlSocket *s, int ifindex, const NlLinkSpec *spec, WarrenError *reterr);
int netlink_link_add_bridge(NlSocket *s, const NlLinkSpec *spec, WarrenError *reterr);
/* One request creates both ends: host (in s's namespace) and peer (in
 * peer->netns_fd if >= 0, named there right away, so it never appears
 * under a temporary name in either namespace). peer->up must not be set
 * (the kernel cannot open a peer before the pair exists): bring it up
 * afterwards, from its namespace. */
int netlink_link_add_veth(NlSocket *s, const NlLinkSpec *host, const NlLinkSpec *peer, WarrenError *reterr);
/* A macvlan on lower (a link of s's namespace), created in
 * spec->netns_fd if >= 0. mode: MACVLAN_MODE_* from linux/if_link.h. */
int netlink_link_add_macvlan(NlSocket *s, const char *lower, uint32_t mode, const NlLinkSpec *spec,
                             WarrenError *reterr);
/* A VLAN (802.1Q, id 0..4094) on lower, created in spec->netns_fd if >= 0. */
int netlink_link_add_vlan(NlSocket *s, const char *lower, uint16_t id, const NlLinkSpec *spec,
                          WarrenError *reterr);
/* An ipvlan on lower, created in spec->netns_fd if >= 0. mode: IPVLAN_MODE_*. */
int netlink_link_add_ipvlan(NlSocket *s, const char *lower, uint16_t mode, const NlLinkSpec *spec,
                            WarrenError *reterr);
/* -ENODEV if it does not exist. */
int netlink_link_delete(NlSocket *s, int ifindex, WarrenError *reterr);

/* ---- addresses ---- */

typedef struct NlAddr {
        int family; /* AF_INET, AF_INET6 */
        int ifindex;
        uint8_t addr[16];
        unsigned prefixlen;
        bool has_broadcast; /* AF_INET only */
        uint8_t broadcast[4];
        unsigned scope; /* RT_SCOPE_*, filled by netlink_addr_list() */
        unsigned flags; /* IFA_F_*, filled by netlink_addr_list() */
} NlAddr;

int netlink_addr_add(NlSocket *s, const NlAddr *a, WarrenError *reterr);
int netlink_addr_del(NlSocket *s, const NlAddr *a, WarrenError *reterr);
/* Addresses of ifindex (0: of every link) of family (AF_UNSPEC: both). */
int netlink_addr_list(NlSocket *s, int ifindex, int family, NlAddr **ret, size_t *ret_n);

/* ---- routes ---- */

typedef struct NlRoute {
        int family;
        uint8_t dst[16];
        unsigned dst_len; /* 0: default route */
        bool has_gateway;
        uint8_t gateway[16];
        bool has_prefsrc;
        uint8_t prefsrc[16];
        int oif;
        bool onlink;       /* RTNH_F_ONLINK: gateway need not be in a connected subnet */
        uint32_t table;    /* 0: RT_TABLE_MAIN */
        uint32_t priority; /* metric */
        uint8_t protocol;  /* RTPROT_*; 0: RTPROT_STATIC when adding */
        uint8_t scope;     /* RT_SCOPE_*; adding: derived from has_gateway if 0 */
        uint8_t type;      /* RTN_*; 0: RTN_UNICAST when adding */
} NlRoute;

int netlink_route_add(NlSocket *s, const NlRoute *r, WarrenError *reterr);
int netlink_route_del(NlSocket *s, const NlRoute *r, WarrenError *reterr);
/* Unicast routes of family (AF_UNSPEC: both) through oif (0: any) in every
 * table but the local one. */
int netlink_route_list(NlSocket *s, int family, int oif, NlRoute **ret, size_t *ret_n);

/* ---- text forms ---- */

/* "ADDR[/PREFIX] [BROADCAST]" as LXC reads lxc.net.N.ipv4.address /
 * ipv6.address: a missing IPv4 prefix is the classful one (8, 16 or 24), a
 * missing IPv6 prefix 64, a missing IPv4 broadcast is computed (none for
 * /31 and /32). -EINVAL, naming the text and why. */
int netlink_addr_parse(int family, const char *s, NlAddr *ret, WarrenError *reterr);
/* "ADDR" of family into buf (at least 46 bytes); returns buf. */
const char *netlink_addr_to_string(int family, const void *addr, char *buf, size_t size);
/* "ADDR/PREFIX" */
const char *netlink_addr_to_cidr(const NlAddr *a, char *buf, size_t size);
/* True if a and b (of family) share the first prefixlen bits. */
bool netlink_addr_same_subnet(int family, const void *a, const void *b, unsigned prefixlen);
/* "aa:bb:cc:dd:ee:ff"; -EINVAL if malformed (an 'x' placeholder too). */
int netlink_mac_parse(const char *s, uint8_t ret[6]);
/* A valid interface name: 1..15 chars, not "." or "..", no '/', ':' or
 * whitespace (what the kernel accepts). */
bool netlink_ifname_is_valid(const char *name);
