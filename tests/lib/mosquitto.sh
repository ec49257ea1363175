# mosquitto.sh: sourced by tests (after harness.sh) and benchmarks that need an MQTT broker.
# mqtt_start runs Mosquitto 2.0 from its Debian binary on a free port of 127.0.0.1, with its config,
# log and (when asked) persistence in DIR; mqtt_stop stops it by its pid. The broker's in-flight
# limit is 1000: with QoS 2, a v3.1.1 publisher with more messages in flight than the broker allows
# gets PUBREC for each but the broker drops the excess.
#
# POSIX sh, so that bench scripts can source it too.
#
#   mqtt_start DIR [persist]   sets MQTT_PORT, MQTT_PID; returns once a publish is accepted.
#                              persist: messages queued for durable sessions survive a restart
#                              (persistence_location DIR; mqtt_stop saves them). On a DIR it
#                              ran in before (after mqtt_stop): the same port and config again
#   mqtt_sub TOPIC COUNT FILE [SECS]
#                              mosquitto_sub in the background (pid in MQTT_SUB_PID), subscribed
#                              at QoS 1 before it returns: each message's payload as one line of
#                              FILE; it exits after COUNT messages (or after SECS seconds)
#   mqtt_stop                  SIGTERM (and SIGCONT), wait: in the shell that started it
MQTT_PORT=""
MQTT_PID=""
MQTT_DIR=""
MQTT_SUB_PID=""
MQTT_SUBS=0

# mqtt_config DIR MODE: DIR/mosquitto.conf on a free port.
mqtt_config() {
	local dir=$1 mode=$2 port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
max_queued_messages 100000
max_inflight_messages 1000
log_dest stderr
log_type error
log_type warning
log_type notice
log_type subscribe
CONF
	if [ "$mode" = persist ]; then
		printf 'persistence true\npersistence_location %s/\n' "$dir" >>"$dir/mosquitto.conf"
		# as root, mosquitto would drop to its own user, which cannot write into a temp dir of root
		[ "$(id -u)" != 0 ] || echo "user root" >>"$dir/mosquitto.conf"
	else
		echo "persistence false" >>"$dir/mosquitto.conf"
	fi
}

mqtt_start() {
	local dir=$1 i
	mkdir -p "$dir"
	[ -f "$dir/mosquitto.conf" ] || mqtt_config "$dir" "${2:-}"
	MQTT_DIR=$dir
	MQTT_PORT=$(sed -n 's/^listener \([0-9]*\) .*/\1/p' "$dir/mosquitto.conf")
	mosquitto -c "$dir/mosquitto.conf" >>"$dir/mosquitto.log" 2>&1 </dev/null &
	MQTT_PID=$!
	for i in $(seq 50); do
		mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t sluice/ping -n 2>/dev/null && return 0
		kill -0 "$MQTT_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "mosquitto did not accept a publish on 127.0.0.1:$MQTT_PORT:" >&2
	tail -n 5 "$dir/mosquitto.log" >&2
	mqtt_stop
	return 1
}

mqtt_sub() {
	local topic=$1 count=$2 file=$3 secs=${4:-} id i
	MQTT_SUBS=$((MQTT_SUBS + 1))
	id=sluice-sub-$$-$MQTT_SUBS
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -i "$id" -q 1 -t "$topic" -C "$count" \
		${secs:+-W "$secs"} >"$file" 2>>"$MQTT_DIR/mosquitto_sub.log" </dev/null &
	MQTT_SUB_PID=$!
	# the broker logs "<client id> <qos> <topic>" once the subscription is in place
	for i in $(seq 50); do
		grep -q ": $id 1 $topic\$" "$MQTT_DIR/mosquitto.log" 2>/dev/null && return 0
		kill -0 "$MQTT_SUB_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "mosquitto_sub did not subscribe to $topic:" >&2
	tail -n 5 "$MQTT_DIR/mosquitto_sub.log" >&2
	return 1
}

mqtt_stop() {
	[ -n "$MQTT_PID" ] || return 0
	kill -TERM "$MQTT_PID" 2>/dev/null
	kill -CONT "$MQTT_PID" 2>/dev/null   # a test may have stopped it
	wait "$MQTT_PID" 2>/dev/null
	MQTT_PID=""
}
