#!/usr/bin/env bash
# Whole-process timing of one workload with hyperfine, scanning the worker
# count: parameter 0 is the serial baseline, 1..MAX the pool sizes.
#
#   bench/hyperfine.sh [PROGRAM] [WORKLOAD] [SIZE] [MAX_WORKERS] [-- extra hyperfine options]
#   bench/hyperfine.sh beat_bench fib 35 2          (the defaults)
#   bench/hyperfine.sh omp_bench tree 10000000 2 -- --runs 20
#
# Each timed process runs exactly one call (--rounds 1 --reps 1) of one phase
# (--phase W), so hyperfine's time also holds process start, the workload's
# setup (e.g. building the tree) and pool creation: compare the rows with
# each other, not with the per-call times of bench/run.py, which are measured
# inside the process with the setup outside the timer.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
program=${1:-beat_bench}
workload=${2:-fib}
size=${3:-35}
max_workers=${4:-2}
shift $(($# < 4 ? $# : 4))
[ "${1:-}" = "--" ] && shift

if ! command -v hyperfine >/dev/null 2>&1; then
    echo "hyperfine is not installed (apt-get install hyperfine); nothing measured." >&2
    exit 1
fi
binary="$here/../build/bench/$program"
if [ ! -x "$binary" ]; then
    echo "$binary is missing: run 'make -C bench build' first." >&2
    exit 1
fi

mkdir -p "$here/results"
out="$here/results/hyperfine-$program-$workload-$size.md"
hyperfine --warmup 1 --shell=none \
    -P workers 0 "$max_workers" \
    --command-name "$program $workload $size, {workers} workers (0 = serial)" \
    --export-markdown "$out" \
    "$@" \
    "$binary $workload --size $size --phase {workers} --rounds 1 --reps 1"
echo "wrote $out"
