/* Envelope: CloudEvents round trips, id stability, decode errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/event.h"

#include <string.h>

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	assert_non_null(v);
	return v;
}

static void test_structured_round_trip(void **state)
{
	(void)state;
	const char *text = "{\"specversion\":\"1.0\",\"id\":\"A-1\",\"source\":\"/orders\","
			   "\"type\":\"com.example.created\",\"subject\":\"o/7\","
			   "\"time\":\"2026-11-24T10:00:00Z\",\"datacontenttype\":\"application/json\","
			   "\"partitionkey\":\"cust-9\",\"sequence\":\"0042\",\"comexample\":\"x\","
			   "\"data\":{\"n\":1,\"s\":[true,null]}}";
	json_t *in = parse(text);
	char err[256] = "";
	struct sl_event *ev = sl_event_from_cloudevent(in, 0, err, sizeof(err));
	assert_non_null(ev);
	assert_string_equal(ev->id, "A-1");
	assert_string_equal(ev->partitionkey, "cust-9");
	assert_string_equal(ev->sequence, "0042");
	json_t *out = sl_event_to_cloudevent(ev);
	assert_true(json_equal(in, out));
	json_decref(out);
	json_decref(in);
	sl_event_unref(ev);
}

static void test_binary_data_round_trip(void **state)
{
	(void)state;
	const unsigned char bytes[] = { 0, 1, 2, 0xff, 'a' };
	struct sl_event *ev = sl_event_new();
	sl_event_set(ev, &ev->id, "b1");
	sl_event_set(ev, &ev->source, "/s");
	sl_event_set(ev, &ev->type, "t");
	sl_event_set_data_bytes(ev, bytes, sizeof(bytes));
	json_t *ce = sl_event_to_cloudevent(ev);
	assert_string_equal(json_string_value(json_object_get(ce, "data_base64")), "AAEC/2E=");
	char err[256];
	struct sl_event *back = sl_event_from_cloudevent(ce, 0, err, sizeof(err));
	assert_non_null(back);
	assert_int_equal(back->data_len, sizeof(bytes));
	assert_memory_equal(back->data_bytes, bytes, sizeof(bytes));
	assert_null(back->data);
	json_decref(ce);
	sl_event_unref(back);
	sl_event_unref(ev);
}

static void test_id_from_position_is_stable(void **state)
{
	(void)state;
	char *a = sl_event_id_from_position("web", "", "000042");
	char *b = sl_event_id_from_position("web", "", "000042");
	char *c = sl_event_id_from_position("orders", "3", "17");
	assert_string_equal(a, b);
	assert_string_equal(a, "web:000042");
	assert_string_equal(c, "orders:3:17");
	free(a);
	free(b);
	free(c);
}

static void expect_error(const char *text, int allow_missing_id, const char *message)
{
	json_t *in = parse(text);
	char err[256] = "";
	struct sl_event *ev = sl_event_from_cloudevent(in, allow_missing_id, err, sizeof(err));
	assert_null(ev);
	assert_string_equal(err, message);
	json_decref(in);
}

static void test_decode_errors(void **state)
{
	(void)state;
	expect_error("[1]", 0, "event: expected a JSON object");
	expect_error("{\"id\":\"1\",\"source\":\"s\",\"type\":\"t\"}", 0,
		     "specversion: required attribute missing");
	expect_error("{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\"}", 0,
		     "specversion: expected \"1.0\"");
	expect_error("{\"specversion\":\"1.0\",\"source\":\"s\",\"type\":\"t\"}", 0,
		     "id: required attribute missing");
	expect_error("{\"specversion\":\"1.0\",\"id\":\"\",\"source\":\"s\",\"type\":\"t\"}", 0,
		     "id: expected a non-empty string");
	expect_error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":7}", 0,
		     "type: expected a non-empty string");
	expect_error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\","
		     "\"Bad_Name\":1}", 0,
		     "Bad_Name: attribute names must be 1-20 characters of a-z and 0-9");
	expect_error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\","
		     "\"ext\":{\"a\":1}}", 0,
		     "ext: expected a string, integer or boolean attribute value");
	expect_error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\","
		     "\"data\":1,\"data_base64\":\"AA==\"}", 0,
		     "data: data and data_base64 are mutually exclusive");
	expect_error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\","
		     "\"data_base64\":\"@@@\"}", 0, "data_base64: expected a base64 string");
}

static void test_missing_id_allowed_when_derived(void **state)
{
	(void)state;
	json_t *in = parse("{\"specversion\":\"1.0\",\"source\":\"s\",\"type\":\"t\"}");
	char err[256];
	struct sl_event *ev = sl_event_from_cloudevent(in, 1, err, sizeof(err));
	assert_non_null(ev);
	assert_null(ev->id);
	sl_event_unref(ev);
	json_decref(in);
}

static void test_refcount_and_size(void **state)
{
	(void)state;
	struct sl_event *ev = sl_event_new();
	sl_event_set(ev, &ev->id, "1");
	sl_event_set_data_json(ev, json_pack("{s:s}", "k", "0123456789"));
	size_t small = sl_event_size(ev);
	sl_event_set_data_json(ev, json_pack("{s:s}", "k", "0123456789012345678901234567890123456789"));
	assert_true(sl_event_size(ev) >= small + 30);
	sl_event_ref(ev);
	assert_int_equal(ev->refs, 2);
	sl_event_unref(ev);
	sl_event_unref(ev);
	sl_event_unref(NULL);
}

/* The size of JSON data is its compact encoding's length, counted without encoding. */
static void test_size_of_json_data(void **state)
{
	const char *docs[] = {
		"{\"order\":42,\"items\":[1,-20,300],\"note\":\"a \\\"quoted\\\" word\"}",
		"[]", "{}", "\"plain\"", "-9223372036854775807", "0", "true", "false", "null",
		"{\"nested\":{\"deep\":[{\"k\":\"v\\n\\u0001\"}]},\"\u00e9t\u00e9\":\"\u00fc\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct sl_event *bare = sl_event_new(), *ev = sl_event_new();
		json_t *doc = json_loads(docs[i], JSON_DECODE_ANY, NULL);
		assert_non_null(doc);
		size_t encoded = json_dumpb(doc, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
		sl_event_set_data_json(ev, doc);
		size_t counted = sl_event_size(ev) - sl_event_size(bare);
		if (counted != encoded)
			fail_msg("%s: counted %zu, encoded %zu", docs[i], counted, encoded);
		sl_event_unref(bare);
		sl_event_unref(ev);
	}
}

/* A decoded event's attributes share one allocation; changing one afterwards works, and the
 * event frees cleanly (ASan checks both). */
static void test_decoded_strings_packed(void **state)
{
	char err[128];
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "specversion", "1.0", "id", "a-1",
				"source", "/s", "type", "t", "partitionkey", "k");
	struct sl_event *ev = sl_event_from_cloudevent(obj, 0, err, sizeof(err));

	(void)state;
	assert_non_null(ev);
	assert_non_null(ev->strings);
	assert_true(ev->id >= ev->strings && ev->id < ev->strings + ev->strings_len);
	assert_true(ev->type >= ev->strings && ev->type < ev->strings + ev->strings_len);
	assert_string_equal(ev->partitionkey, "k");
	assert_string_equal(ev->partition, "");
	sl_event_set(ev, &ev->id, "a-2");               /* was in the shared allocation */
	sl_event_set(ev, &ev->position, "9");           /* was the static "" */
	sl_event_set(ev, &ev->partitionkey, NULL);
	assert_string_equal(ev->id, "a-2");
	assert_string_equal(ev->source, "/s");
	assert_null(ev->partitionkey);
	json_decref(obj);
	sl_event_unref(ev);
}

/* Several attributes set at once share one allocation, with the data bytes; fields left NULL stay
 * as they were, and a later sl_event_set of a packed field or new data does not free inside the
 * block (ASan would say so). */
static void test_set_packed(void **state)
{
	struct sl_event *ev = sl_event_new();

	(void)state;
	sl_event_set(ev, &ev->subject, "own");
	sl_event_set_packed(ev, (char **const[]){ &ev->id, &ev->source, &ev->partitionkey,
						  &ev->position },
			    (const char *const[]){ "s:p:1", "/src", NULL, "1" }, 4, "\0ab", 3);
	assert_string_equal(ev->id, "s:p:1");
	assert_int_equal(ev->data_len, 3);
	assert_memory_equal(ev->data_bytes, "\0ab", 3);
	assert_string_equal(ev->source, "/src");
	assert_null(ev->partitionkey);
	assert_string_equal(ev->position, "1");
	assert_string_equal(ev->subject, "own");
	assert_ptr_equal(ev->source, ev->id + strlen("s:p:1") + 1);
	sl_event_set(ev, &ev->source, "/other");
	assert_string_equal(ev->source, "/other");
	assert_string_equal(ev->id, "s:p:1");
	sl_event_set_data_bytes(ev, "xyz", 3);
	assert_memory_equal(ev->data_bytes, "xyz", 3);
	assert_string_equal(ev->id, "s:p:1");
	sl_event_unref(ev);
}

/* sl_event_format_id writes what sl_event_id_from_position returns, and says how long it needs
 * when the buffer is too small (then the caller falls back to the allocating form). */
static void test_format_id(void **state)
{
	char buf[64], small[8];
	char *id = sl_event_id_from_position("k", "orders-3", "15");

	(void)state;
	assert_string_equal(id, "k:orders-3:15");
	assert_int_equal(sl_event_format_id(buf, sizeof(buf), "k", "orders-3", "15"), strlen(id));
	assert_string_equal(buf, id);
	assert_int_equal(sl_event_format_id(small, sizeof(small), "k", "orders-3", "15"),
			 strlen(id));
	assert_string_equal(small, "k:order");
	assert_int_equal(sl_event_format_id(NULL, 0, "k", "", "15"), strlen("k:15"));
	sl_event_format_id(buf, sizeof(buf), "web", "", "7");
	assert_string_equal(buf, "web:7");
	free(id);
}

/* A time given as ms is written as RFC 3339 when encoded, counted in the size, and read back as
 * ms; a `time` string wins over it; with neither, the time is when the source accepted it. */
static void test_time_ms(void **state)
{
	(void)state;
	struct sl_event *ev = sl_event_new();
	sl_event_set(ev, &ev->id, "t1");
	sl_event_set(ev, &ev->source, "/s");
	sl_event_set(ev, &ev->type, "t");
	ev->received_ms = 1700000000999;
	assert_int_equal(sl_event_time_ms(ev), 1700000000999);
	json_t *ce = sl_event_to_cloudevent(ev);
	assert_null(json_object_get(ce, "time"));
	json_decref(ce);
	size_t untimed = sl_event_size(ev);

	ev->time_ms = 1795600000123;
	assert_int_equal(sl_event_time_ms(ev), 1795600000123);
	ce = sl_event_to_cloudevent(ev);
	assert_string_equal(json_string_value(json_object_get(ce, "time")),
			    "2026-11-25T09:46:40.123Z");
	assert_true(sl_event_size(ev) >= untimed + strlen("\"time\":\"2026-11-25T09:46:40.123Z\","));
	json_decref(ce);

	sl_event_set(ev, &ev->time, "2024-01-02T03:04:05Z");
	assert_int_equal(sl_event_time_ms(ev), 1704164645000);
	ce = sl_event_to_cloudevent(ev);
	assert_string_equal(json_string_value(json_object_get(ce, "time")), "2024-01-02T03:04:05Z");
	json_decref(ce);
	sl_event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_packed),
		cmocka_unit_test(test_format_id),
		cmocka_unit_test(test_time_ms),
		cmocka_unit_test(test_structured_round_trip),
		cmocka_unit_test(test_binary_data_round_trip),
		cmocka_unit_test(test_id_from_position_is_stable),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_missing_id_allowed_when_derived),
		cmocka_unit_test(test_refcount_and_size),
		cmocka_unit_test(test_size_of_json_data),
		cmocka_unit_test(test_decoded_strings_packed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
