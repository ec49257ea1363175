/* Schedule expressions as AWS EventBridge writes them, and their next fire time (UTC).
 *
 * rate(N unit): N is a whole number >= 1; unit is minute|hour|day when N = 1 and
 * minutes|hours|days when N > 1 (AWS rejects the other spelling, so do we). A rate schedule fires
 * at anchor + k * period for every integer k. sl_schedule_parse() sets anchor to 0, the Unix
 * epoch, so rate(5 minutes) fires at :00, :05, :10 ... UTC and rate(1 day) at 00:00 UTC, the
 * same instants after every restart (EventBridge anchors at the rule's creation; a caller that
 * wants that sets `anchor` after parsing).
 *
 * cron(minutes hours day-of-month month day-of-week year): six fields, fire times at second 0.
 *   minutes 0-59, hours 0-23, month 1-12 or JAN-DEC, year 1970-2199: numbers, `*`, lists `a,b`,
 *     ranges `a-b` (a > b wraps around, e.g. 22-2; not in year), steps `a/n`, `*`/n, `a-b/n`.
 *   day-of-month 1-31: as above, plus `L` (last day of the month), `nW` (the weekday nearest day
 *     n, never leaving the month), `LW` (last weekday of the month), `?`.
 *   day-of-week 1-7 with 1 = SUN, or SUN-SAT: numbers, names, `*`, lists, ranges (FRI-MON
 *     wraps), `L` (= 7, Saturday), `dL` (last d of the month, e.g. 6L = last Friday), `d#k` (k-th d
 *     of the month, 1 <= k <= 5, e.g. 3#2 = second Tuesday), `?`. No steps (AWS allows none).
 *   Exactly one of day-of-month and day-of-week must be `?` (AWS's rule). Names are
 *   case-insensitive. List elements of every kind may be combined (`1,15,L`).
 *
 * Ownership: struct sl_schedule is a plain value; nothing to free.
 */
#ifndef SL_CRON_H
#define SL_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_SCHEDULE_YEAR_MIN 1970
#define SL_SCHEDULE_YEAR_MAX 2199

enum sl_schedule_kind { SL_SCHEDULE_RATE = 0, SL_SCHEDULE_CRON };

struct sl_schedule {
	enum sl_schedule_kind kind;
	/* rate */
	int64_t period_s;
	int64_t anchor;               /* Unix seconds; fires at anchor + k * period_s */
	/* cron: bit n stands for value n (year: bit n for year 1970 + n) */
	uint64_t minutes;
	uint32_t hours;
	uint32_t days;                /* plain day-of-month values 1-31 */
	uint32_t near_weekdays;       /* nW */
	bool last_day;                /* L */
	bool last_weekday;            /* LW */
	bool by_weekday;              /* day-of-month is ?: days come from day-of-week */
	uint16_t months;
	uint8_t weekdays;             /* 1 = SUN .. 7 = SAT */
	uint8_t last_weekdays;        /* dL */
	uint64_t nth_weekdays;        /* d#k: bit 8 * (k - 1) + d */
	uint64_t years[4];
};

/* Parse expr into *out. 0, or -EINVAL with a message in err naming the field and what was
 * expected, e.g.
 *   cron(0 12 ? * 8 *): day-of-week: expected 1-7, SUN-SAT, L, # or ?, got "8"   */
int sl_schedule_parse(const char *expr, struct sl_schedule *out, char *err, size_t errlen);

/* The first fire time strictly after after_unix_s (Unix seconds, UTC), or -1 if there is none
 * (cron: none up to the end of 2199; rate: beyond the int64 range). Computed field by field,
 * never minute by minute. */
int64_t sl_schedule_next(const struct sl_schedule *s, int64_t after_unix_s);

#endif
