/* Trigger outcomes: the one place where the fate of a batch is decided; see trigger.h.
 *
 * A batch resolves piece by piece (trigger_internal.h); every outcome concerns the current piece:
 *   TR_START           -> an event over max_batch_bytes, or one the payload format cannot
 *                         encode, is given up on at once (EventNotDeliverable); events past
 *                         max_record_age_s are cut off and given up on (RecordAgeExceeded);
 *                         the rest is encoded and invoked; while the trigger drains, the
 *                         batch is abandoned instead (its unresolved events are redelivered)
 *   TR_INVOKED         -> the response decides (report_batch_item_failures): all done; or the
 *                         listed events failed (ordered sources: from the first listed one on)
 *                         and the others are done; or an invalid answer fails the whole piece.
 *                         What succeeded is recorded in on_success (when set) before it is
 *                         done; what failed is then handled as a failure (not bisected).
 *   TR_INVOKE_FAILED   -> bisect (a function failure, more than one event, bisect_on_error):
 *                         the piece becomes its two halves, each with its own attempts; else
 *                         retry after backoff while attempts allow (max_retry_attempts, -1: no
 *                         limit), else give up (RetryAttemptsExhausted)
 *   TR_THROTTLED       -> retry after backoff; the function did not run, so, as in Lambda, it
 *                         does not count against max_retry_attempts
 *   TR_EXECUTOR_GONE   -> abandon: events stay uncommitted, redelivered after a restart
 *   TR_STORED          -> the record is durable: a failure record resolves the piece, a success
 *                         record lets its response be applied
 *   TR_STORE_FAILED    -> retry the store after backoff, forever: never drop
 * "Give up" stores one record in the on-failure destination. While the trigger drains, failures
 * are not retried: the batch is abandoned (its events are redelivered after restart). "Done"
 * marks the events in the partition's checkpoint tracker; when its done prefix grows the
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
#include "dispatcher/delivery_record.h"
#include "dispatcher/destination.h"
#include "dispatcher/item_failures.h"
#include "dispatcher/trigger_internal.h"

static void on_timer(evutil_socket_t fd, short what, void *arg);
static void store(struct tr_batch *b);

/* Invokes a piece may have; 0 when only age (or nothing) limits them. */
static unsigned max_attempts(const struct sl_trigger *t)
{
	return t->cfg->max_retry_attempts < 0 ? 0 : (unsigned)t->cfg->max_retry_attempts + 1;
}

static void format_attempt(const struct sl_trigger *t, unsigned attempt, char *buf, size_t len)
{
	if (max_attempts(t))
		snprintf(buf, len, "attempt %u/%u", attempt, max_attempts(t));
	else
		snprintf(buf, len, "attempt %u, no limit", attempt);
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
	if (b->stage == TR_RETRY_WAIT)
		tr_handle(b, TR_START, 0);
	else
		store(b);
}

/* Mark items done in the checkpoint; commit when the done prefix grew. */
static void mark_done(struct tr_batch *b, const struct sl_batch_item *items, size_t n,
		      uint64_t bytes)
{
	struct sl_trigger *t = b->t;
	struct sl_checkpoint *cp = b->lane->part->cp;
	size_t before = sl_checkpoint_outstanding(cp);
	bool grew = false;

	for (size_t i = 0; i < n; i++) {
		if (t->src.done)
			t->src.done(t->src.ctx, items[i].ev);
		grew |= sl_checkpoint_done(cp, items[i].tag) != NULL;
	}
	t->pending -= before - sl_checkpoint_outstanding(cp);
	t->pending_bytes -= bytes;
	b->bytes -= bytes;
	t->stats.events_done += n;
	if (grew && t->src.commit)
		t->src.commit(t->src.ctx, sl_checkpoint_committed(cp));
}

/* The batch has no piece left: free it, let the lane go on. */
static void finish(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	struct tr_lane *lane = b->lane;

	tr_batch_free(b);
	tr_lane_kick(lane);
	tr_after_batch(t);
}

/* The current piece is resolved: its events are done; go on with the next piece, if any. */
static void piece_resolved(struct tr_batch *b)
{
	struct tr_piece *p = tr_current(b);

	mark_done(b, p->b.items, p->b.n, p->b.bytes);
	sl_batch_release(&p->b);
	b->depth--;
	if (b->depth == 0)
		finish(b);
	else
		tr_handle(b, TR_START, 0);
}

void tr_batch_abandon(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;

	if (!t->draining) {
		b->lane->halted = true;
		sl_error(t->tag, "batch of %zu abandoned (%s); its lane stops until restart, which "
			 "redelivers it", tr_current(b)->b.n, b->fail_name ? b->fail_name :
			 "shutdown");
	}
	t->pending_bytes -= b->bytes;
	tr_batch_free(b);
	tr_after_batch(t);
}

static bool recording_success(const struct tr_batch *b)
{
	return strcmp(b->condition, SL_RECORD_SUCCESS) == 0;
}

/* Where the record being stored goes. */
static struct sl_destination *record_destination(const struct tr_batch *b)
{
	return recording_success(b) ? b->t->on_success : b->t->on_failure;
}

static void on_stored(void *arg, int status);

static void store(struct tr_batch *b)
{
	b->stage = TR_STORING;
	b->store_attempts++;
	sl_destination_deliver(record_destination(b), b->record, on_stored, b);
}

static void on_stored(void *arg, int status)
{
	tr_handle(arg, status == 0 ? TR_STORED : TR_STORE_FAILED, status);
}

/* Build the record of the current piece and store it. */
static void store_record(struct tr_batch *b, const char *condition)
{
	struct sl_trigger *t = b->t;
	struct tr_piece *p = tr_current(b);

	tr_batch_refresh_events(b);
	struct sl_record_info ri = {
		.condition = condition,
		.trigger = t->cfg->name,
		.source = t->cfg->source ? t->cfg->source : t->scfg->name,
		.function = t->cfg->function,
		.invoke_count = p->attempts,
		.request_id = p->attempts ? b->request_id : NULL,
		.error_type = b->error_type,
		.error_message = b->error_message,
		.function_error = b->function_error,
		.response = b->response,
		.response_len = b->response_len,
		.invocation = t->cfg->invocation_records,
		.timestamp_ms = sl_wall_ms(),
		.events = b->evs,
		.n = p->b.n,
	};

	json_decref(b->record);
	b->condition = condition;
	b->store_attempts = 0;
	b->record = sl_delivery_record_new(&ri);
	store(b);
}

static void give_up(struct tr_batch *b, const char *condition)
{
	struct sl_trigger *t = b->t;
	struct tr_piece *p = tr_current(b);
	char attempt[48];

	format_attempt(t, p->attempts, attempt, sizeof(attempt));
	if (strcmp(condition, SL_RECORD_AGE_EXCEEDED) == 0)
		sl_error(t->tag, "%zu events older than max_record_age_s %d: record to %s", p->b.n,
			 t->cfg->max_record_age_s, sl_destination_name(t->on_failure));
	else if (p->attempts > 0)
		sl_error(t->tag, "batch of %zu failed: %s (%s), giving up: failure record to %s",
			 p->b.n, b->fail_name, attempt, sl_destination_name(t->on_failure));
	else
		sl_error(t->tag, "batch of %zu cannot be delivered: %s (%s), failure record to %s",
			 p->b.n, b->fail_name, b->error_message,
			 sl_destination_name(t->on_failure));
	store_record(b, condition);
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
	struct tr_piece *p = tr_current(b);
	char when[32], attempt[48];

	format_delay(backoff(b, TR_RETRY_WAIT, p->attempts), when, sizeof(when));
	format_attempt(t, p->attempts, attempt, sizeof(attempt));
	t->stats.retries++;
	sl_warn(t->tag, "batch of %zu failed: %s (%s), retrying in %s", p->b.n, b->fail_name,
		attempt, when);
}

static void retry_throttled(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	struct tr_piece *p = tr_current(b);
	char when[32];

	p->attempts--; /* the invocation never ran */
	p->throttles++;
	format_delay(backoff(b, TR_RETRY_WAIT, p->throttles), when, sizeof(when));
	t->stats.retries++;
	t->stats.throttles++;
	sl_warn(t->tag, "batch of %zu throttled: %s Retrying in %s, not counted as an attempt.",
		p->b.n, b->error_message ? b->error_message : b->fail_name, when);
}

static void retry_store(struct tr_batch *b, int status)
{
	struct sl_trigger *t = b->t;
	char when[32];

	format_delay(backoff(b, TR_STORE_WAIT, b->store_attempts), when, sizeof(when));
	sl_warn(t->tag, "%s record for batch of %zu not stored in %s: %s (try %u), retrying in "
		"%s", b->condition, tr_current(b)->b.n, sl_destination_name(record_destination(b)),
		strerror(status < 0 ? -status : status), b->store_attempts, when);
	tr_note_error(t, "Sluice.DestinationDown", "a record could not be stored");
}

/* Halve the current piece: its first half becomes current, the second follows. */
static void bisect(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	size_t n = tr_current(b)->b.n;

	t->stats.bisections++;
	sl_warn(t->tag, "batch of %zu failed: %s; bisecting into %zu and %zu", n, b->fail_name,
		n / 2, n - n / 2);
	tr_piece_cut(b, n / 2);
	for (size_t i = b->depth - 2; i < b->depth; i++)   /* the halves count their own */
		b->pieces[i].attempts = b->pieces[i].throttles = 0;
	tr_handle(b, TR_START, 0);
}

static void invoke_failed(struct tr_batch *b, bool bisectable)
{
	struct sl_trigger *t = b->t;
	struct tr_piece *p = tr_current(b);

	tr_note_error(t, b->fail_name, b->error_message);
	if (t->draining)
		tr_batch_abandon(b);
	else if (bisectable && t->cfg->bisect_on_error && p->b.n > 1)
		bisect(b);
	else if (!max_attempts(t) || p->attempts < max_attempts(t))
		retry_invoke(b);
	else
		give_up(b, SL_RECORD_RETRIES_EXHAUSTED);
}

/* The oldest events of the current piece past max_record_age_s: how many (a prefix, as events
 * arrive in order). */
static size_t expired_prefix(const struct sl_trigger *t, const struct tr_piece *p)
{
	size_t n = 0;

	if (t->cfg->max_record_age_s <= 0)
		return 0;
	int64_t oldest_ok = sl_wall_ms() - (int64_t)t->cfg->max_record_age_s * 1000;
	while (n < p->b.n && p->b.items[n].ev->received_ms < oldest_ok)
		n++;
	return n;
}

static void start_piece(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	struct tr_piece *p = tr_current(b);
	size_t expired = expired_prefix(t, p);

	if (p->failed) {              /* the rest of a partial answer: a failure like any */
		p->failed = false;
		invoke_failed(b, false);
		return;
	}
	if (p->b.oversized) {
		tr_batch_refresh_events(b);
		tr_batch_set_failure(b, "Sluice.EventTooLarge", false, "event %s is %llu bytes, "
				     "over max_batch_bytes %llu",
				     b->evs[0]->id ? b->evs[0]->id : "(no id)",
				     (unsigned long long)p->b.bytes,
				     (unsigned long long)t->cfg->max_batch_bytes);
		give_up(b, SL_RECORD_NOT_DELIVERABLE);
		return;
	}
	if (expired > 0) {
		if (expired < tr_current(b)->b.n)
			tr_piece_cut(b, expired);
		t->stats.events_expired += expired;
		give_up(b, SL_RECORD_AGE_EXCEEDED);
		return;
	}
	if (tr_batch_encode(b) < 0)
		give_up(b, SL_RECORD_NOT_DELIVERABLE);
	else
		tr_batch_invoke(b);
}

/* Every event of the current piece succeeded: record it (on_success), then resolve it. */
static void succeeded(struct tr_batch *b)
{
	if (b->t->on_success)
		store_record(b, SL_RECORD_SUCCESS);
	else
		piece_resolved(b);
}

/* The function answered. Without report_batch_item_failures that is success; with it, the answer
 * may fail some events (ordered sources: from the first listed one on) or, when invalid, all. */
static void invoked(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	struct tr_piece *p = tr_current(b);
	char why[256];

	t->stats.batches_ok++;
	if (!t->cfg->report_batch_item_failures) {
		succeeded(b);
		return;
	}
	bool *failed = sl_xcalloc(p->b.n, sizeof(*failed));
	enum sl_item_failures verdict = sl_item_failures_parse(b->response, b->response_len, b->evs,
							       p->b.n, failed, why, sizeof(why));
	size_t n = p->b.n, n_failed = 0;
	for (size_t i = 0; i < n; i++) {
		failed[i] |= t->src.ordered && i > 0 && failed[i - 1];
		n_failed += failed[i];
	}
	if (verdict == SL_ITEMS_INVALID) {
		tr_batch_set_failure(b, "Function.InvalidBatchItemFailures", false,
				     "the answer's batchItemFailures is invalid: %s", why);
		invoke_failed(b, true);
	} else if (verdict == SL_ITEMS_SOME_FAILED) {
		t->stats.partial_responses++;
		tr_batch_set_failure(b, "Function.BatchItemFailures", false,
				     "the function reported %zu of %zu events as failed%s", n_failed,
				     n, t->src.ordered ? " (counting from the first it listed)" : "");
		if (n_failed == n) {
			invoke_failed(b, false);
		} else {
			tr_piece_split_failed(b, failed);
			succeeded(b);
		}
	} else {
		succeeded(b);
	}
	free(failed);
}

static void stored(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;

	json_decref(b->record);
	b->record = NULL;
	if (!recording_success(b)) {
		t->stats.batches_failed++;
		t->stats.events_dead_lettered += tr_current(b)->b.n;
	}
	piece_resolved(b);
}

void tr_handle(struct tr_batch *b, enum tr_outcome outcome, int status)
{
	struct sl_trigger *t = b->t;

	if (!t) {                     /* orphaned by sl_trigger_free */
		tr_batch_free(b);
		return;
	}
	switch (outcome) {
	case TR_START:
		if (t->draining)      /* the pieces left wait for the next start */
			tr_batch_abandon(b);
		else
			start_piece(b);
		return;
	case TR_INVOKED:
		invoked(b);
		return;
	case TR_INVOKE_FAILED:
		invoke_failed(b, status != SL_INVOKE_INIT_ERROR && status > 0);
		return;
	case TR_THROTTLED:
		if (t->draining)
			tr_batch_abandon(b);
		else
			retry_throttled(b);
		return;
	case TR_EXECUTOR_GONE:
		tr_batch_abandon(b);
		return;
	case TR_STORED:
		stored(b);
		return;
	case TR_STORE_FAILED:
		if (t->draining)
			tr_batch_abandon(b);
		else
			retry_store(b, status);
		return;
	}
}
