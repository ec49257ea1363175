/* Partial batch responses: which events of a batch the function says failed.
 *
 * With report_batch_item_failures a function may answer {"batchItemFailures": [{"itemIdentifier":
 * ID}, ...]}. The rules are Lambda's (reference/lambda-semantics.md §4.5):
 *   - an empty or whitespace response, JSON null, a JSON value that is not an object, an object
 *     without batchItemFailures, batchItemFailures null or [] -> every event succeeded;
 *   - listed identifiers -> those events failed (each at most once; duplicates are harmless);
 *   - a response that is not JSON, batchItemFailures that is not an array, an item that is not an
 *     object or lacks itemIdentifier, an empty or non-string identifier, or one that names no
 *     event of the batch -> the response is invalid and the whole batch counts as failed.
 * An identifier names an event by its id or, for positioned sources (a Kinesis-like sequence
 * number, a Kafka offset), by its position; the Kafka form {"partition": P, "offset": N} names
 * the event of that partition and position.
 */
#ifndef SL_ITEM_FAILURES_H
#define SL_ITEM_FAILURES_H

#include <stdbool.h>
#include <stddef.h>

struct sl_event;

enum sl_item_failures {
	SL_ITEMS_ALL_OK,         /* full success */
	SL_ITEMS_SOME_FAILED,    /* failed[i] is true for each listed event */
	SL_ITEMS_INVALID,        /* the whole batch failed; why says what was wrong */
};

/* Read the response resp[0..len) of the batch evs[0..n). failed is the caller's array of n
 * entries, all set: true for the listed events with SL_ITEMS_SOME_FAILED, else all false. why (may be NULL) gets a message on SL_ITEMS_INVALID,
 * e.g. "batchItemFailures[2].itemIdentifier \"x\" names no event of the batch". */
enum sl_item_failures sl_item_failures_parse(const char *resp, size_t len,
					     const struct sl_event *const *evs, size_t n,
					     bool *failed, char *why, size_t whylen);

#endif
