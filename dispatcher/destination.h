/* Destinations: where failure records (dead letters) and, later, success records go.
 *
 * One interface for every kind. A destination takes one record (a JSON object, serialized as one
 * line) and calls `done` when the record is durably stored (file: written and fsync'd) with 0, or
 * with a negative errno when it could not be stored; the caller then keeps the events and tries
 * again later: events are never dropped because a destination is down.
 *
 * Kinds built now: "file" (JSONL, one record per line, fdatasync before done; the writing and
 * syncing happen on a worker thread per file, so a slow disk never stalls the loop, and records
 * that queue up while one sync runs share the next one: group commit); "mqtt" (a publish to one
 * topic, stored once the broker acknowledged it: PUBACK at QoS 1, PUBCOMP at QoS 2, written to
 * the connection at QoS 0).
 */
#ifndef SL_DESTINATION_H
#define SL_DESTINATION_H

#include <jansson.h>

struct event_base;
struct sl_destination_config;
struct sl_destination;

typedef void (*sl_destination_done_cb)(void *arg, int status);

struct sl_destination_ops {
	const char *kind;
	int (*create)(struct event_base *base, const struct sl_destination_config *cfg,
		      void **ctx);
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
/* Waits for deliveries being stored; done callbacks of deliveries still outstanding are called
 * from inside this call (stored ones with their status, the rest with -ECANCELED). NULL is a
 * no-op. */
void sl_destination_free(struct sl_destination *dest);

#endif
