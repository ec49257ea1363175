# lib.sh: helpers shared by the benchmark scripts (sourced; they set $root, $work and $runs).

say() { echo "bench: $*" >&2; }
port() { python3 "$root/tests/lib/h.py" port; }

# best_of NAME CMD...: run CMD $runs times; keep the output line with the median p50 in
# $work/NAME.json (with every run's p50 in "p50_runs_us").
best_of() {
	median_by p50_us p50_runs_us "$@"
}

# median_by KEY RUNS_FIELD NAME CMD...: run CMD $runs times; keep the output line with the median
# KEY in $work/NAME.json (with every run's KEY in RUNS_FIELD).
median_by() {
	key=$1; field=$2; name=$3; shift 3
	: >"$work/$name.runs"
	i=0
	while [ $i -lt "$runs" ]; do
		"$@" >>"$work/$name.runs"
		i=$((i + 1))
	done
	keep_median "$key" "$field" "$name"
}

# keep_median KEY RUNS_FIELD NAME: of the JSON lines in $work/NAME.runs (one a run), keep the one
# with the median KEY in $work/NAME.json, with every run's KEY in RUNS_FIELD in run order.
keep_median() {
	python3 - "$work/$3.runs" "$1" "$2" >"$work/$3.json" <<'PY'
import json, sys
path, key, field = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
best = dict(sorted(rows, key=lambda r: r[key])[len(rows) // 2])
best[field] = [r[key] for r in rows]
print(json.dumps(best))
PY
	say "$3: $(cat "$work/$3.json")"
}

# status_kb PID FIELD: a "FIELD: N kB" line of /proc/PID/status (VmRSS, VmHWM), in kB.
status_kb() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"
}

# wait_ready PID PORT LOG: wait (10 s at most) until the daemon PID logged "listening on" and
# answers /healthz on 127.0.0.1:PORT; else show the end of LOG and exit.
wait_ready() {
	i=0
	until grep -q "listening on" "$3" && curl -fsS -o /dev/null "http://127.0.0.1:$2/healthz"; do
		i=$((i + 1))
		[ $i -lt 100 ] && kill -0 "$1" 2>/dev/null || { tail "$3" >&2; exit 1; }
		sleep 0.1
	done
}
