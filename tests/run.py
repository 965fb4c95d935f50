#!/usr/bin/env python3
"""Runs every test program given on the command line and sums their counts.

Each program prints its own cases and a last line "N passed, N failed[, N
skipped]". A program that exits 77 without such a line counts as one skipped
suite; one that crashes, hangs past --timeout or prints no count line counts
as one failure. The last line printed here is the total, "N passed, N
failed[, N skipped]"; the exit status is 1 if anything failed.
"""
import argparse
import re
import subprocess
import sys

COUNT = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$")


def run_one(cmd, timeout):
    """Returns (passed, failed, skipped) for one program, echoing its output."""
    print(f"=== {cmd}", flush=True)
    try:
        proc = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout, text=True)
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        sys.stdout.write(out if isinstance(out, str) else out.decode(errors="replace"))
        print(f"FAIL {cmd}: no result after {timeout} s")
        return 0, 1, 0
    sys.stdout.write(proc.stdout)
    lines = proc.stdout.strip().splitlines()
    last = COUNT.match(lines[-1]) if lines else None
    if proc.returncode == 77 and last is None:
        return 0, 0, 1
    if last is None:
        print(f"FAIL {cmd}: exit {proc.returncode} without a count line")
        return 0, 1, 0
    passed, failed, skipped = (int(g or 0) for g in last.groups())
    if proc.returncode != 0 and failed == 0:
        print(f"FAIL {cmd}: exit {proc.returncode} although no case failed")
        failed = 1
    return passed, failed, skipped


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("commands", nargs="+")
    args = parser.parse_args()
    totals = [0, 0, 0]
    for cmd in args.commands:
        for i, n in enumerate(run_one(cmd, args.timeout)):
            totals[i] += n
    passed, failed, skipped = totals
    print("=== total")
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
