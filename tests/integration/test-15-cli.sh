#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 16 (and 20 §4): warrenctl as Linux users expect it. list filters,
# globs, column choice (libsmartcols), JSON (json-glib) that is valid and
# typed; OWNER as a name; info leaving out what the caller may not read,
# showing a damaged container's Problem and a monitor that does not answer;
# config get of an unknown key; console ending with its input; per-verb
# help; polkit refusals that say what grants the action; group warren with
# the installed rule; a password asked on the terminal through pkttyagent
# (tmux); bash and zsh completion against the real bus.
# timeout: 300
. "$(dirname "$0")/lib.sh"

BUS=(busctl --system)
prop() { "${BUS[@]}" get-property org.warren1 "/org/warren1/container/$1" org.warren1.Container "$2" | sed 's/^[a-z]* //; s/"//g'; }
pyjson() { /usr/bin/python3 -c "import json, sys; d = json.loads(sys.argv[1]); $1" "$2"; }
TMUX_SOCK=$T_LIB_TMP/tmux.sock
tm() { tmux -S "$TMUX_SOCK" "$@"; }
pane() { tm capture-pane -t "$1" -p -S -50; }

t_ok "create web1" warrenctl create web1 -t busybox
t_ok "create web2" warrenctl create web2 -t busybox
t_ok "create db1" warrenctl create db1 -t busybox
t_ok "start web1" warrenctl start web1
t_ok "start web2" warrenctl start web2
t_ok "freeze web2" warrenctl freeze web2
grant alice warren-create
grant alice warren-manage-own
t_ok "alice creates a1" as_user alice warrenctl create a1 -t busybox
revoke_all alice

# --- list: default columns, filters, globs, owner ---------------------------------------
t_ok "list" warrenctl list
t_match "heading NAME STATE OWNER" "$T_OUT" '^NAME +STATE +OWNER'
t_match "OWNER is a user name" "$T_OUT" $'\n''web1 +RUNNING +root'
t_match "alice's container shows alice" "$T_OUT" $'\n''a1 +STOPPED +alice'
t_eq "--running" "$(warrenctl list --running --noheadings --raw -o name)" "web1"
t_eq "--stopped" "$(warrenctl list --stopped --noheadings --raw -o name)" $'a1\ndb1'
t_eq "--frozen" "$(warrenctl list --frozen --noheadings --raw -o name)" "web2"
t_eq "filters add up (--running --frozen)" "$(warrenctl list --running --frozen --noheadings --raw -o name)" $'web1\nweb2'
t_eq "a name glob" "$(warrenctl list 'web*' --noheadings --raw -o name)" $'web1\nweb2'
t_eq "globs add up" "$(warrenctl list 'db?' a1 --noheadings --raw -o name)" $'a1\ndb1'
t_eq "glob and state" "$(warrenctl list 'web*' --stopped --noheadings)" ""
t_eq "--owner by name" "$(warrenctl list --owner=alice --noheadings --raw -o name)" "a1"
t_eq "--owner by uid" "$(warrenctl list --owner="$(id -u alice)" --noheadings --raw -o name,owner)" "a1 alice"
t_fail_match "--owner of no user" "Invalid --owner 'nosuchuser': no such user" warrenctl list --owner=nosuchuser
t_eq "a1's uid column" "$(warrenctl list a1 --noheadings --raw -o uid)" "$(id -u alice)"

# --- columns ------------------------------------------------------------------------------
t_ok "-o name,state,ipv4" warrenctl list -o name,state,ipv4
t_match "the chosen heading" "$T_OUT" '^NAME +STATE +IPV4'$'\n'
t_match "web1 has an address" "$T_OUT" $'\n''web1 +RUNNING +10\.0\.3\.[0-9]+'
t_match "db1 shows -" "$T_OUT" $'\n''db1 +STOPPED +-'
t_ok "-o +pid adds to the defaults" warrenctl list web1 -o +PID --noheadings
t_match "pid is init's" "$T_OUT" "^web1 +RUNNING +root +$(prop web1 InitPID)\$"
t_fail_match "an unknown column is named, with the valid ones" \
        "Unknown column 'bogus' for list; columns: name, state, owner, uid" warrenctl list -o name,bogus
t_ok "--fancy" warrenctl list --fancy db1
t_match "lxc-ls --fancy's columns" "$T_OUT" 'NAME +STATE +AUTOSTART +GROUPS +IPV4 +IPV6 +UNPRIVILEGED'
t_ok "memory has the one size format" warrenctl list web1 -o memory --noheadings
t_match "e.g. 1.2 MiB" "$T_OUT" '^ *[0-9]+(\.[0-9])? (B|KiB|MiB|GiB)$'
t_ok "info shows memory in it too" warrenctl info web1
t_match "Memory use: N.N MiB" "$T_OUT" 'Memory use: +[0-9]+(\.[0-9])? (B|KiB|MiB|GiB)'$'\n'

# --- JSON ---------------------------------------------------------------------------------------
t_ok "list --json" warrenctl list --json
t_ok "valid, typed JSON" pyjson '
c = {x["name"]: x for x in d}
w = c["web1"]
assert w["state"] == "RUNNING" and w["owner"] == "root" and w["uid"] == 0, w
assert isinstance(w["pid"], int) and w["pid"] > 0 and isinstance(w["memory"], int), w
assert isinstance(w["ipv4"], list) and w["ipv4"][0].startswith("10.0.3."), w
assert w["autostart"] is False and w["unprivileged"] is False, w
assert c["a1"]["owner"] == "alice" and c["a1"]["unprivileged"] is True, c["a1"]
assert "pid" not in c["db1"], c["db1"]' "$T_OUT"
t_ok "-o picks the JSON members" warrenctl list --json=short -o name,state
t_eq "short JSON, only those" "$T_OUT" '[{"name":"a1","state":"STOPPED"},{"name":"db1","state":"STOPPED"},{"name":"web1","state":"RUNNING"},{"name":"web2","state":"FROZEN"}]'
t_ok "state --json" warrenctl state web2 --json=short
t_eq "state as an object" "$T_OUT" '{"name":"web2","state":"FROZEN"}'
t_ok "a value with UTF-8" warrenctl config set db1 "lxc.environment=GREETING=grüße ✓"
t_ok "config show --json" warrenctl config show db1 --json
t_ok "items in order, UTF-8 intact" pyjson '
assert {"key": "lxc.environment", "value": "GREETING=grüße ✓"} in d, d
assert d[0]["key"].startswith("lxc."), d' "$T_OUT"
t_ok "config get --json" warrenctl config get db1 lxc.environment --json=short
t_eq "the values as an array" "$T_OUT" '["GREETING=grüße ✓"]'
t_ok "checkconfig --json" warrenctl checkconfig --json
t_ok "an array of feature objects" pyjson 'assert all(set(x) == {"feature", "status", "detail"} for x in d) and len(d) > 5' "$T_OUT"
t_ok "network list --json" warrenctl network list --json
t_ok "warrenbr0 with its containers" pyjson '
n = [x for x in d if x["name"] == "warrenbr0"][0]
assert "web1" in n["containers"] and n["nat"] is True' "$T_OUT"
t_ok "network info --json" warrenctl network info warrenbr0 --json
t_ok "one object" pyjson 'assert d["name"] == "warrenbr0" and d["dhcp"] is True' "$T_OUT"
t_ok "image list --json" warrenctl image list --json
t_eq "an empty cache is []" "$T_OUT" "[]"
t_fail_match "--json means nothing for start" "--json means nothing for 'start'" warrenctl start web1 --json
t_fail_match "-o means nothing for info" "--output means nothing for 'info'" warrenctl info web1 -o name
t_fail_match "--running means nothing for info" "--running means nothing for 'info'" warrenctl info web1 --running
t_fail_match "--json means nothing for config set" "--json means nothing for 'config set'" \
        warrenctl config set db1 lxc.group=x --json
t_eq "and changed nothing" "$(warrenctl config get db1 lxc.group)" ""

# --- info: left out, not empty ------------------------------------------------------------------
t_ok "root's info of web1" warrenctl info web1
for f in PID CGroup Config Rootfs IP; do
        t_match "root sees $f" "$T_OUT" $'\n'"$f: "
done
t_ok "alice's info of root's web1" as_user alice warrenctl info web1
for f in PID CGroup Config Rootfs IP 'Memory use'; do
        t_not_match=$([[ $T_OUT =~ $'\n'"$f:" ]] && echo yes)
        [[ -z $t_not_match ]] && t_pass "alice's info leaves out $f" || t_not "alice's info leaves out $f" "$T_OUT"
done
t_match "and says why" "$T_OUT" "shown to those who may manage it"
t_match "the public part is there" "$T_OUT" "State: +RUNNING"$'\n'".*Owner: +root \(uid 0\)"
t_ok "alice's info --json of web1" as_user alice warrenctl info web1 --json
t_ok "no empty members, none of the hidden ones" pyjson '
assert d["state"] == "RUNNING" and d["owner"] == "root", d
for k in ("pid", "cgroup", "config", "rootfs", "ipv4", "memory", "idmap"):
    assert k not in d, k' "$T_OUT"
t_ok "alice's info of her own a1" as_user alice warrenctl info a1
t_match "shows her config and map" "$T_OUT" "ID map: +u 0 200000 65536.*Config: +/var/lib/warren/containers/a1/config"

# --- info: a damaged container's Problem, a monitor that does not answer -------------------------
t_ok "create dmg" warrenctl create dmg -t busybox
rm -rf /var/lib/warren/containers/dmg/rootfs
t_ok "info of dmg, its rootfs gone" warrenctl info dmg
t_match "shows its Problem, naming the file" "$T_OUT" \
        "State: +STOPPED"$'\n'"Problem: +.*rootfs /var/lib/warren/containers/dmg/rootfs is missing"
t_ok "info --json of dmg" warrenctl info dmg --json
t_ok "has it as problem" pyjson 'assert "/var/lib/warren/containers/dmg/rootfs is missing" in d["problem"], d' "$T_OUT"
t_ok "alice sees it too (Problem is public)" as_user alice warrenctl info dmg
t_match "with its Problem" "$T_OUT" "Problem: +.*dmg/rootfs is missing"
t_ok "root destroys dmg" warrenctl destroy dmg
t_ok "a healthy container's info" warrenctl info web1
t_ok "has no Problem and no Monitor line" bash -c '! grep -Eq "^(Problem|Monitor):" <<<"$1"' _ "$T_OUT"
t_ok "nor does its JSON (and its monitor answers)" pyjson 'assert "problem" not in d and d["unresponsive"] is False, d' \
        "$(warrenctl info web1 --json)"
mpid=$(pgrep -f "warren-monitor.*--name web1( |$)")
t_ok "web1's monitor ($mpid) stopped with SIGSTOP" kill -STOP "$mpid"
t_ok "info of web1 still answers" warrenctl info web1
t_match "and says its monitor does not answer" "$T_OUT" \
        "Monitor: +does not answer \(org\.warren1\.Error\.Unresponsive\): The monitor of container 'web1' \(pid $mpid\) does not answer"
t_match "the rest as it last was" "$T_OUT" "State: +RUNNING"
t_ok "--json: unresponsive" pyjson 'assert d["unresponsive"] is True and d["state"] == "RUNNING", d' \
        "$(warrenctl info web1 --json)"
t_ok "alice, who may not manage web1, is not told (nor asked)" as_user alice warrenctl info web1
t_ok "...no Monitor line" bash -c '! grep -q "^Monitor:" <<<"$1"' _ "$T_OUT"
kill -CONT "$mpid"
wait_for "after SIGCONT its monitor answers again" 10 \
        bash -c 'warrenctl info web1 --json | /usr/bin/python3 -c "import json, sys; sys.exit(json.load(sys.stdin)[\"unresponsive\"])"'
t_ok "info of web1" warrenctl info web1
t_ok "without the Monitor line" bash -c '! grep -q "^Monitor:" <<<"$1"' _ "$T_OUT"

# --- config get -----------------------------------------------------------------------------------
t_fail_match "config get of an unknown key fails, naming it" "Unknown config key 'lxc.nosuch'" \
        warrenctl config get web1 lxc.nosuch
t_eq "and prints nothing" "$T_OUT" ""
t_fail_match "a bad NIC index is no key" "Invalid config key 'lxc.net.999.type'" warrenctl config get web1 lxc.net.999.type
t_ok "a known key that is not set: nothing, success" warrenctl config get web1 lxc.group
t_eq "empty" "$T_OUT" ""
t_ok "a set key" warrenctl config get web1 lxc.uts.name
t_eq "its value" "$T_OUT" "web1"
t_fail_match "config get of a missing container" "No such container 'nope'" warrenctl config get nope lxc.uts.name

# --- console: stdin at its end ends it ----------------------------------------------------------
start=${EPOCHREALTIME/./}
t_ok "console with stdin at EOF exits at once" timeout 10 warrenctl console web1
t_ok "within a second" test $(((${EPOCHREALTIME/./} - start) / 1000)) -lt 1000
t_ok "and frees the console" timeout 10 warrenctl console web1
t_ok "piped input goes in first" sh -c "echo 'echo piped-\$((20+22)) > /dev/console' | timeout 10 warrenctl console web1 >/dev/null"
wait_for "it ran inside" 5 sh -c "warrenctl console-log web1 | grep -q piped-42"

# --- per-command help, without the bus ------------------------------------------------------------
t_ok "stop --help without a bus" env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent warrenctl stop --help
t_match "usage, options, example" "$T_OUT" '^Usage: warrenctl stop NAME\.\.\. \[-t SEC\] \[-k\].*Options:.*-k --kill.*Example:.*warrenctl stop web -t 10'
help_stop=$T_OUT
t_ok "help stop" warrenctl help stop
t_eq "the same text" "$T_OUT" "$help_stop"
t_ok "list --help lists the columns" warrenctl list --help
t_match "columns with the defaults marked" "$T_OUT" 'Columns.*name +\* .*ipv4 +IPv4'
t_fail_match "help of an unknown command" "Unknown command 'frobnicate'" warrenctl help frobnicate
t_fail_match "wrong arguments show the usage" "Usage: warrenctl state NAME" warrenctl state
t_ok "warrenctl --help names the man pages" warrenctl --help
t_match "see warrenctl(1)" "$T_OUT" 'warrenctl\(1\), warrend\(8\), warren\.conf\(5\), warren-dbus\(7\)'

# --- polkit refusals say what grants the action ----------------------------------------------------
before=$(ls /var/lib/warren/containers)
t_fail_match "bob's create is refused" "not authorized for org\.warren1\.create" \
        as_user bob warrenctl create c1 -t busybox
t_match "naming the action and what it guards" "$T_ERR" "The polkit action org\.warren1\.create \(creating your own containers\) was refused"
t_match "what grants it: group warren" "$T_ERR" "ask an administrator to add you to group warren"
t_match "or a terminal" "$T_ERR" "or run warrenctl on a terminal to authenticate"
t_fail_match "with --no-ask-password" "run without --no-ask-password to authenticate" \
        as_user bob warrenctl --no-ask-password create c1 -t busybox
t_fail_match "an admin-only action says so" "org\.warren1\.manage \(managing and reading other users' containers\).*administrator's password or a polkit rule" \
        as_user carol warrenctl stop web1
t_eq "nothing was created" "$(ls /var/lib/warren/containers)" "$before"

# --- group warren and the installed rule (issue 20 §4) -------------------------------------------
t_ok "install the shipped rule" install -m 0644 "$WARREN_SRC/polkit/50-warren.rules" /etc/polkit-1/rules.d/50-warren.rules
t_ok "group warren (sysusers.d makes it)" groupadd warren
sleep 1.5 # polkitd reloads rules
t_fail_match "outside the group, bob may not create" "not authorized for org\.warren1\.create" \
        as_user bob warrenctl create b1 -t busybox
t_ok "add bob to group warren" gpasswd -a bob warren
wait_for "in the group, bob creates in any session" 10 as_user bob warrenctl create b1 -t busybox
t_ok "starts his own" as_user bob warrenctl start b1
t_ok "attaches to his own" as_user bob warrenctl attach b1 -- true
t_ok "stops his own" as_user bob warrenctl stop -k b1
t_fail_match "but not root's (org.warren1.manage)" "not authorized for org\.warren1\.manage" as_user bob warrenctl stop web1
t_eq "web1 still runs" "$(prop web1 State)" RUNNING
t_ok "destroys his own" as_user bob warrenctl destroy b1
gpasswd -d bob warren >/dev/null
groupdel warren
rm -f /etc/polkit-1/rules.d/50-warren.rules

# --- completion (bash), against the bus ------------------------------------------------------------
COMPLETION=$WARREN_BUILD/data/warrenctl.bash
KEYS=$WARREN_BUILD/data/config-keys
t_ok "the bash completion is built" test -f "$COMPLETION" -a -s "$KEYS"
cat >"$T_LIB_TMP/complete.sh" <<EOF
. /usr/share/bash-completion/bash_completion
export WARREN_CONFIG_KEYS_FILE=$KEYS
. $COMPLETION
COMP_LINE=\$1
COMP_POINT=\${#COMP_LINE}
read -ra COMP_WORDS <<<"\$COMP_LINE"
[[ \$COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
_warrenctl warrenctl "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "\${COMPREPLY[@]}" | sort | paste -sd' '
EOF
chmod 0755 "$T_LIB_TMP/complete.sh"
comp() { bash --norc "$T_LIB_TMP/complete.sh" "$1" 2>/dev/null; }
t_eq "commands" "$(comp 'warrenctl sta')" "start state"
t_eq "start offers the stopped containers" "$(comp 'warrenctl start ')" "a1 db1"
t_eq "stop offers the running ones" "$(comp 'warrenctl stop ')" "web1"
t_eq "unfreeze offers the frozen ones" "$(comp 'warrenctl unfreeze ')" "web2"
t_eq "alice is offered her own" "$(as_user alice bash --norc "$T_LIB_TMP/complete.sh" 'warrenctl start ' 2>/dev/null)" "a1"
t_eq "options of a command" "$(comp 'warrenctl list --r')" "--raw --running"
t_eq "columns" "$(comp 'warrenctl list -o na')" "name"
t_eq "columns after a comma" "$(comp 'warrenctl list -o name,ip')" "name,ipv4 name,ipv6"
t_eq "columns of another table" "$(comp 'warrenctl network list -o cont')" "containers"
t_eq "config keys" "$(comp 'warrenctl config get web1 lxc.net.0.li')" "lxc.net.0.link"
t_eq "config set keys end in =" "$(comp 'warrenctl config set web1 lxc.uts.na')" "lxc.uts.name="
t_eq "config subcommands" "$(comp 'warrenctl config s')" "set show"
t_eq "network names" "$(comp 'warrenctl network info warr')" "warrenbr0"
t_eq "templates" "$(comp 'warrenctl create x -t d')" "download"
t_eq "help topics" "$(comp 'warrenctl help con')" "config console console-log"

# --- completion (zsh), typed in a terminal ----------------------------------------------------------
t_ok "the zsh completion is built" test -f "$WARREN_BUILD/data/_warrenctl"
t_ok "and parses" zsh -n "$WARREN_BUILD/data/_warrenctl"
tm new-session -d -s z -x 120 -y 30 "env -i PATH=$PATH DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS TERM=xterm WARREN_CONFIG_KEYS_FILE=$KEYS HOME=$T_LIB_TMP zsh -f"
wait_for "zsh is up" 5 sh -c "tmux -S '$TMUX_SOCK' capture-pane -t z -p | grep -q '#'"
tm send-keys -t z "fpath=($WARREN_BUILD/data \$fpath); autoload -U compinit; compinit -u; PS1='%% '; clear; echo compinit-\$((6*7))" Enter
wait_for "compinit done" 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -t z -p | grep -q compinit-42"
tm send-keys -t z "warrenctl unfre" Tab
wait_for "zsh completes a command" 5 sh -c "tmux -S '$TMUX_SOCK' capture-pane -t z -p | grep -q 'warrenctl unfreeze'"
sleep 0.3
tm send-keys -t z Tab
wait_for "and a frozen container from the bus" 5 sh -c "tmux -S '$TMUX_SOCK' capture-pane -t z -p | grep -q 'warrenctl unfreeze web2'"
tm send-keys -t z C-u "warrenctl config get web1 lxc.uts.na" Tab
wait_for "and a config key" 5 sh -c "tmux -S '$TMUX_SOCK' capture-pane -t z -p | grep -q 'lxc.uts.name'"
tm kill-session -t z

# --- a password asked on the terminal (pkttyagent) ---------------------------------------------------
# bob may create networks after authenticating as himself (AUTH_SELF); an
# action whose default is auth_admin (org.warren1.shell: attach to root's
# container) asks for the password of an administrator, here alice.
t_ok "bob has a password" sh -c "echo 'bob:Pass-15-word' | chpasswd"
t_ok "alice has a password" sh -c "echo 'alice:Admin-15-word' | chpasswd"
cat >/etc/polkit-1/rules.d/40-warren-test15.rules <<'EOF'
polkit.addRule(function(action, subject) {
        if (action.id == "org.warren1.network" && subject.user == "bob")
                return polkit.Result.AUTH_SELF;
});
polkit.addAdminRule(function(action, subject) {
        return ["unix-user:alice"];
});
EOF
# polkit's setuid helper, which checks the password, answers polkitd on
# the bus at its standard address (a setuid program ignores
# DBUS_SYSTEM_BUS_ADDRESS): give this sandbox's bus that address too (in
# the sandbox's /run overlay; the host's /run is untouched).
bus_socket=${DBUS_SYSTEM_BUS_ADDRESS#unix:path=}
made_run_dbus=0
if [[ ! -e /run/dbus/system_bus_socket ]]; then
        mkdir -p /run/dbus && ln -s "$bus_socket" /run/dbus/system_bus_socket && made_run_dbus=1
fi
sleep 1.5
t_fail_match "without a terminal: refused, authentication required" "authentication required" \
        as_user bob warrenctl network create t15a --ipv4=10.15.1.1/24
bobenv="env -i PATH=$PATH DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS TERM=xterm HOME=/home/bob USER=bob LOGNAME=bob"
tm new-session -d -s b -x 150 -y 40 "setpriv --reuid=bob --regid=bob --init-groups --inh-caps=-all $bobenv bash --norc"
sleep 0.3
tm send-keys -t b "PS1='$ '; clear" Enter
tm send-keys -t b "warrenctl network create t15a --ipv4=10.15.1.1/24; echo rc=\$?" Enter
wait_for "on a terminal the agent asks for bob's password" 15 sh -c "tmux -S '$TMUX_SOCK' capture-pane -t b -p | grep -q 'Password'"
t_match "naming the action" "$(pane b)" "org\.warren1\.network"
t_ok "the agent runs for this warrenctl" pgrep -u bob -f "pkttyagent --notify-fd [0-9]+ (--fallback )?--process [0-9]+,[0-9]+"
tm send-keys -t b "Pass-15-word" Enter
wait_for "the right password: done" 15 sh -c "tmux -S '$TMUX_SOCK' capture-pane -t b -p | grep -q 'rc=0'"
t_ok "the network exists" sh -c "warrenctl network list --noheadings -o name | grep -qx t15a"
wait_for "the agent is gone with warrenctl" 5 sh -c '! pgrep -u bob pkttyagent'
# Each later command runs on a cleared pane that it marks first (begin-N),
# so that a wait never matches what an earlier command left on the pane.
n=0
tm_cmd() {
        n=$((n + 1))
        # (printf: the typed line itself never reads begin-N)
        tm send-keys -t b "clear; printf 'begin-%s\\n' $n; $1; echo rc=\$?-$n" Enter
}
# pane_wait WHAT SECONDS PATTERN: the current command's pane shows PATTERN.
pane_wait() {
        wait_for "$1" "$2" bash -c "p=\$(tmux -S '$TMUX_SOCK' capture-pane -t b -p); [[ \$p == *begin-$n* ]] && grep -qE '$3' <<<\"\$p\""
}
tm_cmd "warrenctl network create t15b --ipv4=10.15.2.1/24"
pane_wait "asked again" 15 'Password'
tm send-keys -t b "wrong-password" Enter
pane_wait "a wrong password: refused" 30 "rc=1-$n"
t_match "the agent says authentication failed, warrenctl what was refused" "$(pane b)" \
        "AUTHENTICATION FAILED.*The polkit action org\.warren1\.network \(creating and deleting container networks\) was refused"
t_fail "t15b was not created" sh -c "warrenctl network list --noheadings -o name | grep -qx t15b"
tm_cmd "warrenctl --no-ask-password network create t15c --ipv4=10.15.3.1/24"
pane_wait "--no-ask-password: refused at once" 10 "rc=1-$n"
t_ok "without asking" sh -c "! tmux -S '$TMUX_SOCK' capture-pane -t b -p | grep -q Password"
tm_cmd "warrenctl attach web1 -- echo attached-\$((6*7))"
pane_wait "auth_admin (org.warren1.shell): the agent asks for an administrator's password" 15 'Password'
t_match "as alice, for org.warren1.shell" "$(pane b)" "AUTHENTICATING FOR org\.warren1\.shell.*Authenticating as: alice"
tm send-keys -t b "Admin-15-word" Enter
pane_wait "the admin's password: attached" 30 "rc=0-$n"
t_match "the command ran inside" "$(pane b)" "attached-42"
tm_cmd "warrenctl list --noheadings -o name | head -1"
pane_wait "a read on a terminal works" 10 "rc=0-$n"
tm kill-server
rm -f /etc/polkit-1/rules.d/40-warren-test15.rules
((made_run_dbus)) && rm -f /run/dbus/system_bus_socket
t_ok "root deletes t15a" warrenctl network delete t15a

# --- cleanup ----------------------------------------------------------------------------------------
t_ok "unfreeze web2" warrenctl unfreeze web2
t_ok "stop web1 web2" warrenctl stop -k web1 web2
t_ok "destroy them" warrenctl destroy web1 web2 db1 a1
t_eq "none left" "$(warrenctl list --noheadings)" ""
finish
