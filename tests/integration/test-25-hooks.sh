#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# LXC's lxc.hook.*: each runs at its point of a container's life, with LXC's
# arguments and environment; a failing one fails the start (or the destroy)
# and leaves nothing behind.
# timeout: 200
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }

log=/run/warren-hooks.log
mkdir -p /etc/warren/hooks
cat >/etc/warren/hooks/log.sh <<EOF
#!/bin/sh
echo "\$LXC_HOOK_TYPE args=\$* name=\$LXC_NAME pid=\${LXC_PID:-} target=\${LXC_TARGET:-} config=\$LXC_CONFIG_FILE" >>$log
EOF
cat >/etc/warren/hooks/mount.sh <<EOF
#!/bin/sh
echo "mount rootfs=\$LXC_ROOTFS_MOUNT" >>$log
echo "\$LXC_HOOK_TYPE" >"\$LXC_ROOTFS_MOUNT/hooked-by-mount"
EOF
chmod 0755 /etc/warren/hooks/*.sh
: >"$log"

t_ok "create c4" warrenctl create c4 -t busybox
t_ok "hooks set" warrenctl config set c4 \
        lxc.hook.pre-start=/etc/warren/hooks/log.sh \
        lxc.hook.pre-mount=/etc/warren/hooks/log.sh \
        lxc.hook.mount=/etc/warren/hooks/mount.sh \
        lxc.hook.start-host=/etc/warren/hooks/log.sh \
        "lxc.hook.start=/bin/sh -c 'echo \$LXC_HOOK_TYPE \$LXC_NAME >/started-by-hook'" \
        lxc.hook.stop=/etc/warren/hooks/log.sh \
        lxc.hook.post-stop=/etc/warren/hooks/log.sh \
        lxc.hook.destroy=/etc/warren/hooks/log.sh
t_ok "start c4" warrenctl start c4
pid=$(prop c4 InitPID)
order=$(awk '{print $1}' "$log" | tr '\n' ' ')
t_eq "pre-start, pre-mount, mount, start-host ran in that order" "$order" "pre-start pre-mount mount start-host "
t_match "with LXC's arguments (NAME lxc TYPE)" "$(cat "$log")" "pre-start args=c4 lxc pre-start name=c4"
t_match "and LXC_CONFIG_FILE" "$(cat "$log")" "config=/var/lib/warren/containers/c4/config"
t_match "start-host gets init's pid as LXC_PID" "$(grep ^start-host "$log")" "pid=$pid "
t_match "mount sees the rootfs mounted" "$(grep ^mount "$log")" "rootfs=/var/lib/warren/containers/c4/rootfs"
t_eq "the mount hook wrote into the container" "$(warrenctl attach c4 -- cat /hooked-by-mount)" mount
t_eq "the start hook ran inside, with LXC's environment" "$(warrenctl attach c4 -- cat /started-by-hook)" "start c4"
: >"$log"
t_ok "stop c4" warrenctl stop c4 -t 10
t_eq "stop then post-stop ran" "$(awk '{print $1}' "$log" | tr '\n' ' ')" "stop post-stop "
t_match "with LXC_TARGET=stop" "$(cat "$log")" "post-stop .*target=stop"

# A failing hook fails the start with its message; nothing is left behind.
t_ok "a failing pre-start hook" warrenctl config set c4 lxc.hook.pre-start= \
        "lxc.hook.pre-start=/bin/sh -c 'echo no network today >&2; exit 4'"
: >"$log"
t_fail_match "start fails naming the hook, its status and its words" \
        "lxc.hook.pre-start.*exit status 4.*no network today" warrenctl start c4
t_eq "c4 STOPPED" "$(prop c4 State)" STOPPED
t_ok "nothing left behind (pre-start)" no_leftovers c4
t_match "post-stop still ran, as in LXC" "$(cat "$log")" "^post-stop"
t_ok "a failing start hook (inside the container)" warrenctl config set c4 lxc.hook.pre-start= \
        "lxc.hook.start=/bin/sh -c 'exit 7'"
t_fail_match "start fails naming it" "lxc.hook.start.*exit status 7" warrenctl start c4
t_ok "nothing left behind (start)" no_leftovers c4
t_ok "a mount hook that succeeds" warrenctl config set c4 lxc.hook.start= lxc.hook.mount= \
        "lxc.hook.mount=/bin/sh -c 'exit 0'"
t_ok "start c4 again" warrenctl start c4
t_ok "stop c4 again" warrenctl stop c4 -k

# Destroy: the hook runs first; a failing one keeps the container.
t_ok "a failing destroy hook" warrenctl config set c4 lxc.hook.destroy= "lxc.hook.destroy=/bin/sh -c 'exit 5'"
t_fail_match "destroy fails naming it" "lxc.hook.destroy.*exit status 5" warrenctl destroy c4
t_ok "c4 still there" warrenctl info c4
t_ok "a logging destroy hook" warrenctl config set c4 lxc.hook.destroy= lxc.hook.destroy=/etc/warren/hooks/log.sh
: >"$log"
t_ok "destroy c4" warrenctl destroy c4
t_match "the destroy hook ran" "$(cat "$log")" "^destroy args=c4 lxc destroy"
t_fail "c4 is gone" warrenctl info c4

# A slow destroy (a hook that takes its time, a big rootfs) does not make
# warrend wait: other callers are answered meanwhile, and the container
# answers Busy to everything until its destroy has ended.
t_ok "create c5 and c6" warrenctl create c5 -t busybox
t_ok "create c6" warrenctl create c6 -t busybox
t_ok "c5's destroy hook takes 4 s" warrenctl config set c5 \
        "lxc.hook.destroy=/bin/sh -c 'touch $T_LIB_TMP/c5-hook; sleep 4'"
( warrenctl destroy c5; echo "rc=$?" ) >"$T_LIB_TMP/destroy-c5" 2>&1 &
dpid=$!
wait_for "c5's destroy hook runs" 10 test -e "$T_LIB_TMP/c5-hook"
t0=${EPOCHREALTIME/./}
t_ok "meanwhile c6 starts" warrenctl start c6
t_ok "...and stops" warrenctl stop -k c6
t_ok "...alice lists" as_user alice warrenctl list
el=$(((${EPOCHREALTIME/./} - t0) / 1000))
t_diag "c6 start+stop and a list took ${el} ms during c5's destroy"
t_ok "...all before c5's destroy ended" kill -0 "$dpid"
t_fail_match "c5 refuses a start: Busy" "org.warren1.Error.Busy|is being destroyed" warrenctl start c5
t_fail_match "...a second destroy" "is being destroyed" warrenctl destroy c5
t_fail_match "...a copy" "is being destroyed" warrenctl copy c5 c5b
t_fail "...and nothing was copied" warrenctl info c5b
wait "$dpid"
t_eq "c5's destroy succeeded" "$(cat "$T_LIB_TMP/destroy-c5")" "rc=0"
t_fail "c5 is gone" warrenctl info c5
t_eq "no temporary left in the store" "$(find /var/lib/warren/containers -maxdepth 1 -name '.#*')" ""
t_ok "destroy c6" warrenctl destroy c6

# Only admins may set hooks.
grant alice warren-create
grant alice warren-manage-own
t_ok "alice creates one" as_user alice warrenctl create a4 -t busybox
t_fail_match "alice may not add a hook" "lxc.hook" as_user alice warrenctl config set a4 lxc.hook.pre-start=/bin/true
t_ok "and none was written" sh -c "! grep -q lxc.hook /var/lib/warren/containers/a4/config"
revoke_all alice
t_ok "destroy a4" warrenctl destroy a4
rm -rf /etc/warren/hooks "$log"
finish
