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

#endif
