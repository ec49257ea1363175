/* One Kafka record -> one event, as dispatcher/payload.h's "Stream and queue events" lists:
 * partition "<topic>-<partition>", position = the offset, id derived from both (the same on
 * every redelivery), time_ms = the record timestamp, the value as bytes, the key as partitionkey
 * when it is text, else as the "kafkakey" extension (base64), "kafkatimestamptype" when it is
 * not CREATE_TIME, and "kafkaheaders" in the AWS form when the record has headers. The string
 * attributes and the value share one allocation (sl_event_set_packed): this runs for every
 * record. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "connectors/kafka/kafka_feed.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/decimal.h"
#include "core/event.h"
#include "core/mem.h"

#define KAFKA_EVENT_TYPE "sluice.kafka.record"

static json_t *extensions(struct sl_event *ev)
{
	if (!ev->extensions)
		ev->extensions = sl_check_alloc(json_object());
	return ev->extensions;
}

/* The key as text (a NUL-terminated copy in a new buffer) when it is UTF-8 without NUL: ASCII
 * is checked here, anything else by jansson. NULL when it is not text. */
static char *key_text(const rd_kafka_message_t *m)
{
	const unsigned char *k = m->key;
	bool ascii = true;

	if (memchr(k, '\0', m->key_len))
		return NULL;
	for (size_t i = 0; i < m->key_len && ascii; i++)
		ascii = k[i] < 0x80;
	if (!ascii) {
		json_t *text = json_stringn(m->key, m->key_len);
		json_decref(text);
		if (!text)
			return NULL;
	}
	return sl_xstrndup(m->key, m->key_len);
}

/* [{"name": [byte, ...]}, ...], bytes as Java's signed bytes (-128..127), as AWS sends them. */
static json_t *headers_json(rd_kafka_headers_t *hdrs)
{
	json_t *arr = sl_check_alloc(json_array());
	const char *name;
	const void *value;
	size_t size;

	for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
			   RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
		json_t *bytes = sl_check_alloc(json_array());
		for (size_t j = 0; j < size; j++)
			json_array_append_new(bytes,
					      json_integer((int8_t)((const uint8_t *)value)[j]));
		json_array_append_new(arr, json_pack("{s:o}", name, bytes));
	}
	return arr;
}

struct sl_event *kafka_record_event(const struct kafka_feed *f, const struct kafka_part *p,
				    const rd_kafka_message_t *m)
{
	struct sl_event *ev = sl_event_new();
	rd_kafka_timestamp_type_t ts_type;
	int64_t ts = rd_kafka_message_timestamp(m, &ts_type);
	rd_kafka_headers_t *hdrs = NULL;
	char position[SL_DECIMAL_MAX], stack_id[256];
	char *key = m->key ? key_text(m) : NULL;
	size_t position_len = sl_decimal(m->offset, position);
	size_t id_len = p->id_prefix_len + position_len;
	char *id = id_len < sizeof(stack_id) ? stack_id : sl_xmalloc(id_len + 1);

	memcpy(id, p->id_prefix, p->id_prefix_len);
	memcpy(id + p->id_prefix_len, position, position_len + 1);
	ev->received_ms = ev->time_ms = ts > 0 ? ts : sl_wall_ms();
	sl_event_set_packed(ev, (char **const[]){ &ev->id, &ev->source, &ev->type, &ev->partition,
						  &ev->position, &ev->partitionkey },
			    (const char *const[]){ id, f->ce_source, KAFKA_EVENT_TYPE, p->name,
						   position, key }, 6, m->payload, m->len);
	if (id != stack_id)
		free(id);
	free(key);
	if (m->key && !key) {
		char *b64 = sl_base64_encode(m->key, m->key_len);
		json_object_set_new(extensions(ev), "kafkakey", json_string(b64));
		free(b64);
	}
	if (ts_type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME)
		json_object_set_new(extensions(ev), "kafkatimestamptype",
				    json_string("LOG_APPEND_TIME"));
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs)
		json_object_set_new(extensions(ev), "kafkaheaders", headers_json(hdrs));
	return ev;
}
