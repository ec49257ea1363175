#!/bin/sh
# dispatcher.sh BUILD_DIR: the dispatcher benchmark (`make bench-dispatcher` runs it on build/release).
#
# Measures, on this machine:
#   throughput    bench/dispatcher: a real trigger on a real libevent loop, a no-op invoker that
#                 answers on the next loop iteration, the benchmark as the source (backpressure
#                 respected): events/s at batch_size 1, 100 and 1000 (parallelization_factor 1)
#                 and at batch 100 with parallelization_factor 10; offer -> commit latency
#                 (queued behind max_pending_events) and the process's peak RSS
#   idle latency  rounds of one full batch offered at once and waited for: offer -> commit with
#                 nothing queued in front
#   instructions  the b100 run under `valgrind --tool=callgrind`, collection on from the first
#                 offer to the last commit and off while the benchmark makes events: instructions
#                 per event without the payload encoding (sl_payload_encode, inclusive, reported
#                 on its own), and where they go
#   backlog       the daemon (http source -> trigger batch 100 -> a shell function that sleeps
#                 BENCH_SLOW_S per invoke) while BACKLOG events are posted, 1000 per request: its
#                 RSS every 0.5 s during and after the posting, at 10 %, 50 % and 100 % accepted,
#                 and its peak (VmHWM)
# Writes bench/results/dispatcher.json (flat JSON) and the table between the dispatcher markers in
# bench/RESULTS.md.
#
# Environment: BENCH_RUNS (5 runs of each throughput mode; the run with the median events/s is
# kept), BENCH_EVENTS (200000 a run; batch 1: half), BENCH_IDLE_EVENTS (100000 per batch size),
# BENCH_CALLGRIND_EVENTS (100000), BENCH_BACKLOG_EVENTS (1000000), BENCH_SLOW_S (0.2),
# BENCH_AFTER_S (10: seconds of sampling after the posting).
set -eu

[ $# -eq 1 ] || { echo "usage: bench/dispatcher.sh BUILD_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
runs=${BENCH_RUNS:-5}
events=${BENCH_EVENTS:-200000}
idle_events=${BENCH_IDLE_EVENTS:-100000}
cg_events=${BENCH_CALLGRIND_EVENTS:-100000}
backlog=${BENCH_BACKLOG_EVENTS:-1000000}
slow_s=${BENCH_SLOW_S:-0.2}
after_s=${BENCH_AFTER_S:-10}

sluice=$build/sluice
bench=$build/bench/dispatcher
client=$build/bench/invoke_client
for b in "$sluice" "$build/sluice-init" "$bench" "$client"; do
	[ -x "$b" ] || { echo "dispatcher.sh: missing $b (make MODE=release all bench binaries)" >&2; exit 1; }
done
for t in valgrind callgrind_annotate; do
	command -v $t >/dev/null || { echo "dispatcher.sh: no $t (sh tools/deps.sh test)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-disp.XXXXXX")
daemon_pid=""
sampler_pid=""
cleanup() {
	[ -z "$sampler_pid" ] || kill "$sampler_pid" 2>/dev/null || true
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
. "$root/bench/lib.sh"
ms() { date +%s%3N; }

# ---- throughput and latency of the trigger alone ------------------------------------------------
median_by events_per_s events_per_s_runs b1 "$bench" throughput $((events / 2)) 1 1
median_by events_per_s events_per_s_runs b100 "$bench" throughput "$events" 100 1
median_by events_per_s events_per_s_runs b1000 "$bench" throughput "$events" 1000 1
median_by events_per_s events_per_s_runs b100_pf10 "$bench" throughput "$events" 100 10
runs=3
best_of idle_b1 "$bench" closed $((idle_events / 20)) 1
best_of idle_b100 "$bench" closed $((idle_events / 100)) 100
best_of idle_b1000 "$bench" closed $((idle_events / 1000)) 1000

# ---- instructions per event (b100) --------------------------------------------------------------
say "callgrind: $cg_events events at batch 100 (about a minute)"
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$work/callgrind.out" \
	"$bench" callgrind "$cg_events" 100 1 >"$work/callgrind.json" 2>"$work/callgrind.log" ||
	{ tail "$work/callgrind.log" >&2; exit 1; }
callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.out" >"$work/inclusive.txt"
say "callgrind: $(cat "$work/callgrind.json")"

# ---- the daemon with a backlog of events ------------------------------------------------------
p=$(port)
mkdir -p "$work/code/slow"
cp "$root/bench/functions/slow/bootstrap" "$work/code/slow/bootstrap"
python3 - "$work/sluice.json" "$p" "$work" "$slow_s" <<'PY'
import json, sys
out, port, work, slow_s = sys.argv[1:]
cfg = {"listen": "127.0.0.1:" + port, "state_dir": work + "/state", "log_level": "info",
       "spool_max_bytes": 4 << 30,
       "functions": {"slow": {"code": work + "/code/slow", "runtime": "provided.al2023",
                              "handler": "bootstrap.handler", "memory_mb": 128, "timeout_s": 10,
                              "environment": {"SLOW_SLEEP_S": slow_s}}},
       "sources": {"web": {"kind": "http"}},
       "triggers": {"web-slow": {"source": "web", "function": "slow", "batch_size": 100,
                                 "max_batching_window_ms": 20, "max_pending_events": 20000,
                                 "max_pending_bytes": 64 << 20}}}
json.dump(cfg, open(out, "w"), indent=1)
PY
"$sluice" run -c "$work/sluice.json" 2>"$work/daemon.log" &
daemon_pid=$!
wait_ready "$daemon_pid" "$p" "$work/daemon.log"
hp=127.0.0.1:$p
idle_kb=$(status_kb "$daemon_pid" VmRSS)

(
	while kill -0 "$daemon_pid" 2>/dev/null; do
		echo "$(ms) $(status_kb "$daemon_pid" VmRSS)"
		sleep 0.5
	done
) >"$work/rss.samples" 2>/dev/null &
sampler_pid=$!

# Posted in three parts, so the RSS is read when 10 %, 50 % and all of them are accepted.
t0=$(ms)
first=0
: >"$work/milestones"
for part in $((backlog / 10)) $((backlog * 4 / 10)) $((backlog - backlog / 2)); do
	"$client" events "$hp" /events/web "$part" 1000 4 "$first" >>"$work/posts.json"
	first=$((first + part))
	echo "$first $(ms) $(status_kb "$daemon_pid" VmRSS)" >>"$work/milestones"
	say "backlog: $first accepted, daemon RSS $(status_kb "$daemon_pid" VmRSS) kB"
done
t1=$(ms)
sleep "$after_s"
curl -fsS "http://$hp/metrics" >"$work/metrics.txt"
hwm_kb=$(status_kb "$daemon_pid" VmHWM)
end_kb=$(status_kb "$daemon_pid" VmRSS)
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
kill -TERM "$daemon_pid"
rc=0; wait "$daemon_pid" || rc=$?
daemon_pid=""
[ $rc -eq 0 ] || say "warning: daemon exit status $rc after SIGTERM"

# ---- results ------------------------------------------------------------------------------------
python3 - "$work" "$root" "$cg_events" "$backlog" "$((t1 - t0))" "$idle_kb" "$hwm_kb" "$end_kb" \
	"$slow_s" "$after_s" <<'PY'
import json, os, platform, re, subprocess, sys, time
work, root, cg_events, backlog, post_ms, idle_kb, hwm_kb, end_kb, slow_s, after_s = sys.argv[1:]
cg_events, backlog = int(cg_events), int(backlog)
load = lambda name: json.load(open(os.path.join(work, name + ".json")))
mb = lambda kb: round(int(kb) / 1024, 1)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
try:
    rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    if subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        rev += "+changes"
except OSError:
    rev = "?"

# callgrind_annotate --inclusive=yes lists a function once per file its code came from (inlined
# header code separately); the largest entry is the function's inclusive total.
incl = {}
total = None
for line in open(os.path.join(work, "inclusive.txt")):
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+)", line)
    if not m:
        continue
    cost, where = int(m.group(1).replace(",", "")), m.group(2)
    if where == "PROGRAM":
        total = cost
        continue
    fn = where.rsplit(":", 1)[-1]
    incl[fn] = max(incl.get(fn, 0), cost)
per = lambda cost: round(cost / cg_events)
cg = load("callgrind")
if cg["errors"] or total is None or "sl_payload_encode" not in incl:
    sys.exit("dispatcher.sh: the callgrind run failed or its profile is unreadable")
encode = incl["sl_payload_encode"]
size, unref = incl.get("sl_event_size", 0), incl.get("sl_event_unref", 0)
consolidate = incl.get("malloc_consolidate", 0)

modes = {m: load(m) for m in ("b1", "b100", "b1000", "b100_pf10")}
idle = {m: load("idle_" + m) for m in ("b1", "b100", "b1000")}
posts = [json.loads(l) for l in open(os.path.join(work, "posts.json")) if l.strip()]
samples = [l.split() for l in open(os.path.join(work, "rss.samples")) if len(l.split()) == 2]
miles = [l.split() for l in open(os.path.join(work, "milestones")) if l.strip()]
after_first = [int(kb) for t, kb in samples if int(t) >= int(miles[0][1])]
metrics = open(os.path.join(work, "metrics.txt")).read()
metric = lambda pat: float((re.search(pat + r"\s+([\d.e+]+)", metrics) or [0, 0])[1])

r = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "git_rev": rev,
    "machine_cores": os.cpu_count(),
    "machine_cpu": cpu,
    "kernel": platform.release(),
}
for m, d in modes.items():
    r["events_per_s_" + m] = d["events_per_s"]
for m, d in modes.items():
    r["events_per_s_%s_run_min" % m] = min(d["events_per_s_runs"])
    r["events_per_s_%s_run_max" % m] = max(d["events_per_s_runs"])
    r["events_per_cpu_s_" + m] = d["events_per_cpu_s"]
    r["offer_commit_p50_us_" + m] = d["p50_us"]
    r["offer_commit_p99_us_" + m] = d["p99_us"]
    r["peak_rss_mb_" + m] = d["peak_rss_mb"]
    r["events_" + m] = d["events"]
    r["invokes_" + m] = d["invokes"]
for m, d in idle.items():
    r["idle_offer_commit_p50_us_" + m] = d["p50_us"]
    r["idle_offer_commit_p99_us_" + m] = d["p99_us"]
r["payload_bytes_per_event"] = modes["b100"]["payload_bytes_per_event"]
r.update({
    "callgrind_events": cg_events,
    "instructions_per_event_b100": per(total - encode),
    "encode_instructions_per_event_b100": per(encode),
    "total_instructions_per_event_b100": per(total),
    "event_size_instructions_per_event_b100": per(size),
    "event_release_instructions_per_event_b100": per(unref),
    "malloc_consolidate_instructions_per_event_b100": per(consolidate),
    "other_instructions_per_event_b100": per(total - encode - size - unref),
    "backlog_events": backlog,
    "backlog_post_seconds": round(int(post_ms) / 1000, 1),
    "backlog_accept_events_per_s": round(backlog / (int(post_ms) / 1000)),
    "backlog_post_errors": sum(p["errors"] for p in posts),
    "backlog_post_503_retries": sum(p["retries_503"] for p in posts),
    "backlog_function_sleep_s": float(slow_s),
    "backlog_rss_mb_idle": mb(idle_kb),
    "backlog_rss_mb_at_100k": mb(miles[0][2]),
    "backlog_rss_mb_at_500k": mb(miles[1][2]),
    "backlog_rss_mb_at_1m": mb(miles[2][2]),
    "backlog_rss_mb_after": mb(end_kb),
    "backlog_rss_mb_min_from_100k": mb(min(after_first)),
    "backlog_rss_mb_max_from_100k": mb(max(after_first)),
    "backlog_rss_samples": len(samples),
    "backlog_1m_peak_rss_mb": mb(hwm_kb),
    "backlog_delivered_events": int(metric(r'sluice_trigger_events_total\{trigger="web-slow",state="done"\}')),
    "backlog_spool_mb": round(metric(r'sluice_spool_bytes\{source="web"\}') / 2**20, 1),
})
with open(os.path.join(root, "bench/results/dispatcher.json"), "w") as f:
    json.dump(r, f, indent=1)
    f.write("\n")

fmt = lambda n: f"{n:,}"
row = lambda m, label: (f"| {label} | {fmt(r['events_per_s_' + m])} events/s (runs {fmt(r['events_per_s_%s_run_min' % m])}–{fmt(r['events_per_s_%s_run_max' % m])}; "
                        f"{fmt(r['events_per_cpu_s_' + m])} per CPU second) | {r['offer_commit_p50_us_' + m] / 1000:.1f} ms / {r['offer_commit_p99_us_' + m] / 1000:.1f} ms | {r['peak_rss_mb_' + m]} MB |")
irow = lambda m, label: f"| {label} | {r['idle_offer_commit_p50_us_' + m]:.0f} µs / {r['idle_offer_commit_p99_us_' + m]:.0f} µs |"
target = r["instructions_per_event_b100"] < 2000
table = f"""Run {r['date']} on {r['machine_cores']} cores ({r['machine_cpu']}, Linux {r['kernel']}), commit {r['git_rev']}, `make bench-dispatcher` (release build).

| Trigger alone (no-op invoker), {r['events_b100']:,} events a run ({r['events_b1']:,} at batch 1), median of {len(modes['b100']['events_per_s_runs'])} runs | Throughput | Offer → commit p50 / p99 (queued behind 20,000 pending) | Peak RSS (process) |
|---|---|---|---|
{row('b1', 'batch_size 1')}
{row('b100', 'batch_size 100')}
{row('b1000', 'batch_size 1000')}
{row('b100_pf10', 'batch_size 100, parallelization_factor 10 (1000 keys)')}

| One full batch offered at once, nothing queued (p50 / p99 of the event latencies) | Offer → commit |
|---|---|
{irow('b1', 'batch_size 1')}
{irow('b100', 'batch_size 100')}
{irow('b1000', 'batch_size 1000')}

| Instructions per event, batch 100, callgrind ({cg_events:,} events, first offer → last commit, event construction excluded) | Ir / event |
|---|---|
| All of the dispatch | {fmt(r['total_instructions_per_event_b100'])} |
| Payload encoding: `sl_payload_encode` inclusive (**encode_instructions_per_event_b100**) | {fmt(r['encode_instructions_per_event_b100'])} |
| Dispatch without the payload encoding (**instructions_per_event_b100**) | **{fmt(r['instructions_per_event_b100'])}** |
| — of which `sl_event_size` (once an event: attribute lengths and the data text's) | {fmt(r['event_size_instructions_per_event_b100'])} |
| — of which `sl_event_unref` (releasing the events: the event, its attributes, its data text) | {fmt(r['event_release_instructions_per_event_b100'])} |
| — the rest: offer, batcher, checkpoint, lanes, invoke result, commit, libevent, the stub | {fmt(r['other_instructions_per_event_b100'])} |
| glibc `malloc_consolidate`, all callers, encoding included (overlaps the rows above) | {fmt(r['malloc_consolidate_instructions_per_event_b100'])} |

| Daemon with a backlog: http source → trigger (batch 100) → function sleeping {r['backlog_function_sleep_s']} s an invoke | |
|---|---|
| Events posted (1000 a request, 4 connections) | {r['backlog_events']:,} in {r['backlog_post_seconds']} s ({fmt(r['backlog_accept_events_per_s'])}/s accepted; errors {r['backlog_post_errors']}, 503 retries {r['backlog_post_503_retries']}) |
| Daemon RSS idle → at 100k / 500k / 1M accepted → {after_s} s later | {r['backlog_rss_mb_idle']} MB → {r['backlog_rss_mb_at_100k']} / {r['backlog_rss_mb_at_500k']} / {r['backlog_rss_mb_at_1m']} MB → {r['backlog_rss_mb_after']} MB |
| RSS samples every 0.5 s from 100k accepted on: min / max ({r['backlog_rss_samples']} samples in all) | {r['backlog_rss_mb_min_from_100k']} / {r['backlog_rss_mb_max_from_100k']} MB |
| **Peak RSS (VmHWM), backlog_1m_peak_rss_mb** | **{r['backlog_1m_peak_rss_mb']} MB** |
| Delivered by the end / waiting in the spool | {r['backlog_delivered_events']:,} events / {r['backlog_spool_mb']} MB of spool on disk |

Payload: {r['payload_bytes_per_event']} bytes of CloudEvents JSON per event. Target: under 2,000 instructions per event at batch 100 without encoding — {'met' if target else 'NOT met'} ({fmt(r['instructions_per_event_b100'])})."""

path = os.path.join(root, "bench/RESULTS.md")
text = open(path).read()
begin, end = "<!-- dispatcher:begin -->", "<!-- dispatcher:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(path, "w").write(text[:a] + "\n" + table + "\n" + text[b:])
print(json.dumps(r, indent=1))
PY
