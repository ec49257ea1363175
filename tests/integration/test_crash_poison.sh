#!/usr/bin/env bash
# Poison events and kill -9 together: 3,000 events, about 1 % of them poison (the function fails
# any batch that carries one), posted while the daemon is SIGKILLed twice and restarted. In the
# end every acknowledged event is either in a batch that succeeded or in a failure record in the
# dead-letter file, and every poison event is dead-lettered, never counted a success.
. "$(dirname "$0")/../lib/harness.sh"

TOTAL=${SLUICE_POISON_EVENTS:-3000}
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

for at in $((TOTAL / 5 + RANDOM % (TOTAL / 4))) $((TOTAL * 3 / 5 + RANDOM % (TOTAL / 5))); do
	h_wait 40 eval '[ "$(h_lines "$acked")" -ge '"$at"' ]' ||
		h_not_ok "kill at $at" "only $(h_lines "$acked") events acknowledged after 40 s"
	h_note "SIGKILL with $(h_lines "$acked") acknowledged, $(h_lines "$dlq") failure records"
	h_kill9
	h_eq "killed by SIGKILL (at about $at)" 137 "$H_EXIT"
	for pid in $(h_leftovers); do kill -s KILL "$pid"; done
	h_start
done

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
