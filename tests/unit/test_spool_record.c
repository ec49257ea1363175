/* Unit tests for connectors/spool_record.c: what a push source's record holds and gives back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/spool_record.h"
#include "core/event.h"

static struct sl_event *mk_event(const char *id)
{
	struct sl_event *ev = sl_event_new();
	sl_event_set(ev, &ev->id, id);
	sl_event_set(ev, &ev->source, "/t");
	sl_event_set(ev, &ev->type, "t");
	return ev;
}

static struct sl_event **decode(const char *text, size_t *n, int want_rc, char *err, size_t len)
{
	struct sl_event **evs = NULL;

	assert_int_equal(sl_spool_record_decode(text, strlen(text), 7, "web", &evs, n, err, len),
			 want_rc);
	return evs;
}

static void free_events(struct sl_event **evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sl_event_unref(evs[i]);
	free(evs);
}

/* JSON data goes in as a tree or as text and comes back as the same text; bytes and no data
 * come back as they went. */
static void test_round_trip(void **state)
{
	struct sl_event *in[4] = { mk_event("tree"), mk_event("text"), mk_event("bytes"),
				   mk_event("none") };
	char err[256];
	size_t len, n;

	(void)state;
	sl_event_set_data_json(in[0], json_pack("{s:i,s:s}", "n", 1, "s", "caf\xc3\xa9 \"q\""));
	sl_event_set_data_text(in[1], "[1,{\"a\":null}]", 14);
	sl_event_set_data_bytes(in[2], "\x00\x01\xff", 3);
	char *text = sl_spool_record_encode(in, 4, 1700000000123LL, &len);
	assert_null(strstr(text, "\"data\":"));        /* JSON data is kept as text */
	struct sl_event **out = decode(text, &n, 0, err, sizeof(err));
	assert_int_equal(n, 4);
	assert_null(out[0]->data);
	assert_string_equal(out[0]->data_text, "{\"n\":1,\"s\":\"caf\xc3\xa9 \\\"q\\\"\"}");
	assert_string_equal(out[1]->data_text, "[1,{\"a\":null}]");
	assert_int_equal(out[1]->data_text_len, 14);
	assert_int_equal(out[2]->data_len, 3);
	assert_memory_equal(out[2]->data_bytes, "\x00\x01\xff", 3);
	assert_null(out[3]->data_text);
	assert_null(out[3]->data_bytes);
	assert_string_equal(out[1]->position, "7.1/4");
	assert_int_equal(out[1]->received_ms, 1700000000123LL);
	free(text);
	free_events(out, n);
	for (size_t i = 0; i < 4; i++)
		sl_event_unref(in[i]);
}

/* Records written before data was kept as text (data as JSON) still decode. */
static void test_older_records(void **state)
{
	char err[256];
	size_t n;

	(void)state;
	struct sl_event **out = decode("{\"received_ms\":1,\"events\":[{\"specversion\":\"1.0\","
				       "\"id\":\"a\",\"source\":\"/t\",\"type\":\"t\","
				       "\"data\":{\"k\":[1,2]}}]}", &n, 0, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_non_null(out[0]->data);
	json_t *data = sl_event_data_json(out[0]);
	json_t *want = json_pack("{s:[i,i]}", "k", 1, 2);
	assert_true(json_equal(data, want));
	json_decref(data);
	json_decref(want);
	free_events(out, n);
}

static void test_bad_data_text(void **state)
{
	char err[256];
	size_t n;

	(void)state;
	decode("{\"received_ms\":1,\"events\":[{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/t\","
	       "\"type\":\"t\",\"@data\":5}]}", &n, -EINVAL, err, sizeof(err));
	assert_string_equal(err, "events[0]: @data is not a string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_older_records),
		cmocka_unit_test(test_bad_data_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
