#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Running `true` in a running busybox container, warren beside its peers,
# interleaved in one run:
#   warren     warrenctl attach C -- true (bus round trips, polkit skipped: root)
#   lxc        lxc-attach -n C -- true (Debian's LXC, its own container on the same rootfs)
#   nsenter    nsenter -a -t PID true (the floor: namespaces only)
# Prints medians and ratios; never fails on speed.
#   tests/bench/attach.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-40}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$rounds"
fi
for tool in lxc-start lxc-attach lxc-stop nsenter; do
        command -v $tool >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh installs the peers)"; exit 1; }
done

warrenctl create bench --config lxc.net.0.type=empty -t busybox >/dev/null
warrenctl config set bench lxc.net= lxc.net.0.type=empty >/dev/null
warrenctl start bench
rootfs=/var/lib/warren/containers/bench/rootfs
pid=$(busctl --system get-property org.warren1 /org/warren1/container/bench org.warren1.Container InitPID | cut -d' ' -f2)

mkdir -p /var/lib/lxc/lxcbench
cat >/var/lib/lxc/lxcbench/config <<EOC
lxc.rootfs.path = dir:$rootfs
lxc.uts.name = lxcbench
lxc.net.0.type = empty
lxc.tty.max = 4
lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed
lxc.signal.halt = SIGUSR2
lxc.init.cmd = /sbin/init
EOC
lxc-start -n lxcbench -d
lxc-wait -n lxcbench -s RUNNING

# Microseconds, read in this shell: a $(...) would fork, and the fork would be timed.
declare -A samples
run() {
        local name=$1 t0 t1
        shift
        # Let the kernel settle: a cgroup move (each peer makes some) opens
        # an RCU window in which the next move is free; no run may ride on
        # the previous one's.
        sleep 0.05
        t0=${EPOCHREALTIME/./}
        "$@" </dev/null >/dev/null 2>&1 || { echo "bench: $name failed: $*" >&2; exit 1; }
        t1=${EPOCHREALTIME/./}
        samples[$name]+="$((t1 - t0)) "
}
# What the kernel alone charges for moving one process into the
# container's cgroup-v1 cgroups (an RCU grace period under
# cgroup_threadgroup_rwsem, unless another move happened just before):
# warren and lxc-attach pay it, nsenter (namespaces only) does not. A
# subshell moving itself, minus a subshell doing nothing.
move_cg=""
for h in pids memory cpu; do
        [[ -e /sys/fs/cgroup/$h/cgroup.procs ]] && { move_cg=/sys/fs/cgroup/$h/warren-bench-move; break; }
done
[[ -n $move_cg ]] && mkdir -p "$move_cg"
for i in 1 2 3; do
        warrenctl attach bench -- true; lxc-attach -n lxcbench -- true; nsenter -a -t "$pid" true
done </dev/null >/dev/null 2>&1
for ((i = 0; i < rounds; i++)); do
        run warren warrenctl attach bench -- true
        run lxc lxc-attach -n lxcbench -- true
        run nsenter nsenter -a -t "$pid" true
        if [[ -n $move_cg ]]; then
                run move bash -c 'echo $$ >"$1/cgroup.procs"' _ "$move_cg"
                run subshell bash -c ':'
        fi
done
[[ -n $move_cg ]] && rmdir "$move_cg"

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A med
printf '%-10s %12s   (%d rounds, interleaved)\n' "attach" "median ms" "$rounds"
for n in warren lxc nsenter; do
        med[$n]=$(median "${samples[$n]}")
        printf '%-10s %12.2f\n' "$n" "$(awk -v m="${med[$n]}" 'BEGIN {print m/1000}')"
done
ratio() { awk -v a="${med[$1]}" -v b="${med[$2]}" 'BEGIN {printf "%.2f", a/b}'; }
echo "warren/nsenter $(ratio warren nsenter)   (target <= 1.5)"
echo "warren/lxc     $(ratio warren lxc)   (target < 1)"
if [[ -n $move_cg ]]; then
        med[move]=$(median "${samples[move]}")
        med[subshell]=$(median "${samples[subshell]}")
        mv=$(awk -v a="${med[move]}" -v b="${med[subshell]}" 'BEGIN {printf "%.2f", (a-b)/1000}')
        echo "kernel: one cgroup-v1 move costs $mv ms here (paid by warren and lxc-attach, not by nsenter)"
        echo "warren/nsenter without it $(awk -v w="${med[warren]}" -v n="${med[nsenter]}" -v m="$mv" 'BEGIN {printf "%.2f", (w-m*1000)/n}')"
fi
lxc-stop -n lxcbench -k
warrenctl stop -k bench >/dev/null
warrenctl destroy bench >/dev/null
