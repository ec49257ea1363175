/* Rebalances of the consumer group, served on the loop from the consumer queue.
 *
 * Assign: the partitions start where the group committed; without a commit, where
 * starting_position says (auto.offset.reset earliest or latest; at_timestamp looks the offset up
 * with offsetsForTimes, which waits for the brokers, once per assignment). When the brokers know
 * no record at or after the timestamp (or cannot look up times: librdkafka's mock cluster), the
 * partition is read from the beginning and records older than the timestamp are skipped, as done,
 * up to the first that is not: the same start, found the slow way. If the trigger is full the new
 * partitions start paused.
 *
 * Revoke: fetching of those partitions stops at once and the records taken from Kafka but not
 * yet offered are dropped (the next owner reads them). The partitions are released once every
 * record offered from them is done, or after REVOKE_WAIT_MS (the rest of the group waits for
 * this member meanwhile), whichever comes first; what is done is committed (waiting for the
 * brokers) just before. Records still in the trigger then are delivered anyway, and the new owner
 * delivers them too: at least once. A lost assignment (this member was thrown out of the group)
 * is released at once: its commits would fail.
 *
 * Both eager and cooperative protocols are handled (partition.assignment.strategy is the user's);
 * during shutdown (closing) partitions are released at once.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "connectors/kafka/kafka_feed.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"

#define REVOKE_WAIT_MS 5000
#define REVOKE_POLL_MS 50
#define OFFSETS_FOR_TIMES_TIMEOUT_MS 10000

static bool cooperative(const struct kafka_feed *f)
{
	return strcmp(rd_kafka_rebalance_protocol(f->rk), "COOPERATIVE") == 0;
}

/* at_timestamp: partitions without a committed offset start at the first record at or after
 * the timestamp (the end, when there is none). */
static void resolve_timestamps(struct kafka_feed *f, rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_resp_err_t err = rd_kafka_committed(f->rk, parts, OFFSETS_FOR_TIMES_TIMEOUT_MS);
	rd_kafka_topic_partition_list_t *lookup = rd_kafka_topic_partition_list_new(parts->cnt);

	if (err)
		kafka_set_error(f, "cannot read committed offsets: %s", rd_kafka_err2str(err));
	for (int i = 0; i < parts->cnt; i++)
		if (parts->elems[i].offset < 0)
			rd_kafka_topic_partition_list_add(lookup, parts->elems[i].topic,
							  parts->elems[i].partition)->offset =
				f->trigger_cfg->starting_position_timestamp_ms;
	if (lookup->cnt > 0 &&
	    (err = rd_kafka_offsets_for_times(f->rk, lookup, OFFSETS_FOR_TIMES_TIMEOUT_MS)))
		kafka_set_error(f, "cannot find offsets for %s: %s",
				f->trigger_cfg->starting_position_timestamp, rd_kafka_err2str(err));
	for (int i = 0; i < lookup->cnt; i++) {
		const rd_kafka_topic_partition_t *found = &lookup->elems[i];
		rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(
			parts, found->topic, found->partition);
		if (!err && found->offset >= 0) {
			tp->offset = found->offset;
			continue;
		}
		tp->offset = RD_KAFKA_OFFSET_BEGINNING;
		kafka_part_get(f, found->topic, found->partition)->skip_before_ms =
			f->trigger_cfg->starting_position_timestamp_ms;
	}
	rd_kafka_topic_partition_list_destroy(lookup);
}

static void assign(struct kafka_feed *f, rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

	for (int i = 0; i < parts->cnt; i++) {
		struct kafka_part *p = kafka_part_get(f, parts->elems[i].topic,
						      parts->elems[i].partition);
		p->assigned = true;
		p->revoking = false;
		p->offered_next = p->done_next = p->committed_next = -1;
		p->skip_before_ms = 0;
	}
	if (f->trigger_cfg->starting_position == SL_START_AT_TIMESTAMP && !f->closing)
		resolve_timestamps(f, parts);
	if (cooperative(f))
		error = rd_kafka_incremental_assign(f->rk, parts);
	else
		err = rd_kafka_assign(f->rk, parts);
	if (error || err) {
		kafka_set_error(f, "cannot take the assigned partitions: %s",
				error ? rd_kafka_error_string(error) : rd_kafka_err2str(err));
		rd_kafka_error_destroy(error);
		return;
	}
	sl_info(f->tag, "assigned %d partition%s", parts->cnt, parts->cnt == 1 ? "" : "s");
	/* librdkafka keeps a partition's pause across assignments: a partition paused when it was
	 * revoked would stay silent */
	if (f->paused || f->stopped)
		rd_kafka_pause_partitions(f->rk, parts);
	else
		rd_kafka_resume_partitions(f->rk, parts);
}

/* Drop held records of partitions no longer ours (their next owner reads them). */
static void drop_held(struct kafka_feed *f)
{
	struct held_list keep = STAILQ_HEAD_INITIALIZER(keep);
	struct held_event *h;

	while ((h = STAILQ_FIRST(&f->held)) != NULL) {
		STAILQ_REMOVE_HEAD(&f->held, link);
		if (h->part->assigned && !h->part->revoking) {
			STAILQ_INSERT_TAIL(&keep, h, link);
			continue;
		}
		sl_event_unref(h->ev);
		free(h);
	}
	STAILQ_CONCAT(&f->held, &keep);
}

/* Give the revoked partitions back to the group (after committing what is done). */
static void release(struct kafka_feed *f, bool commit)
{
	rd_kafka_topic_partition_list_t *parts = f->revoked;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

	f->revoked = NULL;
	event_del(f->revoke_timer);
	if (commit)
		kafka_commit_flush(f, true);
	for (int i = 0; i < parts->cnt; i++) {
		struct kafka_part *p = kafka_part_get(f, parts->elems[i].topic,
						      parts->elems[i].partition);
		p->assigned = p->revoking = false;
	}
	if (cooperative(f))
		error = rd_kafka_incremental_unassign(f->rk, parts);
	else
		err = rd_kafka_assign(f->rk, NULL);
	if (error || err)
		kafka_set_error(f, "cannot release partitions: %s",
				error ? rd_kafka_error_string(error) : rd_kafka_err2str(err));
	rd_kafka_error_destroy(error);
	sl_info(f->tag, "released %d partition%s", parts->cnt, parts->cnt == 1 ? "" : "s");
	rd_kafka_topic_partition_list_destroy(parts);
}

static bool revoked_done(struct kafka_feed *f)
{
	for (int i = 0; i < f->revoked->cnt; i++) {
		struct kafka_part *p = kafka_part_get(f, f->revoked->elems[i].topic,
						      f->revoked->elems[i].partition);
		if (p->offered_next >= 0 && p->done_next < p->offered_next)
			return false;
	}
	return true;
}

void kafka_revoke_check(struct kafka_feed *f)
{
	if (!f->revoked)
		return;
	if (revoked_done(f)) {
		release(f, true);
	} else if (sl_wall_ms() >= f->revoke_deadline_ms) {
		sl_warn(f->tag, "released revoked partitions with records still in flight after "
			"%d ms; their next owner delivers those again", REVOKE_WAIT_MS);
		release(f, true);
	}
}

static void on_revoke_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	kafka_revoke_check(arg);
}

static void revoke(struct kafka_feed *f, rd_kafka_topic_partition_list_t *parts)
{
	bool lost = rd_kafka_assignment_lost(f->rk);

	if (f->revoked)  /* a second revocation before the first was released */
		release(f, !lost);
	for (int i = 0; i < parts->cnt; i++)
		kafka_part_get(f, parts->elems[i].topic, parts->elems[i].partition)->revoking = true;
	rd_kafka_pause_partitions(f->rk, parts);
	drop_held(f);
	f->revoked = rd_kafka_topic_partition_list_copy(parts);
	f->revoke_deadline_ms = sl_wall_ms() + REVOKE_WAIT_MS;
	if (lost) {
		sl_warn(f->tag, "lost %d partitions (this node left the group); their records in "
			"flight are delivered again by their next owner", parts->cnt);
		release(f, false);
		return;
	}
	if (f->closing || revoked_done(f)) {
		release(f, true);
		return;
	}
	struct timeval tv = { 0, REVOKE_POLL_MS * 1000 };
	event_add(f->revoke_timer, &tv);
}

void kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct kafka_feed *f = opaque;

	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
		assign(f, parts);
	else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
		revoke(f, parts);
	else {
		kafka_set_error(f, "rebalance failed: %s", rd_kafka_err2str(err));
		rd_kafka_assign(f->rk, NULL);
	}
}

void kafka_rebalance_init(struct kafka_feed *f)
{
	f->revoke_timer = sl_check_alloc(event_new(f->src->base, -1, EV_PERSIST,
						   on_revoke_timer, f));
}
