/* Kafka destination: each record is produced to one topic as compact JSON by an idempotent
 * producer (enable.idempotence=true, acks=all, message.timeout.ms = timeout_ms; the user's
 * properties are set after these, and librdkafka checks every one at create). The key is
 * SluiceBatchInfo.trigger, else requestContext.functionArn, else none, so the records of one
 * trigger keep their order on one partition.
 *
 * Loop integration. What librdkafka reports back (delivery reports, errors) waits on the handle's
 * main queue; its wake-ups reach the loop (core/kafka_glue.h), which calls rd_kafka_poll(rk, 0).
 * So delivery reports and errors are handled on the loop thread (only the log callback runs on
 * librdkafka's threads), and the loop never waits for a broker.
 *
 * Outcomes. A deliver() is one job, carried as the message's opaque. Its done is called from the
 * delivery report: 0 when all in-sync replicas have the record, else a negative errno
 * (message.timeout.ms = timeout_ms bounds the wait, retries included). A produce that librdkafka
 * refuses at once (local queue full, record too large) does not block either: the job goes to
 * the refused list, which a deferred event finishes on the next loop turn, so done is never
 * called from inside deliver. destroy() flushes for a bounded time, then purges what is left, so
 * every job gets exactly one done (purged ones -ECANCELED).
 *
 * Statuses: -ETIMEDOUT (not acknowledged within timeout_ms; with the brokers down the record was
 * never sent), -ENOBUFS (librdkafka's local queue is full), -EMSGSIZE, -ECANCELED (destroy), -EIO
 * (any other error, e.g. after a fatal one). A record that timed out while in flight may still
 * have been stored: delivery is at least once, as with the other kinds.
 *
 * Logging. Trouble that librdkafka reports through error_cb (brokers down, authentication) is
 * warned once per episode; the first acknowledged record afterwards logs the recovery. A fatal
 * error (the idempotent producer lost its guarantees) is an error. librdkafka's own log lines
 * are debug, except its configuration warnings.
 *
 * Constraint: no done callback frees the destination.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "core/kafka_glue.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/destination_kinds.h"
#include "dispatcher/delivery_record.h"

#define KAFKA_FLUSH_MS 2000      /* destroy: longest wait for outstanding records */
#define KAFKA_PURGE_POLLS 50     /* destroy: rd_kafka_poll(100 ms) rounds after the purge */

struct kafka_job {
	STAILQ_ENTRY(kafka_job) link;   /* on the refused list */
	char *text;                     /* the serialized record, the message's payload */
	sl_destination_done_cb done;
	void *arg;
	int status;                     /* refused jobs: why */
};

STAILQ_HEAD(job_list, kafka_job);

struct dest_kafka {
	char *tag;                      /* "destination:<name>"; first: sl_kafka_log reads it */
	char *topic;
	rd_kafka_t *rk;
	struct sl_kafka_wake wake;      /* the main queue's work, served on the loop */
	struct event *refused_ev;       /* finishes the refused list */
	struct job_list refused;
	size_t in_flight;               /* produced, delivery report not yet served */
	bool troubled;                  /* error_cb warned; the next acknowledgement recovers */
};

/* The safety-net poll interval; a test that includes this file may replace it. */
static struct timeval kafka_tick = { 1, 0 };

/* Properties that would break the one-done-per-deliver contract. */
static const struct sl_reserved_name kafka_owned_props[] = {
	{ "delivery.report.only.error", "successful deliveries must be reported" },
	{ "transactional.id", "records are produced outside transactions" },
	{ NULL, NULL }
};

static int kafka_errno(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		return 0;
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
		return -ETIMEDOUT;
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
		return -ENOBUFS;
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
		return -ECANCELED;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

/* SluiceBatchInfo.trigger, else requestContext.functionArn, else NULL (no key). */
static const char *record_key(const json_t *record, size_t *len)
{
	const json_t *key = json_object_get(json_object_get(record, SL_RECORD_BATCH_INFO_KEY),
					    "trigger");
	if (!json_is_string(key))
		key = json_object_get(json_object_get(record, "requestContext"), "functionArn");
	if (!json_is_string(key)) {
		*len = 0;
		return NULL;
	}
	*len = json_string_length(key);
	return json_string_value(key);
}

static void finish(struct kafka_job *j, int status)
{
	j->done(j->arg, status);
	free(j->text);
	free(j);
}

/* ---- librdkafka callbacks (on the loop, from rd_kafka_poll; on_log from any thread) -------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct dest_kafka *k = opaque;

	(void)rk;
	k->in_flight--;
	if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR && k->troubled) {
		k->troubled = false;
		sl_info(k->tag, "records are acknowledged again");
	} else if (msg->err) {
		sl_debug(k->tag, "record not stored: %s", rd_kafka_err2str(msg->err));
	}
	finish(msg->_private, kafka_errno(msg->err));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct dest_kafka *k = opaque;
	char fatal[512];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		sl_error(k->tag, "producer failed for good, records fail until restart: %s", fatal);
	} else if (!k->troubled) {
		sl_warn(k->tag, "%s: %s", rd_kafka_err2name(err), reason);
	} else {
		sl_debug(k->tag, "%s", reason);
	}
	k->troubled = true;
}

/* ---- loop side ----------------------------------------------------------------------------- */

static void on_wake(void *arg)
{
	struct dest_kafka *k = arg;

	rd_kafka_poll(k->rk, 0);
}

static void finish_refused(struct dest_kafka *k)
{
	struct kafka_job *j;

	while ((j = STAILQ_FIRST(&k->refused)) != NULL) {
		STAILQ_REMOVE_HEAD(&k->refused, link);
		finish(j, j->status);
	}
}

static void on_refused(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish_refused(arg);
}

/* ---- create -------------------------------------------------------------------------------- */

static rd_kafka_conf_t *make_conf(struct dest_kafka *k, const struct sl_destination_config *cfg)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char timeout[16];

	snprintf(timeout, sizeof(timeout), "%d", cfg->timeout_ms);
	if (sl_kafka_conf_set(conf, k->tag, "enable.idempotence", "true") < 0 ||
	    sl_kafka_conf_set(conf, k->tag, "acks", "all") < 0 ||
	    sl_kafka_conf_set(conf, k->tag, "bootstrap.servers", cfg->brokers) < 0 ||
	    sl_kafka_conf_set(conf, k->tag, "message.timeout.ms", timeout) < 0 ||
	    sl_kafka_conf_set_user(conf, k->tag, cfg->properties, kafka_owned_props) < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, sl_kafka_log);
	return conf;
}

/* The main queue's work is served on the loop. */
static int attach_to_loop(struct dest_kafka *k, struct event_base *base)
{
	rd_kafka_queue_t *main_q = rd_kafka_queue_get_main(k->rk);
	int rc = sl_kafka_wake_open(&k->wake, base, main_q, &kafka_tick, on_wake, k);

	rd_kafka_queue_destroy(main_q);
	k->refused_ev = sl_check_alloc(event_new(base, -1, 0, on_refused, k));
	return rc;
}

static void kafka_destroy(void *ctx);

static int kafka_create(struct event_base *base, const struct sl_destination_config *cfg,
			void **ctx)
{
	struct dest_kafka *k = sl_xcalloc(1, sizeof(*k));
	rd_kafka_conf_t *conf;
	char err[512];
	int rc = -EINVAL;

	k->tag = sl_xasprintf("destination:%s", cfg->name ? cfg->name : "kafka");
	k->topic = sl_xstrdup(cfg->topic);
	STAILQ_INIT(&k->refused);
	if (!cfg->brokers || !cfg->topic) {
		sl_error(k->tag, "kafka needs brokers and a topic");
		goto fail;
	}
	conf = make_conf(k, cfg);
	if (!conf)
		goto fail;
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!k->rk) {
		rd_kafka_conf_destroy(conf);
		sl_error(k->tag, "cannot create the producer: %s", err);
		goto fail;
	}
	rc = attach_to_loop(k, base);
	if (rc < 0) {
		sl_error(k->tag, "cannot start: %s", strerror(-rc));
		goto fail;
	}
	*ctx = k;
	return 0;
fail:
	kafka_destroy(k);
	return rc;
}

/* ---- deliver, destroy ---------------------------------------------------------------------- */

static void kafka_deliver(void *ctx, const json_t *record, sl_destination_done_cb done, void *arg)
{
	struct dest_kafka *k = ctx;
	struct kafka_job *j = sl_xcalloc(1, sizeof(*j));
	size_t key_len;
	const char *key = record_key(record, &key_len);

	j->text = sl_check_alloc(json_dumps(record, JSON_COMPACT));
	j->done = done;
	j->arg = arg;
	/* No copy flag: the payload stays ours, alive until the delivery report frees it. */
	rd_kafka_resp_err_t err = rd_kafka_producev(
		k->rk, RD_KAFKA_V_TOPIC(k->topic), RD_KAFKA_V_VALUE(j->text, strlen(j->text)),
		RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_OPAQUE(j), RD_KAFKA_V_END);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->in_flight++;
		return;
	}
	sl_debug(k->tag, "record refused: %s", rd_kafka_err2str(err));
	j->status = kafka_errno(err);
	STAILQ_INSERT_TAIL(&k->refused, j, link);
	event_active(k->refused_ev, 0, 0);
}

/* Let outstanding records finish for a while, then cancel the rest; their delivery reports
 * (done calls) are served from inside this call. */
static void drain(struct dest_kafka *k)
{
	rd_kafka_flush(k->rk, KAFKA_FLUSH_MS);
	if (k->in_flight > 0)
		sl_warn(k->tag, "closing: %zu records not acknowledged yet are cancelled",
			k->in_flight);
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	for (int i = 0; i < KAFKA_PURGE_POLLS && k->in_flight > 0; i++)
		rd_kafka_poll(k->rk, 100);
	if (k->in_flight > 0)
		sl_error(k->tag, "%zu records got no delivery report after the purge",
			 k->in_flight);
}

static void kafka_destroy(void *ctx)
{
	struct dest_kafka *k = ctx;

	if (k->rk) {
		drain(k);
		rd_kafka_destroy(k->rk);
	}
	finish_refused(k);
	if (k->refused_ev)
		event_free(k->refused_ev);
	sl_kafka_wake_close(&k->wake);
	free(k->topic);
	free(k->tag);
	free(k);
}

const struct sl_destination_ops sl_dest_kafka_ops = {
	.kind = "kafka",
	.create = kafka_create,
	.deliver = kafka_deliver,
	.destroy = kafka_destroy,
};
