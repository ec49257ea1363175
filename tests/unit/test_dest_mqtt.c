/* Unit tests for dispatcher/dest_mqtt.c against a real Mosquitto 2.0 started per test
 * (service_proc.h: its own config in a temp dir, a free port, stopped by pid). What arrives is
 * read by a second libmosquitto client subscribed at QoS 2, pumped with mosquitto_loop(..., 0, 1)
 * between turns of the destination's loop. The fallback to MQTT 3.1.1 runs against a small fake
 * broker forked by the test. Includes the .c (STYLE 17) for now_ms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dispatcher/dest_mqtt.c"
#include "core/loop.h"
#include "tests/unit/service_proc.h"

#include <sys/stat.h>

#define TOPIC      "sluice/dlq"
#define MAX_CALLS  4096
#define MAX_MSGS   4096
#define ANONYMOUS  "allow_anonymous true\n"

struct broker {
	char *dir;
	char conf[256];
	int port;
	pid_t pid;
};

struct call {                      /* one deliver: how its done was called */
	int calls;
	int status;
	int64_t at_ms;
};

struct msg {                       /* one message the subscriber got */
	char *payload;
	int len;
	int qos;
	bool retain;
};

struct fixture {
	struct event_base *base;
	struct broker broker;
	struct sl_destination_config cfg;
	struct mosquitto *sub;
	bool subscribed;
	struct msg msgs[MAX_MSGS];
	int n_msgs;
	struct call calls[MAX_CALLS];
	int n_calls;
	int saved_stderr;          /* while the log is captured */
	char capture_path[64];
};

/* ---- the broker ------------------------------------------------------------------------------ */

static void broker_spawn(struct broker *b)
{
	char log[300];

	snprintf(log, sizeof(log), "%s/mosquitto.log", b->dir);
	b->pid = svc_spawn((char *[]){ "mosquitto", "-c", b->conf, NULL }, log);
	svc_wait_port(b->pid, b->port, 5000);
}

/* Start the broker (its dir and port come from setup) with the lines of extra in its config.
 * Its in-flight limit stays at the default 20: over MQTT 5 the destination keeps to it, where a
 * 3.1.1 publisher with more QoS 2 messages in flight loses the excess (services.md §3). */
static void broker_start(struct fixture *fx, const char *extra)
{
	struct broker *b = &fx->broker;
	FILE *f = fopen(b->conf, "w");

	assert_non_null(f);
	fprintf(f, "listener %d 127.0.0.1\npersistence false\nlog_dest stderr\n"
		"max_queued_messages 100000\n%s", b->port, extra);
	fclose(f);
	broker_spawn(b);
}

static void broker_stop(struct broker *b)
{
	svc_stop(b->pid);
	b->pid = 0;
}

/* Path of a file in the broker's dir, into buf. */
static char *broker_file(struct fixture *fx, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", fx->broker.dir, name);
	return buf;
}

/* ---- the subscriber -------------------------------------------------------------------------- */

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct fixture *fx = arg;
	struct msg *out = &fx->msgs[fx->n_msgs++];

	(void)m;
	assert_true(fx->n_msgs <= MAX_MSGS);
	out->payload = sl_xstrndup(msg->payload, (size_t)msg->payloadlen);
	out->len = msg->payloadlen;
	out->qos = msg->qos;
	out->retain = msg->retain;
}

static void on_subscribed(struct mosquitto *m, void *arg, int mid, int n, const int *granted)
{
	(void)m;
	(void)mid;
	(void)n;
	(void)granted;
	((struct fixture *)arg)->subscribed = true;
}

static void pump(struct fixture *fx)
{
	event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	if (fx->sub)
		assert_int_equal(mosquitto_loop(fx->sub, 0, 1), MOSQ_ERR_SUCCESS);
	svc_sleep_ms(1);
}

#define RUN_UNTIL(fx, cond, ms)                                         \
	do {                                                            \
		int64_t end_ = now_ms() + (ms);                         \
		while (!(cond) && now_ms() < end_)                      \
			pump(fx);                                       \
	} while (0)

static void run_for(struct fixture *fx, int ms)
{
	RUN_UNTIL(fx, false, ms);
}

static void subscribe(struct fixture *fx, const char *topic)
{
	fx->sub = sl_check_alloc(mosquitto_new(NULL, true, fx));
	mosquitto_message_callback_set(fx->sub, on_message);
	mosquitto_subscribe_callback_set(fx->sub, on_subscribed);
	assert_int_equal(mosquitto_connect(fx->sub, "127.0.0.1", fx->broker.port, 60), 0);
	assert_int_equal(mosquitto_subscribe(fx->sub, NULL, topic, 2), 0);
	RUN_UNTIL(fx, fx->subscribed, 5000);
	assert_true(fx->subscribed);
}

/* ---- the destination ------------------------------------------------------------------------- */

static void on_done(void *arg, int status)
{
	struct call *c = arg;

	c->calls++;
	c->status = status;
	c->at_ms = now_ms();
}

static struct sl_destination *make(struct fixture *fx)
{
	struct sl_destination *d = NULL;

	assert_int_equal(sl_destination_new(fx->base, &fx->cfg, &d), 0);
	return d;
}

static json_t *record(int n)
{
	return json_pack("{s:s, s:i, s:s}", "condition", "RetryAttemptsExhausted", "n", n,
			 "text", "caf\xc3\xa9 \"quoted\"\nsecond line");
}

/* Deliver record(n); done must not be called from inside. */
static struct call *deliver(struct fixture *fx, struct sl_destination *d, int n)
{
	struct call *c = &fx->calls[fx->n_calls++];
	json_t *rec = record(n);

	assert_true(fx->n_calls <= MAX_CALLS);
	sl_destination_deliver(d, rec, on_done, c);
	json_decref(rec);
	assert_int_equal(c->calls, 0);
	return c;
}

/* Deliver and wait for its done: the status. */
static int deliver_wait(struct fixture *fx, struct sl_destination *d, int n)
{
	struct call *c = deliver(fx, d, n);

	RUN_UNTIL(fx, c->calls, 15000);
	assert_int_equal(c->calls, 1);
	return c->status;
}

/* A destination made for one record: the record's status. */
static int deliver_to_new(struct fixture *fx, int n)
{
	struct sl_destination *d = make(fx);
	int status = deliver_wait(fx, d, n);

	sl_destination_free(d);
	return status;
}

/* A destination that stored one record, then its broker stopped (SIGSTOP): the connection stays,
 * the broker takes what comes and acknowledges nothing. */
static struct sl_destination *up_then_broker_stopped(struct fixture *fx)
{
	broker_start(fx, ANONYMOUS);
	struct sl_destination *d = make(fx);
	assert_int_equal(deliver_wait(fx, d, 0), 0);
	assert_int_equal(kill(fx->broker.pid, SIGSTOP), 0);
	return d;
}

/* Deliver every 100 ms until one is stored; fails after ms. */
static void deliver_until_stored(struct fixture *fx, struct sl_destination *d, int ms)
{
	int64_t end = now_ms() + ms;

	while (deliver_wait(fx, d, 0) != 0) {
		assert_true(now_ms() < end);
		run_for(fx, 100);
	}
}

static void assert_called_once(struct call *from, int n, int status)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(from[i].calls, 1);
		assert_int_equal(from[i].status, status);
	}
}

/* ---- the log --------------------------------------------------------------------------------- */

static void capture_begin(struct fixture *fx)
{
	strcpy(fx->capture_path, "/tmp/sluice-mqtt-log-XXXXXX");
	int fd = mkstemp(fx->capture_path);

	assert_true(fd >= 0);
	fflush(stderr);
	fx->saved_stderr = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
}

/* The captured log (static buffer), also echoed to the real stderr. */
static const char *capture_end(struct fixture *fx)
{
	static char text[16384];
	FILE *f;
	size_t n;

	fflush(stderr);
	assert_true(dup2(fx->saved_stderr, STDERR_FILENO) >= 0);
	close(fx->saved_stderr);
	f = fopen(fx->capture_path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(fx->capture_path);
	fputs(text, stderr);
	return text;
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- setup ----------------------------------------------------------------------------------- */

/* The broker's dir is readable by all: as root, mosquitto drops to its own user before it
 * reads password, ACL and certificate files. */
static int setup(void **state)
{
	struct fixture *fx = sl_xcalloc(1, sizeof(*fx));
	struct broker *b = &fx->broker;

	fx->base = sl_loop_new();
	b->dir = svc_temp_dir("mqtt");
	assert_int_equal(chmod(b->dir, 0755), 0);
	b->port = svc_free_port();
	snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
	fx->cfg = (struct sl_destination_config){ .name = "dlq", .kind = SL_DEST_MQTT,
		.host = "127.0.0.1", .port = b->port, .topic = TOPIC, .qos = 1,
		.timeout_ms = 5000 };
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->sub)
		mosquitto_destroy(fx->sub);
	if (fx->broker.pid > 0)
		kill(fx->broker.pid, SIGCONT);
	svc_stop(fx->broker.pid);
	svc_remove_dir(fx->broker.dir);
	for (int i = 0; i < fx->n_msgs; i++)
		free(fx->msgs[i].payload);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_record_arrives_byte_exact_at_each_qos(void **state)
{
	struct fixture *fx = *state;
	json_t *rec = record(0);
	char *want = json_dumps(rec, JSON_COMPACT);

	broker_start(fx, ANONYMOUS);
	subscribe(fx, TOPIC);
	for (int qos = 0; qos <= 2; qos++) {
		fx->cfg.qos = qos;
		struct sl_destination *d = make(fx);
		/* the first while connecting (published on the CONNACK), the second once up */
		assert_int_equal(deliver_wait(fx, d, 0), 0);
		assert_int_equal(deliver_wait(fx, d, 0), 0);
		RUN_UNTIL(fx, fx->n_msgs == 2 * (qos + 1), 5000);
		assert_int_equal(fx->n_msgs, 2 * (qos + 1));
		for (int i = 2 * qos; i < fx->n_msgs; i++) {
			assert_int_equal(fx->msgs[i].len, (int)strlen(want));
			assert_memory_equal(fx->msgs[i].payload, want, strlen(want));
			assert_int_equal(fx->msgs[i].qos, qos);
			assert_false(fx->msgs[i].retain);
		}
		sl_destination_free(d);
	}
	assert_int_equal(fx->n_calls, 6);
	assert_called_once(fx->calls, 6, 0);
	free(want);
	json_decref(rec);
}

/* n records at qos: each done once with 0, each arrived once. */
static void deliver_many(struct fixture *fx, int qos, int n)
{
	struct call *first = &fx->calls[fx->n_calls];
	int base = fx->n_msgs;
	int *seen = sl_xcalloc((size_t)n, sizeof(int));

	fx->cfg.qos = qos;
	struct sl_destination *d = make(fx);
	for (int i = 0; i < n; i++)
		deliver(fx, d, i);
	RUN_UNTIL(fx, first[n - 1].calls && fx->n_msgs == base + n, 30000);
	run_for(fx, 200);                    /* nothing more comes */
	assert_called_once(first, n, 0);
	assert_int_equal(fx->n_msgs, base + n);
	for (int i = base; i < fx->n_msgs; i++) {
		json_t *got = json_loads(fx->msgs[i].payload, 0, NULL);
		int k = (int)json_integer_value(json_object_get(got, "n"));
		assert_true(k >= 0 && k < n);
		seen[k]++;
		json_decref(got);
	}
	for (int i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	free(seen);
	sl_destination_free(d);
	assert_called_once(first, n, 0);
}

static void test_many_records_each_acknowledged_once(void **state)
{
	struct fixture *fx = *state;

	broker_start(fx, ANONYMOUS);
	subscribe(fx, TOPIC);
	deliver_many(fx, 1, 2500);
	deliver_many(fx, 2, 1000);
}

static void test_broker_not_running_fails_promptly(void **state)
{
	struct fixture *fx = *state;

	struct sl_destination *d = make(fx);    /* nothing listens on its port */
	for (int i = 0; i < 2; i++) {
		int64_t t0 = now_ms();
		assert_int_equal(deliver_wait(fx, d, i), -ECONNREFUSED);
		assert_true(fx->calls[i].at_ms - t0 < 1000);   /* not the 5 s timeout */
	}
	sl_destination_free(d);
	assert_called_once(fx->calls, 2, -ECONNREFUSED);
}

static void test_broker_killed_with_records_in_flight(void **state)
{
	struct fixture *fx = *state;

	fx->cfg.timeout_ms = 20000;
	struct sl_destination *d = up_then_broker_stopped(fx);
	struct call *first = &fx->calls[fx->n_calls];
	for (int i = 0; i < 5; i++)
		deliver(fx, d, i);
	run_for(fx, 200);
	for (int i = 0; i < 5; i++)
		assert_int_equal(first[i].calls, 0);
	int64_t t0 = now_ms();
	svc_kill(fx->broker.pid);
	fx->broker.pid = 0;
	RUN_UNTIL(fx, first[4].calls, 5000);
	run_for(fx, 300);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(first[i].calls, 1);
		assert_true(first[i].status == -ECONNRESET || first[i].status == -EPIPE);
		assert_true(first[i].at_ms - t0 < 3000);       /* the loss, not the timeout */
	}
	sl_destination_free(d);
	for (int i = 0; i < 5; i++)
		assert_int_equal(first[i].calls, 1);
}

static void test_reconnects_after_broker_restart(void **state)
{
	struct fixture *fx = *state;

	broker_start(fx, ANONYMOUS);
	struct sl_destination *d = make(fx);
	assert_int_equal(deliver_wait(fx, d, 0), 0);
	capture_begin(fx);
	broker_stop(&fx->broker);
	run_for(fx, 100);
	for (int i = 0; i < 5; i++)
		assert_true(deliver_wait(fx, d, i) < 0);
	run_for(fx, 1000);                   /* several attempts while it is away */
	broker_spawn(&fx->broker);
	deliver_until_stored(fx, d, 10000);
	sl_destination_free(d);
	const char *log = capture_end(fx);
	/* one line per change (lost, maybe refused, back), none per record or attempt */
	assert_int_equal(count(log, "WARN  destination:dlq connection to 127.0.0.1"), 1);
	assert_true(count(log, "WARN ") <= 2);
	assert_int_equal(count(log, "INFO  destination:dlq connected to 127.0.0.1"), 1);
	assert_int_equal(count(log, " again (MQTT 5)"), 1);
}

static void test_stopped_broker_times_out(void **state)
{
	struct fixture *fx = *state;

	fx->cfg.timeout_ms = 500;
	struct sl_destination *d = up_then_broker_stopped(fx);
	int64_t t0 = now_ms();
	struct call *c = deliver(fx, d, 1);
	RUN_UNTIL(fx, c->calls, 5000);
	assert_int_equal(c->calls, 1);
	assert_int_equal(c->status, -ETIMEDOUT);
	assert_true(c->at_ms - t0 >= 480 && c->at_ms - t0 < 1500);
	assert_int_equal(kill(fx->broker.pid, SIGCONT), 0);
	deliver_until_stored(fx, d, 10000);
	sl_destination_free(d);
	assert_int_equal(c->calls, 1);
}

static void test_username_and_password(void **state)
{
	struct fixture *fx = *state;
	char pw[300], cmd[700], extra[400];

	broker_file(fx, "passwords", pw, sizeof(pw));
	snprintf(cmd, sizeof(cmd), "mosquitto_passwd -b -c %s sluice s3cret && chmod 644 %s", pw,
		 pw);
	assert_int_equal(system(cmd), 0);
	snprintf(extra, sizeof(extra), "allow_anonymous false\npassword_file %s\n", pw);
	broker_start(fx, extra);

	fx->cfg.username = "sluice";
	fx->cfg.password = "s3cret";
	assert_int_equal(deliver_to_new(fx, 0), 0);

	capture_begin(fx);
	fx->cfg.password = "wrong";
	int64_t t0 = now_ms();
	assert_int_equal(deliver_to_new(fx, 1), -EACCES);
	assert_true(now_ms() - t0 < 2000);
	fx->cfg.username = fx->cfg.password = NULL;
	assert_int_equal(deliver_to_new(fx, 2), -EACCES);
	const char *log = capture_end(fx);
	/* mosquitto 2.0 answers both with "not authorized" (0x87), not 0x86 */
	assert_int_equal(count(log, "127.0.0.1:"), 2);
	assert_int_equal(count(log, "refused: Not authorized; retrying"), 2);
}

static void test_refused_publish_fails_the_record(void **state)
{
	struct fixture *fx = *state;
	char acl[300], extra[400];
	FILE *f = fopen(broker_file(fx, "acl", acl, sizeof(acl)), "w");

	assert_non_null(f);
	fputs("topic readwrite " TOPIC "\n", f);
	fclose(f);
	snprintf(extra, sizeof(extra), ANONYMOUS "acl_file %s\n", acl);
	broker_start(fx, extra);

	capture_begin(fx);
	fx->cfg.topic = "sluice/not-allowed";
	for (int qos = 1; qos <= 2; qos++) {
		fx->cfg.qos = qos;
		struct sl_destination *d = make(fx);
		assert_int_equal(deliver_wait(fx, d, 0), -EACCES);
		assert_int_equal(deliver_wait(fx, d, 1), -EACCES);   /* the connection stays */
		sl_destination_free(d);
	}
	fx->cfg.topic = TOPIC;                   /* the control: allowed */
	assert_int_equal(deliver_to_new(fx, 2), 0);
	const char *log = capture_end(fx);
	assert_int_equal(count(log, "lost"), 0);
	assert_int_equal(count(log, "cannot connect"), 0);
}

static void test_destroy_cancels_outstanding(void **state)
{
	struct fixture *fx = *state;

	struct sl_destination *d = up_then_broker_stopped(fx);
	struct call *published = &fx->calls[fx->n_calls];
	for (int i = 0; i < 3; i++)
		deliver(fx, d, i);
	run_for(fx, 100);                   /* published, not acknowledged */
	sl_destination_free(d);
	assert_called_once(published, 3, -ECANCELED);

	/* A destination still waiting for its CONNACK: the records wait with it. */
	d = make(fx);
	struct call *waiting = &fx->calls[fx->n_calls];
	deliver(fx, d, 0);
	deliver(fx, d, 1);
	run_for(fx, 100);
	assert_int_equal(waiting[0].calls + waiting[1].calls, 0);
	sl_destination_free(d);
	assert_called_once(waiting, 2, -ECANCELED);
	run_for(fx, 100);                   /* and never again */
	assert_called_once(published, 3, -ECANCELED);
	assert_called_once(waiting, 2, -ECANCELED);
}

/* Certificates in the broker's dir: ca.crt signs srv.crt (127.0.0.1); other.crt is another CA. */
static void make_certificates(struct fixture *fx)
{
	char cmd[2048];
	const char *key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

	snprintf(cmd, sizeof(cmd),
		 "cd %s && exec 2>/dev/null && "
		 "openssl req -x509 %s -keyout ca.key -out ca.crt -days 2 -subj /CN=sluice-ca && "
		 "openssl req -x509 %s -keyout other.key -out other.crt -days 2 -subj /CN=other && "
		 "openssl req %s -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
		 "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
		 "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
		 "-out srv.crt -days 2 -extfile ext.cnf && chmod 644 *.key",
		 fx->broker.dir, key, key, key);
	assert_int_equal(system(cmd), 0);
}

/* With the broker stopped, fill its accept queue (backlog 100) so that the next connect stays in
 * progress (its SYN is dropped and sent again a second later); returns the filling sockets. */
static int *fill_accept_queue(struct fixture *fx, int n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)fx->cfg.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int *fds = sl_xcalloc((size_t)n, sizeof(int));

	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fds[i] >= 0);
		connect(fds[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	return fds;
}

static void test_tls(void **state)
{
	struct fixture *fx = *state;
	char extra[1024], ca[300], other[300];
	const char *dir = fx->broker.dir;

	make_certificates(fx);
	snprintf(extra, sizeof(extra), ANONYMOUS "cafile %s/ca.crt\ncertfile %s/srv.crt\n"
		 "keyfile %s/srv.key\n", dir, dir, dir);
	broker_start(fx, extra);

	fx->cfg.ca_file = broker_file(fx, "ca.crt", ca, sizeof(ca));
	assert_int_equal(deliver_to_new(fx, 0), 0);
	fx->cfg.ca_file = broker_file(fx, "other.crt", other, sizeof(other));
	assert_int_equal(deliver_to_new(fx, 1), -EPROTO);

	/* A TCP connect still in progress when the TLS handshake starts (eclipse/mosquitto#1507). */
	fx->cfg.ca_file = ca;
	assert_int_equal(kill(fx->broker.pid, SIGSTOP), 0);
	int *fill = fill_accept_queue(fx, 150);
	run_for(fx, 100);
	int64_t t0 = now_ms();
	struct sl_destination *d = make(fx);
	struct call *c = deliver(fx, d, 2);
	run_for(fx, 300);
	assert_int_equal(kill(fx->broker.pid, SIGCONT), 0);
	RUN_UNTIL(fx, c->calls, 4000);
	assert_int_equal(c->calls, 1);
	assert_int_equal(c->status, 0);
	assert_true(c->at_ms - t0 > 800);   /* it did wait for the SYN to be sent again */
	sl_destination_free(d);
	for (int i = 0; i < 150; i++)
		close(fill[i]);
	free(fill);
}

/* ---- a broker that speaks only MQTT 3.1.1 (forked) ------------------------------------------- */

static int read_full(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* One packet: returns its first byte (-1 at EOF), its body in body[*len]. */
static int read_packet(int fd, uint8_t *body, size_t cap, size_t *len)
{
	uint8_t type, b;
	size_t rl = 0;

	if (read_full(fd, &type, 1) < 0)
		return -1;
	for (int shift = 0;; shift += 7) {
		if (read_full(fd, &b, 1) < 0)
			return -1;
		rl |= (size_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (rl > cap || read_full(fd, body, rl) < 0)
		return -1;
	*len = rl;
	return type;
}

/* A v5 CONNECT gets 3.1.1's CONNACK "unacceptable protocol version"; a 3.1.1 session has each
 * QoS 1 PUBLISH acknowledged. out gets "connect <level>" per CONNECT and each payload. */
static void v311_session(int fd, FILE *out)
{
	uint8_t body[8192];
	size_t len;
	int type = read_packet(fd, body, sizeof(body), &len);

	if (type != 0x10 || len < 7)
		return;
	fprintf(out, "connect %d\n", body[6]);
	fflush(out);
	if (write(fd, body[6] == 4 ? "\x20\x02\x00\x00" : "\x20\x02\x00\x01", 4) != 4 ||
	    body[6] != 4)
		return;
	while ((type = read_packet(fd, body, sizeof(body), &len)) == 0x32) {
		size_t tlen = (size_t)body[0] << 8 | body[1];
		uint8_t ack[4] = { 0x40, 0x02, body[2 + tlen], body[3 + tlen] };
		fprintf(out, "%.*s\n", (int)(len - tlen - 4), (char *)body + tlen + 4);
		fflush(out);
		if (write(fd, ack, sizeof(ack)) != sizeof(ack))
			return;
	}
}

static pid_t fake_v311_broker(int port, const char *out_path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 8), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *out = fopen(out_path, "w");
		for (int fd; out && (fd = accept(ls, NULL, NULL)) >= 0; close(fd))
			v311_session(fd, out);
		_exit(1);
	}
	close(ls);
	return pid;
}

static void test_falls_back_to_mqtt_311(void **state)
{
	struct fixture *fx = *state;
	char out[64] = "/tmp/sluice-mqtt-v311-XXXXXX", text[4096];
	int fd = mkstemp(out);
	json_t *rec = record(0);
	char *want = json_dumps(rec, JSON_COMPACT);

	assert_true(fd >= 0);
	close(fd);
	fx->broker.pid = fake_v311_broker(fx->cfg.port, out);
	capture_begin(fx);
	struct sl_destination *d = make(fx);
	assert_int_equal(deliver_wait(fx, d, 0), 0);
	assert_int_equal(deliver_wait(fx, d, 0), 0);   /* on the same connection */
	sl_destination_free(d);
	const char *log = capture_end(fx);
	assert_int_equal(count(log, "does not speak MQTT 5; using 3.1.1"), 1);
	assert_int_equal(count(log, "connected to 127.0.0.1"), 1);
	assert_int_equal(count(log, "WARN"), 0);

	FILE *f = fopen(out, "r");
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(out);
	char *expect = sl_xasprintf("connect 5\nconnect 4\n%s\n%s\n", want, want);
	assert_string_equal(text, expect);
	free(expect);
	free(want);
	json_decref(rec);
}

static void test_bad_configs(void **state)
{
	struct fixture *fx = *state;
	struct sl_destination *d = (struct sl_destination *)1;

	assert_ptr_equal(sl_destination_kind("mqtt"), &sl_dest_mqtt_ops);
	fx->cfg.topic = NULL;
	assert_int_equal(sl_destination_new(fx->base, &fx->cfg, &d), -EINVAL);
	assert_null(d);
	fx->cfg.topic = TOPIC;
	fx->cfg.ca_file = "/nonexistent/ca.crt";
	assert_int_equal(sl_destination_new(fx->base, &fx->cfg, &d), -EINVAL);
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_arrives_byte_exact_at_each_qos, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_records_each_acknowledged_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_broker_not_running_fails_promptly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_broker_killed_with_records_in_flight, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reconnects_after_broker_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stopped_broker_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_username_and_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_publish_fails_the_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_destroy_cancels_outstanding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_falls_back_to_mqtt_311, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_configs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
