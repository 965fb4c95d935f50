#!/usr/bin/env python3
"""Checks a trace written by a Beat pool (beat_config.trace_path, BEAT_TRACE).

Always checked: the file is JSON with a traceEvents list and otherData;
every event has ph, pid, tid and a numeric ts; one thread_name per track
and no name used twice; complete slices (X) have dur >= 0 and nest on each
thread (no partial overlap); flows pair up (each id has one s and one f,
the s on the pusher's thread inside one of its slices, the f with bp "e"
inside a slice marked stolen on another thread, not before the s); deque
and memory-pressure counters are present; the drop counts add up.

Slices are counted by kind (args.kind: job, spawn, pcall, chunk, ...);
their names are the function's beat_name_fn name, else the kind.
Options add exact expectations from the workload (see tests/test_trace.c).
Prints one line per failure and exits 1 if any, else prints a summary.
"""
import argparse
import collections
import json
import sys


def ns(value):
    """A ts or dur in microseconds (three decimals) as integer ns."""
    return round(float(value) * 1000)


class Checker:
    def __init__(self, path):
        self.path = path
        self.failures = []

    def fail(self, message):
        self.failures.append(message)

    def load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as err:
            self.fail(f"cannot read JSON: {err}")
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
            self.fail("no traceEvents list at the top level")
            return None
        if not isinstance(doc.get("otherData"), dict):
            self.fail("no otherData object")
            return None
        return doc

    def check_fields(self, events):
        for i, e in enumerate(events):
            if not isinstance(e, dict):
                self.fail(f"event {i} is not an object")
                continue
            for key in ("ph", "pid", "tid", "ts", "name"):
                if key not in e:
                    self.fail(f"event {i} has no {key}: {e}")
            if not isinstance(e.get("ts"), (int, float)) or e["ts"] < 0:
                self.fail(f"event {i} has a bad ts: {e}")
            if e.get("ph") == "X" and (not isinstance(e.get("dur"), (int, float))
                                       or e["dur"] < 0):
                self.fail(f"slice {i} has a bad dur: {e}")

    def check_names(self, events, workers):
        names = {}
        for e in events:
            if e.get("ph") == "M" and e.get("name") == "thread_name":
                tid, name = e["tid"], e["args"]["name"]
                if tid in names:
                    self.fail(f"tid {tid} named twice ({names[tid]!r}, {name!r})")
                names[tid] = name
        counts = collections.Counter(names.values())
        for name, n in counts.items():
            if n > 1:
                self.fail(f"thread name {name!r} used by {n} tids")
        if workers is not None:
            for w in range(workers):
                if counts[f"beat worker {w}"] != 1:
                    self.fail(f"no thread_name 'beat worker {w}'")
            extra = [n for n in names.values()
                     if n.startswith("beat worker ") and int(n.split()[-1]) >= workers]
            if extra:
                self.fail(f"more worker tracks than workers: {extra}")
        return names

    def check_nesting(self, slices):
        by_tid = collections.defaultdict(list)
        for e in slices:
            start = ns(e["ts"])
            by_tid[e["tid"]].append((start, start + ns(e["dur"]), e))
        for tid, spans in by_tid.items():
            spans.sort(key=lambda s: (s[0], -s[1]))
            stack = []
            for start, end, e in spans:
                while stack and stack[-1][1] <= start:
                    stack.pop()
                if stack and end > stack[-1][1]:
                    outer = stack[-1][2]
                    self.fail(f"tid {tid}: {e['name']} [{start}, {end}] ns overlaps "
                              f"{outer['name']} [{stack[-1][0]}, {stack[-1][1]}] ns partially")
                    return
                stack.append((start, end, e))
        return by_tid

    def innermost(self, by_tid, tid, t):
        """The innermost slice on tid containing t (ns), or None."""
        best = None
        for start, end, e in by_tid.get(tid, []):
            if start <= t <= end and (best is None or start >= best[0] and end <= best[1]):
                best = (start, end, e)
        return best[2] if best else None

    def check_flows(self, events, by_tid):
        starts, ends = {}, {}
        for e in events:
            if e.get("ph") in ("s", "f"):
                table = starts if e["ph"] == "s" else ends
                if e.get("id") in table:
                    self.fail(f"flow id {e.get('id')} has two '{e['ph']}' events")
                table[e.get("id")] = e
        if set(starts) != set(ends):
            self.fail(f"unpaired flows: s without f {sorted(set(starts) - set(ends))[:5]}, "
                      f"f without s {sorted(set(ends) - set(starts))[:5]}")
        for fid in set(starts) & set(ends):
            s, f = starts[fid], ends[fid]
            if s["tid"] == f["tid"]:
                self.fail(f"flow {fid} starts and ends on tid {s['tid']}")
            if ns(f["ts"]) < ns(s["ts"]):
                self.fail(f"flow {fid} ends before it starts")
            if f.get("bp") != "e":
                self.fail(f"flow {fid} end does not bind to its enclosing slice")
            if self.innermost(by_tid, s["tid"], ns(s["ts"])) is None:
                self.fail(f"flow {fid} starts outside every slice of tid {s['tid']}")
            inner = self.innermost(by_tid, f["tid"], ns(f["ts"]))
            if inner is None or not inner.get("args", {}).get("stolen"):
                self.fail(f"flow {fid} does not end in a stolen slice ({inner})")
        return len(starts)

    def check_counters(self, events, pressure):
        counters = collections.defaultdict(list)
        for e in events:
            if e.get("ph") == "C":
                counters[e["name"]].append(e)
        if not any(name.startswith("deque: ") for name in counters):
            self.fail("no deque depth counter")
        levels = [e["args"]["level"] for e in counters.get("memory pressure", [])]
        if not levels:
            self.fail("no memory pressure counter")
        if pressure is not None and pressure not in levels:
            self.fail(f"memory pressure never sampled at level {pressure} (levels {set(levels)})")

    def check_chunks(self, slices, begin, end):
        chunks = sorted((e["args"]["begin"], e["args"]["end"])
                        for e in slices if e["args"].get("kind") == "chunk")
        at = begin
        for b, e in chunks:
            if b != at or e <= b:
                self.fail(f"chunks do not tile [{begin}, {end}): [{b}, {e}) after {at}")
                return
            at = e
        if at != end:
            self.fail(f"chunks end at {at}, not {end}")

    def run(self, args):
        doc = self.load()
        if doc is None:
            return
        events, other = doc["traceEvents"], doc["otherData"]
        self.check_fields(events)
        if self.failures:
            return
        self.check_names(events, args.workers)
        slices = [e for e in events if e["ph"] == "X"]
        by_tid = self.check_nesting(slices)
        if by_tid is None:
            return
        flows = self.check_flows(events, by_tid)
        self.check_counters(events, args.pressure)
        for e in slices:
            if not isinstance(e.get("args"), dict) or "kind" not in e["args"]:
                self.fail(f"slice without a kind: {e}")
                return
        count = collections.Counter(e["args"]["kind"] for e in slices)
        named = collections.Counter(e["name"] for e in slices)
        for spec in args.named:
            name, n = spec.rsplit("=", 1)
            if named[name] != int(n):
                self.fail(f"{named[name]} slices named {name!r}, expected {n}")
        for spec in args.count:
            name, n = spec.rsplit("=", 1)
            if count[name] != int(n):
                self.fail(f"{count[name]} slices of kind '{name}', expected {n}")
        for spec in args.at_least:
            name, n = spec.rsplit("=", 1)
            if count[name] < int(n):
                self.fail(f"{count[name]} slices of kind '{name}', expected at least {n}")
        if args.flows is not None and flows != args.flows:
            self.fail(f"{flows} flows, expected {args.flows}")
        if other.get("flows") != flows:
            self.fail(f"otherData.flows {other.get('flows')} but {flows} flows in the file")
        dropped = other.get("dropped_events")
        if dropped != sum(other.get("dropped_per_ring", [])):
            self.fail(f"dropped_events {dropped} is not the sum of dropped_per_ring")
        if args.dropped is not None and dropped != args.dropped:
            self.fail(f"dropped_events {dropped}, expected {args.dropped}")
        if args.workers is not None and other.get("workers") != args.workers:
            self.fail(f"otherData.workers {other.get('workers')}, expected {args.workers}")
        if args.chunks is not None:
            begin, end = (int(x) for x in args.chunks.split(","))
            self.check_chunks(slices, begin, end)
        self.summary = (f"{len(events)} events, {len(slices)} slices "
                        f"({dict(sorted(count.items()))}), {flows} flows, {dropped} dropped")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--workers", type=int, help="exactly these worker tracks")
    parser.add_argument("--count", action="append", default=[], metavar="KIND=N",
                        help="exactly N slices of this kind (args.kind: job, pcall, ...)")
    parser.add_argument("--at-least", action="append", default=[], metavar="KIND=N",
                        help="at least N slices of this kind")
    parser.add_argument("--named", action="append", default=[], metavar="NAME=N",
                        help="exactly N slices named NAME (beat_name_fn)")
    parser.add_argument("--flows", type=int, help="exactly N flows")
    parser.add_argument("--dropped", type=int, help="otherData.dropped_events == N")
    parser.add_argument("--chunks", metavar="BEGIN,END",
                        help="the chunk slices tile [BEGIN, END) exactly")
    parser.add_argument("--pressure", type=int,
                        help="the memory pressure counter has a sample at this level")
    args = parser.parse_args()
    checker = Checker(args.trace)
    checker.run(args)
    for failure in checker.failures:
        print(f"trace_check: {args.trace}: FAIL: {failure}")
    if checker.failures:
        return 1
    print(f"trace_check: {args.trace}: ok: {checker.summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
