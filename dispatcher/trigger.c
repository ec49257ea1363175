/* Trigger instance: creation, offer, partitions, backpressure, drain, free; see trigger.h and
 * trigger_internal.h. Batching and invoking live in trigger_lane.c, outcomes in
 * trigger_outcome.c.
 */
#include "dispatcher/trigger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/checkpoint.h"
#include "dispatcher/payload.h"
#include "dispatcher/trigger_internal.h"

#define TR_MIN_BUCKETS 16

int64_t tr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static void on_drain_check(evutil_socket_t fd, short what, void *arg);

/* Check the configuration against what this trigger can do; logs what is wrong. */
static int check_config(const struct sl_trigger_config *cfg, const struct sl_source_config *scfg)
{
	const char *name = cfg->name ? cfg->name : "(unnamed)";

	if (!cfg->function) {
		sl_error("sluice", "trigger %s: no function", name);
		return -EINVAL;
	}
	if (sl_payload_supported(cfg->payload_format, scfg->kind) < 0) {
		sl_error("sluice", "trigger %s: payload_format \"%s\" has no event shape for %s "
			 "sources; use \"cloudevents\"", name,
			 sl_payload_format_name(cfg->payload_format), sl_source_kind_name(scfg->kind));
		return -EINVAL;
	}
	return 0;
}

static size_t effective_batch_size(struct sl_trigger *t)
{
	size_t size = t->cfg->batch_size > 0 ? (size_t)t->cfg->batch_size : 1;
	size_t cap = sl_payload_max_batch(t->cfg->payload_format, t->scfg->kind);

	if (cap && size > cap) {
		sl_info(t->tag, "batch_size %zu lowered to %zu: %s payloads for %s sources carry "
			"one event", size, cap, sl_payload_format_name(t->cfg->payload_format),
			sl_source_kind_name(t->scfg->kind));
		size = cap;
	}
	return size;
}

int sl_trigger_new(struct event_base *base, const struct sl_trigger_config *cfg,
		   const struct sl_source_config *source_cfg, const struct sl_trigger_links *links,
		   struct sl_trigger **out)
{
	*out = NULL;
	if (!base || !cfg || !source_cfg || !links || !links->invoker.invoke || !links->on_failure)
		return -EINVAL;
	int rc = check_config(cfg, source_cfg);
	if (rc < 0)
		return rc;

	struct sl_trigger *t = sl_xcalloc(1, sizeof(*t));
	t->base = base;
	t->cfg = cfg;
	t->scfg = source_cfg;
	t->invoker = links->invoker;
	t->on_failure = links->on_failure;
	t->on_success = links->on_success;
	t->src = links->src;
	t->max_pending = cfg->max_pending_events ? (size_t)cfg->max_pending_events
						 : SL_TRIGGER_DEFAULT_MAX_PENDING;
	t->max_pending_bytes = cfg->max_pending_bytes ? cfg->max_pending_bytes
						      : SL_TRIGGER_DEFAULT_MAX_PENDING_BYTES;
	t->waiting_tail = &t->waiting;
	t->tag = sl_xasprintf("trigger:%s", cfg->name ? cfg->name : "(unnamed)");
	t->batch_size = effective_batch_size(t);
	t->parallelization = cfg->parallelization_factor > 1 ? (unsigned)cfg->parallelization_factor
							       : 1;
	t->n_buckets = TR_MIN_BUCKETS;
	t->buckets = sl_xcalloc(t->n_buckets, sizeof(*t->buckets));
	t->drain_ev = sl_check_alloc(evtimer_new(base, on_drain_check, t));
	t->rnd = sl_rand_default;
	size_t i;
	const json_t *pattern;
	json_array_foreach(cfg->filters, i, pattern) {   /* checked with the config */
		char err[256];
		if (i >= SL_FILTERS_MAX ||
		    sl_filter_compile(pattern, &t->filters[t->n_filters], err, sizeof(err)) != 0) {
			sl_error(t->tag, "filters[%zu]: %s", i, err);
			sl_trigger_free(t);
			return -EINVAL;
		}
		t->n_filters++;
	}
	*out = t;
	return 0;
}

static void rehash(struct sl_trigger *t)
{
	size_t n = t->n_buckets * 2;
	struct tr_partition **buckets = sl_xcalloc(n, sizeof(*buckets));

	for (size_t i = 0; i < t->n_buckets; i++) {
		struct tr_partition *p = t->buckets[i], *next;
		for (; p; p = next) {
			next = p->next;
			size_t slot = fnv1a(p->name) & (n - 1);
			p->next = buckets[slot];
			buckets[slot] = p;
		}
	}
	free(t->buckets);
	t->buckets = buckets;
	t->n_buckets = n;
}

/* The partition of that name, created on first sight. */
static struct tr_partition *partition(struct sl_trigger *t, const char *name)
{
	size_t slot = fnv1a(name) & (t->n_buckets - 1);

	for (struct tr_partition *p = t->buckets[slot]; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	if (t->n_partitions >= t->n_buckets) {
		rehash(t);
		slot = fnv1a(name) & (t->n_buckets - 1);
	}
	struct tr_partition *p = sl_xcalloc(1, sizeof(*p));
	p->name = sl_xstrdup(name);
	p->cp = sl_checkpoint_new();
	p->lanes = sl_xcalloc(t->parallelization, sizeof(*p->lanes));
	for (unsigned i = 0; i < t->parallelization; i++)
		tr_lane_init(&p->lanes[i], t, p, i);
	p->next = t->buckets[slot];
	t->buckets[slot] = p;
	t->n_partitions++;
	return p;
}

/* The key's lane; without a key, lane 0 for ordered sources, else the next lane in turn. */
static struct tr_lane *lane_of(struct sl_trigger *t, struct tr_partition *p,
			       const struct sl_event *ev)
{
	if (t->parallelization == 1)
		return &p->lanes[0];
	if (!ev->partitionkey)
		return &p->lanes[t->src.ordered ? 0 : p->next_lane++ % t->parallelization];
	return &p->lanes[fnv1a(ev->partitionkey) % t->parallelization];
}

/* The event as filters see it: its CloudEvent with `data` the decoded JSON of binary data, or
 * its text when that is not JSON. New reference. */
static json_t *filter_record(const struct sl_event *ev)
{
	json_t *r = sl_event_to_cloudevent(ev);

	if (ev->data_bytes) {
		json_t *data = json_loadb((const char *)ev->data_bytes, ev->data_len,
					  JSON_DECODE_ANY, NULL);
		if (!data)
			data = json_stringn((const char *)ev->data_bytes, ev->data_len);
		if (data)   /* NULL: not UTF-8, so only the attributes can match */
			json_object_set_new(r, "data", data);
	}
	return r;
}

static bool passes_filters(const struct sl_trigger *t, const struct sl_event *ev)
{
	bool pass = false;

	if (t->n_filters == 0)
		return true;
	json_t *r = filter_record(ev);
	for (size_t i = 0; i < t->n_filters && !pass; i++)
		pass = sl_filter_match(t->filters[i], r);
	json_decref(r);
	return pass;
}

/* An event no filter lets through is done at once: its ticket completes where it stands (the
 * tracker holds it while needed; the offered reference is dropped). Like any event it counts as
 * pending until committed. */
static void filter_out(struct sl_trigger *t, struct tr_partition *p, struct sl_event *ev)
{
	size_t before = sl_checkpoint_outstanding(p->cp);
	uint64_t ticket = sl_checkpoint_track(p->cp, ev);

	if (t->src.done)
		t->src.done(t->src.ctx, ev);
	bool grew = sl_checkpoint_done(p->cp, ticket) != NULL;

	sl_event_unref(ev);
	/* +1 for it, minus what the commit released (it, and done events behind it) */
	t->pending = t->pending + 1 - (before + 1 - sl_checkpoint_outstanding(p->cp));
	t->stats.events_in++;
	t->stats.events_filtered++;
	t->stats.events_done++;
	if (grew && t->src.commit)
		t->src.commit(t->src.ctx, sl_checkpoint_committed(p->cp));
}

int sl_trigger_offer(struct sl_trigger *t, struct sl_event *ev)
{
	uint64_t size = sl_event_size(ev);

	if (t->draining)
		return -ESHUTDOWN;
	if (t->pending >= t->max_pending ||
	    (t->pending_bytes > 0 && t->pending_bytes + size > t->max_pending_bytes)) {
		t->refused = true;
		return -ENOBUFS;
	}
	struct tr_partition *p = partition(t, ev->partition ? ev->partition : "");
	if (!passes_filters(t, ev)) {
		filter_out(t, p, ev);
		return 0;
	}
	struct tr_lane *lane = lane_of(t, p, ev);
	uint64_t ticket = sl_checkpoint_track(p->cp, ev);
	if (sl_batcher_push(&lane->batcher, ev, size, ticket, tr_now_ms()) < 0) {
		/* Unreachable: a lane holds at most `pending` < max_pending events, its batcher's
		 * limit. A ticket that can never complete would stall commits forever. */
		sl_error(t->tag, "lane queue over its limit with %zu pending", t->pending);
		abort();
	}
	t->pending++;
	t->pending_bytes += size;
	t->stats.events_in++;
	tr_lane_kick(lane);
	return 0;
}

/* Start the lanes held by max_concurrency, oldest first, while there is room. */
static void release_waiting(struct sl_trigger *t)
{
	size_t cap = t->cfg->max_concurrency > 0 ? (size_t)t->cfg->max_concurrency : SIZE_MAX;

	while (t->waiting && t->n_batches < cap && !t->draining) {
		struct tr_lane *lane = t->waiting;
		t->waiting = lane->next_waiting;
		if (!t->waiting)
			t->waiting_tail = &t->waiting;
		lane->waiting = false;
		tr_lane_kick(lane);
	}
}

void tr_note_error(struct sl_trigger *t, const char *name, const char *message)
{
	char when[40];

	sl_format_iso8601_ms(sl_wall_ms(), when, sizeof(when));
	free(t->last_error);
	t->last_error = sl_xasprintf("%s %s: %s", when, name ? name : "Sluice.Unknown",
				     message ? message : "");
}

void tr_after_batch(struct sl_trigger *t)
{
	release_waiting(t);
	if (t->refused && t->pending <= t->max_pending / 2 &&
	    t->pending_bytes <= t->max_pending_bytes / 2) {
		t->refused = false;
		if (t->src.resume)
			t->src.resume(t->src.ctx);
	}
	if (t->draining && t->n_batches == 0 && t->drain_done) {
		struct timeval now = { 0, 0 };
		evtimer_add(t->drain_ev, &now);
	}
}

static void on_drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct sl_trigger *t = arg;
	void (*done)(void *) = t->drain_done;

	(void)fd;
	(void)what;
	if (t->n_batches > 0 || !done)
		return;
	t->drain_done = NULL;
	sl_info(t->tag, "drained: %zu events left uncommitted for redelivery", t->pending);
	done(t->drain_arg);
}

static void for_each_lane(struct sl_trigger *t, void (*fn)(struct tr_lane *lane))
{
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct tr_partition *p = t->buckets[i]; p; p = p->next)
			for (unsigned l = 0; l < t->parallelization; l++)
				fn(&p->lanes[l]);
}

static void stop_window(struct tr_lane *lane)
{
	evtimer_del(lane->window);
	lane->armed_deadline = INT64_MAX;
}

void sl_trigger_drain(struct sl_trigger *t, void (*done)(void *arg), void *arg)
{
	t->draining = true;
	t->drain_done = done;
	t->drain_arg = arg;
	for_each_lane(t, stop_window);
	/* Batches waiting for a backoff timer are not worth waiting for: leave them uncommitted. */
	for (struct tr_batch *b = t->batches, *next; b; b = next) {
		next = b->next;
		if (b->stage == TR_RETRY_WAIT || b->stage == TR_STORE_WAIT)
			tr_batch_abandon(b);
	}
	tr_after_batch(t);
}

static void free_partition(struct tr_partition *p, unsigned lanes)
{
	for (unsigned l = 0; l < lanes; l++)
		tr_lane_release(&p->lanes[l]);
	free(p->lanes);
	sl_checkpoint_free(p->cp);
	free(p->name);
	free(p);
}

void sl_trigger_free(struct sl_trigger *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_filters; i++)
		sl_filter_free(t->filters[i]);
	for (struct tr_batch *b = t->batches, *next; b; b = next) {
		next = b->next;
		if (b->stage == TR_RETRY_WAIT || b->stage == TR_STORE_WAIT) {
			tr_batch_free(b);
			continue;
		}
		/* An invoke or a store is out: its callback frees the batch. */
		if (b->timer)
			event_free(b->timer);
		b->timer = NULL;
		b->t = NULL;
		b->lane = NULL;
		b->prev = b->next = NULL;
	}
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct tr_partition *p = t->buckets[i], *next; p; p = next) {
			next = p->next;
			free_partition(p, t->parallelization);
		}
	free(t->buckets);
	event_free(t->drain_ev);
	free(t->last_error);
	free(t->tag);
	free(t);
}

void sl_trigger_stats(const struct sl_trigger *t, struct sl_trigger_stats *out)
{
	*out = t->stats;
}
