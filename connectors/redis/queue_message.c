/* Queue messages as events; see queue_message.h. */
#include "connectors/redis/queue_message.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/event.h"
#include "core/mem.h"

/* The body as data: a JSON string's text when the bytes are UTF-8, else the bytes. */
static void set_body(struct sl_event *ev, const redisReply *body)
{
	json_t *text = json_stringn(body->str, body->len);

	if (!text) {
		sl_event_set(ev, &ev->datacontenttype, "application/octet-stream");
		sl_event_set_data_bytes(ev, body->str, body->len);
		return;
	}
	char *json = sl_check_alloc(json_dumps(text, JSON_ENCODE_ANY | JSON_COMPACT));
	sl_event_set(ev, &ev->datacontenttype, "text/plain; charset=utf-8");
	sl_event_set_data_text(ev, json, strlen(json));
	free(json);
	json_decref(text);
}

struct sl_event *redis_queue_message_event(redisReply *const *m, const char *source_name,
					   const char *queue)
{
	if (m[0]->type != REDIS_REPLY_STRING || m[1]->type != REDIS_REPLY_INTEGER ||
	    m[2]->type != REDIS_REPLY_STRING || m[3]->type != REDIS_REPLY_STRING)
		return NULL;
	const char *id = m[0]->str;
	long long first = strtoll(m[2]->str, NULL, 10);
	char *source = sl_xasprintf("/sluice/sources/%s", source_name);
	char *receipt = sl_xasprintf("%s:%lld", id, m[1]->integer);
	struct sl_event *ev = sl_event_new();

	sl_event_set(ev, &ev->id, id);
	sl_event_set(ev, &ev->source, source);
	sl_event_set(ev, &ev->type, "sluice.redis_queue.message");
	sl_event_set(ev, &ev->subject, queue);
	sl_event_set(ev, &ev->partition, "");
	sl_event_set(ev, &ev->position, id);
	set_body(ev, m[3]);
	ev->received_ms = ev->time_ms = first;
	ev->extensions = sl_check_alloc(json_pack("{s:I, s:I, s:I, s:s}",
		"receivecount", (json_int_t)m[1]->integer, "senttimestamp", (json_int_t)first,
		"firstreceivetime", (json_int_t)first, "receipthandle", receipt));
	free(receipt);
	free(source);
	return ev;
}

long long redis_queue_receive_count(const struct sl_event *ev)
{
	return json_integer_value(json_object_get(ev->extensions, "receivecount"));
}
