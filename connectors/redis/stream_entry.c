/* Stream entries as events; see stream_entry.h. */
#include "connectors/redis/stream_entry.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/event.h"
#include "core/mem.h"

/* Entries with more fields than this go through jansson (the plain check compares names pairwise). */
#define PLAIN_FIELDS_MAX 32

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

/* The fields reply (an array of string pairs) as a JSON object. */
static json_t *fields_object(const redisReply *fields)
{
	json_t *obj = sl_check_alloc(json_object());

	for (size_t i = 0; i < fields->elements; i += 2) {
		const redisReply *k = fields->element[i], *v = fields->element[i + 1];
		json_t *key = text_of(k->str, k->len);
		json_object_set_new(obj, json_string_value(key), text_of(v->str, v->len));
		json_decref(key);
	}
	return obj;
}

/* Whether the fields reply (an array of string pairs) is written as JSON by copying its bytes:
 * printable ASCII without quotes or backslashes, and names that do not repeat (what nearly every
 * entry is); else it goes through jansson. */
static bool plain_fields(const redisReply *fields)
{
	if (fields->elements > 2 * PLAIN_FIELDS_MAX)
		return false;
	for (size_t i = 0; i < fields->elements; i++) {
		const redisReply *r = fields->element[i];
		for (size_t j = 0; j < r->len; j++) {
			unsigned char c = (unsigned char)r->str[j];
			if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
				return false;
		}
	}
	for (size_t i = 2; i < fields->elements; i += 2)
		for (size_t j = 0; j < i; j += 2)
			if (fields->element[i]->len == fields->element[j]->len &&
			    memcmp(fields->element[i]->str, fields->element[j]->str,
				   fields->element[i]->len) == 0)
				return false;
	return true;
}

/* {"name":"value",...} of plain fields, written into a new buffer (*len its length). */
static char *plain_fields_text(const redisReply *fields, size_t *len)
{
	size_t n = 2;

	for (size_t i = 0; i < fields->elements; i++)
		n += fields->element[i]->len + 3;    /* quotes, and ':' or ',' */
	char *text = sl_xmalloc(n + 1), *p = text;
	*p++ = '{';
	for (size_t i = 0; i < fields->elements; i++) {
		const redisReply *r = fields->element[i];
		if (i > 0)
			*p++ = i % 2 ? ':' : ',';
		*p++ = '"';
		memcpy(p, r->str, r->len);
		p += r->len;
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	*len = (size_t)(p - text);
	return text;
}

/* The value of field `name` of plain fields (the names do not repeat) as a new string, or NULL. */
static char *plain_field_value(const redisReply *fields, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < fields->elements; i += 2)
		if (fields->element[i]->len == len && memcmp(fields->element[i]->str, name, len) == 0)
			return sl_xstrndup(fields->element[i + 1]->str, fields->element[i + 1]->len);
	return NULL;
}

/* The entry's fields as JSON text (a new buffer, *len its length), and in *key a copy of the
 * value of field key_field (NULL when key_field is NULL or the entry lacks it); NULL unless the
 * fields reply is an array of string pairs. */
static char *fields_text(const redisReply *fields, const char *key_field, size_t *len,
			 char **key)
{
	*key = NULL;
	if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0)
		return NULL;
	for (size_t i = 0; i < fields->elements; i++)
		if (fields->element[i]->type != REDIS_REPLY_STRING)
			return NULL;
	if (plain_fields(fields)) {
		*key = key_field ? plain_field_value(fields, key_field) : NULL;
		return plain_fields_text(fields, len);
	}
	json_t *obj = fields_object(fields);
	const char *value = key_field ? json_string_value(json_object_get(obj, key_field)) : NULL;
	*key = value ? sl_xstrdup(value) : NULL;
	char *text = sl_check_alloc(json_dumps(obj, JSON_COMPACT));
	json_decref(obj);
	*len = strlen(text);
	return text;
}

struct sl_event *redis_stream_entry_event(const redisReply *entry, const char *source_name,
					  const char *ce_source, const char *stream,
					  const char *key_field)
{
	const char *id = redis_stream_entry_id(entry);
	size_t text_len;
	char *key_text;
	char *text = id ? fields_text(entry->element[1], key_field, &text_len, &key_text) : NULL;

	if (!text)
		return NULL;
	char stack_id[256];
	int id_len = sl_event_format_id(stack_id, sizeof(stack_id), source_name, stream, id);
	char *event_id = (size_t)id_len < sizeof(stack_id)
		? stack_id : sl_event_id_from_position(source_name, stream, id);
	struct sl_event *ev = sl_event_new();

	sl_event_set_packed(ev, (char **const[]){ &ev->id, &ev->source, &ev->type, &ev->subject,
						  &ev->datacontenttype, &ev->partitionkey,
						  &ev->sequence, &ev->partition, &ev->position },
			    (const char *const[]){ event_id, ce_source, "sluice.redis_stream.entry",
						   stream, "application/json",
						   key_text ? key_text : stream, id, stream, id },
			    9, NULL, 0);
	sl_event_take_data_text(ev, text, text_len);
	ev->received_ms = ev->time_ms = strtoll(id, NULL, 10);
	if (event_id != stack_id)
		free(event_id);
	free(key_text);
	return ev;
}
