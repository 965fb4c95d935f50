#!/usr/bin/env python3
"""Runs the benchmark programs and writes the report.

    python3 run.py [--quick] [--only fib,tree] [--workers 1,2] [--rounds R]

Builds nothing (`make -C bench build` does). Runs every workload of every
program found in ../build/bench (beat_bench, omp_bench, tbb_bench), reads
their JSON, and writes results/latest.md, results/latest.json and, when
matplotlib imports, results/latest.png. Needs only the Python 3 standard
library. A wrong answer in any program aborts the run (exit 2).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.normpath(os.path.join(HERE, "..", "build", "bench"))
RESULTS = os.path.join(HERE, "results")

# (contestant, program): the order of the rows in every table.
PROGRAMS = [("beat", "beat_bench"), ("beat-clang", "beat_bench_clang"), ("omp", "omp_bench"),
            ("tbb", "tbb_bench")]
# Contestants that run only some workloads. beat-clang is Beat and its serial
# baseline built by clang: gcc inlines the serial recursion of fib and tree
# several levels deep (a pcall cannot be), clang does not, so the two show
# how much of those rows' T1/Ts is the baseline's compiler.
ONLY = {"beat-clang": ["fib", "tree"]}
WORKLOADS = ["fib", "tree", "tasks", "sum", "map", "idle", "wake", "regions", "deque", "submit"]

# The goals table of shared/BENCHMARKS.md: (label, workload, case, Beat's
# variants that count (a tuple) or None for every variant, metric, "<=" or
# ">=", goal, best peer there). The tasks goals are for one submitting
# thread, so Beat's submit2 (two submitting threads) is not among them.
GOALS = [
    ("fib(35) overhead T1/Ts", "fib", "n=35", None, "overhead", "<=", 1.5, "2.16 Lace"),
    ("fib(35) speedup Ts/T2", "fib", "n=35", None, "speedup_2", ">=", 1.3, "0.90 Lace"),
    ("tree 10M speedup Ts/T2", "tree", "N=10000000", None, "speedup_2", ">=", 1.6, "1.11 Lace"),
    ("tree 64K overhead T1/Ts", "tree", "N=65535", None, "overhead", "<=", 1.3, "2.27 Spice"),
    ("tree 1,023 T2/Ts", "tree", "N=1023", None, "T2/Ts", "<=", 1.5, "2.0 Spice"),
    ("tasks 500-cycle efficiency, 2 workers (%)", "tasks", "500cyc x1000000", ("submit", "batch"),
     "efficiency_2", ">=", 85, "66 enkiTS"),
    ("tasks 50-cycle efficiency, 2 workers (%), batch API", "tasks", "50cyc x1000000", ("batch",),
     "efficiency_2", ">=", 40, "6.3 libgomp"),
    ("tasks 5,000-cycle efficiency, 2 workers (%)", "tasks", "5000cyc x1000000",
     ("submit", "batch"),
     "efficiency_2", ">=", 97, "96.5 enkiTS"),
    ("map speedup Ts/T2", "map", "N=10000000", None, "speedup_2", ">=", 1.95, "2.00 Lace"),
    ("sum speedup Ts/T2", "sum", "N=100000000", None, "speedup_2", ">=", 1.3, "1.32 Rayon"),
    ("idle CPU in 2 s after a job (ms)", "idle", "2 workers, 2000 ms", None, "after_job", "<=", 1,
     "0.06 enkiTS"),
    ("wake median (us)", "wake", "1000 tries", None, "median", "<=", 8, "8.7 at 4.9% enkiTS"),
    ("wake CPU during the test (%)", "wake", "1000 tries", None, "cpu", "<=", 5, ""),
]

# The metrics drawn in the chart, per workload: (metric, axis label).
CHART = {
    "fib": [("overhead", "T1/Ts"), ("speedup_2", "Ts/T2")],
    "tree": [("overhead", "T1/Ts"), ("speedup_2", "Ts/T2")],
    "tasks": [("overhead", "T1/Ts"), ("efficiency_2", "efficiency 2w %")],
    "sum": [("overhead", "T1/Ts"), ("speedup_2", "Ts/T2")],
    "map": [("overhead", "T1/Ts"), ("speedup_2", "Ts/T2")],
    "regions": [("overhead", "T1/Ts"), ("speedup_2", "Ts/T2")],
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, 3 rounds: a smoke test")
    p.add_argument("--only", default="", help="comma-separated workloads (default: all)")
    p.add_argument("--workers", default="1,2", help="worker counts of the parallel phases")
    p.add_argument("--rounds", type=int, default=0, help="rounds per case (default 7, quick 3)")
    p.add_argument("--timeout", type=int, default=0,
                   help="seconds per program run before it counts as hung "
                        "(default 7200, quick 600)")
    args = p.parse_args()
    args.only = [w for w in args.only.split(",") if w]
    unknown = [w for w in args.only if w not in WORKLOADS and w != "calibrate"]
    if unknown:
        p.error("unknown workload(s): %s (have: %s)" % (", ".join(unknown), ", ".join(WORKLOADS)))
    if not args.timeout:
        args.timeout = 600 if args.quick else 7200
    return args


# ---------------------------------------------------------------------------
# Running the programs


def find_programs():
    found = []
    for contestant, name in PROGRAMS:
        path = os.path.join(BUILD, name)
        if os.access(path, os.X_OK):
            found.append((contestant, path))
        else:
            print("note: %s not built, %s skipped" % (path, contestant))
    if not found or found[0][0] != "beat":
        sys.exit("error: %s/beat_bench is missing: run `make -C bench build` first" % BUILD)
    return found


def program_workloads(path):
    out = subprocess.run([path, "--list"], capture_output=True, text=True, check=True).stdout
    return [line.split("\t")[0] for line in out.splitlines() if line]


def run_program(path, workload, extra, timeout):
    """Runs one program on one workload; returns (json or None, command, error)."""
    fd, json_path = tempfile.mkstemp(suffix=".json", prefix="bench-")
    os.close(fd)
    cmd = [path, workload, "--json", json_path] + extra
    shown = " ".join([os.path.relpath(path, os.path.join(HERE, ".."))] + cmd[1:2] + extra)
    print("$ " + shown, flush=True)
    try:
        rc = subprocess.run(cmd, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        os.unlink(json_path)
        return None, shown, "timed out after %d s" % timeout
    if rc == 2:
        os.unlink(json_path)
        print("run aborted: %s computed a wrong answer (see above)" % shown, file=sys.stderr)
        sys.exit(2)
    data, error = None, None
    if rc != 0:
        error = "exit status %d" % rc
    else:
        try:
            with open(json_path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            error = "unreadable JSON: %s" % e
    os.unlink(json_path)
    return data, shown, error


# ---------------------------------------------------------------------------
# Machine facts


def command_line_output(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        return out.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_facts():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": cpus,
        "cpu_model": model,
        "kernel": platform.release(),
        "gcc": command_line_output(["gcc", "--version"]).split("\n")[0],
        "clang": command_line_output(["clang", "--version"]).split("\n")[0],
        "g++": command_line_output(["g++", "--version"]).split("\n")[0],
        "python": platform.python_version(),
        "psi": os.path.exists("/proc/pressure/cpu"),
        "build_commands": command_line_output(
            ["make", "-s", "--no-print-directory", "-C", HERE, "flags"]).split("\n"),
    }


# ---------------------------------------------------------------------------
# Formatting


def metric_map(result):
    return {m["name"]: m for m in result["metrics"]}


def fmt_number(v):
    if v is None:
        return "—"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 10:
        return "%.2f" % v
    return "%.3g" % v


def time_scale(v):
    """Unit and factor for a time in seconds."""
    if v is None or v >= 1:
        return "s", 1.0
    if v >= 1e-3:
        return "ms", 1e3
    return "µs", 1e6


def fmt_metric(m):
    med, lo, hi = m["median"], m["min"], m["max"]
    if med is None:
        return "—"
    unit, k = time_scale(med) if m["unit"] == "s" else ("", 1.0)
    return "%s%s (%s–%s)" % (fmt_number(med * k), " " + unit if unit else "", fmt_number(lo * k),
                            fmt_number(hi * k))


def column_title(m):
    names = {"overhead": "overhead T1/Ts", "Ts": "Ts", "foreign_psi": "foreign PSI %"}
    name = m["name"]
    if name in names:
        return names[name]
    for prefix, title in (("speedup_", "speedup Ts/T"), ("scaling_", "scaling T1/T")):
        if name.startswith(prefix):
            return title + name[len(prefix):]
    if name.startswith("efficiency_"):
        return "efficiency %s workers %%" % name[len("efficiency_"):]
    unit = {"x": "", "s": "", "%": " %"}.get(m["unit"], " " + m["unit"])
    return name + unit


def workload_table(workload, rows):
    """rows: (contestant, result). One markdown table for the workload."""
    columns, seen = [], set()
    for _, r in rows:
        for m in r["metrics"]:
            if m["name"] not in seen:
                seen.add(m["name"])
                columns.append(m)
    head = ["case", "contestant"] + [column_title(m) for m in columns] + ["rounds", "PSI repeats"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for contestant, r in rows:
        ms = metric_map(r)
        who = contestant + ("/" + r["variant"] if r["variant"] else "")
        cells = [r["case"], who] + [fmt_metric(ms[c["name"]]) if c["name"] in ms else "—"
                                    for c in columns]
        repeats = str(r["pressure_repeats"])
        if r["kept_under_pressure"]:
            repeats += " (%d kept over)" % r["kept_under_pressure"]
        cells += [str(r["rounds"]), repeats]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [(r["case"], contestant + ("/" + r["variant"] if r["variant"] else ""), r["note"])
             for contestant, r in rows if r.get("note")]
    if len({n for _, _, n in notes}) == 1:  # the same for every row: say it once
        bullets = ["- " + notes[0][2]]
    else:
        bullets = ["- %s, %s: %s" % n for n in notes]
    return "\n".join(lines) + "\n\n" + "".join(b + "\n" for b in bullets)


def goal_value(result, metric):
    """Median of a metric, or of T2/Ts computed round by round."""
    ms = metric_map(result)
    if metric == "T2/Ts":
        if "speedup_2" not in ms:
            return None
        values = sorted(1.0 / v for v in ms["speedup_2"]["values"] if v)
        if not values:
            return None
        n = len(values)
        return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    return ms[metric]["median"] if metric in ms else None


def goals_table(runs):
    lines = ["| metric | goal | best peer (BENCHMARKS.md) | measured here: median "
             "| met by Beat (gcc build) |",
             "|---|---|---|---|---|"]
    for label, workload, case, variant, metric, op, goal, peer in GOALS:
        measured, met = [], []
        for contestant, result in all_results(runs):
            if result["workload"] != workload or result["case"] != case:
                continue
            if variant is not None and contestant == "beat" and result["variant"] not in variant:
                continue
            v = goal_value(result, metric)
            if v is None:
                continue
            who = contestant + ("/" + result["variant"] if result["variant"] else "")
            measured.append("%s %s" % (who, fmt_number(v)))
            if contestant == "beat":
                met.append(v <= goal if op == "<=" else v >= goal)
        verdict = "not measured" if not met else ("yes" if all(met) else
                                                  "partly" if any(met) else "no")
        lines.append("| %s | %s %s | %s | %s | %s |" % (
            label, op.replace("<=", "≤").replace(">=", "≥"), "%g" % goal, peer,
            "; ".join(measured) or "—", verdict))
    return "\n".join(lines) + "\n"


def all_results(runs):
    for run in runs:
        if run.get("data"):
            for result in run["data"]["results"]:
                yield run["contestant"], result


def report_markdown(meta, runs, calibration, args):
    out = ["# Beat benchmarks: latest run\n\n"]
    out.append("%s. %s run, workers %s.\n\n" % (meta["date"], "Quick (smoke)" if args.quick else
                                             "Full", args.workers))
    out.append("## Machine\n\n")
    out.append("- %s CPUs: %s; kernel %s\n" % (meta["nproc"], meta["cpu_model"], meta["kernel"]))
    out.append("- %s; %s; %s; Python %s\n" % (meta["gcc"], meta["g++"] or "no g++",
                                             meta["clang"] or "no clang", meta["python"]))
    runtimes = sorted({(r["contestant"], r["data"]["runtime"]) for r in runs if r.get("data")})
    out.append("- runtimes: %s\n" % ", ".join("%s = %s" % rt for rt in runtimes))
    if calibration:
        ms = metric_map(calibration)
        get = lambda k: fmt_number(ms[k]["median"]) if k in ms else "?"
        out.append("- calibration (`beat_bench calibrate`): core clock ≈ %s GHz (one LCG step = "
                   "%s ns = 4 cycles); tasks sized for 50 / 500 / 5,000 cycles take %s / %s / "
                   "%s cycles in the serial loop; one region = %s µs serial\n" % (
                       get("core_GHz"), get("lcg_step"), get("task_50"), get("task_500"),
                       get("task_5000"), get("region")))
    out.append("\n## How this was measured\n\n")
    out.append(
        "- One round = Ts (serial, same program and flags), T1, T2 back to back, the order "
        "reversed every other round; ratios are computed inside each round: overhead = T1/Ts, "
        "speedup = Ts/Tw, scaling = T1/Tw, efficiency = Ts/(Tw·w). Cells are median (min–max) "
        "over the kept rounds.\n"
        "- Pools are created and warmed outside the timers; short calls are repeated so one "
        "sample lasts ≥ 20 ms (calls per sample in the notes). Every timed result is checked "
        "against the known answer; a wrong one aborts the run.\n"
        "- Threads: Tw uses w threads doing work for every contestant. OpenMP runs a team of w (the master and w-1 more), TBB an arena of w with the caller inside it, and Beat a pool of w-1 workers with beat_run\'s caller taking part. T1 for Beat is one worker with the caller blocked in beat_pool_wait, so it includes one hand-off to the worker and back per call: a few us while the spins of the caller and the worker cover the gaps (the caller's adapts up to 1 ms, a worker's up to 200 us), 50-100 us on this VM for calls longer than that, when both park and each wake reaches an idle vCPU.\n"
        "- beat-clang (when clang is installed): the same beat_bench.c, serial baseline "
        "included, built by clang with the same flags; fib and tree only. gcc -O2 inlines the "
        "serial recursion of both several levels deep, which it cannot do through a pcall; clang "
        "inlines neither, so comparing Ts and T1 across the two rows separates Beat's cost from "
        "the baseline's compiler.\n"
        "- Pressure gate: `/proc/pressure/cpu` `some total` is read around the gate phase of "
        "each round (Ts for ratio cases: one thread of ours on the CPUs, so any stall there is "
        "foreign load). A round whose gate phase was stalled more than 10 %% of its wall time is "
        "measured again, at most max(3, rounds) times per case; past that cap rounds are kept "
        "and counted as \"kept over\". The foreign PSI column is the gate pressure in %%.%s\n"
        % ("" if meta["psi"] else " (This kernel has no PSI: no gating.)"))
    commands = (meta["build_commands"] + ["python3 bench/run.py " + " ".join(sys.argv[1:])] +
                meta["calibrate_command"] + [r["command"] for r in runs])
    out.append("\nCommands (builds in `bench/`, runs from the repository root):\n\n```\n%s\n```\n"
               % "\n".join(commands))
    out.append("\n## Goals (shared/BENCHMARKS.md)\n\n")
    out.append(goals_table(runs))
    for workload in WORKLOADS:
        rows = [(c, r) for c, r in all_results(runs) if r["workload"] == workload]
        errors = [r for r in runs if r["workload"] == workload and r.get("error")]
        if not rows and not errors:
            continue
        out.append("\n## %s\n\n" % workload)
        if rows:
            out.append(workload_table(workload, rows))
        for r in errors:
            out.append("- **%s failed**: %s (`%s`)\n" % (r["contestant"], r["error"], r["command"]))
    return "".join(out)


# ---------------------------------------------------------------------------
# Chart (only when matplotlib is installed)


def write_chart(runs, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return False
    panels = [(w, m, label) for w in WORKLOADS if w in CHART for m, label in CHART[w]]
    panels = [p for p in panels if any(r["workload"] == p[0] for _, r in all_results(runs))]
    if not panels:
        return False
    fig, axes = plt.subplots(len(panels) // 2 + len(panels) % 2, 2,
                             figsize=(12, 2.8 * (len(panels) // 2 + 1)), squeeze=False)
    for ax, (workload, metric, label) in zip(axes.flat, panels):
        rows = [(c, r) for c, r in all_results(runs) if r["workload"] == workload]
        cases = list(dict.fromkeys(r["case"] for _, r in rows))
        whos = list(dict.fromkeys(c + ("/" + r["variant"] if r["variant"] else "")
                                  for c, r in rows))
        width = 0.8 / max(len(whos), 1)
        for k, who in enumerate(whos):
            xs, ys, lo, hi = [], [], [], []
            for c, r in rows:
                if c + ("/" + r["variant"] if r["variant"] else "") != who:
                    continue
                m = metric_map(r).get(metric)
                if not m or m["median"] is None:
                    continue
                xs.append(cases.index(r["case"]) + k * width)
                ys.append(m["median"])
                lo.append(m["median"] - m["min"])
                hi.append(m["max"] - m["median"])
            ax.bar(xs, ys, width, yerr=[lo, hi], label=who, capsize=2)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(cases))])
        ax.set_xticklabels(cases, fontsize=8)
        ax.set_title("%s: %s" % (workload, label), fontsize=9)
        if not metric.startswith("efficiency"):
            ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")  # parity with serial
            values = [metric_map(r)[metric]["median"] for _, r in rows
                      if metric in metric_map(r) and metric_map(r)[metric]["median"]]
            if values and max(values) / min(values) > 20:  # fib and tree span decades
                ax.set_yscale("log")
                ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------


def main():
    args = parse_args()
    programs = find_programs()
    extra = ["--workers", args.workers]
    if args.quick:
        extra.append("--quick")
    if args.rounds:
        extra += ["--rounds", str(args.rounds)]
    meta = machine_facts()
    print("machine: %s CPUs, %s, kernel %s" % (meta["nproc"], meta["cpu_model"], meta["kernel"]))

    runs, calibration = [], None
    beat_path = programs[0][1]
    calib_args = ["--rounds", "1" if args.quick else "3"]
    data, cmd, error = run_program(beat_path, "calibrate", calib_args, args.timeout)
    meta["calibrate_command"] = [cmd]
    if data and data["results"]:
        calibration = data["results"][0]

    supported = {c: [w for w in program_workloads(p) if c not in ONLY or w in ONLY[c]]
                 for c, p in programs}
    for workload in args.only or WORKLOADS:
        if workload == "calibrate":
            continue
        for contestant, path in programs:
            if workload not in supported[contestant]:
                continue
            data, cmd, error = run_program(path, workload, extra, args.timeout)
            if error:
                print("!! %s %s: %s" % (contestant, workload, error), flush=True)
            runs.append({"contestant": contestant, "workload": workload, "command": cmd,
                         "data": data, "error": error})

    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(report_markdown(meta, runs, calibration, args))
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump({"meta": meta, "args": vars(args), "calibration": calibration, "runs": runs},
                  f, indent=1)
    png = os.path.join(RESULTS, "latest.png")
    if write_chart(runs, png):
        print("wrote %s" % os.path.relpath(png))
    else:
        print("no chart: matplotlib is not installed")
    print("wrote %s and latest.json" % os.path.relpath(os.path.join(RESULTS, "latest.md")))
    failed = [r for r in runs if r["error"]]
    if failed:
        print("%d program run(s) failed: %s" % (len(failed), ", ".join(
            "%s %s" % (r["contestant"], r["workload"]) for r in failed)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
