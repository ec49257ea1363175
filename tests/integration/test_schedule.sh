#!/usr/bin/env bash
# The schedule source end to end: a cron expression that fires every minute delivers, at the next
# whole minute, EventBridge's "Scheduled Event" to the function (payload format aws), once.
# Waits up to ~70 s for the minute to come round.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler"}},
  "sources": {"tick": {"kind": "schedule", "expression": "cron(* * * * ? *)",
                       "detail": {"job": "cleanup"}}},
  "triggers": {"tick-rec": {"source": "tick", "function": "rec"}}
}'
h_start
h_true "next tick announced" "no 'next tick' line" h_wait_log 'source:tick .*next tick at ' 1 5

ticked() { ls "$H_REC"/rec-*.jsonl >/dev/null 2>&1; }
h_true "a tick reached the function within 70 s" "nothing recorded" h_wait 70 ticked
sleep 0.5
# The recorded invocation: the event is EventBridge's scheduled-event object, whole minute,
# id derived from the fire time, the configured detail.
check=$(python3 - "$H_REC" <<'PY'
import glob, json, sys, calendar, time
lines = [json.loads(l) for f in glob.glob(sys.argv[1] + "/rec-*.jsonl") for l in open(f)]
ev = lines[0]["event"]
when = calendar.timegm(time.strptime(ev["time"], "%Y-%m-%dT%H:%M:%SZ"))
problems = []
want = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "000000000000", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/tick"],
        "detail": {"job": "cleanup"}, "id": "tick-%d" % when}
for k, v in want.items():
    if ev.get(k) != v:
        problems.append("%s=%r (want %r)" % (k, ev.get(k), v))
if when % 60:
    problems.append("time %s is not a whole minute" % ev["time"])
if sorted(ev) != sorted(list(want) + ["time"]):
    problems.append("keys %s" % sorted(ev))
same_tick = sum(1 for l in lines if l["event"].get("id") == ev["id"])
print("%d %s" % (same_tick, "; ".join(problems) or "ok"))
PY
)
h_eq "the tick delivered once" 1 "${check%% *}"
h_eq "EventBridge Scheduled Event shape" ok "${check#* }"
h_match "REPORT for the tick" 'function:rec REPORT RequestId: ' "$(h_logs)"
h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
