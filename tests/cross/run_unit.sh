#!/usr/bin/env bash
# Cross-compiles the unit and stress tests of the runtime (deque, pool,
# fork-join, memory pools, faults, batches, prediction, topology, PSI,
# cpuid, and the deque model) for aarch64 (static, -O2, warnings as errors)
# and runs them under qemu-user: the aarch64 build of the atomics, the
# futex parking, the spin hints and the parsers, checked on an x86 machine.
# qemu-user runs the guest with the host's (x86, stronger) memory order, so
# this does not hunt weak-memory bugs; tests/model and GenMC do that.
#
# The tests build with BEAT_TEST_QUICK (emulation is 10-30x slower); FULL=1
# runs them at full size (about 2 minutes instead of 20 s on 2 cores).
# Left out, because they test what qemu-user does not emulate: test_placement
# (mbind and get_mempolicy return ENOSYS), test_adapt (it compares timed
# estimates with wall-clock work, which emulation distorts), test_hostile
# (rlimits and signals reach qemu's own threads); the SIMD tests have
# tests/cross/run.sh. BEAT_TEST_EMULATED skips the cases inside the others
# that need real-time hand-offs (the adaptive spin's). Needs Debian's
# gcc-aarch64-linux-gnu and qemu-user
# (CC and QEMU override the tools). The last line is "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${CC:-aarch64-linux-gnu-gcc}
qemu=${QEMU:-qemu-aarch64}
for tool in "$cc" "$qemu"; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL $tool not found (apt-get install gcc-aarch64-linux-gnu qemu-user)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags="-std=c11 -O2 -static -Wall -Wextra -Wpedantic -Werror -Wshadow -Wundef -Wstrict-prototypes"
flags="$flags -DBEAT_TEST_EMULATED"
[ "${FULL:-0}" = 1 ] || flags="$flags -DBEAT_TEST_QUICK"
tests="test_deque test_pool test_forkjoin test_mempool test_faults test_batch test_predict \
test_topology test_psi test_cpuid"
sources=()
for t in $tests; do sources+=("$root/tests/$t.c"); done
sources+=("$root/tests/model/deque_model.c")
# Compile on every CPU at once (most of the time goes here), then run.
jobs=$(nproc 2>/dev/null || echo 2)
runs=()
for src in "${sources[@]}"; do
    name=$(basename "$src" .c)
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    "$cc" $flags -I"$root" "$src" -o "$out/$name" -pthread 2>"$out/$name.err" &
    runs+=("$qemu $out/$name")
done
wait
for src in "${sources[@]}"; do
    name=$(basename "$src" .c)
    if [ ! -x "$out/$name" ]; then
        echo "FAIL $name: does not compile with $cc"
        head -20 "$out/$name.err" | sed 's/^/     /'
        echo "0 passed, 1 failed"
        exit 1
    fi
done
python3 "$root/tests/run.py" "${runs[@]}"
