/* The Kafka source's consumer, one per trigger (a feed, connectors/connector.h). Internal to
 * connectors/kafka/: the state the files share. See kafka_feed.c for the whole picture.
 */
#ifndef SL_KAFKA_FEED_H
#define SL_KAFKA_FEED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <librdkafka/rdkafka.h>

#include "connectors/connector.h"
#include "core/kafka_glue.h"

struct sl_event;

/* One partition this consumer has been assigned at some point. Offsets are "next" offsets (the
 * offset after the last one concerned), -1 while unknown in the current assignment. */
struct kafka_part {
	char *name;                 /* "<topic>-<partition>": the events' partition */
	char *id_prefix;            /* "<source>:<name>:": an event's id is this and its offset
				     * (sl_event_format_id with an empty position) */
	size_t id_prefix_len;
	char *topic;
	int32_t partition;
	bool assigned;
	bool revoking;              /* revoked, waiting for its events before it is released */
	int64_t offered_next;       /* after the last record offered to the trigger */
	int64_t done_next;          /* after the last record done (the prefix): what to commit */
	int64_t committed_next;     /* the last commit sent and not failed */
	int64_t skip_before_ms;     /* at_timestamp read from the beginning: records older than
				     * this are skipped (done) until the first that is not; 0 */
};

struct held_event {
	STAILQ_ENTRY(held_event) link;
	struct sl_event *ev;
	struct kafka_part *part;
};
STAILQ_HEAD(held_list, held_event);

struct kafka_feed {
	char *tag;                  /* "trigger:<name>"; first: librdkafka's opaque (sl_kafka_log) */
	struct sl_feed base;
	struct sl_source *src;
	const struct sl_trigger_config *trigger_cfg;
	struct sl_trigger *trigger;
	char *ce_source;            /* the events' CloudEvents source */
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue;    /* the consumer queue (messages, rebalances, errors, logs) */
	struct sl_kafka_wake wake;
	struct event *more;         /* continue consuming on the next loop turn */
	struct event *commit_timer;
	struct event *revoke_timer;
	struct kafka_part **parts;
	size_t n_parts;
	struct kafka_part *last_part; /* lookup cache: consecutive records share a partition */
	struct held_list held;      /* taken from Kafka, refused by the full trigger, in order */
	struct event *pause_timer;  /* taking stopped this long: pause fetching */
	rd_kafka_topic_partition_list_t *revoked; /* a revocation waiting for its events */
	int64_t revoke_deadline_ms;
	bool attached, stopped, closing;
	bool refused;               /* the trigger refused a record: hold the rest until resume */
	bool paused;                /* fetching paused (rd_kafka_pause_partitions) */
	bool troubled;              /* a broker problem was logged; the next record recovers */
	char *last_error;
};

/* Consumer feed of one trigger. */
int sl_kafka_feed_open(struct sl_source *src, const struct sl_feed_params *params,
		       struct sl_feed **out);

/* kafka_record.c: the event of one record (new reference). */
struct sl_event *kafka_record_event(const struct kafka_feed *f, const struct kafka_part *p,
				    const rd_kafka_message_t *m);

/* kafka_feed.c */
struct kafka_part *kafka_part_get(struct kafka_feed *f, const char *topic, int32_t partition);
struct kafka_part *kafka_part_named(struct kafka_feed *f, const char *name);
/* Log a problem (once while it repeats) and keep it as the status's last_error. */
void kafka_set_error(struct kafka_feed *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kafka_set_warning(struct kafka_feed *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Take h out of the held list's counts and free it (not its event). */
/* Pause (or resume) fetching of every assigned partition that is not being revoked. */
void kafka_fetch_pause(struct kafka_feed *f, bool pause);

/* kafka_commit.c */
void kafka_commit_init(struct kafka_feed *f);
/* The trigger's commit: everything up to ev is done. */
void kafka_commit_done(void *ctx, const struct sl_event *ev);
/* Commit what is done now (sync: wait for the brokers' answer; else in the background). */
void kafka_commit_flush(struct kafka_feed *f, bool sync);
void kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
		     rd_kafka_topic_partition_list_t *offsets, void *opaque);

/* kafka_rebalance.c */
void kafka_rebalance_init(struct kafka_feed *f);
void kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			rd_kafka_topic_partition_list_t *parts, void *opaque);
/* A done record may have completed a pending revocation. */
void kafka_revoke_check(struct kafka_feed *f);

#endif
