/* Next fire time of a parsed schedule (see cron.h), in UTC, with no use of the C library's
 * time zone machinery.
 *
 * cron: start at the first whole minute after `after` and fix the fields from the largest down:
 * the first allowed year >= the current one, then month, then day (the month's matching days
 * are computed as one bitmap, which is where L, W, # and day-of-week live), hour, minute. When a
 * field has no allowed value left, the next larger field moves on by one and the smaller ones
 * restart at their minimum. Every step moves the candidate forward, and a month, day or hour
 * without a match is skipped whole, so even a schedule that never fires (30 February) costs a
 * few thousand steps over 1970-2199, not a walk over minutes.
 *
 * W: the weekday nearest day n in the same month: a Saturday moves to Friday (to Monday the 3rd
 * if n is the 1st), a Sunday to Monday (to Friday if n is the month's last day). A day n that
 * the month does not have (31W in April) does not fire that month.
 *
 * Dates are converted with Howard Hinnant's days_from_civil / civil_from_days (proleptic
 * Gregorian calendar, exact for every year we accept).
 */
#include "connectors/schedule/cron.h"

#define DAY_S 86400

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

struct civil {
	int64_t year;
	int month, day, hour, minute;
};

static void civil_from_time(int64_t t, struct civil *c)
{
	int64_t z = floor_div(t, DAY_S), secs = t - z * DAY_S;
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = yoe + era * 400 + (c->month <= 2);
	c->hour = (int)(secs / 3600);
	c->minute = (int)(secs % 3600 / 60);
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

/* 1 = Sunday .. 7 = Saturday (1970-01-01 was a Thursday). */
static int weekday(int64_t y, int m, int d)
{
	int64_t days = days_from_civil(y, m, d);
	return (int)((days % 7 + 7 + 4) % 7) + 1;
}

/* Lowest set bit in from..max, or -1. */
static int next_bit(uint64_t set, int from, int max)
{
	for (int i = from; i <= max; i++)
		if (set >> i & 1)
			return i;
	return -1;
}

static int next_year(const uint64_t years[4], int64_t from)
{
	for (int64_t y = from; y <= SL_SCHEDULE_YEAR_MAX; y++) {
		int i = (int)(y - SL_SCHEDULE_YEAR_MIN);
		if (years[i / 64] >> (i % 64) & 1)
			return (int)y;
	}
	return -1;
}

static int nearest_weekday(int64_t y, int m, int n, int dim)
{
	int wd = weekday(y, m, n);
	if (wd == 7)                                   /* Saturday */
		return n == 1 ? 3 : n - 1;
	if (wd == 1)                                   /* Sunday */
		return n == dim ? n - 2 : n + 1;
	return n;
}

/* Days of month m of year y the schedule fires on: bit d for day d. */
static uint32_t month_days(const struct sl_schedule *s, int64_t y, int m)
{
	int dim = days_in_month(y, m);
	uint32_t set = 0;

	if (!s->by_weekday) {
		set = s->days & (uint32_t)(((1ull << dim) - 1) << 1);
		if (s->last_day)
			set |= 1u << dim;
		if (s->last_weekday)
			set |= 1u << nearest_weekday(y, m, dim, dim);
		for (int n = 1; n <= dim; n++)
			if (s->near_weekdays >> n & 1)
				set |= 1u << nearest_weekday(y, m, n, dim);
		return set;
	}
	int wd1 = weekday(y, m, 1);
	for (int d = 1; d <= dim; d++) {
		int wd = (wd1 - 1 + d - 1) % 7 + 1;
		int k = (d - 1) / 7 + 1;
		if ((s->weekdays >> wd & 1) || ((s->last_weekdays >> wd & 1) && d + 7 > dim) ||
		    (s->nth_weekdays >> (8 * (k - 1) + wd) & 1))
			set |= 1u << d;
	}
	return set;
}

/* Move c to the start of the next day / month / year. */
static void next_day(struct civil *c)
{
	c->day++;
	c->hour = c->minute = 0;
}

static void next_month(struct civil *c)
{
	if (++c->month > 12) {
		c->month = 1;
		c->year++;
	}
	c->day = 1;
	c->hour = c->minute = 0;
}

/* One step: 1 when c matches (and is final), 0 after moving c forward. -1: never. */
static int cron_step(const struct sl_schedule *s, struct civil *c)
{
	int y = next_year(s->years, c->year);
	if (y < 0)
		return -1;
	if (y != c->year)
		*c = (struct civil){ y, 1, 1, 0, 0 };
	int m = next_bit(s->months, c->month, 12);
	if (m < 0) {
		*c = (struct civil){ c->year + 1, 1, 1, 0, 0 };
		return 0;
	}
	if (m != c->month)
		*c = (struct civil){ c->year, m, 1, 0, 0 };
	int d = next_bit(month_days(s, c->year, c->month), c->day, 31);
	if (d < 0) {
		next_month(c);
		return 0;
	}
	if (d != c->day)
		*c = (struct civil){ c->year, c->month, d, 0, 0 };
	int h = next_bit(s->hours, c->hour, 23);
	if (h < 0) {
		next_day(c);
		return 0;
	}
	if (h != c->hour) {
		c->hour = h;
		c->minute = 0;
	}
	int mi = next_bit(s->minutes, c->minute, 59);
	if (mi < 0) {
		c->hour++;
		c->minute = 0;
		return 0;
	}
	c->minute = mi;
	return 1;
}

static int64_t cron_next(const struct sl_schedule *s, int64_t after)
{
	int64_t first = days_from_civil(SL_SCHEDULE_YEAR_MIN, 1, 1) * DAY_S;
	int64_t end = days_from_civil(SL_SCHEDULE_YEAR_MAX + 1, 1, 1) * DAY_S;
	struct civil c;
	int rc;

	if (after >= end)
		return -1;
	int64_t t = after < first ? first : floor_div(after, 60) * 60 + 60;
	civil_from_time(t, &c);
	while ((rc = cron_step(s, &c)) == 0)
		;
	if (rc < 0)
		return -1;
	return days_from_civil(c.year, c.month, c.day) * DAY_S + c.hour * 3600 + c.minute * 60;
}

static int64_t rate_next(const struct sl_schedule *s, int64_t after)
{
	int64_t p = s->period_s, k, at;

	if (p <= 0)
		return -1;
	if (__builtin_sub_overflow(after, s->anchor, &k))
		return -1;
	k = floor_div(k, p) + 1;
	if (__builtin_mul_overflow(k, p, &at) || __builtin_add_overflow(at, s->anchor, &at))
		return -1;
	return at;
}

int64_t sl_schedule_next(const struct sl_schedule *s, int64_t after_unix_s)
{
	return s->kind == SL_SCHEDULE_RATE ? rate_next(s, after_unix_s) : cron_next(s, after_unix_s);
}
