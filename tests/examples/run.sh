#!/usr/bin/env bash
# Builds the examples (make -C examples) and runs each, checking what it
# prints; the game loop writes a trace of its 60 frames, which must parse
# and hold a thread per worker and the render slices on the main thread.
# Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
out=build/examples
passed=0
failed=0
check() { # check NAME COMMAND...: pass when COMMAND succeeds
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

if ! make -s -C examples MPICC=none >/dev/null; then
    echo "FAIL make -C examples"
    echo "0 passed, 1 failed"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check quickstart "$out/quickstart"
check parallel_loops "$out/parallel_loops"
check profiler_hooks bash -c "'$out/profiler_hooks' | grep -q '^leaf (fib) *32 '"
check game_loop bash -c "'$out/game_loop' '$tmp/frames.json' | grep -q '^60 frames: 9 render jobs per frame'"
check "game_loop trace" python3 - "$tmp/frames.json" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
threads = [e for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"]
names = {e.get("name") for e in events if e.get("ph") == "X"}
renders = [e for e in events if e.get("ph") == "X" and e.get("name") == "render"]
ok = len(threads) >= 2 and {"physics", "ai", "streaming", "render"} <= names
# 9 render jobs a frame, all on one track (the main thread's outside slot)
ok = ok and len(renders) == 60 * 9 and len({e["tid"] for e in renders}) == 1
sys.exit(0 if ok else 1)
PY
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
