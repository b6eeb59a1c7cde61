#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/docs/test-docs.sh SOURCE_DIR BUILD_DIR
#
# The documentation is there and agrees with the code: each man page
# renders without a warning (groff -ww, man --warnings); every warrenctl
# command has a section in warrenctl(1) and a --help with usage and an
# example (the same as `warrenctl help VERB`); every polkit action and
# error name is in warren-dbus(7); every interface, method, signal and
# property in dbus/*.xml has an org.freedesktop.DBus.DocString, and the
# error names are listed there. TAP output.

set -uo pipefail

SRC=$(realpath "${1:-$(dirname "$0")/../..}")
BUILD=$(realpath "${2:-$SRC/build}")
CTL=$BUILD/cli/warrenctl
N=0
FAILED=0
export LC_ALL=C.UTF-8 MANWIDTH=80

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

check() { # DESC CONDITION-COMMAND... (with its output as diagnostics)
        local desc=$1 out
        shift
        if out=$("$@" 2>&1); then
                ok "$desc"
        else
                not_ok "$desc" "$(head -c 2000 <<<"$out")"
        fi
}

# ---- man pages ----
pages=(warrenctl.1 warrend.8 warren.conf.5 warren-dbus.7)
for p in "${pages[@]}"; do
        f=$BUILD/doc/$p
        if [[ ! -s $f ]]; then
                not_ok "$p is built" "no $f (is scdoc installed? meson -Dman=enabled)"
                continue
        fi
        ok "$p is built"
        err=$(groff -ww -man -Tutf8 -z "$f" 2>&1)
        [[ -z $err ]] && ok "$p: groff -ww gives no warning" || not_ok "$p: groff -ww gives no warning" "$err"
        err=$(man --warnings -l "$f" 2>&1 >/dev/null)
        [[ -z $err ]] && ok "$p: man -l gives no warning" || not_ok "$p: man -l gives no warning" "$err"
        text=$(man -l "$f" 2>/dev/null)
        check "$p: has NAME, a synopsis or description, SEE ALSO" \
                grep -qzE 'NAME.*(SYNOPSIS|DESCRIPTION).*SEE ALSO' <<<"$text"
        left=$(grep -oE '@[A-Z_]+@' "$f" | sort -u)
        [[ -z $left ]] && ok "$p: every @VARIABLE@ was filled in" || not_ok "$p: every @VARIABLE@ was filled in" "$left"
done

# ---- warrenctl's commands: a section, --help and help VERB ----
verbs=$("$CTL" --help | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\?$/\1/p' | sort -u)
check "warrenctl --help lists commands" test "$(wc -w <<<"$verbs")" -ge 20
man1=$(cat "$SRC/doc/warrenctl.1.scd")
for v in $verbs; do
        if grep -qE "^\*$v( [a-z-]+)?\*" <<<"$man1"; then
                ok "warrenctl(1) documents '$v'"
        else
                not_ok "warrenctl(1) documents '$v'"
        fi
        h=$("$CTL" "$v" --help 2>&1)
        rc=$?
        if ((rc == 0)) && grep -q "^Usage: warrenctl $v" <<<"$h" && grep -q "^Example" <<<"$h"; then
                ok "warrenctl $v --help: usage and example"
        else
                not_ok "warrenctl $v --help: usage and example" "status $rc" "$h"
        fi
        h2=$("$CTL" help "$v" 2>&1)
        [[ $h == "$h2" ]] && ok "warrenctl help $v is $v --help" || not_ok "warrenctl help $v is $v --help"
done
check "help of an unknown command fails" bash -c "! '$CTL' help nosuch 2>/dev/null"
check "--help after a command is that command's help" bash -c "'$CTL' list -o name --help | grep -q '^Columns'"

# ---- polkit actions and error names in warren-dbus(7) ----
man7=$(man -l "$BUILD/doc/warren-dbus.7" 2>/dev/null)
for a in $(grep -o 'action id="[^"]*"' "$SRC/polkit/org.warren1.policy" | cut -d'"' -f2); do
        grep -qF "$a" <<<"$man7" && ok "warren-dbus(7) documents $a" || not_ok "warren-dbus(7) documents $a"
        grep -qF "\"$a\"" "$SRC/cli/polkit-agent.c" && ok "warrenctl explains a refusal of $a" ||
                not_ok "warrenctl explains a refusal of $a"
done
errors=$( (grep -oE 'org\.warren1\.Error\.[A-Za-z]+' "$SRC/service/bus-error.h"; echo org.warren1.Error.Unresponsive) | sort -u)
for e in $errors; do
        grep -qF "$e" <<<"$man7" && ok "warren-dbus(7) documents $e" || not_ok "warren-dbus(7) documents $e"
        grep -qF "<annotation name=\"$e\"" "$SRC/dbus/org.warren1.Manager.xml" && ok "Manager.xml lists $e" ||
                not_ok "Manager.xml lists $e"
done

# ---- DocString on every member of the interface XML ----
for x in "$SRC"/dbus/org.warren1.*.xml; do
        out=$(/usr/bin/python3 - "$x" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
bad = []
for i in root.findall("interface"):
    for e in [i] + i.findall("method") + i.findall("signal") + i.findall("property"):
        docs = [a for a in e.findall("annotation") if a.get("name") == "org.freedesktop.DBus.DocString"]
        if len(docs) != 1 or not docs[0].get("value", "").strip():
            bad.append(f"{e.tag} {e.get('name')}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
)
        [[ $? == 0 ]] && ok "${x##*/}: every member has a DocString" || not_ok "${x##*/}: every member has a DocString" "$out"
done

echo "1..$N"
((FAILED == 0))
