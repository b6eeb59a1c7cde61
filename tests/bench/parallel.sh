#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# N busybox containers (no network) started at once, warren beside LXC,
# in one run, alternating:
#   warren       N `warrenctl start NAME` processes at once, all waited for
#   warren-one   one `warrenctl start NAME1 ... NAMEN` (one connection, all calls at once)
#   lxc          N `lxc-start -n NAME -d` processes at once, then `lxc-wait -s RUNNING` for each
# Each round ends with all of them stopped (not timed). Prints medians and
# ratios, the machine's load and the kernel's cgroup-v1 move cost measured
# in the same run; never fails on speed.
#   tests/bench/parallel.sh [BUILD_DIR] [ROUNDS] [N] [INIT]
# INIT (default /sbin/init, busybox's, which runs its rcS, getty and sh) is
# what both managers start in every container: "/bin/sleep 100000" leaves
# out the containers' own boot work, so that the ratio is the managers'.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-5}
n=${3:-100}
init=${4:-/sbin/init}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$rounds" "$n" "$init"
fi
for tool in lxc-start lxc-wait lxc-stop; do
        command -v $tool >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh installs the peers)"; exit 1; }
done

# Root's containers are limited like everyone's (limit.running): not here.
printf 'limit.containers = 1000\nlimit.running = 1000\n' >/etc/warren/warren.conf
warrenctl create p0 -t busybox --config lxc.net.0.type=empty --config "lxc.init.cmd=$init" >/dev/null
rootfs=/var/lib/warren/containers/p0/rootfs
names=()
for ((i = 0; i < n; i++)); do
        names+=("p$i")
        ((i == 0)) || warrenctl create "p$i" -t busybox --config lxc.net.0.type=empty --config "lxc.init.cmd=$init" >/dev/null
        mkdir -p "/var/lib/lxc/l$i"
        cat >"/var/lib/lxc/l$i/config" <<EOC
lxc.rootfs.path = dir:$rootfs
lxc.uts.name = l$i
lxc.net.0.type = empty
lxc.tty.max = 4
lxc.pty.max = 1024
lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed
lxc.signal.halt = SIGUSR2
lxc.init.cmd = $init
EOC
done
# The LXC containers share p0's rootfs: busybox init writes nothing there.

# Microseconds, read in this shell: a $(...) would fork, and the fork would be timed.
declare -A samples
settle() { sleep 0.5; }
run() {
        local name=$1 t0 t1
        shift
        settle
        t0=${EPOCHREALTIME/./}
        "$@"
        t1=${EPOCHREALTIME/./}
        samples[$name]+="$((t1 - t0)) "
}
warren_parallel() {
        local pids=() name
        for name in "${names[@]}"; do
                warrenctl start "$name" &
                pids+=($!)
        done
        wait "${pids[@]}"
}
warren_one() { warrenctl start "${names[@]}"; }
warren_stop() { warrenctl stop -k "${names[@]}" >/dev/null; }
lxc_parallel() {
        local i pids=()
        for ((i = 0; i < n; i++)); do
                lxc-start -n "l$i" -d &
                pids+=($!)
        done
        wait "${pids[@]}"
        for ((i = 0; i < n; i++)); do lxc-wait -n "l$i" -s RUNNING -t 30; done
}
lxc_stop() {
        local i
        for ((i = 0; i < n; i++)); do lxc-stop -n "l$i" -k & done
        wait
}
move_cg=""
for h in pids memory cpu; do
        [[ -e /sys/fs/cgroup/$h/cgroup.procs ]] && { move_cg=/sys/fs/cgroup/$h/warren-bench-move; break; }
done
[[ -n $move_cg ]] && mkdir -p "$move_cg"
cycle_move() { (echo "$BASHPID" >"$move_cg/cgroup.procs"); }
cycle_subshell() { (:); }

warren_parallel >/dev/null 2>&1; warren_stop
lxc_parallel >/dev/null 2>&1; lxc_stop >/dev/null 2>&1
for ((r = 0; r < rounds; r++)); do
        run warren warren_parallel
        warren_stop
        run warren-one warren_one
        warren_stop
        run lxc lxc_parallel
        lxc_stop >/dev/null 2>&1
        if [[ -n $move_cg ]]; then
                for ((k = 0; k < 5; k++)); do
                        run move cycle_move
                        run subshell cycle_subshell
                done
        fi
done
[[ -n $move_cg ]] && rmdir "$move_cg"

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A med
printf '%-12s %12s   (%d containers, %d rounds, alternating, init: %s)\n' "start all" "median ms" "$n" "$rounds" "$init"
for k in warren warren-one lxc; do
        med[$k]=$(median "${samples[$k]}")
        printf '%-12s %12.1f\n' "$k" "$(awk -v m="${med[$k]}" 'BEGIN {print m/1000}')"
done
ratio() { awk -v a="${med[$1]}" -v b="${med[$2]}" 'BEGIN {printf "%.2f", a/b}'; }
echo "warren/lxc     $(ratio warren lxc)   (target <= 0.5)"
echo "warren-one/lxc $(ratio warren-one lxc)"
if [[ -n $move_cg ]]; then
        mv=$(awk -v a="$(median "${samples[move]}")" -v b="$(median "${samples[subshell]}")" 'BEGIN {printf "%.2f", (a-b)/1000}')
        echo "kernel: one cgroup-v1 move costs $mv ms here"
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), cpu pressure: $(head -1 /proc/pressure/cpu 2>/dev/null)"
for name in "${names[@]}"; do warrenctl destroy "$name" >/dev/null; done
