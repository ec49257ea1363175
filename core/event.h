/* The envelope: one event as every stage of Sluice sees it.
 *
 * An event is a CloudEvents 1.0 record (id, source, type, specversion "1.0", optional subject,
 * time, datacontenttype, dataschema, data or data_base64) plus the two CloudEvents extensions
 * `partitionkey` and `sequence`, plus where it came from: the source `partition` (a name such as
 * "orders-3", "" for single-partition sources) and the opaque source `position` inside it (a
 * Kafka offset, a stream entry id, a Postgres LSN, a spool sequence number). Positions are
 * compared only by the connector that made them; the dispatcher orders events by arrival.
 *
 * Ids: a source that receives an id from its producer keeps it (CloudEvents: source + id is
 * unique). Otherwise the id is derived from the position with sl_event_id_from_position(), so an
 * event redelivered after a crash carries the same id and consumers can dedupe.
 *
 * Data is JSON (`data`, any JSON value, including a string for text payloads), the same JSON kept
 * as its compact text (`data_text`: what events read back from a spool carry, so the dispatcher
 * never builds or frees a tree for it), or bytes (`data_bytes`, encoded as data_base64); at most
 * one of the three. Events are reference counted: the dispatcher
 * can hold one in a batch, a retry and a dead-letter record at once. Counting is atomic, so an
 * event may be made on a connector thread and released on the core loop.
 *
 * Ownership: sl_event_new() returns one reference. Setters copy strings; change string fields
 * only through sl_event_set, and data through the data setters (a decoded or packed event's
 * attributes, and a packed event's bytes, share one allocation, `strings`, so they are not
 * separately freeable). sl_event_set_data_json() steals the json_t reference
 * (jansson's _new convention). sl_event_unref(NULL) is a no-op.
 */
#ifndef SL_EVENT_H
#define SL_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct sl_event {
	unsigned refs;               /* atomic; use sl_event_ref/unref */
	char *id;
	char *source;
	char *type;
	char *subject;               /* NULL when absent */
	char *time;                  /* RFC 3339, NULL when absent or given as time_ms */
	char *datacontenttype;       /* NULL when absent */
	char *dataschema;            /* NULL when absent */
	char *partitionkey;          /* NULL when absent */
	char *sequence;              /* NULL when absent */
	json_t *extensions;          /* other attributes: object of name -> value, or NULL */
	json_t *data;                /* JSON data, or NULL */
	char *data_text;             /* JSON data as valid compact JSON text, or NULL */
	size_t data_text_len;
	unsigned char *data_bytes;   /* binary data (data_base64), or NULL */
	size_t data_len;
	char *partition;             /* source partition, "" when the source has one */
	char *position;              /* opaque source position */
	int64_t time_ms;             /* when `time` is NULL: the time as Unix ms, written as RFC 3339
				      * only when the event is encoded (what sources that make many
				      * events set); 0 when the event has no time */
	int64_t received_ms;         /* Unix ms when the source accepted it (record age) */
	char *strings;               /* the string attributes decoded together (one allocation the
				      * fields above point into), or NULL */
	size_t strings_len;
};

struct sl_event *sl_event_new(void);
struct sl_event *sl_event_ref(struct sl_event *ev);
void sl_event_unref(struct sl_event *ev);

/* Replace a string attribute of ev, field = &ev->member (copies value; NULL clears). */
void sl_event_set(struct sl_event *ev, char **field, const char *value);
/* Set n string attributes of a new event at once: *fields[i] = a copy of values[i] (NULL leaves
 * the field alone), and, when bytes is not NULL, a copy of bytes_len bytes as the binary data;
 * all copies in one allocation (the shared `strings`): what a connector that makes many events
 * calls instead of one sl_event_set per field. The event must not have a shared block yet. */
void sl_event_set_packed(struct sl_event *ev, char **const *fields, const char *const *values,
			 size_t n, const void *bytes, size_t bytes_len);
/* Set JSON data, stealing `data`; clears any bytes. */
void sl_event_set_data_json(struct sl_event *ev, json_t *data);
/* Set binary data (copied); clears any JSON data. */
void sl_event_set_data_bytes(struct sl_event *ev, const void *bytes, size_t len);
/* Set JSON data as its text (copied; the caller vouches that it is valid JSON); clears any other
 * data. */
void sl_event_set_data_text(struct sl_event *ev, const char *text, size_t len);
/* The same, taking text (malloc'd, with a NUL at text[len]) instead of copying it. */
void sl_event_take_data_text(struct sl_event *ev, char *text, size_t len);
/* The JSON data (from `data` or parsed from `data_text`) as a new reference, or NULL when the
 * event has no JSON data. */
json_t *sl_event_data_json(const struct sl_event *ev);
/* The event's time as Unix ms (`time` parsed, or time_ms); received_ms when it has none. */
int64_t sl_event_time_ms(const struct sl_event *ev);
/* The CloudEvents attributes only (no data, data_base64). New reference. */
json_t *sl_event_attributes(const struct sl_event *ev);

/* The id for an event that came without one: "<source>:<partition>:<position>", or
 * "<source>:<position>" when partition is "". Caller frees. */
char *sl_event_id_from_position(const char *source, const char *partition, const char *position);
/* The same id written into buf (as snprintf: the length it needs, cut to fit len). */
int sl_event_format_id(char *buf, size_t len, const char *source, const char *partition,
		       const char *position);

/* Encode as a CloudEvents JSON object (structured mode). Includes `partitionkey`, `sequence`
 * and extensions; not partition/position, which are Sluice-internal. New reference. */
json_t *sl_event_to_cloudevent(const struct sl_event *ev);

/* Decode a CloudEvents JSON object. Validates per CloudEvents 1.0: required id/source/type/
 * specversion "1.0", string types, attribute names [a-z0-9]{1,20}, data xor data_base64 (valid
 * base64). `id` may be missing when allow_missing_id is set (the caller derives it later).
 * On error returns NULL and writes "<attribute>: <what was expected>" into err. */
struct sl_event *sl_event_from_cloudevent(const json_t *obj, int allow_missing_id,
					   char *err, size_t errlen);

/* Approximate encoded size in bytes, used for batch byte limits. */
size_t sl_event_size(const struct sl_event *ev);

#endif
