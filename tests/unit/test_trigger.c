/* Tests for dispatcher/trigger*.c driving a real trigger with the real executor and sluice-init.
 *
 * The function is tests/fixtures/functions/dispatch-record: a shell custom runtime that appends
 * every payload it receives as one line to $RECORD_FILE and fails batches containing "poison".
 * The config is built by hand; the source is this file (offer + commit/resume callbacks).
 * sluice-init is found next to the tests directory (build/<mode>/sluice-init) or in
 * $SLUICE_INIT; the repository root is found from the binary's path or $SLUICE_ROOT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "config/config.h"
#include "core/loop.h"
#include "core/event.h"
#include "dispatcher/destination.h"
#include "dispatcher/trigger.h"
#include "executor/executor.h"

#define MAX_COMMITS 4096

struct commit {
	char partition[16];
	char position[16];
};

struct fixture {
	struct event_base *base;
	struct event *tick;
	char dir[64];
	char record_file[128];
	char dlq_file[160];
	char env_record[160];
	char env_sleep[32];
	char *env[3];
	char code_dir[PATH_MAX];
	char agent[PATH_MAX];
	struct sl_function_config fn;
	struct sl_source_config src;
	struct sl_trigger_config tcfg;
	struct sl_destination_config dcfg;
	struct sl_config cfg;
	struct sl_executor *ex;
	struct sl_destination *dlq;
	struct sl_trigger *t;
	struct commit commits[MAX_COMMITS];
	size_t n_commits;
	int resumes;
	int drained;
	int shut_down;
};

static char root_dir[PATH_MAX], agent_path[PATH_MAX];

/* build/<mode>/tests/test_trigger -> repo root and build/<mode>/sluice-init. */
static void find_paths(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	char *tests_dir = dirname(exe);                  /* build/<mode>/tests */
	snprintf(agent_path, sizeof(agent_path), "%s/../sluice-init", tests_dir);
	snprintf(root_dir, sizeof(root_dir), "%s/../../..", tests_dir);
	if (getenv("SLUICE_INIT"))
		snprintf(agent_path, sizeof(agent_path), "%s", getenv("SLUICE_INIT"));
	if (getenv("SLUICE_ROOT"))
		snprintf(root_dir, sizeof(root_dir), "%s", getenv("SLUICE_ROOT"));
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct timeval ten_ms = { 0, 10000 };

	fx->base = sl_loop_new();
	fx->tick = event_new(fx->base, -1, EV_PERSIST, on_tick, fx);
	event_add(fx->tick, &ten_ms);
	strcpy(fx->dir, "/tmp/sl-trigger-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->record_file, sizeof(fx->record_file), "%s/batches.jsonl", fx->dir);
	snprintf(fx->dlq_file, sizeof(fx->dlq_file), "%s/dead-letter/web.jsonl", fx->dir);
	snprintf(fx->env_record, sizeof(fx->env_record), "RECORD_FILE=%s", fx->record_file);
	snprintf(fx->env_sleep, sizeof(fx->env_sleep), "SLEEP_S=5");
	fx->env[0] = fx->env_record;
	fx->env[1] = fx->env_sleep;
	char joined[PATH_MAX + 64];
	snprintf(joined, sizeof(joined), "%s/tests/fixtures/functions/dispatch-record", root_dir);
	assert_non_null(realpath(joined, fx->code_dir));
	assert_non_null(realpath(agent_path, fx->agent));

	fx->fn = (struct sl_function_config){
		.name = "rec", .code_dir = fx->code_dir, .runtime = "provided.al2023",
		.handler = "function.handler", .memory_mb = 128, .timeout_s = 3,
		.init_timeout_s = 10, .max_concurrency = 4, .environment = fx->env,
	};
	fx->src = (struct sl_source_config){ .name = "web", .kind = SL_SOURCE_HTTP,
					     .max_body_bytes = 6291456 };
	fx->tcfg = (struct sl_trigger_config){
		.name = "web", .source = "web", .function = "rec", .enabled = true,
		.payload_format = SL_PAYLOAD_CLOUDEVENTS, .batch_size = 3,
		.max_batching_window_ms = 200, .max_batch_bytes = 6291456,
		.max_retry_attempts = 2, .retry_base_ms = 20, .retry_max_ms = 100,
		.parallelization_factor = 1, .on_failure = "dlq",
	};
	fx->dcfg = (struct sl_destination_config){ .name = "dlq", .kind = SL_DEST_FILE,
						   .path = fx->dlq_file };
	fx->cfg = (struct sl_config){
		.path = "(test)", .listen = "127.0.0.1:0", .state_dir = fx->dir,
		.log_level = "info", .log_format = "text", .idle_timeout_s = 300,
		.spool_max_bytes = 1 << 30, .spool_segment_bytes = 64 << 20,
		.functions = &fx->fn, .n_functions = 1, .sources = &fx->src, .n_sources = 1,
		.triggers = &fx->tcfg, .n_triggers = 1, .destinations = &fx->dcfg,
		.n_destinations = 1,
	};
	*state = fx;
	return 0;
}

static void on_commit(void *ctx, const struct sl_event *ev)
{
	struct fixture *fx = ctx;

	assert_true(fx->n_commits < MAX_COMMITS);
	snprintf(fx->commits[fx->n_commits].partition, 16, "%s", ev->partition);
	snprintf(fx->commits[fx->n_commits].position, 16, "%s", ev->position);
	fx->n_commits++;
}

static void on_resume(void *ctx)
{
	((struct fixture *)ctx)->resumes++;
}

static void start(struct fixture *fx)
{
	struct sl_trigger_links links = {
		.src = { .ctx = fx, .commit = on_commit, .resume = on_resume },
	};

	assert_int_equal(sl_executor_new(fx->base, &fx->cfg, fx->agent, &fx->ex), 0);
	assert_int_equal(sl_destination_new(fx->base, &fx->dcfg, &fx->dlq), 0);
	links.invoker = sl_executor_invoker(fx->ex);
	links.on_failure = fx->dlq;
	assert_int_equal(sl_trigger_new(fx->base, &fx->tcfg, &fx->src, &links, &fx->t), 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sl_trigger_stats stats(struct fixture *fx)
{
	struct sl_trigger_stats s;
	sl_trigger_stats(fx->t, &s);
	return s;
}

/* Run the loop until cond(fx) or timeout_ms; returns cond's last value. */
static bool run_until(struct fixture *fx, bool (*cond)(struct fixture *), int64_t timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while (!cond(fx) && now_ms() < end)
		event_base_loop(fx->base, EVLOOP_ONCE);
	return cond(fx);
}

static void run_for(struct fixture *fx, int64_t ms)
{
	int64_t end = now_ms() + ms;
	while (now_ms() < end)
		event_base_loop(fx->base, EVLOOP_ONCE);
}

static size_t want_done;
static bool all_done(struct fixture *fx)
{
	return stats(fx).events_done >= want_done;
}

static bool is_drained(struct fixture *fx)
{
	return fx->drained;
}

static bool is_shut_down(struct fixture *fx)
{
	return fx->shut_down;
}

static void on_drained(void *arg)
{
	((struct fixture *)arg)->drained = 1;
}

static void on_shut_down(void *arg)
{
	((struct fixture *)arg)->shut_down = 1;
}

static void stop(struct fixture *fx)
{
	if (!fx->drained) {
		sl_trigger_drain(fx->t, on_drained, fx);
		assert_true(run_until(fx, is_drained, 10000));
	}
	sl_executor_shutdown(fx->ex, on_shut_down, fx);
	assert_true(run_until(fx, is_shut_down, 10000));
	sl_trigger_free(fx->t);
	sl_executor_free(fx->ex);
	sl_destination_free(fx->dlq);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	event_free(fx->tick);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void offer(struct fixture *fx, const char *partition, int pos, const char *key,
		  const char *text)
{
	struct sl_event *ev = sl_event_new();
	char buf[64];

	snprintf(buf, sizeof(buf), "%d", pos);
	sl_event_set(ev, &ev->position, buf);
	sl_event_set(ev, &ev->partition, partition);
	sl_event_set(ev, &ev->source, "/sluice/web");
	sl_event_set(ev, &ev->type, "com.example.test");
	char *id = sl_event_id_from_position("web", partition, buf);
	sl_event_set(ev, &ev->id, id);
	free(id);
	sl_event_set(ev, &ev->partitionkey, key);
	sl_event_set_data_json(ev, json_pack("{s:s, s:i}", "text", text, "n", pos));
	assert_int_equal(sl_trigger_offer(fx->t, ev), 0);
}

/* Every line of a JSONL file, parsed, as a JSON array. */
static json_t *read_lines(const char *path)
{
	json_t *lines = json_array();
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return lines;
	while (getline(&line, &cap, f) > 0) {
		json_error_t jerr;
		json_t *doc = json_loads(line, 0, &jerr);
		assert_non_null(doc);
		json_array_append_new(lines, doc);
	}
	free(line);
	fclose(f);
	return lines;
}

/* The "n" of every event of a recorded CloudEvents batch. */
static void batch_ns(json_t *batch, int *out, size_t *n)
{
	size_t i;
	json_t *ce;

	*n = 0;
	json_array_foreach(batch, i, ce)
		out[(*n)++] = (int)json_integer_value(json_object_get(json_object_get(ce, "data"),
								      "n"));
}

static void test_batches_by_size_then_window(void **state)
{
	struct fixture *fx = *state;
	int ns[16];
	size_t n;

	start(fx);
	int64_t t0 = now_ms();
	for (int i = 1; i <= 7; i++)
		offer(fx, "", i, NULL, "hello");
	want_done = 7;
	assert_true(run_until(fx, all_done, 20000));
	assert_true(now_ms() - t0 >= 200);      /* the 7th waited for its window */

	json_t *lines = read_lines(fx->record_file);
	assert_int_equal(json_array_size(lines), 3);
	const size_t sizes[] = { 3, 3, 1 };
	int next = 1;
	for (size_t b = 0; b < 3; b++) {
		batch_ns(json_array_get(lines, b), ns, &n);
		assert_int_equal(n, sizes[b]);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(ns[i], next++);
	}
	json_decref(lines);
	struct sl_trigger_stats s = stats(fx);
	assert_int_equal(s.events_in, 7);
	assert_int_equal(s.batches_ok, 3);
	assert_int_equal(s.retries, 0);
	assert_true(fx->n_commits >= 1);
	assert_string_equal(fx->commits[fx->n_commits - 1].position, "7");
	stop(fx);
}

/* Filters: an event goes to the function when any pattern matches its CloudEvent (here: text
 * "keep", or 9 <= n < 11); the others are done at once, and the checkpoint moves past them (the last
 * event, filtered out, is committed too). */
static void test_filters(void **state)
{
	struct fixture *fx = *state;
	int ns[16];
	size_t n;

	fx->tcfg.batch_size = 10;
	fx->tcfg.max_batching_window_ms = 50;
	fx->tcfg.filters = json_loads("[{\"data\":{\"text\":[\"keep\"]}},"
				      " {\"data\":{\"n\":[{\"numeric\":[\">=\",9,\"<\",11]}]}}]", 0, NULL);
	assert_non_null(fx->tcfg.filters);
	start(fx);
	for (int i = 1; i <= 11; i++)
		offer(fx, "", i, NULL, i % 2 && i != 11 ? "keep" : "drop");
	want_done = 11;
	assert_true(run_until(fx, all_done, 20000));
	json_t *lines = read_lines(fx->record_file);
	assert_int_equal(json_array_size(lines), 1);
	batch_ns(json_array_get(lines, 0), ns, &n);
	const int want[] = { 1, 3, 5, 7, 9, 10 };
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ns[i], want[i]);
	json_decref(lines);
	struct sl_trigger_stats s = stats(fx);
	assert_int_equal(s.events_in, 11);
	assert_int_equal(s.events_filtered, 5);
	assert_int_equal(s.batches_ok, 1);
	assert_string_equal(fx->commits[fx->n_commits - 1].position, "11");
	/* filtered events were pending until committed, and no longer are: more are taken */
	offer(fx, "", 12, NULL, "keep");
	want_done = 12;
	assert_true(run_until(fx, all_done, 20000));
	assert_string_equal(fx->commits[fx->n_commits - 1].position, "12");
	stop(fx);
	json_decref(fx->tcfg.filters);
}

static void test_window_holds_a_small_batch(void **state)
{
	struct fixture *fx = *state;

	fx->tcfg.batch_size = 10;
	fx->tcfg.max_batching_window_ms = 400;
	start(fx);
	int64_t t0 = now_ms();
	offer(fx, "", 1, NULL, "a");
	offer(fx, "", 2, NULL, "b");
	run_for(fx, 200);
	assert_int_equal(stats(fx).events_done, 0);
	assert_int_equal(fx->n_commits, 0);
	want_done = 2;
	assert_true(run_until(fx, all_done, 20000));
	assert_true(now_ms() - t0 >= 400);
	json_t *lines = read_lines(fx->record_file);
	assert_int_equal(json_array_size(lines), 1);
	assert_int_equal(json_array_size(json_array_get(lines, 0)), 2);
	json_decref(lines);
	stop(fx);
}

static void test_order_kept_per_key_across_lanes(void **state)
{
	struct fixture *fx = *state;
	const char *keys[] = { "alpha", "beta", "gamma", "delta" };
	int last[4] = { 0, 0, 0, 0 }, ns[64];
	size_t n, i, total = 0;
	json_t *batch;

	fx->tcfg.parallelization_factor = 3;
	fx->tcfg.batch_size = 2;
	fx->tcfg.max_batching_window_ms = 20;
	start(fx);
	for (int p = 1; p <= 40; p++)
		offer(fx, "", p, keys[p % 4], keys[p % 4]);
	want_done = 40;
	assert_true(run_until(fx, all_done, 30000));
	json_t *lines = read_lines(fx->record_file);
	json_array_foreach(lines, i, batch) {
		batch_ns(batch, ns, &n);
		for (size_t j = 0; j < n; j++) {
			int k = ns[j] % 4;
			assert_true(ns[j] > last[k]);   /* each key sees its events in order */
			last[k] = ns[j];
		}
		total += n;
	}
	assert_int_equal(total, 40);
	json_decref(lines);
	assert_string_equal(fx->commits[fx->n_commits - 1].position, "40");
	/* Commits only move forward. */
	for (size_t c = 1; c < fx->n_commits; c++)
		assert_true(atoi(fx->commits[c].position) > atoi(fx->commits[c - 1].position));
	stop(fx);
}

static bool dead_lettered(struct fixture *fx)
{
	return stats(fx).events_dead_lettered > 0;
}

static void test_retries_then_failure_record(void **state)
{
	struct fixture *fx = *state;

	start(fx);
	offer(fx, "p0", 1, NULL, "fine");
	offer(fx, "p0", 2, NULL, "poison");
	offer(fx, "p0", 3, NULL, "fine");
	assert_true(run_until(fx, dead_lettered, 30000));

	/* 1 attempt + max_retry_attempts retries, each with the whole batch. */
	json_t *lines = read_lines(fx->record_file);
	assert_int_equal(json_array_size(lines), 3);
	json_decref(lines);
	struct sl_trigger_stats s = stats(fx);
	assert_int_equal(s.retries, 2);
	assert_int_equal(s.batches_failed, 1);
	assert_int_equal(s.events_dead_lettered, 3);
	assert_int_equal(s.events_done, 3);
	assert_int_equal(s.batches_ok, 0);

	json_t *recs = read_lines(fx->dlq_file);
	assert_int_equal(json_array_size(recs), 1);
	json_t *rec = json_array_get(recs, 0);
	json_t *rc = json_object_get(rec, "requestContext");
	json_t *bi = json_object_get(rec, "SluiceBatchInfo");
	assert_string_equal(json_string_value(json_object_get(rc, "condition")),
			    "RetryAttemptsExhausted");
	assert_int_equal(json_integer_value(json_object_get(rc, "approximateInvokeCount")), 3);
	assert_string_equal(json_string_value(json_object_get(rc, "functionArn")),
			    "arn:aws:lambda:us-east-1:000000000000:function:rec");
	assert_true(strlen(json_string_value(json_object_get(rc, "requestId"))) > 0);
	assert_string_equal(json_string_value(json_object_get(rec, "errorType")), "PoisonEvent");
	assert_string_equal(json_string_value(json_object_get(rec, "errorMessage")),
			    "batch contains a poison event");
	assert_string_equal(json_string_value(json_object_get(bi, "partition")), "p0");
	assert_string_equal(json_string_value(json_object_get(bi, "firstPosition")), "1");
	assert_string_equal(json_string_value(json_object_get(bi, "lastPosition")), "3");
	assert_int_equal(json_integer_value(json_object_get(bi, "batchSize")), 3);
	assert_string_equal(json_string_value(json_object_get(bi, "firstEventId")), "web:p0:1");
	assert_int_equal(json_array_size(json_object_get(rec, "events")), 3);
	json_decref(recs);

	/* Stored, so done: committed through the batch, and the lane moves on. */
	assert_string_equal(fx->commits[fx->n_commits - 1].position, "3");
	offer(fx, "p0", 4, NULL, "fine");
	want_done = 4;
	assert_true(run_until(fx, all_done, 20000));
	assert_string_equal(fx->commits[fx->n_commits - 1].position, "4");
	stop(fx);
}

static void test_commit_per_partition(void **state)
{
	struct fixture *fx = *state;
	char last_p0[16] = "", last_p1[16] = "";

	fx->tcfg.batch_size = 2;
	fx->tcfg.max_batching_window_ms = 30;
	start(fx);
	for (int i = 1; i <= 10; i++)
		offer(fx, i % 2 ? "p1" : "p0", i, NULL, "x");
	want_done = 10;
	assert_true(run_until(fx, all_done, 20000));
	for (size_t c = 0; c < fx->n_commits; c++) {
		char *last = strcmp(fx->commits[c].partition, "p0") == 0 ? last_p0 : last_p1;
		assert_true(atoi(fx->commits[c].position) > atoi(last));
		strcpy(last, fx->commits[c].position);
	}
	assert_string_equal(last_p0, "10");
	assert_string_equal(last_p1, "9");
	/* A batch never mixes partitions. */
	json_t *lines = read_lines(fx->record_file);
	size_t i;
	json_t *batch;
	json_array_foreach(lines, i, batch) {
		int ns[8];
		size_t n;
		batch_ns(batch, ns, &n);
		for (size_t j = 1; j < n; j++)
			assert_int_equal(ns[j] % 2, ns[0] % 2);
	}
	json_decref(lines);
	stop(fx);
}

static bool invoked(struct fixture *fx)
{
	struct stat st;
	return stat(fx->record_file, &st) == 0 && st.st_size > 0;
}

static void test_destination_down_keeps_events(void **state)
{
	struct fixture *fx = *state;
	char blocker[128];

	/* The dead-letter directory cannot be made while a plain file has its name. */
	snprintf(blocker, sizeof(blocker), "%s/dead-letter", fx->dir);
	fclose(fopen(blocker, "w"));
	fx->tcfg.max_retry_attempts = 0;
	start(fx);
	offer(fx, "", 1, NULL, "poison");
	assert_true(run_until(fx, invoked, 20000));
	run_for(fx, 500);                          /* several store attempts fail meanwhile */
	assert_int_equal(stats(fx).events_done, 0);
	assert_int_equal(fx->n_commits, 0);
	unlink(blocker);
	assert_true(run_until(fx, dead_lettered, 20000));
	assert_int_equal(stats(fx).events_done, 1);
	assert_string_equal(fx->commits[fx->n_commits - 1].position, "1");
	json_t *recs = read_lines(fx->dlq_file);
	assert_int_equal(json_array_size(recs), 1);
	json_decref(recs);
	stop(fx);
}

static void test_function_timeout_is_a_failure(void **state)
{
	struct fixture *fx = *state;

	fx->fn.timeout_s = 1;
	fx->tcfg.max_retry_attempts = 1;
	fx->tcfg.batch_size = 1;
	start(fx);
	offer(fx, "", 1, NULL, "sleepy");
	assert_true(run_until(fx, dead_lettered, 30000));
	json_t *recs = read_lines(fx->dlq_file);
	json_t *rec = json_array_get(recs, 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(rec,
		"requestContext"), "approximateInvokeCount")), 2);
	const char *type = json_string_value(json_object_get(rec, "errorType"));
	const char *msg = json_string_value(json_object_get(rec, "errorMessage"));
	print_message("timeout record: %s: %s\n", type, msg);
	assert_non_null(strstr(type, "Timedout"));
	assert_non_null(strstr(msg, "timed out"));
	json_decref(recs);
	stop(fx);
}

/* A busy function throttles lanes that cannot get a sandbox: they are retried without using
 * up max_retry_attempts (0 here), so nothing is dead-lettered. */
static void test_throttles_are_not_attempts(void **state)
{
	struct fixture *fx = *state;
	const char *keys[] = { "k1", "k2", "k3", "k4", "k5", "k6" };
	struct sl_function_stats st;

	snprintf(fx->env_sleep, sizeof(fx->env_sleep), "SLEEP_S=0.3");
	fx->fn.max_concurrency = 1;
	fx->tcfg.max_retry_attempts = 0;
	fx->tcfg.parallelization_factor = 6;
	fx->tcfg.batch_size = 1;
	fx->tcfg.max_batching_window_ms = 0;
	start(fx);
	sl_executor_set_queue_limit(fx->ex, 1);
	for (int p = 1; p <= 6; p++)
		offer(fx, "", p, keys[p - 1], "sleepy");
	want_done = 6;
	assert_true(run_until(fx, all_done, 30000));
	sl_executor_function_stats(fx->ex, 0, &st);
	assert_true(st.invocations[SL_INVOKE_THROTTLED] > 0);
	assert_int_equal(st.invocations[SL_INVOKE_OK], 6);
	assert_int_equal(stats(fx).events_dead_lettered, 0);
	assert_true(stats(fx).retries >= st.invocations[SL_INVOKE_THROTTLED]);
	stop(fx);
}

static void test_drain_leaves_pending_uncommitted(void **state)
{
	struct fixture *fx = *state;
	struct sl_event *late = sl_event_new();

	fx->tcfg.max_batching_window_ms = 60000;
	fx->tcfg.batch_size = 100;
	start(fx);
	offer(fx, "", 1, NULL, "a");
	offer(fx, "", 2, NULL, "b");
	sl_trigger_drain(fx->t, on_drained, fx);
	assert_int_equal(fx->drained, 0);         /* done comes later, on the loop */
	assert_true(run_until(fx, is_drained, 2000));
	assert_int_equal(sl_trigger_offer(fx->t, late), -ESHUTDOWN);
	sl_event_unref(late);
	assert_int_equal(stats(fx).events_done, 0);
	assert_int_equal(fx->n_commits, 0);
	stop(fx);
}

static bool resumed(struct fixture *fx)
{
	return fx->resumes > 0;
}

static void test_backpressure_refuses_then_resumes(void **state)
{
	struct fixture *fx = *state;
	int i;

	fx->tcfg.batch_size = 200;
	fx->tcfg.max_batching_window_ms = 0;
	fx->tcfg.max_pending_events = 1000;
	start(fx);
	for (i = 1; i <= 1000; i++)
		offer(fx, "", i, NULL, "bulk");
	struct sl_event *ev = sl_event_new();
	assert_int_equal(sl_trigger_offer(fx->t, ev), -ENOBUFS);
	assert_int_equal(ev->refs, 1);                 /* not taken */
	assert_int_equal(fx->resumes, 0);
	assert_true(run_until(fx, resumed, 60000));
	assert_int_equal(fx->resumes, 1);
	sl_event_unref(ev);
	offer(fx, "", i, NULL, "after");
	want_done = 1000 + 1;
	assert_true(run_until(fx, all_done, 60000));
	char want[16];
	snprintf(want, sizeof(want), "%d", i);
	assert_string_equal(fx->commits[fx->n_commits - 1].position, want);
	stop(fx);
}

static void test_aws_schedule_payload(void **state)
{
	struct fixture *fx = *state;
	const char *scheduled =
		"{\"version\":\"0\",\"id\":\"8e4c5b1e-0000-4000-8000-000000000001\","
		"\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\","
		"\"account\":\"000000000000\",\"time\":\"2026-11-24T10:00:00Z\","
		"\"region\":\"us-east-1\",\"resources\":"
		"[\"arn:aws:events:us-east-1:000000000000:rule/hourly\"],\"detail\":{}}";

	fx->src.kind = SL_SOURCE_SCHEDULE;
	fx->tcfg.payload_format = SL_PAYLOAD_AWS;
	fx->tcfg.batch_size = 1;
	start(fx);
	struct sl_event *ev = sl_event_new();
	sl_event_set(ev, &ev->id, "tick-1");
	sl_event_set(ev, &ev->source, "/sluice/hourly");
	sl_event_set(ev, &ev->type, "aws.events.scheduled");
	sl_event_set(ev, &ev->position, "1");
	sl_event_set_data_json(ev, json_loads(scheduled, 0, NULL));
	assert_int_equal(sl_trigger_offer(fx->t, ev), 0);
	want_done = 1;
	assert_true(run_until(fx, all_done, 20000));
	FILE *f = fopen(fx->record_file, "r");
	char line[1024] = "";
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	size_t len = strlen(scheduled);
	assert_memory_equal(line, scheduled, len);  /* verbatim */
	assert_string_equal(line + len, "\n");
	stop(fx);
}

/* Freed with an invocation out: the batch is orphaned and freed by the executor's callback
 * (ASan's leak check holds the test to that). */
static void test_free_with_batch_out(void **state)
{
	struct fixture *fx = *state;

	fx->tcfg.max_batching_window_ms = 0;
	start(fx);
	offer(fx, "", 1, NULL, "in flight");
	sl_trigger_free(fx->t);
	fx->t = NULL;
	sl_executor_shutdown(fx->ex, on_shut_down, fx);   /* lets the invocation finish */
	assert_true(run_until(fx, is_shut_down, 10000));
	assert_int_equal(fx->n_commits, 0);
	sl_executor_free(fx->ex);
	sl_destination_free(fx->dlq);
}

static void test_bad_configs(void **state)
{
	struct fixture *fx = *state;
	struct sl_trigger_links links = { .src = { .ctx = fx, .commit = on_commit } };
	struct sl_trigger *t = (struct sl_trigger *)1;

	fx->tcfg.payload_format = SL_PAYLOAD_AWS;     /* http has no AWS batch shape */
	assert_int_equal(sl_executor_new(fx->base, &fx->cfg, fx->agent, &fx->ex), 0);
	assert_int_equal(sl_destination_new(fx->base, &fx->dcfg, &fx->dlq), 0);
	links.invoker = sl_executor_invoker(fx->ex);
	links.on_failure = fx->dlq;
	assert_int_equal(sl_trigger_new(fx->base, &fx->tcfg, &fx->src, &links, &t), -EINVAL);
	assert_null(t);
	fx->tcfg.payload_format = SL_PAYLOAD_CLOUDEVENTS;
	links.on_failure = NULL;
	assert_int_equal(sl_trigger_new(fx->base, &fx->tcfg, &fx->src, &links, &t), -EINVAL);
	sl_trigger_free(NULL);
	sl_executor_shutdown(fx->ex, on_shut_down, fx);
	assert_true(run_until(fx, is_shut_down, 10000));
	sl_executor_free(fx->ex);
	sl_destination_free(fx->dlq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batches_by_size_then_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_holds_a_small_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_kept_per_key_across_lanes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retries_then_failure_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_per_partition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destination_down_keeps_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_function_timeout_is_a_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_throttles_are_not_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_leaves_pending_uncommitted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_backpressure_refuses_then_resumes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_aws_schedule_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_batch_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_configs, setup, teardown),
	};
	find_paths();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
