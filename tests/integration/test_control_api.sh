#!/usr/bin/env bash
# The Lambda control API on the listen address: ListFunctions, synchronous Invoke (payload,
# function error with X-Amz-Function-Error, timeout), unknown function 404, health; the CLI.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {
    "rec": {"code": "@FIX@/recorder", "runtime": "provided.al2023", "handler": "rec.handler",
            "memory_mb": 256, "timeout_s": 5},
    "quick": {"code": "@FIX@/recorder", "runtime": "provided.al2023", "handler": "quick.h",
              "memory_mb": 128, "timeout_s": 1}
  }
}'
h_start

h_request GET /healthz
h_eq "healthz: status" 200 "$H_STATUS"
h_eq "healthz: body" ok "$(h_json status)"

h_request GET /2015-03-31/functions
h_eq "ListFunctions: status" 200 "$H_STATUS"
h_eq "ListFunctions: functions" \
	'[{"FunctionName":"quick","Handler":"quick.h","MemorySize":128,"Runtime":"provided.al2023","Timeout":1},{"FunctionName":"rec","Handler":"rec.handler","MemorySize":256,"Runtime":"provided.al2023","Timeout":5}]' \
	"$(python3 -c '
import json, sys
fns = json.load(open(sys.argv[1]))["Functions"]
keys = ("FunctionName", "Handler", "MemorySize", "Runtime", "Timeout")
print(json.dumps(sorted(({k: f.get(k) for k in keys} for f in fns), key=lambda f: f["FunctionName"]),
                 separators=(",", ":"), sort_keys=True))' "$H_RESP")"

h_request POST /2015-03-31/functions/rec/invocations -d '{"a":[1,2,3]}'
h_eq "invoke: status" 200 "$H_STATUS"
h_eq "invoke: payload" '{"ok":true,"events":0,"bytes":13,"echo":{"a":[1,2,3]}}' "$(cat "$H_RESP")"
h_eq "invoke: no X-Amz-Function-Error" "" "$(h_header X-Amz-Function-Error)"
h_match "invoke: X-Amz-Executed-Version" '^\$LATEST$' "$(h_header X-Amz-Executed-Version)"
rid=$(h_invocations rec | tail -n 1 | cut -f1)
h_true "invoke: REPORT for $rid" "no REPORT line" h_wait_log "function:rec REPORT RequestId: $rid${T}.*Memory Size: 256 MB" 1 10
h_eq "invoke: the runtime got the payload as is" '{"a":[1,2,3]}' \
	"$(h_received rec | tail -n 1 | cut -f2)"

h_eq "invoke: no X-Amz-Log-Result unless asked" "" "$(h_header X-Amz-Log-Result)"

# X-Amz-Log-Type: Tail -> X-Amz-Log-Result = base64 of this invocation's log: START, the
# runtime's own lines, END, REPORT (as the AWS CLI's --log-type Tail shows them).
h_request POST /2015-03-31/functions/rec/invocations -H 'X-Amz-Log-Type: Tail' -d '{"t":1}'
h_eq "log tail: status" 200 "$H_STATUS"
tail_text=$(h_header X-Amz-Log-Result | base64 -d)
rid=$(printf '%s\n' "$tail_text" | sed -n 's/^START RequestId: \([^ ]*\) Version: \$LATEST$/\1/p')
h_match "log tail: START first" '^START RequestId: [0-9a-f-]{36} Version: \$LATEST$' \
	"$(printf '%s\n' "$tail_text" | head -n 1)"
h_match "log tail: the runtime's own line" "^recorder: request $rid, 7 bytes$" "$tail_text"
h_match "log tail: END" "^END RequestId: $rid$" "$tail_text"
h_match "log tail: REPORT last" "^REPORT RequestId: $rid${T}Duration: [0-9.]+ ms${T}" \
	"$(printf '%s\n' "$tail_text" | tail -n 1)"
h_eq "log tail: only this invocation" 1 "$(printf '%s\n' "$tail_text" | grep -c '^START ')"

h_request POST /2015-03-31/functions/rec/invocations -d '{"x":"__fail__"}'
h_eq "function error: status" 200 "$H_STATUS"
h_eq "function error: X-Amz-Function-Error" Unhandled "$(h_header X-Amz-Function-Error)"
h_eq "function error: body" '{"errorType":"TestFailure","errorMessage":"the event asked to fail"}' \
	"$(cat "$H_RESP")"

h_request POST /2015-03-31/functions/quick/invocations -d '{"x":"__sleep__"}'
h_eq "timeout: status" 200 "$H_STATUS"
h_eq "timeout: X-Amz-Function-Error" Unhandled "$(h_header X-Amz-Function-Error)"
h_eq "timeout: errorType" Sandbox.Timedout "$(h_json errorType)"
h_match "timeout: errorMessage" '^RequestId: [^ ]+ Error: Task timed out after 1\.00 seconds$' \
	"$(h_json errorMessage)"

h_request POST /2015-03-31/functions/nosuch/invocations -d '{}'
h_eq "unknown function: status" 404 "$H_STATUS"
h_match "unknown function: ResourceNotFoundException" 'ResourceNotFoundException' \
	"$(cat "$H_RESP") $(h_header X-Amzn-Errortype)"
h_match "unknown function: message" 'Function not found: .*nosuch' "$(cat "$H_RESP")"

h_request GET /2015-03-31/nothing-here
h_eq "unknown path: status" 404 "$H_STATUS"

# Concurrent invocations: all answered, each with its own payload.
pids=""
for i in 1 2 3 4 5 6 7 8; do
	curl -sS --max-time 20 -o "$H_TMP/c$i.out" -d "{\"i\":$i}" "$H_URL/2015-03-31/functions/rec/invocations" &
	pids="$pids $!"
done
wait $pids
okc=0
for i in 1 2 3 4 5 6 7 8; do
	grep -q "\"echo\":{\"i\":$i}" "$H_TMP/c$i.out" && okc=$((okc + 1))
done
h_eq "8 concurrent invocations answered with their own payload" 8 "$okc"

# CLI
out=$("$SLUICE" invoke rec --payload '{"cli":true}' --listen "127.0.0.1:$H_PORT" 2>"$H_TMP/cli.err")
h_eq "sluice invoke: exit status" 0 "$?"
h_eq "sluice invoke: output" '{"ok":true,"events":0,"bytes":12,"echo":{"cli":true}}' "$out"
out=$("$SLUICE" invoke rec --payload '{"x":"__fail__"}' --listen "127.0.0.1:$H_PORT" 2>>"$H_TMP/cli.err")
h_eq "sluice invoke function error: exit status" 1 "$?"
h_match "sluice invoke function error: error JSON" '"errorType": *"TestFailure"' "$out$(cat "$H_TMP/cli.err")"
out=$("$SLUICE" invoke nosuch --listen "127.0.0.1:$H_PORT" 2>>"$H_TMP/cli.err")
rc=$?
h_true "sluice invoke unknown function: non-zero exit (got $rc)" "exit 0" test "$rc" -ne 0
out=$("$SLUICE" version 2>&1)
h_eq "sluice version: exit status" 0 "$?"
h_match "sluice version: output" '[0-9]+\.[0-9]+' "$out"

h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
