#!/usr/bin/env bash
# The docker driver against a real Docker Engine API: Podman's compatible service (started here
# on a socket in the test's temp dir, runc, no network) and the base image from
# docker/Containerfile. Covers the sandbox's settings as seen from inside, warm reuse, freezing
# (a frozen container's background busy loop gets no CPU), a timeout (the container is removed
# and replaced), a missing image (a clear error at start and per invocation), idle reaping, and
# that SIGTERM leaves no container and no sandbox dir, and that a daemon killed with -9 has its
# containers (docker and oci) removed by the next one on the same state dir. Isolation against hostile functions is
# test_isolation_docker.sh. Needs root, runc and podman (make test installs them).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/podman.sh"

if [ "$(id -u)" != 0 ] || ! command -v podman >/dev/null; then
	h_bail "set-up" "needs root and podman (make test installs podman; run it as root)"
fi
h_at_exit pm_stop
pm_start "$H_TMP/podman" "$H_ROOT" || h_bail "set-up" "podman service did not start"
# two layers: the second's bin/tool replaces the first's
mkdir -p "$H_TMP/l1/bin" "$H_TMP/l1/data" "$H_TMP/l2/bin"
printf v1 >"$H_TMP/l1/bin/tool"
printf a1 >"$H_TMP/l1/data/a"
printf v2 >"$H_TMP/l2/bin/tool"

h_config '{
  "idle_timeout_s": 4,
  "docker_socket": "@TMP@/podman/podman.sock",
  "functions": {
    "probe": {"code": "@ROOT@/tests/fixtures/functions/oci-probe", "sandbox": "docker",
              "memory_mb": 256, "timeout_s": 2, "ephemeral_storage_mb": 600},
    "burn": {"code": "@ROOT@/tests/fixtures/functions/oci-burn", "sandbox": "docker"},
    "noimage": {"code": "@ROOT@/tests/fixtures/functions/echo", "sandbox": "docker",
                "image": "localhost/sluice/missing:none"},
    "ociprobe": {"code": "@ROOT@/tests/fixtures/functions/oci-probe", "sandbox": "oci"},
    "hostnet": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "docker", "network": "host"},
    "ocihostnet": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "oci", "network": "host"},
    "layered": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "docker",
                "layers": ["@TMP@/l1", "@TMP@/l2"]},
    "ocilayered": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "oci",
                   "layers": ["@TMP@/l1", "@TMP@/l2"]},
    "inithog": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "docker",
                "environment": {"HOSTILE_INIT_HOG": "1"}},
    "ociinithog": {"code": "@FIX@/hostile", "handler": "h", "sandbox": "oci",
                   "environment": {"HOSTILE_INIT_HOG": "1"}}
  }
}'
h_start
daemon_pid=$H_PID
inv() { h_request POST "/2015-03-31/functions/$1/invocations" -d "$2"; }
containers() { pm_containers "sluice-" | grep -c -- "-$daemon_pid\$"; }
# cg NAME CONTROLLER FILE: a file of the container's cgroup, as the host sees it
cg() {
	local pid path
	pid=$(pm_api GET "/containers/$1/json" | $H_PY get /dev/stdin State.Pid)
	path=$(sed -n "s/^[0-9]*:[^:]*\\b$2\\b[^:]*://p" "/proc/$pid/cgroup")
	cat "/sys/fs/cgroup/$2$path/$3"
}

h_true "start: the missing image is named in a warning" "no warning" \
	h_log_has 'WARN .*image localhost/sluice/missing:none is not in the engine'

# The sandbox as its runtime sees it.
inv probe '{}'
h_eq "probe: status" "200 " "$H_STATUS $(h_header X-Amz-Function-Error)"
h_note "probe: $(cat "$H_RESP")"
h_match "probe: PID 1 is sluice-init on the bound channel socket" \
	'^/opt/sluice/sluice-init --channel-path /run/sluice/channel.sock .* -- /var/task/bootstrap$' "$(h_json init)"
h_eq "probe: runs as uid 993" 993 "$(h_json uid)"
h_eq "probe: /var/task is read-only" readonly "$(h_json task)"
h_eq "probe: /tmp is writable" writable "$(h_json tmp)"
h_eq "probe: /tmp holds ephemeral_storage_mb" $((600 * 1024)) "$(h_json tmp_kb)"
h_eq "probe: network: curl cannot connect (7)" 7 "$(h_json net)"
h_eq "probe: LAMBDA_TASK_ROOT and cwd" "/var/task /var/task" "$(h_json task_root) $(h_json cwd)"
probe_ctr=$(h_json host)
h_match "probe: hostname is the container's name" "^sluice-probe-[0-9]+-$daemon_pid\$" "$probe_ctr"
h_eq "probe: memory limit (host view of its cgroup) = memory_mb" $((256 << 20)) \
	"$(cg "$probe_ctr" memory memory.limit_in_bytes)"
h_eq "probe: CPU quota = 100 ms * 256 / 1769" $((100000 * 256 / 1769)) \
	"$(cg "$probe_ctr" cpu cpu.cfs_quota_us)"
h_eq "probe: pids limit" 1024 "$(cg "$probe_ctr" pids pids.max)"
inv probe '{}'
h_eq "warm: the same container answers" "$probe_ctr" "$(h_json host)"
h_eq "warm: one Init Duration for two invocations" 1 \
	"$(h_count_log 'function:probe REPORT .*Init Duration')"

# Freezing: the burner's busy loop runs only while the container is thawed.
inv burn '{}'
h_eq "burn: answers" '{"ok":1}' "$(cat "$H_RESP")"
burn_ctr=$(pm_containers sluice-burn- | head -n 1)
h_true "burn: the idle container is frozen" "freezer.state $(cg "$burn_ctr" freezer freezer.state)" \
	h_wait 5 eval '[ "$(cg "$burn_ctr" freezer freezer.state)" = FROZEN ]'
curl -fsS -o "$H_TMP/metrics" "$H_URL/metrics"
metric() { awk -v k="$1" '$1 == k {print $2}' "$H_TMP/metrics"; }
h_eq "metrics: burn's sandbox is live, idle and frozen" "1 1 1 0" \
	"$(for s in live idle frozen busy; do metric "sluice_function_sandboxes{function=\"burn\",state=\"$s\"}"; done | tr '\n' ' ' | sed 's/ $//')"
h_eq "metrics: memory used = probe (256) + burn (128)" 384 \
	"$(metric 'sluice_executor_memory_mb{kind="used"}')"
u0=$(cg "$burn_ctr" cpuacct cpuacct.usage)
sleep 1
u1=$(cg "$burn_ctr" cpuacct cpuacct.usage)
h_eq "burn: no CPU used while frozen (cpuacct.usage over 1 s)" "$u0" "$u1"
inv burn '{}'
h_eq "burn: thawed for the next invocation" '{"ok":1}' "$(cat "$H_RESP")"
h_true "burn: it ran again" "cpuacct.usage stayed $u1" \
	test "$(cg "$burn_ctr" cpuacct cpuacct.usage)" -gt "$u1"

# A timeout kills and removes the container; the next invocation gets a new one.
inv probe '{"sleep":1}'
h_eq "timeout: Sandbox.Timedout" "Unhandled Sandbox.Timedout" \
	"$(h_header X-Amz-Function-Error) $(h_json errorType)"
h_true "timeout: the container is removed" "still listed: $(pm_containers sluice-probe-)" \
	h_wait 10 eval '! pm_containers sluice-probe- | grep -qx "$probe_ctr"'
inv probe '{}'
h_true "timeout: the next invocation runs in a new container" "host $(h_json host)" \
	eval 'test "$(h_json host)" != "$probe_ctr" && test -n "$(h_json host)"'

# "network": "host": the sandbox sees the host's interfaces (the default sees only loopback:
# test_isolation*.sh).
host_ifs=$(python3 -c 'import json, os; print(json.dumps(sorted(os.listdir("/sys/class/net")), separators=(",", ":")))')
for f in hostnet ocihostnet; do
	inv $f '{"case":"net"}'
	h_eq "$f: the host's interfaces" "$host_ifs" "$(h_json interfaces)"
done

# Layers merged in order at /opt, read-only; the agent's dir is still there.
for f in layered ocilayered; do
	inv $f '{"case":"cat","paths":["/opt/bin/tool","/opt/data/a"]}'
	h_eq "$f: /opt has the layers merged in order" '["v2","a1"]' "$(h_json r)"
	inv $f '{"case":"write","paths":["/opt/bin/tool","/opt/new"]}'
	h_eq "$f: /opt is read-only" '["EROFS","EROFS"]' "$(h_json r)"
done

# Out of memory during the init: the invocation that waited for it fails as Runtime.OutOfMemory.
for f in inithog ociinithog; do
	inv $f '{}'
	h_eq "$f: an init killed by the OOM killer is Runtime.OutOfMemory" \
		"Unhandled Runtime.OutOfMemory" "$(h_header X-Amz-Function-Error) $(h_json errorType)"
	h_true "$f: INIT_REPORT says so" "no such line" \
		h_log_has "function:$f INIT_REPORT .*Error Type: Runtime\\.OutOfMemory"
done

# A missing image: a clear error naming it, per invocation; nothing left behind.
h_expect_error 'function:noimage'
inv noimage '{}'
h_note "noimage: $(cat "$H_RESP")"
h_eq "noimage: a runtime error" "Unhandled Runtime.ExitError" \
	"$(h_header X-Amz-Function-Error) $(h_json errorType)"
h_match "noimage: the error names docker create and the image" \
	'docker create sluice-noimage-[0-9]+-[0-9]+: .*missing.*\(HTTP 404\)' "$(h_json errorMessage)"
h_true "noimage: no sandbox dir left" "$(ls "$H_TMP/state/sandboxes")" \
	h_wait 5 eval '! ls "$H_TMP/state/sandboxes" | grep -q noimage'

# Idle reaping (idle_timeout_s 4): the frozen containers go.
h_true "idle: containers are reaped after idle_timeout_s" "$(containers) left" \
	h_wait 15 eval '[ "$(containers)" = 0 ]'

# The engine goes away and comes back: invocations fail with a clear error meanwhile (the
# dispatcher retries those), the daemon lives on, and serves again once the engine is back.
inv probe '{}'
h_eq "engine restart: probe answers before" "200 " "$H_STATUS $(h_header X-Amz-Function-Error)"
pm_stop_service
h_expect_error 'function:probe'
inv probe '{"sleep":1}'   # its sandbox was lost with the engine's wait call, or times out
inv probe '{}'
h_note "engine down: $(cat "$H_RESP")"
h_match "engine down: a clear error naming the engine's socket" \
	'docker create sluice-probe-[0-9]+-[0-9]+: .*(onnect|refused)' "$(h_json errorMessage)"
h_true "engine down: the daemon lives" "daemon $daemon_pid gone" h_alive "$daemon_pid"
pm_start "$H_TMP/podman" "$H_ROOT" || h_bail "set-up" "podman service did not restart"
inv probe '{}'
h_eq "engine back: probe answers again" "200 " "$H_STATUS $(h_header X-Amz-Function-Error)"
h_true "engine back: the container left while it was away is deleted" "$(containers) containers" \
	h_wait 10 eval '[ "$(containers)" = 1 ]'
h_true "engine back: ... and its sandbox dir" "$(ls "$H_TMP/state/sandboxes")" \
	h_wait 5 eval '[ "$(ls "$H_TMP/state/sandboxes" | wc -l)" = 1 ]'

# A daemon killed with -9 leaves its containers; the next one on the same state dir removes them.
inv probe '{}'
h_eq "kill -9: one docker container" 1 "$(containers)"
inv ociprobe '{}'
h_eq "kill -9: the oci function answers" "200 " "$H_STATUS $(h_header X-Amz-Function-Error)"
old_pid=$daemon_pid
h_kill9
h_eq "kill -9: the docker container outlives the daemon" 1 "$(containers)"
h_start
daemon_pid=$H_PID
h_true "restart: the earlier daemon's sandboxes are removed" "no such log line" \
	h_log_has "removed 2 sandboxes an earlier daemon left in "
h_eq "restart: no container of the killed daemon is left" 0 \
	"$(pm_containers sluice- | grep -c -- "-$old_pid\$")"
h_eq "restart: no runc container of the killed daemon is left" 0 \
	"$(runc list -q 2>/dev/null | grep -c -- "-$old_pid\$")"
h_eq "restart: no sandbox dir is left" "" "$(ls "$H_TMP/state/sandboxes")"

# A daemon started while the engine is down warns; its first start once the engine is back
# asks the engine which it is (the seccomp profile's form depends on it) and succeeds.
h_stop TERM
h_eq "engine down at start: the daemon stopped cleanly" 0 "$H_EXIT"
pm_stop_service
h_start
daemon_pid=$H_PID
h_true "engine down at start: a warning names the socket" "no such warning" \
	h_log_has "WARN .*no Docker Engine API answers on $H_TMP/podman/podman.sock"
pm_start "$H_TMP/podman" "$H_ROOT" || h_bail "set-up" "podman service did not restart"
inv probe '{}'
h_eq "engine up later: probe answers" "200 " "$H_STATUS $(h_header X-Amz-Function-Error)"
h_eq "end: one container again" 1 "$(containers)"
h_stop TERM
h_eq "SIGTERM exit status" 0 "$H_EXIT"
h_eq "no container of the daemon left" 0 "$(containers)"
h_eq "no sandbox dir left" "" "$(ls "$H_TMP/state/sandboxes")"
