/* Unit tests for dispatcher/dest_kafka.c against a real Kafka peer: librdkafka's mock cluster
 * (3 brokers, made in this process on a handle of its own, so a test can take the brokers down
 * and up), read back by kcat as an outside consumer.
 *
 * Includes the .c (STYLE 17) to stretch its safety-net poll to an hour: every delivery report
 * must then reach the loop through the main queue's eventfd wake-up. Every test also checks that
 * no done ran inside deliver, and each record's done ran exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dispatcher/dest_kafka.c"
#include "core/loop.h"
#include "log_capture.h"
#include "service_proc.h"

#include <librdkafka/rdkafka_mock.h>

#define BROKERS 3
#define MAX_RECORDS 1000
#define ARN "arn:aws:lambda:us-east-1:000000000000:function:f"

struct slot {
	struct fixture *fx;
	int calls;
	int status;
};

struct fixture {
	struct event_base *base;
	rd_kafka_t *mock_rk;             /* hosts the cluster */
	rd_kafka_mock_cluster_t *mc;
	char *dir;                       /* kcat output */
	bool in_deliver;
	int done_calls;
	int done_inside_deliver;
	struct slot slots[MAX_RECORDS];
};

/* ---- helpers --------------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];

	fx->base = sl_loop_new();
	/* The hosting handle connects nowhere: its notice about no bootstrap.servers is noise. */
	rd_kafka_conf_set(conf, "log_level", "4", err, sizeof(err));
	fx->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(fx->mock_rk);
	fx->mc = rd_kafka_mock_cluster_new(fx->mock_rk, BROKERS);
	assert_non_null(fx->mc);
	fx->dir = svc_temp_dir("kafka");
	kafka_tick = (struct timeval){ 3600, 0 };
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	capture_abandon();
	assert_int_equal(fx->done_inside_deliver, 0);
	rd_kafka_mock_cluster_destroy(fx->mc);
	rd_kafka_destroy(fx->mock_rk);
	event_base_free(fx->base);
	svc_remove_dir(fx->dir);
	free(fx);
	return 0;
}

static void set_brokers(struct fixture *fx, bool up)
{
	for (int id = 1; id <= BROKERS; id++)
		assert_int_equal(up ? rd_kafka_mock_broker_set_up(fx->mc, id)
				    : rd_kafka_mock_broker_set_down(fx->mc, id), 0);
}

static struct sl_destination_config config_of(struct fixture *fx, const char *topic,
					      int timeout_ms, char **properties)
{
	return (struct sl_destination_config){
		.name = "kdlq", .kind = SL_DEST_KAFKA, .topic = (char *)topic,
		.brokers = (char *)rd_kafka_mock_cluster_bootstraps(fx->mc),
		.timeout_ms = timeout_ms, .properties = properties,
	};
}

/* A destination producing to a new topic. */
static struct sl_destination *make(struct fixture *fx, const char *topic, int partitions,
				   int timeout_ms, char **properties)
{
	struct sl_destination_config cfg = config_of(fx, topic, timeout_ms, properties);
	struct sl_destination *d = NULL;

	assert_int_equal(rd_kafka_mock_topic_create(fx->mc, topic, partitions, BROKERS), 0);
	assert_int_equal(sl_destination_new(fx->base, &cfg, &d), 0);
	return d;
}

static void on_done(void *arg, int status)
{
	struct slot *s = arg;

	s->calls++;
	s->status = status;
	s->fx->done_calls++;
	s->fx->done_inside_deliver += s->fx->in_deliver;
}

/* Deliver record (stolen) as number i. */
static void deliver(struct fixture *fx, struct sl_destination *d, json_t *record, int i)
{
	fx->slots[i].fx = fx;
	fx->in_deliver = true;
	sl_destination_deliver(d, record, on_done, &fx->slots[i]);
	fx->in_deliver = false;
	json_decref(record);
}

/* {"n": n, "SluiceBatchInfo": {"trigger": trigger}} */
static json_t *record_of(int n, const char *trigger)
{
	return json_pack("{s:i, s:{s:s}}", "n", n, SL_RECORD_BATCH_INFO_KEY, "trigger", trigger);
}

/* Run the loop until `calls` done calls happened in all; fails after timeout_ms. */
static void run_until(struct fixture *fx, int calls, long timeout_ms)
{
	for (long i = 0; i < timeout_ms && fx->done_calls < calls; i++) {
		event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		svc_sleep_ms(1);
	}
	assert_int_equal(fx->done_calls, calls);
}

static void run_for(struct fixture *fx, long ms)
{
	run_until(fx, fx->done_calls, ms);
}

static void expect_slots(struct fixture *fx, int from, int to, int status)
{
	for (int i = from; i < to; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].status, status);
	}
}

/* What kcat reads from the beginning of topic until its end: one "KEY\tVALUE\n" a message. */
static char *consume(struct fixture *fx, const char *topic)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s.out", fx->dir, topic) > 0);
	pid_t pid = svc_spawn((char *[]){ "kcat", "-C", "-b",
					 (char *)rd_kafka_mock_cluster_bootstraps(fx->mc), "-t",
					 (char *)topic, "-o", "beginning", "-e", "-q", "-f",
					 "%k\t%s\n", NULL }, path);
	assert_int_equal(svc_wait_exit(pid, 30000), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size_t len = (size_t)ftell(f);
	rewind(f);
	char *text = calloc(1, len + 1);
	assert_int_equal(fread(text, 1, len, f), len);
	fclose(f);
	free(path);
	return text;
}

static int count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_record_arrives_keyed(void **state)
{
	struct fixture *fx = *state;
	struct sl_destination *d = make(fx, "keyed", 1, 10000, NULL);

	deliver(fx, d, json_pack("{s:i, s:{s:s}, s:{s:s}, s:s}", "n", 1, "requestContext",
				 "functionArn", ARN, SL_RECORD_BATCH_INFO_KEY, "trigger", "orders",
				 "text", "tab\tquote\" \xc3\xa9"), 0);
	deliver(fx, d, json_pack("{s:i, s:{s:s}}", "n", 2, "requestContext", "functionArn", ARN),
		1);
	deliver(fx, d, json_pack("{s:i, s:{s:i}}", "n", 3, SL_RECORD_BATCH_INFO_KEY, "trigger",
				 7), 2);
	assert_int_equal(fx->done_calls, 0);            /* never inside deliver */
	run_until(fx, 3, 10000);
	expect_slots(fx, 0, 3, 0);

	char *got = consume(fx, "keyed");
	assert_string_equal(got,
		"orders\t{\"n\":1,\"requestContext\":{\"functionArn\":\"" ARN "\"},"
		"\"SluiceBatchInfo\":{\"trigger\":\"orders\"},\"text\":\"tab\\tquote\\\" \xc3\xa9\"}\n"
		ARN "\t{\"n\":2,\"requestContext\":{\"functionArn\":\"" ARN "\"}}\n"
		"\t{\"n\":3,\"SluiceBatchInfo\":{\"trigger\":7}}\n");
	free(got);
	sl_destination_free(d);
	assert_int_equal(fx->done_calls, 3);
}

/* Checks that got holds the records numbered `want` (n_want of them) once each, and no others. */
static void expect_numbers(const char *got, const int *want, int n_want)
{
	static int seen[MAX_RECORDS];
	const char *line = got;

	memset(seen, 0, sizeof(seen));
	assert_int_equal(count_lines(got), n_want);
	for (; *line; line = strchr(line, '\n') + 1) {
		json_t *rec = json_loads(strchr(line, '\t') + 1, JSON_DISABLE_EOF_CHECK, NULL);
		json_int_t n = json_integer_value(json_object_get(rec, "n"));
		assert_in_range(n, 0, MAX_RECORDS - 1);
		seen[n]++;
		json_decref(rec);
	}
	for (int i = 0; i < n_want; i++)
		assert_int_equal(seen[want[i]], 1);
}

static void test_many_acknowledged_once(void **state)
{
	struct fixture *fx = *state;
	char *props[] = { "compression.type=lz4", "linger.ms=5", NULL };
	struct sl_destination *d = make(fx, "many", 6, 10000, props);
	static int all[MAX_RECORDS];
	char trigger[16];

	for (int i = 0; i < MAX_RECORDS; i++) {
		snprintf(trigger, sizeof(trigger), "t%d", i % 7);
		deliver(fx, d, record_of(i, trigger), i);
		all[i] = i;
	}
	run_until(fx, MAX_RECORDS, 20000);
	expect_slots(fx, 0, MAX_RECORDS, 0);
	sl_destination_free(d);
	assert_int_equal(fx->done_calls, MAX_RECORDS);   /* nothing more at destroy */

	char *got = consume(fx, "many");
	expect_numbers(got, all, MAX_RECORDS);
	free(got);
}

static void test_brokers_down_then_up(void **state)
{
	struct fixture *fx = *state;
	/* Reconnect within a record's timeout once the brokers are back (the default backoff grows
	 * to 10 s). */
	char *props[] = { "reconnect.backoff.max.ms=200", NULL };
	struct sl_destination *d = make(fx, "outage", 3, 1500, props);

	deliver(fx, d, record_of(0, "orders"), 0);    /* connected, metadata known */
	run_until(fx, 1, 10000);
	expect_slots(fx, 0, 1, 0);

	capture_begin();
	set_brokers(fx, false);
	for (int i = 1; i <= 3; i++)
		deliver(fx, d, record_of(i, "orders"), i);
	run_until(fx, 4, 20000);                      /* each ends, after timeout_ms */
	expect_slots(fx, 1, 4, -ETIMEDOUT);

	set_brokers(fx, true);
	for (int i = 4; i <= 5; i++)
		deliver(fx, d, record_of(i, "orders"), i);
	run_until(fx, 6, 30000);                      /* after the reconnect */
	expect_slots(fx, 4, 6, 0);
	const char *log = capture_end();

	/* One warning for the outage, one line for the recovery. */
	const char *warn = strstr(log, "WARN  destination:kdlq ");
	assert_non_null(warn);
	assert_null(strstr(warn + 1, "WARN  destination:kdlq "));
	assert_non_null(strstr(log, "INFO  destination:kdlq records are acknowledged again"));

	sl_destination_free(d);
	char *got = consume(fx, "outage");
	expect_numbers(got, (int[]){ 0, 4, 5 }, 3);   /* the timed-out ones were never stored */
	free(got);
}

/* Creating with these properties fails with -EINVAL and logs `message`. */
static void expect_bad(struct fixture *fx, char **properties, const char *message)
{
	struct sl_destination_config cfg = config_of(fx, "t", 1000, properties);
	struct sl_destination *d = (struct sl_destination *)1;

	capture_begin();
	int rc = sl_destination_new(fx->base, &cfg, &d);
	const char *log = capture_end();
	assert_int_equal(rc, -EINVAL);
	assert_null(d);
	if (!strstr(log, message))
		fail_msg("log lacks \"%s\":\n%s", message, log);
}

static void test_properties_checked(void **state)
{
	struct fixture *fx = *state;
	struct sl_destination *d = NULL;

	expect_bad(fx, (char *[]){ "linger.ms=5", "no.such.property=1", NULL },
		   "ERROR destination:kdlq property no.such.property: No such configuration "
		   "property: \"no.such.property\"");
	expect_bad(fx, (char *[]){ "acks=maybe", NULL },
		   "ERROR destination:kdlq property acks: Invalid value for configuration property");
	expect_bad(fx, (char *[]){ "linger.ms", NULL },
		   "ERROR destination:kdlq property linger.ms: expected key=value");
	expect_bad(fx, (char *[]){ "delivery.report.only.error=true", NULL },
		   "property delivery.report.only.error: not allowed here");
	expect_bad(fx, (char *[]){ "acks=1", NULL },
		   "ERROR destination:kdlq cannot create the producer: ");

	struct sl_destination_config no_topic = { .name = "kdlq", .kind = SL_DEST_KAFKA,
						  .brokers = "127.0.0.1:9" };
	capture_begin();
	assert_int_equal(sl_destination_new(fx->base, &no_topic, &d), -EINVAL);
	assert_non_null(strstr(capture_end(), "kafka needs brokers and a topic"));
	assert_ptr_equal(sl_destination_kind("kafka"), &sl_dest_kafka_ops);

	/* A property librdkafka ignores for a producer is a warning, not an error. */
	capture_begin();
	d = make(fx, "warned", 1, 1000, (char *[]){ "group.id=g", NULL });
	const char *log = capture_end();
	assert_non_null(strstr(log, "WARN  destination:kdlq [thrd:app]: Configuration property "
				    "group.id is a consumer property and will be ignored"));
	sl_destination_free(d);
}

/* After a fatal error (the idempotent producer lost its guarantees) records fail at once. Uses
 * the kind's functions directly, to reach its librdkafka handle. */
static void test_fatal_error_fails_records(void **state)
{
	struct fixture *fx = *state;
	struct sl_destination_config cfg = config_of(fx, "fatal", 10000, NULL);
	void *ctx = NULL;

	assert_int_equal(kafka_create(fx->base, &cfg, &ctx), 0);
	struct dest_kafka *k = ctx;
	capture_begin();
	assert_int_equal(rd_kafka_test_fatal_error(
		k->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "injected"), 0);
	json_t *rec = json_pack("{s:i}", "n", 0);
	fx->slots[0].fx = fx;
	kafka_deliver(k, rec, on_done, &fx->slots[0]);
	json_decref(rec);
	assert_int_equal(fx->done_calls, 0);
	run_until(fx, 1, 5000);
	expect_slots(fx, 0, 1, -EIO);
	run_for(fx, 100);                              /* the error callback */
	const char *log = capture_end();
	assert_non_null(strstr(log, "ERROR destination:kdlq producer failed for good, records fail "
				    "until restart: test_fatal_error: injected"));
	kafka_destroy(k);
}

/* A produce librdkafka refuses (its queue holds one record at most here) fails on the next loop
 * turn, not inside deliver, and does not wait for the queue. */
static void test_queue_full_refused(void **state)
{
	struct fixture *fx = *state;
	char *props[] = { "queue.buffering.max.messages=1", NULL };

	set_brokers(fx, false);
	struct sl_destination *d = make(fx, "full", 1, 60000, props);
	deliver(fx, d, record_of(0, "orders"), 0);
	deliver(fx, d, record_of(1, "orders"), 1);
	assert_int_equal(fx->done_calls, 0);
	run_until(fx, 1, 1000);
	expect_slots(fx, 1, 2, -ENOBUFS);
	assert_int_equal(fx->slots[0].calls, 0);
	sl_destination_free(d);                       /* the queued one is cancelled */
	expect_slots(fx, 0, 1, -ECANCELED);
}

/* Records outstanding at destroy get their done from inside it, once each: stored while the
 * brokers are up (a bounded flush), cancelled when they cannot be. */
static void test_destroy_with_outstanding(void **state)
{
	struct fixture *fx = *state;
	struct sl_destination *d = make(fx, "closing", 3, 60000, NULL);

	for (int i = 0; i < 20; i++)
		deliver(fx, d, record_of(i, "orders"), i);
	sl_destination_free(d);
	assert_int_equal(fx->done_calls, 20);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_true(fx->slots[i].status == 0 || fx->slots[i].status == -ECANCELED);
	}

	d = make(fx, "closing-down", 3, 60000, NULL);
	run_for(fx, 100);
	set_brokers(fx, false);
	for (int i = 20; i < 25; i++)
		deliver(fx, d, record_of(i, "orders"), i);
	sl_destination_free(d);
	expect_slots(fx, 20, 25, -ECANCELED);
	assert_int_equal(fx->done_calls, 25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_arrives_keyed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_acknowledged_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_brokers_down_then_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_properties_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal_error_fails_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_with_outstanding, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
