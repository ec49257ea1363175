#!/usr/bin/env bash
# Graceful shutdown: SIGTERM while an invocation is in flight and more events wait -> the running
# invocation finishes, the daemon exits 0 promptly, and after a restart on the same state dir
# every event is delivered. SIGINT on an idle daemon exits 0 too.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 5}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {"web-rec": {"source": "web", "function": "rec", "batch_size": 1,
                           "max_batching_window_ms": 0}}
}'
h_start

ids=()
for i in 1 2 3 4 5 6; do
	h_post web application/cloudevents+json \
		"{\"specversion\":\"1.0\",\"id\":\"g-$i\",\"source\":\"/t\",\"type\":\"t\",\"data\":\"__slow__ $i\"}"
	[ "$H_STATUS" = 202 ] && ids+=("g-$i")
done
h_eq "6 events accepted" 6 "${#ids[@]}"
# Each invocation takes 1 s; stop while the first one runs.
h_true "first invocation started" "no invocation within 10 s" h_wait 10 h_has_received 1
t0=$(date +%s%3N)
h_stop TERM 15
ms=$(($(date +%s%3N) - t0))
h_eq "SIGTERM with work in flight: exit status" 0 "$H_EXIT"
h_true "SIGTERM: exited within 4 s (took $ms ms)" "too slow" test "$ms" -lt 4000
inflight=$(h_invocations | tail -n 1 | cut -f1)
h_true "the in-flight invocation finished (REPORT for $inflight)" "no REPORT for it" \
	h_log_has "function:rec REPORT RequestId: $inflight"
h_true "the in-flight invocation was not cut off" "it reported a timeout or error" \
	eval "! h_logs | grep 'REPORT RequestId: $inflight' | grep -q Status:"
before=$(h_received_count)
h_true "not everything was delivered before the stop ($before of 6)" "all delivered already" \
	test "$before" -lt 6

h_start
h_true "after restart every event is delivered" 'got $(h_received_ids | sort -u | wc -l) distinct of 6' \
	h_wait 20 eval '[ "$(h_received_ids | sort -u | wc -l)" -ge 6 ]'
h_eq "distinct ids" "${ids[*]}" "$(h_received_ids | sort -u | tr '\n' ' ' | sed 's/ $//')"
h_eq "in order across the restart" "${ids[*]}" "$(h_received_ids | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//')"
h_true "at most the in-flight one again ($(h_received_count) deliveries)" "more redelivered" \
	test "$(h_received_count)" -le 7
h_stop INT
h_eq "SIGINT: exit status" 0 "$H_EXIT"

# Idle daemon, SIGTERM: quick exit 0, and no runtime left behind (checked at teardown too).
h_start
t0=$(date +%s%3N)
h_stop TERM
ms=$(($(date +%s%3N) - t0))
h_eq "idle SIGTERM: exit status" 0 "$H_EXIT"
h_true "idle SIGTERM: exited within 2 s (took $ms ms)" "too slow" test "$ms" -lt 2000
