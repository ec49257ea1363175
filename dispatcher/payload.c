/* Payload encoding per format and source kind; see payload.h. */
#include "dispatcher/payload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/mem.h"
#include "dispatcher/payload_internal.h"

/* The aws shapes of the stream and queue kinds, which hold any number of events. */
static bool aws_batch_shape(enum sl_source_kind kind)
{
	return kind == SL_SOURCE_KAFKA || kind == SL_SOURCE_REDIS_STREAM ||
	       kind == SL_SOURCE_REDIS_QUEUE;
}

size_t sl_payload_max_batch(enum sl_payload_format fmt, enum sl_source_kind kind)
{
	return fmt == SL_PAYLOAD_INVOCATION || (fmt == SL_PAYLOAD_AWS && kind == SL_SOURCE_SCHEDULE)
		? 1 : 0;
}

int sl_payload_supported(enum sl_payload_format fmt, enum sl_source_kind kind)
{
	if (fmt == SL_PAYLOAD_CLOUDEVENTS || fmt == SL_PAYLOAD_INVOCATION)
		return 0;
	if (fmt == SL_PAYLOAD_AWS && (kind == SL_SOURCE_SCHEDULE || aws_batch_shape(kind)))
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
	case SL_SOURCE_KAFKA: return "kafka";
	case SL_SOURCE_REDIS_STREAM: return "redis_stream";
	case SL_SOURCE_REDIS_QUEUE: return "redis_queue";
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
	if (ev->data_bytes || ev->data_text) {
		*len = ev->data_bytes ? ev->data_len : ev->data_text_len;
		*out = dup_bytes(ev->data_bytes ? (const void *)ev->data_bytes : ev->data_text, *len);
		return 0;
	}
	if (!ev->data) {
		*len = 4;
		*out = dup_bytes("null", 4);
		return 0;
	}
	return encode_json(ev->data, out, len);
}

/* One event as a structured CloudEvent. Data kept as text is written as it is, after the
 * attributes jansson wrote (their closing brace reopened), instead of being parsed again. */
static int append_cloudevent(struct pl_out *o, const struct sl_event *ev)
{
	json_t *obj = ev->data_text ? sl_event_attributes(ev) : sl_event_to_cloudevent(ev);
	int rc = obj ? pl_json(o, obj) : -EINVAL;

	json_decref(obj);
	if (rc < 0)
		return rc;
	if (ev->data_text) {
		o->len--;                 /* the attributes' '}': never empty (id, source, ...) */
		pl_lit(o, ",\"data\":");
		pl_put(o, ev->data_text, ev->data_text_len);
		pl_lit(o, "}");
	}
	return 0;
}

static int encode_cloudevents(struct pl_out *o, const struct sl_event *const *evs, size_t n)
{
	int rc = 0;

	pl_lit(o, "[");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i)
			pl_lit(o, ",");
		rc = append_cloudevent(o, evs[i]);
	}
	pl_lit(o, "]");
	return rc;
}

/* The batch in the format and shape (fmt, src->kind), which sl_payload_supported accepts. */
static int write_batch(struct pl_out *o, enum sl_payload_format fmt,
		       const struct sl_source_config *src, const struct sl_event *const *evs,
		       size_t n)
{
	if (fmt == SL_PAYLOAD_CLOUDEVENTS)
		return encode_cloudevents(o, evs, n);
	switch (src->kind) {
	case SL_SOURCE_KAFKA: return pl_kafka(o, src, evs, n);
	case SL_SOURCE_REDIS_STREAM: return pl_kinesis(o, evs, n);
	case SL_SOURCE_REDIS_QUEUE: return pl_sqs(o, src, evs, n);
	default: return -ENOTSUP;
	}
}

int sl_payload_encode(enum sl_payload_format fmt, const struct sl_source_config *src,
		      const struct sl_event *const *evs, size_t n, char **out, size_t *len)
{
	int rc = sl_payload_supported(fmt, src->kind);
	if (rc)
		return rc;
	if (sl_payload_max_batch(fmt, src->kind) == 1) {   /* one event: its data verbatim */
		if (n != 1)
			return -EINVAL;
		return encode_data(evs[0], out, len);
	}
	struct pl_out o = { 0 };
	rc = write_batch(&o, fmt, src, evs, n);
	if (rc == 0 && o.invalid)
		rc = -EINVAL;
	if (rc < 0) {
		free(o.p);
		return rc;
	}
	*out = o.p;
	*len = o.len;
	return 0;
}
