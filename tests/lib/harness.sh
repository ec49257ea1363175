# harness.sh: sourced (by bash) from tests/integration/test_*.sh.
#
# A test script makes a config from the base below plus its own JSON merge patches, starts the real
# daemon on a free port in a temp dir, drives it with curl, and reports one line per case:
#     ok NAME
#     not ok NAME - reason
# At exit the harness stops the daemon (by pid), fails the script if any daemon log holds an
# error-level line the script did not declare with h_expect_error (or any sanitizer report), kills
# runtime processes the daemon left behind, removes the temp dir, and exits 1 if any case failed.
#
# Placeholders in patches: @TMP@ (the temp dir), @FIX@ (tests/fixtures/integration), @ROOT@ (the
# repo), @RIC@ (the aws-lambda-ric build), @PORT@ (the daemon's port), @TAG@.
#
#   h_config '{"functions":{"f":{"code":"@FIX@/recorder"}}}' ...   (re)write $H_CONF
#   h_start [ARGS]           start `sluice run -c $H_CONF ARGS`, wait for /healthz
#   h_stop [SIGNAL] [SECS]   signal the daemon and reap it: $H_EXIT
#   h_node_start NAME [PATCH]  another node on $H_CONF (+PATCH); h_node_stop NAME [SIGNAL]
#   h_post SOURCE CTYPE DATA [CURL ARGS]   POST /events/SOURCE: $H_STATUS, body in $H_RESP
#   h_wait_log REGEX [COUNT] [SECS]        wait until the logs hold COUNT matching lines
#   h_wait SECS CMD...       poll CMD until it succeeds
#   h_eq / h_match / h_true  assertions that print ok / not ok
set -u

H_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
H_BUILD=${SLUICE_BUILD:-$H_ROOT/build/asan}
case "$H_BUILD" in /*) ;; *) H_BUILD=$H_ROOT/$H_BUILD ;; esac
SLUICE=$H_BUILD/sluice
H_PY="python3 $H_ROOT/tests/lib/h.py"
H_FIX=$H_ROOT/tests/fixtures/integration
H_RIC=$(sh "$H_ROOT/tools/ric-dir.sh")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

H_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it.XXXXXX")
H_TAG=sluice-it-$(basename "$H_TMP")  # in the daemon's and the runtimes' environment
H_REC=$H_TMP/rec
mkdir -p "$H_REC"
H_CONF=$H_TMP/sluice.json
H_RESP=$H_TMP/resp.body
H_HDRS=$H_TMP/resp.headers
H_PID=""
H_PORT=""
H_URL=""
H_LOG=""
H_EXIT=""
H_STATUS=""
H_STARTS=0
H_FAILS=0
H_BG_PIDS=""
H_EXPECTED_ERRORS=()
H_AT_EXIT=()   # commands run at exit once the daemon is stopped (services the test started)
T=$'\t'   # for the tab-separated REPORT fields

h_ok() { echo "ok $1"; }
h_not_ok() { echo "not ok $1 - $2"; H_FAILS=$((H_FAILS + 1)); }
h_note() { echo "# $*"; }

# h_eq NAME EXPECTED ACTUAL
h_eq() {
	if [ "$2" = "$3" ]; then h_ok "$1"; else h_not_ok "$1" "expected '$2', got '$3'"; fi
}
# h_match NAME EXTENDED_REGEX ACTUAL
h_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then h_ok "$1"
	else h_not_ok "$1" "expected a match for /$2/, got '$(printf '%s' "$3" | head -c 300)'"; fi
}
# h_true NAME REASON CMD...: ok when CMD succeeds, else not ok with REASON. REASON is expanded
# again when CMD has failed, so a single-quoted '$(h_received_count) events' tells the state after
# the wait, not before it.
h_true() {
	local name=$1 reason=$2; shift 2
	local again
	if "$@"; then h_ok "$name"; return; fi
	again=$(eval "echo \"$reason\"" 2>/dev/null) || again=$reason
	h_not_ok "$name" "$again"
}
# h_bail NAME REASON: a failure that makes the rest of the script meaningless
h_bail() { h_not_ok "$1" "$2"; exit 1; }

# Declare an error-level daemon log line this test provokes on purpose (extended regex).
h_expect_error() { H_EXPECTED_ERRORS+=("$1"); }
# h_at_exit CMD: run CMD (no arguments) at exit, after the daemon was stopped
h_at_exit() { H_AT_EXIT+=("$1"); }

h_free_port() { $H_PY port; }

# h_config PATCH...: write $H_CONF = the base config (listen on a free port, state dir in the temp
# dir) plus every patch given so far, in order (a later call adds to the earlier ones, so a test
# can restart the daemon with one setting changed). Functions get RECORD_DIR and SLUICE_IT_TAG.
H_PATCHES=()
h_config() {
	[ -n "$H_PORT" ] || H_PORT=$(h_free_port)
	H_URL=http://127.0.0.1:$H_PORT
	H_PATCHES+=("$@")
	local subst
	subst=$(printf '{"TMP":"%s","FIX":"%s","ROOT":"%s","RIC":"%s","PORT":"%s","TAG":"%s"}' \
		"$H_TMP" "$H_FIX" "$H_ROOT" "$H_RIC" "$H_PORT" "$H_TAG")
	$H_PY config "$H_CONF" "$subst" "${H_PATCHES[@]}" || h_bail config "could not write the config"
}

# h_start [ARGS]: start the daemon on $H_CONF; wait until GET /healthz answers 200.
h_start() {
	[ -x "$SLUICE" ] || h_bail start "no daemon binary at $SLUICE"
	H_STARTS=$((H_STARTS + 1))
	H_LOG=$H_TMP/daemon.$H_STARTS.log
	SLUICE_IT_TAG=$H_TAG "$SLUICE" run -c "$H_CONF" "$@" >>"$H_TMP/daemon.stdout" 2>"$H_LOG" &
	H_PID=$!
	local i
	for i in $(seq 1 ${H_READY_TRIES:-300}); do
		if ! h_alive "$H_PID"; then
			wait "$H_PID"; H_EXIT=$?; H_PID=""
			h_tail_log
			h_bail start "daemon exited with status $H_EXIT before it was ready"
		fi
		if curl -fsS -o /dev/null --max-time 2 "$H_URL/healthz" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	h_tail_log
	h_bail start "daemon not ready within $((${H_READY_TRIES:-300} / 10)) s"
}

# More nodes, for scale-out tests. h_node_start NAME [PATCH]: another daemon on $H_CONF plus PATCH,
# with its own port, state dir ($H_TMP/state-NAME: its own node id) and record dir
# ($H_TMP/rec-NAME), logging to daemon.NAME.log (checked for errors like the others); waits for
# its /healthz. Sets H_NODE_PID, ${H_NODE_PIDS[NAME]} and ${H_NODE_URLS[NAME]}.
# h_node_stop NAME [SIGNAL]: signal it and reap it (SIGKILL after 20 s), status in H_EXIT. Nodes
# still running at exit are stopped with SIGTERM and must exit 0.
declare -A H_NODE_PIDS=() H_NODE_URLS=()
h_node_start() {
	local name=$1 patch=${2:-"{}"} port i
	port=$(h_free_port)
	mkdir -p "$H_TMP/rec-$name"
	$H_PY patch "$H_CONF" "$H_TMP/$name.json" "{\"listen\": \"127.0.0.1:$port\",
		\"state_dir\": \"$H_TMP/state-$name\"}" "$patch" || h_bail "$name" "no config"
	python3 -c 'import json, sys
cfg = json.load(open(sys.argv[1]))
for fn in cfg.get("functions", {}).values():
    fn.setdefault("environment", {})["RECORD_DIR"] = sys.argv[2]
json.dump(cfg, open(sys.argv[1], "w"))' "$H_TMP/$name.json" "$H_TMP/rec-$name"
	SLUICE_IT_TAG=$H_TAG "$SLUICE" run -c "$H_TMP/$name.json" >/dev/null \
		2>>"$H_TMP/daemon.$name.log" &
	H_NODE_PID=$!
	H_NODE_PIDS[$name]=$H_NODE_PID
	H_NODE_URLS[$name]=http://127.0.0.1:$port
	for i in $(seq 1 300); do
		curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null &&
			return 0
		h_alive "$H_NODE_PID" || break
		sleep 0.1
	done
	h_bail "$name" "node $name not ready"
}
h_node_stop() {
	local name=$1 pid=${H_NODE_PIDS[$1]:-} i
	[ -n "$pid" ] || { H_EXIT="not running"; return; }
	kill -s "${2:-TERM}" "$pid" 2>/dev/null
	for i in $(seq 1 200); do h_alive "$pid" || break; sleep 0.1; done
	h_alive "$pid" && kill -s KILL "$pid"
	wait "$pid" 2>/dev/null
	H_EXIT=$?
	unset "H_NODE_PIDS[$name]"
}

# h_alive PID: the process exists and is not a zombie.
h_alive() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# h_stop [SIGNAL] [SECS]: signal the daemon, wait for it (SIGKILL after SECS), status in H_EXIT
# ("timeout" when it had to be killed). The daemon is this shell's child, so `wait` returns the
# moment it exits; a watchdog kills it after SECS, first writing the daemon's thread stacks into
# the log (a daemon that does not stop is a bug). No polling of /proc: a transient failure to
# read a process's status must not pass for a hang.
h_stop() {
	local sig=${1:-TERM} secs=${2:-20} watchdog marker=$H_TMP/stop-timeout
	[ -n "$H_PID" ] || { H_EXIT="not running"; return; }
	rm -f "$marker"
	kill -s "$sig" "$H_PID" 2>/dev/null
	sh -c '
		secs=$1 pid=$2 marker=$3 sig=$4
		sleep "$secs" &
		nap=$!
		trap "kill $nap 2>/dev/null; exit 0" TERM
		wait "$nap"
		state=$(sed -n "s/^State:[[:space:]]*\([A-Z]\).*/\1/p" "/proc/$pid/status" 2>/dev/null)
		case $state in ""|Z|X) exit 0 ;; esac
		: >"$marker"
		if [ "$sig" != KILL ] && command -v gdb >/dev/null; then
			echo "# daemon $pid still alive $secs s after SIG$sig; its stacks:"
			timeout 30 gdb -p "$pid" -batch -ex "thread apply all bt" 2>&1 |
				grep -E "^(#|Thread)" | sed "s/^/#   /"
		fi
		kill -s KILL "$pid" 2>/dev/null' watchdog "$secs" "$H_PID" "$marker" "$sig" &
	watchdog=$!
	wait "$H_PID" 2>/dev/null
	H_EXIT=$?
	# SIGKILL: until it has exec'd sh, the watchdog is a fork of this shell, and a fork given
	# SIGTERM would run this script's traps (exit 130, then the EXIT trap's teardown)
	kill -s KILL "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	[ -e "$marker" ] && H_EXIT=timeout
	H_PID=""
}
h_kill9() { h_stop KILL 5; }

# h_kill9_when_acked AT ACKED_FILE TOTAL [WHILE_POSTING]: once ACKED_FILE holds AT lines, SIGKILL
# the daemon, check it died of SIGKILL and its sandboxes exit, and restart it. With WHILE_POSTING
# 1 (the default) the kill must also land before all TOTAL events were acknowledged.
h_kill9_when_acked() {
	local at=$1 acked=$2 total=$3 while_posting=${4:-1} n pid i
	# polled every 10 ms, not h_wait's 100: the clients acknowledge thousands of events a second,
	# and the kill must land while they still post
	for i in $(seq 1 4000); do
		[ "$(h_lines "$acked")" -ge "$at" ] && break
		sleep 0.01
	done
	[ "$(h_lines "$acked")" -ge "$at" ] ||
		h_not_ok "kill at $at" "only $(h_lines "$acked") events acknowledged after 40 s"
	n=$(h_lines "$acked")
	h_note "SIGKILL with $n events acknowledged, $(h_received_count) delivered"
	h_kill9
	[ "$while_posting" = 0 ] ||
		h_true "killed while clients were posting (at about $at)" \
			"all $total were acknowledged already" test "$n" -lt "$total"
	h_eq "daemon killed by SIGKILL (at about $at)" 137 "$H_EXIT"
	h_true "sandboxes of the killed daemon exit (at about $at)" \
		'still running after 5 s: $(h_describe_pids $(h_leftovers))' h_wait 5 h_no_leftovers
	for pid in $(h_leftovers); do kill -s KILL "$pid"; done
	h_start
}

# Processes whose environment carries this test's tag (the daemon's agents and their runtimes),
# other than the daemons themselves.
h_leftovers() {
	local f pid
	for f in /proc/[0-9]*/environ; do
		pid=${f#/proc/}; pid=${pid%/environ}
		[ "$pid" = "${H_PID:-none}" ] && continue
		[[ " ${H_NODE_PIDS[*]} " == *" $pid "* ]] && continue
		[ "$pid" = $$ ] && continue
		if { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qx "SLUICE_IT_TAG=$H_TAG"; then
			h_alive "$pid" && echo "$pid"
		fi
	done
}
h_no_leftovers() { [ -z "$(h_leftovers)" ]; }
h_describe_pids() {
	local p
	for p in "$@"; do
		printf '%s(%s) ' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 80)"
	done
}

# h_post SOURCE CONTENT_TYPE DATA [CURL ARGS]: DATA is a string or @file. Sets H_STATUS; the body
# is in $H_RESP and the headers in $H_HDRS.
h_post() {
	local src=$1 ctype=$2 data=$3; shift 3
	H_STATUS=$(curl -sS -o "$H_RESP" -D "$H_HDRS" -w '%{http_code}' --max-time 30 \
		-H "Content-Type: $ctype" --data-binary "$data" "$@" "$H_URL/events/$src")
}
# h_request METHOD PATH [CURL ARGS]: any request to the daemon; same outputs as h_post.
h_request() {
	local method=$1 path=$2; shift 2
	H_STATUS=$(curl -sS -o "$H_RESP" -D "$H_HDRS" -w '%{http_code}' --max-time 30 \
		-X "$method" "$@" "$H_URL$path")
}
# h_json PATH [FILE]: a value from a JSON file (default: the last response body).
h_json() { $H_PY get "${2:-$H_RESP}" "$1"; }
# h_header NAME: a header of the last response (value only, no CR).
h_header() { sed -n "s/^$1: *//Ip" "$H_HDRS" | tr -d '\r' | tail -n 1; }

# Logs of every start, in order.
h_logs() { cat "$H_TMP"/daemon.*.log 2>/dev/null; }
# h_count_log REGEX: matching lines over all logs
h_count_log() { h_logs | grep -Ec -- "$1"; }
# h_wait SECS CMD...: poll CMD every 0.1 s until it succeeds; 1 when SECS ran out.
h_wait() {
	local secs=$1 i; shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
h_log_has() { [ "$(h_count_log "$1")" -ge "${2:-1}" ]; }
# h_wait_log REGEX [COUNT] [SECS]
h_wait_log() { h_wait "${3:-20}" h_log_has "$1" "${2:-1}"; }

# The recorder fixture's view: ids of the CloudEvents it got, and its invocations.
h_received() { $H_PY received "$H_REC" "$@"; }
h_received_ids() { h_received "$@" | cut -f1; }
h_invocations() { $H_PY invocations "$H_REC" "$@"; }
h_received_count() { h_received "$@" | wc -l | tr -d ' '; }
h_has_received() { [ "$(h_received_count)" -ge "$1" ]; }
# h_lines FILE: lines in FILE, 0 when it does not exist
h_lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
h_file_lines_at_least() { [ "$(h_lines "$1")" -ge "$2" ]; }

h_tail_log() {
	[ -n "$H_LOG" ] && [ -f "$H_LOG" ] || return 0
	echo "# ---- last lines of $(basename "$H_LOG")"
	tail -n "${1:-30}" "$H_LOG" | sed 's/^/# /'
}

# Error-level lines not declared with h_expect_error, and every sanitizer report line.
h_unexpected_errors() {
	local p
	h_logs | grep -E '^\[[^]]*\] ERROR |"level" *: *"error"' | while IFS= read -r line; do
		for p in "${H_EXPECTED_ERRORS[@]+"${H_EXPECTED_ERRORS[@]}"}"; do
			printf '%s' "$line" | grep -Eq -- "$p" && continue 2
		done
		printf '%s\n' "$line"
	done
	h_logs | grep -E 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
}

h_teardown() {
	local rc=$? bad left pid cmd name
	trap - EXIT
	# SIGKILL: a background subshell given SIGTERM would run this script's traps
	for pid in $H_BG_PIDS; do kill -s KILL "$pid" 2>/dev/null; done
	if [ -n "$H_PID" ]; then
		h_stop TERM 15
		[ "$H_EXIT" = 0 ] || h_not_ok teardown-stop "daemon exit status $H_EXIT after SIGTERM, expected 0"
	fi
	for name in "${!H_NODE_PIDS[@]}"; do
		h_alive "${H_NODE_PIDS[$name]}" || continue  # the test ended it itself
		h_node_stop "$name"
		[ "$H_EXIT" = 0 ] || h_not_ok "teardown-stop-$name" "node exit status $H_EXIT after SIGTERM, expected 0"
	done
	for cmd in "${H_AT_EXIT[@]}"; do $cmd; done
	if [ "$H_STARTS" -gt 0 ]; then
		bad=$(h_unexpected_errors)
		if [ -n "$bad" ]; then
			h_not_ok no-unexpected-errors "$(printf '%s\n' "$bad" | wc -l) unexpected error line(s), first: $(printf '%s\n' "$bad" | head -n 1)"
			printf '%s\n' "$bad" | head -n 20 | sed 's/^/# /'
		else
			h_ok no-unexpected-errors
		fi
		# Runtime processes still alive after the daemon is gone are leaks; end them by pid.
		h_wait 5 h_no_leftovers || true
		left=$(h_leftovers)
		if [ -n "$left" ]; then
			h_not_ok no-leftover-sandboxes "processes left after the daemon exited: $(h_describe_pids $left)"
			for pid in $left; do kill -s KILL "$pid" 2>/dev/null; done
		fi
	fi
	[ "$H_FAILS" -eq 0 ] && [ "$rc" -eq 0 ] || h_tail_log 40
	if [ "${SLUICE_KEEP_TMP:-0}" = 1 ]; then echo "# kept $H_TMP"; else rm -rf "$H_TMP"; fi
	[ "$H_FAILS" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap h_teardown EXIT
trap 'exit 130' INT TERM
