/* Growable ring buffers of fixed-size elements (FIFO queues that keep their order).
 *
 * The owner keeps the storage, capacity, head index and element count in its own struct, typed;
 * element i (0 = oldest) lives at ring[(head + i) % cap]. sl_ring_grow doubles the capacity
 * (or sets it to min_cap) and re-lays the elements out from index 0.
 */
#ifndef SL_RING_H
#define SL_RING_H

#include <stddef.h>

/* *ring: storage of *cap elements of elem_size bytes, count of them in use from *head. */
void sl_ring_grow(void **ring, size_t *cap, size_t *head, size_t count, size_t elem_size,
		  size_t min_cap);

#endif
