#!/bin/sh
# containers.sh BUILD_DIR: the container benchmark (`make bench-containers` runs it on build/release).
#
# Side by side in one run, one daemon on a temp config (loopback HTTP), the C runtime
# (bench/c_runtime, copied into the code dir as `bootstrap`, no "command") in both drivers:
#   cold start     first invocation of each of K identical functions, one after another:
#                  process driver (p0..) and oci driver (o0..): no sandbox -> first response
#   peer           `podman run --rm --network none --ulimit nofile/nproc=1024 IMAGE true` of a
#                  FROM-scratch busybox-static image (podman on runc, cgroupfs), timed from the
#                  caller; and `runc run` of /bin/true in a minimal bundle (the floor of a container)
#   warm invoke    keep-alive round trips, back to back, to one warm sandbox per driver (oci: an idle
#                  sandbox is frozen; back to back it is thawed before each INVOKE frame)
#   thaw + invoke  the same with a 50 ms pause before each round trip (untimed), so an oci sandbox
#                  is surely frozen: freezer thaw + invoke; the process driver with the same pause
#                  for comparison
#   burst starts   B oci functions (b0..) invoked at once, one connection each, with
#                  executor_max_starting 1000: B / wall time until the last answer (start + init +
#                  one invoke of each); the same for B process functions
#   idle sandbox   memory of the idle (frozen) warm oci sandbox: its memory cgroup's usage_in_bytes
#                  and the summed VmRSS of its processes (agent + runtime); process driver: agent +
#                  runtime VmRSS
#   peak RSS       the daemon's VmHWM at the end
# Writes bench/results/containers.json (flat JSON) and the table between the containers markers
# in bench/RESULTS.md. The docker driver runs through Podman's Docker-compatible API service
# (tests/lib/podman.sh, started here) with the same C runtime: cold start (d0..) and warm invoke.
#
# Environment: BENCH_RUNS (3 runs of each warm test; the run with the median p50 is kept),
# BENCH_N (2000), BENCH_COLD_K (50), BENCH_PODMAN_N (50), BENCH_RUNC_N (50), BENCH_THAW_N (100),
# BENCH_BURST (32), BENCH_DOCKER_K (50: docker cold starts).
set -eu

[ $# -eq 1 ] || { echo "usage: bench/containers.sh BUILD_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
runs=${BENCH_RUNS:-3}
n=${BENCH_N:-2000}
cold_k=${BENCH_COLD_K:-50}
podman_n=${BENCH_PODMAN_N:-50}
runc_n=${BENCH_RUNC_N:-50}
thaw_n=${BENCH_THAW_N:-100}
burst=${BENCH_BURST:-32}
docker_k=${BENCH_DOCKER_K:-50}

sluice=$build/sluice
client=$build/bench/invoke_client
cclient=$build/bench/container_client
runtime=$build/bench/c_runtime
for b in "$sluice" "$build/sluice-init" "$client" "$cclient" "$runtime"; do
	[ -x "$b" ] || { echo "containers.sh: missing $b (make MODE=release all bench binaries)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "containers.sh: runc and podman need root" >&2; exit 1; }

# busybox-static is only needed here, so it is not in tools/deps.sh (make test would pay for it):
# install it (and runc, podman) when missing, as deps.sh does.
missing=""
for p in runc podman busybox-static; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bench: installing$missing" >&2
	[ -x /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-ctr.XXXXXX")
chmod 755 "$work"
tag="sluice-bench-$$"
image="localhost/$tag/busybox:latest"
daemon_pid=""
cleanup() {
	set +e
	[ -z "$daemon_pid" ] || { kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; }
	pm_stop
	# containers this run left behind: runc ids carry our tag or the daemon's pid; podman's our tag
	for id in $(runc list -q 2>/dev/null | grep -E "^($tag-|sluice-.*-${dpid:-none}\$)"); do
		runc kill "$id" KILL 2>/dev/null; sleep 0.05; runc delete --force "$id" 2>/dev/null
	done
	if command -v podman >/dev/null 2>&1; then
		for c in $(podman ps -a -q --filter "name=$tag" 2>/dev/null); do podman rm -f "$c" >/dev/null 2>&1; done
		podman rmi -f "$image" >/dev/null 2>&1
	fi
	# runc removes the floor containers' cgroups but leaves their parent ($tag) in some hierarchies
	for d in /sys/fs/cgroup/*/"$tag"/floor /sys/fs/cgroup/*/"$tag"; do [ ! -d "$d" ] || rmdir "$d" 2>/dev/null; done
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
. "$root/tests/lib/podman.sh"
trap cleanup EXIT
. "$root/bench/lib.sh"
# the Docker API for the docker driver; its containers.conf (runc, cgroupfs, no network) also
# serves the `podman run` peer
pm_start "$work/podman" "$root"

# ---- the daemon: K process + K oci cold functions, B + B burst functions, one warm per driver ----
p=$(port)
mkdir -p "$work/code"
cp "$runtime" "$work/code/bootstrap"
python3 - "$work/sluice.json" "$p" "$work" "$cold_k" "$burst" "$docker_k" "$PM_SOCK" <<'PY'
import json, sys
out, port, work, k, b, dk, sock = sys.argv[1:]
c = {"code": work + "/code", "runtime": "provided.al2023", "handler": "bench.handler",
     "memory_mb": 128, "timeout_s": 10}
o = dict(c, sandbox="oci")
v = dict(o, memory_mb=1769)   # one full vCPU of CFS quota: no throttling
d = dict(c, sandbox="docker")
fns = {"pw": dict(c), "ow": dict(o), "vw": dict(v), "dw": dict(d)}
for i in range(int(dk)):
    fns["d%d" % i] = dict(d)
for i in range(int(k)):
    fns["p%d" % i] = dict(c)
    fns["o%d" % i] = dict(o)
    fns["v%d" % i] = dict(v)
for i in range(int(b)):
    fns["pb%d" % i] = dict(c)
    fns["ob%d" % i] = dict(o)
cfg = {"listen": "127.0.0.1:" + port, "state_dir": work + "/state", "log_level": "warn",
       "executor_max_starting": 1000, "executor_memory_mb": 1048576, "idle_timeout_s": 3600,
       "docker_socket": sock, "functions": fns}
json.dump(cfg, open(out, "w"), indent=1)
PY
"$sluice" run -c "$work/sluice.json" 2>"$work/daemon.log" &
daemon_pid=$!
dpid=$daemon_pid
i=0
until curl -fsS -o /dev/null "http://127.0.0.1:$p/healthz" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] && kill -0 "$daemon_pid" 2>/dev/null || { tail "$work/daemon.log" >&2; exit 1; }
	sleep 0.1
done
hp=127.0.0.1:$p
fn=/2015-03-31/functions
pay='{"bench":true}'

# cold starts: first invocation of p0..pK-1 (process), then of o0..oK-1 (oci)
"$client" cold "$hp" "$fn/p%d/invocations" "$cold_k" "$pay" >"$work/cold_process.json"
say "cold process: $(cat "$work/cold_process.json")"
"$client" cold "$hp" "$fn/o%d/invocations" "$cold_k" "$pay" >"$work/cold_oci.json"
say "cold oci: $(cat "$work/cold_oci.json")"
"$client" cold "$hp" "$fn/v%d/invocations" "$cold_k" "$pay" >"$work/cold_oci_1vcpu.json"
say "cold oci 1769 MB: $(cat "$work/cold_oci_1vcpu.json")"
"$client" cold "$hp" "$fn/d%d/invocations" "$docker_k" "$pay" >"$work/cold_docker.json"
say "cold docker: $(cat "$work/cold_docker.json")"

# warm: back to back, then paced (50 ms untimed pause before each round trip)
best_of warm_process "$client" rtt "$hp" "$fn/pw/invocations" "$n" 200 "$pay"
best_of warm_oci "$client" rtt "$hp" "$fn/ow/invocations" "$n" 200 "$pay"
best_of warm_oci_1vcpu "$client" rtt "$hp" "$fn/vw/invocations" "$n" 200 "$pay"
best_of warm_docker "$client" rtt "$hp" "$fn/dw/invocations" "$n" 200 "$pay"
"$cclient" paced "$hp" "$fn/pw/invocations" "$thaw_n" 5 50 "$pay" >"$work/paced_process.json"
say "paced process: $(cat "$work/paced_process.json")"
"$cclient" paced "$hp" "$fn/ow/invocations" "$thaw_n" 5 50 "$pay" >"$work/paced_oci.json"
say "paced oci: $(cat "$work/paced_oci.json")"
"$cclient" paced "$hp" "$fn/vw/invocations" "$thaw_n" 5 50 "$pay" >"$work/paced_oci_1vcpu.json"
say "paced oci 1769 MB: $(cat "$work/paced_oci_1vcpu.json")"

# burst: B sandboxes started at once
"$cclient" burst "$hp" "$fn/ob%d/invocations" "$burst" "$pay" >"$work/burst_oci.json"
say "burst oci: $(cat "$work/burst_oci.json")"
"$cclient" burst "$hp" "$fn/pb%d/invocations" "$burst" "$pay" >"$work/burst_process.json"
say "burst process: $(cat "$work/burst_process.json")"

# idle sandbox memory (ow has been idle, so frozen, for a moment)
sleep 0.5
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || true; }
ow_id=$(runc list -q | grep -E "^sluice-ow-[0-9]+-$dpid\$" | head -n 1)
ow_pid=$(runc state "$ow_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
ow_cg=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' "/proc/$ow_pid/cgroup")
ow_usage=$(cat "/sys/fs/cgroup/memory$ow_cg/memory.usage_in_bytes")
ow_rss=0
for q in $(cat "/sys/fs/cgroup/memory$ow_cg/cgroup.procs"); do ow_rss=$((ow_rss + $(rss "$q"))); done
ow_freezer=$(cat "/sys/fs/cgroup/freezer$(sed -n 's/^[0-9]*:freezer:\(.*\)$/\1/p' "/proc/$ow_pid/cgroup")/freezer.state" 2>/dev/null || echo "?")
say "idle oci sandbox $ow_id: memory.usage_in_bytes $ow_usage, RSS $ow_rss kB, freezer $ow_freezer"
# process driver: each sluice-init child of the daemon plus its runtime; the median over sandboxes
proc_rss=$(for c in $(cat "/proc/$dpid/task/"*/children 2>/dev/null); do
	[ "$(cat "/proc/$c/comm" 2>/dev/null)" = sluice-init ] || continue
	t=$(rss "$c")
	for g in $(cat "/proc/$c/task/"*/children 2>/dev/null); do t=$((t + $(rss "$g"))); done
	echo "$t"
done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }')
# CFS throttling (cpu.stat) of the oci containers: the warm 128 MB one, and how many of the cold
# 128 MB / 1769 MB ones were throttled at least once
throttle() {  # ID -> "nr_throttled throttled_ms"
	tp=$(runc state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	cg=$(sed -n 's/^[0-9]*:cpu:\(.*\)$/\1/p' "/proc/$tp/cgroup")
	awk '/^nr_throttled/ { n = $2 } /^throttled_time/ { t = $2 } END { printf "%d %d\n", n, t / 1e6 }' "/sys/fs/cgroup/cpu$cg/cpu.stat"
}
ow_thr=$(throttle "$ow_id")
vw_thr=$(throttle "$(runc list -q | grep -E "^sluice-vw-[0-9]+-$dpid\$" | head -n 1)")
cold_thr_o=0; cold_thr_v=0
for id in $(runc list -q | grep -E "^sluice-[ov][0-9]+-[0-9]+-$dpid\$"); do
	set -- $(throttle "$id")
	[ "$1" -gt 0 ] || continue
	case $id in sluice-o*) cold_thr_o=$((cold_thr_o + 1)) ;; *) cold_thr_v=$((cold_thr_v + 1)) ;; esac
done
say "throttled: warm 128 MB sandbox $ow_thr (periods, ms); 1769 MB $vw_thr; cold sandboxes throttled: 128 MB $cold_thr_o, 1769 MB $cold_thr_v"
oci_live=$(runc list -q | grep -c -E "^sluice-.*-$dpid\$" || true)
say "process sandbox (agent + runtime): median $proc_rss kB; live oci containers $oci_live"

hwm_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$dpid/status")
t0=$(date +%s%3N)
kill -TERM "$daemon_pid"
rc=0; wait "$daemon_pid" || rc=$?
daemon_pid=""
t1=$(date +%s%3N)
[ $rc -eq 0 ] || say "warning: daemon exit status $rc after SIGTERM"
left=$(runc list -q | grep -c -E "^sluice-.*-$dpid\$" || true)
left=$((left + $(pm_containers sluice- | grep -c -E -- "-$dpid\$" || true)))
say "daemon stopped in $((t1 - t0)) ms; oci containers left behind: $left"

# ---- peers: raw runc run, podman run --rm ---------------------------------------------------------
# a minimal bundle as in services.md §6: read-only root of empty dirs + merged-/usr links, host /usr
mkdir -p "$work/floor/rootfs"
(cd "$work/floor" && runc spec)
(cd "$work/floor/rootfs" && mkdir -p usr etc proc dev sys tmp &&
	for l in bin lib lib64 sbin; do ln -s "usr/$l" "$l"; done)
python3 - "$work/floor/config.json" "$tag" <<'PY'
import json, sys
path, tag = sys.argv[1:]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
c["root"]["readonly"] = True
c["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr",
                    "options": ["rbind", "ro", "nosuid", "nodev"]})
c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}],
                           "memory": {"limit": 128 << 20, "swap": 128 << 20},
                           "pids": {"limit": 1024}}
c["linux"]["cgroupsPath"] = tag + "/floor"
json.dump(c, open(path, "w"), indent=1)
PY
mkdir -p "$work/ctx"
cp /bin/busybox "$work/ctx/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT ["/bin/busybox"]\nCMD ["true"]\n' >"$work/ctx/Containerfile"
podman build -q -t "$image" "$work/ctx" >/dev/null
python3 - "$work" "$tag" "$image" "$runc_n" "$podman_n" >"$work/peers.json" <<'PY'
import json, resource, subprocess, sys, time
work, tag, image, runc_n, podman_n = sys.argv[1:]
def timed(n, argv_of, cwd=None):
    v, errors = [], 0
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for i in range(int(n)):
        t0 = time.monotonic()
        r = subprocess.run(argv_of(i), cwd=cwd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        v.append((time.monotonic() - t0) * 1000)
        if r.returncode:
            errors += 1
            sys.stderr.write("peer: exit %d: %s\n" % (r.returncode, r.stderr.decode()[-300:]))
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ms = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) * 1000 / int(n)
    v.sort()
    p = lambda q: v[min(len(v) - 1, max(0, -(-q * len(v) // 100) - 1))]
    return {"n": len(v), "errors": errors, "p50_ms": round(p(50), 2), "p99_ms": round(p(99), 2),
            "min_ms": round(v[0], 2), "max_ms": round(v[-1], 2), "cpu_ms": round(cpu_ms, 1)}
# one untimed run of each first (page cache, podman's storage)
subprocess.run(["runc", "run", "--bundle", work + "/floor", tag + "-floor-w"], cwd=work + "/floor",
               stdin=subprocess.DEVNULL, check=True)
podman = lambda i: ["podman", "run", "--rm", "--name", "%s-%s" % (tag, i), "--network", "none",
                    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", image, "true"]
subprocess.run(podman("w"), stdin=subprocess.DEVNULL, check=True)
out = {"runc": timed(runc_n, lambda i: ["runc", "run", "--bundle", work + "/floor",
                                        "%s-floor-%d" % (tag, i)], cwd=work + "/floor"),
       "podman": timed(podman_n, podman)}
print(json.dumps(out))
PY
say "peers: $(cat "$work/peers.json")"
podman rmi -f "$image" >/dev/null 2>&1 || true
left_runc=$(runc list -q | grep -c -E "^($tag-|sluice-.*-$dpid\$)" || true)
left_podman=$(podman ps -a -q --filter "name=$tag" | wc -l)
say "left behind: runc $left_runc, podman $left_podman"

# ---- results ------------------------------------------------------------------------------------
python3 - "$work" "$root" "$hwm_kb" "$ow_usage" "$ow_rss" "$proc_rss" "$ow_freezer" "$runs" \
	"$oci_live" "$left" "$left_runc" "$left_podman" "$ow_thr" "$vw_thr" "$cold_thr_o" "$cold_thr_v" <<'PY'
import json, os, platform, subprocess, sys, time
(work, root, hwm_kb, ow_usage, ow_rss, proc_rss, ow_freezer, runs, oci_live, left, left_runc,
 left_podman, ow_thr, vw_thr, cold_thr_o, cold_thr_v) = sys.argv[1:]
load = lambda name: json.load(open(os.path.join(work, name + ".json")))
cp, co, wp, wo, tp, to, bo, bp, peers, cv, wv, tv, cd, wd = (load(n) for n in (
    "cold_process", "cold_oci", "warm_process", "warm_oci", "paced_process", "paced_oci",
    "burst_oci", "burst_process", "peers", "cold_oci_1vcpu", "warm_oci_1vcpu", "paced_oci_1vcpu",
    "cold_docker", "warm_docker"))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
try:
    rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    if subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        rev += "+changes"
except OSError:
    rev = "?"
ms = lambda us: round(us / 1000, 2)
pod, rc = peers["podman"], peers["runc"]
r = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "git_rev": rev,
    "machine_cores": os.cpu_count(),
    "machine_cpu": cpu,
    "kernel": platform.release(),
    "runc_version": subprocess.run(["runc", "--version"], capture_output=True,
                                   text=True).stdout.split("\n")[0],
    "podman_version": subprocess.run(["podman", "--version"], capture_output=True,
                                     text=True).stdout.strip(),
    "cold_start_n": cp["n"],
    "cold_start_p50_ms_process": ms(cp["p50_us"]),
    "cold_start_p99_ms_process": ms(cp["p99_us"]),
    "cold_start_p50_ms_oci": ms(co["p50_us"]),
    "cold_start_p99_ms_oci": ms(co["p99_us"]),
    "cold_start_p50_ms_oci_1769mb": ms(cv["p50_us"]),
    "cold_start_p99_ms_oci_1769mb": ms(cv["p99_us"]),
    "cold_start_oci_throttled_sandboxes": int(cold_thr_o),
    "cold_start_oci_1769mb_throttled_sandboxes": int(cold_thr_v),
    "cold_start_n_docker": cd["n"],
    "cold_start_p50_ms_docker": ms(cd["p50_us"]),
    "cold_start_p99_ms_docker": ms(cd["p99_us"]),
    "cold_start_errors": cp["errors"] + co["errors"] + cv["errors"] + cd["errors"],
    "cold_start_podman_run_n": pod["n"],
    "cold_start_p50_ms_podman_run": pod["p50_ms"],
    "cold_start_p99_ms_podman_run": pod["p99_ms"],
    "cold_start_podman_run_errors": pod["errors"],
    "runc_run_true_n": rc["n"],
    "runc_run_true_p50_ms": rc["p50_ms"],
    "runc_run_true_p99_ms": rc["p99_ms"],
    "runc_run_true_errors": rc["errors"],
    "runc_run_true_cpu_ms": rc["cpu_ms"],
    "podman_run_cpu_ms": pod["cpu_ms"],
    "cold_oci_vs_podman_run_speedup": round(pod["p50_ms"] / ms(co["p50_us"]), 2),
    "cold_oci_1769mb_vs_podman_run_speedup": round(pod["p50_ms"] / ms(cv["p50_us"]), 2),
    "cold_docker_vs_podman_run_speedup": round(pod["p50_ms"] / ms(cd["p50_us"]), 2),
    "cold_oci_minus_runc_run_ms": round(ms(co["p50_us"]) - rc["p50_ms"], 2),
    "warm_invoke_n": wp["n"],
    "warm_invoke_p50_us_process": wp["p50_us"],
    "warm_invoke_p99_us_process": wp["p99_us"],
    "warm_invoke_p50_us_oci": wo["p50_us"],
    "warm_invoke_p99_us_oci": wo["p99_us"],
    "warm_invoke_p50_us_oci_1769mb": wv["p50_us"],
    "warm_invoke_p99_us_oci_1769mb": wv["p99_us"],
    "warm_invoke_oci_throttled_periods": int(ow_thr.split()[0]),
    "warm_invoke_oci_throttled_ms": int(ow_thr.split()[1]),
    "warm_invoke_oci_1769mb_throttled_periods": int(vw_thr.split()[0]),
    "warm_invoke_p50_us_docker": wd["p50_us"],
    "warm_invoke_p99_us_docker": wd["p99_us"],
    "warm_invoke_docker_minus_process_us": round(wd["p50_us"] - wp["p50_us"], 1),
    "warm_invoke_p50_runs_us_process": wp["p50_runs_us"],
    "warm_invoke_p50_runs_us_oci": wo["p50_runs_us"],
    "warm_invoke_errors": wp["errors"] + wo["errors"] + wv["errors"] + wd["errors"],
    "warm_invoke_oci_1769mb_minus_process_us": round(wv["p50_us"] - wp["p50_us"], 1),
    "warm_invoke_oci_minus_process_us": round(wo["p50_us"] - wp["p50_us"], 1),
    "thaw_invoke_n": to["n"],
    "thaw_invoke_pause_ms": 50,
    "thaw_invoke_p50_us": to["p50_us"],
    "thaw_invoke_p99_us": to["p99_us"],
    "thaw_invoke_p50_us_1769mb": tv["p50_us"],
    "thaw_invoke_p99_us_1769mb": tv["p99_us"],
    "paced_invoke_p50_us_process": tp["p50_us"],
    "paced_invoke_p99_us_process": tp["p99_us"],
    "thaw_invoke_minus_process_us": round(to["p50_us"] - tp["p50_us"], 1),
    "thaw_invoke_errors": to["errors"] + tp["errors"] + tv["errors"],
    "burst_sandboxes": bo["n"],
    "sandbox_starts_per_s": round(bo["n"] / (bo["wall_us"] / 1e6), 1),
    "sandbox_starts_burst_wall_ms": ms(bo["wall_us"]),
    "sandbox_starts_burst_p50_ms": ms(bo["p50_us"]),
    "sandbox_starts_burst_max_ms": ms(bo["max_us"]),
    "sandbox_starts_per_s_process": round(bp["n"] / (bp["wall_us"] / 1e6), 1),
    "sandbox_starts_burst_errors": bo["errors"] + bp["errors"],
    "idle_sandbox_rss_kb": int(ow_rss),
    "idle_sandbox_cgroup_usage_kb": int(ow_usage) // 1024,
    "idle_sandbox_freezer_state": ow_freezer,
    "idle_sandbox_rss_kb_process": int(proc_rss),
    "oci_containers_live_at_end": int(oci_live),
    "daemon_peak_rss_kb": int(hwm_kb),
    "daemon_peak_rss_mb": round(int(hwm_kb) / 1024, 1),
    "containers_left_after_stop": int(left) + int(left_runc) + int(left_podman),
}
r["target_cold_oci_p50_le_60ms"] = r["cold_start_p50_ms_oci"] <= 60
r["target_cold_oci_3x_faster_than_podman_run"] = r["cold_oci_vs_podman_run_speedup"] >= 3
r["target_warm_oci_within_100us_of_process"] = r["warm_invoke_oci_minus_process_us"] <= 100
r["target_cold_oci_1769mb_p50_le_60ms"] = r["cold_start_p50_ms_oci_1769mb"] <= 60
r["target_cold_oci_1769mb_3x_faster_than_podman_run"] = r["cold_oci_1769mb_vs_podman_run_speedup"] >= 3
r["target_warm_oci_1769mb_within_100us_of_process"] = r["warm_invoke_oci_1769mb_minus_process_us"] <= 100
os.makedirs(os.path.join(root, "bench/results"), exist_ok=True)
with open(os.path.join(root, "bench/results/containers.json"), "w") as f:
    json.dump(r, f, indent=1)
    f.write("\n")

yn = lambda b: "met" if b else "NOT met"
times = lambda x: "%.2f× faster" % x if x >= 1 else "%.2f× slower" % (1 / x)
table = f"""Run {r['date']} on {r['machine_cores']} cores ({r['machine_cpu']}, Linux {r['kernel']}), commit {r['git_rev']}, `make bench-containers` (release build; {r['runc_version']}, {r['podman_version']}).

| What | process driver | container driver: oci (runc), or docker where the row says | Peer | Ratio |
|---|---|---|---|---|
| Cold start, C runtime, p50 / p99 (n={r['cold_start_n']} each; no sandbox → first response) | {r['cold_start_p50_ms_process']} ms / {r['cold_start_p99_ms_process']} ms | {r['cold_start_p50_ms_oci']} ms / {r['cold_start_p99_ms_oci']} ms | `podman run --rm … true` (n={r['cold_start_podman_run_n']}): {r['cold_start_p50_ms_podman_run']} ms / {r['cold_start_p99_ms_podman_run']} ms; floor `runc run` /bin/true (n={r['runc_run_true_n']}): {r['runc_run_true_p50_ms']} ms / {r['runc_run_true_p99_ms']} ms (CPU of the runc / podman command per run: {r['runc_run_true_cpu_ms']} / {r['podman_run_cpu_ms']} ms) | oci {r['cold_oci_vs_podman_run_speedup']}× faster than podman run (p50) |
| Cold start, oci at memory_mb 1769 (one vCPU of CFS quota instead of 0.07), p50 / p99 | | {r['cold_start_p50_ms_oci_1769mb']} ms / {r['cold_start_p99_ms_oci_1769mb']} ms | | {r['cold_oci_1769mb_vs_podman_run_speedup']}× faster than podman run (p50) |
| Warm invoke back to back, p50 / p99 (n={r['warm_invoke_n']}; oci: thaw + invoke + freeze after) | {r['warm_invoke_p50_us_process']:.0f} µs / {r['warm_invoke_p99_us_process']:.0f} µs | {r['warm_invoke_p50_us_oci']:.0f} µs / {r['warm_invoke_p99_us_oci']:.0f} µs | | oci − process: {r['warm_invoke_oci_minus_process_us']:+.0f} µs (p50) |
| Warm invoke back to back, oci at memory_mb 1769, p50 / p99 | | {r['warm_invoke_p50_us_oci_1769mb']:.0f} µs / {r['warm_invoke_p99_us_oci_1769mb']:.0f} µs | | oci − process: {r['warm_invoke_oci_1769mb_minus_process_us']:+.0f} µs (p50) |
| Invoke after a 50 ms idle pause, p50 / p99 (n={r['thaw_invoke_n']}; oci: sandbox frozen → thaw + invoke) | {r['paced_invoke_p50_us_process']:.0f} µs / {r['paced_invoke_p99_us_process']:.0f} µs | {r['thaw_invoke_p50_us']:.0f} µs / {r['thaw_invoke_p99_us']:.0f} µs | | oci − process: {r['thaw_invoke_minus_process_us']:+.0f} µs (p50) |
| Invoke after a 50 ms pause, oci at memory_mb 1769 | | {r['thaw_invoke_p50_us_1769mb']:.0f} µs / {r['thaw_invoke_p99_us_1769mb']:.0f} µs | | |
| Sandbox starts, {r['burst_sandboxes']} functions invoked at once (executor_max_starting 1000) | {r['sandbox_starts_per_s_process']} /s | {r['sandbox_starts_per_s']} /s ({r['sandbox_starts_burst_wall_ms']} ms for all; each p50 {r['sandbox_starts_burst_p50_ms']} ms) | | |
| Idle sandbox memory | agent + runtime RSS {r['idle_sandbox_rss_kb_process']} kB | agent + runtime RSS {r['idle_sandbox_rss_kb']} kB; memory cgroup usage {r['idle_sandbox_cgroup_usage_kb']} kB (freezer {r['idle_sandbox_freezer_state']}) | | |
| Daemon peak RSS (VmHWM), {r['oci_containers_live_at_end']} oci sandboxes live at the end | {r['daemon_peak_rss_mb']} MB | | | |
| docker driver (Podman's API service, runc): cold start p50 / p99 (n={r['cold_start_n_docker']}) | | {r['cold_start_p50_ms_docker']} ms / {r['cold_start_p99_ms_docker']} ms | `podman run --rm`: {r['cold_start_p50_ms_podman_run']} ms | {times(r['cold_docker_vs_podman_run_speedup'])} than podman run (p50) |
| docker driver: warm invoke back to back, p50 / p99 | | {r['warm_invoke_p50_us_docker']:.0f} µs / {r['warm_invoke_p99_us_docker']:.0f} µs | | docker − process: {r['warm_invoke_docker_minus_process_us']:+.0f} µs (p50) |

Errors: cold {r['cold_start_errors']}, podman run {r['cold_start_podman_run_errors']}, runc run {r['runc_run_true_errors']}, warm {r['warm_invoke_errors']}, paced {r['thaw_invoke_errors']}, burst {r['sandbox_starts_burst_errors']}; containers left after the run: {r['containers_left_after_stop']}.
CFS throttling at 128 MB (quota 7.2 ms per 100 ms): the warm oci sandbox was throttled in {r['warm_invoke_oci_throttled_periods']} periods ({r['warm_invoke_oci_throttled_ms']} ms in all; 1769 MB: {r['warm_invoke_oci_1769mb_throttled_periods']} periods), {r['cold_start_oci_throttled_sandboxes']} of the {r['cold_start_n']} cold 128 MB sandboxes at least once (1769 MB: {r['cold_start_oci_1769mb_throttled_sandboxes']}).
Targets at 128 MB (the default): oci cold start p50 ≤ 60 ms — {yn(r['target_cold_oci_p50_le_60ms'])}; ≥ 3× faster than `podman run` — {yn(r['target_cold_oci_3x_faster_than_podman_run'])}; oci warm invoke within 100 µs of process (p50, back to back) — {yn(r['target_warm_oci_within_100us_of_process'])}.
Targets at 1769 MB: cold p50 ≤ 60 ms — {yn(r['target_cold_oci_1769mb_p50_le_60ms'])}; ≥ 3× podman run — {yn(r['target_cold_oci_1769mb_3x_faster_than_podman_run'])}; warm within 100 µs — {yn(r['target_warm_oci_1769mb_within_100us_of_process'])}."""

path = os.path.join(root, "bench/RESULTS.md")
text = open(path).read()
begin, end = "<!-- containers:begin -->", "<!-- containers:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(path, "w").write(text[:a] + "\n" + table + "\n" + text[b:])
print(json.dumps(r, indent=1))
PY
