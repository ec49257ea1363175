/* Property tables: one row per configuration key, the single source of truth for the config.
 *
 * Model. A table is an array of `struct sl_prop` rows ending with a row whose name is NULL. A row
 * says what a key is (type, bounds, allowed values, default, required), where its value lands in
 * the C struct (offsetof) and what it means (help). Three things read the same rows:
 *   - the decoder (config/decode.c) turns a JSON object into a struct, checking everything and
 *     filling defaults; every violation becomes one error line pointing at the JSON path;
 *   - the schema generator (config/schema.c) writes schemas/config.schema.json;
 *   - the reference generator (config/markdown.c) writes docs/configuration.md.
 * So a key cannot be accepted without being documented, and the docs cannot drift from the code
 * (tools/check-generated.sh and tests/unit/test_config.c compare the committed files).
 *
 * Sections ("functions", "sources", "triggers", "destinations") are rows of type SL_PROP_SECTION:
 * objects mapping a name to an entry. An entry is described by one table, or, for sections whose
 * entries have a "kind", by one table per kind (the "kind" key itself is implicit). A section also
 * says how its entries are stored (an array of structs plus a count in struct sl_config) and may
 * have a `link` hook that runs after every section is decoded, for rules that span entries.
 *
 * Defaults are JSON text and are decoded by the same code as values from the file, so a default
 * that breaks its own row's rules fails the unit tests instead of reaching a user.
 */
#ifndef SL_CONFIG_PROPS_H
#define SL_CONFIG_PROPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/diag.h"
#include "core/reserved.h"

struct sl_config;

enum sl_prop_type {
	SL_PROP_STRING,      /* char *; min/max bound the length in bytes (max 0 = unbounded) */
	SL_PROP_INT,         /* int; min..max */
	SL_PROP_BYTES,       /* uint64_t; min..max */
	SL_PROP_BOOL,        /* bool */
	SL_PROP_ENUM,        /* int-sized C enum; the stored value is the index in values[] */
	SL_PROP_KEYWORD,     /* char *, one of values[] */
	SL_PROP_STRING_LIST, /* char **, NULL-terminated; min..max items */
	SL_PROP_STRING_MAP,  /* char **, NULL-terminated "KEY=VALUE" in file order */
	SL_PROP_OBJECT,      /* json_t * (own reference) */
	SL_PROP_OBJECT_LIST, /* json_t * (own reference): an array of min..max objects, NULL when
			      * absent */
	SL_PROP_SECTION,     /* name -> entry; see struct sl_section */
};

#define SL_PROP_REQUIRED 0x1u /* missing key is an error */
#define SL_PROP_PATH     0x2u /* STRING, STRING_LIST items: resolved against the base directory,
                               * stored absolute */
#define SL_PROP_DIR      0x4u /* with PATH: must name an existing directory */

/* Names of functions, sources, triggers and destinations. */
#define SL_NAME_MAX 64
#define SL_NAME_PATTERN "^[A-Za-z0-9_-]{1,64}$"

/* What the decoder needs besides the JSON: where errors go, the directory relative paths are
 * resolved against (absolute), and the config decoded so far (for references between entries). */
struct sl_decode {
	struct sl_diag *diag;
	const char *base_dir;
	struct sl_config *cfg;
};

struct sl_section;

struct sl_prop {
	const char *name;
	enum sl_prop_type type;
	unsigned flags;            /* SL_PROP_REQUIRED | SL_PROP_PATH | SL_PROP_DIR */
	const char *def;           /* default as JSON text; NULL: none, or computed (def_doc) */
	const char *def_doc;       /* for the docs, when the default is computed or absent */
	long long min, max;        /* see enum sl_prop_type */
	const char *const *values; /* ENUM, KEYWORD: allowed values, NULL-terminated */
	const char *pattern;       /* schema only: STRING value / STRING_MAP key pattern */
	const struct sl_reserved_name *reserved; /* schema only: STRING_MAP keys not allowed */
	const struct sl_section *ref; /* STRING: must name an entry of this section */
	const struct sl_section *section; /* SECTION */
	size_t offset;             /* into the target struct (unused for SECTION) */
	/* Extra rule run after the type and range checks passed; reports its own errors. */
	void (*check)(struct sl_decode *dc, const char *path, const json_t *value);
	const char *help;
};

struct sl_kind {
	const char *name;          /* "http"; its index in the kinds array is the C enum value */
	const struct sl_prop *props;
	const char *help;
};

struct sl_section {
	const char *key;           /* "functions" */
	const char *entry;         /* "function": in messages ("the name of a function") and docs */
	const struct sl_prop *props; /* entry rows, when kinds is NULL */
	const struct sl_kind *kinds; /* NULL-name-terminated, selected by the entry's "kind" */
	size_t elem_size;          /* sizeof the entry struct */
	size_t array_off, count_off; /* in struct sl_config: entry array and its length */
	size_t name_off, kind_off; /* in the entry: char *name, int-sized enum kind */
	/* Rules spanning entries, run once everything is decoded; obj is the entry's JSON. */
	void (*link)(struct sl_decode *dc, const char *path, const json_t *obj, void *entry);
	const char *help;
};

extern const struct sl_prop sl_props_top[];
extern const struct sl_prop sl_props_function[];
extern const struct sl_prop sl_props_trigger[];
extern const struct sl_kind sl_source_kinds[];
extern const struct sl_kind sl_destination_kinds[];
extern const struct sl_section sl_section_functions, sl_section_sources,
	sl_section_triggers, sl_section_destinations;

/* Variables Lambda reserves (reference/lambda-semantics.md §1.9); users may not set them. */
#define SL_ENV_RESERVED(X) X(_HANDLER) X(_X_AMZN_TRACE_ID) X(AWS_REGION) X(AWS_DEFAULT_REGION) \
	X(AWS_EXECUTION_ENV) X(AWS_LAMBDA_FUNCTION_NAME) X(AWS_LAMBDA_FUNCTION_MEMORY_SIZE) \
	X(AWS_LAMBDA_FUNCTION_VERSION) X(AWS_LAMBDA_INITIALIZATION_TYPE) \
	X(AWS_LAMBDA_LOG_GROUP_NAME) X(AWS_LAMBDA_LOG_STREAM_NAME) X(AWS_ACCESS_KEY) \
	X(AWS_ACCESS_KEY_ID) X(AWS_SECRET_ACCESS_KEY) X(AWS_SESSION_TOKEN) \
	X(AWS_LAMBDA_RUNTIME_API) X(LAMBDA_TASK_ROOT) X(LAMBDA_RUNTIME_DIR) \
	X(AWS_LAMBDA_MAX_CONCURRENCY)
extern const struct sl_reserved_name sl_env_reserved[];
#define SL_ENV_MAX_BYTES 4096 /* all variables, measured as compact JSON */

/* Decode obj (already known to be an object) into target by props: type and range checks,
 * defaults, required keys, then unknown keys (`extra`, if not NULL, is one more allowed key).
 * SECTION rows decode their entries into the struct sl_config `target`. */
void sl_props_decode(struct sl_decode *dc, const char *path, const json_t *obj,
		     const struct sl_prop *props, const char *extra, void *target);
/* The row of props named name, or NULL. */
const struct sl_prop *sl_props_find(const struct sl_prop *props, const char *name);
/* Run the ref checks and link hooks of every section row of props over root. */
void sl_props_link(struct sl_decode *dc, const json_t *root, const struct sl_prop *props);
/* Free what target owns per props (strings, lists, maps, objects, section entries). */
void sl_props_release(const struct sl_prop *props, void *target);
/* Decode the entries of section s (obj is known to be an object) into cfg; free them. */
void sl_section_decode(struct sl_decode *dc, const char *path, const json_t *obj,
		       const struct sl_section *s, struct sl_config *cfg);
void sl_section_release(const struct sl_section *s, struct sl_config *cfg);
/* The entry of section s called name, or NULL. */
void *sl_section_find(const struct sl_section *s, const struct sl_config *cfg, const char *name);
/* The rows of a section entry of the given kind (kind ignored when the section has no kinds);
 * NULL when the kind is out of range. */
const struct sl_prop *sl_section_props(const struct sl_section *s, int kind);

/* path made absolute against base (absolute) and normalized ("." and ".." removed, lexically,
 * without following symlinks). Caller frees. */
char *sl_config_abspath(const char *base, const char *path);

/* Row checks (config/checks.c), referenced by the tables. */
void sl_check_listen(struct sl_decode *dc, const char *path, const json_t *value);
/* HTTP header names (RFC 9110 tokens); schema only, sl_check_http_headers enforces it. */
#define SL_HTTP_TOKEN_PATTERN "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
void sl_check_http_headers(struct sl_decode *dc, const char *path, const json_t *value);
void sl_check_url(struct sl_decode *dc, const char *path, const json_t *value);
void sl_check_mqtt_topic(struct sl_decode *dc, const char *path, const json_t *value);
void sl_check_record_age(struct sl_decode *dc, const char *path, const json_t *value);
void sl_check_timestamp(struct sl_decode *dc, const char *path, const json_t *value);
void sl_check_environment(struct sl_decode *dc, const char *path, const json_t *value);
/* A trigger's filters: each a valid event filter pattern (dispatcher/filter.h). */
void sl_check_filters(struct sl_decode *dc, const char *path, const json_t *value);
/* kafka sources: topic names (or ^regexes) and properties Sluice owns. */
void sl_check_kafka_topics(struct sl_decode *dc, const char *path, const json_t *value);
void sl_check_kafka_properties(struct sl_decode *dc, const char *path, const json_t *value);
void sl_check_schedule(struct sl_decode *dc, const char *path, const json_t *value);
void sl_link_function(struct sl_decode *dc, const char *path, const json_t *obj, void *entry);
void sl_link_trigger(struct sl_decode *dc, const char *path, const json_t *obj, void *entry);
/* Whether s is a valid entry name. */
bool sl_name_valid(const char *s);

/* How the schema is written to schemas/config.schema.json (plus a final newline). */
#define SL_SCHEMA_DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

#endif
