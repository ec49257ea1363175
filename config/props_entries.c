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
_Static_assert(SL_SOURCE_HTTP == 0 && SL_SOURCE_SCHEDULE == 1 && SL_SOURCE_KAFKA == 2 &&
	       SL_SOURCE_REDIS_STREAM == 3 && SL_SOURCE_REDIS_QUEUE == 4, "sl_source_kinds order");
_Static_assert(SL_DEST_FILE == 0 && SL_DEST_HTTP == 1 && SL_DEST_REDIS == 2 &&
	       SL_DEST_KAFKA == 3 && SL_DEST_MQTT == 4 && SL_DEST_FUNCTION == 5,
	       "sl_destination_kinds order");
_Static_assert(SL_START_LATEST == 0 && SL_START_TRIM_HORIZON == 1 && SL_START_AT_TIMESTAMP == 2,
	       "starting_positions order");
_Static_assert(sizeof(enum sl_payload_format) == sizeof(int), "ENUM rows store an int");
_Static_assert(sizeof(enum sl_source_kind) == sizeof(int), "kinds are stored as int");
_Static_assert(sizeof(enum sl_destination_kind) == sizeof(int), "kinds are stored as int");

static const char *const payload_formats[] = { "aws", "cloudevents", NULL };
static const char *const starting_positions[] = { "latest", "trim_horizon", "at_timestamp",
						   NULL };

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
	  .def_doc = "`cloudevents` for http sources, `aws` for the others",
	  .offset = TR(payload_format),
	  .help = "How a batch reaches the function: `aws` is the event shape AWS sends for the "
		  "source kind (schedule: EventBridge scheduled event; kafka: the self-managed or "
		  "MSK Kafka event; redis_stream: the Kinesis event; redis_queue: the SQS event; "
		  "http sources have none), `cloudevents` a CloudEvents 1.0 JSON batch." },
	{ .name = "batch_size", .type = SL_PROP_INT, .def = "10",
	  .def_doc = "`100` for kafka and redis_stream sources, else `10` (`1` for aws-format "
		     "triggers on schedule sources)", .min = 1,
	  .max = 10000, .offset = TR(batch_size),
	  .help = "Most events in one invocation. An aws-format trigger on a schedule source "
		  "delivers one EventBridge event per invocation and needs 1." },
	{ .name = "max_batching_window_ms", .type = SL_PROP_INT, .def = "500", .min = 0,
	  .max = 300000, .offset = TR(max_batching_window_ms),
	  .help = "Longest wait, from a batch's first event, for the batch to fill." },
	{ .name = "max_batch_bytes", .type = SL_PROP_BYTES, .def = "6291456", .min = 1,
	  .max = 6291456, .offset = TR(max_batch_bytes),
	  .help = "Most payload bytes in one invocation (Lambda's 6 MB request limit)." },
	{ .name = "max_retry_attempts", .type = SL_PROP_INT, .def = "2", .min = -1, .max = 10000,
	  .offset = TR(max_retry_attempts),
	  .help = "Retries of a failed batch after the first attempt; then the batch goes to "
		  "on_failure. -1 retries until the batch's oldest event is older than "
		  "max_record_age_s (forever when that is -1 too)." },
	{ .name = "retry_base_ms", .type = SL_PROP_INT, .def = "1000", .min = 1, .max = 3600000,
	  .offset = TR(retry_base_ms),
	  .help = "Backoff cap of the first retry; it doubles per retry up to retry_max_ms, "
		  "with full jitter." },
	{ .name = "retry_max_ms", .type = SL_PROP_INT, .def = "60000",
	  .def_doc = "`60000`, or retry_base_ms when that is larger", .min = 1, .max = 3600000,
	  .offset = TR(retry_max_ms),
	  .help = "Largest backoff cap; at least retry_base_ms." },
	{ .name = "max_record_age_s", .type = SL_PROP_INT, .def = "-1", .min = -1, .max = 604800,
	  .offset = TR(max_record_age_s), .check = sl_check_record_age,
	  .help = "Events older than this (from their time at the source) are not invoked "
		  "again but go to on_failure (condition RecordAgeExceeded): -1 (no limit) or "
		  "60 to 604800." },
	{ .name = "bisect_on_error", .type = SL_PROP_BOOL, .def = "false",
	  .offset = TR(bisect_on_error),
	  .help = "On a failed batch, split it in two and retry each half (recursively), so one "
		  "bad event is isolated and the others succeed. Each half keeps its own retry "
		  "count and age limit." },
	{ .name = "report_batch_item_failures", .type = SL_PROP_BOOL, .def = "false",
	  .offset = TR(report_batch_item_failures),
	  .help = "The function may answer `{\"batchItemFailures\": [{\"itemIdentifier\": "
		  "ID}]}` to fail only some events (ID is the event id, or for positioned events "
		  "its position). Ordered sources retry from the first failed event on; an "
		  "unknown or malformed ID fails the whole batch. An empty list or null is "
		  "full success." },
	{ .name = "parallelization_factor", .type = SL_PROP_INT, .def = "1", .min = 1, .max = 10,
	  .offset = TR(parallelization_factor),
	  .help = "Batches in flight at once; events with the same partition key stay in order." },
	{ .name = "max_concurrency", .type = SL_PROP_INT, .def_doc = "no limit beyond "
	  "partitions times parallelization_factor", .min = 1, .max = 1000,
	  .offset = TR(max_concurrency),
	  .help = "Most batches of this trigger being invoked at once, across all partitions." },
	{ .name = "starting_position", .type = SL_PROP_ENUM, .def = "\"latest\"",
	  .values = starting_positions, .offset = TR(starting_position),
	  .help = "Where a stream source starts when it has no committed position: `latest` "
		  "(new events only), `trim_horizon` (the oldest kept) or `at_timestamp` "
		  "(starting_position_timestamp). Sources without positions ignore it." },
	{ .name = "starting_position_timestamp", .type = SL_PROP_STRING,
	  .offset = TR(starting_position_timestamp), .check = sl_check_timestamp,
	  .help = "ISO 8601 time such as `2026-11-24T10:00:00Z`; required with "
		  "`at_timestamp`, allowed only with it." },
	{ .name = "consumer_group", .type = SL_PROP_STRING, .min = 1, .max = 200,
	  .def_doc = "`sluice-<trigger>`", .offset = TR(consumer_group),
	  .help = "kafka and redis_stream sources: the consumer group this trigger reads in. "
		  "Sluice nodes with the same group share the partitions or streams; two triggers "
		  "on one source need different groups." },
	{ .name = "max_pending_events", .type = SL_PROP_BYTES, .def = "20000", .min = 100,
	  .max = 10000000, .offset = TR(max_pending_events),
	  .help = "Events taken from the source and not yet committed, at most; when reached "
		  "the source is paused, and resumed once half have been committed. A kafka "
		  "source keeps up to half as many again, in order, while the trigger is full "
		  "(so a fast function does not wait for fetching to start again)." },
	{ .name = "max_pending_bytes", .type = SL_PROP_BYTES, .def = "67108864",
	  .min = 1048576, .max = 17179869184LL, .offset = TR(max_pending_bytes),
	  .help = "Bytes of events taken from the source and not yet delivered, at most; "
		  "pauses and resumes the source as max_pending_events does." },
	{ .name = "on_failure", .type = SL_PROP_STRING, .ref = &sl_section_destinations,
	  .def_doc = "`<state_dir>/dead-letter/<trigger>.jsonl`", .offset = TR(on_failure),
	  .help = "Name of the destination that receives failure records of batches whose "
		  "retries ran out." },
	{ .name = "on_success", .type = SL_PROP_STRING, .ref = &sl_section_destinations,
	  .def_doc = "none", .offset = TR(on_success),
	  .help = "Name of the destination that receives a record of each batch the function "
		  "accepted (with the response)." },
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

static const struct sl_prop kafka_props[] = {
	{ .name = "brokers", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED, .min = 1,
	  .offset = SRC(brokers),
	  .help = "Bootstrap servers, `HOST:PORT[,HOST:PORT...]`." },
	{ .name = "topics", .type = SL_PROP_STRING_LIST, .flags = SL_PROP_REQUIRED, .min = 1,
	  .max = 100, .offset = SRC(topics), .check = sl_check_kafka_topics,
	  .help = "Topics to consume; a name starting with `^` is a regular expression matched "
		  "against every topic of the cluster (new matches are picked up)." },
	{ .name = "properties", .type = SL_PROP_STRING_MAP, .offset = SRC(properties),
	  .reserved = sl_kafka_consumer_reserved, .check = sl_check_kafka_properties,
	  .help = "librdkafka consumer properties passed through (security.protocol, sasl.*, "
		  "ssl.*, fetch.*, session.timeout.ms, ...); librdkafka checks them when the "
		  "trigger starts. Sluice sets group.id, enable.auto.commit, "
		  "enable.auto.offset.store, auto.offset.reset, bootstrap.servers, "
		  "metadata.broker.list and log.queue itself (see consumer_group, "
		  "starting_position and brokers), and sets queued.min.messages to 1000000 unless given "
		  "here (the prefetch is bounded by queued.max.messages.kbytes, 64 MB by "
		  "default)." },
	{ .name = "event_source_arn", .type = SL_PROP_STRING, .min = 1,
	  .offset = SRC(event_source_arn),
	  .help = "aws payloads: when set, events have the Amazon MSK shape (`eventSource` "
		  "`aws:kafka` and this `eventSourceArn`); otherwise the self-managed Kafka shape "
		  "(`SelfManagedKafka`)." },
	{ .name = NULL }
};

#define REDIS_SOURCE_ROWS \
	{ .name = "address", .type = SL_PROP_STRING, .def = "\"127.0.0.1:6379\"", \
	  .offset = SRC(address), .check = sl_check_listen, \
	  .help = "Redis server as HOST:PORT." }, \
	{ .name = "password", .type = SL_PROP_STRING, .offset = SRC(password), \
	  .help = "Sent with AUTH after connecting." }

static const struct sl_prop redis_stream_props[] = {
	REDIS_SOURCE_ROWS,
	{ .name = "streams", .type = SL_PROP_STRING_LIST, .flags = SL_PROP_REQUIRED, .min = 1,
	  .max = 1000, .offset = SRC(streams),
	  .help = "Stream keys to consume; each is one shard (partition), read in order. A "
		  "missing stream is created empty (with the group)." },
	{ .name = "partition_key_field", .type = SL_PROP_STRING, .min = 1,
	  .offset = SRC(partition_key_field),
	  .def_doc = "none: the stream name",
	  .help = "Entry field whose value is the event's partition key (Kinesis "
		  "`partitionKey`; with parallelization_factor, entries with the same key keep "
		  "their order)." },
	{ .name = "claim_idle_ms", .type = SL_PROP_INT, .def = "60000", .min = 1000,
	  .max = 86400000, .offset = SRC(claim_idle_ms),
	  .help = "Entries another consumer of the group read but did not acknowledge for this "
		  "long are claimed (XAUTOCLAIM) and delivered again: how a node takes over the "
		  "work of one that died." },
	{ .name = NULL }
};

static const struct sl_prop redis_queue_props[] = {
	REDIS_SOURCE_ROWS,
	{ .name = "queue", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED, .min = 1,
	  .offset = SRC(queue),
	  .help = "List key producers LPUSH messages to; Sluice takes them from the other end." },
	{ .name = "visibility_timeout_s", .type = SL_PROP_INT, .def = "30", .min = 1,
	  .max = 43200, .offset = SRC(visibility_timeout_s),
	  .help = "A message received and neither deleted nor finished this long returns to the "
		  "queue and is received again (by any node). Like SQS, set it to at least six "
		  "times the function's timeout." },
	{ .name = "max_receive_count", .type = SL_PROP_INT, .def = "10", .min = 0, .max = 1000,
	  .offset = SRC(max_receive_count),
	  .help = "A message received more often than this (it came back after the visibility "
		  "timeout each time) goes to the trigger's on_failure destination instead of "
		  "the function; 0 sets no limit." },
	{ .name = NULL }
};

const struct sl_kind sl_source_kinds[] = {
	{ .name = "http", .props = http_props,
	  .help = "Events received as HTTP requests; each request is written to the spool "
		  "before it is answered." },
	{ .name = "schedule", .props = schedule_props,
	  .help = "Events fired by a rate or cron expression, like EventBridge schedules." },
	{ .name = "kafka", .props = kafka_props,
	  .help = "Records of Kafka topics, read in a consumer group; offsets are committed "
		  "once the records up to them are done." },
	{ .name = "redis_stream", .props = redis_stream_props,
	  .help = "Entries of Redis streams (Kinesis-like), read in a consumer group; an entry is "
		  "acknowledged (XACK) once it and those before it are done." },
	{ .name = "redis_queue", .props = redis_queue_props,
	  .help = "Messages of a Redis list used as a queue (SQS-like): received into a "
		  "per-consumer in-flight list, deleted once done." },
	{ .name = NULL }
};

static const struct sl_prop file_props[] = {
	{ .name = "path", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED | SL_PROP_PATH,
	  .min = 1, .offset = DST(path),
	  .help = "JSON Lines file the records are appended to (each fsync'd before it counts "
		  "as stored). Relative to the config file's directory." },
	{ .name = NULL }
};

#define TIMEOUT_ROW { .name = "timeout_ms", .type = SL_PROP_INT, .def = "10000", .min = 100, \
	  .max = 300000, .offset = DST(timeout_ms), \
	  .help = "Longest wait for one record to be acknowledged; then it counts as not " \
		  "stored and is tried again later." }

static const struct sl_prop http_dest_props[] = {
	{ .name = "url", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED, .min = 1,
	  .pattern = "^https?://", .offset = DST(url), .check = sl_check_url,
	  .help = "Records are POSTed here as `application/json`; a 2xx answer stores one, "
		  "anything else (or no answer) is retried later." },
	{ .name = "headers", .type = SL_PROP_STRING_MAP, .pattern = SL_HTTP_TOKEN_PATTERN,
	  .offset = DST(headers), .check = sl_check_http_headers,
	  .help = "Extra request headers, name to value (e.g. Authorization); names are HTTP "
		  "tokens, values have no line breaks." },
	TIMEOUT_ROW,
	{ .name = NULL }
};

static const struct sl_prop redis_dest_props[] = {
	{ .name = "address", .type = SL_PROP_STRING, .def = "\"127.0.0.1:6379\"",
	  .offset = DST(address), .check = sl_check_listen,
	  .help = "Redis server as HOST:PORT." },
	{ .name = "stream", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED, .min = 1,
	  .offset = DST(stream),
	  .help = "Stream key; each record is one entry (XADD) with a field `record`." },
	{ .name = "max_len", .type = SL_PROP_INT, .def = "0", .min = 0, .max = 2000000000,
	  .offset = DST(max_len),
	  .help = "Trim the stream to about this many entries (XADD MAXLEN ~); 0 keeps all." },
	{ .name = "password", .type = SL_PROP_STRING, .offset = DST(password),
	  .help = "Sent with AUTH after connecting." },
	TIMEOUT_ROW,
	{ .name = NULL }
};

static const struct sl_prop kafka_dest_props[] = {
	{ .name = "brokers", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED, .min = 1,
	  .offset = DST(brokers),
	  .help = "Bootstrap servers, `HOST:PORT[,HOST:PORT...]`." },
	{ .name = "topic", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED, .min = 1,
	  .max = 249, .offset = DST(topic),
	  .help = "Topic records are produced to (idempotent producer; a record counts as "
		  "stored when its delivery report arrives)." },
	{ .name = "properties", .type = SL_PROP_STRING_MAP, .offset = DST(properties),
	  .help = "librdkafka producer properties passed through (security.protocol, sasl.*, "
		  "ssl.*, compression.type, ...); librdkafka checks them when the daemon starts." },
	TIMEOUT_ROW,
	{ .name = NULL }
};

static const struct sl_prop mqtt_dest_props[] = {
	{ .name = "host", .type = SL_PROP_STRING, .def = "\"127.0.0.1\"", .min = 1,
	  .offset = DST(host), .help = "Broker host name or address." },
	{ .name = "port", .type = SL_PROP_INT, .def = "1883", .min = 1, .max = 65535,
	  .offset = DST(port), .help = "Broker port." },
	{ .name = "topic", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED, .min = 1,
	  .max = 65535, .offset = DST(topic), .check = sl_check_mqtt_topic,
	  .help = "Topic records are published to (no wildcards)." },
	{ .name = "qos", .type = SL_PROP_INT, .def = "1", .min = 0, .max = 2, .offset = DST(qos),
	  .help = "Quality of service; with 1 or 2 a record counts as stored when the broker "
		  "acknowledged it, with 0 when it was written to the connection." },
	{ .name = "username", .type = SL_PROP_STRING, .offset = DST(username),
	  .help = "User name for the broker." },
	{ .name = "password", .type = SL_PROP_STRING, .offset = DST(password),
	  .help = "Password for the broker (with username)." },
	{ .name = "ca_file", .type = SL_PROP_STRING, .flags = SL_PROP_PATH, .offset = DST(ca_file),
	  .help = "CA certificates (PEM) to verify the broker with; setting it turns TLS on." },
	TIMEOUT_ROW,
	{ .name = NULL }
};

static const struct sl_prop function_dest_props[] = {
	{ .name = "function", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED,
	  .ref = &sl_section_functions, .offset = DST(function),
	  .help = "Function invoked asynchronously with each record as its event (chaining); "
		  "the record counts as stored once the invocation is in the spool." },
	{ .name = NULL }
};

const struct sl_kind sl_destination_kinds[] = {
	{ .name = "file", .props = file_props,
	  .help = "Appends one JSON record per line to a local file." },
	{ .name = "http", .props = http_dest_props,
	  .help = "POSTs each record to a URL." },
	{ .name = "redis", .props = redis_dest_props,
	  .help = "Adds each record to a Redis stream." },
	{ .name = "kafka", .props = kafka_dest_props,
	  .help = "Produces each record to a Kafka topic." },
	{ .name = "mqtt", .props = mqtt_dest_props,
	  .help = "Publishes each record to an MQTT topic." },
	{ .name = "function", .props = function_dest_props,
	  .help = "Invokes a function asynchronously with each record." },
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
	.help = "Where failure and success records go; \"kind\" selects the type and its keys.",
};
