/* A function's asynchronous invocation queue; see async_queue.h. */
#include "daemon/async_queue.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"
#include "connectors/http/http_source.h"
#include "core/event.h"
#include "core/mem.h"
#include "dispatcher/trigger.h"

#define ASYNC_MAX_LANES 10              /* parallelization_factor's own limit */
#define ASYNC_RETRY_MAX_MS (5 * 60000)  /* Lambda's longest async backoff */

void sl_async_queue_config_init(struct sl_async_queue_config *q,
				const struct sl_function_config *fn)
{
	memset(q, 0, sizeof(*q));
	q->name = sl_xasprintf("async.%s", fn->name);
	q->source = (struct sl_source_config){
		.name = q->name, .kind = SL_SOURCE_HTTP, .max_body_bytes = SL_ASYNC_MAX_PAYLOAD,
	};
	q->trigger = (struct sl_trigger_config){
		.name = q->name,
		.source = q->name,
		.function = fn->name,
		.enabled = true,
		.payload_format = SL_PAYLOAD_INVOCATION,
		.batch_size = 1,
		.max_batching_window_ms = 0,
		.max_batch_bytes = 6291456,
		.max_retry_attempts = fn->async_max_retry_attempts,
		.max_record_age_s = fn->async_max_event_age_s,
		.retry_base_ms = fn->async_retry_base_ms > 0 ? fn->async_retry_base_ms : 60000,
		.retry_max_ms = ASYNC_RETRY_MAX_MS,
		.parallelization_factor = fn->max_concurrency < ASYNC_MAX_LANES ?
					  (fn->max_concurrency > 0 ? fn->max_concurrency : 1) :
					  ASYNC_MAX_LANES,
		.on_failure = fn->async_on_failure,
		.on_success = fn->async_on_success,
		.invocation_records = true,
	};
	if (q->trigger.retry_max_ms < q->trigger.retry_base_ms)
		q->trigger.retry_max_ms = q->trigger.retry_base_ms;
}

void sl_async_queue_config_release(struct sl_async_queue_config *q)
{
	free(q->name);
	memset(q, 0, sizeof(*q));
}

int sl_async_queue_submit(struct sl_source *queue, const char *payload, size_t len,
			  void (*done)(void *arg, int status), void *arg)
{
	if (len > SL_ASYNC_MAX_PAYLOAD)
		return -EMSGSIZE;
	struct sl_event *ev = sl_event_new();
	json_t *doc = json_loadb(payload, len, JSON_DECODE_ANY, NULL);
	char *source = sl_xasprintf("/sluice/sources/%s", queue->cfg->name);

	sl_event_set(ev, &ev->source, source);
	sl_event_set(ev, &ev->type, SL_ASYNC_EVENT_TYPE);
	if (doc) {
		sl_event_set(ev, &ev->datacontenttype, "application/json");
		sl_event_set_data_json(ev, doc);
	} else {
		sl_event_set_data_bytes(ev, payload, len);
	}
	int rc = sl_http_source_accept(queue, ev, done, arg);
	sl_event_unref(ev);
	free(source);
	return rc;
}
