#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite on a fresh Debian 12 machine, as root: install
# dependencies, build, run unit tests, fuzz corpus replays and integration
# tests (in their own sandbox); ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
exec tests/run-all.sh build
