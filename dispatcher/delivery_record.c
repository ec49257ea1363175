/* Delivery record construction; see delivery_record.h for the shape. */
#include "dispatcher/delivery_record.h"
#include "core/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "core/mem.h"
#include "dispatcher/payload.h"
#include "executor/executor.h"

static void set_str(json_t *obj, const char *key, const char *value)
{
	json_object_set_new(obj, key, value ? sl_check_alloc(json_string(value)) : json_null());
}

/* The condition as the record's shape names it (asynchronous invocations say it shorter). */
static const char *condition_name(const struct sl_record_info *ri)
{
	if (ri->invocation && strcmp(ri->condition, SL_RECORD_RETRIES_EXHAUSTED) == 0)
		return SL_RECORD_INVOCATION_RETRIES_EXHAUSTED;
	if (ri->invocation && strcmp(ri->condition, SL_RECORD_AGE_EXCEEDED) == 0)
		return SL_RECORD_INVOCATION_AGE_EXCEEDED;
	return ri->condition;
}

static json_t *request_context(const struct sl_record_info *ri)
{
	json_t *rc = sl_check_alloc(json_object());
	char *arn = sl_xasprintf("%s%s%s", SL_RECORD_FUNCTION_ARN_PREFIX, ri->function,
				 ri->invocation ? ":" SL_RECORD_EXECUTED_VERSION : "");

	set_str(rc, "requestId", ri->request_id);
	set_str(rc, "functionArn", arn);
	set_str(rc, "condition", condition_name(ri));
	json_object_set_new(rc, "approximateInvokeCount", json_integer(ri->invoke_count));
	free(arn);
	return rc;
}

static bool is_success(const struct sl_record_info *ri)
{
	return strcmp(ri->condition, SL_RECORD_SUCCESS) == 0;
}

static json_t *response_context(const struct sl_record_info *ri)
{
	json_t *rc = sl_check_alloc(json_pack("{s:i, s:s}", "statusCode", 200, "executedVersion",
					      SL_RECORD_EXECUTED_VERSION));

	if (!is_success(ri))
		set_str(rc, "functionError", ri->function_error ? SL_RECORD_FUNCTION_ERROR : NULL);
	return rc;
}

/* The response as JSON when it is JSON, else as a string (NULL when it is not text). */
static json_t *response_payload(const struct sl_record_info *ri)
{
	json_t *v = json_loadb(ri->response, ri->response_len, JSON_DECODE_ANY, NULL);

	return v ? v : json_stringn(ri->response, ri->response_len);
}

static json_t *batch_info(const struct sl_record_info *ri)
{
	const struct sl_event *first = ri->events[0], *last = ri->events[ri->n - 1];
	json_t *bi = sl_check_alloc(json_object());

	set_str(bi, "trigger", ri->trigger);
	set_str(bi, "source", ri->source);
	set_str(bi, "function", ri->function);
	set_str(bi, "partition", first->partition);
	set_str(bi, "firstPosition", first->position);
	set_str(bi, "lastPosition", last->position);
	json_object_set_new(bi, "batchSize", json_integer((json_int_t)ri->n));
	set_str(bi, "firstEventId", first->id);
	set_str(bi, "lastEventId", last->id);
	return bi;
}

/* Add "events" when the record stays under the limit with them, else "eventsOmitted". */
static void add_events(json_t *rec, const struct sl_record_info *ri)
{
	json_t *events = sl_payload_cloudevents(ri->events, ri->n);
	if (!events) {
		set_str(rec, "eventsOmitted", "an event of the batch could not be encoded; "
			"read the batch again from the source between firstPosition and lastPosition");
		return;
	}
	size_t without = json_dumpb(rec, NULL, 0, JSON_COMPACT);
	size_t with = json_dumpb(events, NULL, 0, JSON_COMPACT);
	if (without + with + sizeof(",\"events\":") <= SL_RECORD_MAX_BYTES) {
		json_object_set_new(rec, "events", events);
		return;
	}
	char *note = sl_xasprintf("%zu events (%zu bytes) would pass the %u-byte record limit; "
				  "read them again from the source between firstPosition and "
				  "lastPosition", ri->n, with, SL_RECORD_MAX_BYTES);
	set_str(rec, "eventsOmitted", note);
	free(note);
	json_decref(events);
}

/* The data of an event as JSON: its JSON data, its bytes as a string when they are text, else
 * null. New reference. */
static json_t *data_json(const struct sl_event *ev)
{
	json_t *v = sl_event_data_json(ev);

	if (v)
		return v;
	if (ev->data_bytes) {
		v = json_loadb((const char *)ev->data_bytes, ev->data_len, JSON_DECODE_ANY, NULL);
		if (!v)
			v = json_stringn((const char *)ev->data_bytes, ev->data_len);
	}
	return v ? v : json_null();
}

/* Lambda's asynchronous invocation record (§6): the request and the response instead of the
 * batch and the error. */
static json_t *invocation_record(const struct sl_record_info *ri, json_t *rec)
{
	json_t *resp;

	json_object_set_new(rec, "requestPayload", data_json(ri->events[0]));
	if (ri->invoke_count > 0)
		json_object_set_new(rec, "responseContext", response_context(ri));
	if (is_success(ri))
		resp = ri->response ? response_payload(ri) : NULL;
	else
		resp = json_pack("{s:s?, s:s?}", "errorType", ri->error_type, "errorMessage",
				 ri->error_message);
	json_object_set_new(rec, "responsePayload", resp ? resp : json_null());
	return rec;
}

json_t *sl_delivery_record_new(const struct sl_record_info *ri)
{
	json_t *rec = sl_check_alloc(json_object());
	char when[40];

	sl_format_iso8601_ms(ri->timestamp_ms, when, sizeof(when));
	set_str(rec, "version", SL_RECORD_VERSION);
	set_str(rec, "timestamp", when);
	json_object_set_new(rec, "requestContext", request_context(ri));
	if (ri->invocation)
		return invocation_record(ri, rec);
	if (ri->invoke_count > 0 && strcmp(ri->condition, SL_RECORD_AGE_EXCEEDED) != 0)
		json_object_set_new(rec, "responseContext", response_context(ri));
	if (is_success(ri)) {
		json_t *resp = ri->response ? response_payload(ri) : NULL;
		json_object_set_new(rec, "responsePayload", resp ? resp : json_null());
	} else {
		set_str(rec, "errorType", ri->error_type);
		set_str(rec, "errorMessage", ri->error_message);
	}
	json_object_set_new(rec, SL_RECORD_BATCH_INFO_KEY, batch_info(ri));
	add_events(rec, ri);
	return rec;
}

const char *sl_record_status_name(int status)
{
	switch (status) {
	case SL_INVOKE_OK: return "Function.Success";
	case SL_INVOKE_FUNCTION_ERROR: return "Function.Error";
	case SL_INVOKE_TIMEOUT: return "Sandbox.Timedout";
	case SL_INVOKE_RUNTIME_EXIT: return "Runtime.ExitError";
	case SL_INVOKE_INIT_ERROR: return "Runtime.InitError";
	case SL_INVOKE_THROTTLED: return "Sluice.Throttled";
	case SL_INVOKE_TOO_LARGE: return "Function.ResponseSizeTooLarge";
	}
	return "Sluice.Unknown";
}

void sl_record_error_of(const struct sl_invoke_result *res, char **type, char **message)
{
	json_t *doc = NULL;
	const char *t = NULL, *m = NULL;

	if (res->payload && res->payload_len)
		doc = json_loadb(res->payload, res->payload_len, JSON_DECODE_ANY, NULL);
	if (json_is_object(doc)) {
		t = json_string_value(json_object_get(doc, "errorType"));
		m = json_string_value(json_object_get(doc, "errorMessage"));
	}
	if (!t)
		t = res->error_type ? res->error_type : sl_record_status_name(res->status);
	*type = sl_xstrdup(t);
	if (m)
		*message = sl_xstrndup(m, SL_RECORD_MAX_MESSAGE);
	else if (res->payload && res->payload_len)
		*message = sl_xstrndup(res->payload, res->payload_len < SL_RECORD_MAX_MESSAGE ?
				       res->payload_len : SL_RECORD_MAX_MESSAGE);
	else
		*message = sl_xasprintf("the invocation failed with %s and no error body",
					sl_record_status_name(res->status));
	json_decref(doc);
}
