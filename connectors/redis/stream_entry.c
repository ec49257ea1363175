/* Stream entries as events; see stream_entry.h. */
#include "connectors/redis/stream_entry.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/event.h"
#include "core/mem.h"

const char *redis_stream_entry_id(const redisReply *entry)
{
	if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
	    entry->element[0]->type != REDIS_REPLY_STRING)
		return NULL;
	return entry->element[0]->str;
}

/* The bytes as a JSON string: as they are when UTF-8, else each byte as the Latin-1 character
 * of that code. */
static json_t *text_of(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	if (j)
		return j;
	char *latin1 = sl_xmalloc(len * 2 + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			latin1[n++] = (char)c;
		} else {
			latin1[n++] = (char)(0xc0 | (c >> 6));
			latin1[n++] = (char)(0x80 | (c & 0x3f));
		}
	}
	j = sl_check_alloc(json_stringn(latin1, n));
	free(latin1);
	return j;
}

/* The fields reply as a JSON object; NULL unless an array of string pairs. */
static json_t *fields_object(const redisReply *fields)
{
	if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0)
		return NULL;
	json_t *obj = sl_check_alloc(json_object());
	for (size_t i = 0; i < fields->elements; i += 2) {
		const redisReply *k = fields->element[i], *v = fields->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
			json_decref(obj);
			return NULL;
		}
		json_t *key = text_of(k->str, k->len);
		json_object_set_new(obj, json_string_value(key), text_of(v->str, v->len));
		json_decref(key);
	}
	return obj;
}

/* The value of field `name` in the fields object, or NULL. */
static const char *field_value(const json_t *data, const char *name)
{
	return json_string_value(json_object_get(data, name));
}

struct sl_event *redis_stream_entry_event(const redisReply *entry, const char *source_name,
					  const char *stream, const char *key_field)
{
	const char *id = redis_stream_entry_id(entry);
	json_t *data = id ? fields_object(entry->element[1]) : NULL;

	if (!data)
		return NULL;
	char *text = sl_check_alloc(json_dumps(data, JSON_COMPACT));
	const char *key = key_field ? field_value(data, key_field) : NULL;
	int64_t ms = strtoll(id, NULL, 10);
	char *source = sl_xasprintf("/sluice/sources/%s", source_name);
	struct sl_event *ev = sl_event_new();

	ev->id = sl_event_id_from_position(source_name, stream, id);
	sl_event_set(ev, &ev->source, source);
	sl_event_set(ev, &ev->type, "sluice.redis_stream.entry");
	sl_event_set(ev, &ev->subject, stream);
	sl_event_set(ev, &ev->datacontenttype, "application/json");
	sl_event_set(ev, &ev->partitionkey, key ? key : stream);
	sl_event_set(ev, &ev->sequence, id);
	sl_event_set(ev, &ev->partition, stream);
	sl_event_set(ev, &ev->position, id);
	sl_event_set_data_text(ev, text, strlen(text));
	ev->received_ms = ev->time_ms = ms;
	json_decref(data);
	free(text);
	free(source);
	return ev;
}
