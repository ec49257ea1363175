/* Pieces of a batch: cutting the current one in two; see trigger_internal.h. */
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/trigger_internal.h"

void tr_piece_cut(struct tr_batch *b, size_t n)
{
	if (b->depth >= TR_MAX_PIECES) {   /* unreachable: see TR_MAX_PIECES */
		sl_error(b->t->tag, "more than %d pieces of one batch", TR_MAX_PIECES);
		abort();
	}
	if (b->depth == b->cap) {
		b->cap *= 2;
		b->pieces = sl_xrealloc(b->pieces, b->cap * sizeof(*b->pieces));
	}
	struct tr_piece *rest = tr_current(b);
	struct tr_piece *first = &b->pieces[b->depth++];
	*first = (struct tr_piece){ .attempts = rest->attempts, .throttles = rest->throttles };
	first->b.items = sl_xmalloc(n * sizeof(*first->b.items));
	memcpy(first->b.items, rest->b.items, n * sizeof(*first->b.items));
	first->b.n = n;
	for (size_t i = 0; i < n; i++)
		first->b.bytes += sl_event_size(first->b.items[i].ev);
	memmove(rest->b.items, rest->b.items + n, (rest->b.n - n) * sizeof(*rest->b.items));
	rest->b.n -= n;
	rest->b.bytes -= first->b.bytes;
	rest->b.oversized = false;
}

void tr_piece_split_failed(struct tr_batch *b, const bool *failed)
{
	struct tr_piece *p = tr_current(b);
	struct sl_batch_item *sorted = sl_xmalloc(p->b.n * sizeof(*sorted));
	size_t ok = 0, bad = p->b.n;

	for (size_t i = 0; i < p->b.n; i++)
		if (!failed[i])
			sorted[ok++] = p->b.items[i];
	for (size_t i = p->b.n; i-- > 0;)
		if (failed[i])
			sorted[--bad] = p->b.items[i];
	memcpy(p->b.items, sorted, p->b.n * sizeof(*sorted));
	free(sorted);
	p->failed = true;
	tr_piece_cut(b, ok);
	tr_current(b)->failed = false;
}
