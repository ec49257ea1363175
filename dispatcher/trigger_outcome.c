/* Trigger outcomes: the one place where the fate of a batch is decided; see trigger.h.
 *
 *   TR_INVOKED         -> every event done
 *   TR_INVOKE_FAILED   -> retry after backoff while attempts <= max_retry_attempts, else give up
 *   TR_THROTTLED       -> retry after backoff; the function did not run, so, as in Lambda, it
 *                         does not count against max_retry_attempts
 *   TR_UNDELIVERABLE   -> give up at once (retrying cannot help)
 *   TR_EXECUTOR_GONE   -> abandon: events stay uncommitted, redelivered after a restart
 *   TR_STORED          -> the failure record is durable: every event done
 *   TR_STORE_FAILED    -> retry the store after backoff, forever: never drop
 * "Give up" writes one failure record to the on-failure destination. While the trigger drains,
 * failures are not retried: the batch is abandoned (its events are redelivered after restart).
 * "Done" marks the events in the partition's checkpoint tracker; when its done prefix grows the
 * source's commit() is called with the new end of the prefix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/backoff.h"
#include "dispatcher/checkpoint.h"
#include "dispatcher/destination.h"
#include "dispatcher/failure_record.h"
#include "dispatcher/trigger_internal.h"

static void on_timer(evutil_socket_t fd, short what, void *arg);
static void store(struct tr_batch *b);

static unsigned max_attempts(const struct sl_trigger *t)
{
	return (t->cfg->max_retry_attempts > 0 ? (unsigned)t->cfg->max_retry_attempts : 0) + 1;
}

/* Arm the batch's timer for retry number `retry` (1-based); returns the delay. */
static uint64_t backoff(struct tr_batch *b, enum tr_stage stage, unsigned retry)
{
	struct sl_trigger *t = b->t;
	uint64_t base = t->cfg->retry_base_ms > 0 ? (uint64_t)t->cfg->retry_base_ms : 1;
	uint64_t max = t->cfg->retry_max_ms > 0 ? (uint64_t)t->cfg->retry_max_ms : base;
	uint64_t delay = sl_backoff_full_jitter(retry, base, max, t->rnd, t->rnd_arg);
	struct timeval tv = { .tv_sec = (time_t)(delay / 1000),
			      .tv_usec = (suseconds_t)(delay % 1000) * 1000 };

	if (!b->timer)
		b->timer = sl_check_alloc(evtimer_new(t->base, on_timer, b));
	b->stage = stage;
	evtimer_add(b->timer, &tv);
	return delay;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tr_batch *b = arg;

	(void)fd;
	(void)what;
	if (b->stage == TR_RETRY_WAIT) {
		tr_batch_invoke(b);
	} else {
		store(b);
	}
}

/* Every event of the batch is done: checkpoint, commit, next batch. */
static void complete(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	struct tr_lane *lane = b->lane;
	struct sl_checkpoint *cp = lane->part->cp;
	size_t before = sl_checkpoint_outstanding(cp);
	bool grew = false;

	for (size_t i = 0; i < b->b.n; i++)
		grew |= sl_checkpoint_done(cp, b->b.items[i].tag) != NULL;
	t->pending -= before - sl_checkpoint_outstanding(cp);
	t->pending_bytes -= b->b.bytes;
	t->stats.events_done += b->b.n;
	if (grew && t->src.commit)
		t->src.commit(t->src.ctx, sl_checkpoint_committed(cp));
	tr_batch_free(b);
	tr_lane_kick(lane);
	tr_after_batch(t);
}

void tr_batch_abandon(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;

	if (!t->draining) {
		b->lane->halted = true;
		sl_error(t->tag, "batch of %zu abandoned (%s); its lane stops until restart, which "
			 "redelivers it", b->b.n, b->fail_name ? b->fail_name : "shutdown");
	}
	t->pending_bytes -= b->b.bytes;
	tr_batch_free(b);
	tr_after_batch(t);
}

static void on_stored(void *arg, int status);

static void store(struct tr_batch *b)
{
	b->stage = TR_STORING;
	b->store_attempts++;
	sl_destination_deliver(b->t->on_failure, b->record, on_stored, b);
}

static void on_stored(void *arg, int status)
{
	tr_handle(arg, status == 0 ? TR_STORED : TR_STORE_FAILED, status);
}

static void give_up(struct tr_batch *b, const char *condition)
{
	struct sl_trigger *t = b->t;
	struct sl_failure_info fi = {
		.condition = condition,
		.trigger = t->cfg->name,
		.source = t->cfg->source ? t->cfg->source : t->scfg->name,
		.function = t->cfg->function,
		.invoke_count = b->attempts,
		.request_id = b->request_id,
		.error_type = b->error_type,
		.error_message = b->error_message,
		.timestamp_ms = sl_wall_ms(),
		.events = b->evs,
		.n = b->b.n,
	};

	b->condition = condition;
	b->record = sl_failure_record_new(&fi);
	if (b->attempts > 0)
		sl_error(t->tag, "batch of %zu failed: %s (attempt %u/%u), giving up: failure "
			 "record to %s", b->b.n, b->fail_name, b->attempts, max_attempts(t),
			 sl_destination_name(t->on_failure));
	else
		sl_error(t->tag, "batch of %zu cannot be delivered: %s (%s), failure record to %s",
			 b->b.n, b->fail_name, b->error_message, sl_destination_name(t->on_failure));
	store(b);
}

/* "1.2 s", or "40 ms" below a tenth of a second. */
static void format_delay(uint64_t ms, char *buf, size_t len)
{
	if (ms < 100)
		snprintf(buf, len, "%llu ms", (unsigned long long)ms);
	else
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
}

static void retry_invoke(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	char when[32];

	format_delay(backoff(b, TR_RETRY_WAIT, b->attempts), when, sizeof(when));
	t->stats.retries++;
	sl_warn(t->tag, "batch of %zu failed: %s (attempt %u/%u), retrying in %s", b->b.n,
		b->fail_name, b->attempts, max_attempts(t), when);
}

static void retry_throttled(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	char when[32];

	b->attempts--; /* the invocation never ran */
	b->throttles++;
	format_delay(backoff(b, TR_RETRY_WAIT, b->throttles), when, sizeof(when));
	t->stats.retries++;
	sl_warn(t->tag, "batch of %zu throttled: %s Retrying in %s, not counted as an attempt.",
		b->b.n, b->error_message ? b->error_message : b->fail_name, when);
}

static void retry_store(struct tr_batch *b, int status)
{
	struct sl_trigger *t = b->t;
	char when[32];

	format_delay(backoff(b, TR_STORE_WAIT, b->store_attempts), when, sizeof(when));
	sl_warn(t->tag, "failure record for batch of %zu not stored in %s: %s (try %u), "
		"retrying in %s", b->b.n, sl_destination_name(t->on_failure),
		strerror(status < 0 ? -status : status), b->store_attempts, when);
}

void tr_handle(struct tr_batch *b, enum tr_outcome outcome, int status)
{
	struct sl_trigger *t = b->t;

	if (!t) {                     /* orphaned by sl_trigger_free */
		tr_batch_free(b);
		return;
	}
	switch (outcome) {
	case TR_INVOKED:
		t->stats.batches_ok++;
		complete(b);
		return;
	case TR_INVOKE_FAILED:
		if (t->draining)
			tr_batch_abandon(b);
		else if (b->attempts < max_attempts(t))
			retry_invoke(b);
		else
			give_up(b, SL_FAILURE_RETRIES_EXHAUSTED);
		return;
	case TR_THROTTLED:
		if (t->draining)
			tr_batch_abandon(b);
		else
			retry_throttled(b);
		return;
	case TR_UNDELIVERABLE:
		give_up(b, SL_FAILURE_NOT_DELIVERABLE);
		return;
	case TR_EXECUTOR_GONE:
		tr_batch_abandon(b);
		return;
	case TR_STORED:
		t->stats.batches_failed++;
		t->stats.events_dead_lettered += b->b.n;
		complete(b);
		return;
	case TR_STORE_FAILED:
		if (t->draining)
			tr_batch_abandon(b);
		else
			retry_store(b, status);
		return;
	}
}
