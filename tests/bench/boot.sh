#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot time of a real distribution: from Start until systemd says
# `is-system-running` = running, for the same Debian bookworm image
# (tests/fixtures/make-debian-image.sh, systemd + systemd-networkd, DHCP on
# eth0), under warren and under LXC 5, both privileged, each with a veth on
# a bridge whose dnsmasq runs with the same options, in the integration
# sandbox's network namespace. Interleaved rounds:
#   warren   warrenctl start (returns at RUNNING), then
#            warrenctl attach -- systemctl is-system-running --wait
#            (retried until systemd's bus answers)
#   lxc      lxc-start -d (returns once started), then
#            lxc-attach -- systemctl is-system-running --wait (likewise)
# and a clean stop (not timed) between rounds. Prints the medians, the
# ratio and what one attach costs each (part of every figure). A
# benchmark, not a timed test: it never fails on speed.
#   tests/bench/boot.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-10}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        # The image needs the Debian mirror, which the sandbox cannot reach.
        "$src/tests/fixtures/make-debian-image.sh" --variant networkd >/dev/null
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$rounds"
fi

for tool in lxc-start lxc-attach lxc-stop lxc-info; do
        command -v $tool >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh installs the peers)"; exit 1; }
done

arch=$(dpkg --print-architecture)
fix=$WARREN_SCRATCH/boot-bench
mkdir -p "$fix"
"$src/tests/fixtures/make-debian-image.sh" --variant networkd "$fix/server" >/dev/null
mkfifo "$fix/in"
exec {server_fd}<>"$fix/in"
/usr/bin/python3 "$src/tests/fixtures/image-server.py" --root "$fix/server" --arch "$arch" --lifetime 3600 \
        <"$fix/in" >"$fix/port" 2>"$fix/server.err" &
for ((i = 0; i < 200; i++)); do
        port=$(head -n1 "$fix/port" 2>/dev/null)
        [[ $port =~ ^[0-9]+$ ]] && break
        sleep 0.05
done
[[ $port =~ ^[0-9]+$ ]] || { echo "bench: image-server.py did not start: $(cat "$fix/server.err")"; exit 1; }

ct=bootbench
warrenctl create $ct -t download -- -d debian -r bookworm --server "http://127.0.0.1:$port" >/dev/null
rootfs=/var/lib/warren/containers/$ct/rootfs
# warrenbr0 and its dnsmasq exist once a container on it has started.
warrenctl start $ct >/dev/null
warrenctl stop $ct -t 30 >/dev/null

# LXC on the same rootfs, configured as `lxc-create -t download` would from
# this image's meta (its config includes LXC_TEMPLATE_CONFIG/common.conf),
# with a veth on a bridge of its own, served by a dnsmasq started with
# warren's own dnsmasq's arguments (bridge, subnet and files renamed).
br=lxcbench0
ip link add $br type bridge
ip addr add 10.0.4.1/24 dev $br
ip link set $br up
wpid=$(pgrep -x dnsmasq | while read -r p; do
        tr '\0' '\n' <"/proc/$p/cmdline" | grep -qx -- '--interface=warrenbr0' && echo "$p"
done | head -n1)
[[ -n $wpid ]] || { echo "bench: warren's dnsmasq for warrenbr0 not found"; exit 1; }
mapfile -t dargs < <(tr '\0' '\n' <"/proc/$wpid/cmdline" | tail -n +2 |
        sed -e "s/warrenbr0/$br/g" -e 's/10\.0\.3\./10.0.4./g' -e "s|=/run/warren/networks/|=$fix/lxc-|")
dnsmasq "${dargs[@]}" >"$fix/lxc-dnsmasq.log" 2>&1 &
lxc_dnsmasq=$!

mkdir -p /var/lib/lxc/$ct
cat >/var/lib/lxc/$ct/config <<EOF
lxc.include = /usr/share/lxc/config/common.conf
lxc.arch = linux64
lxc.rootfs.path = dir:$rootfs
lxc.uts.name = $ct
lxc.net.0.type = veth
lxc.net.0.link = $br
lxc.net.0.flags = up
lxc.net.0.hwaddr = 10:66:6a:00:04:02
EOF

# Microseconds, read in this shell: a $(...) would fork, and the fork would be timed.
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "%.0f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1000 }'; }

# wait_running ATTACH...: is-system-running --wait through ATTACH, retried
# while systemd's bus is not up yet; fails after 60 s or on another state.
wait_running() {
        local t0 s
        t0=${EPOCHREALTIME/./}
        while :; do
                s=$("$@" systemctl is-system-running --wait 2>&1) && [[ $s == running ]] && return 0
                case $s in
                *"Failed to connect to bus"* | *"System has not been booted"* | "" | offline | initializing | starting) ;;
                *) echo "bench: is-system-running says '$s'" >&2; return 1 ;;
                esac
                ((${EPOCHREALTIME/./} - t0 < 60000000)) || { echo "bench: not running after 60 s: '$s'" >&2; return 1; }
                sleep 0.01
        done
}
w_attach() { warrenctl attach $ct --no-pty -- "$@"; }
l_attach() { lxc-attach -n $ct -- "$@"; }

start_warren() { warrenctl start $ct >/dev/null; }
start_lxc() { lxc-start -n $ct -d; }
stop_warren() { warrenctl stop $ct -t 30 >/dev/null; }
stop_lxc() { lxc-stop -n $ct -t 30; }

declare -A samples
run() { # NAME: one timed boot, then an untimed clean stop
        local name=$1 t0 t1 t2
        sleep 0.2
        t0=${EPOCHREALTIME/./}
        "start_$name" || { echo "bench: $name did not start" >&2; exit 1; }
        t1=${EPOCHREALTIME/./}
        wait_running "${name:0:1}_attach" || { echo "bench: $name did not boot" >&2; exit 1; }
        t2=${EPOCHREALTIME/./}
        samples[$name]+="$((t2 - t0)) "
        samples[$name-start]+="$((t1 - t0)) "
        # systemd's own clock of the same moment (no polling in it): when the
        # manager finished starting up, in µs of the shared realtime clock.
        local fin
        fin=$("${name:0:1}_attach" systemctl show -P FinishTimestamp --timestamp=us+utc)
        fin=$(date -d "$fin" +%s%6N) || { echo "bench: $name: no FinishTimestamp" >&2; exit 1; }
        samples[$name-finish]+="$((fin - t0)) "
        # One attach on the running system: what each figure holds of it.
        t0=${EPOCHREALTIME/./}
        "${name:0:1}_attach" true
        samples[$name-attach]+="$((${EPOCHREALTIME/./} - t0)) "
        "stop_$name" || { echo "bench: $name did not stop" >&2; exit 1; }
}

# Warm up: page cache, dnsmasq's first leases.
run warren
run lxc
samples=()
for ((i = 0; i < rounds; i++)); do
        if ((i % 2)); then
                run lxc
                run warren
        else
                run warren
                run lxc
        fi
done

declare -A med
for n in warren lxc warren-start lxc-start warren-attach lxc-attach warren-finish lxc-finish; do
        med[$n]=$(median <<<"${samples[$n]}")
done
echo "boot bench: debian bookworm (systemd 252, systemd-networkd DHCP on a veth), $rounds rounds (+1 warm-up), interleaved"
for n in warren lxc; do
        printf '  %-7s start -> is-system-running = running  median %5d ms  (start returned at %d ms; one attach %d ms)\n' \
                "$n" "${med[$n]}" "${med[$n-start]}" "${med[$n-attach]}"
done
for n in warren lxc; do
        printf '  %-7s start -> systemd FinishTimestamp        median %5d ms  (systemd'"'"'s clock: no polling)\n' \
                "$n" "${med[$n-finish]}"
done
ratio() { awk -v a="${med[$1]}" -v b="${med[$2]}" 'BEGIN { printf "%.2f", a / b }'; }
echo "  warren/lxc $(ratio warren lxc) as seen by is-system-running, $(ratio warren-finish lxc-finish) by systemd's clock   (goal <= 1)"
echo "  samples ms: warren $(for s in ${samples[warren]}; do printf '%d ' $((s / 1000)); done)"
echo "              lxc    $(for s in ${samples[lxc]}; do printf '%d ' $((s / 1000)); done)"
echo "  dnsmasq for both: ${dargs[*]}"

kill "$lxc_dnsmasq" 2>/dev/null || true
ip link del $br
exec {server_fd}>&-
warrenctl destroy $ct >/dev/null
rm -rf /var/lib/lxc/$ct
