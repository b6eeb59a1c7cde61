#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 14: a real distribution. Debian bookworm images built by
# tests/fixtures/make-debian-image.sh (mmdebstrap, packed as distrobuilder
# packs LXC images), served by the fixture image server on 127.0.0.1, created
# with the download template and booted, as root and as the unprivileged
# alice: systemd with systemd-networkd (what the real images use), systemd
# with ifupdown + dhclient, and sysvinit. For systemd: is-system-running
# reaches running, no failed unit, an address by DHCP on warrenbr0 that
# IPv4Addresses shows, a login prompt on the console, Reboot comes back with
# a new init, Stop halts cleanly well inside its timeout, nothing is left
# behind. sysvinit: boots, gets an address, stops cleanly.
# The images are built outside the sandbox (it has no network) by the line
# below, which run.sh runs first; cached, so a second run costs nothing.
# host-fixture: tests/fixtures/make-debian-image.sh --variant networkd
# host-fixture: tests/fixtures/make-debian-image.sh --variant ifupdown
# host-fixture: tests/fixtures/make-debian-image.sh --variant sysvinit
# timeout: 900
# cost: 150
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
ARCH=$(dpkg --print-architecture)
FIX=$TMPDIR/fixture
BOOT_TIMEOUT=60
STOP_TIMEOUT=60

# The container's object path (names with "-" are escaped in paths).
cpath() { "${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager GetContainer s "$1" | sed 's/^o //; s/"//g'; }
prop() { "${BUS[@]}" get-property org.warren1 "$(cpath "$1")" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
addrs() { "${BUS[@]}" get-property org.warren1 "$(cpath "$1")" org.warren1.Container IPv4Addresses | cut -d' ' -f3- | tr -d '"'; }
# has_addr NAME REGEX: one of its addresses (on the bus) matches.
has_addr() {
        local a
        for a in $(addrs "$1"); do
                [[ $a =~ $2 ]] && return 0
        done
        echo "addresses of $1: '$(addrs "$1")'"
        return 1
}
veths_of() { ip -o link show type veth | grep -cE "alias warren:$1([^A-Za-z0-9_.-]|$)"; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# The caller of the moment: "root" or "alice". ctl runs warrenctl as them.
WHO=root
ctl() {
        if [[ $WHO == root ]]; then
                warrenctl "$@"
        else
                as_user "$WHO" warrenctl "$@"
        fi
}
in_ct() { local c=$1; shift; ctl attach "$c" --no-pty -- "$@"; }

# system_state NAME: succeeds once systemd says running or degraded (its
# bus answers only a little after init starts).
system_state() {
        local s
        s=$(in_ct "$1" systemctl is-system-running 2>&1)
        echo "$s"
        [[ $s == running || $s == degraded ]]
}

# wait_running NAME DESC: is-system-running reaches running (or degraded:
# then the failed units and the warnings of the boot go to the log).
wait_running() {
        local name=$1 desc=$2 t0 ms
        t0=$(now_ms)
        if wait_for "$desc" "$BOOT_TIMEOUT" system_state "$name"; then
                ms=$(($(now_ms) - t0))
                t_diag "$name: $T_OUT after ${ms} ms"
                if [[ $T_OUT == degraded ]]; then
                        t_diag "$(in_ct "$name" systemctl --failed --no-pager 2>&1)"
                        t_diag "$(in_ct "$name" journalctl -b --no-pager -p warning 2>&1 | tail -n 40)"
                fi
                t_eq "$name: is-system-running says running" "$T_OUT" running
        else
                t_diag "$(in_ct "$name" journalctl -b --no-pager -p warning 2>&1 | tail -n 40)"
                t_not "$name: is-system-running says running" "never reached running"
        fi
}

# sysv_booted NAME: runlevel 2 reached and the console getty runs.
sysv_booted() {
        in_ct "$1" sh -c 'runlevel && pgrep -f "getty.* console"'
}

# login_prompt NAME: warrenctl console (as WHO, in a tmux terminal) shows
# "NAME login:" after an Enter; Ctrl-a q leaves it.
login_prompt() {
        local name=$1 uid gid
        local -a cmd=(warrenctl console "$name")
        if [[ $WHO != root ]]; then
                uid=$(id -u "$WHO")
                gid=$(id -g "$WHO")
                cmd=(setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all env HOME=/ "${cmd[@]}")
        fi
        # A tmux server of its own per container: a new session must not land
        # in the previous server while that one is still exiting. The pane
        # stays after the client ends, so that a failure shows its message.
        local -a tm=(tmux -L "con-$name")
        "${tm[@]}" new-session -d -s con -x 100 -y 30 \
                env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" PATH="$PATH" \
                sh -c '"$@"; echo "console client exited: $?"; sleep 60' sh "${cmd[@]}"
        wait_for "$name: warrenctl console connects ($WHO)" 10 sh -c "${tm[*]} capture-pane -t con -p | grep -q 'Ctrl-a q'"
        local i screen=""
        for ((i = 0; i < 30; i++)); do
                "${tm[@]}" send-keys -t con "" Enter
                sleep 0.3
                screen=$("${tm[@]}" capture-pane -t con -p)
                [[ $screen == *"$name login:"* || $screen == *"console client exited"* ]] && break
        done
        t_match "$name: the console shows a login prompt" "$screen" "$name login:"
        "${tm[@]}" send-keys -t con C-a q
        wait_for "$name: the console client leaves on Ctrl-a q" 10 sh -c \
                "${tm[*]} capture-pane -t con -p | grep -q 'console client exited: 0'"
        "${tm[@]}" kill-server 2>/dev/null
}

# create_debian NAME IMAGE-VARIANT: as WHO; root points the console log at a
# file that outlives the container's run.
create_debian() {
        local name=$1 variant=$2
        t_ok "$WHO creates $name from debian bookworm ($variant)" \
                ctl create "$name" -t download -- -d debian -r bookworm -a "$ARCH" --variant "$variant" --server "$URL" ||
                return 1
        t_match "$name: $WHO owns it" "$(prop "$name" OwnerUID)" "^$(id -u "$WHO")\$"
        t_eq "$name: its NIC is a veth on warrenbr0" "$(warrenctl config get "$name" lxc.net.0.link)" warrenbr0
        warrenctl config set "$name" "lxc.console.logfile=$TMPDIR/$name.console" >/dev/null ||
                t_diag "could not set lxc.console.logfile on $name"
}

# address_checks NAME: an address by DHCP from warrenbr0, on the bus and inside.
address_checks() {
        local name=$1 a
        wait_for "$name: an address from warrenbr0's DHCP in IPv4Addresses" 30 has_addr "$name" '^10\.0\.3\.[0-9]+$'
        a=$(addrs "$name")
        t_match "$name: eth0 inside has it, leased (dynamic)" "$(in_ct "$name" ip -4 -o addr show dev eth0)" \
                "inet ${a//./\\.}/24 .*dynamic"
        t_match "$name: the lease is in dnsmasq's lease file" "$(cat /run/warren/networks/warrenbr0.leases 2>/dev/null)" \
                " ${a//./\\.} $name "
}

# stop_checks NAME HALT_RE LAST_RE: Stop returns well inside its timeout
# (init halted by itself: no SIGKILL), the console log shows init's halt
# sequence (HALT_RE) down to its very last line before reboot(2) (LAST_RE:
# once seen missing on a loaded machine, before the monitor read what the
# console still held at the end) and nothing of the run is left.
stop_checks() {
        local name=$1 halt_re=$2 last_re=$3 t0 ms log
        t0=$(now_ms)
        t_ok "$name: $WHO stops it (timeout $STOP_TIMEOUT s)" ctl stop "$name" -t "$STOP_TIMEOUT"
        ms=$(($(now_ms) - t0))
        t_diag "$name: stop took $ms ms"
        t_ok "$name: halted by itself, well inside the timeout (${ms} ms < $((STOP_TIMEOUT / 3)) s)" \
                test "$ms" -lt $((STOP_TIMEOUT * 1000 / 3))
        t_eq "$name: STOPPED" "$(prop "$name" State)" STOPPED
        # The last 80 lines: in an unprivileged container sysvinit's umountfs
        # says why it cannot unmount each of the container's mounts.
        log=$(tr -d '\r\0' <"$TMPDIR/$name.console" 2>/dev/null | tail -n 80)
        t_match "$name: the console log shows init's halt sequence" "$log" "$halt_re"
        t_match "$name: the console log has init's last line before reboot(2)" "$log" "$last_re"
        t_fail "$name: no timeout or kill during the shutdown" grep -aE "Timed out|timed out|Killing process|State 'stop-sigterm' timed out" \
                "$TMPDIR/$name.console"
        wait_for "$name: nothing left behind (cgroups, runtime dir, monitor)" 10 no_leftovers "$name"
        t_eq "$name: no veth left" "$(veths_of "$name")" 0
        t_eq "$name: IPv4Addresses empty" "$(addrs "$name")" ""
}

# systemd_container NAME IMAGE-VARIANT: the whole story for a systemd image.
systemd_container() {
        local name=$1 variant=$2 pid1 pid2
        create_debian "$name" "$variant" || return
        t_ok "$name: $WHO starts it" ctl start "$name" || { ctl destroy "$name"; return; }
        wait_running "$name" "$name: systemd finishes booting within $BOOT_TIMEOUT s"
        t_ok "$name: systemctl --failed" in_ct "$name" systemctl --failed --no-legend --plain --no-pager
        t_eq "$name: no failed unit" "$T_OUT" ""
        t_eq "$name: systemd sees itself in a container" "$(in_ct "$name" systemd-detect-virt --container)" lxc
        address_checks "$name"
        login_prompt "$name"

        pid1=$(prop "$name" InitPID)
        t_ok "$name: $WHO reboots it" ctl reboot "$name"
        new_init() { local p; p=$(prop "$name" InitPID); [[ $p != 0 && $p != "$pid1" && $(prop "$name" State) == RUNNING ]]; }
        wait_for "$name: back RUNNING with a new init" 30 new_init
        pid2=$(prop "$name" InitPID)
        t_diag "$name: init $pid1 before the reboot, $pid2 after"
        t_match "$name: the console log shows the reboot" "$(tr -d '\r' <"$TMPDIR/$name.console" 2>/dev/null)" "Rebooting\."
        wait_running "$name" "$name: systemd boots again after the reboot"
        t_ok "$name: systemctl --failed after the reboot" in_ct "$name" systemctl --failed --no-legend --plain --no-pager
        t_eq "$name: no failed unit after the reboot" "$T_OUT" ""
        address_checks "$name"

        stop_checks "$name" "Starting systemd-halt\.service - System Halt" "Halting system\."
        t_ok "$name: $WHO destroys it" ctl destroy "$name"
}

sysvinit_container() {
        local name=$1
        create_debian "$name" sysvinit || return
        t_ok "$name: $WHO starts it" ctl start "$name" || { ctl destroy "$name"; return; }
        wait_for "$name: sysvinit reaches runlevel 2 with a getty on the console" "$BOOT_TIMEOUT" sysv_booted "$name"
        t_match "$name: init is sysvinit" "$(in_ct "$name" cat /proc/1/cmdline | tr '\0' ' ')" '^init'
        address_checks "$name"
        stop_checks "$name" "Asking all remaining processes to terminate" "Will now halt\."
        # umountroot's remount,ro / was refused (the host guard for root's
        # privileged one, the kernel for alice's): the host's file system
        # under the rootfs is still read-write.
        t_match "$name: the file system under its rootfs is still read-write after the halt" \
                "$(findmnt -n -o FS-OPTIONS --target /var/lib/warren/containers)" '^rw(,|$)'
        t_ok "$name: $WHO destroys it" ctl destroy "$name"
}

# ---- the images and their server ----
mkdir -p "$FIX/server"
for v in networkd ifupdown sysvinit; do
        bash "$WARREN_SRC/tests/fixtures/make-debian-image.sh" --variant "$v" "$FIX/server" >"$FIX/$v.out" 2>&1 ||
                bail_out "no $v image: $(cat "$FIX/$v.out")"
done
mkfifo "$FIX/in"
exec {SERVER_FD}<>"$FIX/in"
/usr/bin/python3 "$WARREN_SRC/tests/fixtures/image-server.py" --root "$FIX/server" --log "$FIX/server.log" \
        --arch "$ARCH" --lifetime 900 <"$FIX/in" >"$FIX/port" 2>"$FIX/server.err" &
SERVER_PID=$!
for ((i = 0; i < 200; i++)); do
        port=$(head -n1 "$FIX/port" 2>/dev/null)
        [[ $port =~ ^[0-9]+$ ]] && break
        sleep 0.05
done
[[ $port =~ ^[0-9]+$ ]] || bail_out "image-server.py did not start: $(cat "$FIX/server.err")"
URL=http://127.0.0.1:$port

# alice may create, manage and use her own containers and pull images, and
# may put two NICs on warrenbr0.
for g in warren-create warren-manage-own warren-pull; do grant alice "$g"; done
usernet_before=$(cat /etc/warren/usernet 2>/dev/null)
echo "alice veth warrenbr0 2" >/etc/warren/usernet

for WHO in root alice; do
        p=${WHO:0:1}
        systemd_container "${p}deb-networkd" default
        systemd_container "${p}deb-ifupdown" ifupdown
        sysvinit_container "${p}deb-sysv"
done
WHO=root

t_eq "no veth at all on the host" "$(ip -o link show type veth | wc -l)" 0
t_ok "all destroyed" test -z "$(ls -A /var/lib/warren/containers)"
if [[ -n $usernet_before ]]; then echo "$usernet_before" >/etc/warren/usernet; else rm -f /etc/warren/usernet; fi
revoke_all alice
exec {SERVER_FD}>&-
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
finish
