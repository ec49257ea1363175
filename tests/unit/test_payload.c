/* Unit tests for dispatcher/payload*.c: the CloudEvents batch, the aws schedule passthrough, and
 * the aws stream and queue shapes, field by field against Lambda's events, for events made as
 * payload.h says the connectors make them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/event.h"
#include "core/mem.h"
#include "dispatcher/item_failures.h"
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

/* The stream and queue kinds have aws shapes that hold batches of any size. */
static void test_stream_and_queue_kinds_supported(void **state)
{
	static const enum sl_source_kind kinds[] = { SL_SOURCE_KAFKA, SL_SOURCE_REDIS_STREAM,
						     SL_SOURCE_REDIS_QUEUE };

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_int_equal(sl_payload_supported(SL_PAYLOAD_AWS, kinds[i]), 0);
		assert_int_equal(sl_payload_max_batch(SL_PAYLOAD_AWS, kinds[i]), 0);
		assert_int_equal(sl_payload_supported(SL_PAYLOAD_CLOUDEVENTS, kinds[i]), 0);
	}
}

/* obj is an object with exactly the keys listed, comma-separated. */
static void assert_keys(const json_t *obj, const char *keys)
{
	char *list = sl_xstrdup(keys), *save = NULL;
	size_t count = 0;

	assert_true(json_is_object(obj));
	for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save), count++)
		if (!json_object_get(obj, k))
			fail_msg("no key \"%s\"", k);
	assert_int_equal(json_object_size(obj), count);
	free(list);
}

/* obj[key] as a string (it must be one). */
static const char *str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", key);
	return json_string_value(v);
}

/* obj[key] as an integer (it must be a JSON number without a fraction). */
static json_int_t num(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer", key);
	return json_integer_value(v);
}

/* obj[key] is a string whose base64 decodes to bytes[0..len). */
static void assert_base64(const json_t *obj, const char *key, const void *bytes, size_t len)
{
	const char *text = str(obj, key);
	unsigned char *dec;
	size_t dec_len;

	assert_int_equal(sl_base64_decode(text, strlen(text), &dec, &dec_len), 0);
	assert_int_equal(dec_len, len);
	assert_memory_equal(dec, bytes, len);
	free(dec);
}

/* The aws payload of evs[0..n) from src, parsed; its text in *text (the caller frees) unless
 * text is NULL. */
static json_t *encode_aws(const struct sl_source_config *src, struct sl_event **evs, size_t n,
			  char **text)
{
	char *out = NULL;
	size_t len = 0;
	json_error_t jerr;

	assert_int_equal(sl_payload_encode(SL_PAYLOAD_AWS, src, (const struct sl_event *const *)evs,
					   n, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	json_t *doc = json_loadb(out, len, JSON_ALLOW_NUL, &jerr);
	if (!doc)
		fail_msg("not JSON (%s): %s", jerr.text, out);
	if (text)
		*text = out;
	else
		free(out);
	return doc;
}

/* Records[i] of a Kinesis or SQS payload. */
static json_t *record(const json_t *doc, size_t i)
{
	json_t *rec = json_array_get(json_object_get(doc, "Records"), i);

	assert_non_null(rec);
	return rec;
}

static void unref_all(struct sl_event **evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sl_event_unref(evs[i]);
}

/* An event's common attributes as a pull connector sets them. */
static struct sl_event *pulled_event(const char *source, const char *partition,
				     const char *position, const char *time)
{
	struct sl_event *ev = sl_event_new();
	char *id = sl_event_id_from_position(source, partition, position);

	ev->id = id;
	sl_event_set(ev, &ev->source, source);
	sl_event_set(ev, &ev->type, "com.example.pulled");
	sl_event_set(ev, &ev->partition, partition);
	sl_event_set(ev, &ev->position, position);
	sl_event_set(ev, &ev->time, time);
	ev->received_ms = 1700000000000;
	ev->extensions = json_object();
	return ev;
}

/* Kafka's header form: {"<name>": [signed byte, ...]}. */
static json_t *kafka_header(const char *name, const unsigned char *bytes, size_t len)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < len; i++)
		json_array_append_new(arr, json_integer((signed char)bytes[i]));
	return json_pack("{s:o}", name, arr);
}

/* A Kafka record as the kafka connector makes it (payload.h, "Stream and queue events"): key
 * (text: the partition key) NULL for none, value NULL for a null value, headers an array or NULL
 * for none. */
static struct sl_event *kafka_event(const char *partition, const char *offset, const char *key,
				    const char *value, json_t *headers)
{
	struct sl_event *ev = pulled_event("/sluice/sources/orders", partition, offset,
					   "2018-12-17T22:10:50.987Z");

	if (value)
		sl_event_set_data_bytes(ev, value, strlen(value));
	if (key)
		sl_event_set(ev, &ev->partitionkey, key);
	if (headers)
		json_object_set_new(ev->extensions, "kafkaheaders", headers);
	return ev;
}

static const struct sl_source_config kafka_src = {
	.name = "orders", .kind = SL_SOURCE_KAFKA, .brokers = "b-1.example:9092,b-2.example:9092",
};
static const struct sl_source_config msk_src = {
	.name = "orders", .kind = SL_SOURCE_KAFKA, .brokers = "b-1.example:9092",
	.event_source_arn = "arn:aws:kafka:us-east-1:123456789012:cluster/c/uuid",
};

#define KAFKA_RECORD_KEYS "topic,partition,offset,timestamp,timestampType,key,value,headers"

static void test_kafka_self_managed(void **state)
{
	static const unsigned char hello[] = "hello", accent[] = { 0xc3, 0xa9, 0x7f, 0x80 };
	json_t *headers = json_pack("[o,o]", kafka_header("headerKey", hello, 5),
				    kafka_header("bin", accent, sizeof(accent)));
	struct sl_event *evs[1] = { kafka_event("my-topic-0", "15", "key", "Hello", headers) };

	(void)state;
	json_t *doc = encode_aws(&kafka_src, evs, 1, NULL);
	assert_keys(doc, "eventSource,bootstrapServers,records");
	assert_string_equal(str(doc, "eventSource"), "SelfManagedKafka");
	assert_string_equal(str(doc, "bootstrapServers"), "b-1.example:9092,b-2.example:9092");
	json_t *records = json_object_get(doc, "records");
	assert_keys(records, "my-topic-0");
	assert_int_equal(json_array_size(json_object_get(records, "my-topic-0")), 1);
	json_t *rec = json_array_get(json_object_get(records, "my-topic-0"), 0);
	assert_keys(rec, KAFKA_RECORD_KEYS);
	assert_string_equal(str(rec, "topic"), "my-topic");
	assert_int_equal(num(rec, "partition"), 0);
	assert_int_equal(num(rec, "offset"), 15);
	assert_int_equal(num(rec, "timestamp"), 1545084650987);
	assert_string_equal(str(rec, "timestampType"), "CREATE_TIME");
	assert_base64(rec, "key", "key", 3);
	assert_base64(rec, "value", "Hello", 5);
	json_t *expected = json_loads("[{\"headerKey\":[104,101,108,108,111]},"
				      "{\"bin\":[-61,-87,127,-128]}]", 0, NULL);
	assert_true(json_equal(json_object_get(rec, "headers"), expected));
	json_decref(expected);
	json_decref(doc);
	unref_all(evs, 1);
}

/* A key that is not text (here with a NUL and an invalid UTF-8 byte) comes in the "kafkakey"
 * extension and goes out as its bytes' base64. */
static void test_kafka_binary_key(void **state)
{
	static const unsigned char key[] = { 0x00, 0xff, 'k' };
	struct sl_event *evs[1] = { kafka_event("t-3", "7", NULL, "v", NULL) };
	char *b64 = sl_base64_encode(key, sizeof(key));

	(void)state;
	json_object_set_new(evs[0]->extensions, "kafkakey", json_string(b64));
	free(b64);
	json_t *doc = encode_aws(&kafka_src, evs, 1, NULL);
	json_t *rec = json_array_get(json_object_get(json_object_get(doc, "records"), "t-3"), 0);
	assert_base64(rec, "key", (const char *)key, sizeof(key));
	json_decref(doc);
	unref_all(evs, 1);
}

/* With an event_source_arn the event is MSK's; a record without key has no "key", one with a
 * null value an empty "value", one without headers an empty "headers". */
static void test_kafka_msk_keyless_valueless(void **state)
{
	struct sl_event *evs[2] = { kafka_event("t-7", "0", NULL, NULL, NULL),
				    kafka_event("t-7", "1", NULL, "v", NULL) };

	(void)state;
	json_object_set_new(evs[1]->extensions, "kafkatimestamptype",
			    json_string("LOG_APPEND_TIME"));
	json_t *doc = encode_aws(&msk_src, evs, 2, NULL);
	assert_keys(doc, "eventSource,eventSourceArn,bootstrapServers,records");
	assert_string_equal(str(doc, "eventSource"), "aws:kafka");
	assert_string_equal(str(doc, "eventSourceArn"),
			    "arn:aws:kafka:us-east-1:123456789012:cluster/c/uuid");
	assert_string_equal(str(doc, "bootstrapServers"), "b-1.example:9092");
	json_t *list = json_object_get(json_object_get(doc, "records"), "t-7");
	assert_int_equal(json_array_size(list), 2);
	json_t *rec = json_array_get(list, 0);
	assert_keys(rec, "topic,partition,offset,timestamp,timestampType,value,headers");
	assert_string_equal(str(rec, "topic"), "t");
	assert_int_equal(num(rec, "partition"), 7);
	assert_int_equal(num(rec, "offset"), 0);
	assert_string_equal(str(rec, "value"), "");
	assert_true(json_is_array(json_object_get(rec, "headers")));
	assert_int_equal(json_array_size(json_object_get(rec, "headers")), 0);
	rec = json_array_get(list, 1);
	assert_int_equal(num(rec, "offset"), 1);
	assert_string_equal(str(rec, "timestampType"), "LOG_APPEND_TIME");
	assert_base64(rec, "value", "v", 1);
	json_decref(doc);
	unref_all(evs, 2);
}

/* Records group under their partition, in batch order, partitions in order of first event. */
static void test_kafka_partitions_grouped(void **state)
{
	struct sl_event *evs[5] = { kafka_event("b-1", "10", NULL, "0", NULL),
				    kafka_event("a-0", "20", NULL, "1", NULL),
				    kafka_event("b-1", "11", NULL, "2", NULL),
				    kafka_event("a-0", "21", NULL, "3", NULL),
				    kafka_event("b-1", "12", NULL, "4", NULL) };
	static const struct { const char *key; int offsets[3]; size_t n; } want[2] = {
		{ "b-1", { 10, 11, 12 }, 3 }, { "a-0", { 20, 21 }, 2 },
	};
	char *out;

	(void)state;
	json_t *doc = encode_aws(&kafka_src, evs, 5, &out);
	assert_true(strstr(out, "\"b-1\":") < strstr(out, "\"a-0\":"));
	json_t *records = json_object_get(doc, "records");
	assert_keys(records, "b-1,a-0");
	for (size_t g = 0; g < 2; g++) {
		json_t *list = json_object_get(records, want[g].key);
		assert_int_equal(json_array_size(list), want[g].n);
		for (size_t i = 0; i < want[g].n; i++)
			assert_int_equal(num(json_array_get(list, i), "offset"),
					 want[g].offsets[i]);
	}
	json_decref(doc);
	free(out);
	unref_all(evs, 5);
}

/* An event the Kafka shape cannot hold fails the batch rather than giving wrong JSON. */
static void test_kafka_unencodable(void **state)
{
	static const struct { const char *partition, *offset; } bad[] = {
		{ "nodash", "1" }, { "t-x", "1" }, { "t-01", "1" }, { "t-0", "" },
		{ "t-0", "-1" }, { "t-0", "1.5" }, { "t\xff-0", "1" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_event *ev = kafka_event(bad[i].partition, bad[i].offset, NULL, "v", NULL);
		const struct sl_event *evs[1] = { ev };
		char *out = NULL;
		size_t len;
		if (sl_payload_encode(SL_PAYLOAD_AWS, &kafka_src, evs, 1, &out, &len) != -EINVAL)
			fail_msg("%s/%s encoded: %s", bad[i].partition, bad[i].offset, out);
		assert_null(out);
		sl_event_unref(ev);
	}
}

/* A Redis stream entry as the redis_stream connector makes it: the stream key is the partition
 * (shard), the entry id the position, the fields the data as JSON text. */
static struct sl_event *stream_event(const char *stream, const char *entry_id, const char *time,
				     const char *fields, const char *partition_key)
{
	struct sl_event *ev = pulled_event("/sluice/sources/clicks", stream, entry_id, time);

	sl_event_set_data_text(ev, fields, strlen(fields));
	sl_event_set(ev, &ev->partitionkey, partition_key);
	return ev;
}

static const struct sl_source_config stream_src = { .name = "clicks",
						    .kind = SL_SOURCE_REDIS_STREAM };

#define KINESIS_RECORD_KEYS "kinesis,eventSource,eventVersion,eventID,eventName," \
	"invokeIdentityArn,awsRegion,eventSourceARN"

static void test_kinesis_records(void **state)
{
	static const struct { const char *id, *time, *fields, *key, *seconds; } in[4] = {
		{ "1545084650987-0", "2018-12-17T22:10:50.987Z", "{\"user\":\"ann\"}", "ann",
		  "1545084650.987" },
		{ "1545084651005-1", "2018-12-17T22:10:51.005Z", "{\"user\":\"bob\",\"n\":\"2\"}",
		  NULL, "1545084651.005" },
		{ "1545084651050-0", "2018-12-17T22:10:51.050Z", "{}", "cy", "1545084651.050" },
		{ "0-1", "1969-12-31T23:59:59.500Z", "{}", "old", "-1.500" },
	};
	const size_t n = sizeof(in) / sizeof(in[0]);
	struct sl_event *evs[4];
	char *out;

	(void)state;
	for (size_t i = 0; i < n; i++)
		evs[i] = stream_event("clicks-stream", in[i].id, in[i].time, in[i].fields,
				      in[i].key);
	json_t *doc = encode_aws(&stream_src, evs, n, &out);
	assert_keys(doc, "Records");
	assert_int_equal(json_array_size(json_object_get(doc, "Records")), n);
	for (size_t i = 0; i < n; i++) {
		json_t *rec = record(doc, i);
		assert_keys(rec, KINESIS_RECORD_KEYS);
		assert_string_equal(str(rec, "eventSource"), "aws:kinesis");
		assert_string_equal(str(rec, "eventVersion"), "1.0");
		char *event_id = sl_xasprintf("clicks-stream:%s", in[i].id);
		assert_string_equal(str(rec, "eventID"), event_id);
		free(event_id);
		assert_string_equal(str(rec, "eventName"), "aws:kinesis:record");
		assert_string_equal(str(rec, "invokeIdentityArn"),
				    "arn:aws:iam::000000000000:role/sluice");
		assert_string_equal(str(rec, "awsRegion"), "us-east-1");
		assert_string_equal(str(rec, "eventSourceARN"),
				    "arn:aws:kinesis:us-east-1:000000000000:stream/clicks-stream");
		json_t *k = json_object_get(rec, "kinesis");
		assert_keys(k, "kinesisSchemaVersion,partitionKey,sequenceNumber,data,"
			    "approximateArrivalTimestamp");
		assert_string_equal(str(k, "kinesisSchemaVersion"), "1.0");
		/* no partition key: the stream's name, as the connector's default is */
		assert_string_equal(str(k, "partitionKey"),
				    in[i].key ? in[i].key : "clicks-stream");
		assert_string_equal(str(k, "sequenceNumber"), in[i].id);
		assert_base64(k, "data", in[i].fields, strlen(in[i].fields));
		assert_true(json_is_real(json_object_get(k, "approximateArrivalTimestamp")));
		char *stamp = sl_xasprintf("\"approximateArrivalTimestamp\":%s}", in[i].seconds);
		assert_non_null(strstr(out, stamp));
		free(stamp);
	}
	json_decref(doc);
	free(out);
	unref_all(evs, n);
}

/* A Redis list message as the redis_queue connector makes it: the message id is id and
 * position, the body a JSON string (or data_bytes when it is not UTF-8). */
static struct sl_event *queue_event(const char *id, const char *body, size_t body_len)
{
	struct sl_event *ev = pulled_event("/sluice/sources/jobs", "", id, NULL);
	json_t *text = json_stringn(body, body_len);

	sl_event_set(ev, &ev->id, id);
	if (text) {
		char *compact = json_dumps(text, JSON_ENCODE_ANY | JSON_COMPACT);
		sl_event_set_data_text(ev, compact, strlen(compact));
		free(compact);
	} else {
		sl_event_set_data_bytes(ev, body, body_len);
	}
	json_decref(text);
	json_object_set_new(ev->extensions, "receivecount", json_integer(2));
	json_object_set_new(ev->extensions, "senttimestamp", json_integer(1545082649183));
	json_object_set_new(ev->extensions, "firstreceivetime", json_integer(1545082649185));
	json_object_set_new(ev->extensions, "receipthandle", json_string("AQEBwJnKyrHigUMZj6r"));
	return ev;
}

static const struct sl_source_config queue_src = { .name = "jobs-source",
						   .kind = SL_SOURCE_REDIS_QUEUE, .queue = "jobs" };

/* A string literal and its length, NULs included. */
#define BYTES(lit) lit, sizeof(lit) - 1

#define SQS_RECORD_KEYS "messageId,receiptHandle,body,attributes,messageAttributes,md5OfBody," \
	"eventSource,eventSourceARN,awsRegion"

/* A record's attributes are strings: the receive count, sent and first-receive times. */
static void assert_sqs_attributes(const json_t *rec, const char *count, const char *sent,
				  const char *first)
{
	const json_t *attrs = json_object_get(rec, "attributes");

	assert_keys(attrs, "ApproximateReceiveCount,SentTimestamp,SenderId,"
		    "ApproximateFirstReceiveTimestamp");
	assert_string_equal(str(attrs, "ApproximateReceiveCount"), count);
	assert_string_equal(str(attrs, "SentTimestamp"), sent);
	assert_string_equal(str(attrs, "SenderId"), "sluice");
	assert_string_equal(str(attrs, "ApproximateFirstReceiveTimestamp"), first);
}

static void test_sqs_records(void **state)
{
	static const struct { const char *id, *body; size_t len; const char *md5; } in[3] = {
		{ "059f36b4-87a3-44ab-83d2-661975830a7d", BYTES("Test message."),
		  "e4e68fb7bd0e697a0ae8f1bb342846b3" },
		{ "m2", BYTES("line1\nline2 \"q\" \xc3\xa9 \x01 \\"),
		  "eb106fc333f3d32e99e5a6f8bfdf5308" },
		{ "m3", BYTES("a\0b"), "70350f6027bce3713f6b76473084309b" },
	};
	struct sl_event *evs[3];
	char *out;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		evs[i] = queue_event(in[i].id, in[i].body, in[i].len);
	json_t *doc = encode_aws(&queue_src, evs, 3, &out);
	/* the short escapes where JSON has them, \u00XX for other control characters */
	assert_non_null(strstr(out, "\"body\":\"line1\\nline2 \\\"q\\\" \xc3\xa9 "
				    "\\u0001 \\\\\""));
	free(out);
	assert_keys(doc, "Records");
	assert_int_equal(json_array_size(json_object_get(doc, "Records")), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *rec = record(doc, i);
		assert_keys(rec, SQS_RECORD_KEYS);
		assert_string_equal(str(rec, "messageId"), in[i].id);
		assert_string_equal(str(rec, "receiptHandle"), "AQEBwJnKyrHigUMZj6r");
		json_t *body = json_object_get(rec, "body");
		assert_true(json_is_string(body));
		assert_int_equal(json_string_length(body), in[i].len);
		assert_memory_equal(json_string_value(body), in[i].body, in[i].len);
		assert_sqs_attributes(rec, "2", "1545082649183", "1545082649185");
		assert_keys(json_object_get(rec, "messageAttributes"), "");
		assert_string_equal(str(rec, "md5OfBody"), in[i].md5);
		assert_string_equal(str(rec, "eventSource"), "aws:sqs");
		assert_string_equal(str(rec, "eventSourceARN"),
				    "arn:aws:sqs:us-east-1:000000000000:jobs");
		assert_string_equal(str(rec, "awsRegion"), "us-east-1");
	}
	json_decref(doc);
	unref_all(evs, 3);
}

/* A body that is not UTF-8 comes as one character per byte (U+0000..U+00FF); md5OfBody is the
 * MD5 of the bytes themselves. */
static void test_sqs_binary_body(void **state)
{
	static const unsigned char bytes[] = { 0x00, 0x41, 0xff, 0x80, 0x22, 0xc3, 0xa9, 0x0a };
	struct sl_event *evs[1] = { queue_event("bin", (const char *)bytes, sizeof(bytes)) };

	(void)state;
	assert_non_null(evs[0]->data_bytes);
	json_t *doc = encode_aws(&queue_src, evs, 1, NULL);
	json_t *rec = record(doc, 0);
	const unsigned char *body = (const unsigned char *)str(rec, "body");
	size_t body_len = json_string_length(json_object_get(rec, "body"));
	unsigned char back[sizeof(bytes)];
	size_t n = 0;

	for (size_t i = 0; i < body_len; n++) {   /* the characters' numbers, all below 256 */
		assert_true(n < sizeof(bytes));
		assert_true(body[i] < 0xc4);
		back[n] = body[i] < 0x80 ? body[i] : (unsigned char)((body[i] & 3) << 6 |
								     (body[i + 1] & 0x3f));
		i += body[i] < 0x80 ? 1 : 2;
	}
	assert_int_equal(n, sizeof(bytes));
	assert_memory_equal(back, bytes, sizeof(bytes));
	assert_string_equal(str(rec, "md5OfBody"), "961c21eba81ce8e9d4d720fb6b0e8d0f");
	json_decref(doc);
	unref_all(evs, 1);
}

/* Missing extensions take defaults; data that is not a string is sent as its JSON text. */
static void test_sqs_defaults(void **state)
{
	static const char *const bodies[3] = { "{\"k\":\"v\"}", "from a tree", "" };
	static const char *const md5s[3] = { "44244ce1a15ee6d4dc270001564cb759",
					     "b250e35f40b85bcc9404cc46b6efb576",
					     "d41d8cd98f00b204e9800998ecf8427e" };
	struct sl_event *evs[3];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		evs[i] = pulled_event("/sluice/sources/jobs", "", "m", NULL);
		sl_event_set(evs[i], &evs[i]->id, "m");
	}
	sl_event_set_data_text(evs[0], bodies[0], strlen(bodies[0]));
	sl_event_set_data_json(evs[1], json_string(bodies[1]));
	json_t *doc = encode_aws(&queue_src, evs, 3, NULL);
	for (size_t i = 0; i < 3; i++) {
		json_t *rec = record(doc, i);
		assert_keys(rec, SQS_RECORD_KEYS);
		assert_string_equal(str(rec, "receiptHandle"), "");
		assert_string_equal(str(rec, "body"), bodies[i]);
		assert_string_equal(str(rec, "md5OfBody"), md5s[i]);
		assert_sqs_attributes(rec, "1", "1700000000000", "1700000000000");
	}
	json_decref(doc);
	unref_all(evs, 3);
}

/* A queue event whose body is the JSON text `text`, as a connector that escapes more than
 * jansson does might keep it. */
static struct sl_event *queue_event_text(const char *text)
{
	struct sl_event *ev = queue_event("t", BYTES(""));

	sl_event_set_data_text(ev, text, strlen(text));
	return ev;
}

/* md5OfBody is over the body's characters however the text escapes them, and bodies longer
 * than the decoder's buffer are digested whole. */
static void test_sqs_escaped_bodies(void **state)
{
	static const struct { const char *md5; size_t reps; const char *piece, *chars; } in[3] = {
		{ "58e8619274b60c6379a1a47bebf8e83d", 1,
		  "\\u00e9\\ud83d\\ude00\\/\\b\\f\\r\\t x\\ud87e\\udc00",
		  "\xc3\xa9\xf0\x9f\x98\x80/\b\f\r\t x\xf0\xaf\xa0\x80" },
		{ "548214f0f8261d494e306c64c94a4f86", 300, "a\\\"", "a\"" },
		{ "61fcf85fb6b91e3ecc3d64a3998b84fc", 200, "\\uD83D\\uDE00", "\xf0\x9f\x98\x80" },
	};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char *text = sl_xstrdup("\""), *chars = sl_xstrdup("");
		for (size_t r = 0; r < in[i].reps; r++) {
			char *longer = sl_xasprintf("%s%s", text, in[i].piece);
			free(text);
			text = longer;
			longer = sl_xasprintf("%s%s", chars, in[i].chars);
			free(chars);
			chars = longer;
		}
		char *quoted = sl_xasprintf("%s\"", text);
		struct sl_event *evs[1] = { queue_event_text(quoted) };
		json_t *doc = encode_aws(&queue_src, evs, 1, NULL);
		assert_string_equal(str(record(doc, 0), "body"), chars);
		assert_string_equal(str(record(doc, 0), "md5OfBody"), in[i].md5);
		json_decref(doc);
		unref_all(evs, 1);
		free(quoted);
		free(text);
		free(chars);
	}
}

/* Text that is not a JSON string's cannot give md5OfBody: the batch fails to encode. */
static void test_sqs_malformed_text(void **state)
{
	static const char *const bad[] = { "\"\\x\"", "\"\\ud83d\"", "\"\\ud83dx\"",
					   "\"\\ud83d\\u0041\"", "\"\\ud83d\\ue000\"",
					   "\"\\ude00\"", "\"\\u12\"",
					   "\"\\u12g4\"", "\"\\\"" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_event *ev = queue_event_text(bad[i]);
		const struct sl_event *evs[1] = { ev };
		char *out = NULL;
		size_t len;
		if (sl_payload_encode(SL_PAYLOAD_AWS, &queue_src, evs, 1, &out, &len) != -EINVAL)
			fail_msg("%s encoded: %s", bad[i], out);
		sl_event_unref(ev);
	}
}

/* What Powertools' parser schemas require of a record: a dotted path and its JSON type ('s'
 * string, 'n' number, 'o' object, 'a' array). */
struct required {
	const char *path;
	char type;
};

static const struct required kafka_record_required[] = {
	{ "topic", 's' }, { "partition", 'n' }, { "offset", 'n' }, { "timestamp", 'n' },
	{ "timestampType", 's' }, { "value", 's' }, { "headers", 'a' }, { NULL, 0 },
};
static const struct required kinesis_record_required[] = {
	{ "eventSource", 's' }, { "eventVersion", 's' }, { "eventID", 's' }, { "eventName", 's' },
	{ "awsRegion", 's' }, { "invokeIdentityArn", 's' }, { "eventSourceARN", 's' },
	{ "kinesis.kinesisSchemaVersion", 's' }, { "kinesis.partitionKey", 's' },
	{ "kinesis.sequenceNumber", 's' }, { "kinesis.approximateArrivalTimestamp", 'n' },
	{ "kinesis.data", 's' }, { NULL, 0 },
};
static const struct required sqs_record_required[] = {
	{ "messageId", 's' }, { "receiptHandle", 's' }, { "body", 's' },
	{ "attributes.ApproximateReceiveCount", 's' },
	{ "attributes.ApproximateFirstReceiveTimestamp", 's' }, { "attributes.SenderId", 's' },
	{ "attributes.SentTimestamp", 's' }, { "messageAttributes", 'o' }, { "md5OfBody", 's' },
	{ "eventSource", 's' }, { "eventSourceARN", 's' }, { "awsRegion", 's' }, { NULL, 0 },
};

static bool has_type(const json_t *v, char type)
{
	switch (type) {
	case 's': return json_is_string(v);
	case 'n': return json_is_number(v);
	case 'o': return json_is_object(v);
	}
	return json_is_array(v);
}

static void assert_required(const json_t *obj, const struct required *req)
{
	for (; req->path; req++) {
		char *path = sl_xstrdup(req->path), *save = NULL;
		const json_t *v = obj;
		for (char *k = strtok_r(path, ".", &save); k; k = strtok_r(NULL, ".", &save))
			v = json_object_get(v, k);
		if (!has_type(v, req->type))
			fail_msg("%s: missing or not of type '%c'", req->path, req->type);
		free(path);
	}
}

/* Every key Powertools' Kafka, Kinesis and SQS schemas require, with its type. */
static void test_powertools_required_keys(void **state)
{
	struct sl_event *kafka[1] = { kafka_event("t-0", "5", NULL, NULL, NULL) };
	struct sl_event *stream[1] = { stream_event("s", "1-0", "2018-12-17T22:10:50.987Z", "{}",
						     NULL) };
	struct sl_event *queue[1] = { queue_event("m", BYTES("body")) };
	const struct sl_source_config *kafka_srcs[2] = { &kafka_src, &msk_src };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		json_t *doc = encode_aws(kafka_srcs[i], kafka, 1, NULL), *list;
		const char *key;
		assert_non_null(str(doc, "eventSource"));
		if (kafka_srcs[i]->event_source_arn)
			assert_non_null(str(doc, "eventSourceArn"));
		assert_true(json_object_size(json_object_get(doc, "records")) > 0);
		json_object_foreach(json_object_get(doc, "records"), key, list) {
			assert_true(json_array_size(list) > 0);
			assert_required(json_array_get(list, 0), kafka_record_required);
		}
		json_decref(doc);
	}
	json_t *doc = encode_aws(&stream_src, stream, 1, NULL);
	assert_required(record(doc, 0), kinesis_record_required);
	json_decref(doc);
	doc = encode_aws(&queue_src, queue, 1, NULL);
	assert_required(record(doc, 0), sqs_record_required);
	json_decref(doc);
	unref_all(kafka, 1);
	unref_all(stream, 1);
	unref_all(queue, 1);
}

/* The response naming failed identifiers as a handler would, each from the payload it got. */
static char *failures_response(json_t *identifiers)
{
	json_t *list = json_array();
	size_t i;
	json_t *ident;

	json_array_foreach(identifiers, i, ident)
		json_array_append_new(list, json_pack("{s:O}", "itemIdentifier", ident));
	json_t *resp = json_pack("{s:o}", "batchItemFailures", list);
	char *text = json_dumps(resp, JSON_COMPACT);

	json_decref(resp);
	json_decref(identifiers);
	return text;
}

/* failed[] marks exactly the events `want` lists, one char per event ('x' failed). */
static void assert_failed(char *resp, struct sl_event **evs, size_t n, const char *want)
{
	bool failed[8];
	char why[160] = "";

	assert_true(n <= 8);
	assert_int_equal(sl_item_failures_parse(resp, strlen(resp),
						(const struct sl_event *const *)evs, n, failed, why,
						sizeof(why)), SL_ITEMS_SOME_FAILED);
	for (size_t i = 0; i < n; i++)
		if (failed[i] != (want[i] == 'x'))
			fail_msg("event %zu: failed %d, want %c (%s)", i, failed[i], want[i], resp);
	free(resp);
}

/* Identifiers a handler takes from each shape (Kinesis sequenceNumber, SQS messageId, Kafka
 * {partition, offset}) name the events they came from. */
static void test_item_identifiers_name_events(void **state)
{
	struct sl_event *kafka[3] = { kafka_event("a-0", "10", NULL, "v", NULL),
				      kafka_event("b-1", "10", NULL, "v", NULL),
				      kafka_event("a-0", "11", NULL, "v", NULL) };
	struct sl_event *stream[3] = { stream_event("s", "1-0", NULL, "{}", NULL),
				       stream_event("s", "1-1", NULL, "{}", NULL),
				       stream_event("s", "2-0", NULL, "{}", NULL) };
	struct sl_event *queue[3] = { queue_event("q1", BYTES("a")), queue_event("q2", BYTES("b")),
				      queue_event("q3", BYTES("c")) };

	(void)state;
	json_t *doc = encode_aws(&kafka_src, kafka, 3, NULL);
	json_t *b1 = json_array_get(json_object_get(json_object_get(doc, "records"), "b-1"), 0);
	char *partition = sl_xasprintf("%s-%lld", str(b1, "topic"),
				       (long long)num(b1, "partition"));
	assert_failed(failures_response(json_pack("[{s:s,s:I}]", "partition", partition,
						  "offset", num(b1, "offset"))), kafka, 3, ".x.");
	free(partition);
	json_decref(doc);

	doc = encode_aws(&stream_src, stream, 3, NULL);
	assert_failed(failures_response(json_pack(
		"[s,s]", str(json_object_get(record(doc, 2), "kinesis"), "sequenceNumber"),
		str(json_object_get(record(doc, 1), "kinesis"), "sequenceNumber"))),
		stream, 3, ".xx");
	json_decref(doc);

	doc = encode_aws(&queue_src, queue, 3, NULL);
	assert_failed(failures_response(json_pack("[s]", str(record(doc, 0), "messageId"))),
		      queue, 3, "x..");
	json_decref(doc);
	unref_all(kafka, 3);
	unref_all(stream, 3);
	unref_all(queue, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cloudevents_array),
		cmocka_unit_test(test_aws_schedule_passthrough),
		cmocka_unit_test(test_data_text_same_bytes),
		cmocka_unit_test(test_unsupported_combinations),
		cmocka_unit_test(test_stream_and_queue_kinds_supported),
		cmocka_unit_test(test_kafka_self_managed),
		cmocka_unit_test(test_kafka_binary_key),
		cmocka_unit_test(test_kafka_msk_keyless_valueless),
		cmocka_unit_test(test_kafka_partitions_grouped),
		cmocka_unit_test(test_kafka_unencodable),
		cmocka_unit_test(test_kinesis_records),
		cmocka_unit_test(test_sqs_records),
		cmocka_unit_test(test_sqs_binary_body),
		cmocka_unit_test(test_sqs_defaults),
		cmocka_unit_test(test_sqs_escaped_bodies),
		cmocka_unit_test(test_sqs_malformed_text),
		cmocka_unit_test(test_powertools_required_keys),
		cmocka_unit_test(test_item_identifiers_name_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
