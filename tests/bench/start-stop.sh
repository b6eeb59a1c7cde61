#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start -> RUNNING -> stop cycle of one busybox rootfs, warren beside its
# peers, interleaved in one run so they share the machine's state:
#   warren   warrenctl start + warrenctl stop -k (bus round trips, polkit skipped: root)
#   lxc      lxc-start -d + lxc-wait -s RUNNING + lxc-stop -k (Debian's LXC)
#   crun     crun run of /bin/true (minus the nsenter that hides cgroup2's controllers)
#   unshare  unshare -fpmuin --mount-proc chroot ROOTFS /bin/true (the floor)
# Prints each median and the ratios. A benchmark, not a timed test: it
# never fails on speed.
#   tests/bench/start-stop.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-30}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$rounds"
fi

for tool in lxc-start lxc-wait lxc-stop crun unshare; do
        command -v $tool >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh installs the peers)"; exit 1; }
done

warrenctl create bench -t busybox >/dev/null
warrenctl config set bench lxc.net= lxc.net.0.type=empty >/dev/null # as the LXC container below
rootfs=/var/lib/warren/containers/bench/rootfs

# LXC on the same rootfs, no network (like warren's default).
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

bundle=$WARREN_SCRATCH/crun-bundle
mkdir -p "$bundle"
ln -s "$rootfs" "$bundle/rootfs"
(cd "$bundle" && crun spec)
/usr/bin/python3 - "$bundle/config.json" <<'EOP'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"]["readonly"] = False
json.dump(c, open(sys.argv[1], "w"))
EOP

# crun 1.8 refuses a hybrid host whose cgroup2 root has controllers (here
# hugetlb, which other users of this machine's cgroup2 keep busy, so it
# cannot move to a v1 hierarchy). It is shown an empty cgroup.controllers
# instead, in a mount namespace of its own: it then works as on a v1 host
# and pays the same v1 moves as the others. warrend and its monitors keep
# the real view (they run in the sandbox's namespace).
: >"$WARREN_SCRATCH/no-controllers"
crun_ns=$WARREN_SCRATCH/crun-mntns
touch "$crun_ns"
unshare --mount="$crun_ns" --propagation private \
        mount --bind "$WARREN_SCRATCH/no-controllers" /sys/fs/cgroup/unified/cgroup.controllers
crun() { nsenter --mount="$crun_ns" --wd="$PWD" crun "$@"; }
# The cost of that nsenter alone, subtracted from crun's figures.
nsenter_only() { nsenter --mount="$crun_ns" --wd="$PWD" true; }

# Microseconds, read in this shell: a $(...) would fork, and the fork would be timed.
# warrend keeps warm monitors (POOL_SIZE, its --pool-size); it refills them
# once containers are quiet. No timed run, of any tool, may overlap a
# refill (its cgroup-v1 move holds the kernel's cgroup_mutex): wait until
# the pool is full, i.e. every warm monitor listens.
POOL_SIZE=${POOL_SIZE:-2}
pool_full() {
        local i
        for ((i = 0; i < 200; i++)); do
                (($(ls /run/warren/pool/*/control 2>/dev/null | wc -l) >= POOL_SIZE)) && return 0
                sleep 0.01
        done
        echo "bench: the warm monitors did not come back (${POOL_SIZE} expected)" >&2
}
declare -A samples
run() { # NAME CMD...: time one cycle in microseconds
        local name=$1 t0 t1
        shift
        # Let the kernel settle: a cgroup move (each peer makes some) opens
        # an RCU window in which the next move is free; no run may ride on
        # the previous one's.
        pool_full
        sleep 0.05
        t0=${EPOCHREALTIME/./}
        "$@" >/dev/null 2>&1 || { echo "bench: $name failed: $*" >&2; "$@" >&2 || true; exit 1; }
        t1=${EPOCHREALTIME/./}
        samples[$name]+="$((t1 - t0)) "
}
cycle_warren() { warrenctl start bench && warrenctl stop -k bench; }
cycle_lxc() { lxc-start -n lxcbench -d && lxc-wait -n lxcbench -s RUNNING && lxc-stop -n lxcbench -k; }
cycle_crun() { (cd "$bundle" && crun run "ct$RANDOM$RANDOM"); }
cycle_unshare() { unshare -fpmuin --mount-proc chroot "$rootfs" /bin/true; }
# What the kernel alone charges for moving one process into a cgroup-v1
# cgroup (an RCU grace period under cgroup_threadgroup_rwsem, unless
# another move happened just before): warren, LXC and crun each pay it once
# per start on a hybrid host like this one. A subshell moving itself,
# minus a subshell doing nothing.
move_cg=""
for h in pids memory cpu; do
        [[ -e /sys/fs/cgroup/$h/cgroup.procs ]] && { move_cg=/sys/fs/cgroup/$h/warren-bench-move; break; }
done
[[ -n $move_cg ]] && mkdir -p "$move_cg"
cycle_move() { (echo "$BASHPID" >"$move_cg/cgroup.procs"); }
cycle_subshell() { (:); }

# Warm up: activation, page cache.
for i in 1 2; do cycle_warren; cycle_lxc; cycle_crun; cycle_unshare; done >/dev/null 2>&1
for ((i = 0; i < rounds; i++)); do
        run warren cycle_warren
        run lxc cycle_lxc
        run crun cycle_crun
        run nsenter nsenter_only
        run unshare cycle_unshare
        if [[ -n $move_cg ]]; then
                run move cycle_move
                run subshell cycle_subshell
        fi
done
[[ -n $move_cg ]] && rmdir "$move_cg"

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A med
printf '%-10s %12s   (%d rounds, interleaved)\n' "cycle" "median ms" "$rounds"
for n in warren lxc crun nsenter unshare; do
        med[$n]=$(median "${samples[$n]}")
done
# crun's figure without the nsenter that shows it the hybrid host as v1.
med[crun]=$(awk -v c="${med[crun]}" -v n="${med[nsenter]}" 'BEGIN {print c - n}') # medians may be x.5
for n in warren lxc crun unshare; do
        printf '%-10s %12.2f\n' "$n" "$(awk -v m="${med[$n]}" 'BEGIN {print m/1000}')"
done
ratio() { awk -v a="${med[$1]}" -v b="${med[$2]}" 'BEGIN {printf "%.2f", a/b}'; }
echo "warren/lxc     $(ratio warren lxc)   (target <= 0.5)"
echo "warren/crun    $(ratio warren crun)   (target <= 2)"
echo "warren/unshare $(ratio warren unshare)"
if [[ -n $move_cg ]]; then
        med[move]=$(median "${samples[move]}")
        med[subshell]=$(median "${samples[subshell]}")
        mv=$(awk -v a="${med[move]}" -v b="${med[subshell]}" 'BEGIN {printf "%.2f", (a-b)/1000}')
        echo "kernel: one cgroup-v1 move costs $mv ms here (paid once per start by warren, lxc and crun)"
        echo "warren/lxc without it $(awk -v w="${med[warren]}" -v l="${med[lxc]}" -v m="$mv" 'BEGIN {printf "%.2f", (w-m*1000)/(l-m*1000)}')"
fi
warrenctl destroy bench >/dev/null
