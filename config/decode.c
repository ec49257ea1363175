/* Table-driven decoding of one JSON object into one struct; see props.h.
 *
 * For each row: a missing key is an error (required) or gets the row's default, which is JSON
 * text decoded exactly like a value from the file; a present key is checked for its type, then
 * its range, length or allowed values, then the row's own check. A value that fails leaves its
 * field zero/NULL (the config is discarded anyway) and decoding goes on, so one pass reports
 * every problem. Keys that no row names are reported last, with the list of known keys.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/props.h"
#include "core/mem.h"

#define FIELD(target, p, type) ((type *)(void *)((char *)(target) + (p)->offset))

/* "one of: a, b, c" */
static void list_values(const char *const *values, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "one of:");
	for (size_t i = 0; values[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s %s", i ? "," : "", values[i]);
}

/* What a row's value must be, for "expected ..." (type and bounds). */
static void expectation(const struct sl_prop *p, char *buf, size_t len)
{
	switch (p->type) {
	case SL_PROP_STRING:
		if (p->max)
			snprintf(buf, len, "a string of %lld to %lld bytes", p->min, p->max);
		else
			snprintf(buf, len, "%s", p->min ? "a non-empty string" : "a string");
		break;
	case SL_PROP_INT:
	case SL_PROP_BYTES:
		snprintf(buf, len, "an integer from %lld to %lld", p->min, p->max);
		break;
	case SL_PROP_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case SL_PROP_ENUM:
	case SL_PROP_KEYWORD:
		list_values(p->values, buf, len);
		break;
	case SL_PROP_STRING_LIST:
		snprintf(buf, len, "an array of %lld to %lld strings", p->min, p->max);
		break;
	case SL_PROP_STRING_MAP:
		snprintf(buf, len, "an object of strings");
		break;
	case SL_PROP_OBJECT:
		snprintf(buf, len, "an object");
		break;
	case SL_PROP_OBJECT_LIST:
		snprintf(buf, len, "an array of %lld to %lld objects", p->min, p->max);
		break;
	case SL_PROP_SECTION:
		snprintf(buf, len, "an object mapping names to %s", p->section->key);
		break;
	}
}

static void expected(struct sl_decode *dc, const char *path, const struct sl_prop *p,
		     const json_t *v)
{
	char want[256], got[SL_DIAG_QUOTE_MAX + 32];

	expectation(p, want, sizeof(want));
	sl_describe(v, got, sizeof(got));
	sl_diag_add(dc->diag, path, "expected %s, got %s", want, got);
}

/* Resolve a path value; report (and store nothing) when a directory is required but missing. */
static void decode_path(struct sl_decode *dc, const char *path, const struct sl_prop *p,
			const char *value, char **out)
{
	char *abs = sl_config_abspath(dc->base_dir, value);
	const char *why = NULL;
	struct stat st;

	if (p->flags & SL_PROP_DIR) {
		if (stat(abs, &st) < 0)
			why = strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			why = "not a directory";
	}
	if (why) {
		char got[SL_DIAG_QUOTE_MAX + 32];
		json_t *j = sl_check_alloc(json_string(value));
		sl_describe(j, got, sizeof(got));
		json_decref(j);
		sl_diag_add(dc->diag, path, "expected an existing directory, got %s (%s: %s)", got,
			    abs, why);
		free(abs);
		return;
	}
	*out = abs;
}

static bool decode_string(struct sl_decode *dc, const char *path, const struct sl_prop *p,
			  const json_t *v, void *target)
{
	if (!json_is_string(v))
		return false;
	size_t n = json_string_length(v);
	if ((long long)n < p->min || (p->max && (long long)n > p->max))
		return false;
	if (p->flags & SL_PROP_PATH)
		decode_path(dc, path, p, json_string_value(v), FIELD(target, p, char *));
	else
		*FIELD(target, p, char *) = sl_xstrdup(json_string_value(v));
	return true;
}

static int find_value(const char *const *values, const char *s)
{
	for (int i = 0; values[i]; i++)
		if (strcmp(values[i], s) == 0)
			return i;
	return -1;
}

static bool decode_list(struct sl_decode *dc, const char *path, const struct sl_prop *p,
			const json_t *v, void *target)
{
	size_t n = json_array_size(v), i;
	const json_t *item;

	if (!json_is_array(v) || (long long)n < p->min || (long long)n > p->max)
		return false;
	char **list = sl_xcalloc(n + 1, sizeof(char *));
	json_array_foreach(v, i, item) {
		if (json_is_string(item) && (p->flags & SL_PROP_PATH)) {
			char *sub = sl_path_index(path, i);
			decode_path(dc, sub, p, json_string_value(item), &list[i]);
			free(sub);
			if (!list[i])   /* reported; keep the list whole */
				list[i] = sl_xstrdup("");
			continue;
		}
		if (json_is_string(item)) {
			list[i] = sl_xstrdup(json_string_value(item));
			continue;
		}
		char *sub = sl_path_index(path, i), got[SL_DIAG_QUOTE_MAX + 32];
		sl_describe(item, got, sizeof(got));
		sl_diag_add(dc->diag, sub, "expected a string, got %s", got);
		free(sub);
		list[i] = sl_xstrdup("");
	}
	*FIELD(target, p, char **) = list;
	return true;
}

static bool decode_map(struct sl_decode *dc, const char *path, const struct sl_prop *p,
		       const json_t *v, void *target)
{
	const char *key;
	const json_t *val;
	size_t i = 0;

	if (!json_is_object(v))
		return false;
	char **list = sl_xcalloc(json_object_size(v) + 1, sizeof(char *));
	json_object_foreach((json_t *)v, key, val) {
		if (json_is_string(val)) {
			list[i++] = sl_xasprintf("%s=%s", key, json_string_value(val));
			continue;
		}
		char *sub = sl_path_key(path, key), got[SL_DIAG_QUOTE_MAX + 32];
		sl_describe(val, got, sizeof(got));
		sl_diag_add(dc->diag, sub, "expected a string, got %s", got);
		free(sub);
	}
	*FIELD(target, p, char **) = list;
	return true;
}

/* Decode one present value; false means "not what the row expects" (reported by the caller). */
static bool decode_value(struct sl_decode *dc, const char *path, const struct sl_prop *p,
			 const json_t *v, void *target)
{
	int idx;

	switch (p->type) {
	case SL_PROP_STRING:
		return decode_string(dc, path, p, v, target);
	case SL_PROP_INT:
	case SL_PROP_BYTES:
		if (!json_is_integer(v) || json_integer_value(v) < p->min ||
		    json_integer_value(v) > p->max)
			return false;
		if (p->type == SL_PROP_INT)
			*FIELD(target, p, int) = (int)json_integer_value(v);
		else
			*FIELD(target, p, uint64_t) = (uint64_t)json_integer_value(v);
		return true;
	case SL_PROP_BOOL:
		if (!json_is_boolean(v))
			return false;
		*FIELD(target, p, bool) = json_is_true(v);
		return true;
	case SL_PROP_ENUM:
	case SL_PROP_KEYWORD:
		idx = json_is_string(v) ? find_value(p->values, json_string_value(v)) : -1;
		if (idx < 0)
			return false;
		if (p->type == SL_PROP_ENUM)
			*FIELD(target, p, int) = idx;
		else
			*FIELD(target, p, char *) = sl_xstrdup(p->values[idx]);
		return true;
	case SL_PROP_STRING_LIST:
		return decode_list(dc, path, p, v, target);
	case SL_PROP_STRING_MAP:
		return decode_map(dc, path, p, v, target);
	case SL_PROP_OBJECT:
		if (!json_is_object(v))
			return false;
		*FIELD(target, p, json_t *) = sl_check_alloc(json_deep_copy(v));
		return true;
	case SL_PROP_OBJECT_LIST: {
		size_t i, n = json_array_size(v);
		const json_t *item;
		if (!json_is_array(v) || (long long)n < p->min || (long long)n > p->max)
			return false;
		json_array_foreach(v, i, item)
			if (!json_is_object(item))
				return false;
		*FIELD(target, p, json_t *) = sl_check_alloc(json_deep_copy(v));
		return true;
	}
	case SL_PROP_SECTION:
		if (!json_is_object(v))
			return false;
		sl_section_decode(dc, path, v, p->section, target);
		return true;
	}
	return false;
}

static void decode_row(struct sl_decode *dc, const char *path, const struct sl_prop *p,
		       const json_t *v, void *target)
{
	if (!decode_value(dc, path, p, v, target)) {
		expected(dc, path, p, v);
		return;
	}
	if (p->check)
		p->check(dc, path, v);
}

static void report_unknown(struct sl_decode *dc, const char *path, const char *key,
			   const struct sl_prop *props, const char *extra)
{
	char known[1024];
	size_t n = 0;

	known[0] = '\0';
	if (extra)
		n += (size_t)snprintf(known, sizeof(known), "%s", extra);
	for (const struct sl_prop *p = props; p->name && n < sizeof(known); p++)
		n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", n ? ", " : "",
				      p->name);
	char *sub = sl_path_key(path, key);
	sl_diag_add(dc->diag, sub, "unknown key (known keys: %s)", known);
	free(sub);
}

const struct sl_prop *sl_props_find(const struct sl_prop *props, const char *key)
{
	for (const struct sl_prop *p = props; p->name; p++)
		if (strcmp(p->name, key) == 0)
			return p;
	return NULL;
}

void sl_props_decode(struct sl_decode *dc, const char *path, const json_t *obj,
		     const struct sl_prop *props, const char *extra, void *target)
{
	const char *key;
	const json_t *v;

	for (const struct sl_prop *p = props; p->name; p++) {
		char *sub = sl_path_key(path, p->name);
		v = json_object_get(obj, p->name);
		if (v) {
			decode_row(dc, sub, p, v, target);
		} else if (p->flags & SL_PROP_REQUIRED) {
			sl_diag_add(dc->diag, path, "missing required key \"%s\"", p->name);
		} else if (p->def) {
			json_t *def = json_loads(p->def, JSON_DECODE_ANY, NULL);
			decode_row(dc, sub, p, sl_check_alloc(def), target);
			json_decref(def);
		}
		free(sub);
	}
	json_object_foreach((json_t *)obj, key, v) {
		if (!sl_props_find(props, key) && !(extra && strcmp(key, extra) == 0))
			report_unknown(dc, path, key, props, extra);
	}
}

static void free_list(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

void sl_props_release(const struct sl_prop *props, void *target)
{
	for (const struct sl_prop *p = props; p->name; p++) {
		switch (p->type) {
		case SL_PROP_STRING:
		case SL_PROP_KEYWORD:
			free(*FIELD(target, p, char *));
			*FIELD(target, p, char *) = NULL;
			break;
		case SL_PROP_STRING_LIST:
		case SL_PROP_STRING_MAP:
			free_list(*FIELD(target, p, char **));
			*FIELD(target, p, char **) = NULL;
			break;
		case SL_PROP_OBJECT:
		case SL_PROP_OBJECT_LIST:
			json_decref(*FIELD(target, p, json_t *));
			*FIELD(target, p, json_t *) = NULL;
			break;
		case SL_PROP_SECTION:
			sl_section_release(p->section, target);
			break;
		default:
			break;
		}
	}
}
