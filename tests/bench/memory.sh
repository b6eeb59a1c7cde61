#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What running busybox containers cost in memory beside their peer, in one
# run: the PSS and RSS (/proc/PID/smaps_rollup, kB) of
#   warren   each container's warren-monitor, and the attach helper it
#            keeps in the container (a copy of the monitor: they share pages)
#   lxc      each lxc-start monitor ("[lxc monitor]"), same rootfs, no network
# with N containers of each running (PSS splits shared pages among the
# processes that map them: more monitors, less each), and the libraries a
# monitor maps. Measured once warrend's warm monitors are all back (they
# map the same binary). A benchmark, not a timed test: it never fails on
# size.
#   tests/bench/memory.sh [BUILD_DIR] [N]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
count=${2:-1}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$count"
fi

libs() {
        awk '$6 ~ /\.so/ { n = split($6, p, "/"); print p[n] }' "/proc/$1/maps" | sort -u | tr '\n' ' '
}

declare -A sum
report() { # LABEL NAME PID: one read of its smaps_rollup
        local -A v
        local k val
        while read -r k val _; do
                v[${k%:}]=$val
        done <"/proc/$3/smaps_rollup"
        printf '%-14s %-8s PSS %5s kB (anon %4s, file %4s)  RSS %5s kB\n' "$1" "$2" \
                "${v[Pss]}" "${v[Pss_Anon]}" "${v[Pss_File]}" "${v[Rss]}"
        sum[$1.Pss]=$((${sum[$1.Pss]:-0} + v[Pss]))
        sum[$1.Rss]=$((${sum[$1.Rss]:-0} + v[Rss]))
}

mean() { # LABEL
        printf '%-14s mean of %d: PSS %5d kB, RSS %5d kB\n' "$1" "$count" $((sum[$1.Pss] / count)) \
                $((sum[$1.Rss] / count))
}

POOL_SIZE=${POOL_SIZE:-2}
pool_full() {
        local i
        for ((i = 0; i < 500; i++)); do
                (($(ls /run/warren/pool/*/control 2>/dev/null | wc -l) >= POOL_SIZE)) && return 0
                sleep 0.01
        done
        echo "bench: the warm monitors did not come back (${POOL_SIZE} expected)" >&2
}

warrenctl create mem0 -t busybox >/dev/null
warrenctl config set mem0 lxc.net= lxc.net.0.type=empty >/dev/null
rootfs=/var/lib/warren/containers/mem0/rootfs
for ((i = 1; i < count; i++)); do
        warrenctl copy mem0 "mem$i" >/dev/null
done
for ((i = 0; i < count; i++)); do
        warrenctl start "mem$i"
done

have_lxc=0
if command -v lxc-start >/dev/null; then
        have_lxc=1
        for ((i = 0; i < count; i++)); do
                mkdir -p "/var/lib/lxc/lxcmem$i"
                cat >"/var/lib/lxc/lxcmem$i/config" <<EOC
lxc.rootfs.path = dir:$rootfs
lxc.uts.name = lxcmem$i
lxc.net.0.type = empty
lxc.tty.max = 4
lxc.pty.max = 1024
lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed
lxc.signal.halt = SIGUSR2
lxc.init.cmd = /sbin/init
EOC
                lxc-start -n "lxcmem$i" -d
                lxc-wait -n "lxcmem$i" -s RUNNING
        done
fi

# Past the starts: what stays resident while the containers run.
pool_full
sleep 1
for ((i = 0; i < count; i++)); do
        mon=$(pgrep -f "warren-monitor.*--name mem$i( |$)" | head -n 1)
        helper=$(pgrep -x -f "warren-attach mem$i" | head -n 1 || true)
        report warren-monitor "mem$i" "$mon"
        [[ -n $helper ]] && report warren-attach "mem$i" "$helper"
done
mean warren-monitor
[[ -n ${sum[warren-attach.Pss]:-} ]] && mean warren-attach
echo "  libraries: $(libs "$mon")"
if ((have_lxc)); then
        for ((i = 0; i < count; i++)); do
                lxcmon=$(pgrep -f "^\[lxc monitor\] .* lxcmem$i\$" | head -n 1)
                report "lxc monitor" "lxcmem$i" "$lxcmon"
        done
        mean "lxc monitor"
        echo "  libraries: $(libs "$lxcmon")"
        echo "warren/lxc monitor PSS: $(awk -v w="${sum[warren-monitor.Pss]}" -v l="${sum[lxc monitor.Pss]}" 'BEGIN { printf "%.2f", w / l }')"
        for ((i = 0; i < count; i++)); do
                lxc-stop -n "lxcmem$i" -k
        done
else
        echo "lxc: not installed, no comparison"
fi
for ((i = 0; i < count; i++)); do
        warrenctl stop "mem$i" -k >/dev/null
done
