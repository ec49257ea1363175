/* A Redis connection that comes back after failures; see redis_link.h. */
#include "core/redis_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/hiredis.h>

#include "core/mem.h"
#include "core/redis_replies.h"
#include "dispatcher/backoff.h"

#define RETRY_BASE_MS 100
#define RETRY_MAX_MS  5000

struct sl_redis_link {
	struct sl_redis_link_options opts;   /* strings owned */
	char *host;                  /* without IPv6 brackets */
	int port;
	struct event_base *base;
	redisAsyncContext *ac;       /* connecting or connected, or NULL */
	bool ready;                  /* up was called for ac */
	bool closing;
	int down_status;
	unsigned retries;            /* failures since the last sl_redis_link_ok */
	struct event *retry;
};

/* "HOST:PORT" or "[V6]:PORT" into host (brackets removed, caller frees) and port. */
static int split_address(const char *address, char **host, int *port)
{
	const char *colon = address ? strrchr(address, ':') : NULL;
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

int sl_redis_error_status(const char *message)
{
	static const char *const denied[] = { "NOAUTH ", "WRONGPASS ", "NOPERM " };

	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if (strncmp(message, denied[i], strlen(denied[i])) == 0)
			return -EACCES;
	return -EPROTO;
}

/* The context ended or is ending: forget it, tell the owner, reconnect after the backoff. */
static void failed(struct sl_redis_link *link, int status, const char *why)
{
	link->ac = NULL;
	link->ready = false;
	link->down_status = status;
	uint64_t ms = sl_backoff_cap_ms(++link->retries, RETRY_BASE_MS, RETRY_MAX_MS);
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000), .tv_usec = (long)(ms % 1000) * 1000 };
	evtimer_add(link->retry, &tv);
	if (link->opts.down)
		link->opts.down(link->opts.arg, status, why);
}

static void became_ready(struct sl_redis_link *link)
{
	link->ready = true;
	if (link->opts.up)
		link->opts.up(link->opts.arg);
}

/* hiredis leaves a failed connect's errno in errno (ac->err is set only after the callback). */
static int connect_status(const redisAsyncContext *ac)
{
	return ac->c.err == REDIS_ERR_IO && errno > 0 ? -errno : -EHOSTUNREACH;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct sl_redis_link *link = ac->data;

	if (ac != link->ac)
		return;
	if (status != REDIS_OK)
		failed(link, connect_status(ac), ac->errstr);
	else if (!link->opts.password)
		became_ready(link);
}

/* Pending callbacks ran first and reported a loss if any command was out; a context still
 * current here was idle when the server closed it. */
static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct sl_redis_link *link = ac->data;

	(void)status;
	if (ac != link->ac)
		return;
	if (link->opts.persistent)
		failed(link, -ECONNRESET, ac->errstr[0] ? ac->errstr : "connection closed");
	else
		link->ac = NULL;
	link->ready = false;
}

static void on_auth(redisAsyncContext *ac, void *r, void *privdata)
{
	struct sl_redis_link *link = privdata;
	const redisReply *reply = r;
	char why[256];

	if (!reply) {
		sl_redis_link_lost(link, ac, -ECONNRESET);
	} else if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "authentication failed: %s", reply->str);
		sl_redis_link_drop(link, -EACCES, why);
	} else if (ac == link->ac) {
		became_ready(link);
	}
}

static void start_connect(struct sl_redis_link *link)
{
	redisAsyncContext *ac = sl_check_alloc(redisAsyncConnect(link->host, link->port));

	if (ac->c.err) {
		int status = connect_status(ac);
		char why[128];
		snprintf(why, sizeof(why), "%s", ac->errstr);
		redisAsyncFree(ac);
		failed(link, status, why);
		return;
	}
	ac->data = link;
	sl_redis_replies_use_blocks(ac->c.reader);
	redisLibeventAttach(ac, link->base);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	link->ac = ac;
	if (link->opts.password)
		redisAsyncCommand(ac, on_auth, link, "AUTH %s", link->opts.password);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct sl_redis_link *link = arg;

	(void)fd;
	(void)what;
	if (!link->ac && !link->closing)
		start_connect(link);
}

int sl_redis_link_new(struct event_base *base, const struct sl_redis_link_options *opts,
		      struct sl_redis_link **out)
{
	char *host;
	int port;

	if (split_address(opts->address, &host, &port) < 0)
		return -EINVAL;
	struct sl_redis_link *link = sl_xcalloc(1, sizeof(*link));
	link->opts = *opts;
	link->opts.address = sl_xstrdup(opts->address);
	link->opts.password = sl_xstrdup(opts->password);
	link->host = host;
	link->port = port;
	link->base = base;
	link->retry = sl_check_alloc(evtimer_new(base, on_retry, link));
	*out = link;
	return 0;
}

redisAsyncContext *sl_redis_link_get(struct sl_redis_link *link)
{
	if (!link->ac && !link->closing && !evtimer_pending(link->retry, NULL))
		start_connect(link);
	return link->ac;
}

void sl_redis_link_ok(struct sl_redis_link *link)
{
	link->retries = 0;
}

bool sl_redis_link_ready(const struct sl_redis_link *link)
{
	return link->ready;
}

bool sl_redis_link_send(struct sl_redis_link *link, redisCallbackFn *cb, void *privdata, int argc,
			const char **argv)
{
	size_t lens[argc];

	if (!link->ready)
		return false;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return redisAsyncCommandArgv(link->ac, cb, privdata, argc, argv, lens) == REDIS_OK;
}

int sl_redis_link_status(const struct sl_redis_link *link)
{
	return link->down_status;
}

const char *sl_redis_link_address(const struct sl_redis_link *link)
{
	return link->opts.address;
}

void sl_redis_link_lost(struct sl_redis_link *link, const redisAsyncContext *ac, int status)
{
	if (ac == link->ac)
		failed(link, status, ac->errstr[0] ? ac->errstr : "connection lost");
}

void sl_redis_link_drop(struct sl_redis_link *link, int status, const char *why)
{
	redisAsyncContext *ac = link->ac;

	if (!ac)
		return;
	failed(link, status, why);
	redisAsyncFree(ac);
}

void sl_redis_link_refused(struct sl_redis_link *link, const char *what, const char *message)
{
	int status = sl_redis_error_status(message);
	char *why = status == -EACCES ? sl_xasprintf("authentication failed: %s", message)
				      : sl_xasprintf("%s: %s", what, message);

	sl_redis_link_drop(link, status, why);
	free(why);
}

void sl_redis_link_free(struct sl_redis_link *link)
{
	if (!link)
		return;
	redisAsyncContext *ac = link->ac;

	link->closing = true;
	link->ac = NULL;
	link->ready = false;
	if (ac)
		redisAsyncFree(ac);
	event_free(link->retry);
	free((char *)link->opts.address);
	free((char *)link->opts.password);
	free(link->host);
	free(link);
}
