/* Unit tests for dispatcher/delivery_record.c: the exact record shapes and the error extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "dispatcher/delivery_record.h"
#include "executor/executor.h"

static struct sl_event *mk_event(const char *id, const char *position, json_t *data)
{
	struct sl_event *ev = sl_event_new();
	sl_event_set(ev, &ev->id, id);
	sl_event_set(ev, &ev->source, "/sluice/web");
	sl_event_set(ev, &ev->type, "com.example.order");
	sl_event_set(ev, &ev->partition, "p0");
	sl_event_set(ev, &ev->position, position);
	sl_event_set_data_json(ev, data);
	return ev;
}

static const char *expected =
	"{\"version\":\"1.0\",\"timestamp\":\"2023-11-14T22:13:20.123Z\","
	" \"requestContext\":{\"requestId\":\"req-3\","
	"   \"functionArn\":\"arn:aws:lambda:us-east-1:000000000000:function:orders-fn\","
	"   \"condition\":\"RetryAttemptsExhausted\",\"approximateInvokeCount\":3},"
	" \"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\","
	"   \"functionError\":\"Unhandled\"},"
	" \"errorType\":\"Sandbox.Timedout\","
	" \"errorMessage\":\"Task timed out after 3.00 seconds\","
	" \"SluiceBatchInfo\":{\"trigger\":\"orders\",\"source\":\"web\",\"function\":\"orders-fn\","
	"   \"partition\":\"p0\",\"firstPosition\":\"41\",\"lastPosition\":\"42\",\"batchSize\":2,"
	"   \"firstEventId\":\"e41\",\"lastEventId\":\"e42\"},"
	" \"events\":["
	"   {\"specversion\":\"1.0\",\"id\":\"e41\",\"source\":\"/sluice/web\","
	"    \"type\":\"com.example.order\",\"data\":{\"n\":41}},"
	"   {\"specversion\":\"1.0\",\"id\":\"e42\",\"source\":\"/sluice/web\","
	"    \"type\":\"com.example.order\",\"data\":{\"n\":42}}]}";

static void test_exact_shape(void **state)
{
	struct sl_event *a = mk_event("e41", "41", json_pack("{s:i}", "n", 41));
	struct sl_event *b = mk_event("e42", "42", json_pack("{s:i}", "n", 42));
	const struct sl_event *evs[2] = { a, b };
	struct sl_record_info fi = {
		.condition = SL_RECORD_RETRIES_EXHAUSTED, .trigger = "orders", .source = "web",
		.function = "orders-fn", .invoke_count = 3, .request_id = "req-3",
		.error_type = "Sandbox.Timedout",
		.error_message = "Task timed out after 3.00 seconds", .function_error = true,
		.timestamp_ms = 1700000000123, .events = evs, .n = 2,
	};
	json_error_t jerr;

	(void)state;
	json_t *want = json_loads(expected, 0, &jerr);
	assert_non_null(want);
	json_t *rec = sl_delivery_record_new(&fi);
	if (!json_equal(rec, want)) {
		char *got = json_dumps(rec, JSON_INDENT(1));
		print_error("got: %s\n", got);
		free(got);
		fail();
	}
	/* Members come out in the documented order. */
	const char *order[] = { "version", "timestamp", "requestContext", "responseContext",
				"errorType", "errorMessage", "SluiceBatchInfo", "events" };
	size_t i = 0;
	const char *key;
	json_t *value;
	json_object_foreach(rec, key, value) {
		assert_string_equal(key, order[i]);
		i++;
	}
	json_decref(rec);
	json_decref(want);
	sl_event_unref(a);
	sl_event_unref(b);
}

static void test_no_invoke_and_events_omitted(void **state)
{
	size_t big = SL_RECORD_MAX_BYTES;
	char *text = malloc(big + 1);
	memset(text, 'x', big);
	text[big] = '\0';
	struct sl_event *ev = mk_event("huge", "7", json_string(text));
	const struct sl_event *evs[1] = { ev };
	struct sl_record_info fi = {
		.condition = SL_RECORD_NOT_DELIVERABLE, .trigger = "t", .source = "s",
		.function = "f", .invoke_count = 0, .error_type = "Sluice.PayloadEncodingFailed",
		.error_message = "no", .timestamp_ms = 0, .events = evs, .n = 1,
	};

	(void)state;
	free(text);
	json_t *rec = sl_delivery_record_new(&fi);
	assert_null(json_object_get(rec, "responseContext"));
	assert_null(json_object_get(rec, "events"));
	assert_true(json_is_null(json_object_get(json_object_get(rec, "requestContext"),
						 "requestId")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec,
		"requestContext"), "condition")), "EventNotDeliverable");
	const char *note = json_string_value(json_object_get(rec, "eventsOmitted"));
	assert_non_null(note);
	assert_non_null(strstr(note, "firstPosition"));
	assert_string_equal(json_string_value(json_object_get(rec, "timestamp")),
			    "1970-01-01T00:00:00.000Z");
	assert_true(json_dumpb(rec, NULL, 0, JSON_COMPACT) < 4096);
	json_decref(rec);
	sl_event_unref(ev);
}

static json_t *context(json_t *rec, const char *which, const char *key)
{
	return json_object_get(json_object_get(rec, which), key);
}

/* Success: the response instead of the error; Lambda's condition; no functionError. */
static void test_success_record(void **state)
{
	struct sl_event *ev = mk_event("e1", "1", json_pack("{s:i}", "n", 1));
	const struct sl_event *evs[1] = { ev };
	const char *resp = "{\"batchItemFailures\":[]}";
	struct sl_record_info ri = {
		.condition = SL_RECORD_SUCCESS, .trigger = "t", .source = "s", .function = "f",
		.invoke_count = 1, .request_id = "r1", .error_type = "ignored",
		.response = resp, .response_len = strlen(resp), .events = evs, .n = 1,
	};

	(void)state;
	json_t *rec = sl_delivery_record_new(&ri);
	assert_string_equal(json_string_value(context(rec, "requestContext", "condition")),
			    "Success");
	assert_non_null(json_object_get(rec, "responseContext"));
	assert_null(context(rec, "responseContext", "functionError"));
	assert_true(json_is_array(context(rec, "responsePayload", "batchItemFailures")));
	assert_null(json_object_get(rec, "errorType"));
	json_decref(rec);

	ri.response = "plain text";                  /* not JSON: kept as a string */
	ri.response_len = strlen(ri.response);
	rec = sl_delivery_record_new(&ri);
	assert_string_equal(json_string_value(json_object_get(rec, "responsePayload")),
			    "plain text");
	json_decref(rec);
	sl_event_unref(ev);
}

/* RecordAgeExceeded has no responseContext even after invokes; an answer that failed the batch
 * has functionError null. */
static void test_age_and_answer_failures(void **state)
{
	struct sl_event *ev = mk_event("e1", "1", NULL);
	const struct sl_event *evs[1] = { ev };
	struct sl_record_info ri = {
		.condition = SL_RECORD_AGE_EXCEEDED, .trigger = "t", .source = "s", .function = "f",
		.invoke_count = 2, .request_id = "r2", .error_type = "Sandbox.Timedout",
		.error_message = "slow", .events = evs, .n = 1,
	};

	(void)state;
	json_t *rec = sl_delivery_record_new(&ri);
	assert_null(json_object_get(rec, "responseContext"));
	assert_int_equal(json_integer_value(context(rec, "requestContext",
						    "approximateInvokeCount")), 2);
	json_decref(rec);

	ri.condition = SL_RECORD_RETRIES_EXHAUSTED;
	ri.error_type = "Function.BatchItemFailures";
	rec = sl_delivery_record_new(&ri);
	assert_true(json_is_null(context(rec, "responseContext", "functionError")));
	assert_string_equal(json_string_value(json_object_get(rec, "errorType")),
			    "Function.BatchItemFailures");
	json_decref(rec);
	sl_event_unref(ev);
}

static void test_error_of_result(void **state)
{
	const char *body = "{\"errorType\":\"EventRejected\",\"errorMessage\":\"poison pill\","
			   "\"stackTrace\":[]}";
	struct sl_invoke_result res = { .status = SL_INVOKE_FUNCTION_ERROR, .request_id = "r",
					.error_type = "Function.EventRejected", .payload = body,
					.payload_len = strlen(body) };
	char *type, *msg;

	(void)state;
	sl_record_error_of(&res, &type, &msg);
	assert_string_equal(type, "EventRejected");
	assert_string_equal(msg, "poison pill");
	free(type);
	free(msg);

	res.payload = "Runtime exited with error: exit status 1";
	res.payload_len = strlen(res.payload);
	res.error_type = "Runtime.ExitError";
	sl_record_error_of(&res, &type, &msg);
	assert_string_equal(type, "Runtime.ExitError");
	assert_string_equal(msg, "Runtime exited with error: exit status 1");
	free(type);
	free(msg);

	res.status = SL_INVOKE_THROTTLED;
	res.payload = NULL;
	res.payload_len = 0;
	res.error_type = NULL;
	sl_record_error_of(&res, &type, &msg);
	assert_string_equal(type, sl_record_status_name(SL_INVOKE_THROTTLED));
	assert_non_null(strstr(msg, "no error body"));
	free(type);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_shape),
		cmocka_unit_test(test_no_invoke_and_events_omitted),
		cmocka_unit_test(test_success_record),
		cmocka_unit_test(test_age_and_answer_failures),
		cmocka_unit_test(test_error_of_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
