#!/usr/bin/env bash
# A dead-letter destination that is down keeps the events: the trigger retries storing the
# failure records until the destination is back (Redis stopped, then started again on the same
# port), nothing is committed before they are stored, and a restart of Sluice in between loses
# nothing either. Success records (on_success) to Redis behave the same.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/redis.sh"

redis_start "$H_TMP/redis" || h_bail redis "redis-server did not start"
h_at_exit redis_stop
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 3}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {
    "t": {"source": "web", "function": "rec", "batch_size": 1, "max_batching_window_ms": 0,
          "max_retry_attempts": 0, "retry_base_ms": 50, "retry_max_ms": 300,
          "on_failure": "dlq", "on_success": "done"}
  },
  "destinations": {
    "dlq": {"kind": "redis", "address": "127.0.0.1:'"$REDIS_PORT"'", "stream": "dlq", "timeout_ms": 500},
    "done": {"kind": "redis", "address": "127.0.0.1:'"$REDIS_PORT"'", "stream": "done", "timeout_ms": 500}
  }
}'
h_expect_error 'trigger:t'
h_start

post() { h_post web application/cloudevents+json \
	"{\"specversion\":\"1.0\",\"id\":\"$1\",\"source\":\"/t\",\"type\":\"t\",\"data\":{\"x\":\"$2\"}}"; }
post ok-0 fine
post bad-0 __fail__
h_true "records stored while Redis is up" "dlq $(redis_cli XLEN dlq), done $(redis_cli XLEN done)" \
	h_wait 20 eval '[ "$(redis_cli XLEN dlq)" = 1 ] && [ "$(redis_cli XLEN done)" = 1 ]'

redis_stop
for i in 1 2 3; do post "bad-$i" __fail__; post "ok-$i" fine; done
h_true "the trigger keeps retrying the stores" "no retry logged" \
	h_wait 20 h_log_has 'record for batch of 1 not stored in (dlq|done)' 2
"$SLUICE" status --listen "127.0.0.1:$H_PORT" >"$H_TMP/status.txt"
h_match "status shows the destination trouble" 'last error: .*Sluice.DestinationDown' \
	"$(cat "$H_TMP/status.txt")"
h_match "nothing past the stuck events is done" '8 in, 2 done' "$(cat "$H_TMP/status.txt")"

# Sluice restarts while the destination is still down: the events are still there.
h_stop TERM
h_eq "stopped while the destination is down" 0 "$H_EXIT"
h_start
redis_restart "$H_TMP/redis" || h_bail redis "redis-server did not restart"
h_true "all records stored once Redis is back" "dlq $(redis_cli XLEN dlq), done $(redis_cli XLEN done)" \
	h_wait 30 eval '[ "$(redis_cli XLEN dlq)" -ge 3 ] && [ "$(redis_cli XLEN done)" -ge 3 ]'
ids() { redis_cli XRANGE "$1" - + | python3 -c '
import json, sys
ids = set()
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        ids.update(e["id"] for e in json.loads(line).get("events", []))
print(" ".join(sorted(ids)))'; }
h_eq "every failing event dead-lettered (the new server)" "bad-1 bad-2 bad-3" "$(ids dlq)"
h_eq "every good event recorded as a success" "ok-1 ok-2 ok-3" "$(ids done)"
h_true "the 6 redelivered events all done" "$("$SLUICE" status --listen 127.0.0.1:$H_PORT | grep events:)" \
	h_wait 10 eval '"$SLUICE" status --listen 127.0.0.1:$H_PORT | grep -q "events: 6 in, 6 done"'
h_stop TERM
h_eq "exit status" 0 "$H_EXIT"
