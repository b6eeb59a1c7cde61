#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 5: managed networks (bridge, NAT, dnsmasq DHCP, uplink), veth NICs
# with DHCP or static addresses, empty, teardown, re-creation after a
# warrend restart, usernet quotas, authorization and garbage. Everything
# happens in the sandbox's own network namespace: no packet leaves it.
# timeout: 600
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
nprop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/network/$1" org.warren1.Network "$2" | sed 's/^[a-z]* //; s/"//g'; }
state() { prop "$1" State; }
# The container's IPv4 addresses from the bus, space-separated.
addrs() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container IPv4Addresses | cut -d' ' -f3- | tr -d '"'; }
# has_addr NAME REGEX: one of its addresses matches.
has_addr() {
        local a
        for a in $(addrs "$1"); do
                [[ $a =~ $2 ]] && return 0
        done
        echo "addresses of $1: '$(addrs "$1")'"
        return 1
}
# Host ends of a container's NICs carry the ifalias warren:NAME.
veths_of() { ip -o link show type veth | grep -cE "alias warren:$1([^A-Za-z0-9_.-]|$)"; }
no_veth_of() {
        local n
        n=$(veths_of "$1")
        ((n == 0)) || { ip -o link show type veth; return 1; }
}
stopped() { [[ $(state "$1") == STOPPED ]]; }
nft_warren() { nft list table ip warren 2>/dev/null; }
has_bridge() { ip -o link show "$1" type bridge >/dev/null 2>&1; }
in_ct() { local c=$1; shift; warrenctl attach "$c" -- "$@"; }
# Pids of the dnsmasq serving a bridge (by its command line).
dnsmasq_of() {
        local p
        for p in $(pgrep -x dnsmasq); do
                tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qE "(=|[[:space:]])$1([[:space:],]|$)" && echo "$p"
        done
}
has_dnsmasq() { [[ -n $(dnsmasq_of "$1") ]]; }
gcall() { local path=$1 method=$2; shift 2; gdbus call --system --dest org.warren1 --object-path "$path" --method "$method" "$@"; }
SUBNET_RE='^192\.168\.77\.1[0-5][0-9]$'

# Earlier files may have brought up the default network: start without it.
if has_bridge warrenbr0; then
        warrenctl network delete warrenbr0 >/dev/null 2>&1 || t_diag "warrenbr0 exists and could not be deleted"
fi

# --- the default network, with no network command at all ------------------------
t_ok "create nd1 with the defaults" warrenctl create nd1 -t busybox
t_eq "default NIC: veth" "$(warrenctl config get nd1 lxc.net.0.type)" veth
t_eq "default NIC on warrenbr0" "$(warrenctl config get nd1 lxc.net.0.link)" warrenbr0
t_eq "default NIC up" "$(warrenctl config get nd1 lxc.net.0.flags)" up
hw_d1=$(warrenctl config get nd1 lxc.net.0.hwaddr)
t_match "hwaddr placeholders filled at create ($hw_d1)" "$hw_d1" '^10:66:6a(:[0-9a-f]{2}){3}$'
t_fail "no warrenbr0 before the first start" has_bridge warrenbr0
t_ok "start nd1" warrenctl start nd1
wait_for "nd1 gets a 10.0.3.x lease by DHCP" 20 has_addr nd1 '^10\.0\.3\.([2-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$'
t_ok "warrend created the bridge warrenbr0" has_bridge warrenbr0
t_match "warrenbr0 has 10.0.3.1/24" "$(ip -o -4 addr show dev warrenbr0)" 'inet 10\.0\.3\.1/24 '
t_ok "warrenbr0 is listed" warrenctl network list
t_match "list: warrenbr0 10.0.3.1/24 NAT DHCP nd1" "$T_OUT" $'\nwarrenbr0 +10\\.0\\.3\\.1/24 +yes +yes +nd1'
t_match "MASQUERADE for 10.0.3.0/24" "$(nft_warren)" '10\.0\.3\.0/24.*masquerade'
t_ok "nd1 pings the bridge" in_ct nd1 ping -c1 -W2 10.0.3.1
t_match "nd1's default route is the bridge (from DHCP)" "$(in_ct nd1 ip route)" 'default via 10\.0\.3\.1 dev eth0'
t_match "nd1's resolv.conf names dnsmasq" "$(in_ct nd1 cat /etc/resolv.conf)" 'nameserver 10\.0\.3\.1'
t_match "nd1's eth0 has the configured hwaddr" "$(in_ct nd1 ip -o link show eth0)" "link/ether $hw_d1 "
t_eq "IPv4Forwarding on for NAT" "$(cat /proc/sys/net/ipv4/ip_forward)" 1

# --- a managed network, two containers by DHCP ----------------------------------
t_ok "network create testbr0" warrenctl network create testbr0 --ipv4 192.168.77.1/24 --nat --dhcp \
        --dhcp-range 192.168.77.100,192.168.77.150
t_ok "bridge testbr0 exists" has_bridge testbr0
t_match "with its address" "$(ip -o -4 addr show dev testbr0)" 'inet 192\.168\.77\.1/24 '
t_ok "dnsmasq serves testbr0" has_dnsmasq testbr0
t_match "MASQUERADE for 192.168.77.0/24" "$(nft_warren)" '192\.168\.77\.0/24.*masquerade'
t_eq "Name" "$(nprop testbr0 Name)" testbr0
t_eq "IPv4Address" "$(nprop testbr0 IPv4Address)" 192.168.77.1/24
t_eq "NAT" "$(nprop testbr0 NAT)" true
t_eq "DHCP" "$(nprop testbr0 DHCP)" true
t_eq "DHCPRange" "$(nprop testbr0 DHCPRange)" 192.168.77.100,192.168.77.150
t_eq "Uplink" "$(nprop testbr0 Uplink)" ""
t_eq "Containers empty" "$(nprop testbr0 Containers)" 0
t_ok "Network introspection matches dbus/org.warren1.Network.xml" \
        /usr/bin/python3 "$WARREN_SRC/tests/integration/helpers/introspect-diff.py" \
        "$WARREN_SRC/dbus/org.warren1.Network.xml" /org/warren1/network/testbr0
t_ok "network info" warrenctl network info testbr0
t_match "info shows address, NAT, range" "$T_OUT" 'IPv4: +192\.168\.77\.1/24.*NAT: +yes.*DHCP: +yes \(192\.168\.77\.100,192\.168\.77\.150\)'
t_fail_match "info of an unknown network names it" "No network 'nosuch0'" warrenctl network info nosuch0
t_fail_match "create options mean nothing to delete" "--nat means nothing" warrenctl network delete testbr0 --nat

for c in nn1 nn2; do
        t_ok "create $c on testbr0" warrenctl create $c -t busybox
        t_ok "$c: link testbr0" warrenctl config set $c lxc.net.0.link=testbr0
done
t_ok "start nn1 nn2" warrenctl start nn1 nn2
wait_for "nn1 gets a lease in the range" 20 has_addr nn1 "$SUBNET_RE"
wait_for "nn2 gets a lease in the range" 20 has_addr nn2 "$SUBNET_RE"
addr1=$(addrs nn1)
addr2=$(addrs nn2)
t_ok "different addresses ($addr1, $addr2)" test "$addr1" != "$addr2"
t_eq "one host end each on testbr0" "$(ip -o link show master testbr0 type veth | wc -l)" 2
t_eq "nn1's host end is tagged" "$(veths_of nn1)" 1
t_ok "nn1 pings nn2" in_ct nn1 ping -c1 -W2 "$addr2"
t_ok "nn2 pings nn1" in_ct nn2 ping -c1 -W2 "$addr1"
t_ok "nn1 pings the bridge" in_ct nn1 ping -c1 -W2 192.168.77.1
t_ok "the host pings nn2" busybox ping -c1 -W2 "$addr2"
t_eq "Containers lists both" "$(nprop testbr0 Containers)" "2 nn1 nn2"
t_ok "network list --json" warrenctl network list --json
netjson=$T_OUT
t_ok "json has testbr0 with its containers" /usr/bin/python3 -c '
import json, sys
n = [x for x in json.loads(sys.argv[1]) if x["name"] == "testbr0"][0]
del n["path"]
assert n == {"name": "testbr0", "ipv4": "192.168.77.1/24", "nat": True, "dhcp": True,
             "dhcp_range": "192.168.77.100,192.168.77.150", "uplink": "", "containers": ["nn1", "nn2"]}, n' "$T_OUT"
/usr/bin/python3 -c 'import json, sys; json.load(sys.stdin)' <<<"$netjson" && t_pass "list --json is valid JSON" || t_not "list --json is valid JSON" "$netjson"
t_fail_match "delete refused while in use, naming the containers" "in use by containers nn1, nn2" \
        warrenctl network delete testbr0
t_ok "testbr0 still there" has_bridge testbr0

# --- teardown: stop and kill leave no veth ---------------------------------------
t_ok "stop nn1" warrenctl stop nn1 -t 20
t_ok "no veth left for nn1 after stop" no_veth_of nn1
t_ok "kill nn2" warrenctl kill nn2 -s KILL
wait_for "nn2 STOPPED after SIGKILL" 10 stopped nn2
wait_for "no veth left for nn2 after kill" 10 no_veth_of nn2
t_eq "testbr0 has no ports left" "$(ip -o link show master testbr0 | wc -l)" 0
t_eq "IPv4Addresses empty when stopped" "$(addrs nn1)" ""

# --- static address with gateway ----------------------------------------------------
t_ok "create ns1" warrenctl create ns1 -t busybox
t_ok "ns1: static address, gateway auto" warrenctl config set ns1 lxc.net.0.link=testbr0 \
        lxc.net.0.ipv4.address=192.168.77.20/24 lxc.net.0.ipv4.gateway=auto
t_ok "start ns1" warrenctl start ns1
t_eq "IPv4Addresses is the static address" "$(addrs ns1)" 192.168.77.20
t_match "default route via the bridge" "$(in_ct ns1 ip route)" 'default via 192\.168\.77\.1 dev eth0'
t_ok "ns1 pings the bridge" in_ct ns1 ping -c1 -W2 192.168.77.1
wait_for "ns1 finished rcS (its gettys run)" 10 in_ct ns1 pidof getty
t_fail "no udhcpc on a statically addressed interface" in_ct ns1 pidof udhcpc
t_eq "still only the static address" "$(addrs ns1)" 192.168.77.20
t_ok "stop ns1" warrenctl stop ns1 -k
t_ok "no veth left for ns1" no_veth_of ns1

# --- empty: loopback only ------------------------------------------------------------
t_ok "create ne1" warrenctl create ne1 -t busybox
t_ok "ne1: clear the default NIC" warrenctl config set ne1 lxc.net=
t_ok "ne1: type empty" warrenctl config set ne1 lxc.net.0.type=empty
t_ok "start ne1" warrenctl start ne1
t_eq "only lo inside" "$(in_ct ne1 ip -o link | sed 's/^[0-9]*: \([^:@]*\).*/\1/' | tr '\n' ' ')" "lo "
t_match "lo is up" "$(in_ct ne1 ip -o link show lo)" '<LOOPBACK,UP'
t_eq "no IPv4Addresses" "$(addrs ne1)" ""
t_eq "no veth for ne1" "$(veths_of ne1)" 0
t_ok "stop ne1" warrenctl stop ne1 -k

# --- warrend killed, bridge, NAT and dnsmasq removed behind its back ----------------
pkill -9 -x warrend
kill $(dnsmasq_of testbr0)
ip link del testbr0
nft delete table ip warren 2>/dev/null
t_fail "testbr0 is gone" has_bridge testbr0
t_ok "a bus call re-activates warrend" warrenctl network list
wait_for "testbr0 re-created" 10 has_bridge testbr0
t_match "with its address" "$(ip -o -4 addr show dev testbr0)" 'inet 192\.168\.77\.1/24 '
t_match "and its MASQUERADE rule" "$(nft_warren)" '192\.168\.77\.0/24.*masquerade'
wait_for "and dnsmasq" 10 has_dnsmasq testbr0
t_ok "start nn1 again" warrenctl start nn1
wait_for "nn1 gets a lease from the new dnsmasq" 20 has_addr nn1 "$SUBNET_RE"
t_ok "stop nn1" warrenctl stop nn1 -k

# --- garbage and refusals ------------------------------------------------------------
t_fail_match "an invalid CIDR is refused naming it" "300\.1\.2\.3/24" \
        warrenctl network create bad0 --ipv4 300.1.2.3/24
t_fail_match "a prefix of 33 is refused naming it" "10\.1\.2\.1/33" warrenctl network create bad0 --ipv4 10.1.2.1/33
t_fail_match "NAT without an address is refused" "nat|NAT" warrenctl network create bad0 --nat
t_fail_match "a DHCP range outside the subnet is refused" "10\.99\.0\.5" \
        warrenctl network create bad0 --ipv4 10.98.0.1/24 --dhcp --dhcp-range 10.99.0.5,10.99.0.9
t_fail_match "an invalid name is refused" "Invalid network name" warrenctl network create 'bad name'
t_fail_match "a name longer than an ifname is refused" "thisnameistoolong" warrenctl network create thisnameistoolong
t_fail "no bridge bad0 after the refusals" has_bridge bad0
t_fail_match "an existing network: AlreadyExists" "org.warren1.Error.AlreadyExists" \
        gcall /org/warren1 org.warren1.Manager.CreateNetwork testbr0 '{}'
t_fail_match "unknown option: InvalidArgs naming it" "org\.freedesktop\.DBus\.Error\.InvalidArgs.*'bogus'" \
        gcall /org/warren1 org.warren1.Manager.CreateNetwork g0 "{'bogus': <'x'>}"
t_fail_match "wrong type: InvalidArgs naming the key" "org\.freedesktop\.DBus\.Error\.InvalidArgs.*'nat'" \
        gcall /org/warren1 org.warren1.Manager.CreateNetwork g0 "{'nat': <'yes'>}"
t_fail_match "address of the wrong type" "org\.freedesktop\.DBus\.Error\.InvalidArgs.*'ipv4\.address'" \
        gcall /org/warren1 org.warren1.Manager.CreateNetwork g0 "{'ipv4.address': <uint32 5>}"
t_fail_match "an invalid address on the bus: InvalidArgs naming it" "org\.freedesktop\.DBus\.Error\.InvalidArgs.*10\.0\.0\.256" \
        gcall /org/warren1 org.warren1.Manager.CreateNetwork g0 "{'ipv4.address': <'10.0.0.256/24'>}"
t_fail "no bridge g0" has_bridge g0
t_fail_match "deleting an unknown network names it" "nosuch0" warrenctl network delete nosuch0

t_ok "create nu1" warrenctl create nu1 -t busybox
t_fail_match "an unknown bridge is refused naming it" "nosuchbr0" \
        sh -c 'warrenctl config set nu1 lxc.net.0.link=nosuchbr0 && warrenctl start nu1'
t_eq "nu1 STOPPED" "$(state nu1)" STOPPED
t_ok "no veth left for nu1" no_veth_of nu1
t_fail_match "a duplicate hwaddr is refused naming it" "10:66:6a:00:00:42" \
        sh -c 'warrenctl config set nu1 lxc.net.0.link=testbr0 lxc.net.0.hwaddr=10:66:6a:00:00:42 \
                lxc.net.1.type=veth lxc.net.1.link=testbr0 lxc.net.1.hwaddr=10:66:6a:00:00:42 && warrenctl start nu1'
t_eq "nu1 STOPPED" "$(state nu1)" STOPPED
t_ok "no veth left for nu1" no_veth_of nu1

# --- authorization ----------------------------------------------------------------------
revoke_all alice bob
t_fail_match "alice may not create a network" "org\.warren1\.network" \
        as_user alice warrenctl network create alnet0 --ipv4 10.66.0.1/24
t_fail "no bridge alnet0" has_bridge alnet0
t_ok "and it is not listed" sh -c '! warrenctl network list | grep -q alnet0'
t_fail_match "AccessDenied on the bus" "org\.freedesktop\.DBus\.Error\.AccessDenied.*org\.warren1\.network" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.CreateNetwork alnet0 '{"ipv4.address": <"10.66.0.1/24">}'
t_fail "still no bridge alnet0" has_bridge alnet0
t_ok "alice may read the list" as_user alice warrenctl network list
t_eq "and the properties" "$(as_user alice busctl --system get-property org.warren1 /org/warren1/network/testbr0 org.warren1.Network NAT)" "b true"
grant alice warren-only-network
t_ok "with the network grant alice creates one" as_user alice warrenctl network create alnet0 --ipv4 10.66.0.1/24
t_ok "bridge alnet0 exists" has_bridge alnet0
revoke alice warren-only-network
t_fail_match "without the grant alice may not delete it" "org\.warren1\.network" \
        as_user alice warrenctl network delete alnet0
t_ok "alnet0 still there" has_bridge alnet0
grant alice warren-only-network
t_ok "with it she deletes it" as_user alice warrenctl network delete alnet0
t_fail "alnet0 is gone" has_bridge alnet0
revoke alice warren-only-network

t_ok "alice: create and manage-own grants" sh -c 'gpasswd -a alice warren-create >/dev/null && gpasswd -a alice warren-manage-own >/dev/null'
t_ok "alice creates na1" as_user alice warrenctl create na1 -t busybox
# Whatever create gives alice's containers, they get her subordinate ids
# (/etc/subuid 200000:65536), so the checks below reach the network code.
idmap_alice() {
        [[ -n $(warrenctl config get "$1" lxc.idmap) ]] ||
                warrenctl config set "$1" "lxc.idmap=u 0 200000 65536" "lxc.idmap=g 0 200000 65536"
}
t_ok "na1 maps alice's ids" idmap_alice na1
alice_none() {
        as_user alice warrenctl config set na1 lxc.net= &&
                as_user alice warrenctl config set na1 lxc.net.0.type=none &&
                as_user alice warrenctl start na1
}
t_fail_match "type none is refused for an unprivileged owner" "type 'none' is only allowed in privileged|lxc.net.0.type = 'none' needs org.warren1.create-privileged" alice_none
t_eq "na1 STOPPED" "$(state na1)" STOPPED
t_ok "na1: clear its NICs" warrenctl config set na1 lxc.net=
t_ok "na1: veth on testbr0" warrenctl config set na1 lxc.net.0.type=veth lxc.net.0.link=testbr0 lxc.net.0.flags=up

# --- usernet quotas -----------------------------------------------------------------------
usernet_before=$(cat /etc/warren/usernet 2>/dev/null)
echo "alice veth testbr0 0" >/etc/warren/usernet
t_fail_match "quota 0: alice's first container is refused" "alice.*testbr0|testbr0.*alice" as_user alice warrenctl start na1
t_fail_match "QuotaExceeded naming user, bridge and count" \
        "org\.warren1\.Error\.QuotaExceeded.*alice.*at most 0.*testbr0" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1/container/na1 \
        --method org.warren1.Container.Start
t_eq "na1 STOPPED" "$(state na1)" STOPPED
t_ok "nothing created for na1" no_veth_of na1
echo "alice veth testbr0 1" >/etc/warren/usernet
t_ok "alice creates na2" as_user alice warrenctl create na2 -t busybox
t_ok "na2: veth on testbr0" warrenctl config set na2 lxc.net= lxc.net.0.type=veth lxc.net.0.link=testbr0 lxc.net.0.flags=up
t_ok "na2 maps alice's ids" idmap_alice na2
if t_ok "quota 1: alice's first container starts (needs unprivileged containers, issue 7)" \
        as_user alice warrenctl start na1; then
        wait_for "na1 (unprivileged) gets a lease" 20 has_addr na1 "$SUBNET_RE"
        t_fail_match "quota 1: the second is refused naming user, bridge and count" \
                "org\.warren1\.Error\.QuotaExceeded.*alice.*at most 1 .*testbr0" \
                as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1/container/na2 \
                --method org.warren1.Container.Start
        t_eq "na2 STOPPED" "$(state na2)" STOPPED
        t_ok "nothing created for na2" no_veth_of na2
        t_ok "stop na1" warrenctl stop na1 -k
        t_ok "now na2 may start" as_user alice warrenctl start na2
        t_ok "stop na2" warrenctl stop na2 -k
else
        t_not "quota 1: the second is refused (not reached: na1 did not start)"
fi
if [[ -n $usernet_before ]]; then echo "$usernet_before" >/etc/warren/usernet; else rm -f /etc/warren/usernet; fi
revoke_all alice

# --- uplink: a veth pair stands in for the host's eth0 ------------------------------------
ip link add wupl0 type veth peer name wupl1
ip addr add 172.31.5.2/24 dev wupl0
ip link set wupl0 up
ip link set wupl1 up
t_fail_match "an uplink holding host addresses is refused naming it" "wupl0" \
        warrenctl network create upbr0 --ipv4 172.31.6.1/24 --uplink wupl0
t_fail "no bridge upbr0" has_bridge upbr0
t_match "wupl0 keeps its address" "$(ip -o -4 addr show dev wupl0)" '172\.31\.5\.2/24'
t_ok "with --force it is taken" warrenctl network create upbr0 --uplink wupl0 --force
t_match "wupl0 is enslaved to upbr0" "$(ip -o link show wupl0)" 'master upbr0'
t_match "its address moved to the bridge" "$(ip -o -4 addr show dev upbr0)" '172\.31\.5\.2/24'
t_eq "Uplink property" "$(nprop upbr0 Uplink)" wupl0
t_ok "delete upbr0" warrenctl network delete upbr0
t_fail "upbr0 is gone" has_bridge upbr0
t_match "the address moved back to wupl0" "$(ip -o -4 addr show dev wupl0)" '172\.31\.5\.2/24'
t_ok "wupl0 has no master" sh -c '! ip -o link show wupl0 | grep -q master'
ip link del wupl0 2>/dev/null

# --- phys, vlan, ipvlan (privileged) -----------------------------------------------------
# A veth pair stands in for a wired NIC: physa goes into the container,
# physb stays here as its link partner; a dummy is the lower of vlan/ipvlan.
ip link add physa type veth peer name physb
ip addr add 10.99.0.1/24 dev physb
ip link set physb up
t_ok "create np1 (phys)" warrenctl create np1 -t busybox
t_ok "np1: physa as eth5" warrenctl config set np1 lxc.net= lxc.net.0.type=phys lxc.net.0.link=physa \
        lxc.net.0.name=eth5 lxc.net.0.flags=up lxc.net.0.ipv4.address=10.99.0.2/24
t_ok "start np1" warrenctl start np1
t_fail "physa has left the host" ip link show physa
t_match "it is eth5 inside, with its address" "$(in_ct np1 ip -o -4 addr show dev eth5)" 'inet 10\.99\.0\.2/24'
t_ok "np1 reaches its link partner through it" in_ct np1 ping -c 1 -W 2 10.99.0.1
t_ok "stop np1" warrenctl stop np1 -t 20
t_ok "physa is back on the host under its name" ip link show physa
t_match "and down" "$(ip -o link show physa)" 'state DOWN'
t_ok "start np1 again (it can go in again)" warrenctl start np1
t_ok "kill np1" warrenctl stop np1 -k
t_ok "physa back after a kill too" ip link show physa
t_ok "phys on a missing link" warrenctl config set np1 lxc.net.0.link=nosuch0
t_fail_match "start fails naming it" "nosuch0" warrenctl start np1
t_eq "np1 STOPPED" "$(state np1)" STOPPED

# vlan and ipvlan on physb (physa's partner, still here). Kernels without
# 8021q / ipvlan (this CI's has neither) must refuse with a clear message.
kernel_has() { ip link add link physb name probe0 type "$@" 2>/dev/null && ip link del probe0; }
t_ok "create nv1 (vlan)" warrenctl create nv1 -t busybox
t_ok "nv1: vlan 42 on physb" warrenctl config set nv1 lxc.net= \
        lxc.net.0.type=vlan lxc.net.0.link=physb lxc.net.0.vlan.id=42 lxc.net.0.flags=up \
        lxc.net.0.ipv4.address=10.98.0.2/24
if kernel_has vlan id 1; then
        t_ok "start nv1" warrenctl start nv1
        t_match "eth0 is vlan 42 of physb" "$(nsenter -t "$(prop nv1 InitPID)" -n ip -d -o link show eth0)" \
                'vlan protocol 802\.1Q id 42'
        t_match "eth0 has its address" "$(in_ct nv1 ip -o -4 addr show dev eth0)" 'inet 10\.98\.0\.2/24'
        t_ok "stop nv1" warrenctl stop nv1 -k
else
        t_fail_match "no 8021q in this kernel: start says so" "no 802\.1Q VLAN support" warrenctl start nv1
        t_ok "nothing left of nv1" sh -c '[ "$(warrenctl state nv1)" = STOPPED ] && [ ! -e /run/warren/containers/nv1 ]'
fi
t_eq "no vlan left on the host" "$(ip -o link show type vlan 2>/dev/null | wc -l)" 0
t_ok "nv1: ipvlan l2 on physb" warrenctl config set nv1 lxc.net= lxc.net.1.type=ipvlan lxc.net.1.link=physb \
        lxc.net.1.ipvlan.mode=l2 lxc.net.1.flags=up
if kernel_has ipvlan mode l2; then
        t_ok "start nv1 (ipvlan)" warrenctl start nv1
        t_match "eth1 is an ipvlan in l2 mode" "$(nsenter -t "$(prop nv1 InitPID)" -n ip -d -o link show eth1)" \
                'ipvlan +mode l2'
        t_ok "stop nv1 (ipvlan)" warrenctl stop nv1 -k
else
        t_fail_match "no ipvlan in this kernel: start says so" "no ipvlan support" warrenctl start nv1
        t_eq "nv1 STOPPED (ipvlan)" "$(state nv1)" STOPPED
fi
t_ok "nv1 with both, for the checks below" warrenctl config set nv1 lxc.net= \
        lxc.net.0.type=vlan lxc.net.0.link=physb lxc.net.0.vlan.id=42 \
        lxc.net.1.type=ipvlan lxc.net.1.link=physb lxc.net.1.ipvlan.mode=l2
# Values the config parser refuses, and those only the start's rules refuse.
t_fail_match "vlan.id 5000 refused when set" "vlan.id" warrenctl config set nv1 lxc.net.0.vlan.id=5000
t_fail_match "ipvlan.mode l4 refused when set" "ipvlan.mode" warrenctl config set nv1 lxc.net.1.ipvlan.mode=l4
for bad in "lxc.net.0.vlan.id=4095:vlan.id 0..4094" "lxc.net.0.vlan.id=:vlan.id" \
        "lxc.net.1.ipvlan.isolation=private:isolation 'private'"; do
        kv=${bad%%:*} re=${bad#*:}
        # Issue 12 §6: refused at SetConfig by the rules Start applies.
        t_fail_match "SetConfig refuses $kv, naming it" "$re" warrenctl config set nv1 "$kv"
        t_eq "nv1 STOPPED ($kv)" "$(state nv1)" STOPPED
        t_ok "restore nv1 ($kv)" warrenctl config set nv1 lxc.net.0.vlan.id=42 lxc.net.1.ipvlan.isolation=
done
grant alice warren-create
grant alice warren-manage-own
t_ok "alice creates one" as_user alice warrenctl create ap1 -t busybox
t_fail_match "alice may not give it a phys NIC" "phys|lxc.net.0.type" \
        as_user alice warrenctl config set ap1 lxc.net= lxc.net.0.type=phys lxc.net.0.link=physa
revoke_all alice
t_ok "destroy np1 nv1 ap1" sh -c 'warrenctl destroy np1 && warrenctl destroy nv1 && warrenctl destroy ap1'
ip link del physa

# --- delete: bridge, NAT rule and dnsmasq go ---------------------------------------------
for c in nn1 nn2 ns1 ne1 nu1 na1 na2; do warrenctl destroy $c >/dev/null 2>&1; done
t_ok "delete testbr0 once unused" warrenctl network delete testbr0
t_fail "bridge testbr0 gone" has_bridge testbr0
t_ok "its MASQUERADE rule gone" sh -c '! nft list table ip warren 2>/dev/null | grep -q 192.168.77.0/24'
wait_for "its dnsmasq gone" 5 eval '! has_dnsmasq testbr0'
t_ok "testbr0 not listed" sh -c '! warrenctl network list | grep -q testbr0'
t_fail "its object is gone" "${BUS[@]}" get-property org.warren1 /org/warren1/network/testbr0 org.warren1.Network Name

t_ok "stop nd1" warrenctl stop nd1 -t 20
t_ok "no veth left for nd1" no_veth_of nd1
# The default network comes back as well after a warrend restart.
pkill -9 -x warrend
ip link del warrenbr0
t_fail "warrenbr0 deleted behind warrend's back" has_bridge warrenbr0
t_ok "any bus call re-activates warrend" "${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager ListNetworks
wait_for "warrenbr0 re-created" 10 has_bridge warrenbr0
t_match "with 10.0.3.1/24" "$(ip -o -4 addr show dev warrenbr0)" 'inet 10\.0\.3\.1/24 '
t_ok "start nd1 again" warrenctl start nd1
wait_for "nd1 gets a 10.0.3.x lease again" 20 has_addr nd1 '^10\.0\.3\.'
t_ok "stop nd1" warrenctl stop nd1 -k
t_ok "destroy nd1" warrenctl destroy nd1
t_ok "delete warrenbr0" warrenctl network delete warrenbr0
t_fail "warrenbr0 gone" has_bridge warrenbr0
t_ok "MASQUERADE for 10.0.3.0/24 gone" sh -c '! nft list table ip warren 2>/dev/null | grep -q 10.0.3.0/24'
t_eq "no veth at all on the host" "$(ip -o link show type veth | wc -l)" 0
t_ok "all destroyed" test -z "$(ls -A /var/lib/warren/containers)"
finish
