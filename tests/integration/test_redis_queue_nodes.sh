#!/usr/bin/env bash
# Two Sluice nodes on one Redis queue share its messages: 300 messages pushed while both run are
# each delivered exactly once, some by each node, and all are deleted. Node B then stops with
# SIGTERM: node A goes on alone with what is pushed next.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/redis.sh"

redis_start "$H_TMP/redis" || h_bail redis "redis-server did not start"
h_at_exit redis_stop
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler"}},
  "sources": {"q": {"kind": "redis_queue", "address": "127.0.0.1:'"$REDIS_PORT"'", "queue": "work"}},
  "triggers": {"t": {"source": "q", "function": "rec", "payload_format": "cloudevents",
                     "batch_size": 10, "max_batching_window_ms": 50}}
}'
h_start
h_node_start b
node_b=$H_NODE_PID

for round in $(seq 1 30); do
	redis_cli LPUSH work $(seq $((round * 10 - 9)) $((round * 10)) | sed 's/^/m/') >/dev/null
	sleep 0.05
done
bodies() { { h_received rec; $H_PY received "$H_TMP/rec-b"; } | grep -o '"data":"m[0-9]*"'; }
h_true "every message delivered" '$(bodies | sort -u | wc -l) of 300' \
	h_wait 30 eval '[ "$(bodies | sort -u | wc -l)" -ge 300 ]'
sleep 0.5
h_eq "each exactly once" "300 300" "$(bodies | wc -l) $(bodies | sort -u | wc -l)"
a=$(h_received rec | wc -l)
b=$($H_PY received "$H_TMP/rec-b" | wc -l)
h_note "node A $a, node B $b"
h_true "both nodes took a share" "A $a, B $b" test "$a" -gt 0 -a "$b" -gt 0
h_true "every message deleted" '$(redis_cli HLEN work:sluice:messages) kept' \
	h_wait 5 eval '[ "$(redis_cli HLEN work:sluice:messages)" = 0 ]'

kill -s TERM "$node_b"
wait "$node_b"
h_eq "node B stops cleanly" 0 "$?"
redis_cli LPUSH work after1 after2 >/dev/null
h_true "node A alone takes what comes next" "not delivered" \
	h_wait 10 eval '[ "$(h_received rec | grep -c "\"data\":\"after")" = 2 ]'
h_stop TERM
h_eq "exit status" 0 "$H_EXIT"
