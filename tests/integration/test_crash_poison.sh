#!/usr/bin/env bash
# Poison events and kill -9 together: 5,000 events, about 1 % of them poison (the function fails
# any batch that carries one), while the daemon is SIGKILLed twice (during posting, and during
# dead-lettering) and restarted. In the end every acknowledged event is either in a batch that
# succeeded or in a failure record of the dead-letter file, and every poison event is
# dead-lettered, never counted a success.
. "$(dirname "$0")/../lib/harness.sh"

TOTAL=${SLUICE_POISON_EVENTS:-5000}
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 10}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {"web-rec": {"source": "web", "function": "rec", "batch_size": 10,
                           "max_batching_window_ms": 20, "max_retry_attempts": 1,
                           "retry_base_ms": 20, "retry_max_ms": 100}}
}'
h_expect_error 'trigger:web-rec batch of [0-9]+ failed: .*giving up'
h_start
dlq=$H_TMP/state/dead-letter/web-rec.jsonl

acked=$H_TMP/acked.tsv
: >"$acked"
$H_PY load "$H_URL/events/web" "$TOTAL" 4 "$acked" 60 0.01 >"$H_TMP/load.out" 2>&1 &
load_pid=$!
H_BG_PIDS="$load_pid"

# The first kill lands while clients post; the second while batches are still being retried and
# dead-lettered (posting may be over by then: it is much faster than delivery).
first=$((TOTAL / 10 + RANDOM % (TOTAL * 3 / 10)))
h_kill9_when_acked "$first" "$acked" "$TOTAL"
h_true "failure records being written" "none within 30 s" h_wait 30 h_file_lines_at_least "$dlq" 1
h_kill9_when_acked "$first" "$acked" "$TOTAL" 0

wait "$load_pid"
h_eq "load generator finished" 0 "$?"
H_BG_PIDS=""
h_note "$(cat "$H_TMP/load.out")"
h_eq "every event acknowledged in the end" "$TOTAL" "$(cut -f1 "$acked" | sort -u | wc -l)"
h_true "some poison among them" "no poison event was generated" \
	grep -q '__fail__$' "$acked"

settled() { $H_PY check-outcome "$acked" "$H_REC" "$dlq" >"$H_TMP/check.out" 2>&1; }
h_wait 60 settled
h_true "every acknowledged event succeeded or was dead-lettered; every poison dead-lettered" \
	'$(cat "$H_TMP/check.out")' settled
h_note "$(cat "$H_TMP/check.out")"
h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
