/* Wall-clock time and its ISO 8601 forms, as Sluice prints them everywhere (logs, failure
 * records, event times). Durations use CLOCK_MONOTONIC at their call sites instead. */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Unix time in milliseconds. */
int64_t sl_wall_ms(void);
/* "2026-11-24T10:00:00.123Z" (buf of at least 32 bytes). */
void sl_format_iso8601_ms(int64_t unix_ms, char *buf, size_t len);
/* "2026-11-24T10:00:00Z" (buf of at least 32 bytes). */
void sl_format_iso8601_s(int64_t unix_s, char *buf, size_t len);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (a space may replace the T) into Unix
 * ms. 0, or -1 when s is not such a time (the whole string must match, fields in range). */
int sl_parse_iso8601_ms(const char *s, int64_t *unix_ms);

#endif
