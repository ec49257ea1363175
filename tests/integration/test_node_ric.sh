#!/usr/bin/env bash
# The npm aws-lambda-ric (Node.js runtime interface client) running an ordinary
# `exports.handler = async (event) => ...` function: events from the HTTP source, synchronous
# invocations through the control API and through `sluice invoke`, and a handler that throws.
. "$(dirname "$0")/../lib/harness.sh"

[ -f "$H_RIC/node_modules/aws-lambda-ric/bin/index.mjs" ] ||
	h_bail ric-installed "no aws-lambda-ric in $H_RIC (run tools/deps.sh test)"

h_config '{
  "functions": {"node": {"code": "@FIX@/node-echo", "runtime": "nodejs20.x",
                         "command": ["node", "@RIC@/node_modules/aws-lambda-ric/bin/index.mjs"],
                         "handler": "index.handler", "memory_mb": 256, "timeout_s": 10}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {"web-node": {"source": "web", "function": "node", "batch_size": 10,
                            "max_batching_window_ms": 100}}
}'
h_start

# Events through the HTTP source.
h_post web application/cloudevents-batch+json \
	'[{"specversion":"1.0","id":"n-1","source":"/t","type":"t","data":{"i":1}},
	  {"specversion":"1.0","id":"n-2","source":"/t","type":"t","data":{"i":2}}]'
h_eq "post: status" 202 "$H_STATUS"
h_true "post: delivered" 'the handler got $(h_received_count node) of 2 events within 30 s' \
	h_wait 30 h_has_received 2
h_eq "post: ids received" "n-1 n-2" "$(h_received_ids node | tr '\n' ' ' | sed 's/ $//')"
rid=$(h_invocations node | head -n 1 | cut -f1)
h_true "post: REPORT line for $rid" "no REPORT for $rid" \
	h_wait_log "function:node REPORT RequestId: $rid${T}Duration: [0-9.]+ ms${T}.*Memory Size: 256 MB${T}" 1 10
h_true "post: handler output in the log" "no 'node-echo: request $rid' line" \
	h_log_has "function:node .*node-echo: request $rid"

# Synchronous invoke through the Lambda API.
h_request POST /2015-03-31/functions/node/invocations -d '{"hello":"world"}'
h_eq "invoke: status" 200 "$H_STATUS"
h_eq "invoke: no X-Amz-Function-Error" "" "$(h_header X-Amz-Function-Error)"
h_eq "invoke: payload" '{"ok":true,"events":0,"echo":{"hello":"world"},"functionName":"node"}' \
	"$(cat "$H_RESP")"

# A handler that throws: still 200, the error JSON and X-Amz-Function-Error: Unhandled.
h_request POST /2015-03-31/functions/node/invocations -d '{"x":"__fail__"}'
h_eq "invoke error: status" 200 "$H_STATUS"
h_eq "invoke error: X-Amz-Function-Error" Unhandled "$(h_header X-Amz-Function-Error)"
h_eq "invoke error: errorType" Error "$(h_json errorType)"
h_eq "invoke error: errorMessage" "node handler asked to fail" "$(h_json errorMessage)"

# The CLI.
out=$("$SLUICE" invoke node --payload '{"cli":1}' --listen "127.0.0.1:$H_PORT" 2>"$H_TMP/cli.err")
rc=$?
h_eq "sluice invoke: exit status" 0 "$rc"
h_eq "sluice invoke: output" '{"ok":true,"events":0,"echo":{"cli":1},"functionName":"node"}' "$out"
echo '{"from":"file"}' >"$H_TMP/payload.json"
out=$("$SLUICE" invoke node --payload "@$H_TMP/payload.json" --listen "127.0.0.1:$H_PORT" 2>>"$H_TMP/cli.err")
h_match "sluice invoke @file: output" '"echo":\{"from":"file"\}' "$out"
out=$("$SLUICE" invoke node --payload '{"x":"__fail__"}' --listen "127.0.0.1:$H_PORT" 2>>"$H_TMP/cli.err")
rc=$?
h_eq "sluice invoke error: exit status" 1 "$rc"
h_match "sluice invoke error: prints the error JSON" '"errorMessage": *"node handler asked to fail"' \
	"$out$(cat "$H_TMP/cli.err")"

h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
