/* Checkpoint tracker for one source partition.
 *
 * Events get a ticket in arrival order (sl_checkpoint_track). They complete in any order
 * (sl_checkpoint_done). The committable point is the last ticket of the longest prefix of tickets
 * that are all done; sl_checkpoint_done returns that event when the prefix grew (the caller then
 * commits its position), NULL otherwise. The tracker holds one event reference per tracked ticket
 * until the prefix passes it, plus one on the committable event itself (so the pointer it hands
 * out stays valid) until the prefix grows past it or the tracker is freed. Memory is
 * proportional to the events not yet committed. track and done are O(1) amortized (ring buffer).
 * Tickets start at 0 and increase by one per tracked event.
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
 * (valid until the prefix grows again or cp is freed), else NULL. A ticket that is not
 * outstanding (already committed, or never issued) is ignored: NULL. Marking an outstanding
 * ticket twice is harmless. */
const struct sl_event *sl_checkpoint_done(struct sl_checkpoint *cp, uint64_t ticket);
/* The event at the end of the done prefix (what was last returned by sl_checkpoint_done), or
 * NULL when nothing was committed yet. Same validity. */
const struct sl_event *sl_checkpoint_committed(const struct sl_checkpoint *cp);
/* Tickets tracked and not yet committed. */
size_t sl_checkpoint_outstanding(const struct sl_checkpoint *cp);

#endif
