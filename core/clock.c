/* Wall-clock helpers; see clock.h. */
#include "core/clock.h"

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
