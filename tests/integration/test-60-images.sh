#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 6: the download and local templates against the fixture image
# server (started here, on 127.0.0.1 inside the sandbox's network
# namespace): create and start, the cache (a second create downloads
# nothing), the newest build whatever its line order, verification,
# hostile servers and tarballs leaving nothing behind, cancel, progress,
# concurrency, image list/pull/remove, remote listing, authorization and
# garbage arguments.
# timeout: 900
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
ARCH=$(dpkg --print-architecture)
NEWEST=20240315_12:00
STORE=/var/lib/warren/containers
CACHE=/var/cache/warren/images
FIX=$TMPDIR/fixture
SERVER_PIDS=()
SERVER_FDS=()

bash "$WARREN_SRC/tests/fixtures/make-image.sh" "$FIX/server" "$ARCH" >/dev/null || bail_out "make-image.sh failed"
IMG_DIR=$FIX/server/images/busybox/1.35/$ARCH/default/$NEWEST
PASSWD_SUM=$(sha256sum </etc/passwd)

# server_start VAR ROOT [image-server.py ARGS...]: a fixture server on
# 127.0.0.1; VAR becomes its URL, VAR_LOG its request log. It runs until
# this file ends (its stdin is a fifo we hold open).
server_start() {
        local var=$1 root=$2 dir fd port i
        shift 2
        dir=$(mktemp -d "$TMPDIR/server.XXXXXX")
        mkfifo "$dir/in"
        exec {fd}<>"$dir/in"
        SERVER_FDS+=("$fd")
        touch "$dir/log"
        /usr/bin/python3 "$WARREN_SRC/tests/fixtures/image-server.py" --root "$root" --log "$dir/log" \
                --arch "$ARCH" --lifetime 900 "$@" <"$dir/in" >"$dir/port" 2>"$dir/err" &
        SERVER_PIDS+=("$!")
        for ((i = 0; i < 200; i++)); do
                port=$(head -n1 "$dir/port" 2>/dev/null)
                [[ $port =~ ^[0-9]+$ ]] && break
                sleep 0.05
        done
        [[ $port =~ ^[0-9]+$ ]] || bail_out "image-server.py $* did not start: $(cat "$dir/err")"
        printf -v "$var" 'http://127.0.0.1:%s' "$port"
        printf -v "${var}_LOG" '%s' "$dir/log"
}

servers_stop() {
        local fd pid
        for fd in "${SERVER_FDS[@]}"; do exec {fd}>&-; done
        for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
        wait 2>/dev/null
}

# rootfs requests in a server log (of any build, or of BUILD).
rootfs_gets() { grep -c $'^GET\t/images/.*'"${2:-}"$'/rootfs\\.tar\\.xz\t' "$1"; }
create_dl() {
        local name=$1 url=$2
        shift 2
        warrenctl create "$name" -t download -- -d busybox -r 1.35 --server "$url" "$@"
}
prop() { "${BUS[@]}" get-property org.warren1 "$1" "$2" "$3" | sed 's/^[a-z]* //; s/"//g'; }
job_paths() { "${BUS[@]}" tree --list org.warren1 2>/dev/null | grep '^/org/warren1/job/[0-9]'; }
cached_builds() { find "$CACHE" -mindepth 5 -maxdepth 5 -type d 2>/dev/null | sort; }
warrend_pid() { sandbox_name_pid org.warren1; }
sandbox_name_pid() {
        "${BUS[@]}" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                GetConnectionUnixProcessID s org.warren1 2>/dev/null | awk '{ print $2 }'
}
# Image job children of warrend (they keep its name).
job_children() {
        local pid
        pid=$(warrend_pid)
        [[ -n $pid ]] && pgrep -P "$pid" -x warrend
}
# Nothing of a failed or canceled create: no container, no store or cache
# temporary, no job object, no job process.
nothing_left() {
        local name=$1 bad=""
        [[ -e $STORE/$name ]] && bad+=" the container directory;"
        ls -A "$STORE" | grep -q '^\.#' && bad+=" store temporaries: $(ls -A "$STORE" | grep '^\.#' | tr '\n' ' ');"
        [[ -n $(find "$CACHE" -name '.#pull-*' 2>/dev/null) ]] && bad+=" cache temporaries;"
        [[ -n $(job_paths) ]] && bad+=" job objects: $(job_paths | tr '\n' ' ');"
        [[ -n $(job_children) ]] && bad+=" job processes: $(job_children | tr '\n' ' ');"
        [[ -z $bad ]] && return 0
        echo "left behind:$bad"
        return 1
}
# wait_job_phase PHASE: waits (10 s) for one job in PHASE; prints its path.
wait_job_phase() {
        local i j
        for ((i = 0; i < 100; i++)); do
                for j in $(job_paths); do
                        [[ $(prop "$j" org.warren1.Job Phase 2>/dev/null) == "$1" ]] && { echo "$j"; return 0; }
                done
                sleep 0.1
        done
        return 1
}
count_jobs() { job_paths | wc -l; }
jobs_are() { [[ $(count_jobs) == "$1" ]]; }
# gcall PATH METHOD ARGS...: gdbus call (prints the D-Bus error name on failure).
gcall() { local p=$1 m=$2; shift 2; gdbus call --system --dest org.warren1 --object-path "$p" --method "$m" "$@"; }

# job_trace NAME ACTION TEMPLATE_ARG...: CreateContainer(NAME, "download", ARGS)
# through GDBus, recording the job's PropertiesChanged until JobRemoved.
# ACTION: none, or cancel (Job.Cancel once Phase is rootfs). Prints
# result=, monotonic=, last_progress=, max_per_second=, phases=, error=,
# message=.
job_trace() {
        /usr/bin/python3 - "$@" <<'PY'
import sys, time
from gi.repository import Gio, GLib
name, action, args = sys.argv[1], sys.argv[2], sys.argv[3:]
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
loop = GLib.MainLoop()
st = {"path": None, "events": [], "result": None, "phases": [], "error": "", "message": "", "canceled": False,
      "early": []}

def props(conn, sender, path, iface, member, params):
    if st["path"] is None:
        st["early"].append((time.monotonic(), path, params))
        return
    handle(time.monotonic(), path, params)

def handle(t, path, params):
    if path != st["path"]:
        return
    _, changed, _ = params.unpack()
    if "Progress" in changed:
        st["events"].append((t, changed["Progress"]))
    ph = changed.get("Phase")
    if ph and (not st["phases"] or st["phases"][-1] != ph):
        st["phases"].append(ph)
    if "Error" in changed:
        st["error"] = changed["Error"]
    if "Message" in changed:
        st["message"] = changed["Message"]
    if action == "cancel" and ph == "rootfs" and not st["canceled"]:
        st["canceled"] = True
        bus.call_sync("org.warren1", path, "org.warren1.Job", "Cancel", None, None, 0, 10000, None)

def removed(conn, sender, path, iface, member, params):
    _, jpath, result = params.unpack()
    if jpath == st["path"]:
        st["result"] = result
        loop.quit()

bus.signal_subscribe("org.warren1", "org.freedesktop.DBus.Properties", "PropertiesChanged", None,
                     "org.warren1.Job", Gio.DBusSignalFlags.NONE, props)
bus.signal_subscribe("org.warren1", "org.warren1.Manager", "JobRemoved", "/org/warren1", None,
                     Gio.DBusSignalFlags.NONE, removed)
try:
    reply = bus.call_sync("org.warren1", "/org/warren1", "org.warren1.Manager", "CreateContainer",
                          GLib.Variant("(ssasa{sv})", (name, "download", args, {})),
                          GLib.VariantType("(oo)"), 0, 60000, None)
except GLib.Error as e:
    print("result=call-failed")
    print("error=" + e.message)
    sys.exit(0)
st["path"] = reply.unpack()[1]
for t, p, params in st["early"]:
    handle(t, p, params)
GLib.timeout_add_seconds(120, loop.quit)
loop.run()
vals = [v for _, v in st["events"]]
times = [t for t, _ in st["events"]]
per_sec = max([sum(1 for u in times if t <= u < t + 1.0) for t in times] or [0])
print("result=%s" % st["result"])
print("monotonic=%s" % ("yes" if all(a <= b for a, b in zip(vals, vals[1:])) else "no: %s" % vals))
print("last_progress=%s" % (vals[-1] if vals else "none"))
print("max_per_second=%d" % per_sec)
print("phases=%s" % ",".join(st["phases"]))
order = ["index", "meta", "rootfs", "unpack", "configure", "done"]
idx = [order.index(p) if p in order else -1 for p in st["phases"]]
print("phase_order=%s" % ("yes" if idx and idx[-1] == 5 and -1 not in idx and idx == sorted(set(idx)) else "no"))
print("error=%s" % st["error"])
print("message=%s" % st["message"].replace("\n", " | "))
PY
}
field() { sed -n "s/^$1=//p" <<<"$2"; }

server_start S1 "$FIX/server"

# --- create from the fixture, start, hostname ---------------------------------------
t_ok "create img1 from the fixture server" create_dl img1 "$S1"
t_match "the newest build was used, whatever its line order (create-message)" "$T_OUT" \
        "busybox test image, build $NEWEST"
t_match "without a terminal, a line per phase" "$T_ERR" 'Downloading the image index\.\.\.'
t_eq "one rootfs download, of the newest build" "$(rootfs_gets "$S1_LOG")/$(rootfs_gets "$S1_LOG" "$NEWEST")" 1/1
t_match "the index fell back from index-system.7 to index-system" "$(cat "$S1_LOG")" \
        $'GET\t/meta/1.0/index-system.7\t[^\n]*\nGET\t/meta/1.0/index-system\twarren/'
t_match "User-Agent names warren and compat level 7" "$(head -n1 "$S1_LOG")" $'\twarren/[^ ]+ compat:7$'
t_eq "the container is owned by root" "$(prop /org/warren1/container/img1 org.warren1.Container OwnerUID)" 0
t_eq "lxc.uts.name" "$(warrenctl config get img1 lxc.uts.name)" img1
t_eq "lxc.rootfs.path" "$(warrenctl config get img1 lxc.rootfs.path)" "dir:$STORE/img1/rootfs"
t_eq "the image config's include resolves to warren's data dir" "$(warrenctl config get img1 lxc.include)" \
        "$WARREN_SRC/data/common.conf"
t_eq "the image's config is kept (lxc.signal.halt)" "$(warrenctl config get img1 lxc.signal.halt)" SIGUSR2
t_eq "default.conf's NIC is kept" "$(warrenctl config get img1 lxc.net.0.link)" warrenbr0
t_match "default.conf's hwaddr placeholders are filled" "$(warrenctl config get img1 lxc.net.0.hwaddr)" \
        '^10:66:6a(:[0-9a-f]{2}){3}$'
t_match "the config is laid out as lxc-download writes it" "$(cat "$STORE/img1/config")" \
        '# Distribution configuration.*# Container specific configuration.*# Network configuration'
t_eq "templates substituted LXC_NAME in /etc/hostname" "$(cat "$STORE/img1/rootfs/etc/hostname")" img1
t_eq "files not listed in templates are untouched" "$(cat "$STORE/img1/rootfs/etc/motd")" "not a template: LXC_NAME"
t_eq "numeric owners kept (home/user is 1000)" "$(stat -c %u:%g "$STORE/img1/rootfs/home/user")" 1000:1000
t_eq "device nodes of a privileged container are created" "$(stat -c %F "$STORE/img1/rootfs/dev/null")" \
        "character special file"
t_ok "start img1" warrenctl start img1
t_ok "attach works" warrenctl attach img1 -- cat /etc/hostname
t_eq "its /etc/hostname holds its name" "$T_OUT" img1
t_ok "stop img1" warrenctl stop img1 -k

# --- the cache --------------------------------------------------------------------------
t_ok "create img2: the same image again" create_dl img2 "$S1"
t_eq "no second rootfs download (cache hit)" "$(rootfs_gets "$S1_LOG")" 1
t_match "the create-message again" "$T_OUT" "build $NEWEST"
t_ok "image list" warrenctl image list
t_match "lists the cached build" "$T_OUT" "busybox +1\\.35 +$ARCH +default +$NEWEST "
t_ok "ListImages" "${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager ListImages
t_match "ListImages returns a(ssssstto) with the build and its object" "$T_OUT" \
        "^a\\(ssssstto\\) 1 \"busybox\" \"1.35\" \"$ARCH\" \"default\" \"$NEWEST\" [0-9]+ [0-9]+ \"/org/warren1/image/[A-Za-z0-9_]+\"$"
IMG_PATH=$(sed 's/.*"\(\/org\/warren1\/image\/[A-Za-z0-9_]*\)"$/\1/' <<<"$T_OUT")
t_eq "Image.Build" "$(prop "$IMG_PATH" org.warren1.Image Build)" "$NEWEST"
t_eq "Image.Path" "$(prop "$IMG_PATH" org.warren1.Image Path)" "$CACHE/busybox/1.35/$ARCH/default/$NEWEST"
t_ok "Image.Size is the files' size" test "$(prop "$IMG_PATH" org.warren1.Image Size)" -gt \
        "$(stat -c %s "$IMG_DIR/rootfs.tar.xz")"
t_ok "Image introspection matches dbus/org.warren1.Image.xml" \
        /usr/bin/python3 "$WARREN_SRC/tests/integration/helpers/introspect-diff.py" \
        "$WARREN_SRC/dbus/org.warren1.Image.xml" "$IMG_PATH"
t_ok "Manager introspection matches dbus/org.warren1.Manager.xml" \
        /usr/bin/python3 "$WARREN_SRC/tests/integration/helpers/introspect-diff.py" \
        "$WARREN_SRC/dbus/org.warren1.Manager.xml" /org/warren1
t_ok "the image object is in the object tree" "${BUS[@]}" tree --list org.warren1
t_match "tree lists it" "$T_OUT" "$IMG_PATH"

# --- progress ------------------------------------------------------------------------------
out=$(job_trace prog1 none -d busybox -r 1.35 --server "$S1" --flush-cache)
t_eq "a create with --flush-cache is done" "$(field result "$out")" done
t_eq "Progress never decreases" "$(field monotonic "$out")" yes
t_eq "Progress ends at 1.0" "$(field last_progress "$out")" 1.0
t_ok "at most ~5 progress signals a second ($(field max_per_second "$out"))" test "$(field max_per_second "$out")" -le 6
t_eq "phases seen in order, ending with done ($(field phases "$out"))" "$(field phase_order "$out")" yes
t_match "Message is the create-message" "$(field message "$out")" "build $NEWEST"
t_eq "--flush-cache downloaded again" "$(rootfs_gets "$S1_LOG")" 2

# --- remote listing ---------------------------------------------------------------------------
t_ok "images --remote" warrenctl images --remote --server "$S1"
t_match "lists the newest busybox 1.35 build" "$T_OUT" "busybox +1\\.35 +$ARCH +default +$NEWEST"
t_match "and the other products" "$T_OUT" "alpine +3\\.19.*debian +bookworm"
t_match "with their variants" "$T_OUT" "busybox +1\\.35 +$ARCH +tiny +20240401_00:00"
t_ok "ListRemoteImages" "${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager ListRemoteImages 'sa{sv}' "$S1" 0
t_match "a(sssss), one row per image" "$T_OUT" "^a\\(sssss\\) 6 "
t_fail_match "a non-loopback http server is refused" "192\\.0\\.2\\.1" \
        warrenctl images --remote --server http://192.0.2.1
t_fail_match "an ftp server is InvalidArgs" "InvalidArgs|ftp://x" \
        gcall /org/warren1 org.warren1.Manager.ListRemoteImages "'ftp://x'" '{}'
server_start S404 "$FIX/nonexistent-root"
t_fail_match "a server without an index is DownloadFailed" "DownloadFailed.*404" \
        gcall /org/warren1 org.warren1.Manager.ListRemoteImages "'$S404'" '{}'
t_fail_match "--server means nothing for list" "means nothing" warrenctl list --server "$S1"

# --- verification and hostile servers ------------------------------------------------------
fault_case() { # fault_case NAME DESC REGEX SERVER_ARGS... -- CREATE_ARGS...
        local name=$1 desc=$2 re=$3 sargs=() cargs=()
        shift 3
        while (($#)) && [[ $1 != -- ]]; do sargs+=("$1"); shift; done
        (($#)) && shift
        cargs=("$@")
        server_start SF "$FIX/server" "${sargs[@]}"
        t_fail_match "$desc" "$re" create_dl "$name" "$SF" --flush-cache "${cargs[@]}"
        t_ok "$name: nothing left behind" nothing_left "$name"
        t_eq "$name: nothing cached" "$(cached_builds)" ""
}
HEX='[0-9a-f]{64}'
fault_case f-corrupt "a corrupted rootfs fails verification, naming the file and both hashes" \
        "rootfs\\.tar\\.xz.*$HEX.*$HEX.*VerificationFailed" --fault corrupt-rootfs
fault_case f-nosum "a rootfs missing from SHA256SUMS fails verification" \
        "rootfs\\.tar\\.xz.*VerificationFailed" --fault missing-sums-entry
fault_case f-trunc "a truncated download fails" "rootfs\\.tar\\.xz.*DownloadFailed" --fault truncate-rootfs
fault_case f-404 "a 404 fails, naming the status" "404.*DownloadFailed" --fault 404-rootfs
fault_case f-stall "a server that stalls times out" "rootfs\\.tar\\.xz.*DownloadFailed" \
        --fault stall-rootfs --stall-seconds 60 -- --timeout 2
fault_case f-big "an oversized file is cut off at the limit" "rootfs\\.tar\\.xz.*(large|limit|size).*DownloadFailed" \
        --fault oversize-rootfs --oversize-bytes 8388608 -- --max-size 2M
fault_case f-noconf "an image without a config for the mode is refused" "[Nn]o config" --fault no-config
fault_case f-ext "a redirect off loopback over http is refused" "192\\.0\\.2\\.1" --fault redirect-external
fault_case f-dotdot "a tarball entry with .. is refused" "\\.\\./\\.\\./escape-dotdot" --fault evil-dotdot
fault_case f-abs "a tarball entry with an absolute path is refused" "/tmp/escape-absolute" --fault evil-absolute
fault_case f-link "a write through a symlink is refused" "escape-symlink|link" --fault evil-symlink
fault_case f-hard "a hardlink out of the tree is refused" "passwd" --fault evil-hardlink
for f in /tmp/escape-absolute /tmp/escape-symlink /var/lib/warren/escape-dotdot "$STORE/escape-dotdot" \
        "$CACHE/escape-dotdot"; do
        t_fail "nothing escaped to $f" test -e "$f"
done
t_eq "the /etc/passwd hardlink target is unchanged" "$(sha256sum </etc/passwd)" "$PASSWD_SUM"

server_start SG "$FIX/server" --fault garbage-index
t_ok "an index with garbage lines: they are skipped" create_dl g-index "$SG" --flush-cache
t_match "the newest valid build is used" "$T_OUT" "build $NEWEST"
t_fail "no garbage line's build was requested" grep -qE '2999|3999|4999|5999|empty-build|etc/' "$SG_LOG"
mkdir -p "$FIX/garbage/meta/1.0"
printf 'garbage\n;;;;;\nbusybox;1.35\nbusybox;1.35;%s;default;29991231_23:59;/images/../../etc/\n' "$ARCH" \
        >"$FIX/garbage/meta/1.0/index-system"
server_start SGO "$FIX/garbage"
t_fail_match "an index of garbage only: NoSuchImage" "No image busybox 1\\.35.*NoSuchImage" \
        create_dl g-only "$SGO" --flush-cache
t_ok "g-only: nothing left behind" nothing_left g-only
t_fail_match "an unknown image: NoSuchImage" "No image nosuch 1.*NoSuchImage" \
        warrenctl create g-none -t download -- -d nosuch -r 1 --server "$S1"
t_ok "g-none: nothing left behind" nothing_left g-none
t_fail_match "a server with no index: DownloadFailed" "index-system.*404.*DownloadFailed" create_dl g-404 "$S404"
t_ok "g-404: nothing left behind" nothing_left g-404

# --- cancel ------------------------------------------------------------------------------------
server_start SS "$FIX/server" --fault stall-rootfs --stall-seconds 300
out=$(job_trace c-bus cancel -d busybox -r 1.35 --server "$SS" --flush-cache)
t_eq "Job.Cancel mid-download: JobRemoved says canceled" "$(field result "$out")" canceled
t_ok "c-bus: nothing left behind" nothing_left c-bus
t_eq "c-bus: nothing cached" "$(cached_builds)" ""

before=$(warrend_pid)
warrenctl create c-int -t download -- -d busybox -r 1.35 --server "$SS" --flush-cache >"$TMPDIR/c-int.out" 2>&1 &
cpid=$!
job=$(wait_job_phase rootfs)
t_match "a create waits in the rootfs download ($job)" "$job" '^/org/warren1/job/[0-9]+$'
t_ok "Job introspection matches dbus/org.warren1.Job.xml" \
        /usr/bin/python3 "$WARREN_SRC/tests/integration/helpers/introspect-diff.py" \
        "$WARREN_SRC/dbus/org.warren1.Job.xml" "$job"
t_eq "Job.Type" "$(prop "$job" org.warren1.Job Type)" create
t_eq "Job.Target" "$(prop "$job" org.warren1.Job Target)" c-int
job_bytes() { [[ $(prop "$job" org.warren1.Job BytesDone) -gt 0 && $(prop "$job" org.warren1.Job BytesTotal) == "$1" ]]; }
wait_for "BytesDone moves, BytesTotal is the rootfs' size" 10 job_bytes "$(stat -c %s "$IMG_DIR/rootfs.tar.xz")"
t_fail_match "another create of the same name meanwhile: AlreadyExists" "AlreadyExists|already exists" \
        create_dl c-int "$S1"
t_fail_match "CreateContainer of a name in creation names it" "c-int" \
        gcall /org/warren1 org.warren1.Manager.CreateContainer "'c-int'" "'busybox'" '[]' '{}'
kill -INT "$cpid"
wait "$cpid"
st=$?
t_ok "Ctrl-C: warrenctl fails (status $st)" test "$st" -ne 0
t_match "and says the job was canceled" "$(cat "$TMPDIR/c-int.out")" "Canceled: create container 'c-int'"
t_ok "c-int: nothing left behind" nothing_left c-int
t_eq "warrend is the same process" "$(warrend_pid)" "$before"

# --- concurrency ---------------------------------------------------------------------------------
pids=()
for i in 1 2 3 4; do
        warrenctl create "q$i" -t download -- -d busybox -r 1.35 --server "$SS" --flush-cache >/dev/null 2>&1 &
        pids+=("$!")
done
wait_for "four jobs run" 20 jobs_are 4
t_fail_match "a fifth is QuotaExceeded, naming the limit" "QuotaExceeded|limit is 4" create_dl q5 "$S1"
t_ok "q5: nothing left behind by the refusal" test ! -e "$STORE/q5"
t_fail_match "PullImage is capped too" "limit is 4" warrenctl image pull -- -d busybox -r 1.35 --server "$S1"
# Long enough for warrend's idle exit (30 s) had it not held on for the jobs.
before=$(warrend_pid)
sleep 35
t_eq "warrend does not exit on idle while jobs run" "$(warrend_pid)" "$before"
t_eq "the four jobs still run" "$(count_jobs)" 4
kill -INT "${pids[@]}"
wait "${pids[@]}"
for i in 1 2 3 4; do
        t_ok "q$i: nothing left after Ctrl-C" nothing_left "q$i"
done

server_start S2 "$FIX/server"
create_dl s1 "$S2" >"$TMPDIR/s1.out" 2>&1 &
p1=$!
create_dl s2 "$S2" >"$TMPDIR/s2.out" 2>&1 &
p2=$!
wait "$p1"
r1=$?
wait "$p2"
r2=$?
t_eq "two creates of one image at once both succeed" "$r1/$r2" 0/0
t_eq "they share one download" "$(rootfs_gets "$S2_LOG")" 1
t_ok "s1 and s2 exist" test -d "$STORE/s1/rootfs/bin" -a -d "$STORE/s2/rootfs/bin"

# --- image pull / remove ----------------------------------------------------------------------
IMG_PATH=$("${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager ListImages |
        sed -n 's/.*"\(\/org\/warren1\/image\/[A-Za-z0-9_]*\)"$/\1/p')
warrenctl create busy1 -t download -- -d busybox -r 1.35 --server "$SS" --flush-cache >/dev/null 2>&1 &
cpid=$!
wait_job_phase rootfs >/dev/null
t_fail_match "RemoveImage while a job uses the image: Busy" "Busy" \
        gcall /org/warren1 org.warren1.Manager.RemoveImage "'$IMG_PATH'"
kill -INT "$cpid"
wait "$cpid"
t_ok "image pull" warrenctl image pull -- -d busybox -r 1.35 --server "$S1"
t_match "pull prints the create-message" "$T_OUT" "build $NEWEST"
t_ok "image list after the pull" warrenctl image list --json
t_match "the pulled build is listed (JSON)" "$T_OUT" "\"build\" ?: \"$NEWEST\""
/usr/bin/python3 -c 'import json, sys; json.load(sys.stdin)' <<<"$T_OUT" && t_pass "image list --json is valid JSON" ||
        t_not "image list --json is valid JSON" "$T_OUT"
t_ok "image remove" warrenctl image remove "busybox/1.35/$ARCH/default"
t_eq "the cache is empty" "$(cached_builds)" ""
t_ok "image list is empty" warrenctl image list
t_eq "only the header is left" "$(wc -l <<<"$T_OUT")" 1
t_fail_match "removing it again names what is missing" "No cached image matches 'busybox/1.35'" \
        warrenctl image remove busybox/1.35
t_fail_match "RemoveImage of a build that is not cached: NoSuchImage" "NoSuchImage" \
        gcall /org/warren1 org.warren1.Manager.RemoveImage "'$IMG_PATH'"
t_fail_match "RemoveImage of a path that is no image: NoSuchImage" "NoSuchImage" \
        gcall /org/warren1 org.warren1.Manager.RemoveImage "'/org/warren1/image/x'"
t_fail_match "PullImage garbage is InvalidArgs naming the argument" "InvalidArgs.*'--bogus'" \
        gcall /org/warren1 org.warren1.Manager.PullImage "['-d', 'busybox', '-r', '1.35', '--bogus']" '{}'

# --- authorization ----------------------------------------------------------------------------------
ALICE=$(id -u alice)
server_start SA "$FIX/server"
t_fail_match "alice without grants may not create" "org\\.warren1\\.create" \
        as_user alice warrenctl create a1 -t download -- -d busybox -r 1.35 --server "$SA"
grant alice warren-create
t_fail_match "alice with create but not pull-image is denied, naming the action" "org\\.warren1\\.pull-image" \
        as_user alice warrenctl create a1 -t download -- -d busybox -r 1.35 --server "$SA"
t_eq "nothing was downloaded for her" "$(wc -l <"$SA_LOG")" 0
t_fail_match "nor may she pull" "org\\.warren1\\.pull-image" \
        as_user alice warrenctl image pull -- -d busybox -r 1.35 --server "$SA"
t_fail_match "nor remove" "org\\.warren1\\.pull-image" as_user alice warrenctl image remove /org/warren1/image/x_2fy_2fz_2fw_2fv
t_fail_match "the local template is root's only" "only root" \
        as_user alice warrenctl create a2 -t local -- "$IMG_DIR/rootfs.tar.xz"
grant alice warren-pull
t_fail_match "--no-verify needs create-privileged" "org\\.warren1\\.create-privileged" \
        as_user alice warrenctl create a3 -t download -- -d busybox -r 1.35 --server "$SA" --no-verify
t_ok "a3: nothing left" nothing_left a3
t_ok "with pull-image alice creates a1" \
        as_user alice warrenctl create a1 -t download -- -d busybox -r 1.35 --server "$SA"
t_eq "a1 is alice's" "$(prop /org/warren1/container/a1 org.warren1.Container OwnerUID)" "$ALICE"
t_eq "a1's uid map is alice's subuid range" "$(grep -c '^lxc.idmap = u 0 200000 65536$' "$STORE/a1/config")" 1
t_eq "a1's gid map is alice's subgid range" "$(grep -c '^lxc.idmap = g 0 200000 65536$' "$STORE/a1/config")" 1
t_match "the user-mode config was used (userns.conf)" "$(cat "$STORE/a1/config")" \
        "lxc.include = $WARREN_SRC/data/userns.conf"
t_eq "the rootfs belongs to the mapped root" "$(stat -c %u:%g "$STORE/a1/rootfs" "$STORE/a1/rootfs/etc/passwd" | sort -u)" \
        200000:200000
t_eq "container uid 1000 is host uid 201000" "$(stat -c %u:%g "$STORE/a1/rootfs/home/user")" 201000:201000
t_fail "excludes-user: no device nodes unpacked" test -e "$STORE/a1/rootfs/dev/null"
t_eq "no usernet quota: loopback only" "$(grep '^lxc.net' "$STORE/a1/config")" "lxc.net.0.type = empty"
out=$(gcall "/org/warren1/container/a1" org.freedesktop.DBus.Properties.Get org.warren1.Container Unprivileged)
t_match "Unprivileged is true" "$out" true
t_ok "root may destroy a1" warrenctl destroy a1
server_start SD "$FIX/server" --fault evil-devices
t_ok "alice: an image with device nodes" \
        as_user alice warrenctl create a4 -t download -- -d busybox -r 1.35 --server "$SD" --flush-cache
t_fail "no block device unpacked for an unprivileged container" test -e "$STORE/a4/rootfs/dev/sda"
t_fail "nor a char device" test -e "$STORE/a4/rootfs/dev/mem"
t_ok "root may destroy a4" warrenctl destroy a4
t_ok "root: the same image, privileged" create_dl r-dev "$SD"
t_eq "device nodes are created for a privileged container" "$(stat -c %F "$STORE/r-dev/rootfs/dev/sda")" \
        "block special file"
t_ok "destroy r-dev" warrenctl destroy r-dev
t_ok "drop the image with device nodes" warrenctl image remove busybox/1.35
revoke alice warren-create
revoke alice warren-pull

# --- garbage --------------------------------------------------------------------------------------
n_before_garbage=$(wc -l <"$S1_LOG")
garbage() { # garbage DESC REGEX TEMPLATE ARGS...
        local desc=$1 re=$2 tmpl=$3
        shift 3
        t_fail_match "$desc" "$re" warrenctl create gbg -t "$tmpl" -- "$@"
}
garbage "download without -d" "needs -d DIST and -r RELEASE \\(-d missing\\)" download -r 1.35
garbage "an unknown argument is named" "Invalid argument '--bogus' for template 'download': unknown" \
        download -d busybox -r 1.35 --bogus
garbage "a bad distribution is named" "\\.\\./x" download -d ../x -r 1.35
garbage "a missing value is named" "'-a'.*needs a value" download -d busybox -r 1.35 -a
garbage "an ftp server is named" "ftp://x" download -d busybox -r 1.35 --server ftp://x
garbage "http to a non-loopback host is refused" "http://192\\.0\\.2\\.1" download -d busybox -r 1.35 \
        --server http://192.0.2.1
garbage "--timeout 0" "Invalid argument '0'.*--timeout" download -d busybox -r 1.35 --timeout 0
garbage "--max-size 1X" "Invalid argument '1X'.*--max-size" download -d busybox -r 1.35 --max-size 1X
garbage "--list points to ListRemoteImages" "ListRemoteImages" download -d busybox -r 1.35 --list
garbage "local without a path" "needs the path of a rootfs tarball" local
garbage "local with a relative path" "'rel/x\\.tar' for template 'local': not an absolute path" local rel/x.tar
t_fail_match "garbage through the bus is InvalidArgs" "InvalidArgs.*'--bogus'" \
        gcall /org/warren1 org.warren1.Manager.CreateContainer "'gbg'" "'download'" "['--bogus']" '{}'
t_fail_match "a bad container name is InvalidName" "InvalidName" \
        gcall /org/warren1 org.warren1.Manager.CreateContainer "'../x'" "'download'" "['-d', 'busybox', '-r', '1.35']" '{}'
t_fail_match "a bad config item is InvalidConfig naming the key" "InvalidConfig.*lxc\\.bogus\\.key" \
        gcall /org/warren1 org.warren1.Manager.CreateContainer "'gbg'" "'download'" \
        "['-d', 'busybox', '-r', '1.35', '--server', '$S1']" "{'config': <[('lxc.bogus.key', '1')]>}"
t_ok "garbage left nothing" nothing_left gbg
t_eq "garbage made no request to the server" "$(wc -l <"$S1_LOG")" "$n_before_garbage"

# --- the local template -------------------------------------------------------------------------
t_ok "local: create from a rootfs tarball" warrenctl create loc1 -t local -- "$IMG_DIR/rootfs.tar.xz"
t_eq "local: lxc.uts.name" "$(warrenctl config get loc1 lxc.uts.name)" loc1
t_eq "local: the shared config is included" "$(warrenctl config get loc1 lxc.include)" "$WARREN_SRC/data/common.conf"
t_ok "local: the rootfs is there" test -x "$STORE/loc1/rootfs/bin/busybox"
t_ok "local with --metadata" warrenctl create loc2 -t local -- --fstree "$IMG_DIR/rootfs.tar.xz" \
        --metadata "$IMG_DIR/meta.tar.xz"
t_match "local: the metadata's create-message" "$T_OUT" "build $NEWEST"
t_eq "local: templates applied" "$(cat "$STORE/loc2/rootfs/etc/hostname")" loc2
t_ok "start loc2" warrenctl start loc2
t_ok "attach loc2" warrenctl attach loc2 -- cat /etc/hostname
t_eq "loc2's /etc/hostname holds its name" "$T_OUT" loc2
t_ok "stop loc2" warrenctl stop loc2 -k
/usr/bin/python3 - "$FIX/evil-local.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    ti = tarfile.TarInfo("../../escape-local")
    data = b"escaped\n"
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
PY
t_fail_match "local: a tarball with .. is refused" "\\.\\./\\.\\./escape-local" \
        warrenctl create loc3 -t local -- "$FIX/evil-local.tar"
t_ok "loc3: nothing left behind" nothing_left loc3
t_fail "nothing escaped" test -e /var/lib/warren/escape-local -o -e "$STORE/escape-local"
t_fail_match "local: a missing tarball is named" "$FIX/missing\\.tar" warrenctl create loc4 -t local -- "$FIX/missing.tar"
t_ok "loc4: nothing left behind" nothing_left loc4

for c in img1 img2 prog1 g-index s1 s2 loc1 loc2; do
        warrenctl destroy "$c" >/dev/null 2>&1
done
servers_stop
finish
