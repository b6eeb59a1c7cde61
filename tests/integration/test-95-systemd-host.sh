#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 20's proof: warren installed like a distribution installs it, on a
# host whose PID 1 is systemd. The host is a Debian bookworm system
# container (systemd, dbus, polkitd, machined, dnsmasq, nftables, busybox
# and warren's runtime libraries; tests/fixtures/make-debian-image.sh,
# cached) that warren itself boots in this sandbox, privileged, with
# LXC's nesting settings (data/nesting.conf). `meson install` of the build
# under test goes into its root before it boots; systemd-sysusers and
# -tmpfiles make group warren and the dirs at boot. Inside it:
#   - warrend is bus-activated through systemd (warrend.service), says
#     READY=1 and its STATUS=, and exits when idle with no process left
#     behind in its cgroup (no "left-over process" warning);
#   - a busybox container runs in warren-NAME.scope under machine.slice
#     (monitor and payload in cgroups of their own below it), is known to
#     machined (machinectl list/status), and has warren-halt@NAME.service;
#     dnsmasq runs in warren-dnsmasq-BRIDGE.scope;
#   - a failed start is in journalctl -u warrend -p warning with its name;
#   - a user in group warren, in no seat session (runuser), may create and
#     start an unprivileged container;
#   - systemctl reboot of the host (warrend idle-exited first): the
#     container's init gets its halt signal and runs its shutdown actions
#     before the network goes, no warren unit fails, and after the boot
#     warren-autostart brings the autostart container back.
# host-fixture: tests/fixtures/make-debian-image.sh --variant networkd --name systemd-host --include systemd-container,polkitd,dnsmasq-base,nftables,busybox-static,libpam-systemd,libcap2,libnl-3-200,libnl-route-3-200,libnftables1,libcurl4,libarchive13,libseccomp2,libglib2.0-0,libjson-glib-1.0-0,libsmartcols1
# timeout: 900
# cost: 120
. "$(dirname "$0")/lib.sh"

ARCH=$(dpkg --print-architecture)
FIX=$TMPDIR/fixture
HOST=syshost
ROOT=/var/lib/warren/containers/$HOST/rootfs
BOOT_TIMEOUT=90
PKGS=systemd-container,polkitd,dnsmasq-base,nftables,busybox-static,libpam-systemd,libcap2,libnl-3-200,libnl-route-3-200,libnftables1,libcurl4,libarchive13,libseccomp2,libglib2.0-0,libjson-glib-1.0-0,libsmartcols1
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
T0=$(now_ms)

# in_host CMD...: runs CMD in the host container (its namespaces, as root).
in_host() { warrenctl attach "$HOST" --no-pty -- "$@"; }
# in_host_sh SCRIPT: the same through sh -c.
in_host_sh() { warrenctl attach "$HOST" --no-pty -- sh -c "$1"; }

host_state() {
        local s
        s=$(in_host systemctl is-system-running 2>&1)
        echo "$s"
        [[ $s == running || $s == degraded ]]
}

wait_booted() {
        local t0 ms
        t0=$(now_ms)
        if wait_for "$1" "$BOOT_TIMEOUT" host_state; then
                ms=$(($(now_ms) - t0))
                t_diag "the host reached '$T_OUT' in $ms ms"
                if [[ $T_OUT == degraded ]]; then
                        t_diag "$(in_host systemctl --failed --no-pager 2>&1)"
                        t_diag "$(in_host journalctl -b --no-pager -p warning 2>&1 | tail -n 40)"
                fi
                t_eq "$1: is-system-running says running" "$T_OUT" running
        else
                t_diag "$(in_host journalctl -b --no-pager -p warning 2>&1 | tail -n 40)"
                t_not "$1: is-system-running says running" "never reached running"
                return 1
        fi
}

# ---- the host: a Debian with systemd, warren installed into it -----------
mkdir -p "$FIX/server"
bash "$WARREN_SRC/tests/fixtures/make-debian-image.sh" --variant networkd --name systemd-host --include "$PKGS" \
        "$FIX/server" >"$FIX/image.out" 2>&1 || bail_out "no image: $(cat "$FIX/image.out")"
IMG=$(tail -n 1 "$FIX/image.out")
t_ok "create $HOST from the image (local template)" \
        warrenctl create "$HOST" -t local -- --fstree "$IMG/rootfs.tar.xz" --metadata "$IMG/meta.tar.xz"
t_diag "image unpacked after $(($(now_ms) - T0)) ms"
# LXC's nesting settings: the host runs containers of its own.
t_ok "$HOST includes nesting.conf" warrenctl config set "$HOST" "lxc.include=$WARREN_SRC/data/nesting.conf"

# Installed as `meson install` installs it, before the first boot: the
# build under test, its prefix (units, bus and polkit files where the
# system's readers read them; sysusers.d and tmpfiles.d apply at boot).
t_ok "meson install into the host's root" meson install -C "$WARREN_BUILD" --no-rebuild --quiet --destdir "$ROOT"
t_diag "$(tail -n 3 <<<"$T_OUT")"
# Libraries the build needs that the image lacks (a sanitizer's runtime,
# a dependency added since the image's package list): the host's own,
# the same Debian release.
missing=""
for b in "$WARREN_BUILD/service/warrend" "$WARREN_BUILD/service/warren-monitor" "$WARREN_BUILD/cli/warrenctl"; do
        for lib in $(ldd "$b" | awk '$3 ~ /^\// { print $3 }'); do
                [[ -e $ROOT$lib || -e $ROOT/usr$lib ]] && continue
                mkdir -p "$ROOT$(dirname "$lib")"
                cp -L "$lib" "$ROOT$lib"
                missing+=" ${lib##*/}"
        done
done
[[ -n $missing ]] && t_diag "copied from this machine (not in the image):$missing"
# A persistent journal (the boot before a reboot is read back), the
# container's own hostname.
mkdir -p "$ROOT/var/log/journal"
echo "$HOST" >"$ROOT/etc/hostname"
# warrend exits when idle after 5 s instead of 30 (a drop-in, as an admin would).
mkdir -p "$ROOT/etc/systemd/system/warrend.service.d"
exec_start=$(sed -n 's/^ExecStart=//p' "$ROOT"/lib/systemd/system/warrend.service)
printf '[Service]\nExecStart=\nExecStart=%s --exit-idle-sec=5\n' "$exec_start" \
        >"$ROOT/etc/systemd/system/warrend.service.d/50-test-idle.conf"
# A sanitizer build: its options as the harness's (reports go to the journal).
if [[ -n ${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-} ]]; then
        printf '[Service]\nEnvironment="ASAN_OPTIONS=%s" "UBSAN_OPTIONS=%s"\n' "${ASAN_OPTIONS:-}" "${UBSAN_OPTIONS:-}" \
                >"$ROOT/etc/systemd/system/warrend.service.d/50-test-sanitizers.conf"
fi
# Enabled as the README says.
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
ln -sf /lib/systemd/system/warren-autostart.service "$ROOT/etc/systemd/system/multi-user.target.wants/"

t_ok "$HOST starts" warrenctl start "$HOST" || bail_out "$T_ERR"
wait_booted "$HOST boots" || bail_out "$HOST did not boot"
t_diag "booted after $(($(now_ms) - T0)) ms"

# ---- bus activation through systemd --------------------------------------
t_ok "group warren exists (systemd-sysusers at boot)" in_host getent group warren
t_ok "/var/lib/warren/containers exists (systemd-tmpfiles at boot)" in_host test -d /var/lib/warren/containers
t_ok "warrenctl list" in_host warrenctl list
t_eq "warrend.service is active" "$(in_host systemctl is-active warrend)" active
t_match "dbus-daemon activated org.warren1 through systemd (warren-autostart's call at boot)" \
        "$(in_host journalctl -b -u dbus --no-pager -o cat)" "Activating via systemd: service name='org.warren1' unit='warrend.service'"
t_match "its main pid is warrend" "$(in_host_sh 'cat /proc/$(systemctl show -P MainPID warrend)/comm')" '^warrend$'
t_eq "warren-autostart.service succeeded at boot" "$(in_host systemctl show -P Result warren-autostart)" success
t_match "STATUS= says how many containers run" "$(in_host systemctl show -P StatusText warrend)" \
        '^0 of 0 containers running$'

# ---- a container in systemd's tree, known to machined --------------------
t_ok "a network of its own inside (DHCP: dnsmasq)" \
        in_host warrenctl network create warrenbr0 --ipv4 10.0.4.1/24 --nat --dhcp
t_ok "create bb (busybox)" in_host warrenctl create bb -t busybox
# Its init's shutdown action leaves a mark: the halt at the host's reboot ran it.
t_ok "bb's inittab marks a halt" in_host_sh \
        'echo "::shutdown:/bin/sh -c \"date +%s.%N >/halt-marker\"" >>/var/lib/warren/containers/bb/rootfs/etc/inittab'
t_ok "bb starts at boot (lxc.start.auto)" in_host warrenctl config set bb lxc.start.auto=1
t_ok "start bb" in_host warrenctl start bb
bb_init=$(in_host busctl get-property org.warren1 /org/warren1/container/bb org.warren1.Container InitPID | cut -d' ' -f2)
t_diag "bb's init: pid $bb_init (in the host)"
t_match "bb's init is in machine.slice/warren-bb.scope/payload" "$(in_host cat /proc/"$bb_init"/cgroup)" \
        ':/machine\.slice/warren-bb\.scope/payload$'
t_match "CGroup says so" "$(in_host_sh "busctl get-property org.warren1 /org/warren1/container/bb org.warren1.Container CGroup")" \
        '"/machine\.slice/warren-bb\.scope/payload"'
mon=$(in_host sed -n 's/^monitor_pid=//p' /run/warren/containers/bb/state)
t_match "its monitor is in the scope's monitor cgroup" "$(in_host cat /proc/"${mon:-0}"/cgroup 2>&1)" \
        ':/machine\.slice/warren-bb\.scope/monitor$'
t_eq "warren-bb.scope is active" "$(in_host systemctl is-active warren-bb.scope)" active
# It loaded libsystemd for its scope and machined, and let it go: a
# running container's monitor keeps none of it.
t_ok "bb's monitor maps no libsystemd once in its scope" in_host sh -c "! grep libsystemd /proc/${mon:-0}/maps"
t_eq "...in machine.slice" "$(in_host systemctl show -P Slice warren-bb.scope)" machine.slice
t_eq "...delegated" "$(in_host systemctl show -P Delegate warren-bb.scope)" yes
t_eq "warren-halt@bb.service is active (its stop halts bb)" "$(in_host systemctl is-active warren-halt@bb.service)" active
t_match "machinectl list shows bb, a container of warren" "$(in_host machinectl list --no-legend --no-pager)" \
        '^bb +container +warren'
t_match "machinectl status bb: its unit and leader" "$(in_host machinectl status bb --no-pager)" \
        "Unit: warren-bb\.scope"
t_match "...leader" "$(in_host machinectl show bb -p Leader)" "^Leader=$bb_init\$"
t_ok "attach to bb works from below the scope" in_host warrenctl attach bb -- true
t_ok "freeze bb (the freezer below the scope)" in_host warrenctl freeze bb
t_eq "FROZEN" "$(in_host warrenctl state bb)" FROZEN
t_ok "unfreeze bb" in_host warrenctl unfreeze bb
t_match "MemoryCurrent is read below the scope" \
        "$(in_host busctl get-property org.warren1 /org/warren1/container/bb org.warren1.Container MemoryCurrent)" '^t [1-9][0-9]*$'
dns=$(in_host pgrep -x dnsmasq)
t_match "dnsmasq runs in warren-dnsmasq-warrenbr0.scope" "$(in_host cat /proc/"${dns:-0}"/cgroup 2>&1)" \
        ':/system\.slice/warren-dnsmasq-warrenbr0\.scope$'
t_match "STATUS= follows" "$(in_host systemctl show -P StatusText warrend)" '^1 of 1 container running$'

# ---- a failed start in warrend's journal ----------------------------------
t_ok "create bad" in_host warrenctl create bad -t busybox
t_ok "bad's init does not exist" in_host warrenctl config set bad lxc.init.cmd=/nonexistent/init
t_fail "start bad fails" in_host warrenctl start bad
t_match "journalctl -u warrend -p warning names bad and why" \
        "$(in_host journalctl -b -u warrend -p warning --no-pager -o cat)" \
        "failed to start container 'bad': .*/nonexistent/init"
t_match "bad's monitor wrote its own record of it (native protocol, CONTAINER=)" \
        "$(in_host journalctl -b SYSLOG_IDENTIFIER=warren-monitor CONTAINER=bad -p err --no-pager -o cat)" \
        "/nonexistent/init"
t_ok "destroy bad" in_host warrenctl destroy bad

# ---- a user in group warren, in no seat session ---------------------------
t_ok "dave, in group warren" in_host useradd -m -G warren dave
in_host_sh 'grep -q "^dave:" /etc/subuid || usermod --add-subuids 200000-265535 --add-subgids 200000-265535 dave'
t_ok "eve, not in it" in_host useradd -m eve
t_ok "dave creates a container (runuser: no logind session)" in_host runuser -u dave -- warrenctl --no-ask-password create dv -t busybox
t_ok "dave starts it" in_host runuser -u dave -- warrenctl --no-ask-password start dv ||
        t_diag "$(in_host grep -E ' (proc|sysfs) ' /proc/self/mountinfo)"
t_eq "dv runs" "$(in_host warrenctl state dv)" RUNNING
t_ok "dave stops it" in_host runuser -u dave -- warrenctl --no-ask-password stop dv -t 5
t_ok "dave destroys it" in_host runuser -u dave -- warrenctl --no-ask-password destroy dv
t_fail "eve may not create" in_host runuser -u eve -- warrenctl --no-ask-password create ev -t busybox
t_match "...and is told to ask for group warren" "$T_ERR" "group warren"

# ---- idle exit: nothing left in warrend.service ---------------------------
warrend_inactive() { ! in_host systemctl is-active --quiet warrend; }
wait_for "warrend exits when idle" 30 warrend_inactive
t_eq "bb still runs" "$(in_host_sh "cat /proc/$bb_init/comm 2>/dev/null")" init
t_fail "no left-over process in warrend.service at its idle exits" \
        sh -c "warrenctl attach $HOST --no-pty -- journalctl -b -u warrend --no-pager | grep -i 'left-over process'"
t_eq "warrend.service: result success" "$(in_host systemctl show -P Result warrend)" success

# ---- the host reboots: bb halts cleanly before the network goes -----------
host_init=$(busctl --system get-property org.warren1 /org/warren1/container/$HOST org.warren1.Container InitPID | cut -d' ' -f2)
# A container's journal keeps the kernel's boot id across its reboots:
# the shutdown is found by time.
since=$(in_host date +%s)
t_ok "systemctl reboot of the host" in_host systemctl reboot
new_host_init() {
        local p
        p=$(busctl --system get-property org.warren1 /org/warren1/container/$HOST org.warren1.Container InitPID | cut -d' ' -f2)
        [[ $p != 0 && $p != "$host_init" ]]
}
wait_for "the host's new init" 60 new_host_init
wait_booted "$HOST boots again" || bail_out "$HOST did not come back"
t_diag "rebooted after $(($(now_ms) - T0)) ms"
prev=$(in_host journalctl --since "@$since" --no-pager 2>&1)
t_ok "bb's init ran its shutdown action (halt signal)" in_host test -s /var/lib/warren/containers/bb/rootfs/halt-marker
t_match "warren-halt@bb.service stopped it at the shutdown" "$(grep -F 'warren-halt@bb.service' <<<"$prev")" \
        "Deactivated successfully|Stopped warren-halt@bb\.service"
t_fail "no warren unit failed at the shutdown or the boot" grep -E "warren.*(Failed with result|failed)" <<<"$prev"
halt_line=$(grep -n "Stopped warren-halt@bb\.service" <<<"$prev" | head -n1 | cut -d: -f1)
net_line=$(grep -nE "Stopped target .*Network\.?$" <<<"$prev" | head -n1 | cut -d: -f1)
t_diag "halt at line ${halt_line:-?}, network.target gone at line ${net_line:-?} of the journal since the reboot"
t_ok "bb halted before network.target went" test "${halt_line:-999999}" -lt "${net_line:-0}"
t_eq "no failed unit after the reboot" "$(in_host systemctl --failed --no-legend --plain --no-pager)" ""
bb_running() { [[ $(in_host warrenctl state bb) == RUNNING ]]; }
wait_for "warren-autostart brings bb back" 30 bb_running
t_match "machinectl list shows bb again" "$(in_host machinectl list --no-legend --no-pager)" '^bb +container +warren'

# machined follows the container's own reboots (a new init, a new leader).
bb_init=$(in_host busctl get-property org.warren1 /org/warren1/container/bb org.warren1.Container InitPID | cut -d' ' -f2)
t_ok "reboot bb" in_host warrenctl reboot bb
bb_new_init() {
        local p
        p=$(in_host busctl get-property org.warren1 /org/warren1/container/bb org.warren1.Container InitPID | cut -d' ' -f2)
        [[ $p != 0 && $p != "$bb_init" ]] && [[ $(in_host warrenctl state bb) == RUNNING ]]
}
wait_for "bb back with a new init" 30 bb_new_init
bb_init=$(in_host busctl get-property org.warren1 /org/warren1/container/bb org.warren1.Container InitPID | cut -d' ' -f2)
bb_leader() { [[ $(in_host machinectl show bb -p Leader) == "Leader=$bb_init" ]]; }
wait_for "machined's leader of bb is its new init ($bb_init)" 10 bb_leader

# A monitor killed: its init dies with it, warrend finishes the teardown
# below the scope, and systemd lets the empty scope go.
mon=$(in_host sed -n 's/^monitor_pid=//p' /run/warren/containers/bb/state)
t_ok "kill -9 bb's monitor ($mon)" in_host kill -9 "$mon"
bb_stopped() { [[ $(in_host warrenctl state bb) == STOPPED ]]; }
wait_for "warrend finishes bb's teardown: STOPPED" 30 bb_stopped
t_ok "no payload cgroup left" in_host sh -c \
        '! ls -d /sys/fs/cgroup/*/machine.slice/warren-bb.scope/payload /sys/fs/cgroup/machine.slice/warren-bb.scope/payload 2>/dev/null | grep -q .'
scope_gone() { ! in_host systemctl is-active --quiet warren-bb.scope; }
wait_for "warren-bb.scope is gone" 10 scope_gone
t_eq "warren-halt@bb.service went with it" "$(in_host systemctl is-active warren-halt@bb.service)" inactive
t_ok "start bb again" in_host warrenctl start bb

# Stopping its scope (machinectl terminate does) halts it cleanly too.
marker=$(in_host cat /var/lib/warren/containers/bb/rootfs/halt-marker)
t_ok "systemctl stop warren-bb.scope" in_host systemctl stop warren-bb.scope
t_eq "bb is stopped" "$(in_host warrenctl state bb)" STOPPED
t_ok "its init ran its shutdown action again" \
        test "$(in_host cat /var/lib/warren/containers/bb/rootfs/halt-marker)" != "$marker"
t_eq "warren-halt@bb.service is inactive" "$(in_host systemctl is-active warren-halt@bb.service)" inactive
t_eq "no warren unit failed" "$(in_host systemctl list-units --failed --no-legend --plain --no-pager 'warren*')" ""
t_fail "machinectl no longer lists bb" grep -q '^bb ' <<<"$(in_host machinectl list --no-legend --no-pager)"
t_ok "start bb once more" in_host warrenctl start bb
t_ok "stop bb" in_host warrenctl stop bb -t 10
t_fail "no sanitizer report in the host's journal" grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" \
        <<<"$(in_host journalctl --no-pager -o cat)"
t_ok "stop the host" warrenctl stop "$HOST" -t 60
t_ok "destroy the host" warrenctl destroy "$HOST"
t_diag "total $(($(now_ms) - T0)) ms"
finish
