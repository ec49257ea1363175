/* Envelope: construction, reference counting, CloudEvents JSON encoding and decoding.
 *
 * Decoding validates what CloudEvents 1.0 requires of the JSON format (reference §8): required
 * attributes present and non-empty, specversion "1.0", attribute names of [a-z0-9]{1,20},
 * extension values scalar, data and data_base64 mutually exclusive, data_base64 valid base64.
 * `null` for an optional attribute means unset. Errors name the attribute and what was expected.
 */
#include "core/event.h"

#include "core/base64.h"
#include "core/clock.h"
#include "core/mem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct string_attr {
	const char *name;
	size_t offset;
	int required;
};

/* The string attributes every event may carry, in encoding order. */
static const struct string_attr string_attrs[] = {
	{ "id", offsetof(struct sl_event, id), 1 },
	{ "source", offsetof(struct sl_event, source), 1 },
	{ "type", offsetof(struct sl_event, type), 1 },
	{ "subject", offsetof(struct sl_event, subject), 0 },
	{ "time", offsetof(struct sl_event, time), 0 },
	{ "datacontenttype", offsetof(struct sl_event, datacontenttype), 0 },
	{ "dataschema", offsetof(struct sl_event, dataschema), 0 },
	{ "partitionkey", offsetof(struct sl_event, partitionkey), 0 },
	{ "sequence", offsetof(struct sl_event, sequence), 0 },
};
#define N_STRING_ATTRS (sizeof(string_attrs) / sizeof(string_attrs[0]))

static char **attr_field(struct sl_event *ev, const struct string_attr *a)
{
	return (char **)((char *)ev + a->offset);
}

static const char *attr_value(const struct sl_event *ev, const struct string_attr *a)
{
	return *(char *const *)((const char *)ev + a->offset);
}

/* What partition and position point at until set: not freed. */
static char no_string[] = "";

/* A string field that has an allocation of its own (not the shared `strings`, not no_string). */
static bool owned(const struct sl_event *ev, const char *p)
{
	return p && p != no_string &&
	       !(ev->strings && p >= ev->strings && p < ev->strings + ev->strings_len);
}

struct sl_event *sl_event_new(void)
{
	struct sl_event *ev = sl_xcalloc(1, sizeof(*ev));
	ev->refs = 1;
	ev->partition = no_string;
	ev->position = no_string;
	return ev;
}

struct sl_event *sl_event_ref(struct sl_event *ev)
{
	__atomic_add_fetch(&ev->refs, 1, __ATOMIC_RELAXED);
	return ev;
}

void sl_event_unref(struct sl_event *ev)
{
	if (!ev || __atomic_sub_fetch(&ev->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < N_STRING_ATTRS; i++)
		if (owned(ev, *attr_field(ev, &string_attrs[i])))
			free(*attr_field(ev, &string_attrs[i]));
	if (owned(ev, ev->partition))
		free(ev->partition);
	if (owned(ev, ev->position))
		free(ev->position);
	if (owned(ev, (const char *)ev->data_bytes))
		free(ev->data_bytes);
	free(ev->strings);
	json_decref(ev->extensions);
	json_decref(ev->data);
	free(ev->data_text);
	free(ev);
}

void sl_event_set(struct sl_event *ev, char **field, const char *value)
{
	char *copy = sl_xstrdup(value);

	if (owned(ev, *field))
		free(*field);
	*field = copy;
}

static void clear_data(struct sl_event *ev)
{
	json_decref(ev->data);
	ev->data = NULL;
	free(ev->data_text);
	ev->data_text = NULL;
	ev->data_text_len = 0;
	if (owned(ev, (const char *)ev->data_bytes))
		free(ev->data_bytes);
	ev->data_bytes = NULL;
	ev->data_len = 0;
}

void sl_event_set_packed(struct sl_event *ev, char **const *fields, const char *const *values,
			 size_t n, const void *bytes, size_t bytes_len)
{
	size_t total = bytes ? bytes_len : 0;

	for (size_t i = 0; i < n; i++)
		total += values[i] ? strlen(values[i]) + 1 : 0;
	if (total == 0 && !bytes)
		return;
	char *p = ev->strings = sl_xmalloc(total ? total : 1);
	ev->strings_len = total ? total : 1;
	for (size_t i = 0; i < n; i++) {
		if (!values[i])
			continue;
		size_t len = strlen(values[i]) + 1;
		if (owned(ev, *fields[i]))
			free(*fields[i]);
		*fields[i] = memcpy(p, values[i], len);
		p += len;
	}
	if (bytes) {
		clear_data(ev);
		ev->data_bytes = memcpy(p, bytes, bytes_len);
		ev->data_len = bytes_len;
	}
}

void sl_event_set_data_json(struct sl_event *ev, json_t *data)
{
	clear_data(ev);
	ev->data = data;
}

void sl_event_set_data_bytes(struct sl_event *ev, const void *bytes, size_t len)
{
	unsigned char *copy = sl_xmalloc(len ? len : 1);

	memcpy(copy, bytes, len);
	clear_data(ev);
	ev->data_bytes = copy;
	ev->data_len = len;
}

void sl_event_set_data_text(struct sl_event *ev, const char *text, size_t len)
{
	sl_event_take_data_text(ev, sl_xstrndup(text, len), len);
}

void sl_event_take_data_text(struct sl_event *ev, char *text, size_t len)
{
	clear_data(ev);
	ev->data_text = text;
	ev->data_text_len = len;
}

json_t *sl_event_data_json(const struct sl_event *ev)
{
	if (ev->data)
		return json_incref(ev->data);
	if (ev->data_text)
		return json_loadb(ev->data_text, ev->data_text_len, JSON_DECODE_ANY, NULL);
	return NULL;
}

int sl_event_format_id(char *buf, size_t len, const char *source, const char *partition,
		       const char *position)
{
	const char *parts[] = { source, ":", partition, ":", position };
	size_t at = 0;

	for (size_t i = 0; i < 5; i++) {
		if ((i == 2 || i == 3) && (!partition || !*partition))
			continue;
		size_t n = strlen(parts[i]);
		if (at < len)
			memcpy(buf + at, parts[i], at + n < len ? n : len - at);
		at += n;
	}
	if (len)
		buf[at < len ? at : len - 1] = '\0';
	return (int)at;
}

char *sl_event_id_from_position(const char *source, const char *partition, const char *position)
{
	size_t len = (size_t)sl_event_format_id(NULL, 0, source, partition, position) + 1;
	char *id = sl_xmalloc(len);

	sl_event_format_id(id, len, source, partition, position);
	return id;
}

int64_t sl_event_time_ms(const struct sl_event *ev)
{
	int64_t ms;

	if (ev->time && sl_parse_iso8601_ms(ev->time, &ms) == 0)
		return ms;
	return !ev->time && ev->time_ms ? ev->time_ms : ev->received_ms;
}

json_t *sl_event_attributes(const struct sl_event *ev)
{
	json_t *obj = sl_check_alloc(json_object());
	char when[32];

	json_object_set_new(obj, "specversion", json_string("1.0"));
	for (size_t i = 0; i < N_STRING_ATTRS; i++) {
		const char *v = attr_value(ev, &string_attrs[i]);
		if (!v && string_attrs[i].offset == offsetof(struct sl_event, time) && ev->time_ms) {
			sl_format_iso8601_ms(ev->time_ms, when, sizeof(when));
			v = when;
		}
		if (v)
			json_object_set_new(obj, string_attrs[i].name, sl_check_alloc(json_string(v)));
	}
	if (ev->extensions)
		json_object_update(obj, ev->extensions);
	return obj;
}

json_t *sl_event_to_cloudevent(const struct sl_event *ev)
{
	json_t *obj = sl_event_attributes(ev);
	json_t *data = sl_event_data_json(ev);

	if (data) {
		json_object_set_new(obj, "data", data);
	} else if (ev->data_bytes) {
		char *b64 = sl_base64_encode(ev->data_bytes, ev->data_len);
		json_object_set_new(obj, "data_base64", sl_check_alloc(json_string(b64)));
		free(b64);
	}
	return obj;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int valid_attr_name(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

static const struct string_attr *find_string_attr(const char *name)
{
	for (size_t i = 0; i < N_STRING_ATTRS; i++)
		if (strcmp(string_attrs[i].name, name) == 0)
			return &string_attrs[i];
	return NULL;
}

/* The string attributes of an event being decoded, borrowed from its JSON until packed. */
struct found_strings {
	const char *value[N_STRING_ATTRS];
	size_t len[N_STRING_ATTRS];
};

static int decode_string_attr(struct found_strings *found, const struct string_attr *a,
			      json_t *v, char *err, size_t errlen)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		set_err(err, errlen, "%s: expected a non-empty string", a->name);
		return -EINVAL;
	}
	found->value[a - string_attrs] = json_string_value(v);
	found->len[a - string_attrs] = strlen(json_string_value(v));
	return 0;
}

/* Copy the found strings into one allocation the fields point into. */
static void pack_strings(struct sl_event *ev, const struct found_strings *found)
{
	size_t total = 0;

	for (size_t i = 0; i < N_STRING_ATTRS; i++)
		if (found->value[i])
			total += found->len[i] + 1;
	if (total == 0)
		return;
	char *p = ev->strings = sl_xmalloc(total);
	ev->strings_len = total;
	for (size_t i = 0; i < N_STRING_ATTRS; i++) {
		if (!found->value[i])
			continue;
		memcpy(p, found->value[i], found->len[i] + 1);
		*attr_field(ev, &string_attrs[i]) = p;
		p += found->len[i] + 1;
	}
}

static int decode_data_base64(struct sl_event *ev, json_t *v, char *err, size_t errlen)
{
	unsigned char *bytes;
	size_t len;

	if (!json_is_string(v) ||
	    sl_base64_decode(json_string_value(v), json_string_length(v), &bytes, &len) < 0) {
		set_err(err, errlen, "data_base64: expected a base64 string");
		return -EINVAL;
	}
	free(ev->data_bytes);
	ev->data_bytes = bytes;
	ev->data_len = len;
	return 0;
}

static int decode_extension(struct sl_event *ev, const char *name, json_t *v, char *err,
			    size_t errlen)
{
	if (!valid_attr_name(name)) {
		set_err(err, errlen, "%s: attribute names must be 1-20 characters of a-z and 0-9",
			name);
		return -EINVAL;
	}
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v) && !json_is_integer(v) && !json_is_boolean(v)) {
		set_err(err, errlen, "%s: expected a string, integer or boolean attribute value",
			name);
		return -EINVAL;
	}
	if (!ev->extensions)
		ev->extensions = sl_check_alloc(json_object());
	json_object_set(ev->extensions, name, v);
	return 0;
}

static int decode_member(struct sl_event *ev, struct found_strings *found, const char *key,
			 json_t *v, char *err, size_t errlen)
{
	const struct string_attr *a = find_string_attr(key);

	if (a)
		return decode_string_attr(found, a, v, err, errlen);
	if (strcmp(key, "specversion") == 0) {
		if (json_is_string(v) && strcmp(json_string_value(v), "1.0") == 0)
			return 0;
		set_err(err, errlen, "specversion: expected \"1.0\"");
		return -EINVAL;
	}
	if (strcmp(key, "data") == 0) {
		sl_event_set_data_json(ev, json_incref(v));
		return 0;
	}
	if (strcmp(key, "data_base64") == 0)
		return decode_data_base64(ev, v, err, errlen);
	return decode_extension(ev, key, v, err, errlen);
}

static int check_required(const struct sl_event *ev, const json_t *obj, int allow_missing_id,
			  char *err, size_t errlen)
{
	if (!json_object_get(obj, "specversion")) {
		set_err(err, errlen, "specversion: required attribute missing");
		return -EINVAL;
	}
	for (size_t i = 0; i < N_STRING_ATTRS; i++) {
		const struct string_attr *a = &string_attrs[i];
		if (!a->required || attr_value(ev, a))
			continue;
		if (allow_missing_id && a->offset == offsetof(struct sl_event, id))
			continue;
		set_err(err, errlen, "%s: required attribute missing", a->name);
		return -EINVAL;
	}
	if (json_object_get(obj, "data") && json_object_get(obj, "data_base64")) {
		set_err(err, errlen, "data: data and data_base64 are mutually exclusive");
		return -EINVAL;
	}
	return 0;
}

struct sl_event *sl_event_from_cloudevent(const json_t *obj, int allow_missing_id, char *err,
					   size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		set_err(err, errlen, "event: expected a JSON object");
		return NULL;
	}
	struct sl_event *ev = sl_event_new();
	struct found_strings found = { 0 };
	json_object_foreach((json_t *)obj, key, v) {
		if (decode_member(ev, &found, key, v, err, errlen) < 0)
			goto fail;
	}
	pack_strings(ev, &found);
	if (check_required(ev, obj, allow_missing_id, err, errlen) < 0)
		goto fail;
	return ev;
fail:
	sl_event_unref(ev);
	return NULL;
}

static size_t digits(json_int_t v)
{
	size_t n = v < 0 ? 2 : 1;

	for (v = v < 0 ? -(v / 10) : v / 10; v; v /= 10)
		n++;
	return n;
}

/* A string's compact JSON length: quotes, and escapes (\" \\ \b \f \n \r \t; \u00XX for other
 * controls). */
static size_t string_size(const char *s, size_t len)
{
	size_t size = len + 2;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
		    c == '\t')
			size += 1;
		else if (c < 0x20)
			size += 5;
	}
	return size;
}

/* The compact JSON length of v, without encoding it (reals are counted as 24 characters, the
 * longest %.17g gives). Objects are walked, which jansson's own encoder does too. */
static size_t json_size(const json_t *v)
{
	size_t size = 2, i;
	const char *key;
	const json_t *item;

	switch (json_typeof(v)) {
	case JSON_OBJECT:             /* {"k":v,"k":v} */
		json_object_foreach((json_t *)v, key, item)
			size += string_size(key, strlen(key)) + 1 + json_size(item) + 1;
		return json_object_size(v) ? size - 1 : size;
	case JSON_ARRAY:              /* [v,v] */
		json_array_foreach(v, i, item)
			size += json_size(item) + 1;
		return json_array_size(v) ? size - 1 : size;
	case JSON_STRING:
		return string_size(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return digits(json_integer_value(v));
	case JSON_REAL:
		return 24;
	case JSON_TRUE:
	case JSON_NULL:
		return 4;
	case JSON_FALSE:
		return 5;
	}
	return 4;
}

size_t sl_event_size(const struct sl_event *ev)
{
	size_t size = 64;

	for (size_t i = 0; i < N_STRING_ATTRS; i++) {
		const char *v = attr_value(ev, &string_attrs[i]);
		if (v)
			size += strlen(string_attrs[i].name) + strlen(v) + 6;
	}
	if (!ev->time && ev->time_ms)
		size += sizeof("\"time\":\"2026-11-24T10:00:00.123Z\",");
	if (ev->extensions)
		size += json_size(ev->extensions);
	if (ev->data)
		size += json_size(ev->data);
	else if (ev->data_text)
		size += ev->data_text_len;
	else if (ev->data_bytes)
		size += 4 * ((ev->data_len + 2) / 3);
	return size;
}
