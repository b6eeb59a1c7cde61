#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 17: container data through the bus. Clone, Rename, snapshots,
# Export and file transfers, as root and as an unprivileged owner (alice,
# subuid 200000), each with its garbage input, its unauthorized callers
# (bob, who may manage his own containers, on alice's; carol with no grant
# at all) and its nothing-changed-on-failure checks; export round trips
# through -t local; the Manager shortcuts; Destroy removing snapshots;
# Cancel.
# timeout: 900
. "$(dirname "$0")/lib.sh"

C=/var/lib/warren/containers
BUS=(busctl --system)
MGR=(org.warren1 /org/warren1 org.warren1.Manager)
CALL="$WARREN_SRC/tests/integration/helpers/data-call.py"
W=$TMPDIR/w
mkdir -p "$W" && chmod 1777 "$W"

prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
ccall() { local n=$1 m=$2; shift 2; "${BUS[@]}" call org.warren1 "/org/warren1/container/$n" org.warren1.Container "$m" "$@"; }
# gdbus prints the error's name: "GDBus.Error:org.warren1.Error.Busy: message".
# Scripts, not functions: as_user runs them too.
mkdir -p "$W/bin"
cat >"$W/bin/gc" <<'SH'
#!/bin/sh
n=$1 m=$2; shift 2
exec gdbus call --system --dest org.warren1 --object-path "/org/warren1/container/$n" --method "org.warren1.Container.$m" "$@"
SH
cat >"$W/bin/gm" <<'SH'
#!/bin/sh
m=$1; shift
exec gdbus call --system --dest org.warren1 --object-path /org/warren1 --method "org.warren1.Manager.$m" "$@"
SH
chmod 755 "$W/bin" "$W/bin/gc" "$W/bin/gm"
export PATH=$W/bin:$PATH
# Everything about the store that a failed call must leave as it was:
# every file's path, owner, mode and size (not times: reads change atimes).
state() { (cd "$C" && find . -printf '%p %U:%G %m %s\n' | sort | md5sum); }
unchanged() { [[ $(state) == "$1" ]] || { echo "the store changed"; return 1; }; }
job_done() { wait_for "$1" 60 sh -c "! busctl --system tree org.warren1 2>/dev/null | grep -q '/org/warren1/job/'"; }

alice_uid=$(id -u alice)
grant alice warren-create
grant alice warren-manage-own
grant bob warren-create
grant bob warren-manage-own

# --- introspection --------------------------------------------------------------------
t_ok "root creates c1" warrenctl create c1 -t busybox
t_ok "Container introspection (data methods) matches the XML" \
        /usr/bin/python3 "$WARREN_SRC/tests/integration/helpers/introspect-diff.py" "$WARREN_SRC/dbus/org.warren1.Container.xml" /org/warren1/container/c1
t_ok "Manager introspection (shortcuts) matches the XML" \
        /usr/bin/python3 "$WARREN_SRC/tests/integration/helpers/introspect-diff.py" "$WARREN_SRC/dbus/org.warren1.Manager.xml" /org/warren1

# --- Clone ----------------------------------------------------------------------------
echo "made in c1" >"$C/c1/rootfs/etc/motd"
mac1=$(warrenctl config get c1 lxc.net.0.hwaddr)
t_ok "copy c1 c2" warrenctl copy c1 c2
t_match "the job's message says how it was copied" "$T_OUT" 'Copied with a plain copy: [0-9]+ entries'
t_eq "c2 is listed" "$(prop c2 Name)" c2
t_eq "c2's lxc.uts.name" "$(warrenctl config get c2 lxc.uts.name)" c2
t_eq "c2's rootfs path" "$(warrenctl config get c2 lxc.rootfs.path)" "dir:$C/c2/rootfs"
mac2=$(warrenctl config get c2 lxc.net.0.hwaddr)
t_ok "c2 has a new MAC ($mac1 -> $mac2)" test -n "$mac2" -a "$mac2" != "$mac1" -a "${mac2:0:8}" == "${mac1:0:8}"
t_eq "c2's /etc/hostname names it" "$(cat "$C/c2/rootfs/etc/hostname")" c2
t_eq "c2's files are c1's" "$(cat "$C/c2/rootfs/etc/motd")" "made in c1"
t_eq "owners, modes, links as c1's" "$(cd "$C/c2/rootfs" && find . -printf '%p %U %m %l\n' | sort | md5sum)" \
        "$(cd "$C/c1/rootfs" && find . -printf '%p %U %m %l\n' | sort | md5sum)"
t_ok "c2 starts" warrenctl start c2
t_eq "c2 runs" "$(prop c2 State)" RUNNING
t_ok "its hostname inside is c2" warrenctl attach c2 --no-pty -- hostname
t_eq "...c2" "$T_OUT" c2
t_ok "copy --keep-mac --snapshot" warrenctl copy c1 c3 --keep-mac --snapshot
t_match "the message says what copy-on-write did (none on tmpfs)" "$T_OUT" 'Copied with a plain copy'
t_eq "keep_mac kept the MAC" "$(warrenctl config get c3 lxc.net.0.hwaddr)" "$mac1"
t_ok "Manager.CloneContainer" "${BUS[@]}" call "${MGR[@]}" CloneContainer ssa{sv} c1 c4 0
t_match "...returns the container and the job" "$T_OUT" '^oo "/org/warren1/container/c4" "/org/warren1/job/[0-9]+"'
wait_for "c4 appears" 30 test -d "$C/c4"
job_done "its job ends"

s0=$(state)
t_fail_match "a running container cannot be copied" "'c2' is running: stop it to copy it" warrenctl copy c2 x1
t_fail_match "...Busy" "Error.Busy: Container 'c2' is running" gc c2 Clone x1 "{}"
t_fail_match "to an existing name: AlreadyExists" "Error.AlreadyExists: Container 'c3' already exists" gc c1 Clone c3 "{}"
t_fail_match "to its own name: AlreadyExists" "Error.AlreadyExists: Container 'c1' already has that name" gc c1 Clone c1 "{}"
t_fail_match "an invalid new name: InvalidName" "Error.InvalidName: Invalid container name '\\.\\./x'" gc c1 Clone ../x "{}"
t_fail_match "an unknown option" "InvalidArgs: Unknown option 'bogus' for Clone \\(known: snapshot b, keep_mac b\\)" \
        gc c1 Clone x1 "{'bogus': <true>}"
t_fail_match "an option of the wrong type" "InvalidArgs: Option 'snapshot' must be of type b" \
        gc c1 Clone x1 "{'snapshot': <'yes'>}"
t_fail_match "a missing source: NoSuchContainer" "Error.NoSuchContainer: No such container 'nope'" \
        gm CloneContainer nope x1 "{}"
t_ok "nothing changed" unchanged "$s0"

# Cancel: a clone of a container with 200 MB of data, canceled at once.
t_ok "c5 with 200 MB of data" sh -c "warrenctl create c5 -t busybox >/dev/null && head -c 200M /dev/urandom >$C/c5/rootfs/big"
s0=$(state)
t_run /usr/bin/python3 "$CALL" cancel-clone c5 c6
t_match "a canceled clone's job ends canceled" "$T_OUT" '^job canceled: Canceled'
t_fail "c6 does not exist" test -e "$C/c6"
t_ok "no temporary directory is left" sh -c "! ls -A $C | grep -q '^\\.#'"
t_ok "nothing changed" unchanged "$s0"
t_ok "c5 goes" warrenctl destroy c5

# --- Rename ---------------------------------------------------------------------------
t_ok "stop c2" warrenctl stop -k c2
t_ok "start c2" warrenctl start c2
t_fail_match "a running container cannot be renamed" "Error.Busy: Container 'c2' is running: stop it to rename it" \
        gc c2 Rename x
t_ok "stop c2 again" warrenctl stop -k c2
/usr/bin/python3 - "$W/rename.log" <<'PY' &
import sys, dbus, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
out = open(sys.argv[1], "w")
def sig(*args, **kw):
    out.write(kw["member"] + " " + " ".join(str(a) for a in args[:2] if not isinstance(a, dbus.Dictionary)) + "\n")
    out.flush()
for m in ("ContainerNew", "ContainerRemoved"):
    bus.add_signal_receiver(sig, m, "org.warren1.Manager", "org.warren1", member_keyword="member")
for m in ("InterfacesAdded", "InterfacesRemoved"):
    bus.add_signal_receiver(sig, m, "org.freedesktop.DBus.ObjectManager", "org.warren1", member_keyword="member")
out.write("ready\n"); out.flush()
GLib.timeout_add_seconds(20, GLib.MainLoop().quit)
GLib.MainLoop().run()
PY
watcher=$!
wait_for "the signal watcher is ready" 10 grep -q ready "$W/rename.log"
t_ok "rename c2 web" warrenctl rename c2 web
wait_for "ContainerRemoved for c2" 10 grep -q "^ContainerRemoved c2 /org/warren1/container/c2" "$W/rename.log"
wait_for "InterfacesRemoved for c2's path" 10 grep -q "^InterfacesRemoved /org/warren1/container/c2 .*org.warren1.Container" "$W/rename.log"
wait_for "ContainerNew for web" 10 grep -q "^ContainerNew web /org/warren1/container/web" "$W/rename.log"
wait_for "InterfacesAdded for web's path" 10 grep -q "^InterfacesAdded /org/warren1/container/web" "$W/rename.log"
kill "$watcher" 2>/dev/null
t_fail_match "c2 is gone" "Error.NoSuchContainer: No such container 'c2'" gm GetContainer c2
t_eq "web's lxc.uts.name" "$(warrenctl config get web lxc.uts.name)" web
t_eq "web's rootfs path" "$(warrenctl config get web lxc.rootfs.path)" "dir:$C/web/rootfs"
t_eq "web's /etc/hostname" "$(cat "$C/web/rootfs/etc/hostname")" web
t_ok "web starts" warrenctl start web
t_ok "...and stops" warrenctl stop -k web
s0=$(state)
t_fail_match "rename onto an existing name" "Error.AlreadyExists: Container 'c1' already exists" gc web Rename c1
t_fail_match "rename to an invalid name" "Error.InvalidName: Invalid container name 'a/b'" gc web Rename a/b
t_fail_match "rename a missing container" "Error.NoSuchContainer: No such container 'nope'" gm RenameContainer nope x
t_ok "nothing changed" unchanged "$s0"

# --- Snapshots --------------------------------------------------------------------------
t_ok "snapshot web (comment)" warrenctl snapshot web create --comment "before the change"
t_match "...named snap0" "$T_OUT" $'\nsnap0$'
echo changed >"$C/web/rootfs/etc/motd"
t_ok "snapshot web again" warrenctl snapshot web
t_match "...snap1" "$T_OUT" 'snap1'
t_ok "list" warrenctl snapshot web list
t_match "both, with the comment" "$T_OUT" $'snap0 +[0-9-]+ [0-9:]+ before the change\nsnap1 '
t_ok "ListSnapshots" ccall web ListSnapshots
t_match "a(sst): name, comment, creation time in µs" "$T_OUT" '^a\(sst\) 2 "snap0" "before the change" [0-9]{16} "snap1" "" [0-9]{16}$'
t_ok "the snapshot is where lxc-snapshot keeps it" test -f "$C/web/snaps/snap0/rootfs/etc/motd" -a -f "$C/web/snaps/snap0/ts" -a -f "$C/web/snaps/snap0/config"
t_ok "restore snap0 in place" warrenctl snapshot web restore snap0
t_eq "the file is as it was" "$(cat "$C/web/rootfs/etc/motd")" "made in c1"
t_ok "restore snap1 as a new container" warrenctl snapshot web restore snap1 web2
t_eq "web2 has snap1's file" "$(cat "$C/web2/rootfs/etc/motd")" changed
t_eq "web2 is named web2" "$(warrenctl config get web2 lxc.uts.name) $(cat "$C/web2/rootfs/etc/hostname")" "web2 web2"
t_ok "web2 starts" warrenctl start web2
# A running container is snapshotted frozen and thawed after.
t_ok "snapshot the running web2" warrenctl snapshot web2 create --comment live
t_match "...taken frozen" "$T_OUT" 'taken frozen'
t_eq "web2 runs again (thawed)" "$(prop web2 State)" RUNNING
t_ok "without freezing" warrenctl snapshot web2 create --no-freeze
t_fail_match "restoring in place while it runs: Busy" "Error.Busy: Container 'web2' is running: stop it to restore" \
        gc web2 RestoreSnapshot snap0 "''"
t_ok "stop web2" warrenctl stop -k web2
s0=$(state)
t_fail_match "restoring a missing snapshot" "InvalidArgs: Container 'web' has no snapshot 'snap9'" \
        gc web RestoreSnapshot snap9 "''"
t_fail_match "...warrenctl says so" "Container 'web' has no snapshot 'snap9'" warrenctl snapshot web restore snap9
t_fail_match "a snapshot name with a slash" "InvalidArgs: Invalid snapshot name '\\.\\./web2'" gc web DeleteSnapshot ../web2
t_fail_match "deleting a missing snapshot" "InvalidArgs: Container 'web' has no snapshot 'snap7'" gc web DeleteSnapshot snap7
t_fail_match "restoring onto an existing name" "Error.AlreadyExists: Container 'c1' already exists" \
        gc web RestoreSnapshot snap0 c1
t_fail_match "an unknown snapshot option" "InvalidArgs: Unknown option 'fast' for CreateSnapshotWithOptions" \
        gc web CreateSnapshotWithOptions "''" "{'fast': <true>}"
t_fail_match "a comment over 4096 bytes" "InvalidArgs: Snapshot comment too long: 5000 bytes, at most 4096" \
        gc web CreateSnapshot "'$(head -c 5000 /dev/zero | tr '\0' x)'"
t_ok "nothing changed" unchanged "$s0"
t_ok "Manager.SnapshotContainer" "${BUS[@]}" call "${MGR[@]}" SnapshotContainer ssa{sv} web "by name" 0
t_match "...snap2 and its job" "$T_OUT" '^so "snap2" "/org/warren1/job/[0-9]+"'
job_done "its job ends"
t_ok "delete snap1" warrenctl snapshot web delete snap1
t_ok "Manager.DeleteContainerSnapshot" "${BUS[@]}" call "${MGR[@]}" DeleteContainerSnapshot ss web snap2
t_ok "Manager.ListContainerSnapshots" "${BUS[@]}" call "${MGR[@]}" ListContainerSnapshots s web
t_match "only snap0 is left" "$T_OUT" '^a\(sst\) 1 "snap0"'
t_ok "a renamed container keeps its snapshots" sh -c "warrenctl rename web web3 && warrenctl snapshot web3 list | grep -q snap0"
t_ok "...and restores them" warrenctl snapshot web3 restore snap0
t_eq "...named as it is now" "$(warrenctl config get web3 lxc.uts.name)" web3
t_ok "destroy web3 with its snapshot" warrenctl destroy web3
t_fail "its snapshots are gone with it" test -e "$C/web3"

# --- Export -----------------------------------------------------------------------------
s0=$(state)
t_ok "export c1 --split" warrenctl export c1 --split "$W/img"
t_match "the job's message" "$T_OUT" "Exported 'c1' \\(rootfs and meta tarballs"
t_ok "meta.tar.xz holds LXC's files" sh -c "tar -tJf $W/img/meta.tar.xz | sort | tr '\\n' ' ' | grep -qx 'config config-user create-message excludes-user expiry templates '"
t_eq "its templates" "$(tar -xJOf "$W/img/meta.tar.xz" templates)" $'/etc/hostname\n/etc/hosts'
t_match "config-user includes userns.conf" "$(tar -xJOf "$W/img/meta.tar.xz" config-user)" 'lxc.include = LXC_TEMPLATE_CONFIG/userns.conf'
t_eq "rootfs.tar.xz's /etc/hostname names LXC_NAME" "$(tar -xJOf "$W/img/rootfs.tar.xz" ./etc/hostname)" LXC_NAME
t_ok "nothing changed in the store" unchanged "$s0"
t_ok "create -t local from the export" warrenctl create fromimg -t local -- --fstree "$W/img/rootfs.tar.xz" --metadata "$W/img/meta.tar.xz"
t_match "...with its create-message" "$T_OUT" "export of container 'c1'"
t_eq "...templates applied" "$(cat "$C/fromimg/rootfs/etc/hostname")" fromimg
t_eq "...c1's files" "$(cat "$C/fromimg/rootfs/etc/motd")" "made in c1"
t_ok "it starts" warrenctl start fromimg
t_ok "its hostname inside" warrenctl attach fromimg --no-pty -- hostname
t_eq "...fromimg" "$T_OUT" fromimg
t_ok "and stops" warrenctl stop -k fromimg
# LXC 5's own local template takes the split image (this sandbox's /var/lib/lxc, no network).
echo "lxc.net.0.type = empty" >"$W/lxc.conf"
t_ok "lxc-create -t local from the export" \
        lxc-create -n lxcimg -f "$W/lxc.conf" -t local -- --fstree "$W/img/rootfs.tar.xz" --metadata "$W/img/meta.tar.xz"
t_match "...shows the create-message" "$T_OUT" "Made from the export of container 'c1'"
t_match "...its config includes the image's" "$(cat /var/lib/lxc/lxcimg/config)" $'# Distribution configuration\n# Exported by warren\n'
t_eq "...LXC applied the templates" "$(cat /var/lib/lxc/lxcimg/rootfs/etc/hostname)" lxcimg
t_ok "lxc-start runs it" sh -c 'lxc-start -n lxcimg -d && lxc-wait -n lxcimg -s RUNNING -t 20'
t_ok "lxc-attach: its hostname" lxc-attach -n lxcimg -- hostname
t_eq "...lxcimg" "$T_OUT" lxcimg
t_ok "its files are c1's" lxc-attach -n lxcimg -- cat /etc/motd
t_eq "...made in c1" "$T_OUT" "made in c1"
t_ok "lxc-stop" lxc-stop -n lxcimg -k
t_ok "lxc-destroy" lxc-destroy -n lxcimg
t_ok "export -o unified, no compression" warrenctl export c1 -o "$W/uni.tar" --compression none
t_ok "metadata.yaml, templates/, rootfs/" sh -c "tar -tf $W/uni.tar | head -4 | tr '\\n' ' ' | grep -q '^metadata.yaml templates/ templates/hostname.tpl templates/hosts.tpl '"
t_match "metadata.yaml" "$(tar -xOf "$W/uni.tar" metadata.yaml)" $'architecture: [a-z0-9_]+\ncreation_date: [0-9]+'
t_eq "templates/hostname.tpl" "$(tar -xOf "$W/uni.tar" templates/hostname.tpl)" "{{ container.name }}"
t_ok "export -o - (stdout), gzip" sh -c "warrenctl export c1 -o - --compression gzip | tar -tzf - | grep -qx rootfs/etc/motd"
t_ok "start c1" warrenctl start c1
t_ok "export a running container" warrenctl export c1 -o "$W/run.tar.zst" --compression zstd
t_match "...taken frozen" "$T_OUT" 'taken frozen'
t_eq "...and thawed" "$(prop c1 State)" RUNNING
t_ok "stop c1" warrenctl stop -k c1
s0=$(state)
t_fail_match "an unknown output" "Unknown output 'bogus'" /usr/bin/python3 "$CALL" export c1 bogus="$W/x1"
t_match "...InvalidArgs" "$T_OUT" '^error org.freedesktop.DBus.Error.InvalidArgs'
t_fail_match "split and unified at once" "either rootfs and meta .* or unified, not both" \
        /usr/bin/python3 "$CALL" export c1 rootfs="$W/x1" meta="$W/x2" unified="$W/x3"
t_fail_match "rootfs without meta" "Output 'meta' is missing" /usr/bin/python3 "$CALL" export c1 rootfs="$W/x1"
t_fail_match "no output" "rootfs and meta .*, or unified" /usr/bin/python3 "$CALL" export c1
t_fail_match "an fd open for reading only" "The fd for unified is not open for writing" \
        /usr/bin/python3 "$CALL" export c1 unified=/etc/hostname:r
t_fail_match "an unknown compression" "Unknown compression 'lz4' \\(known: xz, gzip, zstd, none\\)" \
        /usr/bin/python3 "$CALL" export c1 unified="$W/x1" --compression=lz4
t_fail_match "an unknown option" "Unknown option 'level' for Export \\(known: compression s, freeze b\\)" \
        /usr/bin/python3 "$CALL" export c1 unified="$W/x1" --option=level:u:9
t_fail_match "warrenctl needs --split or -o" "export needs --split DIR" warrenctl export c1
t_ok "nothing changed" unchanged "$s0"

# --- Files ------------------------------------------------------------------------------
cd "$W" || bail_out "no $W"
echo "from the host" >hostfile
mkdir -p hostdir/sub && echo deep >hostdir/sub/f
t_ok "push a file into a stopped container" warrenctl file push hostfile c1:/root/
t_eq "it is there" "$(cat "$C/c1/rootfs/root/hostfile")" "from the host"
t_eq "owned by root inside" "$(stat -c %u:%g "$C/c1/rootfs/root/hostfile")" 0:0
t_ok "push a directory with -r" warrenctl file push ./hostdir c1:/root/ -r
t_eq "it is there" "$(cat "$C/c1/rootfs/root/hostdir/sub/f")" deep
t_fail_match "a directory without -r" "'hostdir' is a directory: push it with -r" warrenctl file push hostdir c1:/root/
t_ok "push stdin to a file name" sh -c 'echo piped | warrenctl file push - c1:/etc/piped'
t_eq "it is there" "$(cat "$C/c1/rootfs/etc/piped")" piped
t_ok "pull a file into ." warrenctl file pull c1:/etc/piped .
t_eq "it is here" "$(cat piped)" piped
t_ok "pull to a new name" warrenctl file pull c1:/etc/hostname "$W/hn"
t_eq "...c1" "$(cat "$W/hn")" c1
t_ok "pull to stdout" warrenctl file pull c1:/etc/motd -
t_eq "...the content" "$T_OUT" "made in c1"
t_ok "pull a directory with -r" warrenctl file pull c1:/root/hostdir "$W/back" -r
t_eq "...its files" "$(cat "$W/back/sub/f")" deep
t_ok "start c1" warrenctl start c1
t_ok "push into the running container" warrenctl file push hostfile c1:/tmp/
t_ok "...seen inside" warrenctl attach c1 --no-pty -- cat /tmp/hostfile
t_eq "...from the host" "$T_OUT" "from the host"
t_ok "pull what only its mount namespace has (/proc/1/comm)" warrenctl file pull c1:/proc/1/comm -
t_eq "...its init" "$T_OUT" init
t_ok "stop c1" warrenctl stop -k c1
# Streams a client could send: each refused, nothing changed.
/usr/bin/python3 - "$W" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def tar(name, members):
    with tarfile.open(f"{d}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for m in members:
            ti = tarfile.TarInfo(m[0]); kind = m[1]
            if kind == "file":
                data = m[2].encode(); ti.size = len(data); ti.mode = m[3] if len(m) > 3 else 0o644
                t.addfile(ti, io.BytesIO(data))
            elif kind == "link":
                ti.type = tarfile.SYMTYPE; ti.linkname = m[2]; t.addfile(ti)
            elif kind == "dev":
                ti.type = tarfile.CHRTYPE; ti.devmajor, ti.devminor = 1, 3; t.addfile(ti)
tar("dotdot", [("ok", "file", "x"), ("../../../../escaped", "file", "x")])
tar("abs", [("ok", "file", "x"), ("/etc/escaped", "file", "x")])
tar("through", [("lnk", "link", "/etc"), ("lnk/escaped", "file", "x")])
tar("setuid", [("ok", "file", "x"), ("su", "file", "x", 0o4755)])
tar("dev", [("ok", "file", "x"), ("null", "dev")])
tar("fine", [("ok", "file", "fine")])
PY
echo "not a tar stream" >"$W/garbage.tar"
s0=$(state)
host0=$(md5sum </etc/passwd)
t_fail_match "push: '..' refused" "job failed: .*Refusing archive entry '../../../../escaped': '..' component \\(org.freedesktop.DBus.Error.AccessDenied\\)" \
        /usr/bin/python3 "$CALL" push c1 "$W/dotdot.tar" /root
t_fail_match "push: an absolute path refused" "Refusing archive entry '/etc/escaped': absolute path" \
        /usr/bin/python3 "$CALL" push c1 "$W/abs.tar" /root
t_fail_match "push: through a symlink refused" "job failed: .*lnk" /usr/bin/python3 "$CALL" push c1 "$W/through.tar" /root
t_fail_match "push: garbage refused" "job failed: .*(Invalid archive|Failed to unpack)" \
        /usr/bin/python3 "$CALL" push c1 "$W/garbage.tar" /root
t_fail_match "push: a missing destination" "job failed: Failed to open '/nope' in 'c1': No such file or directory \\(org.freedesktop.DBus.Error.FileNotFound\\)" \
        /usr/bin/python3 "$CALL" push c1 "$W/fine.tar" /nope
t_fail_match "push: a relative destination" "error org.freedesktop.DBus.Error.InvalidArgs: Invalid destination directory 'root': must be an absolute path" \
        /usr/bin/python3 "$CALL" push c1 "$W/fine.tar" root
t_fail_match "push: an fd open for writing only" "InvalidArgs: The fd for the pushed files is not open for reading" \
        /usr/bin/python3 "$CALL" push c1 "$W/fine.tar:w" /root
t_fail_match "pull: a relative path" "InvalidArgs: Invalid path 'etc/hostname': must be an absolute path" \
        /usr/bin/python3 "$CALL" pull c1 "$W/p.tar" etc/hostname
t_fail_match "pull: /" "Invalid path '/': name a file or directory below /" /usr/bin/python3 "$CALL" pull c1 "$W/p.tar" /
t_fail_match "pull: a missing file" "job failed: Failed to open '/nope' in 'c1': No such file or directory \\(org.freedesktop.DBus.Error.FileNotFound\\)" \
        /usr/bin/python3 "$CALL" pull c1 "$W/p.tar" /nope
t_fail_match "pull: a directory without recursive" "'root' is a directory \\(pull it recursively\\) \\(org.freedesktop.DBus.Error.Failed\\)|is a directory" \
        /usr/bin/python3 "$CALL" pull c1 "$W/p.tar" /root
t_ok "nothing changed in the store" unchanged "$s0"
t_eq "nor on the host" "$(md5sum </etc/passwd)" "$host0"
t_fail "nothing escaped" test -e /etc/escaped -o -e "$C/c1/escaped" -o -e "$C/escaped"
t_ok "root may push a setuid file" /usr/bin/python3 "$CALL" push c1 "$W/setuid.tar" /root
t_eq "...setuid" "$(stat -c %a "$C/c1/rootfs/root/su")" 4755
t_ok "...and a device node into a privileged container" /usr/bin/python3 "$CALL" push c1 "$W/dev.tar" /root
t_ok "...a character device" test -c "$C/c1/rootfs/root/null"
cd / || true

# --- alice: every method on her unprivileged containers, within her limits ---------------
cp -a /etc/warren/warren.conf "$W/warren.conf.orig" 2>/dev/null
printf 'limit.containers.alice = 3\n' >>/etc/warren/warren.conf
t_ok "alice creates a1" as_user alice warrenctl create a1 -t busybox
t_eq "a1 is unprivileged" "$(prop a1 Unprivileged)" true
echo "alice's" >"$C/a1/rootfs/etc/motd" && chown 200000:200000 "$C/a1/rootfs/etc/motd"
t_ok "alice copies a1 to a2" as_user alice warrenctl copy a1 a2
t_eq "a2 is alice's" "$(prop a2 OwnerUID)" "$alice_uid"
t_eq "a2 keeps the idmap" "$(warrenctl config get a2 lxc.idmap)" $'u 0 200000 65536\ng 0 200000 65536'
t_eq "a2's files are owned as a1's" "$(stat -c %u:%g "$C/a2/rootfs/etc/motd")" 200000:200000
t_ok "alice starts a2" as_user alice warrenctl start a2
t_ok "its hostname" as_user alice warrenctl attach a2 --no-pty -- hostname
t_eq "...a2" "$T_OUT" a2
t_ok "alice stops a2" as_user alice warrenctl stop -k a2
t_ok "alice copies a1 to a3 (her third)" as_user alice warrenctl copy a1 a3
s0=$(state)
t_fail_match "a fourth is over limit.containers" "Error.QuotaExceeded: User alice has 3 containers: the limit limit.containers.alice is 3" \
        as_user alice gc a1 Clone a4 "{}"
t_ok "nothing changed" unchanged "$s0"
t_ok "alice snapshots a1" as_user alice warrenctl snapshot a1 create
s0=$(state)
t_fail_match "...restoring a snapshot as a new one is over it too" "Error.QuotaExceeded: User alice has 3 containers" \
        as_user alice gc a1 RestoreSnapshot snap0 a4
t_ok "nothing changed" unchanged "$s0"
t_ok "alice deletes that snapshot" as_user alice warrenctl snapshot a1 delete snap0
t_ok "alice renames a3 to a4" as_user alice warrenctl rename a3 a4
t_eq "a4 is alice's" "$(prop a4 OwnerUID)" "$alice_uid"
t_ok "alice snapshots a1" as_user alice warrenctl snapshot a1 create --comment mine
t_ok "alice lists them" as_user alice warrenctl snapshot a1 list
t_match "...snap0, her comment" "$T_OUT" 'snap0 .* mine'
t_eq "the snapshot's files are owned as a1's" "$(stat -c %u "$C/a1/snaps/snap0/rootfs/etc/motd")" 200000
echo changed >"$C/a1/rootfs/etc/motd"
t_ok "alice restores it" as_user alice warrenctl snapshot a1 restore snap0
t_eq "...back" "$(cat "$C/a1/rootfs/etc/motd")" "alice's"
t_eq "...owned as before" "$(stat -c %u "$C/a1/rootfs/etc/motd")" 200000
t_ok "alice starts a1" as_user alice warrenctl start a1
t_ok "alice snapshots it running" as_user alice warrenctl snapshot a1
t_match "...frozen" "$T_OUT" 'taken frozen'
t_ok "alice pushes into the running a1" as_user alice warrenctl file push "$W/hostfile" a1:/root/
t_eq "...owned by her container's root (200000)" "$(stat -c %u:%g "$C/a1/rootfs/root/hostfile")" 200000:200000
t_ok "alice pulls from it" as_user alice warrenctl file pull a1:/etc/motd -
t_eq "...alice's" "$T_OUT" "alice's"
t_ok "alice stops a1" as_user alice warrenctl stop -k a1
t_ok "alice pushes into the stopped a1" as_user alice warrenctl file push "$W/hostfile" a1:/etc/hf
t_eq "...owned by 200000" "$(stat -c %u:%g "$C/a1/rootfs/etc/hf")" 200000:200000
mkdir -p "$W/alice" && chown alice "$W/alice"
t_ok "alice exports a1" as_user alice warrenctl export a1 --split "$W/alice/img"
t_eq "the export's ids are 0-based" "$(tar --numeric-owner -tvJf "$W/alice/img/rootfs.tar.xz" ./etc/motd | awk '{print $2}')" 0/0
t_eq "...the files are hers" "$(stat -c %U "$W/alice/img/rootfs.tar.xz")" alice
t_ok "root creates a container from alice's export" warrenctl create fromalice -t local -- "$W/alice/img/rootfs.tar.xz"
t_eq "...files owned by root" "$(stat -c %u "$C/fromalice/rootfs/etc/motd")" 0
s0=$(state)
t_fail_match "alice may not push setuid files" "Refusing 'su': setuid and setgid files may only be pushed by root \\(org.freedesktop.DBus.Error.AccessDenied\\)" \
        as_user alice /usr/bin/python3 "$CALL" push a1 "$W/setuid.tar" /root
t_fail_match "...nor device nodes" "device node" as_user alice /usr/bin/python3 "$CALL" push a1 "$W/dev.tar" /root
t_fail_match "...nor '..'" "'..' component" as_user alice /usr/bin/python3 "$CALL" push a1 "$W/dotdot.tar" /root
t_ok "nothing changed" unchanged "$s0"

# --- authorization: bob (manage-own, shell-own on his own) and carol (nothing) ---------
t_ok "alice destroys a4 (below her limit again)" as_user alice warrenctl destroy a4
s0=$(state)
for who in bob carol; do
        t_fail_match "$who may not clone alice's a1" "AccessDenied: Access denied: not authorized for org.warren1.manage" \
                as_user $who gc a1 Clone x9 "{}"
        t_fail_match "$who may not rename it" "AccessDenied.*org.warren1.manage\\b" as_user $who gc a1 Rename x9
        t_fail_match "$who may not snapshot it" "AccessDenied.*org.warren1.manage\\b" as_user $who gc a1 CreateSnapshot "''"
        t_fail_match "$who may not list its snapshots" "AccessDenied.*org.warren1.manage\\b" as_user $who gc a1 ListSnapshots
        t_fail_match "$who may not restore them" "AccessDenied.*org.warren1.manage\\b" as_user $who gc a1 RestoreSnapshot snap0 "''"
        t_fail_match "$who may not delete them" "AccessDenied.*org.warren1.manage\\b" as_user $who gc a1 DeleteSnapshot snap0
        t_fail_match "$who may not export it" "AccessDenied.*org.warren1.manage\\b" \
                as_user $who /usr/bin/python3 "$CALL" export a1 unified=/tmp/x-$who
        t_fail_match "$who may not pull from it" "AccessDenied.*org.warren1.shell\\b" \
                as_user $who /usr/bin/python3 "$CALL" pull a1 /tmp/p-$who /etc/hostname
        t_fail_match "$who may not push into it" "AccessDenied.*org.warren1.shell\\b" \
                as_user $who /usr/bin/python3 "$CALL" push a1 "$W/fine.tar" /root
        t_fail_match "$who's garbage is refused before polkit" "InvalidName: Invalid container name '\\.\\.'" \
                as_user $who gc a1 Clone .. "{}"
done
t_fail_match "carol may not copy root's c1 either" "AccessDenied.*org.warren1.manage\\b" as_user carol gc c1 Clone x9 "{}"
t_ok "nothing changed" unchanged "$s0"
# manage-own alone: clone yes, files no (they need shell-own).
revoke alice warren-manage-own
grant alice warren-only-manage-own
t_fail_match "alice with manage-own only may not pull" "AccessDenied.*org.warren1.shell-own" \
        as_user alice /usr/bin/python3 "$CALL" pull a1 /tmp/p-alice /etc/hostname
t_ok "...but may snapshot" as_user alice warrenctl snapshot a1
revoke alice warren-only-manage-own
grant alice warren-manage-own
# Destroy refuses while a job works on the container, and removes snapshots.
t_ok "alice destroys a1 with its snapshots" as_user alice warrenctl destroy a1
t_fail "they are gone" test -e "$C/a1"
# The next file starts from an empty store.
t_ok "every container made here is destroyed" sh -c 'for c in $(warrenctl list --noheadings --raw -o name); do warrenctl destroy "$c" || exit 1; done'
t_eq "the store is empty again" "$(ls -A "$C")" ""
if [[ -f $W/warren.conf.orig ]]; then
        cp -a "$W/warren.conf.orig" /etc/warren/warren.conf
else
        rm -f /etc/warren/warren.conf
fi

finish
