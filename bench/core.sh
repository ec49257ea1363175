#!/bin/sh
# core.sh BUILD_DIR: the core benchmark (`make bench-core` runs it on build/release).
#
# Measures, on this machine, with the daemon on a temp config and loopback HTTP:
#   baseline     keep-alive POST round trips to a bare libevent echo server (bench/echo_server)
#   warm invoke  keep-alive POST /2015-03-31/functions/NAME/invocations round trips (after
#                warm-up) to the C runtime (bench/c_runtime) and to aws-lambda-ric (Node.js)
#   cold start   first invocation of each of K identical C-runtime functions (process driver):
#                sandbox start + runtime start + invoke, as the caller sees it
#   http events  TOTAL CloudEvents posted in batches of 100 over 4 keep-alive connections to the
#                http source, until the C runtime (trigger batch_size 100) has received them all
#   peak RSS     the daemon's VmHWM at the end (sandboxes are separate processes)
# Writes bench/results/core.json (flat JSON) and the table between the markers in bench/RESULTS.md.
#
# Environment: BENCH_RUNS (3 runs of each latency test; the run with the median p50 is kept),
# BENCH_N (2000), BENCH_RIC_N (2000), BENCH_COLD_K (40), BENCH_EVENTS (100000).
set -eu

[ $# -eq 1 ] || { echo "usage: bench/core.sh BUILD_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
runs=${BENCH_RUNS:-3}
n=${BENCH_N:-2000}
ric_n=${BENCH_RIC_N:-2000}
cold_k=${BENCH_COLD_K:-40}
events=${BENCH_EVENTS:-100000}

sluice=$build/sluice
client=$build/bench/invoke_client
runtime=$build/bench/c_runtime
echo_server=$build/bench/echo_server
for b in "$sluice" "$client" "$runtime" "$echo_server"; do
	[ -x "$b" ] || { echo "core.sh: missing $b (make MODE=release all tests bench binaries)" >&2; exit 1; }
done
ric=$(sh "$root/tools/ric-dir.sh")/node_modules/aws-lambda-ric/bin/index.mjs
[ -f "$ric" ] || { echo "core.sh: no aws-lambda-ric at $ric (sh tools/deps.sh test)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
daemon_pid=""
echo_pid=""
cleanup() {
	[ -z "$echo_pid" ] || kill "$echo_pid" 2>/dev/null || true
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
. "$root/bench/lib.sh"
ms() { date +%s%3N; }

# ---- baseline: bare evhttp echo ---------------------------------------------------------------
p=$(port)
"$echo_server" 127.0.0.1 "$p" >"$work/echo.log" 2>&1 &
echo_pid=$!
sleep 0.3
best_of baseline "$client" rtt "127.0.0.1:$p" /echo "$n" 500 '{"bench":true}'
kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true; echo_pid=""

# ---- the daemon ---------------------------------------------------------------------------------
p=$(port)
mkdir -p "$work/code/c" "$work/counts"
python3 - "$work/sluice.json" "$p" "$work" "$runtime" "$ric" "$root" "$cold_k" <<'PY'
import json, sys
out, port, work, runtime, ric, root, k = sys.argv[1:]
c = {"code": work + "/code/c", "runtime": "provided.al2023", "command": [runtime],
     "handler": "bench.handler", "memory_mb": 128, "timeout_s": 10}
fns = {"cfn": dict(c),
       "node": {"code": root + "/bench/functions/node-noop", "runtime": "nodejs20.x",
                "command": ["node", ric], "handler": "index.handler", "memory_mb": 256,
                "timeout_s": 10},
       "sink": dict(c, environment={"BENCH_COUNT_DIR": work + "/counts"})}
for i in range(int(k)):
    fns["f%d" % i] = dict(c)
cfg = {"listen": "127.0.0.1:" + port, "state_dir": work + "/state", "log_level": "info",
       "functions": fns,
       "sources": {"web": {"kind": "http"}},
       "triggers": {"web-sink": {"source": "web", "function": "sink", "batch_size": 100,
                                 "max_batching_window_ms": 20}}}
json.dump(cfg, open(out, "w"), indent=1)
PY
"$sluice" run -c "$work/sluice.json" 2>"$work/daemon.log" &
daemon_pid=$!
wait_ready "$daemon_pid" "$p" "$work/daemon.log"
hp=127.0.0.1:$p

best_of warm_c "$client" rtt "$hp" /2015-03-31/functions/cfn/invocations "$n" 200 '{"bench":true}'
best_of warm_ric "$client" rtt "$hp" /2015-03-31/functions/node/invocations "$ric_n" 200 '{"bench":true}'
"$client" cold "$hp" '/2015-03-31/functions/f%d/invocations' "$cold_k" '{"bench":true}' >"$work/cold.json"
say "cold: $(cat "$work/cold.json")"

# ---- http source throughput -------------------------------------------------------------------
delivered() { cat "$work"/counts/*.count 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
t0=$(ms)
"$client" events "$hp" /events/web "$events" 100 4 >"$work/events.json"
say "posted: $(cat "$work/events.json")"
i=0
while [ "$(delivered)" -lt "$events" ]; do
	i=$((i + 1))
	[ $i -lt 3000 ] || { echo "core.sh: only $(delivered) of $events delivered after 300 s" >&2; exit 1; }
	sleep 0.1
done
t1=$(ms)
say "delivered $events events in $((t1 - t0)) ms"
sleep 0.5
counted=$(delivered)
[ "$counted" -eq "$events" ] || say "warning: the function counted $counted events, $events posted"

hwm_kb=$(status_kb "$daemon_pid" VmHWM)
rss_kb=$(status_kb "$daemon_pid" VmRSS)
agent_kb=$(for c in $(cat "/proc/$daemon_pid/task/"*/children 2>/dev/null); do
	[ "$(cat "/proc/$c/comm" 2>/dev/null)" = sluice-init ] &&
		status_kb "$c" VmRSS
done | sort -n | tail -n 1)
sandboxes=$(cat "/proc/$daemon_pid/task/"*/children 2>/dev/null | wc -w)
kill -TERM "$daemon_pid"
rc=0; wait "$daemon_pid" || rc=$?
daemon_pid=""
[ $rc -eq 0 ] || say "warning: daemon exit status $rc after SIGTERM"

# ---- results ------------------------------------------------------------------------------------
mkdir -p "$root/bench/results"
python3 - "$work" "$root" "$events" "$((t1 - t0))" "$hwm_kb" "$rss_kb" "${agent_kb:-0}" "$sandboxes" \
	"$cold_k" "$runs" "$counted" <<'PY'
import json, os, platform, subprocess, sys, time
work, root, events, elapsed_ms, hwm_kb, rss_kb, agent_kb, sandboxes, cold_k, runs, counted = sys.argv[1:]
load = lambda name: json.load(open(os.path.join(work, name + ".json")))
base, warm_c, warm_ric, cold, post = (load(n) for n in ("baseline", "warm_c", "warm_ric", "cold", "events"))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
try:
    rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    if subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        rev += "+changes"
except OSError:
    rev = "?"
r = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "git_rev": rev,
    "machine_cores": os.cpu_count(),
    "machine_cpu": cpu,
    "kernel": platform.release(),
    "baseline_rtt_p50_us": base["p50_us"],
    "baseline_rtt_p99_us": base["p99_us"],
    "warm_invoke_n": warm_c["n"],
    "warm_invoke_p50_us": warm_c["p50_us"],
    "warm_invoke_p99_us": warm_c["p99_us"],
    "warm_invoke_errors": warm_c["errors"],
    "warm_invoke_p50_run_min_us": min(warm_c["p50_runs_us"]),
    "warm_invoke_p50_run_max_us": max(warm_c["p50_runs_us"]),
    "warm_invoke_p50_vs_baseline": round(warm_c["p50_us"] / base["p50_us"], 2),
    "warm_invoke_ric_n": warm_ric["n"],
    "warm_invoke_ric_p50_us": warm_ric["p50_us"],
    "warm_invoke_ric_p99_us": warm_ric["p99_us"],
    "warm_invoke_ric_errors": warm_ric["errors"],
    "warm_invoke_ric_p50_run_min_us": min(warm_ric["p50_runs_us"]),
    "warm_invoke_ric_p50_run_max_us": max(warm_ric["p50_runs_us"]),
    "warm_invoke_ric_p50_vs_baseline": round(warm_ric["p50_us"] / base["p50_us"], 2),
    "cold_start_process_n": int(cold_k),
    "cold_start_process_p50_ms": round(cold["p50_us"] / 1000, 2),
    "cold_start_process_p99_ms": round(cold["p99_us"] / 1000, 2),
    "cold_start_process_errors": cold["errors"],
    "http_events": int(events),
    "http_events_received": int(counted),
    "http_events_per_s": round(int(events) / (int(elapsed_ms) / 1000)),
    "http_accept_events_per_s": post["accepted_events_per_s"],
    "http_post_errors": post["errors"],
    "http_post_503_retries": post["retries_503"],
    "peak_rss_mb": round(int(hwm_kb) / 1024, 1),
    "end_rss_mb": round(int(rss_kb) / 1024, 1),
    "sandbox_agent_rss_mb": round(int(agent_kb) / 1024, 1),
    "sandboxes_at_end": int(sandboxes),
}
os.makedirs(os.path.join(root, "bench/results"), exist_ok=True)
with open(os.path.join(root, "bench/results/core.json"), "w") as f:
    json.dump(r, f, indent=1)
    f.write("\n")

table = f"""Run {r['date']} on {r['machine_cores']} cores ({r['machine_cpu']}, Linux {r['kernel']}), commit {r['git_rev']}, `make bench-core` (release build).

| What | Sluice | Peer / baseline | Ratio |
|---|---|---|---|
| Warm invoke, C runtime, p50 / p99 (n={r['warm_invoke_n']}; p50 of the {runs} runs {r['warm_invoke_p50_run_min_us']:.0f}–{r['warm_invoke_p50_run_max_us']:.0f} µs) | {r['warm_invoke_p50_us']:.0f} µs / {r['warm_invoke_p99_us']:.0f} µs | evhttp echo round trip {r['baseline_rtt_p50_us']:.0f} µs / {r['baseline_rtt_p99_us']:.0f} µs | {r['warm_invoke_p50_vs_baseline']}× (p50) |
| Warm invoke, aws-lambda-ric (Node.js), p50 / p99 (n={r['warm_invoke_ric_n']}; p50 of the {runs} runs {r['warm_invoke_ric_p50_run_min_us']:.0f}–{r['warm_invoke_ric_p50_run_max_us']:.0f} µs) | {r['warm_invoke_ric_p50_us']:.0f} µs / {r['warm_invoke_ric_p99_us']:.0f} µs | same echo baseline | {r['warm_invoke_ric_p50_vs_baseline']}× (p50) |
| Cold start, process driver, C runtime, p50 / p99 (n={r['cold_start_process_n']}) | {r['cold_start_process_p50_ms']} ms / {r['cold_start_process_p99_ms']} ms | | |
| HTTP source → function, batches of 100 ({r['http_events']} events posted, {r['http_events_received']} received) | {r['http_events_per_s']} events/s delivered ({r['http_accept_events_per_s']:.0f}/s accepted) | | |
| Daemon peak RSS (VmHWM) over the whole run | {r['peak_rss_mb']} MB | one sandbox agent: {r['sandbox_agent_rss_mb']} MB RSS | |

Errors: warm {r['warm_invoke_errors']}, warm RIC {r['warm_invoke_ric_errors']}, cold {r['cold_start_process_errors']}, posts {r['http_post_errors']} (503 retries {r['http_post_503_retries']}). Target: warm invoke p50 under 250 µs with the C runtime — {'met' if r['warm_invoke_p50_us'] < 250 else 'NOT met'}."""

path = os.path.join(root, "bench/RESULTS.md")
text = open(path).read()
begin, end = "<!-- core:begin -->", "<!-- core:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(path, "w").write(text[:a] + "\n" + table + "\n" + text[b:])
print(json.dumps(r, indent=1))
PY
