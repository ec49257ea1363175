#!/usr/bin/env bash
# A runtime that exits in the middle of an invocation: Runtime.ExitError (REPORT Status: error,
# Error Type: Runtime.ExitError), dead-lettered; the next invocation gets a fresh sandbox and
# succeeds. Also a synchronous invoke of a crashing runtime answers the error to the caller.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"crashy": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 3}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {"web-crashy": {"source": "web", "function": "crashy", "batch_size": 1,
                              "max_batching_window_ms": 0, "max_retry_attempts": 0}}
}'
h_expect_error 'trigger:web-crashy'
h_start
dlq=$H_TMP/state/dead-letter/web-crashy.jsonl

h_post web application/cloudevents+json '{"specversion":"1.0","id":"c-1","source":"/t","type":"t","data":"__crash__"}'
h_eq "post" 202 "$H_STATUS"
h_true "dead-lettered" "no failure record within 20 s" h_wait 20 h_file_lines_at_least "$dlq" 1
h_eq "one attempt" 1 "$(h_received_ids | grep -cx c-1)"
crash_rid=$(h_invocations | head -n 1 | cut -f1)
h_match "REPORT: Status: error, Error Type: Runtime.ExitError" \
	"${T}Status: error${T}Error Type: Runtime\\.ExitError" \
	"$(h_logs | grep "function:crashy REPORT RequestId: $crash_rid")"
h_true "runtime output before the crash in the log" "no 'crashing on purpose' line" \
	h_log_has 'function:crashy .*recorder: crashing on purpose'
h_eq "record: errorType" Runtime.ExitError "$(h_json errorType "$dlq")"
h_match "record: errorMessage" 'Runtime exited with error: exit status 7' "$(h_json errorMessage "$dlq")"

h_post web application/cloudevents+json '{"specversion":"1.0","id":"ok-1","source":"/t","type":"t","data":{}}'
h_true "next event delivered" "ok-1 not received" h_wait 20 eval 'h_received_ids | grep -qx ok-1'
h_eq "the next event ran in a new runtime process" 2 "$(h_invocations | cut -f2 | sort -u | wc -l)"
ok_rid=$(h_invocations | tail -n 1 | cut -f1)
h_wait_log "function:crashy REPORT RequestId: $ok_rid" 1 10
h_match "next event's REPORT: success with a cold start" "Init Duration: [0-9.]+ ms${T}\$" \
	"$(h_logs | grep "function:crashy REPORT RequestId: $ok_rid")"

# Synchronous: the caller gets Runtime.ExitError with X-Amz-Function-Error.
h_request POST /2015-03-31/functions/crashy/invocations -d '{"x":"__crash__"}'
h_eq "sync crash: status" 200 "$H_STATUS"
h_eq "sync crash: X-Amz-Function-Error" Unhandled "$(h_header X-Amz-Function-Error)"
h_eq "sync crash: errorType" Runtime.ExitError "$(h_json errorType)"
h_match "sync crash: errorMessage" '^RequestId: [^ ]+ Error: Runtime exited with error: exit status 7$' \
	"$(h_json errorMessage)"
h_request POST /2015-03-31/functions/crashy/invocations -d '{"x":"fine"}'
h_eq "sync after crash: status" 200 "$H_STATUS"
h_eq "sync after crash: payload" '{"ok":true,"events":0,"bytes":12,"echo":{"x":"fine"}}' "$(cat "$H_RESP")"

h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
