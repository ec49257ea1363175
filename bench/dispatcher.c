/* dispatcher: the trigger's own cost, for the dispatcher benchmark (bench/dispatcher.sh).
 *
 * A real trigger (dispatcher/trigger.h) on a real libevent loop, fed by this program acting as a
 * source and answered by a no-op invoker that stands in for the executor, so what is measured is
 * the trigger's path and nothing else: offer, batcher, window, checkpoint, encoding the batch as a
 * CloudEvents payload, invoking, the answer, commit, releasing the events.
 *
 *   dispatcher throughput N BATCH PF
 *       Offer N events as fast as the trigger takes them (batch_size BATCH, parallelization_factor
 *       PF), respecting backpressure: on -ENOBUFS the source waits for resume(), as the spool feed
 *       does. Times from the first offer to the last commit.
 *   dispatcher closed ROUNDS BATCH
 *       ROUNDS rounds of BATCH events, each round offered at once and waited for until committed:
 *       the latency of a full batch with nothing queued in front of it.
 *   dispatcher callgrind N BATCH PF
 *       `throughput` for `valgrind --tool=callgrind --collect-atstart=no`: collection is switched
 *       on at the first offer and off at the last commit, and off around the construction of
 *       events, so the profile holds the dispatch only. No clock reads for latencies.
 *
 * The source. Events are made in chunks of CHUNK as a push source and its spool feed make them:
 * each written into a spool record and decoded back (one allocation for the attributes, the
 * data kept as text): id "evt-<n>", source, type, position "<n>.0/1", a partition key out of KEYS
 * customers and about 120 bytes of JSON data; every event has a key, in every mode, so all modes
 * offer the same events. The time spent making them is measured and taken out of the figures (it is the source's
 * cost, not the trigger's). One source partition: the batches of a lane go out one at a time,
 * so PF lanes keep up to PF batches out.
 *
 * The invoker answers success with an empty response, never inline: calls are queued, and one
 * libevent event, activated by the first call queued, answers every queued call once the
 * callback that made it has returned to the loop (what the executor does when a function answers
 * at once, minus the sandbox and the sockets). The on-failure destination is a file in a temp dir
 * that must stay unused.
 *
 * Latency: per event, from its offer to the commit() that covers it (offer -> commit), in
 * microseconds. In `throughput` it includes the wait behind up to max_pending_events (20000,
 * the default) events queued in the trigger; `closed` has no queue.
 *
 * Prints one JSON object on stdout: events, seconds (dispatch only, wall clock), events_per_s,
 * the same in CPU time of the thread (cpu_seconds, events_per_cpu_s), p50/p90/p99/max latency,
 * invokes, payload bytes per event, construct_s (taken out), refusals (ENOBUFS) and the
 * process's peak RSS (VmHWM); exit 1 when something went wrong (an event not committed, a dead
 * letter, a retry).
 */
#include "bench/stats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config/config.h"
#include "connectors/spool_record.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "dispatcher/destination.h"
#include "dispatcher/trigger.h"
#include "executor/executor.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT do { } while (0)
#endif

#define CHUNK 1000               /* events the source makes at a time */
#define KEYS 1000                /* distinct partition keys */
/* max_batching_window_ms: short, so the last batches of a run (pf10: one per lane) do not wait
 * long; under callgrind, which runs ~50x slower, long enough that no batch is cut by it. */
#define WINDOW_MS 10
#define CALLGRIND_WINDOW_MS 1000

__attribute__((noreturn)) static void die(const char *what)
{
	fprintf(stderr, "%s\n", what);
	exit(1);
}

/* CPU time of the calling thread: the dispatch is single-threaded, so this leaves out the time
 * other processes of a busy machine take from it. */
static double cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- the invoker: answers later on the loop ----------------------------------------------- */

struct call {
	sl_invoke_cb cb;
	void *arg;
};

struct stub {
	struct event *answer;        /* answers every queued call */
	struct call *calls, *spare;  /* queued; the other buffer */
	size_t n, cap, spare_cap;
	uint64_t invokes, payload_bytes;
};

static int stub_invoke(void *ctx, const char *function, const void *payload, size_t len,
		       const struct sl_invoke_options *opts, sl_invoke_cb cb, void *arg)
{
	struct stub *s = ctx;

	(void)function;
	(void)payload;
	(void)opts;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->calls = sl_xrealloc(s->calls, s->cap * sizeof(*s->calls));
	}
	s->calls[s->n++] = (struct call){ cb, arg };
	s->invokes++;
	s->payload_bytes += len;
	if (s->n == 1)
		event_active(s->answer, EV_TIMEOUT, 0);
	return 0;
}

/* Answer the calls queued so far; those their callbacks make (the next batches) go to the other
 * buffer and are answered when the event runs again. */
static void stub_answer(evutil_socket_t fd, short what, void *arg)
{
	struct stub *s = arg;
	struct sl_invoke_result res = {
		.status = SL_INVOKE_OK, .request_id = "bench", .payload = "", .payload_len = 0,
		.content_type = "application/json",
	};
	struct call *run = s->calls;
	size_t n = s->n, cap = s->cap;

	(void)fd;
	(void)what;
	s->calls = s->spare;
	s->cap = s->spare_cap;
	s->n = 0;
	for (size_t i = 0; i < n; i++)
		run[i].cb(run[i].arg, &res);
	s->spare = run;
	s->spare_cap = cap;
}

/* ---- the source ---------------------------------------------------------------------------- */

struct bench {
	struct event_base *base;
	struct sl_trigger *t;
	struct stub stub;
	bool callgrind, timed;
	uint64_t n;                  /* events to offer in all */
	uint64_t made, offered;      /* made by the source, taken by the trigger */
	int64_t committed;           /* number of the last committed event, -1 before any */
	struct sl_event *chunk[CHUNK];
	size_t chunk_next, chunk_len;
	bool paused;                 /* refused; waiting for resume() */
	uint64_t refusals;
	double *lat;                 /* per event: offer time, then offer -> commit (us) */
	double construct_us, construct_cpu_us;
	double t_first, t_last;      /* first offer, last commit */
	double cpu_first, cpu_last;  /* the same in CPU time of this thread */
	bool done;
};

/* The event as a trigger gets it from a push source: written into a spool record (seq = n) and
 * read back by the spool feed's decoder (attributes in one allocation, data kept as text,
 * position "<n>.0/1"). Takes ev. */
static struct sl_event *as_spooled(struct sl_event *ev, uint64_t n, int64_t now)
{
	struct sl_event **back;
	size_t len, count;
	char err[256];
	char *record = sl_spool_record_encode(&ev, 1, now, &len);

	if (sl_spool_record_decode(record, len, n, "orders", &back, &count, err, sizeof(err)) < 0) {
		fprintf(stderr, "dispatcher: spool record: %s\n", err);
		exit(1);
	}
	struct sl_event *spooled = back[0];
	free(back);
	free(record);
	sl_event_unref(ev);
	return spooled;
}

/* Make the next `count` (at most CHUNK) events: the source's work, not the trigger's. */
static void make_chunk(struct bench *b, size_t count)
{
	char id[32], pos[24], key[32];
	int64_t now = sl_wall_ms();

	b->chunk_next = b->chunk_len = 0;
	while (b->chunk_len < count && b->made < b->n) {
		uint64_t i = b->made++;
		struct sl_event *ev = sl_event_new();
		snprintf(id, sizeof(id), "evt-%llu", (unsigned long long)i);
		snprintf(pos, sizeof(pos), "%llu", (unsigned long long)i);
		snprintf(key, sizeof(key), "customer-%llu", (unsigned long long)(i * 7919 % KEYS));
		sl_event_set(ev, &ev->id, id);
		sl_event_set(ev, &ev->source, "/bench/orders");
		sl_event_set(ev, &ev->type, "com.example.order.created");
		sl_event_set(ev, &ev->partition, "orders-0");
		sl_event_set(ev, &ev->position, pos);
		sl_event_set(ev, &ev->partitionkey, key);
		/* about 120 bytes of JSON data */
		sl_event_set_data_json(ev, sl_check_alloc(json_pack(
			"{s:I, s:s, s:i, s:s, s:i, s:s}", "order", (json_int_t)i, "customer", key,
			"amount_cents", 1999 + (int)(i % 100), "currency", "EUR", "items",
			(int)(i % 9) + 1, "note", "deliver to the back door")));
		b->chunk[b->chunk_len++] = as_spooled(ev, i, now);
	}
}

static void refill(struct bench *b)
{
	double t0 = b->timed ? now_us() : 0, c0 = b->timed ? cpu_us() : 0;

	if (b->callgrind)
		CALLGRIND_TOGGLE_COLLECT;
	make_chunk(b, CHUNK);
	if (b->callgrind)
		CALLGRIND_TOGGLE_COLLECT;
	if (b->timed) {
		b->construct_us += now_us() - t0;
		b->construct_cpu_us += cpu_us() - c0;
	}
}

/* Offer until the trigger refuses or everything is taken (the spool feed's pump). */
static void produce(struct bench *b)
{
	while (!b->paused && b->offered < b->n) {
		if (b->chunk_next == b->chunk_len)
			refill(b);
		struct sl_event *ev = b->chunk[b->chunk_next];
		double t = b->timed ? now_us() : 0;
		int rc = sl_trigger_offer(b->t, ev);
		if (rc == -ENOBUFS) {
			b->paused = true;
			b->refusals++;
			return;
		}
		if (rc < 0)
			die("dispatcher: offer refused");
		if (b->timed)
			b->lat[b->offered] = t;
		b->chunk_next++;
		b->offered++;
	}
}

static void on_resume(void *ctx)
{
	struct bench *b = ctx;

	b->paused = false;
	produce(b);
}

/* Every event up to ev is done. */
static void on_commit(void *ctx, const struct sl_event *ev)
{
	struct bench *b = ctx;
	int64_t upto = (int64_t)strtoull(ev->position, NULL, 10);

	if (b->timed) {
		double now = now_us();
		for (int64_t i = b->committed + 1; i <= upto; i++)
			b->lat[i] = now - b->lat[i];
		b->t_last = now;
		b->cpu_last = cpu_us();
	}
	b->committed = upto;
	if ((uint64_t)upto + 1 == b->n) {
		if (b->callgrind)
			CALLGRIND_TOGGLE_COLLECT;
		b->done = true;
		event_base_loopbreak(b->base);
	}
}

static void start(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	(void)fd;
	(void)what;
	make_chunk(b, CHUNK);   /* before the clock starts and collection is on */
	if (b->callgrind)
		CALLGRIND_TOGGLE_COLLECT;
	if (b->timed) {
		b->t_first = now_us();
		b->cpu_first = cpu_us();
	}
	produce(b);
}

/* ---- setup and report ---------------------------------------------------------------------- */

struct setup {
	char dir[64];
	struct sl_source_config src;
	struct sl_trigger_config cfg;
	struct sl_destination_config dlq_cfg;
	struct sl_destination *dlq;
};

static void trigger_new(struct bench *b, struct setup *s, int batch, int pf)
{
	strcpy(s->dir, "/tmp/sl-bench-dispatch-XXXXXX");
	if (!mkdtemp(s->dir))
		die("dispatcher: mkdtemp");
	s->src = (struct sl_source_config){ .name = "orders", .kind = SL_SOURCE_HTTP };
	s->cfg = (struct sl_trigger_config){
		.name = "bench", .source = "orders", .function = "noop", .enabled = true,
		.payload_format = SL_PAYLOAD_CLOUDEVENTS, .batch_size = batch,
		.max_batching_window_ms = b->callgrind ? CALLGRIND_WINDOW_MS : WINDOW_MS,
		.max_batch_bytes = 6291456,
		.max_retry_attempts = 2, .max_record_age_s = -1, .retry_base_ms = 1000,
		.retry_max_ms = 60000, .parallelization_factor = pf,
	};
	s->dlq_cfg = (struct sl_destination_config){ .name = "dlq", .kind = SL_DEST_FILE,
		.path = sl_xasprintf("%s/dlq.jsonl", s->dir) };
	if (sl_destination_new(b->base, &s->dlq_cfg, &s->dlq) < 0)
		die("dispatcher: destination");
	struct sl_trigger_links links = {
		.invoker = { .invoke = stub_invoke, .ctx = &b->stub },
		.on_failure = s->dlq,
		.src = { .ctx = b, .ordered = true, .commit = on_commit, .resume = on_resume },
	};
	if (sl_trigger_new(b->base, &s->cfg, &s->src, &links, &b->t) < 0)
		die("dispatcher: trigger");
}

static void setup_free(struct bench *b, struct setup *s)
{
	sl_trigger_free(b->t);
	sl_destination_free(s->dlq);
	sl_rm_tree(s->dir);
	free(s->dlq_cfg.path);
}

static double peak_rss_mb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return (double)kb / 1024.0;
}

/* Check the run, print its figures; 0 when every event was committed and none dead-lettered. */
static int report(struct bench *b, const char *test, int batch, int pf, double seconds,
		  double cpu_seconds)
{
	struct sl_trigger_stats st;

	sl_trigger_stats(b->t, &st);
	int ok = b->done && st.events_done == b->n && st.events_dead_lettered == 0 &&
		 st.retries == 0;
	if (!ok)
		fprintf(stderr, "dispatcher: %s: %llu of %llu events done, %llu dead-lettered, "
			"%llu retries\n", test, (unsigned long long)st.events_done,
			(unsigned long long)b->n, (unsigned long long)st.events_dead_lettered,
			(unsigned long long)st.retries);
	size_t n = (size_t)b->n;
	double *v = b->lat;
	if (v)
		qsort(v, n, sizeof(*v), cmp_double);
	printf("{\"test\":\"%s\",\"batch\":%d,\"pf\":%d,\"events\":%zu,\"errors\":%d,"
	       "\"seconds\":%.6f,\"events_per_s\":%.0f,\"cpu_seconds\":%.6f,"
	       "\"events_per_cpu_s\":%.0f,\"invokes\":%llu,"
	       "\"payload_bytes_per_event\":%.1f,\"refusals\":%llu,\"construct_s\":%.6f,"
	       "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
	       "\"peak_rss_mb\":%.1f}\n", test, batch, pf, n, ok ? 0 : 1, seconds,
	       seconds > 0 ? (double)n / seconds : 0, cpu_seconds,
	       cpu_seconds > 0 ? (double)n / cpu_seconds : 0, (unsigned long long)b->stub.invokes,
	       (double)b->stub.payload_bytes / (double)n, (unsigned long long)b->refusals,
	       b->construct_us / 1e6, v ? pct(v, n, 50) : 0, v ? pct(v, n, 90) : 0,
	       v ? pct(v, n, 99) : 0, v ? v[n - 1] : 0, peak_rss_mb());
	return ok ? 0 : 1;
}

static void bench_init(struct bench *b, uint64_t n, bool callgrind)
{
	memset(b, 0, sizeof(*b));
	b->base = sl_loop_new();
	b->n = n;
	b->committed = -1;
	b->callgrind = callgrind;
	b->timed = !callgrind;
	b->lat = b->timed ? sl_xcalloc((size_t)n, sizeof(*b->lat)) : NULL;
	b->stub.answer = sl_check_alloc(event_new(b->base, -1, 0, stub_answer, &b->stub));
}

static void bench_release(struct bench *b)
{
	event_free(b->stub.answer);
	free(b->stub.calls);
	free(b->stub.spare);
	free(b->lat);
	event_base_free(b->base);
}

static int cmd_throughput(uint64_t n, int batch, int pf, bool callgrind)
{
	struct bench b;
	struct setup s;

	bench_init(&b, n, callgrind);
	trigger_new(&b, &s, batch, pf);
	event_base_once(b.base, -1, EV_TIMEOUT, start, &b, NULL);
	event_base_dispatch(b.base);
	double seconds = (b.t_last - b.t_first - b.construct_us) / 1e6;
	double cpu = (b.cpu_last - b.cpu_first - b.construct_cpu_us) / 1e6;
	int rc = report(&b, callgrind ? "callgrind" : "throughput", batch, pf, seconds, cpu);
	setup_free(&b, &s);
	bench_release(&b);
	return rc;
}

/* Rounds of `batch` events offered at once, each waited for: no queue in front of them. */
static int cmd_closed(uint64_t rounds, int batch)
{
	struct bench b;
	struct setup s;
	double busy_us = 0, busy_cpu_us = 0;

	bench_init(&b, rounds * (uint64_t)batch, false);
	trigger_new(&b, &s, batch, 1);
	for (uint64_t r = 0; r < rounds; r++) {
		make_chunk(&b, (size_t)batch);
		double t0 = now_us(), c0 = cpu_us();
		while (b.chunk_next < b.chunk_len) {
			b.lat[b.offered++] = now_us();
			if (sl_trigger_offer(b.t, b.chunk[b.chunk_next++]) < 0)
				die("dispatcher: offer refused");
		}
		while (b.committed + 1 < (int64_t)b.offered)
			event_base_loop(b.base, EVLOOP_ONCE);
		busy_us += now_us() - t0;
		busy_cpu_us += cpu_us() - c0;
	}
	b.done = (uint64_t)(b.committed + 1) == b.n;
	int rc = report(&b, "closed", batch, 1, busy_us / 1e6, busy_cpu_us / 1e6);
	setup_free(&b, &s);
	bench_release(&b);
	return rc;
}

int main(int argc, char **argv)
{
	sl_log_configure(SL_LOG_WARN, false);
	if (argc == 5 && (!strcmp(argv[1], "throughput") || !strcmp(argv[1], "callgrind"))) {
		long n = atol(argv[2]), batch = atol(argv[3]), pf = atol(argv[4]);
		if (n < 1 || batch < 1 || batch > 10000 || pf < 1 || pf > 10)
			die("dispatcher: bad N, BATCH or PF");
#ifndef HAVE_CALLGRIND
		if (!strcmp(argv[1], "callgrind"))
			die("dispatcher: built without valgrind/callgrind.h");
#endif
		return cmd_throughput((uint64_t)n, (int)batch, (int)pf,
				      !strcmp(argv[1], "callgrind"));
	}
	if (argc == 4 && !strcmp(argv[1], "closed")) {
		long rounds = atol(argv[2]), batch = atol(argv[3]);
		if (rounds < 1 || batch < 1 || batch > CHUNK)
			die("dispatcher: bad ROUNDS or BATCH");
		return cmd_closed((uint64_t)rounds, (int)batch);
	}
	fprintf(stderr, "usage: dispatcher throughput N BATCH PF\n"
			"       dispatcher closed ROUNDS BATCH\n"
			"       dispatcher callgrind N BATCH PF\n");
	return 2;
}
