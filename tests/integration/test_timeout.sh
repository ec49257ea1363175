#!/usr/bin/env bash
# A function that runs past its timeout (timeout_s 1): "Task timed out after 1.00 seconds",
# REPORT with Status: timeout, retried, dead-lettered as Sandbox.Timedout; the next event gets a
# fresh sandbox and succeeds.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"slow": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 1}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {"web-slow": {"source": "web", "function": "slow", "batch_size": 1,
                            "max_batching_window_ms": 0, "max_retry_attempts": 1,
                            "retry_base_ms": 50, "retry_max_ms": 100, "on_failure": "dlq"}},
  "destinations": {"dlq": {"kind": "file", "path": "@TMP@/dlq.jsonl"}}
}'
h_expect_error 'trigger:web-slow'
h_start
dlq=$H_TMP/dlq.jsonl

h_post web application/cloudevents+json '{"specversion":"1.0","id":"s-1","source":"/t","type":"t","data":"__sleep__"}'
h_eq "post" 202 "$H_STATUS"
h_true "dead-lettered after 2 attempts" "no failure record within 20 s" \
	h_wait 20 h_file_lines_at_least "$dlq" 1
h_eq "attempts" 2 "$(h_received_ids | grep -cx s-1)"
h_eq "timeout lines" 2 "$(h_count_log 'function:slow .*Task timed out after 1\.00 seconds')"
reports=$(h_logs | grep 'function:slow REPORT RequestId: ')
h_eq "REPORT lines with Status: timeout" 2 "$(printf '%s\n' "$reports" | grep -c "${T}Status: timeout")"
dur=$(printf '%s\n' "$reports" | head -n 1 | sed -n "s/.*RequestId: [^$T]*${T}Duration: \([0-9]*\)\..*/\1/p")
# (Lambda reports at least the timeout: the deadline must never fire early.)
h_true "REPORT duration about the timeout (got ${dur:-?} ms)" "not within 1000..1500 ms" \
	test "${dur:-0}" -ge 1000 -a "${dur:-0}" -le 1500
h_eq "record: errorType" Sandbox.Timedout "$(h_json errorType "$dlq")"
h_match "record: errorMessage" 'Task timed out after 1\.00 seconds' "$(h_json errorMessage "$dlq")"
h_eq "record: approximateInvokeCount" 2 "$(h_json requestContext.approximateInvokeCount "$dlq")"
h_eq "record: event" s-1 "$(h_json events.0.id "$dlq")"

# The sandbox that timed out is gone: the next event runs in a new runtime process.
h_post web application/cloudevents+json '{"specversion":"1.0","id":"ok-1","source":"/t","type":"t","data":{}}'
h_true "next event delivered" "ok-1 not received" h_wait 20 eval 'h_received_ids | grep -qx ok-1'
pids=$(h_invocations | cut -f2 | tr '\n' ' ')
h_eq "a fresh runtime process per attempt and for the next event (pids: $pids)" 3 \
	"$(h_invocations | cut -f2 | sort -u | wc -l)"
ok_rid=$(h_invocations | tail -n 1 | cut -f1)
h_wait_log "function:slow REPORT RequestId: $ok_rid" 1 10
h_match "next event's REPORT: success with a cold start" "Init Duration: [0-9.]+ ms${T}\$" \
	"$(h_logs | grep "function:slow REPORT RequestId: $ok_rid")"

h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
