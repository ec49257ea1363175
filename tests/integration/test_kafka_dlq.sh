#!/usr/bin/env bash
# Failure records to a kafka destination (the kmock cluster, tests/lib/kafka.sh): a record lands
# in the topic keyed by its trigger; while every broker is down the record is not stored, the
# trigger retries, and once the brokers are back it arrives, once.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/kafka.sh"
KAFKA_KMOCK=$H_BUILD/tests/kmock

kafka_start "$H_TMP/kafka" dlq 3 || h_bail kafka "kmock did not start"
h_at_exit kafka_stop

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 3}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {
    "orders": {"source": "web", "function": "rec", "batch_size": 1, "max_batching_window_ms": 0,
               "max_retry_attempts": 0, "retry_base_ms": 200, "retry_max_ms": 500,
               "on_failure": "kdlq"}
  },
  "destinations": {"kdlq": {"kind": "kafka", "brokers": "'"$KAFKA_BOOTSTRAP"'", "topic": "dlq",
                            "timeout_ms": 1000,
                            "properties": {"reconnect.backoff.max.ms": "200"}}}
}'
h_expect_error 'trigger:orders'      # "batch of 1 cannot be delivered ..., failure record to kdlq"
h_start

fail_event() {
	h_post web application/cloudevents+json \
		'{"specversion":"1.0","id":"'"$1"'","source":"/t","type":"t","data":"__fail__"}'
	h_eq "post $1" 202 "$H_STATUS"
}
records() { kafka_consume dlq 10 >"$H_TMP/dlq.txt"; h_lines "$H_TMP/dlq.txt"; }
has_records() { [ "$(records)" -ge "$1" ]; }
# The trigger key and the first event id of record N (1-based).
record_of() {
	sed -n "$1p" "$H_TMP/dlq.txt" | python3 -c 'import json, sys
key, value = sys.stdin.read().rstrip("\n").split("\t", 1)
print(key, json.loads(value)["SluiceBatchInfo"]["firstEventId"])'
}

fail_event f-1
h_true "failure record produced" 'no record in the topic after 20 s' h_wait 20 has_records 1
h_eq "record keyed by its trigger" "orders f-1" "$(record_of 1)"

kafka_down || h_bail kafka "kmock did not take the brokers down"
fail_event f-2
h_true "not stored while the brokers are down" "no retry logged" \
	h_wait_log 'trigger:orders .*record for batch of 1 not stored in kdlq' 1 20
kafka_up || h_bail kafka "kmock did not bring the brokers up"
h_true "stored once the brokers are back" 'still $(records) records after 30 s' \
	h_wait 30 has_records 2
h_eq "the retried record" "orders f-2" "$(record_of 2)"
h_wait_log 'destination:kdlq records are acknowledged again' 1 10
h_eq "recovery logged once" 1 "$(h_count_log 'destination:kdlq records are acknowledged again')"
sleep 1
h_eq "no duplicates" 2 "$(records)"

h_stop
h_eq "daemon exits 0" 0 "$H_EXIT"
