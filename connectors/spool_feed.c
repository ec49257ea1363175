/* Spool feed: spool reader -> trigger, with commit and backpressure; see spool_feed.h. */
#include "connectors/spool_feed.h"

#include <jansson.h>

#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/spool_record.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/spool.h"
#include "dispatcher/trigger.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct sl_spool_feed {
	struct sl_feed base;
	struct sl_source *src;
	struct sl_spool_reader *reader;
	struct sl_trigger *trigger;
	struct sl_event **record;  /* events of the record being offered */
	size_t record_len;
	size_t record_next;        /* first event not yet taken by the trigger */
	uint64_t committed;        /* last seq committed to the reader */
	int paused;                /* the trigger refused; wait for resume */
	int stopped;
};

static const struct sl_feed_ops spool_feed_ops;
static void feed_commit(void *ctx, const struct sl_event *ev);
static void feed_resume(void *ctx);

int sl_spool_feed_new(struct sl_source *src, const char *reader_name, struct sl_feed **out)
{
	struct sl_spool_feed *feed = sl_xcalloc(1, sizeof(*feed));
	int rc = sl_spool_reader_open(src->spool, reader_name, &feed->reader);
	if (rc < 0) {
		free(feed);
		return rc;
	}
	feed->src = src;
	feed->committed = sl_spool_committed(feed->reader);
	feed->base.ops = &spool_feed_ops;
	feed->base.src = (struct sl_trigger_source){
		.ctx = feed,
		.ordered = false,  /* each spooled request stands alone, like a queue message */
		.commit = feed_commit,
		.resume = feed_resume,
	};
	*out = &feed->base;
	return 0;
}

static void release_record(struct sl_spool_feed *feed)
{
	for (size_t i = feed->record_next; i < feed->record_len; i++)
		sl_event_unref(feed->record[i]);
	free(feed->record);
	feed->record = NULL;
	feed->record_len = feed->record_next = 0;
}

/* Offer the rest of the current record. 0 when all taken, -ENOBUFS when the trigger is full. */
static int offer_record(struct sl_spool_feed *feed)
{
	while (feed->record_next < feed->record_len) {
		if (sl_trigger_offer(feed->trigger, feed->record[feed->record_next]) < 0) {
			feed->paused = 1;
			return -ENOBUFS;
		}
		feed->record_next++;
	}
	release_record(feed);
	return 0;
}

/* Read the next durable record into feed->record. 1 when there is one, 0 when none, <0. */
static int read_record(struct sl_spool_feed *feed)
{
	char err[256];
	void *data;
	size_t len;
	uint64_t seq;

	for (;;) {
		int rc = sl_spool_read(feed->reader, &data, &len, &seq);
		if (rc <= 0)
			return rc;
		rc = sl_spool_record_decode(data, len, seq, feed->src->cfg->name, &feed->record,
					    &feed->record_len, err, sizeof(err));
		free(data);
		if (rc == 0 && feed->record_len > 0)
			return 1;
		if (rc < 0) /* CRC passed but content is not ours: a bug, not a torn write */
			sl_error(feed->src->tag, "spool record %" PRIu64 " unreadable: %s; skipped",
				 seq, err);
		else
			free(feed->record);
		feed->record = NULL;
	}
}

static void pump(struct sl_spool_feed *feed)
{
	while (feed->trigger && !feed->paused && !feed->stopped) {
		if (feed->record && offer_record(feed) < 0)
			return;
		int rc = read_record(feed);
		if (rc < 0)
			sl_error(feed->src->tag, "reading spool: %s", strerror(-rc));
		if (rc <= 0)
			return;
	}
}

/* Everything up to ev is done: the record it ends is committed, else the one before it. */
static void feed_commit(void *ctx, const struct sl_event *ev)
{
	struct sl_spool_feed *feed = ctx;
	uint64_t seq;
	size_t index, count;

	if (sl_spool_record_position(ev->position, &seq, &index, &count) < 0) {
		sl_error(feed->src->tag, "commit of foreign position \"%s\" ignored", ev->position);
		return;
	}
	uint64_t done = index + 1 == count ? seq : seq - 1;
	if (done <= feed->committed)
		return;
	int rc = sl_spool_commit(feed->reader, done);
	if (rc < 0) {
		sl_error(feed->src->tag, "cannot persist checkpoint %" PRIu64 ": %s", done,
			 strerror(-rc));
		return;
	}
	feed->committed = done;
}

static void feed_resume(void *ctx)
{
	struct sl_spool_feed *feed = ctx;

	if (!feed->paused || feed->stopped)
		return;
	feed->paused = 0;
	pump(feed);
}

static void feed_attach(struct sl_feed *base, struct sl_trigger *trigger)
{
	struct sl_spool_feed *feed = (struct sl_spool_feed *)base;

	feed->trigger = trigger;
	pump(feed);
}

static void feed_pump(struct sl_feed *base)
{
	pump((struct sl_spool_feed *)base);
}

static void feed_stop(struct sl_feed *base)
{
	((struct sl_spool_feed *)base)->stopped = 1;
}

/* Lag: spool records durable and not yet committed by this trigger. */
static json_t *feed_status(struct sl_feed *base)
{
	struct sl_spool_feed *feed = (struct sl_spool_feed *)base;
	uint64_t durable = sl_spool_durable(feed->src->spool);

	return json_pack("{s:s, s:I, s:I}", "kind", "spool", "lag",
			 (json_int_t)(durable > feed->committed ? durable - feed->committed : 0),
			 "committed_record", (json_int_t)feed->committed);
}

static void feed_free(struct sl_feed *base)
{
	struct sl_spool_feed *feed = (struct sl_spool_feed *)base;

	release_record(feed);
	sl_spool_reader_close(feed->reader);
	free(feed);
}

static const struct sl_feed_ops spool_feed_ops = {
	.attach = feed_attach,
	.pump = feed_pump,
	.stop = feed_stop,
	.status = feed_status,
	.free = feed_free,
};
