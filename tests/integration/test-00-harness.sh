#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The harness itself: the sandbox is private, the bus and polkitd answer,
# grants by group work, and nothing of it reached the host.
# timeout: 60

. "$(dirname "$0")/lib.sh"

# ---- lib.sh behaves (checked in subshells, whose counters do not leak) ----
out=$(T_N=0; t_ok "inner" false)
t_match "t_ok reports a failing command as not ok, with its status" "$out" $'^not ok 1 - inner\n# command: false\n# exit status: 1'
out=$(T_N=0; t_fail "inner" sh -c 'kill -SEGV $$')
t_match "t_fail does not take a crash for the expected failure" "$out" '^not ok 1 - inner'
out=$(T_N=0; t_fail_match "inner" 'No such' ls /nonexistent-harness-path)
t_match "t_fail_match matches stderr" "$out" '^ok 1 - inner$'
out=$(T_N=0; wait_for "inner" 1 false)
t_match "wait_for gives up after its timeout" "$out" '^not ok 1 - inner'
out=$( (T_N=0 T_FAILED=0; t_pass a; t_not b; finish); echo "rc=$?")
t_match "finish prints the plan and fails if a check failed" "$out" $'1\\.\\.2\nrc=1$'

# ---- the world is private ----
t_match "bus address is the sandbox's" "$DBUS_SYSTEM_BUS_ADDRESS" "^unix:path=$WARREN_SCRATCH/bus/"
t_ok "private system bus answers" busctl --system list --no-pager
t_ok "polkitd is on the bus" busctl --system status org.freedesktop.PolicyKit1
owner_uid=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixUser s org.freedesktop.PolicyKit1 | awk '{ print $2 }')
t_eq "polkitd dropped root" "$owner_uid" "$(id -u polkitd)"
t_ok "the build tree has warrend" test -x "$WARREN_BUILD/service/warrend"
t_ok "the build tree has warrenctl, on PATH" test "$(command -v warrenctl)" = "$WARREN_BUILD/cli/warrenctl"
t_ok "org.warren1 is activatable" sh -c 'busctl --system list --activatable --no-legend | grep -q "^org\.warren1 "'
t_ok "activation runs the build tree's warrend as root" \
        grep -qxE "Exec=(.* )?$WARREN_BUILD/service/warrend --state-dir=/var/lib/warren .*" \
        "$WARREN_SCRATCH/dbus-services/org.warren1.service"
t_ok "the project's bus policy is installed" test -f "$WARREN_SCRATCH/dbus-policy/org.warren1.conf"
t_ok "polkit knows org.warren1.create" sh -c 'pkaction --action-id org.warren1.create >/dev/null 2>&1 ||
        busctl --system call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority \
                org.freedesktop.PolicyKit1.Authority EnumerateActions s "" | grep -q "org\.warren1\.create"'

for d in /var/lib/warren /run/warren /var/cache/warren /etc/warren; do
        t_eq "$d is a private tmpfs" "$(findmnt -n -o FSTYPE --mountpoint "$d")" tmpfs
done
for d in /etc /var /run /home; do
        t_eq "$d is an overlay" "$(findmnt -n -o FSTYPE --mountpoint "$d")" overlay
done
t_match "pid 1 is the sandbox's" "$(tr '\0' ' ' </proc/1/cmdline)" '^/bin/bash .*/sandbox\.sh --inside '

# ---- users, subids, capabilities ----
for u in alice bob carol; do
        t_ok "user $u exists inside" getent passwd "$u"
        t_fail "host's /etc/passwd has no $u" grep -q "^$u:" "$WARREN_HOST_ROOT/etc/passwd"
done
t_eq "alice's subuid range" "$(grep '^alice:' /etc/subuid)" "alice:200000:65536"
t_eq "bob's subgid range" "$(grep '^bob:' /etc/subgid)" "bob:300000:65536"
t_fail "carol has no subuid range" grep -q '^carol:' /etc/subuid
t_run as_user alice sh -c 'id -un; echo $HOME; grep ^CapEff /proc/self/status; pwd'
t_eq "as_user runs as alice, home, no capabilities" "$T_OUT" \
        $'alice\n/home/alice\nCapEff:\t0000000000000000\n/home/alice'
t_ok "alice reaches the bus" as_user alice busctl --system list --no-pager

# ---- polkit grants by group ----
revoke_all alice bob carol
t_eq "alice without a group: challenge for create" "$(polkit_check alice org.warren1.create)" challenge
grant alice warren-create
t_eq "alice in warren-create: create allowed" "$(polkit_check alice org.warren1.create)" yes
t_eq "warren-create does not grant manage-own" "$(polkit_check alice org.warren1.manage-own)" challenge
revoke alice warren-create
t_eq "revoked: challenge again" "$(polkit_check alice org.warren1.create)" challenge

grant bob warren-manage-own
t_eq "warren-manage-own grants shell-own" "$(polkit_check bob org.warren1.shell-own)" yes
t_eq "warren-manage-own does not grant manage" "$(polkit_check bob org.warren1.manage)" challenge
grant bob warren-deny
t_eq "warren-deny beats every grant" "$(polkit_check bob org.warren1.manage-own)" no
revoke_all bob
grant carol warren-only-shell-own
t_eq "warren-only-shell-own grants shell-own" "$(polkit_check carol org.warren1.shell-own)" yes
t_eq "warren-only-shell-own grants no manage-own" "$(polkit_check carol org.warren1.manage-own)" challenge
revoke_all carol
grant carol warren-by-name
t_eq "warren-by-name: container ok-* allowed" "$(polkit_check carol org.warren1.manage container=ok-1)" yes
t_eq "warren-by-name: other containers not" "$(polkit_check carol org.warren1.manage container=c1)" challenge
revoke_all carol
grant carol warren-admin
t_eq "warren-admin grants create-privileged" "$(polkit_check carol org.warren1.create-privileged)" yes
revoke_all carol
t_eq "root is always authorized" "$(polkit_check root org.warren1.network)" yes

# Root asks about alice's own connection, as warrend will (subject system-bus-name).
t_ok "alice holds a bus connection" user_bus_open alice
t_run polkit_authority_check "$USER_BUS_NAME" org.warren1.create
t_match "CheckAuthorization for alice's name: not authorized, challenge" "$T_OUT" '^\(bba\{ss\}\) false true'
grant alice warren-create
t_run polkit_authority_check "$USER_BUS_NAME" org.warren1.create
t_match "after grant: authorized" "$T_OUT" '^\(bba\{ss\}\) true false'
revoke alice warren-create
user_bus_close
t_eq "polkit_check reports alice's connection unauthorized again" "$(polkit_check alice org.warren1.create)" challenge

# ---- the host is untouched ----
t_ok "own network namespace" test "$(readlink /proc/self/ns/net)" != "$WARREN_HOST_NETNS"
t_eq "only lo here, and it is up" "$(ip -o link show | awk -F': ' '{ print $2 }')" lo
t_match "lo is up" "$(ip -o link show lo)" 'state UNKNOWN|[<,]UP[,>]'
t_fail "host's /etc/polkit-1/rules.d has no test rules" test -e "$WARREN_HOST_ROOT/etc/polkit-1/rules.d/50-warren-test.rules"
touch /var/lib/warren/.harness-probe /etc/warren/.harness-probe
t_fail "a file made in /var/lib/warren is not on the host" test -e "$WARREN_HOST_ROOT/var/lib/warren/.harness-probe"
t_fail "a file made in /etc/warren is not on the host" test -e "$WARREN_HOST_ROOT/etc/warren/.harness-probe"
rm -f /var/lib/warren/.harness-probe /etc/warren/.harness-probe
t_fail "host's /run/dbus has no bus socket" test -S "$WARREN_HOST_ROOT/run/dbus/system_bus_socket"
t_ok "host root view is read-only" sh -c "! touch $WARREN_HOST_ROOT/etc/.warren-harness-probe 2>/dev/null"

finish
