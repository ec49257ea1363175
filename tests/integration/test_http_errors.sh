#!/usr/bin/env bash
# HTTP source error answers: malformed bodies 400, bodies over 6 MB 413, unknown source 404, wrong
# method 405, each with a JSON error body and nothing delivered; a full spool answers 503 with
# Retry-After, and what was accepted before is delivered once a consumer runs.
. "$(dirname "$0")/../lib/harness.sh"

h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler"}},
  "sources": {"web": {"kind": "http"}, "big": {"kind": "http"}},
  "triggers": {"web-rec": {"source": "web", "function": "rec", "batch_size": 10,
                           "max_batching_window_ms": 50},
               "big-rec": {"source": "big", "function": "rec", "enabled": false}}
}'
h_start

# error_case NAME STATUS ERRORTYPE_REGEX: the last answer was STATUS with a JSON error body
error_case() {
	h_eq "$1: status" "$2" "$H_STATUS"
	h_match "$1: errorType" "$3" "$(h_json errorType)"
	h_match "$1: errorMessage" '.' "$(h_json errorMessage)"
	h_match "$1: JSON content type" '^application/json' "$(h_header Content-Type)"
}

h_post web application/cloudevents+json '{"specversion":"1.0","id":"x",'
error_case "structured malformed" 400 '.'
h_post web application/cloudevents-batch+json '[{"specversion":"1.0","id":"x","source":"/t","type":"t"},'
error_case "batch malformed" 400 '.'
h_post web application/cloudevents-batch+json '{"specversion":"1.0","id":"x","source":"/t","type":"t"}'
error_case "batch not an array" 400 '.'
h_post web application/json '{"plain": tru'
error_case "plain JSON malformed" 400 '.'
h_post web application/cloudevents+json '{"specversion":"1.0","id":"x","type":"t"}'
error_case "structured without source" 400 '.'
h_match "structured without source: message names the attribute" 'source' "$(h_json errorMessage)"
h_post web application/cloudevents+json '{"specversion":"0.3","id":"x","source":"/t","type":"t"}'
error_case "wrong specversion" 400 '.'
h_post web application/cloudevents-batch+json \
	'[{"specversion":"1.0","id":"good","source":"/t","type":"t"},{"specversion":"1.0","id":"bad"}]'
error_case "batch with one bad event" 400 '.'

$H_PY bigjson 6291457 "$H_TMP/big.json"
h_post web application/json "@$H_TMP/big.json"
error_case "body of 6291457 bytes" 413 '.'
h_post web application/cloudevents-batch+json "@$H_TMP/big.json"
error_case "batch body of 6291457 bytes" 413 '.'
$H_PY bigjson 6291456 "$H_TMP/limit.json"
h_post big application/json "@$H_TMP/limit.json"
h_eq "body of exactly 6291456 bytes accepted" 202 "$H_STATUS"

h_post nosuch application/json '{}'
error_case "unknown source" 404 '.'
h_request GET /events/web
error_case "GET on a source" 405 '.'

# Nothing of the above reached the function; a good event still does.
h_post web application/cloudevents+json '{"specversion":"1.0","id":"after","source":"/t","type":"t","data":{}}'
h_eq "good event after the errors" 202 "$H_STATUS"
h_true "good event delivered" "not received within 20 s" h_wait 20 h_has_received 1
sleep 0.5
h_eq "only the good event was delivered" after "$(h_received_ids | tr '\n' ' ' | sed 's/ $//')"
h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"

# A full spool: smallest spool, no consumer running; post 64 KiB batches until refused.
h_config '{"spool_max_bytes": 1048576, "spool_segment_bytes": 65536,
           "triggers": {"web-rec": {"enabled": false}, "big-rec": null},
           "sources": {"big": null}}'
h_start
python3 -c '
import json
print(json.dumps([{"specversion": "1.0", "id": "p-%d" % i, "source": "/t", "type": "t",
                   "data": {"pad": "x" * 600}} for i in range(100)]))' >"$H_TMP/batch.json"
accepted=0
for i in $(seq 1 40); do
	sed "s/\"p-/\"r$i-p-/g" "$H_TMP/batch.json" >"$H_TMP/batch.$i.json"
	h_post web application/cloudevents-batch+json "@$H_TMP/batch.$i.json"
	[ "$H_STATUS" = 202 ] || break
	accepted=$((accepted + 100))
done
h_note "accepted $accepted events before the spool was full"
error_case "spool full" 503 '.'
h_match "spool full: Retry-After" '^[0-9]+$' "$(h_header Retry-After)"
h_true "spool full: some batches accepted first ($accepted events)" "none or all accepted" \
	test "$accepted" -ge 500 -a "$accepted" -lt 4000
h_post web application/cloudevents-batch+json "@$H_TMP/batch.1.json"
h_eq "spool full: still full on the next batch" 503 "$H_STATUS"
h_stop TERM
h_eq "SIGTERM exit status (spool full)" 0 "$H_EXIT"

# Turn the consumer on: everything acknowledged is delivered and the spool takes events again.
h_config '{"triggers": {"web-rec": {"enabled": true, "batch_size": 100}}}'
rm -f "$H_REC"/*
h_start
h_true "acknowledged events delivered after the consumer started" \
	'got $(h_received_count) of $accepted' h_wait 30 h_has_received "$accepted"
h_eq "each acknowledged event once" "$accepted" "$(h_received_ids | sort -u | wc -l)"
h_true "spool accepts again once consumed" "still refused: $H_STATUS" \
	h_wait 10 eval 'h_post web application/cloudevents-batch+json "@$H_TMP/batch.1.json"; [ "$H_STATUS" = 202 ]'
h_stop TERM
h_eq "SIGTERM exit status (drained)" 0 "$H_EXIT"
