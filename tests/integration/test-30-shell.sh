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

t_ok "stop sh1" warrenctl stop -k sh1
t_fail_match "attach to a stopped container: NotRunning" "org.warren1.Error.NotRunning" \
        gcall /org/warren1/container/sh1 org.warren1.Container.Attach "['true']" "{}"
t_fail_match "console of a stopped container: NotRunning" "org.warren1.Error.NotRunning" \
        gcall /org/warren1/container/sh1 org.warren1.Container.OpenConsole 0
t_ok "destroy sh1" warrenctl destroy sh1
finish
