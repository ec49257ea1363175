/* Trigger internals shared by trigger.c (instance, offer, partitions, backpressure, drain),
 * trigger_lane.c (batching, window timers, invoking) and trigger_outcome.c (the one place where
 * every outcome of a batch is decided). Not a public header.
 *
 * Structure. A trigger has partitions (one per source partition name, in a hash table); each
 * partition has one checkpoint tracker and `parallelization` lanes; each lane has a batcher, a
 * window timer and at most one batch out (struct tr_batch), so order is kept per lane. A batch
 * out is in exactly one stage: being invoked, waiting to retry the invoke, being stored as a
 * failure record, or waiting to retry that store. All batches out are also on the trigger's
 * list, so drain and free can reach them.
 *
 * Accounting. `pending` counts events from offer until their checkpoint commits them (a done
 * event behind a stuck one still holds memory); `pending_bytes` counts event bytes from offer
 * until the batch holding them is resolved.
 *
 * Orphans. sl_trigger_free() cannot cancel an executor invocation or a destination store in
 * progress; such a batch is detached (t = NULL) and freed by its callback.
 */
#ifndef SL_TRIGGER_INTERNAL_H
#define SL_TRIGGER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatcher/backoff.h"
#include "dispatcher/batcher.h"
#include "dispatcher/filter.h"
#include "dispatcher/trigger.h"

struct event;
struct tr_partition;

struct tr_lane {
	struct sl_trigger *t;
	struct tr_partition *part;
	unsigned index;
	struct sl_batcher batcher;
	struct event *window;         /* fires at the batcher's deadline */
	int64_t armed_deadline;       /* what window is armed for, INT64_MAX when not */
	struct tr_batch *out;         /* the lane's batch out, or NULL */
	bool halted;                  /* a batch was abandoned: start nothing more */
};

struct tr_partition {
	struct tr_partition *next;    /* hash chain */
	char *name;
	struct sl_checkpoint *cp;
	struct tr_lane *lanes;        /* t->parallelization of them */
};

enum tr_stage { TR_INVOKING, TR_RETRY_WAIT, TR_STORING, TR_STORE_WAIT };

struct tr_batch {
	struct sl_trigger *t;         /* NULL when orphaned */
	struct tr_lane *lane;
	struct tr_batch *prev, *next; /* t->batches */
	struct sl_batch b;
	const struct sl_event **evs;  /* b's events as an array (borrowed from b) */
	char *payload;
	size_t payload_len;
	enum tr_stage stage;
	unsigned attempts;            /* invokes made (throttled ones are not invokes) */
	unsigned throttles;           /* invokes the executor refused for lack of a sandbox */
	unsigned store_attempts;      /* failure-record stores tried */
	struct event *timer;          /* retry backoff */
	char *request_id;             /* of the last invoke */
	char *fail_name;              /* Category.Reason of the last failure (log, metrics) */
	char *error_type;             /* from the last failure's error JSON (record) */
	char *error_message;
	const char *condition;        /* SL_FAILURE_* once given up */
	json_t *record;               /* failure record, kept across store retries */
};

struct sl_trigger {
	struct event_base *base;
	const struct sl_trigger_config *cfg;
	const struct sl_source_config *scfg;
	struct sl_executor *ex;
	struct sl_destination *on_failure;
	struct sl_trigger_source src;
	char *tag;                    /* "trigger:<name>" */
	size_t batch_size;            /* effective: cfg capped by the payload format */
	unsigned parallelization;

	struct tr_partition **buckets;
	size_t n_buckets, n_partitions;

	struct tr_batch *batches;     /* every batch out */
	size_t n_batches;

	size_t pending;
	uint64_t pending_bytes;
	bool refused;                 /* an offer was refused; resume() owed */

	bool draining;
	void (*drain_done)(void *arg);
	void *drain_arg;
	struct event *drain_ev;

	struct sl_filter *filters[SL_FILTERS_MAX]; /* cfg->filters, compiled: any may match */
	size_t n_filters;

	struct sl_trigger_stats stats;
	sl_rand_fn rnd;               /* backoff random source */
	void *rnd_arg;
};

int64_t tr_now_ms(void);

/* trigger_lane.c */
void tr_lane_init(struct tr_lane *lane, struct sl_trigger *t, struct tr_partition *part,
		  unsigned index);
void tr_lane_release(struct tr_lane *lane);
/* Start the lane's next batch if it may and one is ready, else arm its window timer. */
void tr_lane_kick(struct tr_lane *lane);
/* Invoke the function with the batch (again). */
void tr_batch_invoke(struct tr_batch *b);
/* Unlink from the trigger (when not orphaned) and free everything the batch holds. */
void tr_batch_free(struct tr_batch *b);

/* trigger_outcome.c */
enum tr_outcome {
	TR_INVOKED,                   /* the function returned a response */
	TR_INVOKE_FAILED,             /* any failed attempt: retry or give up */
	TR_THROTTLED,                 /* no sandbox: retry, not counted as an attempt */
	TR_UNDELIVERABLE,             /* permanent: give up without (more) invokes */
	TR_EXECUTOR_GONE,             /* the executor refuses work: abandon, keep uncommitted */
	TR_STORED,                    /* failure record durably stored */
	TR_STORE_FAILED,              /* the destination could not store it */
};
void tr_handle(struct tr_batch *b, enum tr_outcome outcome, int status);
/* Leave the batch unresolved (shutdown): its events stay uncommitted. */
void tr_batch_abandon(struct tr_batch *b);

/* trigger.c */
/* A batch left the lane: give resume() and drain completion their chance. */
void tr_after_batch(struct sl_trigger *t);

#endif
