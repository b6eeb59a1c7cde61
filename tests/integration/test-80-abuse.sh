#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 12 §2, §3 and §6 (Attach's fds): alice, with the normal desktop
# grants (create, manage-own, shell-own), tries to get past her quotas with
# parallel calls and to exhaust warrend for everyone else; bob must not
# notice. Run against the real bus and polkitd; every refusal is checked
# for its error name and message, and for having changed nothing.
# timeout: 600
. "$(dirname "$0")/lib.sh"

S=/var/lib/warren/containers
BUS=(busctl --system)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
state() { prop "$1" State; }
warrend_fds() { ls /proc/"$(warrend_pid)"/fd | wc -l; }
alice_veths() { ip -o link show master warrenbr0 type veth 2>/dev/null | grep -cE "alias warren:a[0-9]"; }
running_of() { local n=0 c; for c in "$@"; do [[ $(state "$c") == RUNNING ]] && n=$((n + 1)); done; echo $n; }
cg_procs() { cat /sys/fs/cgroup/unified/warren/"$1"/cgroup.procs 2>/dev/null | sort | tr '\n' ' '; }
PY=/usr/bin/python3

cp -a /etc/warren/warren.conf "$T_LIB_TMP/warren.conf.orig" 2>/dev/null
cp -a /etc/warren/usernet "$T_LIB_TMP/usernet.orig" 2>/dev/null
restore_conf() {
        if [[ -f $T_LIB_TMP/warren.conf.orig ]]; then cp -a "$T_LIB_TMP/warren.conf.orig" /etc/warren/warren.conf; else rm -f /etc/warren/warren.conf; fi
        if [[ -f $T_LIB_TMP/usernet.orig ]]; then cp -a "$T_LIB_TMP/usernet.orig" /etc/warren/usernet; else rm -f /etc/warren/usernet; fi
}
grant alice warren-create
grant alice warren-manage-own
grant bob warren-create
grant bob warren-manage-own
printf 'limit.running.alice = 1\nlimit.containers.alice = 8\n' >/etc/warren/warren.conf
echo "alice veth warrenbr0 1" >/etc/warren/usernet

ALL=(a1 a2 a3 a4 a5 a6)
for c in "${ALL[@]}"; do
        t_ok "alice creates $c (a veth on warrenbr0)" as_user alice warrenctl create $c -t busybox
done
t_eq "the NIC is kept (alice has a usernet quota)" "$(warrenctl config get a1 lxc.net.0.link)" warrenbr0

# --- 12 §2: quotas hold under concurrency -------------------------------------------------------
# Six Starts at once, five rounds: the check and the reservation are one step.
parallel_starts() {
        local c
        for c in "${ALL[@]}"; do
                as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1/container/$c \
                        --method org.warren1.Container.Start >"$T_LIB_TMP/start.$c" 2>&1 &
        done
        wait
}
for round in 1 2 3 4 5; do
        parallel_starts
        t_eq "round $round, limit.running.alice = 1: one running" "$(running_of "${ALL[@]}")" 1 ||
                for c in "${ALL[@]}"; do t_diag "$c $(state $c): $(cat "$T_LIB_TMP/start.$c")"; done
        t_ok "round $round: at most one veth" test "$(alice_veths)" -le 1
        t_match "round $round: the others were told QuotaExceeded naming the limit" "$(cat "$T_LIB_TMP"/start.*)" \
                "org.warren1.Error.QuotaExceeded: User alice has 1 running container: the limit limit.running.alice is 1"
        for c in "${ALL[@]}"; do [[ $(state $c) == RUNNING ]] && warrenctl stop -k $c >/dev/null; done
        t_eq "round $round: all stopped again" "$(running_of "${ALL[@]}")" 0
done
sed -i 's/^limit.running.alice = 1$/limit.running.alice = 6/' /etc/warren/warren.conf
for round in 1 2 3 4 5 6 7 8; do
        parallel_starts
        t_eq "round $round, usernet 'alice veth warrenbr0 1': one running" "$(running_of "${ALL[@]}")" 1 ||
                for c in "${ALL[@]}"; do t_diag "$c $(state $c): $(cat "$T_LIB_TMP/start.$c")"; done
        t_eq "round $round: exactly one veth" "$(alice_veths)" 1
        t_match "round $round: the others were told QuotaExceeded naming user, bridge and count" \
                "$(cat "$T_LIB_TMP"/start.*)" \
                "org.warren1.Error.QuotaExceeded: User alice may attach at most 1 veth interface to bridge warrenbr0"
        for c in "${ALL[@]}"; do [[ $(state $c) == RUNNING ]] && warrenctl stop -k $c >/dev/null; done
        t_eq "round $round: no veth left" "$(alice_veths)" 0
done
# Creates at once: limit.containers.alice = 8, six exist.
for i in 1 2 3 4 5 6; do
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 \
                --method org.warren1.Manager.CreateContainer b$i busybox "[]" "{}" >"$T_LIB_TMP/create.$i" 2>&1 &
done
wait
t_eq "six creates at once: two made it (8 in all)" "$(ls -d $S/b[1-6] 2>/dev/null | wc -l)" 2
t_match "the others: QuotaExceeded naming the limit" "$(cat "$T_LIB_TMP"/create.*)" \
        "org.warren1.Error.QuotaExceeded: User alice has 8 containers: the limit limit.containers.alice is 8"
t_ok "no half-made container left" bash -c '! ls -a '"$S"' | grep -q "^\.#"'
for i in 1 2 3 4 5 6; do [[ -d $S/b$i ]] && warrenctl destroy b$i >/dev/null; done

# --- 12 §3: no user can exhaust warrend -----------------------------------------------------------
printf 'limit.running.alice = 1\nlimit.attach.alice = 3\n' >/etc/warren/warren.conf
t_ok "a1 without network" warrenctl config set a1 lxc.net.0.type=empty
t_ok "alice starts a1" as_user alice warrenctl start a1
t_ok "bob creates his own" as_user bob warrenctl create bb1 -t busybox
t_ok "bb1 without network" warrenctl config set bb1 lxc.net.0.type=empty
t_ok "bob starts bb1" as_user bob warrenctl start bb1
fds0=$(warrend_fds)
for i in 1 2 3; do
        as_user alice warrenctl attach a1 --no-pty -- sleep 600 >/dev/null 2>&1 &
done
wait_for "alice has 3 processes attached" 10 bash -c '[ "$(pgrep -f "^sleep 600" | wc -l)" = 3 ]'
# An attached process holds its pidfd in warrend, and the connection its
# exit status comes on when the container's attach helper made it.
fds_attached=$(warrend_fds)
t_ok "3 attached processes hold at most 2 fds each in warrend ($fds0 before, $fds_attached with them)" \
        test "$fds_attached" -le "$((fds0 + 6))"
procs=$(cg_procs a1)
t_fail_match "a 4th: QuotaExceeded naming the limit" \
        "org.warren1.Error.QuotaExceeded: User alice has 3 attached processes: the limit limit.attach.alice is 3" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 \
        --method org.warren1.Container.Attach "['/bin/true']" "{}"
for i in $(seq 50); do
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 \
                --method org.warren1.Container.Attach "['/bin/true']" "{}" >/dev/null 2>&1
done
t_eq "50 refused attaches changed nothing in a1" "$(cg_procs a1)" "$procs"
t_eq "nor warrend's fds ($fds_attached with the 3 attached)" "$(warrend_fds)" "$fds_attached"
t_ok "bob attaches to his own meanwhile" as_user bob warrenctl attach bb1 --no-pty -- true
pkill -f "^sleep 600"
wait
wait_for "alice may attach again once hers ended" 10 as_user alice warrenctl attach a1 --no-pty -- true

# Statuses nobody waits for are bounded in number, not only in time.
cat >"$T_LIB_TMP/exited.py" <<'EOF'
import sys, time, dbus
bus = dbus.SystemBus()
c = dbus.Interface(bus.get_object("org.warren1", "/org/warren1/container/a1"), "org.warren1.Container")
pids = []
for i in range(80):
    fd, pid = c.Attach(["/bin/true"], {})
    pids.append(int(pid))
    time.sleep(0.02)
time.sleep(1)
def wait(pid):
    try:
        return str(c.WaitAttached(dbus.UInt32(pid)))
    except dbus.DBusException as e:
        return e.get_dbus_name() + ": " + e.get_dbus_message()
print(wait(pids[0]))
print(wait(pids[-1]))
EOF
printf 'limit.running.alice = 1\n' >/etc/warren/warren.conf
t_ok "alice attaches 80 short processes and waits for none" as_user alice $PY "$T_LIB_TMP/exited.py"
t_match "the oldest status is gone (64 kept per user)" "$(sed -n 1p <<<"$T_OUT")" \
        "org.freedesktop.DBus.Error.InvalidArgs: No process [0-9]+ attached to container 'a1' by this caller"
t_eq "the newest is kept" "$(sed -n 2p <<<"$T_OUT")" 0

# Calls waiting per connection and per user are capped.
cat >"$T_LIB_TMP/pending.py" <<'EOF'
import os, sys, time
from gi.repository import Gio, GLib
addr = os.environ["DBUS_SYSTEM_BUS_ADDRESS"]
def conn():
    return Gio.DBusConnection.new_for_address_sync(
        addr, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
c0 = conn()
r = c0.call_sync("org.warren1", "/org/warren1/container/a1", "org.warren1.Container", "Attach",
                 GLib.Variant("(asa{sv})", (["/bin/sleep", "600"], {})), None, Gio.DBusCallFlags.NONE, 10000, None)
pid = r.unpack()[1]
results = []
def done(c, res, i):
    try:
        c.call_finish(res)
        results.append("ok")
    except GLib.Error as e:
        results.append(e.message)
conns = [c0] + [conn() for i in range(5)]
n = 0
for k, c in enumerate(conns):
    for i in range(40 if k == 0 else 30):
        c.call("org.warren1", "/org/warren1/container/a1", "org.warren1.Container", "WaitAttached",
               GLib.Variant("(u)", (pid,)), None, Gio.DBusCallFlags.NONE, 60000, None, done, n)
        n += 1
ctx = GLib.MainContext.default()
deadline = time.monotonic() + 10
while time.monotonic() < deadline and len(results) < n - 128:
    ctx.iteration(False); time.sleep(0.005)
refused = [x for x in results if "QuotaExceeded" in x]
print(len(refused), "refused")
print(len([x for x in refused if "limit is 32 per connection" in x]), "per connection")
print(len([x for x in refused if "limit is 128 per user" in x]), "per user")
print(refused[0] if refused else "none")
c0.call_sync("org.warren1", "/org/warren1/container/a1", "org.warren1.Container", "KillAttached",
             GLib.Variant("(ui)", (pid, 9)), None, Gio.DBusCallFlags.NONE, 10000, None)
deadline = time.monotonic() + 10
while time.monotonic() < deadline and len(results) < n:
    ctx.iteration(False); time.sleep(0.005)
print(len([x for x in results if x == "ok"]), "answered once it exited")
EOF
t_ok "alice holds 190 WaitAttached over 6 connections" as_user alice $PY "$T_LIB_TMP/pending.py"
out=$T_OUT
t_diag "$out"
t_match "62 of them refused (190 - 128 held)" "$out" "(^|[^0-9])62 refused"
t_ok "...each for one of the caps" bash -c 'a=$(sed -n "s/^\([0-9]*\) per connection$/\1/p" <<<"$1"); b=$(sed -n "s/^\([0-9]*\) per user$/\1/p" <<<"$1"); [ $((a + b)) = 62 ] && [ "$a" -le 8 ]' _ "$out"
t_match "QuotaExceeded naming connection and limit" "$out" \
        "org.warren1.Error.QuotaExceeded: Too many calls of (connection :[0-9.]+|uid [0-9]+) waiting: [0-9]+, the limit is"
t_match "the 128 held were answered once the process ended" "$out" "128 answered once it exited"
t_ok "bob is served meanwhile and after" as_user bob warrenctl attach bb1 --no-pty -- true

# --- 12 §6: Attach's stdio fds are pipes, sockets, ttys or regular files ---------------------------
cat >"$T_LIB_TMP/badfd.py" <<'EOF'
import os, select, sys
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
r, w = os.pipe()
ep = select.epoll()
cases = [
    ("stdin", os.open("/", os.O_RDONLY | os.O_DIRECTORY), "a directory"),
    ("stdout", os.open("/etc/passwd", os.O_PATH), "O_PATH"),
    ("stderr", ep.fileno(), "eventpoll"),
    ("stdin", os.eventfd(0), "eventfd"),
    ("stdin", w, "not open for reading"),
    ("stdout", r, "not open for writing"),
]
keep = []
for key, fd, want in cases:
    fds = Gio.UnixFDList.new()
    h = fds.append(fd)
    try:
        bus.call_with_unix_fd_list_sync("org.warren1", "/org/warren1/container/a1", "org.warren1.Container", "Attach",
            GLib.Variant("(asa{sv})", (["/bin/sh", "-c", "echo escaped > /tmp/escaped"], {key: GLib.Variant("h", h)})),
            None, Gio.DBusCallFlags.NONE, 10000, fds, None)
        print("ACCEPTED", key, want)
    except GLib.Error as e:
        print(e.message)
EOF
procs=$(cg_procs a1)
t_ok "alice passes bad fds as stdio" as_user alice $PY "$T_LIB_TMP/badfd.py"
t_match "a directory as stdin: InvalidArgs naming it" "$T_OUT" \
        "org.freedesktop.DBus.Error.InvalidArgs: Option 'stdin' must be a pipe, socket, tty or regular file, not a directory"
t_match "an O_PATH fd as stdout" "$T_OUT" \
        "org.freedesktop.DBus.Error.InvalidArgs: Option 'stdout' is an O_PATH file descriptor"
t_match "an epoll fd as stderr" "$T_OUT" \
        "org.freedesktop.DBus.Error.InvalidArgs: Option 'stderr' must be a pipe, socket, tty or regular file, not anon_inode:\[eventpoll\]"
t_match "an eventfd as stdin" "$T_OUT" "Option 'stdin' must be .* not anon_inode:\[eventfd\]"
t_match "a pipe's write end as stdin" "$T_OUT" "Option 'stdin' is not open for reading"
t_match "a pipe's read end as stdout" "$T_OUT" "Option 'stdout' is not open for writing"
t_ok "none was accepted" bash -c '! grep -q ACCEPTED <<<"$1"' _ "$T_OUT"
t_eq "nothing ran in a1" "$(cg_procs a1)" "$procs"
t_fail "no file was written inside" as_user alice warrenctl attach a1 --no-pty -- test -e /tmp/escaped
t_ok "a pipe is fine" bash -c '. "$1"; echo hi | as_user alice warrenctl attach a1 --no-pty -- cat | grep -q hi' _ "$WARREN_SRC/tests/integration/lib.sh"

# --- issue 15: warm monitors' and attach helpers' sockets are root's ---------------------------------
as_user alice warrenctl start a1 >/dev/null 2>&1 # (it may run already)
t_ok "a1 runs (alice's)" bash -c 'warrenctl list | grep -Eq "^a1 +RUNNING"'
for sock in /run/warren/pool/*/control /run/warren/containers/a1/attach; do
        t_fail "alice cannot reach $sock" as_user alice /usr/bin/python3 -c \
                'import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])' "$sock"
done
t_ok "a1 still attaches" as_user alice warrenctl attach a1 --no-pty -- true
t_ok "stop a1" warrenctl stop -k a1

# --- cleanup -------------------------------------------------------------------------------------
warrenctl stop -k a1 >/dev/null 2>&1
warrenctl stop -k bb1 >/dev/null 2>&1
for c in "${ALL[@]}" bb1; do warrenctl destroy $c >/dev/null 2>&1; done
restore_conf
revoke_all alice bob
finish
