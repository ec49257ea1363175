/* Redis stream entries as events: the fields' JSON text (copied as it is for plain ASCII, through
 * jansson otherwise, the same text either way), the partition key field, the attributes, and
 * malformed entries. Replies are built by hand as hiredis would hand them over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include <jansson.h>

#include "connectors/redis/stream_entry.h"
#include "core/event.h"

#define MAX_FIELDS 8

/* An [id, [name, value, ...]] reply over the given strings (kept by the caller). */
struct entry_reply {
	redisReply entry, id, fields, strings[2 * MAX_FIELDS];
	redisReply *entry_elems[2], *field_elems[2 * MAX_FIELDS];
};

static redisReply *entry_of(struct entry_reply *r, const char *id, const char *const *strings,
			    size_t n)
{
	memset(r, 0, sizeof(*r));
	r->id = (redisReply){ .type = REDIS_REPLY_STRING, .str = (char *)id, .len = strlen(id) };
	for (size_t i = 0; i < n; i++) {
		r->strings[i] = (redisReply){ .type = REDIS_REPLY_STRING, .str = (char *)strings[i],
					      .len = strlen(strings[i]) };
		r->field_elems[i] = &r->strings[i];
	}
	r->fields = (redisReply){ .type = REDIS_REPLY_ARRAY, .elements = n,
				  .element = r->field_elems };
	r->entry_elems[0] = &r->id;
	r->entry_elems[1] = &r->fields;
	r->entry = (redisReply){ .type = REDIS_REPLY_ARRAY, .elements = 2,
				 .element = r->entry_elems };
	return &r->entry;
}

static struct sl_event *event_of(const char *const *strings, size_t n, const char *key_field)
{
	struct entry_reply r;
	return redis_stream_entry_event(entry_of(&r, "1700000000123-4", strings, n), "rs",
					"/sluice/sources/rs", "clicks", key_field);
}

static void expect_text(const char *const *strings, size_t n, const char *text)
{
	struct sl_event *ev = event_of(strings, n, NULL);

	assert_non_null(ev);
	assert_string_equal(ev->data_text, text);
	assert_int_equal(ev->data_text_len, strlen(text));
	sl_event_unref(ev);
}

/* The attributes every entry gets, and its time from the entry id. */
static void test_attributes(void **state)
{
	(void)state;
	struct sl_event *ev = event_of((const char *[]){ "user", "u-1" }, 2, NULL);

	assert_non_null(ev);
	assert_string_equal(ev->id, "rs:clicks:1700000000123-4");
	assert_string_equal(ev->source, "/sluice/sources/rs");
	assert_string_equal(ev->type, "sluice.redis_stream.entry");
	assert_string_equal(ev->subject, "clicks");
	assert_string_equal(ev->datacontenttype, "application/json");
	assert_string_equal(ev->partition, "clicks");
	assert_string_equal(ev->position, "1700000000123-4");
	assert_string_equal(ev->sequence, "1700000000123-4");
	assert_string_equal(ev->partitionkey, "clicks");
	assert_null(ev->time);
	assert_int_equal(ev->time_ms, 1700000000123);
	assert_int_equal(ev->received_ms, 1700000000123);
	sl_event_unref(ev);
}

/* Plain fields are copied; the text is what jansson writes for the same object. */
static void test_plain_fields(void **state)
{
	(void)state;
	const char *fields[] = { "user", "u-1", "p", "7", "empty", "" };

	expect_text(fields, 6, "{\"user\":\"u-1\",\"p\":\"7\",\"empty\":\"\"}");
	expect_text(fields, 0, "{}");
}

/* Quotes, backslashes, controls, UTF-8, bytes that are not UTF-8 (read as Latin-1), and repeated
 * names (the last value, in the first place) go through jansson. */
static void test_fields_needing_json(void **state)
{
	(void)state;
	expect_text((const char *[]){ "q", "say \"hi\"\\\n" }, 2,
		    "{\"q\":\"say \\\"hi\\\"\\\\\\n\"}");
	expect_text((const char *[]){ "name", "Zo\xc3\xab" }, 2,
		    "{\"name\":\"Zo\xc3\xab\"}");
	expect_text((const char *[]){ "raw", "\xff\x01" }, 2,
		    "{\"raw\":\"\xc3\xbf\\u0001\"}");
	expect_text((const char *[]){ "a", "1", "b", "2", "a", "3" }, 6,
		    "{\"a\":\"3\",\"b\":\"2\"}");
}

/* The partition key comes from the configured field, on both paths; a missing one falls back to
 * the stream key. */
static void test_partition_key_field(void **state)
{
	(void)state;
	struct sl_event *ev = event_of((const char *[]){ "user", "u-1", "k", "K9" }, 4, "k");
	assert_string_equal(ev->partitionkey, "K9");
	sl_event_unref(ev);
	ev = event_of((const char *[]){ "k", "K1", "q", "\"", "k", "K2" }, 6, "k");
	assert_string_equal(ev->partitionkey, "K2");
	sl_event_unref(ev);
	ev = event_of((const char *[]){ "user", "u-1" }, 2, "k");
	assert_string_equal(ev->partitionkey, "clicks");
	sl_event_unref(ev);
}

/* Fields that are not string pairs, or missing (deleted while pending): no event. */
static void test_malformed(void **state)
{
	(void)state;
	struct entry_reply r;
	redisReply *entry = entry_of(&r, "1-1", (const char *[]){ "a", "1", "b" }, 3);

	assert_null(redis_stream_entry_event(entry, "rs", "/sluice/sources/rs", "clicks", NULL));
	entry = entry_of(&r, "1-1", (const char *[]){ "a", "1" }, 2);
	r.strings[1].type = REDIS_REPLY_INTEGER;
	assert_null(redis_stream_entry_event(entry, "rs", "/sluice/sources/rs", "clicks", NULL));
	entry = entry_of(&r, "1-1", NULL, 0);
	r.fields.type = REDIS_REPLY_NIL;
	assert_null(redis_stream_entry_event(entry, "rs", "/sluice/sources/rs", "clicks", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_plain_fields),
		cmocka_unit_test(test_fields_needing_json),
		cmocka_unit_test(test_partition_key_field),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
