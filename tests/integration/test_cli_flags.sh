#!/usr/bin/env bash
# `sluice run` flags: --listen overrides the config's address, --log-format json writes one JSON
# object per line (time, level, tag, msg), --log-level filters.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler"}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {"web-rec": {"source": "web", "function": "rec", "max_batching_window_ms": 0}}
}'
config_port=$H_PORT
H_PORT=$(h_free_port)
H_URL=http://127.0.0.1:$H_PORT
h_start --listen "127.0.0.1:$H_PORT" --log-format json --log-level debug
h_request GET /healthz
h_eq "--listen: healthz on the new address" 200 "$H_STATUS"
h_true "--listen: nothing on the config's address" "port $config_port answers" \
	eval "! curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:$config_port/healthz 2>/dev/null"

h_post web application/json '{"k":1}'
h_eq "post" 202 "$H_STATUS"
h_true "delivered" "not received" h_wait 20 h_has_received 1
rid=$(h_invocations | head -n 1 | cut -f1)
h_wait_log "REPORT RequestId: $rid" 1 10
check=$(python3 - "$H_LOG" "$rid" <<'PY'
import json, sys
bad, levels, report = 0, set(), None
for line in open(sys.argv[1]):
    try:
        rec = json.loads(line)
    except ValueError:
        bad += 1
        continue
    if not all(k in rec for k in ("time", "level", "tag", "msg")):
        bad += 1
    levels.add(rec.get("level"))
    if rec.get("msg", "").startswith("REPORT RequestId: " + sys.argv[2]):
        report = rec
print("bad=%d info=%s report_tag=%s" % (bad, "info" in levels, report and report["tag"]))
PY
)
h_eq "json log: every line a JSON object with time/level/tag/msg; REPORT tagged" \
	"bad=0 info=True report_tag=function:rec" "$check"
h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"

# --log-level warn: no INFO lines at all.
h_start --listen "127.0.0.1:$H_PORT" --log-level warn
h_stop TERM
h_eq "warn level: exit status" 0 "$H_EXIT"
h_eq "warn level: no INFO lines" 0 "$(grep -c '^\[[^]]*\] INFO ' "$H_LOG")"
