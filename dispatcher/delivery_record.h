/* Delivery records: what the on-failure destination receives when a batch is given up on, and
 * the on-success destination when the function accepted one.
 *
 * The shape is Lambda's destination record (lambda-semantics §4.4 for streams, §6 for the
 * invocation record) with the batch-info member named for Sluice, plus the error and, when they
 * fit, the events:
 *
 *   {"version": "1.0", "timestamp": "2026-11-24T10:00:00.123Z",
 *    "requestContext": {"requestId": "<last invoke>", "functionArn":
 *        "arn:aws:lambda:us-east-1:000000000000:function:<fn>",
 *        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
 *    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
 *        "functionError": "Unhandled"},
 *    "responsePayload": <the function's response, on success>,
 *    "errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 3.00 seconds",
 *    "SluiceBatchInfo": {"trigger", "source", "function", "partition", "firstPosition",
 *        "lastPosition", "batchSize", "firstEventId", "lastEventId"},
 *    "events": [<CloudEvents of the batch, in order>]}
 *
 * Conditions: Success (on-success), RetryAttemptsExhausted, RecordAgeExceeded (Lambda's),
 * EventNotDeliverable (Sluice's: a permanent error before any invoke, such as an event too large
 * for any invocation) and MaxReceiveCountExceeded (Sluice's: a queue message that came back more
 * often than max_receive_count, stored by the queue source instead of being invoked). responseContext is present only when the function was invoked at least
 * once (Lambda omits it for RecordAgeExceeded); requestId is null then. functionError is
 * "Unhandled" after a function failure and null when the function answered but its answer
 * failed the batch (invalid or partial batchItemFailures), and absent on success. errorType and
 * errorMessage are absent on success. When the record with its events would pass
 * SL_RECORD_MAX_BYTES, "events" is left out and "eventsOmitted" says why; the positions still
 * tell where to re-read them from the source.
 *
 * Asynchronous invocations (a function's async queue) use Lambda's invocation record instead:
 * version, timestamp, requestContext (functionArn with ":$LATEST", condition Success,
 * RetriesExhausted or EventAgeExceeded), requestPayload (the event), responseContext (when
 * invoked), responsePayload (the response, or {errorType, errorMessage}).
 *
 * Every constant of the record lives here, so the shape has one definition.
 */
#ifndef SL_RECORD_H
#define SL_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_event;
struct sl_invoke_result;

#define SL_RECORD_VERSION "1.0"
#define SL_RECORD_FUNCTION_ARN_PREFIX "arn:aws:lambda:us-east-1:000000000000:function:"
#define SL_RECORD_EXECUTED_VERSION "$LATEST"
#define SL_RECORD_FUNCTION_ERROR "Unhandled"
#define SL_RECORD_BATCH_INFO_KEY "SluiceBatchInfo"
/* Lambda's payload limit; a record with its events above this leaves the events out. */
#define SL_RECORD_MAX_BYTES 6291456u
/* Longest error message copied from an invoke result (bytes). */
#define SL_RECORD_MAX_MESSAGE 4096u

/* requestContext.condition values. */
#define SL_RECORD_SUCCESS "Success"
#define SL_RECORD_RETRIES_EXHAUSTED "RetryAttemptsExhausted"
#define SL_RECORD_AGE_EXCEEDED "RecordAgeExceeded"
#define SL_RECORD_NOT_DELIVERABLE "EventNotDeliverable"
/* Sluice's: a queue message received more often than the source's max_receive_count. */
#define SL_RECORD_RECEIVES_EXCEEDED "MaxReceiveCountExceeded"
/* The same two conditions in asynchronous invocation records (§6). */
#define SL_RECORD_INVOCATION_RETRIES_EXHAUSTED "RetriesExhausted"
#define SL_RECORD_INVOCATION_AGE_EXCEEDED "EventAgeExceeded"

struct sl_record_info {
	const char *condition;       /* SL_RECORD_* */
	const char *trigger;
	const char *source;
	const char *function;
	unsigned invoke_count;       /* approximateInvokeCount: invokes made (first + retries) */
	const char *request_id;      /* last invoke's, NULL when there was none */
	const char *error_type;      /* Category.Reason; ignored for Success */
	const char *error_message;
	bool function_error;         /* the function failed (functionError "Unhandled") */
	const char *response;        /* Success: the function's response (JSON or text), or NULL */
	size_t response_len;
	bool invocation;             /* Lambda's asynchronous invocation record: one event, whose
				      * data is requestPayload; responsePayload is the response or
				      * the error; functionArn carries :$LATEST */
	int64_t timestamp_ms;        /* Unix ms of the record */
	const struct sl_event *const *events;   /* the batch, in order; n >= 1 */
	size_t n;
};

/* Build the record (new reference). */
json_t *sl_delivery_record_new(const struct sl_record_info *fi);

/* The error of an invoke result: errorType/errorMessage from its error JSON when the payload is
 * an object carrying them, else res->error_type and the payload text (at most
 * SL_RECORD_MAX_MESSAGE bytes). Never NULL; caller frees both. */
void sl_record_error_of(const struct sl_invoke_result *res, char **type, char **message);

/* A Category.Reason name for an enum sl_invoke_status, for results that carry no error_type. */
const char *sl_record_status_name(int status);


#endif
