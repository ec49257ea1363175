/* MQTT destination: each record is published as compact JSON to one topic at one QoS.
 *
 * Protocol: MQTT 5, and 3.1.1 with a broker that answers "unsupported protocol version" (for the
 * rest of the destination's life, as mosquitto's own bridges fall back). 5 is worth it to a
 * publisher that must know a record was stored: its PUBACK and PUBREC carry a reason code, so a
 * publish the broker refuses (an ACL, a quota, a size limit) fails the record, where a 3.1.1
 * broker acknowledges it and drops it; and the broker's Receive Maximum bounds the QoS 1 and 2
 * messages in flight, an excess a 3.1.1 broker drops (services.md §3, the QoS 2 pitfall).
 *
 * Loop: libmosquitto runs without its thread. The socket is watched with libevent (readable
 * always, writable while mosquitto_want_write), mosquitto_loop_misc runs every second (keepalive)
 * and one timer waits for what the state waits for (below). Only these handlers and deliver call
 * into libmosquitto; its callbacks only take note (the CONNACK's reason, settled records) and the
 * handler acts afterwards, so the client is never destroyed from inside its own callback.
 *
 * Connections: each attempt is a fresh client (clean start, id "sluice-<name>-<pid>"), destroyed
 * when the connection ends, so nothing libmosquitto would resend after a reconnect survives it:
 *   down        records fail at once with the reason; the timer retries after a capped backoff
 *               with full jitter (100 ms doubling to 5 s)
 *   connecting  records wait, not yet published, for the CONNACK; the timer gives up on it after
 *               timeout_ms
 *   up          records are published as they come; the timer watches the oldest one's deadline
 * A connection that ends (refused, lost, keepalive, or a record not acknowledged in timeout_ms,
 * taken to mean the broker is stuck) fails every outstanding record with its reason, each once;
 * the trigger retries them (at least once: a publish whose PUBACK was lost is published again).
 *
 * Records: one list of outstanding records in delivery order; one timeout for all makes the head
 * the first to expire. A record is settled by libmosquitto's on_publish: QoS 0 once written to the
 * socket (possibly from inside mosquitto_publish), QoS 1 on PUBACK, QoS 2 on PUBCOMP, or refused
 * by a PUBACK or PUBREC reason of 0x80 or more. Settled records move to a finished list whose done
 * callbacks run from their own event: never inside deliver or a libmosquitto call.
 *
 * TLS (when ca_file is set): libmosquitto 2.0 advances a TLS handshake from mosquitto_loop_read
 * (SSL_read) but not from mosquitto_loop_write, so with a TCP connect still in progress nothing
 * would send the ClientHello (eclipse/mosquitto#1507). Until the CONNACK, the first writable event
 * and every readable one therefore run a read and then a write.
 *
 * Logging, tagged "destination:<name>": one line per change of state or reason (lost or refused:
 * warn with the reason; connected: info), never one per record.
 *
 * Limit: libmosquitto resolves `host` with getaddrinfo, which blocks the loop while a resolver
 * answers; an address (the default 127.0.0.1) or a name in /etc/hosts never waits.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/backoff.h"
#include "dispatcher/destination_kinds.h"

#define MQ_KEEPALIVE_S   60
#define MQ_RETRY_BASE_MS 100
#define MQ_RETRY_MAX_MS  5000
#define MQ_PENDING       1     /* mq_record.status until settled */

enum mq_state { MQ_DOWN, MQ_CONNECTING, MQ_UP };

struct mq_record {
	TAILQ_ENTRY(mq_record) link;
	char *payload;               /* compact JSON until handed to libmosquitto */
	int len;
	int mid;                     /* libmosquitto's message id, once published */
	bool published;
	int64_t deadline_ms;         /* monotonic */
	int status;                  /* MQ_PENDING, then 0 or a negative errno */
	sl_destination_done_cb done;
	void *arg;
};

TAILQ_HEAD(mq_list, mq_record);

struct dest_mqtt {
	struct event_base *base;
	char *tag;                   /* "destination:<name>" */
	char *client_id, *host, *topic, *username, *password, *ca_file;
	int port, qos, timeout_ms;
	int protocol;                /* MQTT_PROTOCOL_V5, or V311 once the broker refused 5 */

	enum mq_state state;
	struct mosquitto *mosq;      /* the current connection (attempt), NULL when down */
	struct event *rd, *wr;       /* on mosquitto_socket(mosq) */
	struct event *timer;         /* down: retry; connecting: CONNACK deadline; up: head deadline */
	struct event *tick;          /* every second: mosquitto_loop_misc */
	struct event *flush;         /* activated to call finished records' done */
	int connack;                 /* reason of this attempt's CONNACK (5's codes), -1 before */
	bool tls_kicked;             /* TLS: the first writable event came */
	int down_status;             /* why not up (negative errno), 0 while up or never logged */
	unsigned failures;           /* attempts failed in a row: the backoff step */
	struct mq_record *publishing; /* inside mosquitto_publish */
	struct mq_list outstanding;  /* delivery order */
	struct mq_list finished;     /* settled, done not called yet */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- errors ---------------------------------------------------------------------------------- */

/* A libmosquitto error (err: errno right after the call) as a negative errno. */
static int mosq_status(int rc, int err)
{
	switch (rc) {
	case MOSQ_ERR_ERRNO:              return err ? -err : -EIO;
	case MOSQ_ERR_NO_CONN:            return -ENOTCONN;
	case MOSQ_ERR_CONN_LOST:          return -ECONNRESET;
	case MOSQ_ERR_KEEPALIVE:          return -ETIMEDOUT;
	case MOSQ_ERR_EAI:                return -EHOSTUNREACH;
	case MOSQ_ERR_PAYLOAD_SIZE:
	case MOSQ_ERR_OVERSIZE_PACKET:    return -EMSGSIZE;
	case MOSQ_ERR_QOS_NOT_SUPPORTED:  return -ENOTSUP;
	case MOSQ_ERR_INVAL:
	case MOSQ_ERR_MALFORMED_UTF8:     return -EINVAL;
	case MOSQ_ERR_NOMEM:              return -ENOMEM;
	default:                          return -EPROTO;  /* TLS, protocol, malformed packets */
	}
}

static const char *mosq_reason(int rc, int err)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(err) : mosquitto_strerror(rc);
}

/* Errors of one publish call that leave the connection usable. */
static bool record_error(int rc)
{
	return rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_OVERSIZE_PACKET ||
	       rc == MOSQ_ERR_QOS_NOT_SUPPORTED || rc == MOSQ_ERR_INVAL ||
	       rc == MOSQ_ERR_MALFORMED_UTF8;
}

/* A CONNACK, PUBACK or PUBREC reason of 0x80 or more as a negative errno. */
static int refusal_status(int reason)
{
	switch (reason) {
	case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
	case MQTT_RC_NOT_AUTHORIZED:
	case MQTT_RC_BANNED:
	case MQTT_RC_BAD_AUTHENTICATION_METHOD:     return -EACCES;
	case MQTT_RC_PACKET_TOO_LARGE:              return -EMSGSIZE;
	case MQTT_RC_SERVER_UNAVAILABLE:
	case MQTT_RC_SERVER_BUSY:
	case MQTT_RC_QUOTA_EXCEEDED:
	case MQTT_RC_CONNECTION_RATE_EXCEEDED:      return -EAGAIN;
	case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:  return -EPROTONOSUPPORT;
	default:                                    return -EREMOTEIO;
	}
}

/* A CONNACK code as an MQTT 5 reason: 3.1.1's codes 1..5 have 5's equivalents. */
static int connack_reason(const struct dest_mqtt *c, int code)
{
	static const int v311[] = { 0, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION,
		MQTT_RC_CLIENTID_NOT_VALID, MQTT_RC_SERVER_UNAVAILABLE,
		MQTT_RC_BAD_USERNAME_OR_PASSWORD, MQTT_RC_NOT_AUTHORIZED };

	if (c->protocol == MQTT_PROTOCOL_V311 && code >= 0 && code <= 5)
		return v311[code];
	return code;
}

/* ---- records --------------------------------------------------------------------------------- */

/* (Re)start the timer: in ms from now, at once when ms <= 0. */
static void arm_timer(struct dest_mqtt *c, int64_t ms)
{
	struct timeval tv = { .tv_sec = ms > 0 ? ms / 1000 : 0,
			      .tv_usec = ms > 0 ? (ms % 1000) * 1000 : 0 };
	evtimer_add(c->timer, &tv);
}

/* Up: keep the timer on the oldest record's deadline (it may already be late: then at once). */
static void watch_deadline(struct dest_mqtt *c)
{
	struct mq_record *head = TAILQ_FIRST(&c->outstanding);

	if (c->state == MQ_UP && head && !evtimer_pending(c->timer, NULL))
		arm_timer(c, head->deadline_ms - now_ms());
}

/* Move r to the finished list with its status; its done runs from the flush event. */
static void settle(struct dest_mqtt *c, struct mq_record *r, int status)
{
	if (r->status != MQ_PENDING)
		return;
	r->status = status;
	TAILQ_REMOVE(&c->outstanding, r, link);
	TAILQ_INSERT_TAIL(&c->finished, r, link);
	event_active(c->flush, 0, 0);
}

static void settle_all(struct dest_mqtt *c, int status)
{
	struct mq_record *r;

	while ((r = TAILQ_FIRST(&c->outstanding)) != NULL)
		settle(c, r, status);
}

/* Call done of every finished record, in order. done may deliver again (to the next flush). */
static void finish_all(struct dest_mqtt *c)
{
	struct mq_list batch = TAILQ_HEAD_INITIALIZER(batch);
	struct mq_record *r;

	TAILQ_CONCAT(&batch, &c->finished, link);
	while ((r = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, r, link);
		r->done(r->arg, r->status);
		free(r->payload);
		free(r);
	}
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish_all(arg);
}

/* The published record with this message id (acknowledgements come mostly in order: the search
 * from the head is short). */
static struct mq_record *find_published(struct dest_mqtt *c, int mid)
{
	struct mq_record *r;

	TAILQ_FOREACH(r, &c->outstanding, link)
		if (r->published && r->mid == mid)
			return r;
	return NULL;
}

/* ---- libmosquitto callbacks: note, never act ------------------------------------------------- */

static void on_connect(struct mosquitto *mosq, void *arg, int code, int flags,
		       const mosquitto_property *props)
{
	struct dest_mqtt *c = arg;

	(void)mosq;
	(void)flags;
	(void)props;
	c->connack = connack_reason(c, code);
}

static void on_publish(struct mosquitto *mosq, void *arg, int mid, int reason,
		       const mosquitto_property *props)
{
	struct dest_mqtt *c = arg;
	struct mq_record *r = find_published(c, mid);

	(void)mosq;
	(void)props;
	if (!r && c->qos == 0)
		r = c->publishing;   /* written before mosquitto_publish returned */
	if (!r)
		return;
	if (reason >= 0x80)
		sl_debug(c->tag, "broker refused a record: %s", mosquitto_reason_string(reason));
	settle(c, r, reason >= 0x80 ? refusal_status(reason) : 0);
}

/* ---- connection ------------------------------------------------------------------------------ */

static bool tls_connecting(const struct dest_mqtt *c)
{
	return c->ca_file && c->state == MQ_CONNECTING;
}

static void watch_write(struct dest_mqtt *c)
{
	bool want;

	if (!c->mosq)
		return;
	want = tls_connecting(c) ? !c->tls_kicked : mosquitto_want_write(c->mosq);
	if (want)
		event_add(c->wr, NULL);
	else
		event_del(c->wr);
}

/* Destroy the client (if any) and stop watching its socket. */
static void client_close(struct dest_mqtt *c)
{
	if (c->rd)
		event_free(c->rd);
	if (c->wr)
		event_free(c->wr);
	c->rd = c->wr = NULL;
	mosquitto_destroy(c->mosq);
	c->mosq = NULL;
}

static void log_down(struct dest_mqtt *c, int status, const char *why)
{
	if (c->state == MQ_UP)
		sl_warn(c->tag, "connection to %s:%d lost: %s; records fail until it is back",
			c->host, c->port, why);
	else if (status != c->down_status)
		sl_warn(c->tag, "cannot connect to %s:%d: %s; retrying", c->host, c->port, why);
	else
		sl_debug(c->tag, "cannot connect to %s:%d: %s", c->host, c->port, why);
}

/* The connection (attempt) ended: every outstanding record fails with status; retry later. */
static void connection_down(struct dest_mqtt *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void connection_down(struct dest_mqtt *c, int status, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_down(c, status, why);
	client_close(c);
	settle_all(c, status);
	c->state = MQ_DOWN;
	c->down_status = status;
	c->failures++;
	arm_timer(c, (int64_t)sl_backoff_full_jitter(c->failures, MQ_RETRY_BASE_MS,
						     MQ_RETRY_MAX_MS, NULL, NULL));
}

static void lost(struct dest_mqtt *c, int rc, int err)
{
	connection_down(c, mosq_status(rc, err), "%s", mosq_reason(rc, err));
}

/* Hand r to libmosquitto. A failed publish settles r, or ends the connection. */
static void publish(struct dest_mqtt *c, struct mq_record *r)
{
	int rc, err;

	c->publishing = r;
	rc = mosquitto_publish(c->mosq, &r->mid, c->topic, r->len, r->payload, c->qos, false);
	err = errno;
	c->publishing = NULL;
	free(r->payload);
	r->payload = NULL;
	r->published = true;
	if (rc == MOSQ_ERR_SUCCESS)
		return;
	if (record_error(rc))
		settle(c, r, mosq_status(rc, err));
	else
		lost(c, rc, err);
}

static void connection_up(struct dest_mqtt *c)
{
	struct mq_record *r, *next;

	sl_info(c->tag, "connected to %s:%d%s (MQTT %s)", c->host, c->port,
		c->down_status ? " again" : "", c->protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1");
	c->state = MQ_UP;
	c->down_status = 0;
	c->failures = 0;
	event_del(c->timer);
	for (r = TAILQ_FIRST(&c->outstanding); r && c->state == MQ_UP; r = next) {
		next = TAILQ_NEXT(r, link);
		publish(c, r);
	}
	watch_deadline(c);
}

static void connect_start(struct dest_mqtt *c);

static void refused(struct dest_mqtt *c, int reason)
{
	if (reason == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION && c->protocol == MQTT_PROTOCOL_V5) {
		sl_info(c->tag, "broker %s:%d does not speak MQTT 5; using 3.1.1", c->host,
			c->port);
		c->protocol = MQTT_PROTOCOL_V311;
		client_close(c);
		connect_start(c);    /* the waiting records wait on */
		return;
	}
	connection_down(c, refusal_status(reason), "refused: %s",
			mosquitto_reason_string(reason));
}

/* Act on what a call into libmosquitto returned (rc, errno err) and its callbacks noted. */
static void after_call(struct dest_mqtt *c, int rc, int err)
{
	if (c->connack > 0)
		refused(c, c->connack);
	else if (rc != MOSQ_ERR_SUCCESS)
		lost(c, rc, err);
	else if (mosquitto_socket(c->mosq) < 0)  /* closed on the broker's DISCONNECT */
		connection_down(c, -ECONNRESET, "the broker closed the connection");
	else if (c->connack == 0 && c->state == MQ_CONNECTING)
		connection_up(c);
	watch_write(c);
}

/* TLS until the CONNACK: a read advances the handshake, the write then sends what waits. */
static int drive_tls_connect(struct dest_mqtt *c)
{
	int rc = mosquitto_loop_read(c->mosq, 1);

	return rc == MOSQ_ERR_SUCCESS ? mosquitto_loop_write(c->mosq, 1) : rc;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dest_mqtt *c = arg;
	int rc = tls_connecting(c) ? drive_tls_connect(c) : mosquitto_loop_read(c->mosq, 1);

	(void)fd;
	(void)what;
	after_call(c, rc, errno);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct dest_mqtt *c = arg;
	int rc;

	(void)fd;
	(void)what;
	if (tls_connecting(c)) {
		c->tls_kicked = true;
		rc = drive_tls_connect(c);
	} else {
		rc = mosquitto_loop_write(c->mosq, 1);
	}
	after_call(c, rc, errno);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct dest_mqtt *c = arg;

	(void)fd;
	(void)what;
	if (c->mosq) {
		int rc = mosquitto_loop_misc(c->mosq);
		after_call(c, rc, errno);
	}
}

/* A configured client for one connection attempt. */
static int client_new(struct dest_mqtt *c)
{
	int rc = MOSQ_ERR_SUCCESS;

	c->mosq = sl_check_alloc(mosquitto_new(c->client_id, true, c));
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, c->protocol);
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish);
	if (c->username || c->password)
		rc = mosquitto_username_pw_set(c->mosq, c->username, c->password);
	if (rc == MOSQ_ERR_SUCCESS && c->ca_file)
		rc = mosquitto_tls_set(c->mosq, c->ca_file, NULL, NULL, NULL, NULL);
	return rc;
}

static void connect_start(struct dest_mqtt *c)
{
	int rc, err;

	c->state = MQ_CONNECTING;
	c->connack = -1;
	c->tls_kicked = false;
	rc = client_new(c);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_connect_async(c->mosq, c->host, c->port, MQ_KEEPALIVE_S);
	err = errno;
	if (rc != MOSQ_ERR_SUCCESS) {
		lost(c, rc, err);
		return;
	}
	int fd = mosquitto_socket(c->mosq);
	c->rd = sl_check_alloc(event_new(c->base, fd, EV_READ | EV_PERSIST, on_readable, c));
	c->wr = sl_check_alloc(event_new(c->base, fd, EV_WRITE, on_writable, c));
	event_add(c->rd, NULL);
	arm_timer(c, c->timeout_ms);
	watch_write(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dest_mqtt *c = arg;
	struct mq_record *head = TAILQ_FIRST(&c->outstanding);

	(void)fd;
	(void)what;
	if (c->state == MQ_DOWN)
		connect_start(c);
	else if (c->state == MQ_CONNECTING)
		connection_down(c, -ETIMEDOUT, "no CONNACK within %d ms", c->timeout_ms);
	else if (head && head->deadline_ms <= now_ms())
		connection_down(c, -ETIMEDOUT, "a record was not acknowledged within %d ms",
				c->timeout_ms);
	else
		watch_deadline(c);
}

/* ---- ops ------------------------------------------------------------------------------------- */

static int mqtt_create(struct event_base *base, const struct sl_destination_config *cfg,
		       void **ctx)
{
	const char *name = cfg->name ? cfg->name : "mqtt";

	if (!cfg->host || !cfg->topic) {
		sl_error("sluice", "destination %s: mqtt needs a host and a topic", name);
		return -EINVAL;
	}
	if (cfg->ca_file && access(cfg->ca_file, R_OK) < 0) {
		sl_error("sluice", "destination %s: cannot read ca_file %s: %s", name,
			 cfg->ca_file, strerror(errno));
		return -EINVAL;
	}
	int rc = mosquitto_lib_init();
	if (rc != MOSQ_ERR_SUCCESS) {
		sl_error("sluice", "destination %s: libmosquitto: %s", name, mosquitto_strerror(rc));
		return -EIO;
	}
	struct dest_mqtt *c = sl_xcalloc(1, sizeof(*c));

	c->base = base;
	c->tag = sl_xasprintf("destination:%s", name);
	c->client_id = sl_xasprintf("sluice-%s-%d", name, (int)getpid());
	c->host = sl_xstrdup(cfg->host);
	c->topic = sl_xstrdup(cfg->topic);
	c->username = sl_xstrdup(cfg->username);
	c->password = sl_xstrdup(cfg->password);
	c->ca_file = sl_xstrdup(cfg->ca_file);
	c->port = cfg->port;
	c->qos = cfg->qos;
	c->timeout_ms = cfg->timeout_ms;
	c->protocol = MQTT_PROTOCOL_V5;
	TAILQ_INIT(&c->outstanding);
	TAILQ_INIT(&c->finished);
	c->timer = sl_check_alloc(evtimer_new(base, on_timer, c));
	c->flush = sl_check_alloc(event_new(base, -1, 0, on_flush, c));
	c->tick = sl_check_alloc(event_new(base, -1, EV_PERSIST, on_tick, c));
	event_add(c->tick, &(struct timeval){ .tv_sec = 1 });
	connect_start(c);
	*ctx = c;
	return 0;
}

static void mqtt_deliver(void *ctx, const json_t *record, sl_destination_done_cb done, void *arg)
{
	struct dest_mqtt *c = ctx;
	struct mq_record *r = sl_xcalloc(1, sizeof(*r));

	r->payload = sl_check_alloc(json_dumps(record, JSON_COMPACT));
	r->len = (int)strlen(r->payload);
	r->deadline_ms = now_ms() + c->timeout_ms;
	r->status = MQ_PENDING;
	r->done = done;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&c->outstanding, r, link);
	if (c->state == MQ_DOWN) {
		settle(c, r, c->down_status);
	} else if (c->state == MQ_UP) {
		publish(c, r);
		watch_write(c);
		watch_deadline(c);
	}                            /* connecting: published on the CONNACK */
}

static void mqtt_destroy(void *ctx)
{
	struct dest_mqtt *c = ctx;

	if (c->state == MQ_UP)
		mosquitto_disconnect(c->mosq);   /* written now if the socket takes it */
	client_close(c);
	settle_all(c, -ECANCELED);
	finish_all(c);
	event_free(c->timer);
	event_free(c->flush);
	event_free(c->tick);
	free(c->tag);
	free(c->client_id);
	free(c->host);
	free(c->topic);
	free(c->username);
	free(c->password);
	free(c->ca_file);
	free(c);
	mosquitto_lib_cleanup();
}

const struct sl_destination_ops sl_dest_mqtt_ops = {
	.kind = "mqtt",
	.create = mqtt_create,
	.deliver = mqtt_deliver,
	.destroy = mqtt_destroy,
};
