/* A function's asynchronous invocation queue (InvocationType Event, function destinations).
 *
 * Model. Each function gets an internal http source named "async.<function>" (a name no user
 * entry can have: names have no dots) whose spool holds the accepted invocations, and an
 * internal trigger of the same name that delivers them, one event per invoke, with the event's
 * data as the payload, under the function's async settings: async_max_retry_attempts,
 * async_max_event_age_s, async_retry_base_ms, async_on_success, async_on_failure (default
 * <state_dir>/dead-letter/async.<function>.jsonl), records in Lambda's invocation-record shape.
 * Invocations are independent, so up to min(10, max_concurrency) run at once (events without a
 * key spread over the trigger's lanes). The daemon runs these sources and triggers with its own
 * (start, drain, shutdown, redelivery after a crash are the same).
 */
#ifndef SL_ASYNC_QUEUE_H
#define SL_ASYNC_QUEUE_H

#include <stddef.h>

#include "config/config.h"

/* The CloudEvents type of a queued invocation (the id comes from its spool position). */
#define SL_ASYNC_EVENT_TYPE "sluice.async.invocation"
/* Largest asynchronous invocation payload (Lambda's 1 MB). */
#define SL_ASYNC_MAX_PAYLOAD (1u << 20)

struct sl_source;

struct sl_async_queue_config {
	char *name;                          /* "async.<function>" */
	struct sl_source_config source;
	struct sl_trigger_config trigger;
};

/* Fill q for fn (q is the caller's; the strings are q's own). */
void sl_async_queue_config_init(struct sl_async_queue_config *q,
				const struct sl_function_config *fn);
void sl_async_queue_config_release(struct sl_async_queue_config *q);

/* Queue an invocation of the queue's function with payload[0..len) (JSON, or any bytes): 0 and
 * done(arg, 0) once it is durable (done(arg, -ESHUTDOWN) if the daemon stops first), or a
 * negative errno and no callback (-EMSGSIZE over SL_ASYNC_MAX_PAYLOAD, -ENOSPC spool full,
 * -ESHUTDOWN stopping). */
int sl_async_queue_submit(struct sl_source *queue, const char *payload, size_t len,
			  void (*done)(void *arg, int status), void *arg);

#endif
