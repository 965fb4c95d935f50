#!/usr/bin/env bash
# check_park.sh -- model-check Beat's worker parking protocol with SPIN.
#
# Verifies tests/model/park.pml twice:
#   1. the protocol as implemented (with the recheck): an exhaustive search
#      must report 0 errors (no lost item, no worker blocked forever);
#   2. the same protocol built with -DNO_RECHECK: SPIN must find an invalid
#      end state, i.e. the lost wakeup that the recheck exists to prevent.
#      This variant is searched breadth-first so the trail is the shortest.
#
# Prints one result line per variant. Exit status: 0 if both expectations
# hold, 1 if not, 77 if spin (or a C compiler) is not installed.
set -eu

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model="$here/park.pml"
cc=${CC:-gcc}

if ! command -v spin >/dev/null 2>&1; then
	echo "park model: SKIP (spin not installed)"
	exit 77
fi
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "park model: SKIP ($cc not installed)"
	exit 77
fi
if [ ! -f "$model" ]; then
	echo "park model: FAIL (missing $model)"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/beat-park.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$model" "$tmp/park.pml"
cd "$tmp"

# build_and_run LOG SPIN_FLAGS CC_FLAGS: generate pan, compile it, run it.
# The verifier's output goes to LOG; returns non-zero if a step failed.
build_and_run() {
	local log=$1 spin_flags=$2 cc_flags=$3
	rm -f pan pan.* park.pml.trail
	# shellcheck disable=SC2086
	spin $spin_flags -a park.pml >"$log" 2>&1 || return 1
	# shellcheck disable=SC2086
	"$cc" -O2 $cc_flags -o pan pan.c >>"$log" 2>&1 || return 1
	# pan's exit status is not meaningful; its report is parsed instead.
	./pan -w20 >"$log" 2>&1 || true
}

# field LOG: pull "errors: N" and "N states, stored" out of a pan report.
errors_of() { sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1; }
states_of() { sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$1" | tail -n 1; }

status=0

# ---- 1. the protocol as implemented: must be error free ----
if build_and_run ok.log "" "-DSAFETY"; then
	err=$(errors_of ok.log)
	states=$(states_of ok.log)
	if [ "${err:-x}" = 0 ]; then
		echo "park model (recheck): 0 errors, ${states:-?} states -> ok" | tee -a "$tmp/results.log"
	else
		echo "park model (recheck): ${err:-?} errors, ${states:-?} states -> FAIL" | tee -a "$tmp/results.log"
		grep -E '^pan' ok.log | head -n 5 | sed 's/^/    /'
		status=1
	fi
else
	echo "park model (recheck): could not build or run the verifier -> FAIL" | tee -a "$tmp/results.log"
	sed 's/^/    /' ok.log | head -n 20
	status=1
fi

# ---- 2. without the recheck: the lost wakeup must be found ----
if build_and_run bug.log "-DNO_RECHECK" "-DSAFETY -DBFS"; then
	err=$(errors_of bug.log)
	depth=$(sed -n 's/.*invalid end state (at depth \([0-9][0-9]*\)).*/\1/p' \
		bug.log | head -n 1)
	if [ "${err:-0}" -gt 0 ] && [ -n "$depth" ]; then
		# Replay the trail to say what the stuck state looks like.
		detail=""
		if spin -DNO_RECHECK -t -g park.pml >replay.log 2>&1; then
			q=$(sed -n 's/^[[:space:]]*queue = \([0-9][0-9]*\)$/\1/p' \
				replay.log | tail -n 1)
			nb=0
			for w in 0 1; do
				b=$(sed -n "s/^[[:space:]]*blocked\[$w\] = \([0-9]\)\$/\1/p" \
					replay.log | tail -n 1)
				[ "${b:-0}" = 1 ] && nb=$((nb + 1))
			done
			[ -n "$q" ] && detail="; $q item(s) queued, $nb worker(s) blocked"
		fi
		echo "park model (no recheck): lost wakeup found (invalid end state at depth $depth$detail) -> ok" | tee -a "$tmp/results.log"
	else
		echo "park model (no recheck): no invalid end state found (errors: ${err:-?}) -> FAIL" | tee -a "$tmp/results.log"
		status=1
	fi
else
	echo "park model (no recheck): could not build or run the verifier -> FAIL" | tee -a "$tmp/results.log"
	sed 's/^/    /' bug.log | head -n 20
	status=1
fi

# The project's count line (two cases: the model holds, the mutant fails).
failed=$(grep -c -- '-> FAIL' "$tmp/results.log" || true)
echo "$((2 - failed)) passed, $failed failed"
exit "$status"
