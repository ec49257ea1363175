/* Growable ring buffers; see ring.h. */
#include "core/ring.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void sl_ring_grow(void **ring, size_t *cap, size_t *head, size_t count, size_t elem_size,
		  size_t min_cap)
{
	size_t new_cap = *cap ? *cap * 2 : min_cap;
	char *fresh = sl_xcalloc(new_cap, elem_size);
	const char *old = *ring;

	for (size_t i = 0; i < count; i++)
		memcpy(fresh + i * elem_size, old + ((*head + i) % *cap) * elem_size, elem_size);
	free(*ring);
	*ring = fresh;
	*cap = new_cap;
	*head = 0;
}
