#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 12 (and root's own host): a privileged container (no lxc.idmap)
# shares the superblock of the host filesystem its rootfs lies on, so a
# `mount -o remount,ro /` inside (sysvinit's umountroot, systemd-shutdown)
# would remount the host's filesystem read-only. The seccomp host guard
# (lib/seccomp-filter.c) refuses it with EACCES for init's descendants and
# for attached processes (through the monitor's attach helper and through
# warrend's own attach); bind remounts and read-write remounts stay allowed;
# an unprivileged container gets no guard (the kernel refuses it the host's
# superblocks, and its own it may remount as it likes).
# In the sandbox the rootfs lies on the sandbox's own tmpfs over
# /var/lib/warren: were the guard missing, that tmpfs, not the machine's
# filesystem, would go read-only (and this test would say so).
# timeout: 300
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
state() { prop "$1" State; }
initpid() { prop "$1" InitPID; }
helper_of() { pgrep -f "^warren-attach $1( |$)"; }
# Seccomp filters stacked on a process (/proc/PID/status).
filters() { awk '/^Seccomp_filters:/ {print $2}' "/proc/$1/status"; }
# The superblock options of the filesystem holding PATH, as the host sees it.
sb_opts() { findmnt -n -o FS-OPTIONS --target "$1"; }
C=/var/lib/warren/containers

t_ok "create g1 (privileged busybox)" warrenctl create g1 -t busybox --config lxc.net.0.type=empty
rootfs=$C/g1/rootfs
t_ok "its rootfs is a directory of the host's filesystem" test -d "$rootfs/bin"
t_match "which is read-write ($(sb_opts "$rootfs"))" "$(sb_opts "$rootfs")" '^rw(,|$)'
hostroot_before=$(grep ' / / ' /proc/self/mountinfo)

# Init's side: a first process that tries the remount, then execs init.
cat >"$rootfs/guard-init" <<'SCRIPT'
#!/bin/sh
# (no file of / open for writing meanwhile: the kernel would say EBUSY)
err=$(mount -o remount,ro / 2>&1)
rc=$?
echo "$err" >/guard.err
echo $rc >/guard.rc
exec /sbin/init
SCRIPT
chmod 0755 "$rootfs/guard-init"
t_ok "init cmd: the remount first" warrenctl config set g1 lxc.init.cmd=/guard-init
t_ok "start g1" warrenctl start g1
pid=$(initpid g1)
t_eq "init has two seccomp filters (the host guard and the profile)" "$(filters "$pid")" 2
wait_for "the remount was tried" 10 test -s "$rootfs/guard.rc"
t_ok "init's remount,ro / failed" test "$(cat "$rootfs/guard.rc")" != 0
t_match "with Permission denied (EACCES)" "$(cat "$rootfs/guard.err")" 'Permission denied'
t_match "the host's filesystem under the rootfs is still read-write" "$(sb_opts "$rootfs")" '^rw(,|$)'
t_ok "and writable" touch "$rootfs/after-init-remount"

# Attached processes, through the monitor's attach helper.
wait_for "g1 has an attach helper" 5 helper_of g1
hpid=$(helper_of g1)
t_ok "g1 has an attach helper ($hpid)" test -n "$hpid"
t_fail_match "attach: mount -o remount,ro / is refused" "Permission denied" \
        warrenctl attach g1 -- mount -o remount,ro /
t_fail_match "attach: also spelled with more options" "Permission denied" \
        warrenctl attach g1 -- mount -o remount,ro,nosuid,nodev /
t_match "the host's filesystem is still read-write" "$(sb_opts "$rootfs")" '^rw(,|$)'
t_eq "the sandbox's / is unchanged" "$(grep ' / / ' /proc/self/mountinfo)" "$hostroot_before"
t_ok "attach: an attached shell has the guard too" \
        warrenctl attach g1 -- sh -c 'grep -q "^Seccomp_filters:[[:space:]]*2$" /proc/self/status'
t_ok "attach: a read-write remount of / is allowed" warrenctl attach g1 -- mount -o remount,rw /
t_ok "attach: a bind remount read-only (the mount only) is allowed" \
        warrenctl attach g1 -- sh -c 'mkdir -p /tmp/b && mount -t tmpfs gb /tmp/b && mount -o remount,bind,ro /tmp/b &&
                ! touch /tmp/b/x 2>/dev/null && grep " /tmp/b " /proc/self/mountinfo'
t_match "...its mount options read ro, its superblock's rw" "$T_OUT" ' /tmp/b ro[, ].* - tmpfs gb rw'
t_fail_match "attach: the container's own tmpfs cannot be remounted read-only either (seccomp sees no path)" \
        "Permission denied" warrenctl attach g1 -- mount -o remount,ro /tmp/b
t_eq "g1 RUNNING" "$(state g1)" RUNNING
t_eq "with the same init" "$(initpid g1)" "$pid"

# Attached processes, through warrend's own attach (no helper).
kill -9 "$hpid"
wait_for "the helper is gone" 5 bash -c '! kill -0 '"$hpid"' 2>/dev/null'
t_fail_match "attach without the helper: mount -o remount,ro / is refused" "Permission denied" \
        warrenctl attach g1 -- mount -o remount,ro /
t_ok "attach without the helper: the guard is there" \
        warrenctl attach g1 -- sh -c 'grep -q "^Seccomp_filters:[[:space:]]*2$" /proc/self/status'
t_match "the host's filesystem is still read-write" "$(sb_opts "$rootfs")" '^rw(,|$)'
t_eq "g1 still RUNNING" "$(state g1)" RUNNING

# A stop runs the container's shutdown (busybox init: umount -a -r).
t_ok "stop g1" warrenctl stop g1 -t 20
t_match "after the container's shutdown, still read-write" "$(sb_opts "$rootfs")" '^rw(,|$)'
t_ok "and writable" touch "$rootfs/after-stop"

# An unprivileged container: no guard; the kernel decides.
grant alice warren-create
grant alice warren-manage-own
t_ok "alice creates u1 (unprivileged)" as_user alice warrenctl create u1 -t busybox --config lxc.net.0.type=empty
t_ok "alice starts u1" as_user alice warrenctl start u1
upid=$(initpid u1)
t_eq "its init has one seccomp filter (the profile only)" "$(filters "$upid")" 1
t_ok "an attached shell too" \
        as_user alice warrenctl attach u1 -- sh -c 'grep -q "^Seccomp_filters:[[:space:]]*1$" /proc/self/status'
# (mqueue: busybox's remount passes a tmpfs's uid=HOSTID back, which the
# container's user namespace cannot parse.)
t_ok "its root may remount a filesystem of its own read-only" \
        as_user alice warrenctl attach u1 -- sh -c 'mkdir -p /tmp/u && mount -t mqueue gu /tmp/u &&
                mount -o remount,ro /tmp/u && grep " /tmp/u " /proc/self/mountinfo'
t_match "...the superblock reads ro" "$T_OUT" ' - mqueue gu ro'
t_fail "but not the host's filesystem under its rootfs (the kernel refuses)" \
        as_user alice warrenctl attach u1 -- mount -o remount,ro /
t_match "which stays read-write" "$(sb_opts "$C/u1/rootfs")" '^rw(,|$)'
t_ok "stop u1" as_user alice warrenctl stop u1 -k
t_ok "alice destroys u1" as_user alice warrenctl destroy u1
revoke_all alice
t_ok "destroy g1" warrenctl destroy g1
t_eq "the store is empty again" "$(warrenctl list --noheadings --raw -o name)" ""
finish
