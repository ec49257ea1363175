/* Payload encoding per format and source kind; see payload.h. */
#include "dispatcher/payload.h"

#include <errno.h>
#include <string.h>

#include "core/event.h"
#include "core/mem.h"

size_t sl_payload_max_batch(enum sl_payload_format fmt, enum sl_source_kind kind)
{
	return fmt == SL_PAYLOAD_INVOCATION || (fmt == SL_PAYLOAD_AWS && kind == SL_SOURCE_SCHEDULE)
		? 1 : 0;
}

int sl_payload_supported(enum sl_payload_format fmt, enum sl_source_kind kind)
{
	if (fmt == SL_PAYLOAD_CLOUDEVENTS || fmt == SL_PAYLOAD_INVOCATION)
		return 0;
	if (fmt == SL_PAYLOAD_AWS && kind == SL_SOURCE_SCHEDULE)
		return 0;
	return -ENOTSUP;
}

const char *sl_payload_format_name(enum sl_payload_format fmt)
{
	switch (fmt) {
	case SL_PAYLOAD_AWS: return "aws";
	case SL_PAYLOAD_CLOUDEVENTS: return "cloudevents";
	case SL_PAYLOAD_INVOCATION: return "invocation";
	}
	return "unknown";
}

const char *sl_source_kind_name(enum sl_source_kind kind)
{
	switch (kind) {
	case SL_SOURCE_HTTP: return "http";
	case SL_SOURCE_SCHEDULE: return "schedule";
	}
	return "unknown";
}

json_t *sl_payload_cloudevents(const struct sl_event *const *evs, size_t n)
{
	json_t *arr = sl_check_alloc(json_array());

	for (size_t i = 0; i < n; i++) {
		json_t *ce = sl_event_to_cloudevent(evs[i]);
		if (!ce) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, ce);
	}
	return arr;
}

/* Copy len bytes into a fresh NUL-terminated buffer. */
static char *dup_bytes(const void *p, size_t len)
{
	char *buf = sl_xmalloc(len + 1);

	if (len)
		memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static int encode_json(const json_t *doc, char **out, size_t *len)
{
	char *text = sl_check_alloc(json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY));

	*len = strlen(text);
	*out = dup_bytes(text, *len);   /* jansson's allocator may not be malloc */
	free(text);
	return 0;
}

/* The event's data verbatim: JSON compactly, bytes as they are, no data as null. */
static int encode_data(const struct sl_event *ev, char **out, size_t *len)
{
	if (ev->data_bytes) {
		*len = ev->data_len;
		*out = dup_bytes(ev->data_bytes, ev->data_len);
		return 0;
	}
	if (!ev->data) {
		*len = 4;
		*out = dup_bytes("null", 4);
		return 0;
	}
	return encode_json(ev->data, out, len);
}

int sl_payload_encode(enum sl_payload_format fmt, enum sl_source_kind kind,
		      const struct sl_event *const *evs, size_t n, char **out, size_t *len)
{
	int rc = sl_payload_supported(fmt, kind);
	if (rc)
		return rc;
	if (fmt == SL_PAYLOAD_AWS || fmt == SL_PAYLOAD_INVOCATION) {
		if (n != 1)
			return -EINVAL;
		return encode_data(evs[0], out, len);
	}
	json_t *arr = sl_payload_cloudevents(evs, n);
	if (!arr)
		return -EINVAL;
	rc = encode_json(arr, out, len);
	json_decref(arr);
	return rc;
}
