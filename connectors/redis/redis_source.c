/* The Redis source kinds: "redis_stream" (stream_feed.h) and "redis_queue" (queue_feed.h).
 *
 * Both are pull sources: the source itself holds no connection and produces nothing; each
 * trigger on it gets its own feed with its own connections, opened by open_feed and driven on
 * the loop. The source counts the commits (XACKs, deletes) its feeds sent and Redis has not
 * answered yet, so shutdown waits for them.
 */
#include <errno.h>
#include <stdlib.h>

#include "connectors/connector.h"
#include "connectors/redis/queue_feed.h"
#include "connectors/redis/stream_feed.h"
#include "core/mem.h"

struct redis_source {
	size_t commits_in_flight;
};

static int redis_create(struct sl_source *src)
{
	src->ctx = sl_xcalloc(1, sizeof(struct redis_source));
	return 0;
}

static void redis_destroy(struct sl_source *src)
{
	free(src->ctx);
}

static size_t redis_pending(const struct sl_source *src)
{
	const struct redis_source *rs = src->ctx;

	return rs->commits_in_flight;
}

static int open_stream_feed(struct sl_source *src, const struct sl_feed_params *params,
			    struct sl_feed **out)
{
	struct redis_source *rs = src->ctx;

	return redis_stream_feed_new(src, params, &rs->commits_in_flight, out);
}

const struct sl_connector_ops sl_redis_stream_connector = {
	.kind = "redis_stream",
	.create = redis_create,
	.destroy = redis_destroy,
	.pending = redis_pending,
	.open_feed = open_stream_feed,
};

static int open_queue_feed(struct sl_source *src, const struct sl_feed_params *params,
			   struct sl_feed **out)
{
	struct redis_source *rs = src->ctx;

	return redis_queue_feed_new(src, params, &rs->commits_in_flight, out);
}

const struct sl_connector_ops sl_redis_queue_connector = {
	.kind = "redis_queue",
	.create = redis_create,
	.destroy = redis_destroy,
	.pending = redis_pending,
	.open_feed = open_queue_feed,
};
