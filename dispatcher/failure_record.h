/* Failure record: what the on-failure destination receives when a batch is given up on.
 *
 * The shape is Lambda's destination record for stream sources (lambda-semantics §4.4) with the
 * batch-info member named for Sluice, plus the error and, when they fit, the events:
 *
 *   {"version": "1.0", "timestamp": "2026-11-24T10:00:00.123Z",
 *    "requestContext": {"requestId": "<last invoke>", "functionArn":
 *        "arn:aws:lambda:us-east-1:000000000000:function:<fn>",
 *        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
 *    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
 *        "functionError": "Unhandled"},
 *    "errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 3.00 seconds",
 *    "SluiceBatchInfo": {"trigger", "source", "function", "partition", "firstPosition",
 *        "lastPosition", "batchSize", "firstEventId", "lastEventId"},
 *    "events": [<CloudEvents of the batch, in order>]}
 *
 * responseContext is present only when the function was invoked at least once (Lambda omits it
 * for RecordAgeExceeded); requestId is null then. When the record with its events would pass
 * SL_FAILURE_RECORD_MAX_BYTES, "events" is left out and "eventsOmitted" says why; the positions
 * still tell where to re-read them from the source.
 *
 * Every constant of the record lives here, so the shape has one definition.
 */
#ifndef SL_FAILURE_RECORD_H
#define SL_FAILURE_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct sl_event;
struct sl_invoke_result;

#define SL_FAILURE_RECORD_VERSION "1.0"
#define SL_FAILURE_FUNCTION_ARN_PREFIX "arn:aws:lambda:us-east-1:000000000000:function:"
#define SL_FAILURE_EXECUTED_VERSION "$LATEST"
#define SL_FAILURE_FUNCTION_ERROR "Unhandled"
#define SL_FAILURE_BATCH_INFO_KEY "SluiceBatchInfo"
/* Lambda's payload limit; a record with its events above this leaves the events out. */
#define SL_FAILURE_RECORD_MAX_BYTES 6291456u
/* Longest error message copied from an invoke result (bytes). */
#define SL_FAILURE_MAX_MESSAGE 4096u

/* requestContext.condition values. */
#define SL_FAILURE_RETRIES_EXHAUSTED "RetryAttemptsExhausted"  /* Lambda's */
#define SL_FAILURE_NOT_DELIVERABLE "EventNotDeliverable"       /* Sluice's: permanent error
								   * before any invoke */

struct sl_failure_info {
	const char *condition;       /* SL_FAILURE_* */
	const char *trigger;
	const char *source;
	const char *function;
	unsigned invoke_count;       /* approximateInvokeCount: invokes made (first + retries) */
	const char *request_id;      /* last invoke's, NULL when there was none */
	const char *error_type;      /* Category.Reason */
	const char *error_message;
	int64_t timestamp_ms;        /* Unix ms of the record */
	const struct sl_event *const *events;   /* the batch, in order; n >= 1 */
	size_t n;
};

/* Build the record (new reference). */
json_t *sl_failure_record_new(const struct sl_failure_info *fi);

/* The error of an invoke result: errorType/errorMessage from its error JSON when the payload is
 * an object carrying them, else res->error_type and the payload text (at most
 * SL_FAILURE_MAX_MESSAGE bytes). Never NULL; caller frees both. */
void sl_failure_error_of(const struct sl_invoke_result *res, char **type, char **message);

/* A Category.Reason name for an enum sl_invoke_status, for results that carry no error_type. */
const char *sl_failure_status_name(int status);


#endif
