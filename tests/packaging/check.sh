#!/usr/bin/env bash
# Packaging checks: the consumer programs in this folder (consumer.c uses
# beat.h and a pool, simd_consumer.c beat_simd.h alone) are built the three
# ways users get Beat, and run:
#   (a) add_subdirectory of this repository (CMakeLists.txt here);
#   (b) make install DESTDIR=... PREFIX=/usr, then pkg-config through
#       PKG_CONFIG_PATH and PKG_CONFIG_SYSROOT_DIR;
#   (c) cmake --install --prefix, then find_package(beat CONFIG) through
#       CMAKE_PREFIX_PATH (also: the version check, a moved install tree, the
#       same files as make install, and make install's own CMake files).
# Needs cmake, pkg-config and a C compiler (CC, default cc). The last line is
# "N passed, N failed"; the exit status is 1 if any case failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${CC:-cc}
for tool in cmake pkg-config "$cc" make; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL $tool not found (apt-get install cmake pkg-config gcc make)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0

# case_ NAME COMMAND...: runs the command; ok with its last line of output
# (the programs say what they checked), or FAIL with the end of its log.
case_() {
    local name=$1
    shift
    local log
    if log=$("$@" 2>&1); then
        echo "ok   $name"
        [ -z "$log" ] || echo "$log" | tail -1 | sed 's/^/     /'
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        echo "$log" | tail -25 | sed 's/^/     /'
        failed=$((failed + 1))
    fi
}

# consumer_cmake BUILD_DIR CMAKE_ARGS...: configures and builds the consumer.
consumer_cmake() {
    local dir=$1
    shift
    cmake -S "$here" -B "$dir" "$@" && cmake --build "$dir"
}

# refused VERSION BUILD_DIR: find_package(beat VERSION) of the (c) install
# must fail, and on the version.
refused() {
    local log
    if log=$(consumer_cmake "$2" -DCMAKE_PREFIX_PATH="$out/prefix" -DBEAT_REQUIRE_VERSION="$1" 2>&1); then
        echo "configured although version $1 was requested"
        return 1
    fi
    echo "$log" | grep -q "requested version \"$1\"" || {
        echo "$log"
        return 1
    }
}

# same_install DIR_A DIR_B: the same files with the same contents, except for
# beat.pc's prefix line.
same_install() {
    local a=$1 b=$2
    diff <(cd "$a" && find . -type f | sort) <(cd "$b" && find . -type f | sort) || return 1
    diff -r -x beat.pc "$a" "$b" || return 1
    diff <(grep -v '^prefix=' "$a/lib/pkgconfig/beat.pc") \
        <(grep -v '^prefix=' "$b/lib/pkgconfig/beat.pc")
}

pc() { # pkg-config against the DESTDIR install of (b)
    PKG_CONFIG_PATH="$out/destdir/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$out/destdir" \
        pkg-config "$@"
}

version=$(sed -n 's/^#define BEAT_VERSION_STRING "\(.*\)"$/\1/p' "$root/beat.h")
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
warn=(-Wall -Wextra -Werror)

echo "-- (a) add_subdirectory"
case_ "add_subdirectory: configure and build" consumer_cmake "$out/a" -DBEAT_SOURCE_DIR="$root"
case_ "add_subdirectory: consumer (beat::beat) runs" "$out/a/consumer"
case_ "add_subdirectory: simd_consumer (beat::simd) runs" "$out/a/simd_consumer"

echo "-- (b) make install DESTDIR, pkg-config"
case_ "make install DESTDIR=... PREFIX=/usr" \
    make -s -C "$root" install DESTDIR="$out/destdir" PREFIX=/usr
case_ "pkg-config: --modversion is beat.h's $version" test "$(pc --modversion beat)" = "$version"
# shellcheck disable=SC2046 # pkg-config's flags are meant to be split
case_ "pkg-config: consumer builds with --cflags --libs" \
    "$cc" "${warn[@]}" "$here/consumer.c" $(pc --cflags --libs beat) -o "$out/pc_consumer"
case_ "pkg-config: consumer runs" "$out/pc_consumer"
# shellcheck disable=SC2046
case_ "pkg-config: simd_consumer builds with --cflags alone" \
    "$cc" "${warn[@]}" "$here/simd_consumer.c" $(pc --cflags beat) -o "$out/pc_simd_consumer"
case_ "pkg-config: simd_consumer runs" "$out/pc_simd_consumer"

echo "-- (c) cmake --install, find_package"
case_ "cmake --install --prefix" bash -c "cmake -S '$root' -B '$out/beat-build' &&
    cmake --install '$out/beat-build' --prefix '$out/prefix'"
case_ "cmake --install: beat.pc names the --prefix" \
    grep -qx "prefix=$out/prefix" "$out/prefix/lib/pkgconfig/beat.pc"
case_ "cmake --install: the same files as make install" \
    same_install "$out/prefix" "$out/destdir/usr"
case_ "find_package(beat $version): configure and build" \
    consumer_cmake "$out/c" -DCMAKE_PREFIX_PATH="$out/prefix" -DBEAT_REQUIRE_VERSION="$version"
case_ "find_package: consumer (beat::beat) runs" "$out/c/consumer"
case_ "find_package: simd_consumer (beat::simd) runs" "$out/c/simd_consumer"
case_ "find_package(beat $major.$((minor + 1))) is refused" refused "$major.$((minor + 1))" "$out/c-newer"
mv "$out/prefix" "$out/moved"
case_ "find_package: the install tree still works after a move" \
    consumer_cmake "$out/c-moved" -DCMAKE_PREFIX_PATH="$out/moved"
case_ "find_package (moved): consumer runs" "$out/c-moved/consumer"
case_ "make install PREFIX=...: its CMake files work too" bash -c \
    "make -s -C '$root' install PREFIX='$out/make-prefix' &&
    cmake -S '$here' -B '$out/d' -DCMAKE_PREFIX_PATH='$out/make-prefix' && cmake --build '$out/d'"
case_ "find_package (make install): consumer runs" "$out/d/consumer"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
