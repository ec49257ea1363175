/* Redis destination: each record is one stream entry, XADD <stream> [MAXLEN ~ n] * record <json>.
 * done(0) means Redis answered with the entry's id; whether the entry outlives a crash of Redis
 * is up to the server's persistence settings (appendonly, appendfsync).
 *
 * Loop only, through a Redis link (redis_link.h): deliver() serializes the record and appends
 * the XADD to the connection's output buffer; the reply callback calls done. The loop never
 * waits for Redis.
 *
 * Connection. One per destination, opened by the first deliver (AUTH first when a password is
 * set; commands queue behind it while the connect is in progress). When a connect fails or the
 * connection is lost with records in flight, the link reconnects after its capped backoff
 * (reset by the next stored record).
 * Records delivered meanwhile fail promptly with the status of that failure (e.g.
 * -ECONNREFUSED): the caller retries them on its own schedule. An idle connection that the
 * server closes is no failure (the link is not persistent): the next record connects again.
 *
 * One outcome per record. A record sent is in hiredis's callback list and in `inflight`, in the
 * same order, and its reply callback (on_xadd) is the only place that calls its done. When a
 * connection goes (lost, timed out, AUTH refused, destroy), hiredis calls every pending callback
 * once with a NULL reply while it frees the context; whoever ends the connection first sets
 * the link's status (what those callbacks report) and the link forgets the context, so nothing
 * is sent on a dying context and a timeout never races a reply: the timeout only drops the connection. Records that
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
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/destination_kinds.h"
#include "core/redis_link.h"

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
	char *stream;
	char max_len[16];            /* decimal, "" for no trimming */
	int timeout_ms;
	struct sl_redis_link *link;
	int logged_status;           /* state last logged: 0 storing, else a failure status */
	bool closing;                /* in destroy: records in flight end with -ECANCELED */
	struct job_queue inflight;   /* sent on the link's context, oldest first */
	struct job_queue failed;     /* never sent; done on the next loop turn */
	struct event *deadline;      /* timeout of the oldest record in flight */
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

/* ---- state and its log lines ------------------------------------------------------------- */

static void note_failure(struct dest_redis *d, int status, const char *why)
{
	if (status == d->logged_status)
		return;
	d->logged_status = status;
	sl_warn(d->tag, "cannot store to redis at %s: %s", sl_redis_link_address(d->link), why);
}

static void note_success(struct dest_redis *d)
{
	if (d->logged_status == 0)
		return;
	d->logged_status = 0;
	sl_info(d->tag, "storing to redis at %s again", sl_redis_link_address(d->link));
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

static void on_link_up(void *arg)
{
	note_success(arg);
}

/* Records in flight fail with the link's status (their callbacks get NULL replies). */
static void on_link_down(void *arg, int status, const char *why)
{
	note_failure(arg, status, why);
}

/* What records end with when their connection ended. */
static int down_status(const struct dest_redis *d)
{
	return d->closing ? -ECANCELED : sl_redis_link_status(d->link);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct dest_redis *d = arg;
	char why[64];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "no reply within %d ms", d->timeout_ms);
	sl_redis_link_drop(d->link, -ETIMEDOUT, why);
}

/* ---- XADD -------------------------------------------------------------------------------- */

/* 0 for an entry id, else the failure (noted for the log). */
static int reply_status(struct dest_redis *d, const redisReply *reply)
{
	int status = -EPROTO;
	const char *why = "XADD answered without an entry id";

	if (reply->type == REDIS_REPLY_STRING) {
		sl_redis_link_ok(d->link);
		note_success(d);
		return 0;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		status = sl_redis_error_status(reply->str);
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
		sl_redis_link_lost(d->link, ac, -ECONNRESET);
		status = down_status(d);
	}
	TAILQ_REMOVE(&d->inflight, j, link);
	arm_deadline(d);
	finish_job(j, status);
}

static int send_xadd(struct dest_redis *d, redisAsyncContext *ac, struct redis_job *j,
		     const char *text)
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
	if (redisAsyncCommandArgv(ac, on_xadd, j, argc, argv, lens) != REDIS_OK)
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
	struct dest_redis *d = sl_xcalloc(1, sizeof(*d));
	const struct sl_redis_link_options link = {
		.address = cfg->address, .password = cfg->password,
		.up = on_link_up, .down = on_link_down, .arg = d,
	};

	if (!cfg->stream || !cfg->stream[0] || cfg->timeout_ms <= 0 ||
	    sl_redis_link_new(base, &link, &d->link) < 0) {
		sl_error("sluice", "destination %s: redis needs an address HOST:PORT, a stream and "
			 "a positive timeout_ms", name);
		free(d);
		return -EINVAL;
	}
	d->tag = sl_xasprintf("destination:%s", name);
	d->stream = sl_xstrdup(cfg->stream);
	if (cfg->max_len > 0)
		snprintf(d->max_len, sizeof(d->max_len), "%d", cfg->max_len);
	d->timeout_ms = cfg->timeout_ms;
	TAILQ_INIT(&d->inflight);
	TAILQ_INIT(&d->failed);
	d->deadline = sl_check_alloc(evtimer_new(base, on_deadline, d));
	d->flush = sl_check_alloc(event_new(base, -1, 0, on_flush, d));
	*ctx = d;
	return 0;
}

static void redis_deliver(void *ctx, const json_t *record, sl_destination_done_cb done,
			  void *arg)
{
	struct dest_redis *d = ctx;
	struct redis_job *j = sl_xcalloc(1, sizeof(*j));
	redisAsyncContext *ac = sl_redis_link_get(d->link);

	j->d = d;
	j->done = done;
	j->arg = arg;
	if (!ac) {
		fail_later(d, j, down_status(d));
		return;
	}
	char *text = sl_check_alloc(json_dumps(record, JSON_COMPACT));
	if (send_xadd(d, ac, j, text) < 0)
		fail_later(d, j, -ENOTCONN);
	free(text);
}

static void redis_destroy(void *ctx)
{
	struct dest_redis *d = ctx;

	d->closing = true;
	sl_redis_link_free(d->link);   /* on_xadd: done(-ECANCELED) for each record in flight */
	while (!TAILQ_EMPTY(&d->failed))
		finish_failed(d);
	event_free(d->deadline);
	event_free(d->flush);
	free(d->stream);
	free(d->tag);
	free(d);
}

const struct sl_destination_ops sl_dest_redis_ops = {
	.kind = "redis",
	.create = redis_create,
	.deliver = redis_deliver,
	.destroy = redis_destroy,
};
