#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/bench/unpack.sh [BUILD_DIR]     (default: build)
#
# Unpack speed of warren's image_unpack() against `tar -xJf`, on a real
# Debian rootfs: bookworm minbase made with mmdebstrap from the mirror in
# the machine's apt sources (~170 MB, ~8,700 entries), packed as an image
# server packs it (xz; BENCH_XZ_THREADS=0, the default, writes several
# blocks as `xz -T0` does, 1 a single block), cached in $BENCH_CACHE
# (default /var/tmp/warren-bench-minbase-T$BENCH_XZ_THREADS.tar.xz).
# BENCH_ROOTFS=usr instead packs ~BENCH_MB (200) MB of this machine's /usr.
# Prints the median of $RUNS (default 5) interleaved wall times for: tar
# -xJf (GNU tar piping through xz), warren with its forked decompressor
# (the default: liblzma's threaded decoder for .xz), and warren
# decompressing in-process (libarchive), then the ratios to tar. A figure,
# never a failure on speed.

set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(realpath -m "${1:-$src/build}")
bin=$build/tests/unit/test-image-unpack
runs=${RUNS:-5}
rootfs=${BENCH_ROOTFS:-minbase}
threads=${BENCH_XZ_THREADS:-0}
mb=${BENCH_MB:-200}
case $rootfs in
minbase) tarball=${BENCH_CACHE:-/var/tmp/warren-bench-minbase-T$threads.tar.xz} ;;
usr) tarball=${BENCH_CACHE:-/var/tmp/warren-bench-usr-${mb}M.tar.xz} ;;
*) echo "unpack.sh: BENCH_ROOTFS must be minbase or usr, not '$rootfs'" >&2; exit 1 ;;
esac

[[ -x $bin ]] || { echo "unpack.sh: $bin not built (ninja -C $build)" >&2; exit 1; }

if [[ ! -s $tarball && $rootfs == minbase ]]; then
        command -v mmdebstrap >/dev/null || { echo "unpack.sh: needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
        mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
        mirror=${mirror:-http://deb.debian.org/debian}
        echo "# building $tarball: mmdebstrap --variant=minbase bookworm from $mirror (once)"
        mmdebstrap --quiet --variant=minbase --format=tar bookworm "$tarball.tar" "$mirror"
        xz -T"$threads" -6 -c "$tarball.tar" >"$tarball.tmp"
        rm -f "$tarball.tar"
        mv "$tarball.tmp" "$tarball"
elif [[ ! -s $tarball ]]; then
        echo "# building $tarball from /usr (~$mb MB, once)"
        list=$(mktemp /tmp/warren-bench-list.XXXXXX)
        # Entries in walk order until the data reaches the size.
        # (awk stops reading early: find's SIGPIPE is expected.)
        { find /usr -xdev \( -type f -o -type d -o -type l \) -printf '%s %P\n' || true; } |
                awk -v max=$((mb * 1000 * 1000)) '{ s += $1; sub(/^[0-9]+ /, ""); print "usr/" $0; if (s > max) exit }' >"$list"
        tar -C / --no-recursion --numeric-owner -cf - -T "$list" | xz -6 -T"$threads" >"$tarball.tmp"
        mv "$tarball.tmp" "$tarball"
        rm -f "$list"
fi

work=$(mktemp -d /var/tmp/warren-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
raw=$(xz -dc "$tarball" | wc -c)
echo "# tarball ($rootfs): $(du -hL "$tarball" | cut -f1) xz, $((raw / 1000000)) MB uncompressed, $(xz -dc "$tarball" | tar -t | wc -l) entries, $(xz -l "$tarball" | awk 'NR==2 {print $2}') xz blocks; $runs runs each; $(nproc) CPUs; load $(cut -d' ' -f1 /proc/loadavg)"

median() {
        sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

time_tar() {
        local d=$work/tar
        rm -rf "$d"
        mkdir "$d"
        local a b
        a=$(date +%s.%N)
        tar -xJf "$tarball" -C "$d" --numeric-owner -p
        b=$(date +%s.%N)
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f\n", b - a }'
}

time_warren() {
        local d=$work/warren
        rm -rf "$d"
        "$bin" --bench "$tarball" "$d" "$1"
}

: >"$work/tar.t"
: >"$work/child.t"
: >"$work/direct.t"
# Warm the page cache with the tarball, then interleave the contenders.
cat "$tarball" >/dev/null
for ((i = 0; i < runs; i++)); do
        time_tar >>"$work/tar.t"
        time_warren child >>"$work/child.t"
        time_warren direct >>"$work/direct.t"
done

# The trees must be the same: names, types, modes, owners, sizes.
(cd "$work/tar" && find . -printf '%p %y %m %U:%G %s\n' | sort) >"$work/tar.ls"
(cd "$work/warren" && find . -printf '%p %y %m %U:%G %s\n' | sort) >"$work/warren.ls"
if cmp -s "$work/tar.ls" "$work/warren.ls"; then
        echo "# trees identical (names, types, modes, owners, sizes)"
else
        echo "# WARNING: trees differ:"
        diff "$work/tar.ls" "$work/warren.ls" | head -n 10 | sed 's/^/#   /'
fi

t=$(median <"$work/tar.t")
c=$(median <"$work/child.t")
d=$(median <"$work/direct.t")
printf '%-40s %8.3f s\n' "tar -xJf (median)" "$t"
printf '%-40s %8.3f s   %.2fx tar\n' "warren, forked decompressor (median)" "$c" "$(awk -v x="$c" -v y="$t" 'BEGIN { print x / y }')"
printf '%-40s %8.3f s   %.2fx tar\n' "warren, in-process xz (median)" "$d" "$(awk -v x="$d" -v y="$t" 'BEGIN { print x / y }')"
