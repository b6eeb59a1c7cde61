#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   gui/screenshot.sh [BUILD_DIR] [OUT.png]
#
# Regenerates the README's screenshot of the desktop app (default
# gui/data/screenshot.png): in the integration sandbox (as root; nothing of
# the host is touched) it makes a few containers — two of root's running,
# one stopped, one of alice's (unprivileged) running — starts the app
# headless, selects one and takes the window as a 256-colour PNG.

set -euo pipefail

if [[ ${1:-} == --inside ]]; then
        out=$2
        # shellcheck source=../tests/integration/lib.sh
        . "$WARREN_SRC/tests/integration/lib.sh"
        # shellcheck source=headless.sh
        . "$WARREN_SRC/gui/headless.sh"
        set +e
        warrenctl create web -t busybox && warrenctl start web
        warrenctl create db -t busybox && warrenctl start db
        warrenctl create build -t busybox
        grant alice warren-create
        grant alice warren-manage-own
        as_user alice warrenctl create playground -t busybox && as_user alice warrenctl start playground
        set -e
        dir=$(mktemp -d /run/warren-gui-shot.XXXXXX)
        GUI_SCREEN=1000x640x24
        trap gui_stop EXIT
        gui_start root "$dir"
        gui_action select "'web'"
        # Addresses come by DHCP; memory and addresses are polled.
        for ((i = 0; i < 100; i++)); do
                gui_atspi text '^10\.0\.3\.[0-9]+$' --timeout 1 >/dev/null 2>&1 && break
                sleep 0.2
        done
        sleep 3
        gui_shot window
        /usr/bin/convert "$GUI_SHOT_FILE" -strip -colors 256 -define png:compression-level=9 "$out"
        echo "screenshot.sh: wrote $out ($(stat -c %s "$out") bytes)"
        exit 0
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
build=$(realpath "${1:-$src/build}")
out=$(realpath -m "${2:-$here/data/screenshot.png}")
[[ -x $build/gui/warren-containers ]] || { echo "screenshot.sh: $build/gui/warren-containers is not built" >&2; exit 1; }
exec "$src/tests/integration/sandbox.sh" --build "$build" --quiet -- /bin/bash "$here/screenshot.sh" --inside "$out"
