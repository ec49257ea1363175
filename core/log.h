/* Logging: one line per record to stderr, as text or as JSON lines.
 *
 * Every record carries a level and a tag naming the instance it speaks for ("trigger:orders",
 * "function:hello", "source:web"). The level is checked before any argument is evaluated, so a
 * disabled debug line costs one comparison. Records are written with a single write(2) so lines
 * from several threads never interleave.
 *
 *   [2026-11-24T10:00:00.123Z] ERROR trigger:orders batch of 100 failed: Function.Timeout (attempt 3/5)
 *   {"time":"2026-11-24T10:00:00.123Z","level":"error","tag":"trigger:orders","msg":"batch of ..."}
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdbool.h>

enum sl_log_level { SL_LOG_ERROR = 0, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG };

extern enum sl_log_level sl_log_threshold;

/* Set the threshold and the output format (json = JSON lines). Call once, before threads start. */
void sl_log_configure(enum sl_log_level threshold, bool json);
/* Parse "error"|"warn"|"info"|"debug"; returns -1 on anything else. */
int sl_log_level_parse(const char *name);

void sl_log_emit(enum sl_log_level level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define sl_log(level, tag, ...) \
	do { if ((level) <= sl_log_threshold) sl_log_emit((level), (tag), __VA_ARGS__); } while (0)
#define sl_error(tag, ...) sl_log(SL_LOG_ERROR, (tag), __VA_ARGS__)
#define sl_warn(tag, ...)  sl_log(SL_LOG_WARN, (tag), __VA_ARGS__)
#define sl_info(tag, ...)  sl_log(SL_LOG_INFO, (tag), __VA_ARGS__)
#define sl_debug(tag, ...) sl_log(SL_LOG_DEBUG, (tag), __VA_ARGS__)

#endif
