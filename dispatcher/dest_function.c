/* Function destination: each record becomes an asynchronous invocation of a function, its
 * payload the record (chaining, as Lambda's function destinations). The record counts as stored
 * once the invocation is durable in the function's async queue; from there that queue's own
 * retries and destinations apply. The queue is reached through the links the daemon gives
 * (sl_destination_link); before that, and when the queue refuses (full, stopping), the record
 * is not stored and the caller retries.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/mem.h"
#include "dispatcher/destination_kinds.h"

struct dest_function {
	struct event_base *base;
	char *function;
	struct sl_destination_links links;
	bool linked;
};

/* A refusal, reported later on the loop as destinations must. */
struct refusal {
	sl_destination_done_cb done;
	void *arg;
	int status;
};

static void report_refusal(evutil_socket_t fd, short what, void *arg)
{
	struct refusal *r = arg;

	(void)fd;
	(void)what;
	r->done(r->arg, r->status);
	free(r);
}

static int function_create(struct event_base *base, const struct sl_destination_config *cfg,
			   void **ctx)
{
	if (!cfg->function)
		return -EINVAL;
	struct dest_function *df = sl_xcalloc(1, sizeof(*df));
	df->base = base;
	df->function = sl_xstrdup(cfg->function);
	*ctx = df;
	return 0;
}

static void function_link(void *ctx, const struct sl_destination_links *links)
{
	struct dest_function *df = ctx;

	df->links = *links;
	df->linked = links->invoke_async != NULL;
}

static void function_deliver(void *ctx, const json_t *record, sl_destination_done_cb done,
			     void *arg)
{
	struct dest_function *df = ctx;
	char *text = sl_check_alloc(json_dumps(record, JSON_COMPACT));
	int rc = df->linked ? df->links.invoke_async(df->links.arg, df->function, text,
						     strlen(text), done, arg)
			    : -ENOTCONN;

	free(text);
	if (rc < 0) {
		struct refusal *r = sl_xmalloc(sizeof(*r));
		*r = (struct refusal){ .done = done, .arg = arg, .status = rc };
		event_base_once(df->base, -1, EV_TIMEOUT, report_refusal, r, NULL);
	}
}

static void function_destroy(void *ctx)
{
	struct dest_function *df = ctx;

	free(df->function);
	free(df);
}

const struct sl_destination_ops sl_dest_function_ops = {
	.kind = "function",
	.create = function_create,
	.link = function_link,
	.deliver = function_deliver,
	.destroy = function_destroy,
};
