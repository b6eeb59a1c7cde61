#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start -> RUNNING -> kill-stop cycle from ONE long-lived client, as front
# ends do (no process start per verb), interleaved in one run:
#   warren   a GDBus connection (python3-gi): Container.Start, Container.Stop(0, kill)
#   lxc      LXC's API through python3-lxc: start, wait RUNNING, stop
# then the same two from C (tests/bench/persistent-client.c: sd-bus and
# liblxc), without the interpreter and GDBus's worker thread in the timed
# path. Both on the same busybox rootfs without network. Also: the kernel's
# cost of one cgroup-v1 move, measured in the same run. Prints medians and
# ratios; never fails on speed. GAP_MS sets the C client's pause before
# each timed run (default 100).
#   tests/bench/persistent.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-30}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$rounds"
fi
/usr/bin/python3 -c 'import lxc, gi' 2>/dev/null ||
        { echo "bench: python3-lxc and python3-gi are needed (scripts/install-deps.sh installs the peers)"; exit 1; }

warrenctl create bench -t busybox >/dev/null
warrenctl config set bench lxc.net= lxc.net.0.type=empty >/dev/null
rootfs=/var/lib/warren/containers/bench/rootfs
mkdir -p /var/lib/lxc/lxcbench
cat >/var/lib/lxc/lxcbench/config <<EOC
lxc.rootfs.path = dir:$rootfs
lxc.uts.name = lxcbench
lxc.net.0.type = empty
lxc.tty.max = 4
lxc.pty.max = 1024
lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed
lxc.signal.halt = SIGUSR2
lxc.init.cmd = /sbin/init
EOC

/usr/bin/python3 - "$rounds" "${POOL_SIZE:-2}" <<'EOF'
import glob, os, sys, time
import lxc
from gi.repository import Gio, GLib

rounds, pool_size = int(sys.argv[1]), int(sys.argv[2])
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
PATH, IFACE = "/org/warren1/container/bench", "org.warren1.Container"
ct = lxc.Container("lxcbench")


def call(method, args=None):
    bus.call_sync("org.warren1", PATH, IFACE, method, args, None, Gio.DBusCallFlags.NONE, 60000, None)


def warren():
    call("Start")
    call("Stop", GLib.Variant("(ub)", (0, True)))


def lxc_cycle():
    if not ct.start() or not ct.wait("RUNNING", 10):
        raise SystemExit("bench: lxc start failed")
    if not ct.stop():
        raise SystemExit("bench: lxc stop failed")
    ct.wait("STOPPED", 10)


# What the kernel charges for one cgroup-v1 move (a forked child moving
# itself), minus a fork doing nothing.
move_cg = next((f"/sys/fs/cgroup/{h}/warren-bench-move" for h in ("pids", "memory", "cpu")
                if os.path.exists(f"/sys/fs/cgroup/{h}/cgroup.procs")), None)
if move_cg:
    os.makedirs(move_cg, exist_ok=True)


def fork_move(move):
    pid = os.fork()
    if pid == 0:
        if move:
            with open(move_cg + "/cgroup.procs", "w") as f:
                f.write(str(os.getpid()))
        os._exit(0)
    os.waitpid(pid, 0)


def pool_full():
    # No timed run may overlap warrend refilling its warm monitors (their
    # cgroup-v1 move holds the kernel's cgroup_mutex).
    for _ in range(200):
        if len(glob.glob("/run/warren/pool/*/control")) >= pool_size:
            return
        time.sleep(0.01)
    print("bench: the warm monitors did not come back", file=sys.stderr)


samples = {"warren": [], "lxc": [], "move": [], "fork": []}
runs = [("warren", warren), ("lxc", lxc_cycle)]
if move_cg:
    runs += [("move", lambda: fork_move(True)), ("fork", lambda: fork_move(False))]
for _ in range(2):  # warm up
    warren()
    lxc_cycle()
for _ in range(rounds):
    for name, fn in runs:
        pool_full()
        time.sleep(0.05)  # no run rides on the previous one's RCU window
        t0 = time.monotonic()
        fn()
        samples[name].append((time.monotonic() - t0) * 1000.0)
if move_cg:
    os.rmdir(move_cg)


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


m = {k: median(v) for k, v in samples.items() if v}
print(f"persistent client cycle  median ms   ({rounds} rounds, interleaved)")
print(f"warren (GDBus)           {m['warren']:8.2f}")
print(f"lxc (python3-lxc)        {m['lxc']:8.2f}")
print(f"warren/lxc     {m['warren'] / m['lxc']:.2f}   (target <= 0.5)")
if move_cg:
    mv = m["move"] - m["fork"]
    print(f"kernel: one cgroup-v1 move costs {mv:.2f} ms here (lxc pays it per start; warren's warm monitors before)")
EOF

# The same cycles from one C process: sd-bus and liblxc.
skip=""
if ! command -v pkg-config >/dev/null; then
        skip="pkg-config is missing"
elif ! pkg-config --exists lxc; then
        skip="pkg-config knows no 'lxc' (liblxc's headers: Debian's lxc-dev)"
elif ! pkg-config --exists libsystemd; then
        skip="pkg-config knows no 'libsystemd' (libsystemd-dev)"
fi
if [[ -n $skip ]]; then
        echo "bench: C client skipped: $skip; scripts/install-deps.sh installs it"
        exit 0
fi
read -ra cflags < <(pkg-config --cflags --libs libsystemd lxc)
cdir=$(mktemp -d "$WARREN_SCRATCH/persistent-client.XXXXXX")
cc -O2 -Wall -Wextra -Werror -o "$cdir/persistent-client" "$src/tests/bench/persistent-client.c" "${cflags[@]}"
echo
"$cdir/persistent-client" bench lxcbench "$rounds" "${POOL_SIZE:-2}" "${GAP_MS:-100}"
rm -rf "$cdir"
