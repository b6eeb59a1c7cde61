#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs what warren needs to build, test and benchmark (Debian 12, as
# root). Idempotent and quiet: apt's output goes to a log file and one line
# of summary is printed. Fails, naming them, if a required package cannot be
# installed; benchmark peers are optional and only reported.
#
#   scripts/install-deps.sh [--no-peers]
#   INSTALL_DEPS_LOG=FILE  where apt's output goes (default /tmp/warren-install-deps.log)

set -euo pipefail

REQUIRED=(
        # build
        gcc meson ninja-build pkg-config
        libsystemd-dev libpolkit-gobject-1-dev libcap-dev libnl-3-dev libnl-route-3-dev
        libglib2.0-dev libcurl4-openssl-dev libarchive-dev libnftables-dev libseccomp-dev libgpgme-dev
        libssl-dev liblzma-dev zlib1g-dev libjson-glib-dev libsmartcols-dev scdoc libdbus-1-dev bash-completion
        # image signatures (gpgme runs gpg; tests make keys with it)
        gnupg
        # run and test: bus, polkit, namespaces, users, networks, busybox rootfs
        dbus dbus-daemon polkitd systemd libglib2.0-bin util-linux passwd uidmap iproute2
        nftables dnsmasq-base busybox-static python3 python3-dbus python3-gi gir1.2-glib-2.0
        tmux coreutils procps zsh groff-base man-db
        # the desktop front end (gui/) and its headless test: X, screenshots, AT-SPI
        libgtk-4-dev libadwaita-1-dev libvte-2.91-gtk4-dev xvfb imagemagick python3-dogtail
        at-spi2-core desktop-file-utils appstream fonts-cantarell
        # a bootable Debian for the real-distribution tests (tests/fixtures/make-debian-image.sh)
        mmdebstrap arch-test libdistro-info-perl xz-utils tar
        # unit tests of copy-on-write copies (XFS reflinks, btrfs snapshots on loop mounts)
        xfsprogs btrfs-progs
        # test-75: an exported image must run under LXC's own lxc-create -t local
        lxc
        # a bootable Debian for the real-distribution tests (tests/fixtures/make-debian-image.sh)
        mmdebstrap arch-test libdistro-info-perl xz-utils tar
        # CI: sanitizers, libFuzzer, format check
        clang libclang-rt-14-dev clang-format git
)
PEERS=(hyperfine lxc python3-lxc lxc-dev crun systemd-container rsync zstd)

with_peers=1
[[ ${1:-} == --no-peers ]] && with_peers=0

log=${INSTALL_DEPS_LOG:-/tmp/warren-install-deps.log}
: >"$log"
export DEBIAN_FRONTEND=noninteractive

if [[ $(id -u) != 0 ]]; then
        echo "install-deps: ERROR: must run as root (apt-get install)" >&2
        exit 1
fi

missing() {
        local p
        for p in "$@"; do
                dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || echo "$p"
        done
}

apt_updated=0
apt_update() {
        ((apt_updated)) && return 0
        apt-get update -q >>"$log" 2>&1 || {
                echo "install-deps: ERROR: apt-get update failed, see $log:" >&2
                tail -n 20 "$log" >&2
                exit 1
        }
        apt_updated=1
}

apt_install() {
        apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1 </dev/null
}

start=$SECONDS
mapfile -t need < <(missing "${REQUIRED[@]}")
if ((${#need[@]} > 0)); then
        apt_update
        if ! apt_install "${need[@]}"; then
                echo "install-deps: ERROR: apt-get install failed, see $log:" >&2
                tail -n 20 "$log" >&2
        fi
        mapfile -t still < <(missing "${REQUIRED[@]}")
        if ((${#still[@]} > 0)); then
                echo "install-deps: ERROR: required packages not installed: ${still[*]}" >&2
                exit 1
        fi
fi

peers_note=""
if ((with_peers)); then
        mapfile -t need_peers < <(missing "${PEERS[@]}")
        if ((${#need_peers[@]} > 0)); then
                apt_update
                # One at a time: a peer the archive lacks must not keep the others out.
                for p in "${need_peers[@]}"; do
                        apt_install "$p" || true
                done
                mapfile -t no_peers < <(missing "${PEERS[@]}")
                ((${#no_peers[@]} == 0)) || peers_note="; optional peers missing: ${no_peers[*]}"
        fi
fi

echo "install-deps: ${#REQUIRED[@]} required packages present (${#need[@]} installed now)${peers_note}; $((SECONDS - start)) s, log $log"
