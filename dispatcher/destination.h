/* Destinations: where failure records (dead letters) and, later, success records go.
 *
 * One interface for every kind. A destination takes one record (a JSON object, serialized as one
 * line) and calls `done` when the record is durably stored (file: written and fsync'd) with 0, or
 * with a negative errno when it could not be stored; the caller then keeps the events and tries
 * again later: events are never dropped because a destination is down.
 *
 * Kinds built now: "file" (JSONL, one record per line, fdatasync before done; the writing and
 * syncing happen on a worker thread per file, so a slow disk never stalls the loop, and records
 * that queue up while one sync runs share the next one: group commit), "http" (each record
 * POSTed as compact JSON, application/json unless the configured headers name another
 * Content-Type; stored when the answer is 2xx, else done gets -EPROTO, or the transport's errno
 * such as -ECONNREFUSED or -ETIMEDOUT; up to SL_DEST_HTTP_MAX_CALLS calls run at once, later
 * records wait in delivery order), "redis" (XADD to a stream, field `record`; one connection,
 * reconnected with backoff), "kafka" (produced by an idempotent producer driven from the loop;
 * stored when all in-sync replicas acknowledged it), "mqtt" (a publish to one topic, stored once
 * the broker acknowledged it: PUBACK at QoS 1, PUBCOMP at QoS 2, written to the connection at
 * QoS 0) and "function" (each record queued as an asynchronous invocation of a function, stored
 * once durable in its queue; needs sl_destination_link).
 */
#ifndef SL_DESTINATION_H
#define SL_DESTINATION_H

#include <jansson.h>
#include <stddef.h>

/* http: calls running at once per destination; records beyond them wait, up to this many bytes
 * of serialized records: one that would pass it gets done(-ENOBUFS) (the caller retries it). */
#define SL_DEST_HTTP_MAX_CALLS 8
#define SL_DEST_HTTP_MAX_QUEUED_BYTES (64u << 20)

struct event_base;
struct sl_destination_config;
struct sl_destination;

typedef void (*sl_destination_done_cb)(void *arg, int status);

/* What some kinds need from the daemon after it is assembled. */
struct sl_destination_links {
	/* Queue an asynchronous invocation of function with payload[0..len): 0 and done(done_arg,
	 * status) later once durable (or not), or a negative errno and no callback. */
	int (*invoke_async)(void *arg, const char *function, const char *payload, size_t len,
			    sl_destination_done_cb done, void *done_arg);
	void *arg;
};

struct sl_destination_ops {
	const char *kind;
	int (*create)(struct event_base *base, const struct sl_destination_config *cfg,
		      void **ctx);
	/* Optional: take the links (copied). */
	void (*link)(void *ctx, const struct sl_destination_links *links);
	/* Store one record (borrowed). Calls done exactly once, later, on the loop. */
	void (*deliver)(void *ctx, const json_t *record, sl_destination_done_cb done, void *arg);
	void (*destroy)(void *ctx);
};

/* The ops of a kind by name ("file"), or NULL when this build lacks it (the config loader can
 * then say "<kind> destinations are not built into this sluice"). */
const struct sl_destination_ops *sl_destination_kind(const char *kind);

/* 0, or a negative errno: -ENOTSUP for a kind not built in (logged), or the kind's create error
 * (-EINVAL for a bad config). */
int sl_destination_new(struct event_base *base, const struct sl_destination_config *cfg,
		       struct sl_destination **out);
/* record is borrowed (serialized before deliver returns). done(arg, status) is called exactly
 * once, later, on the loop: 0 when stored durably, else a negative errno. */
void sl_destination_deliver(struct sl_destination *dest, const json_t *record,
			    sl_destination_done_cb done, void *arg);
const char *sl_destination_name(const struct sl_destination *dest);
/* Give the destination the daemon's links (kinds that need none ignore them). */
void sl_destination_link(struct sl_destination *dest, const struct sl_destination_links *links);
/* Waits for deliveries being stored; done callbacks of deliveries still outstanding are called
 * from inside this call (stored ones with their status, the rest with -ECANCELED). NULL is a
 * no-op. */
void sl_destination_free(struct sl_destination *dest);

#endif
