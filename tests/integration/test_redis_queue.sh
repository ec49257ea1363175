#!/usr/bin/env bash
# Redis queue source (SQS-like). Part 1, partial batch response: six messages in one batch, the
# function lists two as failed; only those two are invoked again and, failing again, go to the
# on-failure file; all six are deleted in the end. Part 2, visibility timeout and receive counts:
# a message is in flight when the daemon is killed (kill -9); after the visibility timeout it is
# received again, with receivecount 2; killed again, its third receive is past max_receive_count
# 2: not invoked, stored to the on-failure file (MaxReceiveCountExceeded), deleted. Status shows
# the queue's depth.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/redis.sh"

redis_start "$H_TMP/redis" || h_bail redis "redis-server did not start"
h_at_exit redis_stop
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 20}},
  "sources": {"q": {"kind": "redis_queue", "address": "127.0.0.1:'"$REDIS_PORT"'", "queue": "jobs",
                    "visibility_timeout_s": 2, "max_receive_count": 2}},
  "triggers": {"t": {"source": "q", "function": "rec", "payload_format": "cloudevents",
                     "batch_size": 10, "max_batching_window_ms": 300,
                     "report_batch_item_failures": true, "max_retry_attempts": 1,
                     "retry_base_ms": 20, "retry_max_ms": 50, "on_failure": "dlq"}},
  "destinations": {"dlq": {"kind": "file", "path": "dlq.jsonl"}}
}'
h_expect_error 'trigger:t batch of 2 failed'
dlq=$H_TMP/dlq.jsonl

redis_cli LPUSH jobs m1 m2__partial__ m3 m4 m5__partial__ m6 >/dev/null
h_start
h_true "partial: failure record written" "no line in $dlq" h_wait 20 h_file_lines_at_least "$dlq" 1
h_eq "partial: the record holds the two listed messages" 'm2__partial__ m5__partial__' \
	"$(python3 -c 'import json, sys
print(" ".join(sorted(e["data"] for e in json.load(open(sys.argv[1]))["events"])))' "$dlq")"
h_eq "partial: invocations, the batch then the two again" "6 2" \
	"$(h_invocations rec | awk -F'\t' '{print $3}' | paste -sd' ')"
for m in m1 m3 m4 m6; do
	h_eq "partial: $m delivered once" 1 "$(h_received rec | grep -c "\"data\":\"$m\"")"
done
gone() { [ "$(redis_cli HLEN jobs:sluice:messages)" = 0 ] && [ "$(redis_cli ZCARD jobs:sluice:inflight)" = 0 ]; }
h_true "partial: every message deleted" \
	'$(redis_cli HLEN jobs:sluice:messages) kept, $(redis_cli ZCARD jobs:sluice:inflight) in flight' \
	h_wait 5 gone

h_request GET /status
h_eq "status: an empty queue" "redis_queue 0 0" \
	"$(h_json triggers.0.source.kind) $(h_json triggers.0.source.lag) $(h_json triggers.0.source.partitions.0.in_flight)"

# kill -9 while the message is in flight; end what the killed daemon left running
kill_in_flight() {
	h_kill9
	h_eq "daemon killed by SIGKILL ($1)" 137 "$H_EXIT"
	h_wait 5 h_no_leftovers || true
	for pid in $(h_leftovers); do kill -s KILL "$pid"; done
}
counts() { h_received rec | grep '"data":"slow __sleep__"' | grep -o '"receivecount":[0-9]*' | cut -d: -f2 | paste -sd' '; }
redis_cli LPUSH jobs 'slow __sleep__' >/dev/null
h_true "visibility: received once" 'counts: $(counts)' h_wait 10 eval '[ "$(counts)" = 1 ]'
kill_in_flight "first receive"
h_eq "visibility: in flight after the kill" "1 0" "$(redis_cli ZCARD jobs:sluice:inflight) $(redis_cli LLEN jobs)"
h_start
h_true "visibility: received again after the timeout, receivecount 2" 'counts: $(counts)' \
	h_wait 15 eval '[ "$(counts)" = "1 2" ]'
kill_in_flight "second receive"
h_start
h_true "max_receive_count: a record in the on-failure file" "$(h_lines "$dlq") lines" \
	h_wait 15 h_file_lines_at_least "$dlq" 2
last() { tail -n 1 "$dlq" >"$H_TMP/last.json"; h_json "$1" "$H_TMP/last.json"; }
h_eq "max_receive_count: condition" MaxReceiveCountExceeded "$(last requestContext.condition)"
h_eq "max_receive_count: the message, received 3 times" "slow __sleep__ 3" \
	"$(last events.0.data) $(last events.0.receivecount)"
h_eq "max_receive_count: not invoked a third time" "1 2" "$(counts)"
h_true "max_receive_count: deleted once stored" \
	'$(redis_cli HLEN jobs:sluice:messages) kept, $(redis_cli ZCARD jobs:sluice:inflight) in flight' \
	h_wait 5 gone

# Status of a queue whose trigger is full: its function is stuck, so the feed takes 100 messages
# (max_pending_events) plus one receive of 10 it holds, and leaves the rest waiting.
sleeper='"__sleep__"'
redis_cli LPUSH held "$sleeper" $(seq 2 150) >/dev/null
h_config '{
  "functions": {"slow": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 2}},
  "sources": {"h": {"kind": "redis_queue", "address": "127.0.0.1:'"$REDIS_PORT"'", "queue": "held",
                    "visibility_timeout_s": 60}},
  "triggers": {"stuck": {"source": "h", "function": "slow", "payload_format": "cloudevents",
                         "batch_size": 1, "max_pending_events": 100, "max_retry_attempts": -1,
                         "retry_base_ms": 1000, "retry_max_ms": 1000}}
}'
h_expect_error 'trigger:stuck'
h_stop TERM 30
h_start
figures() { echo "$(redis_cli LLEN held) $(redis_cli ZCARD held:sluice:inflight)"; }
idx=$(h_request GET /status; python3 -c 'import json, sys
print([t["name"] for t in json.load(open(sys.argv[1]))["triggers"]].index("stuck"))' "$H_RESP")
reported() { h_request GET /status; echo "$(h_json "triggers.$idx.source.lag") $(h_json "triggers.$idx.source.partitions.0.in_flight")"; }
h_true "status: lag and in_flight as Redis counts them" 'reported $(reported), redis $(figures)' \
	h_wait 10 eval '[ "$(reported)" = "$(figures)" ] && [ "$(figures)" = "40 110" ]'
h_stop TERM 30
h_eq "exit status" 0 "$H_EXIT"
