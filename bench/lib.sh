# lib.sh: helpers shared by the benchmark scripts (sourced; they set $root, $work and $runs).

say() { echo "bench: $*" >&2; }
port() { python3 "$root/tests/lib/h.py" port; }

# best_of NAME CMD...: run CMD $runs times; keep the output line with the median p50 in
# $work/NAME.json (with every run's p50 in "p50_runs_us").
best_of() {
	name=$1; shift
	: >"$work/$name.runs"
	i=0
	while [ $i -lt "$runs" ]; do
		"$@" >>"$work/$name.runs"
		i=$((i + 1))
	done
	python3 - "$work/$name.runs" >"$work/$name.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows.sort(key=lambda r: r["p50_us"])
best = dict(rows[len(rows) // 2])
best["p50_runs_us"] = [r["p50_us"] for r in rows]
print(json.dumps(best))
PY
	say "$name: $(cat "$work/$name.json")"
}
