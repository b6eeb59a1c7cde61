#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 19: the desktop front end (gui/, warren-containers) headless under
# Xvfb with a session bus of its own, driven through its GActions on that
# bus (org.gtk.Actions, as the buttons do), with the effects checked on the
# system bus, what it shows read through AT-SPI (dogtail) and a screenshot
# at each step (kept under $WARREN_LOG_DIR/gui-screenshots). As root, then
# as alice (the ordinary user the app is for): create, start, a terminal
# and the console, freeze, reboot, settings, bad values, stop, destroy,
# downloads with progress and cancel, polkit verdicts shown on the
# buttons, and warrend going away and coming back under the app.
# timeout: 600
# cost: 150
. "$(dirname "$0")/lib.sh"
. "$WARREN_SRC/gui/headless.sh"

BUS=(busctl --system)
ARCH=$(dpkg --print-architecture)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
state_is() { [[ $(prop "$1" State 2>/dev/null) == "$2" ]]; }
exists() { "${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager GetContainer s "$1" >/dev/null 2>&1; }
gone() { ! exists "$1"; }
config_of() { "${BUS[@]}" call org.warren1 "/org/warren1/container/$1" org.warren1.Container GetConfig; }
in_ct() { warrenctl attach "$1" --no-pty -- "${@:2}"; }
log_has() { grep -qE "$1" "$GUI_LOG"; }
no_text() { ! gui_atspi text "$1" --timeout 2 >/dev/null; }
win_is() { [[ $(gui_win_enabled "$1") == "$2" ]]; }

[[ -x $WARREN_BUILD/gui/warren-containers ]] ||
        bail_out "gui/warren-containers is not built (scripts/install-deps.sh; meson -Dgui=enabled)"
for tool in Xvfb /usr/bin/import /usr/bin/convert dbus-daemon; do
        command -v "$tool" >/dev/null || bail_out "$tool is missing (scripts/install-deps.sh)"
done
/usr/bin/python3 -c 'import dogtail' 2>/dev/null || bail_out "python3-dogtail is missing (scripts/install-deps.sh)"

GUI_SHOTS=$WARREN_LOG_DIR/gui-screenshots
mkdir -p "$GUI_SHOTS"
trap 'gui_stop; servers_stop' EXIT

# shot NAME: a screenshot that shows something (not one flat colour).
shot() {
        local f stats
        gui_shot "$1" || { t_not "screenshot $1" "import failed: $(tail -3 "$GUI_DIR/import.log")"; return 1; }
        f=$GUI_SHOT_FILE
        if stats=$(gui_blank "$f"); then
                t_not "screenshot $1 is not blank" "stddev and colours: $stats ($f)"
        else
                t_pass "screenshot $1 is not blank (stddev, colours: $stats)"
        fi
}

# The fixture image server (as test-60): busybox 1.35 images over HTTP on
# 127.0.0.1 inside the sandbox.
SERVER_PIDS=()
SERVER_FDS=()
server_start() { # VAR [image-server.py ARGS...]
        local var=$1 dir fd port i
        shift
        dir=$(mktemp -d "$TMPDIR/server.XXXXXX")
        mkfifo "$dir/in"
        exec {fd}<>"$dir/in"
        SERVER_FDS+=("$fd")
        /usr/bin/python3 "$WARREN_SRC/tests/fixtures/image-server.py" --root "$FIX" --log "$dir/log" \
                --arch "$ARCH" --lifetime 600 "$@" <"$dir/in" >"$dir/port" 2>"$dir/err" &
        SERVER_PIDS+=("$!")
        for ((i = 0; i < 200; i++)); do
                port=$(head -n1 "$dir/port" 2>/dev/null)
                [[ $port =~ ^[0-9]+$ ]] && break
                sleep 0.05
        done
        [[ $port =~ ^[0-9]+$ ]] || bail_out "image-server.py did not start: $(cat "$dir/err")"
        printf -v "$var" 'http://127.0.0.1:%s' "$port"
}
servers_stop() {
        local fd pid
        for fd in "${SERVER_FDS[@]}"; do exec {fd}>&-; done
        for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
        SERVER_FDS=() SERVER_PIDS=()
}

FIX=$TMPDIR/fixture
bash "$WARREN_SRC/tests/fixtures/make-image.sh" "$FIX" "$ARCH" >/dev/null || bail_out "make-image.sh failed"
server_start S1
server_start SLOW --fault stall-rootfs --stall-seconds 120

# ==== as root ====================================================================
GUI_DIR=$(mktemp -d /run/warren-gui.XXXXXX)
t_ok "the app starts and exports its actions on the session bus" gui_start root "$GUI_DIR" --image-server "$S1"
wait_for "its window is drawn" 10 sh -c "/usr/bin/import -display $GUI_DISPLAY -window root $GUI_DIR/probe.png && ! /usr/bin/convert $GUI_DIR/probe.png -format '%[fx:standard_deviation]' info: | grep -qx 0"
shot empty
t_ok "AT-SPI: the app is on the accessibility bus, with an empty list" gui_atspi absent g1

# --- create, start ---------------------------------------------------------------
t_ok "create g1 (busybox) through the app" gui_action create "('g1', 'busybox', @as [], @a{sv} {})"
wait_for "g1 exists on the system bus" 20 exists g1
t_eq "owned by root" "$(prop g1 OwnerUID)" 0
t_ok "AT-SPI: the list shows g1, Stopped" gui_atspi row g1 Stopped
wait_for "the job's end is reported" 10 log_has 'job .* \(create g1\): done'
shot created

t_ok "start g1" gui_action start "'g1'"
wait_for "g1 is RUNNING" 20 state_is g1 RUNNING
t_ok "AT-SPI: the list shows g1, Running (from PropertiesChanged)" gui_atspi row g1 Running
t_ok "select g1" gui_action select "'g1'"
wait_for "win.stop enabled for a running container" 10 win_is stop true
t_eq "win.start disabled while it runs" "$(gui_win_enabled start)" false
t_eq "win.destroy disabled while it runs" "$(gui_win_enabled destroy)" false
t_ok "AT-SPI: the detail pane shows its address (polled, no signal)" gui_atspi text '^10\.0\.3\.[0-9]+$'
t_ok "AT-SPI: and its memory" gui_atspi text '^[0-9.]+ (KiB|MiB)$'
shot running

# --- a terminal: Attach with a pty, into VTE ---------------------------------------
t_ok "open a terminal in g1" gui_action open-terminal "'g1'"
wait_for "Attach handed it a shell" 15 log_has 'terminal on g1: attached shell pid [0-9]+'
shell_pid=$(sed -n 's/.*terminal on g1: attached shell pid \([0-9]*\).*/\1/p' "$GUI_LOG" | tail -n1)
t_ok "the shell runs (pid $shell_pid on the host)" kill -0 "$shell_pid"
t_ok "in g1's pid namespace" test "$(readlink /proc/"$shell_pid"/ns/pid)" = "$(readlink /proc/"$(prop g1 InitPID)"/ns/pid)"
t_ok "type into it" gui_action terminal-input "('g1', 'echo gui-\$((6*7)) >/tmp/from-gui; tty >>/tmp/from-gui\n')"
wait_for "what was typed ran inside g1" 15 sh -c "warrenctl attach g1 --no-pty -- cat /tmp/from-gui 2>/dev/null | grep -qx gui-42"
t_match "on a pty of the container's devpts" "$(in_ct g1 cat /tmp/from-gui)" $'gui-42\n/dev/pts/[0-9]+'
t_ok "AT-SPI: the terminal window is there" gui_atspi text '^g1 — Terminal$'
shot terminal
t_ok "close the terminal" gui_action close-terminals "'g1'"
wait_for "the shell is hung up when the window closes" 15 sh -c "! kill -0 $shell_pid 2>/dev/null"

# --- the console: its log, then OpenConsole(0) --------------------------------------
t_ok "open the console of g1" gui_action open-console "'g1'"
wait_for "the app holds the console (another OpenConsole is Busy)" 15 sh -c \
        "gdbus call --system --dest org.warren1 --object-path /org/warren1/container/g1 --method org.warren1.Container.OpenConsole 0 2>&1 | grep -q Busy"
t_ok "the console log was shown first" log_has 'console of g1: [1-9][0-9]* bytes of console log shown'
t_ok "AT-SPI: the console window" gui_atspi text '^Console \(.+\)$'
t_ok "type on the console" gui_action terminal-input "('g1', '\necho on-gui-console-\$((40+2))\n')"
wait_for "the console ran it (the console log has its output)" 15 sh -c "warrenctl console-log g1 | grep -q on-gui-console-42"
shot console
t_ok "close the console" gui_action close-terminals "'g1'"
wait_for "the console is free again" 15 gdbus call --system --dest org.warren1 --object-path /org/warren1/container/g1 \
        --method org.warren1.Container.OpenConsole 0

# --- freeze, unfreeze, reboot ------------------------------------------------------
t_ok "freeze g1" gui_action freeze "'g1'"
wait_for "g1 is FROZEN" 15 state_is g1 FROZEN
t_ok "AT-SPI: the list shows g1, Frozen" gui_atspi row g1 Frozen
t_eq "win.unfreeze enabled" "$(gui_win_enabled unfreeze)" true
t_eq "win.freeze disabled" "$(gui_win_enabled freeze)" false
shot frozen
t_ok "unfreeze g1" gui_action unfreeze "'g1'"
wait_for "g1 is RUNNING again" 15 state_is g1 RUNNING
pid=$(prop g1 InitPID)
t_ok "reboot g1" gui_action reboot "'g1'"
wait_for "g1 came back with a new init" 30 sh -c "[ \"\$(busctl --system get-property org.warren1 /org/warren1/container/g1 org.warren1.Container InitPID | cut -d' ' -f2)\" -gt 0 ] && [ \"\$(busctl --system get-property org.warren1 /org/warren1/container/g1 org.warren1.Container InitPID | cut -d' ' -f2)\" != $pid ]"
wait_for "and RUNNING" 30 state_is g1 RUNNING

# --- stop (clean), settings, a bad value ---------------------------------------------
t_ok "stop g1 (clean)" gui_action stop "'g1'"
wait_for "g1 is STOPPED" 30 state_is g1 STOPPED
t_ok "AT-SPI: the list shows g1, Stopped" gui_atspi row g1 Stopped
t_ok "open the settings dialog" gui_action settings "'g1'"
t_ok "AT-SPI: it shows the network from GetConfig" gui_atspi text '^warrenbr0$'
shot settings
t_ok "AT-SPI: cancel it with its button" gui_atspi click Cancel '^Settings of'
t_ok "AT-SPI: the dialog is gone" no_text '^Settings of “g1”$'
t_ok "configure g1: autostart, memory limit" gui_action configure "('g1', {'autostart': <true>, 'memory-limit': <'256M'>})"
wait_for "lxc.start.auto = 1 in its config" 15 sh -c "busctl --system call org.warren1 /org/warren1/container/g1 org.warren1.Container GetConfig | grep -q '\"lxc.start.auto\" \"1\"'"
t_match "lxc.cgroup2.memory.max = 256M" "$(config_of g1)" '"lxc.cgroup2.memory.max" "256M"'
wait_for "the Autostart property follows" 10 sh -c "busctl --system get-property org.warren1 /org/warren1/container/g1 org.warren1.Container Autostart | grep -q true"

# Errors as the bus sends them: the message names the bad value.
t_ok "create a container with a bad name" gui_action create "('bad name!', 'busybox', @as [], @a{sv} {})"
wait_for "the error is shown, naming the value" 15 gui_atspi text "Invalid container name 'bad name!'"
t_match "and logged with the error's name" "$(grep 'Could not create' "$GUI_LOG")" \
        "Could not create “bad name!”: org\\.warren1\\.Error\\.InvalidName: .*'bad name!'"
shot bad-name
t_ok "nothing was made" gone 'bad name!'
t_ok "AT-SPI: close the error" gui_atspi click Close 'Could not create'
t_ok "start g1 twice: the second is refused" gui_action start "'g1'"
wait_for "g1 is RUNNING" 20 state_is g1 RUNNING
t_ok "start it again (the button is off; the action is not)" gui_action start "'g1'"
wait_for "the refusal is shown" 15 gui_atspi text 'Could not start “g1”'
t_match "as the bus said it" "$(grep 'Could not start' "$GUI_LOG")" 'org\.warren1\.Error\.AlreadyRunning: .*g1'
t_ok "AT-SPI: close the error" gui_atspi click Close 'Could not start'
t_ok "force-stop g1" gui_action force-stop "'g1'"
wait_for "g1 is STOPPED at once" 10 state_is g1 STOPPED
t_ok "configure g1: no network" gui_action configure "('g1', {'network': <''>})"
wait_for "its NIC is gone from the config" 15 sh -c "! busctl --system call org.warren1 /org/warren1/container/g1 org.warren1.Container GetConfig | grep -q lxc.net.0"

# --- destroy, with a question first -------------------------------------------------
t_ok "destroy g1 asks first" gui_action destroy "'g1'"
t_ok "AT-SPI: the question names it" gui_atspi text '^Destroy “g1”\?$'
shot destroy-question
t_ok "g1 still exists while the question is open" exists g1
t_ok "the answer: destroy" gui_action destroy-now "'g1'"
wait_for "g1 is gone from the system bus" 20 gone g1
t_ok "AT-SPI: and from the list (ContainerRemoved)" gui_atspi absent g1
shot destroyed

# --- download: the server's offer, progress, the create-message, cancel -------------
t_ok "the create dialog" gui_action new-container
t_ok "AT-SPI: it lists what the server offers (ListRemoteImages)" gui_atspi text '^6 images offered; this one is build '
t_ok "AT-SPI: this machine's architecture is picked" gui_atspi text "^$ARCH\$"
shot create-dialog
t_ok "AT-SPI: cancel it" gui_atspi click Cancel '^New Container$'
t_ok "create d1 from the image server" gui_action create "('d1', 'download', ['-d', 'busybox', '-r', '1.35', '--server', '$S1'], @a{sv} {})"
wait_for "the job ends: done" 60 log_has 'job .* \(create d1\): done'
t_ok "d1 exists" exists d1
t_ok "AT-SPI: the image's create-message is shown" gui_atspi text 'build 20240315_12:00'
t_ok "AT-SPI: with d1 ready" gui_atspi text '^“d1” is ready$'
shot create-message
t_ok "AT-SPI: close it" gui_atspi click Close '“d1” is ready'
t_ok "AT-SPI: d1 in the list, Stopped" gui_atspi row d1 Stopped

t_ok "create d2 from a server that stalls" gui_action create "('d2', 'download', ['-d', 'busybox', '-r', '1.35', '--server', '$SLOW', '--flush-cache'], @a{sv} {})"
t_ok "AT-SPI: the job shows in the list" gui_atspi text '^Creating “d2”$'
t_ok "AT-SPI: with bytes of the total" gui_atspi text ' of [0-9.]+ [kM]B'
t_ok "AT-SPI: and, when no byte comes, that it stalled" gui_atspi text 'stalled' --timeout 20
shot download-progress
t_ok "cancel it" gui_action cancel-job "'d2'"
wait_for "the job ends: canceled" 30 log_has 'job .* \(create d2\): canceled'
t_ok "no d2 is left" gone d2
t_ok "AT-SPI: the job left the list" no_text '^Creating “d2”$'

# --- warrend exits (as when idle) and comes back -------------------------------------
no_warrend() { [[ -z $(warrend_pid) ]]; }
pid=$(warrend_pid)
t_ok "warrend runs (pid $pid)" test -n "$pid"
kill -TERM "$pid"
wait_for "warrend is gone from the bus" 15 no_warrend
sleep 1
t_ok "the app is still running" gui_alive
t_ok "AT-SPI: it still lists d1 (containers outlive warrend)" gui_atspi row d1 Stopped
t_ok "warrenctl starts d1 (warrend is activated again)" warrenctl start d1
t_ok "AT-SPI: the app follows the new warrend: d1 Running" gui_atspi row d1 Running --timeout 20
pid=$(warrend_pid)
kill -TERM "$pid"
wait_for "warrend is gone again" 15 no_warrend
t_ok "stop d1 from the app: its call activates warrend" gui_action force-stop "'d1'"
wait_for "d1 is STOPPED" 20 state_is d1 STOPPED
t_ok "AT-SPI: d1 Stopped" gui_atspi row d1 Stopped
t_ok "the app never crashed" gui_alive
shot after-restart
t_ok "destroy d1" gui_action destroy-now "'d1'"
wait_for "d1 is gone" 20 gone d1

# --- the local template: a rootfs tarball and its metadata (root only) ---------------
img=$(find "$FIX/images/busybox/1.35/$ARCH/default" -name rootfs.tar.xz | head -n1)
t_ok "create l1 from local files" gui_action create "('l1', 'local', ['$img', '--metadata', '${img%/*}/meta.tar.xz'], @a{sv} {})"
wait_for "l1 exists" 30 exists l1
wait_for "its job is done" 30 log_has 'job .* \(create l1\): done'
t_ok "AT-SPI: close the create-message" gui_atspi click Close '“l1” is ready'
t_ok "destroy l1" gui_action destroy-now "'l1'"
wait_for "l1 is gone" 20 gone l1

# --- root's container, for alice to see ------------------------------------------------
t_ok "root makes r1 and starts it" sh -c 'warrenctl create r1 -t busybox && warrenctl start r1'
t_ok "AT-SPI: r1 Running" gui_atspi row r1 Running
gui_stop
t_ok "no sanitizer report in the app's log" gui_log_clean
cp "$GUI_LOG" "$GUI_SHOTS/app-root.log"

# ==== no warren on the bus, then no bus at all ========================================
# A bus of its own where nothing provides org.warren1: the app says so, and
# when that bus goes away and comes back it reconnects, never crashing.
fake=$(mktemp -d /run/warren-fakebus.XXXXXX)
fake_bus() {
        dbus-daemon --session --nofork --nopidfile --address="unix:path=$fake/bus" </dev/null >>"$fake/log" 2>&1 &
        FAKE_PID=$!
        local i
        for ((i = 0; i < 100; i++)); do
                [[ -S $fake/bus ]] && return 0
                sleep 0.05
        done
        return 1
}
t_ok "a bus without warrend" fake_bus
GUI_DIR=$(mktemp -d /run/warren-gui.XXXXXX)
GUI_SYSTEM_BUS="unix:path=$fake/bus" gui_start root "$GUI_DIR" || true
t_ok "the app starts on it" gui_alive
wait_for "it says warren does not answer, with the bus's reason" 15 log_has 'does not answer: .*org\.freedesktop\.DBus\.Error\.ServiceUnknown'
t_ok "AT-SPI: on its page" gui_atspi text '^Cannot Reach warren$'
shot no-warren
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
rm -f "$fake/bus"
wait_for "the bus went away: it notices" 15 log_has 'The system bus closed the connection'
sleep 1
t_ok "and keeps running" gui_alive
t_ok "the bus comes back" fake_bus
wait_for "it reconnects (asks again)" 20 sh -c "[ \$(grep -c 'does not answer' '$GUI_LOG') -ge 2 ]"
t_ok "still running" gui_alive
gui_stop
t_ok "no sanitizer report in the app's log" gui_log_clean
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null

# ==== as alice (the ordinary user the app is for) ==========================================
grant alice warren-create
grant alice warren-manage-own
alice_uid=$(id -u alice)
GUI_DIR=$(mktemp -d /run/warren-gui.XXXXXX)
t_ok "alice starts the app" gui_start alice "$GUI_DIR"
t_ok "AT-SPI: she sees root's r1, Running (names and states are public)" gui_atspi row r1 Running
t_ok "create a1 as alice" gui_action create "('a1', 'busybox', @as [], @a{sv} {})"
wait_for "a1 exists" 20 exists a1
t_eq "owned by alice" "$(prop a1 OwnerUID)" "$alice_uid"
t_ok "AT-SPI: a1 Stopped, with the unprivileged badge" gui_atspi row a1 Stopped --badge
t_ok "start a1" gui_action start "'a1'"
wait_for "a1 is RUNNING" 30 state_is a1 RUNNING
t_ok "AT-SPI: a1 Running" gui_atspi row a1 Running --badge
t_ok "a terminal in a1" gui_action open-terminal "'a1'"
wait_for "Attach handed her a shell" 15 log_has 'terminal on a1: attached shell pid [0-9]+'
shell_pid=$(sed -n 's/.*terminal on a1: attached shell pid \([0-9]*\).*/\1/p' "$GUI_LOG" | tail -n1)
t_eq "root in the container is uid 200000 on the host" "$(awk '/^Uid:/ { print $2 }' /proc/"$shell_pid"/status)" 200000
t_ok "type into it" gui_action terminal-input "('a1', 'id -u >/tmp/who\n')"
wait_for "it ran as root inside" 15 sh -c "warrenctl attach a1 --no-pty -- cat /tmp/who 2>/dev/null | grep -qx 0"
shot alice-terminal
t_ok "close it" gui_action close-terminals "'a1'"

# polkit's verdict on the buttons: root's r1 is not hers.
t_ok "select r1" gui_action select "'r1'"
wait_for "managing r1 needs authentication: buttons on, and it says so" 15 \
        gui_atspi text 'needs authentication \(org\.warren1\.manage\)'
t_eq "win.stop enabled (the polkit agent would ask)" "$(gui_win_enabled stop)" true
busctl --system monitor --match "type='method_call',interface='org.warren1.Container',member='Stop'" \
        >"$GUI_DIR/monitor.txt" 2>&1 &
monitor_pid=$!
sleep 1
t_ok "stop r1 without an agent to answer" gui_action stop "'r1'"
wait_for "the refusal is shown" 20 gui_atspi text 'Could not stop “r1”'
t_match "as the bus said it" "$(grep 'Could not stop' "$GUI_LOG")" \
        'org\.freedesktop\.DBus\.Error\.AccessDenied: .*org\.warren1\.manage \(authentication required\)'
kill "$monitor_pid" 2>/dev/null
wait "$monitor_pid" 2>/dev/null
flags=$(sed -n 's/.*Type=method_call .*Flags=\([0-9]*\).*/\1/p' "$GUI_DIR/monitor.txt" | head -n1)
t_ok "the call carried ALLOW_INTERACTIVE_AUTHORIZATION (flags $flags), so an agent would have asked" \
        test -n "$flags" -a "$(( ${flags:-0} & 4 ))" -eq 4
t_ok "r1 still runs" state_is r1 RUNNING
shot alice-refused
t_ok "AT-SPI: close the error" gui_atspi click Close 'Could not stop'
grant alice warren-deny
t_ok "refresh (polkit is asked again)" gui_action refresh
wait_for "with a refusal, r1's buttons are off" 15 win_is stop false
t_eq "win.terminal off too" "$(gui_win_enabled terminal)" false
t_ok "AT-SPI: and it says why" gui_atspi text 'polkit refuses org\.warren1\.manage'
shot alice-denied
revoke alice warren-deny

t_ok "select a1" gui_action select "'a1'"
wait_for "her own a1: win.stop on" 15 win_is stop true
t_ok "stop a1" gui_action stop "'a1'"
wait_for "a1 is STOPPED" 30 state_is a1 STOPPED
t_ok "destroy a1" gui_action destroy-now "'a1'"
wait_for "a1 is gone" 20 gone a1
t_ok "AT-SPI: gone from her list" gui_atspi absent a1
t_ok "the app never crashed" gui_alive
gui_stop
t_ok "no sanitizer report in the app's log" gui_log_clean
cp "$GUI_LOG" "$GUI_SHOTS/app-alice.log"
warrenctl stop -k r1 >/dev/null 2>&1
warrenctl destroy r1 >/dev/null 2>&1

finish
