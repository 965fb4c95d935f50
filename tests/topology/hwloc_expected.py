#!/usr/bin/env python3
"""Turns hwloc's answer for a topology capture into beat-topo's line format.

Input: lstopo's console output (NAME.console) or an hwloc XML export
(NAME.xml, also `lstopo-no-graphics --of xml`). Output, on stdout, the lines
of `beat-topo` (DESIGN.md section 4) with canonical numbers: every core,
package, NUMA node and cache group is numbered in order of the lowest OS
index of the PUs listed in it, the same convention beat-topo uses, so two
answers with the same partitions print the same text:

    packages N / numa_nodes N / cores N / pus N
    pu <os> core <c> package <p> node <n|-> l2 <g|-> l3 <g|-> type <p|e|->

With --caches, then `cache l<level> <group> size <bytes>` for L2 and L3
(groups as in the pu lines) and `cache l1 size <bytes> count <n>` for the
L1 data caches (beat-topo's pu lines have no l1 column).

Core kinds: with two or more CPU kinds, the most efficient kind (hwloc's
highest efficiency rank) is "p" and every other kind "e"; otherwise "-".

Usage: hwloc_expected.py [--caches] FILE
Also importable: expected(path) returns a Topology.
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ET


class Topology:
    """PUs (by OS index) with the raw ids of what contains them."""

    def __init__(self):
        self.pus = {}  # os -> dict(core=, package=, node=, l1=, l2=, l3=)
        self.counts = {"packages": 0, "numa_nodes": 0, "cores": 0, "pus": 0}
        self.cache_size = {}  # (level, raw id) -> bytes
        self.kinds = []  # (efficiency, set of PU os indexes)

    def type_of(self, os):
        if len(self.kinds) < 2:
            return "-"
        best = max(eff for eff, _ in self.kinds)
        for eff, cpus in self.kinds:
            if os in cpus:
                return "p" if eff == best else "e"
        return "-"


def parse_cpuset(text):
    """hwloc cpuset "0x0000000f,0xffffffff" -> set of indexes."""
    digits = "".join(part.strip().replace("0x", "").rjust(8, "0") for part in text.split(","))
    value = int(digits or "0", 16)
    return {i for i in range(value.bit_length()) if value >> i & 1}


def canonical(topo, caches=False):
    """beat-topo lines for topo (see the module doc)."""
    numbering = {}

    def number(field, raw):
        if raw is None:
            return "-"
        table = numbering.setdefault(field, {})
        return str(table.setdefault(raw, len(table)))

    lines = []
    for os in sorted(topo.pus):
        pu = topo.pus[os]
        lines.append("pu %d core %s package %s node %s l2 %s l3 %s type %s" % (
            os, number("core", pu["core"]), number("package", pu["package"]),
            number("node", pu["node"]), number("l2", pu["l2"]), number("l3", pu["l3"]),
            topo.type_of(os)))
    head = ["packages %d" % len(numbering.get("package", {})),
            "numa_nodes %d" % max(1, len(numbering.get("node", {}))),
            "cores %d" % len(numbering.get("core", {})),
            "pus %d" % len(topo.pus)]
    tail = []
    if caches:
        for level in (2, 3):
            for raw, group in sorted(numbering.get("l%d" % level, {}).items(),
                                     key=lambda item: item[1]):
                tail.append("cache l%d %d size %d" % (level, group,
                                                      topo.cache_size.get((level, raw), 0)))
        l1 = sorted({pu["l1"] for pu in topo.pus.values() if pu["l1"] is not None})
        sizes = {}
        for raw in l1:
            size = topo.cache_size.get((1, raw), 0)
            sizes[size] = sizes.get(size, 0) + 1
        tail += ["cache l1 size %d count %d" % (s, n) for s, n in sorted(sizes.items())]
    return head + lines + tail


# ---------------------------------------------------------------------------
# lstopo console output

LINE = re.compile(r"^(\s*)([A-Za-z0-9]+) L#(\d+)(?: \((.*)\))?\s*$")
KIND = re.compile(r"^CPU kind #(\d+) efficiency (\d+) cpuset (\S+)")
SIZE = re.compile(r"size=(\d+)([KMG]i)?B")
UNITS = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}
CACHE = re.compile(r"^L(\d)(?:d|u)?Cache$")


def from_console(text):
    topo = Topology()
    stack = []  # (indent, type, id, node id of its NUMANode child or None)
    for line in text.splitlines():
        kind = KIND.match(line)
        if kind:
            topo.kinds.append((int(kind.group(2)), parse_cpuset(kind.group(3))))
            continue
        if line.startswith("Machine"):  # the root: it has no L#
            stack = [(0, "Machine", 0, [])]
            continue
        m = LINE.match(line)
        if not m:
            continue
        indent, typ, lid, attrs = len(m.group(1)), m.group(2), int(m.group(3)), m.group(4) or ""
        while len(stack) > 1 and stack[-1][0] >= indent:
            stack.pop()
        if typ == "NUMANode":
            topo.counts["numa_nodes"] += 1
            if stack:
                stack[-1][3].append(lid)
            continue
        stack.append((indent, typ, lid, []))
        cache = CACHE.match(typ)
        if cache:
            size = SIZE.search(attrs)
            if size:
                topo.cache_size[(int(cache.group(1)), lid)] = \
                    int(size.group(1)) * UNITS[size.group(2)]
        elif typ == "Package":
            topo.counts["packages"] += 1
        elif typ == "Core":
            topo.counts["cores"] += 1
        elif typ == "PU":
            topo.counts["pus"] += 1
            os = int(re.search(r"P#(\d+)", attrs).group(1))
            topo.pus[os] = containers(stack)
    return topo


def containers(stack):
    """Raw ids of the objects on stack (outermost first) that hold a PU."""
    pu = {"core": None, "package": None, "node": None, "l1": None, "l2": None, "l3": None}
    for _, typ, lid, nodes in stack:
        cache = CACHE.match(typ)
        if typ == "Core":
            pu["core"] = lid
        elif typ == "Package":
            pu["package"] = lid
        elif cache and int(cache.group(1)) <= 3:
            pu["l" + cache.group(1)] = lid
        if nodes:
            pu["node"] = nodes[0]
    return pu


# ---------------------------------------------------------------------------
# hwloc XML

def from_xml(text):
    topo = Topology()
    root = ET.fromstring(text)
    ids = {}

    def walk(elem, stack):
        typ = elem.get("type")
        nodes = [child for child in elem if child.tag == "object"
                 and child.get("type") == "NUMANode"]
        entry = (typ, ids.setdefault(id(elem), len(ids)), [ids.setdefault(id(n), len(ids))
                                                           for n in nodes])
        if typ == "NUMANode":
            topo.counts["numa_nodes"] += 1
            return
        stack = stack + [entry]
        cache = re.match(r"^L(\d)Cache$", typ or "")
        if cache and elem.get("cache_type") != "2":
            level = int(cache.group(1))
            topo.cache_size[(level, entry[1])] = int(elem.get("cache_size", "0"))
        elif typ == "Package":
            topo.counts["packages"] += 1
        elif typ == "Core":
            topo.counts["cores"] += 1
        elif typ == "PU":
            topo.counts["pus"] += 1
            topo.pus[int(elem.get("os_index"))] = xml_containers(stack)
        for child in elem:
            if child.tag == "object":
                walk(child, stack)

    for top in root:
        if top.tag == "object":
            walk(top, [])
        elif top.tag == "cpukind":
            eff = int(top.get("forced_efficiency", top.get("efficiency", "0")))
            topo.kinds.append((eff, parse_cpuset(top.get("cpuset", "0x0"))))
    return topo


def xml_containers(stack):
    pu = {"core": None, "package": None, "node": None, "l1": None, "l2": None, "l3": None}
    for typ, oid, nodes in stack:
        cache = re.match(r"^L(\d)Cache$", typ or "")
        if typ == "Core":
            pu["core"] = oid
        elif typ == "Package":
            pu["package"] = oid
        elif cache and int(cache.group(1)) <= 3:
            pu["l" + cache.group(1)] = oid
        if nodes:
            pu["node"] = nodes[0]
    return pu


def expected(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return from_xml(text) if text.lstrip().startswith("<?xml") else from_console(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caches", action="store_true")
    parser.add_argument("file")
    args = parser.parse_args()
    print("\n".join(canonical(expected(args.file), args.caches)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
