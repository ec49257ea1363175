"""report.py: what the benchmark scripts' result writers share (imported with bench/ on sys.path).

run_info(root)                  when and where a run happened: date, git_rev, cores, cpu, kernel
write_section(root, name, text) replace bench/RESULTS.md between <!-- NAME:begin --> and
                                <!-- NAME:end --> (the markers must exist)
write_json(root, name, r)       bench/results/NAME.json, one flat object
percentile(sorted_values, p)    nearest-rank percentile of an ascending list
steady_rate(rows, lo, hi)       records/s between the moments lo and hi of all records were
                                done, from (time_ms, records) rows (c_runtime's timelines)
"""
import json
import os
import platform
import subprocess
import time


def run_info(root):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        if subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                          capture_output=True, text=True).stdout.strip():
            rev += "+changes"
    except OSError:
        rev = "?"
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_rev": rev,
        "machine_cores": os.cpu_count(),
        "machine_cpu": cpu,
        "kernel": platform.release(),
    }


def write_section(root, name, text):
    path = os.path.join(root, "bench/RESULTS.md")
    doc = open(path).read()
    begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
    a, b = doc.index(begin) + len(begin), doc.index(end)
    open(path, "w").write(doc[:a] + "\n" + text + "\n" + doc[b:])


def write_json(root, name, r):
    os.makedirs(os.path.join(root, "bench/results"), exist_ok=True)
    with open(os.path.join(root, "bench/results", name + ".json"), "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")


def percentile(values, p):
    if not values:
        return None
    k = max(0, min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


def steady_rate(rows, lo=0.1, hi=0.9):
    """Records/s from when the fraction lo of all records was done to when hi was: the rate in
    steady state, without the start (group join, first fetches) or the end (the last partial
    batches waiting out max_batching_window_ms). rows: (time_ms, records) pairs, any order."""
    rows = sorted(rows)
    total = sum(n for _, n in rows)
    done, start = 0, None
    for t, n in rows:
        done += n
        if start is None and done >= lo * total:
            start = (t, done)
        if done >= hi * total:
            return round((done - start[1]) / ((t - start[0]) / 1000)) if t > start[0] else None
    return None
