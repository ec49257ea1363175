/* One received Redis queue message as an event (the "redis_queue" contract in
 * dispatcher/payload.h).
 *
 *   id, position   the message id ("<first receive ms>-<seq>"); partition ""
 *   source         "/sluice/sources/<source>", subject the queue key, type
 *                  "sluice.redis_queue.message"
 *   data           the body as a JSON string (data_text) when it is UTF-8, else its bytes
 *                  (data_bytes, datacontenttype application/octet-stream)
 *   time           the first receive (when Sluice first took it from the list; producers' LPUSH
 *                  carries no time), RFC 3339; received_ms the same instant (record age)
 *   extensions     receivecount (integer, 1 at the first receive), senttimestamp and
 *                  firstreceivetime (Unix ms, both the first receive), receipthandle
 *                  ("<id>:<receive count>")
 */
#ifndef SL_REDIS_QUEUE_MESSAGE_H
#define SL_REDIS_QUEUE_MESSAGE_H

#include <hiredis/hiredis.h>

struct sl_event;

/* The event of the message at m[0..4) (id, count, first receive ms, body) of a receive answer,
 * or NULL when those are not of that shape. */
struct sl_event *redis_queue_message_event(redisReply *const *m, const char *source_name,
					   const char *queue);
/* The receive count of an event made here. */
long long redis_queue_receive_count(const struct sl_event *ev);

#endif
