/* Checkpoint tracker for one source partition.
 *
 * Events get a ticket in arrival order (sl_checkpoint_track). They complete in any order
 * (sl_checkpoint_done). The committable point is the last ticket of the longest prefix of tickets
 * that are all done; sl_checkpoint_done returns that event when the prefix grew (the caller then
 * commits its position), NULL otherwise. The tracker holds one event reference per tracked ticket
 * until the prefix passes it. Memory is proportional to the events not yet committed.
 */
#ifndef SL_CHECKPOINT_H
#define SL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

struct sl_event;
struct sl_checkpoint;

struct sl_checkpoint *sl_checkpoint_new(void);
void sl_checkpoint_free(struct sl_checkpoint *cp);
/* Track ev (takes a new reference); returns its ticket. */
uint64_t sl_checkpoint_track(struct sl_checkpoint *cp, struct sl_event *ev);
/* Mark a ticket done. Returns the event at the new end of the done prefix if the prefix grew
 * (valid until the next call on cp), else NULL. */
const struct sl_event *sl_checkpoint_done(struct sl_checkpoint *cp, uint64_t ticket);
/* Tickets tracked and not yet committed. */
size_t sl_checkpoint_outstanding(const struct sl_checkpoint *cp);

#endif
