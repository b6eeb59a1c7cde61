/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ipvlan.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "netlink.h"
#include "basic/log.h"

struct NlSocket {
        struct nl_sock *sk;
        int last_errno;     /* the kernel's errno of the last NLMSG_ERROR, 0 if none */
        char last_msg[128]; /* its extended ack message, "" if none */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);

/* libnl folds kernel errnos into its own codes (ENETUNREACH and many more
 * become NLE_FAILURE), so the error callback keeps the kernel's errno and
 * extended ack message for nl_errno() and the messages below. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *userdata) {
        NlSocket *s = userdata;
        const struct nlmsghdr *h = (const struct nlmsghdr *) ((const char *) e - NLMSG_HDRLEN);

        s->last_errno = e->error < 0 ? -e->error : e->error;
        s->last_msg[0] = 0;
        if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
                return NL_STOP;
        /* The TLVs follow the echoed request (just its header if capped). */
        size_t off = NLMSG_HDRLEN + sizeof(*e) - sizeof(e->msg) +
                     ((h->nlmsg_flags & NLM_F_CAPPED) ? sizeof(e->msg) : NLMSG_ALIGN(e->msg.nlmsg_len));
        while (off + NLA_HDRLEN <= h->nlmsg_len) {
                const struct nlattr *a = (const struct nlattr *) ((const char *) h + off);
                if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len)
                        break;
                if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
                        snprintf(s->last_msg, sizeof s->last_msg, "%.*s", (int) (a->nla_len - NLA_HDRLEN),
                                 (const char *) a + NLA_HDRLEN);
                        break;
                }
                off += NLA_ALIGN(a->nla_len);
        }
        return NL_STOP;
}

static int nle_to_errno(int nle) {
        static const struct {
                int nle, err;
        } map[] = {
                { NLE_INTR, EINTR },           { NLE_BAD_SOCK, EBADF },
                { NLE_AGAIN, EAGAIN },         { NLE_NOMEM, ENOMEM },
                { NLE_EXIST, EEXIST },         { NLE_INVAL, EINVAL },
                { NLE_RANGE, ERANGE },         { NLE_MSGSIZE, EMSGSIZE },
                { NLE_OPNOTSUPP, EOPNOTSUPP }, { NLE_AF_NOSUPPORT, EAFNOSUPPORT },
                { NLE_OBJ_NOTFOUND, ENODEV },  { NLE_NOATTR, EINVAL },
                { NLE_MISSING_ATTR, EINVAL },  { NLE_AF_MISMATCH, EINVAL },
                { NLE_NOACCESS, EACCES },      { NLE_PERM, EPERM },
                { NLE_NODEV, ENODEV },         { NLE_BUSY, EBUSY },
                { NLE_NOADDR, EADDRNOTAVAIL }, { NLE_IMMUTABLE, EPERM },
        };
        nle = nle < 0 ? -nle : nle;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (map[i].nle == nle)
                        return map[i].err;
        return EIO;
}

/* -errno of a failed libnl call r: the kernel's own errno if it sent one. */
static int nl_errno(NlSocket *s, int r) {
        int e = s->last_errno ? s->last_errno : nle_to_errno(r);
        return -e;
}

/* Text for the failure just recorded: the kernel's extended ack message,
 * else strerror. */
static const char *nl_why(NlSocket *s, int r) {
        if (s->last_msg[0])
                return s->last_msg;
        return strerror(-nl_errno(s, r));
}

static void nl_reset(NlSocket *s) {
        s->last_errno = 0;
        s->last_msg[0] = 0;
}

static int nl_fail(NlSocket *s, int r, WarrenError *reterr, const char *what, const char *name) {
        int e = nl_errno(s, r);
        return warren_error_set(reterr, e, "Failed to %s '%s': %s", what, name, nl_why(s, r));
}

/* ---- sockets ---- */

static int nl_socket_new(NlSocket **ret) {
        _cleanup_free_ NlSocket *s = calloc(1, sizeof(NlSocket));
        if (!s)
                return -ENOMEM;
        s->sk = nl_socket_alloc();
        if (!s->sk)
                return -ENOMEM;
        int r = nl_connect(s->sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(s->sk);
                return -nle_to_errno(r);
        }
        int fd = nl_socket_get_fd(s->sk);
        (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &(int){ 1 }, sizeof(int));
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &(int){ 1 }, sizeof(int));
        nl_socket_modify_err_cb(s->sk, NL_CB_CUSTOM, on_error, s);
        *ret = TAKE_PTR(s);
        return 0;
}

int netlink_open(int netns_fd, NlSocket **ret, WarrenError *reterr) {
        int r;

        if (netns_fd < 0) {
                r = nl_socket_new(ret);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to open a netlink socket: %s",
                                                strerror(-r));
                return 0;
        }

        /* Enter the target namespace just long enough to create the socket.
         * Only this thread moves (setns on a netns is per thread), and
         * nothing else runs in between. */
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return warren_error_set(reterr, errno, "Failed to open our network namespace: %m");
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return warren_error_set(reterr, errno, "Failed to enter the target network namespace: %m");
        r = nl_socket_new(ret);
        if (setns(self, CLONE_NEWNET) < 0) {
                /* Carrying on in the wrong namespace would configure the
                 * host as if it were the container: never. */
                log_debug_errno(errno, "Failed to return to our network namespace: %m");
                abort();
        }
        if (r < 0)
                return warren_error_set(
                        reterr, r, "Failed to open a netlink socket in the target network namespace: %s",
                        strerror(-r));
        return 0;
}

NlSocket *netlink_close(NlSocket *s) {
        if (!s)
                return NULL;
        nl_socket_free(s->sk);
        free(s);
        return NULL;
}

/* ---- links ---- */

static void link_from_rtnl(struct rtnl_link *l, NlLink *ret) {
        *ret = (NlLink){ .ifindex = rtnl_link_get_ifindex(l),
                         .master = rtnl_link_get_master(l),
                         .flags = rtnl_link_get_flags(l),
                         .mtu = rtnl_link_get_mtu(l) };
        snprintf(ret->name, sizeof ret->name, "%s", strempty(rtnl_link_get_name(l)));
        snprintf(ret->kind, sizeof ret->kind, "%s", strempty(rtnl_link_get_type(l)));
        snprintf(ret->alias, sizeof ret->alias, "%s", strempty(rtnl_link_get_ifalias(l)));
        struct nl_addr *a = rtnl_link_get_addr(l);
        if (a && nl_addr_get_len(a) == 6)
                memcpy(ret->mac, nl_addr_get_binary_addr(a), 6);
}

static int link_get(NlSocket *s, int ifindex, const char *name, NlLink *ret);

/* The name of ifindex in s's namespace, for messages ("#N" if unknown). */
static const char *link_name(NlSocket *s, int ifindex, char *buf, size_t size) {
        NlLink l;
        if (ifindex > 0 && link_get(s, ifindex, NULL, &l) >= 0)
                snprintf(buf, size, "%s", l.name);
        else
                snprintf(buf, size, "#%d", ifindex);
        return buf;
}

static int link_get(NlSocket *s, int ifindex, const char *name, NlLink *ret) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        nl_reset(s);
        int r = rtnl_link_get_kernel(s->sk, ifindex, name, &l);
        if (r < 0)
                return nl_errno(s, r);
        link_from_rtnl(l, ret);
        return 0;
}

int netlink_link_get_by_name(NlSocket *s, const char *name, NlLink *ret) {
        if (!netlink_ifname_is_valid(name))
                return -ENODEV;
        return link_get(s, 0, name, ret);
}

int netlink_link_get_by_index(NlSocket *s, int ifindex, NlLink *ret) {
        if (ifindex <= 0)
                return -ENODEV;
        return link_get(s, ifindex, NULL, ret);
}

int netlink_link_list(NlSocket *s, NlLink **ret, size_t *ret_n) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        nl_reset(s);
        int r = rtnl_link_alloc_cache(s->sk, AF_UNSPEC, &cache);
        if (r < 0)
                return nl_errno(s, r);
        size_t n = 0, cap = (size_t) nl_cache_nitems(cache);
        _cleanup_free_ NlLink *links = calloc(cap ? cap : 1, sizeof(NlLink));
        if (!links)
                return -ENOMEM;
        for (struct nl_object *o = nl_cache_get_first(cache); o && n < cap; o = nl_cache_get_next(o))
                link_from_rtnl((struct rtnl_link *) o, &links[n++]);
        *ret = TAKE_PTR(links);
        *ret_n = n;
        return 0;
}

/* Fills an rtnl_link from spec. Returns -ENOMEM. */
static int link_apply_spec(struct rtnl_link *l, const NlLinkSpec *spec, bool create) {
        if (spec->name)
                rtnl_link_set_name(l, spec->name);
        if (spec->mac) {
                _cleanup_(nl_addr_putp) struct nl_addr *a = nl_addr_build(AF_LLC, spec->mac, 6);
                if (!a)
                        return -ENOMEM;
                rtnl_link_set_addr(l, a);
        }
        if (spec->mtu > 0)
                rtnl_link_set_mtu(l, spec->mtu);
        if (spec->master > 0)
                rtnl_link_set_master(l, spec->master);
        else if (spec->master == NL_NOMASTER && !create)
                rtnl_link_set_master(l, 0);
        if (spec->up > 0)
                rtnl_link_set_flags(l, IFF_UP);
        else if (spec->up == 0)
                rtnl_link_unset_flags(l, IFF_UP);
        if (spec->alias)
                rtnl_link_set_ifalias(l, spec->alias);
        if (spec->netns_fd >= 0)
                rtnl_link_set_ns_fd(l, spec->netns_fd);
        return 0;
}

int netlink_link_change(NlSocket *s, int ifindex, const NlLinkSpec *spec, WarrenError *reterr) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
        char name[32];
        int r;

        link_name(s, ifindex, name, sizeof name);
        if (!orig || !change)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        rtnl_link_set_ifindex(orig, ifindex);
        r = link_apply_spec(change, spec, false);
        if (r < 0)
                return warren_error_set(reterr, r, "Out of memory");
        nl_reset(s);
        r = rtnl_link_change(s->sk, orig, change, 0);
        if (r < 0)
                return nl_fail(s, r, reterr, "configure interface", name);
        return 0;
}

static int link_add(NlSocket *s, struct rtnl_link *l, const char *what, const char *name,
                    WarrenError *reterr) {
        nl_reset(s);
        int r = rtnl_link_add(s->sk, l, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0) {
                if (nl_errno(s, r) == -EEXIST)
                        return warren_error_set(reterr, EEXIST,
                                                "Failed to create %s '%s': an interface of that name exists",
                                                what, name);
                return nl_fail(s, r, reterr, what[0] == 'b' ? "create bridge" : "create interface", name);
        }
        return 0;
}

int netlink_link_add_bridge(NlSocket *s, const NlLinkSpec *spec, WarrenError *reterr) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_alloc();
        if (!l || rtnl_link_set_type(l, "bridge") < 0 || link_apply_spec(l, spec, true) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        return link_add(s, l, "bridge", strempty(spec->name), reterr);
}

int netlink_link_add_veth(NlSocket *s, const NlLinkSpec *host, const NlLinkSpec *peer, WarrenError *reterr) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_veth_alloc();
        /* The kernel opens the peer before it is paired: -ENOTCONN. */
        if (peer->up > 0)
                return warren_error_set(reterr, EINVAL, "Cannot bring up veth peer '%s' at creation",
                                        strempty(peer->name));
        if (!l)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        struct rtnl_link *p = rtnl_link_veth_get_peer(l);
        int r = link_apply_spec(l, host, true);
        if (r >= 0 && p)
                r = link_apply_spec(p, peer, true);
        if (p)
                rtnl_link_put(p);
        if (r < 0 || !p)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        return link_add(s, l, "veth pair", strempty(host->name), reterr);
}

/* A link of kind `what` stacked on lower (macvlan, vlan, ipvlan): allocated
 * with alloc, spec applied, attached to lower. */
static int lower_link_new(NlSocket *s, const char *lower, const char *what, struct rtnl_link *(*alloc)(void),
                          const NlLinkSpec *spec, struct rtnl_link **ret, WarrenError *reterr) {
        NlLink low;
        int r = netlink_link_get_by_name(s, lower, &low);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create %s '%s' on '%s': %s", what,
                                        strempty(spec->name), lower,
                                        r == -ENODEV ? "no such interface" : strerror(-r));
        struct rtnl_link *l = alloc();
        if (!l || link_apply_spec(l, spec, true) < 0) {
                if (l)
                        rtnl_link_put(l);
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        rtnl_link_set_link(l, low.ifindex);
        *ret = l;
        return 0;
}

/* Adds it; a kernel without that kind of link gets the hint in the message. */
static int lower_link_add(NlSocket *s, struct rtnl_link *l, const char *what, const char *lower,
                          const NlLinkSpec *spec, const char *missing, WarrenError *reterr) {
        int r = link_add(s, l, what, strempty(spec->name), reterr);
        if (r == -EOPNOTSUPP && missing)
                return warren_error_reset(reterr, EOPNOTSUPP,
                                          "Failed to create %s '%s' on '%s': this kernel has no %s", what,
                                          strempty(spec->name), lower, missing);
        return r;
}

int netlink_link_add_macvlan(NlSocket *s, const char *lower, uint32_t mode, const NlLinkSpec *spec,
                             WarrenError *reterr) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r = lower_link_new(s, lower, "macvlan", rtnl_link_macvlan_alloc, spec, &l, reterr);
        if (r < 0)
                return r;
        rtnl_link_macvlan_set_mode(l, mode);
        return lower_link_add(s, l, "macvlan", lower, spec, "macvlan support (CONFIG_MACVLAN)", reterr);
}

int netlink_link_add_vlan(NlSocket *s, const char *lower, uint16_t id, const NlLinkSpec *spec,
                          WarrenError *reterr) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r = lower_link_new(s, lower, "vlan", rtnl_link_vlan_alloc, spec, &l, reterr);
        if (r < 0)
                return r;
        if (rtnl_link_vlan_set_id(l, id) < 0)
                return warren_error_set(reterr, EINVAL, "Invalid vlan id %u", (unsigned) id);
        return lower_link_add(s, l, "vlan", lower, spec,
                              "802.1Q VLAN support (CONFIG_VLAN_8021Q, module 8021q)", reterr);
}

int netlink_link_add_ipvlan(NlSocket *s, const char *lower, uint16_t mode, const NlLinkSpec *spec,
                            WarrenError *reterr) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r = lower_link_new(s, lower, "ipvlan", rtnl_link_ipvlan_alloc, spec, &l, reterr);
        if (r < 0)
                return r;
        if (rtnl_link_ipvlan_set_mode(l, mode) < 0)
                return warren_error_set(reterr, EINVAL, "Invalid ipvlan mode %u", (unsigned) mode);
        return lower_link_add(s, l, "ipvlan", lower, spec, "ipvlan support (CONFIG_IPVLAN, module ipvlan)",
                              reterr);
}

int netlink_link_delete(NlSocket *s, int ifindex, WarrenError *reterr) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_alloc();
        char name[32];
        if (!l)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        link_name(s, ifindex, name, sizeof name);
        rtnl_link_set_ifindex(l, ifindex);
        nl_reset(s);
        int r = rtnl_link_delete(s->sk, l);
        if (r < 0)
                return nl_fail(s, r, reterr, "delete interface", name);
        return 0;
}

/* ---- addresses ---- */

static size_t family_len(int family) {
        return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static struct nl_addr *addr_build(int family, const void *bin, unsigned prefixlen) {
        struct nl_addr *a = nl_addr_build(family, bin, family_len(family));
        if (a)
                nl_addr_set_prefixlen(a, (int) prefixlen);
        return a;
}

static struct rtnl_addr *addr_to_rtnl(const NlAddr *a) {
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = rtnl_addr_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *local = addr_build(a->family, a->addr, a->prefixlen),
                                               *bc = NULL;
        if (!ra || !local)
                return NULL;
        rtnl_addr_set_family(ra, a->family);
        rtnl_addr_set_ifindex(ra, a->ifindex);
        if (rtnl_addr_set_local(ra, local) < 0)
                return NULL;
        if (a->family == AF_INET && a->has_broadcast) {
                bc = addr_build(AF_INET, a->broadcast, 32);
                if (!bc || rtnl_addr_set_broadcast(ra, bc) < 0)
                        return NULL;
        }
        return TAKE_PTR(ra);
}

static int addr_op(NlSocket *s, const NlAddr *a, bool add, WarrenError *reterr) {
        char buf[INET6_ADDRSTRLEN + 8];
        if (!family_len(a->family))
                return warren_error_set(reterr, EAFNOSUPPORT, "Unknown address family %d", a->family);
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = addr_to_rtnl(a);
        if (!ra)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        nl_reset(s);
        int r = add ? rtnl_addr_add(s->sk, ra, NLM_F_EXCL) : rtnl_addr_delete(s->sk, ra, 0);
        if (r < 0)
                return nl_fail(s, r, reterr, add ? "add address" : "remove address",
                               netlink_addr_to_cidr(a, buf, sizeof buf));
        return 0;
}

int netlink_addr_add(NlSocket *s, const NlAddr *a, WarrenError *reterr) {
        return addr_op(s, a, true, reterr);
}

int netlink_addr_del(NlSocket *s, const NlAddr *a, WarrenError *reterr) {
        return addr_op(s, a, false, reterr);
}

int netlink_addr_list(NlSocket *s, int ifindex, int family, NlAddr **ret, size_t *ret_n) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        nl_reset(s);
        int r = rtnl_addr_alloc_cache(s->sk, &cache);
        if (r < 0)
                return nl_errno(s, r);
        size_t n = 0, cap = (size_t) nl_cache_nitems(cache);
        _cleanup_free_ NlAddr *addrs = calloc(cap ? cap : 1, sizeof(NlAddr));
        if (!addrs)
                return -ENOMEM;
        for (struct nl_object *o = nl_cache_get_first(cache); o && n < cap; o = nl_cache_get_next(o)) {
                struct rtnl_addr *ra = (struct rtnl_addr *) o;
                int f = rtnl_addr_get_family(ra);
                struct nl_addr *local = rtnl_addr_get_local(ra), *bc = rtnl_addr_get_broadcast(ra);
                if ((family != AF_UNSPEC && f != family) || !family_len(f) || !local ||
                    nl_addr_get_len(local) != family_len(f))
                        continue;
                if (ifindex > 0 && rtnl_addr_get_ifindex(ra) != ifindex)
                        continue;
                NlAddr *a = &addrs[n++];
                *a = (NlAddr){ .family = f,
                               .ifindex = rtnl_addr_get_ifindex(ra),
                               .prefixlen = (unsigned) rtnl_addr_get_prefixlen(ra),
                               .scope = (unsigned) rtnl_addr_get_scope(ra),
                               .flags = rtnl_addr_get_flags(ra) };
                memcpy(a->addr, nl_addr_get_binary_addr(local), family_len(f));
                if (f == AF_INET && bc && nl_addr_get_len(bc) == 4) {
                        a->has_broadcast = true;
                        memcpy(a->broadcast, nl_addr_get_binary_addr(bc), 4);
                }
        }
        *ret = TAKE_PTR(addrs);
        *ret_n = n;
        return 0;
}

/* ---- routes ---- */

static struct rtnl_route *route_to_rtnl(const NlRoute *r, bool add) {
        _cleanup_(rtnl_route_putp) struct rtnl_route *rr = rtnl_route_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *dst = addr_build(r->family, r->dst, r->dst_len);
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        if (!rr || !dst || !nh)
                goto fail;
        rtnl_route_set_family(rr, (uint8_t) r->family);
        if (rtnl_route_set_dst(rr, dst) < 0)
                goto fail;
        rtnl_route_set_table(rr, r->table ? r->table : RT_TABLE_MAIN);
        if (r->priority)
                rtnl_route_set_priority(rr, r->priority);
        if (r->protocol || add)
                rtnl_route_set_protocol(rr, r->protocol ? r->protocol : RTPROT_STATIC);
        if (r->type || add)
                rtnl_route_set_type(rr, r->type ? r->type : RTN_UNICAST);
        if (r->scope || add)
                rtnl_route_set_scope(rr, r->scope         ? r->scope
                                         : r->has_gateway ? RT_SCOPE_UNIVERSE
                                                          : RT_SCOPE_LINK);
        if (r->has_prefsrc) {
                _cleanup_(nl_addr_putp) struct nl_addr *src =
                        addr_build(r->family, r->prefsrc, r->family == AF_INET ? 32 : 128);
                if (!src || rtnl_route_set_pref_src(rr, src) < 0)
                        goto fail;
        }
        if (r->oif > 0)
                rtnl_route_nh_set_ifindex(nh, r->oif);
        if (r->has_gateway) {
                _cleanup_(nl_addr_putp) struct nl_addr *gw =
                        addr_build(r->family, r->gateway, r->family == AF_INET ? 32 : 128);
                if (!gw)
                        goto fail;
                rtnl_route_nh_set_gateway(nh, gw);
        }
        if (r->onlink)
                rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
        rtnl_route_add_nexthop(rr, nh);
        return TAKE_PTR(rr);
fail:
        if (nh)
                rtnl_route_nh_free(nh);
        return NULL;
}

static const char *route_to_string(NlSocket *s, const NlRoute *r, char *buf, size_t size) {
        char d[INET6_ADDRSTRLEN + 16] = "default", g[INET6_ADDRSTRLEN + 16] = "", dev[40] = "";
        char a[INET6_ADDRSTRLEN];
        if (r->dst_len > 0)
                snprintf(d, sizeof d, "%s/%u", netlink_addr_to_string(r->family, r->dst, a, sizeof a),
                         r->dst_len);
        if (r->has_gateway)
                snprintf(g, sizeof g, " via %s", netlink_addr_to_string(r->family, r->gateway, a, sizeof a));
        if (r->oif > 0) {
                char n[32];
                snprintf(dev, sizeof dev, " dev %s", link_name(s, r->oif, n, sizeof n));
        }
        snprintf(buf, size, "%s%s%s", d, g, dev);
        return buf;
}

static int route_op(NlSocket *s, const NlRoute *r, bool add, WarrenError *reterr) {
        char buf[192];
        if (!family_len(r->family))
                return warren_error_set(reterr, EAFNOSUPPORT, "Unknown address family %d", r->family);
        route_to_string(s, r, buf, sizeof buf);
        _cleanup_(rtnl_route_putp) struct rtnl_route *rr = route_to_rtnl(r, add);
        if (!rr)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        nl_reset(s);
        int k = add ? rtnl_route_add(s->sk, rr, NLM_F_EXCL) : rtnl_route_delete(s->sk, rr, 0);
        if (k < 0)
                return nl_fail(s, k, reterr, add ? "add route" : "remove route", buf);
        return 0;
}

int netlink_route_add(NlSocket *s, const NlRoute *r, WarrenError *reterr) {
        return route_op(s, r, true, reterr);
}

int netlink_route_del(NlSocket *s, const NlRoute *r, WarrenError *reterr) {
        return route_op(s, r, false, reterr);
}

int netlink_route_list(NlSocket *s, int family, int oif, NlRoute **ret, size_t *ret_n) {
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        nl_reset(s);
        int k = rtnl_route_alloc_cache(s->sk, family, 0, &cache);
        if (k < 0)
                return nl_errno(s, k);
        size_t n = 0, cap = (size_t) nl_cache_nitems(cache);
        _cleanup_free_ NlRoute *routes = calloc(cap ? cap : 1, sizeof(NlRoute));
        if (!routes)
                return -ENOMEM;
        for (struct nl_object *o = nl_cache_get_first(cache); o && n < cap; o = nl_cache_get_next(o)) {
                struct rtnl_route *rr = (struct rtnl_route *) o;
                int f = rtnl_route_get_family(rr);
                struct nl_addr *dst = rtnl_route_get_dst(rr), *src = rtnl_route_get_pref_src(rr);
                if (!family_len(f) || (family != AF_UNSPEC && f != family) ||
                    rtnl_route_get_table(rr) == RT_TABLE_LOCAL || rtnl_route_get_type(rr) != RTN_UNICAST ||
                    rtnl_route_get_nnexthops(rr) != 1)
                        continue;
                struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rr, 0);
                if (oif > 0 && rtnl_route_nh_get_ifindex(nh) != oif)
                        continue;
                NlRoute *r = &routes[n++];
                *r = (NlRoute){ .family = f,
                                .dst_len = dst ? (unsigned) nl_addr_get_prefixlen(dst) : 0,
                                .oif = rtnl_route_nh_get_ifindex(nh),
                                .onlink = rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK,
                                .table = rtnl_route_get_table(rr),
                                .priority = rtnl_route_get_priority(rr),
                                .protocol = rtnl_route_get_protocol(rr),
                                .scope = rtnl_route_get_scope(rr),
                                .type = rtnl_route_get_type(rr) };
                if (dst && nl_addr_get_len(dst) == family_len(f))
                        memcpy(r->dst, nl_addr_get_binary_addr(dst), family_len(f));
                struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
                if (gw && nl_addr_get_len(gw) == family_len(f)) {
                        r->has_gateway = true;
                        memcpy(r->gateway, nl_addr_get_binary_addr(gw), family_len(f));
                }
                if (src && nl_addr_get_len(src) == family_len(f)) {
                        r->has_prefsrc = true;
                        memcpy(r->prefsrc, nl_addr_get_binary_addr(src), family_len(f));
                }
        }
        *ret = TAKE_PTR(routes);
        *ret_n = n;
        return 0;
}

/* ---- text forms ---- */

static bool parse_prefixlen(const char *s, unsigned max, unsigned *ret) {
        unsigned v = 0;
        if (!*s || strlen(s) > 3)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (unsigned) (*s - '0');
        }
        if (v > max)
                return false;
        *ret = v;
        return true;
}

int netlink_addr_parse(int family, const char *s, NlAddr *ret, WarrenError *reterr) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *fam = family == AF_INET ? "IPv4" : "IPv6";
        NlAddr a = { .family = family };

        if (!family_len(family))
                return warren_error_set(reterr, EAFNOSUPPORT, "Unknown address family %d", family);
        size_t n = strcspn(s, " \t");
        const char *rest = s + n + strspn(s + n, " \t");
        if (n == 0 || n >= sizeof buf)
                return warren_error_set(reterr, EINVAL, "Invalid %s address '%s'", fam, s);
        memcpy(buf, s, n);
        buf[n] = 0;
        char *slash = strchr(buf, '/');
        if (slash) {
                *slash = 0;
                if (!parse_prefixlen(slash + 1, family == AF_INET ? 32 : 128, &a.prefixlen))
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid %s address '%s': bad prefix length '%s'", fam, s,
                                                slash + 1);
        }
        if (inet_pton(family, buf, a.addr) != 1)
                return warren_error_set(reterr, EINVAL, "Invalid %s address '%s': '%s' is not an %s address",
                                        fam, s, buf, fam);
        if (family == AF_INET6) {
                if (*rest)
                        return warren_error_set(reterr, EINVAL, "Invalid IPv6 address '%s': unexpected '%s'",
                                                s, rest);
                if (!slash)
                        a.prefixlen = 64;
                *ret = a;
                return 0;
        }
        if (!slash)
                a.prefixlen = a.addr[0] < 128 ? 8 : a.addr[0] < 192 ? 16 : 24;
        if (*rest) {
                if (rest[strcspn(rest, " \t")] || inet_pton(AF_INET, rest, a.broadcast) != 1)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid IPv4 address '%s': '%s' is not a broadcast address",
                                                s, rest);
                a.has_broadcast = true;
        } else if (a.prefixlen < 31) {
                uint32_t ip, mask = a.prefixlen ? ~0U << (32 - a.prefixlen) : 0;
                memcpy(&ip, a.addr, 4);
                ip = htonl(ntohl(ip) | ~mask);
                memcpy(a.broadcast, &ip, 4);
                a.has_broadcast = true;
        }
        *ret = a;
        return 0;
}

const char *netlink_addr_to_string(int family, const void *addr, char *buf, size_t size) {
        if (!inet_ntop(family, addr, buf, (socklen_t) size))
                snprintf(buf, size, "?");
        return buf;
}

const char *netlink_addr_to_cidr(const NlAddr *a, char *buf, size_t size) {
        char s[INET6_ADDRSTRLEN];
        snprintf(buf, size, "%s/%u", netlink_addr_to_string(a->family, a->addr, s, sizeof s), a->prefixlen);
        return buf;
}

bool netlink_addr_same_subnet(int family, const void *a, const void *b, unsigned prefixlen) {
        const uint8_t *x = a, *y = b;
        size_t len = family_len(family);
        if (prefixlen > len * 8)
                return false;
        size_t full = prefixlen / 8;
        if (memcmp(x, y, full) != 0)
                return false;
        if (prefixlen % 8 == 0)
                return true;
        uint8_t mask = (uint8_t) (0xffU << (8 - prefixlen % 8));
        return (x[full] & mask) == (y[full] & mask);
}

int netlink_mac_parse(const char *s, uint8_t ret[6]) {
        uint8_t mac[6];
        for (size_t i = 0; i < 6; i++) {
                unsigned v = 0;
                for (size_t j = 0; j < 2; j++) {
                        char c = *s++;
                        int d = c >= '0' && c <= '9'   ? c - '0'
                                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                       : -1;
                        if (d < 0)
                                return -EINVAL;
                        v = v * 16 + (unsigned) d;
                }
                mac[i] = (uint8_t) v;
                if (i < 5 && *s++ != ':')
                        return -EINVAL;
        }
        if (*s)
                return -EINVAL;
        memcpy(ret, mac, 6);
        return 0;
}

bool netlink_ifname_is_valid(const char *name) {
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n >= NL_IFNAMSIZ || streq(name, ".") || streq(name, ".."))
                return false;
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}
