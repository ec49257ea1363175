/* Trigger lanes: batching, the window timer and invoking; see trigger_internal.h.
 *
 * A lane starts a batch only when it has none out, the trigger is not draining, the trigger is
 * under its max_concurrency (else the lane queues on t->waiting until a batch ends) and the
 * batcher says one is ready; otherwise, while events wait, its window timer is armed for the
 * batcher's deadline. The timer may fire a little early by the loop's clock (libevent computes timeouts
 * from its cached time); then the lane simply re-arms for the rest.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/delivery_record.h"
#include "dispatcher/payload.h"
#include "dispatcher/trigger_internal.h"
#include "executor/executor.h"

static void on_window(evutil_socket_t fd, short what, void *arg)
{
	struct tr_lane *lane = arg;

	(void)fd;
	(void)what;
	lane->armed_deadline = INT64_MAX;
	tr_lane_kick(lane);
}

void tr_lane_init(struct tr_lane *lane, struct sl_trigger *t, struct tr_partition *part,
		  unsigned index)
{
	struct sl_batcher_limits lim = {
		.batch_size = t->batch_size,
		.max_bytes = t->cfg->max_batch_bytes ? t->cfg->max_batch_bytes : 1,
		.window_ms = t->cfg->max_batching_window_ms,
		.max_events = t->max_pending,
	};

	memset(lane, 0, sizeof(*lane));
	lane->t = t;
	lane->part = part;
	lane->index = index;
	sl_batcher_init(&lane->batcher, &lim);
	lane->window = sl_check_alloc(evtimer_new(t->base, on_window, lane));
	lane->armed_deadline = INT64_MAX;
}

void tr_lane_release(struct tr_lane *lane)
{
	event_free(lane->window);
	sl_batcher_release(&lane->batcher);
}

static void arm_window(struct tr_lane *lane, int64_t now)
{
	int64_t deadline = sl_batcher_deadline(&lane->batcher);

	if (deadline == lane->armed_deadline && evtimer_pending(lane->window, NULL))
		return;
	int64_t wait = deadline - now > 0 ? deadline - now : 1;
	struct timeval tv = { .tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000 };
	evtimer_add(lane->window, &tv);
	lane->armed_deadline = deadline;
}

static void start_batch(struct tr_lane *lane, int64_t now);

/* Queue the lane until a batch of the trigger ends (max_concurrency). */
static void wait_for_slot(struct tr_lane *lane)
{
	struct sl_trigger *t = lane->t;

	if (lane->waiting)
		return;
	lane->waiting = true;
	lane->next_waiting = NULL;
	*t->waiting_tail = lane;
	t->waiting_tail = &lane->next_waiting;
}

void tr_lane_kick(struct tr_lane *lane)
{
	struct sl_trigger *t = lane->t;

	if (lane->out || lane->halted || lane->waiting || t->draining)
		return;
	int64_t now = tr_now_ms();
	if (sl_batcher_ready(&lane->batcher, now)) {
		evtimer_del(lane->window);
		lane->armed_deadline = INT64_MAX;
		if (t->cfg->max_concurrency > 0 && t->n_batches >= (size_t)t->cfg->max_concurrency)
			wait_for_slot(lane);
		else
			start_batch(lane, now);
	} else if (sl_batcher_count(&lane->batcher) > 0) {
		arm_window(lane, now);
	}
}

static void link_batch(struct sl_trigger *t, struct tr_batch *b)
{
	b->next = t->batches;
	if (t->batches)
		t->batches->prev = b;
	t->batches = b;
	t->n_batches++;
}

static void start_batch(struct tr_lane *lane, int64_t now)
{
	struct sl_trigger *t = lane->t;
	struct sl_batch taken;

	if (sl_batcher_take(&lane->batcher, now, &taken) < 0)
		return;
	struct tr_batch *b = sl_xcalloc(1, sizeof(*b));
	b->cap = 1;
	b->pieces = sl_xcalloc(b->cap, sizeof(*b->pieces));
	b->pieces[0].b = taken;
	b->depth = 1;
	b->bytes = b->pieces[0].b.bytes;
	b->t = t;
	b->lane = lane;
	link_batch(t, b);
	lane->out = b;
	t->stats.batches_started++;
	tr_handle(b, TR_START, 0);
}

struct tr_piece *tr_current(struct tr_batch *b)
{
	return &b->pieces[b->depth - 1];
}

void tr_batch_refresh_events(struct tr_batch *b)
{
	struct tr_piece *p = tr_current(b);

	free(b->evs);
	b->evs = sl_xcalloc(p->b.n ? p->b.n : 1, sizeof(*b->evs));
	for (size_t i = 0; i < p->b.n; i++)
		b->evs[i] = p->b.items[i].ev;
}

void tr_batch_set_failure(struct tr_batch *b, const char *name, bool function_error,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *message = sl_xvasprintf(fmt, ap);
	va_end(ap);
	free(b->fail_name);
	free(b->error_type);
	free(b->error_message);
	b->fail_name = sl_xstrdup(name);
	b->error_type = sl_xstrdup(name);
	b->error_message = message;
	b->function_error = function_error;
}

int tr_batch_encode(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;
	struct tr_piece *p = tr_current(b);

	tr_batch_refresh_events(b);
	free(b->payload);
	b->payload = NULL;
	int rc = sl_payload_encode(t->cfg->payload_format, t->scfg, b->evs, p->b.n,
				   &b->payload, &b->payload_len);
	if (rc < 0)
		tr_batch_set_failure(b, "Sluice.PayloadEncodingFailed", false,
				     "the batch cannot be encoded as %s: %s",
				     sl_payload_format_name(t->cfg->payload_format), strerror(-rc));
	return rc;
}

static void on_invoke_result(void *arg, const struct sl_invoke_result *res)
{
	struct tr_batch *b = arg;

	free(b->request_id);
	b->request_id = sl_xstrdup(res->request_id);
	if (res->status == SL_INVOKE_OK) {
		free(b->response);
		b->response = sl_xstrndup(res->payload ? res->payload : "", res->payload_len);
		b->response_len = res->payload_len;
		tr_handle(b, TR_INVOKED, 0);
		return;
	}
	free(b->fail_name);
	free(b->error_type);
	free(b->error_message);
	b->fail_name = sl_xstrdup(res->error_type ? res->error_type :
				  sl_record_status_name(res->status));
	sl_record_error_of(res, &b->error_type, &b->error_message);
	b->function_error = res->status != SL_INVOKE_THROTTLED;
	tr_handle(b, res->status == SL_INVOKE_THROTTLED ? TR_THROTTLED : TR_INVOKE_FAILED,
		  (int)res->status);
}

/* The invoker refused to start the invocation. */
static void invoke_refused(struct tr_batch *b, int rc)
{
	struct sl_trigger *t = b->t;

	tr_batch_set_failure(b, rc == -ENOENT ? "Sluice.FunctionNotFound" :
			     rc == -ESHUTDOWN ? "Sluice.ExecutorShutdown" : "Sluice.InvokeRefused",
			     false, "function %s could not be invoked: %s", t->cfg->function,
			     strerror(-rc));
	tr_handle(b, rc == -ESHUTDOWN ? TR_EXECUTOR_GONE : TR_INVOKE_FAILED, rc);
}

void tr_batch_invoke(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;

	b->stage = TR_INVOKING;
	tr_current(b)->attempts++;
	int rc = t->invoker.invoke(t->invoker.ctx, t->cfg->function, b->payload, b->payload_len,
				   NULL, on_invoke_result, b);
	if (rc < 0)
		invoke_refused(b, rc);
}

void tr_batch_free(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;

	if (t) {
		if (b->prev)
			b->prev->next = b->next;
		else
			t->batches = b->next;
		if (b->next)
			b->next->prev = b->prev;
		t->n_batches--;
		if (b->lane && b->lane->out == b)
			b->lane->out = NULL;
	}
	if (b->timer)
		event_free(b->timer);
	for (size_t i = 0; i < b->depth; i++)
		sl_batch_release(&b->pieces[i].b);
	free(b->pieces);
	free(b->evs);
	free(b->payload);
	free(b->request_id);
	free(b->response);
	free(b->fail_name);
	free(b->error_type);
	free(b->error_message);
	json_decref(b->record);
	free(b);
}
