/* Events waiting for the trigger; see backlog.h. */
#include "connectors/redis/backlog.h"

#include <stdlib.h>

#include "core/event.h"
#include "core/ring.h"
#include "dispatcher/trigger.h"

void backlog_push(struct backlog *b, struct sl_event *ev)
{
	if (b->n == b->cap)
		sl_ring_grow((void **)&b->ring, &b->cap, &b->head, b->n, sizeof(*b->ring), 64);
	b->ring[(b->head + b->n++) % b->cap] = ev;
}

int backlog_offer(struct backlog *b, struct sl_trigger *trigger)
{
	while (b->n > 0) {
		int rc = sl_trigger_offer(trigger, b->ring[b->head]);
		if (rc < 0)
			return rc;
		b->head = (b->head + 1) % b->cap;
		b->n--;
	}
	return 0;
}

void backlog_release(struct backlog *b)
{
	for (; b->n > 0; b->n--) {
		sl_event_unref(b->ring[b->head]);
		b->head = (b->head + 1) % b->cap;
	}
	free(b->ring);
	b->ring = NULL;
	b->cap = 0;
}
