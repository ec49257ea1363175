/* Parsing of EventBridge schedule expressions (see cron.h for the grammar).
 *
 * A cron field is split at commas; each element adds values to a bitmap (bit = value, years
 * offset by 1970), or sets one of the special day flags (L, LW, nW, dL, d#k). A field's table row
 * says its bounds, its names and the "expected ..." text of its error message, so every error
 * names the expression, the field, what the field accepts and the element that was wrong.
 * Computing fire times from the result is cron_next.c's job.
 */
#include "connectors/schedule/cron.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FIELD_MAX 128   /* longest field text accepted */

enum field_id { F_MINUTES, F_HOURS, F_DOM, F_MONTH, F_DOW, F_YEAR, F_COUNT };

struct field {
	const char *name;
	int min, max, offset;        /* bit index = value - offset */
	const char *const *names;    /* names of min, min+1, ... (3 letters) or NULL */
	const char *expected;
};

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
					   "AUG", "SEP", "OCT", "NOV", "DEC", NULL };
static const char *const day_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL };

static const struct field fields[F_COUNT] = {
	{ "minutes", 0, 59, 0, NULL, "0-59, *, or a list (,), range (-) or step (/) of them" },
	{ "hours", 0, 23, 0, NULL, "0-23, *, or a list (,), range (-) or step (/) of them" },
	{ "day-of-month", 1, 31, 0, NULL,
	  "1-31, *, L, LW, nW, ? or a list (,), range (-) or step (/) of them" },
	{ "month", 1, 12, 0, month_names,
	  "1-12, JAN-DEC, *, or a list (,), range (-) or step (/) of them" },
	{ "day-of-week", 1, 7, 0, day_names, "1-7, SUN-SAT, L, # or ?" },
	{ "year", SL_SCHEDULE_YEAR_MIN, SL_SCHEDULE_YEAR_MAX, SL_SCHEDULE_YEAR_MIN, NULL,
	  "1970-2199, *, or a list (,), range (-) or step (/) of them" },
};

struct parse {
	const char *expr;
	char *err;
	size_t errlen;
	const struct field *f;
	struct sl_schedule *out;
	uint64_t set[4];             /* values of the field being parsed */
};

static int fail_elem(struct parse *p, const char *tok, size_t len)
{
	snprintf(p->err, p->errlen, "%s: %s: expected %s, got \"%.*s\"", p->expr, p->f->name,
		 p->f->expected, (int)len, tok);
	return -EINVAL;
}

static bool is_question(const char *s, size_t len)
{
	return len == 1 && s[0] == '?';
}

/* A whole number of at most 9 digits. */
static bool parse_uint(const char *s, size_t len, int *v)
{
	if (len == 0 || len > 9)
		return false;
	*v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* A number or name within the field's bounds. */
static bool parse_value(const struct field *f, const char *s, size_t len, int *v)
{
	if (f->names && len == 3) {
		for (int i = 0; f->names[i]; i++) {
			if (strncasecmp(s, f->names[i], 3) == 0) {
				*v = f->min + i;
				return true;
			}
		}
	}
	return parse_uint(s, len, v) && *v >= f->min && *v <= f->max;
}

static void set_bit(uint64_t set[4], int bit)
{
	set[bit / 64] |= 1ull << (bit % 64);
}

/* a..b every step; a > b wraps around through max to min. */
static void add_range(struct parse *p, int a, int b, int step)
{
	const struct field *f = p->f;
	int span = f->max - f->min + 1;
	int n = b >= a ? b - a : span - (a - b);

	for (int k = 0; k <= n; k += step) {
		int v = a + k;
		if (v > f->max)
			v -= span;
		set_bit(p->set, v - f->offset);
	}
}

/* `*`, `v`, `a-b`, each optionally followed by `/step`. */
static int parse_plain(struct parse *p, const char *tok, size_t len)
{
	const struct field *f = p->f;
	const char *slash = memchr(tok, '/', len);
	size_t blen = slash ? (size_t)(slash - tok) : len;
	const char *dash = memchr(tok, '-', blen);
	int a, b, step = 1;

	if (slash && (f == &fields[F_DOW] ||
		      !parse_uint(slash + 1, len - blen - 1, &step) || step < 1 ||
		      step > f->max - f->min + 1))
		return fail_elem(p, tok, len);
	if (blen == 1 && tok[0] == '*') {
		a = f->min;
		b = f->max;
	} else if (dash) {
		if (!parse_value(f, tok, (size_t)(dash - tok), &a) ||
		    !parse_value(f, dash + 1, blen - (size_t)(dash - tok) - 1, &b) ||
		    (a > b && f == &fields[F_YEAR]))
			return fail_elem(p, tok, len);
	} else {
		if (!parse_value(f, tok, blen, &a))
			return fail_elem(p, tok, len);
		b = slash ? f->max : a;
	}
	add_range(p, a, b, step);
	return 0;
}

/* Day-of-month: L, LW, nW, else plain. */
static int parse_dom_elem(struct parse *p, const char *tok, size_t len)
{
	int n;

	if (len == 1 && (tok[0] == 'L' || tok[0] == 'l')) {
		p->out->last_day = true;
		return 0;
	}
	if (len == 2 && strncasecmp(tok, "LW", 2) == 0) {
		p->out->last_weekday = true;
		return 0;
	}
	if (len >= 2 && (tok[len - 1] == 'W' || tok[len - 1] == 'w')) {
		if (!parse_value(p->f, tok, len - 1, &n))
			return fail_elem(p, tok, len);
		p->out->near_weekdays |= 1u << n;
		return 0;
	}
	return parse_plain(p, tok, len);
}

/* Day-of-week: L, dL, d#k, else plain. */
static int parse_dow_elem(struct parse *p, const char *tok, size_t len)
{
	const char *hash = memchr(tok, '#', len);
	int d, k;

	if (len == 1 && (tok[0] == 'L' || tok[0] == 'l')) {
		set_bit(p->set, 7);
		return 0;
	}
	if (hash) {
		if (!parse_value(p->f, tok, (size_t)(hash - tok), &d) ||
		    !parse_uint(hash + 1, len - (size_t)(hash - tok) - 1, &k) || k < 1 || k > 5)
			return fail_elem(p, tok, len);
		p->out->nth_weekdays |= 1ull << (8 * (k - 1) + d);
		return 0;
	}
	if (len >= 2 && (tok[len - 1] == 'L' || tok[len - 1] == 'l')) {
		if (!parse_value(p->f, tok, len - 1, &d))
			return fail_elem(p, tok, len);
		p->out->last_weekdays |= (uint8_t)(1u << d);
		return 0;
	}
	return parse_plain(p, tok, len);
}

/* One field (not "?"): every comma-separated element. */
static int parse_field(struct parse *p, const char *text, size_t len)
{
	size_t at = 0;

	memset(p->set, 0, sizeof(p->set));
	for (;;) {
		const char *tok = text + at;
		const char *comma = memchr(tok, ',', len - at);
		size_t tlen = comma ? (size_t)(comma - tok) : len - at;
		int rc;
		if (tlen == 0 || is_question(tok, tlen))
			return fail_elem(p, tok, tlen);
		if (p->f == &fields[F_DOM])
			rc = parse_dom_elem(p, tok, tlen);
		else if (p->f == &fields[F_DOW])
			rc = parse_dow_elem(p, tok, tlen);
		else
			rc = parse_plain(p, tok, tlen);
		if (rc || !comma)
			return rc;
		at += tlen + 1;
	}
}

static void store_field(struct parse *p, enum field_id id)
{
	struct sl_schedule *s = p->out;

	switch (id) {
	case F_MINUTES: s->minutes = p->set[0]; break;
	case F_HOURS: s->hours = (uint32_t)p->set[0]; break;
	case F_DOM: s->days = (uint32_t)p->set[0]; break;
	case F_MONTH: s->months = (uint16_t)p->set[0]; break;
	case F_DOW: s->weekdays = (uint8_t)p->set[0]; break;
	default: memcpy(s->years, p->set, sizeof(s->years)); break;
	}
}

/* Split at runs of spaces into exactly six fields. */
static int split_fields(struct parse *p, const char *text, size_t len, const char *start[6],
			size_t flen[6])
{
	const char *end = text + len;
	int n = 0;

	for (const char *c = text; c < end; ) {
		while (c < end && *c == ' ')
			c++;
		if (c == end)
			break;
		const char *e = c;
		while (e < end && *e != ' ')
			e++;
		if (n < 6) {
			start[n] = c;
			flen[n] = (size_t)(e - c);
		}
		n++;
		c = e;
	}
	if (n == 6)
		return 0;
	snprintf(p->err, p->errlen, "%s: expected 6 fields (minutes hours day-of-month month "
		 "day-of-week year), got %d", p->expr, n);
	return -EINVAL;
}

static int parse_cron(struct parse *p, const char *text, size_t len)
{
	const char *start[6];
	size_t flen[6];
	int rc = split_fields(p, text, len, start, flen);

	if (rc)
		return rc;
	bool qdom = is_question(start[F_DOM], flen[F_DOM]);
	bool qdow = is_question(start[F_DOW], flen[F_DOW]);
	if (qdom == qdow) {
		snprintf(p->err, p->errlen, "%s: exactly one of day-of-month and day-of-week must be "
			 "?, got \"%.*s\" and \"%.*s\"", p->expr, (int)flen[F_DOM], start[F_DOM],
			 (int)flen[F_DOW], start[F_DOW]);
		return -EINVAL;
	}
	p->out->kind = SL_SCHEDULE_CRON;
	p->out->by_weekday = qdom;
	for (int id = 0; id < F_COUNT; id++) {
		p->f = &fields[id];
		if ((id == F_DOM && qdom) || (id == F_DOW && qdow))
			continue;
		if (flen[id] > FIELD_MAX)
			return fail_elem(p, start[id], flen[id]);
		rc = parse_field(p, start[id], flen[id]);
		if (rc)
			return rc;
		store_field(p, (enum field_id)id);
	}
	return 0;
}

static int parse_rate(struct parse *p, const char *text, size_t len)
{
	static const struct { const char *one, *many; int64_t seconds; } units[] = {
		{ "minute", "minutes", 60 }, { "hour", "hours", 3600 }, { "day", "days", 86400 },
	};
	const char *space = memchr(text, ' ', len);
	int n;

	if (!space || !parse_uint(text, (size_t)(space - text), &n) || n < 1) {
		snprintf(p->err, p->errlen, "%s: value: expected a whole number >= 1 followed by "
			 "one space and a unit, got \"%.*s\"", p->expr,
			 (int)(space ? space - text : (ptrdiff_t)len), text);
		return -EINVAL;
	}
	const char *unit = space + 1;
	size_t ulen = len - (size_t)(unit - text);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		const char *want = n == 1 ? units[i].one : units[i].many;
		const char *other = n == 1 ? units[i].many : units[i].one;
		if (ulen == strlen(want) && memcmp(unit, want, ulen) == 0) {
			p->out->kind = SL_SCHEDULE_RATE;
			p->out->period_s = n * units[i].seconds;
			return 0;
		}
		if (ulen == strlen(other) && memcmp(unit, other, ulen) == 0) {
			snprintf(p->err, p->errlen, "%s: unit: expected \"%s\" with the value %d "
				 "(AWS uses the singular for 1 and the plural above), got \"%s\"",
				 p->expr, want, n, other);
			return -EINVAL;
		}
	}
	snprintf(p->err, p->errlen, "%s: unit: expected %s, got \"%.*s\"", p->expr,
		 n == 1 ? "minute, hour or day" : "minutes, hours or days", (int)ulen, unit);
	return -EINVAL;
}

int sl_schedule_parse(const char *expr, struct sl_schedule *out, char *err, size_t errlen)
{
	struct parse p = { .expr = expr, .err = err, .errlen = errlen, .out = out };
	size_t len = expr ? strlen(expr) : 0;
	char none[1];

	if (!err || errlen == 0) {
		err = p.err = none;
		errlen = p.errlen = sizeof(none);
	}
	memset(out, 0, sizeof(*out));
	if (len > 5 && expr[len - 1] == ')' && strncmp(expr, "rate(", 5) == 0)
		return parse_rate(&p, expr + 5, len - 6);
	if (len > 5 && expr[len - 1] == ')' && strncmp(expr, "cron(", 5) == 0)
		return parse_cron(&p, expr + 5, len - 6);
	snprintf(err, errlen, "expected rate(value unit) or cron(minutes hours day-of-month month "
		 "day-of-week year), got \"%s\"", expr ? expr : "");
	return -EINVAL;
}
