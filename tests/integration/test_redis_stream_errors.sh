#!/usr/bin/env bash
# Redis Streams source, errors. A poison entry (the function fails on it) is isolated by bisection
# and stored to the dead-letter file; the entries around it are delivered and the group ends with
# nothing pending (dead-lettered counts as done). A wrong password and a key that is not a stream
# are errors naming the trigger, the server and the key, logged once although the feed keeps
# retrying, and shown as last_error in GET /status; their connections back off. A Redis frozen
# while acknowledgements are outstanding does not keep the daemon from stopping.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/redis.sh"

redis_start "$H_TMP/redis" || h_bail redis "redis-server did not start"
h_at_exit redis_stop
redis_cli CONFIG SET requirepass s3cret >/dev/null
rc() { redis_cli --no-auth-warning -a s3cret "$@"; }
rc RPUSH notastream x >/dev/null
A='"address": "127.0.0.1:'"$REDIS_PORT"'"'
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler"}},
  "sources": {
    "good": {"kind": "redis_stream", '"$A"', "password": "s3cret", "streams": ["events"]},
    "badpass": {"kind": "redis_stream", '"$A"', "password": "wrong", "streams": ["events"]},
    "typed": {"kind": "redis_stream", '"$A"', "password": "s3cret", "streams": ["notastream"]}
  },
  "triggers": {
    "poison": {"source": "good", "function": "rec", "payload_format": "cloudevents",
               "starting_position": "trim_horizon", "batch_size": 8, "max_batching_window_ms": 300,
               "bisect_on_error": true, "max_retry_attempts": 0, "on_failure": "dlq"},
    "denied": {"source": "badpass", "function": "rec", "payload_format": "cloudevents"},
    "wrongtype": {"source": "typed", "function": "rec", "payload_format": "cloudevents"}
  },
  "destinations": {"dlq": {"kind": "file", "path": "dlq.jsonl"}}
}'
h_expect_error 'trigger:poison batch of'
h_expect_error 'trigger:denied redis 127.0.0.1:[0-9]+: authentication failed: WRONGPASS'
h_expect_error 'trigger:wrongtype redis 127.0.0.1:[0-9]+: cannot create group "sluice-wrongtype" on stream "notastream": WRONGTYPE'
for i in 1 2 3 4 5 6 7 8; do
	if [ "$i" = 5 ]; then rc XADD events '*' n "$i" x __fail__ >/dev/null
	else rc XADD events '*' n "$i" >/dev/null; fi
done
h_start

dlq=$H_TMP/dlq.jsonl
h_true "poison: a failure record" "no line in $dlq" h_wait 20 h_file_lines_at_least "$dlq" 1
h_eq "poison: the record holds the poison entry alone" '[{"n": "5", "x": "__fail__"}]' \
	"$(python3 -c 'import json, sys
print(json.dumps([e["data"] for e in json.load(open(sys.argv[1]))["events"]]))' "$dlq")"
good() { h_received_ids rec | grep '^good:' | sort -u | wc -l; }
h_true "poison: the other seven delivered" '$(good) distinct' h_wait 10 eval '[ "$(good)" -ge 8 ]'
h_true "poison: nothing pending once dead-lettered" '$(rc XPENDING events sluice-poison | head -1) pending' \
	h_wait 10 eval '[ "$(rc XPENDING events sluice-poison | head -1)" = 0 ]'

conns() { rc INFO stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p'; }
before=$(conns)
sleep 6   # the failing feeds retry at the link's backoff (up to 5 s)
h_true "refused feeds reconnect with backoff, not in a loop" "$(($(conns) - before)) connections in 6 s" \
	test $(($(conns) - before)) -le 30
h_eq "authentication failure logged once" 1 \
	"$(h_count_log "ERROR trigger:denied redis 127.0.0.1:$REDIS_PORT: authentication failed: WRONGPASS")"
h_eq "wrong key type logged once" 1 \
	"$(h_count_log 'ERROR trigger:wrongtype redis .*: cannot create group "sluice-wrongtype" on stream "notastream": WRONGTYPE')"
h_request GET /status
last_error() { python3 -c 'import json, sys
t = [t for t in json.load(open(sys.argv[1]))["triggers"] if t["name"] == sys.argv[2]][0]
print(t["source"]["last_error"])' "$H_RESP" "$1"; }
h_match "status: last_error of the denied trigger" "authentication failed: WRONGPASS" "$(last_error denied)"
h_match "status: last_error of the wrong type" 'stream "notastream": WRONGTYPE' "$(last_error wrongtype)"
h_eq "status: no error on the working trigger" None "$(last_error poison)"

# Redis freezes (SIGSTOP) while a batch is in flight: its XACK cannot be answered, and a SIGTERM
# still ends the daemon, after a bounded wait, saying so; the entry is delivered again later.
rc XADD events '*' n slow m __slow__ >/dev/null
sleep 0.5
kill -s STOP "$REDIS_PID"
sleep 1.5
h_stop TERM 30
kill -s CONT "$REDIS_PID"
h_eq "frozen Redis: the daemon still stops, status 0" 0 "$H_EXIT"
h_true "frozen Redis: the unanswered acknowledgements are reported" "no line" \
	h_log_has "acknowledgements to sources still unanswered after 10000 ms"
