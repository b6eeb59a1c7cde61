#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   validate.sh DESKTOP_FILE METAINFO_FILE ICON_SVG
#
# The desktop entry (desktop-file-validate), the AppStream metadata
# (appstreamcli validate, offline: warnings fail, infos pass) and that the
# icon is well-formed SVG. A missing tool fails: CI installs them.
set -uo pipefail
desktop=$1 metainfo=$2 icon=$3
rc=0
for tool in desktop-file-validate appstreamcli /usr/bin/python3; do
        if ! command -v "$tool" >/dev/null; then
                echo "validate: $tool is not installed (scripts/install-deps.sh)" >&2
                rc=1
        fi
done
((rc == 0)) || exit 1
desktop-file-validate "$desktop" || { echo "validate: $desktop is not a valid desktop entry" >&2; rc=1; }
appstreamcli validate --no-net --explain "$metainfo" || { echo "validate: $metainfo fails AppStream validation" >&2; rc=1; }
/usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$icon" ||
        { echo "validate: $icon is not well-formed XML" >&2; rc=1; }
grep -q '<svg' "$icon" || { echo "validate: $icon has no <svg> element" >&2; rc=1; }
exit $rc
