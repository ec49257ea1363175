/* A trigger: one source feeding one function, with batching, retries and dead letters.
 *
 * Flow. The source offers events in arrival order (sl_trigger_offer). Each event goes to a lane
 * of its source partition (ev->partition): lane = hash(partitionkey) % parallelization (lane 0
 * when there is no key), so events with the same key keep their order, and a batch never mixes
 * partitions (its failure record names one partition and one position range). A lane batches
 * events (batcher.h) until batch_size events, max_batch_bytes of payload, or
 * max_batching_window_ms since the first event of the batch arrived, then invokes the function
 * with the batch (encoded per payload_format, payload.h) and holds further events of that lane
 * until the batch is resolved: no reordering within a lane. For aws payloads of schedule sources
 * the batch size is 1 (EventBridge sends one event per invoke).
 *
 * Outcome, handled in one place: success -> every event of the batch is done. A throttle (no
 * sandbox could be had) -> retried after backoff without counting as an attempt: the function
 * did not run (Lambda's rule). Any failure (function error, timeout, runtime exit, init error,
 * response too large) -> retried after a capped exponential backoff with full jitter
 * (backoff.h), up to max_retry_attempts retries. Then one failure record (failure_record.h:
 * Lambda's destination-record shape: requestContext.condition "RetryAttemptsExhausted",
 * approximateInvokeCount, responseContext, the error, the batch's positions and its events) is
 * written to the on-failure destination, and once it is stored the events are done. A batch that
 * cannot even be encoded is recorded at once (condition "EventNotDeliverable"). A destination
 * that fails keeps the batch and retries it with backoff, forever; nothing is dropped. Each retry
 * is logged: "[trigger:web] batch of 10 failed: Sandbox.Timedout (attempt 2/3), retrying in 1.2 s".
 * If the executor refuses work (-ESHUTDOWN) outside a drain, the batch is abandoned uncommitted
 * and its lane stops (order is kept; a restart redelivers).
 *
 * Checkpoints. Per source partition a checkpoint tracker (checkpoint.h) knows the arrival order of
 * events; when the done prefix grows, the source's commit() is called with the last event of that
 * prefix. The source must then persist that position: everything at or before it is done.
 *
 * Backpressure. A trigger holds at most SL_TRIGGER_MAX_PENDING events (counted from offer until
 * committed, so done events behind a stuck one count) and SL_TRIGGER_MAX_PENDING_BYTES of event
 * bytes (counted until their batch is resolved); past either, sl_trigger_offer refuses with
 * -ENOBUFS and the source must wait for resume(), which comes once both are at or below half.
 *
 * Threads: everything runs on the loop given to sl_trigger_new; callbacks come from that loop.
 */
#ifndef SL_TRIGGER_H
#define SL_TRIGGER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct sl_event;
struct sl_executor;
struct sl_destination;
struct sl_trigger_config;
struct sl_source_config;
struct sl_trigger;

#define SL_TRIGGER_MAX_PENDING 20000
#define SL_TRIGGER_MAX_PENDING_BYTES (64u << 20)

/* What a trigger needs from its source. */
struct sl_trigger_source {
	void *ctx;
	/* Every event of ev's partition up to and including ev is done. ev is borrowed. */
	void (*commit)(void *ctx, const struct sl_event *ev);
	/* Room again after an offer was refused. */
	void (*resume)(void *ctx);
};

/* cfg, source_cfg, ex and on_failure must outlive the trigger. `src` is copied. 0, or -EINVAL
 * (logged) when an argument is missing or the payload format has no shape for the source kind
 * (aws for http sources). */
int sl_trigger_new(struct event_base *base, const struct sl_trigger_config *cfg,
		   const struct sl_source_config *source_cfg, struct sl_executor *ex,
		   struct sl_destination *on_failure, const struct sl_trigger_source *src,
		   struct sl_trigger **out);
/* Offer one event; the trigger takes the reference on success. -ENOBUFS: full, not taken.
 * -ESHUTDOWN: draining, not taken. */
int sl_trigger_offer(struct sl_trigger *t, struct sl_event *ev);
/* Stop starting batches; call done(arg), later on the loop, once nothing is in flight (pending
 * events stay uncommitted and are redelivered after restart). Invocations and failure-record
 * stores in progress are waited for; batches waiting for a retry are abandoned at once, and
 * failures during the drain are not retried. */
void sl_trigger_drain(struct sl_trigger *t, void (*done)(void *arg), void *arg);
/* Free. Drain first: an invocation or store still out is detached and its callback frees it
 * (so the executor and destination must still call back). NULL is a no-op. */
void sl_trigger_free(struct sl_trigger *t);

/* Counters for logs, tests and /metrics. events_done counts events resolved any way
 * (delivered, dead-lettered, or filtered out: no filter matched); batches_ok: batches the
 * function accepted; batches_failed: batches given up on and stored as failure records;
 * retries: invocations retried. */
struct sl_trigger_stats {
	uint64_t events_in, events_done, events_dead_lettered, events_filtered;
	uint64_t batches_ok, batches_failed, retries;
};
void sl_trigger_stats(const struct sl_trigger *t, struct sl_trigger_stats *out);

#endif
