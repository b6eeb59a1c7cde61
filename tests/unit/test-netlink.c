/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netlink.c against the kernel: links, addresses, routes in a network
 * namespace this test creates (and one of a child), never the host's.
 * Needs root. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlink.h"
#include "tap.h"

static void test_parse(void) {
        WarrenError e = WARREN_ERROR_NULL;
        NlAddr a;
        char buf[64];

        is(netlink_addr_parse(AF_INET, "10.0.3.5/24", &a, NULL), 0, "parse 10.0.3.5/24");
        is(a.prefixlen, 24, "prefix 24");
        ok(a.has_broadcast && a.broadcast[3] == 255 && a.broadcast[2] == 3, "broadcast computed");
        is_str(netlink_addr_to_cidr(&a, buf, sizeof buf), "10.0.3.5/24", "formats back");
        is(netlink_addr_parse(AF_INET, "10.0.3.5", &a, NULL), 0, "no prefix");
        is(a.prefixlen, 8, "class A default prefix");
        netlink_addr_parse(AF_INET, "172.16.1.1", &a, NULL);
        is(a.prefixlen, 16, "class B default prefix");
        netlink_addr_parse(AF_INET, "192.168.1.1", &a, NULL);
        is(a.prefixlen, 24, "class C default prefix");
        is(netlink_addr_parse(AF_INET, "10.0.3.5/24 10.0.3.127", &a, NULL), 0, "with broadcast");
        ok(a.broadcast[3] == 127, "explicit broadcast kept");
        netlink_addr_parse(AF_INET, "10.1.1.0/31", &a, NULL);
        ok(!a.has_broadcast, "/31 has no broadcast");
        is(netlink_addr_parse(AF_INET6, "fd00::1", &a, NULL), 0, "IPv6 without prefix");
        is(a.prefixlen, 64, "IPv6 default prefix 64");

        is(netlink_addr_parse(AF_INET, "10.0.3.5/33", &a, &e), -EINVAL, "prefix 33 refused");
        is_str(e.message, "Invalid IPv4 address '10.0.3.5/33': bad prefix length '33'", "message names it");
        warren_error_clear(&e);
        is(netlink_addr_parse(AF_INET, "10.0.3.256/24", &a, &e), -EINVAL, "octet 256 refused");
        is_str(e.message, "Invalid IPv4 address '10.0.3.256/24': '10.0.3.256' is not an IPv4 address",
               "message");
        warren_error_clear(&e);
        is(netlink_addr_parse(AF_INET, "10.0.0.1/24 nonsense", &a, &e), -EINVAL, "bad broadcast refused");
        like(e.message, "'nonsense' is not a broadcast address", "message");
        warren_error_clear(&e);
        is(netlink_addr_parse(AF_INET6, "fd00::1/129", &a, NULL), -EINVAL, "IPv6 prefix 129 refused");
        is(netlink_addr_parse(AF_INET6, "fd00::1/64 x", &a, NULL), -EINVAL, "IPv6 trailing text refused");
        is(netlink_addr_parse(AF_INET, "", &a, NULL), -EINVAL, "empty refused");
        is(netlink_addr_parse(AF_INET, "10.0.0.1/", &a, NULL), -EINVAL, "empty prefix refused");

        uint8_t mac[6];
        is(netlink_mac_parse("00:16:3E:ab:cd:ef", mac), 0, "MAC parses");
        ok(mac[2] == 0x3e && mac[5] == 0xef, "MAC bytes");
        is(netlink_mac_parse("00:16:3e:xx:xx:xx", mac), -EINVAL, "placeholder MAC refused");
        is(netlink_mac_parse("00:16:3e:ab:cd", mac), -EINVAL, "short MAC refused");
        is(netlink_mac_parse("00:16:3e:ab:cd:ef:", mac), -EINVAL, "trailing colon refused");
        is(netlink_mac_parse("0016.3eab.cdef", mac), -EINVAL, "other notation refused");

        ok(netlink_ifname_is_valid("eth0"), "eth0 valid");
        ok(netlink_ifname_is_valid("veth1234567_12"), "15 chars valid");
        ok(!netlink_ifname_is_valid("0123456789abcdef"), "16 chars invalid");
        ok(!netlink_ifname_is_valid(""), "empty invalid");
        ok(!netlink_ifname_is_valid("a/b") && !netlink_ifname_is_valid("a b") &&
                   !netlink_ifname_is_valid("a:1"),
           "/, blank, colon invalid");
        ok(!netlink_ifname_is_valid(".") && !netlink_ifname_is_valid(".."), ". and .. invalid");

        uint8_t x[4] = { 192, 168, 77, 5 }, y[4] = { 192, 168, 77, 200 }, z[4] = { 192, 168, 78, 5 };
        ok(netlink_addr_same_subnet(AF_INET, x, y, 24), "same /24");
        ok(!netlink_addr_same_subnet(AF_INET, x, z, 24), "different /24");
        ok(netlink_addr_same_subnet(AF_INET, x, z, 22), "same /22");
        ok(!netlink_addr_same_subnet(AF_INET, x, y, 25), "different /25");
}

/* A child in a fresh netns that waits until killed. */
static pid_t netns_child(int *ret_nsfd) {
        int p[2];
        char c, path[64];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                (void) write(p[1], "x", 1);
                pause();
                _exit(0);
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
                return -1;
        close(p[0]);
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        *ret_nsfd = open(path, O_RDONLY | O_CLOEXEC);
        return pid;
}

static void test_links(void) {
        WarrenError e = WARREN_ERROR_NULL;
        NlSocket *h = NULL, *in = NULL;
        NlLink l, br, hl;
        int nsfd = -1;

        is(netlink_open(-1, &h, NULL), 0, "socket in our netns");
        is(netlink_link_get_by_name(h, "lo", &l), 0, "lo found");
        ok(l.ifindex == 1 && streq(l.kind, ""), "lo is ifindex 1 without kind");
        is(netlink_link_get_by_name(h, "nope0", &l), -ENODEV, "missing link: -ENODEV");
        is(netlink_link_get_by_name(h, "bad/name", &l), -ENODEV, "invalid name: -ENODEV");

        NlLinkSpec bs = NL_LINK_SPEC_INIT;
        bs.name = "tbr0";
        bs.up = 1;
        is(netlink_link_add_bridge(h, &bs, NULL), 0, "bridge created");
        is(netlink_link_get_by_name(h, "tbr0", &br), 0, "bridge found");
        ok(streq(br.kind, "bridge") && (br.flags & IFF_UP), "bridge kind, up");
        is(netlink_link_add_bridge(h, &bs, &e), -EEXIST, "second bridge of that name refused");
        is_str(e.message, "Failed to create bridge 'tbr0': an interface of that name exists", "message");
        warren_error_clear(&e);

        pid_t pid = netns_child(&nsfd);
        ok(pid > 0 && nsfd >= 0, "child netns");
        is(netlink_open(nsfd, &in, NULL), 0, "socket in the child's netns");

        uint8_t hmac[6] = { 0xfe, 1, 2, 3, 4, 5 }, pmac[6] = { 0x00, 0x16, 0x3e, 0x11, 0x22, 0x33 };
        NlLinkSpec hs = NL_LINK_SPEC_INIT, ps = NL_LINK_SPEC_INIT;
        hs.name = "tveth0";
        hs.mac = hmac;
        hs.mtu = 1400;
        hs.master = br.ifindex;
        hs.up = 1;
        ps.name = "eth0";
        ps.mac = pmac;
        ps.mtu = 1400;
        ps.netns_fd = nsfd;
        is(netlink_link_add_veth(h, &hs, &ps, &e), 0, "veth created with its peer in the child");
        is(netlink_link_get_by_name(h, "tveth0", &hl), 0, "host end found");
        ok(streq(hl.kind, "veth") && hl.master == br.ifindex && hl.mtu == 1400 && (hl.flags & IFF_UP) &&
                   memcmp(hl.mac, hmac, 6) == 0,
           "host end: veth, on the bridge, mtu, up, mac");
        is(netlink_link_get_by_name(h, "eth0", &l), -ENODEV, "peer is not in our netns");
        is(netlink_link_get_by_name(in, "eth0", &l), 0, "peer is in the child's netns");
        ok(memcmp(l.mac, pmac, 6) == 0 && l.mtu == 1400 && !(l.flags & IFF_UP), "peer mac, mtu, down");
        int peer = l.ifindex;

        NlLinkSpec tag = NL_LINK_SPEC_INIT;
        tag.alias = "warren:test";
        is(netlink_link_change(h, hl.ifindex, &tag, NULL), 0, "alias set");
        netlink_link_get_by_name(h, "tveth0", &hl);
        is_str(hl.alias, "warren:test", "alias read back");

        NlLinkSpec ren = NL_LINK_SPEC_INIT;
        ren.name = "tveth1";
        ren.up = 0;
        is(netlink_link_change(h, hl.ifindex, &ren, NULL), 0, "rename (down first)");
        is(netlink_link_get_by_index(h, hl.ifindex, &l), 0, "by index");
        is_str(l.name, "tveth1", "renamed");
        NlLinkSpec nomaster = NL_LINK_SPEC_INIT;
        nomaster.master = NL_NOMASTER;
        nomaster.up = 1;
        is(netlink_link_change(h, hl.ifindex, &nomaster, NULL), 0, "detached from the bridge");
        netlink_link_get_by_index(h, hl.ifindex, &l);
        ok(l.master == 0 && (l.flags & IFF_UP), "no master, up");

        NlLink *links = NULL;
        size_t n = 0;
        is(netlink_link_list(h, &links, &n), 0, "list links");
        bool seen_lo = false, seen_br = false, seen_veth = false;
        for (size_t i = 0; i < n; i++) {
                seen_lo = seen_lo || streq(links[i].name, "lo");
                seen_br = seen_br || streq(links[i].name, "tbr0");
                seen_veth = seen_veth || streq(links[i].name, "tveth1");
        }
        ok(n == 3 && seen_lo && seen_br && seen_veth, "lo, bridge, veth listed (%zu)", n);
        free(links);

        /* Addresses and routes inside the child. */
        NlAddr a;
        netlink_addr_parse(AF_INET, "10.7.0.2/24", &a, NULL);
        a.ifindex = peer;
        is(netlink_addr_add(in, &a, NULL), 0, "address added in the child");
        is(netlink_addr_add(in, &a, &e), -EEXIST, "twice: -EEXIST");
        like(e.message, "Failed to add address '10.7.0.2/24'", "message names the address");
        warren_error_clear(&e);
        NlAddr v6;
        netlink_addr_parse(AF_INET6, "fd07::2/64", &v6, NULL);
        v6.ifindex = peer;
        is(netlink_addr_add(in, &v6, NULL), 0, "IPv6 address added");
        NlAddr *addrs = NULL;
        is(netlink_addr_list(in, peer, AF_INET, &addrs, &n), 0, "list IPv4 addresses");
        ok(n == 1 && addrs[0].prefixlen == 24 && addrs[0].has_broadcast && addrs[0].broadcast[3] == 255 &&
                   addrs[0].scope == RT_SCOPE_UNIVERSE,
           "one address, /24, broadcast, global");
        free(addrs);
        is(netlink_addr_list(in, 0, AF_INET6, &addrs, &n), 0, "list IPv6 addresses");
        ok(n == 1 && addrs[0].prefixlen == 64 && addrs[0].addr[0] == 0xfd, "the IPv6 address");
        free(addrs);
        is(netlink_addr_list(h, 0, AF_UNSPEC, &addrs, &n), 0, "list ours");
        size_t global = 0;
        for (size_t i = 0; i < n; i++)
                global += addrs[i].scope != RT_SCOPE_LINK;
        ok(global == 0, "only link-local ones in our netns (%zu in all)", n);
        free(addrs);

        NlRoute rt = { .family = AF_INET, .has_gateway = true, .gateway = { 10, 9, 0, 1 }, .oif = peer };
        is(netlink_route_add(in, &rt, &e), -ENETUNREACH, "gateway outside any subnet refused");
        like(e.message, "Failed to add route 'default via 10.9.0.1 dev eth0'", "message names the route");
        warren_error_clear(&e);
        NlLinkSpec up = NL_LINK_SPEC_INIT;
        up.up = 1;
        is(netlink_link_change(in, peer, &up, NULL), 0, "peer up");
        rt.onlink = true;
        is(netlink_route_add(in, &rt, &e), 0, "onlink default route");
        NlRoute host = { .family = AF_INET, .dst = { 10, 8, 0, 0 }, .dst_len = 16, .oif = peer };
        is(netlink_route_add(in, &host, NULL), 0, "device route");
        NlRoute *routes = NULL;
        is(netlink_route_list(in, AF_INET, peer, &routes, &n), 0, "list routes");
        int found = 0;
        for (size_t i = 0; i < n; i++) {
                if (routes[i].dst_len == 0 && routes[i].has_gateway && routes[i].gateway[0] == 10 &&
                    routes[i].onlink && routes[i].protocol == RTPROT_STATIC)
                        found |= 1;
                if (routes[i].dst_len == 16 && !routes[i].has_gateway && routes[i].scope == RT_SCOPE_LINK)
                        found |= 2;
                if (routes[i].dst_len == 24 && routes[i].protocol == RTPROT_KERNEL)
                        found |= 4;
        }
        is(found, 7, "default, device and connected routes listed");
        is(netlink_route_del(in, &routes[0], NULL), 0, "route removed as listed");
        free(routes);
        is(netlink_route_list(in, AF_INET, peer, &routes, &n), 0, "list again");
        is(n, 2, "one route fewer");
        free(routes);
        is(netlink_addr_del(in, &a, NULL), 0, "address removed");
        is(netlink_addr_del(in, &a, &e), -EADDRNOTAVAIL, "twice: -EADDRNOTAVAIL");
        warren_error_clear(&e);

        /* macvlan on the host end, created in the child. */
        NlLinkSpec ms = NL_LINK_SPEC_INIT;
        ms.name = "mv0";
        ms.netns_fd = nsfd;
        is(netlink_link_add_macvlan(h, "tveth1", MACVLAN_MODE_BRIDGE, &ms, NULL), 0,
           "macvlan created in the child");
        is(netlink_link_get_by_name(in, "mv0", &l), 0, "macvlan in the child");
        is_str(l.kind, "macvlan", "kind macvlan");
        is(netlink_link_add_macvlan(h, "nope0", MACVLAN_MODE_PRIVATE, &ms, &e), -ENODEV,
           "macvlan on a missing link");
        is_str(e.message, "Failed to create macvlan 'mv0' on 'nope0': no such interface", "message");
        warren_error_clear(&e);

        is(netlink_link_delete(h, hl.ifindex, NULL), 0, "host end deleted");
        is(netlink_link_get_by_name(in, "eth0", &l), -ENODEV, "peer went with it");
        is(netlink_link_delete(h, 4242, &e), -ENODEV, "deleting a missing link: -ENODEV");
        is_str(e.message, "Failed to delete interface '#4242': No such device", "message");
        warren_error_clear(&e);
        is(netlink_link_delete(h, br.ifindex, NULL), 0, "bridge deleted");

        netlink_close(in);
        netlink_close(h);
        close(nsfd);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

int main(void) {
        test_parse();
        if (unshare(CLONE_NEWNET) < 0) {
                ok(0, "unshare(CLONE_NEWNET): %m (this test needs root)");
                return done_testing();
        }
        test_links();
        return done_testing();
}
