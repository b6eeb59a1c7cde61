# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Runs the desktop front end headless inside the integration sandbox, for
# tests/integration/test-90-gui.sh and gui/screenshot.sh. Source it after
# tests/integration/lib.sh (for as_user):
#
#   gui_start USER DIR [APP ARGS...]   (DIR not under /tmp, e.g. under /run) Xvfb (as root, abstract socket only: it
#                                      stays in the sandbox's network namespace),
#                                      a session bus and the app as USER
#   gui_action NAME [GVARIANT]         activate app.NAME over org.gtk.Actions
#   gui_win_enabled NAME               "true"/"false": is win.NAME enabled?
#   gui_shot NAME                      screenshot of the whole screen into GUI_SHOT_FILE
#   gui_blank FILE                     is FILE one flat colour? (status 0 if blank)
#   gui_atspi ARGS...                  gui/atspi-check.py as USER (AT-SPI, dogtail)
#   gui_alive                          is the app still running?
#   gui_log_clean                      no sanitizer report in the app's log
#   gui_stop
#
# Sets GUI_DISPLAY, GUI_BUS (the session bus address), GUI_PID, GUI_LOG (the
# app's stdout and stderr), GUI_SHOTS (where screenshots go). GUI_SYSTEM_BUS
# (default: DBUS_SYSTEM_BUS_ADDRESS) is the system bus the app is given.

GUI_APP_ID=org.warren1.Containers
GUI_APP_PATH=/org/warren1/Containers
GUI_SCREEN=${GUI_SCREEN:-1280x800x24}
GUI_SHOT_N=0

# Runs a command as the GUI's user, in the GUI's session.
_gui_as() {
        local envs=(DISPLAY="$GUI_DISPLAY" DBUS_SESSION_BUS_ADDRESS="$GUI_BUS" XDG_RUNTIME_DIR="$GUI_DIR/run"
                    GDK_BACKEND=x11 GSK_RENDERER=cairo GSETTINGS_BACKEND=memory NO_AT_BRIDGE=0 LANG=C.UTF-8
                    G_MESSAGES_DEBUG=warren-containers
                    DBUS_SYSTEM_BUS_ADDRESS="${GUI_SYSTEM_BUS:-$DBUS_SYSTEM_BUS_ADDRESS}")
        if [[ $GUI_USER == root ]]; then
                env "${envs[@]}" "$@"
        else
                as_user "$GUI_USER" env "${envs[@]}" "$@"
        fi
}

# _gui_read_fifo FIFO: the first line written to it, within 20 s.
_gui_read_fifo() {
        local line=""
        read -r -t 20 line <"$1" || true
        echo "$line"
}

gui_start() {
        GUI_USER=$1 GUI_DIR=$2
        shift 2
        GUI_SHOTS=${GUI_SHOTS:-$GUI_DIR/shots}
        mkdir -p "$GUI_DIR/run" "$GUI_SHOTS"
        chmod 0755 "$GUI_DIR"
        chmod 0700 "$GUI_DIR/run"
        [[ $GUI_USER == root ]] || chown "$GUI_USER:" "$GUI_DIR/run"
        GUI_LOG=$GUI_DIR/app.log

        # No unix socket in /tmp (the host's): the abstract one only.
        mkfifo "$GUI_DIR/xfifo"
        Xvfb -displayfd 3 -nolisten tcp -nolisten unix -screen 0 "$GUI_SCREEN" -nocursor \
                3>"$GUI_DIR/xfifo" >"$GUI_DIR/xvfb.log" 2>&1 </dev/null &
        GUI_XVFB_PID=$!
        local d
        d=$(_gui_read_fifo "$GUI_DIR/xfifo")
        [[ $d =~ ^[0-9]+$ ]] || { echo "gui_start: Xvfb did not start: $(tail -5 "$GUI_DIR/xvfb.log")" >&2; return 1; }
        GUI_DISPLAY=:$d

        mkfifo "$GUI_DIR/bfifo"
        chmod 0666 "$GUI_DIR/bfifo"
        local sockdir=$GUI_DIR/bus
        mkdir -p "$sockdir"
        [[ $GUI_USER == root ]] || chown "$GUI_USER:" "$sockdir"
        GUI_BUS="unix:path=$sockdir/session"
        if [[ $GUI_USER == root ]]; then
                dbus-daemon --session --nofork --nopidfile --address="$GUI_BUS" --print-address=3 \
                        3>"$GUI_DIR/bfifo" >"$GUI_DIR/session-bus.log" 2>&1 </dev/null &
        else
                as_user "$GUI_USER" dbus-daemon --session --nofork --nopidfile --address="$GUI_BUS" \
                        --print-address=3 3>"$GUI_DIR/bfifo" >"$GUI_DIR/session-bus.log" 2>&1 </dev/null &
        fi
        GUI_BUS_PID=$!
        [[ -n $(_gui_read_fifo "$GUI_DIR/bfifo") ]] ||
                { echo "gui_start: no session bus: $(tail -5 "$GUI_DIR/session-bus.log")" >&2; return 1; }

        # Under ASan, no leak check at exit: a GTK app's exit leaves the
        # toolkit's caches (fontconfig's above all); memory errors still abort.
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
                _gui_as "$WARREN_BUILD/gui/warren-containers" "$@" >"$GUI_LOG" 2>&1 </dev/null &
        GUI_PID=$!
        # Registered on the session bus: its actions can be called.
        local i
        for ((i = 0; i < 200; i++)); do
                _gui_as gdbus introspect --session --dest "$GUI_APP_ID" --object-path "$GUI_APP_PATH" 2>/dev/null |
                        grep -q org.gtk.Actions && return 0
                kill -0 "$GUI_PID" 2>/dev/null || break
                sleep 0.1
        done
        echo "gui_start: the app did not appear on the session bus: $(tail -20 "$GUI_LOG")" >&2
        return 1
}

# The app's log is free of sanitizer reports (ASan, UBSan builds).
gui_log_clean() {
        ! grep -E -B2 -A20 'ERROR: AddressSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$GUI_LOG"
}

gui_alive() {
        [[ -n ${GUI_PID:-} ]] && kill -0 "$GUI_PID" 2>/dev/null
}

# gui_action NAME [GVARIANT]: e.g. gui_action start "'c1'".
gui_action() {
        local name=$1 param=${2:-}
        local params="@av []"
        [[ -n $param ]] && params="[<$param>]"
        _gui_as gdbus call --session --dest "$GUI_APP_ID" --object-path "$GUI_APP_PATH" \
                --method org.gtk.Actions.Activate "$name" "$params" "{}"
}

# The main window is the first GtkApplicationWindow: window/1.
gui_win_enabled() {
        _gui_as gdbus call --session --dest "$GUI_APP_ID" --object-path "$GUI_APP_PATH/window/1" \
                --method org.gtk.Actions.Describe "$1" | sed -n 's/^((\(true\|false\),.*/\1/p'
}

# Sets GUI_SHOT_FILE (not printed: the count must survive, no subshell).
gui_shot() {
        GUI_SHOT_N=$((GUI_SHOT_N + 1))
        printf -v GUI_SHOT_FILE '%s/%02d-%s.png' "$GUI_SHOTS" "$GUI_SHOT_N" "$1"
        /usr/bin/import -display "$GUI_DISPLAY" -window root "$GUI_SHOT_FILE" 2>>"$GUI_DIR/import.log"
}

# Blank: a single colour (no window drawn). Prints "stddev colours".
gui_blank() {
        local sd colours
        sd=$(/usr/bin/convert "$1" -format '%[fx:standard_deviation]' info: 2>/dev/null)
        colours=$(/usr/bin/convert "$1" -format '%k' info: 2>/dev/null)
        echo "${sd:-?} ${colours:-?}"
        [[ -z $sd || $sd == 0 || ${colours:-0} -lt 16 ]]
}

# dogtail keeps its logs in /tmp/dogtail-USER (hard-wired), and /tmp is the
# host's: it runs with a /tmp of its own (so GUI_DIR must not be under /tmp).
gui_atspi() {
        _gui_private_tmp /usr/bin/python3 "$WARREN_SRC/gui/atspi-check.py" "$@"
}

_gui_private_tmp() {
        local who=(env)
        if [[ $GUI_USER != root ]]; then
                local uid gid home
                IFS=: read -r _ _ uid gid _ home _ <<<"$(getent passwd "$GUI_USER")"
                who=(setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all
                     env HOME="$home" USER="$GUI_USER" LOGNAME="$GUI_USER")
        fi
        timeout 90 unshare --mount --propagation private -- /bin/bash -c \
                'mount -t tmpfs -o mode=1777,size=16m tmpfs-gui /tmp && exec "$@"' _ \
                "${who[@]}" DISPLAY="$GUI_DISPLAY" DBUS_SESSION_BUS_ADDRESS="$GUI_BUS" \
                XDG_RUNTIME_DIR="$GUI_DIR/run" GSETTINGS_BACKEND=memory LANG=C.UTF-8 "$@"
}

gui_stop() {
        if gui_alive; then
                gui_action quit >/dev/null 2>&1
                local i
                for ((i = 0; i < 50; i++)); do
                        gui_alive || break
                        sleep 0.1
                done
                gui_alive && kill -TERM "$GUI_PID" 2>/dev/null
        fi
        [[ -n ${GUI_PID:-} ]] && wait "$GUI_PID" 2>/dev/null
        # The session bus and what it activated (at-spi's bus launcher, its
        # bus and registry): the tree we started, by pid.
        if [[ -n ${GUI_BUS_PID:-} ]]; then
                local pids
                pids=$(_gui_tree "$GUI_BUS_PID")
                # shellcheck disable=SC2086
                [[ -n $pids ]] && kill -TERM $pids 2>/dev/null
                wait "$GUI_BUS_PID" 2>/dev/null
        fi
        [[ -n ${GUI_XVFB_PID:-} ]] && kill -TERM "$GUI_XVFB_PID" 2>/dev/null && wait "$GUI_XVFB_PID" 2>/dev/null
        GUI_PID="" GUI_BUS_PID="" GUI_XVFB_PID=""
        return 0
}

# PID and its descendants, deepest first.
_gui_tree() {
        local child
        for child in $(pgrep -P "$1"); do
                _gui_tree "$child"
        done
        echo "$1"
}
