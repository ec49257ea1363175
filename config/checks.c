/* Rules that a row's type and bounds cannot say: the listen address, environment variable names
 * and size (Lambda's rules, reference/lambda-semantics.md §1.9), and a trigger's rules that
 * depend on its source (payload format, batch size) or span two of its keys (retry caps).
 * Each reports its own errors at the JSON path it is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/props.h"
#include "core/clock.h"
#include "core/mem.h"
#include "dispatcher/filter.h"

static void describe_string(const char *s, char *buf, size_t len)
{
	json_t *j = sl_check_alloc(json_string(s));
	sl_describe(j, buf, len);
	json_decref(j);
}

static bool valid_port(const char *s)
{
	long port = 0;

	if (!*s || strlen(s) > 5)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		port = port * 10 + (*s - '0');
	}
	return port >= 1 && port <= 65535;
}

static bool valid_host(const char *host, size_t n)
{
	if (n == 0)
		return false;
	if (host[0] == '[')
		return n > 2 && host[n - 1] == ']';
	return memchr(host, ':', n) == NULL && memchr(host, '[', n) == NULL;
}

void sl_check_listen(struct sl_decode *dc, const char *path, const json_t *value)
{
	const char *s = json_string_value(value), *colon = strrchr(s, ':');
	char got[SL_DIAG_QUOTE_MAX + 32];

	if (colon && valid_host(s, (size_t)(colon - s)) && valid_port(colon + 1))
		return;
	sl_describe(value, got, sizeof(got));
	sl_diag_add(dc->diag, path, "expected HOST:PORT with a port from 1 to 65535, got %s", got);
}

static bool env_name_ok(const char *k)
{
	if (strlen(k) < 2 || !((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z')))
		return false;
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

static void env_reserved_list(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; sl_env_reserved[i].name && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      sl_env_reserved[i].name);
}

void sl_check_filters(struct sl_decode *dc, const char *path, const json_t *value)
{
	size_t i;
	const json_t *pattern;

	json_array_foreach(value, i, pattern) {
		struct sl_filter *f = NULL;
		char err[512];
		if (sl_filter_compile(pattern, &f, err, sizeof(err)) == 0) {
			sl_filter_free(f);
			continue;
		}
		/* err is "$<path in the pattern>: <what>" */
		char *sep = strstr(err, ": ");
		char *where = sl_path_index(path, i);
		if (sep)
			*sep = '\0';
		char *sub = sl_xasprintf("%s%s", where, err + 1);
		sl_diag_add(dc->diag, sub, "%s", sep ? sep + 2 : err);
		free(sub);
		free(where);
	}
}

void sl_check_environment(struct sl_decode *dc, const char *path, const json_t *value)
{
	const char *key;
	const json_t *v;
	char got[SL_DIAG_QUOTE_MAX + 32], reserved[1024];

	json_object_foreach((json_t *)value, key, v) {
		char *sub = sl_path_key(path, key);
		describe_string(key, got, sizeof(got));
		if (!env_name_ok(key)) {
			sl_diag_add(dc->diag, sub, "expected a variable name (a letter, then letters, "
				    "digits or _; at least 2 characters), got %s", got);
		} else if (sl_reserved_why(sl_env_reserved, key)) {
			env_reserved_list(reserved, sizeof(reserved));
			sl_diag_add(dc->diag, sub, "expected a variable name that Lambda does not "
				    "reserve (reserved: %s), got %s", reserved, got);
		}
		free(sub);
	}
	char *text = sl_check_alloc(json_dumps(value, JSON_COMPACT));
	size_t n = strlen(text);
	free(text);
	if (n > SL_ENV_MAX_BYTES)
		sl_diag_add(dc->diag, path, "expected at most %d bytes of variables in total "
			    "(measured as compact JSON), got %zu bytes", SL_ENV_MAX_BYTES, n);
}

static bool is_string(const json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

/* payload_format's default and the http rule; batch_size for aws-format schedule triggers. */
static void link_format(struct sl_decode *dc, const char *path, const json_t *obj,
			struct sl_trigger_config *t, int kind)
{
	const json_t *fmt = json_object_get(obj, "payload_format");
	const json_t *bs = json_object_get(obj, "batch_size");

	if (!fmt)
		t->payload_format = kind == SL_SOURCE_HTTP ? SL_PAYLOAD_CLOUDEVENTS : SL_PAYLOAD_AWS;
	if (!bs && (kind == SL_SOURCE_KAFKA || kind == SL_SOURCE_REDIS_STREAM))
		t->batch_size = 100;
	if (kind == SL_SOURCE_HTTP && is_string(fmt, "aws")) {
		char *sub = sl_path_key(path, "payload_format");
		sl_diag_add(dc->diag, sub, "the http source has no AWS event shape; use "
			    "cloudevents");
		free(sub);
	}
	if (kind != SL_SOURCE_SCHEDULE || t->payload_format != SL_PAYLOAD_AWS ||
	    (fmt && !is_string(fmt, "aws")))
		return;
	if (!bs) {
		t->batch_size = 1;
	} else if (t->batch_size > 1) {
		char *sub = sl_path_key(path, "batch_size");
		sl_diag_add(dc->diag, sub, "expected 1 for an aws-format trigger on a schedule "
			    "source (one EventBridge event per invocation), got %d", t->batch_size);
		free(sub);
	}
}

static void link_retry(struct sl_decode *dc, const char *path, const json_t *obj,
		       struct sl_trigger_config *t)
{
	if (!json_object_get(obj, "retry_max_ms")) {
		if (t->retry_base_ms > t->retry_max_ms)
			t->retry_max_ms = t->retry_base_ms;
	} else if (t->retry_base_ms && t->retry_max_ms && t->retry_max_ms < t->retry_base_ms) {
		const struct sl_prop *row = sl_props_find(sl_props_trigger, "retry_max_ms");
		char *sub = sl_path_key(path, "retry_max_ms");
		sl_diag_add(dc->diag, sub, "expected an integer from retry_base_ms (%d) to %lld, "
			    "got %d", t->retry_base_ms, row->max, t->retry_max_ms);
		free(sub);
	}
}

void sl_check_record_age(struct sl_decode *dc, const char *path, const json_t *value)
{
	json_int_t v = json_integer_value(value);

	if (v >= 0 && v < 60)
		sl_diag_add(dc->diag, path, "expected -1 (no limit) or an integer from 60 to "
			    "604800, got %lld", (long long)v);
}

void sl_check_timestamp(struct sl_decode *dc, const char *path, const json_t *value)
{
	int64_t ms;
	char got[SL_DIAG_QUOTE_MAX + 32];

	if (sl_parse_iso8601_ms(json_string_value(value), &ms) == 0)
		return;
	sl_describe(value, got, sizeof(got));
	sl_diag_add(dc->diag, path, "expected an ISO 8601 time such as \"2026-11-24T10:00:00Z\" "
		    "(with Z or an offset), got %s", got);
}

/* starting_position_timestamp goes with at_timestamp, and only with it. */
static void link_start(struct sl_decode *dc, const char *path, struct sl_trigger_config *t)
{
	bool at = t->starting_position == SL_START_AT_TIMESTAMP;

	if (at && !t->starting_position_timestamp) {
		sl_diag_add(dc->diag, path, "missing required key \"starting_position_timestamp\" "
			    "(starting_position is at_timestamp)");
	} else if (!at && t->starting_position_timestamp) {
		char *sub = sl_path_key(path, "starting_position_timestamp");
		sl_diag_add(dc->diag, sub, "expected only with \"starting_position\": "
			    "\"at_timestamp\"");
		free(sub);
	} else if (at) {
		sl_parse_iso8601_ms(t->starting_position_timestamp,
				    &t->starting_position_timestamp_ms);
	}
}

static bool has_groups(int kind)
{
	return kind == SL_SOURCE_KAFKA || kind == SL_SOURCE_REDIS_STREAM;
}

/* consumer_group: only where the source has groups, default "sluice-<trigger>", and not shared
 * by two triggers of one source (they would split its events between them). Triggers are linked
 * in file order, so each compares itself with those before it, whose defaults are settled. */
static void link_group(struct sl_decode *dc, const char *path, struct sl_trigger_config *t,
		       int kind)
{
	char *sub = sl_path_key(path, "consumer_group");

	if (!has_groups(kind)) {
		if (t->consumer_group && kind >= 0)
			sl_diag_add(dc->diag, sub, "expected only on triggers of kafka and "
				    "redis_stream sources (this source is %s)",
				    sl_source_kinds[kind].name);
		free(sub);
		return;
	}
	if (!t->consumer_group)
		t->consumer_group = sl_xasprintf("sluice-%s", t->name);
	for (size_t i = 0; i < dc->cfg->n_triggers && &dc->cfg->triggers[i] != t; i++) {
		const struct sl_trigger_config *o = &dc->cfg->triggers[i];
		if (o->source && o->consumer_group && strcmp(o->source, t->source) == 0 &&
		    strcmp(o->consumer_group, t->consumer_group) == 0)
			sl_diag_add(dc->diag, sub, "expected a group no other trigger of source "
				    "\"%s\" uses (trigger %s is in \"%s\")", t->source, o->name,
				    o->consumer_group);
	}
	free(sub);
}

void sl_link_trigger(struct sl_decode *dc, const char *path, const json_t *obj, void *entry)
{
	struct sl_trigger_config *t = entry;
	const struct sl_source_config *src = t->source ?
		sl_section_find(&sl_section_sources, dc->cfg, t->source) : NULL;
	int kind = src ? (int)src->kind : -1;

	link_format(dc, path, obj, t, kind);
	link_retry(dc, path, obj, t);
	link_start(dc, path, t);
	link_group(dc, path, t, kind);
}

void sl_link_function(struct sl_decode *dc, const char *path, const json_t *obj, void *entry)
{
	const struct sl_function_config *fn = entry;

	(void)obj;
	if (fn->max_concurrency > 0 && fn->provisioned_concurrency > fn->max_concurrency) {
		char *sub = sl_path_key(path, "provisioned_concurrency");
		sl_diag_add(dc->diag, sub, "expected an integer from 0 to max_concurrency (%d), "
			    "got %d", fn->max_concurrency, fn->provisioned_concurrency);
		free(sub);
	}
	if (fn->layers && fn->layers[0] && fn->sandbox == SL_SANDBOX_PROCESS) {
		char *sub = sl_path_key(path, "layers");
		sl_diag_add(dc->diag, sub, "expected no layers with \"sandbox\": \"process\" (it "
			    "has no /opt of its own): use \"oci\" or \"docker\"");
		free(sub);
	}
}
