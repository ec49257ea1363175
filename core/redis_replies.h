/* hiredis reply objects built in blocks: every object of one reply (the array, its elements,
 * their strings) comes from one or a few large allocations, freed together when hiredis frees the
 * reply. hiredis's own reader makes two allocations per element and frees them one by one: for
 * an XREADGROUP of thousands of entries, with glibc's consolidation of those many small frees,
 * that was about a third of the daemon's time on a Redis stream (bench/RESULTS.md, Streams).
 *
 * Callers see ordinary redisReply trees. Like hiredis's, a reply lives until its callback
 * returns; nothing may keep pointers into it. */
#ifndef SL_REDIS_REPLIES_H
#define SL_REDIS_REPLIES_H

#include <hiredis/hiredis.h>

/* Build the replies this reader parses in blocks (for a context: c->reader, right after
 * connecting starts). Free a reply with reader->fn->freeObject, as hiredis does. */
void sl_redis_replies_use_blocks(redisReader *reader);

#endif
