/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network.c and network-managed.c for real, inside a network namespace this
 * test creates (the "host" here) and namespaces of fake containers (child
 * processes that unshare their netns and wait): managed bridges with NAT
 * and DHCP, veths with static addresses that ping each other, empty,
 * teardown and sweep, network_ensure, uplink refusal and force, and the
 * config checks. Needs root, busybox and dnsmasq. Prints the container-side
 * setup time. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "config.h"
#include "netlink.h"
#include "network.h"
#include "nft.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-network-XXXXXX";
static char state_dir[128], runtime_dir[128];

typedef struct Fake {
        pid_t pid;
        const char *name;
} Fake;

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}

/* A "container": a child in a fresh netns, waiting to be killed. */
static Fake fake_start(const char *name) {
        int p[2];
        char c;
        Fake f = { .pid = -1, .name = name };
        if (pipe2(p, O_CLOEXEC) < 0)
                return f;
        f.pid = fork();
        if (f.pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                (void) write(p[1], "x", 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
                f.pid = -1;
        close(p[0]);
        return f;
}

static void fake_stop(Fake *f) {
        if (f->pid > 0) {
                kill(f->pid, SIGKILL);
                waitpid(f->pid, NULL, 0);
        }
        f->pid = -1;
}

static LxcConfig *config(const char *text) {
        LxcConfig *c = lxc_config_new();
        WarrenError e = WARREN_ERROR_NULL;
        if (lxc_config_parse(c, text, strlen(text), "test", NULL, &e) < 0) {
                printf("# config error: %s\n", warren_error_message(&e));
                warren_error_clear(&e);
        }
        return c;
}

/* Runs argv in pid's netns; returns the exit status (or -1). */
static int ns_run(pid_t pid, char *const argv[], bool quiet) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        pid_t child = fork();
        if (child == 0) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
                        _exit(126);
                if (quiet) {
                        int null = open("/dev/null", O_WRONLY);
                        dup2(null, 1);
                        dup2(null, 2);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        int status;
        if (waitpid(child, &status, 0) != child)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int ping(pid_t from, const char *addr) {
        char *argv[] = { (char *) WARREN_BUSYBOX_PATH,
                         (char *) "ping",
                         (char *) "-c",
                         (char *) "1",
                         (char *) "-W",
                         (char *) "2",
                         (char *) addr,
                         NULL };
        return ns_run(from, argv, true);
}

/* Names of the links in pid's netns (pid 0: ours), "," separated. */
/* network_loopback_up() run in pid's network namespace (a child does it). */
static int loopback_up_in(pid_t pid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        pid_t child = fork();
        if (child == 0) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                _exit(fd >= 0 && setns(fd, CLONE_NEWNET) >= 0 && network_loopback_up(NULL) >= 0 ? 0 : 1);
        }
        int status = 0;
        if (child < 0 || waitpid(child, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *ns_links(pid_t pid) {
        NlSocket *s = NULL;
        NlLink *links = NULL;
        size_t n = 0;
        char path[64], *out = calloc(1, 1024);
        int fd = -1;
        if (pid > 0) {
                snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        if (netlink_open(fd, &s, NULL) >= 0 && netlink_link_list(s, &links, &n) >= 0)
                for (size_t i = 0; i < n; i++)
                        snprintf(out + strlen(out), 1024 - strlen(out), "%s%s%s", i ? "," : "",
                                 links[i].name, (links[i].flags & IFF_UP) ? "+" : "");
        free(links);
        netlink_close(s);
        if (fd >= 0)
                close(fd);
        return out;
}

static bool host_link(const char *name, NlLink *ret) {
        NlSocket *s = NULL;
        NlLink l;
        bool found = netlink_open(-1, &s, NULL) >= 0 && netlink_link_get_by_name(s, name, &l) >= 0;
        netlink_close(s);
        if (found && ret)
                *ret = l;
        return found;
}

static bool link_has_addr(pid_t pid, const char *ifname, const char *cidr) {
        NlSocket *s = NULL;
        NlAddr *addrs = NULL;
        NlLink l;
        size_t n = 0;
        bool found = false;
        char path[64], buf[64];
        int fd = -1;
        if (pid > 0) {
                snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        if (netlink_open(fd, &s, NULL) >= 0 && netlink_link_get_by_name(s, ifname, &l) >= 0 &&
            netlink_addr_list(s, l.ifindex, AF_UNSPEC, &addrs, &n) >= 0)
                for (size_t i = 0; i < n; i++)
                        found = found || streq(netlink_addr_to_cidr(&addrs[i], buf, sizeof buf), cidr);
        free(addrs);
        netlink_close(s);
        if (fd >= 0)
                close(fd);
        return found;
}

/* Whether our netns has a default route via gw through ifname. */
static bool has_default_route(const char *ifname, const char *gw) {
        NlSocket *s = NULL;
        NlRoute *routes = NULL;
        NlLink l;
        size_t n = 0;
        bool found = false;
        uint8_t bin[4];
        inet_pton(AF_INET, gw, bin);
        if (netlink_open(-1, &s, NULL) >= 0 && netlink_link_get_by_name(s, ifname, &l) >= 0 &&
            netlink_route_list(s, AF_INET, l.ifindex, &routes, &n) >= 0)
                for (size_t i = 0; i < n; i++)
                        found = found || (routes[i].dst_len == 0 && routes[i].has_gateway &&
                                          memcmp(routes[i].gateway, bin, 4) == 0);
        free(routes);
        netlink_close(s);
        return found;
}

static int create_network(const char *name, const char *const *options, pid_t *ret_pid, WarrenError *e) {
        NetworkDef *d = NULL;
        int r = network_def_new(name, &d, e);
        for (const char *const *o = options; r >= 0 && o && o[0]; o += 2)
                r = network_def_set(d, o[0], o[1], e);
        pid_t pid = 0;
        if (r >= 0)
                r = network_create(state_dir, runtime_dir, d, &pid, e);
        if (ret_pid)
                *ret_pid = pid;
        network_def_free(d);
        return r;
}

static void expect_def_error(const char *key, const char *value, const char *message) {
        NetworkDef *d = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        network_def_new("wx", &d, NULL);
        is(network_def_set(d, key, value, &e), -EINVAL, "option %s=%s refused", key, value);
        is_str(e.message, message, "message for %s=%s", key, value);
        warren_error_clear(&e);
        network_def_free(d);
}

static void test_defs(void) {
        WarrenError e = WARREN_ERROR_NULL;
        NetworkDef *d = NULL;

        is(network_def_new("0bad", &d, &e), -EINVAL, "name starting with a digit refused");
        is_str(e.message, "Invalid network name '0bad': must match [A-Za-z][A-Za-z0-9_-]{0,14}", "message");
        warren_error_clear(&e);
        is(network_def_new("a-name-too-long0", &d, &e), -EINVAL, "16 chars refused");
        is_str(e.message, "Invalid network name 'a-name-too-long0': must be 1..15 characters", "message");
        warren_error_clear(&e);
        is(network_def_new("br.0", &d, NULL), -EINVAL, "dot refused");

        expect_def_error("ipv4.address", "192.168.77.1/33",
                         "Invalid IPv4 address '192.168.77.1/33': bad prefix length '33'");
        expect_def_error("ipv4.address", "192.168.777.1/24",
                         "Invalid IPv4 address '192.168.777.1/24': '192.168.777.1' is not an IPv4 address");
        expect_def_error(
                "ipv4.address", "192.168.77.1",
                "Invalid ipv4.address '192.168.77.1': must be ADDRESS/PREFIX with a prefix of at most 30");
        expect_def_error(
                "ipv4.address", "192.168.77.0/24",
                "Invalid ipv4.address '192.168.77.0/24': the subnet's network or broadcast address");
        expect_def_error("nat", "maybe",
                         "Invalid value 'maybe' for network option 'nat': must be true or false");
        expect_def_error("dhcp.range", "192.168.77.10",
                         "Invalid dhcp.range '192.168.77.10': must be FIRST,LAST");
        expect_def_error("uplink", "a/b", "Invalid uplink 'a/b': not an interface name");
        expect_def_error("ipv6.address", "fd00::1/64",
                         "Unknown network option 'ipv6.address' (ipv4.address, nat, dhcp, dhcp.range, dns, "
                         "uplink, force)");

        network_def_new("wx", &d, NULL);
        network_def_set(d, "nat", "yes", NULL);
        is(network_def_check(d, &e), -EINVAL, "nat without address refused");
        is_str(e.message, "Network 'wx': nat needs ipv4.address", "message");
        warren_error_clear(&e);
        network_def_set(d, "ipv4.address", "10.5.0.1/24", NULL);
        network_def_set(d, "dhcp", "on", NULL);
        network_def_set(d, "dhcp.range", "10.5.1.2,10.5.1.9", NULL);
        is(network_def_check(d, &e), -EINVAL, "range outside the subnet refused");
        is_str(e.message, "Invalid dhcp.range '10.5.1.2,10.5.1.9': not inside the subnet of 10.5.0.1/24",
               "message");
        warren_error_clear(&e);
        network_def_set(d, "dhcp.range", "10.5.0.1,10.5.0.9", NULL);
        is(network_def_check(d, &e), -EINVAL, "range holding the bridge's address refused");
        warren_error_clear(&e);
        network_def_set(d, "dhcp.range", "", NULL);
        is(network_def_check(d, NULL), 0, "valid definition");
        char *range = NULL;
        network_def_dhcp_range(d, &range, NULL);
        is_str(range, "10.5.0.2,10.5.0.254", "default range: the subnet minus the bridge");
        free(range);
        network_def_set(d, "ipv4.address", "10.5.0.200/24", NULL);
        network_def_dhcp_range(d, &range, NULL);
        is_str(range, "10.5.0.1,10.5.0.199", "the longer side of the bridge's address");
        free(range);
        char *text = network_def_format(d);
        is_str(text,
               "# warren network "
               "wx\nipv4.address=10.5.0.200/24\nnat=true\ndhcp=true\ndns=true\nforce=false\n",
               "formatted");
        free(text);
        network_def_free(d);
}

static const char *const nat_net[] = { "ipv4.address", "192.168.77.1/24", "nat", "true", NULL };

static void test_static(void) {
        WarrenError e = WARREN_ERROR_NULL;
        char *fwd = NULL, **addrs = NULL, host_a[16], host_b[16];
        NlLink l, br;

        is(create_network("wbr0", nat_net, NULL, &e), 0, "network wbr0 created: %s",
           warren_error_message(&e));
        warren_error_clear(&e);
        ok(host_link("wbr0", &br) && streq(br.kind, "bridge") && (br.flags & IFF_UP), "bridge up");
        ok(link_has_addr(0, "wbr0", "192.168.77.1/24"), "bridge has its address");
        is(nft_nat_present("wbr0", NULL), 1, "nft table with a masquerade rule");
        char *out = NULL;
        nft_exec("list chain ip warren nat-wbr0", &out, NULL);
        like(out, "ip saddr 192.168.77.0/24 ip daddr != 192.168.77.0/24 masquerade",
             "the rule masquerades the subnet");
        free(out);
        read_one_line_file("/proc/sys/net/ipv4/ip_forward", &fwd);
        is_str(fwd, "1", "IPv4 forwarding on");
        free(fwd);
        is(create_network("wbr0", nat_net, NULL, &e), -EEXIST, "second create refused");
        is_str(e.message, "Network 'wbr0' already exists", "message");
        warren_error_clear(&e);

        Fake a = fake_start("ca"), b = fake_start("cb");
        LxcConfig *ca =
                config("lxc.net.0.type = veth\nlxc.net.0.link = wbr0\nlxc.net.0.flags = up\n"
                       "lxc.net.0.hwaddr = 00:16:3e:00:00:0a\nlxc.net.0.ipv4.address = 192.168.77.10/24\n"
                       "lxc.net.0.ipv4.gateway = auto\nlxc.net.0.ipv6.address = fd77::10/64\n");
        LxcConfig *cb =
                config("lxc.net.0.type = veth\nlxc.net.0.link = wbr0\nlxc.net.0.flags = up\n"
                       "lxc.net.0.name = lan0\nlxc.net.0.ipv4.address = 192.168.77.11/24 192.168.77.255\n"
                       "lxc.net.0.ipv4.gateway = 192.168.77.1\n");
        double t0 = now_ms();
        int r = network_setup_container(ca, "ca", a.pid, NETWORK_CHECK_PRIVILEGED, &e);
        double t1 = now_ms();
        is(r, 0, "container ca set up: %s", warren_error_message(&e));
        warren_error_clear(&e);
        printf("# container-side setup (veth create + move + configure, 1 NIC): %.2f ms\n", t1 - t0);
        is(network_setup_container(cb, "cb", b.pid, NETWORK_CHECK_PRIVILEGED, NULL), 0,
           "container cb set up");

        /* More samples on fresh namespaces (the fork is not timed). */
        LxcConfig *cx = config("lxc.net.0.type = veth\nlxc.net.0.link = wbr0\nlxc.net.0.flags = up\n"
                               "lxc.net.0.ipv4.address = 192.168.77.50/24\nlxc.net.0.ipv4.gateway = auto\n");
        double samples[21];
        int good = 0;
        for (int i = 0; i < 21; i++) {
                Fake x = fake_start("cx");
                double s0 = now_ms();
                good += network_setup_container(cx, "cx", x.pid, 0, NULL) >= 0;
                samples[i] = now_ms() - s0;
                network_teardown_container("cx", NULL);
                fake_stop(&x);
        }
        for (int i = 0; i < 21; i++)
                for (int j = i + 1; j < 21; j++)
                        if (samples[j] < samples[i]) {
                                double t = samples[i];
                                samples[i] = samples[j];
                                samples[j] = t;
                        }
        is(good, 21, "21 more setups");
        printf("# container-side setup over 21 runs: min %.2f ms, median %.2f ms, max %.2f ms\n", samples[0],
               samples[10], samples[20]);
        lxc_config_free(cx);

        network_host_ifname("ca", 0, host_a);
        network_host_ifname("cb", 0, host_b);
        ok(strlen(host_a) <= 15 && strncmp(host_a, "veth", 4) == 0 && strcmp(host_a, host_b) != 0,
           "host ends named %s and %s", host_a, host_b);
        ok(host_link(host_a, &l) && l.master == br.ifindex && (l.flags & IFF_UP) && l.mac[0] == 0xfe,
           "host end on the bridge, up, high MAC");
        is_str(l.alias, "warren:ca", "host end tagged with the container's name");
        char *links = ns_links(a.pid);
        is_str(links, "lo+,eth0+", "container: lo and eth0, both up");
        free(links);
        links = ns_links(b.pid);
        is_str(links, "lo+,lan0+", "lxc.net.0.name honoured");
        free(links);
        ok(link_has_addr(a.pid, "eth0", "192.168.77.10/24") && link_has_addr(a.pid, "eth0", "fd77::10/64"),
           "static IPv4 and IPv6 addresses");

        is(network_container_addresses(a.pid, AF_INET, &addrs, NULL), 0, "IPv4 addresses read");
        ok(strv_length(addrs) == 1 && streq(addrs[0], "192.168.77.10"), "just 192.168.77.10");
        strv_free(addrs);
        is(network_container_addresses(a.pid, AF_INET6, &addrs, NULL), 0, "IPv6 addresses read");
        ok(strv_length(addrs) == 1 && streq(addrs[0], "fd77::10"), "fd77::10, no link-local");
        strv_free(addrs);
        is(network_container_addresses(999999, AF_INET, &addrs, &e), -ENOENT, "no such pid");
        is_str(e.message, "Failed to open the network namespace of pid 999999: No such file or directory",
               "message");
        warren_error_clear(&e);

        is(ping(a.pid, "192.168.77.11"), 0, "ca pings cb");
        is(ping(b.pid, "192.168.77.10"), 0, "cb pings ca");
        is(ping(a.pid, "192.168.77.1"), 0, "ca pings the bridge");
        is(ping(a.pid, "192.168.77.99"), 1, "nobody at .99 (ping can fail)");

        unsigned count = 9;
        char *both[] = { (char *) "ca", (char *) "cb", NULL }, *one[] = { (char *) "cb", NULL };
        is(network_count_attached("wbr0", both, &count, NULL), 0, "count attached");
        is(count, 2, "two veths of ca and cb on wbr0");
        network_count_attached("wbr0", one, &count, NULL);
        is(count, 1, "one of cb");
        network_count_attached("nobr", one, &count, NULL);
        is(count, 0, "none on a missing bridge");

        /* network_users(): configs under <state>/containers. */
        char path[256];
        snprintf(path, sizeof path, "%s/containers/ca", state_dir);
        mkdir_p(path, 0755);
        snprintf(path, sizeof path, "%s/containers/ca/config", state_dir);
        char *text = lxc_config_format(ca);
        write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644);
        free(text);
        snprintf(path, sizeof path, "%s/containers/zz", state_dir);
        mkdir_p(path, 0755);
        snprintf(path, sizeof path, "%s/containers/zz/config", state_dir);
        write_file_atomic_at(AT_FDCWD, path, "lxc.net.0.type = veth\nlxc.net.0.link = other\n", 44, 0644);
        char **users = NULL;
        is(network_users(state_dir, "wbr0", &users, NULL), 0, "users listed");
        ok(strv_length(users) == 1 && streq(users[0], "ca"), "ca uses wbr0, zz does not");
        strv_free(users);

        is(network_teardown_container("ca", NULL), 1, "ca torn down: one host end removed");
        ok(!host_link(host_a, NULL), "host end gone");
        links = ns_links(a.pid);
        is_str(links, "lo+", "ca's eth0 went with it");
        free(links);
        is(network_teardown_container("ca", NULL), 0, "second teardown: nothing left");
        is(ping(b.pid, "192.168.77.10"), 1, "cb no longer reaches ca");
        ok(host_link(host_b, NULL), "cb untouched");

        fake_stop(&a);
        fake_stop(&b);
        is(network_teardown_container("cb", NULL) >= 0, 1, "cb swept after its process died");
        ok(!host_link(host_b, NULL), "no veth of cb left");
        lxc_config_free(ca);
        lxc_config_free(cb);
}

static void test_other_types(void) {
        WarrenError e = WARREN_ERROR_NULL;
        Fake c = fake_start("cc"), d = fake_start("cd"), f = fake_start("cf");
        LxcConfig *empty = config("lxc.net.0.type = empty\n"), *nothing = config("lxc.uts.name = x\n");
        LxcConfig *none = config("lxc.net.0.type = none\n");
        LxcConfig *pair =
                config("lxc.net.0.type = veth\nlxc.net.0.link = wbr0\nlxc.net.0.veth.pair = myhost0\n"
                       "lxc.net.0.veth.ipv4.route = 192.168.99.0/24\n"
                       "lxc.net.1.type = macvlan\nlxc.net.1.link = wbr0\nlxc.net.1.flags = up\n"
                       "lxc.net.1.macvlan.mode = bridge\nlxc.net.1.ipv4.address = 192.168.77.30/24\n");
        LxcConfig *fail = config("lxc.net.0.type = veth\nlxc.net.0.link = wbr0\n"
                                 "lxc.net.1.type = veth\nlxc.net.1.link = wnoaddr\nlxc.net.1.flags = up\n"
                                 "lxc.net.1.ipv4.gateway = auto\n");

        ok(!network_config_has_host_links(empty) && !network_config_has_host_links(nothing) &&
                   !network_config_has_host_links(none) && network_config_has_host_links(pair),
           "only veth, macvlan and the like have a host side");
        is(network_setup_container(empty, "cc", c.pid, 0, NULL), 0, "empty: checked");
        char *links = ns_links(c.pid);
        is_str(links, "lo", "...and left alone: only lo, down (the child brings it up)");
        free(links);
        is(loopback_up_in(c.pid), 0, "network_loopback_up() in its namespace");
        links = ns_links(c.pid);
        is_str(links, "lo+", "empty: only lo, up");
        free(links);
        ok(!network_config_shares_host_netns(empty) && network_config_shares_host_netns(none),
           "none shares the host netns");
        is(network_setup_container(nothing, "cc", c.pid, 0, NULL), 0, "no lxc.net at all");
        is(network_setup_container(none, "cc", c.pid, NETWORK_CHECK_PRIVILEGED, NULL), 0,
           "none: nothing to do");
        is(network_setup_container(none, "cc", c.pid, 0, &e), -EPERM,
           "none refused for an unprivileged owner");
        warren_error_clear(&e);

        is(network_setup_container(pair, "cd", d.pid, NETWORK_CHECK_PRIVILEGED, &e), 0,
           "veth.pair + macvlan: %s", warren_error_message(&e));
        warren_error_clear(&e);
        NlLink l;
        ok(host_link("myhost0", &l) && streq(l.alias, "warren:cd"), "veth.pair names the host end, tagged");
        links = ns_links(d.pid);
        is_str(links, "lo+,eth0,eth1+", "eth0 (not up: no flags), macvlan eth1 up");
        free(links);
        ok(link_has_addr(d.pid, "eth1", "192.168.77.30/24"), "macvlan addressed");
        bool route = false;
        NlSocket *s = NULL;
        NlRoute *routes = NULL;
        size_t n = 0;
        netlink_open(-1, &s, NULL);
        netlink_route_list(s, AF_INET, l.ifindex, &routes, &n);
        for (size_t i = 0; i < n; i++)
                route = route || (routes[i].dst_len == 24 && routes[i].dst[2] == 99);
        ok(route, "veth.ipv4.route added on the host through the host end");
        free(routes);
        netlink_close(s);
        is(network_teardown_container("cd", NULL), 1, "teardown finds the veth.pair end by its tag");
        ok(!host_link("myhost0", NULL), "gone");

        /* A failure half-way leaves nothing on the host. */
        NlSocket *h = NULL;
        NlLinkSpec bs = NL_LINK_SPEC_INIT;
        bs.name = "wnoaddr";
        netlink_open(-1, &h, NULL);
        netlink_link_add_bridge(h, &bs, NULL);
        is(network_setup_container(fail, "cf", f.pid, NETWORK_CHECK_PRIVILEGED, &e), -EADDRNOTAVAIL,
           "gateway auto on a bridge without address fails");
        is_str(e.message,
               "Network of container 'cf': lxc.net.1.ipv4.gateway is 'auto' but bridge 'wnoaddr' has no "
               "IPv4 address",
               "message");
        warren_error_clear(&e);
        char host_f[16];
        network_host_ifname("cf", 0, host_f);
        ok(!host_link(host_f, NULL), "the first NIC's host end was removed again");

        /* Leftovers: untagged but predictably named, and tagged but renamed. */
        char ghost[16];
        network_host_ifname("ghost", 3, ghost);
        NlLinkSpec g1 = NL_LINK_SPEC_INIT, g1p = NL_LINK_SPEC_INIT, g2 = NL_LINK_SPEC_INIT,
                   g2p = NL_LINK_SPEC_INIT;
        g1.name = ghost;
        g1p.name = "ghostp0";
        g2.name = "renamed0";
        g2p.name = "renamed0p";
        netlink_link_add_veth(h, &g1, &g1p, NULL);
        netlink_link_add_veth(h, &g2, &g2p, NULL);
        NlLink r2;
        netlink_link_get_by_name(h, "renamed0", &r2);
        NlLinkSpec tag = NL_LINK_SPEC_INIT;
        tag.alias = "warren:ghost";
        netlink_link_change(h, r2.ifindex, &tag, NULL);
        /* Same hash prefix, but tagged for another container: not ours. */
        char collide[16];
        network_host_ifname("ghost", 4, collide);
        NlLinkSpec g3 = NL_LINK_SPEC_INIT, g3p = NL_LINK_SPEC_INIT;
        g3.name = collide;
        g3p.name = "otherp0";
        netlink_link_add_veth(h, &g3, &g3p, NULL);
        netlink_link_get_by_name(h, collide, &r2);
        tag.alias = "warren:other";
        netlink_link_change(h, r2.ifindex, &tag, NULL);
        is(network_teardown_container("ghost", NULL), 2, "sweep removed both leftovers");
        ok(!host_link(ghost, NULL) && !host_link("renamed0", NULL), "gone");
        ok(host_link(collide, NULL), "another container's end with a colliding name kept");
        is(network_teardown_container("other", NULL), 1, "removed by its own teardown");
        netlink_link_get_by_name(h, "wnoaddr", &l);
        netlink_link_delete(h, l.ifindex, NULL);
        netlink_close(h);

        fake_stop(&c);
        fake_stop(&d);
        fake_stop(&f);
        lxc_config_free(empty);
        lxc_config_free(nothing);
        lxc_config_free(none);
        lxc_config_free(pair);
        lxc_config_free(fail);
}

/* phys: a host interface moves in under its container name and comes
 * back, down, under its own name; vlan/ipvlan where the kernel has them. */
static void test_phys(void) {
        WarrenError e = WARREN_ERROR_NULL;
        Fake c = fake_start("cp");
        NlSocket *h = NULL;
        NlLinkSpec a = NL_LINK_SPEC_INIT, b = NL_LINK_SPEC_INIT;
        a.name = "physa";
        b.name = "physb";
        netlink_open(-1, &h, NULL);
        ok(netlink_link_add_veth(h, &a, &b, NULL) == 0, "a veth pair stands in for a NIC");
        LxcConfig *phys = config("lxc.net.0.type = phys\nlxc.net.0.link = physa\nlxc.net.0.name = eth7\n"
                                 "lxc.net.0.flags = up\nlxc.net.0.ipv4.address = 192.168.78.2/24\n");
        ok(network_config_has_phys(phys), "the config has a phys NIC");
        is(network_setup_container(phys, "cp", c.pid, 0, &e), -EPERM,
           "phys refused for an unprivileged owner");
        like(e.message, "lxc.net.0.type 'phys' is only allowed in privileged containers", "saying so");
        warren_error_clear(&e);
        ok(host_link("physa", NULL), "and physa stayed");

        is(network_setup_container(phys, "cp", c.pid, NETWORK_CHECK_PRIVILEGED, &e), 0, "phys set up: %s",
           warren_error_message(&e));
        warren_error_clear(&e);
        ok(!host_link("physa", NULL), "physa left the host");
        char *links = ns_links(c.pid);
        is_str(links, "lo+,eth7+", "it is eth7 in the container, up");
        free(links);
        ok(link_has_addr(c.pid, "eth7", "192.168.78.2/24"), "with its address");
        is(network_teardown_container("cp", NULL), 0, "teardown does not delete a phys NIC");

        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) c.pid);
        int ns = open(path, O_RDONLY | O_CLOEXEC);
        fake_stop(&c); /* init gone; our fd keeps the namespace */
        is(network_restore_phys(phys, ns, &e), 0, "restored: %s", warren_error_message(&e));
        warren_error_clear(&e);
        NlLink l;
        ok(host_link("physa", &l), "physa is back under its name");
        ok(!(l.flags & IFF_UP), "down");
        is(network_restore_phys(phys, ns, &e), 0, "restoring again finds nothing to do");
        close(ns);

        LxcConfig *nolink = config("lxc.net.0.type = phys\nlxc.net.0.link = nosuch0\n");
        c = fake_start("cp");
        ok(network_setup_container(nolink, "cp", c.pid, NETWORK_CHECK_PRIVILEGED, &e) < 0,
           "phys on a missing link");
        like(e.message, "nosuch0", "names it");
        warren_error_clear(&e);

        /* vlan and ipvlan need kernel support this machine may not have:
         * then the error says so; else they are made in the container. */
        LxcConfig *vlan =
                config("lxc.net.0.type = vlan\nlxc.net.0.link = physb\nlxc.net.0.vlan.id = 42\n"
                       "lxc.net.1.type = ipvlan\nlxc.net.1.link = physb\nlxc.net.1.ipvlan.mode = l2\n");
        int r = network_setup_container(vlan, "cp", c.pid, NETWORK_CHECK_PRIVILEGED, &e);
        if (r == -EOPNOTSUPP)
                ok(strstr(e.message, "no 802.1Q VLAN support") || strstr(e.message, "no ipvlan support"),
                   "vlan/ipvlan without kernel support: %s", e.message);
        else {
                is(r, 0, "vlan and ipvlan set up: %s", warren_error_message(&e));
                links = ns_links(c.pid);
                is_str(links, "lo+,eth0,eth1", "eth0 (vlan), eth1 (ipvlan)");
                free(links);
        }
        warren_error_clear(&e);
        fake_stop(&c);
        netlink_link_get_by_name(h, "physa", &l);
        netlink_link_delete(h, l.ifindex, NULL);
        netlink_close(h);
        lxc_config_free(phys);
        lxc_config_free(nolink);
        lxc_config_free(vlan);
}

static void expect_check(const char *text, NetworkCheckFlags flags, int err, const char *message) {
        WarrenError e = WARREN_ERROR_NULL;
        LxcConfig *c = config(text);
        is(network_check_config(c, flags, &e), err, "refused: %s", message);
        is_str(e.message, message, "message");
        warren_error_clear(&e);
        lxc_config_free(c);
}

static void test_checks(void) {
        const NetworkCheckFlags priv = NETWORK_CHECK_PRIVILEGED | NETWORK_CHECK_HOST;
        WarrenError e = WARREN_ERROR_NULL;
        LxcConfig *c = lxc_config_new();

        /* Invalid CIDRs never get into a config: the parser refuses them. */
        is(lxc_config_apply(c, "lxc.net.0.type", "veth", NULL), 0, "type set");
        is(lxc_config_apply(c, "lxc.net.0.ipv4.address", "10.0.0.300/24", &e), -EINVAL,
           "bad CIDR refused by the parser");
        like(e.message, "'10.0.0.300/24'", "names the value");
        warren_error_clear(&e);
        is(lxc_config_apply(c, "lxc.net.0.ipv4.address", "10.0.0.3/40", &e), -EINVAL, "prefix 40 refused");
        warren_error_clear(&e);
        lxc_config_free(c);

        expect_check("lxc.net.0.type = vlan\nlxc.net.0.link = lo\n", priv, -EINVAL,
                     "lxc.net.0.type 'vlan' needs lxc.net.0.vlan.id 0..4094 (got '')");
        expect_check("lxc.net.0.type = vlan\nlxc.net.0.link = lo\nlxc.net.0.vlan.id = 4095\n", priv, -EINVAL,
                     "lxc.net.0.type 'vlan' needs lxc.net.0.vlan.id 0..4094 (got '4095')");
        expect_check("lxc.net.0.type = vlan\nlxc.net.0.vlan.id = 1\n", priv, -EINVAL,
                     "lxc.net.0.type 'vlan' needs lxc.net.0.link (a host interface)");
        expect_check("lxc.net.0.type = phys\n", priv, -EINVAL,
                     "lxc.net.0.type 'phys' needs lxc.net.0.link (a host interface)");
        expect_check("lxc.net.0.type = ipvlan\nlxc.net.0.link = lo\nlxc.net.0.ipvlan.isolation = vepa\n",
                     priv, -EOPNOTSUPP,
                     "lxc.net.0.ipvlan.isolation 'vepa' is not supported by warren (only bridge)");
        expect_check("lxc.net.0.type = vlan\nlxc.net.0.link = lo\nlxc.net.0.vlan.id = 3\n",
                     NETWORK_CHECK_HOST, -EPERM,
                     "lxc.net.0.type 'vlan' is only allowed in privileged containers (unprivileged: veth or "
                     "empty)");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.link = nobr0\n", priv, -ENODEV,
                     "lxc.net.0.link 'nobr0': no such bridge on the host");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.link = lo\n", priv, -EINVAL,
                     "lxc.net.0.link 'lo' is not a bridge");
        expect_check("lxc.net.0.type = macvlan\nlxc.net.0.link = nope0\n", priv, -ENODEV,
                     "lxc.net.0.link 'nope0': no such interface on the host");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.hwaddr = 00:16:3e:aa:bb:cc\n"
                     "lxc.net.1.type = veth\nlxc.net.1.hwaddr = 00:16:3E:AA:BB:CC\n",
                     priv, -EINVAL, "lxc.net.1.hwaddr '00:16:3E:AA:BB:CC' is also the hwaddr of lxc.net.0");
        expect_check("lxc.net.0.type = veth\nlxc.net.1.type = veth\nlxc.net.1.name = eth0\n", priv, -EINVAL,
                     "lxc.net.1.name 'eth0' is also the name of lxc.net.0");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.veth.pair = p0\nlxc.net.1.type = "
                     "veth\nlxc.net.1.veth.pair = p0\n",
                     priv, -EINVAL, "lxc.net.1.veth.pair 'p0' is also the veth.pair of lxc.net.0");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n", NETWORK_CHECK_START,
                     -EINVAL,
                     "Invalid lxc.net.0.hwaddr '00:16:3e:xx:xx:xx': must be xx:xx:xx:xx:xx:xx in hex");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.hwaddr = 01:16:3e:00:00:01\n", 0, -EINVAL,
                     "Invalid lxc.net.0.hwaddr '01:16:3e:00:00:01': a multicast address");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.hwaddr = 00:16:3g:00:00:01\n", 0, -EINVAL,
                     "Invalid lxc.net.0.hwaddr '00:16:3g:00:00:01': must be xx:xx:xx:xx:xx:xx in hex");
        expect_check("lxc.net.0.type = none\n", 0, -EPERM,
                     "lxc.net.0.type 'none' is only allowed in privileged containers (unprivileged: veth or "
                     "empty)");
        expect_check("lxc.net.0.type = macvlan\nlxc.net.0.link = lo\n", 0, -EPERM,
                     "lxc.net.0.type 'macvlan' is only allowed in privileged containers (unprivileged: veth "
                     "or empty)");
        expect_check("lxc.net.0.type = phys\nlxc.net.0.link = lo\n", 0, -EPERM,
                     "lxc.net.0.type 'phys' is only allowed in privileged containers (unprivileged: veth or "
                     "empty)");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.veth.pair = mine0\n", 0, -EPERM,
                     "lxc.net.0.veth.pair 'mine0' is only allowed in privileged containers");
        expect_check(
                "lxc.net.0.type = none\nlxc.net.1.type = empty\n", NETWORK_CHECK_PRIVILEGED, -EINVAL,
                "lxc.net.0.type 'none' shares the host's network: no other lxc.net.N may be configured");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.script.up = /bin/true\n", priv, -EOPNOTSUPP,
                     "lxc.net.0.script.up = /bin/true: not supported by warren");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.ipv4.gateway = 10.0.0.1\n", priv, -EINVAL,
                     "lxc.net.0.ipv4.gateway '10.0.0.1' needs lxc.net.0.flags = up");
        expect_check("lxc.net.0.type = macvlan\nlxc.net.0.link = lo\nlxc.net.0.flags = "
                     "up\nlxc.net.0.ipv4.gateway = auto\n",
                     priv, -EINVAL,
                     "lxc.net.0.ipv4.gateway 'auto' needs a veth on a bridge (lxc.net.0.link)");
        expect_check("lxc.net.0.type = macvlan\n", priv, -EINVAL,
                     "lxc.net.0.type 'macvlan' needs lxc.net.0.link (a host interface)");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.mtu = 20\n", 0, -EINVAL,
                     "Invalid lxc.net.0.mtu '20': must be 68..65535");
        expect_check("lxc.net.0.type = veth\nlxc.net.0.flags = down\n", 0, -EINVAL,
                     "Invalid lxc.net.0.flags 'down': the only flag is 'up'");
        expect_check("lxc.net.0.type = veth\nlxc.net.1.link = wbr0\n", 0, -EINVAL,
                     "lxc.net.1 has keys but no lxc.net.1.type");

        c = config("lxc.net.0.type = veth\nlxc.net.0.link = nobr0\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n"
                   "lxc.net.0.flags = up\nlxc.net.0.ipv4.address = 10.0.0.2/24\nlxc.net.0.ipv4.gateway = "
                   "auto\n");
        is(network_check_config(c, 0, NULL), 0,
           "at config time: placeholders and a missing bridge are fine");
        char **bridges = network_config_bridges(c);
        ok(strv_length(bridges) == 1 && streq(bridges[0], "nobr0"), "bridges of the config");
        strv_free(bridges);
        lxc_config_free(c);
}

static int udhcpc(pid_t pid, const char *script) {
        char *argv[] = { (char *) WARREN_BUSYBOX_PATH,
                         (char *) "udhcpc",
                         (char *) "-i",
                         (char *) "eth0",
                         (char *) "-n",
                         (char *) "-q",
                         (char *) "-f",
                         (char *) "-t",
                         (char *) "5",
                         (char *) "-T",
                         (char *) "1",
                         (char *) "-s",
                         (char *) script,
                         NULL };
        return ns_run(pid, argv, true);
}

static void test_dhcp(void) {
        static const char *const opts[] = { "ipv4.address", "192.168.78.1/24", "dhcp", "true", NULL };
        WarrenError e = WARREN_ERROR_NULL;
        char script[256], leases[256];
        pid_t dns = 0, dns2 = 0, running = 0;

        snprintf(script, sizeof script, "%s/udhcpc.sh", tmpdir);
        const char *body = "#!" WARREN_BUSYBOX_PATH " sh\n"
                           "case \"$1\" in bound|renew) " WARREN_BUSYBOX_PATH
                           " ip addr add \"$ip/${mask:-24}\" dev \"$interface\" ;; esac\nexit 0\n";
        write_file_atomic_at(AT_FDCWD, script, body, strlen(body), 0755);

        is(create_network("wdhcp", opts, &dns, &e), 0, "network with DHCP: %s", warren_error_message(&e));
        warren_error_clear(&e);
        ok(dns > 0, "dnsmasq started (%d)", (int) dns);
        is(network_dnsmasq_running("wdhcp", runtime_dir, &running), 1, "dnsmasq running");
        is(running, dns, "same pid");

        Fake c = fake_start("ce");
        LxcConfig *cfg = config("lxc.net.0.type = veth\nlxc.net.0.link = wdhcp\nlxc.net.0.flags = up\n"
                                "lxc.net.0.hwaddr = 00:16:3e:78:00:01\n");
        is(network_setup_container(cfg, "ce", c.pid, 0, NULL), 0, "unprivileged veth set up");
        double t0 = now_ms();
        int r = udhcpc(c.pid, script);
        double t1 = now_ms();
        is(r, 0, "udhcpc got a lease");
        printf("# DHCP lease via dnsmasq: %.1f ms\n", t1 - t0);
        ok(t1 - t0 < 3000, "within seconds");
        char **addrs = NULL;
        is(network_container_addresses(c.pid, AF_INET, &addrs, NULL), 0, "addresses read");
        ok(strv_length(addrs) == 1 && strncmp(addrs[0], "192.168.78.", 11) == 0 &&
                   !streq(addrs[0], "192.168.78.1"),
           "a leased address: %s", addrs && addrs[0] ? addrs[0] : "none");
        char *text = NULL;
        snprintf(leases, sizeof leases, "%s/networks/wdhcp.leases", runtime_dir);
        read_full_file(leases, 65536, &text, NULL);
        ok(text && addrs && addrs[0] && strstr(text, addrs[0]) && strstr(text, "00:16:3e:78:00:01"),
           "lease recorded");
        free(text);
        strv_free(addrs);

        /* The bridge vanishes behind our back: ensure re-creates it all. */
        NlSocket *h = NULL;
        NlLink br;
        netlink_open(-1, &h, NULL);
        netlink_link_get_by_name(h, "wdhcp", &br);
        netlink_link_delete(h, br.ifindex, NULL);
        ok(!host_link("wdhcp", NULL), "bridge deleted behind warren's back");
        is(network_ensure(state_dir, runtime_dir, "wdhcp", &dns2, &e), 0, "ensure: %s",
           warren_error_message(&e));
        warren_error_clear(&e);
        ok(host_link("wdhcp", NULL) && link_has_addr(0, "wdhcp", "192.168.78.1/24"),
           "bridge and address back");
        ok(dns2 > 0 && dns2 != dns, "a fresh dnsmasq for the new bridge");
        is(waitpid(dns, NULL, WNOHANG), dns, "the old one was stopped");
        is(network_ensure(state_dir, runtime_dir, "wdhcp", &dns, NULL), 0, "ensure again");
        is(dns, 0, "nothing to start");

        /* nft chain removed behind our back. */
        nft_exec("delete chain ip warren nat-wbr0", NULL, NULL);
        is(nft_nat_present("wbr0", NULL), 0, "nat chain gone");
        is(network_ensure(state_dir, runtime_dir, "wbr0", NULL, NULL), 0, "ensure wbr0");
        is(nft_nat_present("wbr0", NULL), 1, "nat chain back");
        is(network_ensure(state_dir, runtime_dir, "nonet", NULL, &e), -ENOENT,
           "ensure of an unknown network");
        is_str(e.message, "No network 'nonet'", "message");
        warren_error_clear(&e);

        network_teardown_container("ce", NULL);
        fake_stop(&c);
        is(network_delete(state_dir, runtime_dir, "wdhcp", &e), 0, "wdhcp deleted: %s",
           warren_error_message(&e));
        warren_error_clear(&e);
        is(waitpid(dns2, NULL, 0), dns2, "its dnsmasq exited");
        ok(access(leases, F_OK) < 0 && !host_link("wdhcp", NULL), "lease file and bridge gone");
        is(network_dnsmasq_running("wdhcp", runtime_dir, NULL), 0, "not running");
        netlink_close(h);
        lxc_config_free(cfg);
}

static void test_uplink(void) {
        static const char *const opts[] = { "ipv4.address", "10.98.0.1/24", "uplink", "upl0", NULL };
        static const char *const forced[] = { "uplink", "upl0", "force", "yes", NULL };
        WarrenError e = WARREN_ERROR_NULL;
        NlSocket *h = NULL;
        NlLink up, peer, br;
        char path[256];

        /* upl0 stands in for the host's eth0: an address and the default route. */
        netlink_open(-1, &h, NULL);
        NlLinkSpec a = NL_LINK_SPEC_INIT, b = NL_LINK_SPEC_INIT;
        a.name = "upl0";
        a.up = 1;
        b.name = "upl0p";
        is(netlink_link_add_veth(h, &a, &b, NULL), 0, "stand-in uplink created");
        netlink_link_get_by_name(h, "upl0", &up);
        netlink_link_get_by_name(h, "upl0p", &peer);
        NlLinkSpec pu = NL_LINK_SPEC_INIT;
        pu.up = 1;
        netlink_link_change(h, peer.ifindex, &pu, NULL);
        NlAddr addr;
        netlink_addr_parse(AF_INET, "10.99.0.2/24", &addr, NULL);
        addr.ifindex = up.ifindex;
        is(netlink_addr_add(h, &addr, NULL), 0, "address on the uplink");
        NlRoute def = {
                .family = AF_INET, .has_gateway = true, .gateway = { 10, 99, 0, 1 }, .oif = up.ifindex
        };
        is(netlink_route_add(h, &def, &e), 0, "default route via the uplink: %s", warren_error_message(&e));
        warren_error_clear(&e);

        is(create_network("wup", opts, NULL, &e), -EBUSY, "uplink holding the host's config refused");
        is_str(e.message,
               "Uplink 'upl0' holds the host's address 10.99.0.2/24 and the default route: refusing to "
               "enslave "
               "it to bridge 'wup' (force=true moves them to the bridge)",
               "message names the interface");
        warren_error_clear(&e);
        snprintf(path, sizeof path, "%s/networks/wup", state_dir);
        ok(!host_link("wup", NULL) && access(path, F_OK) < 0, "nothing left behind");
        netlink_link_get_by_name(h, "upl0", &up);
        ok(up.master == 0 && link_has_addr(0, "upl0", "10.99.0.2/24") &&
                   has_default_route("upl0", "10.99.0.1"),
           "uplink untouched");

        is(create_network("wup", forced, NULL, &e), 0, "with force: %s", warren_error_message(&e));
        warren_error_clear(&e);
        ok(host_link("wup", &br), "bridge exists");
        netlink_link_get_by_name(h, "upl0", &up);
        is(up.master, br.ifindex, "uplink enslaved");
        ok(link_has_addr(0, "wup", "10.99.0.2/24") && !link_has_addr(0, "upl0", "10.99.0.2/24"),
           "address moved");
        ok(has_default_route("wup", "10.99.0.1") && !has_default_route("upl0", "10.99.0.1"),
           "default route moved");

        is(network_delete(state_dir, runtime_dir, "wup", &e), 0, "deleted: %s", warren_error_message(&e));
        warren_error_clear(&e);
        ok(!host_link("wup", NULL) && access(path, F_OK) < 0, "bridge and definition gone");
        netlink_link_get_by_name(h, "upl0", &up);
        ok(up.master == 0 && (up.flags & IFF_UP), "uplink released, up");
        ok(link_has_addr(0, "upl0", "10.99.0.2/24") && has_default_route("upl0", "10.99.0.1"),
           "address and default route moved back");
        netlink_link_delete(h, up.ifindex, NULL);
        netlink_close(h);

        is(create_network("wup2", (const char *const[]){ "uplink", "nope0", NULL }, NULL, &e), -ENODEV,
           "missing uplink refused");
        is_str(e.message, "Uplink 'nope0' of network 'wup2': no such interface", "message");
        warren_error_clear(&e);
        ok(!host_link("wup2", NULL), "no bridge left");
}

static void test_delete(void) {
        WarrenError e = WARREN_ERROR_NULL;
        char **names = NULL, path[256];
        is(network_list(state_dir, &names, NULL), 0, "list");
        ok(strv_length(names) == 1 && streq(names[0], "wbr0"), "only wbr0 is left");
        strv_free(names);
        is(network_delete(state_dir, runtime_dir, "wbr0", &e), 0, "wbr0 deleted");
        is(nft_nat_present("wbr0", NULL), 0, "masquerade rule gone");
        ok(nft_exec("list table ip warren", NULL, NULL) == -ENOENT, "warren table gone");
        snprintf(path, sizeof path, "%s/networks/wbr0", state_dir);
        ok(!host_link("wbr0", NULL) && access(path, F_OK) < 0, "bridge and definition gone");
        is(network_delete(state_dir, runtime_dir, "wbr0", &e), -ENOENT, "deleting again");
        is_str(e.message, "No network 'wbr0'", "message");
        warren_error_clear(&e);
        char *links = ns_links(0);
        is_str(links, "lo+", "nothing but lo left in the test's netns");
        free(links);
}

int main(void) {
        test_defs();
        if (unshare(CLONE_NEWNET) < 0) {
                ok(0, "unshare(CLONE_NEWNET): %m (this test needs root)");
                return done_testing();
        }
        NlSocket *s = NULL;
        NlLink lo;
        NlLinkSpec up = NL_LINK_SPEC_INIT;
        up.up = 1;
        if (netlink_open(-1, &s, NULL) >= 0 && netlink_link_get_by_name(s, "lo", &lo) >= 0)
                netlink_link_change(s, lo.ifindex, &up, NULL);
        netlink_close(s);
        if (!mkdtemp(tmpdir))
                return 1;
        snprintf(state_dir, sizeof state_dir, "%s/state", tmpdir);
        snprintf(runtime_dir, sizeof runtime_dir, "%s/run", tmpdir);

        test_static();
        test_other_types();
        test_phys();
        test_checks();
        test_dhcp();
        test_uplink();
        test_delete();

        char *argv[] = { (char *) "rm", (char *) "-rf", tmpdir, NULL };
        pid_t pid = fork();
        if (pid == 0) {
                execvp("rm", argv);
                _exit(127);
        }
        waitpid(pid, NULL, 0);
        return done_testing();
}
