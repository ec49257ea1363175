/* Internals of the Redis queue feed (queue_feed.h), shared by its files:
 *   queue_feed.c   lifecycle, receiving (scripts, BLMOVE), offering, reaping, status
 *   queue_done.c   deletes of finished messages, and messages received too often
 * Everything runs on the loop. Reply callbacks that get a NULL reply only undo their own
 * bookkeeping and report the loss to their link: the feed may be freeing.
 */
#ifndef SL_REDIS_QUEUE_INT_H
#define SL_REDIS_QUEUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include <hiredis/async.h>

#include "connectors/connector.h"
#include "connectors/redis/backlog.h"
#include "connectors/redis/queue_scripts.h"
#include "connectors/redis/redis_health.h"

enum queue_key { KEY_QUEUE, KEY_RETURNED, KEY_MESSAGES, KEY_INFLIGHT, KEY_SEQ, N_KEYS };

struct dead_letter;                  /* a record being stored (queue_done.c) */
LIST_HEAD(dead_letters, dead_letter);

struct queue_feed {
	struct sl_feed base;
	const struct sl_source_config *cfg;
	const struct sl_trigger_config *trigger_cfg;
	char *tag;                   /* "trigger:<name>" */
	char *keys[N_KEYS];
	char count[16];              /* messages a receive, decimal */
	char visibility_ms[16];
	struct sl_redis_link *reader, *cmd;
	struct redis_health health;
	struct sl_trigger *trigger;
	struct sl_destination *on_failure;
	struct backlog backlog;      /* received, not yet taken by the trigger */
	bool receiving;              /* a receive or BLMOVE is out on the reader */
	bool paused, stopped;
	/* ids done, waiting for a delete call (a ring of owned strings) */
	char **deletes;
	size_t deletes_cap, deletes_head, n_deletes;
	struct event *flush;         /* sends the deletes on the next loop turn */
	struct dead_letters dead_letters;
	struct event *tick;
	size_t status_out;
	bool figures_known;
	long long waiting, returned, in_flight;
	size_t *commits_in_flight;
};

/* Send EVALSHA script with the keys and args on link; false when not ready. */
bool queue_eval(struct sl_redis_link *link, redisCallbackFn *cb,
		void *privdata, enum queue_script script, int n_keys, const char *const *keys, int n_args,
		const char *const *args);

/* queue_done.c */
void queue_done(void *ctx, const struct sl_event *ev);
void queue_send_deletes(struct queue_feed *f);
/* ev (a message received more than max_receive_count times) goes to on_failure and is deleted
 * once stored. Takes the reference. */
void queue_dead_letter(struct queue_feed *f, struct sl_event *ev);
/* Forget the ids and detach records still being stored (their callbacks only clean up). */
void queue_done_release(struct queue_feed *f);

#endif
