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

char *sl_spool_record_encode(struct sl_event *const *events, size_t n, int64_t received_ms,
			     size_t *len)
{
	json_t *list = sl_check_alloc(json_array());
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, sl_event_to_cloudevent(events[i]));
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
	struct sl_event *ev = sl_event_from_cloudevent(ce, 1, what, sizeof(what));
	if (!ev) {
		snprintf(err, errlen, "events[%zu]: %s", index, what);
		return NULL;
	}
	char *position = sl_xasprintf("%" PRIu64 ".%zu/%zu", seq, index, count);
	free(ev->position);
	ev->position = position;
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
