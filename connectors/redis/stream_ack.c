/* The ids a stream feed offered, and commits as XACKs; see stream_feed.h ("Order and commits").
 *
 * Per stream the ids form a ring in offer order: [0, n_acking) are in XACKs not yet answered,
 * [n_acking, n_committed) are done and not yet sent, the rest are with the trigger. XACKs go
 * out in order on one connection and are answered in order, so each answer concerns the oldest
 * n_acking ids: on success they are forgotten; when the connection is lost (a NULL reply, and
 * then for every later XACK too) they become unsent again and go out once it is back. An error
 * reply (say WRONGTYPE after the key was replaced) drops the connection the same way, so
 * nothing done is forgotten unacknowledged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "connectors/redis/stream_int.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/ring.h"
#include "core/redis_link.h"

#define IDS_PER_XACK 1000

struct tracked_id *stream_tracked(struct stream *s, size_t i)
{
	return &s->ids[(s->ids_head + i) % s->ids_cap];
}

void stream_track(struct stream *s, const char *id)
{
	if (s->n_ids == s->ids_cap)
		sl_ring_grow((void **)&s->ids, &s->ids_cap, &s->ids_head, s->n_ids, sizeof(*s->ids),
			     64);
	struct tracked_id *t = stream_tracked(s, s->n_ids++);
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->touched_ms = stream_mono_ms();
}

bool stream_tracks(const struct stream *s, const char *id)
{
	for (size_t i = 0; i < s->n_ids; i++)
		if (strcmp(s->ids[(s->ids_head + i) % s->ids_cap].id, id) == 0)
			return true;
	return false;
}

static void forget_front(struct stream *s, size_t n)
{
	s->ids_head = (s->ids_head + n) % s->ids_cap;
	s->n_ids -= n;
	s->n_committed -= n;
	s->n_acking -= n;
}

static void on_xack(redisAsyncContext *ac, void *r, void *privdata)
{
	struct stream_job *job = privdata;
	struct stream_feed *f = job->f;
	const redisReply *reply = r;

	(*f->commits_in_flight)--;
	if (reply && reply->type != REDIS_REPLY_ERROR) {
		sl_redis_link_ok(f->cmd);
		forget_front(job->s, job->count);
	} else {
		job->s->n_acking -= job->count;
		if (!reply) {
			sl_redis_link_lost(f->cmd, ac, -ECONNRESET);
		} else {
			char what[STREAM_KEY_WHAT_MAX];
			snprintf(what, sizeof(what), "cannot acknowledge entries of stream \"%.200s\"",
				 job->s->key);
			sl_redis_link_refused(f->cmd, what, reply->str);
		}
	}
	free(job);
}

/* XACK key group id... for the done ids not yet sent, IDS_PER_XACK at a time. */
void stream_send_acks(struct stream_feed *f, struct stream *s)
{
	const char *argv[3 + IDS_PER_XACK] = { "XACK", s->key, f->group };

	while (s->n_committed > s->n_acking) {
		size_t n = s->n_committed - s->n_acking;
		if (n > IDS_PER_XACK)
			n = IDS_PER_XACK;
		for (size_t i = 0; i < n; i++)
			argv[3 + i] = stream_tracked(s, s->n_acking + i)->id;
		struct stream_job *job = stream_job_new(f, s, n);
		if (!sl_redis_link_send(f->cmd, on_xack, job, 3 + (int)n, argv)) {
			free(job);
			return;
		}
		s->n_acking += n;
		(*f->commits_in_flight)++;
	}
}

static void on_plain_xack(redisAsyncContext *ac, void *r, void *privdata)
{
	struct stream_feed *f = privdata;

	(*f->commits_in_flight)--;
	if (!r)
		sl_redis_link_lost(f->cmd, ac, -ECONNRESET);
}

/* An entry never offered (deleted while pending): acknowledged once; should the XACK be lost,
 * the next start meets it again. */
void stream_ack_untracked(struct stream_feed *f, struct stream *s, const char *id)
{
	const char *argv[] = { "XACK", s->key, f->group, id };

	if (sl_redis_link_send(f->cmd, on_plain_xack, f, 4, argv))
		(*f->commits_in_flight)++;
}

/* The trigger's commit: every entry of ev's stream up to ev is done. */
void stream_commit(void *ctx, const struct sl_event *ev)
{
	struct stream_feed *f = ctx;
	struct stream *s = stream_named(f, ev->partition);
	size_t i = s ? s->n_committed : 0;

	while (s && i < s->n_ids && strcmp(stream_tracked(s, i)->id, ev->position) != 0)
		i++;
	if (!s || i == s->n_ids) {
		sl_error(f->tag, "commit of an entry this feed did not offer (%s %s) ignored",
			 ev->partition, ev->position);
		return;
	}
	s->n_committed = i + 1;
	stream_send_acks(f, s);
}
