#!/usr/bin/env bash
# Asynchronous invocation (InvocationType Event) through the control API and `sluice invoke
# --async`: accepted into the function's queue (202 once durable), run with the function's async
# retries, recorded in async_on_success / async_on_failure in Lambda's invocation-record shape;
# a function destination chains a trigger's success records into another function; an accepted
# invocation survives kill -9.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {
    "rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 5,
            "async_max_retry_attempts": 1, "async_retry_base_ms": 50,
            "async_on_success": "ok", "async_on_failure": "bad"},
    "next": {"code": "@FIX@/recorder", "handler": "next.handler", "timeout_s": 3}
  },
  "sources": {"web": {"kind": "http"}},
  "triggers": {
    "t": {"source": "web", "function": "rec", "batch_size": 1, "max_batching_window_ms": 0,
          "on_success": "to-next"}
  },
  "destinations": {
    "ok": {"kind": "file", "path": "ok.jsonl"},
    "bad": {"kind": "file", "path": "bad.jsonl"},
    "to-next": {"kind": "function", "function": "next"}
  }
}'
h_expect_error 'trigger:async\.rec'
h_start
ok=$H_TMP/ok.jsonl
bad=$H_TMP/bad.jsonl
listen=127.0.0.1:$H_PORT

# 1. sluice invoke --async: 202 once durable, then the function runs with the payload as is.
"$SLUICE" invoke rec --async --payload '{"n":1}' --listen "$listen" >"$H_TMP/out" 2>&1
h_eq "invoke --async exits 0" 0 "$?"
h_eq "202 body: accepted" 1 "$(h_json accepted "$H_TMP/out")"
h_true "success record written" "no line in $ok" h_wait 20 h_file_lines_at_least "$ok" 1
rec() { h_json "$1" "$2"; }
h_eq "function got the payload verbatim" 1 "$(h_received rec | grep -c '{"n":1}')"
h_eq "success: condition" Success "$(rec requestContext.condition "$ok")"
h_match "success: functionArn has the version" ':function:rec:\$LATEST$' \
	"$(rec requestContext.functionArn "$ok")"
h_eq "success: requestPayload" '{"n":1}' "$(rec requestPayload "$ok")"
h_eq "success: responsePayload" true "$(rec responsePayload.ok "$ok")"
h_eq "success: no functionError" '<missing responseContext.functionError>' \
	"$(rec responseContext.functionError "$ok")"

# 2. A failing invocation: 1 + async_max_retry_attempts invokes, then a failure record.
h_request POST /2015-03-31/functions/rec/invocations -H 'X-Amz-Invocation-Type: Event' \
	-H 'Content-Type: application/json' --data-binary '{"x":"__fail__"}'
h_eq "Event invoke through the API: 202" 202 "$H_STATUS"
h_true "failure record written" "no line in $bad" h_wait 20 h_file_lines_at_least "$bad" 1
h_eq "failing invocation run twice" 2 "$(h_received rec | grep -c __fail__)"
h_eq "failure: condition" RetriesExhausted "$(rec requestContext.condition "$bad")"
h_eq "failure: approximateInvokeCount" 2 "$(rec requestContext.approximateInvokeCount "$bad")"
h_eq "failure: requestPayload" '{"x":"__fail__"}' "$(rec requestPayload "$bad")"
h_eq "failure: responsePayload.errorType" TestFailure "$(rec responsePayload.errorType "$bad")"
h_eq "failure: functionError" Unhandled "$(rec responseContext.functionError "$bad")"

# 3. Bad requests change nothing.
h_request POST /2015-03-31/functions/nope/invocations -H 'X-Amz-Invocation-Type: Event' -d '{}'
h_eq "unknown function: 404" 404 "$H_STATUS"
h_request POST /2015-03-31/functions/rec/invocations -H 'X-Amz-Invocation-Type: Event' -d '{oops'
h_eq "malformed JSON: 400" 400 "$H_STATUS"
$H_PY bigjson 1100000 "$H_TMP/big.json"
h_request POST /2015-03-31/functions/rec/invocations -H 'X-Amz-Invocation-Type: Event' \
	--data-binary "@$H_TMP/big.json"
h_eq "over 1 MB: 413" 413 "$H_STATUS"
h_request POST /2015-03-31/functions/rec/invocations -H 'X-Amz-Invocation-Type: Later' -d '{}'
h_eq "unknown invocation type: 400" 400 "$H_STATUS"

# 4. Chaining: the trigger's success record becomes an invocation of "next".
h_post web application/cloudevents+json \
	'{"specversion":"1.0","id":"c-1","source":"/t","type":"t","data":{"hop":1}}'
h_eq "post an event" 202 "$H_STATUS"
h_true "next got the success record" "nothing reached next" \
	h_wait 20 eval '[ "$(h_received next | wc -l)" -ge 1 ]'
h_received next | head -n 1 | cut -f2 >"$H_TMP/chained.json"
h_eq "chained record: condition" Success "$(h_json requestContext.condition "$H_TMP/chained.json")"
h_eq "chained record: trigger" t "$(h_json SluiceBatchInfo.trigger "$H_TMP/chained.json")"
h_eq "chained record: the event" c-1 "$(h_json events.0.id "$H_TMP/chained.json")"

# 5. An accepted invocation survives kill -9: it runs again after the restart.
"$SLUICE" invoke rec --async --payload '{"slow":"__slow__"}' --listen "$listen" >/dev/null 2>&1
h_eq "slow invocation accepted" 0 "$?"
h_true "slow invocation started" "not started" \
	h_wait 20 eval '[ "$(h_received rec | grep -c __slow__)" -ge 1 ]'
h_kill9
h_eq "daemon killed" 137 "$H_EXIT"
h_wait 5 h_no_leftovers
h_start
h_true "slow invocation run again after the restart" "not redelivered" \
	h_wait 20 eval '[ "$(h_received rec | grep -c __slow__)" -ge 2 ]'
h_stop TERM
h_eq "exit status" 0 "$H_EXIT"
