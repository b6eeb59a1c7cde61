#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 12 §5 and §6, as the hostile user alice (create, manage-own,
# shell-own) would try them against the real bus and polkitd:
#  - a bind source that was hers at SetConfig is swapped afterwards (for a
#    symlink to the state dir, the runtime dir, bob's home, /etc; a symlink
#    in a middle component; a hard link to bob's file; a name in /tmp that
#    bob takes over): Start refuses, naming the path, mounts nothing and
#    does not start, and nothing of bob's changes;
#  - values SetConfig used to accept and only Start refused are refused at
#    SetConfig, naming key and value, with the config unchanged on disk; what
#    SetConfig accepts starts.
# timeout: 400
. "$(dirname "$0")/lib.sh"

C=/var/lib/warren/containers
BUS=(busctl --system)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
# setcfg [USER] CT ITEMS: SetConfig through GDBus (as USER), so that the
# error name shows.
setcfg() {
        local as=()
        [[ $# == 3 ]] && { as=(as_user "$1"); shift; }
        "${as[@]}" gdbus call --system --dest org.warren1 --object-path "/org/warren1/container/$1" \
                --method org.warren1.Container.SetConfig "$2"
}
cfg_sum() { md5sum <"$C/$1/config"; }
mounts() { awk '{ print $4, $5, $9, $10 }' /proc/self/mountinfo | sort | md5sum; }
# What bob has: his home (names, owners, modes, contents) and his container's config.
bobs() { (cd /home/bob && find . -printf '%p %u %m %s\n' | sort && cat d/f shared 2>/dev/null) | md5sum; md5sum <"$C/b1/config"; }
not_running() { [[ $(prop "$1" State) == STOPPED ]] && no_leftovers "$1"; }

alice_uid=$(id -u alice)
bob_uid=$(id -u bob)
grant alice warren-create
grant alice warren-manage-own
grant bob warren-create
grant bob warren-manage-own
AH=/home/alice
# bob's home is traversable, as on many systems: what alice could reach.
chmod 755 /home/bob

t_ok "alice creates a1" as_user alice warrenctl create a1 -t busybox
t_ok "bob creates b1" as_user bob warrenctl create b1 -t busybox
t_ok "bob's dir and files" as_user bob sh -c 'mkdir -p ~/d && echo bobs >~/d/f && echo shared >~/shared && chmod 666 ~/shared'
t_ok "alice's dir with a file" as_user alice sh -c 'mkdir -p ~/d ~/m/d && echo hers >~/d/f && echo hers >~/m/d/f && echo hers >~/f'

# --- §5: the bind source swapped after the check ------------------------------
t_ok "alice binds her own dir (SetConfig checks it is hers)" \
        as_user alice warrenctl config set a1 "lxc.mount.entry=$AH/d mnt/d none bind,create=dir 0 0"
t_ok "and starts: her dir is there" as_user alice warrenctl start a1
t_ok "attach reads her file through the bind" as_user alice warrenctl attach a1 --no-pty -- cat /mnt/d/f
t_eq "content" "$T_OUT" hers
t_ok "alice stops a1" as_user alice warrenctl stop a1 -k
sum=$(cfg_sum a1)
bob_before=$(bobs)
host_mounts=$(mounts)

swap_start() { # DESC TARGET: her dir replaced by a symlink to TARGET
        local desc=$1 target=$2
        as_user alice sh -c "mv ~/d ~/d.real && ln -s '$target' ~/d"
        t_fail_match "$desc: Start is refused naming the path" \
                "lxc\.mount\.entry '$AH/d mnt/d none bind,create=dir 0 0': Refusing bind source '$AH/d': the path goes through a symbolic link \(opened as uid $alice_uid, following none\)" \
                as_user alice warrenctl start a1
        t_ok "$desc: not started, nothing left" not_running a1
        t_eq "$desc: no mount on the host" "$(mounts)" "$host_mounts"
        as_user alice sh -c 'rm ~/d && mv ~/d.real ~/d'
}
swap_start "symlink to the state dir" /var/lib/warren/containers
swap_start "symlink to the runtime dir" /run/warren
swap_start "symlink to bob's home" /home/bob
swap_start "symlink to /etc" /etc
t_eq "bob's files and container unchanged" "$(bobs)" "$bob_before"
t_eq "a1's config unchanged" "$(cfg_sum a1)" "$sum"

# The same through the bus: the error name.
as_user alice sh -c 'mv ~/d ~/d.real && ln -s /etc ~/d'
t_fail_match "Start over the bus: AccessDenied naming the path" \
        "org.freedesktop.DBus.Error.AccessDenied.*Refusing bind source '$AH/d'" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 \
        --method org.warren1.Container.Start
as_user alice sh -c 'rm ~/d && mv ~/d.real ~/d'

# optional does not make a refused source a skipped one.
t_ok "alice marks her bind optional" as_user alice warrenctl config set a1 lxc.mount.entry= \
        "lxc.mount.entry=$AH/d mnt/d none bind,optional,create=dir 0 0"
as_user alice sh -c 'mv ~/d ~/d.real && ln -s /run/warren ~/d'
t_fail_match "optional + symlink: still refused" "Refusing bind source '$AH/d': the path goes through a symbolic link" \
        as_user alice warrenctl start a1
t_ok "not started" not_running a1
as_user alice sh -c 'rm ~/d && mv ~/d.real ~/d'

# A symlink in a middle component, to bob's home (which has a d/ too).
t_ok "alice binds $AH/m/d" as_user alice warrenctl config set a1 lxc.mount.entry= \
        "lxc.mount.entry=$AH/m/d mnt/d none bind,create=dir 0 0"
as_user alice sh -c 'mv ~/m ~/m.real && ln -s /home/bob ~/m'
t_fail_match "a middle component swapped for a symlink: refused" \
        "Refusing bind source '$AH/m/d': the path goes through a symbolic link" as_user alice warrenctl start a1
t_ok "not started" not_running a1
as_user alice sh -c 'rm ~/m && mv ~/m.real ~/m'

# A hard link: her name, bob's inode (a file he left writable for all,
# which protected_hardlinks lets her link).
t_ok "alice binds her own file" as_user alice warrenctl config set a1 lxc.mount.entry= \
        "lxc.mount.entry=$AH/f mnt/f none bind,create=file 0 0"
t_ok "alice replaces it by a hard link to bob's file" as_user alice sh -c 'rm ~/f && ln /home/bob/shared ~/f'
t_fail_match "a hard link to bob's file: refused, naming the owner" \
        "Refusing bind source '$AH/f': it is owned by uid $bob_uid, not by the container's owner \(uid $alice_uid\)" \
        as_user alice warrenctl start a1
t_ok "not started" not_running a1
echo root >/home/rootfile
t_fail_match "a hard link to root's file is not even possible for her" "Operation not permitted" \
        as_user alice ln /home/rootfile "$AH/f2"
rm -f /home/rootfile
as_user alice sh -c 'rm ~/f && echo hers >~/f'

# A name in /tmp that was hers at SetConfig and bob's at Start.
t_ok "alice makes /tmp/alice-share" as_user alice mkdir /tmp/alice-share
t_ok "and binds it" as_user alice warrenctl config set a1 lxc.mount.entry= \
        "lxc.mount.entry=/tmp/alice-share mnt/d none bind,create=dir 0 0"
as_user alice rmdir /tmp/alice-share
as_user bob sh -c 'mkdir /tmp/alice-share && echo bobs >/tmp/alice-share/f'
t_fail_match "bob's dir under her old name: refused" \
        "Refusing bind source '/tmp/alice-share': it is owned by uid $bob_uid, not by the container's owner" \
        as_user alice warrenctl start a1
t_ok "not started" not_running a1
rm -rf /tmp/alice-share

# What SetConfig refuses outright (one rule with Start).
sum=$(cfg_sum a1)
refused_bind() { # DESC REGEX SOURCE
        t_fail_match "$1" "$2" as_user alice warrenctl config set a1 "lxc.mount.entry=$3 mnt/x none bind,create=dir 0 0"
        t_eq "$1: config unchanged" "$(cfg_sum a1)" "$sum"
}
refused_bind "'..' up to bob's home" "Refusing bind source '$AH/d/../../bob': it is owned by uid $bob_uid" "$AH/d/../../bob"
refused_bind "a magic link" "Refusing bind source '/proc/self/root/etc': the path goes through a symbolic link" \
        /proc/self/root/etc
refused_bind "a relative source" "Bind source 'd' is not an absolute host path" d
refused_bind "the state dir" "Refusing bind source '/var/lib/warren/containers': it is owned by uid 0" \
        /var/lib/warren/containers
refused_bind "bob's home" "Refusing bind source '/home/bob': it is owned by uid $bob_uid" /home/bob
t_fail_match "over the bus: AccessDenied" "org.freedesktop.DBus.Error.AccessDenied.*Refusing bind source '/etc'" \
        setcfg alice a1 "[('lxc.mount.entry', '/etc mnt/x none bind,create=dir 0 0')]"
t_fail_match "an include of her own file needs the administrator" "Access denied|AccessDenied|create-privileged" \
        as_user alice warrenctl config set a1 "lxc.include=$AH/evil.conf"
t_fail_match "an include climbing out of an allowed dir too" "Access denied|AccessDenied|create-privileged" \
        as_user alice warrenctl config set a1 "lxc.include=/usr/share/lxc/config/../../../../home/alice/evil.conf"
t_fail_match "an fstab file of hers needs the administrator" "Access denied|AccessDenied|create-privileged" \
        as_user alice warrenctl config set a1 "lxc.mount.fstab=$AH/fstab"
t_eq "config unchanged after all of these" "$(cfg_sum a1)" "$sum"

# Her own source, a target climbing out of the rootfs: it lands inside.
t_ok "alice binds her dir to ../../../../../etc/alice-was-here" as_user alice warrenctl config set a1 \
        lxc.mount.entry= "lxc.mount.entry=$AH/d ../../../../../../etc/alice-was-here none bind,create=dir 0 0"
t_ok "a1 starts" as_user alice warrenctl start a1
t_ok "the bind is at /etc/alice-was-here inside" as_user alice warrenctl attach a1 --no-pty -- cat /etc/alice-was-here/f
t_eq "her file" "$T_OUT" hers
t_fail "nothing at the host's /etc/alice-was-here" test -e /etc/alice-was-here
t_ok "the target was made in a1's rootfs" test -d "$C/a1/rootfs/etc/alice-was-here"
t_ok "alice stops a1" as_user alice warrenctl stop a1 -k
t_ok "nothing left" not_running a1
t_ok "alice drops the entry" as_user alice warrenctl config set a1 lxc.mount.entry=
sum=$(cfg_sum a1)
t_eq "bob's files and container still unchanged" "$(bobs)" "$bob_before"

# --- §6: one set of rules ---------------------------------------------------------
nofile_hard=$(awk '/^Max open files/ { print $5 }' /proc/"$(warrend_pid)"/limits)
t_match "warrend's nofile hard limit" "$nofile_hard" '^[0-9]+$'
raised=$((nofile_hard + 1))
bad=(
        "lxc.mount.entry|$AH/d mnt/d none BIND,create=dir 0 0|InvalidConfig|unknown option 'BIND' \(options are case-sensitive: 'bind'\)"
        "lxc.cgroup2.memory.max/../../../../release_agent|/x|InvalidConfig|Invalid cgroup key 'lxc.cgroup2.memory.max/../../../../release_agent'"
        "lxc.cgroup2.pids/../max|1|InvalidConfig|'pids/../max' is not a cgroup file name"
        "lxc.sysctl.net/../kernel/core_pattern|x|InvalidConfig|Invalid sysctl name 'lxc.sysctl.net/../kernel/core_pattern'"
        "lxc.sysctl.net..ipv4.ip_forward|1|InvalidConfig|Invalid sysctl name"
        "lxc.prlimit.nofile|$raised|InvalidConfig|Invalid lxc.prlimit.nofile value '$raised': the hard limit $raised is above the service's own \($nofile_hard\)"
        "lxc.prlimit.nofile|unlimited|InvalidConfig|the hard limit unlimited is above the service's own"
        "lxc.tty.max|1000|InvalidConfig|Invalid lxc.tty.max '1000': expected 0..64"
        "lxc.console.buffer.size|1G|InvalidConfig|Invalid lxc.console.buffer.size '1G': at most 64 MiB"
        "lxc.net.0.veth.mode|router|NotSupported|lxc.net.0.veth.mode = router: not supported by warren"
        "lxc.init.cmd|/bin/sh -c 'x|InvalidConfig|Invalid lxc.init.cmd '/bin/sh -c 'x': unterminated quote"
)
for item in "${bad[@]}"; do
        IFS='|' read -r key value name msg <<<"$item"
        t_fail_match "alice: $key = $value is refused at SetConfig" "org\.(warren1|freedesktop\.DBus)\.Error\.$name: .*$msg" \
                setcfg alice a1 "[('$key', \"$value\")]"
        t_eq "alice: $key = $value: config unchanged" "$(cfg_sum a1)" "$sum"
        t_fail_match "root: $key = $value is refused too (a value error)" "org\.(warren1|freedesktop\.DBus)\.Error\.$name: .*$msg" \
                setcfg a1 "[('$key', \"$value\")]"
        t_eq "root: $key = $value: config unchanged" "$(cfg_sum a1)" "$sum"
done
t_fail_match "a sysctl outside the container's namespaces, in her unprivileged container" \
        "InvalidConfig: .*lxc.sysctl.kernel.core_pattern = x: not a sysctl of the container's own namespaces" \
        setcfg alice a1 "[('lxc.sysctl.kernel.core_pattern', 'x')]"
t_fail_match "the same by warrenctl names key and value" "lxc\.tty\.max '1000'" \
        as_user alice warrenctl config set a1 lxc.tty.max=1000
t_eq "config unchanged" "$(cfg_sum a1)" "$sum"

# What SetConfig accepts starts.
t_ok "alice sets values within the rules" as_user alice warrenctl config set a1 lxc.mount.entry= \
        "lxc.mount.entry=$AH/d mnt/d none bind,ro,create=dir 0 0" lxc.tty.max=2 lxc.console.buffer.size=1M \
        "lxc.prlimit.nofile=1024:$nofile_hard" lxc.cgroup2.pids.max=100 lxc.sysctl.net.ipv4.ip_forward=1 \
        "lxc.init.cmd=/sbin/init"
t_ok "and a1 starts with them" as_user alice warrenctl start a1
t_ok "the bind is read-only inside" as_user alice warrenctl attach a1 --no-pty -- sh -c \
        'cat /mnt/d/f && ! touch /mnt/d/x 2>/dev/null && ulimit -Hn'
t_eq "content and limit" "$T_OUT" "hers"$'\n'"$nofile_hard"
t_ok "alice stops a1" as_user alice warrenctl stop a1 -k
t_ok "nothing left" not_running a1

t_eq "bob's files and container unchanged at the end" "$(bobs)" "$bob_before"
t_eq "b1 never ran" "$(prop b1 State)" STOPPED
for c in a1 b1; do
        warrenctl destroy "$c" >/dev/null 2>&1
done
t_ok "store is empty again" test -z "$(ls -A $C)"
finish
