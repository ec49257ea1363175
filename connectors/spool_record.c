/* Push-source spool records; see spool_record.h. */
#include "connectors/spool_record.h"

#include "core/event.h"
#include "core/mem.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An event as the record keeps it: its JSON data as text in "@data". */
static json_t *record_event(const struct sl_event *ev)
{
	if (!ev->data && !ev->data_text)
		return sl_event_to_cloudevent(ev);     /* data_base64, or no data */
	json_t *obj = sl_event_attributes(ev);
	json_t *text;
	if (ev->data_text) {
		text = json_stringn_nocheck(ev->data_text, ev->data_text_len);
	} else {
		char *dumped = sl_check_alloc(json_dumps(ev->data, JSON_COMPACT | JSON_ENCODE_ANY));
		text = json_string_nocheck(dumped);   /* jansson writes UTF-8 */
		free(dumped);
	}
	json_object_set_new(obj, SL_SPOOL_RECORD_DATA_TEXT, sl_check_alloc(text));
	return obj;
}

char *sl_spool_record_encode(struct sl_event *const *events, size_t n, int64_t received_ms,
			     size_t *len)
{
	json_t *list = sl_check_alloc(json_array());
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, record_event(events[i]));
	json_t *rec = json_pack("{s:I, s:o}", "received_ms", (json_int_t)received_ms, "events",
				list);
	char *text = sl_check_alloc(json_dumps(sl_check_alloc(rec), JSON_COMPACT));
	json_decref(rec);
	*len = strlen(text);
	return text;
}

char *sl_spool_record_event_id(const char *source_name, uint64_t seq, size_t index)
{
	char where[48];
	snprintf(where, sizeof(where), "%" PRIu64 ".%zu", seq, index);
	return sl_event_id_from_position(source_name, "", where);
}

static struct sl_event *decode_one(json_t *ce, uint64_t seq, size_t index, size_t count,
				   const char *source_name, int64_t received_ms, char *err,
				   size_t errlen)
{
	char what[256];
	json_t *text = json_incref(json_object_get(ce, SL_SPOOL_RECORD_DATA_TEXT));

	if (text && !json_is_string(text)) {
		snprintf(err, errlen, "events[%zu]: %s is not a string", index,
			 SL_SPOOL_RECORD_DATA_TEXT);
		json_decref(text);
		return NULL;
	}
	json_object_del(ce, SL_SPOOL_RECORD_DATA_TEXT);
	struct sl_event *ev = sl_event_from_cloudevent(ce, 1, what, sizeof(what));
	if (!ev) {
		snprintf(err, errlen, "events[%zu]: %s", index, what);
		json_decref(text);
		return NULL;
	}
	if (text)
		sl_event_set_data_text(ev, json_string_value(text), json_string_length(text));
	json_decref(text);
	char *position = sl_xasprintf("%" PRIu64 ".%zu/%zu", seq, index, count);
	sl_event_set(ev, &ev->position, position);
	free(position);
	if (!ev->id)
		ev->id = sl_spool_record_event_id(source_name, seq, index);
	ev->received_ms = received_ms;
	return ev;
}

int sl_spool_record_decode(const void *data, size_t len, uint64_t seq, const char *source_name,
			   struct sl_event ***events, size_t *n, char *err, size_t errlen)
{
	json_error_t jerr;
	json_int_t received_ms;
	json_t *list;
	json_t *rec = json_loadb(data, len, 0, &jerr);

	if (!rec || json_unpack_ex(rec, &jerr, JSON_STRICT, "{s:I, s:o}", "received_ms",
				   &received_ms, "events", &list) < 0 || !json_is_array(list)) {
		snprintf(err, errlen, "malformed record: %s", jerr.text);
		json_decref(rec);
		return -EINVAL;
	}
	size_t count = json_array_size(list);
	struct sl_event **out = sl_xcalloc(count ? count : 1, sizeof(*out));
	for (size_t i = 0; i < count; i++) {
		out[i] = decode_one(json_array_get(list, i), seq, i, count, source_name,
				    received_ms, err, errlen);
		if (!out[i]) {
			while (i-- > 0)
				sl_event_unref(out[i]);
			free(out);
			json_decref(rec);
			return -EINVAL;
		}
	}
	json_decref(rec);
	*events = out;
	*n = count;
	return 0;
}

int sl_spool_record_position(const char *position, uint64_t *seq, size_t *index, size_t *count)
{
	int used = 0;
	if (sscanf(position, "%" SCNu64 ".%zu/%zu%n", seq, index, count, &used) != 3 ||
	    position[used] != '\0' || *index >= *count)
		return -EINVAL;
	return 0;
}
