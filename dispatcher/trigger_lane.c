/* Trigger lanes: batching, the window timer and invoking; see trigger_internal.h.
 *
 * A lane starts a batch only when it has none out, the trigger is not draining and the batcher
 * says one is ready; otherwise, while events wait, its window timer is armed for the batcher's
 * deadline. The timer may fire a little early by the loop's clock (libevent computes timeouts
 * from its cached time); then the lane simply re-arms for the rest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/failure_record.h"
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
		.max_events = SL_TRIGGER_MAX_PENDING,
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

void tr_lane_kick(struct tr_lane *lane)
{
	struct sl_trigger *t = lane->t;

	if (lane->out || lane->halted || t->draining)
		return;
	int64_t now = tr_now_ms();
	if (sl_batcher_ready(&lane->batcher, now)) {
		evtimer_del(lane->window);
		lane->armed_deadline = INT64_MAX;
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
	struct tr_batch *b = sl_xcalloc(1, sizeof(*b));

	if (sl_batcher_take(&lane->batcher, now, &b->b) < 0) {
		free(b);
		return;
	}
	b->t = t;
	b->lane = lane;
	b->evs = sl_xcalloc(b->b.n, sizeof(*b->evs));
	for (size_t i = 0; i < b->b.n; i++)
		b->evs[i] = b->b.items[i].ev;
	link_batch(t, b);
	lane->out = b;
	if (b->b.oversized)
		sl_warn(t->tag, "event %s is %llu bytes, over max_batch_bytes %llu: sent alone",
			b->evs[0]->id ? b->evs[0]->id : "(no id)", (unsigned long long)b->b.bytes,
			(unsigned long long)t->cfg->max_batch_bytes);

	int rc = sl_payload_encode(t->cfg->payload_format, t->scfg->kind, b->evs, b->b.n,
				   &b->payload, &b->payload_len);
	if (rc < 0) {
		b->fail_name = sl_xstrdup("Sluice.PayloadEncodingFailed");
		b->error_type = sl_xstrdup(b->fail_name);
		b->error_message = sl_xasprintf("the batch cannot be encoded as %s: %s",
						sl_payload_format_name(t->cfg->payload_format),
						strerror(-rc));
		tr_handle(b, TR_UNDELIVERABLE, rc);
		return;
	}
	tr_batch_invoke(b);
}

static void on_invoke_result(void *arg, const struct sl_invoke_result *res)
{
	struct tr_batch *b = arg;

	free(b->request_id);
	b->request_id = sl_xstrdup(res->request_id);
	if (res->status == SL_INVOKE_OK) {
		tr_handle(b, TR_INVOKED, 0);
		return;
	}
	free(b->fail_name);
	free(b->error_type);
	free(b->error_message);
	b->fail_name = sl_xstrdup(res->error_type ? res->error_type :
				  sl_failure_status_name(res->status));
	sl_failure_error_of(res, &b->error_type, &b->error_message);
	tr_handle(b, res->status == SL_INVOKE_THROTTLED ? TR_THROTTLED : TR_INVOKE_FAILED,
		  (int)res->status);
}

/* The executor refused to start the invocation. */
static void invoke_refused(struct tr_batch *b, int rc)
{
	struct sl_trigger *t = b->t;

	free(b->fail_name);
	free(b->error_type);
	free(b->error_message);
	b->fail_name = sl_xstrdup(rc == -ENOENT ? "Sluice.FunctionNotFound" :
				  rc == -ESHUTDOWN ? "Sluice.ExecutorShutdown" :
				  "Sluice.InvokeRefused");
	b->error_type = sl_xstrdup(b->fail_name);
	b->error_message = sl_xasprintf("function %s could not be invoked: %s", t->cfg->function,
					strerror(-rc));
	tr_handle(b, rc == -ESHUTDOWN ? TR_EXECUTOR_GONE : TR_INVOKE_FAILED, rc);
}

void tr_batch_invoke(struct tr_batch *b)
{
	struct sl_trigger *t = b->t;

	b->stage = TR_INVOKING;
	b->attempts++;
	int rc = sl_executor_invoke(t->ex, t->cfg->function, b->payload, b->payload_len, NULL,
				    on_invoke_result, b);
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
	sl_batch_release(&b->b);
	free(b->evs);
	free(b->payload);
	free(b->request_id);
	free(b->fail_name);
	free(b->error_type);
	free(b->error_message);
	json_decref(b->record);
	free(b);
}
