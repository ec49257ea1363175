/* Redis queue feed: lifecycle, receiving, reaping and status; see queue_feed.h, queue_int.h. */
#include "connectors/redis/queue_feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "config/config.h"
#include "connectors/redis/queue_int.h"
#include "connectors/redis/queue_message.h"
#include "connectors/redis/queue_scripts.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/redis_link.h"

#define MIN_COUNT 10
#define WAIT_S "1"
#define TICK_MS 1000
#define REAP_MAX "1000"

static void receive(struct queue_feed *f);

bool queue_eval(struct sl_redis_link *link, redisCallbackFn *cb,
		void *privdata, enum queue_script script, int n_keys, const char *const *keys,
		int n_args, const char *const *args)
{
	const char **argv = sl_xcalloc(3 + (size_t)n_keys + (size_t)n_args, sizeof(*argv));
	char nk[16];
	int argc = 0;

	snprintf(nk, sizeof(nk), "%d", n_keys);
	argv[argc++] = "EVALSHA";
	argv[argc++] = queue_script_sha(script);
	argv[argc++] = nk;
	for (int i = 0; i < n_keys; i++)
		argv[argc++] = keys[i];
	for (int i = 0; i < n_args; i++)
		argv[argc++] = args[i];
	bool sent = sl_redis_link_send(link, cb, privdata, argc, argv);
	free(argv);
	return sent;
}

/* ---- receiving --------------------------------------------------------------------------- */

static void pump(struct queue_feed *f)
{
	if (!f->trigger || f->paused || f->stopped)
		return;
	int rc = backlog_offer(&f->backlog, f->trigger);
	if (rc == -ENOBUFS)
		f->paused = true;
	else if (rc < 0)      /* draining: what was received comes back after its visibility */
		f->stopped = true;
	else
		receive(f);
}

static void on_resume(void *ctx)
{
	struct queue_feed *f = ctx;

	f->paused = false;
	pump(f);
}

static void take_message(struct queue_feed *f, redisReply *const *m)
{
	struct sl_event *ev = redis_queue_message_event(m, f->cfg->name, f->keys[KEY_QUEUE]);

	if (!ev) {
		sl_error(f->tag, "queue \"%s\": a received message is malformed; it returns after "
			 "its visibility timeout", f->keys[KEY_QUEUE]);
		return;
	}
	if (f->cfg->max_receive_count > 0 &&
	    redis_queue_receive_count(ev) > f->cfg->max_receive_count)
		queue_dead_letter(f, ev);
	else
		backlog_push(&f->backlog, ev);
}

static void on_waited(redisAsyncContext *ac, void *r, void *privdata)
{
	struct queue_feed *f = privdata;
	const redisReply *reply = r;

	f->receiving = false;
	if (!reply) {
		sl_redis_link_lost(f->reader, ac, -ECONNRESET);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		char what[600];
		snprintf(what, sizeof(what), "cannot wait on queue \"%.500s\"", f->keys[KEY_QUEUE]);
		sl_redis_link_refused(f->reader, what, reply->str);
		return;
	}
	receive(f);
}

/* Nothing to receive: wait until the queue is not empty, or a second passed. */
static void wait_for_messages(struct queue_feed *f)
{
	const char *argv[] = { "BLMOVE", f->keys[KEY_QUEUE], f->keys[KEY_QUEUE], "RIGHT", "RIGHT",
			       WAIT_S };

	f->receiving = sl_redis_link_send(f->reader, on_waited, f, 6, argv);
}

static void on_received(redisAsyncContext *ac, void *r, void *privdata)
{
	struct queue_feed *f = privdata;
	redisReply *reply = r;
	char what[600];

	f->receiving = false;
	if (!reply) {
		sl_redis_link_lost(f->reader, ac, -ECONNRESET);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY) {
		snprintf(what, sizeof(what), "cannot receive from queue \"%.500s\"",
			 f->keys[KEY_QUEUE]);
		sl_redis_link_refused(f->reader, what, reply->type == REDIS_REPLY_ERROR ? reply->str
									   : "unexpected answer");
		return;
	}
	sl_redis_link_ok(f->reader);
	redis_health_ok(&f->health);
	for (size_t i = 0; i + 4 <= reply->elements; i += 4)
		take_message(f, reply->element + i);
	if (reply->elements == 0 && !f->stopped)
		wait_for_messages(f);
	else
		pump(f);
}

static void receive(struct queue_feed *f)
{
	const char *keys[] = { f->keys[KEY_QUEUE], f->keys[KEY_RETURNED], f->keys[KEY_MESSAGES],
			       f->keys[KEY_INFLIGHT], f->keys[KEY_SEQ] };
	const char *args[] = { f->count, f->visibility_ms };

	if (f->receiving || f->paused || f->stopped || f->backlog.n > 0 || !f->trigger)
		return;
	f->receiving = queue_eval(f->reader, on_received, f, QUEUE_RECEIVE, 5, keys, 2, args);
}

/* ---- connections ------------------------------------------------------------------------- */

static void on_loaded(redisAsyncContext *ac, void *r, void *privdata)
{
	struct sl_redis_link *link = privdata;
	const redisReply *reply = r;

	if (!reply)
		sl_redis_link_lost(link, ac, -ECONNRESET);
	else if (reply->type == REDIS_REPLY_ERROR)
		sl_redis_link_refused(link, "cannot load the queue's scripts", reply->str);
}

/* SCRIPT LOAD every script; EVALSHAs sent after them on the same connection find them. */
static void load_scripts(struct sl_redis_link *link)
{
	for (int s = 0; s < QUEUE_N_SCRIPTS; s++) {
		const char *argv[] = { "SCRIPT", "LOAD", queue_script_text(s) };
		sl_redis_link_send(link, on_loaded, link, 3, argv);
	}
}

static void on_reader_up(void *arg)
{
	struct queue_feed *f = arg;

	load_scripts(f->reader);
	receive(f);
}

static void on_cmd_up(void *arg)
{
	struct queue_feed *f = arg;

	load_scripts(f->cmd);
	queue_send_deletes(f);
}

static void on_link_down(void *arg, int status, const char *why)
{
	struct queue_feed *f = arg;

	redis_health_failed(&f->health, status, "%s", why);
}

/* ---- the tick: reaping and status figures ------------------------------------------------ */

static void on_reaped(redisAsyncContext *ac, void *r, void *privdata)
{
	struct queue_feed *f = privdata;
	const redisReply *reply = r;

	if (!reply)
		sl_redis_link_lost(f->cmd, ac, -ECONNRESET);
	else if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
		sl_info(f->tag, "queue \"%s\": %lld messages were in flight past their visibility "
			"timeout and return to the queue", f->keys[KEY_QUEUE], reply->integer);
}

/* [waiting, returned, in flight] */
static void on_figures(redisAsyncContext *ac, void *r, void *privdata)
{
	struct queue_feed *f = privdata;
	const redisReply *reply = r;

	f->status_out--;
	if (!reply)
		sl_redis_link_lost(f->cmd, ac, -ECONNRESET);
	f->figures_known = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3;
	if (!f->figures_known)
		return;
	sl_redis_link_ok(f->cmd);
	f->waiting = reply->element[0]->integer;
	f->returned = reply->element[1]->integer;
	f->in_flight = reply->element[2]->integer;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct queue_feed *f = arg;
	const char *keys[] = { f->keys[KEY_QUEUE], f->keys[KEY_RETURNED], f->keys[KEY_INFLIGHT] };
	const char *reap_keys[] = { f->keys[KEY_INFLIGHT], f->keys[KEY_RETURNED] };
	const char *reap_args[] = { REAP_MAX };
	struct timeval tv = { .tv_sec = TICK_MS / 1000, .tv_usec = (TICK_MS % 1000) * 1000 };

	(void)fd;
	(void)what;
	queue_eval(f->cmd, on_reaped, f, QUEUE_REAP, 2, reap_keys, 1, reap_args);
	queue_send_deletes(f);
	if (f->status_out == 0 &&
	    queue_eval(f->cmd, on_figures, f, QUEUE_FIGURES, 3, keys, 0, NULL))
		f->status_out++;
	evtimer_add(f->tick, &tv);
}

/* ---- ops --------------------------------------------------------------------------------- */

static json_t *figure(const struct queue_feed *f, long long value)
{
	return f->figures_known ? json_integer(value) : json_null();
}

static json_t *feed_status(struct sl_feed *base)
{
	struct queue_feed *f = (struct queue_feed *)base;
	json_t *lag = figure(f, f->waiting + f->returned);

	return sl_check_alloc(json_pack("{s:s, s:O, s:o, s:[{s:s, s:o, s:o, s:o}]}",
		"kind", "redis_queue", "lag", lag, "last_error", redis_health_last_error(&f->health),
		"partitions", "name", f->keys[KEY_QUEUE], "lag", lag,
		"returned", figure(f, f->returned), "in_flight", figure(f, f->in_flight)));
}

static void feed_attach(struct sl_feed *base, struct sl_trigger *trigger)
{
	struct queue_feed *f = (struct queue_feed *)base;

	f->trigger = trigger;
	sl_redis_link_get(f->reader);
	sl_redis_link_get(f->cmd);
	on_tick(-1, 0, f);
}

static void feed_stop(struct sl_feed *base)
{
	((struct queue_feed *)base)->stopped = true;
}

static void feed_free(struct sl_feed *base)
{
	struct queue_feed *f = (struct queue_feed *)base;

	sl_redis_link_free(f->reader);   /* callbacks of commands still out run here, and */
	sl_redis_link_free(f->cmd);      /* may queue deletes again (f->flush) */
	event_free(f->tick);
	event_free(f->flush);
	queue_done_release(f);
	backlog_release(&f->backlog);
	redis_health_release(&f->health);
	for (int i = 0; i < N_KEYS; i++)
		free(f->keys[i]);
	free(f->tag);
	free(f);
}

static const struct sl_feed_ops queue_feed_ops = {
	.attach = feed_attach,
	.stop = feed_stop,
	.status = feed_status,
	.free = feed_free,
};

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	queue_send_deletes(arg);
}

static int open_links(struct queue_feed *f, struct event_base *base)
{
	struct sl_redis_link_options o = {
		.address = f->cfg->address, .password = f->cfg->password, .persistent = true,
		.up = on_reader_up, .down = on_link_down, .arg = f,
	};

	if (sl_redis_link_new(base, &o, &f->reader) < 0)
		return -EINVAL;
	o.up = on_cmd_up;
	return sl_redis_link_new(base, &o, &f->cmd);
}

int redis_queue_feed_new(struct sl_source *src, const struct sl_feed_params *params,
			 size_t *commits_in_flight, struct sl_feed **out)
{
	static const char *const suffixes[N_KEYS] = {
		[KEY_RETURNED] = "returned", [KEY_MESSAGES] = "messages",
		[KEY_INFLIGHT] = "inflight", [KEY_SEQ] = "seq",
	};
	const struct sl_trigger_config *t = params->trigger;
	struct queue_feed *f = sl_xcalloc(1, sizeof(*f));

	f->cfg = src->cfg;
	f->trigger_cfg = t;
	f->tag = sl_xasprintf("trigger:%s", t->name);
	f->keys[KEY_QUEUE] = sl_xstrdup(src->cfg->queue);
	for (int i = 1; i < N_KEYS; i++)
		f->keys[i] = sl_xasprintf("%s:sluice:%s", src->cfg->queue, suffixes[i]);
	snprintf(f->count, sizeof(f->count), "%d", t->batch_size > MIN_COUNT ? t->batch_size
									     : MIN_COUNT);
	snprintf(f->visibility_ms, sizeof(f->visibility_ms), "%lld",
		 (long long)src->cfg->visibility_timeout_s * 1000);
	f->health = (struct redis_health){ .tag = f->tag, .address = src->cfg->address };
	f->on_failure = params->on_failure;
	LIST_INIT(&f->dead_letters);
	f->tick = sl_check_alloc(evtimer_new(src->base, on_tick, f));
	f->flush = sl_check_alloc(event_new(src->base, -1, 0, on_flush, f));
	f->commits_in_flight = commits_in_flight;
	f->base.ops = &queue_feed_ops;
	f->base.src = (struct sl_trigger_source){
		.ctx = f, .ordered = false, .done = queue_done, .resume = on_resume,
	};
	if (open_links(f, src->base) < 0) {
		sl_error(f->tag, "redis_queue source %s: address \"%s\" is not HOST:PORT",
			 src->cfg->name, src->cfg->address);
		feed_free(&f->base);
		return -EINVAL;
	}
	*out = &f->base;
	return 0;
}
