#!/usr/bin/env bash
# `sluice validate`: exit 0 on good configs, exit 2 with "FILE: JSON PATH: what was expected" on
# bad ones; `sluice run` on a bad config exits 2 without listening.
. "$(dirname "$0")/../lib/harness.sh"

good='{
  "functions": {"f": {"code": "@FIX@/recorder", "handler": "h.h"}},
  "sources": {"web": {"kind": "http"}, "tick": {"kind": "schedule", "expression": "rate(1 minute)"},
              "noon": {"kind": "schedule", "expression": "cron(0 12 * * ? *)"}},
  "triggers": {"t": {"source": "web", "function": "f", "batch_size": 10}},
  "destinations": {"d": {"kind": "file", "path": "d.jsonl"}}
}'
h_config "$good"
cp "$H_CONF" "$H_TMP/good.json"

# validate NAME FILE: run `sluice validate FILE`; sets rc, out (stdout), err (stderr)
validate() {
	out=$("$SLUICE" validate "$2" 2>"$H_TMP/err")
	rc=$?
	err=$(cat "$H_TMP/err")
}
validate good "$H_TMP/good.json"
h_eq "good config: exit status" 0 "$rc"
h_eq "good config: nothing on stderr" "" "$err"
validate shipped "$H_ROOT/config/sluice.json"
h_eq "shipped config/sluice.json: exit status" 0 "$rc"

# bad NAME PATCH EXPECTED_STDERR_REGEX: the good config plus PATCH must be refused with exit 2
n=0
bad() {
	local name=$1 patch=$2 want=$3 f
	n=$((n + 1))
	f=$H_TMP/bad$n.json
	$H_PY patch "$H_TMP/good.json" "$f" "$patch"
	validate "$name" "$f"
	h_eq "$name: exit status" 2 "$rc"
	h_match "$name: message" "^$f: $want" "$err"
}
bad "batch_size 0" '{"triggers":{"t":{"batch_size":0}}}' \
	'\$\.triggers\.t\.batch_size: expected an integer from 1 to 10000, got 0'
bad "batch_size string" '{"triggers":{"t":{"batch_size":"ten"}}}' '\$\.triggers\.t\.batch_size: expected an integer'
bad "unknown key" '{"functions":{"f":{"memroy_mb":128}}}' '\$\.functions\.f\.memroy_mb: '
bad "memory too small" '{"functions":{"f":{"memory_mb":64}}}' '\$\.functions\.f\.memory_mb: expected an integer from 128 to 10240, got 64'
bad "timeout too large" '{"functions":{"f":{"timeout_s":901}}}' '\$\.functions\.f\.timeout_s: expected an integer from 1 to 900, got 901'
bad "unknown function" '{"triggers":{"t":{"function":"nope"}}}' '\$\.triggers\.t\.function: .*nope'
bad "unknown source" '{"triggers":{"t":{"source":"nope"}}}' '\$\.triggers\.t\.source: .*nope'
bad "unknown destination" '{"triggers":{"t":{"on_failure":"nope"}}}' '\$\.triggers\.t\.on_failure: .*nope'
bad "unknown source kind" '{"sources":{"web":{"kind":"carrier-pigeon"}}}' '\$\.sources\.web\.kind: '
bad "bad schedule" '{"sources":{"tick":{"expression":"every minute"}}}' '\$\.sources\.tick\.expression: '
bad "bad payload_format" '{"triggers":{"t":{"payload_format":"xml"}}}' '\$\.triggers\.t\.payload_format: '
bad "missing code" '{"functions":{"f":{"code":null}}}' '\$\.functions\.f(\.code)?: .*code'

printf '{\n  "functions": {\n    "f": {"code": "x",}\n  }\n}\n' >"$H_TMP/syntax.json"
validate "syntax error" "$H_TMP/syntax.json"
h_eq "syntax error: exit status" 2 "$rc"
h_match "syntax error: file and line" "^$H_TMP/syntax.json:(.*)?3" "$err"

validate "missing file" "$H_TMP/nonexistent.json"
h_true "missing file: non-zero exit (got $rc)" "exit 0" test "$rc" -ne 0
h_match "missing file: names the file" "nonexistent\\.json" "$err"

# Several errors are all reported, one per line.
bad "two errors" '{"triggers":{"t":{"batch_size":0,"parallelization_factor":11}}}' '\$\.triggers\.t\.'
h_eq "two errors: two lines" 2 "$(printf '%s\n' "$err" | grep -c "^$H_TMP/bad$n.json: ")"

# The daemon refuses a bad config with the same message and exit 2, before listening.
"$SLUICE" run -c "$H_TMP/bad1.json" 2>"$H_TMP/run.err" &
pid=$!
h_wait 10 eval '! h_alive $pid'
if h_alive $pid; then kill -s KILL $pid; h_not_ok "run bad config: exits" "still running after 10 s"; fi
wait $pid
h_eq "run bad config: exit status" 2 "$?"
h_match "run bad config: message" 'batch_size: expected an integer from 1 to 10000, got 0' "$(cat "$H_TMP/run.err")"
h_true "run bad config: did not listen" "listening line printed" \
	eval '! grep -q "listening on" "$H_TMP/run.err"'
