#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Clone, snapshot and export of one Debian minbase rootfs (mmdebstrap
# --variant=minbase, ~170 MB), warren beside its peers on the same rootfs,
# interleaved in one run so they share the machine's state:
#   clone     warrenctl copy          | lxc-copy -N (rsync) | tar -c | tar -x | cp -a
#   snapshot  warrenctl snapshot      | lxc-snapshot
#   export    warrenctl export (xz)   | tar -cJf (xz, XZ_OPT=-T0, the same threads)
#             warrenctl export (zstd) | tar --zstd -cf
# Wall times include the bus round trips and job signals (warrenctl waits for
# JobRemoved). Everything runs in the integration sandbox, whose state dirs
# are tmpfs: all copies are in memory, peers' too (/var/lib/lxc there is a
# tmpfs overlay). Prints medians of $RUNS (default 5) and the ratios. A
# benchmark, not a timed test: it never fails on speed. xz at level 6 takes
# minutes for this rootfs on two cores: the xz pair runs $XZ_RUNS times
# (default 1).
#   tests/bench/data.sh [BUILD_DIR]
#   BENCH_DEBIAN_TAR: the rootfs tarball (default /var/tmp/warren-bench-debian-minbase.tar,
#   built once with mmdebstrap from the mirror in /etc/apt/sources.list.d/debian.sources)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
runs=${RUNS:-5}
xz_runs=${XZ_RUNS:-1}
tarball=${BENCH_DEBIAN_TAR:-/var/tmp/warren-bench-debian-minbase.tar}

if [[ -z ${WARREN_SANDBOX:-} ]]; then
        for tool in mmdebstrap lxc-copy lxc-snapshot rsync zstd xz; do
                command -v $tool >/dev/null || { echo "bench: $tool missing (scripts/install-deps.sh installs the peers)"; exit 1; }
        done
        if [[ ! -s $tarball ]]; then
                mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
                echo "# building $tarball with mmdebstrap --variant=minbase (once)"
                mmdebstrap --variant=minbase --format=tar bookworm "$tarball.tmp" ${mirror:+"$mirror"} >/dev/null 2>&1
                mv "$tarball.tmp" "$tarball"
        fi
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- env BENCH_DEBIAN_TAR="$tarball" RUNS="$runs" XZ_RUNS="$xz_runs" "$0" "$build"
fi

C=/var/lib/warren/containers
work=$(mktemp -d /var/tmp/warren-bench-data.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
warrenctl create deb -t local -- "$tarball" >/dev/null
warrenctl config set deb lxc.net= lxc.net.0.type=empty >/dev/null
rootfs=$C/deb/rootfs
echo "# rootfs: $(du -sm "$rootfs" | cut -f1) MB, $(find "$rootfs" | wc -l) entries, $(stat -f -c %T "$rootfs"); $runs runs each ($xz_runs for xz); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# LXC's container with the same rootfs (lxc-copy and lxc-snapshot copy it with
# rsync). LXC wants the container's name in its rootfs path: a copy, untimed.
mkdir -p /var/lib/lxc/lxcdeb
cp -a "$rootfs" /var/lib/lxc/lxcdeb/rootfs
cat >/var/lib/lxc/lxcdeb/config <<EOC
lxc.rootfs.path = dir:/var/lib/lxc/lxcdeb/rootfs
lxc.uts.name = lxcdeb
lxc.net.0.type = empty
EOC

# Microseconds, read in this shell: a $(...) would fork, and the fork would be timed.
declare -A times
run() { # NAME CMD...: one timed run, ms appended to times[NAME]
        local name=$1 a b
        shift
        a=${EPOCHREALTIME/./}
        "$@" >/dev/null 2>&1 || { echo "bench: $name failed: $*" >&2; exit 1; }
        b=${EPOCHREALTIME/./}
        times[$name]+="$(((b - a) / 1000)) "
}
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

clone_warren() { warrenctl copy deb w1; }
clone_lxc() { lxc-copy -n lxcdeb -N l1; }
clone_tar() { mkdir "$work/t1" && tar -C "$rootfs" --numeric-owner --xattrs --acls -cf - . | tar -C "$work/t1" --numeric-owner --xattrs --acls -xpf -; }
clone_cp() { cp -a "$rootfs" "$work/c1"; }
snap_warren() { warrenctl snapshot deb create; }
snap_lxc() { lxc-snapshot -n lxcdeb; }
export_warren() { warrenctl export deb --split "$work/e1"; }
export_tar() { XZ_OPT=-T0 tar -C "$rootfs" --numeric-owner -cJf "$work/e2.tar.xz" .; }
export_warren_zstd() { warrenctl export deb -o "$work/e3.tar.zst" --compression zstd; }
export_tar_zstd() { tar -C "$rootfs" --numeric-owner --zstd -cf "$work/e4.tar.zst" .; }
cleanup() {
        warrenctl destroy w1 >/dev/null 2>&1 || true
        lxc-destroy -n l1 >/dev/null 2>&1 || true
        rm -rf "$work/t1" "$work/c1" "$work"/e*
        rm -rf "$C/deb/snaps" /var/lib/lxc/lxcdeb/snaps
}

cleanup
for ((i = 0; i < runs; i++)); do
        run clone_warren clone_warren
        run clone_lxc clone_lxc
        run clone_tar clone_tar
        run clone_cp clone_cp
        run snap_warren snap_warren
        run snap_lxc snap_lxc
        if ((i < xz_runs)); then
                run export_warren export_warren
                run export_tar export_tar
        fi
        run export_warren_zstd export_warren_zstd
        run export_tar_zstd export_tar_zstd
        cleanup
done
# The exports hold the same files: compare their sizes once.
export_warren_zstd >/dev/null && export_tar_zstd >/dev/null
echo "# zstd export sizes: warren $(du -k "$work/e3.tar.zst" | cut -f1) KiB (rootfs/ plus metadata), tar $(du -k "$work/e4.tar.zst" | cut -f1) KiB"

declare -A med
for k in "${!times[@]}"; do med[$k]=$(median "${times[$k]}"); done
ratio() { awk -v a="${med[$1]}" -v b="${med[$2]}" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-22s %8s   %s\n' "operation" "median" "runs (ms)"
for k in clone_warren clone_lxc clone_tar clone_cp snap_warren snap_lxc export_warren export_tar export_warren_zstd export_tar_zstd; do
        printf '%-22s %6s ms   %s\n' "$k" "${med[$k]}" "${times[$k]}"
done
echo "clone:    warren/lxc-copy $(ratio clone_warren clone_lxc)  warren/tar|tar $(ratio clone_warren clone_tar)  warren/cp -a $(ratio clone_warren clone_cp)"
echo "snapshot: warren/lxc-snapshot $(ratio snap_warren snap_lxc)"
echo "export:   warren/tar -cJf $(ratio export_warren export_tar)  zstd: warren/tar --zstd $(ratio export_warren_zstd export_tar_zstd)"
