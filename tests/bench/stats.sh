#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Container.GetStats of one running busybox container and
# Manager.GetStatsAll over N of them (default 100), as root (no polkit),
# from one client connection (GDBus: the reply stays serialized until
# looked at), beside the floor of a bus round trip
# (org.freedesktop.DBus.Peer.Ping to warrend). Prints medians in µs;
# never fails on speed.
#   tests/bench/stats.sh [BUILD_DIR] [CONTAINERS] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
n=${2:-100}
rounds=${3:-200}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$n" "$rounds"
fi

t0=${EPOCHREALTIME/./}
for ((i = 0; i < n; i++)); do
        warrenctl create "s$i" --config lxc.net.0.type=empty -t busybox >/dev/null
        warrenctl config set "s$i" lxc.net= lxc.net.0.type=empty >/dev/null
        warrenctl start "s$i"
done
t1=${EPOCHREALTIME/./}
echo "bench: $n busybox containers created and started in $(((t1 - t0) / 1000)) ms"

/usr/bin/python3 - "$n" "$rounds" <<'EOF'
import statistics, sys, time
from gi.repository import Gio

n, rounds = int(sys.argv[1]), int(sys.argv[2])
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)

def call(path, iface, method):
    return bus.call_sync("org.warren1", path, iface, method, None, None, Gio.DBusCallFlags.NONE, -1, None)

def bench(name, path, iface, method, check=None):
    for _ in range(10):
        call(path, iface, method)
    samples = []
    for _ in range(rounds):
        t = time.perf_counter_ns()
        r = call(path, iface, method)
        samples.append((time.perf_counter_ns() - t) / 1000)
    if check:
        check(r.unpack()[0])
    samples.sort()
    print("%-34s %9.0f %9.0f %9.0f" % (name, statistics.median(samples), samples[len(samples) // 10],
                                        samples[len(samples) * 9 // 10]))

def all_there(r):
    assert len(r) == n, "GetStatsAll listed %d of %d containers" % (len(r), n)
    assert all("cpu_usec" in s for _, s in r)

print("%-34s %9s %9s %9s   (%d rounds, one GDBus connection, root)" % ("call", "median µs", "p10", "p90", rounds))
bench("Peer.Ping (bus round trip)", "/org/warren1", "org.freedesktop.DBus.Peer", "Ping")
bench("GetStats, 1 container", "/org/warren1/container/s0", "org.warren1.Container", "GetStats",
      lambda r: r["cpu_usec"] >= 0)
bench("GetStatsAll, %d containers" % n, "/org/warren1", "org.warren1.Manager", "GetStatsAll", all_there)
EOF

for ((i = 0; i < n; i++)); do
        warrenctl stop -k "s$i"
done
