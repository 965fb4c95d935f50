#!/usr/bin/env python3
"""Checks beat-topo against hwloc's answers on real machines.

Cases, one line each ("ok", "FAIL" with a diff, or "skip" with the reason):
  linux/NAME  every ../shared/fixtures/hwloc/linux/NAME.tar.bz2 capture:
              `beat-topo --sysfs DIR` against NAME.console (or NAME.xml)
  x86/NAME    every ../shared/fixtures/hwloc/x86/NAME.tar.bz2 cpuid dump:
              `beat-topo --cpuid-dump DIR --caches` against NAME.xml,
              cache sizes included
  live        this machine against `lstopo-no-graphics --of xml`
  taskset     `taskset -c 1 beat-topo --tree` says default_workers 1

hwloc shows only the PUs this process may use, so beat-topo's PU lines are
first cut down to its own "allowed" list (from --tree), then both sides are
renumbered canonically (tests/topology/hwloc_expected.py): partitions are
compared, not hwloc's logical numbers. The captures are unpacked into
build/fixtures/. The last line is "N passed, N failed[, N skipped]"; the
exit status is 1 if a case failed.
"""

import argparse
import difflib
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import hwloc_expected  # noqa: E402


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def ok(self, name, note=""):
        self.passed += 1
        print("ok   %s%s" % (name, " (%s)" % note if note else ""), flush=True)

    def fail(self, name, why, diff=()):
        self.failed += 1
        print("FAIL %s: %s" % (name, why))
        for line in list(diff)[:30]:
            print("     " + line.rstrip("\n"))
        sys.stdout.flush()

    def skip(self, name, why):
        self.skipped += 1
        print("skip %s: %s" % (name, why), flush=True)


def run(cmd):
    """(exit status, stdout, stderr) of cmd."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def parse_cpulist(text):
    cpus = set()
    for part in text.strip().split(","):
        if part in ("", "none"):
            continue
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def ours(lines, keep=None):
    """A hwloc_expected.Topology from beat-topo's lines, PUs cut to keep."""
    topo = hwloc_expected.Topology()
    groups = {}
    types = {}
    for line in lines:
        f = line.split()
        if f and f[0] == "pu":
            os_index = int(f[1])
            if keep is not None and os_index not in keep:
                continue
            value = dict(zip(f[2::2], f[3::2]))
            topo.pus[os_index] = {k: None if value[k] == "-" else value[k]
                                  for k in ("core", "package", "node", "l2", "l3")}
            topo.pus[os_index]["l1"] = None
            types[os_index] = value["type"]
        elif f and f[0] == "cache" and len(f) >= 5:
            level = int(f[1][1:])
            if level == 1:
                groups.setdefault("l1", []).append(int(f[4]))
            else:
                topo.cache_size[(level, f[2])] = int(f[4])
        elif len(f) == 2 and f[0] in topo.counts:
            topo.counts[f[0]] = int(f[1])
    topo.type_of = lambda os_index: types.get(os_index, "-")
    return topo, groups.get("l1", [])


def l1_lines(sizes):
    counted = {}
    for size in sizes:
        counted[size] = counted.get(size, 0) + 1
    return ["cache l1 size %d count %d" % (s, n) for s, n in sorted(counted.items())]


def compare(res, name, want, got, extra=""):
    if want == got:
        res.ok(name, extra)
    else:
        diff = difflib.unified_diff([w + "\n" for w in want], [g + "\n" for g in got],
                                    "hwloc", "beat-topo", n=1)
        res.fail(name, "differs from hwloc", list(diff)[2:])


def unpack(archive, dest):
    """Unpacks archive into dest (once); returns the one directory in it."""
    stamp = os.path.join(dest, ".unpacked")
    if not os.path.exists(stamp) or os.path.getmtime(stamp) < os.path.getmtime(archive):
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        status, _, err = run(["tar", "-xjf", archive, "-C", dest])
        if status != 0:
            raise RuntimeError("tar -xjf %s: %s" % (archive, err.strip()))
        open(stamp, "w").close()
    dirs = [d for d in os.listdir(dest) if os.path.isdir(os.path.join(dest, d))]
    return os.path.join(dest, dirs[0]) if len(dirs) == 1 else dest


def answer_file(fixtures, kind, name):
    """NAME.console or NAME.xml: the "target:" of NAME.test, else either."""
    test = os.path.join(fixtures, kind, name + ".test")
    if os.path.exists(test):
        for line in open(test, encoding="utf-8"):
            if line.startswith("target:"):
                return os.path.join(fixtures, kind, line.split(":", 1)[1].strip())
    for ext in (".console", ".xml"):
        path = os.path.join(fixtures, kind, name + ext)
        if os.path.exists(path):
            return path
    return None


def check_sysfs(res, tool, root, want_topo, case):
    """beat-topo on root (None: live) against want_topo, PUs cut to ours."""
    args = [tool] + (["--sysfs", root] if root else [])
    status, plain, err = run(args)
    status2, tree, err2 = run(args + ["--tree"])
    if status != 0 or status2 != 0:
        res.fail(case, "beat-topo failed: " + (err or err2).strip())
        return
    allowed = online = None
    for line in tree.splitlines():
        if line.startswith("allowed "):
            allowed = parse_cpulist(line.split(None, 1)[1])
        elif line.startswith("online "):
            online = parse_cpulist(line.split(None, 1)[1])
    got_topo, _ = ours(plain.splitlines(), allowed)
    want = hwloc_expected.canonical(want_topo)
    got = hwloc_expected.canonical(got_topo)
    # Whole-machine counts too, when nothing is cut away on either side.
    if allowed == online and set(want_topo.pus) == allowed:
        want_counts = ["%s %d" % (k, want_topo.counts[k]) for k in ("packages", "cores", "pus")]
        got_counts = ["%s %d" % (k, got_topo.counts[k]) for k in ("packages", "cores", "pus")]
        want += want_counts + ["numa_nodes %d" % max(1, want_topo.counts["numa_nodes"])]
        got += got_counts + ["numa_nodes %d" % got_topo.counts["numa_nodes"]]
    compare(res, case, want, got, "%d PUs, %d allowed" % (len(online or ()), len(allowed or ())))


def check_linux(res, tool, fixtures, build):
    folder = os.path.join(fixtures, "linux")
    for archive in sorted(f for f in os.listdir(folder) if f.endswith(".tar.bz2")):
        name = archive[:-len(".tar.bz2")]
        case = "linux/" + name
        answer = answer_file(fixtures, "linux", name)
        if answer is None:
            res.skip(case, "no .console or .xml answer")
            continue
        root = unpack(os.path.join(folder, archive), os.path.join(build, "linux", name))
        check_sysfs(res, tool, root, hwloc_expected.expected(answer), case)


def check_x86(res, tool, fixtures, build):
    folder = os.path.join(fixtures, "x86")
    for archive in sorted(f for f in os.listdir(folder) if f.endswith(".tar.bz2")):
        name = archive[:-len(".tar.bz2")]
        case = "x86/" + name
        answer = answer_file(fixtures, "x86", name)
        if answer is None:
            res.skip(case, "no .xml answer")
            continue
        root = unpack(os.path.join(folder, archive), os.path.join(build, "x86", name))
        status, out, err = run([tool, "--cpuid-dump", root, "--caches"])
        if status != 0 and "UNSUPPORTED" in err:
            res.skip(case, "cpuid dumps not supported by this build: " + err.strip())
            continue
        if status != 0:
            res.fail(case, "beat-topo --cpuid-dump failed: " + err.strip())
            continue
        got_topo, l1 = ours(out.splitlines())
        want_topo = hwloc_expected.expected(answer)
        want = hwloc_expected.canonical(want_topo, caches=True)
        got = hwloc_expected.canonical(got_topo, caches=True)
        got = [g for g in got if not g.startswith("cache l1")] + l1_lines(l1)
        compare(res, case, want, got, "%d PUs" % len(got_topo.pus))


def check_live(res, tool):
    lstopo = shutil.which("lstopo-no-graphics")
    if lstopo is None:
        res.skip("live", "lstopo-no-graphics not installed (Debian package hwloc)")
        return
    status, xml, err = run([lstopo, "--of", "xml", "-"])
    if status != 0:
        res.skip("live", "lstopo-no-graphics failed: " + err.strip())
        return
    check_sysfs(res, tool, None, hwloc_expected.from_xml(xml), "live (lstopo)")


def check_taskset(res, tool):
    taskset = shutil.which("taskset")
    mask = os.sched_getaffinity(0)
    if taskset is None:
        res.skip("taskset", "taskset not installed")
        return
    if 1 not in mask or len(mask) < 2:
        res.skip("taskset", "CPU 1 is not one of two or more this process may use")
        return
    status, out, err = run([taskset, "-c", "1", tool, "--tree"])
    lines = out.splitlines()
    if status == 0 and "default_workers 1" in lines and "allowed 1" in lines:
        res.ok("taskset -c 1: default_workers 1")
    else:
        res.fail("taskset -c 1", "expected default_workers 1 and allowed 1",
                 [err.strip()] + lines[-5:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", default=os.path.join(ROOT, "build", "beat-topo"))
    parser.add_argument("--fixtures",
                        default=os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "hwloc"))
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "fixtures"))
    args = parser.parse_args()
    res = Results()
    if not os.access(args.tool, os.X_OK):
        res.fail("beat-topo", "%s is not built (make build/beat-topo)" % args.tool)
    elif not os.path.isdir(args.fixtures):
        res.skip("captures", "%s is absent" % args.fixtures)
    else:
        check_linux(res, args.tool, args.fixtures, args.build)
        check_x86(res, args.tool, args.fixtures, args.build)
    if os.access(args.tool, os.X_OK):
        check_live(res, args.tool)
        check_taskset(res, args.tool)
    tail = ", %d skipped" % res.skipped if res.skipped else ""
    print("%d passed, %d failed%s" % (res.passed, res.failed, tail))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
