#!/usr/bin/env bash
# The kafka source in a consumer group of two nodes (the kmock cluster, kcat as the producer):
# the second node takes half the partitions, and when it stops (SIGTERM, then SIGKILL) the first
# takes them back with no record lost and only the uncommitted window delivered twice. Also:
# lag in the status, brokers going down and coming back, a poison record dead-lettered, and a
# stop while the brokers are down (the commit that failed is made up by a redelivery).
# (The mock cluster creates a topic a consumer asks for, so a missing topic cannot be shown here.)
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/kafka.sh"
KAFKA_KMOCK=$H_BUILD/tests/kmock

kafka_start "$H_TMP/kafka" orders 6 || h_bail kafka "kmock did not start"
h_at_exit kafka_stop

produce() { # produce FIRST COUNT [VALUE]: records m<FIRST>.. (or VALUE) keyed k<i % 17>
	seq "$1" $(($1 + $2 - 1)) | awk -v v="${3:-}" '{printf "k%d:%s\n", $1 % 17, v ? v : "m" $1}' |
		kcat -P -b "$KAFKA_BOOTSTRAP" -t orders -K: -X linger.ms=5 ||
		h_bail produce "kcat could not produce"
}
order() { $H_PY stream-order "$H_REC:$H_TMP/rec-b" rec; }
field() { order | tr ' ' '\n' | sed -n "s/^$1=//p"; }
distinct_at_least() { [ "$(field distinct)" -ge "$1" ]; }
status_of() { curl -fsS "$1/status" >"$H_TMP/status.json"; }
# source_field URL PATH: a value of trigger t's source status (h.py get paths)
source_field() { status_of "$1" && $H_PY get "$H_TMP/status.json" "triggers.0.source.$2"; }
partitions_of() { status_of "$1" && $H_PY get "$H_TMP/status.json" "#triggers.0.source.partitions"; }
assigned_in() { [ "$(partitions_of "$1")" = "$2" ]; }

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "h"}},
  "sources": {"k": {"kind": "kafka", "brokers": "'"$KAFKA_BOOTSTRAP"'", "topics": ["orders"],
                    "properties": {"session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
                                   "reconnect.backoff.max.ms": "500"}},
              "locked": {"kind": "kafka", "brokers": "'"$KAFKA_BOOTSTRAP"'", "topics": ["orders"],
                         "properties": {"security.protocol": "SASL_PLAINTEXT",
                                        "sasl.mechanisms": "PLAIN", "sasl.username": "u",
                                        "sasl.password": "p", "reconnect.backoff.max.ms": "200"}}},
  "triggers": {
    "t": {"source": "k", "function": "rec", "batch_size": 20, "max_batching_window_ms": 50,
          "payload_format": "cloudevents", "starting_position": "trim_horizon",
          "max_retry_attempts": 1, "retry_base_ms": 100, "retry_max_ms": 200,
          "bisect_on_error": true},
    "denied": {"source": "locked", "function": "rec"}
  }
}'
produce 1 300
h_start
h_expect_error 'trigger:denied kafka: authentication failed'
h_true "one node: all 300 records" 'only $(order) after 30 s' h_wait 30 distinct_at_least 300
h_true "one node: 6 partitions, lag 0" 'status: $(source_field "$H_URL" lag), $(partitions_of "$H_URL") partitions' \
	h_wait 10 eval '[ "$(source_field "$H_URL" lag)" = 0 ] && assigned_in "$H_URL" 6'

h_match "sluice status shows the source lag" 'source lag: 0 \(kafka\)' \
	"$("$SLUICE" status --listen "127.0.0.1:$H_PORT")"
h_eq "an authentication failure is one error naming the trigger" 1 \
	"$(h_count_log 'ERROR trigger:denied kafka: authentication failed: .*SASL')"
h_match "an authentication failure is in the trigger's status" 'authentication failed' \
	"$(status_of "$H_URL" && $H_PY get "$H_TMP/status.json" triggers.1.source.last_error)"

# A second node joins the group: each takes 3 partitions; records keep flowing to both.
h_node_start b
h_true "two nodes: 3 partitions each" 'a: $(partitions_of "$H_URL"), b: $(partitions_of "${H_NODE_URLS[b]}")' \
	h_wait 30 eval 'assigned_in "$H_URL" 3 && assigned_in "${H_NODE_URLS[b]}" 3'
produce 301 600
h_true "two nodes: all 900 records" 'only $(order) after 30 s' h_wait 30 distinct_at_least 900
h_eq "two nodes: each record once, in order" \
	"events=900 distinct=900 duplicates=0 reordered=0 partitions=6 dup_blocks=0" "$(order)"

# The second node stops: the first takes its partitions back, nothing is lost or repeated.
h_node_stop b
h_eq "node b exits 0" 0 "$H_EXIT"
h_true "after b stopped: a has all 6 partitions" '$(partitions_of "$H_URL")' \
	h_wait 30 assigned_in "$H_URL" 6
produce 901 300
h_true "after b stopped: all 1200 records" 'only $(order) after 30 s' h_wait 30 distinct_at_least 1200
h_eq "after b stopped: each record once, in order" \
	"events=1200 distinct=1200 duplicates=0 reordered=0 partitions=6 dup_blocks=0" "$(order)"

# SIGKILL of a member: its partitions come back after the session timeout; only what it had not
# committed is delivered again.
h_node_start b
h_wait 30 eval 'assigned_in "$H_URL" 3 && assigned_in "${H_NODE_URLS[b]}" 3' ||
	h_not_ok "b joined again" "a: $(partitions_of "$H_URL")"
produce 1201 600 __slow__
h_wait 30 distinct_at_least 1210 || h_not_ok "kill point" "only $(order)"
h_node_stop b KILL
h_eq "node b killed" 137 "$H_EXIT"
h_true "after b was killed: all 1800 records" 'only $(order) after 90 s' \
	h_wait 90 distinct_at_least 1800
h_note "after SIGKILL: $(order)"
h_eq "after b was killed: none lost or reordered" "1800 0 0" \
	"$(field distinct) $(field reordered) $(field dup_blocks)"

# Every broker down, then up: the consumer says so once and goes on.
kafka_down || h_bail kafka "kmock did not take the brokers down"
h_true "brokers down: a warning" "none after 20 s" h_wait_log 'WARN  trigger:t kafka: ' 1 20
kafka_up || h_bail kafka "kmock did not bring the brokers up"
produce 1801 100
h_true "brokers back: new records arrive" 'only $(order)' h_wait 60 distinct_at_least 1900
h_true "brokers back: recovery logged" "no line" h_wait_log 'trigger:t kafka: records flow again'

# A poison record is isolated (bisect_on_error) and goes to the dead-letter file after its retry;
# the others pass.
h_expect_error 'trigger:t batch of 1 failed: Function.TestFailure .*giving up'
produce 1901 1 __fail__
produce 1902 50
h_true "poison: the others pass" 'only $(order)' h_wait 30 distinct_at_least 1951
dlq=$H_TMP/state/dead-letter/t.jsonl
h_true "poison: dead-lettered" "no record in $dlq" h_wait 20 test -s "$dlq"
sleep 1
h_eq "poison: one record, of that record alone" "1 RetryAttemptsExhausted 1 __fail__" \
	"$(python3 -c 'import base64, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
r = recs[0]
print(len(recs), r["requestContext"]["condition"], r["SluiceBatchInfo"]["batchSize"],
      base64.b64decode(r["events"][0]["data_base64"]).decode())' "$dlq")"

# SIGTERM while every broker is down and a finished record waits to be committed: the daemon
# stops in bounded time (its last commit gives up after 5 s), and once the brokers are back that
# record comes again: a failed commit loses nothing.
slow_id() { h_received_ids | sort | uniq -c | awk -v id="$1" '$2 == id { print $1 }'; }
requests=$(h_count_log 'recorder: request')
h_received_ids | sort -u >"$H_TMP/ids-before"
produce 1952 1 __slow__
h_true "brokers down mid-invocation: the slow record is being handled" "no request" \
	h_wait 20 eval '[ "$(h_count_log "recorder: request")" -gt '"$requests"' ]'
kafka_down || h_bail kafka "kmock did not take the brokers down"
h_true "brokers down mid-invocation: the slow record is done" 'only $(order)' \
	h_wait 10 distinct_at_least 1952
slow=$(h_received_ids | sort -u | comm -13 "$H_TMP/ids-before" - | head -1)
started=$(date +%s)
h_stop
h_eq "stopped with the brokers down: exit 0" 0 "$H_EXIT"
h_true "stopped with the brokers down: within 15 s" "took $(($(date +%s) - started)) s" \
	test $(($(date +%s) - started)) -le 15
kafka_up || h_bail kafka "kmock did not bring the brokers up"
h_start
h_true "after the restart: the record whose commit failed comes again" \
	'$slow delivered $(slow_id "$slow") times' h_wait 60 eval '[ "$(slow_id "$slow")" -ge 2 ]'
h_eq "after the restart: none lost or reordered" "1952 0" "$(field distinct) $(field reordered)"

h_stop
h_eq "daemon exits 0" 0 "$H_EXIT"
