/* Batcher: a ring buffer of queued events plus the extent of the next batch; see batcher.h.
 *
 * Invariant: the first next_n entries form the next batch (next_bytes is their size). When
 * next_closed is false every queued entry is in it; when true, either it reached batch_size, or
 * the entry after it did not fit in max_bytes, or it is one oversized event. take() pops the
 * batch and rebuilds the extent from the new front by the same rule push() applies.
 */
#include "dispatcher/batcher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/mem.h"
#include "core/ring.h"

#define BATCHER_MIN_CAP 16

void sl_batch_release(struct sl_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		sl_event_unref(b->items[i].ev);
	free(b->items);
	memset(b, 0, sizeof(*b));
}

void sl_batcher_init(struct sl_batcher *b, const struct sl_batcher_limits *lim)
{
	memset(b, 0, sizeof(*b));
	b->lim = *lim;
	if (b->lim.batch_size < 1)
		b->lim.batch_size = 1;
	if (b->lim.max_bytes < 1)
		b->lim.max_bytes = 1;
	if (b->lim.window_ms < 0)
		b->lim.window_ms = 0;
	if (b->lim.max_events < 1)
		b->lim.max_events = 1;
}

static struct sl_batcher_entry *entry(const struct sl_batcher *b, size_t i)
{
	return &b->ring[(b->head + i) % b->cap];
}

void sl_batcher_release(struct sl_batcher *b)
{
	for (size_t i = 0; i < b->count; i++)
		sl_event_unref(entry(b, i)->ev);
	free(b->ring);
	struct sl_batcher_limits lim = b->lim;
	memset(b, 0, sizeof(*b));
	b->lim = lim;
}

static void grow(struct sl_batcher *b)
{
	void *ring = b->ring;
	sl_ring_grow(&ring, &b->cap, &b->head, b->count, sizeof(*b->ring), BATCHER_MIN_CAP);
	b->ring = ring;
}

/* Let the entry after the current next batch join it, or close the batch. */
static void extend_next(struct sl_batcher *b, const struct sl_batcher_entry *e)
{
	if (b->next_n > 0 && b->next_bytes + e->size > b->lim.max_bytes) {
		b->next_closed = true;
		return;
	}
	b->next_n++;
	b->next_bytes += e->size;
	if (b->next_n >= b->lim.batch_size || b->next_bytes > b->lim.max_bytes)
		b->next_closed = true;   /* full, or one oversized event alone */
}

int sl_batcher_push(struct sl_batcher *b, struct sl_event *ev, uint64_t size, uint64_t tag,
		    int64_t now_ms)
{
	if (b->count >= b->lim.max_events)
		return -ENOBUFS;
	if (b->count == b->cap)
		grow(b);
	struct sl_batcher_entry *e = entry(b, b->count);
	e->ev = ev;
	e->tag = tag;
	e->arrival_ms = now_ms;
	e->size = size;
	b->count++;
	b->bytes += e->size;
	if (!b->next_closed)
		extend_next(b, e);
	return 0;
}

int64_t sl_batcher_deadline(const struct sl_batcher *b)
{
	if (b->count == 0)
		return INT64_MAX;
	int64_t first = entry(b, 0)->arrival_ms;
	return first > INT64_MAX - b->lim.window_ms ? INT64_MAX : first + b->lim.window_ms;
}

bool sl_batcher_ready(const struct sl_batcher *b, int64_t now_ms)
{
	if (b->next_n == 0)
		return false;
	return b->next_closed || now_ms >= sl_batcher_deadline(b);
}

int sl_batcher_take(struct sl_batcher *b, int64_t now_ms, struct sl_batch *out)
{
	if (!sl_batcher_ready(b, now_ms))
		return -EAGAIN;
	size_t n = b->next_n;
	out->items = sl_xcalloc(n, sizeof(*out->items));
	out->n = n;
	out->bytes = b->next_bytes;
	out->oversized = n == 1 && b->next_bytes > b->lim.max_bytes;
	for (size_t i = 0; i < n; i++) {
		out->items[i].ev = entry(b, i)->ev;
		out->items[i].tag = entry(b, i)->tag;
	}
	b->head = (b->head + n) % b->cap;
	b->count -= n;
	b->bytes -= b->next_bytes;

	b->next_n = 0;
	b->next_bytes = 0;
	b->next_closed = false;
	for (size_t i = 0; i < b->count && !b->next_closed; i++)
		extend_next(b, entry(b, i));
	return 0;
}

size_t sl_batcher_count(const struct sl_batcher *b)
{
	return b->count;
}

uint64_t sl_batcher_bytes(const struct sl_batcher *b)
{
	return b->bytes;
}
