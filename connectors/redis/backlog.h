/* Events a pull feed has taken from its source and the trigger has not taken yet, in order.
 *
 * A feed pushes what it read, then offers: the trigger takes events until it is full
 * (-ENOBUFS: the feed waits for resume and offers again) or draining (-ESHUTDOWN: the rest stays
 * uncommitted at the source). The backlog owns one reference of each event it holds.
 */
#ifndef SL_REDIS_BACKLOG_H
#define SL_REDIS_BACKLOG_H

#include <stddef.h>

struct sl_event;
struct sl_trigger;

struct backlog {
	struct sl_event **ring;
	size_t cap, head, n;
};

/* Takes the reference. */
void backlog_push(struct backlog *b, struct sl_event *ev);
/* Offer the events in order: 0 when all were taken, else sl_trigger_offer's refusal. */
int backlog_offer(struct backlog *b, struct sl_trigger *trigger);
void backlog_release(struct backlog *b);

#endif
