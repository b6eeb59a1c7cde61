#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares an interface in dbus/*.xml with live introspection of an object.

usage: introspect-diff.py XML_FILE OBJECT_PATH
Prints the differences (methods with their in/out signatures and arg names,
signals, properties with type, access and EmitsChangedSignal annotation)
and exits 1 if there are any."""
import subprocess
import sys
import xml.etree.ElementTree as ET


def describe(iface):
    out = set()
    for m in iface.findall("method"):
        args = [(a.get("direction", "in"), a.get("type"), a.get("name")) for a in m.findall("arg")]
        out.add(("method", m.get("name"), tuple(args)))
    for s in iface.findall("signal"):
        out.add(("signal", s.get("name"), tuple((a.get("type"), a.get("name")) for a in s.findall("arg"))))
    for p in iface.findall("property"):
        emits = "true"
        for a in p.findall("annotation"):
            if a.get("name") == "org.freedesktop.DBus.Property.EmitsChangedSignal":
                emits = a.get("value")
        out.add(("property", p.get("name"), p.get("type"), p.get("access"), emits))
    return out


def main():
    xml_file, path = sys.argv[1], sys.argv[2]
    spec = ET.parse(xml_file).getroot()
    ispec = spec.find("interface")
    name = ispec.get("name")
    live_xml = subprocess.run(
        ["busctl", "--system", "call", "--json=short", "org.warren1", path,
         "org.freedesktop.DBus.Introspectable", "Introspect"],
        check=True, capture_output=True, text=True).stdout
    import json
    live_text = json.loads(live_xml)["data"][0]
    live = ET.fromstring(live_text)
    ilive = [i for i in live.findall("interface") if i.get("name") == name]
    if not ilive:
        print(f"interface {name} missing at {path}")
        return 1
    a, b = describe(ispec), describe(ilive[0])
    rc = 0
    for x in sorted(a - b, key=str):
        print("only in XML: ", x)
        rc = 1
    for x in sorted(b - a, key=str):
        print("only live:   ", x)
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
