/* Event filters: EventBridge-style patterns. See filter.h.
 *
 * The pattern is checked once (sl_filter_compile) and then interpreted as it stands: a pattern
 * is small, and walking it beside the record costs a few lookups per listed field.
 */
#include "dispatcher/filter.h"

#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sl_filter {
	json_t *pattern;
};

/* ---- checking ---------------------------------------------------------------------------- */

struct check {
	char *err;
	size_t errlen;
	bool failed;
};

static void fault(struct check *c, const char *path, const char *what)
{
	if (c->failed)
		return;
	c->failed = true;
	snprintf(c->err, c->errlen, "%s: expected %s", path, what);
}

static bool is_bound_op(const char *op, bool *lower)
{
	*lower = op[0] == '>';
	return strcmp(op, ">") == 0 || strcmp(op, ">=") == 0 || strcmp(op, "<") == 0 ||
	       strcmp(op, "<=") == 0;
}

static void check_numeric(struct check *c, const char *path, const json_t *v)
{
	size_t n = json_array_size(v);
	bool seen_lower = false, seen_upper = false, lower;
	const char *op0 = json_string_value(json_array_get(v, 0));

	if (n == 2 && op0 && strcmp(op0, "=") == 0 && json_is_number(json_array_get(v, 1)))
		return;
	if (n != 2 && n != 4)
		goto bad;
	for (size_t i = 0; i < n; i += 2) {
		const char *op = json_string_value(json_array_get(v, i));
		if (!op || !is_bound_op(op, &lower) || !json_is_number(json_array_get(v, i + 1)) ||
		    (lower ? seen_lower : seen_upper))
			goto bad;
		*(lower ? &seen_lower : &seen_upper) = true;
	}
	return;
bad:
	fault(c, path, "\"numeric\": [\"=\", N] or one lower (\">\", \">=\") and/or one upper "
		       "(\"<\", \"<=\") bound with numbers");
}

static void check_anything_but(struct check *c, const char *path, const json_t *v)
{
	size_t i;
	const json_t *x;

	if (json_is_string(v) || json_is_number(v))
		return;
	if (json_is_array(v) && json_array_size(v) > 0) {
		json_array_foreach(v, i, x)
			if (!json_is_string(x) && !json_is_number(x))
				break;
		if (i == json_array_size(v))
			return;
	}
	fault(c, path, "\"anything-but\": a string, a number or a non-empty array of them");
}

static void check_matcher(struct check *c, const char *path, const json_t *m)
{
	const char *op;
	const json_t *v;

	if (!json_is_object(m)) {
		if (json_is_array(m))
			fault(c, path, "a string, number, null, boolean or operator object");
		return;
	}
	if (json_object_size(m) != 1) {
		fault(c, path, "an operator object with exactly one key");
		return;
	}
	json_object_foreach((json_t *)m, op, v) {
		if (strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0 ||
		    strcmp(op, "equals-ignore-case") == 0) {
			if (!json_is_string(v))
				fault(c, path, "a string operand");
		} else if (strcmp(op, "exists") == 0) {
			if (!json_is_boolean(v))
				fault(c, path, "\"exists\": true or false");
		} else if (strcmp(op, "anything-but") == 0) {
			check_anything_but(c, path, v);
		} else if (strcmp(op, "numeric") == 0) {
			check_numeric(c, path, v);
		} else {
			fault(c, path, "one of the operators prefix, suffix, equals-ignore-case, "
				       "anything-but, numeric, exists");
		}
	}
}

static void check_pattern(struct check *c, const char *path, const json_t *p)
{
	const char *key;
	const json_t *v;
	char sub[512];

	if (!json_is_object(p) || json_object_size(p) == 0) {
		fault(c, path, "a non-empty object");
		return;
	}
	json_object_foreach((json_t *)p, key, v) {
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (strcmp(key, "$or") == 0) {
			size_t i;
			const json_t *alt;
			if (!json_is_array(v) || json_array_size(v) < 2) {
				fault(c, sub, "an array of at least two patterns");
				continue;
			}
			json_array_foreach(v, i, alt) {
				char item[560];
				snprintf(item, sizeof(item), "%s[%zu]", sub, i);
				check_pattern(c, item, alt);
			}
		} else if (json_is_object(v)) {
			check_pattern(c, sub, v);
		} else if (json_is_array(v) && json_array_size(v) > 0) {
			size_t i;
			const json_t *m;
			json_array_foreach(v, i, m) {
				char item[560];
				snprintf(item, sizeof(item), "%s[%zu]", sub, i);
				check_matcher(c, item, m);
			}
		} else {
			fault(c, sub, "a nested pattern (object) or a non-empty array of matchers");
		}
	}
}

int sl_filter_compile(const json_t *pattern, struct sl_filter **out, char *err, size_t errlen)
{
	struct check c = { .err = err, .errlen = errlen };

	check_pattern(&c, "$", pattern);
	if (c.failed)
		return -EINVAL;
	*out = sl_xcalloc(1, sizeof(**out));
	(*out)->pattern = sl_check_alloc(json_deep_copy(pattern));
	return 0;
}

void sl_filter_free(struct sl_filter *f)
{
	if (!f)
		return;
	json_decref(f->pattern);
	free(f);
}

/* ---- matching ---------------------------------------------------------------------------- */

/* Numbers are equal when their JSON texts are (300 and 300.0 are not). */
static bool same_number(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	if (json_is_real(a) && json_is_real(b))
		return json_real_value(a) == json_real_value(b);
	return false;
}

static bool equals(const json_t *want, const json_t *v)
{
	if (json_is_string(want))
		return json_is_string(v) && strcmp(json_string_value(want), json_string_value(v)) == 0;
	if (json_is_number(want))
		return json_is_number(v) && same_number(want, v);
	return json_typeof(want) == json_typeof(v) && !json_is_object(v) && !json_is_array(v);
}

static bool in_bounds(const json_t *bounds, double x)
{
	for (size_t i = 0; i + 1 < json_array_size(bounds); i += 2) {
		const char *op = json_string_value(json_array_get(bounds, i));
		double b = json_number_value(json_array_get(bounds, i + 1));
		bool ok = strcmp(op, "=") == 0 ? x == b : strcmp(op, ">") == 0 ? x > b
			: strcmp(op, ">=") == 0 ? x >= b : strcmp(op, "<") == 0 ? x < b : x <= b;
		if (!ok)
			return false;
	}
	return true;
}

static bool anything_but(const json_t *listed, const json_t *v)
{
	size_t i;
	const json_t *x;

	if (!json_is_string(v) && !json_is_number(v))
		return false;
	if (!json_is_array(listed))
		return !equals(listed, v);
	json_array_foreach(listed, i, x)
		if (equals(x, v))
			return false;
	return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* One matcher against one value (v NULL: the field is absent). */
static bool matcher_matches(const json_t *m, const json_t *v)
{
	const char *op;
	const json_t *arg;

	if (!json_is_object(m))
		return v && equals(m, v);
	json_object_foreach((json_t *)m, op, arg) {
		if (strcmp(op, "exists") == 0)
			return json_is_true(arg) ? v && !json_is_object(v) : !v;
		if (!v)
			return false;
		const char *s = json_string_value(v), *a = json_string_value(arg);
		if (strcmp(op, "prefix") == 0)
			return s && strncmp(s, a, strlen(a)) == 0;
		if (strcmp(op, "suffix") == 0)
			return s && has_suffix(s, a);
		if (strcmp(op, "equals-ignore-case") == 0)
			return s && strcasecmp(s, a) == 0;
		if (strcmp(op, "anything-but") == 0)
			return anything_but(arg, v);
		if (strcmp(op, "numeric") == 0)
			return json_is_number(v) && in_bounds(arg, json_number_value(v));
	}
	return false;
}

/* Any matcher against the field's value, or any element of it when it is an array (an empty
 * array is an absent value). */
static bool field_matches(const json_t *matchers, const json_t *v)
{
	size_t i, j;
	const json_t *m, *e;

	json_array_foreach(matchers, i, m) {
		if (!json_is_array(v)) {
			if (matcher_matches(m, v))
				return true;
			continue;
		}
		if (json_array_size(v) == 0 && matcher_matches(m, NULL))
			return true;
		json_array_foreach(v, j, e)
			if (matcher_matches(m, e))
				return true;
	}
	return false;
}

static bool pattern_matches(const json_t *p, const json_t *record)
{
	const char *key;
	const json_t *sub;

	json_object_foreach((json_t *)p, key, sub) {
		const json_t *v = json_is_object(record) ? json_object_get(record, key) : NULL;
		bool ok;
		if (strcmp(key, "$or") == 0) {
			size_t i;
			const json_t *alt;
			ok = false;
			json_array_foreach(sub, i, alt)
				if ((ok = pattern_matches(alt, record)))
					break;
		} else if (json_is_object(sub)) {
			ok = pattern_matches(sub, json_is_object(v) ? v : NULL);
		} else {
			ok = field_matches(sub, v);
		}
		if (!ok)
			return false;
	}
	return true;
}

bool sl_filter_match(const struct sl_filter *f, const json_t *record)
{
	return pattern_matches(f->pattern, record);
}
