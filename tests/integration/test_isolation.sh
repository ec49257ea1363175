#!/usr/bin/env bash
# Isolation of container sandboxes in the real daemon: hostile functions (tests/fixtures/
# integration/hostile) try to read another function's code and host files, reach the network,
# write outside /tmp, fork-bomb and exhaust memory; each attempt fails inside its own container
# while an innocent function (the recorder) keeps answering between them. At the end the daemon
# exits 0 on SIGTERM and none of its containers is left.
# The driver is SLUICE_IT_SANDBOX: oci (default; runc) or docker (test_isolation_docker.sh: a
# Podman API service this script starts). Needs root, runc, and podman for docker (make test
# installs them).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/podman.sh"

SANDBOX=${SLUICE_IT_SANDBOX:-oci}
RUNC=$(PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin command -v runc)
if [ "$(id -u)" != 0 ] || [ -z "$RUNC" ]; then
	h_bail "set-up" "needs root and runc (make test installs runc; run it as root)"
fi
extra=""
if [ "$SANDBOX" = docker ]; then
	command -v podman >/dev/null || h_bail "set-up" "needs podman (make test installs it)"
	h_at_exit pm_stop
	pm_start "$H_TMP/podman" "$H_ROOT" || h_bail "set-up" "podman service did not start"
	extra=", \"docker_socket\": \"$PM_SOCK\""
fi

# a user namespace's root is an "other" user to the host: it must reach the state dir (mktemp's
# 0700 would keep oci sandboxes in the host's user namespace)
chmod 755 "$H_TMP"

h_config "$(sed "s/@SANDBOX@/$SANDBOX/g" <<JSON
{ "functions": {
    "innocent": {"code": "@FIX@/recorder", "handler": "rec.handler", "sandbox": "@SANDBOX@",
                 "memory_mb": 128, "timeout_s": 5, "environment": {"RECORD_DIR": "/tmp"}},
    "snoop": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "@SANDBOX@", "memory_mb": 128,
              "timeout_s": 5},
    "bomb": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "@SANDBOX@", "memory_mb": 1024,
             "timeout_s": 6},
    "hog": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "@SANDBOX@", "memory_mb": 128,
            "timeout_s": 15}
  }$extra
}
JSON
)"
h_start
daemon_pid=$H_PID

# inv FUNCTION JSON: synchronous invoke; body in $H_RESP
inv() { h_request POST "/2015-03-31/functions/$1/invocations" -d "$2"; }
body() { cat "$H_RESP"; }
# innocent LABEL: the innocent function answers its event back
innocent() {
	inv innocent "{\"n\":\"$1\"}"
	h_match "innocent answers ($1)" '^200 \{"ok":true,"events":0,"bytes":[0-9]+,"echo":\{"n":"'"$1"'"\}\}$' \
		"$H_STATUS $(h_header X-Amz-Function-Error)$(body)"
}
host_procs() { ls -d /proc/[0-9]* 2>/dev/null | wc -l; }
# ns_procs NS: host processes in the pid namespace NS ("pid:[N]"); 0 for an empty NS
ns_procs() {
	python3 -c 'import glob, os, sys
n = 0
for f in glob.glob("/proc/[0-9]*/ns/pid"):
    try:
        n += os.readlink(f) == sys.argv[1]
    except OSError:
        pass
print(n)' "${1:-none}"
}
# the daemon's containers as the driver's engine lists them
ctr_names() {
	if [ "$SANDBOX" = docker ]; then pm_containers sluice-; else "$RUNC" list -q 2>/dev/null; fi
}
containers() { ctr_names | grep -c -- "^sluice-.*-$daemon_pid\$"; }
# ctr_pid NAME: host pid of the container's init
ctr_pid() {
	if [ "$SANDBOX" = docker ]; then
		pm_api GET "/containers/$1/json" | $H_PY get /dev/stdin State.Pid
	else
		"$RUNC" state "$1" 2>/dev/null | $H_PY get /dev/stdin pid
	fi
}

innocent start
inno_code=$H_FIX/recorder/bootstrap
# its bundle (oci) or seccomp profile (docker on Podman): a file of the sandbox on the host
inno_file=config.json
[ "$SANDBOX" = docker ] && inno_file=seccomp.json
inno_bundle=$(ls "$H_TMP"/state/sandboxes/sluice-innocent-*/$inno_file 2>/dev/null | head -n 1)
h_true "the innocent's $inno_file is on the host" "no $H_TMP/state/sandboxes/sluice-innocent-*/$inno_file" \
	test -n "$inno_bundle"
h_eq "the engine lists the innocent's container" 1 "$(containers)"
echo "host secret" >"$H_TMP/secret"

# Reads: another function's code and bundle, a host file, /root; the own code is readable.
inv snoop "{\"case\":\"read\",\"paths\":[\"$inno_code\",\"$inno_bundle\",\"$H_TMP/secret\",\"/root\",\"/etc/shadow\",\"/var/task/bootstrap\"]}"
h_note "read: $(body)"
h_eq "read: status" "200 " "$H_STATUS $(h_header X-Amz-Function-Error)"
h_eq "read: another function's code (host path) is absent" absent "$(h_json r.0)"
h_eq "read: another function's bundle is absent" absent "$(h_json r.1)"
h_eq "read: a host file in the test's temp dir is absent" absent "$(h_json r.2)"
h_eq "read: /root is absent" absent "$(h_json r.3)"
h_match "read: the host's /etc/shadow is masked" '^(empty|denied|absent)$' "$(h_json r.4)"
h_eq "read: its own code is readable (control)" read "$(h_json r.5)"
innocent after-read

# Network: only loopback; a TCP connect to TEST-NET-1 fails at once.
inv snoop '{"case":"net"}'
h_eq "net: status" "200 " "$H_STATUS $(h_header X-Amz-Function-Error)"
h_eq "net: connect to 192.0.2.1:80 is unreachable" ENETUNREACH "$(h_json connect)"
h_eq "net: only loopback" '["lo"]' "$(h_json interfaces)"
innocent after-net

# Namespaces: a non-root uid may make a user namespace (and be root in it) unless seccomp denies
# it; both ways are denied.
inv snoop '{"case":"ns"}'
h_note "ns: $(body)"
h_eq "ns: unshare(CLONE_NEWUSER) is denied by seccomp" EPERM "$(h_json unshare)"
h_eq "ns: clone(CLONE_NEWUSER) is denied by seccomp" EPERM "$(h_json clone)"
if [ "$SANDBOX" = oci ]; then
	# the test's dirs are searchable by others (chmod above), so runc gets a user namespace
	h_eq "userns: container ids 0.. are host ids 1000000.." "0 1000000 65536" "$(h_json uid_map)"
	h_true "userns: the daemon says so" "no such log line" \
		h_log_has "oci sandboxes get a user namespace"
fi
innocent after-ns

# Writes: read-only everywhere but /tmp.
inv snoop '{"case":"write","paths":["/var/task/hostile-w","/usr/hostile-w","/etc/hostile-w","/hostile-w","/tmp/hostile-w"]}'
h_eq "write: status" "200 " "$H_STATUS $(h_header X-Amz-Function-Error)"
i=0
for p in /var/task /usr /etc /; do
	h_eq "write: $p is read-only" EROFS "$(h_json r.$i)"
	i=$((i + 1))
done
h_eq "write: /tmp is writable" written "$(h_json r.4)"
h_true "write: nothing reached the code dir on the host" "$H_FIX/hostile/hostile-w exists" \
	test ! -e "$H_FIX/hostile/hostile-w"
innocent after-write

# Fork bomb: fork fails at the pids limit inside the bomb's container only; the innocent still
# answers (its shell runtime forks curl every time) while the bomb holds its ~1024 pids; the
# invocation times out and the next one gets a new, working sandbox; the host's process count
# stays bounded and comes back down.
procs0=$(host_procs)
(inv bomb '{"case":"fork"}'; cp "$H_RESP" "$H_TMP/bomb.body"; h_header X-Amz-Function-Error >"$H_TMP/bomb.err") &
bomb_bg=$!
H_BG_PIDS="$H_BG_PIDS $bomb_bg"
h_true "fork: the bomb reports fork failing" "no fork bomb line in 20 s" \
	h_wait_log 'function:bomb .*hostile: fork bomb: ' 1 20
bomb_line=$(h_logs | grep -E 'function:bomb .*hostile: fork bomb: ' | head -n 1)
h_match "fork: fork fails with EAGAIN" 'fork bomb: [0-9]+ forked, then EAGAIN$' "$bomb_line"
forked=$(printf '%s' "$bomb_line" | sed -n 's/.*fork bomb: \([0-9]*\) forked.*/\1/p')
h_true "fork: the pids limit (1024) stopped it after 900..1023 children" "$forked forked" \
	test "${forked:-0}" -ge 900 -a "${forked:-9999}" -lt 1024
bomb_ctr=$(basename "$(ls -d "$H_TMP"/state/sandboxes/sluice-bomb-* | head -n 1)")
bomb_init=$(ctr_pid "$bomb_ctr" 2>/dev/null)
bomb_ns=$(readlink "/proc/$bomb_init/ns/pid" 2>/dev/null)
procs_peak=$(host_procs)
in_bomb=$(ns_procs "$bomb_ns")
h_note "host processes: $procs0 before the bomb, $procs_peak with it at the limit, $in_bomb in its pid namespace ($bomb_ns)"
h_true "fork: the bomb's processes (as the host sees them) are bounded by the pids limit" \
	"$in_bomb in $bomb_ns" test "$in_bomb" -ge 900 -a "$in_bomb" -le 1024
innocent during-bomb
wait "$bomb_bg"
h_eq "fork: the invocation times out" "Unhandled Sandbox.Timedout" \
	"$(cat "$H_TMP/bomb.err") $(h_json errorType "$H_TMP/bomb.body")"
h_true "fork: the bomb's processes are gone from the host" '$(ns_procs "$bomb_ns") left in $bomb_ns' \
	h_wait 10 eval 'test "$(ns_procs "$bomb_ns")" = 0'
h_note "host processes after the bomb: $(host_procs)"
inv bomb '{"case":"hello"}'
h_match "fork: the next invocation gets a new sandbox" '^\{"host":"sluice-bomb-[0-9]+-'"$daemon_pid"'"\}$' "$(body)"
bomb_host1=$(h_json host)
h_true "fork: ... not the bomb's sandbox, which is gone" "new $(h_json host), bomb's $bomb_ctr, engine: $(ctr_names | tr '\n' ' ')" \
	eval 'test "$(h_json host)" != "$bomb_ctr" && ! ctr_names | grep -qx "$bomb_ctr" && test ! -e "$H_TMP/state/sandboxes/$bomb_ctr"'
innocent after-bomb

# Memory hog: OOM-killed in its 128 MB container, Runtime.OutOfMemory; the daemon lives on.
inv hog '{"case":"hog"}'
h_eq "hog: errorType" "Unhandled Runtime.OutOfMemory" "$(h_header X-Amz-Function-Error) $(h_json errorType)"
h_true "hog: REPORT with Runtime.OutOfMemory" "no such REPORT line" \
	h_log_has "function:hog REPORT RequestId: .*Error Type: Runtime\\.OutOfMemory"
h_true "hog: the daemon is alive" "daemon $daemon_pid gone" h_alive "$daemon_pid"
innocent after-hog
inv hog '{"case":"hello"}'
h_match "hog: the next invocation gets a working sandbox" '^\{"host":"sluice-hog-[0-9]+-'"$daemon_pid"'"\}$' "$(body)"

inv innocent '{"n":"end"}'
h_true "innocent served by one sandbox throughout" "hosts: $(ls "$H_TMP"/state/sandboxes)" \
	test "$(ls -d "$H_TMP"/state/sandboxes/sluice-innocent-* | wc -l)" = 1
h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
h_eq "no container of the daemon left" 0 "$(containers)"
