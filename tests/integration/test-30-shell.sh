#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4: attach (exit status, pipes, env/cwd/uid, namespaces, ptys) and
# console (tmux), authorization and garbage.
# timeout: 300
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
gcall() { local path=$1 method=$2; shift 2; gdbus call --system --dest org.warren1 --object-path "$path" --method "$method" "$@"; }
nprocs() { ls /sys/fs/cgroup/pids/warren/"$1"/cgroup.procs >/dev/null && wc -l </sys/fs/cgroup/pids/warren/"$1"/cgroup.procs; }

t_ok "create sh1" warrenctl create sh1 -t busybox
t_ok "start sh1" warrenctl start sh1
pid=$(prop sh1 InitPID)

# Exit status.
t_run warrenctl attach sh1 -- sh -c 'exit 7'
t_eq "exit 7 passes through" "$T_RC" 7
t_run warrenctl attach sh1 -- sh -c 'kill -TERM $$'
t_eq "killed by SIGTERM is 143" "$T_RC" 143
t_run warrenctl attach sh1 -- /no/such/command
t_eq "a missing command exits 127" "$T_RC" 127
t_match "with a clear message naming it" "$T_ERR" "/no/such/command: (No such file or directory|not found)"

# Pipes: stdout and stderr apart, binary-exact.
head -c 1048576 /dev/urandom >"$T_LIB_TMP/rnd"
t_ok "1 MiB of random bytes round-trips" sh -c "warrenctl attach sh1 -- cat <'$T_LIB_TMP/rnd' | cmp - '$T_LIB_TMP/rnd'"
t_eq "cat < file | wc -c is exact" "$(warrenctl attach sh1 -- cat <"$T_LIB_TMP/rnd" | wc -c)" 1048576
warrenctl attach sh1 -- sh -c 'echo out; echo err >&2' >"$T_LIB_TMP/o" 2>"$T_LIB_TMP/e"
t_eq "stdout separate" "$(cat "$T_LIB_TMP/o")" out
t_eq "stderr separate" "$(cat "$T_LIB_TMP/e")" err

# Environment, cwd, ids.
t_eq "env honoured" "$(warrenctl attach sh1 -e FOO=bar -- sh -c 'echo $FOO')" bar
t_eq "container=lxc set" "$(warrenctl attach sh1 -- sh -c 'echo $container')" lxc
t_eq "clear-env keeps only the basics" "$(warrenctl attach sh1 --clear-env -e A=1 -- env | sort | cut -d= -f1 | tr '\n' ' ')" "A PATH container "
t_eq "cwd honoured" "$(warrenctl attach sh1 --cwd /etc -- pwd)" /etc
t_eq "uid/gid honoured" "$(warrenctl attach sh1 --uid 65534 --gid 65534 -- sh -c 'echo $(id -u):$(id -g)')" 65534:65534

# Namespaces, cgroup, fds.
apid_ns=$(warrenctl attach sh1 -- sh -c 'for n in pid mnt uts ipc net cgroup; do readlink /proc/self/ns/$n; done' | tr '\n' ' ')
init_ns=$(for n in pid mnt uts ipc net cgroup; do readlink /proc/$pid/ns/$n; done | tr '\n' ' ')
t_eq "attached process is in all of init's namespaces" "$apid_ns" "$init_ns"
t_eq "and in the container's cgroup (ns root)" "$(warrenctl attach sh1 -- cat /proc/self/cgroup | grep -c ':/$')" \
        "$(grep -c . /proc/$pid/cgroup)"
t_eq "no host fd inside" "$(warrenctl attach sh1 -- ls /proc/self/fd | tr '\n' ' ')" "0 1 2 3 "
t_eq "sees only the container's processes" "$(warrenctl attach sh1 -- cat /proc/1/comm)" init

# ptys, through tmux: tty inside, window size, console.
tmux kill-server 2>/dev/null
tmux new-session -d -s sh -x 90 -y 27 "bash --norc"
tmux send-keys -t sh "export DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS PATH=$PATH PS1='$ '; clear" Enter
sleep 0.3
tmux send-keys -t sh "warrenctl attach sh1 -- sh -c 'tty; stty size; echo done-\$((6*7))'" Enter
wait_for "attach in a terminal finished" 10 sh -c "tmux capture-pane -t sh -p | grep -q done-42"
screen=$(tmux capture-pane -t sh -p)
t_match "tty inside is a pts of the container" "$screen" $'\n/dev/pts/[0-9]+'
t_match "window size set by the client seen by stty" "$screen" $'\n27 90'
t_ok "the container's devpts, not the host's" warrenctl attach sh1 -- test -e /dev/pts/ptmx

tmux send-keys -t sh "clear; warrenctl console sh1" Enter
wait_for "console connected" 10 sh -c "tmux capture-pane -t sh -p | grep -q 'Ctrl-a q'"
tmux send-keys -t sh "" Enter
tmux send-keys -t sh "echo on-console-\$(hostname)" Enter
wait_for "a command typed on the console runs inside" 10 sh -c "tmux capture-pane -t sh -p | grep -q on-console-sh1"
t_fail_match "a second console on the same tty is Busy" "org.warren1.Error.Busy.*console|Busy" \
        gcall /org/warren1/container/sh1 org.warren1.Container.OpenConsole 0
tmux send-keys -t sh C-a q
wait_for "the console client exits on Ctrl-a q" 10 sh -c '! pgrep -f "warrenctl [c]onsole sh1" >/dev/null'
tmux send-keys -t sh "echo back-\$((40+2))" Enter
wait_for "Ctrl-a q returns to the host shell" 10 sh -c "tmux capture-pane -t sh -p | grep -q back-42"
t_ok "terminal restored (stty sane state: echo on)" sh -c "tmux send-keys -t sh 'stty -a | grep -o \" echo \" | head -1; echo restored' Enter; sleep 0.5; tmux capture-pane -t sh -p | grep -q ' echo '"
t_ok "the console is free again" gcall /org/warren1/container/sh1 org.warren1.Container.OpenConsole 0
tmux kill-server 2>/dev/null
t_ok "console-log" warrenctl console-log sh1
t_match "the boot log holds the shell's output" "$T_OUT" "on-console-sh1"

# Garbage.
t_fail_match "Attach with empty argv" "argv is empty" gcall /org/warren1/container/sh1 org.warren1.Container.Attach "@as []" "{}"
t_fail_match "a stdin that is not a fd" "must be a file descriptor" \
        gcall /org/warren1/container/sh1 org.warren1.Container.Attach "['true']" "{'stdin': <'x'>}"
t_fail_match "unknown option" "Unknown option 'bogus'" \
        gcall /org/warren1/container/sh1 org.warren1.Container.Attach "['true']" "{'bogus': <1>}"
t_fail_match "a tty past lxc.tty.max" "tty 9 does not exist" warrenctl console sh1 -t 9
t_fail_match "WaitAttached of a pid never attached" "No process 1 attached" \
        gcall /org/warren1/container/sh1 org.warren1.Container.WaitAttached 1
t_ok "Manager.AttachContainer shortcut" gcall /org/warren1 org.warren1.Manager.AttachContainer sh1 "['true']" "{}"
t_match "returns an fd and a pid" "$T_OUT" "handle [0-9]+>?, uint32 [0-9]+"

# Authorization: nothing starts for a caller who may not.
revoke_all alice bob
before=$(nprocs sh1)
t_fail_match "alice may not attach to root's container" "Access denied" as_user alice warrenctl attach sh1 -- true
t_fail_match "nor open its console" "Access denied" as_user alice warrenctl console sh1
t_eq "no process was started" "$(nprocs sh1)" "$before"
grant alice warren-manage-own
t_fail_match "shell-own does not cover root's container" "org.warren1.shell" as_user alice warrenctl attach sh1 -- true
grant alice warren-admin
t_ok "an admin (shell) may" as_user alice warrenctl attach sh1 -- true
revoke_all alice

# Signals sent to warrenctl reach the attached process (Container.KillAttached).
# bg_attach [as_user USER] CMD...: CMD in the background, its pid in BG_PID.
# Background jobs of a script start with SIGINT and SIGQUIT ignored: give them back.
bg_attach() {
        local as=()
        [[ $1 == as_user ]] && as=(as_user "$2") && shift 2
        "${as[@]}" env --default-signal=INT,QUIT "$@" </dev/null >"$T_LIB_TMP/bg-out" 2>"$T_LIB_TMP/bg-err" &
        BG_PID=$!
}
# bg_wait S: BG_RC = the background warrenctl's status, or "running" after S seconds (then killed).
bg_wait() {
        local i
        for ((i = 0; i < $1 * 10; i++)); do
                kill -0 "$BG_PID" 2>/dev/null || break
                sleep 0.1
        done
        if kill -0 "$BG_PID" 2>/dev/null; then
                BG_RC=running
                kill -KILL "$BG_PID"
                wait "$BG_PID" 2>/dev/null
                return
        fi
        wait "$BG_PID"
        BG_RC=$?
}
# running CMDLINE N: N processes in sh1 run exactly CMDLINE.
running() { [[ $(warrenctl attach sh1 -- ps -o args | grep -c "^$1\$") == "$2" ]]; }
# sig_set PID FIELD SIG: SIG is in /proc/PID/status's FIELD mask (SigBlk, ShdPnd).
sig_set() { local m; m=$(awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status") && (((16#$m >> ($3 - 1)) & 1)); }
sig_clear() { ! sig_set "$@"; }
# warrenctl itself (not bash's child before exec, which blocks SIGTERM too) blocks SIG.
ctl_blocks() { [[ $(cat "/proc/$1/comm") == warrenctl ]] && sig_set "$1" SigBlk "$2"; }

# Ctrl-C in a terminal with --no-pty: the process is in another session,
# so only warrenctl gets the SIGINT.
tmux kill-server 2>/dev/null
tmux new-session -d -s sig -x 90 -y 27 "bash --norc"
tmux send-keys -t sig "export DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS PATH=$PATH PS1='$ '; clear" Enter
tmux send-keys -t sig "warrenctl attach sh1 --no-pty -- sleep 30; echo rc=\$?" Enter
wait_for "attached from a terminal without a pty" 5 running "sleep 30" 1
tmux send-keys -t sig C-c
wait_for "Ctrl-C ends warrenctl with 130" 5 sh -c "tmux capture-pane -t sig -p | grep -q rc=130"
t_ok "and no sleep 30 is left in the container" running "sleep 30" 0
tmux kill-server 2>/dev/null

bg_attach warrenctl attach sh1 -- sleep 31
wait_for "attached sleep runs" 5 running "sleep 31" 1
kill -INT "$BG_PID"
bg_wait 2
t_eq "SIGINT to warrenctl (no pty): it exits 130 within 2 s" "$BG_RC" 130
t_ok "and the attached process is gone" running "sleep 31" 0

bg_attach warrenctl attach sh1 --no-pty -- sleep 32
wait_for "attached sleep runs" 5 running "sleep 32" 1
kill -TERM "$BG_PID"
bg_wait 2
t_eq "SIGTERM to warrenctl: it exits 143" "$BG_RC" 143
t_ok "and the attached process is gone" running "sleep 32" 0

bg_attach warrenctl attach sh1 -- sh -c 'trap "echo got; kill \$!; exit 3" TERM; sleep 33 & wait'
wait_for "a trapping shell runs" 5 running "sleep 33" 1
kill -TERM "$BG_PID"
bg_wait 2
t_eq "a command that traps SIGTERM decides the status (3)" "$BG_RC" 3
t_eq "and its handler ran" "$(cat "$T_LIB_TMP/bg-out")" got

bg_attach warrenctl attach sh1 -- sh -c 'trap "" INT; exec sleep 34'
wait_for "a command ignoring SIGINT runs" 5 running "sleep 34" 1
kill -INT "$BG_PID"
wait_for "warrenctl takes the first SIGINT" 5 sig_clear "$BG_PID" ShdPnd 2
sleep 0.2
t_ok "one SIGINT: it keeps running" kill -0 "$BG_PID"
kill -INT "$BG_PID"
bg_wait 2
t_eq "a second SIGINT within a second kills it (137)" "$BG_RC" 137
t_ok "nothing left" running "sleep 34" 0

bg_attach warrenctl attach sh1 --pty -- sh -c 'trap "echo hup-seen; kill \$!; exit 4" HUP; sleep 35 & wait'
wait_for "a command on a pty runs" 5 running "sleep 35" 1
kill -HUP "$BG_PID"
bg_wait 2
t_eq "with a pty, SIGHUP to warrenctl is passed on (status 4 from the trap)" "$BG_RC" 4
t_match "and the trap ran" "$(cat "$T_LIB_TMP/bg-out")" hup-seen

bg_attach env --ignore-signal=HUP warrenctl attach sh1 -- \
        sh -c 'trap "echo hup; exit 6" HUP; trap "kill \$!; exit 7" TERM; sleep 36 & wait'
wait_for "warrenctl started with SIGHUP ignored (nohup) runs" 5 running "sleep 36" 1
kill -HUP "$BG_PID"
sleep 0.3
kill -TERM "$BG_PID"
bg_wait 2
t_eq "an ignored SIGHUP stays ignored, SIGTERM is passed on (7)" "$BG_RC" 7
t_eq "the command never saw the SIGHUP" "$(cat "$T_LIB_TMP/bg-out")" ""

# A signal while Attach is still pending (say, a polkit prompt) is kept for
# the process; the same signal again gives up waiting.
wpid=$(warrend_pid)
kill -STOP "$wpid"
bg_attach warrenctl attach sh1 -- sleep 39
wait_for "warrenctl blocks SIGTERM from the start" 5 ctl_blocks "$BG_PID" 15
kill -TERM "$BG_PID"
wait_for "and reads it while Attach is pending" 5 sig_clear "$BG_PID" ShdPnd 15
t_ok "it goes on waiting" kill -0 "$BG_PID"
kill -CONT "$wpid"
bg_wait 3
t_eq "then passes it on to the new process: 143" "$BG_RC" 143
t_ok "nothing is left" running "sleep 39" 0
kill -STOP "$wpid"
bg_attach warrenctl attach sh1 -- sleep 40
wait_for "warrenctl blocks SIGTERM" 5 ctl_blocks "$BG_PID" 15
kill -TERM "$BG_PID"
wait_for "and reads it" 5 sig_clear "$BG_PID" ShdPnd 15
kill -TERM "$BG_PID"
bg_wait 2
t_eq "a second SIGTERM while Attach is pending gives up: 143 at once" "$BG_RC" 143
kill -CONT "$wpid"

# KillAttached garbage and authorization: nothing is signalled.
KILL_ATTACHED=(gdbus call --system --dest org.warren1 --object-path /org/warren1/container/sh1
               --method org.warren1.Container.KillAttached)
bg_attach warrenctl attach sh1 -- sleep 37
wait_for "attached sleep runs" 5 running "sleep 37" 1
spid=$(pgrep -f '^sleep 37$')
t_fail_match "KillAttached of an unknown pid" "InvalidArgs.*No attached process 999999 in container 'sh1'" \
        "${KILL_ATTACHED[@]}" 999999 15
t_fail_match "KillAttached of pid 0" "No attached process 0 in container 'sh1'" \
        "${KILL_ATTACHED[@]}" 0 15
t_fail_match "KillAttached of init (not attached)" "No attached process $pid in container 'sh1'" \
        "${KILL_ATTACHED[@]}" "$pid" 15
t_fail_match "KillAttached with signal 0" "InvalidArgs.*Invalid signal 0" \
        "${KILL_ATTACHED[@]}" "$spid" 0
t_fail_match "KillAttached with signal 65" "Invalid signal 65" \
        "${KILL_ATTACHED[@]}" "$spid" 65
t_fail_match "KillAttached with signal -9" "Invalid signal -9" \
        "${KILL_ATTACHED[@]}" "$spid" -- -9
t_fail_match "KillAttached with a pid past pid_t" "No attached process 4294967295 in container 'sh1'" \
        "${KILL_ATTACHED[@]}" 4294967295 15
t_fail_match "KillAttached with the wrong signature" "expecting 'ui'" \
        busctl --system call org.warren1 /org/warren1/container/sh1 org.warren1.Container KillAttached s x
t_fail_match "KillAttached on no container" "Unknown object|NoSuchContainer" \
        busctl --system call org.warren1 /org/warren1/container/nope org.warren1.Container KillAttached ui 1 15
revoke_all alice bob
t_fail_match "bob may not signal root's attached process" "Access denied.*org.warren1.shell" \
        as_user bob "${KILL_ATTACHED[@]}" "$spid" 15
grant alice warren-manage-own
t_fail_match "nor may alice with shell-own only (root's container)" "Access denied.*org.warren1.shell" \
        as_user alice "${KILL_ATTACHED[@]}" "$spid" 9
t_ok "after all that it still runs" running "sleep 37" 1
t_ok "root may signal it" "${KILL_ATTACHED[@]}" "$spid" 9
bg_wait 2
t_eq "its warrenctl reports 137" "$BG_RC" 137
t_fail_match "once it has exited: a clear error" "Attached process $spid in container 'sh1' has exited" \
        "${KILL_ATTACHED[@]}" "$spid" 9

grant alice warren-admin
bg_attach as_user alice warrenctl attach sh1 -- sleep 38
wait_for "alice's attached sleep runs" 5 running "sleep 38" 1
apid=$(pgrep -f '^sleep 38$')
revoke_all alice
t_fail_match "bob may not signal alice's attached process" "Access denied.*org.warren1.shell" \
        as_user bob "${KILL_ATTACHED[@]}" "$apid" 15
t_ok "it still runs" running "sleep 38" 1
t_ok "alice, who started it, may signal it without any grant" \
        as_user alice "${KILL_ATTACHED[@]}" "$apid" 15
bg_wait 2
t_eq "her warrenctl reports 143" "$BG_RC" 143

t_ok "stop sh1" warrenctl stop -k sh1
t_fail_match "attach to a stopped container: NotRunning" "org.warren1.Error.NotRunning" \
        gcall /org/warren1/container/sh1 org.warren1.Container.Attach "['true']" "{}"
t_fail_match "console of a stopped container: NotRunning" "org.warren1.Error.NotRunning" \
        gcall /org/warren1/container/sh1 org.warren1.Container.OpenConsole 0
t_fail_match "KillAttached on a stopped container: NotRunning" "org.warren1.Error.NotRunning" \
        "${KILL_ATTACHED[@]}" "$spid" 15
t_ok "destroy sh1" warrenctl destroy sh1
finish
