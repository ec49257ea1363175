/* The Kafka source's feed: one consumer per trigger, in the trigger's consumer group.
 *
 * Consumer. librdkafka's high-level consumer with group.id = consumer_group, auto commit and
 * auto offset store off (commits come from the trigger's checkpoints, kafka_commit.c),
 * auto.offset.reset from starting_position, the user's properties after ours. Everything it
 * hands back (records, rebalances, errors, commit results, even its log lines: log.queue) comes
 * through the consumer queue, served on the loop (core/kafka_glue.h): nothing runs on
 * librdkafka's threads.
 *
 * Consuming. On each wake-up the feed polls records until the queue is empty or CONSUME_BUDGET
 * records were taken (then it yields and continues on the next loop turn). Once the trigger
 * refuses one (-ENOBUFS), that record waits in `held` until the trigger's resume offers it
 * again, and the feed stops taking: records wait in librdkafka's queue, whose own bounds
 * (queued.min.messages, queued.max.messages.kbytes) stop its fetching. (Holding more, up to
 * what fits the next resume, saved nothing: polling the queue is cheap.) Only if taking stays
 * stopped for PAUSE_AFTER_MS
 * does fetching pause (rd_kafka_pause_partitions), and the queue is polled again (a tick every
 * second at least), so rebalances, errors and max.poll.interval.ms are served while a slow
 * function holds the trigger full; group heartbeats are librdkafka's own. Pausing at once, at
 * every refusal, starved a fast function: librdkafka drops what it prefetched when a partition
 * pauses, and (2.0) fetches again only at its broker threads' next wake-up, up to a second
 * after the resume (bench/RESULTS.md, Streams: 20k instead of 130k records/s). Order per
 * partition: records are offered in offset order and the trigger keeps it (ordered source).
 *
 * Positions: an event's partition is "<topic>-<partition>" (AWS's records key), its position
 * the offset. Rebalances: kafka_rebalance.c.
 *
 * Errors. Brokers down, transport errors, authentication failures come through error_cb: logged
 * once per episode (warning; authentication and fatal errors as errors), and the first record
 * afterwards logs the recovery; librdkafka reconnects on its own with capped backoff
 * (reconnect.backoff.ms .. reconnect.backoff.max.ms). A missing topic is an error naming it.
 * The last error is in the status.
 *
 * Status (sluice status, GET /status): per assigned partition the high watermark librdkafka
 * last saw, the committed and offered offsets, and the lag (high watermark - committed), null
 * until the first record of the partition in this assignment tells where the group stands.
 *
 * Shutdown: stop pauses everything; free (after the trigger drained) commits what is done and
 * waits, then closes the consumer (which leaves the group, revoking at once) and destroys it.
 */
#include "connectors/kafka/kafka_feed.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config/config.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/trigger.h"

#define CONSUME_BUDGET 4096
/* librdkafka (2.0) stops fetching once its local queue holds queued.min.messages records (100k
 * by default) and looks again only at its broker thread's next wake-up, up to a second later: a
 * fast function then idles between bursts (117k instead of 300k records/s in bench/streams.sh).
 * Counting in records, 100k small ones is little; the prefetch stays bounded by
 * queued.max.messages.kbytes (64 MB by default). The user's properties may set either. */
#define QUEUED_MIN_MESSAGES "1000000"
#define PAUSE_AFTER_MS 500

static const struct timeval kafka_tick = { 1, 0 };
static const struct timeval pause_after = { PAUSE_AFTER_MS / 1000, PAUSE_AFTER_MS % 1000 * 1000 };

static struct kafka_feed *feed_of(struct sl_feed *base)
{
	return (struct kafka_feed *)((char *)base - offsetof(struct kafka_feed, base));
}

/* Log msg at level unless it repeats the last error; it becomes the last error (status). */
static void set_last_error(struct kafka_feed *f, enum sl_log_level level, char *msg)
{
	if (!f->last_error || strcmp(f->last_error, msg) != 0)
		sl_log(level, f->tag, "kafka: %s", msg);
	free(f->last_error);
	f->last_error = msg;
}

void kafka_set_error(struct kafka_feed *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_last_error(f, SL_LOG_ERROR, sl_xvasprintf(fmt, ap));
	va_end(ap);
}

void kafka_set_warning(struct kafka_feed *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_last_error(f, SL_LOG_WARN, sl_xvasprintf(fmt, ap));
	va_end(ap);
}

/* ---- partitions ------------------------------------------------------------------------------ */

struct kafka_part *kafka_part_get(struct kafka_feed *f, const char *topic, int32_t partition)
{
	struct kafka_part *p = f->last_part;

	if (p && p->partition == partition && strcmp(p->topic, topic) == 0)
		return p;
	for (size_t i = 0; i < f->n_parts; i++) {
		p = f->parts[i];
		if (p->partition == partition && strcmp(p->topic, topic) == 0)
			return f->last_part = p;
	}
	p = sl_xcalloc(1, sizeof(*p));
	p->topic = sl_xstrdup(topic);
	p->partition = partition;
	p->name = sl_xasprintf("%s-%d", topic, (int)partition);
	p->id_prefix = sl_event_id_from_position(f->src->cfg->name, p->name, "");
	p->id_prefix_len = strlen(p->id_prefix);
	p->offered_next = p->done_next = p->committed_next = -1;
	f->parts = sl_xrealloc(f->parts, (f->n_parts + 1) * sizeof(*f->parts));
	f->parts[f->n_parts++] = p;
	return f->last_part = p;
}

struct kafka_part *kafka_part_named(struct kafka_feed *f, const char *name)
{
	for (size_t i = 0; i < f->n_parts; i++)
		if (strcmp(f->parts[i]->name, name) == 0)
			return f->parts[i];
	return NULL;
}

void kafka_fetch_pause(struct kafka_feed *f, bool pause)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)f->n_parts);

	for (size_t i = 0; i < f->n_parts; i++)
		if (f->parts[i]->assigned && !f->parts[i]->revoking)
			rd_kafka_topic_partition_list_add(list, f->parts[i]->topic,
							  f->parts[i]->partition);
	if (list->cnt > 0) {
		if (pause)
			rd_kafka_pause_partitions(f->rk, list);
		else
			rd_kafka_resume_partitions(f->rk, list);
	}
	rd_kafka_topic_partition_list_destroy(list);
}

/* ---- records --------------------------------------------------------------------------------- */

static void hold(struct kafka_feed *f, struct sl_event *ev, struct kafka_part *p)
{
	struct held_event *h = sl_xmalloc(sizeof(*h));

	h->ev = ev;
	h->part = p;
	STAILQ_INSERT_TAIL(&f->held, h, link);
}


/* Offer ev; when the trigger is full (or stopped), hold it. */
static void offer(struct kafka_feed *f, struct sl_event *ev, struct kafka_part *p)
{
	if (!f->refused && !f->stopped && sl_trigger_offer(f->trigger, ev) == 0)
		return;
	f->refused = true;
	hold(f, ev, p);
	if (f->stopped && !f->paused) {
		f->paused = true;
		kafka_fetch_pause(f, true);
	}
}

/* May consume() take another record? Not once the trigger refused one, unless fetching is
 * paused (then the queue holds no more records to speak of). */
static bool may_take(const struct kafka_feed *f)
{
	return !f->refused || f->paused;
}

static void record_error(struct kafka_feed *f, const rd_kafka_message_t *m)
{
	const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "?";

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		return;
	if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
	    m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
		kafka_set_error(f, "topic %s of source %s does not exist (%s)", topic,
				f->src->cfg->name, rd_kafka_message_errstr(m));
	else if (m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
		 m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED)
		kafka_set_error(f, "not authorized for topic %s or group %s: %s", topic,
				f->trigger_cfg->consumer_group, rd_kafka_message_errstr(m));
	else
		kafka_set_error(f, "%s: %s", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
}

/* at_timestamp read from the beginning: is m still before the timestamp? */
static bool skipped(struct kafka_part *p, const rd_kafka_message_t *m)
{
	if (p->skip_before_ms == 0)
		return false;
	if (rd_kafka_message_timestamp(m, NULL) >= p->skip_before_ms) {
		p->skip_before_ms = 0;
		return false;
	}
	p->done_next = m->offset + 1;
	return true;
}

static void take(struct kafka_feed *f, const rd_kafka_message_t *m)
{
	struct kafka_part *p = kafka_part_get(f, rd_kafka_topic_name(m->rkt), m->partition);

	if (!p->assigned || p->revoking)
		return;    /* fetched before the revocation: the next owner reads it */
	if (skipped(p, m))
		return;
	if (p->offered_next < 0 && p->done_next < 0)
		p->done_next = m->offset; /* where the group stands: everything before is done */
	p->offered_next = m->offset + 1;
	if (f->troubled) {
		f->troubled = false;
		sl_info(f->tag, "kafka: records flow again");
	}
	offer(f, kafka_record_event(f, p, m), p);
}

static void consume(void *arg)
{
	struct kafka_feed *f = arg;
	rd_kafka_message_t *m;

	if (!f->attached)
		return;    /* attach polls what came meanwhile */
	for (int n = 0; n < CONSUME_BUDGET; n++) {
		if (!may_take(f)) {
			if (!evtimer_pending(f->pause_timer, NULL))
				evtimer_add(f->pause_timer, &pause_after);
			return;
		}
		if (!(m = rd_kafka_consumer_poll(f->rk, 0)))
			return;
		if (m->err)
			record_error(f, m);
		else
			take(f, m);
		rd_kafka_message_destroy(m);
	}
	event_active(f->more, 0, 0);
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	consume(arg);
}

/* Taking stopped PAUSE_AFTER_MS ago and the trigger is still full: pause fetching, so the queue
 * can be served again. */
static void on_pause_timer(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_feed *f = arg;

	(void)fd;
	(void)what;
	if (!f->refused || f->paused || f->stopped)
		return;
	f->paused = true;
	kafka_fetch_pause(f, true);
	consume(f);
}

/* The trigger has room again: offer what is held, then fetch again. */
static void feed_resume(void *ctx)
{
	struct kafka_feed *f = ctx;
	struct held_event *h;

	if (!f->refused || f->stopped)
		return;
	while ((h = STAILQ_FIRST(&f->held)) != NULL) {
		if (sl_trigger_offer(f->trigger, h->ev) < 0) {
			consume(f); /* some went in: take up to what fits the next resume */
			return;
		}
		STAILQ_REMOVE_HEAD(&f->held, link);
		free(h);
	}
	f->refused = false;
	evtimer_del(f->pause_timer);
	if (f->paused) {
		f->paused = false;
		kafka_fetch_pause(f, false);
	}
	consume(f);
}

/* ---- librdkafka callbacks (on the loop) ------------------------------------------------------ */

/* Brokers down, transport and authentication errors: logged once per episode (the first record
 * afterwards ends it), at debug level while it lasts; the status shows the latest. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_feed *f = opaque;
	char fatal[512];
	enum sl_log_level level = f->troubled ? SL_LOG_DEBUG : SL_LOG_WARN;

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		set_last_error(f, SL_LOG_ERROR,
			       sl_xasprintf("consumer failed for good until restart: %s", fatal));
	} else if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
		set_last_error(f, f->troubled ? SL_LOG_DEBUG : SL_LOG_ERROR,
			       sl_xasprintf("authentication failed: %s", reason));
	} else {
		set_last_error(f, level, sl_xasprintf("%s: %s: %s", f->src->cfg->brokers,
						      rd_kafka_err2name(err), reason));
	}
	f->troubled = true;
}

/* ---- feed ops -------------------------------------------------------------------------------- */

static void feed_attach(struct sl_feed *base, struct sl_trigger *trigger)
{
	struct kafka_feed *f = feed_of(base);

	f->trigger = trigger;
	f->attached = true;
	consume(f);
}

static void feed_stop(struct sl_feed *base)
{
	struct kafka_feed *f = feed_of(base);

	f->stopped = true;
	kafka_fetch_pause(f, true);
}

static json_t *partition_status(struct kafka_feed *f, const struct kafka_part *p)
{
	int64_t lo = -1, hi = -1;
	json_t *lag = json_null();

	rd_kafka_get_watermark_offsets(f->rk, p->topic, p->partition, &lo, &hi);
	if (hi >= 0 && p->done_next >= 0)
		lag = json_integer(hi > p->done_next ? hi - p->done_next : 0);
	return json_pack("{s:s, s:o, s:I, s:I, s:I, s:b}", "name", p->name, "lag", lag,
			 "high_watermark", (json_int_t)hi, "committed_offset",
			 (json_int_t)p->committed_next, "offered_offset",
			 (json_int_t)p->offered_next, "revoking", p->revoking);
}

static json_t *feed_status(struct sl_feed *base)
{
	struct kafka_feed *f = feed_of(base);
	json_t *parts = sl_check_alloc(json_array());
	json_int_t total = 0;
	bool known = true;
	char *member = rd_kafka_memberid(f->rk);

	for (size_t i = 0; i < f->n_parts; i++) {
		if (!f->parts[i]->assigned)
			continue;
		json_t *ps = partition_status(f, f->parts[i]);
		const json_t *lag = json_object_get(ps, "lag");
		known = known && json_is_integer(lag);
		total += json_integer_value(lag);
		json_array_append_new(parts, ps);
	}
	json_t *status = json_pack("{s:s, s:s, s:s?, s:o, s:s?, s:b, s:o}", "kind", "kafka",
				   "group", f->trigger_cfg->consumer_group, "member", member,
				   "lag", known ? json_integer(total) : json_null(),
				   "last_error", f->last_error, "paused", f->paused,
				   "partitions", parts);
	rd_kafka_mem_free(f->rk, member);
	return status;
}

static void feed_free(struct sl_feed *base)
{
	struct kafka_feed *f = feed_of(base);
	struct held_event *h;

	if (f->rk) {
		f->closing = true;
		kafka_commit_flush(f, true);
		rd_kafka_consumer_close(f->rk);
		rd_kafka_queue_destroy(f->queue);
		rd_kafka_destroy(f->rk);
	}
	sl_kafka_wake_close(&f->wake);
	while ((h = STAILQ_FIRST(&f->held)) != NULL) {
		STAILQ_REMOVE_HEAD(&f->held, link);
		sl_event_unref(h->ev);
		free(h);
	}
	for (size_t i = 0; i < f->n_parts; i++) {
		free(f->parts[i]->name);
		free(f->parts[i]->id_prefix);
		free(f->parts[i]->topic);
		free(f->parts[i]);
	}
	if (f->revoked)
		rd_kafka_topic_partition_list_destroy(f->revoked);
	if (f->more)
		event_free(f->more);
	if (f->pause_timer)
		event_free(f->pause_timer);
	if (f->commit_timer)
		event_free(f->commit_timer);
	if (f->revoke_timer)
		event_free(f->revoke_timer);
	free(f->parts);
	free(f->ce_source);
	free(f->last_error);
	free(f->tag);
	free(f);
}

static const struct sl_feed_ops kafka_feed_ops = {
	.attach = feed_attach,
	.stop = feed_stop,
	.status = feed_status,
	.free = feed_free,
};

/* ---- open ------------------------------------------------------------------------------------ */

static rd_kafka_conf_t *make_conf(struct kafka_feed *f, const char *node_id)
{
	const struct sl_source_config *cfg = f->src->cfg;
	const struct sl_trigger_config *t = f->trigger_cfg;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char *client_id = sl_xasprintf("sluice-%s-%s", node_id, t->name);
	const char *reset = t->starting_position == SL_START_LATEST ? "latest" : "earliest";
	int rc = 0;

	rc |= sl_kafka_conf_set(conf, f->tag, "bootstrap.servers", cfg->brokers);
	rc |= sl_kafka_conf_set(conf, f->tag, "group.id", t->consumer_group);
	rc |= sl_kafka_conf_set(conf, f->tag, "client.id", client_id);
	rc |= sl_kafka_conf_set(conf, f->tag, "enable.auto.commit", "false");
	rc |= sl_kafka_conf_set(conf, f->tag, "enable.auto.offset.store", "false");
	rc |= sl_kafka_conf_set(conf, f->tag, "auto.offset.reset", reset);
	rc |= sl_kafka_conf_set(conf, f->tag, "log.queue", "true");
	rc |= sl_kafka_conf_set(conf, f->tag, "queued.min.messages", QUEUED_MIN_MESSAGES);
	rc |= sl_kafka_conf_set_user(conf, f->tag, cfg->properties,
					  sl_kafka_consumer_reserved);
	free(client_id);
	if (rc) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, f);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, sl_kafka_log);
	rd_kafka_conf_set_rebalance_cb(conf, kafka_on_rebalance);
	rd_kafka_conf_set_offset_commit_cb(conf, kafka_on_commit);
	return conf;
}

static int subscribe(struct kafka_feed *f)
{
	char *const *topics = f->src->cfg->topics;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(4);

	for (size_t i = 0; topics[i]; i++)
		rd_kafka_topic_partition_list_add(list, topics[i], RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(f->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (err) {
		sl_error(f->tag, "kafka: cannot subscribe: %s", rd_kafka_err2str(err));
		return -EINVAL;
	}
	return 0;
}

static int start_consumer(struct kafka_feed *f, const char *node_id)
{
	rd_kafka_conf_t *conf = make_conf(f, node_id);
	char err[512];

	if (!conf)
		return -EINVAL;
	f->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!f->rk) {
		rd_kafka_conf_destroy(conf);
		sl_error(f->tag, "kafka: cannot create the consumer: %s", err);
		return -EINVAL;
	}
	rd_kafka_poll_set_consumer(f->rk);
	rd_kafka_set_log_queue(f->rk, NULL);
	f->queue = rd_kafka_queue_get_consumer(f->rk);
	int rc = sl_kafka_wake_open(&f->wake, f->src->base, f->queue, &kafka_tick, consume, f);
	if (rc < 0)
		return rc;
	return subscribe(f);
}

int sl_kafka_feed_open(struct sl_source *src, const struct sl_feed_params *params,
		       struct sl_feed **out)
{
	struct kafka_feed *f = sl_xcalloc(1, sizeof(*f));

	f->tag = sl_xasprintf("trigger:%s", params->trigger->name);
	f->src = src;
	f->trigger_cfg = params->trigger;
	f->ce_source = sl_xasprintf("/sluice/sources/%s", src->cfg->name);
	STAILQ_INIT(&f->held);
	f->more = sl_check_alloc(event_new(src->base, -1, 0, on_more, f));
	f->pause_timer = sl_check_alloc(evtimer_new(src->base, on_pause_timer, f));
	kafka_commit_init(f);
	kafka_rebalance_init(f);
	f->base.ops = &kafka_feed_ops;
	f->base.src = (struct sl_trigger_source){
		.ctx = f, .ordered = true, .commit = kafka_commit_done, .resume = feed_resume,
	};
	int rc = start_consumer(f, params->node_id);
	if (rc < 0) {
		feed_free(&f->base);
		return rc;
	}
	*out = &f->base;
	return 0;
}
