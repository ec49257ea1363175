#!/bin/sh
# streams.sh BUILD_DIR: the stream sources benchmark (`make bench-streams` runs it on build/release).
#
# For each pull source kind (kafka, redis_stream, redis_queue), on this machine:
#   raw          the source's own consumer alone, over the same preloaded records: kcat -C (no
#                group) and, as context, kcat -G (a consumer group, as Sluice reads) for Kafka,
#                each timed from its first record out to its exit at the end (-e); bench/redis_raw
#                XREADGROUP COUNT 1000 + one XACK a batch for streams, one BLMOVE a message for
#                queues (and RPOP 1000 draining, as context)
#   sluice       the daemon with a trigger on that source (trim_horizon, aws payload) into
#                bench/c_runtime (process sandbox) at batch_size 100 and 1000: records/s in steady
#                state, from 10 % to 90 % of the records answered (c_runtime's timelines: not the
#                ~3 s Kafka group join, nor the last partial batches waiting out the batching
#                window), also over the whole run (first invocation's arrival to the last one's
#                answer), and the daemon's peak RSS (VmHWM)
#   rounds       raw, batch 1000 and batch 100 run one after the other, $BENCH_RUNS rounds: the
#                ratio (batch 1000, steady, / raw) is taken round by round and the median kept,
#                so a slow spell of the shared machine weighs on both sides of it
#   latency      one record every 10 ms (bench/pace), trigger with max_batching_window_ms 0 and
#                batch_size 100: p50/p99 of (arrival at the function - the record's send time as
#                its shape carries it: Kafka timestamp, Kinesis approximateArrivalTimestamp,
#                SQS SentTimestamp; ms resolution)
#   profile      one more Kafka batch-1000 run under `perf record -g` (the daemon's threads): the
#                top symbols and libraries; the CPU seconds of the daemon and of the mock cluster
# Writes bench/results/streams.json (flat JSON) and the Streams section of bench/RESULTS.md.
#
# Environment: BENCH_RUNS (5 rounds of each throughput figure; the median is kept), BENCH_EVENTS
# (1000000 Kafka records and stream entries), BENCH_QUEUE_EVENTS (200000 queue messages),
# BENCH_LATENCY_EVENTS (1000), BENCH_KEEP (keep the work directory); for digging into a run:
# BENCH_LOG_LEVEL (the daemon's, info) and BENCH_KAFKA_PROPS (librdkafka properties as JSON, e.g.
# {"debug": "cgrp,fetch"}, logged at debug).
set -eu

[ $# -eq 1 ] || { echo "usage: bench/streams.sh BUILD_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
runs=${BENCH_RUNS:-5}
events=${BENCH_EVENTS:-1000000}
queue_events=${BENCH_QUEUE_EVENTS:-200000}
lat_events=${BENCH_LATENCY_EVENTS:-1000}
partitions=12
# Redis streams as shards, filled in turn (a Kinesis stream's shards): one shard has one batch in
# flight at a time, as in Lambda, so a single one would measure the function's round trip.
shards="bench0,bench1,bench2,bench3"
kafka_props=${BENCH_KAFKA_PROPS:-'{}'}

for b in sluice sluice-init tests/kmock bench/c_runtime bench/pace bench/redis_raw; do
	[ -x "$build/$b" ] || { echo "streams.sh: missing $build/$b (make MODE=release all tests bench binaries)" >&2; exit 1; }
done
for t in kcat redis-server redis-cli perf; do
	command -v $t >/dev/null || { echo "streams.sh: no $t (sh tools/deps.sh test; perf: linux-perf)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-streams.XXXXXX")
daemon_pid=""
cleanup() {
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
	kafka_stop
	redis_stop
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
. "$root/bench/lib.sh"
KAFKA_KMOCK=$build/tests/kmock
. "$root/tests/lib/kafka.sh"
. "$root/tests/lib/redis.sh"

# ---- the daemon -------------------------------------------------------------------------------
# One run lives in $run: config, log, state, the function's count and latency files.

# write_config KIND BATCH EXTRA_TRIGGER_JSON: $run/sluice.json, source "s" of KIND, trigger "t"
# into the c_runtime function "sink" (which logs latencies only with max_batching_window_ms 0:
# the latency runs); $kafka_props (JSON) adds librdkafka properties.
write_config() {
	python3 - "$run" "$(port)" "$build/bench/c_runtime" "$1" "$2" "$3" "$KAFKA_BOOTSTRAP" \
		"127.0.0.1:$REDIS_PORT" "$kafka_props" "$shards" <<'PY'
import json, os, sys
run, port, runtime, kind, batch, extra, brokers, redis, props, shards = sys.argv[1:]
sources = {
    "kafka": {"kind": "kafka", "brokers": brokers, "topics": ["events"],
              "properties": dict({"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"},
                                 **json.loads(props))},
    "redis_stream": {"kind": "redis_stream", "address": redis, "streams": shards.split(",")},
    "redis_queue": {"kind": "redis_queue", "address": redis, "queue": "benchq"},
}
trigger = {"source": "s", "function": "sink", "batch_size": int(batch), "payload_format": "aws",
           "starting_position": "trim_horizon"}
if kind != "redis_queue":
    trigger["consumer_group"] = "bench-" + run.rsplit("/", 1)[-1]
trigger.update(json.loads(extra))
env = {"BENCH_COUNT_DIR": run + "/counts"}
if trigger.get("max_batching_window_ms") == 0:
    env["BENCH_LATENCY_DIR"] = run + "/lat"
cfg = {"listen": "127.0.0.1:" + port, "state_dir": run + "/state", "log_level": os.environ.get("BENCH_LOG_LEVEL", "info"),
       "functions": {"sink": {"code": run + "/code", "runtime": "provided.al2023",
                              "command": [runtime], "handler": "bench.handler", "memory_mb": 128,
                              "timeout_s": 30,
                              "environment": env}},
       "sources": {"s": sources[kind]},
       "triggers": {"t": trigger}}
json.dump(cfg, open(run + "/sluice.json", "w"), indent=1)
PY
}

# new_run NAME KIND BATCH EXTRA_TRIGGER_JSON: a fresh $run with its config.
new_run() {
	run=$work/runs/$1
	rm -rf "$run"
	mkdir -p "$run/code" "$run/counts" "$run/lat"
	write_config "$2" "$3" "$4"
}

# start_daemon: on $run's config; returns once it is ready.
start_daemon() {
	if ! "$build/sluice" validate "$run/sluice.json" >"$run/validate.log" 2>&1; then
		cat "$run/validate.log" >&2
		exit 1
	fi
	"$build/sluice" run -c "$run/sluice.json" 2>"$run/daemon.log" &
	daemon_pid=$!
	p=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["listen"].split(":")[1])' "$run/sluice.json")
	n=0
	until grep -q "listening on" "$run/daemon.log" && curl -fsS -o /dev/null "http://127.0.0.1:$p/healthz"; do
		if ! kill -0 "$daemon_pid" 2>/dev/null; then
			wait "$daemon_pid" || true
			daemon_pid=""
			tail "$run/daemon.log" >&2
			exit 1
		fi
		n=$((n + 1))
		[ $n -lt 100 ] || { tail "$run/daemon.log" >&2; exit 1; }
		sleep 0.1
	done
}

stop_daemon() {
	kill -TERM "$daemon_pid"
	wait "$daemon_pid" || say "warning: daemon exit status $? after SIGTERM"
	daemon_pid=""
}

# stuck WHAT: the run did not finish: show the daemon's status and log, and exit.
stuck() {
	echo "streams.sh: $1 after the time allowed; the daemon's status and log:" >&2
	curl -sS "http://127.0.0.1:$p/status" >&2 || true
	grep -v function:sink "$run/daemon.log" | tail -n 20 >&2
	exit 1
}

counted() { cat "$run"/counts/*.count 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

# wait_counted N SECONDS: until the function counted N records; 1 after SECONDS.
wait_counted() {
	n=0
	while [ "$(counted)" -lt "$1" ]; do
		n=$((n + 1))
		[ $n -lt $(($2 * 20)) ] || return 1
		sleep 0.05
	done
}

# cpu_s PID: user + system CPU seconds of PID so far (all its threads).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat"; }

# sluice_run KIND BATCH N: one throughput run over N preloaded records (a run and consumer group
# of its own); one JSON line.
run_seq=0
sluice_run() {
	run_seq=$((run_seq + 1))
	new_run "$1-b$2-$run_seq" "$1" "$2" '{}'
	[ "$1" != redis_queue ] || "$build/bench/redis_raw" load-list "127.0.0.1:$REDIS_PORT" benchq "$3" >/dev/null
	start_daemon
	[ -z "$KAFKA_PID" ] || kmock_cpu0=$(cpu_s "$KAFKA_PID")
	wait_counted 1 60 && wait_counted "$3" 300 || stuck "$1 batch $2: $(counted) of $3 records"
	daemon_cpu=$(cpu_s "$daemon_pid")
	kmock_cpu=$([ -z "$KAFKA_PID" ] && echo 0 || echo "$(cpu_s "$KAFKA_PID") $kmock_cpu0" | awk '{ print $1 - $2 }')
	hwm=$(status_kb "$daemon_pid" VmHWM)
	stop_daemon
	python3 - "$run/counts" "$root" "$hwm" "$daemon_cpu" "$kmock_cpu" <<'PY'
import glob, json, os, sys
counts, root, hwm, daemon_cpu, kmock_cpu = sys.argv[1:]
sys.path.insert(0, root + "/bench")
from report import steady_rate
ends = [l.split() for f in glob.glob(counts + "/*.count") for l in open(f) if l.strip()]
total = sum(int(r[0]) for r in ends)
ms = max(float(r[2]) for r in ends) - min(float(r[1]) for r in ends)
timeline = [(float(t), int(n)) for f in glob.glob(counts + "/*.timeline")
            for t, n in (l.split() for l in open(f) if l.strip())]
print(json.dumps({"events": total, "seconds": round(ms / 1000, 3),
                  "events_per_s": steady_rate(timeline), "whole_run_per_s": round(total / (ms / 1000)),
                  "peak_rss_mb": round(int(hwm) / 1024, 1),
                  "daemon_cpu_s": float(daemon_cpu), "kmock_cpu_s": float(kmock_cpu)}))
PY
}

# sluice_figures KIND N RAW_NAME RAW_CMD...: $runs rounds of the raw consumer (RAW_CMD), Sluice at
# batch 1000 and Sluice at batch 100, interleaved so that a slow spell of the shared machine
# weighs on both sides of the ratio; the medians in $work/RAW_NAME.json, $work/KIND_b1000.json
# and $work/KIND_b100.json (each with every run's rate in run order: the report takes the ratio
# round by round).
sluice_figures() {
	# (names of their own: the functions called below share the shell's variables)
	sf_kind=$1; sf_n=$2; sf_raw=$3; shift 3
	: >"$work/$sf_raw.runs"
	: >"$work/${sf_kind}_b1000.runs"
	: >"$work/${sf_kind}_b100.runs"
	sf_round=0
	while [ $sf_round -lt "$runs" ]; do
		"$@" >>"$work/$sf_raw.runs"
		sluice_run "$sf_kind" 1000 "$sf_n" >>"$work/${sf_kind}_b1000.runs"
		sluice_run "$sf_kind" 100 "$sf_n" >>"$work/${sf_kind}_b100.runs"
		sf_round=$((sf_round + 1))
	done
	for sf_name in "$sf_raw" "${sf_kind}_b1000" "${sf_kind}_b100"; do
		keep_median events_per_s events_per_s_runs "$sf_name"
	done
}

# latency_run KIND PACE_MODE KEY [NAME]: records paced 10 ms apart into a fresh trigger (latest,
# window 0); $work/NAME.json (default KIND_latency).
latency_run() {
	out=${4:-$1_latency}
	new_run "$out" "$1" 100 '{"max_batching_window_ms": 0, "starting_position": "latest"}'
	start_daemon
	if [ "$1" = kafka ]; then
		n=0
		until grep -q "assigned $partitions partitions" "$run/daemon.log"; do
			n=$((n + 1)); [ $n -lt 300 ] || { echo "streams.sh: no partitions assigned" >&2; exit 1; }
			sleep 0.1
		done
	fi
	sleep 1
	address=$([ "$1" = kafka ] && echo "$KAFKA_BOOTSTRAP" || echo "127.0.0.1:$REDIS_PORT")
	"$build/bench/pace" "$2" "$address" "$3" "$lat_events" 10 >"$run/pace.json"
	wait_counted "$lat_events" 30 || say "warning: $1 latency: $(counted) of $lat_events arrived"
	stop_daemon
	cat "$run"/lat/*.lat | python3 -c '
import json, os, sys
sys.path.insert(0, sys.argv[1] + "/bench")
from report import percentile
lat = sorted(float(r) - float(s) for s, r in (l.split() for l in sys.stdin if l.strip()))
print(json.dumps({"n": len(lat), "p50_ms": round(percentile(lat, 50), 2),
                  "p99_ms": round(percentile(lat, 99), 2), "max_ms": round(lat[-1], 2)}))' "$root" >"$work/$out.json"
	say "$out: $(cat "$work/$out.json")"
}

# first_to_end NAME CMD...: run CMD with its output piped away; one JSON line, timed from its
# first output to its exit (the group join and connection setup excluded).
first_to_end() {
	what=$1; shift
	"$@" | { head -c 1 >/dev/null; date +%s%3N >"$work/first"; cat >/dev/null; date +%s%3N >"$work/last"; }
	python3 -c 'import json, sys; n, a, b = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(json.dumps({"events": n, "seconds": (b - a) / 1000, "events_per_s": round(n / ((b - a) / 1000))}))' \
		"$events" "$(cat "$work/first")" "$(cat "$work/last")"
}

group_seq=0
# kcat gets the prefetch setting Sluice's consumer has (queued.min.messages 1000000): with
# librdkafka's default both stall between fetches, and the comparison would measure that.
kcat_plain() {
	first_to_end plain kcat -C -b "$KAFKA_BOOTSTRAP" -t events -o beginning -e -q \
		-X queued.min.messages=1000000
}
kcat_group() {
	group_seq=$((group_seq + 1))
	first_to_end group kcat -b "$KAFKA_BOOTSTRAP" -G "raw-$group_seq" -X session.timeout.ms=6000 \
		-X heartbeat.interval.ms=500 -X auto.offset.reset=earliest \
		-X queued.min.messages=1000000 -e -q events
}
xread_seq=0
redis_xread() {
	xread_seq=$((xread_seq + 1))
	"$build/bench/redis_raw" xreadgroup "127.0.0.1:$REDIS_PORT" "$shards" "raw-$xread_seq" "$events"
}
# redis_list MODE: fill the queue, then drain it with MODE (blmove, rpop).
redis_list() {
	redis_cli del benchq benchq:inflight >/dev/null
	"$build/bench/redis_raw" load-list "127.0.0.1:$REDIS_PORT" benchq "$queue_events" >/dev/null
	"$build/bench/redis_raw" "$1" "127.0.0.1:$REDIS_PORT" benchq "$queue_events"
}

# ---- Kafka ------------------------------------------------------------------------------------
kafka_start "$work/kafka" events "$partitions"
say "kafka: producing $events records into $partitions partitions"
seq 1 "$events" | awk '{ printf "k%d:event-payload-%d\n", $1 % 97, $1 }' |
	kcat -P -b "$KAFKA_BOOTSTRAP" -t events -K: -X linger.ms=10 -X batch.num.messages=10000
kept=0
p=0
while [ $p -lt $partitions ]; do
	low=$(kcat -Q -b "$KAFKA_BOOTSTRAP" -t "events:$p:-2" | awk '{ print $NF }')
	high=$(kcat -Q -b "$KAFKA_BOOTSTRAP" -t "events:$p:-1" | awk '{ print $NF }')
	[ "$low" -eq 0 ] || { echo "streams.sh: the mock trimmed partition $p (low watermark $low)" >&2; exit 1; }
	kept=$((kept + high))
	p=$((p + 1))
done
[ "$kept" -eq "$events" ] || { echo "streams.sh: the topic holds $kept records, $events produced" >&2; exit 1; }

sluice_figures kafka "$events" kafka_raw kcat_plain
median_by events_per_s events_per_s_runs kafka_raw_group kcat_group
latency_run kafka kafka events
# librdkafka's mock cluster answers a fetch with no data only after fetch.wait.max.ms (500 ms by
# default), even when a record arrives meanwhile (a broker answers at once): the same run with
# 10 ms shows Sluice's own share.
kafka_props='{"fetch.wait.max.ms": "10"}'
latency_run kafka kafka events kafka_latency_fetch10
kafka_props=${BENCH_KAFKA_PROPS:-'{}'}

say "kafka: one more batch-1000 run under perf record"
new_run kafka-perf kafka 1000 '{}'
start_daemon
perf record -g --no-inherit -F 499 -p "$daemon_pid" -o "$work/perf.data" >"$work/perf.log" 2>&1 &
perf_pid=$!
wait_counted 1 60 && wait_counted "$events" 300 || stuck "perf run: $(counted) of $events records"
kill -INT "$perf_pid"
wait "$perf_pid" || true
stop_daemon
perf report -i "$work/perf.data" --stdio --no-children -g none --sort dso,sym --percent-limit 1 \
	>"$work/perf_sym.txt" 2>/dev/null
perf report -i "$work/perf.data" --stdio --no-children -g none --sort dso --percent-limit 1 \
	>"$work/perf_dso.txt" 2>/dev/null
kafka_stop

# ---- Redis ------------------------------------------------------------------------------------
redis_start "$work/redis"
say "redis: loading $events stream entries"
"$build/bench/redis_raw" load-stream "127.0.0.1:$REDIS_PORT" "$shards" "$events" >/dev/null
sluice_figures redis_stream "$events" redis_streams_raw redis_xread
sluice_figures redis_queue "$queue_events" redis_queue_raw redis_list blmove
median_by events_per_s events_per_s_runs redis_queue_raw_rpop redis_list rpop
redis_cli del benchq benchq:inflight >/dev/null
latency_run redis_stream xadd bench0
latency_run redis_queue lpush benchq
redis_stop

# ---- results ------------------------------------------------------------------------------------
python3 "$root/bench/streams_report.py" "$work" "$root" "$events" "$queue_events" "$lat_events" "$runs"
