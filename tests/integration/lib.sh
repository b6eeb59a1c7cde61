# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# TAP helpers for integration test files (tests/integration/test-*.sh), which
# run inside the sandbox (sandbox.sh) as root. Source it:
#
#   . "$(dirname "$0")/lib.sh"
#   t_ok   "root lists containers" warrenctl list
#   t_fail "carol may not create"  as_user carol warrenctl create c1 -t busybox
#   t_match "error names the action" "$T_ERR" 'org\.warren1\.create'
#   finish
#
# Checks: t_ok, t_fail, t_fail_match, t_eq, t_match, t_pass/t_not, wait_for;
# t_run (no check), t_diag, bail_out, finish. Users: as_user, grant, revoke,
# revoke_all (every file starts with no grant), user_bus_open/_close,
# polkit_check, polkit_authority_check, bus_name_of_pid.
#
# Every check prints `ok N - DESC` or `not ok N - DESC` and returns 0 or 1;
# on failure the command's output follows as `# ` lines. After t_ok, t_fail
# and t_run, T_OUT and T_ERR hold the command's stdout and stderr, T_RC its
# status. Do not `set -e` in test files: a failed check must not end the
# file. finish prints the plan; a file that dies before finish is counted
# as failed by run.sh.

T_N=0
T_FAILED=0
T_OUT=""
T_ERR=""
T_RC=0
# Runners (run.sh, tests/run-all.sh) source this only for tap_judge.
if [[ -z ${T_LIB_RUNNER:-} ]]; then
        T_LIB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tap.XXXXXX")
        chmod 0755 "$T_LIB_TMP"
        # tmux keeps its server socket under /tmp, which is the host's: a
        # file's "tmux kill-server" must not reach another sandbox's tmux
        # or a developer's.
        export TMUX_TMPDIR=$T_LIB_TMP
fi

# ---- reporting ----

t_diag() {
        local line
        while IFS= read -r line; do
                printf '# %s\n' "$line"
        done <<<"$*"
}

_t_report() {
        local passed=$1 desc=$2
        T_N=$((T_N + 1))
        desc=${desc//$'\n'/ }
        if [[ $passed == 1 ]]; then
                printf 'ok %d - %s\n' "$T_N" "$desc"
                return 0
        fi
        printf 'not ok %d - %s\n' "$T_N" "$desc"
        T_FAILED=$((T_FAILED + 1))
        return 1
}

# Output of the last command, capped, as diagnostics.
_t_diag_output() {
        t_diag "command: $*"
        t_diag "exit status: $T_RC"
        [[ -n $T_OUT ]] && t_diag "stdout: $(head -c 4000 <<<"$T_OUT")"
        [[ -n $T_ERR ]] && t_diag "stderr: $(head -c 4000 <<<"$T_ERR")"
        return 0
}

# Run a command, keeping its output in T_OUT/T_ERR and status in T_RC. Not a check.
t_run() {
        # A redirection that fails runs nothing and leaves the shell's status
        # 1 with no output: say so instead (builtins only, no fork).
        if ! { : >"$T_LIB_TMP/out" && : >"$T_LIB_TMP/err"; } 2>/dev/null; then
                T_RC=1 T_OUT=
                T_ERR="the harness cannot write its output files in $T_LIB_TMP"
                return $T_RC
        fi
        "$@" >"$T_LIB_TMP/out" 2>"$T_LIB_TMP/err" </dev/null
        T_RC=$?
        T_OUT=$(<"$T_LIB_TMP/out")
        T_ERR=$(<"$T_LIB_TMP/err")
        return $T_RC
}

# ---- checks ----

# t_ok DESC CMD...: CMD succeeds.
t_ok() {
        local desc=$1
        shift
        if t_run "$@"; then
                _t_report 1 "$desc"
                return 0
        fi
        _t_report 0 "$desc"
        _t_diag_output "$@"
        return 1
}

# t_fail DESC CMD...: CMD fails (non-zero status, but not killed by a signal
# like SIGSEGV or SIGABRT: a crash is not the expected failure).
t_fail() {
        local desc=$1
        shift
        t_run "$@"
        if ((T_RC != 0 && (T_RC < 128 || T_RC > 128 + 64) && T_RC != 124)); then
                _t_report 1 "$desc"
                return 0
        fi
        _t_report 0 "$desc"
        if ((T_RC == 0)); then
                t_diag "expected failure, but it succeeded"
        else
                t_diag "expected a clean failure, got status $T_RC (crash, signal or timeout)"
        fi
        _t_diag_output "$@"
        return 1
}

# t_fail_match DESC REGEX CMD...: CMD fails and its stderr+stdout matches REGEX
# (bash ERE) — for asserting the exact error.
t_fail_match() {
        local desc=$1 re=$2
        shift 2
        t_run "$@"
        if ((T_RC != 0 && (T_RC < 128 || T_RC > 128 + 64) && T_RC != 124)) && [[ "$T_ERR"$'\n'"$T_OUT" =~ $re ]]; then
                _t_report 1 "$desc"
                return 0
        fi
        _t_report 0 "$desc"
        t_diag "expected a failure matching: $re"
        _t_diag_output "$@"
        return 1
}

# t_eq DESC GOT EXPECTED
t_eq() {
        if [[ $2 == "$3" ]]; then
                _t_report 1 "$1"
                return 0
        fi
        _t_report 0 "$1"
        t_diag "got:      '$2'"
        t_diag "expected: '$3'"
        return 1
}

# t_match DESC STRING REGEX (bash ERE)
t_match() {
        if [[ $2 =~ $3 ]]; then
                _t_report 1 "$1"
                return 0
        fi
        _t_report 0 "$1"
        t_diag "string: '$2'"
        t_diag "does not match: $3"
        return 1
}

# t_pass DESC / t_not DESC [WHY]: a check decided by the test itself.
t_pass() {
        _t_report 1 "$1"
}

t_not() {
        _t_report 0 "$1"
        [[ -z ${2:-} ]] || t_diag "$2"
        return 1
}

# no_leftovers NAME: nothing of a container's run is left (its cgroup in
# any hierarchy, its runtime dir, its monitor). Not a check: use with t_ok.
no_leftovers() {
        local name=$1 d
        for d in /sys/fs/cgroup/*/warren/"$name" /sys/fs/cgroup/unified/warren/"$name" /run/warren/containers/"$name"; do
                [[ -e $d ]] && { echo "left behind: $d"; return 1; }
        done
        pgrep -f "warren-monitor.*--name $name( |$)" && { echo "monitor still running"; return 1; }
        return 0
}

# wait_for DESC TIMEOUT_S CMD...: retry CMD every 0.1 s until it succeeds.
wait_for() {
        local desc=$1 timeout=$2
        shift 2
        local deadline=$((${EPOCHREALTIME/./} + timeout * 1000000))
        while :; do
                if t_run "$@"; then
                        _t_report 1 "$desc"
                        return 0
                fi
                ((${EPOCHREALTIME/./} < deadline)) || break
                sleep 0.1
        done
        _t_report 0 "$desc"
        t_diag "still failing after ${timeout} s"
        _t_diag_output "$@"
        return 1
}

bail_out() {
        printf 'Bail out! %s\n' "$*"
        exit 255
}

# finish: print the plan; status 1 if any check failed.
# (T_LIB_TMP lives in the file's TMPDIR, which run.sh removes.)
finish() {
        printf '1..%d\n' "$T_N"
        ((T_FAILED == 0)) || exit 1
        exit 0
}

# ---- acting as a test user ----

# as_user USER CMD...: run CMD as USER (uid, gid, groups from the group
# database), no capabilities, HOME/USER/LOGNAME set, cwd = USER's home, rest of
# the environment (DBUS_SYSTEM_BUS_ADDRESS, PATH, ASAN_OPTIONS) kept.
as_user() {
        local user=$1
        shift
        local entry uid gid home
        entry=$(getent passwd "$user") || {
                echo "as_user: no such user '$user'" >&2
                return 127
        }
        IFS=: read -r _ _ uid gid _ home _ <<<"$entry"
        [[ -d $home ]] || home=/
        setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all \
                env --chdir="$home" HOME="$home" USER="$user" LOGNAME="$user" "$@"
}

# grant USER GROUP / revoke USER GROUP: group membership is what the test
# rules (rules/50-warren-test.rules) grant by; polkitd sees it at the next check.
grant() {
        getent group "$2" >/dev/null || groupadd "$2" || return 1
        gpasswd -a "$1" "$2" >/dev/null
}

revoke() {
        getent group "$2" >/dev/null || return 0
        gpasswd -d "$1" "$2" >/dev/null 2>&1
        return 0
}

# revoke_all USER...: drop the users from every warren-* group.
revoke_all() {
        local g u
        for g in $(getent group | awk -F: '$1 ~ /^warren-/ { print $1 }'); do
                for u in "$@"; do
                        revoke "$u" "$g"
                done
        done
}

# user_bus_open USER: start a process as USER that holds a bus connection
# and sets USER_BUS_NAME to its unique name (the subject warrend would check);
# user_bus_close ends it. One at a time.
user_bus_open() {
        local user=$1 i
        USER_BUS_NAME=""
        rm -f "$T_LIB_TMP/bus-in" "$T_LIB_TMP/bus-name"
        mkfifo -m 0666 "$T_LIB_TMP/bus-in"
        as_user "$user" /usr/bin/python3 -c '
import sys, dbus
bus = dbus.SystemBus()
print(bus.get_unique_name(), flush=True)
sys.stdin.read()' <"$T_LIB_TMP/bus-in" >"$T_LIB_TMP/bus-name" 2>&1 &
        USER_BUS_PID=$!
        exec {USER_BUS_FD}>"$T_LIB_TMP/bus-in"
        for ((i = 0; i < 500; i++)); do
                USER_BUS_NAME=$(head -n1 "$T_LIB_TMP/bus-name" 2>/dev/null)
                [[ $USER_BUS_NAME == :* ]] && return 0
                kill -0 "$USER_BUS_PID" 2>/dev/null || break
                sleep 0.02
        done
        echo "user_bus_open: no bus connection as $user: $(cat "$T_LIB_TMP/bus-name")" >&2
        user_bus_close
        return 1
}

user_bus_close() {
        [[ -n ${USER_BUS_FD:-} ]] && exec {USER_BUS_FD}>&-
        [[ -n ${USER_BUS_PID:-} ]] && wait "$USER_BUS_PID" 2>/dev/null
        USER_BUS_FD=""
        USER_BUS_PID=""
        return 0
}

# polkit_authority_check NAME ACTION [KEY=VALUE...]: root's CheckAuthorization
# for the connection NAME, no interaction; prints busctl's reply.
polkit_authority_check() {
        local name=$1 action=$2
        shift 2
        local details=() kv
        for kv in "$@"; do
                details+=("${kv%%=*}" "${kv#*=}")
        done
        busctl --system call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority \
                org.freedesktop.PolicyKit1.Authority CheckAuthorization '(sa{sv})sa{ss}us' \
                system-bus-name 1 name s "$name" "$action" "$#" "${details[@]}" 0 ''
}

# polkit_check USER ACTION [KEY=VALUE...]: would polkit let USER's bus
# connection do ACTION with these details? Prints "yes", "no" or "challenge".
polkit_check() {
        local user=$1 reply
        shift
        user_bus_open "$user" || return 1
        reply=$(polkit_authority_check "$USER_BUS_NAME" "$@")
        local rc=$?
        user_bus_close
        ((rc == 0)) || return 1
        read -r _ authorized challenge _ <<<"$reply"
        if [[ $authorized == true ]]; then
                echo yes
        elif [[ $challenge == true ]]; then
                echo challenge
        else
                echo no
        fi
}

# warrend's PID: the owner of org.warren1 on the bus, empty if none. Not
# `pgrep -x warrend`: a child warrend forks (a job, before its exec) has the
# same name for a moment.
warrend_pid() {
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                GetConnectionUnixProcessID s org.warren1 2>/dev/null | awk '{ print $2 }'
}

# The bus unique name of the first connection owned by PID, empty if none.
bus_name_of_pid() {
        local name
        for name in $(busctl --system list --unique --no-legend 2>/dev/null | awk '{ print $1 }'); do
                if [[ $(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                        GetConnectionUnixProcessID s "$name" 2>/dev/null) == "u $1" ]]; then
                        echo "$name"
                        return 0
                fi
        done
        return 1
}

# ---- for runners ----

# tap_judge FILE STATUS TIMEOUT_S: judge one program's TAP output (FILE) and
# exit status. Sets TAP_PASSED, TAP_FAILED, TAP_SKIPPED and TAP_PROBLEM (why
# the program as a whole failed, empty if it did not). A program that timed
# out, crashed, bailed out, printed no plan or a wrong one, ran no test, or
# failed with no failed check counts one failure more than its checks.
tap_judge() {
        local file=$1 st=$2 timeout=$3 plan ran
        TAP_PASSED=$(grep -c '^ok ' "$file")
        TAP_FAILED=$(grep -c '^not ok ' "$file")
        TAP_SKIPPED=$(grep -ciE '^ok .*# *skip' "$file")
        local todo
        todo=$(grep -ciE '^not ok .*# *todo' "$file")
        ran=$((TAP_PASSED + TAP_FAILED))
        TAP_PASSED=$((TAP_PASSED - TAP_SKIPPED))
        TAP_FAILED=$((TAP_FAILED - todo))
        TAP_SKIPPED=$((TAP_SKIPPED + todo))
        plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$file" | tail -n1)
        TAP_PROBLEM=""
        if ((st == 124 || st == 137)); then
                TAP_PROBLEM="timed out after ${timeout} s"
        elif ((st > 128 && st < 128 + 65)); then
                TAP_PROBLEM="killed by signal $((st - 128)) ($(kill -l $((st - 128)) 2>/dev/null))"
        elif grep -q '^Bail out!' "$file"; then
                TAP_PROBLEM="bailed out: $(grep -m1 '^Bail out!' "$file")"
        elif [[ -z $plan ]]; then
                TAP_PROBLEM="no plan: it died before the end (status $st)"
        elif ((plan != ran)); then
                TAP_PROBLEM="plan 1..$plan but $ran results"
        elif ((ran == 0)) && ! grep -qiE '^1\.\.0 *# *skip' "$file"; then
                TAP_PROBLEM="ran no test"
        elif ((st != 0 && TAP_FAILED == 0)); then
                TAP_PROBLEM="exited with status $st"
        fi
        [[ -z $TAP_PROBLEM ]] || TAP_FAILED=$((TAP_FAILED + 1))
        return 0
}
