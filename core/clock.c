/* Wall-clock helpers; see clock.h. */
#include "core/clock.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

int64_t sl_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "YYYY-MM-DDTHH:MM:SS" into buf; returns its length. */
static size_t format_seconds(int64_t unix_s, char *buf, size_t len)
{
	time_t secs = (time_t)unix_s;
	struct tm tm;

	gmtime_r(&secs, &tm);
	return strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

void sl_format_iso8601_ms(int64_t unix_ms, char *buf, size_t len)
{
	int64_t secs = unix_ms / 1000;
	int ms = (int)(unix_ms % 1000);

	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	size_t n = format_seconds(secs, buf, len);
	snprintf(buf + n, len - n, ".%03dZ", ms);
}

void sl_format_iso8601_s(int64_t unix_s, char *buf, size_t len)
{
	size_t n = format_seconds(unix_s, buf, len);
	snprintf(buf + n, len - n, "Z");
}

/* n digits at *s as a number, advancing *s; -1 when they are not all digits. */
static int digits(const char **s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

static bool expect(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

int sl_parse_iso8601_ms(const char *s, int64_t *unix_ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, ms = 0, off = 0;

	if ((y = digits(&s, 4)) < 0 || !expect(&s, '-') || (mo = digits(&s, 2)) < 1 || mo > 12 ||
	    !expect(&s, '-') || (d = digits(&s, 2)) < 1 || d > mdays[mo - 1] ||
	    (*s != 'T' && *s != 't' && *s != ' ') || !*s++ || (h = digits(&s, 2)) < 0 || h > 23 ||
	    !expect(&s, ':') || (mi = digits(&s, 2)) < 0 || mi > 59 || !expect(&s, ':') ||
	    (sec = digits(&s, 2)) < 0 || sec > 59)
		return -1;
	if (*s == '.') {
		int scale = 100, n = 0;
		for (s++; isdigit((unsigned char)*s); s++, n++) {
			ms += (*s - '0') * scale;
			scale /= 10;
		}
		if (n == 0)
			return -1;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om;
		if ((oh = digits(&s, 2)) < 0 || oh > 23 || !expect(&s, ':') ||
		    (om = digits(&s, 2)) < 0 || om > 59)
			return -1;
		off = sign * (oh * 60 + om) * 60;
	} else {
		return -1;
	}
	if (*s)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	struct tm check;
	if (!gmtime_r(&t, &check) || check.tm_mday != d)   /* 29 February of a common year */
		return -1;
	*unix_ms = ((int64_t)t - off) * 1000 + ms;
	return 0;
}
