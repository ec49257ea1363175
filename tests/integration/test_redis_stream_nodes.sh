#!/usr/bin/env bash
# Two Sluice nodes in one Redis consumer group share a stream; node B holds what it read in a
# long batching window when it is killed (kill -9). Node A claims B's pending entries once they
# have been idle for claim_idle_ms and delivers them: every entry reaches a function, the group
# ends with nothing pending, and nothing B never delivered is lost.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/redis.sh"

redis_start "$H_TMP/redis" || h_bail redis "redis-server did not start"
h_at_exit redis_stop
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler"}},
  "sources": {"s": {"kind": "redis_stream", "address": "127.0.0.1:'"$REDIS_PORT"'",
                    "streams": ["shared"], "claim_idle_ms": 1000}},
  "triggers": {"t": {"source": "s", "function": "rec", "payload_format": "cloudevents",
                     "consumer_group": "workers", "batch_size": 10, "max_batching_window_ms": 100}}
}'
h_start

# Node B: the same group, its own node id; it batches for 30 s.
h_node_start b '{"triggers": {"t": {"batch_size": 10000, "max_batching_window_ms": 30000}}}'
node_b=$H_NODE_PID

for round in $(seq 1 20); do
	seq $((round * 20 - 19)) $((round * 20)) | awk '{print "XADD shared * n " $1}' | redis_cli >/dev/null
	sleep 0.05
done
consumers() { redis_cli XPENDING shared workers - + 1000 | sed -n '2~4p' | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' '; }
h_true "node B holds entries it read" 'pending: $(consumers)' \
	h_wait 10 eval '[ "$(consumers | wc -w)" -ge 1 ] && consumers | grep -qv "^$(cat "$H_TMP/state/node-id")="'
h_note "pending before the kill: $(consumers)"
held=$(redis_cli XPENDING shared workers | head -1)
kill -s KILL "$node_b"
wait "$node_b" 2>/dev/null
h_wait 5 h_no_leftovers || true
for pid in $(h_leftovers); do [ "$pid" = "$H_PID" ] || kill -s KILL "$pid"; done

all() { [ "$(h_received_ids rec | sort -u | wc -l)" -ge 400 ]; }
h_true "node A delivers every entry, B's included" '$(h_received_ids rec | sort -u | wc -l) of 400' h_wait 20 all
h_eq "no entry lost" 400 "$(h_received_ids rec | sort -u | wc -l)"
h_eq "node B delivered nothing (its window never closed)" 0 "$($H_PY received "$H_TMP/rec-b" 2>/dev/null | wc -l)"
h_true "node A claimed B's pending entries" "no claim logged ($held were pending)" \
	h_log_has "claimed [0-9]+ entries idle for 1000 ms"
h_true "nothing pending in the group" '$(consumers)' \
	h_wait 10 eval '[ "$(redis_cli XPENDING shared workers | head -1)" = 0 ]'
h_stop TERM
h_eq "exit status" 0 "$H_EXIT"
