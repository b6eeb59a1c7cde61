#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 18: observing and adjusting running containers. GetStats and
# GetStatsAll (counters that grow with work done inside: CPU, memory,
# network over the bridge, block IO; who may read them), live limits
# (SetConfig / SetConfigWithResult / warrenctl limit: applied to the
# running cgroups, enforced, a refused value changing neither cgroup nor
# config), warrenctl top, monitor and wait (every transition of a start,
# stop and reboot, in order). On this machine's hybrid cgroups (v1
# controllers) and again with warrend seeing cgroup2 alone (a mount
# namespace where only cgroup2 is mounted, as on a v2-only host).
# timeout: 600
# cost: 150
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
gcall() { local path=$1 method=$2; shift 2; gdbus call --system --dest org.warren1 --object-path "$path" --method "$method" "$@"; }
# stats_raw NAME: GetStats as busctl JSON; stat NAME KEY [JSON]: one value.
stats_raw() { "${BUS[@]}" --json=short call org.warren1 "/org/warren1/container/$1" org.warren1.Container GetStats; }
stat() {
        local j=${3:-$(stats_raw "$1")}
        /usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])["data"][0]
print(d[sys.argv[2]]["data"] if sys.argv[2] in d else "absent")' "$j" "$2"
}
# keys JSON: the keys of a GetStats reply, sorted, space-separated.
keys() { /usr/bin/python3 -c 'import json, sys; print(" ".join(sorted(json.loads(sys.argv[1])["data"][0])))' "$1"; }
# all_names [USER]: the containers in GetStatsAll's answer, sorted.
all_names() {
        local out
        if [[ -n ${1:-} ]]; then
                out=$(as_user "$1" busctl --system --json=short call org.warren1 /org/warren1 org.warren1.Manager GetStatsAll) || return 1
        else
                out=$("${BUS[@]}" --json=short call org.warren1 /org/warren1 org.warren1.Manager GetStatsAll) || return 1
        fi
        /usr/bin/python3 -c 'import json, sys; print(" ".join(sorted(e[0] for e in json.loads(sys.argv[1])["data"][0])))' "$out"
}
cgfile() { cat "/sys/fs/cgroup/$1/warren/$2/$3"; }
config_sum() { sha256sum "/var/lib/warren/containers/$1/config" | cut -d' ' -f1; }
in_ct() { local c=$1; shift; warrenctl attach "$c" -- "$@"; }
has_addr() { [[ $(prop "$1" IPv4Addresses) =~ 10\.0\.3\. ]]; }
# states FILE NAME: the states monitor --json told for NAME, in order.
states() {
        /usr/bin/python3 -c 'import json, sys
print(" ".join(e["state"] for e in map(json.loads, open(sys.argv[1])) if e.get("container") == sys.argv[2] and e["event"] in ("state", "current")))' "$1" "$2"
}
UNLIMITED=9223372036854771712

# === stats, on the hybrid layout (v1 controllers) ================================================
IO_DIR=$(mktemp -d /tmp/warren-test-io.XXXXXX) # on the host's disk: block IO to count
chmod 0777 "$IO_DIR"
t_ok "create o1" warrenctl create o1 -t busybox
t_ok "bind a directory on a block device into o1" warrenctl config set o1 "lxc.mount.entry=$IO_DIR mnt/io none bind,create=dir 0 0"
t_fail_match "GetStats of a stopped container: NotRunning" "NotRunning.*Container 'o1' is not running" \
        gcall /org/warren1/container/o1 org.warren1.Container.GetStats
t_ok "start o1" warrenctl start o1
t_ok "GetStats as root" stats_raw o1
J=$T_OUT
t_eq "every key there is on v1" "$(keys "$J")" \
        "cpu_usec io_read_bytes io_write_bytes memory_bytes memory_peak_bytes net_rx_bytes net_tx_bytes nics pids swap_bytes uptime_usec"
t_eq "memory_bytes is memory.usage_in_bytes' order" "$(( $(stat o1 memory_bytes "$J") > 100000 ))" 1
t_eq "pids counts init and its children (pids.current)" "$(( $(stat o1 pids "$J") >= 1 ))" 1
t_match "nics lists eth0, not lo" "$(stat o1 nics "$J")" "^\[\['eth0', [0-9]+, [0-9]+\]\]$"
up1=$(stat o1 uptime_usec "$J")
t_eq "uptime is init's age (under a minute)" "$(( up1 > 0 && up1 < 60000000 ))" 1

# CPU: a busy loop inside.
cpu0=$(stat o1 cpu_usec)
t_ok "burn CPU inside" in_ct o1 sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'
cpu1=$(stat o1 cpu_usec)
t_eq "cpu_usec grew by more than 100 ms ($cpu0 -> $cpu1)" "$(( cpu1 - cpu0 > 100000 ))" 1

# Memory: a 48 MiB buffer, written.
peak0=$(stat o1 memory_peak_bytes)
t_ok "allocate 48 MiB inside" in_ct o1 dd if=/dev/zero of=/dev/null bs=48M count=1
peak1=$(stat o1 memory_peak_bytes)
t_eq "memory_peak_bytes reached 48 MiB ($peak0 -> $peak1)" "$(( peak1 >= 48 * 1048576 ))" 1

# Network: pings over the bridge.
wait_for "o1 has a lease" 20 has_addr o1
rx0=$(stat o1 net_rx_bytes) tx0=$(stat o1 net_tx_bytes)
t_ok "20 pings of 1000 bytes to the bridge" in_ct o1 ping -c 20 -i 0.02 -s 1000 -W 2 10.0.3.1
J=$(stats_raw o1)
rx1=$(stat o1 net_rx_bytes "$J") tx1=$(stat o1 net_tx_bytes "$J")
t_eq "net_rx_bytes grew by the replies ($rx0 -> $rx1)" "$(( rx1 - rx0 >= 20000 ))" 1
t_eq "net_tx_bytes grew by the requests ($tx0 -> $tx1)" "$(( tx1 - tx0 >= 20000 ))" 1
t_match "eth0's counters are the totals" "$(stat o1 nics "$J")" "^\[\['eth0', $rx1, $tx1\]\]$"

# Block IO: direct IO on the bound directory (charged to the writer's cgroup).
# What GetStats says is what the kernel's blkio file says, summed.
blkio_sums() {
        /usr/bin/python3 -c 'import sys
r = w = 0
for l in open(sys.argv[1]):
    f = l.split()
    if len(f) == 3 and f[1] == "Read": r += int(f[2])
    if len(f) == 3 and f[1] == "Write": w += int(f[2])
print(r, w)' /sys/fs/cgroup/blkio/warren/o1/blkio.throttle.io_service_bytes_recursive
}
r0=$(stat o1 io_read_bytes) w0=$(stat o1 io_write_bytes)
t_ok "write 8 MiB with O_DIRECT" in_ct o1 dd if=/dev/zero of=/mnt/io/f bs=1M count=8 oflag=direct
t_ok "read them back with O_DIRECT" in_ct o1 dd if=/mnt/io/f of=/dev/null bs=1M iflag=direct
J=$(stats_raw o1)
r1=$(stat o1 io_read_bytes "$J") w1=$(stat o1 io_write_bytes "$J")
t_eq "io_read_bytes, io_write_bytes are the kernel's blkio Read, Write sums" "$r1 $w1" "$(blkio_sums)"
# Whether this kernel charges block IO to a v1 blkio cgroup at all: a
# probe cgroup of our own, the same direct IO from it.
probe=/sys/fs/cgroup/blkio/warren-io-probe.$$
mkdir "$probe"
(echo "$BASHPID" >"$probe/cgroup.procs" && dd if=/dev/zero of="$IO_DIR/p" bs=1M count=4 oflag=direct 2>/dev/null)
charged=$(grep -c ' Write [1-9]' "$probe/blkio.throttle.io_service_bytes_recursive")
rmdir "$probe"
rm -f "$IO_DIR/p"
if ((charged > 0)); then
        t_eq "io_write_bytes grew by 8 MiB ($w0 -> $w1)" "$(( w1 - w0 >= 8388608 ))" 1
        t_eq "io_read_bytes grew by 8 MiB ($r0 -> $r1)" "$(( r1 - r0 >= 8388608 ))" 1
else
        # Seen on this machine kind (6.18, virtio disk): the kernel counts
        # every bio in the root blkio cgroup only.
        t_eq "this kernel charges no v1 blkio cgroup but the root: the container's counters stay ($w0 -> $w1)" \
                "$w1" "$w0"
        t_diag "block IO is not charged to v1 blkio cgroups on this kernel: io_* cannot grow here"
fi

# Processes.
pids_at_least() { (($(stat "$1" pids) >= $2)); }
p0=$(stat o1 pids)
warrenctl attach o1 -- sh -c 'sleep 4 & sleep 4 & sleep 4 & wait' &
ATT=$!
wait_for "pids grew by the 3 sleeps and their shell (from $p0)" 10 pids_at_least o1 $((p0 + 4))
wait "$ATT"

# The stats in info and top.
t_ok "info shows them" warrenctl info o1
t_match "CPU use and processes" "$T_OUT" $'CPU use: +[0-9.]+ seconds\n.*Processes: +[0-9]+'
t_match "the link's counters" "$T_OUT" 'Link: +eth0 \(RX [0-9.]+ [KM]iB, TX [0-9.]+ [KM]iB\)'
t_ok "info --json" warrenctl info o1 --json
t_match "has a stats object with the nics" "$T_OUT" '"stats" : \{.*"cpu_usec" : [0-9]+.*"nics" : \['
t_ok "top --json: one sample" warrenctl top --json
t_match "o1 with its CPU % and counters" "$T_OUT" '"name" : "o1",[[:space:]]*"cpu_percent" : [0-9.]+,[[:space:]]*"memory_bytes" : [0-9]+'
in_ct o1 timeout 4 sh -c 'while :; do :; done' &
BURN=$!
sleep 0.5
t_ok "top, two refreshes, as a table" warrenctl top --iterations 2 --delay 0.5 -o name,cpu,pids
t_match "the header and o1 busy (> 20% of a CPU, on a shared machine)" "$T_OUT" \
        $'NAME +CPU% +PIDS\no1 +([2-9][0-9]|1[0-9][0-9])\\.[0-9] +[0-9]+'
t_match "two tables" "$T_OUT" $'[0-9]\n\nNAME'
wait "$BURN"
t_fail_match "top: an unknown column" "Unknown column 'bogus' for top" warrenctl top -o bogus --iterations 1
t_fail_match "top: --delay 0" "Invalid --delay '0'" warrenctl top --delay 0
t_fail_match "top: --iterations x" "Invalid --iterations 'x'" warrenctl top --iterations x
t_fail_match "--delay means nothing for list" "--delay means nothing for 'list'" warrenctl list --delay 1

# Uptime starts again with a reboot.
pid_before=$(prop o1 InitPID)
t_ok "reboot o1" warrenctl reboot o1
rebooted() { local p; p=$(prop o1 InitPID); [[ $p != 0 && $p != "$pid_before" ]] && (($(stat o1 uptime_usec) < 5000000)); }
wait_for "o1 has a new init, and its uptime started again" 20 rebooted

# === who may read stats ===========================================================================
grant alice warren-create
grant alice warren-manage-own
t_ok "alice creates a1" as_user alice warrenctl create a1 -t busybox
t_ok "alice starts a1" as_user alice warrenctl start a1
t_ok "alice reads her own a1's stats" as_user alice busctl --system call org.warren1 /org/warren1/container/a1 org.warren1.Container GetStats
t_fail_match "bob may not read a1's stats" \
        "org\.freedesktop\.DBus\.Error\.AccessDenied: Access denied: not authorized for org\.warren1\.manage" \
        as_user bob gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 --method org.warren1.Container.GetStats
t_fail_match "nor carol" "org\.freedesktop\.DBus\.Error\.AccessDenied" \
        as_user carol gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 --method org.warren1.Container.GetStats
t_fail_match "nor o1's (root's)" "org\.freedesktop\.DBus\.Error\.AccessDenied" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1/container/o1 --method org.warren1.Container.GetStats
t_ok "warrenctl info a1 as bob" as_user bob warrenctl info a1
t_eq "leaves the stats out, silently" "$(grep -cE 'CPU use|Processes' <<<"$T_OUT")" 0
t_fail_match "GetStats takes no argument (before polkit)" "org\.freedesktop\.DBus\.Error\.InvalidArgs" \
        as_user bob dbus-send --system --print-reply --dest=org.warren1 /org/warren1/container/a1 \
        org.warren1.Container.GetStats string:x
t_fail_match "nor does GetStatsAll" "org\.freedesktop\.DBus\.Error\.InvalidArgs" \
        as_user bob dbus-send --system --print-reply --dest=org.warren1 /org/warren1 \
        org.warren1.Manager.GetStatsAll uint32:1
t_fail_match "GetStats of no container" "UnknownObject|UnknownMethod" \
        gcall /org/warren1/container/nosuch org.warren1.Container.GetStats
t_eq "GetStatsAll as root: everyone's running containers" "$(all_names)" "a1 o1"
t_eq "as alice: her own" "$(all_names alice)" "a1"
t_eq "as bob: none" "$(all_names bob)" ""
t_eq "as carol: none" "$(all_names carol)" ""
grant bob warren-admin
t_ok "bob, with org.warren1.manage, reads a1's stats" \
        as_user bob busctl --system call org.warren1 /org/warren1/container/a1 org.warren1.Container GetStats
t_eq "and GetStatsAll shows him everyone's" "$(all_names bob)" "a1 o1"
revoke bob warren-admin
# A grant for some containers only (by their name) does not list everyone's.
t_ok "create ok-1" warrenctl create ok-1 -t busybox
t_ok "start ok-1" warrenctl start ok-1
grant bob warren-by-name
t_ok "bob, granted manage for ok-* by name, reads ok-1's stats" \
        as_user bob busctl --system call org.warren1 /org/warren1/container/ok_2d1 org.warren1.Container GetStats
t_eq "but GetStatsAll (asked without a container) shows him none" "$(all_names bob)" ""
revoke bob warren-by-name
t_ok "top as alice: her own only" as_user alice warrenctl top --json
t_match "a1 is there" "$T_OUT" '"name" : "a1"'
t_eq "o1 is not" "$(grep -c '"name" : "o1"' <<<"$T_OUT")" 0
t_ok "stop ok-1" warrenctl stop -k ok-1
t_ok "destroy ok-1" warrenctl destroy ok-1

# === live limits, v1 ==============================================================================
t_eq "o1 has no memory limit" "$(cgfile memory o1 memory.limit_in_bytes)" "$UNLIMITED"
t_ok "limit o1 memory=32M" warrenctl limit o1 memory=32M
t_eq "says it applied live" "$T_OUT" "Applied to the running container: lxc.cgroup2.memory.max"
t_eq "memory.limit_in_bytes is 32M at once" "$(cgfile memory o1 memory.limit_in_bytes)" 33554432
t_eq "and the config has it" "$(warrenctl config get o1 lxc.cgroup2.memory.max)" 32M
fail0=$(cgfile memory o1 memory.failcnt)
t_run in_ct o1 dd if=/dev/zero of=/dev/null bs=64M count=1
t_eq "a 64 MiB allocation inside fails: killed (137)" "$T_RC" 137
t_eq "by the memory cgroup's OOM killer" "$(( $(cgfile memory o1 memory.failcnt) > fail0 ))" 1
t_match "memory.oom_control counts the kill" "$(cgfile memory o1 memory.oom_control)" 'oom_kill [1-9]'
t_eq "o1 still runs" "$(prop o1 State)" RUNNING
t_ok "16 MiB still fits" in_ct o1 dd if=/dev/zero of=/dev/null bs=16M count=1

sum=$(config_sum o1)
t_fail_match "memory=4K is refused by the kernel (memory in use)" \
        "lxc\.cgroup2\.memory\.max = 4K: the kernel rejected '4K' in /sys/fs/cgroup/memory/warren/o1/memory\.limit_in_bytes: Device or resource busy \(errno 16\); nothing was changed" \
        warrenctl limit o1 memory=4K
t_eq "the cgroup keeps 32M" "$(cgfile memory o1 memory.limit_in_bytes)" 33554432
t_eq "the config is unchanged" "$(config_sum o1)" "$sum"
t_fail_match "memory=64M with a CPU quota the kernel refuses: all or nothing" \
        "lxc\.cgroup2\.cpu\.max = 500 100000: the kernel rejected '500' .*cpu\.cfs_quota_us: Invalid argument.*nothing was changed" \
        warrenctl limit o1 memory=64M "lxc.cgroup2.cpu.max=500 100000"
t_eq "the memory limit, written first, is back to 32M" "$(cgfile memory o1 memory.limit_in_bytes)" 33554432
t_eq "the quota is unchanged" "$(cgfile cpu o1 cpu.cfs_quota_us)" -1
t_eq "the config is unchanged" "$(config_sum o1)" "$sum"
t_fail_match "SetConfig (the old method) refuses the same way: InvalidConfig" \
        "org\.warren1\.Error\.InvalidConfig: lxc\.cgroup2\.pids\.max = lots: the kernel rejected 'lots'" \
        gcall /org/warren1/container/o1 org.warren1.Container.SetConfig "[('lxc.cgroup2.pids.max', 'lots')]"
t_eq "pids.max unchanged" "$(cgfile pids o1 pids.max)" max
t_eq "config unchanged" "$(config_sum o1)" "$sum"
t_ok "SetConfig (the old method) applies live too" \
        gcall /org/warren1/container/o1 org.warren1.Container.SetConfig "[('lxc.cgroup2.pids.max', '40')]"
t_eq "pids.max 40" "$(cgfile pids o1 pids.max)" 40
t_ok "SetConfigWithResult: a limit, a tty count, autostart" \
        gcall /org/warren1/container/o1 org.warren1.Container.SetConfigWithResult \
        "[('lxc.cgroup2.pids.max', '20'), ('lxc.tty.max', '2'), ('lxc.start.auto', '1')]" "{}"
t_eq "pids.max live; lxc.tty.max at the next start; autostart needs nothing" "$T_OUT" \
        "(['lxc.cgroup2.pids.max'], ['lxc.tty.max'])"
t_eq "pids.max 20" "$(cgfile pids o1 pids.max)" 20
t_run in_ct o1 sh -c 'for i in $(seq 40); do sleep 2 & done; wait'
t_match "a fork past pids.max fails inside" "$T_ERR" "can't fork|Resource temporarily unavailable"
t_ok "live=false: the config only" gcall /org/warren1/container/o1 org.warren1.Container.SetConfigWithResult \
        "[('lxc.cgroup2.pids.max', '30')]" "{'live': <false>}"
t_eq "it says the limit needs a restart" "$T_OUT" "(@as [], ['lxc.cgroup2.pids.max'])"
t_eq "pids.max is still 20" "$(cgfile pids o1 pids.max)" 20
t_eq "the config has 30" "$(warrenctl config get o1 lxc.cgroup2.pids.max)" 30
t_ok "cpu=0.5 pids=max" warrenctl limit o1 cpu=0.5 pids=max
t_eq "cfs_quota_us 50000" "$(cgfile cpu o1 cpu.cfs_quota_us)" 50000
t_eq "cfs_period_us 100000" "$(cgfile cpu o1 cpu.cfs_period_us)" 100000
t_eq "pids.max max" "$(cgfile pids o1 pids.max)" max
t_ok "limit o1 memory= (removed)" warrenctl limit o1 memory= --json
t_match "applied live" "$T_OUT" '"applied_live" : \[[[:space:]]*"lxc\.cgroup2\.memory\.max"'
t_eq "unlimited again" "$(cgfile memory o1 memory.limit_in_bytes)" "$UNLIMITED"
t_eq "and gone from the config" "$(warrenctl config get o1 lxc.cgroup2.memory.max)" ""
t_ok "limit o1 (no items) lists the cgroup items" warrenctl limit o1
t_match "cpu.max and pids.max" "$T_OUT" $'lxc.cgroup2.cpu.max = 50000 100000\nlxc.cgroup2.pids.max = max'
t_fail_match "limit: an unknown name" "Unknown limit 'colour'; limits: memory, memory.high, swap, cpu" warrenctl limit o1 colour=red
t_fail_match "limit: a bad size" "Invalid value '12Q' for memory" warrenctl limit o1 memory=12Q
t_fail_match "limit: a bad CPU count" "Invalid value '0' for cpu" warrenctl limit o1 cpu=0
t_fail_match "limit: no =" "Invalid item 'memory'" warrenctl limit o1 memory
t_fail_match "SetConfigWithResult: an unknown option" "InvalidArgs: Unknown option 'bogus' \(known: live\)" \
        gcall /org/warren1/container/o1 org.warren1.Container.SetConfigWithResult "[('lxc.cgroup2.pids.max', '9')]" "{'bogus': <1>}"
t_fail_match "SetConfigWithResult: live not a boolean" "InvalidArgs: Option 'live' must be a boolean \(b\), not 's'" \
        gcall /org/warren1/container/o1 org.warren1.Container.SetConfigWithResult "[('lxc.cgroup2.pids.max', '9')]" "{'live': <'yes'>}"
t_eq "neither changed pids.max" "$(cgfile pids o1 pids.max)" max
t_fail_match "SetConfigWithResult: a key that is not a cgroup file" "InvalidConfig.*lxc\.cgroup2\.\.\./x" \
        gcall /org/warren1/container/o1 org.warren1.Container.SetConfigWithResult "[('lxc.cgroup2.../x', '1')]" "{}"

# Owners, others, garbage.
sum_a1=$(config_sum a1)
t_ok "alice limits her own a1" as_user alice warrenctl limit a1 memory=64M pids=100
t_eq "memory applied to a1" "$(cgfile memory a1 memory.limit_in_bytes)" 67108864
t_eq "pids applied to a1" "$(cgfile pids a1 pids.max)" 100
sum_a1=$(config_sum a1)
t_fail_match "alice may not set a host-wide cgroup file (create-privileged)" \
        "AccessDenied.*org\.warren1\.create-privileged" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 \
        --method org.warren1.Container.SetConfigWithResult "[('lxc.cgroup2.cgroup.max.descendants', '5')]" "{}"
t_fail_match "bob may not limit alice's a1" "AccessDenied.*org\.warren1\.manage" \
        as_user bob gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 \
        --method org.warren1.Container.SetConfigWithResult "[('lxc.cgroup2.memory.max', '1G')]" "{}"
t_fail_match "nor carol, with warrenctl" "Access denied.*org\.warren1\.manage" as_user carol warrenctl --no-ask-password limit a1 memory=1G
t_fail_match "bob's garbage is refused before polkit: InvalidConfig, not AccessDenied" \
        "org\.warren1\.Error\.InvalidConfig" \
        as_user bob gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 \
        --method org.warren1.Container.SetConfigWithResult "[('lxc.cgroup2.../x', '1')]" "{}"
t_fail_match "bob's bad option too: InvalidArgs" "InvalidArgs: Unknown option" \
        as_user bob gdbus call --system --dest org.warren1 --object-path /org/warren1/container/a1 \
        --method org.warren1.Container.SetConfigWithResult "[('lxc.cgroup2.memory.max', '1G')]" "{'x': <1>}"
t_eq "a1's memory limit unchanged" "$(cgfile memory a1 memory.limit_in_bytes)" 67108864
t_eq "a1's config unchanged" "$(config_sum a1)" "$sum_a1"
t_eq "o1 untouched by them" "$(cgfile memory o1 memory.limit_in_bytes)" "$UNLIMITED"

# A stopped container: saved for its start.
t_ok "stop a1" as_user alice warrenctl stop -k a1
t_ok "limit a stopped a1" as_user alice warrenctl limit a1 memory=48M
t_eq "says it applies at the start" "$T_OUT" "Saved; 'a1' is not running: the limits apply when it starts."
t_ok "start a1 again" as_user alice warrenctl start a1
t_eq "the start applied it" "$(cgfile memory a1 memory.limit_in_bytes)" 50331648
t_ok "stop a1" as_user alice warrenctl stop -k a1

# === monitor and wait ===========================================================================
t_ok "create m1" warrenctl create m1 -t busybox
t_ok "no NIC for m1 (quicker cycles)" warrenctl config set m1 lxc.net.0.type=empty
MON=$T_LIB_TMP/mon.json
warrenctl monitor --json >"$MON" 2>"$T_LIB_TMP/mon.err" &
MON_PID=$!
warrenctl monitor m1 >"$T_LIB_TMP/mon.txt" 2>&1 &
MON2_PID=$!
wait_for "monitor told the current states first" 10 grep -q '"event":"current","container":"m1"' "$MON"
wait_for "the text monitor too" 10 grep -q ' current  *m1 STOPPED' "$T_LIB_TMP/mon.txt"
( warrenctl wait m1 RUNNING -t 30; echo "rc=$?" ) >"$T_LIB_TMP/wait1" 2>&1 &
W1=$!
sleep 0.3
t_eq "wait is still waiting while m1 is stopped" "$(cat "$T_LIB_TMP/wait1")" ""
t_ok "start m1" warrenctl start m1
wait "$W1"
t_eq "wait returned 0 once m1 ran" "$(cat "$T_LIB_TMP/wait1")" "rc=0"
t_ok "wait for a state it is in: at once" timeout 5 warrenctl wait m1 'STOPPED|RUNNING' -t 0
t_fail_match "wait times out: status 1, saying where it is" \
        "Timed out after 0\.5 s: container 'm1' is RUNNING, not STOPPED" warrenctl wait m1 STOPPED -t 0.5
t_eq "status 1" "$T_RC" 1
t_ok "reboot m1" warrenctl reboot m1
wait_for "m1 restarted (STARTING, RUNNING told)" 20 sh -c "grep -c '\"state\":\"RUNNING\".*\"container\":\"m1\"' '$MON' | grep -qx 2"
t_ok "stop m1 (clean)" warrenctl stop m1
t_ok "wait m1 STOPPED" timeout 10 warrenctl wait m1 STOPPED -t 5
t_ok "start m1 again" warrenctl start m1
t_ok "freeze m1" warrenctl freeze m1
t_ok "unfreeze m1" warrenctl unfreeze m1
t_ok "stop -k m1" warrenctl stop -k m1
wait_for "monitor told the last STOPPED" 10 sh -c "[ \"\$(grep -c '\"state\":\"STOPPED\".*\"container\":\"m1\"' '$MON')\" = 3 ]"
t_eq "every transition, in order" "$(states "$MON" m1)" \
        "STOPPED STARTING RUNNING STARTING RUNNING STOPPING STOPPED STARTING RUNNING FREEZING FROZEN RUNNING STOPPING STOPPED"
t_eq "the text monitor, the same" "$(awk '$3 == "m1" { print $4 }' "$T_LIB_TMP/mon.txt" | tr '\n' ' ')" \
        "STOPPED STARTING RUNNING STARTING RUNNING STOPPING STOPPED STARTING RUNNING FREEZING FROZEN RUNNING STOPPING STOPPED "
t_ok "timestamps never go back" /usr/bin/python3 -c 'import json, sys
t = [e["time_usec"] for e in map(json.loads, open(sys.argv[1]))]
sys.exit(t != sorted(t))' "$MON"
t_match "text lines: time, event, container, state" "$(sed -n 2p "$T_LIB_TMP/mon.txt")" \
        '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} state +m1 STARTING$'

# Containers and jobs coming and going.
t_ok "create m2 (a job)" warrenctl create m2 -t busybox
wait_for "monitor told m2 added" 10 grep -q '"event":"added","container":"m2"' "$MON"
wait_for "and its create job, with the container's name" 10 grep -q '"type":"create",.*"event":"job-new","container":"m2"' "$MON"
wait_for "and the job's end" 10 grep -q '"result":"done",.*"event":"job-removed","container":"m2"' "$MON"
t_ok "m2: added, job new, job removed, in that order" /usr/bin/python3 -c 'import json, sys
ev = [e["event"] for e in map(json.loads, open(sys.argv[1])) if e.get("container") == "m2"]
sys.exit(ev[:3] != ["added", "job-new", "job-removed"])' "$MON"
t_fail "the m1 monitor did not tell m2" grep -q m2 "$T_LIB_TMP/mon.txt"
( warrenctl wait m2 RUNNING; echo "rc=$?" ) >"$T_LIB_TMP/wait2" 2>&1 &
W2=$!
sleep 0.3
t_ok "destroy m2 while someone waits for it" warrenctl destroy m2
wait "$W2"
t_match "wait failed: destroyed" "$(cat "$T_LIB_TMP/wait2")" $'Container \'m2\' was destroyed\nrc=1'
wait_for "monitor told m2 removed" 10 grep -q '"event":"removed","container":"m2"' "$MON"

# warrend away: the monitor brings it back and goes on.
t_ok "start m1" warrenctl start m1
n_before=$(grep -c . "$MON")
wpid=$(warrend_pid)
kill -TERM "$wpid"
warrend_replaced() { local p; p=$(warrend_pid); [[ -n $p && $p != "$1" ]]; }
wait_for "warrend is back (the monitor asked for it)" 10 warrend_replaced "$wpid"
t_ok "stop m1 under the new warrend" warrenctl stop -k m1
wait_for "the monitor still tells m1's states" 10 sh -c "tail -n +$((n_before + 1)) '$MON' | grep -q '\"state\":\"STOPPED\".*\"container\":\"m1\"'"
kill "$MON_PID" "$MON2_PID"
wait "$MON_PID" "$MON2_PID" 2>/dev/null
t_eq "monitor printed nothing on stderr" "$(cat "$T_LIB_TMP/mon.err")" ""

t_fail_match "wait: an unknown state" "Unknown state 'RUNING': expected one of STOPPED\|STARTING\|RUNNING" warrenctl wait m1 RUNING
t_fail_match "wait: an empty state list" "No state to wait for" warrenctl wait m1 '|'
t_fail_match "wait: no such container" "No such container 'nosuch'" warrenctl wait nosuch RUNNING -t 1
t_fail_match "wait: a bad timeout" "Invalid timeout 'soon'" warrenctl wait m1 RUNNING -t soon
t_ok "wait as carol (reading needs no authorization)" as_user carol warrenctl wait m1 STOPPED -t 1
t_ok "destroy m1" warrenctl destroy m1

# === the same on cgroup2 alone ===================================================================
t_ok "stop o1" warrenctl stop -k o1
SVC=$WARREN_SCRATCH/dbus-services/org.warren1.service
cp "$SVC" "$T_LIB_TMP/service.orig"
cat >"$WARREN_SCRATCH/v2-only.sh" <<'EOF'
#!/bin/bash
# warrend (and the monitors it starts) in a mount namespace where cgroup2
# alone is mounted, at /sys/fs/cgroup: both sysfs stacks go, a fresh one
# comes (same network namespace), cgroup2 on it. The same kernel
# hierarchy: its cgroups are /sys/fs/cgroup/unified/... outside.
exec unshare --mount --propagation private /bin/bash -c \
        'while umount -R /sys 2>/dev/null; do :; done; mount -t sysfs sysfs /sys && mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' \
        v2-only "$@"
EOF
chmod 0755 "$WARREN_SCRATCH/v2-only.sh"
sed -i "s|^Exec=|Exec=$WARREN_SCRATCH/v2-only.sh |" "$SVC"
wpid=$(warrend_pid)
kill -TERM "$wpid"
wait_for "the hybrid warrend is gone" 10 sh -c "! kill -0 $wpid 2>/dev/null"
sleep 0.3 # the bus re-reads the activation file
t_ok "warrend starts again (in its v2-only namespace)" warrenctl list
wpid=$(warrend_pid)
t_eq "it sees cgroup2 alone" "$(awk '$3 ~ /cgroup/ { print $2, $3 }' "/proc/$wpid/mounts")" "/sys/fs/cgroup cgroup2"
t_ok "create v2c" warrenctl create v2c -t busybox
t_ok "start v2c" warrenctl start v2c
t_ok "its cgroup is in cgroup2 only" test -d /sys/fs/cgroup/unified/warren/v2c
t_fail "no v1 cgroup for it" test -e /sys/fs/cgroup/memory/warren/v2c
J=$(stats_raw v2c)
t_eq "GetStats on cgroup2 alone: what this kernel's cgroup2 has (no memory, io, pids controllers here)" \
        "$(keys "$J")" "cpu_usec net_rx_bytes net_tx_bytes nics pids uptime_usec"
pids_are_threads() { [[ $(stat v2c pids) == "$(wc -l </sys/fs/cgroup/unified/warren/v2c/cgroup.threads)" ]]; }
wait_for "pids counted from cgroup.threads" 10 pids_are_threads
cpu0=$(stat v2c cpu_usec "$J")
t_ok "burn CPU inside v2c" in_ct v2c sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'
cpu1=$(stat v2c cpu_usec)
t_eq "cpu_usec (cgroup2 cpu.stat) grew by more than 100 ms ($cpu0 -> $cpu1)" "$(( cpu1 - cpu0 > 100000 ))" 1
wait_for "v2c has a lease" 20 has_addr v2c
rx0=$(stat v2c net_rx_bytes)
t_ok "pings from v2c" in_ct v2c ping -c 10 -i 0.02 -s 1000 -W 2 10.0.3.1
t_eq "net_rx_bytes grew" "$(( $(stat v2c net_rx_bytes) - rx0 >= 10000 ))" 1
t_ok "limit v2c: a cgroup2 core limit" warrenctl limit v2c lxc.cgroup2.cgroup.max.descendants=2
t_eq "applied live" "$T_OUT" "Applied to the running container: lxc.cgroup2.cgroup.max.descendants"
V2=/sys/fs/cgroup/unified/warren/v2c
t_eq "cgroup.max.descendants is 2" "$(cat $V2/cgroup.max.descendants)" 2
t_ok "a first sub-cgroup" mkdir "$V2/s1"
t_ok "a second" mkdir "$V2/s2"
t_fail_match "a third is refused by the kernel" "Resource temporarily unavailable" mkdir "$V2/s3"
rmdir "$V2/s1" "$V2/s2"
sum=$(config_sum v2c)
t_fail_match "a depth the kernel refuses, with a descendants change: all or nothing" \
        "lxc\.cgroup2\.cgroup\.max\.depth = -3: the kernel rejected '-3' in /sys/fs/cgroup/warren/v2c/cgroup\.max\.depth.*nothing was changed" \
        warrenctl limit v2c lxc.cgroup2.cgroup.max.descendants=9 lxc.cgroup2.cgroup.max.depth=-3
t_eq "descendants still 2" "$(cat $V2/cgroup.max.descendants)" 2
t_eq "depth still max" "$(cat $V2/cgroup.max.depth)" max
t_eq "config unchanged" "$(config_sum v2c)" "$sum"
t_fail_match "memory= on a host whose cgroup2 has no memory controller: said, nothing changed" \
        "controller 'memory' is not available \(neither in cgroup2 at /sys/fs/cgroup nor as a v1 hierarchy\)" \
        warrenctl limit v2c memory=64M
t_eq "config unchanged" "$(config_sum v2c)" "$sum"
t_ok "limit v2c: descendants removed" warrenctl limit v2c lxc.cgroup2.cgroup.max.descendants=
t_eq "back to max" "$(cat $V2/cgroup.max.descendants)" max
t_ok "wait and stop on cgroup2 alone" sh -c 'warrenctl stop v2c && warrenctl wait v2c STOPPED -t 5'
t_ok "no leftovers of v2c" no_leftovers v2c
t_ok "destroy v2c" warrenctl destroy v2c

# Back to the hybrid view.
cp "$T_LIB_TMP/service.orig" "$SVC"
wpid=$(warrend_pid)
kill -TERM "$wpid"
wait_for "the v2-only warrend is gone" 10 sh -c "! kill -0 $wpid 2>/dev/null"
sleep 0.3
t_ok "warrend starts again (hybrid)" warrenctl list
t_match "it sees the v1 hierarchies again" "$(awk '$3 ~ /cgroup/ { print $2 }' "/proc/$(warrend_pid)/mounts" | tr '\n' ' ')" '/sys/fs/cgroup/memory '

# Completion of the new commands (bash), against the bus.
cat >"$T_LIB_TMP/complete.sh" <<EOF
. /usr/share/bash-completion/bash_completion
. $WARREN_BUILD/data/warrenctl.bash
COMP_LINE=\$1
COMP_POINT=\${#COMP_LINE}
read -ra COMP_WORDS <<<"\$COMP_LINE"
[[ \$COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
_warrenctl warrenctl "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "\${COMPREPLY[@]}" | sort | paste -sd' '
EOF
comp() { bash --norc "$T_LIB_TMP/complete.sh" "$1" 2>/dev/null; }
t_eq "completion: the commands" "$(comp 'warrenctl mo')" "monitor"
t_eq "completion: wait's containers" "$(comp 'warrenctl wait o')" "o1"
t_eq "completion: wait's states" "$(comp 'warrenctl wait o1 ST')" "STARTING STOPPED STOPPING"
t_eq "completion: limit names end in =" "$(comp 'warrenctl limit o1 mem')" "memory.high= memory="
t_eq "completion: top's options" "$(comp 'warrenctl top --d')" "--delay"
t_eq "completion: top's columns" "$(comp 'warrenctl top -o net')" "net-rx net-tx"
t_ok "the zsh completion parses" zsh -n "$WARREN_BUILD/data/_warrenctl"

t_ok "destroy o1" warrenctl destroy o1
t_ok "destroy a1" warrenctl destroy a1
rm -rf "$IO_DIR"
revoke_all alice bob
finish
