#!/usr/bin/env bash
# Redis Streams source under failures, while a producer keeps adding entries to two streams:
# the daemon is killed with SIGKILL and restarted (its own pending entries are read again), then
# Redis is killed with SIGKILL and restarted on the same port with its append-only file (every
# answered write kept). Every entry the streams hold at the end must have reached the function
# (counted by id), duplicates only from what was in flight at the kill, the group must end with
# nothing pending, and the connection loss must be logged once per change of state, not per
# retry.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/redis.sh"

REDIS_PERSIST=1
redis_start "$H_TMP/redis" || h_bail redis "redis-server did not start"
h_at_exit redis_stop
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 10}},
  "sources": {"s": {"kind": "redis_stream", "address": "127.0.0.1:'"$REDIS_PORT"'",
                    "streams": ["left", "right"]}},
  "triggers": {"t": {"source": "s", "function": "rec", "payload_format": "cloudevents",
                     "starting_position": "trim_horizon", "batch_size": 100,
                     "max_batching_window_ms": 50, "max_pending_events": 200,
                     "max_retry_attempts": -1, "retry_base_ms": 50, "retry_max_ms": 500}}
}'
h_start

# 40 rounds of 50 entries to each stream; a round Redis refuses (it is down) is tried again.
# Rounds 3 to 10 carry a slow entry (the function takes a second), so batches are in flight when
# the daemon is killed.
produce() {
	local round=1
	while [ "$round" -le 40 ]; do
		if seq $((round * 50 - 49)) $((round * 50)) |
			awk -v r="$round" '{m = (r >= 3 && r <= 10 && $1 % 50 == 0) ? " m __slow__" : "";
				print "XADD left * n " $1 m; print "XADD right * n " $1}' |
			redis-cli -h 127.0.0.1 -p "$REDIS_PORT" 2>&1 | grep -qv '^[0-9]*-[0-9]*$'; then
			sleep 0.2
			continue
		fi
		round=$((round + 1))
		sleep 0.1
	done
}
produce &
producer=$!
H_BG_PIDS=$producer

delivered() { h_received_ids rec | wc -l; }
h_wait 20 eval '[ "$(delivered)" -ge 300 ]'
h_note "SIGKILL with $(delivered) delivered"
h_kill9
h_eq "daemon killed by SIGKILL" 137 "$H_EXIT"
h_wait 5 h_no_leftovers || true
for pid in $(h_leftovers); do kill -s KILL "$pid"; done
h_start
h_wait 30 eval '[ "$(redis_cli XLEN left)" -ge 1200 ]'
h_note "Redis SIGKILL with $(redis_cli XLEN left) entries in each stream, $(delivered) delivered"
redis_stop KILL
sleep 1
redis_restart "$H_TMP/redis" || h_bail redis "redis-server did not restart"
wait "$producer"
H_BG_PIDS=""

total() { echo $(($(redis_cli XLEN left) + $(redis_cli XLEN right))); }
# A round cut short by the kill is added again whole, so a stream may hold an n twice.
numbers() { redis_cli XRANGE "$1" - + | awk 'prev == "n" {print} {prev = $0}' | sort -u | wc -l; }
h_eq "the streams hold every number produced" "2000 2000" "$(numbers left) $(numbers right)"
all_delivered() { [ "$(h_received_ids rec | sort -u | wc -l)" -ge "$(total)" ]; }
h_true "every entry delivered" '$(h_received_ids rec | sort -u | wc -l) distinct of $(total)' \
	h_wait 40 all_delivered
expected() { for k in left right; do redis_cli XRANGE "$k" - + | grep -E '^[0-9]+-[0-9]+$' | sed "s/^/s:$k:/"; done | sort; }
h_eq "nothing delivered that the streams do not hold" "" \
	"$(comm -13 <(expected) <(h_received_ids rec | sort -u) | head -3)"
dups=$(( $(delivered) - $(h_received_ids rec | sort -u | wc -l) ))
h_note "$dups duplicates"
h_true "duplicates only from the in-flight window (at most 300)" "$dups duplicates" test "$dups" -le 300
h_true "nothing pending in the group" '$(redis_cli XPENDING left sluice-t | head -1) and $(redis_cli XPENDING right sluice-t | head -1)' \
	h_wait 10 eval '[ "$(redis_cli XPENDING left sluice-t | head -1)$(redis_cli XPENDING right sluice-t | head -1)" = 00 ]'
lines=$(h_count_log "WARN  trigger:t redis 127.0.0.1:$REDIS_PORT")
h_note "$lines warnings about the connection"
h_true "connection loss logged per change of state, not per retry" "$lines lines" \
	test "$lines" -ge 1 -a "$lines" -le 4
h_true "working again logged" "no line" h_log_has "trigger:t redis 127.0.0.1:$REDIS_PORT: working again"
h_stop TERM
h_eq "exit status" 0 "$H_EXIT"
