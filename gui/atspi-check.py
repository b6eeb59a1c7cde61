#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the front end shows, read through AT-SPI with dogtail, as a screen
reader would (for tests/integration/test-90-gui.sh).

    atspi-check.py row NAME STATE [--badge]   the container list has NAME with STATE
                                              (and the "unprivileged" badge)
    atspi-check.py absent NAME                the container list has no NAME
    atspi-check.py text REGEX                 some showing text matches REGEX
    atspi-check.py click LABEL [WINDOW_REGEX] press the showing button LABEL
    atspi-check.py dump                       print the showing tree

Waits up to --timeout seconds (default 15) for the condition; prints what it
saw; exit status 0 if it held, 1 if not, 2 if the app is not on AT-SPI.
"""

import argparse
import re
import sys
import time

from dogtail.config import config

config.checkForA11y = False  # the toolkit talks AT-SPI without the GNOME setting
config.logDebugToFile = False
config.logDebugToStdOut = False
config.searchBackoffDuration = 0.2
config.searchCutoffCount = 5
from dogtail import tree  # noqa: E402
import pyatspi  # noqa: E402

APP = "warren-containers"


def plain(s):
    return (s or "").replace("\u00a0", " ")


def showing(node):
    """GTK 4.8 sets SHOWING on windows only; VISIBLE on the widgets (also on
    the pages a GtkStack hides: checks look for what only a shown page has)."""
    try:
        st = node.getState()
        return st.contains(pyatspi.STATE_VISIBLE) or st.contains(pyatspi.STATE_SHOWING)
    except Exception:
        return False


def walk(node, depth=0):
    """Showing nodes, depth first."""
    if depth > 60 or not showing(node):
        return
    yield node
    try:
        children = node.children
    except Exception:
        return
    for c in children:
        yield from walk(c, depth + 1)


def find_app():
    for a in tree.root.applications():
        if a.name == APP:
            return a
    return None


def container_rows(app):
    """(name, [texts]) of each row of the container list."""
    rows = []
    for n in (x for w in app.children for x in walk(w)):
        if n.roleName != "list":
            continue
        for item in n.children:
            if item.roleName != "list item" or not showing(item):
                continue
            texts = [plain(x.name) for x in walk(item) if x.roleName == "label"]
            rows.append((plain(item.name), texts))
    return rows


def check_once(app, a, look):
    """One look at the tree: 0 if the condition holds (or dump), None if not yet."""
    if a.what == "row":
        name, want = a.args
        rows = container_rows(app)
        look["seen"] = "; ".join(f"{n}: {' | '.join(t)}" for n, t in rows)
        for n, texts in rows:
            if n == name and want in texts and (not a.badge or "unprivileged" in texts):
                print(f"atspi: row {n}: {' | '.join(texts)}")
                return 0
    elif a.what == "absent":
        rows = container_rows(app)
        look["seen"] = "; ".join(n for n, _ in rows)
        if all(n != a.args[0] for n, _ in rows):
            print(f"atspi: no row {a.args[0]} (rows: {look['seen']})")
            return 0
    elif a.what == "text":
        rx = re.compile(a.args[0])
        texts = [plain(n.name) for w in app.children for n in walk(w) if n.name]
        look["seen"] = " | ".join(texts)[-3000:]
        hits = [t for t in texts if rx.search(t)]
        if hits:
            print(f"atspi: found: {hits[0]}")
            return 0
    elif a.what == "click":
        label = a.args[0]
        wrx = re.compile(a.args[1]) if len(a.args) > 1 else None
        for w in app.children:
            if wrx and not wrx.search(plain(w.name)):
                continue
            for n in walk(w):
                if n.roleName == "push button" and any(plain(c.name) == label for c in walk(n)) or \
                        (n.roleName == "push button" and plain(n.name) == label):
                    n.doActionNamed("click")
                    print(f"atspi: clicked {label} in {plain(w.name)!r}")
                    return 0
        look["seen"] = ", ".join(plain(w.name) for w in app.children)
    elif a.what == "dump":
        for w in app.children:
            for n in walk(w):
                print(f"[{n.roleName}] {plain(n.name)!r}")
        return 0
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["row", "absent", "text", "click", "dump"])
    p.add_argument("args", nargs="*")
    p.add_argument("--badge", action="store_true")
    p.add_argument("--timeout", type=float, default=15)
    a = p.parse_args()

    deadline = time.monotonic() + a.timeout
    app = None
    while app is None and time.monotonic() < deadline:
        app = find_app()
        if app is None:
            time.sleep(0.3)
    if app is None:
        print(f"atspi: {APP} is not on the accessibility bus")
        return 2

    state = {"seen": "", "error": None}
    while True:
        # The tree changes under us (rows rebuilt, windows closing): an
        # accessible that went away mid-walk is another look, not a verdict.
        try:
            rc = check_once(app, a, state)
            state["error"] = None
        except Exception as e:  # pyatspi raises GLib and D-Bus errors alike
            state["error"] = f"{type(e).__name__}: {e}"
            rc = None
            app = find_app() or app
        if rc is not None:
            return rc
        if time.monotonic() >= deadline:
            break
        time.sleep(0.3)
    if state["error"]:
        print(f"atspi: the last look failed: {state['error']}")
    seen = state["seen"]
    print(f"atspi: not seen within {a.timeout:.0f} s; saw: {seen}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
