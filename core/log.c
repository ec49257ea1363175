/* Log record formatting and output; see log.h. */
#include "core/log.h"
#include "core/clock.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum sl_log_level sl_log_threshold = SL_LOG_INFO;
static bool log_json;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const level_labels[] = { "ERROR", "WARN ", "INFO ", "DEBUG" };

void sl_log_configure(enum sl_log_level threshold, bool json)
{
	sl_log_threshold = threshold;
	log_json = json;
}

int sl_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static void write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void sl_log_emit(enum sl_log_level level, const char *tag, const char *fmt, ...)
{
	char when[40], msg[8192], line[16384];
	va_list ap;
	int n;

	sl_format_iso8601_ms(sl_wall_ms(), when, sizeof(when));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_json) {
		json_t *rec = json_pack("{s:s, s:s, s:s, s:s}", "time", when, "level",
					level_names[level], "tag", tag ? tag : "sluice", "msg", msg);
		char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
		n = snprintf(line, sizeof(line), "%s\n", text ? text : msg);
		free(text);
		json_decref(rec);
	} else {
		n = snprintf(line, sizeof(line), "[%s] %s %s %s\n", when, level_labels[level],
			     tag ? tag : "sluice", msg);
	}
	if (n > (int)sizeof(line) - 1) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	write_all(line, (size_t)n);
}
