/* A trigger's state as JSON, for `sluice status` and GET /status; see trigger.h. */
#include <jansson.h>

#include "config/config.h"
#include "core/event.h"
#include "core/mem.h"
#include "dispatcher/checkpoint.h"
#include "dispatcher/destination.h"
#include "dispatcher/trigger_internal.h"

static const char *stage_name(enum tr_stage stage)
{
	switch (stage) {
	case TR_INVOKING: return "invoking";
	case TR_RETRY_WAIT: return "waiting to retry";
	case TR_STORING: return "storing a record";
	case TR_STORE_WAIT: return "waiting to retry a record";
	}
	return "unknown";
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *batch_json(struct tr_batch *b)
{
	const struct tr_piece *p = &b->pieces[b->depth - 1];
	size_t events = 0;

	for (size_t i = 0; i < b->depth; i++)
		events += b->pieces[i].b.n;
	return sl_check_alloc(json_pack("{s:I, s:I, s:s, s:I, s:s?, s:s?, s:o}",
		"events", (json_int_t)events,
		"current_events", (json_int_t)p->b.n,
		"stage", stage_name(b->stage),
		"attempts", (json_int_t)p->attempts,
		"first_position", p->b.n ? p->b.items[0].ev->position : NULL,
		"last_position", p->b.n ? p->b.items[p->b.n - 1].ev->position : NULL,
		"last_error", str_or_null(b->fail_name)));
}

static json_t *partition_json(struct sl_trigger *t, struct tr_partition *part)
{
	const struct sl_event *committed = sl_checkpoint_committed(part->cp);
	json_t *batches = sl_check_alloc(json_array());
	size_t queued = 0;

	for (unsigned l = 0; l < t->parallelization; l++) {
		queued += sl_batcher_count(&part->lanes[l].batcher);
		if (part->lanes[l].out)
			json_array_append_new(batches, batch_json(part->lanes[l].out));
	}
	return sl_check_alloc(json_pack("{s:s, s:o, s:I, s:I, s:o}",
		"name", part->name,
		"committed_position", str_or_null(committed ? committed->position : NULL),
		"uncommitted_events", (json_int_t)sl_checkpoint_outstanding(part->cp),
		"queued_events", (json_int_t)queued,
		"in_flight", batches));
}

static json_t *stats_json(const struct sl_trigger_stats *s)
{
	return sl_check_alloc(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"events_in", (json_int_t)s->events_in,
		"events_done", (json_int_t)s->events_done,
		"events_dead_lettered", (json_int_t)s->events_dead_lettered,
		"events_filtered", (json_int_t)s->events_filtered,
		"events_expired", (json_int_t)s->events_expired,
		"batches_ok", (json_int_t)s->batches_ok,
		"batches_failed", (json_int_t)s->batches_failed,
		"retries", (json_int_t)s->retries,
		"throttles", (json_int_t)s->throttles,
		"bisections", (json_int_t)s->bisections,
		"partial_responses", (json_int_t)s->partial_responses));
}

json_t *sl_trigger_status(struct sl_trigger *t)
{
	json_t *parts = sl_check_alloc(json_array());
	size_t waiting = 0;

	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct tr_partition *p = t->buckets[i]; p; p = p->next)
			json_array_append_new(parts, partition_json(t, p));
	for (struct tr_lane *lane = t->waiting; lane; lane = lane->next_waiting)
		waiting++;
	return sl_check_alloc(json_pack("{s:s, s:s, s:s, s:s?, s:s, s:I, s:I, s:I, s:I, s:b, s:o, "
					"s:o, s:o}",
		"name", t->cfg->name,
		"function", t->cfg->function,
		"on_failure", sl_destination_name(t->on_failure),
		"on_success", t->on_success ? sl_destination_name(t->on_success) : NULL,
		"state", t->draining ? "draining" : "running",
		"pending_events", (json_int_t)t->pending,
		"pending_bytes", (json_int_t)t->pending_bytes,
		"in_flight_batches", (json_int_t)t->n_batches,
		"batches_waiting_for_concurrency", (json_int_t)waiting,
		"source_paused", t->refused,
		"last_error", str_or_null(t->last_error),
		"counters", stats_json(&t->stats),
		"partitions", parts));
}
