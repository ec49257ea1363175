/* Internals of the Redis Streams feed (stream_feed.h), shared by its files:
 *   stream_feed.c   lifecycle, the reader (groups, XREADGROUP), offering to the trigger
 *   stream_ack.c    the ids offered per stream, commits as XACKs
 *   stream_claim.c  the tick: refreshing own entries, claiming others' (XCLAIM, XAUTOCLAIM)
 *   stream_lag.c    lag figures (XINFO GROUPS) and the status op
 * Everything runs on the loop. Reply callbacks that get a NULL reply only undo their own
 * bookkeeping and report the loss to their link: the feed may be freeing.
 */
#ifndef SL_REDIS_STREAM_INT_H
#define SL_REDIS_STREAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/async.h>
#include <jansson.h>

#include "connectors/connector.h"
#include "connectors/redis/backlog.h"
#include "connectors/redis/redis_health.h"

#define STREAM_ID_MAX 48             /* "<ms>-<seq>", two 20-digit numbers */
#define STREAM_KEY_WHAT_MAX 512      /* "cannot ... stream \"<key>\"" for messages */

struct tracked_id {
	char id[STREAM_ID_MAX];
	int64_t touched_ms;          /* monotonic: when Redis last counted it delivered to us */
};

struct stream_lag {
	bool known;                  /* a figure came since the last failure */
	long long pending;           /* the group's pending entries (all consumers) */
	long long lag;               /* entries not yet delivered to the group, -1 unknown */
	char last_delivered[STREAM_ID_MAX];
};

struct stream {
	char *key;
	/* Ids offered to the trigger and not yet acknowledged, in offer order (a ring): the first
	 * n_committed are done, of which the first n_acking are in an XACK not yet answered. */
	struct tracked_id *ids;
	size_t ids_cap, ids_head, n_ids;
	size_t n_committed, n_acking;
	char history_from[STREAM_ID_MAX];   /* own pending entries after this id; "" when read */
	char claim_from[STREAM_ID_MAX];     /* XAUTOCLAIM cursor */
	struct stream_lag lag;
};

struct stream_feed {
	struct sl_feed base;
	const struct sl_source_config *cfg;
	const char *source_name;
	char *ce_source;             /* the events' CloudEvents source */
	char *tag;                   /* "trigger:<name>" */
	const char *group;           /* the trigger config's */
	char *consumer;              /* the node id */
	char start_id[STREAM_ID_MAX];
	char count[16];              /* XREADGROUP COUNT, decimal */
	struct stream *streams;
	size_t n_streams;
	struct sl_redis_link *reader, *cmd;
	struct redis_health health;
	struct sl_trigger *trigger;
	struct backlog backlog;      /* read, not yet taken by the trigger */
	size_t groups_left;          /* XGROUP CREATE replies awaited */
	bool groups_ready;           /* every group exists (on the current reader connection) */
	bool reading;                /* an XREADGROUP is out */
	size_t claims_out, lag_queries_out;
	bool paused, stopped;
	unsigned tick_ms, ticks;
	struct event *tick;
	size_t *commits_in_flight;
};

/* A command about one stream: its reply callback's privdata (freed there). */
struct stream_job {
	struct stream_feed *f;
	struct stream *s;
	size_t count;                /* XACK: ids acknowledged */
};

struct stream_job *stream_job_new(struct stream_feed *f, struct stream *s, size_t count);
int64_t stream_mono_ms(void);
struct stream *stream_named(struct stream_feed *f, const char *key);
/* Offer what was read until the trigger is full, then read more. */
void stream_pump(struct stream_feed *f);
/* Queue the event of entry (a reply) read from s for the trigger and track its id; an entry
 * without fields (deleted while pending) is acknowledged instead. */
void stream_take_entry(struct stream_feed *f, struct stream *s, const redisReply *entry);

/* stream_ack.c */
void stream_track(struct stream *s, const char *id);
bool stream_tracks(const struct stream *s, const char *id);
struct tracked_id *stream_tracked(struct stream *s, size_t i);
void stream_commit(void *ctx, const struct sl_event *ev);
void stream_send_acks(struct stream_feed *f, struct stream *s);
void stream_ack_untracked(struct stream_feed *f, struct stream *s, const char *id);

/* stream_claim.c */
void stream_refresh_own(struct stream_feed *f);
void stream_claim(struct stream_feed *f);

/* stream_lag.c */
void stream_query_lag(struct stream_feed *f);
json_t *stream_status(struct sl_feed *base);

#endif
