/* Configuration model: what one JSON file declares, after validation.
 *
 * The file has five sections besides a few daemon settings:
 *   "functions":    name -> how to run it (code dir, runtime, handler, memory, timeout, ...)
 *   "sources":      name -> where events come from ("kind": "http" | "schedule" | "kafka" |
 *                   "redis_stream" | "redis_queue", kind settings)
 *   "triggers":     name -> source -> function, with batching and retry settings
 *   "destinations": name -> where failure records go ("kind": "file")
 * Every key is described by a property table (config/props.h); unknown keys, wrong types and
 * out-of-range values are errors that name the file, the JSON path and what was expected, e.g.
 *   config/sluice.json: $.triggers.web.batch_size: expected an integer from 1 to 10000, got 0
 * The same tables generate schemas/config.schema.json and docs/configuration.md.
 *
 * Paths in the file (code dirs, state dir, destination files) are resolved against the directory
 * of the file (the current directory for the embedded default) and stored absolute, normalized
 * lexically ("a/../b" -> "b"; symlinks are not followed).
 *
 * Errors. Loading collects every error, not just the first, one per line (lines separated by
 * '\n', no trailing newline):
 *   sluice.json:3:17: invalid JSON: duplicate object key near '"web"'
 *   sluice.json: $.functions.hello.memroy_mb: unknown key (known keys: code, runtime, ...)
 *   sluice.json: $.triggers.t.on_failure: expected the name of a destination (known: dlq), got "x"
 *   sluice.json: $.sources.hourly: missing required key "expression"
 * A syntax error stops at the parser; everything else is reported together. At most 200 lines
 * are kept (then "... and N more errors"); lines that do not fit in errlen are dropped and the
 * text ends with "... (truncated)" (a first line longer than errlen is cut and ends "...").
 *
 * Ownership: sl_config_load*() returns a config owned by the caller; sl_config_free() releases
 * everything reachable from it. All other structs here are owned by their sl_config.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/reserved.h"

/* SL_PAYLOAD_INVOCATION is internal (no config value): the event's data verbatim, one event per
 * invoke, for a function's asynchronous invocation queue. */
enum sl_payload_format { SL_PAYLOAD_AWS = 0, SL_PAYLOAD_CLOUDEVENTS, SL_PAYLOAD_INVOCATION };
enum sl_sandbox_kind { SL_SANDBOX_PROCESS = 0, SL_SANDBOX_OCI, SL_SANDBOX_DOCKER };
enum sl_network_mode { SL_NETWORK_NONE = 0, SL_NETWORK_HOST };

struct sl_function_config {
	char *name;
	char *code_dir;           /* absolute; becomes LAMBDA_TASK_ROOT and the runtime's cwd */
	char *runtime;            /* label shown in ListFunctions, e.g. "provided.al2023", "nodejs20.x";
				   * default "provided.al2023" */
	char **command;           /* NULL-terminated argv of the runtime entry point; NULL means
				   * <code_dir>/bootstrap. The handler is appended as the last
				   * argument, as a container image's CMD is. */
	char *handler;            /* _HANDLER, default "function.handler" */
	int memory_mb;            /* 128..10240, default 128 */
	int timeout_s;            /* 1..900, default 3 */
	int init_timeout_s;       /* 1..900, default 10 */
	int max_concurrency;      /* sandboxes at once, 1..1000, default 10 */
	char **environment;       /* NULL-terminated "KEY=VALUE" list (user variables), file order;
				   * never NULL (empty list when none) */
	enum sl_sandbox_kind sandbox; /* driver, default process */
	int provisioned_concurrency; /* sandboxes kept initialised and warm, 0..max_concurrency,
				      * default 0 */
	enum sl_network_mode network; /* container drivers: none (default) or the host's */
	int ephemeral_storage_mb; /* container drivers: size of the /tmp tmpfs, 512..10240,
				   * default 512 */
	char **layers;            /* container drivers: NULL-terminated absolute dirs merged in
				   * order (later ones win) at /opt; NULL when none */
	char *image;              /* docker: the container image, default
				   * "localhost/sluice/base:latest" (docker/Containerfile) */
	/* Asynchronous invocations (InvocationType Event, function destinations): */
	int async_max_retry_attempts; /* 0..2, default 2 */
	int async_max_event_age_s;    /* 60..21600, default 21600 */
	int async_retry_base_ms;  /* wait before the first retry (up to; full jitter), doubling,
				   * 1..3600000, default 60000 */
	char *async_on_success;   /* destination name, or NULL: none */
	char *async_on_failure;   /* destination name, or NULL: the default dead-letter file
				   * <state_dir>/dead-letter/async.<name>.jsonl */
};

/* Push kinds (http, schedule) spool what they accept; pull kinds (kafka, redis_stream,
 * redis_queue) keep events at the source until they are committed there. */
enum sl_source_kind {
	SL_SOURCE_HTTP = 0, SL_SOURCE_SCHEDULE, SL_SOURCE_KAFKA, SL_SOURCE_REDIS_STREAM,
	SL_SOURCE_REDIS_QUEUE
};

struct sl_source_config {
	char *name;
	enum sl_source_kind kind;
	/* http */
	uint64_t max_body_bytes;  /* default 6291456 */
	/* schedule */
	char *expression;         /* "rate(5 minutes)" or "cron(0 12 * * ? *)" */
	json_t *detail;           /* EventBridge "detail" object for scheduled events; default {}.
				   * The config owns this reference (a deep copy of the file's). */
	/* kafka */
	char *brokers;            /* bootstrap.servers, "HOST:PORT[,HOST:PORT...]" */
	char **topics;            /* NULL-terminated; a name starting with ^ is a regex */
	char **properties;        /* NULL-terminated "key=value" librdkafka consumer properties,
				   * or NULL */
	char *event_source_arn;   /* aws payload: set = MSK shape (eventSource aws:kafka with
				   * this eventSourceArn), NULL = SelfManagedKafka */
	/* redis_stream, redis_queue */
	char *address;            /* "HOST:PORT", default "127.0.0.1:6379" */
	char *password;           /* AUTH, or NULL */
	/* redis_stream */
	char **streams;           /* NULL-terminated stream keys, each a shard */
	char *partition_key_field; /* entry field whose value is the partition key, or NULL: the
				    * stream name */
	int claim_idle_ms;        /* pending entries of other consumers idle this long are claimed,
				   * 1000..86400000, default 60000 */
	/* redis_queue */
	char *queue;              /* list key producers LPUSH to */
	int visibility_timeout_s; /* 1..43200, default 30 */
	int max_receive_count;    /* 0 (no limit) or 1..1000, default 10: a message received more
				   * often goes to the trigger's on_failure destination */
};

enum sl_destination_kind {
	SL_DEST_FILE = 0, SL_DEST_HTTP, SL_DEST_REDIS, SL_DEST_KAFKA, SL_DEST_MQTT, SL_DEST_FUNCTION
};

struct sl_destination_config {
	char *name;
	enum sl_destination_kind kind;
	char *path;               /* file: absolute path of the JSONL file */
	char *url;                /* http: http:// or https:// URL records are POSTed to */
	char **headers;           /* http: NULL-terminated "Name=value" request headers, or NULL */
	int timeout_ms;           /* http, redis, kafka, mqtt: longest wait for one record to be
				   * acknowledged, 100..300000, default 10000 */
	char *address;            /* redis: "HOST:PORT", default "127.0.0.1:6379" */
	char *stream;             /* redis: stream key records are XADDed to */
	int max_len;              /* redis: approximate MAXLEN trim, 0 (the default) = none */
	char *password;           /* redis (AUTH), mqtt: or NULL */
	char *brokers;            /* kafka: bootstrap.servers, "HOST:PORT[,HOST:PORT...]" */
	char *topic;              /* kafka, mqtt: where records are published */
	char **properties;        /* kafka: NULL-terminated "key=value" librdkafka properties, or
				   * NULL */
	char *host;               /* mqtt: broker host, default "127.0.0.1" */
	int port;                 /* mqtt: broker port, default 1883 */
	int qos;                  /* mqtt: 0..2, default 1 */
	char *username;           /* mqtt: or NULL */
	char *ca_file;            /* mqtt: absolute path of a CA bundle: TLS when set, else NULL */
	char *function;           /* function: name in functions, invoked asynchronously */
};

enum sl_starting_position { SL_START_LATEST = 0, SL_START_TRIM_HORIZON, SL_START_AT_TIMESTAMP };

struct sl_trigger_config {
	char *name;
	char *source;             /* name in sources */
	char *function;           /* name in functions */
	bool enabled;             /* default true */
	enum sl_payload_format payload_format; /* default: aws where the source kind has an AWS
						* shape (all but http), cloudevents otherwise */
	int batch_size;           /* 1..10000, default 100 for kafka and redis_stream sources, else
				   * 10; must be 1 (and defaults to 1) for an aws payload on a
				   * schedule source */
	int max_batching_window_ms; /* 0..300000, default 500 */
	uint64_t max_batch_bytes; /* 1..6291456, default 6291456 */
	int max_retry_attempts;   /* -1..10000, default 2; retries after the first attempt; -1 =
				   * until the record expires (max_record_age_s), or forever */
	int max_record_age_s;     /* -1 (the default: no limit) or 60..604800: older events are
				   * not invoked but go to on_failure */
	bool bisect_on_error;     /* split a failed batch in two and retry the halves */
	bool report_batch_item_failures; /* the response may list failed items (partial batch) */
	int max_concurrency;      /* batches in flight across the trigger, 0 (default: no limit
				   * beyond partitions x parallelization_factor) or 1..1000 */
	enum sl_starting_position starting_position; /* where a new stream consumer starts, default
						      * latest */
	int64_t starting_position_timestamp_ms; /* at_timestamp: Unix ms; else 0 */
	char *starting_position_timestamp; /* at_timestamp: as given (ISO 8601), else NULL */
	uint64_t max_pending_events; /* intake bound (events offered, not yet committed),
				      * 100..10000000, default 20000 */
	uint64_t max_pending_bytes; /* intake bound in bytes, 1 MiB..16 GiB, default 64 MiB */
	int retry_base_ms;        /* first backoff cap, 1..3600000, default 1000 */
	int retry_max_ms;         /* largest backoff cap, retry_base_ms..3600000, default 60000
				   * (or retry_base_ms when that is larger) */
	int parallelization_factor; /* concurrent batches per source partition, order kept per
				     * partition key, 1..10, default 1 */
	char *on_failure;         /* destination name, or NULL for the default dead-letter file
				   * <state_dir>/dead-letter/<trigger>.jsonl */
	char *on_success;         /* destination name for success records, or NULL: none */
	char *consumer_group;     /* kafka, redis_stream: the group this trigger consumes in, default
				   * "sluice-<trigger>"; nodes with the same group share the work */
	bool invocation_records;  /* internal (no config key): records in Lambda's asynchronous
				   * invocation shape, for a function's async queue */
	json_t *filters;          /* array of 1..5 event filter patterns (any may match), or NULL:
				   * every event passes */
};

struct sl_config {
	char *path;               /* file (or name) it came from, as given to the loader */
	char *listen;             /* "HOST:PORT", default "127.0.0.1:8070" */
	char *state_dir;          /* absolute, default "<config dir>/.sluice" */
	char *log_level;          /* "error" | "warn" | "info" | "debug", default "info" */
	char *log_format;         /* "text" | "json", default "text" */
	int idle_timeout_s;       /* sandbox idle reaping, 1..86400, default 300 */
	uint64_t spool_max_bytes; /* per spool, 1 MiB..1 TiB, default 1 GiB */
	uint64_t spool_segment_bytes; /* 64 KiB..1 GiB and <= spool_max_bytes, default 64 MiB */
	int executor_memory_mb;   /* budget of all live sandboxes' memory_mb, 128..1048576;
				   * 0 (the default) means 80% of the host's MemTotal */
	int executor_queue_timeout_ms; /* longest wait for a sandbox, 1..3600000, default 10000 */
	int executor_max_starting; /* sandboxes initialising at once, 1..1000, default 8 */
	char *docker_socket;      /* absolute path of the Docker Engine API socket, default
				   * "/var/run/docker.sock" */

	/* Entries in file order; arrays are NULL when the count is 0. */
	struct sl_function_config *functions; size_t n_functions;
	struct sl_source_config *sources;     size_t n_sources;
	struct sl_trigger_config *triggers;   size_t n_triggers;
	struct sl_destination_config *destinations; size_t n_destinations;
};

#define SL_CONFIG_MAX_BYTES (16 << 20) /* largest config file accepted */

/* Load and validate. On error returns NULL and writes one or more lines (each
 * "<file>: <json path>: <what was expected>[, got <what>]") into err; on success err is "".
 * `path` is used as given in messages and as cfg->path; relative paths in the file are resolved
 * against its directory. This is what `sluice validate FILE` runs. */
struct sl_config *sl_config_load_file(const char *path, char *err, size_t errlen);
/* Same for text in memory; `name` is used in messages, `base_dir` (NULL: the current directory;
 * relative: against it) for relative paths. */
struct sl_config *sl_config_load_text(const char *text, size_t len, const char *name,
				      const char *base_dir, char *err, size_t errlen);
/* The embedded default (config/sluice.json compiled in), named "(embedded config/sluice.json)",
 * relative paths against ./config (as the file's own paths are), so run it from the repository
 * root. */
struct sl_config *sl_config_load_default(char *err, size_t errlen);
/* Frees everything reachable from cfg. NULL is a no-op. */
void sl_config_free(struct sl_config *cfg);

const struct sl_function_config *sl_config_function(const struct sl_config *cfg, const char *name);
const struct sl_source_config *sl_config_source(const struct sl_config *cfg, const char *name);
const struct sl_destination_config *sl_config_destination(const struct sl_config *cfg,
							  const char *name);
const struct sl_trigger_config *sl_config_trigger(const struct sl_config *cfg, const char *name);

/* The JSON Schema (draft 2020-12) generated from the property tables. New reference. */
json_t *sl_config_schema(void);
/* Markdown reference of every key, generated from the same tables. Caller frees. */
char *sl_config_reference_markdown(void);

/* The librdkafka consumer properties Sluice sets itself, which a kafka source's properties may
 * not (config/check_kafka.c): validation refuses them, and so does the consumer. */
extern const struct sl_reserved_name sl_kafka_consumer_reserved[];

#endif
