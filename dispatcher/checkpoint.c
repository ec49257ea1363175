/* Checkpoint tracker: a ring buffer of (event, done) slots in ticket order; see checkpoint.h.
 *
 * Slot i of the ring (counted from head) holds ticket first + i. Completing the head slot pops
 * every done slot at the front; the last popped event is kept (one reference) as the committable
 * point until the prefix grows again, so the pointer returned to the caller stays valid. Each
 * ticket is pushed and popped once: track and done are O(1) amortized; the ring doubles when full.
 */
#include "dispatcher/checkpoint.h"

#include <stdbool.h>
#include <stdlib.h>

#include "core/event.h"
#include "core/mem.h"
#include "core/ring.h"

#define CHECKPOINT_MIN_CAP 16

struct slot {
	struct sl_event *ev;
	bool done;
};

struct sl_checkpoint {
	struct slot *ring;
	size_t cap, head, count;
	uint64_t first;              /* ticket of the head slot */
	struct sl_event *committed;  /* end of the done prefix, or NULL */
};

struct sl_checkpoint *sl_checkpoint_new(void)
{
	return sl_xcalloc(1, sizeof(struct sl_checkpoint));
}

static struct slot *slot_at(const struct sl_checkpoint *cp, size_t i)
{
	return &cp->ring[(cp->head + i) % cp->cap];
}

void sl_checkpoint_free(struct sl_checkpoint *cp)
{
	if (!cp)
		return;
	for (size_t i = 0; i < cp->count; i++)
		sl_event_unref(slot_at(cp, i)->ev);
	sl_event_unref(cp->committed);
	free(cp->ring);
	free(cp);
}

static void grow(struct sl_checkpoint *cp)
{
	void *ring = cp->ring;
	sl_ring_grow(&ring, &cp->cap, &cp->head, cp->count, sizeof(*cp->ring), CHECKPOINT_MIN_CAP);
	cp->ring = ring;
}

uint64_t sl_checkpoint_track(struct sl_checkpoint *cp, struct sl_event *ev)
{
	if (cp->count == cp->cap)
		grow(cp);
	struct slot *s = slot_at(cp, cp->count);
	s->ev = sl_event_ref(ev);
	s->done = false;
	return cp->first + cp->count++;
}

const struct sl_event *sl_checkpoint_done(struct sl_checkpoint *cp, uint64_t ticket)
{
	if (ticket < cp->first || ticket - cp->first >= cp->count)
		return NULL;     /* not outstanding: already committed or never issued */
	slot_at(cp, (size_t)(ticket - cp->first))->done = true;
	if (!cp->ring[cp->head].done)
		return NULL;
	while (cp->count > 0 && cp->ring[cp->head].done) {
		struct slot *s = &cp->ring[cp->head];
		sl_event_unref(cp->committed);
		cp->committed = s->ev;
		s->ev = NULL;
		cp->head = (cp->head + 1) % cp->cap;
		cp->count--;
		cp->first++;
	}
	return cp->committed;
}

const struct sl_event *sl_checkpoint_committed(const struct sl_checkpoint *cp)
{
	return cp->committed;
}

size_t sl_checkpoint_outstanding(const struct sl_checkpoint *cp)
{
	return cp->count;
}
