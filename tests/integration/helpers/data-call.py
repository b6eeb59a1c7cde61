#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Calls a container data method that takes fds, as a client other than
warrenctl would (for tests that hand warrend what warrenctl never sends),
and follows the job it returns.

usage: data-call.py push NAME TARFILE DEST [KEY=BOOL...]
       data-call.py pull NAME OUTFILE PATH... [--recursive]
       data-call.py export NAME OUT=FILE[:r]... [--compression=C] [--option=KEY:TYPE:VALUE]
       data-call.py cancel-clone NAME NEW_NAME   (starts a clone and cancels its job at once)

OUT is rootfs, meta or unified (anything else is passed as given); ":r" opens
the file read-only. Prints "error NAME: MESSAGE" and exits 2 if the call
fails, else waits for JobRemoved and prints "job RESULT: MESSAGE (ERROR)",
exiting 0 if the job is done, 1 otherwise."""
import os
import sys

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()


def container(name):
    mgr = dbus.Interface(bus.get_object("org.warren1", "/org/warren1"), "org.warren1.Manager")
    path = mgr.GetContainer(name)
    return dbus.Interface(bus.get_object("org.warren1", path), "org.warren1.Container")


def follow(start, cancel=False):
    loop = GLib.MainLoop()
    state = {"path": None, "result": None}

    def removed(jid, path, result):
        if state["path"] is not None and path == state["path"]:
            state["result"] = str(result)
            loop.quit()
        elif state["path"] is None:
            state.setdefault("early", {})[str(path)] = str(result)

    bus.add_signal_receiver(removed, "JobRemoved", "org.warren1.Manager", "org.warren1", "/org/warren1")
    # Subscribed before the call: a short job's Message comes before its reply is read.
    changes = {}

    def on_changed(iface, changed, invalidated, path=None):
        for k in ("Message", "Error"):
            if k in changed:
                changes.setdefault(str(path), {})[k] = str(changed[k])

    bus.add_signal_receiver(on_changed, "PropertiesChanged", "org.freedesktop.DBus.Properties", "org.warren1",
                            path_keyword="path")
    try:
        path = start()
    except dbus.DBusException as e:
        print(f"error {e.get_dbus_name()}: {e.get_dbus_message()}")
        return 2
    state["path"] = path
    job = bus.get_object("org.warren1", path, introspect=False)
    if cancel:
        try:
            dbus.Interface(job, "org.warren1.Job").Cancel()
        except dbus.DBusException as e:
            print(f"cancel error {e.get_dbus_name()}: {e.get_dbus_message()}")
    if "early" in state and path in state["early"]:
        state["result"] = state["early"][path]
    else:
        GLib.timeout_add_seconds(300, loop.quit)
        loop.run()
    got = changes.get(str(path), {})
    print(f"job {state['result']}: {got.get('Message', '')} ({got.get('Error', '')})")
    return 0 if state["result"] == "done" else 1


def main():
    cmd, name = sys.argv[1], sys.argv[2]
    c = container(name)
    if cmd == "push":
        tar = sys.argv[3]
        fd = os.open(tar[:-2], os.O_WRONLY) if tar.endswith(":w") else os.open(tar, os.O_RDONLY)
        opts = {}
        for kv in sys.argv[5:]:
            k, v = kv.split("=")
            opts[k] = dbus.Boolean(v == "true")
        return follow(lambda: c.PushFiles(dbus.types.UnixFd(fd), sys.argv[4], dbus.Dictionary(opts, signature="sv")))
    if cmd == "pull":
        fd = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        paths = [p for p in sys.argv[4:] if not p.startswith("--")]
        opts = {"recursive": dbus.Boolean(True)} if "--recursive" in sys.argv else {}
        return follow(lambda: c.PullFiles(dbus.Array(paths, signature="s"), dbus.types.UnixFd(fd),
                                          dbus.Dictionary(opts, signature="sv")))
    if cmd == "export":
        outs, opts = {}, {}
        for a in sys.argv[3:]:
            if a.startswith("--compression="):
                opts["compression"] = a.split("=", 1)[1]
            elif a.startswith("--option="):
                k, t, v = a.split("=", 1)[1].split(":")
                opts[k] = dbus.Boolean(v == "true") if t == "b" else dbus.UInt32(int(v)) if t == "u" else v
            else:
                key, spec = a.split("=", 1)
                ro = spec.endswith(":r")
                f = spec[:-2] if ro else spec
                fd = os.open(f, os.O_RDONLY) if ro else os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                outs[key] = dbus.types.UnixFd(fd)
        return follow(lambda: c.Export(dbus.Dictionary(outs, signature="sh"), dbus.Dictionary(opts, signature="sv")))
    if cmd == "cancel-clone":
        return follow(lambda: c.Clone(sys.argv[3], dbus.Dictionary({}, signature="sv"))[1], cancel=True)
    print(f"unknown command {cmd}", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
