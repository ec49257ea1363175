/* Redis queue feed: one trigger receiving the messages of a Redis list used as a queue (SQS-like).
 *
 * Producers LPUSH plain bodies to the queue key Q; Sluice takes them from the other end. Beside
 * Q, Sluice keeps (all named after Q, so one queue's keys sit together):
 *   Q:sluice:messages   hash: message id -> envelope, for every message received and not yet
 *                       deleted
 *   Q:sluice:inflight   sorted set: message id, scored by the Unix ms its visibility ends
 *   Q:sluice:returned   list of message ids whose visibility ended: received before Q
 *   Q:sluice:seq        counter for message ids
 * Envelope: "<receive count> <first receive ms> <this receive ms>\n<body bytes>" (the body as
 * produced, binary-safe). Message id: "<first receive ms>-<seq>".
 *
 * Scripts (Lua, loaded with SCRIPT LOAD on each connection and run with EVALSHA, so each step is
 * atomic and nothing is ever only in Sluice's memory):
 *   receive  up to N messages: ids from Q:sluice:returned first (receive count + 1), then bodies
 *            from Q (wrapped once: a new id, count 1); each envelope is rewritten with this
 *            receive's time and its id put in flight until now + visibility_timeout_s.
 *            Answers id, count, first receive ms, body per message.
 *   reap     ids in flight past their deadline move to Q:sluice:returned. Any node reaps every
 *            second, so a dead node's messages come back after the visibility timeout; the
 *            receive count grows at the next receive.
 *   delete   ids leave the in-flight set and the hash (a returned id whose envelope is gone is
 *            skipped at receive).
 * One sorted set for every consumer makes reaping one range query, whichever node took the
 * message, and deletes O(log n); no list of consumers is needed.
 *
 * Receiving (the reader connection): run receive; when it answers nothing, wait with
 * BLMOVE Q Q RIGHT RIGHT 1 (a rotation that changes nothing and returns once Q is not empty, or
 * after a second, when returned messages are looked for again), then receive again. While the
 * trigger is full (-ENOBUFS) received messages wait in the feed and nothing more is received.
 * Messages are events (queue_message.h) offered unordered: only the failed messages of a
 * partial batch response are retried.
 *
 * Done. The trigger's done callback deletes each message as it is resolved (delivered, given up
 * on and stored to on_failure, or filtered out): deletes are batched per loop turn (up to 1000 a
 * script call) on the second connection; those lost with a connection are sent again. A message
 * received more often than max_receive_count (when set) is not offered: it is stored to the
 * trigger's on_failure destination as a record with condition "MaxReceiveCountExceeded" and
 * deleted once the destination confirmed; if storing fails it stays in flight and comes back.
 *
 * As with SQS, a message whose processing outlasts visibility_timeout_s (retries included) is
 * received again, by this node or another: set it well above the function's timeout.
 *
 * Status: "lag" = messages waiting (LLEN Q + LLEN Q:sluice:returned), with "in_flight" (ZCARD
 * Q:sluice:inflight), queried every second.
 */
#ifndef SL_REDIS_QUEUE_FEED_H
#define SL_REDIS_QUEUE_FEED_H

#include <stddef.h>

struct sl_source;
struct sl_feed;
struct sl_feed_params;

/* commits_in_flight: the source's count of delete calls sent and not answered (shutdown waits
 * for 0); it outlives the feed. */
int redis_queue_feed_new(struct sl_source *src, const struct sl_feed_params *params,
			 size_t *commits_in_flight, struct sl_feed **out);

#endif
