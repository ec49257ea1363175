#!/usr/bin/env bash
# Redis Streams source, order: two triggers, batch_size 1 and 500, each on its own source of two
# streams (shards). Entries are added before the daemon starts (trim_horizon) and while it runs;
# each stream's entries must reach the function exactly once and in the stream's order (ids
# compared with XRANGE), and afterwards the group has nothing pending. A third source shows lag in
# GET /status while its function is stuck: the figure Redis reports (XINFO GROUPS), above 0.
. "$(dirname "$0")/../lib/harness.sh"
. "$H_ROOT/tests/lib/redis.sh"

redis_start "$H_TMP/redis" || h_bail redis "redis-server did not start"
h_at_exit redis_stop
R='"address": "127.0.0.1:'"$REDIS_PORT"'"'
h_config '{
  "functions": {"rec": {"code": "@FIX@/recorder", "handler": "rec.handler", "timeout_s": 2,
                        "max_concurrency": 4}},
  "sources": {
    "small": {"kind": "redis_stream", '"$R"', "streams": ["a1", "b1"]},
    "big": {"kind": "redis_stream", '"$R"', "streams": ["a2", "b2"], "partition_key_field": "k"},
    "slow": {"kind": "redis_stream", '"$R"', "streams": ["c"]}
  },
  "triggers": {
    "one": {"source": "small", "function": "rec", "batch_size": 1, "payload_format": "cloudevents",
            "starting_position": "trim_horizon"},
    "many": {"source": "big", "function": "rec", "batch_size": 500, "max_batching_window_ms": 200,
             "payload_format": "cloudevents", "starting_position": "trim_horizon"},
    "stuck": {"source": "slow", "function": "rec", "batch_size": 1, "max_pending_events": 100,
              "payload_format": "cloudevents", "starting_position": "trim_horizon",
              "max_retry_attempts": -1, "retry_base_ms": 1000, "retry_max_ms": 1000}
  }
}'
h_expect_error 'trigger:stuck'

# add N entries to STREAM, numbered from FROM, in one redis-cli session
add() { seq "$3" $(($3 + $2 - 1)) | awk -v s="$1" '{print "XADD " s " * n " $1 " k key" ($1 % 7)}' |
	redis_cli >/dev/null; }
add a1 40 1; add b1 40 1; add a2 1500 1; add b2 1500 1
redis_cli XADD c '*' n __sleep__ >/dev/null
seq 2 300 | awk '{print "XADD c * n " $1}' | redis_cli >/dev/null
h_start
add a1 40 41; add b1 40 41; add a2 1500 1501; add b2 1500 1501

expected() { redis_cli XRANGE "$2" - + | grep -E '^[0-9]+-[0-9]+$' | sed "s/^/$1:$2:/"; }
got() { h_received_ids rec | grep "^$1:$2:"; }
complete() { [ "$(got "$1" "$2" | wc -l)" -ge "$(redis_cli XLEN "$2")" ]; }
for pair in small:a1 small:b1 big:a2 big:b2; do
	src=${pair%:*} key=${pair#*:}
	h_true "$key: every entry delivered" '$(got $src $key | wc -l) of $(redis_cli XLEN $key)' \
		h_wait 40 complete "$src" "$key"
done
sleep 0.5
for pair in small:a1 small:b1 big:a2 big:b2; do
	src=${pair%:*} key=${pair#*:}
	h_eq "$key: delivered once each, in stream order" "$(expected "$src" "$key" | md5sum)" \
		"$(got "$src" "$key" | md5sum)"
done
# sizes of the batches carrying events of SOURCE, one a line
batch_sizes() { python3 -c 'import glob, json, sys
for path in glob.glob(sys.argv[1] + "/rec-*.jsonl"):
    for line in open(path):
        evs = json.loads(line)["event"]
        if evs[0]["id"].startswith(sys.argv[2] + ":"):
            print(len(evs))' "$H_REC" "$1"; }
h_eq "batch_size 1: one event an invocation" "160 x 1" "$(batch_sizes small | sort | uniq -c | awk '{print $1 " x " $2}')"
h_true "batch_size 500: batches of more than one" "sizes $(batch_sizes big | sort -n | uniq | paste -sd,)" \
	test "$(batch_sizes big | awk '$1 > 1' | wc -l)" -ge 6
h_true "batch_size 500: no batch above 500" "sizes $(batch_sizes big | sort -n | tail -1)" \
	test "$(batch_sizes big | sort -n | tail -1)" -le 500
keys() { h_received rec | grep "\"subject\":\"$1\"" | grep '"n":"3"' | grep -o '"partitionkey":"[^"]*"' | sort -u | paste -sd' '; }
h_eq "partition key: the configured field's value" '"partitionkey":"key3"' "$(keys a2)"
h_eq "partition key: the stream without a configured field" '"partitionkey":"a1"' "$(keys a1)"
h_eq "nothing pending in group sluice-one" 0 "$(redis_cli XPENDING a1 sluice-one | head -1)"
h_true "nothing pending in group sluice-many" "$(redis_cli XPENDING b2 sluice-many | head -1) pending" \
	h_wait 5 eval '[ "$(redis_cli XPENDING b2 sluice-many | head -1)" = 0 ]'

# The stuck trigger: its first entry sleeps past the timeout and is retried without end, so the
# feed stops reading once 100 events are pending: Redis keeps the rest undelivered.
status_lag() { h_request GET /status; $H_PY get "$H_RESP" "triggers.$1.source.lag"; }
trigger_index() { h_request GET /status; python3 -c 'import json, sys
print([t["name"] for t in json.load(open(sys.argv[1]))["triggers"]].index(sys.argv[2]))' "$H_RESP" "$1"; }
idx=$(trigger_index stuck)
redis_lag() { redis_cli XINFO GROUPS c | sed -n '/^lag$/{n;p}'; }
settled() { [ "$(status_lag "$idx")" = "$(redis_lag)" ] && [ "$(redis_lag)" -gt 0 ]; }
h_true "status: lag of the stuck stream as Redis counts it, above 0" \
	'status $(status_lag $idx), redis $(redis_lag)' h_wait 10 settled
h_eq "status: per stream" "c $(redis_lag)" \
	"$(h_json "triggers.$idx.source.partitions.0.name") $(h_json "triggers.$idx.source.partitions.0.lag")"
h_eq "status: kind and no error" "redis_stream null" \
	"$(h_json "triggers.$idx.source.kind") $(h_json "triggers.$idx.source.last_error")"
h_stop TERM
h_eq "exit status" 0 "$H_EXIT"
