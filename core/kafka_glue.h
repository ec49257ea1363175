/* librdkafka glue shared by the Kafka source and the Kafka destination: configuration with
 * errors that name the property, librdkafka's log lines in ours, and a queue's wake-ups on the
 * libevent loop.
 *
 * Loop integration. librdkafka runs its own broker threads; what it hands back (messages,
 * delivery reports, rebalances, errors) waits on a queue until the application polls it. The
 * queue writes to an eventfd when it gets work (rd_kafka_queue_io_event_enable, edge-like: only
 * when it goes from empty to non-empty, so the callback must drain it or come back); a persistent
 * libevent event watches the eventfd, with a timeout as a safety net, and calls the owner's
 * callback on the loop thread.
 */
#ifndef SL_KAFKA_GLUE_H
#define SL_KAFKA_GLUE_H

#include <event2/event.h>
#include <librdkafka/rdkafka.h>

#include "core/reserved.h"

/* Set one property; errors are logged under tag, naming the property. 0 or -EINVAL. */
int sl_kafka_conf_set(rd_kafka_conf_t *conf, const char *tag, const char *name,
		      const char *value);
/* The user's NULL-terminated "key=value" properties (props may be NULL), set after ours so
 * librdkafka checks each one; a name in owned (which may be NULL) is refused. */
int sl_kafka_conf_set_user(rd_kafka_conf_t *conf, const char *tag, char *const *props,
			   const struct sl_reserved_name *owned);
/* rd_kafka_conf_set_log_cb target: librdkafka's lines as debug, its configuration warnings as
 * warnings. The handle's opaque must start with its log tag (a char * first member). */
void sl_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

struct sl_kafka_wake {
	int efd;
	struct event *ev;
};

/* Call cb(arg) on the loop whenever q gets work, and at least every tick. 0 or -errno. */
int sl_kafka_wake_open(struct sl_kafka_wake *w, struct event_base *base, rd_kafka_queue_t *q,
		       const struct timeval *tick, void (*cb)(void *arg), void *arg);
/* Stop watching (safe on a zeroed or failed one, and twice). */
void sl_kafka_wake_close(struct sl_kafka_wake *w);

#endif
