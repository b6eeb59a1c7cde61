#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/integration/run.sh [BUILD_DIR] [TEST...]
#
# Enters one sandbox (sandbox.sh: private namespaces, bus, polkitd, test
# users), runs each tests/integration/test-*.sh (or the TESTs named: a file
# name, with or without test- and .sh, or a unique prefix like 00) in turn with a timeout (default 300 s,
# WARREN_TEST_TIMEOUT, or a "# timeout: N" line in the file), prints each
# file's TAP indented under its name, then one line per file, then
# `integration: N passed, N failed`. Before entering, it makes the fixtures
# that need the network which files name with "# host-fixture: COMMAND"
# lines (the sandbox has none). A file that dies, times out, bails out,
# prints no plan or a wrong one counts one more failure. After the files,
# warrend is stopped cleanly and the daemons' logs are checked for sanitizer
# reports; then the host is checked to be unchanged. Exit status 0 only if
# something ran and nothing failed.
#
# WARREN_INTEGRATION_JOBS=N (default 1) splits the files over N sandboxes
# that run side by side (each has its own cgroup subtree, bus, polkitd and
# users), balanced by each file's "# cost: SECONDS" line (else its
# timeout); their outputs are printed one after the other and summed.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
T_LIB_RUNNER=1
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# ---- inside the sandbox ----

_now_us() {
        echo "${EPOCHREALTIME/./}"
}

_log_sizes() {
        local f
        for f in "$WARREN_LOG_DIR"/*.log; do
                [[ -f $f ]] && echo "$(stat -c %s "$f") $f"
        done
}

# Daemon log lines written since the sizes in $1 were taken, as diagnostics.
_log_since() {
        local size f
        while read -r size f; do
                [[ -n $f ]] || continue
                local new
                new=$(tail -c +"$((size + 1))" "$f" | tail -n 60)
                [[ -n $new ]] || continue
                echo "    # --- ${f##*/} (last lines during this file) ---"
                sed 's/^/    # /' <<<"$new"
        done <<<"$1"
        # Logs that did not exist before.
        for f in "$WARREN_LOG_DIR"/*.log; do
                [[ -f $f ]] || continue
                grep -qF " $f" <<<"$1" && continue
                echo "    # --- ${f##*/} ---"
                tail -n 60 "$f" | sed 's/^/    # /'
        done
}

# Every file starts with no grant: empty every warren-* group.
_reset_grants() {
        local g
        for g in $(getent group | awk -F: '$1 ~ /^warren-/ && $4 != "" { print $1 }'); do
                gpasswd -M '' "$g" >/dev/null
        done
}

RESULTS=()
TOTAL_PASSED=0
TOTAL_FAILED=0
FILE_NO=0

_run_file() {
        local file=$1 name timeout
        name=${file##*/}
        timeout=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$file" | head -n1)
        timeout=${timeout:-${WARREN_TEST_TIMEOUT:-300}}

        local tmp
        tmp=$(mktemp -d "$WARREN_SCRATCH/tmp/${name%.sh}.XXXXXX")
        chmod 1777 "$tmp"
        _reset_grants
        local logs_before
        logs_before=$(_log_sizes)

        echo "# Subtest: $name"
        local t0 st=0
        t0=$(_now_us)
        # timeout makes its own process group: stragglers are killed with it below.
        (
                cd "$tmp" || exit 1
                export TMPDIR=$tmp
                exec timeout --kill-after=10 "$timeout" /bin/bash "$file"
        ) >"$tmp/.tap" 2>&1 </dev/null &
        local tpid=$!
        # Output is read from a file, so a test's leftover background job holding
        # it open cannot stall the runner.
        tail -n +1 -s 0.1 -f --pid="$tpid" "$tmp/.tap" | sed -u 's/^/    /'
        wait "$tpid" || st=$?
        kill -KILL -- "-$tpid" 2>/dev/null

        local secs passed failed problem
        secs=$(( ($(_now_us) - t0) / 100000 ))
        secs="$((secs / 10)).$((secs % 10))"
        tap_judge "$tmp/.tap" "$st" "$timeout"
        passed=$TAP_PASSED
        failed=$TAP_FAILED
        problem=$TAP_PROBLEM
        if ((TAP_SKIPPED > 0)); then
                # Integration tests must not skip (DESIGN.md): a skip is a failure.
                failed=$((failed + TAP_SKIPPED))
                problem="${problem:+$problem; }$TAP_SKIPPED skipped"
        fi

        FILE_NO=$((FILE_NO + 1))
        TOTAL_PASSED=$((TOTAL_PASSED + passed))
        TOTAL_FAILED=$((TOTAL_FAILED + failed))
        local summary="$passed passed, $failed failed, $secs s"
        if ((failed == 0)); then
                echo "ok $FILE_NO - $name ($summary)"
                RESULTS+=("$(printf '%-4s %-40s %s' ok "$name" "$summary")")
        else
                echo "not ok $FILE_NO - $name ($summary)${problem:+: $problem}"
                RESULTS+=("$(printf '%-4s %-40s %s' FAIL "$name" "$summary${problem:+; $problem}")")
                _log_since "$logs_before"
        fi
        rm -rf "$tmp"
}

# Stop warrend so that sanitizers report at its exit, then read the logs.
_check_daemon_logs() {
        S=$WARREN_SCRATCH
        # shellcheck source=sandbox.sh
        . "$HERE/sandbox.sh"
        local stopped=1
        sandbox_stop_warrend || stopped=0
        local pattern='ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer|received signal|did not exit within'
        local hits
        hits=$(grep -hE -B2 -A20 "$pattern" "$WARREN_LOG_DIR"/*.log 2>/dev/null | head -n 200)
        FILE_NO=$((FILE_NO + 1))
        if [[ -z $hits && $stopped == 1 ]]; then
                echo "ok $FILE_NO - daemon logs: no sanitizer report, no crash"
                TOTAL_PASSED=$((TOTAL_PASSED + 1))
                RESULTS+=("$(printf '%-4s %-40s %s' ok "(daemon logs)" "clean")")
        else
                echo "not ok $FILE_NO - daemon logs: sanitizer report, crash or hang"
                sed 's/^/# /' <<<"$hits"
                TOTAL_FAILED=$((TOTAL_FAILED + 1))
                RESULTS+=("$(printf '%-4s %-40s %s' FAIL "(daemon logs)" "sanitizer report, crash or hang")")
        fi
}

_inside() {
        local results=$1
        shift
        echo "# sandbox ready in ${WARREN_SANDBOX_READY_MS} ms; build $WARREN_BUILD"
        local f
        for f in "$@"; do
                _run_file "$f"
        done
        _check_daemon_logs
        echo "1..$FILE_NO"
        echo "# per file:"
        local r
        for r in "${RESULTS[@]}"; do
                echo "#   $r"
        done
        echo "$TOTAL_PASSED $TOTAL_FAILED" >"$results"
}

if [[ ${1:-} == --inside ]]; then
        shift
        _inside "$@"
        exit 0
fi

# ---- outside: pick the files, enter the sandbox, check the host ----

build=${1:-$SRC/build}
(($#)) && shift
files=()
if (($# == 0)); then
        for f in "$HERE"/test-*.sh; do
                [[ -f $f ]] && files+=("$f")
        done
else
        for t in "$@"; do
                found=""
                for c in "$t" "$HERE/$t" "$HERE/$t.sh" "$HERE/test-$t" "$HERE/test-$t.sh"; do
                        if [[ -f $c ]]; then
                                found=$(realpath "$c")
                                break
                        fi
                done
                if [[ -z $found ]]; then
                        # A unique prefix: "00" or "00-harness".
                        matches=("$HERE"/test-"$t"*.sh)
                        [[ ${#matches[@]} == 1 && -f ${matches[0]} ]] && found=${matches[0]}
                fi
                if [[ -z $found ]]; then
                        echo "run.sh: ERROR: no integration test '$t' in $HERE" >&2
                        echo "integration: 0 passed, 1 failed"
                        exit 1
                fi
                files+=("$found")
        done
fi
if ((${#files[@]} == 0)); then
        echo "run.sh: ERROR: no tests/integration/test-*.sh to run" >&2
        echo "integration: 0 passed, 1 failed"
        exit 1
fi

# Fixtures that need the network (the sandbox has none), named by a file's
# "# host-fixture: COMMAND" lines (run from the source tree), are made here
# first; they cache, and a file missing one says so itself.
for f in "${files[@]}"; do
        sed -n 's/^# host-fixture: *//p' "$f" | while read -r cmd; do
                (cd "$SRC" && bash -c "$cmd" >/dev/null </dev/null) || echo "run.sh: host fixture failed: $cmd" >&2
        done
done

jobs=${WARREN_INTEGRATION_JOBS:-1}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || jobs=1
((jobs > ${#files[@]})) && jobs=${#files[@]}
if ((jobs > 1)); then
        # Longest first, each to the least loaded sandbox.
        _cost() {
                local c
                c=$(sed -n 's/^# cost: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n1)
                [[ -n $c ]] || c=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n1)
                echo "${c:-60}"
        }
        declare -a load groups
        for ((j = 0; j < jobs; j++)); do
                load[j]=0
                groups[j]=""
        done
        while read -r c f; do
                best=0
                for ((j = 1; j < jobs; j++)); do
                        ((load[j] < load[best])) && best=$j
                done
                load[best]=$((load[best] + c))
                groups[best]+="$f "
        done < <(for f in "${files[@]}"; do echo "$(_cost "$f") $f"; done | sort -rn -k1,1)
        outdir=$(mktemp -d /tmp/warren-integration-jobs.XXXXXX)
        trap 'rm -rf "$outdir"' EXIT
        pids=()
        for ((j = 0; j < jobs; j++)); do
                # Files keep their order within a sandbox.
                mapfile -t g < <(tr ' ' '\n' <<<"${groups[j]}" | sed '/^$/d' | sort)
                WARREN_INTEGRATION_JOBS=1 "$HERE/run.sh" "$build" "${g[@]}" >"$outdir/$j.out" 2>&1 &
                pids+=($!)
        done
        rc=0
        for ((j = 0; j < jobs; j++)); do
                wait "${pids[j]}" || rc=1
        done
        passed=0
        failed=0
        for ((j = 0; j < jobs; j++)); do
                echo "# ---- sandbox $((j + 1)) of $jobs ----"
                grep -v '^integration: ' "$outdir/$j.out"
                line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed' "$outdir/$j.out" | tail -n1)
                if [[ $line =~ ^integration:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
                        passed=$((passed + BASH_REMATCH[1]))
                        failed=$((failed + BASH_REMATCH[2]))
                else
                        echo "not ok - sandbox $((j + 1)) printed no result"
                        failed=$((failed + 1))
                fi
        done
        echo "integration: $passed passed, $failed failed"
        ((failed == 0 && passed > 0 && rc == 0))
        exit
fi

# shellcheck source=sandbox.sh
. "$HERE/sandbox.sh"
results=$(mktemp /tmp/warren-integration-results.XXXXXX)
trap 'rm -f "$results" "${SANDBOX_NAMES_FILE:-}"; [[ -n ${SANDBOX_SCRATCH:-} ]] && rmdir "$SANDBOX_SCRATCH" 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rc=0
sandbox_run --build "$build" --src "$SRC" --quiet -- /bin/bash "$HERE/run.sh" --inside "$results" "${files[@]}" || rc=$?

passed=0
failed=0
if read -r p f <"$results" && [[ -n ${p:-} ]]; then
        passed=$p
        failed=$f
        if [[ -z $SANDBOX_HOST_DIFF ]]; then
                echo "ok - the host is unchanged (users, groups, subuid, warren dirs, bus socket, links, cgroups)"
                passed=$((passed + 1))
        fi
else
        echo "not ok - sandbox: did not run the tests (status $rc); see the sandbox's messages above"
        failed=1
fi
if [[ -n $SANDBOX_HOST_DIFF ]]; then
        echo "not ok - the host is unchanged"
        sed 's/^/# /' <<<"$SANDBOX_HOST_DIFF"
        failed=$((failed + 1))
fi
echo "integration: $passed passed, $failed failed"
((failed == 0 && passed > 0))
