#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 20 §3: a journal that says who did what. One record per
# state-changing call (create, start, stop, config, attach, destroy,
# networks) and per polkit denial, with its MESSAGE_ID, CONTAINER=,
# CALLER_UID=, CALLER_PID=, POLKIT_ACTION=, RESULT=, at the right
# priority: a failed start at warning with the container's name and why.
# First as warrend writes them to stderr when no journal listens (<N>
# prefixes, the fields in brackets), then through a real systemd-journald
# started in the sandbox, read back with journalctl. The monitor logs to
# that journal too, each record naming its container.
# timeout: 300
. "$(dirname "$0")/lib.sh"

LOG=$WARREN_LOG_DIR/dbus-daemon.log # activated warrend's stderr
ID_START=eed9b937a7dd4886af14e86144f228ff
ID_DENIED=1c87737509884208885cc1b6d3e6a137

# records RE: warrend's stderr lines since the mark matching RE.
mark() { MARK=$(wc -l <"$LOG"); }
records() { tail -n +$((MARK + 1)) "$LOG" | grep -E "$1"; }
count() { records "$1" | wc -l; }

# ---- stderr: no journal listens ----
mark
t_ok "create au1" warrenctl create au1 -t busybox
t_ok "start au1" warrenctl start au1
t_ok "config set au1" warrenctl config set au1 lxc.start.auto=1
t_ok "attach to au1" warrenctl attach au1 -- true
t_ok "stop au1" warrenctl stop au1 -t 5
sleep 0.2
t_match "create: info, by uid 0 with its pid, action, RESULT" "$(records "created container 'au1'")" \
        "^<6>warrend: uid 0 \(pid [0-9]+\) created container 'au1' \[CALLER_UID=0 CALLER_PID=[0-9]+ RESULT=success POLKIT_ACTION=org\.warren1\.create CONTAINER=au1\]$"
t_eq "one record for the start" "$(count "started container 'au1'")" 1
t_match "start: info, manage-own" "$(records "started container 'au1'")" \
        "^<6>warrend: uid 0 \(pid [0-9]+\) started container 'au1' \[.*RESULT=success POLKIT_ACTION=org\.warren1\.manage-own CONTAINER=au1\]$"
t_match "config change recorded" "$(records "changed the config of container 'au1'")" "RESULT=success"
t_match "attach recorded with its command line" "$(records "attached to container 'au1'")" "COMMAND_LINE=true"
t_eq "one record for the stop (answered once the container is gone)" "$(count "stopped container 'au1'")" 1

# A failed start: warning, the container's name and the reason.
t_ok "init that does not exist" warrenctl config set au1 lxc.init.cmd=/nonexistent/init
mark
t_fail "start au1 fails" warrenctl start au1
sleep 0.2
t_match "failed start: a warning naming the container and why" "$(records "failed to start container 'au1'")" \
        "^<4>warrend: uid 0 \(pid [0-9]+\) failed to start container 'au1': .*/nonexistent/init.* \[.*RESULT=failure .*CONTAINER=au1 DBUS_ERROR=[A-Za-z0-9.]+\]$"
t_eq "one record for it" "$(count "container 'au1'")" 1
t_ok "init back" warrenctl config set au1 lxc.init.cmd=

# A denial: alice has no grant.
mark
t_fail "alice may not start root's au1" as_user alice warrenctl --no-ask-password start au1
sleep 0.2
t_match "denial: notice, alice's uid, the action, the method, the container" "$(records "was denied")" \
        "^<5>warrend: uid $(id -u alice) \(pid [0-9]+\) was denied org\.warren1\.manage \(Start of container 'au1'\): .* \[CALLER_UID=$(id -u alice) CALLER_PID=[0-9]+ RESULT=denied POLKIT_ACTION=org\.warren1\.manage DBUS_METHOD=Start CONTAINER=au1\]$"
t_eq "no start record for the denied call" "$(count "started container")" 0

# Through polkit (alice granted): the asynchronous path, her uid.
grant alice warren-create
grant alice warren-manage-own
mark
t_ok "alice creates au2" as_user alice warrenctl create au2 -t busybox
t_ok "alice starts au2" as_user alice warrenctl start au2
t_ok "alice stops au2" as_user alice warrenctl stop au2 -t 5
sleep 0.2
t_match "alice's create: her uid, org.warren1.create" "$(records "created container 'au2'")" \
        "uid $(id -u alice) \(pid [0-9]+\) created container 'au2' \[.*RESULT=success POLKIT_ACTION=org\.warren1\.create CONTAINER=au2\]"
t_eq "alice's start: one record" "$(count "uid $(id -u alice) .*started container 'au2'")" 1
t_eq "alice's stop: one record" "$(count "uid $(id -u alice) .*stopped container 'au2'")" 1
t_ok "alice destroys au2" as_user alice warrenctl destroy au2
revoke_all alice

# Networks: the target is the network.
mark
t_ok "create network audbr0" warrenctl network create audbr0 --ipv4 10.77.1.1/24
t_ok "delete network audbr0" warrenctl network delete audbr0
sleep 0.2
t_match "network create recorded" "$(records "created network 'audbr0'")" "TARGET=audbr0"
t_match "network delete recorded" "$(records "deleted network 'audbr0'")" "RESULT=success"

# A create from an image is a job: its end is recorded too.
head -c 4096 /dev/urandom >"$T_LIB_TMP/junk.tar.xz"
mark
t_run warrenctl create auj -t local -- --fstree "$T_LIB_TMP/junk.tar.xz"
sleep 0.5
t_match "the call is recorded" "$(records "container 'auj'")" "uid 0 \(pid [0-9]+\) (created|failed to create) container 'auj'"
t_match "the failed job too: a warning naming the container, who started it" \
        "$(records "^<4>warrend: Job [0-9]+ \(create of container 'auj', started by uid 0\): failed")" \
        "\[JOB_ID=[0-9]+ JOB_TYPE=create CONTAINER=auj CALLER_UID=0 RESULT=failed\]$"
warrenctl destroy auj >/dev/null 2>&1

# ---- the journal: a real systemd-journald listens ----
mkdir -p /run/systemd/journal
/lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
JOURNALD=$!
wait_for "journald listens" 10 test -S /run/systemd/journal/socket
# warrend as a unit would run it: logging to the journal (its stderr is no
# journal stream here, so the target is named).
pkill -x warrend
wait_for "the activated warrend is gone" 10 sh -c '! pgrep -x warrend'
exec_line=$(grep '^Exec=' "$WARREN_SCRATCH"/dbus-services/org.warren1.service 2>/dev/null | cut -d= -f2-)
[[ -n $exec_line ]] || exec_line="$WARREN_BUILD/service/warrend --state-dir=/var/lib/warren --runtime-dir=/run/warren --cache-dir=/var/cache/warren --config-dir=/etc/warren --monitor-path=$WARREN_BUILD/service/warren-monitor --worker-path=$WARREN_BUILD/service/warren-worker --data-dir=$WARREN_SRC/data"
# shellcheck disable=SC2086
WARREN_LOG_TARGET=journal $exec_line --exit-idle-sec=0 </dev/null >/dev/null 2>&1 &
WARREND=$!
wait_for "warrend (journal) owns org.warren1" 10 busctl --system status org.warren1

t_ok "start au1 (journal)" warrenctl start au1
t_ok "init that does not exist (journal)" warrenctl config set au1 lxc.init.cmd=/nonexistent/init2
t_ok "stop au1 (journal)" warrenctl stop au1 -t 5
t_fail "start au1 fails (journal)" warrenctl start au1
t_fail "alice denied (journal)" as_user alice warrenctl --no-ask-password stop au1
sleep 0.5
jq() { journalctl --no-pager -o cat "$@" 2>&1; }
t_match "the failed start is in journalctl -p warning, naming au1" "$(jq -p warning SYSLOG_IDENTIFIER=warrend)" \
        "failed to start container 'au1': .*/nonexistent/init2"
t_match "with its fields" "$(jq -o verbose -p warning MESSAGE_ID=$ID_START)" \
        "CONTAINER=au1"
t_eq "RESULT=failure once (the earlier start succeeded)" \
        "$(journalctl --no-pager -o cat MESSAGE_ID=$ID_START RESULT=failure CONTAINER=au1 | wc -l)" 1
t_eq "RESULT=success once" "$(journalctl --no-pager -o cat MESSAGE_ID=$ID_START RESULT=success CONTAINER=au1 | wc -l)" 1
t_match "the denial by MESSAGE_ID, with POLKIT_ACTION and CALLER_UID" \
        "$(jq -o verbose MESSAGE_ID=$ID_DENIED CONTAINER=au1)" "POLKIT_ACTION=org.warren1.manage"
t_match "...and the caller's uid" "$(jq -o verbose MESSAGE_ID=$ID_DENIED)" "CALLER_UID=$(id -u alice)"
t_match "PRIORITY of the denial is notice (5)" "$(jq -o verbose MESSAGE_ID=$ID_DENIED)" "PRIORITY=5"
t_fail "no doubled prefix (warrend: warrend:)" sh -c "journalctl --no-pager -o short SYSLOG_IDENTIFIER=warrend | grep -q 'warrend: warrend:'"
t_match "the monitor logged to the journal, naming its container" \
        "$(jq -o verbose SYSLOG_IDENTIFIER=warren-monitor CONTAINER=au1)" "nonexistent/init2"

# lib/basic/journal.c's memfd path, against the real journald: a record
# too big for a datagram arrives whole.
t_ok "a 400 KiB record is sent (sealed memfd)" "$WARREN_BUILD/tests/unit/test-journal" --send-big /run/systemd/journal/socket
sleep 0.3
big=$(journalctl --no-pager --all -o json WARREN_TEST=big-record | /usr/bin/python3 -c '
import json, sys
m = json.loads(sys.stdin.readline())["MESSAGE"]
print(len(m), m.index("\n"), m[:3])')
t_eq "journald has it whole: its size, the newline where it was, the start" "$big" "409592 1000 ijk"

t_ok "init back (journal)" warrenctl config set au1 lxc.init.cmd=
t_ok "destroy au1" warrenctl destroy au1
kill "$WARREND" 2>/dev/null
wait "$WARREND" 2>/dev/null
kill "$JOURNALD" 2>/dev/null
wait "$JOURNALD" 2>/dev/null
rm -rf /run/systemd/journal
finish
