/* Batcher: the queue of one lane and the rule that cuts it into batches.
 *
 * Model. Events enter in arrival order (sl_batcher_push) with the time they arrived. The next
 * batch is always a prefix of the queue: the longest run of events, from the oldest, that holds
 * at most batch_size events and at most max_bytes bytes (sl_event_size). The batch is ready when
 *   - it has batch_size events, or
 *   - the next event in the queue would push it past max_bytes, or
 *   - the window expired: now_ms >= arrival of its first event + window_ms.
 * A single event larger than max_bytes forms a batch by itself, ready at once, flagged
 * `oversized` (a later change will dead-letter it instead of invoking with it).
 *
 * Events that arrive while the caller still has a batch out (one batch in flight per lane) just
 * queue; the window counts from each batch's first event's arrival, not from the moment the
 * previous batch was resolved (Lambda's Kafka/MQ semantics), so a backlog goes out at once.
 *
 * Pure data structure: no loop, no clock of its own; every call that needs the time takes
 * now_ms (any monotonic millisecond clock, as long as the caller uses the same one throughout).
 * sl_batcher_deadline() tells the caller when to arm its window timer.
 *
 * Cost: push O(1) amortized; take O(batch size). The queue grows up to max_events (a hard limit
 * set at init); past it push refuses with -ENOBUFS.
 *
 * Ownership: push steals the caller's event reference; take moves references into the batch;
 * sl_batch_release() drops them. sl_batcher_release() drops those still queued.
 */
#ifndef SL_BATCHER_H
#define SL_BATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_event;

struct sl_batch_item {
	struct sl_event *ev;     /* one reference */
	uint64_t tag;            /* caller's value given to push (e.g. a checkpoint ticket) */
};

struct sl_batch {
	struct sl_batch_item *items;
	size_t n;
	uint64_t bytes;          /* sum of sl_event_size() */
	bool oversized;          /* n == 1 and that event is larger than max_bytes */
};

/* Unref every event, free the items; *b becomes empty. */
void sl_batch_release(struct sl_batch *b);

struct sl_batcher_limits {
	size_t batch_size;       /* >= 1 */
	uint64_t max_bytes;      /* >= 1 */
	int64_t window_ms;       /* >= 0; 0 = a batch is ready as soon as it has an event */
	size_t max_events;       /* hard limit on queued events */
};

/* Members are private; they are here so a batcher can be embedded. */
struct sl_batcher_entry {
	struct sl_event *ev;
	uint64_t tag;
	int64_t arrival_ms;
	uint64_t size;
};

struct sl_batcher {
	struct sl_batcher_limits lim;
	struct sl_batcher_entry *ring;
	size_t cap, head, count;
	size_t next_n;           /* the next batch: the first next_n queued events */
	uint64_t next_bytes;
	bool next_closed;        /* nothing more can join the next batch */
	uint64_t bytes;          /* of everything queued */
};

void sl_batcher_init(struct sl_batcher *b, const struct sl_batcher_limits *lim);
/* Drop every queued event. The batcher may be initialized again. */
void sl_batcher_release(struct sl_batcher *b);

/* Queue ev (steals the reference), whose sl_event_size() the caller computed already, with the
 * caller's tag. 0, or -ENOBUFS when max_events are queued (nothing taken). */
int sl_batcher_push(struct sl_batcher *b, struct sl_event *ev, uint64_t size, uint64_t tag,
		    int64_t now_ms);
bool sl_batcher_ready(const struct sl_batcher *b, int64_t now_ms);
/* When the window of the next batch expires (first arrival + window_ms); INT64_MAX when empty. */
int64_t sl_batcher_deadline(const struct sl_batcher *b);
/* Move the next batch into *out when it is ready: 0, or -EAGAIN (not ready, *out untouched). */
int sl_batcher_take(struct sl_batcher *b, int64_t now_ms, struct sl_batch *out);

size_t sl_batcher_count(const struct sl_batcher *b);
uint64_t sl_batcher_bytes(const struct sl_batcher *b);

#endif
