/* Spool feed: spool reader -> trigger, with commit and backpressure; see spool_feed.h. */
#include "connectors/spool_feed.h"

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

int sl_spool_feed_new(struct sl_source *src, const char *reader_name, struct sl_spool_feed **out)
{
	struct sl_spool_feed *feed = sl_xcalloc(1, sizeof(*feed));
	int rc = sl_spool_reader_open(src->spool, reader_name, &feed->reader);
	if (rc < 0) {
		free(feed);
		return rc;
	}
	feed->src = src;
	feed->committed = sl_spool_committed(feed->reader);
	*out = feed;
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

void sl_spool_feed_pump(struct sl_spool_feed *feed)
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
	sl_spool_feed_pump(feed);
}

void sl_spool_feed_callbacks(struct sl_spool_feed *feed, struct sl_trigger_source *out)
{
	out->ctx = feed;
	out->ordered = false;      /* each spooled request stands alone, like a queue message */
	out->commit = feed_commit;
	out->resume = feed_resume;
}

void sl_spool_feed_attach(struct sl_spool_feed *feed, struct sl_trigger *trigger)
{
	feed->trigger = trigger;
	sl_spool_feed_pump(feed);
}

void sl_spool_feed_stop(struct sl_spool_feed *feed)
{
	feed->stopped = 1;
}

void sl_spool_feed_free(struct sl_spool_feed *feed)
{
	if (!feed)
		return;
	release_record(feed);
	sl_spool_reader_close(feed->reader);
	free(feed);
}
