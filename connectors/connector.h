/* Connectors: where events come from.
 *
 * A connector kind is one `const struct sl_connector_ops` listed in the table in
 * connectors/registry.c; a source instance (struct sl_source) pairs those immutable ops with its
 * config, its log tag ("source:web") and the connector's own context.
 *
 * Feeds. What moves a source's events into one trigger, and carries the trigger's commits back,
 * is a feed (struct sl_feed), one per trigger:
 *   - Push sources (http, schedule) write every event to the source's spool before they
 *     acknowledge it; the spool is their intake queue. Each trigger on the source reads it
 *     through its own spool reader (connectors/spool_feed.h) and commits there, so a source
 *     feeding two triggers keeps one copy of each event and two positions.
 *   - Pull sources (kafka, redis_stream, redis_queue) have no spool: the data stays at the source
 *     until committed there. The connector's open_feed makes one consumer per trigger, in the
 *     trigger's consumer group, and a commit becomes the source's own (Kafka offset commit,
 *     XACK, queue delete). Several Sluice nodes on one group share the work.
 * A connector never decides delivery policy.
 */
#ifndef SL_CONNECTOR_H
#define SL_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dispatcher/trigger.h"

struct event_base;
struct evhttp_request;
struct sl_source_config;
struct sl_trigger_config;
struct sl_spool;
struct sl_source;
struct sl_feed;

struct sl_feed_ops {
	/* Start offering events to trigger (sl_trigger_offer), which was made with feed->src. */
	void (*attach)(struct sl_feed *feed, struct sl_trigger *trigger);
	/* Push sources: new durable records may be in the spool. NULL for pull feeds. */
	void (*pump)(struct sl_feed *feed);
	/* Shutdown begins: offer nothing more. Commits of the draining trigger still land. */
	void (*stop)(struct sl_feed *feed);
	/* The source side for `sluice status`: at least "lag" (events at the source not yet
	 * taken, or null when unknown) and per-partition detail. New reference. */
	json_t *(*status)(struct sl_feed *feed);
	/* Release; pull feeds leave their group here (after the trigger is freed). */
	void (*free)(struct sl_feed *feed);
};

struct sl_feed {
	const struct sl_feed_ops *ops;
	struct sl_trigger_source src;  /* the callbacks for sl_trigger_new */
};

struct sl_destination;

/* What a pull feed is made for. */
struct sl_feed_params {
	const struct sl_trigger_config *trigger;
	const char *node_id;           /* stable per state directory (consumer names) */
	/* The trigger's on-failure destination, for what the source itself gives up on (a queue
	 * message received too often); outlives the feed. */
	struct sl_destination *on_failure;
};

struct sl_connector_ops {
	const char *kind;
	/* The four lifecycle ops are optional (NULL: nothing to do), as for pull sources, whose
	 * work is in their feeds. */
	/* Set up the connector's context (src->ctx). Called once, before start. */
	int (*create)(struct sl_source *src);
	/* Begin producing (arm timers, start threads). */
	int (*start)(struct sl_source *src);
	/* Stop producing: no event is accepted after this returns. */
	void (*stop)(struct sl_source *src);
	void (*destroy)(struct sl_source *src);
	/* HTTP push sources: handle POST /events/{name}. NULL for others. */
	void (*handle_http)(struct sl_source *src, struct evhttp_request *req);
	/* The spool's durable watermark moved (on the loop). NULL if not needed. */
	void (*durable)(struct sl_source *src, uint64_t durable_seq);
	/* Acknowledgements still waiting for the spool (shutdown waits for 0). NULL = none. */
	size_t (*pending)(const struct sl_source *src);
	/* Pull sources: the feed of one trigger. NULL for push sources (they have a spool and
	 * triggers read it through spool feeds). */
	int (*open_feed)(struct sl_source *src, const struct sl_feed_params *params,
			 struct sl_feed **out);
};

struct sl_source {
	const struct sl_connector_ops *ops;
	const struct sl_source_config *cfg;
	char *tag;                   /* "source:<name>" for log lines */
	struct event_base *base;
	struct sl_spool *spool;      /* intake queue of push sources; NULL for pull sources */
	void *ctx;                   /* the connector's own state */
	/* Called on the loop whenever the spool's durable watermark moved. */
	void (*on_durable)(struct sl_source *src, uint64_t durable_seq);
	void *owner;                 /* the daemon; for on_durable */
	struct event *durable_ev;    /* wakes the loop from the spool's syncer thread */
	uint64_t durable_seq;        /* last watermark seen on the loop */
};

/* Every trigger's feed: the source's own (open_feed) or a spool feed read as `reader_name`. */
int sl_feed_open(struct sl_source *src, const struct sl_feed_params *params,
		 struct sl_feed **out);
void sl_feed_free(struct sl_feed *feed);

/* The connector for a kind, or NULL if that kind is not built. */
const struct sl_connector_ops *sl_connector_find(const char *kind);

/* Create the connector, and for push sources open the spool under state_dir. Caller sets
 * on_durable. */
int sl_source_open(struct event_base *base, const struct sl_source_config *cfg,
		   const char *state_dir, uint64_t spool_max_bytes, uint64_t spool_segment_bytes,
		   struct sl_source **out);
void sl_source_close(struct sl_source *src);

/* Append the events of one acknowledgement as one spool record (connectors/spool_record.h).
 * 0 with *seq; -ENOSPC when the spool is full, -EMSGSIZE when too large: nothing written. */
struct sl_event;
int sl_source_spool_batch(struct sl_source *src, struct sl_event *const *events, size_t n,
			  int64_t received_ms, uint64_t *seq);

#endif
