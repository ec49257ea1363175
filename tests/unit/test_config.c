/* Unit tests of config/: the embedded default, every class of error with its exact message,
 * defaults, path resolution, and the generated schema and reference against the committed files.
 * Runs from the repository root (paths like examples/hello and schemas/ are relative to it).
 *
 * JSON in this file is written with ' instead of " (q() swaps them) to stay readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/props.h"

static char err[65536];
static char *repo; /* absolute path of the repository root (the tests' working directory) */

#define FN "'functions': {'hello': {'code': 'examples/hello'}}"
#define SRC "'sources': {'web': {'kind': 'http'}, " \
	"'tick': {'kind': 'schedule', 'expression': 'rate(1 minute)'}}"
#define DST "'destinations': {'dlq': {'kind': 'file', 'path': 'dl.jsonl'}}"
#define TRG(body) "'triggers': {'t': {'source': 'web', 'function': 'hello'" body "}}"
#define BASE FN ", " SRC ", " DST

#define TOP_KEYS "listen, state_dir, log_level, log_format, idle_timeout_s, spool_max_bytes, " \
	"spool_segment_bytes, executor_memory_mb, executor_queue_timeout_ms, executor_max_starting, " \
	"docker_socket, functions, sources, triggers, destinations"
#define FN_KEYS "code, runtime, command, handler, memory_mb, timeout_s, init_timeout_s, " \
	"max_concurrency, environment, sandbox, provisioned_concurrency, network, " \
	"ephemeral_storage_mb, layers, image, async_max_retry_attempts, async_max_event_age_s, " \
	"async_retry_base_ms, async_on_success, async_on_failure"
#define TRG_KEYS "source, function, enabled, payload_format, batch_size, max_batching_window_ms, " \
	"max_batch_bytes, max_retry_attempts, retry_base_ms, retry_max_ms, max_record_age_s, " \
	"bisect_on_error, report_batch_item_failures, parallelization_factor, max_concurrency, " \
	"starting_position, starting_position_timestamp, consumer_group, max_pending_events, max_pending_bytes, " \
	"on_failure, on_success, filters"

static char *q(const char *s)
{
	char *t = strdup(s);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static struct sl_config *load_in(const char *json, const char *base)
{
	char *text = q(json);
	struct sl_config *cfg = sl_config_load_text(text, strlen(text), "sluice.json", base, err,
						    sizeof(err));
	free(text);
	return cfg;
}

static struct sl_config *load(const char *json)
{
	return load_in(json, repo);
}

static struct sl_config *load_ok(const char *json)
{
	struct sl_config *cfg = load(json);
	if (!cfg)
		fail_msg("unexpected errors:\n%s", err);
	assert_string_equal(err, "");
	return cfg;
}

static void expect_error(const char *json, const char *message)
{
	struct sl_config *cfg = load(json);
	assert_null(cfg);
	assert_string_equal(err, message);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *in_repo(const char *rel)
{
	size_t n = strlen(repo) + strlen(rel) + 2;
	char *p = malloc(n);
	snprintf(p, n, "%s/%s", repo, rel);
	return p;
}

static void assert_path(const char *got, const char *rel)
{
	char *want = in_repo(rel);
	assert_string_equal(got, want);
	free(want);
}

/* --- the embedded default --------------------------------------------------------------- */

static void test_default_loads(void **state)
{
	(void)state;
	struct sl_config *cfg = sl_config_load_default(err, sizeof(err));
	if (!cfg)
		fail_msg("embedded default rejected:\n%s", err);
	assert_string_equal(cfg->path, "(embedded config/sluice.json)");
	assert_string_equal(cfg->listen, "127.0.0.1:8070");
	assert_path(cfg->state_dir, ".sluice");
	assert_string_equal(cfg->log_level, "info");
	assert_string_equal(cfg->log_format, "text");
	assert_int_equal(cfg->idle_timeout_s, 300);
	assert_int_equal(cfg->spool_max_bytes, 1073741824);
	assert_int_equal(cfg->spool_segment_bytes, 67108864);

	assert_int_equal(cfg->n_functions, 1);
	const struct sl_function_config *fn = sl_config_function(cfg, "hello");
	assert_ptr_equal(fn, &cfg->functions[0]);
	assert_path(fn->code_dir, "examples/hello");
	assert_string_equal(fn->runtime, "provided.al2023");
	assert_string_equal(fn->handler, "function.handler");
	assert_null(fn->command);
	assert_int_equal(fn->memory_mb, 128);
	assert_int_equal(fn->timeout_s, 3);
	assert_int_equal(fn->init_timeout_s, 10);
	assert_int_equal(fn->max_concurrency, 10);
	assert_int_equal(fn->sandbox, SL_SANDBOX_PROCESS);
	assert_string_equal(fn->image, "localhost/sluice/base:latest");
	assert_non_null(fn->environment);
	assert_null(fn->environment[0]);

	assert_int_equal(cfg->n_sources, 2);
	const struct sl_source_config *web = sl_config_source(cfg, "web");
	const struct sl_source_config *hourly = sl_config_source(cfg, "hourly");
	assert_int_equal(web->kind, SL_SOURCE_HTTP);
	assert_int_equal(web->max_body_bytes, 6291456);
	assert_int_equal(hourly->kind, SL_SOURCE_SCHEDULE);
	assert_string_equal(hourly->expression, "rate(1 hour)");
	assert_true(json_is_object(hourly->detail) && json_object_size(hourly->detail) == 0);

	assert_int_equal(cfg->n_triggers, 2);
	const struct sl_trigger_config *t = sl_config_trigger(cfg, "web-to-hello");
	assert_string_equal(t->source, "web");
	assert_string_equal(t->function, "hello");
	assert_true(t->enabled);
	assert_int_equal(t->payload_format, SL_PAYLOAD_CLOUDEVENTS);
	assert_int_equal(t->batch_size, 10);
	assert_int_equal(t->max_batching_window_ms, 200);
	assert_int_equal(t->max_batch_bytes, 6291456);
	assert_int_equal(t->max_retry_attempts, 2);
	assert_int_equal(t->retry_base_ms, 200);
	assert_int_equal(t->retry_max_ms, 60000);
	assert_int_equal(t->parallelization_factor, 1);
	assert_string_equal(t->on_failure, "dead-letter");
	t = sl_config_trigger(cfg, "hourly-to-hello");
	assert_int_equal(t->payload_format, SL_PAYLOAD_AWS);
	assert_int_equal(t->batch_size, 1);
	assert_null(t->on_failure);

	assert_int_equal(cfg->n_destinations, 1);
	const struct sl_destination_config *d = sl_config_destination(cfg, "dead-letter");
	assert_int_equal(d->kind, SL_DEST_FILE);
	assert_path(d->path, ".sluice/dead-letter.jsonl");
	assert_null(sl_config_destination(cfg, "nope"));
	assert_null(sl_config_function(cfg, "nope"));
	sl_config_free(cfg);
}

/* The file itself validates: its paths are relative to config/, like the embedded copy's. */
static void test_default_file_text(void **state)
{
	(void)state;
	struct sl_config *cfg = sl_config_load_file("config/sluice.json", err, sizeof(err));
	if (!cfg)
		fail_msg("config/sluice.json rejected:\n%s", err);
	assert_path(cfg->functions[0].code_dir, "examples/hello");
	sl_config_free(cfg);
}

static void test_defaults_filled(void **state)
{
	(void)state;
	struct sl_config *cfg = load_ok("{" BASE ", " TRG("") "}");
	const struct sl_trigger_config *t = &cfg->triggers[0];
	assert_string_equal(t->name, "t");
	assert_true(t->enabled);
	assert_int_equal(t->payload_format, SL_PAYLOAD_CLOUDEVENTS);
	assert_int_equal(t->batch_size, 10);
	assert_int_equal(t->max_batching_window_ms, 500);
	assert_int_equal(t->max_batch_bytes, 6291456);
	assert_int_equal(t->max_retry_attempts, 2);
	assert_int_equal(t->retry_base_ms, 1000);
	assert_int_equal(t->retry_max_ms, 60000);
	assert_int_equal(t->parallelization_factor, 1);
	assert_null(t->on_failure);
	assert_string_equal(cfg->listen, "127.0.0.1:8070");
	assert_string_equal(cfg->log_format, "text");
	assert_int_equal(cfg->functions[0].memory_mb, 128);
	sl_config_free(cfg);

	cfg = load_ok("{}");
	assert_int_equal(cfg->n_functions + cfg->n_sources + cfg->n_triggers +
			 cfg->n_destinations, 0);
	assert_null(cfg->functions);
	assert_path(cfg->state_dir, ".sluice");
	sl_config_free(cfg);
}

static void test_values_kept(void **state)
{
	(void)state;
	struct sl_config *cfg = load_ok("{'listen': '[::1]:9000', 'log_level': 'debug', "
		"'functions': {'f': {'code': 'examples/hello', 'command': ['node', 'index.js'], "
		"'handler': 'index.handler', 'memory_mb': 10240, 'timeout_s': 900, "
		"'environment': {'A1': 'x=y', 'Bb': ''}, 'sandbox': 'oci'}}, "
		"'sources': {'s': {'kind': 'schedule', 'expression': 'rate(5 minutes)', "
		"'detail': {'k': [1]}}}, 'destinations': {'d': {'kind': 'file', 'path': '/var/x'}}, "
		"'triggers': {'t': {'source': 's', 'function': 'f', 'enabled': false, "
		"'payload_format': 'cloudevents', 'batch_size': 10000, 'retry_base_ms': 120000, "
		"'on_failure': 'd', 'parallelization_factor': 10}}}");
	const struct sl_function_config *f = &cfg->functions[0];
	assert_string_equal(cfg->listen, "[::1]:9000");
	assert_string_equal(cfg->log_level, "debug");
	assert_string_equal(f->command[0], "node");
	assert_string_equal(f->command[1], "index.js");
	assert_null(f->command[2]);
	assert_string_equal(f->environment[0], "A1=x=y");
	assert_string_equal(f->environment[1], "Bb=");
	assert_null(f->environment[2]);
	assert_int_equal(f->memory_mb, 10240);
	assert_int_equal(f->sandbox, SL_SANDBOX_OCI);
	assert_int_equal(json_integer_value(json_array_get(
		json_object_get(cfg->sources[0].detail, "k"), 0)), 1);
	const struct sl_trigger_config *t = &cfg->triggers[0];
	assert_false(t->enabled);
	assert_int_equal(t->payload_format, SL_PAYLOAD_CLOUDEVENTS);
	assert_int_equal(t->batch_size, 10000);
	assert_int_equal(t->retry_max_ms, 120000); /* default raised to retry_base_ms */
	assert_string_equal(cfg->destinations[0].path, "/var/x");
	sl_config_free(cfg);
}

/* --- syntax ------------------------------------------------------------------------------ */

static void test_invalid_json(void **state)
{
	(void)state;
	expect_error("{\n  'listen': '127.0.0.1:1',\n  'state_dir': .x\n}",
		     "sluice.json:3:16: invalid JSON: invalid token near '.'");
	expect_error("", "sluice.json:1:0: invalid JSON: '[' or '{' expected near end of file");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_error("{'functions': {},\n 'functions': {}}",
		     "sluice.json:2:12: invalid JSON: duplicate object key near '\"functions\"'");
}

static void test_root_not_object(void **state)
{
	(void)state;
	expect_error("[1]", "sluice.json: $: expected an object, got an array");
}

/* --- unknown keys ------------------------------------------------------------------------ */

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_error("{'listn': 'x'}",
		     "sluice.json: $.listn: unknown key (known keys: " TOP_KEYS ")");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', 'memroy_mb': 256}}}",
		     "sluice.json: $.functions.hello.memroy_mb: unknown key (known keys: "
		     FN_KEYS ")");
	expect_error("{" BASE ", " TRG(", 'batchsize': 5") "}",
		     "sluice.json: $.triggers.t.batchsize: unknown key (known keys: " TRG_KEYS ")");
	expect_error("{'sources': {'web': {'kind': 'http', 'expression': 'rate(1 hour)'}}}",
		     "sluice.json: $.sources.web.expression: unknown key (known keys: kind, "
		     "max_body_bytes)");
	expect_error("{'sources': {'s': {'kind': 'schedule', 'expression': 'rate(1 hour)', "
		     "'max_body_bytes': 1}}}",
		     "sluice.json: $.sources.s.max_body_bytes: unknown key (known keys: kind, "
		     "expression, detail)");
	expect_error("{'destinations': {'d': {'kind': 'file', 'path': 'x', 'fsync': true}}}",
		     "sluice.json: $.destinations.d.fsync: unknown key (known keys: kind, path)");
	expect_error("{'a b': 1}",
		     "sluice.json: $[\"a b\"]: unknown key (known keys: " TOP_KEYS ")");
}

/* --- types ------------------------------------------------------------------------------- */

static void test_wrong_types(void **state)
{
	(void)state;
	expect_error("{'functions': {'hello': {'code': 'examples/hello', 'memory_mb': '256'}}}",
		     "sluice.json: $.functions.hello.memory_mb: expected an integer from 128 to "
		     "10240, got \"256\"");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', 'timeout_s': 2.5}}}",
		     "sluice.json: $.functions.hello.timeout_s: expected an integer from 1 to 900, "
		     "got 2.5");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', 'handler': 5}}}",
		     "sluice.json: $.functions.hello.handler: expected a string of 1 to 128 bytes, "
		     "got 5");
	expect_error("{'functions': []}",
		     "sluice.json: $.functions: expected an object mapping names to functions, "
		     "got an empty array");
	expect_error("{'sources': {'s': {'kind': 'schedule', 'expression': 'rate(1 hour)', "
		     "'detail': [1, 2]}}}",
		     "sluice.json: $.sources.s.detail: expected an object, got an array");
	expect_error("{" BASE ", " TRG(", 'enabled': 'yes'") "}",
		     "sluice.json: $.triggers.t.enabled: expected true or false, got \"yes\"");
	expect_error("{'functions': {'hello': 'examples/hello'}}",
		     "sluice.json: $.functions.hello: expected an object (a function), got "
		     "\"examples/hello\"");
	expect_error("{'listen': null}",
		     "sluice.json: $.listen: expected a string, got null");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', "
		     "'command': ['./run', 7]}}}",
		     "sluice.json: $.functions.hello.command[1]: expected a string, got 7");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', 'command': []}}}",
		     "sluice.json: $.functions.hello.command: expected an array of 1 to 64 "
		     "strings, got an empty array");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', "
		     "'environment': {'KEY': 1}}}}",
		     "sluice.json: $.functions.hello.environment.KEY: expected a string, got 1");
}

static void test_long_value_quoted_short(void **state)
{
	(void)state;
	char json[512];
	snprintf(json, sizeof(json), "{'log_level': '%0200d'}", 0);
	expect_error(json, "sluice.json: $.log_level: expected one of: error, warn, info, debug, "
		     "got \"000000000000000000000000000000000000000000000000000000000000000000000000"
		     "000...\"");
}

/* --- executor limits and provisioned concurrency ----------------------------------------- */

static void test_executor_limits(void **state)
{
	(void)state;
	struct sl_config *cfg = load_ok("{" BASE "}");
	assert_int_equal(cfg->executor_memory_mb, 0);   /* 0: 80% of MemTotal, at start */
	assert_int_equal(cfg->executor_queue_timeout_ms, 10000);
	assert_int_equal(cfg->executor_max_starting, 8);
	assert_string_equal(cfg->docker_socket, "/var/run/docker.sock");
	assert_int_equal(cfg->functions[0].provisioned_concurrency, 0);
	sl_config_free(cfg);
	cfg = load_ok("{'executor_memory_mb': 2048, 'executor_queue_timeout_ms': 1, "
		      "'executor_max_starting': 1000, 'functions': {'hello': {'code': "
		      "'examples/hello', 'max_concurrency': 3, 'provisioned_concurrency': 3}}}");
	assert_int_equal(cfg->executor_memory_mb, 2048);
	assert_int_equal(cfg->executor_queue_timeout_ms, 1);
	assert_int_equal(cfg->executor_max_starting, 1000);
	assert_int_equal(cfg->functions[0].provisioned_concurrency, 3);
	sl_config_free(cfg);
	expect_error("{'executor_memory_mb': 127}",
		     "sluice.json: $.executor_memory_mb: expected an integer from 128 to 1048576, "
		     "got 127");
	expect_error("{'executor_memory_mb': 1048577}",
		     "sluice.json: $.executor_memory_mb: expected an integer from 128 to 1048576, "
		     "got 1048577");
	expect_error("{'executor_queue_timeout_ms': 0}",
		     "sluice.json: $.executor_queue_timeout_ms: expected an integer from 1 to "
		     "3600000, got 0");
	expect_error("{'executor_queue_timeout_ms': 3600001}",
		     "sluice.json: $.executor_queue_timeout_ms: expected an integer from 1 to "
		     "3600000, got 3600001");
	expect_error("{'executor_max_starting': 0}",
		     "sluice.json: $.executor_max_starting: expected an integer from 1 to 1000, "
		     "got 0");
	expect_error("{'executor_max_starting': 1001}",
		     "sluice.json: $.executor_max_starting: expected an integer from 1 to 1000, "
		     "got 1001");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', "
		     "'provisioned_concurrency': -1}}}",
		     "sluice.json: $.functions.hello.provisioned_concurrency: expected an integer "
		     "from 0 to 1000, got -1");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', "
		     "'provisioned_concurrency': 11}}}",
		     "sluice.json: $.functions.hello.provisioned_concurrency: expected an integer "
		     "from 0 to max_concurrency (10), got 11");
}

/* --- ranges and enums -------------------------------------------------------------------- */

static void test_out_of_range(void **state)
{
	(void)state;
	expect_error("{" BASE ", " TRG(", 'batch_size': 0") "}",
		     "sluice.json: $.triggers.t.batch_size: expected an integer from 1 to 10000, "
		     "got 0");
	expect_error("{" BASE ", " TRG(", 'batch_size': 10001") "}",
		     "sluice.json: $.triggers.t.batch_size: expected an integer from 1 to 10000, "
		     "got 10001");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', 'memory_mb': 127}}}",
		     "sluice.json: $.functions.hello.memory_mb: expected an integer from 128 to "
		     "10240, got 127");
	expect_error("{'functions': {'hello': {'code': 'examples/hello', 'memory_mb': 10241}}}",
		     "sluice.json: $.functions.hello.memory_mb: expected an integer from 128 to "
		     "10240, got 10241");
	expect_error("{" BASE ", " TRG(", 'max_batch_bytes': -1") "}",
		     "sluice.json: $.triggers.t.max_batch_bytes: expected an integer from 1 to "
		     "6291456, got -1");
	expect_error("{'spool_max_bytes': 9223372036854775807}",
		     "sluice.json: $.spool_max_bytes: expected an integer from 1048576 to "
		     "1099511627776, got 9223372036854775807");
	expect_error("{'spool_max_bytes': 1048576, 'spool_segment_bytes': 2097152}",
		     "sluice.json: $.spool_segment_bytes: expected at most spool_max_bytes "
		     "(1048576), got 2097152");
	expect_error("{" BASE ", " TRG(", 'retry_base_ms': 5000, 'retry_max_ms': 4000") "}",
		     "sluice.json: $.triggers.t.retry_max_ms: expected an integer from "
		     "retry_base_ms (5000) to 3600000, got 4000");
}

/* The delivery controls of issue 4: ranges with holes, keys that go together, destinations. */
static void test_delivery_controls(void **state)
{
	(void)state;
	struct sl_config *cfg = load_ok("{" BASE ", " TRG(", 'max_retry_attempts': -1, "
		"'max_record_age_s': 60, 'bisect_on_error': true, 'report_batch_item_failures': "
		"true, 'max_concurrency': 3, 'starting_position': 'at_timestamp', "
		"'starting_position_timestamp': '2026-11-24T10:00:00.5+01:00'") "}");
	const struct sl_trigger_config *t = sl_config_trigger(cfg, "t");
	assert_int_equal(t->max_retry_attempts, -1);
	assert_int_equal(t->max_record_age_s, 60);
	assert_true(t->bisect_on_error && t->report_batch_item_failures);
	assert_int_equal(t->max_concurrency, 3);
	assert_int_equal(t->starting_position, SL_START_AT_TIMESTAMP);
	assert_int_equal(t->starting_position_timestamp_ms, 1795510800500LL);
	assert_int_equal(t->max_pending_events, 20000);
	assert_int_equal(t->max_pending_bytes, 64u << 20);
	sl_config_free(cfg);

	expect_error("{" BASE ", " TRG(", 'max_record_age_s': 59") "}",
		     "sluice.json: $.triggers.t.max_record_age_s: expected -1 (no limit) or an "
		     "integer from 60 to 604800, got 59");
	expect_error("{" BASE ", " TRG(", 'max_retry_attempts': -2") "}",
		     "sluice.json: $.triggers.t.max_retry_attempts: expected an integer from -1 to "
		     "10000, got -2");
	expect_error("{" BASE ", " TRG(", 'starting_position': 'at_timestamp'") "}",
		     "sluice.json: $.triggers.t: missing required key "
		     "\"starting_position_timestamp\" (starting_position is at_timestamp)");
	expect_error("{" BASE ", " TRG(", 'starting_position_timestamp': '2026-11-24T10:00:00Z'")
		     "}", "sluice.json: $.triggers.t.starting_position_timestamp: expected only "
		     "with \"starting_position\": \"at_timestamp\"");
	expect_error("{" BASE ", " TRG(", 'starting_position': 'at_timestamp', "
		     "'starting_position_timestamp': '2026-02-29T10:00:00Z'") "}",
		     "sluice.json: $.triggers.t.starting_position_timestamp: expected an ISO 8601 "
		     "time such as \"2026-11-24T10:00:00Z\" (with Z or an offset), got "
		     "\"2026-02-29T10:00:00Z\"");
	expect_error("{" BASE ", " TRG(", 'on_success': 'nowhere'") "}",
		     "sluice.json: $.triggers.t.on_success: expected the name of a destination "
		     "(known: dlq), got \"nowhere\"");
}

static void test_destination_kinds(void **state)
{
	(void)state;
	struct sl_config *cfg = load_ok("{" FN ", 'destinations': {"
		"'h': {'kind': 'http', 'url': 'https://example.test/dlq', 'headers': "
		"{'Authorization': 'Bearer x'}}, "
		"'r': {'kind': 'redis', 'stream': 'dead'}, "
		"'k': {'kind': 'kafka', 'brokers': '127.0.0.1:9092', 'topic': 'dead', "
		"'properties': {'compression.type': 'zstd'}}, "
		"'m': {'kind': 'mqtt', 'topic': 'sluice/dead', 'qos': 2}, "
		"'f': {'kind': 'function', 'function': 'hello'}}}");
	const struct sl_destination_config *r = sl_config_destination(cfg, "r");
	assert_string_equal(r->address, "127.0.0.1:6379");
	assert_int_equal(r->timeout_ms, 10000);
	const struct sl_destination_config *m = sl_config_destination(cfg, "m");
	assert_string_equal(m->host, "127.0.0.1");
	assert_int_equal(m->port, 1883);
	assert_int_equal(m->qos, 2);
	assert_string_equal(sl_config_destination(cfg, "h")->headers[0],
			    "Authorization=Bearer x");
	assert_string_equal(sl_config_destination(cfg, "k")->properties[0],
			    "compression.type=zstd");
	assert_string_equal(sl_config_destination(cfg, "f")->function, "hello");
	sl_config_free(cfg);

	expect_error("{'destinations': {'h': {'kind': 'http', 'url': 'ftp://x'}}}",
		     "sluice.json: $.destinations.h.url: expected an http:// or https:// URL with "
		     "a host and no spaces, got \"ftp://x\"");
	expect_error("{'destinations': {'h': {'kind': 'http', 'url': 'http://x', 'headers': "
		     "{'Bad Name': 'v'}}}}",
		     "sluice.json: $.destinations.h.headers[\"Bad Name\"]: expected a header name made "
		     "of letters, digits and !#$%&'*+.^_`|~-");
	expect_error("{'destinations': {'h': {'kind': 'http', 'url': 'http://x', 'headers': "
		     "{'X-A': 'a\\r\\nX-B: b'}}}}",
		     "sluice.json: $.destinations.h.headers.X-A: expected a header value without "
		     "line breaks");
	expect_error("{'destinations': {'m': {'kind': 'mqtt', 'topic': 'a/+/b'}}}",
		     "sluice.json: $.destinations.m.topic: expected a topic to publish to, without "
		     "the wildcards + and #");
	expect_error("{'destinations': {'r': {'kind': 'redis', 'stream': 's', 'address': "
		     "'localhost'}}}",
		     "sluice.json: $.destinations.r.address: expected HOST:PORT with a port from 1 "
		     "to 65535, got \"localhost\"");
	expect_error("{" FN ", 'destinations': {'f': {'kind': 'function', 'function': 'x'}}}",
		     "sluice.json: $.destinations.f.function: expected the name of a function "
		     "(known: hello), got \"x\"");
}

static void test_bad_enum(void **state)
{
	(void)state;
	expect_error("{" BASE ", " TRG(", 'payload_format': 'xml'") "}",
		     "sluice.json: $.triggers.t.payload_format: expected one of: aws, cloudevents, "
		     "got \"xml\"");
	expect_error("{'log_format': 'JSON'}",
		     "sluice.json: $.log_format: expected one of: text, json, got \"JSON\"");
	expect_error("{'functions': {'f': {'code': 'examples/hello', 'sandbox': 'podman'}}}",
		     "sluice.json: $.functions.f.sandbox: expected one of: process, oci, docker, "
		     "got \"podman\"");
}

static void test_listen(void **state)
{
	(void)state;
	const char *bad[] = { "localhost", ":80", "host:0", "host:65536", "host:8o", "::1:80",
			      "[::1]", "host:" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char json[128], want[256];
		snprintf(json, sizeof(json), "{'listen': '%s'}", bad[i]);
		snprintf(want, sizeof(want), "sluice.json: $.listen: expected HOST:PORT with a port "
			 "from 1 to 65535, got \"%s\"", bad[i]);
		expect_error(json, want);
	}
	sl_config_free(load_ok("{'listen': '0.0.0.0:65535'}"));
}

/* --- required keys and kinds ------------------------------------------------------------- */

static void test_missing_required(void **state)
{
	(void)state;
	expect_error("{'functions': {'hello': {'memory_mb': 256}}}",
		     "sluice.json: $.functions.hello: missing required key \"code\"");
	expect_error("{" BASE ", 'triggers': {'t': {}}}",
		     "sluice.json: $.triggers.t: missing required key \"source\"\n"
		     "sluice.json: $.triggers.t: missing required key \"function\"");
	expect_error("{'sources': {'s': {'kind': 'schedule'}}}",
		     "sluice.json: $.sources.s: missing required key \"expression\"");
	expect_error("{'destinations': {'d': {'kind': 'file'}}}",
		     "sluice.json: $.destinations.d: missing required key \"path\"");
	expect_error("{'sources': {'s': {'max_body_bytes': 5}}}",
		     "sluice.json: $.sources.s: missing required key \"kind\" (one of: http, "
		     "schedule, kafka, redis_stream, redis_queue)");
}

static void test_unknown_kind(void **state)
{
	(void)state;
	expect_error("{'sources': {'s': {'kind': 'nats', 'topic': 'x'}}}",
		     "sluice.json: $.sources.s.kind: expected one of: http, schedule, kafka, redis_stream, redis_queue, got "
		     "\"nats\"");
	expect_error("{'destinations': {'d': {'kind': 's3'}}}",
		     "sluice.json: $.destinations.d.kind: expected one of: file, http, redis, kafka, mqtt, function, got \"s3\"");
	expect_error("{'sources': {'s': {'kind': 1}}}",
		     "sluice.json: $.sources.s.kind: expected one of: http, schedule, kafka, redis_stream, redis_queue, got 1");
}

/* --- references, names ------------------------------------------------------------------- */

static void test_dangling_references(void **state)
{
	(void)state;
	expect_error("{" BASE ", 'triggers': {'t': {'source': 'webb', 'function': 'hello'}}}",
		     "sluice.json: $.triggers.t.source: expected the name of a source (known: web, "
		     "tick), got \"webb\"");
	expect_error("{" BASE ", 'triggers': {'t': {'source': 'web', 'function': 'helo'}}}",
		     "sluice.json: $.triggers.t.function: expected the name of a function (known: "
		     "hello), got \"helo\"");
	expect_error("{" BASE ", " TRG(", 'on_failure': 'dead-letter'") "}",
		     "sluice.json: $.triggers.t.on_failure: expected the name of a destination "
		     "(known: dlq), got \"dead-letter\"");
	expect_error("{" FN ", " SRC ", " TRG(", 'on_failure': 'dead-letter'") "}",
		     "sluice.json: $.triggers.t.on_failure: expected the name of a destination "
		     "(known: none defined), got \"dead-letter\"");
}

static void test_bad_names(void **state)
{
	(void)state;
	expect_error("{'functions': {'bad name': {'code': 'examples/hello'}}}",
		     "sluice.json: $.functions[\"bad name\"]: expected a name of 1 to 64 characters "
		     "from A-Z, a-z, 0-9, _ and -, got \"bad name\"");
	expect_error("{'destinations': {'': {'kind': 'file', 'path': 'x'}}}",
		     "sluice.json: $.destinations[\"\"]: expected a name of 1 to 64 characters "
		     "from A-Z, a-z, 0-9, _ and -, got \"\"");
	char json[256], want[512], name[66];
	memset(name, 'a', 65);
	name[65] = '\0';
	snprintf(json, sizeof(json), "{'destinations': {'%s': {'kind': 'file', 'path': 'x'}}}",
		 name);
	snprintf(want, sizeof(want), "sluice.json: $.destinations.%s: expected a name of 1 to 64 "
		 "characters from A-Z, a-z, 0-9, _ and -, got \"%s\"", name, name);
	expect_error(json, want);
	name[64] = '\0';
	snprintf(json, sizeof(json), "{'destinations': {'%s': {'kind': 'file', 'path': 'x'}}}",
		 name);
	sl_config_free(load_ok(json));
}

/* --- environment ------------------------------------------------------------------------- */

static void test_environment(void **state)
{
	(void)state;
	expect_error("{'functions': {'hello': {'code': 'examples/hello', "
		     "'environment': {'AWS_REGION': 'eu-west-1'}}}}",
		     "sluice.json: $.functions.hello.environment.AWS_REGION: expected a variable "
		     "name that Lambda does not reserve (reserved: _HANDLER, _X_AMZN_TRACE_ID, "
		     "AWS_REGION, AWS_DEFAULT_REGION, AWS_EXECUTION_ENV, AWS_LAMBDA_FUNCTION_NAME, "
		     "AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_VERSION, "
		     "AWS_LAMBDA_INITIALIZATION_TYPE, AWS_LAMBDA_LOG_GROUP_NAME, "
		     "AWS_LAMBDA_LOG_STREAM_NAME, AWS_ACCESS_KEY, AWS_ACCESS_KEY_ID, "
		     "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_LAMBDA_RUNTIME_API, "
		     "LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, AWS_LAMBDA_MAX_CONCURRENCY), got "
		     "\"AWS_REGION\"");
	const char *bad[] = { "X", "1X", "_X", "A-B", "A B" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char json[256], want[512];
		const char *sep = strchr(bad[i], ' ') ? "[\"" : ".";
		snprintf(json, sizeof(json), "{'functions': {'hello': {'code': 'examples/hello', "
			 "'environment': {'%s': 'v'}}}}", bad[i]);
		snprintf(want, sizeof(want), "sluice.json: $.functions.hello.environment%s%s%s: "
			 "expected a variable name (a letter, then letters, digits or _; at least 2 "
			 "characters), got \"%s\"", sep, bad[i], *sep == '[' ? "\"]" : "", bad[i]);
		expect_error(json, want);
	}
}

static void test_environment_size(void **state)
{
	(void)state;
	/* {"A1":"xxx..."} is 9 bytes plus the value: 4087 fits exactly, 4088 is one too many. */
	size_t len = sizeof("{'functions': {'hello': {'code': 'examples/hello', "
			    "'environment': {'A1': ''}}}}") + 4088;
	char *json = malloc(len), *value = malloc(4089);
	memset(value, 'x', 4088);
	value[4088] = '\0';
	snprintf(json, len, "{'functions': {'hello': {'code': 'examples/hello', "
		 "'environment': {'A1': '%s'}}}}", value);
	expect_error(json, "sluice.json: $.functions.hello.environment: expected at most 4096 "
		     "bytes of variables in total (measured as compact JSON), got 4097 bytes");
	value[4087] = '\0';
	snprintf(json, len, "{'functions': {'hello': {'code': 'examples/hello', "
		 "'environment': {'A1': '%s'}}}}", value);
	sl_config_free(load_ok(json));
	free(json);
	free(value);
}

/* --- paths ------------------------------------------------------------------------------- */

static void test_code_dir(void **state)
{
	(void)state;
	char want[1024];
	snprintf(want, sizeof(want), "sluice.json: $.functions.hello.code: expected an existing "
		 "directory, got \"examples/nope\" (%s/examples/nope: No such file or directory)",
		 repo);
	expect_error("{'functions': {'hello': {'code': 'examples/nope'}}}", want);
	snprintf(want, sizeof(want), "sluice.json: $.functions.hello.code: expected an existing "
		 "directory, got \"examples/hello/bootstrap\" (%s/examples/hello/bootstrap: not a "
		 "directory)", repo);
	expect_error("{'functions': {'hello': {'code': 'examples/hello/bootstrap'}}}", want);
	expect_error("{'functions': {'hello': {'code': ''}}}",
		     "sluice.json: $.functions.hello.code: expected a non-empty string, got \"\"");
}

static void test_filters(void **state)
{
	(void)state;
	struct sl_config *cfg = load_ok("{" BASE ", " TRG(", 'filters': [{'data': {'kind': ['x']}}, "
					"{'type': [{'prefix': 'com.'}]}]") "}");
	assert_int_equal(json_array_size(cfg->triggers[0].filters), 2);
	sl_config_free(cfg);
	expect_error("{" BASE ", " TRG(", 'filters': [{'data': {'kind': ['x']}}, "
		     "{'data': {'kind': [{'prefix': 1}]}}]") "}",
		     "sluice.json: $.triggers.t.filters[1].data.kind[0]: expected a string operand");
	expect_error("{" BASE ", " TRG(", 'filters': [{}]") "}",
		     "sluice.json: $.triggers.t.filters[0]: expected a non-empty object");
	expect_error("{" BASE ", " TRG(", 'filters': [{'a': [1]}, {'a': [1]}, {'a': [1]}, "
		     "{'a': [1]}, {'a': [1]}, {'a': [1]}]") "}",
		     "sluice.json: $.triggers.t.filters: expected an array of 1 to 5 objects, got "
		     "an array");
}

static void test_layers(void **state)
{
	(void)state;
	char want[1024];
	struct sl_config *cfg = load_ok("{'functions': {'f': {'code': 'examples/hello', "
					"'sandbox': 'oci', 'layers': ['examples', 'examples/hello']}}}");
	char **layers = cfg->functions[0].layers;
	snprintf(want, sizeof(want), "%s/examples", repo);
	assert_string_equal(layers[0], want);
	snprintf(want, sizeof(want), "%s/examples/hello", repo);
	assert_string_equal(layers[1], want);
	assert_null(layers[2]);
	sl_config_free(cfg);
	snprintf(want, sizeof(want), "sluice.json: $.functions.f.layers[1]: expected an existing "
		 "directory, got \"nope\" (%s/nope: No such file or directory)", repo);
	expect_error("{'functions': {'f': {'code': 'examples/hello', 'sandbox': 'docker', "
		     "'layers': ['examples', 'nope']}}}", want);
	expect_error("{'functions': {'f': {'code': 'examples/hello', 'layers': ['examples']}}}",
		     "sluice.json: $.functions.f.layers: expected no layers with \"sandbox\": "
		     "\"process\" (it has no /opt of its own): use \"oci\" or \"docker\"");
	expect_error("{'functions': {'f': {'code': 'examples/hello', 'sandbox': 'oci', "
		     "'network': 'bridge'}}}",
		     "sluice.json: $.functions.f.network: expected one of: none, host, got "
		     "\"bridge\"");
}

static void test_relative_paths(void **state)
{
	(void)state;
	char *base = in_repo("examples");
	struct sl_config *cfg = load_in("{'state_dir': '../state/./x/', "
		"'functions': {'h': {'code': 'hello'}}, "
		"'destinations': {'d': {'kind': 'file', 'path': 'dl/../f.jsonl'}, "
		"'e': {'kind': 'file', 'path': '/abs//f.jsonl'}}}", base);
	if (!cfg)
		fail_msg("%s", err);
	assert_path(cfg->state_dir, "state/x");
	assert_path(cfg->functions[0].code_dir, "examples/hello");
	assert_path(cfg->destinations[0].path, "examples/f.jsonl");
	assert_string_equal(cfg->destinations[1].path, "/abs/f.jsonl");
	sl_config_free(cfg);
	free(base);

	/* A relative base_dir is taken against the current directory. */
	cfg = load_in("{'functions': {'h': {'code': '.'}}}", "examples/hello");
	if (!cfg)
		fail_msg("%s", err);
	assert_path(cfg->functions[0].code_dir, "examples/hello");
	sl_config_free(cfg);
}

static void test_load_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/sluice-test-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], sub[256];
	snprintf(sub, sizeof(sub), "%s/code", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/sluice.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"functions\": {\"f\": {\"code\": \"code\"}}}", f);
	fclose(f);
	struct sl_config *cfg = sl_config_load_file(path, err, sizeof(err));
	if (!cfg)
		fail_msg("%s", err);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->functions[0].code_dir, sub);
	char state_dir[256];
	snprintf(state_dir, sizeof(state_dir), "%s/.sluice", dir);
	assert_string_equal(cfg->state_dir, state_dir);
	sl_config_free(cfg);

	f = fopen(path, "w");
	fputs("{\"functions\": {\"f\": {\"code\": \"code\", \"timeout_s\": 0}}}", f);
	fclose(f);
	char want[512];
	snprintf(want, sizeof(want), "%s: $.functions.f.timeout_s: expected an integer from 1 to "
		 "900, got 0", path);
	assert_null(sl_config_load_file(path, err, sizeof(err)));
	assert_string_equal(err, want);

	unlink(path);
	rmdir(sub);
	rmdir(dir);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	assert_null(sl_config_load_file(path, err, sizeof(err)));
	assert_string_equal(err, want);
}

/* --- schedule expressions (parsed by connectors/schedule/cron.h) --------------------------- */

static void test_schedule_expression(void **state)
{
	(void)state;
	expect_error("{'sources': {'s': {'kind': 'schedule', 'expression': 'cron(0 12 ? * 8 *)'}}}",
		     "sluice.json: $.sources.s.expression: cron(0 12 ? * 8 *): day-of-week: "
		     "expected 1-7, SUN-SAT, L, # or ?, got \"8\"");
	expect_error("{'sources': {'s': {'kind': 'schedule', 'expression': 'every hour'}}}",
		     "sluice.json: $.sources.s.expression: expected rate(value unit) or "
		     "cron(minutes hours day-of-month month day-of-week year), got \"every hour\"");
	expect_error("{'sources': {'s': {'kind': 'schedule', 'expression': ''}}}",
		     "sluice.json: $.sources.s.expression: expected a non-empty string, got \"\"");
	sl_config_free(load_ok("{'sources': {'s': {'kind': 'schedule', "
			       "'expression': 'cron(0/15 8-17 ? * MON-FRI *)'}}}"));
}

/* --- payload format ---------------------------------------------------------------------- */

static void test_payload_format(void **state)
{
	(void)state;
	expect_error("{" BASE ", " TRG(", 'payload_format': 'aws'") "}",
		     "sluice.json: $.triggers.t.payload_format: the http source has no AWS event "
		     "shape; use cloudevents");
	expect_error("{" BASE ", 'triggers': {'t': {'source': 'tick', 'function': 'hello', "
		     "'batch_size': 5}}}",
		     "sluice.json: $.triggers.t.batch_size: expected 1 for an aws-format trigger on "
		     "a schedule source (one EventBridge event per invocation), got 5");
	struct sl_config *cfg = load_ok("{" BASE ", 'triggers': {'a': {'source': 'tick', "
		"'function': 'hello'}, 'b': {'source': 'tick', 'function': 'hello', "
		"'payload_format': 'cloudevents', 'batch_size': 5}}}");
	assert_int_equal(cfg->triggers[0].payload_format, SL_PAYLOAD_AWS);
	assert_int_equal(cfg->triggers[0].batch_size, 1);
	assert_int_equal(cfg->triggers[1].payload_format, SL_PAYLOAD_CLOUDEVENTS);
	assert_int_equal(cfg->triggers[1].batch_size, 5);
	sl_config_free(cfg);
}

/* Stream and queue sources: their keys, Lambda's defaults, and consumer groups. */
#define STREAMS "'sources': {'k': {'kind': 'kafka', 'brokers': '127.0.0.1:9092', " \
	"'topics': ['orders', '^logs-.*']}, 's': {'kind': 'redis_stream', 'streams': ['a']}, " \
	"'q': {'kind': 'redis_queue', 'queue': 'jobs'}, 'web': {'kind': 'http'}}"

static void test_stream_sources(void **state)
{
	(void)state;
	struct sl_config *cfg = load_ok("{" FN ", " STREAMS ", 'triggers': {"
		"'a': {'source': 'k', 'function': 'hello'}, "
		"'b': {'source': 'k', 'function': 'hello', 'consumer_group': 'shared'}, "
		"'c': {'source': 's', 'function': 'hello'}, "
		"'d': {'source': 'q', 'function': 'hello'}}}");
	assert_int_equal(cfg->triggers[0].batch_size, 100);
	assert_int_equal(cfg->triggers[0].payload_format, SL_PAYLOAD_AWS);
	assert_string_equal(cfg->triggers[0].consumer_group, "sluice-a");
	assert_string_equal(cfg->triggers[1].consumer_group, "shared");
	assert_int_equal(cfg->triggers[2].batch_size, 100);
	assert_int_equal(cfg->triggers[3].batch_size, 10);
	assert_null(cfg->triggers[3].consumer_group);
	assert_string_equal(cfg->sources[0].topics[1], "^logs-.*");
	assert_string_equal(cfg->sources[1].address, "127.0.0.1:6379");
	assert_int_equal(cfg->sources[1].claim_idle_ms, 60000);
	assert_int_equal(cfg->sources[2].visibility_timeout_s, 30);
	assert_int_equal(cfg->sources[2].max_receive_count, 10);
	sl_config_free(cfg);

	expect_error("{" FN ", " STREAMS ", 'triggers': {"
		     "'a': {'source': 'k', 'function': 'hello', 'consumer_group': 'g'}, "
		     "'b': {'source': 'k', 'function': 'hello', 'consumer_group': 'g'}}}",
		     "sluice.json: $.triggers.b.consumer_group: expected a group no other trigger "
		     "of source \"k\" uses (trigger a is in \"g\")");
	expect_error("{" FN ", " STREAMS ", 'triggers': {"
		     "'a': {'source': 'q', 'function': 'hello', 'consumer_group': 'g'}}}",
		     "sluice.json: $.triggers.a.consumer_group: expected only on triggers of kafka "
		     "and redis_stream sources (this source is redis_queue)");
	expect_error("{" FN ", 'sources': {'k': {'kind': 'kafka', 'brokers': 'b:1', "
		     "'topics': ['ok', 'bad topic', '^(']}}}",
		     "sluice.json: $.sources.k.topics[1]: expected a topic name (1 to 249 of a-z "
		     "A-Z 0-9 . _ -) or a ^regex, got \"bad topic\"\n"
		     "sluice.json: $.sources.k.topics[2]: expected a regular expression (POSIX "
		     "extended) after ^, got \"^(\"");
	expect_error("{" FN ", 'sources': {'k': {'kind': 'kafka', 'brokers': 'b:1', "
		     "'topics': ['t'], 'properties': {'group.id': 'x'}}}}",
		     "sluice.json: $.sources.k.properties[\"group.id\"]: expected a property Sluice "
		     "does not set itself (set it with the trigger's consumer_group)");
	expect_error("{" FN ", 'sources': {'q': {'kind': 'redis_queue', 'queue': 'j', "
		     "'visibility_timeout_s': 0}}}",
		     "sluice.json: $.sources.q.visibility_timeout_s: expected an integer from 1 to "
		     "43200, got 0");
}

/* --- several errors at once, and output limits -------------------------------------------- */

static void test_multiple_errors(void **state)
{
	(void)state;
	expect_error("{'log_level': 'loud', 'functions': {'hello': {'code': 'examples/hello', "
		     "'memory_mb': 64, 'memroy_mb': 1}}, 'sources': {'web': {'kind': 'nats'}}, "
		     "'triggers': {'t': {'source': 'web', 'function': 'nope', 'batch_size': 0}}}",
		     "sluice.json: $.log_level: expected one of: error, warn, info, debug, got "
		     "\"loud\"\n"
		     "sluice.json: $.functions.hello.memory_mb: expected an integer from 128 to "
		     "10240, got 64\n"
		     "sluice.json: $.functions.hello.memroy_mb: unknown key (known keys: "
		     FN_KEYS ")\n"
		     "sluice.json: $.sources.web.kind: expected one of: http, schedule, kafka, "
		     "redis_stream, redis_queue, got \"nats\"\n"
		     "sluice.json: $.triggers.t.batch_size: expected an integer from 1 to 10000, "
		     "got 0\n"
		     "sluice.json: $.triggers.t.function: expected the name of a function (known: "
		     "hello), got \"nope\"");
}

static void test_error_truncation(void **state)
{
	(void)state;
	char small[120];
	const char *json = "{'a': 1, 'b': 2, 'c': 3}";
	char *text = q(json);
	assert_null(sl_config_load_text(text, strlen(text), "x.json", repo, small,
					sizeof(small)));
	/* One line longer than the buffer: cut, with a visible "...". */
	assert_string_equal(small, "x.json: $.a: unknown key (known keys: listen, state_dir, "
			    "log_level, log_format, idle_timeout_s, spool_max_bytes, spo...");

	/* Several lines: whole lines are kept, then a marker. */
	char mid[300];
	assert_null(sl_config_load_text(text, strlen(text), "x.json", repo, mid, sizeof(mid)));
	assert_non_null(strstr(mid, "$.a: unknown key"));
	assert_null(strstr(mid, "$.b:"));
	assert_non_null(strstr(mid, "\n... (truncated)"));
	free(text);

	/* Past SL_DIAG_MAX_ERRORS lines only a count is kept. */
	size_t cap = 16 * (SL_DIAG_MAX_ERRORS + 10) + 16;
	char *big = malloc(cap);
	size_t n = (size_t)snprintf(big, cap, "{");
	for (int i = 0; i < SL_DIAG_MAX_ERRORS + 5; i++)
		n += (size_t)snprintf(big + n, cap - n, "%s\"k%d\": 1", i ? "," : "", i);
	snprintf(big + n, cap - n, "}");
	assert_null(sl_config_load_text(big, strlen(big), "x.json", repo, err, sizeof(err)));
	assert_non_null(strstr(err, "\n... and 5 more errors"));
	assert_null(strstr(err, "$.k200:"));
	assert_non_null(strstr(err, "$.k199:"));
	free(big);
}

/* --- the tables themselves ---------------------------------------------------------------- */

static void check_defaults(const struct sl_prop *props)
{
	for (const struct sl_prop *p = props; p->name; p++) {
		if (p->flags & SL_PROP_REQUIRED)
			assert_null(p->def);
		assert_true(p->help && *p->help);
		if (!p->def)
			continue;
		struct sl_diag diag;
		struct sl_config cfg;
		_Alignas(max_align_t) char target[1024] = { 0 };
		memset(&cfg, 0, sizeof(cfg));
		sl_diag_init(&diag, "defaults");
		struct sl_decode dc = { .diag = &diag, .base_dir = "/", .cfg = &cfg };
		json_t *obj = json_object();
		const struct sl_prop one[] = { *p, { .name = NULL } };
		sl_props_decode(&dc, "$", obj, one, NULL, p->type == SL_PROP_SECTION ?
				(void *)&cfg : (void *)target);
		if (diag.count)
			fail_msg("default of %s breaks its own row: %s", p->name, diag.buf);
		sl_props_release(one, p->type == SL_PROP_SECTION ? (void *)&cfg : (void *)target);
		json_decref(obj);
		sl_diag_release(&diag);
	}
}

static void test_table_defaults(void **state)
{
	(void)state;
	check_defaults(sl_props_top);
	check_defaults(sl_props_function);
	check_defaults(sl_props_trigger);
	for (const struct sl_kind *k = sl_source_kinds; k->name; k++)
		check_defaults(k->props);
	for (const struct sl_kind *k = sl_destination_kinds; k->name; k++)
		check_defaults(k->props);
}

static void test_schema_committed(void **state)
{
	(void)state;
	json_t *schema = sl_config_schema();
	char *text = json_dumps(schema, SL_SCHEMA_DUMP_FLAGS);
	char *committed = slurp("schemas/config.schema.json");
	size_t n = strlen(text);
	if (strncmp(text, committed, n) != 0 || strcmp(committed + n, "\n") != 0)
		fail_msg("schemas/config.schema.json differs from the property tables; run "
			 "tools/check-generated.sh");
	free(committed);
	free(text);
	json_decref(schema);
}

static void test_markdown_committed(void **state)
{
	(void)state;
	char *text = sl_config_reference_markdown();
	char *committed = slurp("docs/configuration.md");
	if (strcmp(text, committed) != 0)
		fail_msg("docs/configuration.md differs from the property tables; run "
			 "tools/check-generated.sh");
	assert_non_null(strstr(text, "| `batch_size` | integer |"));
	free(committed);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_loads),
		cmocka_unit_test(test_default_file_text),
		cmocka_unit_test(test_defaults_filled),
		cmocka_unit_test(test_values_kept),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_root_not_object),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_long_value_quoted_short),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_executor_limits),
		cmocka_unit_test(test_delivery_controls),
		cmocka_unit_test(test_destination_kinds),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_dangling_references),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_environment_size),
		cmocka_unit_test(test_code_dir),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_schedule_expression),
		cmocka_unit_test(test_payload_format),
		cmocka_unit_test(test_stream_sources),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_error_truncation),
		cmocka_unit_test(test_table_defaults),
		cmocka_unit_test(test_schema_committed),
		cmocka_unit_test(test_markdown_committed),
	};
	repo = getcwd(NULL, 0);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(repo);
	return rc;
}
