#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What warren's processes hold in memory, beside LXC's monitor:
#   warrend idle      a fresh start (bus activation by `warrenctl list`),
#                     then after a data job (a copy, run by warren-worker)
#   warren-monitor    of a running busybox container (no network)
#   lxc monitor       "[lxc monitor]" of Debian's LXC on the same rootfs
# RSS is /proc/PID/status VmRSS; PSS is /proc/PID/smaps_rollup Pss (shared
# pages divided among their users), with the private part and the number of
# shared libraries mapped. Prints KiB; a benchmark, it never fails on size.
#   tests/bench/daemon-memory.sh [BUILD_DIR]   (monitors beside LXC: memory.sh)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build"
fi

kib() { awk -v k="$2" '$1 == k":" {print $2; exit}' "$1"; }
libs() { awk '$6 ~ /\.so/ {print $6}' "/proc/$1/maps" | sort -u | wc -l; }
report() {
        local what=$1 pid=$2
        local rss pss priv
        rss=$(kib "/proc/$pid/status" VmRSS)
        pss=$(kib "/proc/$pid/smaps_rollup" Pss)
        priv=$(($(kib "/proc/$pid/smaps_rollup" Private_Clean) + $(kib "/proc/$pid/smaps_rollup" Private_Dirty)))
        printf '%-30s %8s %8s %8s %6s\n' "$what" "$rss" "$pss" "$priv" "$(libs "$pid")"
}
warrend_pid() {
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                GetConnectionUnixProcessID s org.warren1 | awk '{print $2}'
}

printf '%-30s %8s %8s %8s %6s\n' "process" "RSS KiB" "PSS KiB" "private" "libs"
warrenctl list >/dev/null
sleep 1 # the warm monitors' spawn settles
report "warrend idle (fresh)" "$(warrend_pid)"

warrenctl create mem -t busybox >/dev/null
warrenctl config set mem lxc.net= lxc.net.0.type=empty >/dev/null
warrenctl copy mem mem2 >/dev/null
warrenctl list >/dev/null
report "warrend after a copy job" "$(warrend_pid)"

warrenctl start mem
init=$(busctl --system get-property org.warren1 /org/warren1/container/mem org.warren1.Container InitPID | cut -d' ' -f2)
report "warren-monitor (running)" "$(awk '/^PPid:/ {print $2}' "/proc/$init/status")"

if command -v lxc-start >/dev/null; then
        mkdir -p /var/lib/lxc/lxcmem
        cat >/var/lib/lxc/lxcmem/config <<EOC
lxc.rootfs.path = dir:/var/lib/warren/containers/mem2/rootfs
lxc.uts.name = lxcmem
lxc.net.0.type = empty
lxc.tty.max = 4
lxc.pty.max = 1024
lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed
lxc.signal.halt = SIGUSR2
lxc.init.cmd = /sbin/init
EOC
        lxc-start -n lxcmem -d
        lxc-wait -n lxcmem -s RUNNING
        linit=$(lxc-info -n lxcmem -p -H)
        report "lxc monitor (running)" "$(awk '/^PPid:/ {print $2}' "/proc/$linit/status")"
        lxc-stop -n lxcmem -k
else
        echo "lxc monitor: lxc-start missing (scripts/install-deps.sh installs the peers)"
fi
warrenctl stop -k mem >/dev/null
warrenctl destroy mem mem2 >/dev/null
