/* Executor + sluice-init with real processes: shell custom runtimes under
 * tests/fixtures/functions/. See executor_harness.h for the set-up. */
#include "tests/unit/executor_harness.h"

#include <signal.h>

/* Checks the REPORT line of invocation `id`: fields, TABs, Billed Duration rounding, and whether
 * it carries an Init Duration. `tail` is what follows "Max Memory Used: N MB\t". */
static void check_report(const char *log, const char *id, bool with_init, const char *tail)
{
	char needle[128];
	double dur = -1, init = 0;
	long long billed = -1;
	int mem = -1, used = -1, off = 0;

	snprintf(needle, sizeof(needle), "REPORT RequestId: %s\t", id);
	char *line = xt_line(log, needle);
	assert_non_null(line);
	const char *p = strstr(line, needle) + strlen(needle);
	assert_int_equal(sscanf(p, "Duration: %lf ms\tBilled Duration: %lld ms\tMemory Size: %d MB\t"
				"Max Memory Used: %d MB\t%n", &dur, &billed, &mem, &used, &off), 4);
	assert_true(off > 0);
	p += off;
	assert_int_equal(mem, 128);
	assert_true(used >= 0);   /* 0 only when the agent could not report it */
	if (with_init) {
		int n = 0;
		assert_int_equal(sscanf(p, "Init Duration: %lf ms\t%n", &init, &n), 1);
		assert_true(n > 0 && init > 0);
		p += n;
	} else {
		assert_null(strstr(p, "Init Duration"));
	}
	long long hundredths = (long long)(dur * 100 + 0.5) + (long long)(init * 100 + 0.5);
	assert_int_equal(billed, (hundredths + 99) / 100);   /* ceil(Duration + Init Duration) */
	assert_string_equal(p, tail);
	free(line);
}

static void check_start_end(const char *log, const char *fn, const char *id)
{
	char want[160];

	snprintf(want, sizeof(want), " function:%s START RequestId: %s Version: $LATEST\n", fn, id);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want), " function:%s END RequestId: %s\n", fn, id);
	assert_non_null(strstr(log, want));
}

static void expect_error(const struct outcome *o, enum sl_invoke_status status, const char *type,
			 const char *message)
{
	char want[512];

	assert_int_equal(o->status, status);
	assert_string_equal(o->error_type, type);
	snprintf(want, sizeof(want), "{\"errorType\":\"%s\",\"errorMessage\":\"RequestId: %s Error: "
		 "%s\"}", type, o->id, message);
	assert_string_equal(o->payload, want);
}

static void test_echo_cold_then_warm(void **state)
{
	struct xt *t = *state;
	struct sl_function_config *fn = xt_fn(t, "echo", NULL);
	struct outcome a, b;
	char want[256];

	fn->environment[1] = sl_xstrdup("MY_VAR=from-config");
	xt_start(t);
	xt_invoke(t, "echo", "{\"n\":1}", &a);
	xt_wait(t, &a);
	xt_invoke(t, "echo", "{\"n\":2}", &b);
	xt_wait(t, &b);

	assert_int_equal(a.status, SL_INVOKE_OK);
	assert_int_equal(b.status, SL_INVOKE_OK);
	assert_string_equal(a.error_type, "");
	assert_string_equal(a.content_type, "application/json");
	assert_int_equal(strlen(a.id), 36);
	assert_true(a.id[14] == '4');                          /* UUID v4 */
	assert_string_not_equal(a.id, b.id);
	assert_int_equal(json_int_member(a.payload, "pid"), json_int_member(b.payload, "pid"));
	snprintf(want, sizeof(want), "\"request_id\":\"%s\"", a.id);
	assert_non_null(strstr(a.payload, want));
	assert_non_null(strstr(a.payload, "\"arn\":\"arn:aws:lambda:"));
	assert_non_null(strstr(a.payload, ":000000000000:function:echo\""));
	assert_non_null(strstr(a.payload, "\"function\":\"echo\",\"memory\":\"128\","
			       "\"version\":\"$LATEST\",\"handler\":\"function.handler\""));
	assert_non_null(strstr(a.payload, "\"content_type\":\"application/json\""));
	assert_non_null(strstr(a.payload, "\"user_var\":\"from-config\""));
	assert_non_null(strstr(a.payload, "\"log_group\":\"/aws/lambda/echo\""));
	snprintf(want, sizeof(want), "\"task_root\":\"%s\",\"cwd\":\"%s\"", fn->code_dir,
		 fn->code_dir);
	assert_non_null(strstr(a.payload, want));
	assert_non_null(strstr(a.payload, "\"event\":{\"n\":1}}"));
	assert_non_null(strstr(b.payload, "\"event\":{\"n\":2}}"));
	assert_true(a.duration_ms > 0);

	char *log = xt_log(t);
	check_start_end(log, "echo", a.id);
	check_start_end(log, "echo", b.id);
	check_report(log, a.id, true, "");
	check_report(log, b.id, false, "");
	assert_null(strstr(log, "Max Memory Used: 0 MB"));   /* VmHWM of the runtime */
	assert_non_null(strstr(log, " function:echo echo runtime up, pid "));
	snprintf(want, sizeof(want), " function:echo handling %s\n", a.id);
	assert_non_null(strstr(log, want));
	/* the runtime's line comes between START and END */
	snprintf(want, sizeof(want), "START RequestId: %s", b.id);
	const char *start = strstr(log, want);
	snprintf(want, sizeof(want), "handling %s", b.id);
	const char *line = strstr(log, want);
	snprintf(want, sizeof(want), "END RequestId: %s", b.id);
	const char *end = strstr(log, want);
	assert_true(start && line && end && start < line && line < end);
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_trace_and_client_context(void **state)
{
	struct xt *t = *state;
	struct outcome o;
	struct sl_invoke_options opts = {
		.trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
		.client_context = "{\"custom\":{\"k\":\"v\"}}",
	};

	xt_fn(t, "echo", NULL);
	xt_start(t);
	xt_invoke_opts(t, "echo", "[]", &opts, &o);
	xt_wait(t, &o);
	assert_int_equal(o.status, SL_INVOKE_OK);
	assert_non_null(strstr(o.payload, "\"trace\":\"Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;"
			       "Parent=9a9197af755a6419;Sampled=1\""));
	char *log = xt_log(t);
	assert_non_null(strstr(log, "client context: {\"custom\":{\"k\":\"v\"}}\n"));
	free(log);
	outcome_release(&o);
}

static void test_function_error(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;

	xt_fn(t, "fails", NULL);
	xt_start(t);
	xt_invoke(t, "fails", "{}", &a);
	xt_wait(t, &a);
	xt_invoke(t, "fails", "\"unhandled\"", &b);
	xt_wait(t, &b);

	assert_int_equal(a.status, SL_INVOKE_FUNCTION_ERROR);
	assert_string_equal(a.error_type, "Function.EventRejected");
	/* the runtime's body, verbatim; the same sandbox answered both */
	assert_string_equal(a.payload, b.payload);
	assert_true(strncmp(a.payload, "{\"errorType\":\"EventRejected\",\"errorMessage\":\"pid ", 47)
		    == 0);
	assert_int_equal(b.status, SL_INVOKE_FUNCTION_ERROR);
	assert_string_equal(b.error_type, "Runtime.Unknown");
	char *log = xt_log(t);
	check_report(log, a.id, true, "Status: error\tError Type: Function.EventRejected");
	check_report(log, b.id, false, "Status: error\tError Type: Runtime.Unknown");
	assert_int_equal(xt_count(log, "function:fails rejecting "), 2);
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_timeout_then_fresh_sandbox(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;

	xt_fn(t, "sleeps", NULL)->timeout_s = 1;
	xt_start(t);
	xt_invoke(t, "sleeps", "{}", &a);
	xt_wait(t, &a);
	expect_error(&a, SL_INVOKE_TIMEOUT, "Sandbox.Timedout", "Task timed out after 1.00 seconds");
	assert_true(a.duration_ms >= 1000 && a.duration_ms < 2500);
	xt_invoke(t, "sleeps", "\"quick\"", &b);
	xt_wait(t, &b);
	assert_int_equal(b.status, SL_INVOKE_OK);

	char *log = xt_log(t);
	check_report(log, a.id, true, "Status: timeout");
	check_report(log, b.id, true, "");   /* a new sandbox: a new init */
	char want[128];
	snprintf(want, sizeof(want), "Z %s Task timed out after 1.00 seconds\n", a.id);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, "function:sleeps sleeping on "));
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

/* An agent that stops answering: the executor's backup timer (deadline + 2 s) answers the
 * invocation as timed out and kills the agent; the runtime dies with it. */
static void test_stuck_agent(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;
	int agent = 0;

	xt_fn(t, "sleeps", NULL)->timeout_s = 1;
	xt_start(t);
	xt_invoke(t, "sleeps", "{}", &a);
	char *line = xt_wait_log(t, "function:sleeps sleeping on ", 10000);
	assert_int_equal(sscanf(strstr(line, "(agent ") + 7, "%d", &agent), 1);
	free(line);
	assert_int_equal(kill(agent, SIGSTOP), 0);
	xt_wait(t, &a);
	expect_error(&a, SL_INVOKE_TIMEOUT, "Sandbox.Timedout", "Task timed out after 1.00 seconds");
	assert_true(a.duration_ms >= 2900);
	xt_invoke(t, "sleeps", "\"quick\"", &b);
	xt_wait(t, &b);
	assert_int_equal(b.status, SL_INVOKE_OK);
	xt_run_for(t, 100);
	assert_int_equal(kill(agent, 0), -1);   /* killed and reaped */
	char *log = xt_log(t);
	assert_non_null(strstr(log, "missed its deadline; killing it"));
	check_report(log, a.id, true, "Status: timeout");
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_runtime_exits(void **state)
{
	struct xt *t = *state;
	struct outcome o[4];

	xt_fn(t, "exits", NULL);
	xt_start(t);
	xt_invoke(t, "exits", "\"exit1\"", &o[0]);
	xt_wait(t, &o[0]);
	xt_invoke(t, "exits", "\"kill\"", &o[1]);
	xt_wait(t, &o[1]);
	xt_invoke(t, "exits", "\"exit0\"", &o[2]);
	xt_wait(t, &o[2]);
	xt_invoke(t, "exits", "\"fine\"", &o[3]);
	xt_wait(t, &o[3]);

	expect_error(&o[0], SL_INVOKE_RUNTIME_EXIT, "Runtime.ExitError",
		     "Runtime exited with error: exit status 1");
	expect_error(&o[1], SL_INVOKE_RUNTIME_EXIT, "Runtime.ExitError",
		     "Runtime exited with error: signal: killed");
	expect_error(&o[2], SL_INVOKE_RUNTIME_EXIT, "Runtime.ExitError",
		     "Runtime exited without providing a reason");
	assert_int_equal(o[3].status, SL_INVOKE_OK);
	long pid = json_int_member(o[3].payload, "pid");
	assert_true(pid > 0);
	char *log = xt_log(t);
	for (int i = 0; i < 3; i++)
		check_report(log, o[i].id, true, "Status: error\tError Type: Runtime.ExitError");
	check_report(log, o[3].id, true, "");
	assert_non_null(strstr(log, "function:exits exiting with status 1\n"));
	char want[160];
	snprintf(want, sizeof(want), "function:exits RequestId: %s Error: Runtime exited with "
		 "error: exit status 1\n", o[0].id);
	assert_non_null(strstr(log, want));
	assert_int_equal(xt_count(log, "function:exits Runtime.ExitError\n"), 3);
	free(log);
	for (int i = 0; i < 4; i++)
		outcome_release(&o[i]);
}

static void test_invalid_entrypoint(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;
	char msg[PATH_MAX + 128];

	struct sl_function_config *missing = xt_fn(t, "no-bootstrap", NULL);
	struct sl_function_config *noexec = xt_fn(t, "bad-bootstrap", NULL);
	xt_start(t);
	xt_invoke(t, "no-bootstrap", "{}", &a);
	xt_wait(t, &a);
	xt_invoke(t, "bad-bootstrap", "{}", &b);
	xt_wait(t, &b);

	snprintf(msg, sizeof(msg), "fork/exec %s/bootstrap: no such file or directory",
		 missing->code_dir);
	expect_error(&a, SL_INVOKE_INIT_ERROR, "Runtime.InvalidEntrypoint", msg);
	snprintf(msg, sizeof(msg), "fork/exec %s/bootstrap: permission denied", noexec->code_dir);
	expect_error(&b, SL_INVOKE_INIT_ERROR, "Runtime.InvalidEntrypoint", msg);
	char *log = xt_log(t);
	char *line = xt_line(log, "function:no-bootstrap INIT_REPORT Init Duration: ");
	assert_non_null(line);
	assert_non_null(strstr(line, " ms\tPhase: init\tStatus: error\t"
			       "Error Type: Runtime.InvalidEntrypoint"));
	free(line);
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_init_error(void **state)
{
	struct xt *t = *state;
	struct outcome o;

	xt_fn(t, "init-error", NULL);
	xt_start(t);
	xt_invoke(t, "init-error", "{}", &o);
	xt_wait(t, &o);
	assert_int_equal(o.status, SL_INVOKE_INIT_ERROR);
	assert_string_equal(o.error_type, "Runtime.ConfigInvalid");
	assert_string_equal(o.payload, "{\"errorMessage\":\"missing setting\","
			    "\"errorType\":\"ConfigError\"}");
	char *log = xt_log(t);
	assert_non_null(strstr(log, "function:init-error cannot load the configuration\n"));
	assert_non_null(strstr(log, "\tPhase: init\tStatus: error\tError Type: Runtime.ConfigInvalid"));
	free(log);
	outcome_release(&o);
}

static void test_init_timeout(void **state)
{
	struct xt *t = *state;
	struct outcome o;
	struct sl_function_config *fn = xt_fn(t, "init-slow", "init-error");

	/* a runtime that never calls /next: `sleep` stands in for one */
	fn->command = sl_xcalloc(3, sizeof(char *));
	fn->command[0] = sl_xstrdup("sleep");
	fn->command[1] = sl_xstrdup("30");
	free(fn->handler);
	fn->handler = NULL;
	fn->init_timeout_s = 1;
	xt_start(t);
	xt_invoke(t, "init-slow", "{}", &o);
	xt_wait(t, &o);
	expect_error(&o, SL_INVOKE_INIT_ERROR, "Sandbox.Timedout",
		     "Init phase timed out after 1.00 seconds");
	char *log = xt_log(t);
	assert_non_null(strstr(log, "function:init-slow INIT_REPORT Init Duration: "));
	assert_non_null(strstr(log, " ms\tPhase: init\tStatus: timeout\n"));
	free(log);
	outcome_release(&o);
}

static void test_idle_reaping(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;

	t->cfg.idle_timeout_s = 1;
	xt_fn(t, "echo", NULL);
	xt_start(t);
	xt_invoke(t, "echo", "{}", &a);
	xt_wait(t, &a);
	pid_t pid = (pid_t)json_int_member(a.payload, "pid");
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), 0);
	xt_run_for(t, 1800);
	assert_int_equal(kill(pid, 0), -1);   /* the runtime is gone */
	assert_int_equal(errno, ESRCH);
	xt_invoke(t, "echo", "{}", &b);
	xt_wait(t, &b);
	assert_int_equal(b.status, SL_INVOKE_OK);
	assert_true(json_int_member(b.payload, "pid") != pid);
	char *log = xt_log(t);
	check_report(log, b.id, true, "");
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_concurrency_cap_and_queue(void **state)
{
	struct xt *t = *state;
	struct outcome o[6];
	long pids[6];
	int distinct = 0;

	xt_fn(t, "echo", NULL)->max_concurrency = 2;
	xt_start(t);
	for (int i = 0; i < 6; i++)
		xt_invoke(t, "echo", "\"nap\"", &o[i]);
	xt_wait_all(t, o, 6, 20000);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(o[i].status, SL_INVOKE_OK);
		pids[i] = json_int_member(o[i].payload, "pid");
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen |= pids[j] == pids[i];
		distinct += !seen;
	}
	assert_int_equal(distinct, 2);
	/* FIFO: with two sandboxes, invocation i finishes before i + 2 */
	for (int i = 0; i + 2 < 6; i++)
		assert_true(o[i].seq < o[i + 2].seq);
	char *log = xt_log(t);
	assert_int_equal(xt_count(log, "\tInit Duration: "), 2);
	free(log);
	for (int i = 0; i < 6; i++)
		outcome_release(&o[i]);
}

static void test_throttle(void **state)
{
	struct xt *t = *state;
	struct outcome o[4];

	xt_fn(t, "echo", NULL)->max_concurrency = 1;
	xt_start(t);
	sl_executor_set_queue_limit(t->ex, 2);
	for (int i = 0; i < 4; i++)
		xt_invoke(t, "echo", "{}", &o[i]);
	xt_wait_all(t, o, 4, 20000);
	assert_int_equal(o[0].status, SL_INVOKE_OK);
	assert_int_equal(o[1].status, SL_INVOKE_OK);
	for (int i = 2; i < 4; i++) {
		assert_int_equal(o[i].status, SL_INVOKE_THROTTLED);
		assert_string_equal(o[i].error_type, "TooManyRequestsException");
		assert_true(o[i].seq <= 2);   /* answered at once, before the cold start is over */
	}
	for (int i = 0; i < 4; i++)
		outcome_release(&o[i]);
}

static void test_runtime_api_errors(void **state)
{
	struct xt *t = *state;
	struct outcome a, b, c;

	xt_fn(t, "rapi-probe", NULL);
	xt_start(t);
	xt_invoke(t, "rapi-probe", "{}", &a);
	xt_wait(t, &a);
	xt_invoke(t, "rapi-probe", "\"big\"", &b);
	xt_wait(t, &b);
	xt_invoke(t, "rapi-probe", "{}", &c);
	xt_wait(t, &c);

	assert_int_equal(a.status, SL_INVOKE_OK);
	assert_string_equal(a.content_type, "text/plain");
	assert_string_equal(a.payload,
		"403 {\"errorMessage\":\"State transition from Started to InvocationResponse failed "
		"for runtime. Error: State transition is not allowed\",\"errorType\":"
		"\"InvalidStateTransition\"}\n"
		"400 {\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n"
		"403 {\"errorMessage\":\"State transition from Running to InitError failed for "
		"runtime. Error: State transition is not allowed\",\"errorType\":"
		"\"InvalidStateTransition\"}\n"
		"200 pong\n"
		"none\n");
	assert_int_equal(b.status, SL_INVOKE_TOO_LARGE);
	assert_string_equal(b.error_type, "Function.ResponseSizeTooLarge");
	assert_string_equal(b.payload, "{\"errorMessage\":\"Response payload size exceeded maximum "
			    "allowed payload size (6291556 bytes).\",\"errorType\":"
			    "\"Function.ResponseSizeTooLarge\"}");
	/* the same sandbox goes on; it saw 400 for its repeated response */
	assert_int_equal(c.status, SL_INVOKE_OK);
	assert_non_null(strstr(c.payload, "\n400 {\"errorMessage\":\"Invalid request ID\","
			       "\"errorType\":\"InvalidRequestID\"}\n"));
	char *log = xt_log(t);
	assert_non_null(strstr(log, "big response: 413 {\"errorMessage\":\"Exceeded maximum allowed "
			       "payload size (6291556 bytes).\",\"errorType\":"
			       "\"RequestEntityTooLarge\"}\n"));
	check_report(log, b.id, false, "Status: error\tError Type: Function.ResponseSizeTooLarge");
	check_report(log, c.id, false, "");
	free(log);
	outcome_release(&a);
	outcome_release(&b);
	outcome_release(&c);
}

static void test_shutdown_lets_running_finish(void **state)
{
	struct xt *t = *state;
	struct outcome o;

	xt_fn(t, "echo", NULL);
	xt_start(t);
	assert_int_equal(sl_executor_invoke(t->ex, "nope", "{}", 2, NULL, on_result, &o), -ENOENT);
	xt_invoke(t, "echo", "\"nap\"", &o);
	xt_shutdown(t, 10000);
	assert_true(o.done);
	assert_int_equal(o.status, SL_INVOKE_OK);
	assert_int_equal(sl_executor_invoke(t->ex, "echo", "{}", 2, NULL, on_result, &o),
			 -ESHUTDOWN);
	outcome_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo_cold_then_warm, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_trace_and_client_context, xt_setup,
						xt_teardown),
		cmocka_unit_test_setup_teardown(test_function_error, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_timeout_then_fresh_sandbox, xt_setup,
						xt_teardown),
		cmocka_unit_test_setup_teardown(test_stuck_agent, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_runtime_exits, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_entrypoint, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_init_error, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_init_timeout, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_idle_reaping, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_concurrency_cap_and_queue, xt_setup,
						xt_teardown),
		cmocka_unit_test_setup_teardown(test_throttle, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_runtime_api_errors, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_lets_running_finish, xt_setup,
						xt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
