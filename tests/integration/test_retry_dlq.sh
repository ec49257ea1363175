#!/usr/bin/env bash
# A function that reports an error is invoked 1 + max_retry_attempts times, then one failure
# record goes to the on-failure destination (or the default dead-letter file), and the partition
# moves on: a later good event is delivered.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 3}},
  "sources": {"web": {"kind": "http"}, "web0": {"kind": "http"}},
  "triggers": {
    "retry3": {"source": "web", "function": "rec", "batch_size": 10, "max_batching_window_ms": 50,
               "max_retry_attempts": 3, "retry_base_ms": 50, "retry_max_ms": 200,
               "on_failure": "dlq"},
    "noretry": {"source": "web0", "function": "rec", "batch_size": 1, "max_batching_window_ms": 0,
                "max_retry_attempts": 0, "retry_base_ms": 50}
  },
  "destinations": {"dlq": {"kind": "file", "path": "dlq.jsonl"}}
}'
# The dispatcher may log exhausted batches at error level; nothing else may be an error.
h_expect_error 'trigger:(retry3|noretry)'
h_start

dlq=$H_TMP/dlq.jsonl                               # relative path: against the config's dir
dlq0=$H_TMP/state/dead-letter/noretry.jsonl        # default: <state_dir>/dead-letter/<trigger>

h_post web application/cloudevents+json \
	'{"specversion":"1.0","id":"f-1","source":"/t","type":"t.fail","data":{"x":"__fail__"}}'
h_eq "post failing event" 202 "$H_STATUS"
h_true "failure record written" "no line in $dlq within 20 s" h_wait 20 h_file_lines_at_least "$dlq" 1
sleep 0.5
h_eq "one failure record" 1 "$(h_lines "$dlq")"
attempts=$(h_received | awk -F'\t' '$1 == "f-1"' | wc -l)
h_eq "invocations of the failing batch (1 + 3 retries)" 4 "$attempts"

rec() { h_json "$1" "$dlq"; }
h_eq "record: version" 1.0 "$(rec version)"
h_eq "record: condition" RetryAttemptsExhausted "$(rec requestContext.condition)"
h_eq "record: approximateInvokeCount" 4 "$(rec requestContext.approximateInvokeCount)"
h_match "record: functionArn" ':function:rec$' "$(rec requestContext.functionArn)"
h_match "record: requestId" '.' "$(rec requestContext.requestId)"
h_eq "record: responseContext.functionError" Unhandled "$(rec responseContext.functionError)"
h_eq "record: errorType" TestFailure "$(rec errorType)"
h_eq "record: errorMessage" "the event asked to fail" "$(rec errorMessage)"
h_match "record: timestamp" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "$(rec timestamp)"
h_eq "record: batch info" \
	'{"trigger":"retry3","source":"web","function":"rec","batchSize":1,"firstEventId":"f-1","lastEventId":"f-1"}' \
	"$(python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["SluiceBatchInfo"]
print(json.dumps({k: b.get(k) for k in ("trigger", "source", "function", "batchSize", "firstEventId", "lastEventId")}, separators=(",", ":")))' "$dlq")"
h_match "record: positions" '.' "$(rec SluiceBatchInfo.firstPosition)"
h_eq "record: events" '[{"data":{"x":"__fail__"},"id":"f-1","source":"/t","specversion":"1.0","type":"t.fail"}]' \
	"$(python3 -c '
import json, sys
print(json.dumps(json.load(open(sys.argv[1]))["events"], separators=(",", ":"), sort_keys=True))' "$dlq")"

# The partition is not blocked after the dead letter.
h_post web application/cloudevents+json '{"specversion":"1.0","id":"ok-1","source":"/t","type":"t","data":{}}'
h_true "good event after the failure delivered" "ok-1 not received" \
	h_wait 20 eval 'h_received_ids | grep -qx ok-1'
h_eq "good event delivered once" 1 "$(h_received_ids | grep -cx ok-1)"

# max_retry_attempts 0 and no on_failure: one invocation, record in the default file.
h_post web0 application/cloudevents+json '{"specversion":"1.0","id":"z-1","source":"/t","type":"t","data":"__fail__"}'
h_true "default dead-letter file written" "no line in $dlq0 within 20 s" \
	h_wait 20 h_file_lines_at_least "$dlq0" 1
h_eq "no retries: one invocation" 1 "$(h_received_ids | grep -cx z-1)"
h_eq "no retries: approximateInvokeCount" 1 "$(h_json requestContext.approximateInvokeCount "$dlq0")"
h_eq "default file: trigger" noretry "$(h_json SluiceBatchInfo.trigger "$dlq0")"
h_eq "first destination untouched" 1 "$(h_lines "$dlq")"

# /metrics counts what happened: retry3 took 2 events (one dead-lettered after 3 retries, one
# delivered); rec answered 4 + 1 errors and 1 success.
curl -fsS -o "$H_TMP/metrics" "$H_URL/metrics"
metric() { awk -v k="$1" '$1 == k {print $2}' "$H_TMP/metrics"; }
h_eq "metrics: retry3 events in" 2 "$(metric 'sluice_trigger_events_total{trigger="retry3",state="in"}')"
h_eq "metrics: retry3 events done" 2 "$(metric 'sluice_trigger_events_total{trigger="retry3",state="done"}')"
h_eq "metrics: retry3 dead-lettered" 1 "$(metric 'sluice_trigger_events_total{trigger="retry3",state="dead_lettered"}')"
h_eq "metrics: retry3 retries" 3 "$(metric 'sluice_trigger_retries_total{trigger="retry3"}')"
h_eq "metrics: retry3 batches failed/ok" "1 1" \
	"$(metric 'sluice_trigger_batches_total{trigger="retry3",outcome="failed"}') $(metric 'sluice_trigger_batches_total{trigger="retry3",outcome="ok"}')"
h_eq "metrics: rec function errors" 5 "$(metric 'sluice_function_invocations_total{function="rec",status="function_error"}')"
h_eq "metrics: rec successes" 1 "$(metric 'sluice_function_invocations_total{function="rec",status="ok"}')"
h_match "metrics: HELP and TYPE lines" '^# TYPE sluice_spool_bytes gauge$' "$(grep '^# TYPE sluice_spool_bytes' "$H_TMP/metrics")"

h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"

# After a restart nothing is delivered again and nothing dead-lettered twice.
before=$(h_received_count)
h_start
sleep 2
h_eq "restart: no redelivery" "$before" "$(h_received_count)"
h_eq "restart: no second failure record" "1 1" "$(h_lines "$dlq") $(h_lines "$dlq0")"
h_stop TERM
h_eq "second SIGTERM exit status" 0 "$H_EXIT"
