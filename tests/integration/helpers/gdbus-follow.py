#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Follows one container through its life with a real GDBus client, as a
GUI would: an ObjectManagerClient on /org/warren1 and a GDBusProxy of the
container (with G_DBUS_PROXY_FLAGS_GET_INVALIDATED_PROPERTIES, so that
properties signalled as invalidated are fetched again).

usage: gdbus-follow.py NAME

It creates NAME (busybox, no network), starts, freezes, unfreezes,
reboots, stops and destroys it. After every
transition it checks that the proxy's cached properties equal a fresh
GetAll (for every property that promises signals), and at the end that
State went through each transition once, in order, and that the
ObjectManagerClient saw the object appear and disappear. Prints one line
per check; exits 1 if any failed."""
import sys
import time

from gi.repository import Gio, GLib

IFACE = "org.warren1.Container"
# EmitsChangedSignal=false: a cache of these is stale by contract.
UNSIGNALLED = {"MemoryCurrent", "IPv4Addresses", "IPv6Addresses", "Problem"}

name = sys.argv[1]
path = "/org/warren1/container/" + "".join(
    c if c.isalnum() else "_%02x" % ord(c) for c in name)
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
failed = 0
events = []


def check(ok, what, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else ": " + detail), flush=True)
    if not ok:
        failed += 1


def spin(seconds, until=None):
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until and until():
            return True
        ctx.iteration(False)
        time.sleep(0.005)
    return bool(until and until())


def call(obj_path, iface, method, args=None, sig=None):
    return bus.call_sync("org.warren1", obj_path, iface, method,
                         GLib.Variant(sig, args) if sig else None, None,
                         Gio.DBusCallFlags.NONE, 60000, None)


def fresh():
    return call(path, "org.freedesktop.DBus.Properties", "GetAll", (IFACE,), "(s)").unpack()[0]


manager = Gio.DBusObjectManagerClient.new_for_bus_sync(
    Gio.BusType.SYSTEM, Gio.DBusObjectManagerClientFlags.NONE, "org.warren1", "/org/warren1",
    None, None, None)
manager.connect("object-added", lambda m, o: events.append(("added", o.get_object_path())))
manager.connect("object-removed", lambda m, o: events.append(("removed", o.get_object_path())))

check(manager.get_object(path) is None, "not there before the create")
call("/org/warren1", "org.warren1.Manager", "CreateContainer",
         (name, "busybox", [], {"config": GLib.Variant("a(ss)", [("lxc.net.0.type", "empty")])}),
         "(ssasa{sv})")
check(spin(10, lambda: manager.get_object(path) is not None), "the ObjectManagerClient has the object")
obj = manager.get_object(path)
om_proxy = obj.get_interface(IFACE) if obj else None
if om_proxy:
    now = fresh()
    bad = {k: (om_proxy.get_cached_property(k).unpack(), now[k]) for k in om_proxy.get_cached_property_names()
           if k not in UNSIGNALLED and om_proxy.get_cached_property(k).unpack() != now[k]}
    check(not bad, "its proxy (from InterfacesAdded) caches nothing that a Get contradicts", repr(bad))

proxy = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.GET_INVALIDATED_PROPERTIES, None, "org.warren1", path,
                               IFACE, None)
states = []


def on_changed(p, changed, invalidated):
    s = changed.unpack().get("State")
    if s is not None:
        states.append(s)


proxy.connect("g-properties-changed", on_changed)


def cached_matches():
    now = fresh()
    bad = {}
    for k, v in now.items():
        if k in UNSIGNALLED:
            continue
        c = proxy.get_cached_property(k)
        if c is None or c.unpack() != v:
            bad[k] = (c.unpack() if c is not None else None, v)
    return bad


def transition(label, method, args=None, sig=None, want=None, changes=None):
    before = proxy.get_cached_property(changes).unpack() if changes else None
    call(path, IFACE, method, args, sig)
    reached = spin(30, lambda: proxy.get_cached_property("State").unpack() == want and
                   (not changes or proxy.get_cached_property(changes) is not None and
                    proxy.get_cached_property(changes).unpack() != before))
    check(reached, label + ": the proxy's State is " + want)
    bad = {}
    spin(3, lambda: not cached_matches())
    bad = cached_matches()
    check(not bad, label + ": every cached property equals a fresh Get", repr(bad))


transition("start", "Start", want="RUNNING")
transition("freeze", "Freeze", want="FROZEN")
transition("unfreeze", "Unfreeze", want="RUNNING")
transition("reboot", "Reboot", want="RUNNING", changes="InitPID")
transition("stop", "Stop", (0, True), "(ub)", want="STOPPED")
spin(0.3)
dups = [states[i] for i in range(1, len(states)) if states[i] == states[i - 1]]
check(not dups, "no state signalled twice in a row", repr(states))
order = ["STARTING", "RUNNING", "FROZEN", "RUNNING", "STARTING", "RUNNING", "STOPPING", "STOPPED"]
it = iter(states)
check(all(s in it for s in order), "states in order: " + " ".join(states))
check(states[:1] == ["STARTING"] and states[-2:] == ["STOPPING", "STOPPED"],
      "STARTING first, STOPPING and STOPPED last")

call(path, IFACE, "Destroy")
check(spin(30, lambda: manager.get_object(path) is None), "the ObjectManagerClient saw it disappear")
check(("added", path) in events, "object-added was signalled", repr(events))
check(("removed", path) in events, "object-removed was signalled", repr(events))
sys.exit(1 if failed else 0)
