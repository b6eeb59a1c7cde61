#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What a warrenctl process costs before it does anything, beside the peers
# a script could call instead, interleaved in one run:
#   exec     warrenctl --version       vs  busctl --version, lxc-ls --version
#   call     warrenctl list (one ListContainers round trip; names, as lxc-ls)
#            vs  busctl call ... ListContainers
#   libs     how many shared objects each one maps at start
# warrenctl loads json-glib/GLib, libsmartcols and libarchive only when it
# first prints a table or JSON or makes a tar stream (cli/lazy-libs.c); this
# bench shows what that saves. Prints medians and ratios; a benchmark, not
# a timed test: it never fails on speed.
#   tests/bench/cli.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-50}
if [[ -z ${WARREN_SANDBOX:-} ]]; then
        exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- "$0" "$build" "$rounds"
fi

# Microseconds, read in this shell: a $(...) would fork, and the fork would be timed.
declare -A samples
run() { # NAME CMD...
        local name=$1 t0 t1
        shift
        t0=${EPOCHREALTIME/./}
        "$@" >/dev/null 2>&1 || { echo "bench: $name failed: $*" >&2; exit 1; }
        t1=${EPOCHREALTIME/./}
        samples[$name]+="$((t1 - t0)) "
}
have_lxc=0
command -v lxc-ls >/dev/null && have_lxc=1

warrenctl list >/dev/null # activates warrend
for ((i = 0; i < rounds; i++)); do
        run warrenctl-exec warrenctl --version
        run busctl-exec busctl --version
        ((have_lxc)) && run lxc-ls-exec lxc-ls --version
        run warrenctl-call warrenctl list
        run busctl-call busctl --system call org.warren1 /org/warren1 org.warren1.Manager ListContainers
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
libs() { # the shared objects a program maps at start
        local n
        n=$(LD_TRACE_LOADED_OBJECTS=1 "$@" 2>/dev/null | grep -c '=>' || true)
        echo "$n"
}
declare -A med
printf '%-16s %10s %6s   (%d rounds, interleaved)\n' "what" "median ms" "libs" "$rounds"
for n in warrenctl-exec busctl-exec lxc-ls-exec warrenctl-call busctl-call; do
        [[ -n ${samples[$n]:-} ]] || continue
        med[$n]=$(median "${samples[$n]}")
        case $n in
        warrenctl-*) l=$(libs "$(command -v warrenctl)") ;;
        busctl-*) l=$(libs "$(command -v busctl)") ;;
        lxc-ls-*) l=$(libs "$(command -v lxc-ls)") ;;
        esac
        printf '%-16s %10.2f %6s\n' "$n" "$(awk -v m="${med[$n]}" 'BEGIN {print m/1000}')" "$l"
done
ratio() { awk -v a="${med[$1]}" -v b="${med[$2]}" 'BEGIN {printf "%.2f", a/b}'; }
echo "warrenctl/busctl exec   $(ratio warrenctl-exec busctl-exec)"
echo "warrenctl/busctl call   $(ratio warrenctl-call busctl-call)"
((have_lxc)) && echo "warrenctl/lxc-ls exec   $(ratio warrenctl-exec lxc-ls-exec)"
exit 0
