#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints the config keys warren knows, one a line, for shell completion:
read from lib/config-keys.c's tables at build time, so they never drift.

usage: gen-config-keys.py lib/config-keys.c > config-keys

Keys of the main table as they are; lxc.net.N keys for N = 0 (completion
offers lxc.net.0.*); prefix keys (lxc.cgroup2., lxc.sysctl., ...) with their
trailing dot."""
import re
import sys


def table(text, name):
    m = re.search(r"static const \w+ " + name + r"\[\] = \{(.*?)\n\};", text, re.S)
    if not m:
        sys.exit(f"gen-config-keys: no table {name} in {sys.argv[1]}")
    return re.findall(r'\b(?:S|L|SG|LG|C|P)\("([^"]+)"', m.group(1))


def main():
    text = open(sys.argv[1]).read()
    keys = table(text, "key_table")
    keys += ["lxc.net.0." + k for k in table(text, "net_table")]
    keys += table(text, "prefix_table")
    if len(keys) < 50:
        sys.exit(f"gen-config-keys: only {len(keys)} keys found in {sys.argv[1]}")
    print("\n".join(sorted(set(keys))))


if __name__ == "__main__":
    main()
