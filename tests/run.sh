#!/bin/sh
# run.sh BUILD_DIR: run every unit test binary (BUILD_DIR/tests/test_*, cmocka) and every
# integration script (tests/integration/test_*.sh), one progress line each, then one final line
# "N passed, N failed". Exit 1 if anything failed.
#
# Counting. A cmocka binary counts its cases from its "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)," summary lines. An integration script prints "ok NAME" or
# "not ok NAME - reason" per case (tests/lib/harness.sh) and exits non-zero on any failure.
# A binary or script that crashes, times out, prints no summary / no case, or exits non-zero
# without reporting a failure counts as one more failure.
#
# Sanitizers. Unit binaries and the daemon started by integration scripts inherit ASAN_OPTIONS
# and UBSAN_OPTIONS that make any report fatal (and leaks are reports), so a report fails the test.
#
# Environment: SLUICE_UNIT_TIMEOUT (s, default 120), SLUICE_IT_TIMEOUT (s, default 240),
# SLUICE_TEST_FILTER (only names containing it), SLUICE_TEST_VERBOSE=1 (print every log).
set -u

[ $# -eq 1 ] || { echo "usage: tests/run.sh BUILD_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
build=$(cd "$1" 2>/dev/null && pwd) || { echo "run.sh: no build dir $1" >&2; exit 2; }

unit_timeout=${SLUICE_UNIT_TIMEOUT:-120}
it_timeout=${SLUICE_IT_TIMEOUT:-240}
filter=${SLUICE_TEST_FILTER:-}
verbose=${SLUICE_TEST_VERBOSE:-0}

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-}
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
export SLUICE_BUILD="$build"

# Logs of this run in their own dir (several runs may share a build dir); the last 5 are kept.
logs="$build/test-logs/$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$logs"
ls -1d "$build"/test-logs/*-* 2>/dev/null | head -n -5 | xargs -r rm -rf

total_pass=0
total_fail=0
failed_names=""

now_ms() { date +%s%3N; }

# report STATUS NAME PASS FAIL MS NOTE LOG: one progress line, and on failure the log's tail.
report() {
	secs=$(awk "BEGIN { printf \"%.1f\", $5 / 1000 }")
	printf '%-4s %-40s %4d passed %3d failed %7ss%s\n' "$1" "$2" "$3" "$4" "$secs" "${6:+  ($6)}"
	if [ "$1" != ok ] || [ "$verbose" = 1 ]; then
		if grep -q '^not ok ' "$7" 2>/dev/null; then
			echo "---- $2: failed cases"
			grep '^not ok ' "$7" | sed 's/^/  | /'
		fi
		echo "---- $2: last lines of $7"
		tail -n 30 "$7" 2>/dev/null | sed 's/^/  | /'
		echo "----"
	fi
	total_pass=$((total_pass + $3))
	total_fail=$((total_fail + $4))
	[ "$4" -eq 0 ] || failed_names="$failed_names $2"
}

wanted() { [ -z "$filter" ] || case "$1" in *"$filter"*) return 0 ;; *) return 1 ;; esac; }

# ---- unit tests ---------------------------------------------------------------------------------
for bin in "$build"/tests/test_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=unit/$(basename "$bin")
	wanted "$name" || continue
	log="$logs/$(basename "$bin").log"
	t0=$(now_ms)
	timeout -k 5 "$unit_timeout" "$bin" >"$log" 2>&1
	rc=$?
	ms=$(($(now_ms) - t0))
	pass=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | tail -n 1)
	fail=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s),.*/\1/p' "$log" | tail -n 1)
	note=""
	if [ -z "$pass" ] && [ -z "$fail" ]; then
		# No summary: crashed (sanitizer report, signal) or hung. Cases that finished still count.
		pass=$(grep -c '^\[       OK \]' "$log" 2>/dev/null); pass=${pass:-0}
		fail=1
		note="no summary, exit $rc"
		[ $rc -eq 124 ] || [ $rc -eq 137 ] && note="timed out after ${unit_timeout}s"
	else
		pass=${pass:-0}
		fail=${fail:-0}
		if [ $rc -ne 0 ] && [ "$fail" -eq 0 ]; then
			fail=1; note="exit $rc after the summary (sanitizer report at exit?)"
		fi
	fi
	status=ok; [ "$fail" -eq 0 ] || status=FAIL
	report "$status" "$name" "$pass" "$fail" "$ms" "$note" "$log"
done

# ---- integration tests --------------------------------------------------------------------------
for script in tests/integration/test_*.sh; do
	[ -f "$script" ] || continue
	name=integration/$(basename "$script" .sh)
	wanted "$name" || continue
	log="$logs/$(basename "$script" .sh).log"
	t0=$(now_ms)
	timeout -k 30 "$it_timeout" bash "$script" >"$log" 2>&1
	rc=$?
	ms=$(($(now_ms) - t0))
	pass=$(grep -c '^ok ' "$log" 2>/dev/null); pass=${pass:-0}
	fail=$(grep -c '^not ok ' "$log" 2>/dev/null); fail=${fail:-0}
	note=""
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		fail=$((fail + 1)); note="timed out after ${it_timeout}s"
	elif [ $rc -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1; note="exit $rc without a 'not ok' line"
	elif [ $rc -eq 0 ] && [ "$fail" -ne 0 ]; then
		note="printed 'not ok' but exited 0"
	elif [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
		fail=1; note="no 'ok' line"
	fi
	status=ok; [ "$fail" -eq 0 ] || status=FAIL
	report "$status" "$name" "$pass" "$fail" "$ms" "$note" "$log"
done

[ -z "$failed_names" ] || echo "failed:$failed_names (logs in $logs)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
