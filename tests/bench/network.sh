#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start -> DHCP address visible on the bus: a busybox container with a veth
# on a managed network (bridge + dnsmasq), whose rcS runs udhcpc. Times,
# per round, through the bus:
#   start    warrenctl start (returns at RUNNING)
#   address  from before the start until IPv4Addresses shows the lease
#   lease    the part of it after warrenctl start returned
# then stops it (-k). Prints the medians (and the cost of one property read,
# the resolution of the polling). A benchmark, not a timed test: it never
# fails on speed. Runs in the integration sandbox (its own network namespace).
#   tests/bench/network.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-10}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$rounds"
fi

net=wbench
ct=netbench
warrenctl network create $net --ipv4 10.79.0.1/24 --dhcp >/dev/null
warrenctl create $ct -t busybox >/dev/null
warrenctl config set $ct lxc.net.0.link=$net >/dev/null

path=/org/warren1/container/$ct
addresses() { busctl --system get-property org.warren1 "$path" org.warren1.Container IPv4Addresses; }
# Microseconds, read in this shell: a $(...) would fork, and the fork would be timed.
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1000 }'; }

starts="" addrs="" leases="" polls=""
for ((i = 0; i <= rounds; i++)); do
        t0=${EPOCHREALTIME/./}
        warrenctl start $ct >/dev/null
        t1=${EPOCHREALTIME/./}
        n=0
        until [[ $(addresses) == *'"10.79.0.'* ]]; do
                n=$((n + 1))
                if ((${EPOCHREALTIME/./} - t0 > 15000000)); then
                        echo "bench: no DHCP address after 15 s: $(addresses)" >&2
                        warrenctl attach $ct -- cat /var/log/udhcpc.eth0.log >&2 || true
                        exit 1
                fi
        done
        t2=${EPOCHREALTIME/./}
        warrenctl stop -k $ct >/dev/null
        ((i == 0)) && continue # warm-up: activation, page cache, the first lease
        starts+="$((t1 - t0)) "
        addrs+="$((t2 - t0)) "
        leases+="$((t2 - t1)) "
        polls+="$n "
done
p0=${EPOCHREALTIME/./}
for ((i = 0; i < 20; i++)); do addresses >/dev/null; done
poll_us=$(((${EPOCHREALTIME/./} - p0) / 20))

echo "network bench: $rounds rounds (+1 warm-up), veth on a managed bridge, dnsmasq DHCP, busybox udhcpc"
echo "  start (warrenctl start)              median $(median <<<"$starts") ms"
echo "  start -> address in IPv4Addresses    median $(median <<<"$addrs") ms"
echo "    of which after start returned      median $(median <<<"$leases") ms"
echo "  one IPv4Addresses read (busctl)      $(awk -v u=$poll_us 'BEGIN { printf "%.1f", u / 1000 }') ms (polling resolution; median $(tr ' ' '\n' <<<"$polls" | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }') reads per round)"
warrenctl destroy $ct >/dev/null
warrenctl network delete $net >/dev/null
