#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/run-all.sh [BUILD_DIR]      (default: build)
#
# Every test of one build: the unit tests (the build's suite "unit", run
# directly from `meson introspect --tests`, TAP counted per check), the fuzz
# targets' corpus replays (BUILD/tests/fuzz/fuzz-NAME over
# tests/fuzz/corpus-NAME/), and the integration tests (tests/integration/run.sh).
# Ends with the plain line `N passed, N failed`; exits non-zero if anything
# failed or nothing ran. RUN_ALL_PHASES="unit fuzz integration" picks phases;
# the build is brought up to date first unless RUN_ALL_BUILD=0.

set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_LIB_RUNNER=1
# shellcheck source=integration/lib.sh
. "$SRC/tests/integration/lib.sh"

build=$(realpath -m "${1:-$SRC/build}")
phases=" ${RUN_ALL_PHASES:-unit fuzz integration} "
PASSED=0
FAILED=0
SKIPPED=0
LINES=()

note() {
        LINES+=("$(printf '%-5s %-36s %s' "$1" "$2" "$3")")
}

work=$(mktemp -d /tmp/warren-run-all.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "# run-all: build $build"
if [[ ! -f $build/build.ninja ]]; then
        echo "not ok - build dir '$build' is not configured (meson setup $build)"
        echo "0 passed, 1 failed"
        exit 1
fi
# RUN_ALL_BUILD=0: the caller built (and counted) the build already.
if [[ ${RUN_ALL_BUILD:-1} != 0 ]] && ! ninja -C "$build" >"$work/ninja.log" 2>&1; then
        echo "not ok - ninja -C $build failed; running what exists"
        tail -n 40 "$work/ninja.log" | sed 's/^/# /'
        FAILED=$((FAILED + 1))
        note FAIL "(build)" "ninja failed"
fi

# ---- unit tests ----

# One line per unit test, fields split by \x1f (not a tab: read would merge
# empty fields): name, timeout, protocol, workdir, env, argv (shell-quoted).
list_unit_tests() {
        meson introspect --tests "$build" | /usr/bin/python3 -c '
import json, shlex, sys
for t in json.load(sys.stdin):
    if not any(s == "unit" or s.endswith(":unit") for s in t.get("suite", [])):
        continue
    env = " ".join(shlex.quote(k + "=" + v) for k, v in (t.get("env") or {}).items())
    print("\x1f".join([t["name"], str(t.get("timeout") or 120), t.get("protocol", "exitcode"),
                     t.get("workdir") or "", env, shlex.join(t["cmd"])]))
'
}

run_unit_test() {
        local name=$1 timeout=$2 protocol=$3 workdir=$4 env_q=$5 cmd_q=$6
        local -a env_a cmd_a
        eval "env_a=($env_q)"
        eval "cmd_a=($cmd_q)"
        local out=$work/unit-$name.out st=0
        if [[ ! -x ${cmd_a[0]} ]]; then
                echo "not ok - unit/$name: not built (${cmd_a[0]})"
                FAILED=$((FAILED + 1))
                note FAIL "unit/$name" "not built"
                return
        fi
        (
                cd "${workdir:-$build}" || exit 1
                export MALLOC_PERTURB_=${MALLOC_PERTURB_:-$((RANDOM % 255 + 1))}
                export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_summary=1}
                export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_summary=1:print_stacktrace=1}
                exec env "${env_a[@]}" timeout --kill-after=10 "$timeout" "${cmd_a[@]}"
        ) >"$out" 2>&1 </dev/null || st=$?

        local p f s problem
        if [[ $protocol == tap ]]; then
                tap_judge "$out" "$st" "$timeout"
                p=$TAP_PASSED f=$TAP_FAILED s=$TAP_SKIPPED problem=$TAP_PROBLEM
        elif ((st == 0)); then
                p=1 f=0 s=0 problem=""
        elif ((st == 77)); then
                p=0 f=0 s=1 problem=""
        else
                p=0 f=1 s=0 problem="exited with status $st"
        fi
        PASSED=$((PASSED + p))
        FAILED=$((FAILED + f))
        SKIPPED=$((SKIPPED + s))
        local summary="$p passed, $f failed"
        ((s == 0)) || summary+=", $s skipped"
        if ((f == 0)); then
                echo "ok - unit/$name ($summary)"
                note ok "unit/$name" "$summary"
        else
                echo "not ok - unit/$name ($summary)${problem:+: $problem}"
                # The failing checks and their diagnostics, then the end of the output.
                grep -A8 '^not ok ' "$out" | head -n 80 | sed 's/^/#   /'
                echo "#   --- last lines ---"
                tail -n 25 "$out" | sed 's/^/#   /'
                note FAIL "unit/$name" "$summary${problem:+; $problem}"
        fi
}

if [[ $phases == *" unit "* ]]; then
        if ! list_unit_tests >"$work/unit.list" 2>"$work/unit.err"; then
                echo "not ok - meson introspect --tests $build failed"
                sed 's/^/# /' "$work/unit.err"
                FAILED=$((FAILED + 1))
                note FAIL "(unit tests)" "meson introspect failed"
        elif [[ ! -s $work/unit.list ]]; then
                echo "not ok - no unit tests in $build"
                FAILED=$((FAILED + 1))
                note FAIL "(unit tests)" "none found"
        else
                while IFS=$'\x1f' read -r name timeout protocol workdir env_q cmd_q; do
                        run_unit_test "$name" "$timeout" "$protocol" "$workdir" "$env_q" "$cmd_q"
                done <"$work/unit.list"
        fi
fi

# ---- fuzz corpus replays ----

# Fuzz targets the build defines (built or not): name and file.
list_fuzz_targets() {
        meson introspect --targets "$build" | /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].startswith("fuzz-"):
        print(t["name"] + "\x1f" + t["filename"][0])
'
}

if [[ $phases == *" fuzz "* ]]; then
        list_fuzz_targets >"$work/fuzz.list" 2>"$work/fuzz.err" || {
                echo "not ok - meson introspect --targets $build failed"
                sed 's/^/# /' "$work/fuzz.err"
                FAILED=$((FAILED + 1))
        }
        while IFS=$'\x1f' read -r name bin; do
                corpus=$SRC/tests/fuzz/corpus-${name#fuzz-}
                if [[ ! -x $bin ]]; then
                        echo "not ok - fuzz/$name: not built ($bin)"
                        FAILED=$((FAILED + 1))
                        note FAIL "fuzz/$name" "not built"
                        continue
                fi
                if [[ ! -d $corpus ]] || [[ -z $(find "$corpus" -type f -print -quit) ]]; then
                        echo "not ok - fuzz/$name: no corpus in $corpus"
                        FAILED=$((FAILED + 1))
                        note FAIL "fuzz/$name" "no corpus"
                        continue
                fi
                n=$(find "$corpus" -type f | wc -l)
                st=0
                # Both the plain replay program and a libFuzzer binary run each file given.
                find "$corpus" -type f -print0 | sort -z |
                        timeout --kill-after=10 600 xargs -0 "$bin" >"$work/$name.out" 2>&1 || st=$?
                if ((st == 0)); then
                        echo "ok - fuzz/$name replays $n corpus files"
                        PASSED=$((PASSED + 1))
                        note ok "fuzz/$name" "$n files"
                else
                        echo "not ok - fuzz/$name replay of $n corpus files (status $st)"
                        tail -n 40 "$work/$name.out" | sed 's/^/#   /'
                        FAILED=$((FAILED + 1))
                        note FAIL "fuzz/$name" "replay failed, status $st"
                fi
        done <"$work/fuzz.list"
fi

# ---- integration tests ----

if [[ $phases == *" integration "* ]]; then
        st=0
        "$SRC/tests/integration/run.sh" "$build" 2>&1 | tee "$work/integration.out" || st=$?
        line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed' "$work/integration.out" | tail -n1)
        if [[ $line =~ ^integration:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
                p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
                ((st == 0 || f > 0)) || f=1
                PASSED=$((PASSED + p))
                FAILED=$((FAILED + f))
                note "$( ((f == 0)) && echo ok || echo FAIL)" "integration" "$p passed, $f failed"
        else
                echo "not ok - integration: run.sh printed no result (status $st)"
                FAILED=$((FAILED + 1))
                note FAIL "integration" "no result, status $st"
        fi
fi

echo "# run-all summary ($build):"
for l in "${LINES[@]}"; do
        echo "#   $l"
done
if ((PASSED + FAILED == 0)); then
        echo "not ok - nothing ran"
        FAILED=1
fi
if ((SKIPPED > 0)); then
        echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
        echo "$PASSED passed, $FAILED failed"
fi
((FAILED == 0))
