# redis.sh: sourced by tests and benchmarks that need a Redis server (POSIX sh, like podman.sh).
# redis_start starts redis-server on 127.0.0.1 on a free port, with no persistence (--save '',
# --appendonly no; REDIS_PERSIST=1 before redis_start turns on the append-only file, fsync'd at
# every write, so a server killed with SIGKILL comes back with every write it answered) and its
# dir, log and pid file in DIR, and waits until it answers PING (and INFO names its pid).
#
# Free port: python3 binds port 0 on 127.0.0.1 and prints what the kernel chose, then closes it.
# Another process may take the port before redis-server binds it; redis-server then exits
# ("Address already in use") and redis_start tries again with a new port, up to 3 times.
#
# REDIS_PID is the server's own pid (redis-server is started directly with &, not through a
# shell function or a wrapper), so redis_stop can signal it and wait for it to exit.
#
#   redis_start DIR      sets REDIS_PORT, REDIS_PID; 1 (and the log's tail) when it does not start
#   redis_restart DIR    after redis_stop: start again on the same port (an empty server, unless
#                        REDIS_PERSIST=1)
#   redis_cli ARGS...    redis-cli against it (e.g. redis_cli XLEN dlq)
#   redis_stop [SIGNAL]  SIGTERM (or SIGNAL, e.g. KILL) and wait for the exit
REDIS_PORT=""
REDIS_PID=""
REDIS_PERSIST=${REDIS_PERSIST:-0}

redis_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# redis_wait_ready: 0 once the server answers PING and is REDIS_PID (not another server that
# holds the port), 1 when it exited or did not answer in 5 s.
redis_wait_ready() {
	local i
	for i in $(seq 50); do
		if [ "$(redis_cli ping 2>/dev/null)" = PONG ]; then
			redis_cli info server | grep -q "^process_id:$REDIS_PID" && return 0
		fi
		kill -0 "$REDIS_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# redis_spawn DIR: start redis-server on REDIS_PORT; 0 once ready.
redis_spawn() {
	local aof=no
	[ "$REDIS_PERSIST" = 1 ] && aof=yes
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly "$aof" \
		--appendfsync always --dir "$1" --logfile "$1/redis.log" --daemonize no \
		</dev/null >/dev/null 2>&1 &
	REDIS_PID=$!
	echo "$REDIS_PID" >"$1/redis.pid"
	redis_wait_ready
}

redis_start() {
	local dir=$1 try
	mkdir -p "$dir"
	for try in 1 2 3; do
		REDIS_PORT=$(redis_free_port) || return 1
		redis_spawn "$dir" && return 0
		redis_stop
	done
	echo "redis-server did not start in $dir:" >&2
	tail -n 5 "$dir/redis.log" >&2
	return 1
}

redis_restart() { redis_spawn "$1"; }

# redis_stop [SIGNAL]: SIGTERM or SIGNAL (and SIGCONT, should a test have stopped it with
# SIGSTOP), then wait until it exited (wait reaps it; the loop covers a server started by another
# shell).
redis_stop() {
	[ -n "$REDIS_PID" ] || return 0
	kill -s "${1:-TERM}" "$REDIS_PID" 2>/dev/null
	kill -CONT "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	while kill -0 "$REDIS_PID" 2>/dev/null; do sleep 0.1; done
	REDIS_PID=""
}
