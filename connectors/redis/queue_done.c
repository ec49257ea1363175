/* Finished queue messages: deletes, and messages received too often; see queue_feed.h ("Done").
 *
 * Deletes. done(ev) queues the id and arms a zero-time event, so the ids finished in one loop
 * turn leave in one delete call (up to DELETES_PER_CALL ids). A call keeps its ids: when the
 * connection is lost (or an error reply drops it) they are queued again and sent once it is back;
 * a delete is idempotent, so sending one twice is harmless.
 *
 * Dead letters. A record per message (delivery_record.h, condition MaxReceiveCountExceeded, the
 * event attached) goes to the trigger's on_failure destination; stored, the message is deleted;
 * not stored, it stays in flight and comes back after its visibility timeout, to be tried again.
 * Records still out when the feed is freed are detached: their callbacks only clean up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "config/config.h"
#include "connectors/redis/queue_int.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/ring.h"
#include "dispatcher/delivery_record.h"
#include "dispatcher/destination.h"
#include "core/redis_link.h"

#define DELETES_PER_CALL 1000

struct delete_call {
	struct queue_feed *f;
	size_t n;
	char *ids[];
};

struct dead_letter {
	LIST_ENTRY(dead_letter) link;
	struct queue_feed *f;        /* NULL once the feed is gone */
	struct sl_event *ev;
};

static void queue_delete(struct queue_feed *f, char *id)
{
	if (f->n_deletes == f->deletes_cap)
		sl_ring_grow((void **)&f->deletes, &f->deletes_cap, &f->deletes_head, f->n_deletes,
			     sizeof(*f->deletes), 64);
	f->deletes[(f->deletes_head + f->n_deletes++) % f->deletes_cap] = id;
	event_active(f->flush, EV_TIMEOUT, 0);
}

static void on_deleted(redisAsyncContext *ac, void *r, void *privdata)
{
	struct delete_call *call = privdata;
	struct queue_feed *f = call->f;
	const redisReply *reply = r;
	bool again = !reply || reply->type == REDIS_REPLY_ERROR;

	(*f->commits_in_flight)--;
	if (!reply)
		sl_redis_link_lost(f->cmd, ac, -ECONNRESET);
	else if (reply->type == REDIS_REPLY_ERROR)
		sl_redis_link_refused(f->cmd, "cannot delete finished messages", reply->str);
	for (size_t i = 0; i < call->n; i++) {
		if (again)
			queue_delete(f, call->ids[i]);
		else
			free(call->ids[i]);
	}
	free(call);
}

void queue_send_deletes(struct queue_feed *f)
{
	const char *keys[] = { f->keys[KEY_INFLIGHT], f->keys[KEY_MESSAGES] };

	while (f->n_deletes > 0) {
		size_t n = f->n_deletes < DELETES_PER_CALL ? f->n_deletes : DELETES_PER_CALL;
		struct delete_call *call = sl_xmalloc(sizeof(*call) + n * sizeof(char *));
		call->f = f;
		call->n = n;
		for (size_t i = 0; i < n; i++)
			call->ids[i] = f->deletes[(f->deletes_head + i) % f->deletes_cap];
		if (!queue_eval(f->cmd, on_deleted, call, QUEUE_DELETE, 2, keys, (int)n,
				(const char *const *)call->ids)) {
			free(call);
			return;
		}
		f->deletes_head = (f->deletes_head + n) % f->deletes_cap;
		f->n_deletes -= n;
		(*f->commits_in_flight)++;
	}
}

void queue_done(void *ctx, const struct sl_event *ev)
{
	queue_delete(ctx, sl_xstrdup(ev->position));
}

static void on_stored(void *arg, int status)
{
	struct dead_letter *dl = arg;
	struct queue_feed *f = dl->f;

	if (f) {
		LIST_REMOVE(dl, link);
		if (status == 0)
			queue_delete(f, sl_xstrdup(dl->ev->position));
		else
			sl_warn(f->tag, "message %s (received %lld times) could not be stored to %s: "
				"%s; it comes back after its visibility timeout", dl->ev->id,
				(long long)json_integer_value(json_object_get(dl->ev->extensions,
									      "receivecount")),
				sl_destination_name(f->on_failure), strerror(-status));
	}
	sl_event_unref(dl->ev);
	free(dl);
}

void queue_dead_letter(struct queue_feed *f, struct sl_event *ev)
{
	long long count = json_integer_value(json_object_get(ev->extensions, "receivecount"));
	char *message = sl_xasprintf("received %lld times, more than max_receive_count %d", count,
				     f->cfg->max_receive_count);
	const struct sl_event *const events[] = { ev };
	const struct sl_record_info info = {
		.condition = SL_RECORD_RECEIVES_EXCEEDED, .trigger = f->trigger_cfg->name,
		.source = f->cfg->name, .function = f->trigger_cfg->function,
		.error_type = "Queue.MaxReceiveCountExceeded",
		.error_message = message, .timestamp_ms = sl_wall_ms(), .events = events, .n = 1,
	};
	json_t *record = sl_delivery_record_new(&info);
	struct dead_letter *dl = sl_xcalloc(1, sizeof(*dl));

	sl_warn(f->tag, "message %s %s: storing it to %s", ev->id, message,
		sl_destination_name(f->on_failure));
	dl->f = f;
	dl->ev = ev;
	LIST_INSERT_HEAD(&f->dead_letters, dl, link);
	sl_destination_deliver(f->on_failure, record, on_stored, dl);
	json_decref(record);
	free(message);
}

void queue_done_release(struct queue_feed *f)
{
	struct dead_letter *dl;

	while ((dl = LIST_FIRST(&f->dead_letters)) != NULL) {
		LIST_REMOVE(dl, link);
		dl->f = NULL;
	}
	for (; f->n_deletes > 0; f->n_deletes--) {
		free(f->deletes[f->deletes_head]);
		f->deletes_head = (f->deletes_head + 1) % f->deletes_cap;
	}
	free(f->deletes);
}
