"""streams_report.py WORK ROOT EVENTS QUEUE_EVENTS LATENCY_EVENTS RUNS: the results of
bench/streams.sh (its work directory) as bench/results/streams.json and the table between the
streams markers of bench/RESULTS.md."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import run_info, write_json, write_section  # noqa: E402

work, root, events, queue_events, lat_events, runs = sys.argv[1:]


def load(name):
    path = os.path.join(work, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None


# figure prefix -> (connector kind, raw figure file, what the raw tool is)
SOURCES = {
    "kafka": ("kafka", "kafka_raw", "kcat -C (no group), first record out to exit"),
    "redis_streams": ("redis_stream", "redis_streams_raw",
                      "hiredis XREADGROUP COUNT 1000 + XACK a batch"),
    "redis_queue": ("redis_queue", "redis_queue_raw", "hiredis BLMOVE, one message a call"),
}

r = run_info(root)
r.update({"events": int(events), "queue_events": int(queue_events),
          "latency_events": int(lat_events), "runs": int(runs)})
for src, (kind, raw_name, _) in SOURCES.items():
    raw = load(raw_name)
    b100, b1000, lat = load(kind + "_b100"), load(kind + "_b1000"), load(kind + "_latency")
    r[src + "_raw_per_s"] = raw["events_per_s"]
    r[src + "_b100_per_s"] = b100["events_per_s"]
    r[src + "_b1000_per_s"] = b1000["events_per_s"]
    # round by round (raw and Sluice ran one after the other), then the median round
    rounds = sorted(s / w for s, w in zip(b1000["events_per_s_runs"], raw["events_per_s_runs"]))
    r[src + "_ratio_b1000"] = round(rounds[len(rounds) // 2], 2)
    r[src + "_ratio_b1000_rounds"] = [round(x, 2) for x in rounds]
    r[src + "_latency_p50_ms"] = lat["p50_ms"]
    r[src + "_latency_p99_ms"] = lat["p99_ms"]
    r[src + "_peak_rss_mb"] = max(b100["peak_rss_mb"], b1000["peak_rss_mb"])
    for name, d in (("raw", raw), ("b100", b100), ("b1000", b1000)):
        r["%s_%s_per_s_run_min" % (src, name)] = min(d["events_per_s_runs"])
        r["%s_%s_per_s_run_max" % (src, name)] = max(d["events_per_s_runs"])
    r[src + "_b1000_whole_run_per_s"] = b1000["whole_run_per_s"]
    r[src + "_daemon_cpu_s_b1000"] = b1000["daemon_cpu_s"]
    r[src + "_latency_n"] = lat["n"]
fetch10 = load("kafka_latency_fetch10")
r["kafka_latency_fetch_wait_10ms_p50_ms"] = fetch10["p50_ms"]
r["kafka_latency_fetch_wait_10ms_p99_ms"] = fetch10["p99_ms"]
group = load("kafka_raw_group")
r["kafka_raw_group_per_s"] = group["events_per_s"]
r["kafka_kmock_cpu_s_b1000"] = load("kafka_b1000")["kmock_cpu_s"]
r["redis_queue_raw_rpop_per_s"] = load("redis_queue_raw_rpop")["events_per_s"]
write_json(root, "streams", r)


# perf report lines: "  12.34%  dso  [.] symbol" (symbols) or "  12.34%  dso" (libraries)
def perf_rows(name, limit):
    rows = []
    for line in open(os.path.join(work, name)):
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s*(?:\[.\]\s+(.*))?$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), (m.group(3) or "").strip()))
    return rows[:limit]


fmt = lambda n: "–" if n is None else f"{n:,}"
ms = lambda n: "–" if n is None else f"{n:.1f} ms"


def row(src):
    raw_tool = SOURCES[src][2]
    rounds = ", ".join(f"{x}" for x in r[src + "_ratio_b1000_rounds"])
    return (f"| {src} | {fmt(r[src + '_raw_per_s'])} ({raw_tool}) | "
            f"{fmt(r[src + '_b100_per_s'])} | {fmt(r[src + '_b1000_per_s'])} | "
            f"**{r[src + '_ratio_b1000']}×** ({rounds}) | {ms(r[src + '_latency_p50_ms'])} / "
            f"{ms(r[src + '_latency_p99_ms'])} | {r[src + '_peak_rss_mb']} MB |")


sym = perf_rows("perf_sym.txt", 15)
dso = perf_rows("perf_dso.txt", 8)
k1000 = load("kafka_b1000")
table = f"""Run {r['date']} on {r['machine_cores']} cores ({r['machine_cpu']}, Linux {r['kernel']}), commit {r['git_rev']}, `make bench-streams` (release build); median of {runs} rounds, each a raw run, a Sluice batch-1000 run and a Sluice batch-100 run one after the other; the ratio is the median of the rounds' ratios (all of them in brackets). Sluice's records/s are in steady state: from 10 % to 90 % of the records done.

| Source | Raw consumer, records/s | Sluice batch 100 | Sluice batch 1000 | Ratio b1000 ÷ raw (each round) | Latency p50 / p99 (1 record / 10 ms, window 0) | Daemon peak RSS |
|---|---|---|---|---|---|---|
{row('kafka')}
{row('redis_streams')}
{row('redis_queue')}

Records: {int(events):,} Kafka records in 12 partitions and {int(events):,} stream entries in 4 streams (shards; about 25 bytes of payload each), {int(queue_events):,} queue messages. Context: kcat in a consumer group (`-G`, as Sluice reads; join excluded) {fmt(r['kafka_raw_group_per_s'])}/s; draining the queue with `RPOP key 1000` {fmt(r['redis_queue_raw_rpop_per_s'])}/s. Spread of the runs (min–max records/s): Kafka raw {fmt(r['kafka_raw_per_s_run_min'])}–{fmt(r['kafka_raw_per_s_run_max'])}, b100 {fmt(r['kafka_b100_per_s_run_min'])}–{fmt(r['kafka_b100_per_s_run_max'])}, b1000 {fmt(r['kafka_b1000_per_s_run_min'])}–{fmt(r['kafka_b1000_per_s_run_max'])}; Redis streams raw {fmt(r['redis_streams_raw_per_s_run_min'])}–{fmt(r['redis_streams_raw_per_s_run_max'])}, b1000 {fmt(r['redis_streams_b1000_per_s_run_min'])}–{fmt(r['redis_streams_b1000_per_s_run_max'])}. Whole runs at batch 1000 (first batch in to last answer, with the last partial batches waiting out the 500 ms batching window): Kafka {fmt(r['kafka_b1000_whole_run_per_s'])}/s, Redis streams {fmt(r['redis_streams_b1000_whole_run_per_s'])}/s, queue {fmt(r['redis_queue_b1000_whole_run_per_s'])}/s. CPU in the kept Kafka batch-1000 run: daemon {k1000['daemon_cpu_s']} s, mock cluster {k1000['kmock_cpu_s']} s, over {k1000['seconds']} s of delivery on 2 cores. Latency samples: {r['kafka_latency_n']} Kafka records. Kafka latency with the consumer property `fetch.wait.max.ms` 10 instead of the default 500 (the mock cluster holds an empty fetch that long even when a record arrives; a real broker answers at once): {ms(r['kafka_latency_fetch_wait_10ms_p50_ms'])} / {ms(r['kafka_latency_fetch_wait_10ms_p99_ms'])}.

Profile of the daemon during one more Kafka batch-1000 run (`perf record -g --no-inherit -F 499`: its own threads, not the runtimes; self time):

| Library | Share |
|---|---|
""" + "\n".join(f"| {d} | {p:.1f} % |" for p, d, _ in dso) + """

| Symbol (library) | Share |
|---|---|
""" + "\n".join(f"| `{s}` ({d}) | {p:.1f} % |" for p, d, s in sym)

write_section(root, "streams", table)
print(json.dumps(r, indent=1))
