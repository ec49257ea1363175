/* A trigger: one source feeding one function, with batching, retries and dead letters.
 *
 * Flow. The source offers events in arrival order (sl_trigger_offer). Each event goes to a lane:
 * lane = hash(partitionkey) % parallelization (lane 0 when there is no key), so events with the
 * same key keep their order. A lane batches events until batch_size events, max_batch_bytes of
 * payload, or max_batching_window_ms since the first event of the batch, then invokes the
 * function with the batch (encoded per payload_format) and holds further events of that lane
 * until the batch is resolved: no reordering within a lane.
 *
 * Outcome, handled in one place: success -> every event of the batch is done. Any failure
 * (function error, timeout, runtime exit, init error, throttled) -> retried after a capped
 * exponential backoff with full jitter, up to max_retry_attempts retries; then one failure record
 * (Lambda's destination-record shape: requestContext.condition "RetryAttemptsExhausted",
 * approximateInvokeCount, responseContext, the error, the batch's positions and its events) is
 * written to the on-failure destination, and once it is stored the events are done. A destination
 * that fails keeps the batch and retries it; nothing is dropped.
 *
 * Checkpoints. Per source partition a checkpoint tracker (checkpoint.h) knows the arrival order of
 * events; when the done prefix grows, the source's commit() is called with the last event of that
 * prefix. The source must then persist that position: everything at or before it is done.
 *
 * Backpressure. A trigger holds at most SL_TRIGGER_MAX_PENDING events (and bytes); past that
 * sl_trigger_offer refuses with -ENOBUFS and the source must wait for resume().
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

/* cfg, source_cfg, ex and on_failure must outlive the trigger. `src` is copied. */
int sl_trigger_new(struct event_base *base, const struct sl_trigger_config *cfg,
		   const struct sl_source_config *source_cfg, struct sl_executor *ex,
		   struct sl_destination *on_failure, const struct sl_trigger_source *src,
		   struct sl_trigger **out);
/* Offer one event; the trigger takes the reference on success. -ENOBUFS: full, not taken. */
int sl_trigger_offer(struct sl_trigger *t, struct sl_event *ev);
/* Stop starting batches; call done(arg) once nothing is in flight (pending events stay
 * uncommitted and are redelivered after restart). */
void sl_trigger_drain(struct sl_trigger *t, void (*done)(void *arg), void *arg);
void sl_trigger_free(struct sl_trigger *t);

/* Counters for logs, tests and /metrics. */
struct sl_trigger_stats {
	uint64_t events_in, events_done, events_dead_lettered;
	uint64_t batches_ok, batches_failed, retries;
};
void sl_trigger_stats(const struct sl_trigger *t, struct sl_trigger_stats *out);

#endif
