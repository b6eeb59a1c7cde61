#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A private world for warren's integration tests and demos: fresh mount, net,
# pid, uts and ipc namespaces; /etc, /var, /run and /home as overlays whose
# writes stay in a tmpfs; tmpfs over warren's state, runtime, cache and config
# dirs; a private system bus that bus-activates the build tree's warrend; a
# real polkitd with the project's actions and the test rules; test users.
# When the sandbox's pid 1 exits the kernel ends everything started in it.
#
#   tests/integration/sandbox.sh [--build DIR] [--src DIR] [--quiet] [-- CMD...]
#
# Runs CMD (default: an interactive bash) inside and exits with its status;
# 99 if the host changed while it ran (users, groups, subids, warren dirs, bus
# socket, links, polkit rules, container cgroups: cgroupfs is the host's, so
# the cgroups of containers still running at exit are removed afterwards).
# Needs root. Inside, CMD sees:
#   DBUS_SYSTEM_BUS_ADDRESS  the private bus
#   WARREN_SRC WARREN_BUILD  source and build trees (reachable by test users)
#   WARREN_SCRATCH           the sandbox's tmpfs; WARREN_LOG_DIR its daemon logs
#   WARREN_HOST_ROOT         a read-only view of the host's root file system
#   WARREN_HOST_NETNS        the host's network namespace id, e.g. net:[4026531840]
#   PATH                     starts with the build tree's cli/ and service/
# Test users: alice (subuid/subgid 200000:65536), bob (300000:65536), carol
# (none). Grants go through groups, see rules/50-warren-test.rules.
#
# Environment knobs: WARREN_SANDBOX_LOG_KEEP=DIR copies the daemon logs there at
# exit; WARREN_WARREND_WRAPPER="strace -f -o /tmp/x" prefixes warrend's Exec=.
#
# Sourcing this file only defines functions (run.sh uses sandbox_run and
# sandbox_host_snapshot).

SANDBOX_TOOLS=(unshare setpriv useradd groupadd gpasswd ip mount dbus-daemon busctl gdbus timeout
               /usr/lib/polkit-1/polkitd /usr/bin/python3)
SANDBOX_USERS=(alice bob carol)
SANDBOX_GROUPS=(warren-create warren-manage-own warren-pull warren-admin warren-deny warren-by-name)
SANDBOX_HOST_PATHS=(/etc/warren /var/lib/warren /run/warren /var/cache/warren /run/dbus/system_bus_socket
                    /etc/polkit-1/rules.d/50-warren-test.rules /home/alice /home/bob /home/carol)

_sb_log() {
        [[ ${_SB_QUIET:-0} == 1 ]] || echo "sandbox: $*" >&2
}

_sb_die() {
        echo "sandbox: ERROR: $*" >&2
        exit 1
}

_sb_now_ms() {
        local t=${EPOCHREALTIME/./}
        echo $((t / 1000))
}

# What must not change on the host while a sandbox runs: files our setup
# writes (inside the overlays), links of the host's network namespace.
sandbox_host_snapshot() {
        local p u
        sha256sum /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/subuid /etc/subgid 2>/dev/null
        for p in "${SANDBOX_HOST_PATHS[@]}"; do
                [[ -e $p || -L $p ]] && echo "exists $p"
        done
        for u in "${SANDBOX_USERS[@]}" "${SANDBOX_GROUPS[@]}"; do
                getent passwd "$u" >/dev/null && echo "user $u"
                getent group "$u" >/dev/null && echo "group $u"
        done
        ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print "link " $2 }'
        ls -A /etc/polkit-1/rules.d 2>/dev/null | sed 's/^/rule /'
}

sandbox_missing_tools() {
        local t missing=()
        for t in "${SANDBOX_TOOLS[@]}"; do
                command -v "$t" >/dev/null 2>&1 || missing+=("$t")
        done
        echo "${missing[*]}"
}

# Container cgroups live in the host's hierarchies (cgroupfs is not
# namespaced): HIERARCHY/warren/NAME, and below.
_sb_warren_cgroups() {
        find /sys/fs/cgroup -mindepth 3 -maxdepth 3 -type d -path '/sys/fs/cgroup/*/warren/*' 2>/dev/null | sort
}

# The pid namespace's end killed the containers still running: remove the
# cgroups of the sandbox's containers (names in $2) made during the run.
_sb_remove_cgroups() {
        local before=$1 names=$2 dir try left=()
        [[ -s $names ]] || return 0
        while read -r dir; do
                grep -qxF "$dir" <<<"$before" && continue
                grep -qxF "${dir##*/}" "$names" || continue
                # Its killed tasks may take a moment to leave.
                for ((try = 0; try < 40; try++)); do
                        find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
                        [[ -d $dir ]] || break
                        sleep 0.05
                done
                [[ -d $dir ]] && left+=("$dir")
        done < <(_sb_warren_cgroups)
        ((${#left[@]} == 0)) || echo "sandbox: could not remove cgroups: ${left[*]}" >&2
        return 0
}

# Each sandbox gets a cgroup of its own in every hierarchy, below the
# caller's, and a cgroup namespace rooted there: inside, containers still
# live at HIERARCHY/warren/NAME, but on the host that is
# HIERARCHY/<caller's cgroup>/warren-sandbox.PID/warren/NAME, so sandboxes
# run side by side without their containers' cgroups meeting.
# Prints "mountpoint<TAB>fstype<TAB>options<TAB>dir" per hierarchy.
_sb_cgroup_dirs() {
        local sbcg=$1 src mp fstype opts rest key rel
        while read -r src mp fstype opts rest; do
                [[ $fstype == cgroup || $fstype == cgroup2 ]] || continue
                if [[ $fstype == cgroup2 ]]; then
                        key=""
                else
                        # The hierarchy's line in /proc/self/cgroup names its controllers.
                        key=$(tr ',' '\n' <<<"$opts" | grep -vxE 'rw|ro|relatime|noatime|nosuid|nodev|noexec|clone_children|favordynmods|xattr|nsdelegate|memory_recursiveprot|release_agent=.*' | paste -sd, -)
                fi
                rel=$(awk -F: -v k="$key" -v v2="$([[ $fstype == cgroup2 ]] && echo 1)" '
                        v2 == 1 && $1 == "0" && $2 == "" { print $3; exit }
                        v2 != 1 && $2 == k { print $3; exit }' /proc/self/cgroup)
                [[ -n $rel ]] || rel=/
                printf '%s\t%s\t%s\t%s\n' "$mp" "$fstype" "$opts" "$mp${rel%/}/$sbcg"
        done </proc/self/mounts
}

_sb_make_cgroups() {
        local list=$1 mp fstype opts dir f
        while IFS=$'\t' read -r mp fstype opts dir; do
                mkdir -p "$dir" || return 1
                if [[ -f $dir/cpuset.cpus ]]; then
                        for f in cpuset.cpus cpuset.mems; do
                                cat "$(dirname "$dir")/$f" >"$dir/$f" || return 1
                        done
                fi
        done <"$list"
}

_sb_remove_own_cgroups() {
        local list=$1 mp fstype opts dir try
        while IFS=$'\t' read -r mp fstype opts dir; do
                for ((try = 0; try < 60; try++)); do
                        [[ -d $dir ]] || break
                        find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
                        [[ -d $dir ]] || break
                        sleep 0.05
                done
                [[ -d $dir ]] && echo "sandbox: could not remove cgroup $dir" >&2
        done <"$list"
        return 0
}

# Enter the sandbox and run CMD; sets SANDBOX_HOST_DIFF (empty if the host
# is unchanged) and returns CMD's status.
sandbox_run() {
        local build="" src="" quiet=0
        while (($#)); do
                case $1 in
                --build) build=$2; shift 2 ;;
                --src) src=$2; shift 2 ;;
                --quiet) quiet=1; shift ;;
                --) shift; break ;;
                *) break ;;
                esac
        done
        _SB_QUIET=$quiet
        SANDBOX_HOST_DIFF=""
        # useradd and friends live in sbin, which a caller's PATH may lack.
        PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

        if [[ $(id -u) != 0 ]]; then
                echo "sandbox: ERROR: must run as root (it creates namespaces, users and mounts)" >&2
                return 1
        fi
        local missing
        missing=$(sandbox_missing_tools)
        if [[ -n $missing ]]; then
                echo "sandbox: ERROR: missing tools: $missing (run scripts/install-deps.sh)" >&2
                return 1
        fi

        local here
        here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
        src=$(realpath "${src:-$here/../..}") || return 1
        build=$(realpath -m "${build:-$src/build}")
        if [[ ! -d $build ]]; then
                echo "sandbox: ERROR: build dir '$build' does not exist (meson setup $build && ninja -C $build)" >&2
                return 1
        fi
        if [[ "$src$build" =~ [[:space:]] ]]; then
                echo "sandbox: ERROR: source or build path contains white space: '$src', '$build'" >&2
                return 1
        fi

        # The scratch mount point must not lie under a dir we overlay.
        local scratch names cgroups_before before after rc=0
        scratch=$(mktemp -d /tmp/warren-sandbox.XXXXXX) || return 1
        names=$(mktemp /tmp/warren-sandbox-containers.XXXXXX) || return 1
        # For the caller's signal traps: the (empty) mount point and file to remove.
        SANDBOX_SCRATCH=$scratch
        SANDBOX_NAMES_FILE=$names
        cgroups_before=$(_sb_warren_cgroups)
        before=$(sandbox_host_snapshot)
        local cglist
        cglist=$(mktemp /tmp/warren-sandbox-cgroups.XXXXXX) || return 1
        SANDBOX_CGROUPS_FILE=$cglist
        _sb_cgroup_dirs "warren-sandbox.$$.$RANDOM" >"$cglist"
        _sb_make_cgroups "$cglist" || { echo "sandbox: ERROR: cannot make the sandbox's cgroups" >&2; return 1; }

        # "--enter" moves itself into the sandbox's cgroups, so the new
        # cgroup namespace is rooted there.
        WARREN_SRC=$src WARREN_BUILD=$build WARREN_SCRATCH=$scratch _SB_QUIET=$quiet \
        WARREN_HOST_NETNS=$(readlink /proc/self/ns/net) _SB_NAMES_FILE=$names _SB_CGROUPS_FILE=$cglist \
                /bin/bash "$here/sandbox.sh" --enter "${@}" || rc=$?

        rmdir "$scratch" 2>/dev/null || true
        _sb_remove_own_cgroups "$cglist"
        rm -f "$cglist"
        _sb_remove_cgroups "$cgroups_before" "$names"
        after=$(sandbox_host_snapshot)
        if [[ $before != "$after" ]]; then
                SANDBOX_HOST_DIFF=$(diff <(echo "$before") <(echo "$after") | grep '^[<>]')
        fi
        # New cgroups left behind. In CI nothing else runs, so all are ours; on
        # a developer's machine, only those named like the sandbox's containers.
        local new_cgroups
        new_cgroups=$(comm -13 <(echo "$cgroups_before") <(_sb_warren_cgroups))
        if [[ ${CI:-false} == false && -n $new_cgroups ]]; then
                new_cgroups=$(while read -r d; do
                        grep -qxF "${d##*/}" "$names" && echo "$d"
                done <<<"$new_cgroups")
        fi
        rm -f "$names"
        new_cgroups=$(sed '/^$/d; s/^/> cgroup /' <<<"$new_cgroups")
        SANDBOX_HOST_DIFF=$(printf '%s\n%s' "$SANDBOX_HOST_DIFF" "$new_cgroups" | sed '/^$/d')
        if [[ -n $SANDBOX_HOST_DIFF ]]; then
                echo "sandbox: ERROR: the host changed while the sandbox ran:" >&2
                echo "$SANDBOX_HOST_DIFF" | sed 's/^/sandbox:   /' >&2
        fi
        return $rc
}

# ---- everything below runs inside the new namespaces, as their pid 1 ----

_sb_mount_overlay() {
        local dir=$1 name=$2
        mkdir -p "$S/ovl/$name/upper" "$S/ovl/$name/work"
        mount -t overlay "overlay-$name" \
                -o "lowerdir=$dir,upperdir=$S/ovl/$name/upper,workdir=$S/ovl/$name/work" "$dir"
}

_sb_mount_tmpfs() {
        mkdir -p "$1"
        mount -t tmpfs -o "mode=${2:-0755}" "tmpfs-warren" "$1"
}

_sb_setup_mounts() {
        mount -t tmpfs -o mode=0755 tmpfs-scratch "$S"
        mkdir -p "$S/host" "$S/log" "$S/tmp" "$S/bus" "$S/dbus-policy" "$S/dbus-services" "$S/actions"
        chmod 1777 "$S/tmp"

        # A read-only look at the host's root fs, for tests that prove they left it alone.
        mount --bind / "$S/host"
        mount -o remount,bind,ro "$S/host"

        local d
        for d in etc var run home; do
                _sb_mount_overlay "/$d" "$d"
        done
        _sb_mount_tmpfs /var/lib/warren 0755
        _sb_mount_tmpfs /run/warren 0755
        _sb_mount_tmpfs /var/cache/warren 0755
        _sb_mount_tmpfs /etc/warren 0755
        local f
        for f in "$WARREN_SRC"/data/*.conf "$WARREN_SRC"/data/usernet; do
                if [[ -f $f ]]; then cp "$f" /etc/warren/; fi
        done

        # sysfs shows the mounter's network namespace: remount it. The cgroup
        # hierarchies are mounted afresh in our cgroup namespace, so their
        # root is the sandbox's own cgroup; pid 1 then moves one level down
        # (a v2 cgroup with children holds no processes).
        mount -t sysfs sysfs-warren /sys
        mount -t tmpfs -o mode=0755 tmpfs-cgroup /sys/fs/cgroup
        local mp fstype opts dir
        while IFS=$'\t' read -r mp fstype opts dir; do
                mkdir -p "$mp"
                mount -t "$fstype" -o "$opts" "$fstype" "$mp"
                mkdir -p "$mp/sandbox"
                if [[ -f $mp/cpuset.cpus ]]; then
                        cat "$mp/cpuset.cpus" >"$mp/sandbox/cpuset.cpus"
                        cat "$mp/cpuset.mems" >"$mp/sandbox/cpuset.mems"
                fi
                echo $$ >"$mp/sandbox/cgroup.procs"
        done <"$_SB_CGROUPS_FILE"
        mount -o remount,ro tmpfs-cgroup /sys/fs/cgroup 2>/dev/null || true

        # Test users must reach the trees; a checkout under /root would hide them.
        if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$WARREN_BUILD/." -a -r "$WARREN_SRC/." 2>/dev/null; then
                mkdir -p "$S/trees/src" "$S/trees/build"
                mount --bind "$WARREN_SRC" "$S/trees/src"
                mount --bind "$WARREN_BUILD" "$S/trees/build"
                WARREN_SRC=$S/trees/src
                WARREN_BUILD=$S/trees/build
        fi
}

_sb_setup_users() {
        local g
        for g in "${SANDBOX_GROUPS[@]}"; do
                getent group "$g" >/dev/null || groupadd "$g"
        done
        local u
        for u in "${SANDBOX_USERS[@]}"; do
                getent passwd "$u" >/dev/null && _sb_die "user '$u' already exists on the host: pick other test users"
                useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$u"
        done
        # Only our ranges for our users, whatever the host's files hold.
        touch /etc/subuid /etc/subgid
        printf 'alice:200000:65536\nbob:300000:65536\n' | tee -a /etc/subuid >>/etc/subgid
}

_sb_write_bus_config() {
        cat >"$S/bus/system.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Generated by tests/integration/sandbox.sh. No <user> and no <servicehelper>:
     the bus stays root and activates services as root. -->
<busconfig>
  <type>system</type>
  <listen>unix:path=$S/bus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$S/dbus-services</servicedir>

  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Containers1"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>

  <includedir>/usr/share/dbus-1/system.d</includedir>
  <includedir>$S/dbus-policy</includedir>
</busconfig>
EOF
        # The project's policy comes from the source tree, the daemon from the build tree.
        if [[ -f $WARREN_SRC/dbus/org.warren1.conf ]]; then
                cp "$WARREN_SRC/dbus/org.warren1.conf" "$S/dbus-policy/"
        fi
        cat >"$S/dbus-services/org.warren1.service" <<EOF
[D-BUS Service]
Name=org.warren1
Exec=${WARREN_WARREND_WRAPPER:+$WARREN_WARREND_WRAPPER }$WARREN_BUILD/service/warrend --state-dir=/var/lib/warren --runtime-dir=/run/warren --cache-dir=/var/cache/warren --config-dir=/etc/warren --monitor-path=$WARREN_BUILD/service/warren-monitor --worker-path=$WARREN_BUILD/service/warren-worker --data-dir=$WARREN_SRC/data
User=root
EOF
        # Lets the bus restart polkitd should it die mid-run.
        cat >"$S/dbus-services/org.freedesktop.PolicyKit1.service" <<EOF
[D-BUS Service]
Name=org.freedesktop.PolicyKit1
Exec=/usr/lib/polkit-1/polkitd --no-debug
User=root
EOF
}

_sb_start_bus() {
        _sb_write_bus_config
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$S/bus/system_bus_socket"
        local fifo=$S/bus/ready addr=""
        mkfifo "$fifo"
        # Activated services inherit this environment and stderr (the log).
        dbus-daemon --config-file="$S/bus/system.conf" --nofork --nopidfile --nosyslog \
                --print-address=3 3>"$fifo" </dev/null >>"$S/log/dbus-daemon.log" 2>&1 &
        SB_DBUS_PID=$!
        read -r -t 10 addr <"$fifo" || true
        rm -f "$fifo"
        [[ -n $addr ]] || _sb_die "dbus-daemon did not start: $(tail -n 20 "$S/log/dbus-daemon.log")"
        chmod 0755 "$S/bus"
        chmod 0666 "$S/bus/system_bus_socket"
}

_sb_find_policy() {
        local f
        for f in "${WARREN_POLKIT_POLICY:-}" "$WARREN_SRC/polkit/org.warren1.policy" \
                 "$WARREN_BUILD/polkit/org.warren1.policy"; do
                [[ -n $f && -f $f ]] && { echo "$f"; return 0; }
        done
        return 1
}

_sb_start_polkit() {
        cp -a /usr/share/polkit-1/actions/. "$S/actions/"
        local policy
        if policy=$(_sb_find_policy); then
                cp "$policy" "$S/actions/org.warren1.policy"
        else
                _sb_log "no polkit/org.warren1.policy yet: org.warren1.* actions are unknown to polkit"
        fi
        mount --bind "$S/actions" /usr/share/polkit-1/actions

        # Only the test rules: rules that ship as examples are not installed.
        local r
        for r in "$WARREN_SRC"/tests/integration/rules/*.rules; do
                if [[ -f $r ]]; then install -m 0644 "$r" /etc/polkit-1/rules.d/; fi
        done

        /usr/lib/polkit-1/polkitd --no-debug </dev/null >>"$S/log/polkitd.log" 2>&1 &
        SB_POLKIT_PID=$!
        gdbus wait --system --timeout 15 org.freedesktop.PolicyKit1 >/dev/null 2>&1 ||
                _sb_die "polkitd did not appear on the bus: $(tail -n 20 "$S/log/polkitd.log")"
}

# The bus PID of a name's owner, empty if none.
sandbox_name_pid() {
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                GetConnectionUnixProcessID s "$1" 2>/dev/null | awk '{ print $2 }'
}

# Stop warrend cleanly (so sanitizers can report at exit), then the daemons.
sandbox_stop_warrend() {
        local pid i
        pid=$(sandbox_name_pid org.warren1)
        [[ -n $pid ]] || return 0
        kill -TERM "$pid" 2>/dev/null || return 0
        for ((i = 0; i < 100; i++)); do
                kill -0 "$pid" 2>/dev/null || return 0
                sleep 0.05
        done
        echo "sandbox: warrend (pid $pid) did not exit within 5 s of SIGTERM" >>"$S/log/sandbox.log"
        return 1
}

_sb_teardown() {
        # For sandbox_run, outside: whose cgroups to remove once we are gone.
        ls -A /var/lib/warren/containers >"${_SB_NAMES_FILE:-/dev/null}" 2>/dev/null
        sandbox_stop_warrend || true
        [[ -n ${SB_POLKIT_PID:-} ]] && kill -TERM "$SB_POLKIT_PID" 2>/dev/null
        [[ -n ${SB_DBUS_PID:-} ]] && kill -TERM "$SB_DBUS_PID" 2>/dev/null
        if [[ -n ${WARREN_SANDBOX_LOG_KEEP:-} ]]; then
                mkdir -p "$WARREN_SANDBOX_LOG_KEEP" && cp -a "$S/log/." "$WARREN_SANDBOX_LOG_KEEP/" 2>/dev/null
        fi
        return 0
}

_sb_inside() {
        set -euo pipefail
        S=$WARREN_SCRATCH
        local t0
        t0=$(_sb_now_ms)

        _sb_setup_mounts
        ip link set lo up
        echo warren-sandbox >/proc/sys/kernel/hostname
        _sb_setup_users
        # Not from here on: a failing step must not leave a half-made world running CMD.
        trap '_sb_teardown' EXIT
        _sb_start_bus
        _sb_start_polkit

        export WARREN_SANDBOX=1 WARREN_SRC WARREN_BUILD WARREN_SCRATCH
        export WARREN_LOG_DIR=$S/log WARREN_HOST_ROOT=$S/host WARREN_HOST_NETNS
        export PATH=$WARREN_BUILD/cli:$WARREN_BUILD/service:$PATH
        export TMPDIR=$S/tmp
        export WARREN_SANDBOX_READY_MS=$(($(_sb_now_ms) - t0))
        _sb_log "ready in ${WARREN_SANDBOX_READY_MS} ms (bus $DBUS_SYSTEM_BUS_ADDRESS)"
        set +e

        (($#)) || set -- /bin/bash -i
        # In the foreground, so that CMD inherits no ignored SIGINT; as pid 1,
        # bash still reaps the orphans that are reparented to it.
        "$@"
        exit $?
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        if [[ ${1:-} == --inside ]]; then
                shift
                _sb_inside "$@"
        elif [[ ${1:-} == --enter ]]; then
                shift
                while IFS=$'\t' read -r _mp _t _o _dir; do
                        echo $$ >"$_dir/cgroup.procs" || exit 1
                done <"$_SB_CGROUPS_FILE"
                exec unshare --mount --net --pid --uts --ipc --cgroup --fork --mount-proc --propagation private \
                        --kill-child -- /bin/bash "${BASH_SOURCE[0]}" --inside "$@"
        else
                trap 'rm -f "${SANDBOX_NAMES_FILE:-}"; [[ -n ${SANDBOX_CGROUPS_FILE:-} && -f $SANDBOX_CGROUPS_FILE ]] && { _sb_remove_own_cgroups "$SANDBOX_CGROUPS_FILE"; rm -f "$SANDBOX_CGROUPS_FILE"; }; [[ -n ${SANDBOX_SCRATCH:-} ]] && rmdir "$SANDBOX_SCRATCH" 2>/dev/null' EXIT
                trap 'exit 130' INT
                trap 'exit 143' TERM
                sandbox_run "$@"
                rc=$?
                [[ -z $SANDBOX_HOST_DIFF ]] || exit 99
                exit $rc
        fi
fi
