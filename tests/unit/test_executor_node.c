/* Executor + sluice-init with the real Node.js runtime interface client (aws-lambda-ric, built
 * by tools/ric.sh into the directory tools/ric-dir.sh prints) running an unmodified handler,
 * tests/fixtures/functions/node-echo/index.js. Skipped when node or the client is missing. */
#include "tests/unit/executor_harness.h"

/* The RIC entry point, or "" when it is not built. */
static void ric_entry(char *out, size_t len)
{
	char dir[PATH_MAX] = "";
	FILE *p = popen("sh tools/ric-dir.sh", "r");

	out[0] = '\0';
	if (!p)
		return;
	if (fgets(dir, sizeof(dir), p))
		dir[strcspn(dir, "\n")] = '\0';
	pclose(p);
	snprintf(out, len, "%s/node_modules/aws-lambda-ric/bin/index.mjs", dir);
	if (access(out, R_OK) != 0 || system("node --version > /dev/null 2>&1") != 0)
		out[0] = '\0';
}

static void add_node_fn(struct xt *t)
{
	char entry[PATH_MAX + 64];

	ric_entry(entry, sizeof(entry));
	if (!entry[0]) /* make test installs both: missing means the set-up is broken */
		fail_msg("aws-lambda-ric or node not available (sh tools/ric.sh builds it)");
	struct sl_function_config *fn = xt_fn(t, "node-echo", NULL);
	fn->runtime = (free(fn->runtime), sl_xstrdup("nodejs20.x"));
	fn->handler = (free(fn->handler), sl_xstrdup("index.handler"));
	fn->memory_mb = 256;
	fn->command = sl_xcalloc(3, sizeof(char *));
	fn->command[0] = sl_xstrdup("node");
	fn->command[1] = sl_xstrdup(entry);
	xt_start(t);
}

static void test_node_response(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;
	char want[256];

	add_node_fn(t);
	xt_invoke(t, "node-echo", "{\"hello\":\"world\"}", &a);
	xt_wait(t, &a);
	xt_invoke(t, "node-echo", "[1,2]", &b);
	xt_wait(t, &b);

	assert_int_equal(a.status, SL_INVOKE_OK);
	snprintf(want, sizeof(want), "{\"echo\":{\"hello\":\"world\"},\"requestId\":\"%s\","
		 "\"functionName\":\"node-echo\",\"memory\":\"256\",\"arn\":\"arn:aws:lambda:", a.id);
	assert_true(strncmp(a.payload, want, strlen(want)) == 0);
	assert_non_null(strstr(a.payload, ":000000000000:function:node-echo\"}"));
	assert_int_equal(b.status, SL_INVOKE_OK);
	assert_non_null(strstr(b.payload, "{\"echo\":[1,2],"));
	char *log = xt_log(t);
	assert_non_null(strstr(log, "node-echo got {\"hello\":\"world\"}"));
	assert_int_equal(xt_count(log, "\tInit Duration: "), 1);   /* warm second time */
	snprintf(want, sizeof(want), "REPORT RequestId: %s\tDuration: ", b.id);
	char *line = xt_line(log, want);
	assert_non_null(line);
	assert_non_null(strstr(line, "\tMemory Size: 256 MB\tMax Memory Used: "));
	free(line);
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_node_thrown_error(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;

	add_node_fn(t);
	xt_invoke(t, "node-echo", "{\"fail\":\"on purpose\"}", &a);
	xt_wait(t, &a);
	xt_invoke(t, "node-echo", "{\"ok\":true}", &b);
	xt_wait(t, &b);

	assert_int_equal(a.status, SL_INVOKE_FUNCTION_ERROR);
	/* the client sends the error's name ("Error") as the type header: normalised */
	assert_string_equal(a.error_type, "Runtime.Unknown");
	assert_true(strncmp(a.payload, "{\"errorType\":\"Error\",\"errorMessage\":\"asked to fail: "
			    "on purpose\",\"trace\":[", 73) == 0);
	assert_int_equal(b.status, SL_INVOKE_OK);   /* the same sandbox goes on */
	char *log = xt_log(t);
	assert_int_equal(xt_count(log, "\tInit Duration: "), 1);
	assert_non_null(strstr(log, "\tStatus: error\tError Type: Runtime.Unknown\n"));
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_response, xt_setup, xt_teardown),
		cmocka_unit_test_setup_teardown(test_node_thrown_error, xt_setup, xt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
