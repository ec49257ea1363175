/* A trigger: one source feeding one function, with batching, retries and dead letters.
 *
 * Flow. The source offers events in arrival order (sl_trigger_offer). Events no filter matches
 * are done at once. Each other event goes to a lane of its source partition (ev->partition):
 * lane = hash(partitionkey) % parallelization_factor (without a key: lane 0 for ordered sources,
 * the lanes in turn for queue-like ones), so events with the same key keep their order, and a batch never mixes partitions (its records name one
 * partition and one position range). A lane batches events (batcher.h) until batch_size events,
 * max_batch_bytes of payload, or max_batching_window_ms since the first event of the batch
 * arrived, then invokes the function with the batch (encoded per payload_format, payload.h) and
 * holds further events of that lane until the batch is resolved: no reordering within a lane.
 * At most max_concurrency batches of the trigger are out at once (lanes wait their turn, oldest
 * first). For aws payloads of schedule sources the batch size is 1 (EventBridge sends one event
 * per invoke).
 *
 * Outcomes are decided in one place (trigger_outcome.c): success; function error, timeout,
 * runtime crash, init error or an over-large response (retried with capped exponential backoff
 * and full jitter, up to max_retry_attempts, -1 meaning no limit; with bisect_on_error a failed
 * batch is first halved, recursively, so one bad event is isolated); throttled (no sandbox: retried,
 * not counted as an attempt, as Lambda does); partial batch responses
 * (report_batch_item_failures, item_failures.h); events older than max_record_age_s; an event
 * over max_batch_bytes. What is given up on becomes one record (delivery_record.h) in the
 * on-failure destination, and counts as done once that is stored; with on_success, what
 * succeeded is recorded there before it counts as done. A destination that fails keeps the
 * events and is retried with backoff, forever: nothing is dropped. Each retry is logged:
 * "[trigger:web] batch of 10 failed: Sandbox.Timedout (attempt 2/3), retrying in 1.2 s".
 * If the invoker refuses work (-ESHUTDOWN) outside a drain, the batch is abandoned uncommitted
 * and its lane stops (order is kept; a restart redelivers).
 *
 * Checkpoints. Per source partition a checkpoint tracker (checkpoint.h) knows the arrival order of
 * events; when the done prefix grows, the source's commit() is called with the last event of that
 * prefix. The source must then persist that position: everything at or before it is done.
 *
 * Backpressure. A trigger holds at most max_pending_events events (counted from offer until
 * committed, so done events behind a stuck one count) and max_pending_bytes of event bytes
 * (counted until resolved); past either, sl_trigger_offer refuses with -ENOBUFS and the source
 * must wait for resume(), which comes once both are at or below half.
 *
 * Threads: everything runs on the loop given to sl_trigger_new; callbacks come from that loop.
 */
#ifndef SL_TRIGGER_H
#define SL_TRIGGER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "executor/executor.h"

struct event_base;
struct sl_event;
struct sl_destination;
struct sl_trigger_config;
struct sl_source_config;
struct sl_trigger;

/* Intake bounds when the config leaves them 0 (hand-built configs in tests). */
#define SL_TRIGGER_DEFAULT_MAX_PENDING 20000
#define SL_TRIGGER_DEFAULT_MAX_PENDING_BYTES (64u << 20)

/* What a trigger needs from its source. */
struct sl_trigger_source {
	void *ctx;
	/* The source's order matters beyond each batch (a stream: Kafka partition, Redis stream,
	 * change log): when a function fails some events of a batch, everything from the first
	 * failed one on is retried. False for queue-like sources (http requests, queue messages):
	 * only the failed events are retried. */
	bool ordered;
	/* Every event of ev's partition up to and including ev is done. ev is borrowed. */
	void (*commit)(void *ctx, const struct sl_event *ev);
	/* Optional: ev alone is done (delivered, dead-lettered or filtered out), whatever came
	 * before it; called before the commit it may allow. Queue sources delete it at once. */
	void (*done)(void *ctx, const struct sl_event *ev);
	/* Room again after an offer was refused. */
	void (*resume)(void *ctx);
};

/* What a trigger is connected to. */
struct sl_trigger_links {
	struct sl_invoker invoker;          /* runs the batches (sl_executor_invoker) */
	struct sl_destination *on_failure;  /* required */
	struct sl_destination *on_success;  /* or NULL */
	struct sl_trigger_source src;
};

/* cfg, source_cfg, the invoker's context and the destinations must outlive the trigger; links
 * is copied. 0, or -EINVAL (logged) when something is missing or the payload format has no
 * shape for the source kind (aws for http sources). */
int sl_trigger_new(struct event_base *base, const struct sl_trigger_config *cfg,
		   const struct sl_source_config *source_cfg, const struct sl_trigger_links *links,
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

/* Counters for logs, tests, status and /metrics. events_done counts events resolved any way
 * (delivered, dead-lettered, or filtered out: no filter matched); events_expired: dead-lettered
 * for max_record_age_s; batches_started: batches taken from lanes; batches_ok: invocations the
 * function answered; batches_failed: pieces given up on and stored as failure records; retries:
 * invocations retried (throttles included); bisections: batches halved; partial_responses:
 * answers that failed some of their events. */
struct sl_trigger_stats {
	uint64_t events_in, events_done, events_dead_lettered, events_filtered, events_expired;
	uint64_t batches_started, batches_ok, batches_failed, retries, throttles, bisections;
	uint64_t partial_responses;
};
void sl_trigger_stats(const struct sl_trigger *t, struct sl_trigger_stats *out);

/* The trigger's state for `sluice status` (new reference): name, function, on_failure and
 * on_success (destination names), state (running,
 * draining), pending_events/bytes, in_flight_batches, batches_waiting_for_concurrency,
 * source_paused, last_error, counters (the stats above), and per partition its
 * committed_position, uncommitted and queued events and the batches in flight (events, stage,
 * attempts, positions, last error). */
json_t *sl_trigger_status(struct sl_trigger *t);

#endif
