/* Redis destination: each record is one stream entry, XADD <stream> [MAXLEN ~ n] * record <json>.
 * done(0) means Redis answered with the entry's id; whether the entry outlives a crash of Redis
 * is up to the server's persistence settings (appendonly, appendfsync).
 *
 * Loop only. hiredis's async API runs on the caller's libevent loop (adapters/libevent.h):
 * deliver() serializes the record and appends the XADD to the connection's output buffer; the
 * reply callback calls done. The loop never waits for Redis. One exception: hiredis resolves the
 * host with getaddrinfo() inside redisAsyncConnect, which blocks on a name that needs DNS; an IP
 * address (or a name in /etc/hosts) keeps connects instant.
 *
 * Connection. One per destination, opened by the first deliver (AUTH first when a password is
 * set; commands queue behind it while the connect is in progress). When a connect fails or the
 * connection is lost with records in flight, a timer reconnects after a capped backoff (100 ms
 * doubling to 5 s, reset by the next good reply). Records delivered meanwhile fail promptly with
 * the status of that failure (e.g. -ECONNREFUSED): the caller retries them on its own schedule.
 * An idle connection that the server closes is no failure: the next record connects again.
 *
 * One outcome per record. A record sent is in hiredis's callback list and in `inflight`, in the
 * same order, and its reply callback (on_xadd) is the only place that calls its done. When a
 * connection goes (lost, timed out, AUTH refused, destroy), hiredis calls every pending callback
 * once with a NULL reply while it frees the context; whoever ends the connection first sets
 * down_status (what those callbacks report) and clears d->ac, so nothing is sent on a dying
 * context and a timeout never races a reply: the timeout only drops the connection. Records that
 * never reached hiredis wait on `failed` for the next loop turn: done is never called inside
 * deliver.
 *
 * Timeouts. Replies come in order, so the oldest record in flight has the earliest deadline and
 * one timer serves them all. When it fires, Redis has not answered within timeout_ms: the
 * connection is dropped (a stuck server gets a fresh one) and its records fail with -ETIMEDOUT.
 * Such a record may still have been stored: delivery is at least once, as with the file kind.
 *
 * Statuses: the connect's errno (-ECONNREFUSED, ...), -ECONNRESET (connection lost), -ETIMEDOUT,
 * -EACCES (AUTH refused; NOAUTH, WRONGPASS, NOPERM replies), -EPROTO (any other error reply, e.g.
 * WRONGTYPE), -ECANCELED (records in flight at destroy; destroy calls done for those already
 * failed with their status). Logs, tagged "destination:<name>", follow the state, not the
 * records: a warning naming the address and Redis's reason when the status turns to a new
 * failure, an info line when a reply succeeds again.
 *
 * Constraints: the process ignores SIGPIPE (the daemon does; a write to a connection the server
 * closed raises it), and no done callback frees the destination.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/backoff.h"
#include "dispatcher/destination_kinds.h"

#define RETRY_BASE_MS 100
#define RETRY_MAX_MS  5000

struct redis_job {
	TAILQ_ENTRY(redis_job) link;
	struct dest_redis *d;
	int64_t deadline_ms;         /* monotonic, while in flight */
	int status;                  /* while on `failed` */
	sl_destination_done_cb done;
	void *arg;
};

TAILQ_HEAD(job_queue, redis_job);

struct dest_redis {
	char *tag;                   /* "destination:<name>" */
	char *address;               /* as configured, for logs */
	char *host;                  /* without IPv6 brackets */
	int port;
	char *stream;
	char *password;              /* or NULL */
	char max_len[16];            /* decimal, "" for no trimming */
	int timeout_ms;
	struct event_base *base;
	redisAsyncContext *ac;       /* connecting or connected, or NULL */
	int down_status;             /* why the last connection ended */
	int logged_status;           /* state last logged: 0 storing, else a failure status */
	unsigned retries;            /* connection failures since the last good reply */
	bool closing;                /* in destroy: no new connection */
	struct job_queue inflight;   /* sent on ac, oldest first */
	struct job_queue failed;     /* never sent; done on the next loop turn */
	struct event *deadline;      /* timeout of the oldest record in flight */
	struct event *retry;         /* reconnect after the backoff */
	struct event *flush;         /* done for the records on `failed` */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval ms_timeval(int64_t ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

/* "HOST:PORT" or "[V6]:PORT" into host (brackets removed, caller frees) and port. */
static int split_address(const char *address, char **host, int *port)
{
	const char *colon = strrchr(address, ':');
	size_t n = colon ? (size_t)(colon - address) : 0;
	char *end;

	if (n == 0)
		return -EINVAL;
	long p = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || p < 1 || p > 65535)
		return -EINVAL;
	if (n > 2 && address[0] == '[' && address[n - 1] == ']')
		*host = sl_xstrndup(address + 1, n - 2);
	else
		*host = sl_xstrndup(address, n);
	*port = (int)p;
	return 0;
}

/* ---- state and its log lines ------------------------------------------------------------- */

static void note_failure(struct dest_redis *d, int status, const char *why)
{
	if (status == d->logged_status)
		return;
	d->logged_status = status;
	sl_warn(d->tag, "cannot store to redis at %s: %s", d->address, why);
}

static void note_success(struct dest_redis *d)
{
	d->retries = 0;
	if (d->logged_status == 0)
		return;
	d->logged_status = 0;
	sl_info(d->tag, "storing to redis at %s again", d->address);
}

/* ---- records ----------------------------------------------------------------------------- */

static void finish_job(struct redis_job *j, int status)
{
	sl_destination_done_cb done = j->done;
	void *arg = j->arg;

	free(j);
	done(arg, status);
}

/* A record that never reached hiredis: done(status) on the next loop turn. */
static void fail_later(struct dest_redis *d, struct redis_job *j, int status)
{
	j->status = status;
	TAILQ_INSERT_TAIL(&d->failed, j, link);
	event_active(d->flush, EV_TIMEOUT, 0);
}

/* done for the records failed so far; those a done callback fails again wait for the next turn. */
static void finish_failed(struct dest_redis *d)
{
	struct job_queue now = TAILQ_HEAD_INITIALIZER(now);
	struct redis_job *j;

	TAILQ_CONCAT(&now, &d->failed, link);
	while ((j = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, j, link);
		finish_job(j, j->status);
	}
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish_failed(arg);
}

/* Arm the timer for the oldest record in flight, or disarm it when none is. */
static void arm_deadline(struct dest_redis *d)
{
	struct redis_job *oldest = TAILQ_FIRST(&d->inflight);

	if (!oldest) {
		evtimer_del(d->deadline);
		return;
	}
	int64_t left = oldest->deadline_ms - mono_ms();
	struct timeval tv = ms_timeval(left > 0 ? left : 0);
	evtimer_add(d->deadline, &tv);
}

/* ---- the connection ---------------------------------------------------------------------- */

/* ac failed or is going: records fail with status until the retry timer connects again. */
static void conn_failed(struct dest_redis *d, int status, const char *why)
{
	d->ac = NULL;
	d->down_status = status;
	note_failure(d, status, why);
	struct timeval tv = ms_timeval((int64_t)sl_backoff_cap_ms(++d->retries, RETRY_BASE_MS,
								   RETRY_MAX_MS));
	evtimer_add(d->retry, &tv);
}

/* For hiredis's callbacks: the first one to learn that ac ended (not by our hand) says so. */
static void conn_ended(struct dest_redis *d, const redisAsyncContext *ac, int status)
{
	if (ac == d->ac)
		conn_failed(d, status, ac->errstr);
}

/* End the connection ourselves. hiredis fails its records (down_status) inside redisAsyncFree,
 * or right after the reply callback that called this returns. */
static void drop_connection(struct dest_redis *d, int status, const char *why)
{
	redisAsyncContext *ac = d->ac;

	conn_failed(d, status, why);
	redisAsyncFree(ac);
}

/* The status of a failed connect: hiredis leaves the connect's errno in errno. (ac->err is
 * copied from ac->c.err only after the connect callback.) */
static int connect_status(const redisAsyncContext *ac)
{
	return ac->c.err == REDIS_ERR_IO && errno > 0 ? -errno : -EHOSTUNREACH;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct dest_redis *d = ac->data;

	if (status == REDIS_OK)
		sl_debug(d->tag, "connected to redis at %s", d->address);
	else
		conn_ended(d, ac, connect_status(ac));
}

/* Pending callbacks ran first, and ended ac if any record was in flight. So an ac still current
 * here was idle when the server closed it (its idle timeout, a restart): nothing failed, and
 * the next record connects again. */
static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct dest_redis *d = ac->data;

	(void)status;
	if (ac == d->ac)
		d->ac = NULL;
}

static void on_auth(redisAsyncContext *ac, void *r, void *privdata)
{
	struct dest_redis *d = privdata;
	const redisReply *reply = r;
	char why[256];

	if (!reply) {
		conn_ended(d, ac, -ECONNRESET);
	} else if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "AUTH refused: %s", reply->str);
		drop_connection(d, -EACCES, why);
	} else {
		note_success(d);
	}
}

static void start_connect(struct dest_redis *d)
{
	redisAsyncContext *ac = sl_check_alloc(redisAsyncConnect(d->host, d->port));

	if (ac->c.err) {
		conn_failed(d, connect_status(ac), ac->errstr);
		redisAsyncFree(ac);
		return;
	}
	ac->data = d;
	redisLibeventAttach(ac, d->base);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	d->ac = ac;
	if (d->password)
		redisAsyncCommand(ac, on_auth, d, "AUTH %s", d->password);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_connect(arg);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct dest_redis *d = arg;
	char why[64];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "no reply within %d ms", d->timeout_ms);
	drop_connection(d, -ETIMEDOUT, why);
}

/* ---- XADD -------------------------------------------------------------------------------- */

static int error_status(const char *message)
{
	static const char *const denied[] = { "NOAUTH ", "WRONGPASS ", "NOPERM " };

	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if (strncmp(message, denied[i], strlen(denied[i])) == 0)
			return -EACCES;
	return -EPROTO;
}

/* 0 for an entry id, else the failure (noted for the log). */
static int reply_status(struct dest_redis *d, const redisReply *reply)
{
	int status = -EPROTO;
	const char *why = "XADD answered without an entry id";

	if (reply->type == REDIS_REPLY_STRING) {
		note_success(d);
		return 0;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		status = error_status(reply->str);
		why = reply->str;
	}
	note_failure(d, status, why);
	return status;
}

static void on_xadd(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_job *j = privdata;
	struct dest_redis *d = j->d;
	int status;

	if (reply) {
		status = reply_status(d, reply);
	} else {
		conn_ended(d, ac, -ECONNRESET);
		status = d->down_status;
	}
	TAILQ_REMOVE(&d->inflight, j, link);
	arm_deadline(d);
	finish_job(j, status);
}

static int send_xadd(struct dest_redis *d, struct redis_job *j, const char *text)
{
	const char *argv[8] = { "XADD", d->stream };
	size_t lens[8];
	int argc = 2;

	if (d->max_len[0]) {
		argv[argc++] = "MAXLEN";
		argv[argc++] = "~";
		argv[argc++] = d->max_len;
	}
	argv[argc++] = "*";
	argv[argc++] = "record";
	argv[argc++] = text;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (redisAsyncCommandArgv(d->ac, on_xadd, j, argc, argv, lens) != REDIS_OK)
		return -ENOTCONN;
	j->deadline_ms = mono_ms() + d->timeout_ms;
	TAILQ_INSERT_TAIL(&d->inflight, j, link);
	if (TAILQ_FIRST(&d->inflight) == j)
		arm_deadline(d);
	return 0;
}

/* ---- ops --------------------------------------------------------------------------------- */

static int redis_create(struct event_base *base, const struct sl_destination_config *cfg,
			void **ctx)
{
	const char *name = cfg->name ? cfg->name : "redis";
	char *host = NULL;
	int port;

	if (!cfg->stream || !cfg->stream[0] || cfg->timeout_ms <= 0 || !cfg->address ||
	    split_address(cfg->address, &host, &port) < 0) {
		sl_error("sluice", "destination %s: redis needs an address HOST:PORT, a stream and "
			 "a positive timeout_ms", name);
		return -EINVAL;
	}
	struct dest_redis *d = sl_xcalloc(1, sizeof(*d));
	d->tag = sl_xasprintf("destination:%s", name);
	d->address = sl_xstrdup(cfg->address);
	d->host = host;
	d->port = port;
	d->stream = sl_xstrdup(cfg->stream);
	d->password = sl_xstrdup(cfg->password);
	if (cfg->max_len > 0)
		snprintf(d->max_len, sizeof(d->max_len), "%d", cfg->max_len);
	d->timeout_ms = cfg->timeout_ms;
	d->base = base;
	TAILQ_INIT(&d->inflight);
	TAILQ_INIT(&d->failed);
	d->deadline = sl_check_alloc(evtimer_new(base, on_deadline, d));
	d->retry = sl_check_alloc(evtimer_new(base, on_retry, d));
	d->flush = sl_check_alloc(event_new(base, -1, 0, on_flush, d));
	*ctx = d;
	return 0;
}

static void redis_deliver(void *ctx, const json_t *record, sl_destination_done_cb done,
			  void *arg)
{
	struct dest_redis *d = ctx;
	struct redis_job *j = sl_xcalloc(1, sizeof(*j));

	j->d = d;
	j->done = done;
	j->arg = arg;
	if (!d->ac && !d->closing && !evtimer_pending(d->retry, NULL))
		start_connect(d);
	if (!d->ac) {
		fail_later(d, j, d->down_status);
		return;
	}
	char *text = sl_check_alloc(json_dumps(record, JSON_COMPACT));
	if (send_xadd(d, j, text) < 0)
		fail_later(d, j, -ENOTCONN);
	free(text);
}

static void redis_destroy(void *ctx)
{
	struct dest_redis *d = ctx;
	redisAsyncContext *ac = d->ac;

	d->closing = true;
	d->ac = NULL;
	d->down_status = -ECANCELED;
	if (ac)
		redisAsyncFree(ac);   /* on_xadd: done(-ECANCELED) for each record in flight */
	while (!TAILQ_EMPTY(&d->failed))
		finish_failed(d);
	event_free(d->deadline);
	event_free(d->retry);
	event_free(d->flush);
	free(d->password);
	free(d->stream);
	free(d->host);
	free(d->address);
	free(d->tag);
	free(d);
}

const struct sl_destination_ops sl_dest_redis_ops = {
	.kind = "redis",
	.create = redis_create,
	.deliver = redis_deliver,
	.destroy = redis_destroy,
};
