#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Configures (once) and builds warren in BUILD_DIR (default: build).
#   scripts/build.sh [BUILD_DIR] [meson setup options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [[ ! -f $dir/build.ninja ]]; then
        meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log" >&2; exit 1; }
fi
ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -50 "$dir.ninja.log" >&2; exit 1; }
echo "build: $dir ok"
