#!/usr/bin/env bash
# The crash test: 10,000 events posted by 4 concurrent keep-alive clients (batches and singles in
# every body mode) while the daemon is killed with SIGKILL twice at random moments and restarted on
# the same state dir. Clients retry what was refused or cut off, so all 10,000 are acknowledged in
# the end; every acknowledged event must reach the function (at least once, with its own data).
. "$(dirname "$0")/../lib/harness.sh"

TOTAL=${SLUICE_CRASH_EVENTS:-10000}
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 10}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {"web-rec": {"source": "web", "function": "rec", "batch_size": 100,
                           "max_batching_window_ms": 50, "max_retry_attempts": 1000,
                           "retry_base_ms": 50, "retry_max_ms": 500}}
}'
h_start

acked=$H_TMP/acked.tsv
: >"$acked"
$H_PY load "$H_URL/events/web" "$TOTAL" 4 "$acked" 50 >"$H_TMP/load.out" 2>&1 &
load_pid=$!
H_BG_PIDS="$load_pid"

# kill_at N: SIGKILL the daemon once N events are acknowledged, check its sandboxes die, restart.
kill_at() {
	local at=$1
	h_wait 30 eval '[ "$(h_lines "$acked")" -ge '"$at"' ]' ||
		h_not_ok "kill at $at" "only $(h_lines "$acked") events acknowledged after 30 s"
	local n_acked
	h_kill9
	n_acked=$(h_lines "$acked")
	h_note "SIGKILL with $n_acked events acknowledged, $(h_received_count) delivered"
	h_true "killed while clients were posting (at about $at)" "all $TOTAL were acknowledged already" \
		test "$n_acked" -lt "$TOTAL"
	h_eq "daemon killed by SIGKILL (at about $at)" 137 "$H_EXIT"
	h_true "sandboxes of the killed daemon exit (at about $at)" \
		'still running after 5 s: $(h_describe_pids $(h_leftovers))' h_wait 5 h_no_leftovers
	for pid in $(h_leftovers); do kill -s KILL "$pid"; done
	h_start
}
first=$((TOTAL / 10 + RANDOM % (TOTAL * 4 / 10)))
second=$((first + TOTAL / 10 + RANDOM % (TOTAL / 5)))
kill_at "$first"
kill_at "$second"

wait "$load_pid"
h_eq "load generator finished" 0 "$?"
H_BG_PIDS=""
h_note "$(cat "$H_TMP/load.out")"
h_eq "every event acknowledged in the end" "$TOTAL" "$(cut -f1 "$acked" | sort -u | wc -l)"

delivered() { $H_PY check-delivery "$acked" "$H_REC" >"$H_TMP/check.out" 2>&1; }
h_wait 40 delivered
h_true "every acknowledged event delivered" 'lost events: $(cat "$H_TMP/check.out")' delivered
h_note "$(cat "$H_TMP/check.out")"

h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
