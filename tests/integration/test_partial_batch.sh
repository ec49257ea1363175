#!/usr/bin/env bash
# report_batch_item_failures through a real runtime: the function answers
# {"batchItemFailures":[...]} naming two events of a batch of six; only those two are retried
# (the http source is queue-like) and, still failing, dead-lettered together; the four others are delivered
# once. A trigger without the setting takes the same answer as full success.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 3}},
  "sources": {"web": {"kind": "http"}, "web2": {"kind": "http"}},
  "triggers": {
    "partial": {"source": "web", "function": "rec", "batch_size": 6, "max_batching_window_ms": 2000,
                "report_batch_item_failures": true, "max_retry_attempts": 1,
                "retry_base_ms": 20, "retry_max_ms": 50, "on_failure": "dlq"},
    "plain": {"source": "web2", "function": "rec", "batch_size": 6, "max_batching_window_ms": 2000}
  },
  "destinations": {"dlq": {"kind": "file", "path": "dlq.jsonl"}}
}'
h_expect_error 'trigger:partial'
h_start

batch() { python3 -c '
import json, sys
print(json.dumps([{"specversion": "1.0", "id": "%s-%d" % (sys.argv[1], i), "source": "/t", "type": "t",
                   "data": {"x": "__partial__" if i in (2, 5) else "ok"}} for i in range(1, 7)]))' "$1"; }
h_post web application/cloudevents-batch+json "$(batch p)"
h_eq "post six events" 202 "$H_STATUS"
dlq=$H_TMP/dlq.jsonl
h_true "failure record written" "no line in $dlq" h_wait 20 h_file_lines_at_least "$dlq" 1
sleep 0.3
h_eq "one record with the two listed events" '["p-2", "p-5"]' "$(python3 -c '
import json, sys
print(json.dumps([e["id"] for e in json.load(open(sys.argv[1]))["events"]]))' "$dlq")"
h_eq "record: errorType" Function.BatchItemFailures "$(h_json errorType "$dlq")"
h_eq "record: functionError null (the function answered)" null "$(h_json responseContext.functionError "$dlq")"
h_eq "invocations: the batch, then the two once more (max_retry_attempts 1)" "6 2" \
	"$(h_invocations rec | awk -F'\t' '{print $3}' | paste -sd' ')"
for i in 1 3 4 6; do
	h_eq "p-$i delivered once" 1 "$(h_received_ids rec | grep -cx "p-$i")"
done

h_post web2 application/cloudevents-batch+json "$(batch q)"
h_true "plain trigger: batch delivered" "not delivered" \
	h_wait 20 eval '[ "$(h_received_ids rec | grep -c "^q-")" -ge 6 ]'
sleep 0.3
h_eq "plain trigger: the answer is a success (no retry)" 6 "$(h_received_ids rec | grep -c '^q-')"
h_eq "plain trigger: no failure record" 1 "$(h_lines "$dlq")"
h_stop TERM
h_eq "exit status" 0 "$H_EXIT"
