/* Redis Streams feed: lifecycle, the reader and offering; see stream_feed.h and stream_int.h. */
#include "connectors/redis/stream_feed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "config/config.h"
#include "connectors/redis/stream_entry.h"
#include "connectors/redis/stream_int.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/redis_link.h"

#define MIN_COUNT 100
#define BLOCK_MS "2000"
#define MAX_TICK_MS 1000u

static const struct sl_feed_ops stream_feed_ops;

int64_t stream_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct stream_job *stream_job_new(struct stream_feed *f, struct stream *s, size_t count)
{
	struct stream_job *job = sl_xmalloc(sizeof(*job));

	*job = (struct stream_job){ .f = f, .s = s, .count = count };
	return job;
}

struct stream *stream_named(struct stream_feed *f, const char *key)
{
	for (size_t i = 0; i < f->n_streams; i++)
		if (strcmp(f->streams[i].key, key) == 0)
			return &f->streams[i];
	return NULL;
}

/* ---- offering ---------------------------------------------------------------------------- */

static void read_next(struct stream_feed *f);

void stream_take_entry(struct stream_feed *f, struct stream *s, const redisReply *entry)
{
	const char *id = redis_stream_entry_id(entry);
	struct sl_event *ev = redis_stream_entry_event(entry, f->source_name, f->ce_source, s->key,
						       f->cfg->partition_key_field);

	if (!ev) {
		if (id) {
			sl_warn(f->tag, "stream \"%s\": entry %s was deleted before it was "
				"delivered; acknowledged without delivery", s->key, id);
			stream_ack_untracked(f, s, id);
		}
		return;
	}
	stream_track(s, id);
	backlog_push(&f->backlog, ev);
}

void stream_pump(struct stream_feed *f)
{
	if (!f->trigger || f->paused || f->stopped)
		return;
	int rc = backlog_offer(&f->backlog, f->trigger);
	if (rc == -ENOBUFS)
		f->paused = true;
	else if (rc < 0)          /* draining: what was read stays pending for the next start */
		f->stopped = true;
	else
		read_next(f);
}

static void on_resume(void *ctx)
{
	struct stream_feed *f = ctx;

	f->paused = false;
	stream_pump(f);
}

/* ---- the reader -------------------------------------------------------------------------- */

/* Streams in history mode (own pending entries) are read alone, without blocking. */
static bool reading_history(const struct stream_feed *f)
{
	for (size_t i = 0; i < f->n_streams; i++)
		if (f->streams[i].history_from[0])
			return true;
	return false;
}

/* The streams of an XREADGROUP reply. In history mode every stream asked for has history left;
 * those that returned no entries have none any more. */
static void take_streams(struct stream_feed *f, const redisReply *reply, bool history)
{
	if (history)
		for (size_t i = 0; i < f->n_streams; i++)
			f->streams[i].history_from[0] = '\0';
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		const redisReply *r = reply->element[i];
		struct stream *s;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY ||
		    !(s = stream_named(f, r->element[0]->str)))
			continue;
		const redisReply *entries = r->element[1];
		for (size_t j = 0; j < entries->elements; j++)
			stream_take_entry(f, s, entries->element[j]);
		const char *last = entries->elements ?
			redis_stream_entry_id(entries->element[entries->elements - 1]) : NULL;
		if (history && last)
			snprintf(s->history_from, sizeof(s->history_from), "%s", last);
	}
}

static void on_read(redisAsyncContext *ac, void *r, void *privdata)
{
	struct stream_feed *f = privdata;
	const redisReply *reply = r;

	f->reading = false;
	if (!reply) {
		sl_redis_link_lost(f->reader, ac, -ECONNRESET);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		sl_redis_link_refused(f->reader, "reading the streams", reply->str);
		return;
	}
	sl_redis_link_ok(f->reader);
	redis_health_ok(&f->health);
	take_streams(f, reply, reading_history(f));
	stream_pump(f);
}

/* XREADGROUP GROUP g c COUNT n [BLOCK ms] STREAMS k... id...: history ids for the streams still
 * re-reading their own pending entries, else ">" for all, blocking. */
static void read_next(struct stream_feed *f)
{
	if (f->reading || f->stopped || f->paused || !f->groups_ready || f->backlog.n > 0 ||
	    !f->trigger)
		return;
	bool history = reading_history(f);
	const char **argv = sl_xcalloc(9 + 2 * f->n_streams, sizeof(*argv));
	int argc = 0, n = 0;

	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = f->group;
	argv[argc++] = f->consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = f->count;
	if (!history) {
		argv[argc++] = "BLOCK";
		argv[argc++] = BLOCK_MS;
	}
	argv[argc++] = "STREAMS";
	for (size_t i = 0; i < f->n_streams; i++)
		if (!history || f->streams[i].history_from[0])
			argv[argc + n++] = f->streams[i].key;
	for (size_t i = 0, j = 0; i < f->n_streams; i++)
		if (!history || f->streams[i].history_from[0])
			argv[argc + n + j++] = history ? f->streams[i].history_from : ">";
	f->reading = sl_redis_link_send(f->reader, on_read, f, argc + 2 * n, argv);
	free(argv);
}

/* ---- groups ------------------------------------------------------------------------------ */

static void on_group_created(redisAsyncContext *ac, void *r, void *privdata)
{
	struct stream_job *job = privdata;
	struct stream_feed *f = job->f;
	const redisReply *reply = r;
	char what[STREAM_KEY_WHAT_MAX];

	f->groups_left--;
	if (!reply) {
		sl_redis_link_lost(f->reader, ac, -ECONNRESET);
	} else if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "BUSYGROUP", 9) != 0) {
		snprintf(what, sizeof(what), "cannot create group \"%s\" on stream \"%.200s\"",
			 f->group, job->s->key);
		sl_redis_link_refused(f->reader, what, reply->str);
	} else if (f->groups_left == 0) {
		f->groups_ready = true;
		redis_health_ok(&f->health);
		stream_pump(f);
	}
	free(job);
}

/* The reader is (again) connected: make sure every group exists, then read. */
static void on_reader_up(void *arg)
{
	struct stream_feed *f = arg;

	f->groups_ready = false;
	f->groups_left = 0;
	for (size_t i = 0; i < f->n_streams; i++) {
		const char *argv[] = { "XGROUP", "CREATE", f->streams[i].key, f->group,
				       f->start_id, "MKSTREAM" };
		struct stream_job *job = stream_job_new(f, &f->streams[i], 0);
		if (!sl_redis_link_send(f->reader, on_group_created, job, 6, argv)) {
			free(job);
			return;
		}
		f->groups_left++;
	}
}

static void on_link_down(void *arg, int status, const char *why)
{
	struct stream_feed *f = arg;

	redis_health_failed(&f->health, status, "%s", why);
}

static void on_reader_down(void *arg, int status, const char *why)
{
	struct stream_feed *f = arg;

	f->groups_ready = false;
	on_link_down(f, status, why);
}

/* The second connection is (again) up: acknowledge what is done, and let the tick go on. */
static void on_cmd_up(void *arg)
{
	struct stream_feed *f = arg;

	for (size_t i = 0; i < f->n_streams; i++)
		stream_send_acks(f, &f->streams[i]);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stream_feed *f = arg;
	struct timeval tv = { .tv_sec = f->tick_ms / 1000, .tv_usec = (f->tick_ms % 1000) * 1000 };

	(void)fd;
	(void)what;
	stream_refresh_own(f);
	if (!f->stopped)
		stream_claim(f);
	if (++f->ticks * f->tick_ms >= MAX_TICK_MS) {
		f->ticks = 0;
		stream_query_lag(f);
	}
	evtimer_add(f->tick, &tv);
}

/* ---- ops --------------------------------------------------------------------------------- */

static void feed_attach(struct sl_feed *base, struct sl_trigger *trigger)
{
	struct stream_feed *f = (struct stream_feed *)base;

	f->trigger = trigger;
	sl_redis_link_get(f->reader);
	sl_redis_link_get(f->cmd);
	on_tick(-1, 0, f);
}

static void feed_stop(struct sl_feed *base)
{
	((struct stream_feed *)base)->stopped = true;
}

static void feed_free(struct sl_feed *base)
{
	struct stream_feed *f = (struct stream_feed *)base;

	sl_redis_link_free(f->reader);   /* callbacks of commands still out run here */
	sl_redis_link_free(f->cmd);
	event_free(f->tick);
	backlog_release(&f->backlog);
	for (size_t i = 0; i < f->n_streams; i++) {
		free(f->streams[i].key);
		free(f->streams[i].ids);
	}
	free(f->streams);
	redis_health_release(&f->health);
	free(f->consumer);
	free(f->ce_source);
	free(f->tag);
	free(f);
}

static const struct sl_feed_ops stream_feed_ops = {
	.attach = feed_attach,
	.stop = feed_stop,
	.status = stream_status,
	.free = feed_free,
};

/* Where a new group starts reading (stream_feed.h). */
static void start_id(const struct sl_trigger_config *t, char *out, size_t len)
{
	if (t->starting_position == SL_START_TRIM_HORIZON)
		snprintf(out, len, "0");
	else if (t->starting_position == SL_START_AT_TIMESTAMP &&
		 t->starting_position_timestamp_ms > 0)
		snprintf(out, len, "%" PRId64 "-18446744073709551615",
			 t->starting_position_timestamp_ms - 1);
	else if (t->starting_position == SL_START_AT_TIMESTAMP)
		snprintf(out, len, "0");
	else
		snprintf(out, len, "$");
}

static int open_links(struct stream_feed *f, const struct sl_source_config *cfg,
		      struct event_base *base)
{
	struct sl_redis_link_options o = {
		.address = cfg->address, .password = cfg->password, .persistent = true,
		.up = on_reader_up, .down = on_reader_down, .arg = f,
	};

	if (sl_redis_link_new(base, &o, &f->reader) < 0)
		return -EINVAL;
	o.up = on_cmd_up;
	o.down = on_link_down;
	return sl_redis_link_new(base, &o, &f->cmd);
}

int redis_stream_feed_new(struct sl_source *src, const struct sl_feed_params *params,
			  size_t *commits_in_flight, struct sl_feed **out)
{
	const struct sl_source_config *cfg = src->cfg;
	const struct sl_trigger_config *t = params->trigger;
	struct stream_feed *f = sl_xcalloc(1, sizeof(*f));

	f->cfg = cfg;
	f->source_name = cfg->name;
	f->ce_source = sl_xasprintf("/sluice/sources/%s", cfg->name);
	f->tag = sl_xasprintf("trigger:%s", t->name);
	f->group = t->consumer_group;
	f->consumer = sl_xstrdup(params->node_id);
	start_id(t, f->start_id, sizeof(f->start_id));
	snprintf(f->count, sizeof(f->count), "%d", t->batch_size > MIN_COUNT ? t->batch_size
									     : MIN_COUNT);
	while (cfg->streams[f->n_streams])
		f->n_streams++;
	f->streams = sl_xcalloc(f->n_streams, sizeof(*f->streams));
	for (size_t i = 0; i < f->n_streams; i++) {
		f->streams[i].key = sl_xstrdup(cfg->streams[i]);
		snprintf(f->streams[i].history_from, STREAM_ID_MAX, "0");
		snprintf(f->streams[i].claim_from, STREAM_ID_MAX, "0-0");
		f->streams[i].lag.lag = -1;
	}
	f->health = (struct redis_health){ .tag = f->tag, .address = cfg->address };
	f->tick_ms = (unsigned)cfg->claim_idle_ms / 4 < MAX_TICK_MS ?
		     (unsigned)cfg->claim_idle_ms / 4 : MAX_TICK_MS;
	f->tick = sl_check_alloc(evtimer_new(src->base, on_tick, f));
	f->commits_in_flight = commits_in_flight;
	f->base.ops = &stream_feed_ops;
	f->base.src = (struct sl_trigger_source){
		.ctx = f, .ordered = true, .commit = stream_commit, .resume = on_resume,
	};
	if (open_links(f, cfg, src->base) < 0) {
		sl_error(f->tag, "redis_stream source %s: address \"%s\" is not HOST:PORT",
			 cfg->name, cfg->address);
		feed_free(&f->base);
		return -EINVAL;
	}
	*out = &f->base;
	return 0;
}
