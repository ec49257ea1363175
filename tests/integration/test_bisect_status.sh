#!/usr/bin/env bash
# bisect_on_error isolates one poison event in a batch of 32 through the real executor: it alone
# is dead-lettered, the other 31 are delivered, in at most 1 + 2*log2(32) invocations. Then
# `sluice status` (and GET /status) show the trigger's counters, committed position and error.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 3}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {
    "bis": {"source": "web", "function": "rec", "batch_size": 32, "max_batching_window_ms": 2000,
            "bisect_on_error": true, "max_retry_attempts": 0, "retry_base_ms": 20,
            "retry_max_ms": 50, "on_failure": "dlq"}
  },
  "destinations": {"dlq": {"kind": "file", "path": "dlq.jsonl"}}
}'
h_expect_error 'trigger:bis'
h_start

batch=$(python3 -c '
import json
evs = [{"specversion": "1.0", "id": "b-%d" % i, "source": "/t", "type": "t",
        "data": {"x": "__fail__" if i == 21 else "ok"}} for i in range(1, 33)]
print(json.dumps(evs))')
h_post web application/cloudevents-batch+json "$batch"
h_eq "post 32 events" 202 "$H_STATUS"
dlq=$H_TMP/dlq.jsonl
h_true "failure record written" "no line in $dlq within 30 s" h_wait 30 h_file_lines_at_least "$dlq" 1
h_true "31 good events delivered" "only $(h_received_ids | sort -u | grep -vcx b-21) delivered" \
	h_wait 30 eval '[ "$(h_received_ids | sort -u | grep -vcx b-21)" -eq 31 ]'
sleep 0.5
h_eq "one failure record" 1 "$(h_lines "$dlq")"
h_eq "it holds only the poison event" '["b-21"]' "$(python3 -c '
import json, sys
print(json.dumps([e["id"] for e in json.load(open(sys.argv[1]))["events"]]))' "$dlq")"
invocations=$(h_invocations | wc -l)
h_true "at most 1 + 2*log2(32) = 11 invocations (got $invocations)" "$invocations invocations" \
	[ "$invocations" -le 11 ]
# Every good event was in exactly one successful invocation: the recorder answers all but the
# poison's batches, so count good events over batches without b-21.
good_twice=$(python3 - "$H_REC" <<'PY'
import collections, glob, json, os, sys
seen = collections.Counter()
for path in glob.glob(os.path.join(sys.argv[1], "*.jsonl")):
    for line in open(path):
        ev = json.loads(line)["event"]
        ids = [e["id"] for e in ev]
        if "b-21" not in ids:
            seen.update(ids)
print(sum(1 for n in seen.values() if n != 1))
PY
)
h_eq "good events delivered exactly once" 0 "$good_twice"

"$SLUICE" status --listen "127.0.0.1:$H_PORT" >"$H_TMP/status.txt" 2>&1
h_eq "sluice status exits 0" 0 "$?"
h_match "status: the trigger" 'trigger bis -> rec: running' "$(cat "$H_TMP/status.txt")"
h_match "status: counters" '32 in, 32 done, 1 dead-lettered \(to dlq\)' "$(cat "$H_TMP/status.txt")"
h_match "status: bisections" '[1-9][0-9]* bisections' "$(cat "$H_TMP/status.txt")"
h_match "status: last error" 'last error: .*TestFailure' "$(cat "$H_TMP/status.txt")"
h_request GET /status
h_eq "GET /status" 200 "$H_STATUS"
h_eq "status json: dead-lettered" 1 "$(h_json triggers.0.counters.events_dead_lettered)"
h_match "status json: committed position" '.' "$(h_json triggers.0.partitions.0.committed_position)"
h_eq "status json: nothing in flight" 0 "$(h_json triggers.0.in_flight_batches)"
curl -fsS -o "$H_TMP/metrics" "$H_URL/metrics"
bisections=$(awk '$1 == "sluice_trigger_bisections_total{trigger=\"bis\"}" {print $2}' "$H_TMP/metrics")
h_true "metrics: bisections counted ($bisections)" "got '$bisections'" [ "${bisections:-0}" -ge 5 ]
"$SLUICE" status --listen 127.0.0.1:1 >/dev/null 2>"$H_TMP/err.txt"
h_eq "status of no daemon fails" 1 "$?"
h_match "status of no daemon says so" 'is the daemon running' "$(cat "$H_TMP/err.txt")"
h_stop TERM
h_eq "exit status" 0 "$H_EXIT"
