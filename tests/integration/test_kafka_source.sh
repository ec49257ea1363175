#!/usr/bin/env bash
# The kafka source against the kmock cluster (tests/lib/kafka.sh) with kcat as the producer:
# records keyed over 4 partitions reach two triggers (batch size 1 with CloudEvents, 500 with the
# AWS Kafka event) in offset order per partition, each exactly once, with the fields kcat gave; a
# topic of the longest name Kafka allows gets its full ids; a restart resumes at the committed
# offsets; a SIGKILL in the middle of a stream loses nothing and redelivers only the window that
# was not committed yet.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/kafka.sh"
KAFKA_KMOCK=$H_BUILD/tests/kmock

kafka_start "$H_TMP/kafka" orders 4 || h_bail kafka "kmock did not start"
h_at_exit kafka_stop

# produce FIRST COUNT: records m<FIRST>.. keyed k<i % 13>
produce() {
	seq "$1" $(($1 + $2 - 1)) | awk '{printf "k%d:m%d\n", $1 % 13, $1}' |
		kcat -P -b "$KAFKA_BOOTSTRAP" -t orders -K: -X linger.ms=5 ||
		h_bail produce "kcat could not produce"
}
order() { $H_PY stream-order "$H_REC" "$1"; }
field() { order "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
distinct_at_least() { [ "$(field "$1" distinct)" -ge "$2" ]; }

produce 1 400
sleep 1.2
since=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
produce 401 50
kcat -P -b "$KAFKA_BOOTSTRAP" -t orders -K: -H trace=abc -H bin=$'\xff' <<<'kh:m451' ||
	h_bail produce "kcat could not produce with headers"
# A topic of 249 characters, Kafka's longest: its event ids ("<source>:<topic>-<p>:<offset>")
# are longer than the buffer most ids are written into.
long_topic=$(printf 'l%.0s' $(seq 249))
printf 'a\nb\n' | kcat -P -b "$KAFKA_BOOTSTRAP" -t "$long_topic" -p 0 ||
	h_bail produce "kcat could not produce to the long topic"
h_config '{
  "functions": {"one": {"code": "@FIX@/recorder", "handler": "h"},
                "many": {"code": "@FIX@/recorder", "handler": "h"},
                "later": {"code": "@FIX@/recorder", "handler": "h"},
                "re": {"code": "@FIX@/recorder", "handler": "h"},
                "lng": {"code": "@FIX@/recorder", "handler": "h"}},
  "sources": {"k": {"kind": "kafka", "brokers": "'"$KAFKA_BOOTSTRAP"'", "topics": ["orders"],
                    "properties": {"session.timeout.ms": "6000",
                                   "heartbeat.interval.ms": "500"}},
              "klong": {"kind": "kafka", "brokers": "'"$KAFKA_BOOTSTRAP"'",
                        "topics": ["'"$long_topic"'"],
                        "properties": {"session.timeout.ms": "6000",
                                       "heartbeat.interval.ms": "500"}},
              "kre": {"kind": "kafka", "brokers": "'"$KAFKA_BOOTSTRAP"'", "topics": ["^ord[a-z]+$"],
                      "properties": {"session.timeout.ms": "6000",
                                     "heartbeat.interval.ms": "500"}}},
  "triggers": {
    "t1":   {"source": "k", "function": "one", "batch_size": 1, "max_batching_window_ms": 0,
             "payload_format": "cloudevents", "starting_position": "trim_horizon"},
    "t500": {"source": "k", "function": "many", "batch_size": 500,
             "max_batching_window_ms": 200, "starting_position": "trim_horizon"},
    "tre":  {"source": "kre", "function": "re", "payload_format": "cloudevents",
             "starting_position": "trim_horizon", "max_batching_window_ms": 100},
    "tlong": {"source": "klong", "function": "lng", "payload_format": "cloudevents",
              "starting_position": "trim_horizon", "max_batching_window_ms": 0},
    "tts":  {"source": "k", "function": "later", "max_batching_window_ms": 100,
             "payload_format": "cloudevents", "starting_position": "at_timestamp",
             "starting_position_timestamp": "'"$since"'"}
  }
}'
h_start
h_true "batch size 1: all 451 records" 'only $(order one) after 60 s' \
	h_wait 60 distinct_at_least one 451
h_true "batch size 500: all 451 records" 'only $(order many) after 60 s' \
	h_wait 60 distinct_at_least many 451
h_true "a topic given as a regular expression: all 451 records" 'only $(order re)' \
	h_wait 30 distinct_at_least re 451
h_true "at_timestamp: the 51 records after it" 'only $(order later) after 30 s' \
	h_wait 30 distinct_at_least later 51
h_true "the longest topic name: both records" 'only $(h_received_count lng)' \
	h_wait 30 eval '[ "$(h_received_count lng)" -ge 2 ]'
h_eq "the longest topic name: ids of source, partition and offset, in full" \
	"klong:$long_topic-0:0 klong:$long_topic-0:1" "$(h_received_ids lng | sort | paste -sd' ')"
sleep 0.5
h_eq "at_timestamp: none before it" "51" "$(field later events)"
h_eq "at_timestamp: the first record after it" "m401" \
	"$(h_received later | python3 -c 'import base64, json, sys
print(min((base64.b64decode(json.loads(l.split("\t", 1)[1])["data_base64"]).decode()
           for l in sys.stdin), key=lambda v: int(v[1:])))')"
for fn in one many; do
	h_eq "$fn: in offset order per partition, each once" \
		"events=451 distinct=451 duplicates=0 reordered=0 partitions=4 dup_blocks=0" \
		"$(order $fn)"
done
h_eq "headers in the AWS form (signed bytes)" '[{"trace": [97, 98, 99]}, {"bin": [-1]}]' \
	"$(cat "$H_REC"/many-*.jsonl | python3 -c 'import json, sys
for line in sys.stdin:
    for recs in json.loads(line)["event"]["records"].values():
        for r in recs:
            if r["headers"]:
                print(json.dumps(r["headers"]))')"
h_true "batches of more than one record" 'invocations: $($H_PY invocations "$H_REC" many | cut -f3 | sort -n | tail -1)' \
	test "$($H_PY invocations "$H_REC" many | cut -f3 | sort -n | tail -1)" -gt 1

# A clean restart resumes at the committed offsets: nothing is delivered twice.
h_stop
h_eq "daemon exits 0" 0 "$H_EXIT"
produce 452 100
h_start
h_true "after a restart: the 100 new records" 'only $(order many) after 60 s' \
	h_wait 60 distinct_at_least many 551
sleep 1
h_eq "after a restart: nothing delivered twice" \
	"events=551 distinct=551 duplicates=0 reordered=0 partitions=4 dup_blocks=0" \
	"$(order many)"

# SIGKILL while batch-size-1 delivery is in full swing; after the restart every record arrives,
# and only a contiguous window per partition (what was not committed yet) comes twice.
produce 552 700
h_wait 60 distinct_at_least one 750 || h_not_ok "kill point" "only $(order one)"
h_note "SIGKILL at $(order one)"
h_kill9
h_eq "daemon killed by SIGKILL" 137 "$H_EXIT"
h_start
h_true "after SIGKILL: every record of both triggers" 'one: $(order one); many: $(order many)' \
	h_wait 90 eval 'distinct_at_least one 1251 && distinct_at_least many 1251'
h_note "one: $(order one)"
h_eq "after SIGKILL: no record lost, none reordered" "1251 0 0" \
	"$(field one distinct) $(field one reordered) $(field one dup_blocks)"
h_true "after SIGKILL: duplicates only from the uncommitted window" \
	'$(field one duplicates) duplicates' test "$(field one duplicates)" -le 400

h_stop
h_eq "daemon exits 0 at the end" 0 "$H_EXIT"
