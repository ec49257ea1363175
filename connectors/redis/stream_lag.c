/* Lag of a stream feed for `sluice status`; see stream_feed.h ("Lag").
 *
 * XINFO GROUPS <key> answers, per group, a flat list of names and values; the feed keeps, for
 * its group, "pending", "last-delivered-id" and "lag" (Redis 7: entries added to the stream and
 * not yet delivered to the group; nil when Redis cannot tell, e.g. after XDEL). A failed query
 * (connection down, no such key) leaves the figure unknown until the next one answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "connectors/redis/stream_int.h"
#include "core/mem.h"
#include "core/redis_link.h"

static const redisReply *field(const redisReply *group, const char *name)
{
	for (size_t i = 0; i + 1 < group->elements; i += 2)
		if (group->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(group->element[i]->str, name) == 0)
			return group->element[i + 1];
	return NULL;
}

/* The figures of group `name` in an XINFO GROUPS reply; false when it is not there. */
static bool read_group(const redisReply *reply, const char *name, struct stream_lag *out)
{
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		const redisReply *g = reply->element[i];
		const redisReply *n = g->type == REDIS_REPLY_ARRAY ? field(g, "name") : NULL;
		if (!n || n->type != REDIS_REPLY_STRING || strcmp(n->str, name) != 0)
			continue;
		const redisReply *pending = field(g, "pending");
		const redisReply *last = field(g, "last-delivered-id");
		const redisReply *lag = field(g, "lag");
		out->pending = pending && pending->type == REDIS_REPLY_INTEGER ? pending->integer : 0;
		out->lag = lag && lag->type == REDIS_REPLY_INTEGER ? lag->integer : -1;
		snprintf(out->last_delivered, sizeof(out->last_delivered), "%s",
			 last && last->type == REDIS_REPLY_STRING ? last->str : "");
		out->known = true;
		return true;
	}
	return false;
}

static void on_groups(redisAsyncContext *ac, void *r, void *privdata)
{
	struct stream_job *job = privdata;
	struct stream_feed *f = job->f;
	struct stream *s = job->s;

	f->lag_queries_out--;
	free(job);
	if (!r)
		sl_redis_link_lost(f->cmd, ac, -ECONNRESET);
	if (!r || !read_group(r, f->group, &s->lag))
		s->lag = (struct stream_lag){ .lag = -1 };
	else
		sl_redis_link_ok(f->cmd);
}

void stream_query_lag(struct stream_feed *f)
{
	if (f->lag_queries_out > 0)
		return;
	for (size_t i = 0; i < f->n_streams; i++) {
		const char *argv[] = { "XINFO", "GROUPS", f->streams[i].key };
		struct stream_job *job = stream_job_new(f, &f->streams[i], 0);
		if (!sl_redis_link_send(f->cmd, on_groups, job, 3, argv)) {
			free(job);
			f->streams[i].lag = (struct stream_lag){ .lag = -1 };
			continue;
		}
		f->lag_queries_out++;
	}
}

static json_t *lag_value(const struct stream_lag *lag)
{
	return lag->known && lag->lag >= 0 ? json_integer(lag->lag) : json_null();
}

json_t *stream_status(struct sl_feed *base)
{
	struct stream_feed *f = (struct stream_feed *)base;
	json_t *partitions = sl_check_alloc(json_array());
	long long total = 0;
	bool known = true;

	for (size_t i = 0; i < f->n_streams; i++) {
		const struct stream *s = &f->streams[i];
		json_array_append_new(partitions, json_pack(
			"{s:s, s:o, s:o, s:o, s:I}", "name", s->key, "lag", lag_value(&s->lag),
			"pending", s->lag.known ? json_integer(s->lag.pending) : json_null(),
			"last_delivered_id", s->lag.known ? json_string(s->lag.last_delivered)
							  : json_null(),
			"held_here", (json_int_t)s->n_ids));
		known = known && s->lag.known && s->lag.lag >= 0;
		total += s->lag.lag;
	}
	return sl_check_alloc(json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "kind", "redis_stream",
					"group", f->group, "consumer", f->consumer,
					"lag", known ? json_integer(total) : json_null(),
					"last_error", redis_health_last_error(&f->health),
					"partitions", partitions));
}
