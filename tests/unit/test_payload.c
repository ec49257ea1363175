/* Unit tests for dispatcher/payload.c: the CloudEvents batch and the aws schedule passthrough. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "dispatcher/payload.h"

static const struct sl_source_config http_src = { .name = "web", .kind = SL_SOURCE_HTTP };
static const struct sl_source_config schedule_src = { .name = "hourly",
						      .kind = SL_SOURCE_SCHEDULE };

static struct sl_event *mk_event(const char *id, json_t *data)
{
	struct sl_event *ev = sl_event_new();
	sl_event_set(ev, &ev->id, id);
	sl_event_set(ev, &ev->source, "/sluice/test");
	sl_event_set(ev, &ev->type, "com.example.test");
	sl_event_set(ev, &ev->partitionkey, "k1");
	sl_event_set(ev, &ev->partition, "p0");
	sl_event_set(ev, &ev->position, "17");
	if (data)
		sl_event_set_data_json(ev, data);
	return ev;
}

static void test_cloudevents_array(void **state)
{
	struct sl_event *evs[2] = { mk_event("a", json_pack("{s:i}", "n", 1)),
				    mk_event("b", json_string("text")) };
	char *out = NULL;
	size_t len = 0;
	json_error_t jerr;

	(void)state;
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_CLOUDEVENTS, &http_src,
					   (const struct sl_event *const *)evs, 2, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	json_t *doc = json_loadb(out, len, 0, &jerr);
	assert_non_null(doc);
	assert_true(json_is_array(doc));
	assert_int_equal(json_array_size(doc), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *ce = json_array_get(doc, i);
		assert_string_equal(json_string_value(json_object_get(ce, "specversion")), "1.0");
		assert_string_equal(json_string_value(json_object_get(ce, "id")), i ? "b" : "a");
		assert_string_equal(json_string_value(json_object_get(ce, "source")),
				    "/sluice/test");
		assert_string_equal(json_string_value(json_object_get(ce, "type")),
				    "com.example.test");
		assert_string_equal(json_string_value(json_object_get(ce, "partitionkey")), "k1");
		/* position and partition are Sluice's, not CloudEvents attributes */
		assert_null(json_object_get(ce, "position"));
		assert_null(json_object_get(ce, "partition"));
	}
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		json_array_get(doc, 0), "data"), "n")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 1), "data")),
			    "text");
	json_decref(doc);
	free(out);
	sl_event_unref(evs[0]);
	sl_event_unref(evs[1]);
}

static void test_aws_schedule_passthrough(void **state)
{
	const char *scheduled =
		"{\"version\":\"0\",\"id\":\"cdc73f9d-aea9-11e3-9d5a-835b769c0d9c\","
		"\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\","
		"\"account\":\"123456789012\",\"time\":\"2019-03-01T01:23:45Z\","
		"\"region\":\"us-east-2\",\"resources\":"
		"[\"arn:aws:events:us-east-2:123456789012:rule/my-schedule\"],\"detail\":{}}";
	struct sl_event *ev = mk_event("s1", json_loads(scheduled, 0, NULL));
	const struct sl_event *evs[1] = { ev };
	char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sl_payload_max_batch(SL_PAYLOAD_AWS, SL_SOURCE_SCHEDULE), 1);
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_AWS, &schedule_src, evs, 1, &out, &len),
			 0);
	assert_int_equal(len, strlen(scheduled));
	assert_memory_equal(out, scheduled, len);   /* key order and bytes kept */
	free(out);

	/* Binary data goes out as its bytes; no data as null. */
	sl_event_set_data_bytes(ev, "raw\0bytes", 9);
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_AWS, &schedule_src, evs, 1, &out, &len),
			 0);
	assert_int_equal(len, 9);
	assert_memory_equal(out, "raw\0bytes", 9);
	free(out);
	sl_event_set_data_json(ev, NULL);
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_AWS, &schedule_src, evs, 1, &out, &len),
			 0);
	assert_string_equal(out, "null");
	free(out);
	sl_event_unref(ev);
}

/* The same event with its data as a tree and as text gives the same bytes: in a batch (the
 * text spliced after the attributes), and verbatim for the invocation format. */
static void test_data_text_same_bytes(void **state)
{
	const char *docs[] = { "{\"n\":1,\"s\":\"a \\\"q\\\" \\u00e9\"}", "[1,2.5,null]",
			       "\"text\"", "42", "true" };
	const size_t n = sizeof(docs) / sizeof(docs[0]);
	struct sl_event *tree[5], *text[5];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		json_t *doc = json_loads(docs[i], JSON_DECODE_ANY, NULL);
		char *compact = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
		tree[i] = mk_event("x", doc);
		text[i] = mk_event("x", NULL);
		sl_event_set_data_text(text[i], compact, strlen(compact));
		/* exact for text; a tree counts a real as 24 characters */
		assert_true(sl_event_size(text[i]) <= sl_event_size(tree[i]));
		free(compact);
	}
	char *a, *b;
	size_t alen, blen;
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_CLOUDEVENTS, &http_src,
					   (const struct sl_event *const *)tree, n, &a, &alen), 0);
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_CLOUDEVENTS, &http_src,
					   (const struct sl_event *const *)text, n, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	json_t *parsed = json_loadb(b, blen, 0, NULL);
	assert_int_equal(json_array_size(parsed), n);
	json_decref(parsed);
	free(a);
	free(b);
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_INVOCATION, &http_src,
					   (const struct sl_event *const *)text, 1, &b, &blen), 0);
	assert_string_equal(b, "{\"n\":1,\"s\":\"a \\\"q\\\" \u00e9\"}");
	free(b);
	for (size_t i = 0; i < n; i++) {
		sl_event_unref(tree[i]);
		sl_event_unref(text[i]);
	}
}

static void test_unsupported_combinations(void **state)
{
	struct sl_event *ev = mk_event("x", NULL);
	const struct sl_event *evs[2] = { ev, ev };
	char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sl_payload_supported(SL_PAYLOAD_AWS, SL_SOURCE_HTTP), -ENOTSUP);
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_AWS, &http_src, evs, 1, &out, &len),
			 -ENOTSUP);
	assert_int_equal(sl_payload_encode(SL_PAYLOAD_AWS, &schedule_src, evs, 2, &out, &len),
			 -EINVAL);
	assert_null(out);
	assert_int_equal(sl_payload_max_batch(SL_PAYLOAD_CLOUDEVENTS, SL_SOURCE_SCHEDULE), 0);
	assert_int_equal(sl_payload_supported(SL_PAYLOAD_CLOUDEVENTS, SL_SOURCE_SCHEDULE), 0);
	sl_event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cloudevents_array),
		cmocka_unit_test(test_aws_schedule_passthrough),
		cmocka_unit_test(test_data_text_same_bytes),
		cmocka_unit_test(test_unsupported_combinations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
