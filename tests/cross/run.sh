#!/usr/bin/env bash
# Cross-compiles the SIMD tests for aarch64 (static, -O2) and runs them under
# qemu-user: the NEON and scalar paths, and beat.h's runtime, checked on an
# x86 machine. test_simd runs in full; its variants (every BEAT_SIMD_NO_*
# set; beat_simd.h alone) with BEAT_TEST_QUICK, as they repeat its cases.
# Needs Debian's gcc-aarch64-linux-gnu and qemu-user (CC and QEMU override
# the tools). The last line is "N passed, N failed".
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
runs=()
for test in test_simd test_simd_scalar test_simd_only; do
    quick=$([ "$test" = test_simd ] || echo -DBEAT_TEST_QUICK)
    if ! "$cc" $flags $quick -I"$root" "$root/tests/$test.c" -o "$out/$test" -pthread; then
        echo "FAIL $test: does not compile with $cc"
        echo "0 passed, 1 failed"
        exit 1
    fi
    runs+=("$qemu $out/$test")
done
python3 "$root/tests/run.py" "${runs[@]}"
