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

first=$((TOTAL / 10 + RANDOM % (TOTAL * 4 / 10)))
second=$((first + TOTAL / 10 + RANDOM % (TOTAL / 10)))
h_kill9_when_acked "$first" "$acked" "$TOTAL"
h_kill9_when_acked "$second" "$acked" "$TOTAL"

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
