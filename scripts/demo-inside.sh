#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job's steps, run inside the sandbox by scripts/demo.sh. Every step
# is a warrenctl call: a thin client of org.warren1 on the (private) system bus.
set -euo pipefail
step() { printf '\n$ %s\n' "$*"; "$@"; }

step warrenctl create demo -t busybox
step warrenctl list
step warrenctl info demo
if warrenctl --help | grep -q '^  start '; then
        step warrenctl start demo
        # The busybox rootfs asks warrenbr0's DHCP server for an address.
        for _ in $(seq 50); do
                warrenctl info demo | grep -q '^IP:' && break
                sleep 0.1
        done
        step warrenctl list --fancy
        if warrenctl --help | grep -q '^  attach '; then
                step warrenctl attach demo -- /bin/sh -c 'echo "hello from $(hostname), pid $$ of $(ls /proc | grep -c "^[0-9]") processes"'
        fi
        step warrenctl stop demo
        step warrenctl list --fancy
fi
step warrenctl destroy demo
echo
echo "main job: ok"
