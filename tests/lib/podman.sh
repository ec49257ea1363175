# podman.sh: sourced by tests (after harness.sh) and benchmarks that need a Docker Engine API.
# pm_start starts Podman's Docker-compatible service on a unix socket in its own temp dir, with
# the settings this host needs (runc, cgroupfs, no network, explicit ulimits: podman's default
# nofile 1048576 is above root's hard limit here), and builds the base image of docker sandboxes
# (tools/docker-image.sh) into its store. pm_stop stops the service by its pid (SIGTERM; it
# removes its socket) after removing the containers still carrying PM_PREFIX in their name.
#
# POSIX sh, so that bench/containers.sh can source it too.
#
#   pm_start DIR ROOT    (ROOT: the repo) sets PM_SOCK, PM_PID; exports CONTAINERS_CONF (DIR's)
#   pm_api METHOD PATH   curl the API: body on stdout
#   pm_stop_service      stop the service only (an engine restart), pm_start DIR ROOT again after
#   pm_stop
PM_SOCK=""
PM_PID=""
PM_PREFIX=${PM_PREFIX:-sluice-}

pm_api() { curl -sS --max-time 30 --unix-socket "$PM_SOCK" -X "$1" "http://d/v1.41$2"; }

pm_start() {
	local dir=$1 root=$2 i
	mkdir -p "$dir"
	cat >"$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=16384:16384"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
	export CONTAINERS_CONF=$dir/containers.conf
	PM_SOCK=$dir/podman.sock
	podman system service --time=0 "unix://$PM_SOCK" >"$dir/service.log" 2>&1 </dev/null &
	PM_PID=$!
	for i in $(seq 100); do
		curl -s --unix-socket "$PM_SOCK" http://d/_ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -s --unix-socket "$PM_SOCK" http://d/_ping >/dev/null 2>&1 || {
		echo "podman service did not answer on $PM_SOCK:" >&2
		tail -n 5 "$dir/service.log" >&2
		return 1
	}
	sh "$root/tools/docker-image.sh" >/dev/null
}

# Names of the containers the engine has whose name starts with PREFIX (default PM_PREFIX).
pm_containers() {
	pm_api GET "/containers/json?all=1" 2>/dev/null | python3 -c 'import json, sys
for c in json.load(sys.stdin):
    for n in c.get("Names") or []:
        if n.lstrip("/").startswith(sys.argv[1]):
            print(n.lstrip("/"))' "${1:-$PM_PREFIX}"
}

# pm_stop_service: stop the API service only (its containers keep running, as with a restart of
# the engine); pm_start on the same DIR brings it back.
pm_stop_service() {
	local i
	[ -n "$PM_PID" ] || return 0
	kill -TERM "$PM_PID" 2>/dev/null
	for i in $(seq 100); do kill -0 "$PM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PM_PID" 2>/dev/null
	wait "$PM_PID" 2>/dev/null
	PM_PID=""
}

pm_stop() {
	local c
	[ -n "$PM_PID" ] || return 0
	for c in $(pm_containers); do pm_api DELETE "/containers/$c?force=1" >/dev/null 2>&1; done
	pm_stop_service
}
