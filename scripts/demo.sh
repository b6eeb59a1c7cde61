#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job on a fresh Debian 12 machine, as root: install dependencies,
# build, then inside a private sandbox (own namespaces, own system bus with a
# bus-activated warrend, real polkitd; the host's bus, network and state are
# not touched) create a busybox container through the bus, start it, run a
# command in it, show it, and stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --no-peers
scripts/build.sh build
exec tests/integration/sandbox.sh --build build --quiet -- scripts/demo-inside.sh
