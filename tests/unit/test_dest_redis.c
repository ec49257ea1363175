/* Unit tests for dispatcher/dest_redis.c against a real redis-server (service_proc.h): records as
 * stream entries, trimming, many in flight, a server absent, killed, restarted, stopped (SIGSTOP)
 * or refusing (AUTH, WRONGTYPE), an idle connection closed, and destroy with records outstanding. Each record's done is
 * counted, so "exactly once" is checked, and what Redis stored is read back with plain
 * synchronous hiredis. */
#include "tests/unit/service_proc.h"

#include <hiredis/hiredis.h>
#include <event2/event.h>

#include "config/config.h"
#include "core/loop.h"
#include "dispatcher/destination.h"
#include "dispatcher/destination_kinds.h"

#define MAX_RECORDS 2000
#define STREAM "dlq"

struct fixture;

struct slot {                    /* one delivered record */
	struct fixture *fx;
	int calls;
	int status;
};

struct fixture {
	struct event_base *base;
	char *dir;
	int port;
	pid_t pid;                   /* the server, or 0 */
	struct sl_destination *dest;
	struct slot slots[MAX_RECORDS];
	int order[MAX_RECORDS];      /* slot indexes in the order done was called */
	int n_sent, n_done;
	FILE *log;                   /* captured stderr, or NULL */
	int saved_stderr;
};

/* ---- the server --------------------------------------------------------------------------- */

static void server_start(struct fixture *fx, const char *password)
{
	char port[16], log_path[256];
	char *argv[] = { "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
			 "--appendonly", "no", "--dir", fx->dir, "--stream-node-max-entries", "5",
			 password ? "--requirepass" : NULL, (char *)password, NULL };

	snprintf(port, sizeof(port), "%d", fx->port);
	snprintf(log_path, sizeof(log_path), "%s/redis.log", fx->dir);
	fx->pid = svc_spawn(argv, log_path);
	svc_wait_port(fx->pid, fx->port, 5000);
}

static void server_signal(struct fixture *fx, int sig)
{
	assert_int_equal(kill(fx->pid, sig), 0);
}

/* A synchronous query; the caller frees the reply. */
static redisReply *query(struct fixture *fx, const char *fmt, ...)
{
	redisContext *c = redisConnect("127.0.0.1", fx->port);
	va_list ap;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	redisFree(c);
	return r;
}

static long long stream_len(struct fixture *fx)
{
	redisReply *r = query(fx, "XLEN %s", STREAM);
	long long n = r->integer;

	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	freeReplyObject(r);
	return n;
}

/* ---- stderr capture (the destination's log lines) ----------------------------------------- */

static void capture_log(struct fixture *fx)
{
	fx->log = tmpfile();
	assert_non_null(fx->log);
	fx->saved_stderr = dup(STDERR_FILENO);
	assert_true(dup2(fileno(fx->log), STDERR_FILENO) >= 0);
}

/* The captured text (static buffer); capturing stops. */
static const char *captured_log(struct fixture *fx)
{
	static char text[16384];

	assert_true(dup2(fx->saved_stderr, STDERR_FILENO) >= 0);
	close(fx->saved_stderr);
	ssize_t n = pread(fileno(fx->log), text, sizeof(text) - 1, 0);
	assert_true(n >= 0);
	text[n] = '\0';
	fclose(fx->log);
	fx->log = NULL;
	fputs(text, stderr);   /* still visible in the test's output */
	return text;
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ---- the destination ---------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->base = sl_loop_new();
	fx->dir = svc_temp_dir("redis");
	fx->port = svc_free_port();
	fx->saved_stderr = -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->log)
		captured_log(fx);   /* a failed assertion left stderr captured */
	sl_destination_free(fx->dest);
	if (fx->pid > 0)
		kill(fx->pid, SIGCONT);   /* a stopped server would ignore SIGTERM */
	svc_stop(fx->pid);
	svc_remove_dir(fx->dir);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static struct sl_destination *make(struct fixture *fx, const char *password, int max_len,
				   int timeout_ms)
{
	char address[32];
	struct sl_destination_config cfg = { .name = "dlq", .kind = SL_DEST_REDIS,
					     .address = address, .stream = STREAM,
					     .password = (char *)password, .max_len = max_len,
					     .timeout_ms = timeout_ms };
	struct sl_destination *d = NULL;

	snprintf(address, sizeof(address), "127.0.0.1:%d", fx->port);
	assert_int_equal(sl_destination_new(fx->base, &cfg, &d), 0);
	return d;
}

static void on_done(void *arg, int status)
{
	struct slot *s = arg;
	struct fixture *fx = s->fx;

	s->calls++;
	s->status = status;
	fx->order[fx->n_done++] = (int)(s - fx->slots);
}

/* Deliver n records {"n": <slot>, "text": ...} to fx->dest; done is never called inside. */
static void deliver(struct fixture *fx, int n)
{
	int done_before = fx->n_done;

	assert_true(fx->n_sent + n <= MAX_RECORDS);
	for (int i = 0; i < n; i++) {
		struct slot *s = &fx->slots[fx->n_sent];
		json_t *rec = json_pack("{s:i, s:s}", "n", fx->n_sent, "text", "a \"quote\"\n€");
		s->fx = fx;
		fx->n_sent++;
		sl_destination_deliver(fx->dest, rec, on_done, s);
		json_decref(rec);
	}
	assert_int_equal(fx->n_done, done_before);
}

/* Run the loop for up to ms, or until every record sent is done when `until_done`; returns the
 * ms it ran. */
static long run(struct fixture *fx, long ms, bool until_done)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < ms && !(until_done && fx->n_done == fx->n_sent); i++) {
		event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		svc_sleep_ms(1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

/* Each of the records [from, to) was done exactly once, with status. */
static void assert_each_once(struct fixture *fx, int from, int to, int status)
{
	for (int i = from; i < to; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].status, status);
	}
}

/* Run until every record sent is done (at most 10 s), and check that the last n were done once
 * each with status. Returns the ms it took. */
static long expect_done(struct fixture *fx, int n, int status)
{
	long ms = run(fx, 10000, true);

	assert_int_equal(fx->n_done, fx->n_sent);
	assert_each_once(fx, fx->n_sent - n, fx->n_sent, status);
	return ms;
}

/* Start the server and fx->dest, and store one record: the connection is up. */
static void start_connected(struct fixture *fx, int timeout_ms)
{
	server_start(fx, NULL);
	fx->dest = make(fx, NULL, 0, timeout_ms);
	deliver(fx, 1);
	expect_done(fx, 1, 0);
}

/* Deliver one record at a time (as a trigger's retries would) until one is stored. */
static void deliver_until_stored(struct fixture *fx, long timeout_ms)
{
	for (long waited = 0; waited < timeout_ms; waited += 50) {
		deliver(fx, 1);
		run(fx, 1000, true);
		if (fx->slots[fx->n_sent - 1].status == 0)
			return;
		run(fx, 50, false);
	}
	fail_msg("no record stored within %ld ms", timeout_ms);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_record_is_one_stream_entry(void **state)
{
	struct fixture *fx = *state;

	start_connected(fx, 2000);
	redisReply *r = query(fx, "XRANGE %s - +", STREAM);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 1);
	redisReply *fields = r->element[0]->element[1];
	assert_int_equal(fields->elements, 2);
	assert_string_equal(fields->element[0]->str, "record");
	assert_string_equal(fields->element[1]->str,
			    "{\"n\":0,\"text\":\"a \\\"quote\\\"\\n€\"}");
	freeReplyObject(r);
}

static void test_max_len_trims(void **state)
{
	struct fixture *fx = *state;

	server_start(fx, NULL);
	fx->dest = make(fx, NULL, 10, 2000);
	deliver(fx, 200);
	expect_done(fx, 200, 0);
	/* "~": only whole nodes of 5 entries go, so 10 to 14 stay. */
	long long n = stream_len(fx);
	assert_true(n >= 10 && n < 15);
}

static void test_many_in_flight_all_stored_in_order(void **state)
{
	struct fixture *fx = *state;

	server_start(fx, NULL);
	fx->dest = make(fx, NULL, 0, 5000);
	deliver(fx, MAX_RECORDS);
	expect_done(fx, MAX_RECORDS, 0);
	for (int i = 0; i < MAX_RECORDS; i++)
		assert_int_equal(fx->order[i], i);

	redisReply *r = query(fx, "XRANGE %s - +", STREAM);
	assert_int_equal(r->elements, MAX_RECORDS);
	for (int i = 0; i < MAX_RECORDS; i++) {
		json_t *rec = json_loads(r->element[i]->element[1]->element[1]->str, 0, NULL);
		assert_int_equal(json_integer_value(json_object_get(rec, "n")), i);
		json_decref(rec);
	}
	freeReplyObject(r);
}

static void test_server_not_running_fails_promptly(void **state)
{
	struct fixture *fx = *state;
	char line[128];

	capture_log(fx);
	fx->dest = make(fx, NULL, 0, 5000);   /* nothing listens on fx->port */
	deliver(fx, 1);
	assert_true(expect_done(fx, 1, -ECONNREFUSED) < 500);
	deliver(fx, 3);                       /* while waiting to reconnect */
	assert_true(expect_done(fx, 3, -ECONNREFUSED) < 500);

	const char *log = captured_log(fx);
	snprintf(line, sizeof(line), "destination:dlq cannot store to redis at 127.0.0.1:%d: "
		 "Connection refused", fx->port);
	assert_int_equal(count(log, line), 1);   /* once per state, not per record */
}

static void test_server_killed_with_records_in_flight(void **state)
{
	struct fixture *fx = *state;

	start_connected(fx, 5000);
	server_signal(fx, SIGSTOP);           /* sent, never answered */
	deliver(fx, 50);
	run(fx, 100, false);
	assert_int_equal(fx->n_done, 1);
	svc_kill(fx->pid);
	fx->pid = 0;
	expect_done(fx, 50, -ECONNRESET);
	run(fx, 200, false);                  /* no second done comes later */
	assert_int_equal(fx->n_done, 51);
}

static void test_reconnects_after_restart(void **state)
{
	struct fixture *fx = *state;

	capture_log(fx);
	start_connected(fx, 2000);
	svc_stop(fx->pid);
	fx->pid = 0;
	deliver(fx, 1);
	run(fx, 3000, true);
	assert_true(fx->slots[1].status == -ECONNRESET || fx->slots[1].status == -ECONNREFUSED);

	server_start(fx, NULL);               /* same port */
	deliver_until_stored(fx, 5000);
	assert_int_equal(stream_len(fx), 1);
	const char *log = captured_log(fx);
	assert_non_null(strstr(log, "WARN  destination:dlq cannot store to redis at"));
	assert_int_equal(count(log, "INFO  destination:dlq storing to redis at"), 1);
}

static void test_idle_connection_closed_is_no_failure(void **state)
{
	struct fixture *fx = *state;

	capture_log(fx);
	start_connected(fx, 2000);
	redisReply *r = query(fx, "CLIENT KILL TYPE normal");   /* not this one */
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);
	run(fx, 100, false);
	deliver(fx, 1);
	expect_done(fx, 1, 0);
	assert_null(strstr(captured_log(fx), "cannot store"));
}

static void test_stalled_server_times_out(void **state)
{
	struct fixture *fx = *state;

	capture_log(fx);
	start_connected(fx, 300);
	server_signal(fx, SIGSTOP);
	deliver(fx, 3);
	long ms = expect_done(fx, 3, -ETIMEDOUT);
	assert_true(ms >= 290 && ms < 2000);

	server_signal(fx, SIGCONT);           /* it now answers the dropped connection's XADDs */
	deliver_until_stored(fx, 5000);
	assert_each_once(fx, 1, 4, -ETIMEDOUT);
	assert_non_null(strstr(captured_log(fx), "no reply within 300 ms"));
}

static void test_wrong_password(void **state)
{
	struct fixture *fx = *state;

	capture_log(fx);
	server_start(fx, "s3cret");
	fx->dest = make(fx, "wrong", 0, 2000);
	deliver(fx, 2);
	expect_done(fx, 2, -EACCES);
	sl_destination_free(fx->dest);

	fx->dest = make(fx, NULL, 0, 2000);   /* no AUTH at all: NOAUTH */
	deliver(fx, 1);
	expect_done(fx, 1, -EACCES);
	sl_destination_free(fx->dest);

	fx->dest = make(fx, "s3cret", 0, 2000);
	deliver(fx, 1);
	expect_done(fx, 1, 0);

	const char *log = captured_log(fx);
	assert_non_null(strstr(log, "cannot store to redis at 127.0.0.1"));
	assert_non_null(strstr(log, ": authentication failed: WRONGPASS"));
	assert_non_null(strstr(log, ": NOAUTH"));
}

static void test_error_reply_logged_once(void **state)
{
	struct fixture *fx = *state;

	capture_log(fx);
	server_start(fx, NULL);
	freeReplyObject(query(fx, "RPUSH %s not-a-stream", STREAM));
	fx->dest = make(fx, NULL, 0, 2000);
	deliver(fx, 3);
	expect_done(fx, 3, -EPROTO);

	freeReplyObject(query(fx, "DEL %s", STREAM));
	deliver(fx, 1);
	expect_done(fx, 1, 0);

	const char *log = captured_log(fx);
	assert_int_equal(count(log, "WRONGTYPE"), 1);
	assert_int_equal(count(log, "storing to redis at"), 1);
}

static void test_destroy_cancels_outstanding(void **state)
{
	struct fixture *fx = *state;

	start_connected(fx, 5000);
	server_signal(fx, SIGSTOP);
	deliver(fx, 5);
	run(fx, 50, false);
	sl_destination_free(fx->dest);
	fx->dest = NULL;
	assert_int_equal(fx->n_done, 6);
	assert_each_once(fx, 1, 6, -ECANCELED);

	/* Records failed while waiting to reconnect, not yet reported: done inside free too. */
	svc_kill(fx->pid);
	fx->pid = 0;
	fx->dest = make(fx, NULL, 0, 5000);
	deliver(fx, 1);
	expect_done(fx, 1, -ECONNREFUSED);
	deliver(fx, 2);
	sl_destination_free(fx->dest);
	fx->dest = NULL;
	assert_int_equal(fx->n_done, 9);
	assert_each_once(fx, 7, 9, -ECONNREFUSED);
}

static void test_bad_configs(void **state)
{
	struct fixture *fx = *state;
	struct sl_destination *d = NULL;
	struct sl_destination_config no_stream = { .name = "x", .kind = SL_DEST_REDIS,
						   .address = "127.0.0.1:6379", .timeout_ms = 100 };
	struct sl_destination_config bad_address = { .name = "y", .kind = SL_DEST_REDIS,
						     .address = "127.0.0.1", .stream = "s",
						     .timeout_ms = 100 };

	assert_int_equal(sl_destination_new(fx->base, &no_stream, &d), -EINVAL);
	assert_int_equal(sl_destination_new(fx->base, &bad_address, &d), -EINVAL);
	assert_null(d);
	assert_ptr_equal(sl_destination_kind("redis"), &sl_dest_redis_ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_is_one_stream_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_len_trims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_in_flight_all_stored_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_server_not_running_fails_promptly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_server_killed_with_records_in_flight, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reconnects_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_connection_closed_is_no_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stalled_server_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_reply_logged_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_cancels_outstanding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_configs, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);   /* as the daemon does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
