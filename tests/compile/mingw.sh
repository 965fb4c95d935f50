#!/usr/bin/env bash
# Windows, cross-compiled with MinGW-w64 (Debian's gcc-mingw-w64-x86-64; CC
# overrides the compiler): the implementation of beat.h must stop with one
# clear "Linux and POSIX only" #error and nothing else, while the
# declarations of beat.h and all of beat_simd.h (which needs no threads, no
# futex and no /sys) must compile with warnings as errors, and a program
# using beat_simd.h alone must link into a .exe. Compile-only: nothing runs
# (no Wine). The last line is "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${CC:-x86_64-w64-mingw32-gcc}
if ! command -v "$cc" >/dev/null; then
    echo "FAIL $cc not found (apt-get install gcc-mingw-w64-x86-64)"
    echo "0 passed, 1 failed"
    exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
warn="-Wall -Wextra -Wpedantic -Werror -Wshadow -Wundef -Wstrict-prototypes -Wsign-conversion"
simd_off="-DBEAT_SIMD_NO_SSE2 -DBEAT_SIMD_NO_AVX2 -DBEAT_SIMD_NO_AVX512 -DBEAT_SIMD_NO_NEON"
message="BEAT_IMPLEMENTATION is Linux and POSIX only"
passed=0
failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { # fail NAME LOG
    echo "FAIL $1"
    echo "$2" | head -20 | sed 's/^/     /'
    failed=$((failed + 1))
}

# case_ NAME COMMAND...: the command must succeed.
case_() {
    local name=$1
    shift
    local log
    if log=$("$@" 2>&1); then ok "$name"; else fail "$name" "$log"; fi
}

# The implementation: exactly one diagnostic line saying "error", and it is
# the #error with the message (no cascade of missing-header errors after it).
for std in c99 c11; do
    name="$cc $std: BEAT_IMPLEMENTATION stops with the one \"$message\" #error"
    if log=$("$cc" -std=$std $warn -I"$root" -c "$here/impl.c" -o "$out/impl.o" 2>&1); then
        fail "$name" "it compiled"
    elif [ "$(echo "$log" | grep -c 'error:')" != 1 ]; then
        fail "$name" "$log"
    elif ! echo "$log" | grep 'error:' | grep -q "#error .*$message"; then
        fail "$name" "$log"
    else
        ok "$name"
    fi
done

for std in c99 c11; do
    flags="-std=$std $warn -I$root"
    case_ "$cc $std: beat.h declarations" "$cc" $flags -c "$here/declarations.c" -o "$out/d.o"
    case_ "$cc $std: beat_simd.h alone" "$cc" $flags -c "$here/simd_only.c" -o "$out/s.o"
done
flags="-std=c11 $warn -I$root"
case_ "$cc c11: beat_simd.h alone, BEAT_STATIC" "$cc" $flags -DBEAT_STATIC \
    -c "$here/simd_only.c" -o "$out/ss.o"
case_ "$cc c11: beat_simd.h alone, every BEAT_SIMD_NO_*" "$cc" $flags $simd_off \
    -c "$here/simd_only.c" -o "$out/sn.o"

# A whole program on beat_simd.h: compiles, links, and is a Windows binary.
cat >"$out/main.c" <<'EOF'
int beat_compile_simd_only(void);
int main(void) { return beat_compile_simd_only() ? 0 : 1; }
EOF
name="$cc c11 -O2: a program on beat_simd.h links into a Windows .exe"
if log=$("$cc" -std=c11 $warn -O2 -I"$root" "$here/simd_only.c" "$out/main.c" -o "$out/simd.exe" 2>&1); then
    if [ "$(head -c 2 "$out/simd.exe")" = MZ ]; then ok "$name"; else fail "$name" "no MZ header"; fi
else
    fail "$name" "$log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
