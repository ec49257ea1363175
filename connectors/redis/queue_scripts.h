/* The Lua scripts of the Redis queue feed (what each does: queue_feed.h) and their SHA-1 names.
 *
 *   receive  KEYS queue, returned, messages, inflight, seq; ARGV max messages, visibility ms
 *            -> flat array: id, receive count (integer), first receive ms, body, ...
 *   reap     KEYS inflight, returned; ARGV max ids -> how many returned
 *   delete   KEYS inflight, messages; ARGV ids -> how many given
 *   figures  KEYS queue, returned, inflight -> [LLEN queue, LLEN returned, ZCARD inflight]
 */
#ifndef SL_REDIS_QUEUE_SCRIPTS_H
#define SL_REDIS_QUEUE_SCRIPTS_H

enum queue_script { QUEUE_RECEIVE, QUEUE_REAP, QUEUE_DELETE, QUEUE_FIGURES, QUEUE_N_SCRIPTS };

/* The script's text. */
const char *queue_script_text(enum queue_script s);
/* Its SHA-1 in hex, as EVALSHA wants it. */
const char *queue_script_sha(enum queue_script s);

#endif
