#!/usr/bin/env bash
# The SIMD tests on every x86 path including AVX-512, on any x86 machine:
# intrinsics emulated by SIMDe (Debian: libsimde-dev), the CPU's features
# set by test_simd_emulated.c, built with AddressSanitizer so a masked tail
# that touched memory past n would be reported. Checks the AVX-512 path's
# logic, not its speed or the real instructions' encoding. The last line is
# "N passed, N failed"; exits 77 (skipped) without SIMDe.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${CC:-clang}
if [ ! -f /usr/include/simde/x86/avx512.h ]; then
    echo "skip: SIMDe not installed (apt-get install libsimde-dev)"
    exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! "$cc" -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
    -Wall -Wextra -Werror -Wno-psabi -I"$here" -I"$root" "$here/test_simd_emulated.c" \
    -o "$out/test_simd_emulated" -pthread; then
    echo "FAIL test_simd_emulated does not compile"
    echo "0 passed, 1 failed"
    exit 1
fi
"$out/test_simd_emulated"
