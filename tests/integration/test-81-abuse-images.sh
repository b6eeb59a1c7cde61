#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 12 §1, §4, §6: what a hostile user tries against the image cache,
# run as that user against the real bus and polkitd. alice and bob hold the
# normal desktop grants (create, manage-own, shell-own, pull-image), carol
# none. The administrator lists the fixture server as remote "fixture"
# (signed with a key made here, open to users). Each attack asserts the
# refusal (error name and message) or that it reached only its author, and
# that nothing else changed: the cache (files and checksums), the store,
# the other users' containers.
# timeout: 900
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
ARCH=$(dpkg --print-architecture)
NEWEST=20240315_12:00
STORE=/var/lib/warren/containers
CACHE=/var/cache/warren/images
FIX=$TMPDIR/fixture
ALICE=$(id -u alice)
BOB=$(id -u bob)
SERVER_PIDS=()
SERVER_FDS=()

for u in alice bob; do
        grant "$u" warren-create
        grant "$u" warren-manage-own
        grant "$u" warren-pull
done

bash "$WARREN_SRC/tests/fixtures/make-image.sh" "$FIX/server" "$ARCH" >/dev/null || bail_out "make-image.sh failed"

# alice's impersonation: the same dist, release, arch, variant and build
# names as the real server, her own rootfs (a marker file in it).
/usr/bin/python3 - "$FIX/server" "$FIX/alice" <<'PY' || bail_out "cannot build alice's image tree"
import hashlib, io, lzma, os, shutil, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
shutil.copytree(src, dst)
for root, dirs, files in os.walk(dst):
    if "rootfs.tar.xz" not in files:
        continue
    p = os.path.join(root, "rootfs.tar.xz")
    raw = lzma.decompress(open(p, "rb").read())
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(raw)) as s, tarfile.open(fileobj=out, mode="w:", format=tarfile.PAX_FORMAT) as d:
        for m in s.getmembers():
            d.addfile(m, s.extractfile(m) if m.isfile() else None)
        data = b"alice was here\n"
        ti = tarfile.TarInfo("./alice-was-here")
        ti.size = len(data)
        ti.mode = 0o644
        d.addfile(ti, io.BytesIO(data))
    open(p, "wb").write(lzma.compress(out.getvalue(), format=lzma.FORMAT_XZ))
    with open(os.path.join(root, "SHA256SUMS"), "w") as f:
        for n in ("meta.tar.xz", "rootfs.tar.xz"):
            f.write("%s  %s\n" % (hashlib.sha256(open(os.path.join(root, n), "rb").read()).hexdigest(), n))
PY
chmod -R a+rX "$FIX"

# The administrator's signing key for the fixture remote, and a key of alice's.
KEYRING=/etc/warren/keyrings/fixture.gpg
G_ADMIN=$TMPDIR/gnupg-admin
G_ALICE=$TMPDIR/gnupg-alice
mkkey() {
        mkdir -p -m 0700 "$1"
        printf '%s\n' '%no-protection' 'Key-Type: eddsa' 'Key-Curve: ed25519' "Name-Real: $2" \
                "Name-Email: $2@warren.invalid" 'Expire-Date: 0' '%commit' |
                gpg --homedir "$1" --batch --quiet --gen-key 2>/dev/null
}
mkkey "$G_ADMIN" fixture || bail_out "gpg --gen-key failed"
mkkey "$G_ALICE" alice || bail_out "gpg --gen-key failed"
mkdir -p /etc/warren/keyrings
gpg --homedir "$G_ADMIN" --batch --quiet --export >"$KEYRING" && chmod 0644 "$KEYRING" || bail_out "gpg --export failed"

# server_start VAR ROOT [USER] -- [image-server.py ARGS...]: a fixture server
# on 127.0.0.1 run as USER (default root); VAR is its URL, VAR_LOG its log.
server_start() {
        local var=$1 root=$2 user=root dir fd port i run=()
        shift 2
        if [[ ${1:-} != -- ]]; then user=$1; shift; fi
        [[ ${1:-} == -- ]] && shift
        dir=$(mktemp -d "$TMPDIR/server.XXXXXX")
        chmod 0755 "$dir"
        mkfifo "$dir/in"
        touch "$dir/log" "$dir/port" "$dir/err"
        chown "$user" "$dir/log" "$dir/port" "$dir/err"
        exec {fd}<>"$dir/in"
        SERVER_FDS+=("$fd")
        [[ $user != root ]] && run=(as_user "$user")
        "${run[@]}" /usr/bin/python3 "$WARREN_SRC/tests/fixtures/image-server.py" --root "$root" --log "$dir/log" \
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
        printf -v "${var}_PID" '%s' "$!"
}

servers_stop() {
        local fd pid
        for fd in "${SERVER_FDS[@]}"; do exec {fd}>&-; done
        for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
        wait 2>/dev/null
        gpgconf --homedir "$G_ADMIN" --kill all 2>/dev/null
        gpgconf --homedir "$G_ALICE" --kill all 2>/dev/null
}

# contains TEXT NEEDLE (fixed string)
contains() { grep -qF -- "$2" <<<"$1"; }
# The user running the process that listens on URL's port.
listener_user() {
        local pid
        pid=$(ss -Hltnp "sport = :${1##*:}" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1)
        [[ -n $pid ]] && ps -o user= -p "$pid"
}
esc_url() { /usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="~+"))' "$1"; }
remotes() { printf '%s\n' "$@" >/etc/warren/remotes.conf && chmod 0644 /etc/warren/remotes.conf; }
rootfs_gets() { grep -c $'^GET\t/images/.*/rootfs\\.tar\\.xz\t' "$1"; }
gcall() { local p=$1 m=$2; shift 2; gdbus call --system --dest org.warren1 --object-path "$p" --method "$m" "$@"; }
dl() { # dl USER NAME SERVER [ARGS...]: USER's create from SERVER
        local user=$1 name=$2 server=$3
        shift 3
        if [[ $user == root ]]; then
                warrenctl create "$name" -t download -- -d busybox -r 1.35 --server "$server" "$@"
        else
                as_user "$user" warrenctl create "$name" -t download -- -d busybox -r 1.35 --server "$server" "$@"
        fi
}
# The cache's files and their checksums (locks aside), the store's entries,
# and every container's config and state: what an attack must not change.
cache_state() {
        (cd "$CACHE" 2>/dev/null && find . -type f ! -name .lock ! -name .download ! -name last-used -print0 |
                sort -z | xargs -0 -r sha256sum)
}
world_state() {
        local c
        echo "store: $(ls -A "$STORE" | tr '\n' ' ')"
        for c in $(ls "$STORE"); do
                echo "$c $(sha256sum <"$STORE/$c/config") $(warrenctl state "$c" 2>&1)"
        done
        cache_state
}
builds_under() { find "$1" -mindepth 5 -maxdepth 5 -type d 2>/dev/null | sort; }
partition_of() { echo "$CACHE/uid-$1/$(esc_url "$2")"; }
shared_of() { echo "$CACHE/shared/$(esc_url "$1")"; }
job_paths() { "${BUS[@]}" tree --list org.warren1 2>/dev/null | grep '^/org/warren1/job/[0-9]'; }
nothing_left() {
        local name=$1 bad=""
        [[ -e $STORE/$name ]] && bad+=" the container directory;"
        ls -A "$STORE" | grep -q '^\.#' && bad+=" store temporaries;"
        [[ -n $(find "$CACHE" -name '.#pull-*' 2>/dev/null) ]] && bad+=" cache temporaries;"
        [[ -n $(job_paths) ]] && bad+=" job objects;"
        [[ -z $bad ]] && return 0
        echo "left behind:$bad"
        return 1
}
image_paths() { "${BUS[@]}" call org.warren1 /org/warren1 org.warren1.Manager ListImages | tr ' ' '\n' | grep '^"/org' | tr -d '"'; }
# image_paths_as USER: ListImages as USER.
image_paths_as() { as_user "$1" busctl --system call org.warren1 /org/warren1 org.warren1.Manager ListImages | tr ' ' '\n' | grep '^"/org' | tr -d '"'; }
# bus-encoded form of a cache path component, as sd_bus_path_encode does it.
bus_enc() { /usr/bin/python3 -c '
import sys
print("".join(c if c.isalnum() and c.isascii() else "_%02x" % ord(c) for c in sys.argv[1]))' "$1"; }

server_start S "$FIX/server" -- --sign-gnupghome "$G_ADMIN"
server_start S2 "$FIX/server" -- --sign-gnupghome "$G_ADMIN"
ADMIN_REMOTES=("default = fixture" "[fixture]" "url = $S" "keyring = $KEYRING" "users = yes"
        "[fixture2]" "url = $S2" "keyring = $KEYRING" "users = yes")
remotes "${ADMIN_REMOTES[@]}"

# bob's container from the real server, before anything: the attacks must not touch it.
t_ok "bob creates b0 from the fixture remote" dl bob b0 fixture
t_ok "bob starts b0" as_user bob warrenctl start b0
B0_PID=$(as_user bob warrenctl attach b0 --no-pty -- cat /proc/1/stat 2>/dev/null | awk '{ print $1 }')

# --- 1. alice's server impersonating the real one ---------------------------------------------
server_start A "$FIX/alice" alice --
t_eq "alice's server runs as alice" "$(listener_user "$A")" alice
t_ok "alice pulls 'busybox 1.35' from her server" \
        as_user alice warrenctl image pull -- -d busybox -r 1.35 --server "$A"
t_eq "her build is in her own partition" "$(builds_under "$(partition_of "$ALICE" "$A")" | wc -l)" 1
t_eq "nowhere in the shared cache" "$(builds_under "$(shared_of "$A")")" ""
ALICE_BUILD=$(builds_under "$(partition_of "$ALICE" "$A")")
t_ok "her partition is root's, mode 0700" test "$(stat -c %U:%a "$CACHE/uid-$ALICE")" = root:700
before=$(rootfs_gets "$S_LOG")
t_ok "bob creates b1 from the fixture remote" dl bob b1 fixture
t_fail "b1 has the real server's rootfs, not alice's" test -e "$STORE/b1/rootfs/alice-was-here"
t_eq "the real server was asked for its index" "$(grep -c $'^GET\t/meta/1.0/index-user\t' "$S_LOG")" 2
t_ok "bob creates b2 naming the fixture by its URL" dl bob b2 "$S"
t_fail "b2 neither" test -e "$STORE/b2/rootfs/alice-was-here"
n_index=$(grep -c $'^GET\t/meta/1.0/index-system\t' "$S_LOG")
t_ok "root creates r1 (privileged) from the default remote" warrenctl create r1 -t download -- -d busybox -r 1.35
t_fail "r1 neither: alice's init never runs as host root" test -e "$STORE/r1/rootfs/alice-was-here"
t_eq "root's create asked the real server" "$(grep -c $'^GET\t/meta/1.0/index-system\t' "$S_LOG")" $((n_index + 1))
t_eq "and used the real server's build, cached by bob's b0" "$(rootfs_gets "$S_LOG")" "$before"
n_alice=$(rootfs_gets "$A_LOG")
t_ok "root names alice's server itself" warrenctl create r2 -t download -- -d busybox -r 1.35 --server "$A"
t_eq "root's create asked alice's server again: her partition is never read" "$(rootfs_gets "$A_LOG")" \
        $((n_alice + 1))
t_ok "bob names alice's server" dl bob b3 "$A"
t_eq "bob's create asked her server again too" "$(rootfs_gets "$A_LOG")" $((n_alice + 2))
t_eq "bob's copy is in bob's partition" "$(builds_under "$(partition_of "$BOB" "$A")" | wc -l)" 1
t_eq "alice's partition still holds only her build" "$(builds_under "$(partition_of "$ALICE" "$A")")" "$ALICE_BUILD"

# What bob can see of alice's cache: nothing.
A_IMG=$(image_paths | grep "$(bus_enc "uid-$ALICE")" | head -n1)
t_match "root's ListImages shows alice's build ($A_IMG)" "$A_IMG" "^/org/warren1/image/uid_2d$ALICE"
t_match "bob's ListImages works" "$(image_paths_as bob)" "^/org/warren1/image/shared_2f"
t_fail "and does not list alice's build" contains "$(image_paths_as bob)" "$A_IMG"
t_ok "alice's does" contains "$(image_paths_as alice)" "$A_IMG"
t_fail_match "bob reading its properties: UnknownObject" "UnknownObject|Unknown object" \
        as_user bob busctl --system get-property org.warren1 "$A_IMG" org.warren1.Image Path
t_ok "alice reads them" as_user alice busctl --system get-property org.warren1 "$A_IMG" org.warren1.Image OwnerUID
t_eq "OwnerUID is hers" "$T_OUT" "u $ALICE"
t_ok "bob's image list" as_user bob warrenctl image list
t_match "lists the shared builds" "$T_OUT" "busybox +1\\.35 .* fixture"
t_fail "does not name alice's server" contains "$T_OUT" "uid $ALICE"
state=$(world_state)
t_fail_match "bob removing alice's build: AccessDenied naming create-privileged" \
        "AccessDenied.*org\\.warren1\\.create-privileged.*another user's cache" \
        as_user bob gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.RemoveImage "$A_IMG"
t_eq "nothing changed" "$(world_state)" "$state"

# --- 2. a broken meta with a far expiry blocks nobody ------------------------------------------
server_start AH "$FIX/alice" alice -- --fault hook-config --fault far-expiry
t_ok "alice pulls an image whose config carries a hook, expiry in 5138" \
        as_user alice warrenctl image pull -- -d busybox -r 1.35 --server "$AH"
t_eq "it is in her partition only" "$(builds_under "$(partition_of "$ALICE" "$AH")" | wc -l)" 1
state=$(world_state)
t_fail_match "her create from it is refused: hooks from an image" \
        "lxc\\.hook\\.pre-start.*hooks from an image are not allowed" dl alice a-hook "$AH"
t_ok "a-hook: nothing left" nothing_left a-hook
t_eq "the refused build was removed from her cache, not left to block" \
        "$(builds_under "$(partition_of "$ALICE" "$AH")")" ""
t_ok "bob's create from the fixture meanwhile" dl bob b4 fixture
t_fail "b4 is the real image" test -e "$STORE/b4/rootfs/alice-was-here"
# A broken entry in the shared cache (as a bug or a disk might leave it), far expiry.
SH=$(builds_under "$(shared_of "$S")" | head -n1)
t_match "the fixture's shared build ($SH)" "$SH" "/$NEWEST$"
rm -f "$SH/meta/config" "$SH/meta/config-user"
echo 99999999999 >"$SH/meta/expiry"
before=$(rootfs_gets "$S_LOG")
t_ok "bob's next create from the fixture succeeds" dl bob b5 fixture
t_eq "the broken build was replaced by a fresh download" "$(rootfs_gets "$S_LOG")" $((before + 1))
t_ok "its meta is whole again" test -f "$SH/meta/config-user"
t_ok "root's create too" warrenctl create r3 -t download -- -d busybox -r 1.35

# --- 3. signatures: unsigned, tampered, wrong key ------------------------------------------------
# sig_attack NAME DESC REGEX SERVER_ARGS...: a server the administrator listed
# with the fixture's keyring serves it; alice's create is refused with
# VerificationFailed naming the file, nothing anywhere changes.
sig_attack() {
        local name=$1 desc=$2 re=$3
        shift 3
        server_start SV "$FIX/server" -- "$@"
        remotes "${ADMIN_REMOTES[@]}" "[signed]" "url = $SV" "keyring = $KEYRING" "users = yes"
        local state
        state=$(world_state)
        t_fail_match "$desc" "$re.*\\(org\\.warren1\\.Error\\.VerificationFailed\\)" dl alice "$name" signed
        t_ok "$name: nothing left" nothing_left "$name"
        t_eq "$name: nothing cached from it, anywhere" \
                "$(builds_under "$(shared_of "$SV")")$(builds_under "$(partition_of "$ALICE" "$SV")")" ""
        t_eq "$name: nothing changed (cache files and checksums, store, containers)" "$(world_state)" "$state"
        t_fail_match "$name: pulling it is refused the same way" "$re" \
                as_user alice warrenctl image pull -- -d busybox -r 1.35 --server signed
        t_eq "$name: still nothing changed" "$(world_state)" "$state"
}
# list_refused NAME REGEX: listing what the "signed" remote (the server
# sig_attack started last) offers is refused as the pull was, before any
# line of its index is believed: warrenctl (by the remote's name) and the
# bus (by its URL, which is that remote: the error's name), as alice, and
# root's (mode user, the same index); nothing changes and no
# scratch directory (the check's GnuPG home) is left.
list_refused() {
        local name=$1 re=$2 state n
        state=$(world_state)
        n=$(grep -c $'^GET\t/meta/1\\.0/index-user\\.asc\t' "$SV_LOG")
        t_fail_match "$name: alice's images --remote is refused the same way" "ListRemoteImages: $re" \
                as_user alice warrenctl images --remote --server signed
        t_fail "$name: and lists nothing of it" contains "$T_OUT" busybox
        t_fail_match "$name: ListRemoteImages by the remote's URL: VerificationFailed" \
                "org\\.warren1\\.Error\\.VerificationFailed: $re" \
                as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 \
                --method org.warren1.Manager.ListRemoteImages "$SV" '{}'
        t_fail_match "$name: root's listing (mode user) too" "org\\.warren1\\.Error\\.VerificationFailed: $re" \
                gcall /org/warren1 org.warren1.Manager.ListRemoteImages "'signed'" "{'mode': <'user'>}"
        t_eq "$name: each listing fetched the index's signature" \
                "$(grep -c $'^GET\t/meta/1\\.0/index-user\\.asc\t' "$SV_LOG")" $((n + 3))
        t_eq "$name: the listings changed nothing" "$(world_state)" "$state"
        t_eq "$name: no scratch directory left" "$(find /run/warren -maxdepth 1 -name '.#image-list-*')" ""
}
sig_attack v-unsigned "an unsigned image: VerificationFailed naming the file" \
        "Verification of 'index-user' failed: it is not signed \\(the server has no index-user\\.asc\\)"
list_refused v-unsigned "Verification of 'index-user' failed: it is not signed \\(the server has no index-user\\.asc\\)"
sig_attack v-tamper "a file changed after signing: VerificationFailed naming it" \
        "Verification of 'SHA256SUMS' failed: signature Bad signature" \
        --sign-gnupghome "$G_ADMIN" --fault tamper-signed
sig_attack v-tamper-file "a rootfs changed after signing (per-file signatures)" \
        "Verification of 'rootfs\\.tar\\.xz' failed: signature Bad signature" \
        --sign-gnupghome "$G_ADMIN" --sign-what files --fault no-sums --fault tamper-signed
sig_attack v-wrongkey "signed with alice's key, not the remote's: VerificationFailed" \
        "Verification of 'index-user' failed: signature made by key [0-9A-F]+, which is not in the keyring" \
        --sign-gnupghome "$G_ALICE"
list_refused v-wrongkey \
        "Verification of 'index-user' failed: signature made by key [0-9A-F]+, which is not in the keyring \\(keyring '$KEYRING'\\)"
sig_attack v-index "an index changed after signing" \
        "Verification of 'index-user' failed: signature Bad signature" \
        --sign-gnupghome "$G_ADMIN" --fault tamper-index
list_refused v-index "Verification of 'index-user' failed: signature Bad signature"
# A correctly signed index still lists, for alice and on the bus.
server_start SV "$FIX/server" -- --sign-gnupghome "$G_ADMIN"
remotes "${ADMIN_REMOTES[@]}" "[signed]" "url = $SV" "keyring = $KEYRING" "users = yes"
t_ok "a correctly signed index: alice's images --remote lists it" \
        as_user alice warrenctl images --remote --server signed
t_match "the newest busybox 1.35 build" "$T_OUT" "busybox +1\\.35 +$ARCH +default +$NEWEST"
t_ok "ListRemoteImages by its URL, as alice" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.ListRemoteImages "$SV" '{}'
t_match "it lists the build" "$T_OUT" "'busybox', '1\\.35', '$ARCH', 'default', '$NEWEST'"
t_match "the index's signature was fetched for it" "$(cat "$SV_LOG")" $'GET\t/meta/1.0/index-user.asc\t'
t_eq "no scratch directory left" "$(find /run/warren -maxdepth 1 -name '.#image-list-*')" ""
remotes "${ADMIN_REMOTES[@]}"

# --- 4. --no-verify is the administrator's ------------------------------------------------------
state=$(world_state)
n_requests=$(grep -c . "$S_LOG")
t_fail_match "alice's create with --no-verify: AccessDenied naming create-privileged" \
        "org\\.freedesktop\\.DBus\\.Error\\.AccessDenied.*org\\.warren1\\.create-privileged.*no-verify" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.CreateContainer a-nv download \
        "['-d', 'busybox', '-r', '1.35', '--server', 'fixture', '--no-verify']" '{}'
t_fail_match "alice's pull with --no-verify: AccessDenied" \
        "org\\.freedesktop\\.DBus\\.Error\\.AccessDenied.*org\\.warren1\\.create-privileged.*no-verify" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.PullImage "['-d', 'busybox', '-r', '1.35', '--server', 'fixture', '--no-verify']" '{}'
t_ok "a-nv: nothing left" nothing_left a-nv
t_eq "nothing changed" "$(world_state)" "$state"
t_eq "no request reached the server for it" "$(grep -c . "$S_LOG")" "$n_requests"

# --- 5. alice's stalling server does not hold bob up --------------------------------------------
server_start AS "$FIX/alice" alice -- --fault stall-rootfs --stall-seconds 300
as_user alice warrenctl create a-stall -t download -- -d busybox -r 1.35 --server "$AS" >"$TMPDIR/a-stall.out" 2>&1 &
stall_pid=$!
for ((i = 0; i < 100; i++)); do
        [[ $(rootfs_gets "$AS_LOG") -ge 1 ]] && break
        sleep 0.1
done
t_eq "alice's create hangs in her stalled rootfs transfer" "$(rootfs_gets "$AS_LOG")" 1
s0=${EPOCHREALTIME/./}
t_ok "bob creates b6 from fixture2 (a download) meanwhile" dl bob b6 fixture2
ms=$(((${EPOCHREALTIME/./} - s0) / 1000))
t_ok "within a few seconds (${ms} ms)" test "$ms" -lt 5000
s0=${EPOCHREALTIME/./}
t_ok "and b7 from the fixture (cached)" dl bob b7 fixture
ms=$(((${EPOCHREALTIME/./} - s0) / 1000))
t_ok "within a few seconds too (${ms} ms)" test "$ms" -lt 5000
s0=${EPOCHREALTIME/./}
t_ok "root's r4 from the fixture" warrenctl create r4 -t download -- -d busybox -r 1.35 --server fixture
ms=$(((${EPOCHREALTIME/./} - s0) / 1000))
t_ok "within a few seconds (${ms} ms)" test "$ms" -lt 5000
t_eq "alice's create still hangs" "$(kill -0 "$stall_pid" && echo running)" running
STALL_JOB=$(job_paths | head -n1)
t_ok "alice cancels her job ($STALL_JOB)" as_user alice gdbus call --system --dest org.warren1 \
        --object-path "$STALL_JOB" --method org.warren1.Job.Cancel
wait "$stall_pid"
t_match "her create says it was canceled" "$(cat "$TMPDIR/a-stall.out")" "Canceled"
t_ok "a-stall: nothing left" nothing_left a-stall

# --- 6. carol, without grants --------------------------------------------------------------------
state=$(world_state)
t_fail_match "carol's create: AccessDenied (she has no subuid range; nor the grant)" \
        "org\\.freedesktop\\.DBus\\.Error\\.AccessDenied: User carol \\(uid [0-9]+\\) has no range" \
        as_user carol gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.CreateContainer c1 download "['-d', 'busybox', '-r', '1.35', '--server', 'fixture']" '{}'
t_fail_match "carol's pull: AccessDenied naming org.warren1.pull-image" \
        "org\\.freedesktop\\.DBus\\.Error\\.AccessDenied.*org\\.warren1\\.pull-image" \
        as_user carol gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.PullImage "['-d', 'busybox', '-r', '1.35', '--server', 'fixture']" '{}'
IMG=$(image_paths | grep "$(bus_enc shared)" | head -n1)
t_fail_match "carol's RemoveImage: AccessDenied naming org.warren1.pull-image" \
        "org\\.freedesktop\\.DBus\\.Error\\.AccessDenied.*org\\.warren1\\.pull-image" \
        as_user carol gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.RemoveImage "$IMG"
t_fail_match "carol's ad-hoc pull from alice's server: AccessDenied" "AccessDenied.*pull-image" \
        as_user carol gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.PullImage "['-d', 'busybox', '-r', '1.35', '--server', '$A']" '{}'
n_a=$(grep -c . "$A_LOG")
t_fail_match "carol's listing of a server that is no remote: AccessDenied naming org.warren1.pull-image" \
        "org\\.freedesktop\\.DBus\\.Error\\.AccessDenied.*org\\.warren1\\.pull-image.*is not a listed image remote" \
        as_user carol gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.ListRemoteImages "$A" '{}'
t_eq "warrend fetched nothing from it for her" "$(grep -c . "$A_LOG")" "$n_a"
t_ok "c1: nothing left" nothing_left c1
t_eq "nothing changed" "$(world_state)" "$state"

# --- 7. a remote closed to users ------------------------------------------------------------------
remotes "default = fixture" "[fixture]" "url = $S" "keyring = $KEYRING" "users = no"
state=$(world_state)
t_fail_match "alice's create from a remote closed to users: AccessDenied naming why" \
        "org\\.freedesktop\\.DBus\\.Error\\.AccessDenied.*create-privileged.*not open to ordinary users" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.CreateContainer a-closed download "['-d', 'busybox', '-r', '1.35']" '{}'
t_fail_match "alice's listing of a remote closed to users: AccessDenied naming why" \
        "org\\.freedesktop\\.DBus\\.Error\\.AccessDenied.*create-privileged.*not open to ordinary users" \
        as_user alice gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.ListRemoteImages fixture '{}'
t_ok "root lists it" gdbus call --system --dest org.warren1 --object-path /org/warren1 \
        --method org.warren1.Manager.ListRemoteImages fixture '{}'
t_ok "a-closed: nothing left" nothing_left a-closed
t_eq "nothing changed" "$(world_state)" "$state"
remotes "${ADMIN_REMOTES[@]}"

# --- bob's b0 lived through it all -------------------------------------------------------------------
t_eq "b0 still RUNNING" "$(warrenctl state b0)" RUNNING
t_eq "with the same init" "$(as_user bob warrenctl attach b0 --no-pty -- cat /proc/1/stat 2>/dev/null | awk '{ print $1 }')" \
        "$B0_PID"
t_ok "bob stops b0" as_user bob warrenctl stop b0 --timeout=20
for c in b0 b1 b2 b3 b4 b5 b6 b7 r1 r2 r3 r4; do
        warrenctl destroy "$c" >/dev/null 2>&1
done
servers_stop
finish
