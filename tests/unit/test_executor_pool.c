/* Unit tests of the executor's limits across functions (executor/budget.c), with real processes
 * and the shell fixtures of tests/fixtures/functions/: the memory budget (backpressure, early
 * stop of another function's idle sandbox, throttling with the reason after the queue timeout),
 * provisioned concurrency (initialised before traffic, kept warm, replaced when killed) and the
 * burst limit on sandboxes initialising at once. Runs from the repository root.
 */
#include "executor_harness.h"

#include <signal.h>

static void stats_of(struct xt *t, const char *name, struct sl_function_stats *st)
{
	for (size_t i = 0; i < sl_executor_function_count(t->ex); i++) {
		sl_executor_function_stats(t->ex, i, st);
		if (strcmp(st->name, name) == 0)
			return;
	}
	fail();
}

/* Run the loop until fn has `sandboxes` live sandboxes, none initialising, and at least
 * `cold` cold starts (or fail after timeout_ms). */
static void wait_settled(struct xt *t, const char *fn, size_t sandboxes, uint64_t cold,
			 int timeout_ms)
{
	struct sl_function_stats st;

	for (int waited = 0; waited < timeout_ms; waited += 20) {
		stats_of(t, fn, &st);
		if (st.sandboxes == sandboxes && st.starting == 0 && st.cold_starts >= cold)
			return;
		xt_run_for(t, 20);
	}
	xt_fail_msg("timed out waiting for the pool to settle");
}

static bool has_init_type(const struct outcome *o, const char *type)
{
	char want[96];

	snprintf(want, sizeof(want), "\"init_type\":\"%s\"", type);
	return o->payload && strstr(o->payload, want) != NULL;
}

/* Two functions of 200 MB under a 300 MB budget: the second waits for the first's sandbox to
 * be stopped (early, since it is idle and the other function needs the room) and freed. */
static void test_memory_budget_waits(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;
	struct sl_function_stats st;

	t->cfg.executor_memory_mb = 300;
	xt_fn(t, "a", "echo")->memory_mb = 200;
	xt_fn(t, "b", "echo")->memory_mb = 200;
	xt_start(t);
	xt_invoke(t, "a", "\"nap\"", &a);
	xt_invoke(t, "b", "{}", &b);
	xt_run_for(t, 100);   /* a is still initialising or napping (0.3 s) */
	stats_of(t, "b", &st);
	assert_int_equal(st.sandboxes, 0);
	assert_int_equal(st.queued, 1);
	xt_wait(t, &a);
	xt_wait(t, &b);
	assert_int_equal(a.status, SL_INVOKE_OK);
	assert_int_equal(b.status, SL_INVOKE_OK);
	assert_true(a.seq < b.seq);
	pid_t pid_a = (pid_t)json_int_member(a.payload, "pid");
	assert_true(pid_a > 0);
	assert_int_equal(kill(pid_a, 0), -1);   /* a's idle sandbox was stopped to make room */
	stats_of(t, "a", &st);
	assert_int_equal(st.sandboxes, 0);
	char *log = xt_log(t);
	assert_non_null(strstr(log, "stopping idle sandbox"));
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

/* First come, first served across functions: under a 328 MB budget with a (200 MB) busy, b
 * (200 MB) waits for room; c (128 MB) comes later and would fit at once, but waits behind b; all
 * are served once a's sandbox is done. */
static void test_memory_budget_fifo(void **state)
{
	struct xt *t = *state;
	struct outcome a, b, c;
	struct sl_function_stats st;

	t->cfg.executor_memory_mb = 328;
	xt_fn(t, "a", "echo")->memory_mb = 200;
	xt_fn(t, "b", "echo")->memory_mb = 200;
	xt_fn(t, "c", "echo")->memory_mb = 128;
	xt_start(t);
	xt_invoke(t, "a", "\"nap\"", &a);
	xt_run_for(t, 20);
	xt_invoke(t, "b", "{}", &b);
	xt_run_for(t, 20);
	xt_invoke(t, "c", "{}", &c);
	xt_run_for(t, 60);   /* a is still initialising or napping (0.3 s) */
	stats_of(t, "c", &st);
	assert_int_equal(st.sandboxes, 0);   /* it fits, but b came first */
	assert_int_equal(st.queued, 1);
	stats_of(t, "b", &st);
	assert_int_equal(st.queued, 1);
	xt_wait(t, &a);
	xt_wait(t, &b);
	xt_wait(t, &c);
	assert_int_equal(a.status, SL_INVOKE_OK);
	assert_int_equal(b.status, SL_INVOKE_OK);
	assert_int_equal(c.status, SL_INVOKE_OK);
	outcome_release(&a);
	outcome_release(&b);
	outcome_release(&c);
}

/* The same budget with a busy first function and a short queue timeout: the second invocation
 * is throttled with the reason once the timeout has passed. */
static void test_memory_budget_throttles(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;

	t->cfg.executor_memory_mb = 300;
	t->cfg.executor_queue_timeout_ms = 300;
	struct sl_function_config *fa = xt_fn(t, "a", "sleeps");
	fa->memory_mb = 200;
	fa->timeout_s = 2;
	xt_fn(t, "b", "echo")->memory_mb = 200;
	xt_start(t);
	xt_invoke(t, "a", "{}", &a);
	xt_invoke(t, "b", "{}", &b);
	xt_wait(t, &b);
	assert_false(a.done);
	assert_int_equal(b.status, SL_INVOKE_THROTTLED);
	assert_string_equal(b.error_type, "TooManyRequestsException");
	assert_non_null(strstr(b.payload, "\"errorType\":\"TooManyRequestsException\""));
	assert_non_null(strstr(b.payload, "Rate Exceeded. Memory budget of 300 MB in use"));
	assert_true(b.duration_ms >= 0);
	xt_wait(t, &a);
	assert_int_equal(a.status, SL_INVOKE_TIMEOUT);
	outcome_release(&a);
	outcome_release(&b);
}

/* provisioned_concurrency 2: both sandboxes are initialised before any invocation, survive the
 * idle timeout, serve without Init Duration; a third concurrent invocation gets an on-demand
 * sandbox; a killed provisioned sandbox is replaced. */
static void test_provisioned(void **state)
{
	struct xt *t = *state;
	struct outcome o[3], p[2];
	struct sl_function_stats st;

	t->cfg.idle_timeout_s = 1;
	struct sl_function_config *fn = xt_fn(t, "echo", NULL);
	fn->max_concurrency = 3;
	fn->provisioned_concurrency = 2;
	xt_start(t);
	stats_of(t, "echo", &st);
	assert_int_equal(st.provisioned, 2);   /* started with the executor */
	wait_settled(t, "echo", 2, 2, 10000);
	xt_run_for(t, 1500);                    /* past the idle timeout */
	stats_of(t, "echo", &st);
	assert_int_equal(st.sandboxes, 2);
	assert_int_equal(st.provisioned, 2);
	assert_int_equal(st.cold_starts, 2);

	for (int i = 0; i < 3; i++)
		xt_invoke(t, "echo", "\"nap\"", &o[i]);
	xt_wait_all(t, o, 3, 20000);
	int prov = 0, demand = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(o[i].status, SL_INVOKE_OK);
		prov += has_init_type(&o[i], "provisioned-concurrency");
		demand += has_init_type(&o[i], "on-demand");
	}
	assert_int_equal(prov, 2);
	assert_int_equal(demand, 1);
	char *log = xt_log(t);
	assert_int_equal(xt_count(log, "\tInit Duration: "), 1);   /* the on-demand one only */
	free(log);

	pid_t victim = 0;
	for (int i = 0; i < 3 && !victim; i++)
		if (has_init_type(&o[i], "provisioned-concurrency"))
			victim = (pid_t)json_int_member(o[i].payload, "pid");
	assert_true(victim > 0);
	assert_int_equal(kill(victim, SIGKILL), 0);
	/* replaced (cold start 4), and the on-demand sandbox reaped as idle */
	wait_settled(t, "echo", 2, 4, 10000);
	stats_of(t, "echo", &st);
	assert_int_equal(st.provisioned, 2);
	for (int i = 0; i < 2; i++)
		xt_invoke(t, "echo", "\"nap\"", &p[i]);
	xt_wait_all(t, p, 2, 20000);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(p[i].status, SL_INVOKE_OK);
		assert_true(has_init_type(&p[i], "provisioned-concurrency"));
		assert_true(json_int_member(p[i].payload, "pid") != victim);
	}
	for (int i = 0; i < 3; i++)
		outcome_release(&o[i]);
	for (int i = 0; i < 2; i++)
		outcome_release(&p[i]);
}

/* A provisioned sandbox whose init keeps failing is replaced with a growing delay (the first
 * replacement at once, then 1 s, 2 s, 4 s later: starts at about 0, 0, 1 and 3 s), not every
 * second (which would make 7 starts in 6 s). */
static void test_provisioned_backoff(void **state)
{
	struct xt *t = *state;
	struct sl_function_stats st;

	xt_fn(t, "bad", "init-error")->provisioned_concurrency = 1;
	xt_start(t);
	xt_run_for(t, 6000);
	stats_of(t, "bad", &st);
	assert_int_equal(st.cold_starts, 4);
}

/* Three concurrent cold invocations; returns the most sandboxes seen initialising at once. */
static size_t burst(struct xt *t, int max_starting, uint64_t *cold)
{
	struct outcome o[3];
	struct sl_function_stats st;
	size_t most = 0;

	t->cfg.executor_max_starting = max_starting;
	xt_fn(t, "echo", NULL)->max_concurrency = 3;
	xt_start(t);
	for (int i = 0; i < 3; i++)
		xt_invoke(t, "echo", "\"nap\"", &o[i]);
	for (int rounds = 0; rounds < 100000; rounds++) {
		stats_of(t, "echo", &st);
		most = st.starting > most ? st.starting : most;
		if (o[0].done && o[1].done && o[2].done)
			break;
		event_base_loop(t->base, EVLOOP_ONCE);
	}
	for (int i = 0; i < 3; i++) {
		assert_true(o[i].done);
		assert_int_equal(o[i].status, SL_INVOKE_OK);
		outcome_release(&o[i]);
	}
	*cold = st.cold_starts;
	return most;
}

static void test_burst_limit(void **state)
{
	uint64_t cold;

	assert_int_equal(burst(*state, 1, &cold), 1);
	assert_true(cold >= 2);   /* more than one start, and they were serialised */
}

/* The control: without the limit the three starts overlap (so the observation above works). */
static void test_burst_unlimited(void **state)
{
	uint64_t cold;

	assert_int_equal(burst(*state, 3, &cold), 3);
	assert_int_equal(cold, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_memory_budget_waits, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_memory_budget_throttles, xt_setup,
						xt_teardown),
		cmocka_unit_test_setup_teardown(test_memory_budget_fifo, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_provisioned, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_provisioned_backoff, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_burst_limit, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_burst_unlimited, xt_setup, xt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
