#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 6: the download and local templates against the fixture image
# server (started here, on 127.0.0.1 inside the sandbox's network
# namespace): create, start and stop (every container made from an image,
# as root and as alice, issue 14), the cache (a second create downloads
# no image, though it asks the index), the newest build whatever its line
# order, remotes (issue 12: remotes.conf, the fixture signed with a key
# made here, the cache keyed by server), verification, hostile servers and
# tarballs leaving nothing behind, cancel, progress, concurrency, image
# list/pull/remove, remote listing, authorization and garbage arguments.
# The attacks of one user on another are in test-81-abuse-images.sh.
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

# A throwaway signing key for the fixture remote; its public key is the
# remote's keyring (root's, 0644).
GNUPGHOME_SIGN=$TMPDIR/gnupg
KEYRING=/etc/warren/keyrings/fixture.gpg
mkdir -p -m 0700 "$GNUPGHOME_SIGN" /etc/warren/keyrings
printf '%s\n' '%no-protection' 'Key-Type: eddsa' 'Key-Curve: ed25519' 'Name-Real: warren fixture' \
        'Name-Email: fixture@warren.invalid' 'Expire-Date: 0' '%commit' |
        gpg --homedir "$GNUPGHOME_SIGN" --batch --quiet --gen-key 2>/dev/null || bail_out "gpg --gen-key failed"
gpg --homedir "$GNUPGHOME_SIGN" --batch --quiet --export >"$KEYRING" && chmod 0644 "$KEYRING" ||
        bail_out "gpg --export failed"

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
        gpgconf --homedir "$GNUPGHOME_SIGN" --kill all 2>/dev/null
}

# The cache directory name of a server URL (percent-escaped, as warrend does).
esc_url() { /usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="~+"))' "$1"; }
# remotes REMOTE-LINES...: writes /etc/warren/remotes.conf (root's, 0644).
remotes() { printf '%s\n' "$@" >/etc/warren/remotes.conf && chmod 0644 /etc/warren/remotes.conf; }

# start_stop NAME [USER]: NAME (as USER) starts, runs its init, answers an
# attach with its own name in /etc/hostname, and stops cleanly.
start_stop() {
        local name=$1 user=${2:-} run=()
        [[ -n $user ]] && run=(as_user "$user")
        t_ok "$name${user:+ ($user)}: starts" "${run[@]}" warrenctl start "$name"
        t_eq "$name: RUNNING" "$(warrenctl state "$name")" RUNNING
        t_ok "$name: attach" "${run[@]}" warrenctl attach "$name" --no-pty -- cat /etc/hostname
        t_eq "$name: its /etc/hostname holds its name" "$T_OUT" "$name"
        t_ok "$name: stops" "${run[@]}" warrenctl stop "$name" --timeout=20
        t_eq "$name: STOPPED" "$(warrenctl state "$name")" STOPPED
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
cached_builds() { find "$CACHE" -mindepth 7 -maxdepth 7 -type d 2>/dev/null | sort; }
# Builds cached from one server (URL) in the shared partition.
cached_from() { find "$CACHE/shared/$(esc_url "$1")" -mindepth 5 -maxdepth 5 -type d 2>/dev/null | sort; }
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
# has_controls TEXT: TEXT holds a control character other than newline and tab.
has_controls() { printf '%s' "$1" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]'; }

server_start S1 "$FIX/server" --sign-gnupghome "$GNUPGHOME_SIGN"
remotes "default = fixture" "[images]" "url = https://images.linuxcontainers.org" "users = yes" \
        "[fixture]" "url = $S1" "keyring = $KEYRING" "users = yes"

# --- create from the fixture remote, start, hostname -------------------------------
t_ok "create img1 from the fixture remote, by its name" create_dl img1 fixture
t_match "the newest build was used, whatever its line order (create-message)" "$T_OUT" \
        "busybox test image, build $NEWEST"
t_match "without a terminal, a line per phase" "$T_ERR" 'Downloading the image index\.\.\.'
t_eq "one rootfs download, of the newest build" "$(rootfs_gets "$S1_LOG")/$(rootfs_gets "$S1_LOG" "$NEWEST")" 1/1
t_match "the index fell back from index-system.7 to index-system" "$(cat "$S1_LOG")" \
        $'GET\t/meta/1.0/index-system.7\t[^\n]*\nGET\t/meta/1.0/index-system\twarren/'
t_match "User-Agent names warren and compat level 7" "$(head -n1 "$S1_LOG")" $'\twarren/[^ ]+ compat:7$'
t_match "the index's signature was fetched" "$(cat "$S1_LOG")" $'GET\t/meta/1.0/index-system.asc\t'
t_match "and SHA256SUMS'" "$(cat "$S1_LOG")" $'GET\t/images/busybox/1.35/[^/]+/default/'"$NEWEST"$'/SHA256SUMS.asc\t'
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
start_stop img1

# --- the cache --------------------------------------------------------------------------
n_index=$(grep -c $'^GET\t/meta/1.0/index-system\t' "$S1_LOG")
t_ok "create img2: the same image again, by the remote's URL" create_dl img2 "$S1/"
t_eq "no second rootfs download (cache hit)" "$(rootfs_gets "$S1_LOG")" 1
t_eq "but the server's index was asked again" "$(grep -c $'^GET\t/meta/1.0/index-system\t' "$S1_LOG")" $((n_index + 1))
t_match "the create-message again" "$T_OUT" "build $NEWEST"
start_stop img2
t_ok "create img3 without --server: the default remote" warrenctl create img3 -t download -- -d busybox -r 1.35
t_eq "img3: still one rootfs download" "$(rootfs_gets "$S1_LOG")" 1
start_stop img3
t_ok "image list" warrenctl image list
t_match "lists the cached build and its remote" "$T_OUT" "busybox +1\\.35 +$ARCH +default +$NEWEST .* fixture"
t_ok "ListImages" "${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager ListImages
t_match "ListImages returns a(ssssstto) with the build and its object" "$T_OUT" \
        "^a\\(ssssstto\\) 1 \"busybox\" \"1.35\" \"$ARCH\" \"default\" \"$NEWEST\" [0-9]+ [0-9]+ \"/org/warren1/image/[A-Za-z0-9_]+\"$"
IMG_PATH=$(sed 's/.*"\(\/org\/warren1\/image\/[A-Za-z0-9_]*\)"$/\1/' <<<"$T_OUT")
t_eq "Image.Build" "$(prop "$IMG_PATH" org.warren1.Image Build)" "$NEWEST"
t_eq "Image.Path: the shared partition, keyed by the server" "$(prop "$IMG_PATH" org.warren1.Image Path)" \
        "$CACHE/shared/$(esc_url "$S1")/busybox/1.35/$ARCH/default/$NEWEST"
t_eq "Image.Server" "$(prop "$IMG_PATH" org.warren1.Image Server)" "$S1"
t_eq "Image.Remote" "$(prop "$IMG_PATH" org.warren1.Image Remote)" fixture
t_eq "Image.OwnerUID: the shared cache" "$(prop "$IMG_PATH" org.warren1.Image OwnerUID)" 0
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
start_stop prog1

# --- text from a server reaches terminals and Job.Message escaped (issue 12 §6) ---------------
server_start SE "$FIX/server" --fault evil-message
out=$(job_trace e-msg none -d busybox -r 1.35 --server "$SE")
t_eq "a create-message with terminal controls: the create is done" "$(field result "$out")" done
t_eq "Job.Message has them escaped (and the bytes that are not UTF-8)" "$(field message "$out")" \
        'evil create-message \x1b]0;pwned\x07\x1b[2J\x0dover\xc2\x9b31mred\xff\xfe end | '
t_ok "warrenctl prints the create-message" create_dl e-msg2 "$SE"
t_match "escaped" "$T_OUT" 'create-message \\x1b\]0;pwned\\x07'
t_fail "with no terminal control left in it" has_controls "$T_OUT$T_ERR"
start_stop e-msg
server_start SN "$FIX/server" --fault evil-escape-name
t_fail_match "a hostile tar entry name is refused, named escaped" \
        "Refusing archive entry '\\.\\./\\\\x1b\\[2J\\\\x0descape'" create_dl e-name "$SN"
t_fail "and the error has no terminal control in it" has_controls "$T_ERR"
t_ok "e-name: nothing left behind" nothing_left e-name

# --- remote listing ---------------------------------------------------------------------------
t_ok "images --remote, by the remote's name" warrenctl images --remote --server fixture
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
        t_eq "$name: nothing cached from that server" "$(cached_from "$SF")" ""
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

# --- signatures: a remote with a keyring, even for root --------------------------------
# sig_case NAME DESC REGEX SERVER_ARGS...: the server listed as remote "signed"
# with the fixture's keyring; root's create is refused, nothing is left.
sig_case() {
        local name=$1 desc=$2 re=$3
        shift 3
        server_start SV "$FIX/server" "$@"
        remotes "default = fixture" "[fixture]" "url = $S1" "keyring = $KEYRING" "users = yes" \
                "[signed]" "url = $SV" "keyring = $KEYRING" "users = yes"
        t_fail_match "$desc" "$re" create_dl "$name" signed
        t_ok "$name: nothing left behind" nothing_left "$name"
        t_eq "$name: nothing cached from that server" "$(cached_from "$SV")" ""
}
sig_case v-unsigned "root: an unsigned image from a remote with a keyring is refused, naming the file" \
        "Verification of 'index-system' failed: it is not signed.*VerificationFailed"
sig_case v-tamper "root: a file changed after signing is refused" \
        "Verification of 'SHA256SUMS' failed: signature Bad signature.*VerificationFailed" \
        --sign-gnupghome "$GNUPGHOME_SIGN" --fault tamper-signed
sig_case v-files "root: signed index but unsigned files are refused" \
        "Verification of 'meta\\.tar\\.xz' failed: it is not signed.*VerificationFailed" \
        --sign-gnupghome "$GNUPGHOME_SIGN" --sign-what sums --fault no-sums
server_start SV "$FIX/server" --sign-gnupghome "$GNUPGHOME_SIGN" --sign-what files --fault no-sums
remotes "default = fixture" "[fixture]" "url = $S1" "keyring = $KEYRING" "users = yes" \
        "[signed]" "url = $SV" "keyring = $KEYRING" "users = yes"
t_ok "each file signed, no SHA256SUMS (LXC's images): accepted" create_dl v-each signed
t_match "v-each: each file's signature was checked" "$(cat "$SV_LOG")" $'rootfs.tar.xz.asc\t'
start_stop v-each
server_start SU "$FIX/server"
remotes "default = fixture" "[fixture]" "url = $S1" "keyring = $KEYRING" "users = yes" \
        "[signed]" "url = $SU" "keyring = $KEYRING" "users = yes"
t_fail_match "an unsigned server listed with a keyring is refused" "not signed" create_dl v-nover signed
t_ok "--no-verify (root): it is accepted" create_dl v-nover signed --no-verify
start_stop v-nover
t_fail_match "a remote whose keyring is missing is refused, naming it" "keyrings/missing\\.gpg" \
        bash -c "printf '%s\n' '[fixture]' 'url = $S1' 'keyring = /etc/warren/keyrings/missing.gpg' \
                >/etc/warren/remotes.conf && warrenctl create v-nokey -t download -- -d busybox -r 1.35 --server fixture"
t_ok "v-nokey: nothing left behind" nothing_left v-nokey
chmod 0666 /etc/warren/remotes.conf
t_fail_match "a remotes.conf anyone may write is refused" "remotes\\.conf.*mode 0666" create_dl v-mode fixture
t_fail_match "as InvalidConfig" "InvalidConfig.*remotes\\.conf.*mode 0666" \
        gcall /org/warren1 org.warren1.Manager.PullImage "['-d', 'busybox', '-r', '1.35']" '{}'
t_ok "v-mode: nothing left" nothing_left v-mode
remotes "default = fixture" "[images]" "url = https://images.linuxcontainers.org" "users = yes" \
        "[fixture]" "url = $S1" "keyring = $KEYRING" "users = yes"

server_start SG "$FIX/server" --fault garbage-index
t_ok "an index with garbage lines: they are skipped" create_dl g-index "$SG" --flush-cache
t_match "the newest valid build is used" "$T_OUT" "build $NEWEST"
start_stop g-index
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
t_eq "c-bus: nothing cached" "$(cached_from "$SS")" ""

before=$(warrend_pid)
warrenctl create c-int -t download -- -d busybox -r 1.35 --server "$SS" --flush-cache >"$TMPDIR/c-int.out" 2>&1 &
cpid=$!
job=$(wait_job_phase rootfs)
t_match "a create waits in the rootfs download ($job)" "$job" '^/org/warren1/job/[0-9]+$'
# The download runs in warren-worker, exec'd (not a fork of warrend), with
# what the forked child had: the rootfs capabilities only, no_new_privs,
# its own process group, nothing of warrend's open but stdio.
wpid=$(pgrep -x warren-worker)
t_match "one worker runs the job ($wpid)" "$wpid" '^[0-9]+$'
t_eq "it is warrend's child" "$(awk '/^PPid:/ {print $2}' "/proc/$wpid/status")" "$before"
t_eq "it is the configured binary, exec'd" "$(readlink -f "/proc/$wpid/exe")" \
        "$(readlink -f "$WARREN_BUILD/service/warren-worker")"
t_eq "as 'warren-worker image-pull'" "$(tr '\0' ' ' <"/proc/$wpid/cmdline")" "warren-worker image-pull "
t_eq "leading its own process group" "$(ps -o pgid= -p "$wpid" | tr -d ' ')" "$wpid"
# CAP_CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, MKNOD, SETFCAP.
t_eq "with the rootfs capabilities only" "$(awk '/^Cap(Eff|Prm|Bnd):/ {printf "%s ", $2}' "/proc/$wpid/status")" \
        "000000008800001f 000000008800001f 000000008800001f "
t_eq "and no_new_privs" "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$wpid/status")" 1
# Sockets and pipes are one inode per creation: one of warrend's in the
# worker would be the same inode in both; sd-event's fds are warrend's only.
fd_links() { for f in /proc/"$1"/fd/*; do [[ ${f##*/} -gt 2 ]] && readlink "$f"; done 2>/dev/null | sort -u; }
t_eq "no socket or pipe of warrend's reached it" \
        "$(comm -12 <(fd_links "$wpid" | grep -E '^(socket|pipe):') <(fd_links "$before" | grep -E '^(socket|pipe):'))" ""
t_eq "nor warrend's event loop" "$(fd_links "$wpid" | grep -E 'eventpoll|signalfd|timerfd')" ""
t_eq "its parameters' memfd is closed once read" "$(fd_links "$wpid" | grep -c memfd:warren-worker-params)" 0
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
start_stop s1
start_stop s2

# --- the cache lock is never held across a transfer (issue 12 §4) ------------------------------------
server_start SL "$FIX/server" --fault stall-rootfs --stall-count 1 --stall-seconds 300
server_start S3 "$FIX/server"
warrenctl create st1 -t download -- -d busybox -r 1.35 --server "$SL" >"$TMPDIR/st1.out" 2>&1 &
st1_pid=$!
st1_job=$(wait_job_phase rootfs)
t_match "st1 hangs in a stalled rootfs transfer ($st1_job)" "$st1_job" '^/org/warren1/job/[0-9]+$'
s0=${EPOCHREALTIME/./}
t_ok "st2: the same image from another server meanwhile" create_dl st2 "$S3"
st2_ms=$(((${EPOCHREALTIME/./} - s0) / 1000))
t_ok "st2 did not wait for st1's transfer (${st2_ms} ms)" test "$st2_ms" -lt 5000
start_stop st2
warrenctl create st3 -t download -- -d busybox -r 1.35 --server "$SL" >"$TMPDIR/st3.out" 2>&1 &
st3_pid=$!
sleep 2
t_eq "st3 (same image, same server) waits for st1's transfer instead of starting one" \
        "$(rootfs_gets "$SL_LOG")" 1
s0=${EPOCHREALTIME/./}
t_ok "Job.Cancel of st1" gcall "$st1_job" org.warren1.Job.Cancel
wait "$st1_pid"
wait "$st3_pid"
st3_rc=$?
st3_ms=$(((${EPOCHREALTIME/./} - s0) / 1000))
t_eq "st3 then downloads and succeeds" "$st3_rc" 0
t_ok "within seconds of the cancel (${st3_ms} ms)" test "$st3_ms" -lt 10000
t_eq "with the second transfer" "$(rootfs_gets "$SL_LOG")" 2
t_ok "st1: nothing left" nothing_left st1
start_stop st3
t_ok "destroy st2 and st3" warrenctl destroy st2 st3

# --- image pull / remove ----------------------------------------------------------------------
# The first rootfs request is served, later ones stall: cached once, then busy.
server_start SB "$FIX/server" --fault stall-rootfs --stall-skip 1 --stall-seconds 300
t_ok "pull from a server that stalls later" warrenctl image pull -- -d busybox -r 1.35 --server "$SB"
B_PATH=$("${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager ListImages | tr ' ' '\n' |
        grep "$(esc_url "$SB" | sed 's/%/_25/g; s/\./_2e/g; s/-/_2d/g')" | tr -d '"' | head -n1)
t_match "its image object ($B_PATH)" "$B_PATH" '^/org/warren1/image/shared_2f'
warrenctl create busy1 -t download -- -d busybox -r 1.35 --server "$SB" --flush-cache >/dev/null 2>&1 &
cpid=$!
wait_job_phase rootfs >/dev/null
t_fail_match "RemoveImage while a job uses the image (same server): Busy" "Busy.*in use by job" \
        gcall /org/warren1 org.warren1.Manager.RemoveImage "'$B_PATH'"
IMG_PATH=$("${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager ListImages | tr ' ' '\n' |
        grep "$(esc_url "$S1" | sed 's/%/_25/g; s/\./_2e/g; s/-/_2d/g')" | tr -d '"' | head -n1)
t_match "the fixture remote's image ($IMG_PATH)" "$IMG_PATH" '^/org/warren1/image/shared_2f'
kill -INT "$cpid"
wait "$cpid"
t_ok "busy1: nothing left" nothing_left busy1
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
# PullImage through GDBus, recording ObjectManager InterfacesAdded until JobRemoved.
added=$(/usr/bin/python3 - <<'PY'
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
loop, st = GLib.MainLoop(), {"job": None, "added": []}
def added(c, s, p, i, m, params):
    path, ifaces = params.unpack()
    if "org.warren1.Image" in ifaces:
        st["added"].append(path)
def removed(c, s, p, i, m, params):
    if params.unpack()[1] == st["job"]:
        loop.quit()
bus.signal_subscribe("org.warren1", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", "/org/warren1",
                     None, Gio.DBusSignalFlags.NONE, added)
bus.signal_subscribe("org.warren1", "org.warren1.Manager", "JobRemoved", "/org/warren1", None,
                     Gio.DBusSignalFlags.NONE, removed)
r = bus.call_sync("org.warren1", "/org/warren1", "org.warren1.Manager", "PullImage",
                  GLib.Variant("(asa{sv})", (["-d", "busybox", "-r", "1.35", "--server", "fixture"], {})),
                  GLib.VariantType("(o)"), 0, 60000, None)
st["job"] = r.unpack()[0]
GLib.timeout_add_seconds(60, loop.quit)
loop.run()
print(" ".join(st["added"]))
PY
)
t_match "pull it again: InterfacesAdded announces the shared build ($added)" "$added" \
        "^/org/warren1/image/shared_2f$(esc_url "$S1" | sed 's/%/_25/g; s/\./_2e/g; s/-/_2d/g')_2fbusybox"
n_s1_rootfs=$(rootfs_gets "$S1_LOG")

# --- authorization and alice's containers --------------------------------------------------------
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
t_fail_match "nor remove" "org\\.warren1\\.pull-image" as_user alice warrenctl image remove "$IMG_PATH"
t_fail_match "the local template is root's only" "only root" \
        as_user alice warrenctl create a2 -t local -- "$IMG_DIR/rootfs.tar.xz"
grant alice warren-pull
grant alice warren-manage-own
t_fail_match "--no-verify needs create-privileged" "org\\.warren1\\.create-privileged" \
        as_user alice warrenctl create a3 -t download -- -d busybox -r 1.35 --server "$SA" --no-verify
t_ok "a3: nothing left" nothing_left a3
t_ok "with pull-image alice creates a1 from her own server" \
        as_user alice warrenctl create a1 -t download -- -d busybox -r 1.35 --server "$SA"
t_eq "a1 is alice's" "$(prop /org/warren1/container/a1 org.warren1.Container OwnerUID)" "$ALICE"
t_eq "her server's build is in her own partition" \
        "$(find "$CACHE/uid-$ALICE/$(esc_url "$SA")" -mindepth 5 -maxdepth 5 -type d | wc -l)" 1
t_eq "and nowhere else" "$(cached_from "$SA")" ""
t_ok "alice's image list" as_user alice warrenctl image list
t_match "shows her build as from her server, hers" "$T_OUT" "$NEWEST .*$SA \\(uid $ALICE's\\)"
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
start_stop a1 alice
t_ok "alice creates a5 from the fixture remote (listed for users)" \
        as_user alice warrenctl create a5 -t download -- -d busybox -r 1.35 --server fixture
t_eq "a5: the shared cache's build (no new rootfs download)" "$(rootfs_gets "$S1_LOG")" "$n_s1_rootfs"
start_stop a5 alice
remotes "default = fixture" "[fixture]" "url = $S1" "keyring = $KEYRING" "users = no"
t_fail_match "a remote closed to users needs create-privileged, naming why" \
        "org\\.warren1\\.create-privileged.*not open to ordinary users" \
        as_user alice warrenctl create a6 -t download -- -d busybox -r 1.35 --server fixture
t_ok "a6: nothing left" nothing_left a6
remotes "default = fixture" "[fixture]" "url = $S1" "keyring = $KEYRING" "users = yes"
t_ok "root may destroy a1" warrenctl destroy a1
t_ok "alice destroys a5" as_user alice warrenctl destroy a5
server_start SD "$FIX/server" --fault evil-devices
t_ok "alice: an image with device nodes" \
        as_user alice warrenctl create a4 -t download -- -d busybox -r 1.35 --server "$SD" --flush-cache
t_fail "no block device unpacked for an unprivileged container" test -e "$STORE/a4/rootfs/dev/sda"
t_fail "nor a char device" test -e "$STORE/a4/rootfs/dev/mem"
start_stop a4 alice
t_ok "root may destroy a4" warrenctl destroy a4
t_ok "root: the same image, privileged" create_dl r-dev "$SD"
t_match "downloaded again: alice's copy is hers only" "$(grep -c 'rootfs\.tar\.xz' "$SD_LOG")" '^2$'
t_eq "device nodes are created for a privileged container" "$(stat -c %F "$STORE/r-dev/rootfs/dev/sda")" \
        "block special file"
start_stop r-dev
t_ok "destroy r-dev" warrenctl destroy r-dev
t_ok "drop the images with device nodes" warrenctl image remove busybox/1.35
revoke alice warren-create
revoke alice warren-pull
revoke alice warren-manage-own

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
t_ok "loc1: a hostname for the start check" sh -c "echo loc1 >$STORE/loc1/rootfs/etc/hostname"
start_stop loc1
t_ok "local with --metadata" warrenctl create loc2 -t local -- --fstree "$IMG_DIR/rootfs.tar.xz" \
        --metadata "$IMG_DIR/meta.tar.xz"
t_match "local: the metadata's create-message" "$T_OUT" "build $NEWEST"
t_eq "local: templates applied" "$(cat "$STORE/loc2/rootfs/etc/hostname")" loc2
start_stop loc2
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

for c in img1 img2 img3 prog1 e-msg e-msg2 g-index v-each v-nover s1 s2 loc1 loc2; do
        warrenctl destroy "$c" >/dev/null 2>&1
done
servers_stop
finish
