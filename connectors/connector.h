/* Connectors: where events come from.
 *
 * A connector kind is one `const struct sl_connector_ops` listed in the table in
 * connectors/registry.c; a source instance (struct sl_source) pairs those immutable ops with its
 * config, its log tag ("source:web") and the connector's own context.
 *
 * Push sources (http, schedule) write every event to the source's spool before they acknowledge
 * it; the spool is their intake queue. Each trigger on the source reads it through its own spool
 * reader (connectors/spool_feed.h), and commits there, so a source feeding two triggers keeps one
 * copy of each event and two positions. A connector never decides delivery policy.
 */
#ifndef SL_CONNECTOR_H
#define SL_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evhttp_request;
struct sl_source_config;
struct sl_spool;
struct sl_source;

struct sl_connector_ops {
	const char *kind;
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
};

struct sl_source {
	const struct sl_connector_ops *ops;
	const struct sl_source_config *cfg;
	char *tag;                   /* "source:<name>" for log lines */
	struct event_base *base;
	struct sl_spool *spool;      /* intake queue of push sources */
	void *ctx;                   /* the connector's own state */
	/* Called on the loop whenever the spool's durable watermark moved. */
	void (*on_durable)(struct sl_source *src, uint64_t durable_seq);
	void *owner;                 /* the daemon; for on_durable */
	struct event *durable_ev;    /* wakes the loop from the spool's syncer thread */
	uint64_t durable_seq;        /* last watermark seen on the loop */
};

/* The connector for a kind, or NULL if that kind is not built. */
const struct sl_connector_ops *sl_connector_find(const char *kind);

/* Open the source's spool under state_dir and create the connector. Caller sets on_durable. */
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
