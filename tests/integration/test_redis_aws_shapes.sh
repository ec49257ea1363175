#!/usr/bin/env bash
# The aws payloads of the Redis sources, end to end and field by field: a redis_stream trigger
# gets Lambda's Kinesis event (eventID "<stream>:<entry id>", sequenceNumber the entry id, data
# the entry's fields as JSON, partitionKey from the configured field), a redis_queue trigger the
# SQS event (messageId, the body byte for byte, md5OfBody, string attributes). Partial batch
# responses with the shapes' own identifiers: SQS retries only the listed message; Kinesis
# retries from the listed sequence number on.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/redis.sh"

redis_start "$H_TMP/redis" || h_bail redis "redis-server did not start"
h_at_exit redis_stop
R='"address": "127.0.0.1:'"$REDIS_PORT"'"'
h_config '{
  "functions": {"kin": {"code": "@FIX@/recorder", "handler": "h"},
                "sqs": {"code": "@FIX@/recorder", "handler": "h"}},
  "sources": {"s": {"kind": "redis_stream", '"$R"', "streams": ["clicks"],
                    "partition_key_field": "user"},
              "q": {"kind": "redis_queue", '"$R"', "queue": "jobs"}},
  "triggers": {
    "tk": {"source": "s", "function": "kin", "starting_position": "trim_horizon",
           "batch_size": 10, "max_batching_window_ms": 300, "report_batch_item_failures": true,
           "max_retry_attempts": 1, "retry_base_ms": 20, "retry_max_ms": 50},
    "tq": {"source": "q", "function": "sqs", "batch_size": 10, "max_batching_window_ms": 300,
           "report_batch_item_failures": true, "max_retry_attempts": 1, "retry_base_ms": 20,
           "retry_max_ms": 50}
  }
}'
h_expect_error 'trigger:t[kq] batch of [12] failed'

ids=()
for v in ok1 __partial__ ok3; do
	ids+=("$(redis_cli XADD clicks '*' user "u-$v" p "$v")")
done
body1='plain text'
body2=$'{"json": "with \\"quotes\\"", "unicode": "\xc3\xa9\xe2\x82\xac"}\nsecond line'
redis_cli LPUSH jobs "$body1" >/dev/null
redis_cli LPUSH jobs "$body2" >/dev/null
redis_cli LPUSH jobs "x __partial__" >/dev/null
h_start

h_true "kinesis: delivered" 'only $(h_invocations kin | wc -l) invocations' \
	h_wait 20 eval '[ "$(h_invocations kin | wc -l)" -ge 2 ]'
h_true "sqs: delivered" 'only $(h_invocations sqs | wc -l) invocations' \
	h_wait 20 eval '[ "$(h_invocations sqs | wc -l)" -ge 2 ]'
sleep 1

h_eq "kinesis: the first event, field by field" "ok" "$(python3 - "$H_REC" "${ids[@]}" <<'PY'
import base64, glob, json, sys
rec_dir, ids = sys.argv[1], sys.argv[2:]
first = sorted((json.loads(l) for p in glob.glob(rec_dir + "/kin-*.jsonl") for l in open(p)),
               key=lambda r: r["t"])[0]["event"]
problems = []
if sorted(first) != ["Records"] or len(first["Records"]) != 3:
    problems.append("top level %s" % sorted(first))
for r, eid, v in zip(first["Records"], ids, ["ok1", "__partial__", "ok3"]):
    k = r["kinesis"]
    want = {"eventSource": "aws:kinesis", "eventVersion": "1.0",
            "eventName": "aws:kinesis:record", "eventID": "clicks:" + eid,
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"}
    for key, value in want.items():
        if r.get(key) != value:
            problems.append("%s=%r" % (key, r.get(key)))
    if not r.get("invokeIdentityArn", "").startswith("arn:aws:iam::"):
        problems.append("invokeIdentityArn %r" % r.get("invokeIdentityArn"))
    if (k["kinesisSchemaVersion"] != "1.0" or k["sequenceNumber"] != eid
            or k["partitionKey"] != "u-" + v
            or json.loads(base64.b64decode(k["data"])) != {"user": "u-" + v, "p": v}
            or not isinstance(k["approximateArrivalTimestamp"], float)
            or abs(k["approximateArrivalTimestamp"] * 1000 - int(eid.split("-")[0])) > 1):
        problems.append("kinesis %s" % k)
print("ok" if not problems else "; ".join(problems[:4]))
PY
)"
h_eq "kinesis: partial answer retries from the listed record on" "1 2 2" \
	"$(h_received kin >/dev/null; cat "$H_REC"/kin-*.jsonl | python3 -c 'import json, sys
from collections import Counter
c = Counter(r["kinesis"]["partitionKey"] for l in sys.stdin for r in json.loads(l)["event"]["Records"])
print(c["u-ok1"], c["u-__partial__"], c["u-ok3"])')"

h_eq "sqs: the first event, field by field" "ok" "$(python3 - "$H_REC" "$body1" "$body2" <<'PY'
import glob, hashlib, json, sys
rec_dir, body1, body2 = sys.argv[1:]
first = sorted((json.loads(l) for p in glob.glob(rec_dir + "/sqs-*.jsonl") for l in open(p)),
               key=lambda r: r["t"])[0]["event"]
problems = []
recs = first["Records"]
if [r["body"] for r in recs] != [body1, body2, "x __partial__"]:
    problems.append("bodies %r" % [r["body"] for r in recs])
for r in recs:
    a = r["attributes"]
    if (r["eventSource"] != "aws:sqs" or r["awsRegion"] != "us-east-1"
            or r["eventSourceARN"] != "arn:aws:sqs:us-east-1:000000000000:jobs"
            or not r["messageId"] or not r["receiptHandle"] or r["messageAttributes"] != {}
            or r["md5OfBody"] != hashlib.md5(r["body"].encode()).hexdigest()):
        problems.append("record %s" % {k: v for k, v in r.items() if k != "body"})
    if (a["ApproximateReceiveCount"] != "1" or not a["SentTimestamp"].isdigit()
            or not a["ApproximateFirstReceiveTimestamp"].isdigit() or a["SenderId"] != "sluice"):
        problems.append("attributes %s" % a)
print("ok" if not problems else "; ".join(problems[:4]))
PY
)"
h_eq "sqs: partial answer retries only the listed message" "1 1 2" \
	"$(cat "$H_REC"/sqs-*.jsonl | python3 -c 'import json, sys
from collections import Counter
c = Counter(r["body"][:5] for l in sys.stdin for r in json.loads(l)["event"]["Records"])
print(c["plain"], c["{\"jso"], c["x __p"])')"
h_stop
h_eq "daemon exits 0" 0 "$H_EXIT"
