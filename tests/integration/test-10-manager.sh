#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 2: create/list/info/config/destroy through the real bus and polkitd,
# as root and as test users; garbage input; introspection against dbus/*.xml.
. "$(dirname "$0")/lib.sh"

C=/var/lib/warren/containers
BUS=(busctl --system)
MGR=(org.warren1 /org/warren1 org.warren1.Manager)
alice_uid=$(id -u alice)

# gdbus prints the D-Bus error name, busctl only the message.
gcall() { local path=$1 method=$2; shift 2; gdbus call --system --dest org.warren1 --object-path "$path" --method "$method" "$@"; }

snapshot() { (cd "$C" && find . -printf '%p %m %u %s\n' | sort | md5sum); }

# --- root -----------------------------------------------------------------
t_ok "root creates a busybox container" warrenctl create r1 -t busybox
t_ok "the container dir exists with config and rootfs" test -f $C/r1/config -a -d $C/r1/rootfs
t_ok "rootfs has busybox init" test -L $C/r1/rootfs/sbin/init
t_ok "list shows it" warrenctl list
t_match "list row" "$T_OUT" 'r1 +STOPPED +root'
t_ok "list --fancy" warrenctl list --fancy
t_match "fancy columns" "$T_OUT" 'NAME +STATE +AUTOSTART +GROUPS +IPV4 +IPV6 +UNPRIVILEGED'
t_match "fancy row" "$T_OUT" 'r1 +STOPPED +NO +- +- +- +false'
t_ok "list --json" warrenctl list --json
t_ok "json parses" /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d[0]["name"]=="r1", d' "$T_OUT"
t_ok "info" warrenctl info r1
t_match "info shows state and rootfs" "$T_OUT" 'State: +STOPPED.*Rootfs: +/var/lib/warren/containers/r1/rootfs'
t_ok "config show" warrenctl config show r1
t_match "config has uts.name" "$T_OUT" 'lxc\.uts\.name = r1'
t_match "config has rootfs.path" "$T_OUT" 'lxc\.rootfs\.path = dir:/var/lib/warren/containers/r1/rootfs'
t_ok "config set" warrenctl config set r1 lxc.start.auto=1 lxc.group=web lxc.group=db
t_ok "config get list key" warrenctl config get r1 lxc.group
t_eq "both groups kept in order" "$T_OUT" $'web\ndb'
t_ok "Autostart property follows the config" "${BUS[@]}" get-property org.warren1 /org/warren1/container/r1 org.warren1.Container Autostart
t_eq "Autostart is true" "$T_OUT" "b true"
props=$T_LIB_TMP/props
timeout 10 gdbus monitor --system --dest org.warren1 --object-path /org/warren1/container/r1 >"$props" 2>&1 &
pmon=$!
sleep 0.4
t_ok "config set emits PropertiesChanged" warrenctl config set r1 lxc.tty.max=2
sleep 0.4
kill $pmon 2>/dev/null; wait $pmon 2>/dev/null
t_match "TTYs in PropertiesChanged" "$(cat "$props")" "PropertiesChanged .*'TTYs': <uint32 2>"
t_ok "config set with empty value clears a list" warrenctl config set r1 lxc.group=
t_ok "config get after clear" warrenctl config get r1 lxc.group
t_eq "no groups left" "$T_OUT" ""
t_ok "GetContainer" "${BUS[@]}" call "${MGR[@]}" GetContainer s r1
t_eq "path encoded" "$T_OUT" 'o "/org/warren1/container/r1"'
t_ok "ObjectManager lists the container" "${BUS[@]}" call org.warren1 /org/warren1 org.freedesktop.DBus.ObjectManager GetManagedObjects
t_match "managed object" "$T_OUT" '/org/warren1/container/r1'

# Names that need escaping in object paths.
t_ok "create a name with . and -" warrenctl create a.b-c_d -t busybox
t_ok "its object exists" "${BUS[@]}" get-property org.warren1 /org/warren1/container/a_2eb_2dc_5fd org.warren1.Container Name
t_eq "Name property" "$T_OUT" 's "a.b-c_d"'
t_ok "destroy it" warrenctl destroy a.b-c_d

# Signals: ContainerNew, JobNew, JobRemoved(done), ContainerRemoved.
sigs=$T_LIB_TMP/signals
timeout 10 gdbus monitor --system --dest org.warren1 --object-path /org/warren1 >"$sigs" 2>&1 &
mon=$!
sleep 0.5
t_ok "create for signals" warrenctl create sig1 -t busybox
t_ok "destroy for signals" warrenctl destroy sig1
sleep 0.5
kill $mon 2>/dev/null; wait $mon 2>/dev/null
s=$(cat "$sigs")
t_match "ContainerNew emitted" "$s" "ContainerNew \('sig1', objectpath '/org/warren1/container/sig1'\)"
t_match "JobNew emitted" "$s" "JobNew \(uint32 [0-9]+, objectpath '/org/warren1/job/[0-9]+'\)"
t_match "JobRemoved done" "$s" "JobRemoved \(uint32 [0-9]+, objectpath '/org/warren1/job/[0-9]+', 'done'\)"
t_match "ContainerRemoved emitted" "$s" "ContainerRemoved \('sig1', objectpath '/org/warren1/container/sig1'\)"

# --- garbage (nothing may change on disk) --------------------------------------
before=$(snapshot)
t_fail_match "name with a slash" "Invalid container name '\.\./x'" warrenctl create ../x -t busybox
t_fail_match "name . is InvalidName" "org.warren1.Error.InvalidName" gcall /org/warren1 org.warren1.Manager.CreateContainer . busybox "[]" "{}"
t_fail_match "name .. via busctl is InvalidName" "org.warren1.Error.InvalidName" \
        /usr/bin/python3 -c 'import dbus; dbus.SystemBus().call_blocking("org.warren1","/org/warren1","org.warren1.Manager","CreateContainer","ssasa{sv}",["..","busybox",[],{}])'
t_fail_match "65-character name" "too long" warrenctl create "$(printf 'a%.0s' {1..65})" -t busybox
t_fail_match "empty name" "must not be empty" "${BUS[@]}" call "${MGR[@]}" CreateContainer 'ssasa{sv}' '' busybox 0 0
t_fail_match "unknown template" "Unknown template 'nope'" warrenctl create t1 -t nope
t_fail_match "download needs its arguments" "needs -d DIST and -r RELEASE" warrenctl create t1 -t download
t_fail_match "busybox takes no args" "takes no arguments" warrenctl create t1 -t busybox -- --foo
t_fail_match "unknown option" "Unknown option 'bogus'" "${BUS[@]}" call "${MGR[@]}" CreateContainer 'ssasa{sv}' t1 busybox 0 1 bogus b true
t_fail_match "config option of the wrong type" "must be of type a\(ss\)" "${BUS[@]}" call "${MGR[@]}" CreateContainer 'ssasa{sv}' t1 busybox 0 1 config s x
t_fail_match "bad config item at create" "org.warren1.Error.InvalidConfig.*unknown key 'lxc.nope'" gcall /org/warren1 org.warren1.Manager.CreateContainer t1 busybox "[]" "{'config': <[('lxc.nope', '1')]>}"
t_fail_match "existing name" "already exists" warrenctl create r1 -t busybox
t_fail_match "existing name error" "org.warren1.Error.AlreadyExists" gcall /org/warren1 org.warren1.Manager.CreateContainer r1 busybox "[]" "{}"
t_fail_match "missing container error" "org.warren1.Error.NoSuchContainer" gcall /org/warren1 org.warren1.Manager.GetContainer zz
t_fail_match "wrong signature" "InvalidArgs|Invalid" "${BUS[@]}" call "${MGR[@]}" CreateContainer 's' x
t_fail_match "GetContainer of a missing one" "No such container 'zz'" warrenctl info zz
t_fail_match "destroy of a missing one" "No such container 'zz'" warrenctl destroy zz
t_fail_match "destroy of an invalid name" "Invalid container name" "${BUS[@]}" call "${MGR[@]}" DestroyContainer s '../../etc'
t_fail_match "SetConfig unknown key" "unknown key 'lxc.bogus'" warrenctl config set r1 lxc.bogus=1
t_fail_match "SetConfig bad number" "lxc.tty.max" warrenctl config set r1 lxc.tty.max=abc
t_fail_match "SetConfig bad idmap" "lxc.idmap" warrenctl config set r1 'lxc.idmap=u 0 nope 10'
t_fail_match "SetConfig bad net index" "lxc.net" warrenctl config set r1 lxc.net.x.type=veth
t_fail_match "SetConfig error name" "org.warren1.Error.InvalidConfig" gcall /org/warren1/container/r1 org.warren1.Container.SetConfig "[('lxc.bogus','1')]"
t_fail_match "SetConfig include of a missing file" "missing|No such file" warrenctl config set r1 lxc.include=/nonexistent/x.conf
t_eq "nothing changed on disk after garbage" "$(snapshot)" "$before"

t_ok "ValidateConfig normalizes legacy keys" "${BUS[@]}" call "${MGR[@]}" ValidateConfig s $'lxc.utsname = x\nlxc.network.type = veth\nlxc.network.link = br0\n'
t_match "normalized" "$T_OUT" '"lxc.uts.name" "x" "lxc.net.0.type" "veth" "lxc.net.0.link" "br0"'
t_fail_match "ValidateConfig names line and key" "org.warren1.Error.InvalidConfig.*:2:.*lxc.nope" \
        gcall /org/warren1 org.warren1.Manager.ValidateConfig "'lxc.uts.name = x\\nlxc.nope = 1\\n'"
t_fail "ValidateConfig binary garbage" "${BUS[@]}" call "${MGR[@]}" ValidateConfig s $'\x01\x02lxc'
printf 'lxc.uts.name = ok\n' >"$T_LIB_TMP/good.conf"
printf 'lxc.uts.name = ok\nlxc.tty.max = -1\n' >"$T_LIB_TMP/bad.conf"
t_ok "config validate good file" warrenctl config validate "$T_LIB_TMP/good.conf"
t_fail_match "config validate bad file" "lxc.tty.max" warrenctl config validate "$T_LIB_TMP/bad.conf"

# --- polkit: users ---------------------------------------------------------------
revoke_all alice bob carol
before=$(snapshot)
t_fail_match "alice without a grant is denied" "Access denied|AccessDenied" as_user alice warrenctl create a1 -t busybox
t_eq "nothing written for the denied create" "$(snapshot)" "$before"
t_fail_match "denied error name is AccessDenied" "org.freedesktop.DBus.Error.AccessDenied" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 --method org.warren1.Manager.CreateContainer a1 busybox "[]" "{}"
t_fail_match "garbage is rejected before polkit (no prompt)" "org.warren1.Error.InvalidName" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 --method org.warren1.Manager.CreateContainer ../a busybox "[]" "{}"
grant alice warren-create
t_ok "alice with warren-create creates" as_user alice warrenctl create a1 -t busybox
t_ok "owner recorded" "${BUS[@]}" get-property org.warren1 /org/warren1/container/a1 org.warren1.Container OwnerUID
t_eq "OwnerUID is alice" "$T_OUT" "u $alice_uid"
t_ok "alice lists it" as_user alice warrenctl list
t_match "alice sees her container" "$T_OUT" "a1 +STOPPED +alice"
t_ok "reading needs no authorization (carol lists)" as_user carol warrenctl list
t_match "carol sees the names" "$T_OUT" "a1"
t_ok "alice reads her own config" as_user alice warrenctl config show a1
t_fail_match "bob cannot read alice's config" "Access denied" as_user bob warrenctl config show a1
before=$(snapshot)
t_fail_match "alice cannot set config without manage-own" "Access denied" as_user alice warrenctl config set a1 lxc.start.auto=1
t_fail_match "bob cannot destroy alice's container" "Access denied" as_user bob warrenctl destroy a1
grant bob warren-manage-own
t_fail_match "manage-own does not reach others' containers" "org.warren1.manage" as_user bob warrenctl destroy a1
t_eq "alice's container untouched" "$(snapshot)" "$before"
grant alice warren-manage-own
t_ok "alice sets her config with manage-own" as_user alice warrenctl config set a1 lxc.start.auto=1
t_ok "alice destroys her own container" as_user alice warrenctl destroy a1
t_fail "it is gone" test -e $C/a1
grant bob warren-create
t_ok "bob creates" as_user bob warrenctl create b1 -t busybox
grant alice warren-admin
t_ok "an admin (manage) destroys bob's container" as_user alice warrenctl destroy b1
revoke_all alice bob carol
grant bob warren-create
grant bob warren-deny
t_fail_match "an explicit NO is AccessDenied" "Access denied" as_user bob warrenctl create b2 -t busybox
revoke_all bob
t_fail_match "a user without a subuid range gets a clear error" "carol .* has no range of at least 65536 ids in /etc/subuid" \
        as_user carol warrenctl create c1 -t busybox

# --- introspection equals the XML ---------------------------------------------------
t_ok "Manager introspection matches dbus/org.warren1.Manager.xml" \
        /usr/bin/python3 "$WARREN_SRC/tests/integration/helpers/introspect-diff.py" "$WARREN_SRC/dbus/org.warren1.Manager.xml" /org/warren1
t_ok "Container introspection matches dbus/org.warren1.Container.xml" \
        /usr/bin/python3 "$WARREN_SRC/tests/integration/helpers/introspect-diff.py" "$WARREN_SRC/dbus/org.warren1.Container.xml" /org/warren1/container/r1

t_ok "root destroys r1" warrenctl destroy r1
t_ok "store is empty again" test -z "$(ls -A $C)"
finish
