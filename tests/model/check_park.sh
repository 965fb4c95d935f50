#!/usr/bin/env bash
# check_park.sh -- model-check Beat's worker parking protocol with SPIN.
#
# Verifies tests/model/park.pml three times:
#   1. the protocol as implemented (recheck and waking flag): an exhaustive
#      search must report 0 errors (no lost item, no worker blocked forever);
#   2. the same protocol built with -DNO_RECHECK: SPIN must find an invalid
#      end state, i.e. the lost wakeup that the recheck exists to prevent;
#   3. the same protocol built with -DNO_WAKING_RECHECK (the recheck does
#      not look at the waking flag): SPIN must find an invalid end state, i.e.
#      a wake that reached nobody leaves the flag set and mutes later wakes.
# The two mutants are searched breadth-first so their trails are the
# shortest; each trail is replayed to describe the stuck state.
#
# Prints one result line per variant, then a count line. Exit status: 0 if
# all three expectations hold, 1 if not, 77 if spin (or a C compiler) is not
# installed.
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

# Pull "errors: N", "N states, stored" and the invalid end state's depth
# out of a pan report.
errors_of() { sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1; }
states_of() { sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$1" | tail -n 1; }
depth_of() {
	sed -n 's/.*invalid end state (at depth \([0-9][0-9]*\)).*/\1/p' "$1" | head -n 1
}

# last_value VAR: the last value of global VAR in replay.log (spin -g).
# stuck_state SPIN_FLAGS: replay park.pml.trail and print
# "; Q item(s) queued, B worker(s) blocked, waking = W" for its last state
# (nothing if the replay fails).
last_value() { sed -n "s/^[[:space:]]*$1 = \([0-9][0-9]*\)\$/\1/p" replay.log | tail -n 1; }
stuck_state() {
	local flags=$1 q nb w b
	# shellcheck disable=SC2086
	spin $flags -t -g park.pml >replay.log 2>&1 || return 0
	q=$(last_value queue)
	w=$(last_value waking)
	nb=0
	for b in 0 1; do
		[ "$(last_value "blocked\[$b\]")" = 1 ] && nb=$((nb + 1))
	done
	[ -n "$q" ] && echo "; $q item(s) queued, $nb worker(s) blocked, waking = ${w:-0}"
	return 0
}

# report LINE: print a result line and keep it for the count.
report() { echo "$1" | tee -a "$tmp/results.log"; }

status=0

# ---- 1. the protocol as implemented: must be error free ----
name="park model (recheck, waking)"
if build_and_run ok.log "" "-DSAFETY"; then
	err=$(errors_of ok.log)
	states=$(states_of ok.log)
	if [ "${err:-x}" = 0 ]; then
		report "$name: 0 errors, ${states:-?} states -> ok"
	else
		detail=""
		depth=$(depth_of ok.log)
		[ -n "$depth" ] && detail=" (invalid end state at depth $depth$(stuck_state ""))"
		report "$name: ${err:-?} errors$detail, ${states:-?} states -> FAIL"
		grep -E '^pan' ok.log | head -n 5 | sed 's/^/    /'
		status=1
	fi
else
	report "$name: could not build or run the verifier -> FAIL"
	sed 's/^/    /' ok.log | head -n 20
	status=1
fi

# expect_stuck DEFINE LABEL WHAT: build the model with DEFINE; SPIN must
# find an invalid end state, reported as WHAT.
expect_stuck() {
	local define=$1 label=$2 what=$3 log err depth
	log="${define#-D}.log"
	if build_and_run "$log" "$define" "-DSAFETY -DBFS"; then
		err=$(errors_of "$log")
		depth=$(depth_of "$log")
		if [ "${err:-0}" -gt 0 ] && [ -n "$depth" ]; then
			report "park model ($label): $what found (invalid end state at depth $depth$(stuck_state "$define")) -> ok"
		else
			report "park model ($label): no invalid end state found (errors: ${err:-?}) -> FAIL"
			status=1
		fi
	else
		report "park model ($label): could not build or run the verifier -> FAIL"
		sed 's/^/    /' "$log" | head -n 20
		status=1
	fi
}

# ---- 2. without the recheck: the lost wakeup must be found ----
expect_stuck -DNO_RECHECK "no recheck" "lost wakeup"

# ---- 3. without clearing waking: the muted wake must be found ----
expect_stuck -DNO_WAKING_RECHECK "waking not rechecked" "stuck waking flag"

# The project's count line (three cases: the model holds, each mutant fails).
failed=$(grep -c -- '-> FAIL' "$tmp/results.log" || true)
echo "$((3 - failed)) passed, $failed failed"
exit "$status"
