#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/install/test-install.sh SOURCE_DIR
#
# `meson setup B && ninja -C B install` with meson's defaults (prefix
# /usr/local), into a DESTDIR: checks that what the bus, polkit, systemd
# and the shells read lands where they read it (their pkg-config files say
# where; on Debian /usr/share/dbus-1, /usr/share/polkit-1, /lib/systemd,
# /usr/lib/{sysusers,tmpfiles}.d), that warren's own directories are
# /var/lib/warren, /run/warren, /var/cache/warren and /etc/warren whatever
# the prefix, that the units and the activation file name binaries that
# were installed, that the man pages are there, and that options override
# the directories. TAP output. Needs meson, ninja and pkg-config; builds
# once (without the tests), ~30 s.

set -uo pipefail

SRC=$(realpath "${1:-$(dirname "$0")/../..}")
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
N=0
FAILED=0

ok() {
        N=$((N + 1))
        echo "ok $N - $1"
}

not_ok() {
        N=$((N + 1))
        FAILED=$((FAILED + 1))
        echo "not ok $N - $1"
        shift
        local l
        for l in "$@"; do
                printf '# %s\n' "$l"
        done
}

# check DESC CMD...
check() {
        local desc=$1
        shift
        if out=$("$@" 2>&1); then
                ok "$desc"
        else
                not_ok "$desc" "command: $*" "$(head -c 2000 <<<"$out")"
        fi
}

pkgvar() { # PKG VAR FALLBACK
        pkg-config --variable="$2" "$1" 2>/dev/null | grep . || echo "$3"
}

B=$work/build
D=$work/dest
if ! meson setup "$B" "$SRC" -Dtests=false >"$work/setup.log" 2>&1; then
        not_ok "meson setup with the defaults" "$(tail -n 30 "$work/setup.log")"
        echo "1..$N"
        exit 1
fi
ok "meson setup with the defaults"
if ! DESTDIR=$D ninja -C "$B" install >"$work/install.log" 2>&1; then
        not_ok "ninja install into DESTDIR" "$(tail -n 30 "$work/install.log")"
        echo "1..$N"
        exit 1
fi
ok "ninja install into DESTDIR"

prefix=$(meson introspect --buildoptions "$B" | /usr/bin/python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
check "meson's default prefix is /usr/local" test "$prefix" = /usr/local

dbus_datadir=$(pkgvar dbus-1 datadir /usr/share)
dbus_services=$(pkgvar dbus-1 system_bus_services_dir "$dbus_datadir/dbus-1/system-services")
dbus_interfaces=$(pkgvar dbus-1 interfaces_dir "$dbus_datadir/dbus-1/interfaces")
polkit_actions=$(pkgvar polkit-gobject-1 policydir /usr/share/polkit-1/actions)
polkit_rules=$(dirname "$polkit_actions")/rules.d
unitdir=$(pkgvar systemd systemdsystemunitdir /lib/systemd/system)
sysusersdir=$(pkgvar systemd sysusersdir /usr/lib/sysusers.d)
tmpfilesdir=$(pkgvar systemd tmpfilesdir /usr/lib/tmpfiles.d)
bashcompdir=$(pkgvar bash-completion completionsdir /usr/local/share/bash-completion/completions)

# Where the readers read, not under the prefix (unless that is where they read).
for f in "$dbus_datadir/dbus-1/system.d/org.warren1.conf" \
         "$dbus_services/org.warren1.service" \
         "$dbus_interfaces/org.warren1.Manager.xml" \
         "$dbus_interfaces/org.warren1.Container.xml" \
         "$polkit_actions/org.warren1.policy" \
         "$polkit_rules/50-warren.rules" \
         "$unitdir/warrend.service" \
         "$unitdir/warren-autostart.service" \
         "$unitdir/warren-halt@.service" \
         "$sysusersdir/warren.conf" \
         "$tmpfilesdir/warren.conf" \
         "$bashcompdir/warrenctl"; do
        check "installed $f" test -f "$D$f"
done
for f in /usr/local/bin/warrenctl /usr/local/sbin/warrend /usr/local/libexec/warren-monitor \
         /usr/local/libexec/warren-worker; do
        check "installed $f" test -x "$D$f"
done
for f in /usr/local/share/man/man1/warrenctl.1 /usr/local/share/man/man8/warrend.8 \
         /usr/local/share/man/man5/warren.conf.5 /usr/local/share/man/man7/warren-dbus.7 \
         /usr/local/share/zsh/site-functions/_warrenctl /usr/local/share/warren/default.conf \
         /usr/local/share/warren/config-keys; do
        check "installed $f" test -f "$D$f"
done
# On Debian the readers' own paths: a /usr/local policy would be ignored.
if [[ $dbus_datadir == /usr/share ]]; then
        check "no bus policy under /usr/local" test ! -e "$D/usr/local/share/dbus-1"
        check "no polkit actions under /usr/local" test ! -e "$D/usr/local/share/polkit-1"
fi
check "nothing in /var/local or /usr/local/etc" test ! -e "$D/var/local" -a ! -e "$D/usr/local/etc"

# The installed files point at the installed binaries.
check "activation file runs the installed warrend" \
        grep -qx "Exec=/usr/local/sbin/warrend" "$D$dbus_services/org.warren1.service"
check "activation file hands over to warrend.service" \
        grep -qx "SystemdService=warrend.service" "$D$dbus_services/org.warren1.service"
check "warrend.service runs the installed warrend" \
        grep -qx "ExecStart=/usr/local/sbin/warrend" "$D$unitdir/warrend.service"
check "warrend.service documents man:warrend(8)" \
        grep -qx "Documentation=man:warrend(8)" "$D$unitdir/warrend.service"
check "warren-autostart.service runs the installed warrenctl" \
        grep -q "^ExecStart=/usr/local/bin/warrenctl " "$D$unitdir/warren-autostart.service"
check "warren-autostart.service has no ExecStop (the halt units stop containers at shutdown)" \
        sh -c "! grep -q '^ExecStop=' '$D$unitdir/warren-autostart.service'"
check "warren-halt@.service stops through the installed monitor" \
        grep -q '^ExecStop=/usr/local/libexec/warren-monitor --runtime-dir=/run/warren --name=%i --stop ' \
        "$D$unitdir/warren-halt@.service"
check "warrend.service may send STATUS=" grep -qx "NotifyAccess=main" "$D$unitdir/warrend.service"
check "sysusers.d creates group warren" grep -qE '^g[[:space:]]+warren[[:space:]]' "$D$sysusersdir/warren.conf"
check "the polkit rule grants group warren" grep -q 'isInGroup("warren")' "$D$polkit_rules/50-warren.rules"
for d in /var/lib/warren /var/lib/warren/containers /run/warren /var/cache/warren /etc/warren; do
        check "tmpfiles.d makes $d" grep -qE "^d[[:space:]]+$d[[:space:]]" "$D$tmpfilesdir/warren.conf"
done

check "the bash completion reads the installed config keys" \
        grep -q '/usr/local/share/warren/config-keys' "$D$bashcompdir/warrenctl"
check "the installed man page names the installed paths" \
        grep -q '/var/lib/warren' "$D/usr/local/share/man/man8/warrend.8"
check "the installed man page names the installed worker" \
        grep -q '/usr/local/libexec/warren-worker' "$D/usr/local/share/man/man8/warrend.8"
# warrend runs its long work in warren-worker and links none of its libraries.
check "warrend links no libcurl, libarchive, gpgme" \
        sh -c "! ldd '$D/usr/local/sbin/warrend' | grep -E 'libcurl|libarchive|libgpgme'"
check "warren-worker links them" sh -c "ldd '$D/usr/local/libexec/warren-worker' | grep -q libcurl"

# The compiled-in defaults.
help=$("$D/usr/local/sbin/warrend" --help 2>&1)
for d in "--state-dir=DIR.*default /var/lib/warren)" "--runtime-dir=DIR.*default /run/warren)" \
         "--cache-dir=DIR.*default /var/cache/warren)" "--config-dir=DIR.*default /etc/warren)" \
         "--data-dir=DIR.*default /usr/local/share/warren)" \
         "--monitor-path=PATH.*default /usr/local/libexec/warren-monitor)" \
         "--worker-path=PATH.*default /usr/local/libexec/warren-worker)"; do
        if grep -qE -- "$d" <<<"$help"; then
                ok "warrend's default: $d"
        else
                not_ok "warrend's default: $d" "$help"
        fi
done

# The bus policy and activation file are what dbus-daemon accepts: a bus
# with only them as its configuration starts.
if command -v dbus-daemon >/dev/null; then
        cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$D$dbus_services</servicedir>
  <includedir>$D$dbus_datadir/dbus-1/system.d</includedir>
</busconfig>
EOF
        dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile --nosyslog --print-address=1 \
                >"$work/bus.addr" 2>"$work/bus.err" &
        bus_pid=$!
        for _ in $(seq 50); do
                [[ -s $work/bus.addr ]] || ! kill -0 $bus_pid 2>/dev/null && break
                sleep 0.1
        done
        if [[ -s $work/bus.addr ]]; then
                ok "dbus-daemon accepts the installed policy"
        else
                not_ok "dbus-daemon accepts the installed policy" "$(cat "$work/bus.err")"
        fi
        kill $bus_pid 2>/dev/null
        wait $bus_pid 2>/dev/null
fi

# Options move each directory.
B2=$work/build2
if meson setup "$B2" "$SRC" -Dtests=false --prefix=/opt/w -Dstate-dir=/srv/w/state -Dconfig-dir=/srv/w/etc \
        -Druntime-dir=/srv/w/run -Dcache-dir=/srv/w/cache -Ddbus-system-conf-dir=/opt/w/dbus \
        -Dpolkit-actions-dir=/opt/w/actions -Dsystemd-unit-dir=/opt/w/units -Dsysusers-dir=/opt/w/sysusers \
        -Dtmpfiles-dir=/opt/w/tmpfiles >"$work/setup2.log" 2>&1; then
        inst=$(meson introspect --installed "$B2")
        for p in /opt/w/dbus/org.warren1.conf /opt/w/actions/org.warren1.policy /opt/w/rules.d/50-warren.rules \
                 /opt/w/units/warrend.service /opt/w/sysusers/warren.conf /opt/w/tmpfiles/warren.conf; do
                if grep -qF "\"$p\"" <<<"$inst"; then
                        ok "option puts a file at $p"
                else
                        not_ok "option puts a file at $p" "$inst"
                fi
        done
        check "options reach the compiled-in state dir" \
                grep -q 'WARREN_STATE_DIR "/srv/w/state"' "$B2/build-config.h"
        check "options reach tmpfiles.d" grep -q '^d /srv/w/run ' "$B2/units/warren.conf"
else
        not_ok "meson setup with directory options" "$(tail -n 30 "$work/setup2.log")"
fi
check "a relative state dir is refused" \
        bash -c "! meson setup '$work/build3' '$SRC' -Dtests=false -Dstate-dir=var/lib >/dev/null 2>&1"

echo "1..$N"
((FAILED == 0))
