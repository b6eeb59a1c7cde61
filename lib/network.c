/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "config.h"
#include "netlink.h"
#include "network.h"
#include "basic/log.h"
#include "basic/strv.h"

#define ALIAS_PREFIX "warren:"

typedef enum NicType {
        NIC_VETH,
        NIC_MACVLAN,
        NIC_VLAN,
        NIC_IPVLAN,
        NIC_PHYS,
        NIC_EMPTY,
        NIC_NONE,
        NIC_UNSUPPORTED,
} NicType;

/* One lxc.net.N, its values borrowed from the config. */
typedef struct Nic {
        unsigned index;
        NicType type;
        const char *type_name, *link, *hwaddr, *pair, *ipv4_gw, *ipv6_gw, *macvlan_mode;
        const char *vlan_id, *ipvlan_mode, *ipvlan_isolation;
        char name[NL_IFNAMSIZ];
        char key[48]; /* "lxc.net.N", for messages */
        bool up;
        bool has_mac;
        uint8_t mac[6];
        unsigned mtu;
        char **ipv4, **ipv6, **host_routes4, **host_routes6;
} Nic;

static void nics_free(Nic *nics, size_t n) {
        for (size_t i = 0; i < n; i++) {
                strv_free(nics[i].ipv4);
                strv_free(nics[i].ipv6);
                strv_free(nics[i].host_routes4);
                strv_free(nics[i].host_routes6);
        }
        free(nics);
}

static const char *nic_get(const LxcConfig *c, unsigned index, const char *sub) {
        char key[64];
        snprintf(key, sizeof key, "lxc.net.%u.%s", index, sub);
        const char *v = lxc_config_get(c, key);
        return isempty(v) ? NULL : v;
}

static char **nic_get_all(const LxcConfig *c, unsigned index, const char *sub) {
        char key[64];
        snprintf(key, sizeof key, "lxc.net.%u.%s", index, sub);
        return lxc_config_get_all(c, key);
}

static bool nic_key_is_ignorable(const char *sub, const char *value) {
        /* Keys whose value asks for nothing warren would skip. */
        return (streq(sub, "l2proxy") && (streq(value, "0") || streq(value, "false"))) ||
               (streq(sub, "veth.mode") && streq(value, "bridge")) ||
               (streq(sub, "veth.vlan.id") && streq(value, "none"));
}

/* lxc.net.N.<sub> keys warren implements. */
static const char *const nic_known_keys[] = {
        "type",
        "link",
        "name",
        "flags",
        "hwaddr",
        "mtu",
        "ipv4.address",
        "ipv4.gateway",
        "ipv6.address",
        "ipv6.gateway",
        "veth.pair",
        "veth.ipv4.route",
        "veth.ipv6.route",
        "macvlan.mode",
        "vlan.id",
        "ipvlan.mode",
        "ipvlan.isolation",
};

int network_check_key(const char *key, const char *value, WarrenError *reterr) {
        const char *sub = key;
        if (strncmp(sub, "lxc.net.", 8) == 0) {
                sub += 8;
                sub += strspn(sub, "0123456789");
                if (*sub == '.')
                        sub++;
        }
        for (size_t i = 0; i < ELEMENTSOF(nic_known_keys); i++)
                if (streq(sub, nic_known_keys[i]))
                        return 0;
        if (isempty(value) || nic_key_is_ignorable(sub, value))
                return 0;
        return warren_error_set(reterr, EOPNOTSUPP, "%s = %s: not supported by warren", key, value);
}

/* Refuses lxc.net.N.* keys that ask for something not implemented. */
static int nic_check_keys(const LxcConfig *c, const Nic *nic, WarrenError *reterr) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s.", nic->key);
        _cleanup_strv_free_ char **kv = lxc_config_get_prefix(c, prefix);
        if (!kv)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        for (char **p = kv; p[0] && p[1]; p += 2) {
                int r = network_check_key(p[0], p[1], reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int nic_parse_one(const LxcConfig *c, unsigned index, Nic *nic, WarrenError *reterr) {
        const char *v;
        nic->index = index;
        snprintf(nic->key, sizeof nic->key, "lxc.net.%u", index);
        nic->type_name = nic_get(c, index, "type");
        if (!nic->type_name)
                return warren_error_set(reterr, EINVAL, "%s has keys but no %s.type", nic->key, nic->key);
        nic->type = streq(nic->type_name, "veth")      ? NIC_VETH
                    : streq(nic->type_name, "macvlan") ? NIC_MACVLAN
                    : streq(nic->type_name, "vlan")    ? NIC_VLAN
                    : streq(nic->type_name, "ipvlan")  ? NIC_IPVLAN
                    : streq(nic->type_name, "phys")    ? NIC_PHYS
                    : streq(nic->type_name, "empty")   ? NIC_EMPTY
                    : streq(nic->type_name, "none")    ? NIC_NONE
                                                       : NIC_UNSUPPORTED;
        nic->link = nic_get(c, index, "link");
        nic->hwaddr = nic_get(c, index, "hwaddr");
        nic->pair = nic->type == NIC_VETH ? nic_get(c, index, "veth.pair") : NULL;
        nic->ipv4_gw = nic_get(c, index, "ipv4.gateway");
        nic->ipv6_gw = nic_get(c, index, "ipv6.gateway");
        nic->macvlan_mode = nic_get(c, index, "macvlan.mode");
        nic->vlan_id = nic_get(c, index, "vlan.id");
        nic->ipvlan_mode = nic_get(c, index, "ipvlan.mode");
        nic->ipvlan_isolation = nic_get(c, index, "ipvlan.isolation");

        v = nic_get(c, index, "name");
        snprintf(nic->name, sizeof nic->name, "%s", v ? v : "");
        if (!v)
                snprintf(nic->name, sizeof nic->name, "eth%u", index);
        else if (!netlink_ifname_is_valid(v))
                return warren_error_set(reterr, EINVAL, "Invalid %s.name '%s': not an interface name",
                                        nic->key, v);

        v = nic_get(c, index, "flags");
        if (v && !streq(v, "up"))
                return warren_error_set(reterr, EINVAL, "Invalid %s.flags '%s': the only flag is 'up'",
                                        nic->key, v);
        nic->up = v != NULL;

        v = nic_get(c, index, "mtu");
        if (v) {
                char *end;
                errno = 0;
                unsigned long m = strtoul(v, &end, 10);
                if (errno || *end || v[0] < '0' || v[0] > '9' || m < 68 || m > 65535)
                        return warren_error_set(reterr, EINVAL, "Invalid %s.mtu '%s': must be 68..65535",
                                                nic->key, v);
                nic->mtu = (unsigned) m;
        }

        nic->ipv4 = nic_get_all(c, index, "ipv4.address");
        nic->ipv6 = nic_get_all(c, index, "ipv6.address");
        nic->host_routes4 = nic_get_all(c, index, "veth.ipv4.route");
        nic->host_routes6 = nic_get_all(c, index, "veth.ipv6.route");
        if (!nic->ipv4 || !nic->ipv6 || !nic->host_routes4 || !nic->host_routes6)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        return nic_check_keys(c, nic, reterr);
}

/* Every NIC of c in index order; indices without any key are skipped. */
static int nics_parse(const LxcConfig *c, Nic **ret, size_t *ret_n, WarrenError *reterr) {
        unsigned count = lxc_config_net_count(c);
        Nic *nics = calloc(count ? count : 1, sizeof(Nic));
        size_t n = 0;
        if (!nics)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        for (unsigned i = 0; i < count; i++) {
                char prefix[32];
                snprintf(prefix, sizeof prefix, "lxc.net.%u.", i);
                _cleanup_strv_free_ char **any = lxc_config_get_prefix(c, prefix);
                if (!any) {
                        nics_free(nics, n);
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                }
                if (!any[0])
                        continue;
                int r = nic_parse_one(c, i, &nics[n++], reterr);
                if (r < 0) {
                        nics_free(nics, n);
                        return r;
                }
        }
        *ret = nics;
        *ret_n = n;
        return 0;
}

static int nic_check_addresses(const Nic *nic, WarrenError *reterr) {
        NlAddr a;
        char key[64];
        int r;
        STRV_FOREACH(s, nic->ipv4)
                if ((r = netlink_addr_parse(AF_INET, *s, &a, reterr)) < 0)
                        goto fail4;
        STRV_FOREACH(s, nic->ipv6)
                if ((r = netlink_addr_parse(AF_INET6, *s, &a, reterr)) < 0)
                        goto fail6;
        const char *gws[2] = { nic->ipv4_gw, nic->ipv6_gw };
        for (int i = 0; i < 2; i++) {
                uint8_t bin[16];
                int family = i == 0 ? AF_INET : AF_INET6;
                if (!gws[i])
                        continue;
                snprintf(key, sizeof key, "%s.ipv%d.gateway", nic->key, i == 0 ? 4 : 6);
                if (!streq(gws[i], "auto") && !streq(gws[i], "dev") && inet_pton(family, gws[i], bin) != 1)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid %s '%s': must be an address, 'auto' or 'dev'", key,
                                                gws[i]);
                if (!nic->up)
                        return warren_error_set(reterr, EINVAL, "%s '%s' needs %s.flags = up", key, gws[i],
                                                nic->key);
                if (streq(gws[i], "auto") && (nic->type != NIC_VETH || !nic->link))
                        return warren_error_set(reterr, EINVAL,
                                                "%s 'auto' needs a veth on a bridge (%s.link)", key,
                                                nic->key);
        }
        for (int i = 0; i < 2; i++) {
                char **routes = i == 0 ? nic->host_routes4 : nic->host_routes6;
                STRV_FOREACH(s, routes) {
                        snprintf(key, sizeof key, "%s.veth.ipv%d.route", nic->key, i == 0 ? 4 : 6);
                        if (!strchr(*s, '/') ||
                            (r = netlink_addr_parse(i == 0 ? AF_INET : AF_INET6, *s, &a, NULL)) < 0)
                                return warren_error_set(reterr, EINVAL,
                                                        "Invalid %s '%s': must be ADDRESS/PREFIX", key, *s);
                }
        }
        return 0;
fail4:
        warren_error_prefix(reterr, "%s.ipv4.address", nic->key);
        return r;
fail6:
        warren_error_prefix(reterr, "%s.ipv6.address", nic->key);
        return r;
}

static int nic_check_privilege(const Nic *nic, NetworkCheckFlags flags, WarrenError *reterr) {
        if (flags & NETWORK_CHECK_PRIVILEGED)
                return 0;
        if (nic->type != NIC_VETH && nic->type != NIC_EMPTY)
                return warren_error_set(reterr, EPERM,
                                        "%s.type '%s' is only allowed in privileged containers "
                                        "(unprivileged: veth or empty)",
                                        nic->key, nic->type_name);
        if (nic->pair)
                return warren_error_set(reterr, EPERM,
                                        "%s.veth.pair '%s' is only allowed in privileged containers",
                                        nic->key, nic->pair);
        if (nic->host_routes4[0] || nic->host_routes6[0])
                return warren_error_set(reterr, EPERM,
                                        "%s.veth.ipv%c.route '%s' is only allowed in privileged containers",
                                        nic->key, nic->host_routes4[0] ? '4' : '6',
                                        nic->host_routes4[0] ? nic->host_routes4[0] : nic->host_routes6[0]);
        return 0;
}

static int nic_check_link(NlSocket *host, const Nic *nic, WarrenError *reterr) {
        NlLink l;
        if (!nic->link)
                return 0;
        int r = netlink_link_get_by_name(host, nic->link, &l);
        if (r == -ENODEV)
                return warren_error_set(reterr, ENODEV, "%s.link '%s': no such %s on the host", nic->key,
                                        nic->link, nic->type == NIC_VETH ? "bridge" : "interface");
        if (r < 0)
                return warren_error_set(reterr, r, "%s.link '%s': %s", nic->key, nic->link, strerror(-r));
        if (nic->type == NIC_VETH && !streq(l.kind, "bridge"))
                return warren_error_set(reterr, EINVAL, "%s.link '%s' is not a bridge", nic->key, nic->link);
        return 0;
}

static int nic_check(const Nic *nic, NetworkCheckFlags flags, WarrenError *reterr) {
        static const char *const macvlan_modes[] = { "private", "vepa", "bridge", "passthru" };
        int r;

        if (nic->type == NIC_UNSUPPORTED)
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "%s.type '%s' is not supported by warren "
                                        "(veth, macvlan, ipvlan, vlan, phys, empty, none)",
                                        nic->key, nic->type_name);
        r = nic_check_privilege(nic, flags, reterr);
        if (r < 0)
                return r;
        if ((nic->type == NIC_MACVLAN || nic->type == NIC_VLAN || nic->type == NIC_IPVLAN ||
             nic->type == NIC_PHYS) &&
            !nic->link)
                return warren_error_set(reterr, EINVAL, "%s.type '%s' needs %s.link (a host interface)",
                                        nic->key, nic->type_name, nic->key);
        if (nic->type == NIC_VLAN) {
                unsigned long id = 0;
                char *end = NULL;
                if (nic->vlan_id) {
                        errno = 0;
                        id = strtoul(nic->vlan_id, &end, 10);
                }
                if (!nic->vlan_id || errno || *end || nic->vlan_id[0] < '0' || nic->vlan_id[0] > '9' ||
                    id > 4094)
                        return warren_error_set(reterr, EINVAL,
                                                "%s.type 'vlan' needs %s.vlan.id 0..4094 (got '%s')",
                                                nic->key, nic->key, strempty(nic->vlan_id));
        }
        if (nic->type == NIC_IPVLAN && nic->ipvlan_mode && !streq(nic->ipvlan_mode, "l2") &&
            !streq(nic->ipvlan_mode, "l3") && !streq(nic->ipvlan_mode, "l3s"))
                return warren_error_set(reterr, EINVAL, "Invalid %s.ipvlan.mode '%s': l2, l3 or l3s",
                                        nic->key, nic->ipvlan_mode);
        if (nic->type == NIC_IPVLAN && nic->ipvlan_isolation && !streq(nic->ipvlan_isolation, "bridge"))
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "%s.ipvlan.isolation '%s' is not supported by warren (only bridge)",
                                        nic->key, nic->ipvlan_isolation);
        if (nic->link && !netlink_ifname_is_valid(nic->link))
                return warren_error_set(reterr, EINVAL, "Invalid %s.link '%s': not an interface name",
                                        nic->key, nic->link);
        if (nic->pair && !netlink_ifname_is_valid(nic->pair))
                return warren_error_set(reterr, EINVAL, "Invalid %s.veth.pair '%s': not an interface name",
                                        nic->key, nic->pair);
        if (nic->type == NIC_MACVLAN && nic->macvlan_mode) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(macvlan_modes); i++)
                        ok = ok || streq(nic->macvlan_mode, macvlan_modes[i]);
                if (!ok)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid %s.macvlan.mode '%s': private, vepa, bridge "
                                                "or passthru",
                                                nic->key, nic->macvlan_mode);
        }
        if (nic->hwaddr) {
                uint8_t mac[6];
                char filled[18];
                /* At config time 'x' placeholders are fine: they are filled at create. */
                snprintf(filled, sizeof filled, "%s", nic->hwaddr);
                if (!(flags & NETWORK_CHECK_START))
                        for (char *p = filled; *p; p++)
                                if (*p == 'x' || *p == 'X')
                                        *p = '0';
                if (strlen(nic->hwaddr) != 17 || netlink_mac_parse(filled, mac) < 0)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid %s.hwaddr '%s': must be xx:xx:xx:xx:xx:xx in hex",
                                                nic->key, nic->hwaddr);
                if (mac[0] & 1)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid %s.hwaddr '%s': a multicast address", nic->key,
                                                nic->hwaddr);
        }
        if (nic->type == NIC_EMPTY || nic->type == NIC_NONE)
                return 0;
        return nic_check_addresses(nic, reterr);
}

static int nics_check(Nic *nics, size_t n, NetworkCheckFlags flags, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *host = NULL;
        int r;

        for (size_t i = 0; i < n; i++) {
                r = nic_check(&nics[i], flags, reterr);
                if (r < 0)
                        return r;
                if (nics[i].type == NIC_NONE && n > 1)
                        return warren_error_set(reterr, EINVAL,
                                                "%s.type 'none' shares the host's network: no other "
                                                "lxc.net.N may be configured",
                                                nics[i].key);
                char canon[18];
                snprintf(canon, sizeof canon, "%s", strempty(nics[i].hwaddr));
                nics[i].has_mac = netlink_mac_parse(canon, nics[i].mac) >= 0;
                for (size_t j = 0; j < i; j++) {
                        if (nics[i].type != NIC_EMPTY && nics[j].type != NIC_EMPTY &&
                            streq(nics[i].name, nics[j].name))
                                return warren_error_set(reterr, EINVAL,
                                                        "%s.name '%s' is also the name of %s", nics[i].key,
                                                        nics[i].name, nics[j].key);
                        if (nics[i].has_mac && nics[j].has_mac && memcmp(nics[i].mac, nics[j].mac, 6) == 0)
                                return warren_error_set(reterr, EINVAL,
                                                        "%s.hwaddr '%s' is also the hwaddr of %s",
                                                        nics[i].key, nics[i].hwaddr, nics[j].key);
                        if (nics[i].pair && nics[j].pair && streq(nics[i].pair, nics[j].pair))
                                return warren_error_set(reterr, EINVAL,
                                                        "%s.veth.pair '%s' is also the veth.pair of %s",
                                                        nics[i].key, nics[i].pair, nics[j].key);
                }
        }
        if (!(flags & NETWORK_CHECK_HOST))
                return 0;
        for (size_t i = 0; i < n; i++) {
                if (!nics[i].link || nics[i].type == NIC_EMPTY || nics[i].type == NIC_NONE)
                        continue;
                if (!host && (r = netlink_open(-1, &host, reterr)) < 0)
                        return r;
                r = nic_check_link(host, &nics[i], reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int network_check_config(const LxcConfig *c, NetworkCheckFlags flags, WarrenError *reterr) {
        Nic *nics = NULL;
        size_t n = 0;
        int r = nics_parse(c, &nics, &n, reterr);
        if (r < 0)
                return r;
        r = nics_check(nics, n, flags, reterr);
        nics_free(nics, n);
        return r;
}

bool network_config_shares_host_netns(const LxcConfig *c) {
        for (unsigned i = 0; i < lxc_config_net_count(c); i++) {
                const char *t = nic_get(c, i, "type");
                if (t && streq(t, "none"))
                        return true;
        }
        return false;
}

char **network_config_bridges(const LxcConfig *c) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return NULL;
        for (unsigned i = 0; i < lxc_config_net_count(c); i++) {
                const char *t = nic_get(c, i, "type"), *link = nic_get(c, i, "link");
                if (t && link && streq(t, "veth") && strv_extend(&l, link) < 0)
                        return NULL;
        }
        return TAKE_PTR(l);
}

void network_host_ifname(const char *name, unsigned index, char ret[16]) {
        uint32_t h = 2166136261U; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *) name; *p; p++)
                h = (h ^ *p) * 16777619U;
        snprintf(ret, 16, "veth%07x_%u", h & 0xfffffffU, index % 1000U);
}

/* ---- setup ---- */

typedef struct Setup {
        const char *name;
        NlSocket *host, *inner;
        int netns_fd;
        char alias[NL_IFALIASZ];
} Setup;

/* The first address of family on the bridge, for gateway 'auto'. */
static int bridge_address(Setup *s, const Nic *nic, int family, uint8_t ret[16], WarrenError *reterr) {
        _cleanup_free_ NlAddr *addrs = NULL;
        size_t n = 0;
        NlLink br;
        int r = netlink_link_get_by_name(s->host, nic->link, &br);
        if (r >= 0)
                r = netlink_addr_list(s->host, br.ifindex, family, &addrs, &n);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the addresses of bridge '%s': %s",
                                        nic->link, strerror(-r));
        for (size_t i = 0; i < n; i++)
                if (addrs[i].scope == RT_SCOPE_UNIVERSE) {
                        memcpy(ret, addrs[i].addr, 16);
                        return 0;
                }
        return warren_error_set(
                reterr, EADDRNOTAVAIL, "%s.ipv%c.gateway is 'auto' but bridge '%s' has no %s address",
                nic->key, family == AF_INET ? '4' : '6', nic->link, family == AF_INET ? "IPv4" : "IPv6");
}

static int setup_host_routes(Setup *s, const Nic *nic, int host_ifindex, WarrenError *reterr) {
        for (int i = 0; i < 2; i++) {
                int family = i == 0 ? AF_INET : AF_INET6;
                STRV_FOREACH(p, i == 0 ? nic->host_routes4 : nic->host_routes6) {
                        NlAddr a;
                        int r = netlink_addr_parse(family, *p, &a, reterr);
                        if (r < 0)
                                return r;
                        NlRoute rt = { .family = family,
                                       .dst_len = a.prefixlen,
                                       .oif = host_ifindex,
                                       .scope = RT_SCOPE_LINK };
                        memcpy(rt.dst, a.addr, 16);
                        r = netlink_route_add(s->host, &rt, reterr);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int setup_veth(Setup *s, const Nic *nic, WarrenError *reterr) {
        char host_name[NL_IFNAMSIZ];
        uint8_t host_mac[6];
        NlLink br = {}, hl;
        int r;

        if (nic->pair)
                snprintf(host_name, sizeof host_name, "%s", nic->pair);
        else
                network_host_ifname(s->name, nic->index, host_name);
        if (nic->link) {
                r = netlink_link_get_by_name(s->host, nic->link, &br);
                if (r < 0)
                        return warren_error_set(reterr, r, "%s.link '%s': %s", nic->key, nic->link,
                                                r == -ENODEV ? "no such bridge" : strerror(-r));
        }
        /* A high first byte keeps the bridge's own address from following
         * a container's host end (a bridge takes its ports' lowest MAC). */
        if (getrandom(host_mac, sizeof host_mac, 0) != (ssize_t) sizeof host_mac)
                return warren_error_set(reterr, errno, "Failed to get random bytes: %m");
        host_mac[0] = 0xfe;

        NlLinkSpec host = NL_LINK_SPEC_INIT, peer = NL_LINK_SPEC_INIT;
        host.name = host_name;
        host.mac = host_mac;
        host.mtu = nic->mtu ? nic->mtu : br.mtu;
        host.master = br.ifindex;
        host.up = 1;
        peer.name = nic->name;
        peer.mac = nic->has_mac ? nic->mac : NULL;
        peer.mtu = host.mtu;
        peer.netns_fd = s->netns_fd;
        r = netlink_link_add_veth(s->host, &host, &peer, reterr);
        if (r < 0)
                return r;
        /* The kernel ignores IFLA_IFALIAS when creating a link. */
        r = netlink_link_get_by_name(s->host, host_name, &hl);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to find the new interface '%s': %s", host_name,
                                        strerror(-r));
        NlLinkSpec tag = NL_LINK_SPEC_INIT;
        tag.alias = s->alias;
        r = netlink_link_change(s->host, hl.ifindex, &tag, reterr);
        if (r < 0)
                return r;
        return setup_host_routes(s, nic, hl.ifindex, reterr);
}

static int setup_macvlan(Setup *s, const Nic *nic, WarrenError *reterr) {
        static const struct {
                const char *name;
                uint32_t mode;
        } modes[] = {
                { "private", MACVLAN_MODE_PRIVATE },
                { "vepa", MACVLAN_MODE_VEPA },
                { "bridge", MACVLAN_MODE_BRIDGE },
                { "passthru", MACVLAN_MODE_PASSTHRU },
        };
        uint32_t mode = MACVLAN_MODE_PRIVATE;
        for (size_t i = 0; nic->macvlan_mode && i < ELEMENTSOF(modes); i++)
                if (streq(nic->macvlan_mode, modes[i].name))
                        mode = modes[i].mode;
        NlLinkSpec spec = NL_LINK_SPEC_INIT;
        spec.name = nic->name;
        spec.mac = nic->has_mac ? nic->mac : NULL;
        spec.mtu = nic->mtu;
        spec.netns_fd = s->netns_fd;
        return netlink_link_add_macvlan(s->host, nic->link, mode, &spec, reterr);
}

static int setup_vlan(Setup *s, const Nic *nic, WarrenError *reterr) {
        NlLinkSpec spec = NL_LINK_SPEC_INIT;
        spec.name = nic->name;
        spec.mac = nic->has_mac ? nic->mac : NULL;
        spec.mtu = nic->mtu;
        spec.netns_fd = s->netns_fd;
        return netlink_link_add_vlan(s->host, nic->link, (uint16_t) strtoul(nic->vlan_id, NULL, 10), &spec,
                                     reterr);
}

static int setup_ipvlan(Setup *s, const Nic *nic, WarrenError *reterr) {
        uint16_t mode = IPVLAN_MODE_L3; /* LXC's default */
        if (nic->ipvlan_mode && streq(nic->ipvlan_mode, "l2"))
                mode = IPVLAN_MODE_L2;
        else if (nic->ipvlan_mode && streq(nic->ipvlan_mode, "l3s"))
                mode = IPVLAN_MODE_L3S;
        NlLinkSpec spec = NL_LINK_SPEC_INIT;
        spec.name = nic->name;
        spec.mtu = nic->mtu;
        spec.netns_fd = s->netns_fd;
        return netlink_link_add_ipvlan(s->host, nic->link, mode, &spec, reterr);
}

/* The host's interface itself goes into the container, renamed; it comes
 * back (network_restore_phys) when the container stops. */
static int setup_phys(Setup *s, const Nic *nic, WarrenError *reterr) {
        NlLink l;
        int r = netlink_link_get_by_name(s->host, nic->link, &l);
        if (r < 0)
                return warren_error_set(reterr, r, "%s.link '%s': %s", nic->key, nic->link,
                                        r == -ENODEV ? "no such interface on the host" : strerror(-r));
        if (l.master > 0)
                return warren_error_set(reterr, EBUSY, "%s.link '%s' is a port of a bridge: detach it first",
                                        nic->key, nic->link);
        NlLinkSpec spec = NL_LINK_SPEC_INIT;
        spec.name = nic->name;
        spec.mac = nic->has_mac ? nic->mac : NULL;
        spec.mtu = nic->mtu;
        spec.netns_fd = s->netns_fd;
        r = netlink_link_change(s->host, l.ifindex, &spec, reterr);
        if (r < 0)
                warren_error_prefix(reterr, "%s.type 'phys' (%s)", nic->key, nic->link);
        return r;
}

/* Inside the container: addresses, up, gateways. */
static int setup_inner(Setup *s, const Nic *nic, WarrenError *reterr) {
        NlLink l;
        int r = netlink_link_get_by_name(s->inner, nic->name, &l);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to find '%s' in the container: %s", nic->name,
                                        strerror(-r));

        for (int i = 0; i < 2; i++) {
                int family = i == 0 ? AF_INET : AF_INET6;
                STRV_FOREACH(p, i == 0 ? nic->ipv4 : nic->ipv6) {
                        NlAddr a;
                        r = netlink_addr_parse(family, *p, &a, reterr);
                        if (r < 0)
                                return r;
                        a.ifindex = l.ifindex;
                        r = netlink_addr_add(s->inner, &a, reterr);
                        if (r < 0)
                                return r;
                }
        }
        if (!nic->up)
                return 0;
        NlLinkSpec up = NL_LINK_SPEC_INIT;
        up.up = 1;
        r = netlink_link_change(s->inner, l.ifindex, &up, reterr);
        if (r < 0)
                return r;

        for (int i = 0; i < 2; i++) {
                int family = i == 0 ? AF_INET : AF_INET6;
                const char *gw = i == 0 ? nic->ipv4_gw : nic->ipv6_gw;
                NlRoute rt = { .family = family, .oif = l.ifindex };
                if (!gw)
                        continue;
                if (streq(gw, "auto"))
                        r = bridge_address(s, nic, family, rt.gateway, reterr);
                else if (!streq(gw, "dev"))
                        r = inet_pton(family, gw, rt.gateway) == 1 ? 0 : -EINVAL;
                if (r < 0)
                        return r;
                rt.has_gateway = !streq(gw, "dev");
                /* A gateway outside the NIC's subnets is still on its link. */
                rt.onlink = rt.has_gateway;
                STRV_FOREACH(p, i == 0 ? nic->ipv4 : nic->ipv6) {
                        NlAddr a;
                        if (netlink_addr_parse(family, *p, &a, NULL) >= 0 &&
                            netlink_addr_same_subnet(family, a.addr, rt.gateway, a.prefixlen))
                                rt.onlink = false;
                }
                r = netlink_route_add(s->inner, &rt, reterr);
                if (r < 0) {
                        warren_error_prefix(reterr, "%s.ipv%c.gateway '%s'", nic->key, i == 0 ? '4' : '6',
                                            gw);
                        return r;
                }
        }
        return 0;
}

static int setup_loopback(Setup *s, WarrenError *reterr) {
        NlLink lo;
        int r = netlink_link_get_by_name(s->inner, "lo", &lo);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to find the container's loopback: %s",
                                        strerror(-r));
        if (lo.flags & IFF_UP)
                return 0;
        NlLinkSpec up = NL_LINK_SPEC_INIT;
        up.up = 1;
        return netlink_link_change(s->inner, lo.ifindex, &up, reterr);
}

static int setup_all(Setup *s, const Nic *nics, size_t n, WarrenError *reterr) {
        int r;
        for (size_t i = 0; i < n; i++) {
                if (nics[i].type == NIC_VETH)
                        r = setup_veth(s, &nics[i], reterr);
                else if (nics[i].type == NIC_MACVLAN)
                        r = setup_macvlan(s, &nics[i], reterr);
                else if (nics[i].type == NIC_VLAN)
                        r = setup_vlan(s, &nics[i], reterr);
                else if (nics[i].type == NIC_IPVLAN)
                        r = setup_ipvlan(s, &nics[i], reterr);
                else if (nics[i].type == NIC_PHYS)
                        r = setup_phys(s, &nics[i], reterr);
                else
                        continue;
                if (r >= 0)
                        r = setup_inner(s, &nics[i], reterr);
                if (r < 0)
                        return r;
        }
        return setup_loopback(s, reterr);
}

int network_setup_container(const LxcConfig *c, const char *name, pid_t init_pid, NetworkCheckFlags flags,
                            WarrenError *reterr) {
        Nic *nics = NULL;
        size_t n = 0;
        char path[64];
        int r;

        r = nics_parse(c, &nics, &n, reterr);
        if (r >= 0)
                r = nics_check(nics, n, flags | NETWORK_CHECK_HOST | NETWORK_CHECK_START, reterr);
        bool host = false;
        for (size_t i = 0; r >= 0 && i < n; i++)
                host = host || (nics[i].type != NIC_EMPTY && nics[i].type != NIC_NONE);
        /* none: the host's namespace; only empty ones: the child brings lo
         * up (network_config_has_host_links()). */
        if (r < 0 || !host) {
                nics_free(nics, n);
                return r < 0 ? r : 0;
        }

        Setup s = { .name = name, .netns_fd = -EBADF };
        snprintf(s.alias, sizeof s.alias, ALIAS_PREFIX "%s", name);
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) init_pid);
        s.netns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s.netns_fd < 0)
                r = warren_error_set(reterr, errno, "Failed to open the network namespace of pid %d: %m",
                                     (int) init_pid);
        if (r >= 0)
                r = netlink_open(-1, &s.host, reterr);
        if (r >= 0)
                r = netlink_open(s.netns_fd, &s.inner, reterr);
        if (r >= 0)
                r = setup_all(&s, nics, n, reterr);
        if (r < 0 && s.host) {
                warren_error_prefix(reterr, "Network of container '%s'", name);
                (void) network_teardown_container(name, NULL);
        }
        netlink_close(s.inner);
        netlink_close(s.host);
        safe_close(s.netns_fd);
        nics_free(nics, n);
        return r;
}

bool network_config_has_host_links(const LxcConfig *c) {
        Nic *nics = NULL;
        size_t n = 0;
        bool found = false;
        if (nics_parse(c, &nics, &n, NULL) < 0)
                return true; /* the full path reports what is wrong */
        for (size_t i = 0; i < n; i++)
                found = found || (nics[i].type != NIC_EMPTY && nics[i].type != NIC_NONE);
        nics_free(nics, n);
        return found;
}

int network_loopback_up(WarrenError *reterr) {
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = { .ifr_name = "lo" };
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to bring up the container's loopback: %m");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return warren_error_set(reterr, errno, "Failed to find the container's loopback: %m");
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return warren_error_set(reterr, errno, "Failed to bring up the container's loopback: %m");
        return 0;
}

bool network_config_has_phys(const LxcConfig *c) {
        Nic *nics = NULL;
        size_t n = 0;
        bool found = false;
        if (nics_parse(c, &nics, &n, NULL) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                found = found || nics[i].type == NIC_PHYS;
        nics_free(nics, n);
        return found;
}

int network_restore_phys(const LxcConfig *c, int netns_fd, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *inner = NULL;
        _cleanup_close_ int host_ns = -EBADF;
        Nic *nics = NULL;
        size_t n = 0;
        int r = nics_parse(c, &nics, &n, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                NlLink l;
                if (nics[i].type != NIC_PHYS || !nics[i].link)
                        continue;
                if (!inner && (r = netlink_open(netns_fd, &inner, reterr)) < 0)
                        break;
                if (host_ns < 0 && (host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
                        r = warren_error_set(reterr, errno,
                                             "Failed to open the host's network namespace: %m");
                        break;
                }
                if (netlink_link_get_by_name(inner, nics[i].name, &l) < 0)
                        continue; /* gone already (or renamed inside: nothing to find it by) */
                NlLinkSpec back = NL_LINK_SPEC_INIT;
                back.name = nics[i].link;
                back.up = 0;
                back.netns_fd = host_ns;
                r = netlink_link_change(inner, l.ifindex, &back, reterr);
                if (r < 0)
                        warren_error_prefix(reterr, "Returning %s '%s' to the host", nics[i].key,
                                            nics[i].link);
                else
                        log_debug("Returned %s to the host as %s", nics[i].name, nics[i].link);
        }
        nics_free(nics, n);
        return r;
}

/* ---- teardown, queries ---- */

/* Ours if tagged for us, or named like our host ends and untagged (a
 * crash between creating and tagging). A name from a colliding hash that
 * is tagged for another container is not ours. */
static bool link_is_of(const NlLink *l, const char *alias, const char *prefix) {
        if (streq(l->alias, alias))
                return true;
        return streq(l->kind, "veth") && !l->alias[0] && strncmp(l->name, prefix, strlen(prefix)) == 0;
}

int network_teardown_container(const char *name, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *host = NULL;
        _cleanup_free_ NlLink *links = NULL;
        char alias[NL_IFALIASZ], prefix[NL_IFNAMSIZ];
        size_t n = 0;
        int r, removed = 0;

        r = netlink_open(-1, &host, reterr);
        if (r < 0)
                return r;
        r = netlink_link_list(host, &links, &n);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to list interfaces: %s", strerror(-r));
        snprintf(alias, sizeof alias, ALIAS_PREFIX "%s", name);
        network_host_ifname(name, 0, prefix);
        prefix[strlen(prefix) - 1] = 0; /* "vethXXXXXXX_" */
        for (size_t i = 0; i < n; i++) {
                if (!link_is_of(&links[i], alias, prefix))
                        continue;
                r = netlink_link_delete(host, links[i].ifindex, NULL);
                /* Deleting one end of a veth pair takes the other with it. */
                if (r < 0 && r != -ENODEV)
                        return warren_error_set(reterr, r,
                                                "Failed to remove interface '%s' of container '%s': %s",
                                                links[i].name, name, strerror(-r));
                removed += r >= 0;
                log_debug("Removed interface %s of container %s", links[i].name, name);
        }
        return removed;
}

int network_container_host_ifindexes(const char *name, int **ret, size_t *ret_n, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *host = NULL;
        _cleanup_free_ NlLink *links = NULL;
        _cleanup_free_ int *found = NULL;
        char alias[NL_IFALIASZ], prefix[NL_IFNAMSIZ];
        size_t n = 0, k = 0;

        int r = netlink_open(-1, &host, reterr);
        if (r < 0)
                return r;
        r = netlink_link_list(host, &links, &n);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to list interfaces: %s", strerror(-r));
        snprintf(alias, sizeof alias, ALIAS_PREFIX "%s", name);
        network_host_ifname(name, 0, prefix);
        prefix[strlen(prefix) - 1] = 0;
        found = calloc(n + 1, sizeof(int));
        if (!found)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (link_is_of(&links[i], alias, prefix))
                        found[k++] = links[i].ifindex;
        *ret = TAKE_PTR(found);
        *ret_n = k;
        return 0;
}

int network_count_attached(const char *bridge, char *const *names, unsigned *ret, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *host = NULL;
        _cleanup_free_ NlLink *links = NULL;
        size_t n = 0;
        NlLink br;
        unsigned count = 0;

        int r = netlink_open(-1, &host, reterr);
        if (r < 0)
                return r;
        r = netlink_link_get_by_name(host, bridge, &br);
        if (r == -ENODEV) {
                *ret = 0;
                return 0;
        }
        if (r >= 0)
                r = netlink_link_list(host, &links, &n);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to list the interfaces of bridge '%s': %s",
                                        bridge, strerror(-r));
        for (size_t i = 0; i < n; i++) {
                if (links[i].master != br.ifindex ||
                    strncmp(links[i].alias, ALIAS_PREFIX, strlen(ALIAS_PREFIX)) != 0)
                        continue;
                STRV_FOREACH(p, names)
                        if (streq(links[i].alias + strlen(ALIAS_PREFIX), *p))
                                count++;
        }
        *ret = count;
        return 0;
}

int network_container_addresses(pid_t pid, int family, char ***ret, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *inner = NULL;
        _cleanup_free_ NlAddr *addrs = NULL;
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_close_ int fd = -EBADF;
        char path[64];
        size_t n = 0;

        if (family != AF_INET && family != AF_INET6)
                return warren_error_set(reterr, EAFNOSUPPORT, "Unknown address family %d", family);
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open the network namespace of pid %d: %m",
                                        (int) pid);
        int r = netlink_open(fd, &inner, reterr);
        if (r < 0)
                return r;
        r = netlink_addr_list(inner, 0, family, &addrs, &n);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to list the addresses of pid %d: %s", (int) pid,
                                        strerror(-r));
        l = calloc(1, sizeof(char *));
        if (!l)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        for (size_t i = 0; i < n; i++) {
                char buf[INET6_ADDRSTRLEN];
                if (addrs[i].scope == RT_SCOPE_HOST || addrs[i].scope == RT_SCOPE_LINK ||
                    (addrs[i].flags & IFA_F_DADFAILED))
                        continue;
                if (strv_extend(&l, netlink_addr_to_string(family, addrs[i].addr, buf, sizeof buf)) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        *ret = TAKE_PTR(l);
        return 0;
}
