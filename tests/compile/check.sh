#!/usr/bin/env bash
# Compile-only checks of the generated headers, as users build them: each
# configuration is one case; the last line is "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
warn="-Wall -Wextra -Wpedantic -Werror -Wshadow -Wundef -Wsign-conversion"
simd_off="-DBEAT_SIMD_NO_SSE2 -DBEAT_SIMD_NO_AVX2 -DBEAT_SIMD_NO_AVX512 -DBEAT_SIMD_NO_NEON"
passed=0
failed=0

ok_() {
    echo "ok   $1"
    passed=$((passed + 1))
}
# fail_ NAME LOG: reports a failed case with the start of its output.
fail_() {
    echo "FAIL $1"
    [ -n "$2" ] && echo "$2" | head -20 | sed 's/^/     /'
    failed=$((failed + 1))
}

# case_ NAME COMMAND...: the command must succeed.
case_() {
    local name=$1
    shift
    if log=$("$@" 2>&1); then ok_ "$name"; else fail_ "$name" "$log"; fi
}

# fails_with NAME TEXT COMMAND...: the command must fail, and its first
# error must contain TEXT (the advice a user sees first).
fails_with() {
    local name=$1 text=$2
    shift 2
    if log=$("$@" 2>&1); then
        fail_ "$name (compiled)" ""
    elif echo "$log" | grep -m1 'error' | grep -qF "$text"; then
        ok_ "$name"
    else
        fail_ "$name (first error lacks \"$text\")" "$log"
    fi
}

for cc in gcc clang; do
    command -v $cc >/dev/null || continue
    # A system header before beat.h in the implementation file (C only:
    # C++ compilers define _GNU_SOURCE themselves).
    fails_with "$cc c11: system header first, says to include beat.h first" \
        "include beat.h first in that file, or compile it with -D_GNU_SOURCE" \
        $cc -std=c11 -I$root -c "$here/system_first.c" -o "$out/sf.o"
    case_ "$cc c11: system header first with -D_GNU_SOURCE" \
        $cc -std=c11 $warn -D_GNU_SOURCE -I$root "$here/system_first.c" -o "$out/sf" -pthread
    for std in c99 c11; do
        flags="-std=$std $warn -Wstrict-prototypes -I$root"
        case_ "$cc $std: declarations only" $cc $flags -c "$here/declarations.c" -o "$out/d.o"
        case_ "$cc $std: implementation, both headers" $cc $flags -c "$here/impl.c" -o "$out/i.o"
        case_ "$cc $std: beat_simd.h first, then beat.h" $cc $flags -DBEAT_SIMD_FIRST -c "$here/impl.c" -o "$out/s.o"
        case_ "$cc $std: beat_simd.h alone" $cc $flags -c "$here/simd_only.c" -o "$out/so.o"
        case_ "$cc $std: beat_simd.h alone, -O2" $cc $flags -O2 -c "$here/simd_only.c" -o "$out/so2.o"
        case_ "$cc $std: beat_simd.h alone, BEAT_STATIC" $cc $flags -DBEAT_STATIC -c "$here/simd_only.c" -o "$out/sos.o"
        case_ "$cc $std: beat_simd.h alone, every BEAT_SIMD_NO_*" $cc $flags $simd_off -c "$here/simd_only.c" -o "$out/son.o"
        case_ "$cc $std: both headers, every BEAT_SIMD_NO_*" $cc $flags $simd_off -c "$here/impl.c" -o "$out/in.o"
        case_ "$cc $std: BEAT_STATIC" $cc $flags -DBEAT_STATIC -c "$here/impl.c" -o "$out/st.o"
        case_ "$cc $std: two users + one implementation link" \
            $cc $flags "$here/user_a.c" "$here/user_b.c" "$here/impl.c" -DBEAT_WITH_MAIN -o "$out/two" -pthread
        case_ "$cc $std: BEAT_NO_STDIO, NDEBUG" $cc $flags -DBEAT_NO_STDIO -DNDEBUG -c "$here/impl.c" -o "$out/ns.o"
        case_ "$cc $std: BEAT_NO_PSI" $cc $flags -DBEAT_NO_PSI -c "$here/impl.c" -o "$out/np.o"
        case_ "$cc $std: BEAT_NO_PREDICT" $cc $flags -DBEAT_NO_PREDICT -c "$here/impl.c" -o "$out/npr.o"
        case_ "$cc $std: BEAT_NO_TOPOLOGY" $cc $flags -DBEAT_NO_TOPOLOGY -c "$here/impl.c" -o "$out/nt.o"
        case_ "$cc $std: BEAT_NO_TRACE" $cc $flags -DBEAT_NO_TRACE -c "$here/impl.c" -o "$out/ntr.o"
    done
done
for cxx in g++ clang++; do
    command -v $cxx >/dev/null || continue
    flags="-std=c++11 $warn -I$root -x c++"
    case_ "$cxx c++11: declarations only" $cxx $flags -c "$here/declarations.c" -o "$out/d.o"
    case_ "$cxx c++11: implementation, both headers" $cxx $flags -c "$here/impl.c" -o "$out/i.o"
    case_ "$cxx c++11: beat_simd.h first, then beat.h" $cxx $flags -DBEAT_SIMD_FIRST -c "$here/impl.c" -o "$out/s.o"
    case_ "$cxx c++11: beat_simd.h alone" $cxx $flags -c "$here/simd_only.c" -o "$out/so.o"
    case_ "$cxx c++11: beat_simd.h alone, -O2" $cxx $flags -O2 -c "$here/simd_only.c" -o "$out/so2.o"
    case_ "$cxx c++11: beat_simd.h alone, every BEAT_SIMD_NO_*" $cxx $flags $simd_off -c "$here/simd_only.c" -o "$out/son.o"
    case_ "$cxx c++11: both headers, every BEAT_SIMD_NO_*" $cxx $flags $simd_off -c "$here/impl.c" -o "$out/in.o"
    case_ "$cxx c++11: BEAT_STATIC" $cxx $flags -DBEAT_STATIC -c "$here/impl.c" -o "$out/st.o"
    case_ "$cxx c++11: BEAT_NO_PSI" $cxx $flags -DBEAT_NO_PSI -c "$here/impl.c" -o "$out/np.o"
    case_ "$cxx c++11: BEAT_NO_PREDICT" $cxx $flags -DBEAT_NO_PREDICT -c "$here/impl.c" -o "$out/npr.o"
    case_ "$cxx c++11: BEAT_NO_TOPOLOGY" $cxx $flags -DBEAT_NO_TOPOLOGY -c "$here/impl.c" -o "$out/nt.o"
    case_ "$cxx c++11: BEAT_NO_TRACE" $cxx $flags -DBEAT_NO_TRACE -c "$here/impl.c" -o "$out/ntr.o"
done

# Every configuration macro under C and C++: all BEAT_NO_* the header knows
# (found in it, so a new one is covered at once) together, the allocator,
# assert and debug macros replaced, the size macros changed, BEAT_API set;
# and for C++ also BEAT_NO_STDIO, a two-user link, -O2 and C++20.
no_all=$(grep -ohE 'BEAT_NO_[A-Z0-9_]+' "$root/beat.h" | sort -u | sed 's/^/-D/' | tr '\n' ' ')
hooks=(-D'BEAT_MALLOC(n)=__builtin_malloc(n)' -D'BEAT_FREE(p)=__builtin_free(p)'
    -D'BEAT_ASSERT(c)=((void)(c))' -DBEAT_DEBUG=0)
sizes="-DBEAT_OUTSIDE_SLOTS=1 -DBEAT_CACHELINE=128 -DBEAT_HEARTBEAT_US=50"
for lang in "gcc -std=c11" "clang -std=c11" "g++ -std=c++11 -x c++" "clang++ -std=c++11 -x c++"; do
    set -- $lang
    command -v "$1" >/dev/null || continue
    tool=$1
    flags="${*:2} $warn -I$root"
    [ "${lang#*c++}" = "$lang" ] && flags="$flags -Wstrict-prototypes"
    case_ "$tool $2: every BEAT_NO_* at once ($(echo $no_all | wc -w))" $tool $flags $no_all \
        -c "$here/impl.c" -o "$out/na.o"
    case_ "$tool $2: BEAT_MALLOC/FREE, BEAT_ASSERT, BEAT_DEBUG=0" $tool $flags "${hooks[@]}" \
        -c "$here/impl.c" -o "$out/hk.o"
    case_ "$tool $2: BEAT_OUTSIDE_SLOTS, BEAT_CACHELINE, BEAT_HEARTBEAT_US" $tool $flags $sizes \
        -c "$here/impl.c" -o "$out/sz.o"
    case_ "$tool $2: BEAT_API with a visibility attribute" $tool $flags \
        -D'BEAT_API=extern __attribute__((visibility("default")))' -c "$here/impl.c" -o "$out/ap.o"
done
for cxx in g++ clang++; do
    command -v $cxx >/dev/null || continue
    flags="-std=c++11 $warn -I$root -x c++"
    case_ "$cxx c++11: BEAT_NO_STDIO, NDEBUG" $cxx $flags -DBEAT_NO_STDIO -DNDEBUG -c "$here/impl.c" -o "$out/ns.o"
    case_ "$cxx c++11: two users + one implementation link" \
        $cxx $flags "$here/user_a.c" "$here/user_b.c" "$here/impl.c" -DBEAT_WITH_MAIN -o "$out/two" -pthread
    case_ "$cxx c++11: implementation, -O2" $cxx $flags -O2 -c "$here/impl.c" -o "$out/o2.o"
    case_ "$cxx c++20: implementation" $cxx -std=c++20 $warn -I"$root" -x c++ -c "$here/impl.c" -o "$out/20.o"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
