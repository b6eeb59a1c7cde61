#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start -> DHCP address visible on the bus: a busybox container with a veth
# on a managed network (dnsmasq), whose rcS runs udhcpc. Times, per round:
#   start    warrenctl start (returns at RUNNING)
#   address  from the start until IPv4Addresses shows the lease
# then stops it (-k). Prints the medians. A benchmark, not a timed test: it
# never fails on speed.
#   tests/bench/network.sh [BUILD_DIR] [ROUNDS]
# Needs the network verbs of warrenctl ("network create NAME KEY=VALUE...",
# "network delete NAME") and the Container.IPv4Addresses property.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-10}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$rounds"
fi

net=wbench
ct=netbench
warrenctl network create $net ipv4.address=10.79.0.1/24 dhcp=true >/dev/null ||
        { echo "bench: 'warrenctl network create' failed (is the Network API wired up?)" >&2; exit 1; }
warrenctl create $ct -t busybox >/dev/null
warrenctl config set $ct lxc.net.0.type=veth lxc.net.0.link=$net lxc.net.0.flags=up >/dev/null

# Bench scaffolding inside the rootfs: udhcpc applies the lease itself.
rootfs=/var/lib/warren/containers/$ct/rootfs
cat >"$rootfs/etc/udhcpc.sh" <<'EOS'
#!/bin/busybox sh
case "$1" in bound|renew) /bin/busybox ip addr add "$ip/${mask:-24}" dev "$interface" ;; esac
exit 0
EOS
chmod 755 "$rootfs/etc/udhcpc.sh"
sed -i 's|^exit 0$|/bin/busybox udhcpc -b -i eth0 -s /etc/udhcpc.sh -t 20 -T 1 >/dev/null 2>\&1\nexit 0|' \
        "$rootfs/etc/init.d/rcS"
grep -q udhcpc "$rootfs/etc/init.d/rcS" || { echo "bench: could not patch rcS" >&2; exit 1; }

path=/org/warren1/container/$ct
addresses() { busctl --system get-property org.warren1 "$path" org.warren1.Container IPv4Addresses; }
now() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'; }

starts="" leases=""
for ((i = 0; i <= rounds; i++)); do
        t0=$(now)
        warrenctl start $ct >/dev/null
        t1=$(now)
        until [[ $(addresses) == *10.79.0.* ]]; do
                (($(now) - t0 > 10000000)) && { echo "bench: no DHCP address after 10 s: $(addresses)" >&2; exit 1; }
                sleep 0.002
        done
        t2=$(now)
        warrenctl stop -k $ct >/dev/null
        ((i == 0)) && continue # warm-up
        starts+="$((t1 - t0)) "
        leases+="$((t2 - t0)) "
done

echo "network bench: $rounds rounds, veth on a managed bridge, dnsmasq DHCP"
echo "  start (warrenctl start)              median $(median <<<"$starts") ms"
echo "  start -> address in IPv4Addresses    median $(median <<<"$leases") ms"
warrenctl destroy $ct >/dev/null
warrenctl network delete $net >/dev/null
