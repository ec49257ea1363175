# kafka.sh: sourced by tests and benchmarks that need Kafka. The cluster is the kmock helper
# (tests/lib/kmock.c: librdkafka's mock cluster, 3 brokers on 127.0.0.1, ephemeral ports; see
# services.md §4 for its limits), read with kcat. POSIX sh.
#
#   kafka_start DIR TOPIC PARTITIONS   start kmock (state and log in DIR); sets KAFKA_BOOTSTRAP
#                                      (HOST:PORT,...), KAFKA_PID and KAFKA_DIR
#   kafka_down / kafka_up              every broker down (connections closed and refused) / up
#                                      again; both return once the cluster applied it
#   kafka_consume TOPIC COUNT          print up to COUNT messages from the beginning, one
#                                      "KEY<TAB>VALUE" line each (empty KEY when none); stops
#                                      at the end of the topic
#   kafka_stop                         SIGTERM by pid and wait for it
#
# KAFKA_KMOCK overrides the helper's path (default: $SLUICE_BUILD/tests/kmock, SLUICE_BUILD as
# tests/run.sh exports it, else build/asan).
KAFKA_BOOTSTRAP=""
KAFKA_PID=""
KAFKA_DIR=""
KAFKA_KMOCK=${KAFKA_KMOCK:-${SLUICE_BUILD:-build/asan}/tests/kmock}

kafka_start() {
	local i
	KAFKA_DIR=$1
	mkdir -p "$KAFKA_DIR"
	rm -f "$KAFKA_DIR/bootstrap"
	"$KAFKA_KMOCK" 3 "$2" "$3" "$KAFKA_DIR/bootstrap" >"$KAFKA_DIR/kmock.log" 2>&1 </dev/null &
	KAFKA_PID=$!
	for i in $(seq 100); do
		[ -s "$KAFKA_DIR/bootstrap" ] && break
		kill -0 "$KAFKA_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$KAFKA_DIR/bootstrap" ]; then
		echo "kmock did not start:" >&2
		tail -n 5 "$KAFKA_DIR/kmock.log" >&2
		kafka_stop
		return 1
	fi
	KAFKA_BOOTSTRAP=$(cat "$KAFKA_DIR/bootstrap")
}

# kafka_signal SIGNAL STATE: signal kmock, then wait until it logged "brokers STATE" once more
# (it logs after the mock cluster applied the change, so the caller may rely on it at once).
kafka_signal() {
	local seen i
	seen=$(grep -c "^kmock: brokers $2\$" "$KAFKA_DIR/kmock.log")
	kill -"$1" "$KAFKA_PID" || return 1
	for i in $(seq 100); do
		[ "$(grep -c "^kmock: brokers $2\$" "$KAFKA_DIR/kmock.log")" -gt "$seen" ] &&
			return 0
		sleep 0.1
	done
	echo "kmock did not report brokers $2 within 10 s" >&2
	return 1
}
kafka_down() { kafka_signal USR1 down; }
kafka_up() { kafka_signal USR2 up; }

kafka_consume() {
	timeout 30 kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -o beginning -c "$2" -e -q \
		-f '%k\t%s\n'
}

# kmock is ours and exits within seconds of SIGTERM: no SIGKILL fallback, a kmock that does not
# stop is a bug, and shows as the test's timeout.
kafka_stop() {
	[ -n "$KAFKA_PID" ] || return 0
	kill -TERM "$KAFKA_PID" 2>/dev/null
	wait "$KAFKA_PID" 2>/dev/null
	KAFKA_PID=""
}
