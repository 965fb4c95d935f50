#!/usr/bin/env bash
# Runs each libFuzzer target given for SECONDS seconds: one line per target
# with its executions, then "N passed, N failed" (a crash or leak fails).
set -u
seconds=$1
shift
passed=0
failed=0
for t in "$@"; do
    log=$("$t" -max_total_time="$seconds" -print_final_stats=1 "$t.corpus" 2>&1)
    rc=$?
    execs=$(echo "$log" | sed -n 's/^stat::number_of_executed_units: *//p' | tail -1)
    if [ $rc = 0 ]; then
        echo "ok   $(basename "$t"): ${execs:-?} executions in $seconds s"
        passed=$((passed + 1))
    else
        echo "FAIL $(basename "$t") (exit $rc)"
        echo "$log" | grep -A20 -m1 "ERROR\|==ERROR\|deadly signal" | sed 's/^/     /'
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
