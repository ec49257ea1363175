/* Trigger internals shared by the trigger's files. Not a public header.
 *
 * Files: trigger.c (instance, offer, partitions, backpressure, drain), trigger_lane.c (batching,
 * window timers, invoking), trigger_piece.c (cutting pieces), trigger_outcome.c (the one place
 * where every outcome is decided), trigger_status.c (status JSON).
 *
 * Structure. A trigger has partitions (one per source partition name, in a hash table); each
 * partition has one checkpoint tracker and `parallelization` lanes; each lane has a batcher, a
 * window timer and at most one batch out (struct tr_batch), so order is kept per lane. A batch
 * out resolves piece by piece (struct tr_piece) and is in exactly one stage: being invoked,
 * waiting to retry the invoke, storing a record (failure or success), or waiting to retry that
 * store. All batches out are also on the trigger's list, so drain and free can reach them.
 *
 * Accounting. `pending` counts events from offer until their checkpoint commits them (a done
 * event behind a stuck one still holds memory); `pending_bytes` counts event bytes from offer
 * until the piece holding them is resolved.
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
#include "executor/executor.h"

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
	bool waiting;                 /* on t->waiting: ready, held by max_concurrency */
	struct tr_lane *next_waiting;
};

struct tr_partition {
	struct tr_partition *next;    /* hash chain */
	char *name;
	struct sl_checkpoint *cp;
	struct tr_lane *lanes;        /* t->parallelization of them */
	unsigned next_lane;           /* for events without a key from unordered sources */
};

enum tr_stage { TR_INVOKING, TR_RETRY_WAIT, TR_STORING, TR_STORE_WAIT };

/* A piece of a batch: the events still to resolve together. A batch starts as one piece;
 * bisecting replaces the current piece by its two halves, a partial response or an age cut by
 * what is left of it. Each piece counts its own invokes. */
struct tr_piece {
	struct sl_batch b;            /* its events and their checkpoint tickets (tags) */
	unsigned attempts;            /* invokes made (throttled ones are not invokes) */
	unsigned throttles;           /* invokes the executor refused for lack of a sandbox */
	bool failed;                  /* failed already (the rest of a partial answer): handle the
				       * failure when it becomes current */
};

/* Pieces waiting, at most: halving 10000 events takes 14 levels, each leaving one half
 * waiting; an age cut or a partial response adds one more at most. */
#define TR_MAX_PIECES 32

struct tr_batch {
	struct sl_trigger *t;         /* NULL when orphaned */
	struct tr_lane *lane;
	struct tr_batch *prev, *next; /* t->batches */
	/* Pieces still to resolve, in source order from the top: pieces[depth - 1] is the
	 * current one, the others follow it. */
	struct tr_piece *pieces;      /* grown as needed (most batches stay one piece) */
	size_t depth, cap;
	uint64_t bytes;               /* of every event not yet resolved */
	const struct sl_event **evs;  /* the current piece's events as an array (borrowed) */
	char *payload;                /* the current piece, encoded */
	size_t payload_len;
	enum tr_stage stage;
	unsigned store_attempts;      /* record stores tried */
	struct event *timer;          /* retry backoff */
	char *request_id;             /* of the last invoke */
	char *response;               /* the last successful invoke's response (on_success) */
	size_t response_len;
	bool function_error;          /* the last failure was the function's (responseContext) */
	char *fail_name;              /* Category.Reason of the last failure (log, metrics) */
	char *error_type;             /* from the last failure's error JSON (record) */
	char *error_message;
	const char *condition;        /* SL_RECORD_* of the record being stored */
	json_t *record;               /* record being stored, kept across store retries */
};

struct sl_trigger {
	struct event_base *base;
	const struct sl_trigger_config *cfg;
	const struct sl_source_config *scfg;
	struct sl_invoker invoker;
	struct sl_destination *on_failure;
	struct sl_destination *on_success; /* or NULL */
	struct sl_trigger_source src;
	char *tag;                    /* "trigger:<name>" */
	size_t batch_size;            /* effective: cfg capped by the payload format */
	unsigned parallelization;
	size_t max_pending;
	uint64_t max_pending_bytes;

	struct tr_partition **buckets;
	size_t n_buckets, n_partitions;

	struct tr_batch *batches;     /* every batch out */
	size_t n_batches;
	struct tr_lane *waiting, **waiting_tail; /* lanes held by max_concurrency, FIFO */

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
	char *last_error;             /* "<time> <Category.Reason>: <message>", or NULL */
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
/* Invoke the function with the current piece (again). */
void tr_batch_invoke(struct tr_batch *b);
/* Unlink from the trigger (when not orphaned) and free everything the batch holds. */
void tr_batch_free(struct tr_batch *b);
/* The current piece. */
struct tr_piece *tr_current(struct tr_batch *b);
/* b->evs = the current piece's events. */
void tr_batch_refresh_events(struct tr_batch *b);
/* Encode the current piece into b->payload (refreshing b->evs): 0, or a negative errno with the
 * failure set (Sluice.PayloadEncodingFailed). */
int tr_batch_encode(struct tr_batch *b);
/* Set the batch's last failure: name (Category.Reason, also the record's errorType), whether it
 * was the function's, and a message. */
void tr_batch_set_failure(struct tr_batch *b, const char *name, bool function_error,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* trigger_piece.c */
/* Split items[0..n) of the current piece off as a piece of its own, made current; what is left
 * follows it. Both keep the piece's attempts. */
void tr_piece_cut(struct tr_batch *b, size_t n);
/* Put the items of the current piece without failed[i] first (keeping the order of each group),
 * cut them off as the current piece (at least one), and mark what follows as failed. */
void tr_piece_split_failed(struct tr_batch *b, const bool *failed);

/* trigger_outcome.c */
enum tr_outcome {
	TR_START,                     /* a piece is current: check its age, encode, invoke */
	TR_INVOKED,                   /* the function returned a response (b->response) */
	TR_INVOKE_FAILED,             /* any failed attempt: retry or give up */
	TR_THROTTLED,                 /* no sandbox: retry, not counted as an attempt */
	TR_EXECUTOR_GONE,             /* the executor refuses work: abandon, keep uncommitted */
	TR_STORED,                    /* the record is durably stored */
	TR_STORE_FAILED,              /* the destination could not store it */
};
void tr_handle(struct tr_batch *b, enum tr_outcome outcome, int status);
/* Leave the batch unresolved (shutdown): its events stay uncommitted. */
void tr_batch_abandon(struct tr_batch *b);

/* trigger.c */
/* A batch left the lane: give waiting lanes, resume() and drain completion their chance. */
void tr_after_batch(struct sl_trigger *t);
/* Note the failure in t->last_error (status). */
void tr_note_error(struct sl_trigger *t, const char *name, const char *message);

#endif
