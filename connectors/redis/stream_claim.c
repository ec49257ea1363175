/* The stream feed's takeover duties on each tick; see stream_feed.h ("Takeover").
 *
 * Refresh: XCLAIM <key> <group> <me> 0 <id>... JUSTID for the ids this node holds that Redis
 * last counted as delivered half a claim_idle_ms ago: their idle time restarts and their
 * delivery count stays.
 * Claim: XAUTOCLAIM <key> <group> <me> <claim_idle_ms> <cursor> COUNT <n> per stream, one round
 * at a time, only when everything read was offered (claimed entries queue like read ones). An
 * entry this node already holds (it was slower than claim_idle_ms to refresh) is not offered
 * twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "config/config.h"
#include "connectors/redis/stream_entry.h"
#include "connectors/redis/stream_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/redis_link.h"

#define IDS_PER_XCLAIM 1000

static void on_refreshed(redisAsyncContext *ac, void *r, void *privdata)
{
	struct stream_feed *f = privdata;

	if (!r)
		sl_redis_link_lost(f->cmd, ac, -ECONNRESET);
}

static void refresh_stream(struct stream_feed *f, struct stream *s, int64_t now)
{
	const char *argv[6 + IDS_PER_XCLAIM] = { "XCLAIM", s->key, f->group, f->consumer, "0" };
	int64_t stale = now - f->cfg->claim_idle_ms / 2;
	size_t n = 0;

	for (size_t i = 0; i <= s->n_ids; i++) {
		struct tracked_id *t = i < s->n_ids ? stream_tracked(s, i) : NULL;
		if (t && t->touched_ms <= stale) {
			argv[5 + n++] = t->id;
			t->touched_ms = now;
		}
		if (n > 0 && (n == IDS_PER_XCLAIM || !t)) {
			argv[5 + n] = "JUSTID";
			if (!sl_redis_link_send(f->cmd, on_refreshed, f, 6 + (int)n, argv))
				return;
			n = 0;
		}
	}
}

void stream_refresh_own(struct stream_feed *f)
{
	int64_t now = stream_mono_ms();

	for (size_t i = 0; i < f->n_streams; i++)
		refresh_stream(f, &f->streams[i], now);
}

/* [cursor, [entry...], [deleted id...]] */
static void on_claimed(redisAsyncContext *ac, void *r, void *privdata)
{
	struct stream_job *job = privdata;
	struct stream_feed *f = job->f;
	struct stream *s = job->s;
	const redisReply *reply = r;

	f->claims_out--;
	free(job);
	if (!reply) {
		sl_redis_link_lost(f->cmd, ac, -ECONNRESET);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY) {
		sl_debug(f->tag, "stream \"%s\": XAUTOCLAIM answered %s", s->key,
			 reply->type == REDIS_REPLY_ERROR ? reply->str : "something else");
		return;
	}
	snprintf(s->claim_from, sizeof(s->claim_from), "%s", reply->element[0]->str);
	const redisReply *entries = reply->element[1];
	size_t taken = 0;
	for (size_t i = 0; i < entries->elements; i++) {
		const char *id = redis_stream_entry_id(entries->element[i]);
		if (id && !stream_tracks(s, id)) {
			stream_take_entry(f, s, entries->element[i]);
			taken++;
		}
	}
	if (taken > 0)
		sl_info(f->tag, "stream \"%s\": claimed %zu entries idle for %d ms or more", s->key,
			taken, f->cfg->claim_idle_ms);
	if (f->claims_out == 0)
		stream_pump(f);
}

void stream_claim(struct stream_feed *f)
{
	char idle[16];

	if (!f->trigger || !f->groups_ready || f->paused || f->backlog.n > 0 || f->claims_out > 0)
		return;
	for (size_t i = 0; i < f->n_streams; i++)
		if (f->streams[i].history_from[0])
			return;
	snprintf(idle, sizeof(idle), "%d", f->cfg->claim_idle_ms);
	for (size_t i = 0; i < f->n_streams; i++) {
		struct stream *s = &f->streams[i];
		const char *argv[] = { "XAUTOCLAIM", s->key, f->group, f->consumer, idle,
				       s->claim_from, "COUNT", f->count };
		struct stream_job *job = stream_job_new(f, s, 0);
		if (!sl_redis_link_send(f->cmd, on_claimed, job, 8, argv)) {
			free(job);
			return;
		}
		f->claims_out++;
	}
}
