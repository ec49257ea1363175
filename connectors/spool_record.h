/* The spool record of a push source: everything one acknowledgement covered.
 *
 * A request to the http source (or one schedule tick) is stored as ONE spool record, so it is
 * written, synced and acknowledged all or nothing:
 *     {"received_ms": 1732440000123, "events": [<CloudEvent>, ...]}
 * JSON data is written as its compact text in the member "@data" (a name no CloudEvents attribute
 * can have) instead of "data", and read back as the event's data_text: the dispatcher then never
 * builds or frees a JSON tree for it, and the payload carries the text as it is. Records with
 * "data" (older spools) still decode, to JSON data.
 * Events keep the id their producer gave; an event without one gets, when read back,
 * "<source>:<seq>.<index>" (seq = the record's spool sequence number): the same id on every
 * redelivery. Its position is "<seq>.<index>/<count>", which tells the feed when the whole record
 * is done and may be committed.
 */
#ifndef SL_SPOOL_RECORD_H
#define SL_SPOOL_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct sl_event;

#define SL_SPOOL_RECORD_DATA_TEXT "@data"

/* Serialize events (borrowed) into a record; caller frees. */
char *sl_spool_record_encode(struct sl_event *const *events, size_t n, int64_t received_ms,
			     size_t *len);
/* Parse a record read at `seq` of source `source_name`. 0 with *events (array of new
 * references; caller unrefs each and frees the array) and *n, or -EINVAL with err set. */
int sl_spool_record_decode(const void *data, size_t len, uint64_t seq, const char *source_name,
			   struct sl_event ***events, size_t *n, char *err, size_t errlen);
/* Split a position made by decode. 0 or -EINVAL. */
int sl_spool_record_position(const char *position, uint64_t *seq, size_t *index, size_t *count);
/* The id an event without one gets: "<source>:<seq>.<index>". Caller frees. */
char *sl_spool_record_event_id(const char *source_name, uint64_t seq, size_t index);

#endif
