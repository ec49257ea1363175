/* One Redis stream entry as an event (the "redis_stream" contract in dispatcher/payload.h).
 *
 *   id            "<source>:<stream>:<entry id>" (sl_event_id_from_position): the same on
 *                 every redelivery
 *   source        ce_source ("/sluice/sources/<source>"), subject the stream key, type
 *                 "sluice.redis_stream.entry"
 *   partition     the stream key; position and sequence the entry id ("<ms>-<seq>")
 *   data          the entry's fields as a JSON object of strings, as compact text (data_text),
 *                 in the entry's order (a repeated field keeps its last value). Names and values
 *                 that are not UTF-8 are read as Latin-1, one character a byte, so no byte is
 *                 lost.
 *   partitionkey  the value of the source's partition_key_field when the entry has it, else
 *                 the stream key
 *   time_ms       the entry id's milliseconds (when Redis added it); received_ms is the same
 *                 instant, so max_record_age_s counts from the entry's arrival
 */
#ifndef SL_REDIS_STREAM_ENTRY_H
#define SL_REDIS_STREAM_ENTRY_H

#include <hiredis/hiredis.h>

struct sl_event;

/* The entry's id when `entry` is an [id, fields] reply, else NULL (borrowed from the reply). */
const char *redis_stream_entry_id(const redisReply *entry);
/* The event of `entry`, an [id, [field, value, ...]] reply read from `stream`; NULL when the
 * fields are missing (the entry was deleted while pending) or malformed. key_field may be NULL. */
struct sl_event *redis_stream_entry_event(const redisReply *entry, const char *source_name,
					  const char *ce_source, const char *stream,
					  const char *key_field);

#endif
