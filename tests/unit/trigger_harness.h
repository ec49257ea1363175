/* A trigger under test with a scripted invoker (included by tests/unit/test_trigger_*.c).
 *
 * The invoker stands in for the executor: each invocation's payload (a CloudEvents batch) is
 * parsed into the ids of its events, the test's `answer` callback decides the outcome (status
 * and response), and the result is delivered later on the loop (after `delay_ms`), as the
 * executor does. Every invocation is kept in `calls` (ids and the status given) so tests can
 * count and inspect them. The destinations are real file destinations in a temp dir (dead
 * letters in dlq.jsonl, success records in ok.jsonl), read back with th_records().
 *
 * The source is the test: th_offer() makes an event with id "e<N>", position "<N>" in a given
 * partition and key; commits are recorded per partition (last committed position).
 */
#ifndef SL_TEST_TRIGGER_HARNESS_H
#define SL_TEST_TRIGGER_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/fs.h"
#include "core/loop.h"
#include "core/mem.h"
#include "dispatcher/destination.h"
#include "dispatcher/trigger.h"
#include "executor/executor.h"

#define TH_MAX_CALLS 20000
#define TH_MAX_PARTS 8

struct th_call {
	char **ids;                /* the batch's event ids, in order */
	size_t n;
	enum sl_invoke_status status;
};

struct th_answer {
	enum sl_invoke_status status;
	char response[1024];       /* with SL_INVOKE_OK: the function's response, "" for none */
	int delay_ms;              /* before the result comes back */
};

struct th;
typedef void (*th_answer_fn)(struct th *h, const struct th_call *call, struct th_answer *out);

struct th {
	struct event_base *base;
	char dir[64];
	struct sl_source_config src;
	struct sl_trigger_config cfg;
	struct sl_destination_config dlq_cfg, ok_cfg;
	struct sl_destination *dlq, *ok;
	struct sl_trigger *t;
	bool ordered;
	bool with_on_success;
	th_answer_fn answer;
	void *user;
	struct th_call calls[TH_MAX_CALLS];
	size_t n_calls;
	size_t outstanding, max_outstanding; /* invocations not yet answered */
	char committed[TH_MAX_PARTS][16];    /* per partition "p<i>": last committed position */
	void (*on_commit)(struct th *h, const struct sl_event *ev);
	uint64_t next_position;
};

static inline void th_free_call(struct th_call *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->ids[i]);
	free(c->ids);
}

/* An invocation whose result is on its way. */
struct th_inflight {
	struct th *h;
	sl_invoke_cb cb;
	void *arg;
	struct th_answer answer;
	char request_id[32];
};

static inline void th_answer_now(evutil_socket_t fd, short what, void *arg)
{
	struct th_inflight *f = arg;
	const struct th_answer *a = &f->answer;
	struct sl_invoke_result res = {
		.status = a->status, .request_id = f->request_id,
		.payload = a->status == SL_INVOKE_OK ? a->response :
			   "{\"errorType\":\"Scripted\",\"errorMessage\":\"scripted failure\"}",
	};

	(void)fd;
	(void)what;
	res.payload_len = strlen(res.payload);
	if (a->status != SL_INVOKE_OK)
		res.error_type = a->status == SL_INVOKE_TIMEOUT ? "Sandbox.Timedout" :
				 a->status == SL_INVOKE_RUNTIME_EXIT ? "Runtime.ExitError" :
				 a->status == SL_INVOKE_THROTTLED ? "Sluice.Throttled" :
				 "Function.Error";
	f->h->outstanding--;
	f->cb(f->arg, &res);
	free(f);
}

static inline int th_invoke(void *ctx, const char *function, const void *payload, size_t len,
			    const struct sl_invoke_options *opts, sl_invoke_cb cb, void *arg)
{
	struct th *h = ctx;
	json_t *batch = json_loadb(payload, len, 0, NULL);
	struct th_call *c = &h->calls[h->n_calls];

	(void)function;
	(void)opts;
	assert_true(json_is_array(batch));
	assert_true(h->n_calls < TH_MAX_CALLS);
	c->n = json_array_size(batch);
	c->ids = calloc(c->n ? c->n : 1, sizeof(*c->ids));
	for (size_t i = 0; i < c->n; i++)
		c->ids[i] = strdup(json_string_value(json_object_get(json_array_get(batch, i),
								      "id")));
	json_decref(batch);

	struct th_inflight *f = calloc(1, sizeof(*f));
	f->h = h;
	f->cb = cb;
	f->arg = arg;
	snprintf(f->request_id, sizeof(f->request_id), "req-%zu", h->n_calls);
	h->answer(h, c, &f->answer);
	c->status = f->answer.status;
	h->n_calls++;
	if (++h->outstanding > h->max_outstanding)
		h->max_outstanding = h->outstanding;
	struct timeval tv = { f->answer.delay_ms / 1000, (f->answer.delay_ms % 1000) * 1000 };
	event_base_once(h->base, -1, EV_TIMEOUT, th_answer_now, f, &tv);
	return 0;
}

static inline void th_commit(void *ctx, const struct sl_event *ev)
{
	struct th *h = ctx;
	int part = atoi(ev->partition + 1);

	assert_true(part >= 0 && part < TH_MAX_PARTS);
	snprintf(h->committed[part], sizeof(h->committed[part]), "%s", ev->position);
	if (h->on_commit)
		h->on_commit(h, ev);
}

/* A fresh harness with Sluice's defaults, fast retries (1-2 ms) and a 1 s batching window (so a
 * test that offers batch_size events at once gets them in one batch). */
static inline struct th *th_new(th_answer_fn answer)
{
	struct th *h = calloc(1, sizeof(*h));

	h->base = sl_loop_new();
	h->answer = answer;
	strcpy(h->dir, "/tmp/sl-trig-XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	h->src = (struct sl_source_config){ .name = "src", .kind = SL_SOURCE_HTTP };
	h->cfg = (struct sl_trigger_config){
		.name = "t", .source = "src", .function = "fn", .enabled = true,
		.payload_format = SL_PAYLOAD_CLOUDEVENTS, .batch_size = 10,
		.max_batching_window_ms = 1000, .max_batch_bytes = 6291456,
		.max_retry_attempts = 2, .max_record_age_s = -1, .retry_base_ms = 1,
		.retry_max_ms = 2, .parallelization_factor = 1,
	};
	h->dlq_cfg = (struct sl_destination_config){ .name = "dlq", .kind = SL_DEST_FILE,
		.path = sl_xasprintf("%s/dlq.jsonl", h->dir) };
	h->ok_cfg = (struct sl_destination_config){ .name = "ok", .kind = SL_DEST_FILE,
		.path = sl_xasprintf("%s/ok.jsonl", h->dir) };
	return h;
}

static inline void th_start(struct th *h)
{
	struct sl_trigger_links links = {
		.invoker = { .invoke = th_invoke, .ctx = h },
		.src = { .ctx = h, .ordered = h->ordered, .commit = th_commit },
	};

	assert_int_equal(sl_destination_new(h->base, &h->dlq_cfg, &h->dlq), 0);
	assert_int_equal(sl_destination_new(h->base, &h->ok_cfg, &h->ok), 0);
	links.on_failure = h->dlq;
	links.on_success = h->with_on_success ? h->ok : NULL;
	assert_int_equal(sl_trigger_new(h->base, &h->cfg, &h->src, &links, &h->t), 0);
}

/* Offer event number n (id "e<n>", position "<n>") in partition "p<part>" with key (or NULL),
 * received age_ms ago. */
static inline void th_offer_aged(struct th *h, int part, uint64_t n, const char *key,
				 int64_t age_ms)
{
	struct sl_event *ev = sl_event_new();
	char buf[32];

	snprintf(buf, sizeof(buf), "e%llu", (unsigned long long)n);
	sl_event_set(ev, &ev->id, buf);
	sl_event_set(ev, &ev->source, "/test");
	sl_event_set(ev, &ev->type, "t");
	snprintf(buf, sizeof(buf), "p%d", part);
	sl_event_set(ev, &ev->partition, buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
	sl_event_set(ev, &ev->position, buf);
	sl_event_set(ev, &ev->partitionkey, key);
	sl_event_set_data_json(ev, json_pack("{s:I}", "n", (json_int_t)n));
	ev->received_ms = sl_wall_ms() - age_ms;
	assert_int_equal(sl_trigger_offer(h->t, ev), 0);
}

static inline void th_offer(struct th *h, int part, uint64_t n, const char *key)
{
	th_offer_aged(h, part, n, key, 0);
}

static inline struct sl_trigger_stats th_stats(struct th *h)
{
	struct sl_trigger_stats s;
	sl_trigger_stats(h->t, &s);
	return s;
}

/* Run the loop until every offered event is done (or fail after timeout_ms). */
static inline void th_run(struct th *h, long timeout_ms)
{
	int64_t end = sl_wall_ms() + timeout_ms;

	for (;;) {
		struct sl_trigger_stats s = th_stats(h);
		if (s.events_done == s.events_in && h->outstanding == 0)
			return;
		if (sl_wall_ms() > end)
			fail_msg("not done after %ld ms: %llu of %llu events done", timeout_ms,
				 (unsigned long long)s.events_done,
				 (unsigned long long)s.events_in);
		event_base_loop(h->base, EVLOOP_ONCE);
	}
}

/* The records of a file destination (h->dlq_cfg, h->ok_cfg), as a JSON array (new reference). */
static inline json_t *th_records(const struct sl_destination_config *which)
{
	json_t *all = json_array();
	FILE *f = fopen(which->path, "r");
	char *line = NULL;
	size_t cap = 0;

	while (f && getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, 0, NULL);
		assert_non_null(rec);
		json_array_append_new(all, rec);
	}
	free(line);
	if (f)
		fclose(f);
	return all;
}

/* The ids of the events of a record, in order, joined with ','. Caller frees. */
static inline char *th_record_ids(const json_t *rec)
{
	const json_t *events = json_object_get(rec, "events");
	size_t i, len = 0;
	const json_t *ev;
	char *out = calloc(1, 1);

	json_array_foreach(events, i, ev) {
		const char *id = json_string_value(json_object_get(ev, "id"));
		out = realloc(out, len + strlen(id) + 2);
		len += (size_t)sprintf(out + len, "%s%s", i ? "," : "", id);
	}
	return out;
}

/* The only record of a file destination, whose events' ids joined with ',' are `ids` (not
 * checked when NULL). New reference. */
static inline json_t *th_one_record(const struct sl_destination_config *which, const char *ids)
{
	json_t *all = th_records(which);

	assert_int_equal(json_array_size(all), 1);
	json_t *rec = json_incref(json_array_get(all, 0));
	json_decref(all);
	if (ids) {
		char *got = th_record_ids(rec);
		assert_string_equal(got, ids);
		free(got);
	}
	return rec;
}

/* rec[a][b] (b may be NULL: rec[a]), borrowed, or NULL. */
static inline json_t *th_at(json_t *rec, const char *a, const char *b)
{
	json_t *v = json_object_get(rec, a);
	return b ? json_object_get(v, b) : v;
}

/* The ids of call i joined with ','. Caller frees. */
static inline char *th_call_ids(const struct th *h, size_t i)
{
	const struct th_call *c = &h->calls[i];
	size_t len = 0;
	char *out = calloc(1, 1);

	for (size_t k = 0; k < c->n; k++) {
		out = realloc(out, len + strlen(c->ids[k]) + 2);
		len += (size_t)sprintf(out + len, "%s%s", k ? "," : "", c->ids[k]);
	}
	return out;
}

static inline bool th_call_has(const struct th_call *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->ids[i], id) == 0)
			return true;
	return false;
}

static inline void th_free(struct th *h)
{
	sl_trigger_free(h->t);
	sl_destination_free(h->dlq);
	sl_destination_free(h->ok);
	for (size_t i = 0; i < h->n_calls; i++)
		th_free_call(&h->calls[i]);
	free(h->dlq_cfg.path);
	free(h->ok_cfg.path);
	event_base_free(h->base);
	sl_rm_tree(h->dir);
	free(h);
}

#endif
