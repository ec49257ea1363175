/* Schedule expressions: rate() and cron() parsing, every syntax element, next fire times
 * (checked against the C library's timegm), and each kind of invalid expression's message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "connectors/schedule/cron.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Unix seconds of a UTC wall-clock time. */
static int64_t at(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			 .tm_min = mi };
	return (int64_t)timegm(&tm);
}

static struct sl_schedule parse_ok(const char *expr)
{
	struct sl_schedule s;
	char err[256] = "";
	int rc = sl_schedule_parse(expr, &s, err, sizeof(err));
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	return s;
}

/* next(expr, after) must be `want` (-1 = never). */
static void check_next(const char *expr, int64_t after, int64_t want)
{
	struct sl_schedule s = parse_ok(expr);
	int64_t got = sl_schedule_next(&s, after);
	if (got != want) {
		char g[32] = "-1", w[32] = "-1";
		time_t tg = (time_t)got, tw = (time_t)want;
		struct tm tm;
		if (got >= 0)
			strftime(g, sizeof(g), "%Y-%m-%d %H:%M:%S %a", gmtime_r(&tg, &tm));
		if (want >= 0)
			strftime(w, sizeof(w), "%Y-%m-%d %H:%M:%S %a", gmtime_r(&tw, &tm));
		print_error("%s: got %s, want %s\n", expr, g, w);
	}
	assert_int_equal(got, want);
}

static void check_error(const char *expr, const char *message)
{
	struct sl_schedule s;
	char err[256] = "";
	assert_int_equal(sl_schedule_parse(expr, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, message);
}

/* ---- rate ------------------------------------------------------------------------------ */

static void test_rate(void **state)
{
	(void)state;
	struct sl_schedule s = parse_ok("rate(5 minutes)");
	assert_int_equal(s.kind, SL_SCHEDULE_RATE);
	assert_int_equal(s.period_s, 300);
	assert_int_equal(s.anchor, 0);
	check_next("rate(5 minutes)", at(2024, 3, 10, 12, 3) + 17, at(2024, 3, 10, 12, 5));
	check_next("rate(5 minutes)", at(2024, 3, 10, 12, 5), at(2024, 3, 10, 12, 10));
	check_next("rate(1 minute)", at(2024, 3, 10, 12, 5) - 1, at(2024, 3, 10, 12, 5));
	check_next("rate(1 hour)", at(2024, 3, 10, 12, 0), at(2024, 3, 10, 13, 0));
	check_next("rate(2 hours)", at(2024, 3, 10, 13, 0), at(2024, 3, 10, 14, 0));
	check_next("rate(1 day)", at(2024, 2, 28, 23, 59), at(2024, 2, 29, 0, 0));
	check_next("rate(3 days)", 0, 3 * 86400);
	check_next("rate(3 days)", -1, 0);

	/* anchored elsewhere, and asked about a time before the anchor */
	s = parse_ok("rate(10 minutes)");
	s.anchor = at(2024, 3, 10, 12, 1) + 30;
	assert_int_equal(sl_schedule_next(&s, at(2024, 3, 10, 12, 5)), at(2024, 3, 10, 12, 11) + 30);
	assert_int_equal(sl_schedule_next(&s, s.anchor), s.anchor + 600);
	assert_int_equal(sl_schedule_next(&s, s.anchor - 1), s.anchor);
	assert_int_equal(sl_schedule_next(&s, s.anchor - 601), s.anchor - 600);
	s.anchor = INT64_MAX - 100;
	assert_int_equal(sl_schedule_next(&s, INT64_MAX - 50), -1);
}

static void test_rate_errors(void **state)
{
	(void)state;
	check_error("rate(1 minutes)", "rate(1 minutes): unit: expected \"minute\" with the value 1 "
		    "(AWS uses the singular for 1 and the plural above), got \"minutes\"");
	check_error("rate(5 minute)", "rate(5 minute): unit: expected \"minutes\" with the value 5 "
		    "(AWS uses the singular for 1 and the plural above), got \"minute\"");
	check_error("rate(2 day)", "rate(2 day): unit: expected \"days\" with the value 2 "
		    "(AWS uses the singular for 1 and the plural above), got \"day\"");
	check_error("rate(0 minutes)", "rate(0 minutes): value: expected a whole number >= 1 "
		    "followed by one space and a unit, got \"0\"");
	check_error("rate(five minutes)", "rate(five minutes): value: expected a whole number >= 1 "
		    "followed by one space and a unit, got \"five\"");
	check_error("rate(5)", "rate(5): value: expected a whole number >= 1 followed by one space "
		    "and a unit, got \"5\"");
	check_error("rate(-5 minutes)", "rate(-5 minutes): value: expected a whole number >= 1 "
		    "followed by one space and a unit, got \"-5\"");
	check_error("rate(5 weeks)", "rate(5 weeks): unit: expected minutes, hours or days, "
		    "got \"weeks\"");
	check_error("rate(1 second)", "rate(1 second): unit: expected minute, hour or day, "
		    "got \"second\"");
	check_error("every 5 minutes", "expected rate(value unit) or cron(minutes hours "
		    "day-of-month month day-of-week year), got \"every 5 minutes\"");
	check_error("rate(5 minutes", "expected rate(value unit) or cron(minutes hours "
		    "day-of-month month day-of-week year), got \"rate(5 minutes\"");
	check_error("", "expected rate(value unit) or cron(minutes hours day-of-month month "
		    "day-of-week year), got \"\"");
}

/* ---- cron: plain fields ---------------------------------------------------------------- */

static void test_cron_fixed_time(void **state)
{
	(void)state;
	struct sl_schedule s = parse_ok("cron(0 12 * * ? *)");
	assert_int_equal(s.kind, SL_SCHEDULE_CRON);
	assert_false(s.by_weekday);
	check_next("cron(0 12 * * ? *)", at(2024, 3, 10, 11, 0), at(2024, 3, 10, 12, 0));
	check_next("cron(0 12 * * ? *)", at(2024, 3, 10, 11, 59) + 59, at(2024, 3, 10, 12, 0));
	check_next("cron(0 12 * * ? *)", at(2024, 3, 10, 12, 0), at(2024, 3, 11, 12, 0));
	check_next("cron(0 12 * * ? *)", at(2024, 3, 10, 12, 0) + 1, at(2024, 3, 11, 12, 0));
	check_next("cron(* * * * ? *)", at(2024, 3, 10, 12, 0) + 30, at(2024, 3, 10, 12, 1));
	check_next("cron(* * * * ? *)", -5000, at(1970, 1, 1, 0, 0));
}

static void test_cron_steps(void **state)
{
	(void)state;
	check_next("cron(0/15 * * * ? *)", at(2024, 3, 10, 10, 7), at(2024, 3, 10, 10, 15));
	check_next("cron(0/15 * * * ? *)", at(2024, 3, 10, 10, 45), at(2024, 3, 10, 11, 0));
	check_next("cron(*/5 * * * ? *)", at(2024, 3, 10, 10, 56), at(2024, 3, 10, 11, 0));
	check_next("cron(7/20 * * * ? *)", at(2024, 3, 10, 10, 28), at(2024, 3, 10, 10, 47));
	check_next("cron(7/20 * * * ? *)", at(2024, 3, 10, 10, 47), at(2024, 3, 10, 11, 7));
	check_next("cron(5-20/5 8 * * ? *)", at(2024, 3, 10, 8, 20), at(2024, 3, 11, 8, 5));
	check_next("cron(0 */6 * * ? *)", at(2024, 3, 10, 18, 0), at(2024, 3, 11, 0, 0));
	check_next("cron(0 0 1/10 * ? *)", at(2024, 3, 21, 0, 0), at(2024, 3, 31, 0, 0));
	check_next("cron(0 0 1/10 * ? *)", at(2024, 3, 31, 0, 0), at(2024, 4, 1, 0, 0));
	check_next("cron(0 0 1 */4 ? *)", at(2024, 1, 1, 0, 0), at(2024, 5, 1, 0, 0));
	check_next("cron(0 0 1 1 ? 2030/5)", at(2031, 1, 1, 0, 0), at(2035, 1, 1, 0, 0));
}

static void test_cron_lists_ranges_names(void **state)
{
	(void)state;
	check_next("cron(0 8,12,18 * * ? *)", at(2024, 3, 10, 12, 0), at(2024, 3, 10, 18, 0));
	check_next("cron(0 8,12,18 * * ? *)", at(2024, 3, 10, 18, 0), at(2024, 3, 11, 8, 0));
	check_next("cron(0 22-2 * * ? *)", at(2024, 3, 10, 3, 0), at(2024, 3, 10, 22, 0));
	check_next("cron(0 22-2 * * ? *)", at(2024, 3, 10, 23, 0), at(2024, 3, 11, 0, 0));
	check_next("cron(0 9 ? * MON-FRI *)", at(2024, 3, 8, 10, 0), at(2024, 3, 11, 9, 0));
	check_next("cron(0 9 ? * 2-6 *)", at(2024, 3, 8, 10, 0), at(2024, 3, 11, 9, 0));
	check_next("cron(0 9 ? * fri-mon *)", at(2024, 3, 12, 10, 0), at(2024, 3, 15, 9, 0));
	check_next("cron(0 9 ? * fri-mon *)", at(2024, 3, 17, 10, 0), at(2024, 3, 18, 9, 0));
	check_next("cron(0 9 ? * SUN,7 *)", at(2024, 3, 8, 10, 0), at(2024, 3, 9, 9, 0));
	check_next("cron(0 9 ? * * *)", at(2024, 3, 8, 10, 0), at(2024, 3, 9, 9, 0));
	check_next("cron(0 0 1 JAN,jul ? *)", at(2024, 2, 1, 0, 0), at(2024, 7, 1, 0, 0));
	check_next("cron(0 0 1 NOV-FEB ? *)", at(2024, 3, 1, 0, 0), at(2024, 11, 1, 0, 0));
	check_next("cron(0 0 1 NOV-FEB ? *)", at(2024, 12, 1, 0, 0), at(2025, 1, 1, 0, 0));
	check_next("cron(0 0 1,15,L * ? *)", at(2024, 4, 15, 0, 0), at(2024, 4, 30, 0, 0));
}

static void test_cron_month_and_year_boundaries(void **state)
{
	(void)state;
	check_next("cron(* * * * ? *)", at(2024, 1, 31, 23, 59) + 30, at(2024, 2, 1, 0, 0));
	check_next("cron(* * * * ? *)", at(2024, 12, 31, 23, 59), at(2025, 1, 1, 0, 0));
	check_next("cron(30 23 31 * ? *)", at(2024, 1, 31, 23, 30), at(2024, 3, 31, 23, 30));
	check_next("cron(0 0 31 * ? *)", at(2024, 4, 1, 0, 0), at(2024, 5, 31, 0, 0));
	check_next("cron(0 0 1 1 ? 2030-2032)", at(2031, 6, 1, 0, 0), at(2032, 1, 1, 0, 0));
	check_next("cron(0 0 1 1 ? 2030-2032)", at(2032, 1, 1, 0, 0), -1);
	check_next("cron(0 0 1 1 ? 2030-2032)", at(1999, 1, 1, 0, 0), at(2030, 1, 1, 0, 0));
	check_next("cron(59 23 31 12 ? 2199)", at(2199, 6, 1, 0, 0), at(2199, 12, 31, 23, 59));
	check_next("cron(59 23 31 12 ? 2199)", at(2199, 12, 31, 23, 59), -1);
	check_next("cron(* * * * ? *)", at(2200, 1, 1, 0, 0) - 1, -1);
	check_next("cron(* * * * ? *)", at(2300, 1, 1, 0, 0), -1);
}

/* ---- cron: special day syntax ---------------------------------------------------------- */

static void test_cron_leap_years(void **state)
{
	(void)state;
	check_next("cron(0 0 29 2 ? *)", at(2024, 3, 1, 0, 0), at(2028, 2, 29, 0, 0));
	check_next("cron(0 0 29 2 ? *)", at(2023, 1, 1, 0, 0), at(2024, 2, 29, 0, 0));
	check_next("cron(0 0 29 2 ? *)", at(2096, 3, 1, 0, 0), at(2104, 2, 29, 0, 0)); /* 2100 */
	check_next("cron(0 0 29 2 ? *)", at(1999, 3, 1, 0, 0), at(2000, 2, 29, 0, 0)); /* 2000 */
	check_next("cron(0 0 L 2 ? *)", at(2023, 1, 1, 0, 0), at(2023, 2, 28, 0, 0));
	check_next("cron(0 0 L 2 ? *)", at(2024, 1, 1, 0, 0), at(2024, 2, 29, 0, 0));
	check_next("cron(0 0 L 2 ? *)", at(2100, 1, 1, 0, 0), at(2100, 2, 28, 0, 0));
	check_next("cron(0 0 30 2 ? *)", 0, -1);         /* never: and fast */
	check_next("cron(0 0 31 4 ? *)", 0, -1);
}

static void test_cron_last_day(void **state)
{
	(void)state;
	check_next("cron(0 0 L * ? *)", at(2024, 2, 1, 0, 0), at(2024, 2, 29, 0, 0));
	check_next("cron(0 0 L * ? *)", at(2024, 2, 29, 0, 0), at(2024, 3, 31, 0, 0));
	check_next("cron(0 0 L * ? *)", at(2024, 4, 1, 0, 0), at(2024, 4, 30, 0, 0));
	check_next("cron(0 0 ? * 5L *)", at(2024, 11, 1, 0, 0), at(2024, 11, 28, 0, 0));
	check_next("cron(0 0 ? * THUL *)", at(2024, 11, 28, 0, 0), at(2024, 12, 26, 0, 0));
	check_next("cron(0 0 ? * 6L *)", at(2024, 3, 1, 0, 0), at(2024, 3, 29, 0, 0));
	check_next("cron(0 0 ? * L *)", at(2024, 3, 8, 12, 0), at(2024, 3, 9, 0, 0)); /* = SAT */
}

static void test_cron_nearest_weekday(void **state)
{
	(void)state;
	check_next("cron(0 0 15W * ? *)", at(2024, 6, 1, 0, 0), at(2024, 6, 14, 0, 0)); /* Sat */
	check_next("cron(0 0 15W * ? *)", at(2024, 9, 1, 0, 0), at(2024, 9, 16, 0, 0)); /* Sun */
	check_next("cron(0 0 15W * ? *)", at(2024, 3, 1, 0, 0), at(2024, 3, 15, 0, 0)); /* Fri */
	check_next("cron(0 0 1W * ? *)", at(2024, 5, 31, 0, 0), at(2024, 6, 3, 0, 0));  /* Sat 1st */
	check_next("cron(0 0 31W * ? *)", at(2024, 3, 1, 0, 0), at(2024, 3, 29, 0, 0)); /* Sun 31st */
	check_next("cron(0 0 31W * ? *)", at(2024, 4, 1, 0, 0), at(2024, 5, 31, 0, 0)); /* no 31/4 */
	check_next("cron(0 0 LW * ? *)", at(2024, 8, 1, 0, 0), at(2024, 8, 30, 0, 0));  /* Sat 31st */
	check_next("cron(0 0 LW * ? *)", at(2024, 4, 1, 0, 0), at(2024, 4, 30, 0, 0));  /* Tue */
}

static void test_cron_nth_weekday(void **state)
{
	(void)state;
	check_next("cron(0 0 ? * 3#2 *)", at(2024, 3, 1, 0, 0), at(2024, 3, 12, 0, 0));
	check_next("cron(0 0 ? * TUE#2 *)", at(2024, 3, 12, 0, 0), at(2024, 4, 9, 0, 0));
	check_next("cron(0 0 ? * 6#5 *)", at(2024, 3, 1, 0, 0), at(2024, 3, 29, 0, 0));
	check_next("cron(0 0 ? * 6#5 *)", at(2024, 3, 29, 0, 0), at(2024, 5, 31, 0, 0));
	check_next("cron(0 0 ? * 1#1,7#1 *)", at(2024, 3, 1, 0, 0), at(2024, 3, 2, 0, 0));
	check_next("cron(0 0 ? * 1#1,7#1 *)", at(2024, 3, 2, 0, 0), at(2024, 3, 3, 0, 0));
	check_next("cron(0 0 ? 2 1#5 *)", at(2024, 1, 1, 0, 0), at(2032, 2, 29, 0, 0));
}

/* ---- cron: against a minute-by-minute reference ---------------------------------------- */

static int ref_dim(int y, int m)
{
	return (int)((at(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1, 0, 0) - at(y, m, 1, 0, 0)) /
		     86400);
}

static int ref_wday(int y, int m, int d)          /* 1 = SUN */
{
	time_t t = (time_t)at(y, m, d, 0, 0);
	struct tm tm;
	gmtime_r(&t, &tm);
	return tm.tm_wday + 1;
}

static int ref_nearest(int y, int m, int n, int dim)
{
	int wd = ref_wday(y, m, n);
	if (wd == 7)
		return n == 1 ? 3 : n - 1;
	if (wd == 1)
		return n == dim ? n - 2 : n + 1;
	return n;
}

static bool ref_day(const struct sl_schedule *s, int y, int m, int d)
{
	int dim = ref_dim(y, m), wd = ref_wday(y, m, d);

	if (s->by_weekday)
		return (s->weekdays >> wd & 1) || ((s->last_weekdays >> wd & 1) && d + 7 > dim) ||
		       (s->nth_weekdays >> (8 * ((d - 1) / 7) + wd) & 1);
	if ((s->days >> d & 1) || (s->last_day && d == dim))
		return true;
	if (s->last_weekday && ref_nearest(y, m, dim, dim) == d)
		return true;
	for (int n = 1; n <= dim; n++)
		if ((s->near_weekdays >> n & 1) && ref_nearest(y, m, n, dim) == d)
			return true;
	return false;
}

static bool ref_match(const struct sl_schedule *s, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	int y = tm.tm_year + 1900 - SL_SCHEDULE_YEAR_MIN;
	return (s->minutes >> tm.tm_min & 1) && (s->hours >> tm.tm_hour & 1) &&
	       (s->months >> (tm.tm_mon + 1) & 1) && (s->years[y / 64] >> (y % 64) & 1) &&
	       ref_day(s, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void test_cron_matches_reference(void **state)
{
	(void)state;
	static const char *const exprs[] = {
		"cron(*/7 */5 * * ? *)", "cron(0 0 15W * ? *)", "cron(0 12 LW,1W,L * ? *)",
		"cron(30 9 ? * 2#3,6L *)", "cron(0 0 ? * L *)", "cron(15 22-2 1/3 NOV-FEB ? 2024)",
		"cron(5 4 29 2 ? *)", "cron(0 8-10 ? * MON-FRI *)",
	};
	int64_t from = at(2024, 1, 1, 0, 0) - 60, to = at(2025, 3, 1, 0, 0);

	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct sl_schedule s = parse_ok(exprs[i]);
		int64_t next = sl_schedule_next(&s, from);
		int fires = 0;
		for (int64_t t = from + 60; t < to; t += 60) {
			if (!ref_match(&s, t))
				continue;
			if (next != t)
				print_error("%s: reference fires at %lld, next() said %lld\n", exprs[i],
					    (long long)t, (long long)next);
			assert_int_equal(next, t);
			next = sl_schedule_next(&s, t);
			fires++;
		}
		assert_true(next >= to || next == -1);
		assert_true(fires > 0);
	}
}

/* ---- invalid cron ---------------------------------------------------------------------- */

static void test_cron_question_mark_rule(void **state)
{
	(void)state;
	check_error("cron(0 12 * * * *)", "cron(0 12 * * * *): exactly one of day-of-month and "
		    "day-of-week must be ?, got \"*\" and \"*\"");
	check_error("cron(0 12 ? * ? *)", "cron(0 12 ? * ? *): exactly one of day-of-month and "
		    "day-of-week must be ?, got \"?\" and \"?\"");
	check_error("cron(0 12 1 * MON *)", "cron(0 12 1 * MON *): exactly one of day-of-month "
		    "and day-of-week must be ?, got \"1\" and \"MON\"");
	check_error("cron(? 12 * * ? *)", "cron(? 12 * * ? *): minutes: expected 0-59, *, or a "
		    "list (,), range (-) or step (/) of them, got \"?\"");
	check_error("cron(0 12 1,? * ? *)", "cron(0 12 1,? * ? *): day-of-month: expected 1-31, "
		    "*, L, LW, nW, ? or a list (,), range (-) or step (/) of them, got \"?\"");
	parse_ok("cron(0 12 ? * MON *)");
	parse_ok("cron(0 12 1 * ? *)");
}

#define MIN_EXP "expected 0-59, *, or a list (,), range (-) or step (/) of them"
#define DOM_EXP "expected 1-31, *, L, LW, nW, ? or a list (,), range (-) or step (/) of them"
#define DOW_EXP "expected 1-7, SUN-SAT, L, # or ?"
#define YEAR_EXP "expected 1970-2199, *, or a list (,), range (-) or step (/) of them"

static void test_cron_errors(void **state)
{
	(void)state;
	check_error("cron(0 12 ? * 8 *)", "cron(0 12 ? * 8 *): day-of-week: " DOW_EXP ", got \"8\"");
	check_error("cron(0 12 ? * 0 *)", "cron(0 12 ? * 0 *): day-of-week: " DOW_EXP ", got \"0\"");
	check_error("cron(0 0 ? * 3#6 *)", "cron(0 0 ? * 3#6 *): day-of-week: " DOW_EXP
		    ", got \"3#6\"");
	check_error("cron(0 0 ? * 8L *)", "cron(0 0 ? * 8L *): day-of-week: " DOW_EXP
		    ", got \"8L\"");
	check_error("cron(0 0 ? * */2 *)", "cron(0 0 ? * */2 *): day-of-week: " DOW_EXP
		    ", got \"*/2\"");
	check_error("cron(0 0 ? * MONDAY *)", "cron(0 0 ? * MONDAY *): day-of-week: " DOW_EXP
		    ", got \"MONDAY\"");
	check_error("cron(60 * * * ? *)", "cron(60 * * * ? *): minutes: " MIN_EXP ", got \"60\"");
	check_error("cron(0/0 * * * ? *)", "cron(0/0 * * * ? *): minutes: " MIN_EXP
		    ", got \"0/0\"");
	check_error("cron(0/x * * * ? *)", "cron(0/x * * * ? *): minutes: " MIN_EXP
		    ", got \"0/x\"");
	check_error("cron(1- * * * ? *)", "cron(1- * * * ? *): minutes: " MIN_EXP ", got \"1-\"");
	check_error("cron(0 24 * * ? *)", "cron(0 24 * * ? *): hours: expected 0-23, *, or a list "
		    "(,), range (-) or step (/) of them, got \"24\"");
	check_error("cron(0 0 32 * ? *)", "cron(0 0 32 * ? *): day-of-month: " DOM_EXP
		    ", got \"32\"");
	check_error("cron(0 0 0 * ? *)", "cron(0 0 0 * ? *): day-of-month: " DOM_EXP ", got \"0\"");
	check_error("cron(0 0 32W * ? *)", "cron(0 0 32W * ? *): day-of-month: " DOM_EXP
		    ", got \"32W\"");
	check_error("cron(0 0 W * ? *)", "cron(0 0 W * ? *): day-of-month: " DOM_EXP
		    ", got \"W\"");
	check_error("cron(0 0 1,,2 * ? *)", "cron(0 0 1,,2 * ? *): day-of-month: " DOM_EXP
		    ", got \"\"");
	check_error("cron(0 0 1 13 ? *)", "cron(0 0 1 13 ? *): month: expected 1-12, JAN-DEC, *, "
		    "or a list (,), range (-) or step (/) of them, got \"13\"");
	check_error("cron(0 0 1 FOO ? *)", "cron(0 0 1 FOO ? *): month: expected 1-12, JAN-DEC, *, "
		    "or a list (,), range (-) or step (/) of them, got \"FOO\"");
	check_error("cron(0 0 1 1 ? 2200)", "cron(0 0 1 1 ? 2200): year: " YEAR_EXP
		    ", got \"2200\"");
	check_error("cron(0 0 1 1 ? 1969)", "cron(0 0 1 1 ? 1969): year: " YEAR_EXP
		    ", got \"1969\"");
	check_error("cron(0 0 1 1 ? 2030-2025)", "cron(0 0 1 1 ? 2030-2025): year: " YEAR_EXP
		    ", got \"2030-2025\"");
	check_error("cron(0 0 * * ?)", "cron(0 0 * * ?): expected 6 fields (minutes hours "
		    "day-of-month month day-of-week year), got 5");
	check_error("cron(0 0 * * ? * *)", "cron(0 0 * * ? * *): expected 6 fields (minutes hours "
		    "day-of-month month day-of-week year), got 7");
	check_error("cron()", "cron(): expected 6 fields (minutes hours day-of-month month "
		    "day-of-week year), got 0");
	/* a NULL or zero-length err buffer is allowed */
	struct sl_schedule s;
	assert_int_equal(sl_schedule_parse("cron(x)", &s, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rate_errors),
		cmocka_unit_test(test_cron_fixed_time),
		cmocka_unit_test(test_cron_steps),
		cmocka_unit_test(test_cron_lists_ranges_names),
		cmocka_unit_test(test_cron_month_and_year_boundaries),
		cmocka_unit_test(test_cron_leap_years),
		cmocka_unit_test(test_cron_last_day),
		cmocka_unit_test(test_cron_nearest_weekday),
		cmocka_unit_test(test_cron_nth_weekday),
		cmocka_unit_test(test_cron_matches_reference),
		cmocka_unit_test(test_cron_question_mark_rule),
		cmocka_unit_test(test_cron_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
