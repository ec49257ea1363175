/* Kafka commits: the trigger's commit(ev) says every record of ev's partition up to ev is done;
 * the offset after it becomes the partition's done_next. A timer commits the partitions whose
 * done_next moved, every COMMIT_INTERVAL_MS, in the background (one OffsetCommit for all of
 * them), so a busy trigger does not commit per batch; a revocation and the shutdown commit at
 * once and wait (COMMIT_SYNC_TIMEOUT_MS at most). A failed commit is tried again on the next tick. Commits of partitions this
 * consumer no longer owns are dropped: their records were done, the new owner starts from the
 * last commit and delivers them again (at least once), and a late commit could move the group's
 * offset back under the new owner. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "connectors/kafka/kafka_feed.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"

#define COMMIT_INTERVAL_MS 200
#define COMMIT_SYNC_TIMEOUT_MS 5000

/* The partitions with something new to commit, at their done offsets; NULL when none. */
static rd_kafka_topic_partition_list_t *due(struct kafka_feed *f)
{
	rd_kafka_topic_partition_list_t *list = NULL;

	for (size_t i = 0; i < f->n_parts; i++) {
		struct kafka_part *p = f->parts[i];
		if (!p->assigned || p->done_next < 0 || p->done_next <= p->committed_next)
			continue;
		if (!list)
			list = rd_kafka_topic_partition_list_new((int)f->n_parts);
		rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset =
			p->done_next;
	}
	return list;
}

/* Mark the offsets of list as committed (or, failed, as not). */
static void settle(struct kafka_feed *f, const rd_kafka_topic_partition_list_t *list,
		   bool ok)
{
	for (int i = 0; i < list->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &list->elems[i];
		struct kafka_part *p = kafka_part_get(f, tp->topic, tp->partition);
		if (ok && tp->err == RD_KAFKA_RESP_ERR_NO_ERROR && tp->offset > p->committed_next)
			p->committed_next = tp->offset;
		else if ((!ok || tp->err) && p->committed_next == tp->offset)
			p->committed_next = -1; /* try again */
	}
}

/* The group is changing hands: the commit is refused for now and tried again, as a rebalance
 * goes. Not worth a warning. */
static bool rebalancing(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
	       err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
	       err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
	       err == RD_KAFKA_RESP_ERR__WAIT_COORD;
}

static void commit_failed(struct kafka_feed *f, rd_kafka_resp_err_t err)
{
	if (rebalancing(err))
		sl_debug(f->tag, "kafka: offset commit refused during a rebalance (tried again): %s",
			 rd_kafka_err2str(err));
	else
		kafka_set_warning(f, "offset commit failed (tried again): %s",
				  rd_kafka_err2str(err));
}

/* Commit list and wait for the answer, COMMIT_SYNC_TIMEOUT_MS at most (brokers that are down
 * must not hold a shutdown or a rebalance for long). */
static rd_kafka_resp_err_t commit_and_wait(struct kafka_feed *f,
					   rd_kafka_topic_partition_list_t *list)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(f->rk);
	rd_kafka_resp_err_t err = rd_kafka_commit_queue(f->rk, list, q, NULL, NULL);

	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_event_t *ev = rd_kafka_queue_poll(q, COMMIT_SYNC_TIMEOUT_MS);
		err = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
		if (ev)
			rd_kafka_event_destroy(ev);
	}
	rd_kafka_queue_destroy(q);
	return err;
}

void kafka_commit_flush(struct kafka_feed *f, bool sync)
{
	rd_kafka_topic_partition_list_t *list = due(f);

	if (!list)
		return;
	if (!sync) {
		settle(f, list, true); /* optimistic; kafka_on_commit undoes a failure */
		rd_kafka_resp_err_t err = rd_kafka_commit(f->rk, list, 1);
		if (err)
			settle(f, list, false);
		rd_kafka_topic_partition_list_destroy(list);
		return;
	}
	rd_kafka_resp_err_t err = commit_and_wait(f, list);
	if (err)
		commit_failed(f, err);
	settle(f, list, err == RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_topic_partition_list_destroy(list);
}

void kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
		     rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	struct kafka_feed *f = opaque;

	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__NO_OFFSET || !offsets)
		return;
	if (err)
		commit_failed(f, err);
	settle(f, offsets, err == RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void on_commit_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	kafka_commit_flush(arg, false);
}

void kafka_commit_init(struct kafka_feed *f)
{
	f->commit_timer = sl_check_alloc(event_new(f->src->base, -1, EV_PERSIST,
						   on_commit_timer, f));
	struct timeval tv = { 0, COMMIT_INTERVAL_MS * 1000 };
	event_add(f->commit_timer, &tv);
}

void kafka_commit_done(void *ctx, const struct sl_event *ev)
{
	struct kafka_feed *f = ctx;
	struct kafka_part *p = kafka_part_named(f, ev->partition);
	char *end;
	long long offset = strtoll(ev->position, &end, 10);

	if (!p || *end || offset < 0) {
		sl_error(f->tag, "commit of foreign position %s/%s ignored", ev->partition,
			 ev->position);
		return;
	}
	if (!p->assigned)
		return;
	if (offset + 1 > p->done_next)
		p->done_next = offset + 1;
	if (p->revoking)
		kafka_revoke_check(f);
}
