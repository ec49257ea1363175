#!/usr/bin/env bash
# HTTP source -> shell custom runtime: every body mode (structured, batch, binary, plain JSON) is
# acknowledged with the ids the function then receives, in order, once each, as a CloudEvents
# batch; each invocation has START/END/REPORT lines and the runtime's own output in the log.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "runtime": "provided.al2023",
                        "handler": "rec.handler", "memory_mb": 128, "timeout_s": 3}},
  "sources": {"web": {"kind": "http"}},
  "triggers": {"web-rec": {"source": "web", "function": "rec", "batch_size": 10,
                           "max_batching_window_ms": 100}}
}'
h_start
h_true "ready line" "no 'listening on $H_URL' line" h_log_has "INFO  sluice listening on $H_URL"

acked=()   # ids in the order the 202s gave them

# post_ok NAME CTYPE DATA EXPECTED_COUNT [CURL ARGS]: expect 202 {"accepted":N,"ids":[...]}
post_ok() {
	local name=$1 ctype=$2 data=$3 n=$4; shift 4
	h_post web "$ctype" "$data" "$@"
	h_eq "$name: status" 202 "$H_STATUS"
	h_eq "$name: accepted" "$n" "$(h_json accepted)"
	h_eq "$name: ids" "$n" "$(h_json '#ids')"
	local i
	for ((i = 0; i < n; i++)); do acked+=("$(h_json ids.$i)"); done
}

post_ok structured application/cloudevents+json \
	'{"specversion":"1.0","id":"s-1","source":"/test","type":"t.structured","subject":"sub","data":{"n":1}}' 1
h_eq "structured: id kept" s-1 "${acked[0]}"

post_ok batch application/cloudevents-batch+json \
	'[{"specversion":"1.0","id":"b-1","source":"/test","type":"t.batch","data":{"n":2}},
	  {"specversion":"1.0","id":"b-2","source":"/test","type":"t.batch","data":{"n":3}},
	  {"specversion":"1.0","id":"b-3","source":"/test","type":"t.batch","data":"text"}]' 3
h_eq "batch: ids kept" "b-1 b-2 b-3" "${acked[*]:1:3}"

post_ok binary application/json '{"k":"v"}' 1 \
	-H 'ce-specversion: 1.0' -H 'ce-id: bin-1' -H 'ce-type: t.binary' -H 'ce-source: /test'
h_eq "binary: id kept" bin-1 "${acked[4]}"

post_ok binary-without-id application/json '{"k":"w"}' 1 \
	-H 'ce-specversion: 1.0' -H 'ce-type: t.binary' -H 'ce-source: /test'
h_match "binary-without-id: derived id" '^web:[0-9]+' "${acked[5]}"

post_ok plain-json application/json '{"plain":true,"list":[1,2]}' 1
h_match "plain-json: derived id" '^web:[0-9]+' "${acked[6]}"
h_true "derived ids differ" "${acked[5]} = ${acked[6]}" test "${acked[5]}" != "${acked[6]}"

total=${#acked[@]}
h_true delivered 'the function got $(h_received_count) of $total events within 20 s' \
	h_wait 20 h_has_received "$total"
sleep 0.5   # nothing more may arrive
got=$(h_received_ids | tr '\n' ' ' | sed 's/ $//')
h_eq "received once each, in order" "${acked[*]}" "$got"

# The events the function saw, attribute by attribute.
ev() { h_received | awk -F'\t' -v id="$1" '$1 == id { print $2; exit }'; }
h_eq "structured event as received" \
	'{"data":{"n":1},"id":"s-1","source":"/test","specversion":"1.0","subject":"sub","type":"t.structured"}' \
	"$(ev s-1)"
h_match "batch event with string data" '"data":"text"' "$(ev b-3)"
h_match "binary event data" '"data":\{"k":"v"\}.*"source":"/test".*"type":"t.binary"' "$(ev bin-1)"
h_match "plain JSON event data" '"data":\{"list":\[1,2\],"plain":true\}' "$(ev "${acked[6]}")"
h_match "plain JSON event source" '"source":"[^"]+"' "$(ev "${acked[6]}")"

# Every invocation the function saw has START, END and REPORT lines and the runtime's output.
h_wait_log 'function:rec REPORT RequestId: ' "$(h_invocations | wc -l)" 10 || true
n_inv=0
bad=""
while IFS=$'\t' read -r rid pid n; do
	n_inv=$((n_inv + 1))
	h_log_has "function:rec START RequestId: $rid Version: \\\$LATEST" || bad="$bad START:$rid"
	h_log_has "function:rec END RequestId: $rid" || bad="$bad END:$rid"
	h_log_has "function:rec REPORT RequestId: $rid${T}Duration: [0-9]+\.[0-9]{2} ms${T}Billed Duration: [0-9]+ ms${T}Memory Size: 128 MB${T}Max Memory Used: [0-9]+ MB${T}" ||
		bad="$bad REPORT:$rid"
	h_log_has "function:rec .*recorder: request $rid, [0-9]+ bytes" || bad="$bad output:$rid"
done < <(h_invocations)
h_true "START/END/REPORT and runtime output per invocation ($n_inv invocations)" \
	"missing:$bad" test -z "$bad" -a "$n_inv" -gt 0
first_report=$(h_logs | grep -m1 'function:rec REPORT RequestId: ')
h_match "first REPORT has Init Duration (cold start)" "Init Duration: [0-9]+\\.[0-9]{2} ms${T}" "$first_report"
h_eq "REPORT lines = invocations" "$n_inv" "$(h_count_log 'function:rec REPORT RequestId: ')"

h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
