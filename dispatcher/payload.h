/* Payload: the bytes a function receives for one batch.
 *
 * Each trigger picks a payload format (config: payload_format):
 *   cloudevents  a CloudEvents JSON batch (application/cloudevents-batch+json): a JSON array of
 *                structured-mode events (sl_event_to_cloudevent), in batch order. Any source.
 *   aws          the exact event AWS would send for the source kind. For the schedule kind that
 *                is the EventBridge "Scheduled Event" object, which the schedule connector already
 *                puts in the event's data: the payload is that data verbatim (JSON data encoded
 *                compactly, binary data as its bytes, no data as `null`), one event per invoke.
 *                The http kind has no AWS batch shape: -ENOTSUP.
 *                kafka: the Kafka event (SelfManagedKafka, or aws:kafka with the source's
 *                event_source_arn), records grouped under "<topic>-<partition>";
 *                redis_stream: the Kinesis event; redis_queue: the SQS event. What each reads
 *                from the events is listed below under "Stream and queue events".
 *   invocation   (internal: a function's asynchronous invocation queue) the event's data
 *                verbatim, as for aws/schedule, one event per invoke, any source kind.
 *
 * Stream and queue events: what the pull connectors put in an event, and the aws shapes read.
 *   kafka         partition "<topic>-<partition>" (split at the last '-'), position the offset
 *                 in decimal; data_bytes = the value (no data: a null value, sent as "value":
 *                 "" since Lambda's parsers require the key); time_ms = the record timestamp;
 *                 partitionkey = the key when it is UTF-8 text without
 *                 NUL, else the extension "kafkakey" (base64 of the key bytes; neither: no
 *                 key); extensions
 *                 "kafkatimestamptype" (absent: CREATE_TIME; else LOG_APPEND_TIME), and
 *                 "kafkaheaders" (absent: none; else the AWS form, an array of one-key objects
 *                 {"name": [byte, ...]}, bytes as signed numbers -128..127).
 *   redis_stream  partition = the stream key (the shard id), position = the entry id
 *                 ("<ms>-<seq>", the sequence number); data_text = the entry's fields as a JSON
 *                 object of strings (Kinesis data = base64 of that text); partitionkey
 *                 (absent: the stream key); time_ms = the entry id's ms
 *                 (approximateArrivalTimestamp).
 *   redis_queue   partition "", position = id = the message id; data = the body as a JSON
 *                 string (data_text), or data_bytes when the body is not UTF-8 (SQS body = the
 *                 string; bytes become the characters U+0000..U+00FF with their numbers, which
 *                 a handler turns back into the bytes by encoding the body as Latin-1;
 *                 md5OfBody = the MD5 of the message's bytes); extensions "receivecount"
 *                 (integer; absent: 1), "senttimestamp" and "firstreceivetime" (integers, Unix
 *                 ms; absent: received_ms), "receipthandle" (string; absent: "").
 * An event without `time` or time_ms is taken to have been made when the source accepted it
 * (received_ms).
 * An event a shape cannot hold (a Kafka partition or offset that is not a plain decimal number, a
 * string that is not UTF-8) makes the batch fail to encode (-EINVAL), never invalid JSON.
 *
 * Output is one malloc'd buffer (free()), not NUL-terminated as far as *len is concerned (a NUL
 * follows for convenience).
 */
#ifndef SL_PAYLOAD_H
#define SL_PAYLOAD_H

#include <jansson.h>
#include <stddef.h>

#include "config/config.h"

struct sl_event;

#define SL_PAYLOAD_CONTENT_TYPE_CLOUDEVENTS "application/cloudevents-batch+json"

/* Most events one batch may hold for (fmt, kind): 1 for aws/schedule (EventBridge invokes once
 * per event), 0 when the format sets no limit of its own. */
size_t sl_payload_max_batch(enum sl_payload_format fmt, enum sl_source_kind kind);
/* 0 when (fmt, kind) can be encoded, else -ENOTSUP. */
int sl_payload_supported(enum sl_payload_format fmt, enum sl_source_kind kind);
const char *sl_payload_format_name(enum sl_payload_format fmt);
const char *sl_source_kind_name(enum sl_source_kind kind);

/* The CloudEvents batch for evs[0..n): a JSON array (new reference), or NULL when an event
 * cannot be encoded. */
json_t *sl_payload_cloudevents(const struct sl_event *const *evs, size_t n);

/* Encode a batch of n >= 1 events from source src (its kind picks the aws shape; some shapes
 * name the source's brokers or queue). 0 with *out (caller frees) and *len; -ENOTSUP for a format
 * the source kind lacks (or the SQS shape when libcrypto offers no MD5, as in FIPS mode); -EINVAL
 * for a batch the format cannot hold (aws/schedule with n != 1) or an event that cannot be
 * encoded. */
int sl_payload_encode(enum sl_payload_format fmt, const struct sl_source_config *src,
		      const struct sl_event *const *evs, size_t n, char **out, size_t *len);

#endif
