/* Property tables of triggers, source kinds and destination kinds, and the four sections.
 *
 * Trigger rows mirror Lambda's event source mapping parameters (BatchSize,
 * MaximumBatchingWindowInSeconds, MaximumRetryAttempts, ParallelizationFactor,
 * DestinationConfig.OnFailure; reference/lambda-semantics.md §4) with our units (ms, bytes).
 * Two defaults depend on the source and are settled by sl_link_trigger (checks.c):
 * payload_format, and batch_size for aws-format triggers on schedule sources.
 * The kinds arrays are indexed by the C enums of config.h (checked below).
 */
#include <stddef.h>

#include "config/config.h"
#include "config/props.h"

#define TR(field) offsetof(struct sl_trigger_config, field)
#define SRC(field) offsetof(struct sl_source_config, field)
#define DST(field) offsetof(struct sl_destination_config, field)

_Static_assert(SL_PAYLOAD_AWS == 0 && SL_PAYLOAD_CLOUDEVENTS == 1, "payload_formats order");
_Static_assert(SL_SOURCE_HTTP == 0 && SL_SOURCE_SCHEDULE == 1, "sl_source_kinds order");
_Static_assert(SL_DEST_FILE == 0, "sl_destination_kinds order");
_Static_assert(sizeof(enum sl_payload_format) == sizeof(int), "ENUM rows store an int");
_Static_assert(sizeof(enum sl_source_kind) == sizeof(int), "kinds are stored as int");
_Static_assert(sizeof(enum sl_destination_kind) == sizeof(int), "kinds are stored as int");

static const char *const payload_formats[] = { "aws", "cloudevents", NULL };

const struct sl_prop sl_props_trigger[] = {
	{ .name = "source", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED,
	  .ref = &sl_section_sources, .offset = TR(source),
	  .help = "Name of the source whose events this trigger delivers." },
	{ .name = "function", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED,
	  .ref = &sl_section_functions, .offset = TR(function),
	  .help = "Name of the function that receives the batches." },
	{ .name = "enabled", .type = SL_PROP_BOOL, .def = "true", .offset = TR(enabled),
	  .help = "A disabled trigger consumes nothing; its source keeps the events." },
	{ .name = "payload_format", .type = SL_PROP_ENUM, .values = payload_formats,
	  .def_doc = "`aws` for schedule sources, `cloudevents` for http sources",
	  .offset = TR(payload_format),
	  .help = "How a batch reaches the function: `aws` is the event shape AWS sends for the "
		  "source kind (EventBridge scheduled event for schedule sources; http sources "
		  "have none), `cloudevents` a CloudEvents 1.0 JSON batch." },
	{ .name = "batch_size", .type = SL_PROP_INT, .def = "10",
	  .def_doc = "`10` (`1` for aws-format triggers on schedule sources)", .min = 1,
	  .max = 10000, .offset = TR(batch_size),
	  .help = "Most events in one invocation. An aws-format trigger on a schedule source "
		  "delivers one EventBridge event per invocation and needs 1." },
	{ .name = "max_batching_window_ms", .type = SL_PROP_INT, .def = "500", .min = 0,
	  .max = 300000, .offset = TR(max_batching_window_ms),
	  .help = "Longest wait, from a batch's first event, for the batch to fill." },
	{ .name = "max_batch_bytes", .type = SL_PROP_BYTES, .def = "6291456", .min = 1,
	  .max = 6291456, .offset = TR(max_batch_bytes),
	  .help = "Most payload bytes in one invocation (Lambda's 6 MB request limit)." },
	{ .name = "max_retry_attempts", .type = SL_PROP_INT, .def = "2", .min = 0, .max = 10000,
	  .offset = TR(max_retry_attempts),
	  .help = "Retries of a failed batch after the first attempt; then the batch goes to "
		  "on_failure." },
	{ .name = "retry_base_ms", .type = SL_PROP_INT, .def = "1000", .min = 1, .max = 3600000,
	  .offset = TR(retry_base_ms),
	  .help = "Backoff cap of the first retry; it doubles per retry up to retry_max_ms, "
		  "with full jitter." },
	{ .name = "retry_max_ms", .type = SL_PROP_INT, .def = "60000",
	  .def_doc = "`60000`, or retry_base_ms when that is larger", .min = 1, .max = 3600000,
	  .offset = TR(retry_max_ms),
	  .help = "Largest backoff cap; at least retry_base_ms." },
	{ .name = "parallelization_factor", .type = SL_PROP_INT, .def = "1", .min = 1, .max = 10,
	  .offset = TR(parallelization_factor),
	  .help = "Batches in flight at once; events with the same partition key stay in order." },
	{ .name = "on_failure", .type = SL_PROP_STRING, .ref = &sl_section_destinations,
	  .def_doc = "`<state_dir>/dead-letter/<trigger>.jsonl`", .offset = TR(on_failure),
	  .help = "Name of the destination that receives failure records of batches whose "
		  "retries ran out." },
	{ .name = "filters", .type = SL_PROP_OBJECT_LIST, .min = 1, .max = 5,
	  .offset = TR(filters), .check = sl_check_filters,
	  .def_doc = "none: every event passes",
	  .help = "Event filter patterns (EventBridge syntax, as Lambda's FilterCriteria); an "
		  "event is delivered when any matches, else it counts as done without an "
		  "invocation. Matched against the event as a CloudEvent whose `data` is the "
		  "decoded JSON (or the text) of its data." },
	{ .name = NULL }
};

static const struct sl_prop http_props[] = {
	{ .name = "max_body_bytes", .type = SL_PROP_BYTES, .def = "6291456", .min = 1,
	  .max = 6291456, .offset = SRC(max_body_bytes),
	  .help = "Largest request body accepted; larger requests get 413." },
	{ .name = NULL }
};

static const struct sl_prop schedule_props[] = {
	{ .name = "expression", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED, .min = 1,
	  .offset = SRC(expression), .check = sl_check_schedule,
	  .help = "When to fire, in EventBridge syntax: `rate(5 minutes)` or "
		  "`cron(0 12 * * ? *)` (UTC)." },
	{ .name = "detail", .type = SL_PROP_OBJECT, .def = "{}", .offset = SRC(detail),
	  .help = "The \"detail\" object of each scheduled event." },
	{ .name = NULL }
};

const struct sl_kind sl_source_kinds[] = {
	{ .name = "http", .props = http_props,
	  .help = "Events received as HTTP requests; each request is written to the spool "
		  "before it is answered." },
	{ .name = "schedule", .props = schedule_props,
	  .help = "Events fired by a rate or cron expression, like EventBridge schedules." },
	{ .name = NULL }
};

static const struct sl_prop file_props[] = {
	{ .name = "path", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED | SL_PROP_PATH,
	  .min = 1, .offset = DST(path),
	  .help = "JSON Lines file the records are appended to (each fsync'd before it counts "
		  "as stored). Relative to the config file's directory." },
	{ .name = NULL }
};

const struct sl_kind sl_destination_kinds[] = {
	{ .name = "file", .props = file_props,
	  .help = "Appends one JSON record per line to a local file." },
	{ .name = NULL }
};

#define SECTION(type, arr, cnt) .elem_size = sizeof(struct type), \
	.array_off = offsetof(struct sl_config, arr), .count_off = offsetof(struct sl_config, cnt), \
	.name_off = offsetof(struct type, name)

const struct sl_section sl_section_functions = {
	.key = "functions", .entry = "function", .props = sl_props_function,
	SECTION(sl_function_config, functions, n_functions),
	.link = sl_link_function,
	.help = "A function: code plus the runtime that serves the Lambda Runtime API.",
};

const struct sl_section sl_section_sources = {
	.key = "sources", .entry = "source", .kinds = sl_source_kinds,
	SECTION(sl_source_config, sources, n_sources),
	.kind_off = offsetof(struct sl_source_config, kind),
	.help = "A source of events; \"kind\" selects the connector and its keys.",
};

const struct sl_section sl_section_triggers = {
	.key = "triggers", .entry = "trigger", .props = sl_props_trigger,
	SECTION(sl_trigger_config, triggers, n_triggers),
	.link = sl_link_trigger,
	.help = "A trigger delivers the events of one source to one function.",
};

const struct sl_section sl_section_destinations = {
	.key = "destinations", .entry = "destination", .kinds = sl_destination_kinds,
	SECTION(sl_destination_config, destinations, n_destinations),
	.kind_off = offsetof(struct sl_destination_config, kind),
	.help = "A destination for failure records; \"kind\" selects the type and its keys.",
};
