#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 7: unprivileged containers for ordinary users. alice (subuid
# 200000:65536), allowed by a rule, creates and starts a busybox container:
# root inside is 200000 on the host and cannot reach beyond it; what she may
# put in the config, act on and how many; carol (no subuid) gets a clear
# error; the delegated cgroup; info and list show the map.
# timeout: 400
. "$(dirname "$0")/lib.sh"

C=/var/lib/warren/containers
BUS=(busctl --system)
MGR=(org.warren1 /org/warren1 org.warren1.Manager)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
initpid() { prop "$1" InitPID; }
# As the container's root, the way alice gets there: warrenctl attach (into
# its namespaces and cgroup, uid 0 of its user namespace).
in_ct() { local ct=$1; shift; as_user alice warrenctl attach "$ct" --no-pty -- "$@"; }
cfg_sum() { md5sum <"$C/$1/config"; }
no_leftovers() {
        local name=$1 d
        for d in /sys/fs/cgroup/*/warren/"$name" /sys/fs/cgroup/unified/warren/"$name" /run/warren/containers/"$name"; do
                [[ -e $d ]] && { echo "left behind: $d"; return 1; }
        done
        return 0
}

alice_uid=$(id -u alice)
grant alice warren-create
grant alice warren-manage-own
grant bob warren-create
grant bob warren-manage-own

# --- alice's container ----------------------------------------------------------
t_ok "alice creates u1 (busybox)" as_user alice warrenctl create u1 -t busybox
t_eq "OwnerUID is alice" "$(prop u1 OwnerUID)" "$alice_uid"
t_eq "Unprivileged is true" "$(prop u1 Unprivileged)" true
t_ok "config get lxc.idmap" as_user alice warrenctl config get u1 lxc.idmap
t_eq "the default map from /etc/subuid and /etc/subgid" "$T_OUT" $'u 0 200000 65536\ng 0 200000 65536'
t_ok "info" as_user alice warrenctl info u1
t_match "info shows it unprivileged" "$T_OUT" 'Unprivileged: +yes'
t_match "info shows the map" "$T_OUT" 'ID map: +u 0 200000 65536.*ID map: +g 0 200000 65536'
t_ok "list --fancy" as_user alice warrenctl list --fancy
t_match "UNPRIVILEGED column is true" "$T_OUT" 'u1 +STOPPED +NO +- +- +- +true'
rootfs_owner=$(stat -c %u:%g "$C/u1/rootfs")
t_diag "rootfs owner on the host: $rootfs_owner ($(stat -f -c %T "$C/u1/rootfs"))"

# An admin binds the host's /etc/shadow in (root: no polkit). A bind in a
# non-root owner's own config must be the owner's (issue 12 §5): root shares
# a host path through a root-owned file the config includes.
mkdir -p /etc/warren/shared
echo "lxc.mount.entry = /etc/shadow etc/hostshadow none bind,ro,create=file 0 0" >/etc/warren/shared/u1.conf
t_ok "root includes a file binding /etc/shadow" \
        warrenctl config set u1 "lxc.include=/etc/warren/shared/u1.conf"

host_name=$(hostname)
s=${EPOCHREALTIME/./}
t_ok "alice starts u1" as_user alice warrenctl start u1
t_unpriv_ms=$(((${EPOCHREALTIME/./} - s) / 1000))
t_eq "State RUNNING" "$(prop u1 State)" RUNNING
pid=$(initpid u1)
t_match "InitPID" "$pid" '^[1-9][0-9]*$'
t_eq "init's uid_map seen from the host" "$(tr -s ' ' </proc/$pid/uid_map)" " 0 200000 65536"
t_eq "init's gid_map seen from the host" "$(tr -s ' ' </proc/$pid/gid_map)" " 0 200000 65536"
t_eq "init runs as host uid 200000" "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" 200000
t_ok "init has its own user namespace" test "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)"

t_ok "alice attaches" in_ct u1 id -u
t_eq "inside, id -u is 0" "$T_OUT" 0
t_ok "uid_map inside" in_ct u1 cat /proc/self/uid_map
t_eq "inside, /proc/self/uid_map is 0 200000 65536" "$(tr -s ' ' <<<"$T_OUT")" " 0 200000 65536"
t_ok "a file made inside" in_ct u1 sh -c 'echo x >/made-inside'
if [[ ${rootfs_owner%%:*} == 200000 ]]; then
        t_eq "is owned by 200000 on the host (shifted rootfs)" "$(stat -c %u:%g "$C/u1/rootfs/made-inside")" 200000:200000
else
        # An idmapped rootfs stores container root's files as uid 0 on disk.
        t_ok "/ is idmapped inside" in_ct u1 sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo | grep -q ,idmapped'
        t_eq "is stored as container uid 0 (idmapped rootfs)" "$(stat -c %u:%g "$C/u1/rootfs/made-inside")" 0:0
fi
t_fail_match "container root cannot mknod" "Operation not permitted" in_ct u1 mknod /dev/tn c 1 3
t_fail_match "container root cannot load modules" "Operation not permitted|kernel does not support" \
        in_ct u1 insmod /bin/busybox
t_ok "container root sets its own hostname" in_ct u1 sh -c 'hostname inner && hostname'
t_eq "inside the hostname changed" "$T_OUT" inner
t_eq "the host's hostname did not" "$(hostname)" "$host_name"
t_ok "the admin's bind is there" in_ct u1 test -e /etc/hostshadow
t_fail_match "the host's /etc/shadow is unreadable for container root" "Permission denied" \
        in_ct u1 cat /etc/hostshadow
t_fail_match "even with nsenter's full capabilities in the namespace" "Permission denied" \
        nsenter -a -t "$pid" cat /etc/hostshadow

# Delegated cgroup: nested cgroups work (v1 pids and cgroup2 here), the limits
# set from outside do not.
t_ok "cgroup.procs delegated to container root" test "$(stat -c %u /sys/fs/cgroup/pids/warren/u1/cgroup.procs)" = 200000
t_ok "pids.max stays root's" test "$(stat -c %u /sys/fs/cgroup/pids/warren/u1/pids.max)" = 0
t_ok "a systemd-style nested cgroup (v1 pids) from inside" \
        in_ct u1 sh -c 'mkdir /sys/fs/cgroup/pids/payload && echo $$ >/sys/fs/cgroup/pids/payload/cgroup.procs'
t_ok "it is in the container's subtree, owned by its root" test "$(stat -c %u /sys/fs/cgroup/pids/warren/u1/payload)" = 200000
t_ok "a nested cgroup2 cgroup from inside, joined" \
        in_ct u1 sh -c 'mkdir /sys/fs/cgroup/unified/payload && echo $$ >/sys/fs/cgroup/unified/payload/cgroup.procs'
t_fail_match "writing its own pids.max from inside fails" "Permission denied|Operation not permitted" \
        in_ct u1 sh -c 'echo max >/sys/fs/cgroup/pids/pids.max'
t_fail_match "writing its own memory.limit_in_bytes from inside fails" "Permission denied|Operation not permitted" \
        in_ct u1 sh -c 'echo -1 >/sys/fs/cgroup/memory/memory.limit_in_bytes'
t_ok "the console works (its pty belongs to container root)" as_user alice warrenctl console-log u1

s=${EPOCHREALTIME/./}
t_ok "alice stops u1" as_user alice warrenctl stop u1 -t 20
t_diag "stop took $(((${EPOCHREALTIME/./} - s) / 1000)) ms"
t_eq "STOPPED" "$(prop u1 State)" STOPPED
t_ok "nothing left behind" no_leftovers u1

# Start time beside a privileged busybox container (root's): warrenctl start
# wall time, median of 5 start + stop -k cycles each.
t_ok "root creates a privileged container p1" warrenctl create p1 -t busybox
# Like u1, whose NIC was dropped (alice has no usernet quota): no network.
t_eq "u1 has no NIC" "$(warrenctl config get u1 lxc.net.0.type)" empty
t_ok "p1 without a NIC either" warrenctl config set p1 lxc.net= lxc.net.0.type=empty
median_start() {
        local ct=$1 i s times=()
        for i in 1 2 3 4 5; do
                s=${EPOCHREALTIME/./}
                warrenctl start "$ct" >/dev/null 2>&1 || return 1
                times+=($(((${EPOCHREALTIME/./} - s) / 1000)))
                warrenctl stop "$ct" -k >/dev/null 2>&1 || return 1
        done
        printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}
t_priv_ms=$(median_start p1)
t_ok "5 starts of p1" test -n "$t_priv_ms"
t_unpriv2_ms=$(median_start u1)
t_ok "5 starts of u1" test -n "$t_unpriv2_ms"
t_diag "warrenctl start, median of 5: privileged $t_priv_ms ms, unprivileged $t_unpriv2_ms ms (first start, as alice: $t_unpriv_ms ms)"
t_ok "nothing left of p1 and u1" sh -c 'for c in p1 u1; do for d in /sys/fs/cgroup/*/warren/$c /run/warren/containers/$c; do [ -e $d ] && exit 1; done; done; exit 0'

# --- what alice may not do ----------------------------------------------------------
sum=$(cfg_sum u1)
t_fail_match "a map outside her ranges (bob's) is AccessDenied naming the line" \
        "Access denied.*lxc\.idmap.*'u 0 300000 65536'" \
        as_user alice warrenctl config set u1 lxc.idmap= "lxc.idmap=u 0 300000 65536" "lxc.idmap=g 0 300000 65536"
t_diag "$T_ERR"
t_eq "config unchanged on disk" "$(cfg_sum u1)" "$sum"
t_fail_match "an extra line overlapping her map is refused" "overlap" \
        as_user alice warrenctl config set u1 "lxc.idmap=u 0 300000 65536"
t_eq "config unchanged on disk" "$(cfg_sum u1)" "$sum"
admin_only=(
        "lxc.hook.pre-start=/bin/true"
        "lxc.net.0.type=none"
        "lxc.cgroup2.devices.allow=c 1:3 rwm"
        "lxc.rootfs.path=dir:/var/tmp"
        "lxc.console.logfile=/var/tmp/u1.log"
)
for item in "${admin_only[@]}"; do
        key=${item%%=*}
        t_fail_match "alice may not set $key" "(AccessDenied|Access denied).*${key//./\\.}|${key//./\\.}.*(AccessDenied|Access denied|create-privileged)" \
                as_user alice warrenctl config set u1 "$item"
        t_eq "config unchanged on disk after $key" "$(cfg_sum u1)" "$sum"
done
# A bind source not her own: no authorization makes it start (issue 12 §5).
t_fail_match "alice may not bind /etc/passwd" "lxc\.mount\.entry.*Refusing bind source '/etc/passwd': it is owned by uid 0" \
        as_user alice warrenctl config set u1 "lxc.mount.entry=/etc/passwd etc/hostpasswd none bind,create=file 0 0"
t_eq "config unchanged on disk after the bind" "$(cfg_sum u1)" "$sum"
t_ok "alice may set an ordinary key" as_user alice warrenctl config set u1 lxc.cgroup2.pids.max=100

t_ok "bob creates b1" as_user bob warrenctl create b1 -t busybox
t_fail_match "alice cannot start bob's container" "Access denied|AccessDenied" as_user alice warrenctl start b1
t_fail_match "alice cannot change bob's config" "Access denied|AccessDenied" \
        as_user alice warrenctl config set b1 lxc.start.auto=1
t_fail_match "alice cannot destroy bob's container" "Access denied|AccessDenied" as_user alice warrenctl destroy b1
t_fail_match "alice cannot attach to bob's container" "Access denied|AccessDenied|not running" \
        as_user alice warrenctl attach b1 --no-pty -- id

mkdir -p /etc/warren
cp -a /etc/warren/warren.conf "$T_LIB_TMP/warren.conf.orig" 2>/dev/null
printf 'limit.containers = 2\n' >>/etc/warren/warren.conf
t_ok "alice's second container" as_user alice warrenctl create u2 -t busybox
t_fail_match "her third is over the limit" "QuotaExceeded|limit.*2" as_user alice warrenctl create u3 -t busybox
t_fail_match "the error names the limit" "containers" as_user alice warrenctl create u3 -t busybox
t_fail "u3 does not exist" test -e "$C/u3"
if [[ -f $T_LIB_TMP/warren.conf.orig ]]; then
        cp -a "$T_LIB_TMP/warren.conf.orig" /etc/warren/warren.conf
else
        rm -f /etc/warren/warren.conf
fi

t_fail_match "carol (no subuid) gets the clear error" "carol .* has no range of at least 65536 ids in /etc/subuid" \
        as_user carol warrenctl create c1 -t busybox
t_fail "no c1" test -e "$C/c1"
# Without lxc.idmap a container would be privileged: a non-root owner's never is.
t_fail_match "alice cannot create a privileged container" "must be unprivileged|Access denied|AccessDenied" \
        as_user alice warrenctl create priv1 -t busybox --config=lxc.idmap=
t_fail "no priv1" test -e "$C/priv1"

# A rootfs still owned by host root (made before the map was known): the
# monitor mounts it idmapped (tmpfs here supports it).
t_ok "root re-owns u2's rootfs to host root" chown -hR 0:0 "$C/u2/rootfs"
t_ok "alice starts u2" as_user alice warrenctl start u2
t_ok "u2: / is an idmapped mount" in_ct u2 sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo | grep -q ,idmapped'
t_ok "u2: id -u is 0" in_ct u2 id -u
t_eq "u2: root inside" "$T_OUT" 0
t_ok "u2: the rootfs is root's inside" in_ct u2 stat -c %u /bin/busybox
t_eq "u2: /bin/busybox owned by 0 inside" "$T_OUT" 0
t_ok "u2: a file made inside" in_ct u2 sh -c 'echo x >/made-inside'
t_eq "u2: it is stored as container uid 0 on disk" "$(stat -c %u:%g "$C/u2/rootfs/made-inside")" 0:0
t_fail_match "u2: mknod still fails" "Operation not permitted" in_ct u2 mknod /dev/tn c 1 3
t_ok "alice stops u2" as_user alice warrenctl stop u2 -k
t_ok "u2: nothing left behind" no_leftovers u2

# Issue 14: images for user mode include userns.conf, whose mount entries
# bind /dev/null and friends (create=file) before /dev is filled; autodev
# keeps what is there, as LXC's does.
t_ok "root includes userns.conf in u2, as a user-mode image config does" \
        warrenctl config set u2 "lxc.include=$WARREN_SRC/data/userns.conf"
t_ok "alice starts u2 with userns.conf's /dev binds" as_user alice warrenctl start u2
t_ok "u2: /dev/null is the host's character device" in_ct u2 sh -c 'test -c /dev/null && echo x >/dev/null'
t_ok "u2: /dev/zero reads zeros" in_ct u2 sh -c 'test "$(head -c 4 /dev/zero | od -An -tx1 | tr -d " ")" = 00000000'
t_ok "alice stops u2 again" as_user alice warrenctl stop u2 -k
t_ok "u2: nothing left behind after the second start" no_leftovers u2

# --- cleanup ---------------------------------------------------------------------------
for c in u1 u2 b1 p1; do
        warrenctl destroy "$c" >/dev/null 2>&1
done
t_ok "store is empty again" test -z "$(ls -A $C)"
finish
