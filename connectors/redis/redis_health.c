/* Log lines and last error of a Redis feed; see redis_health.h. */
#include "connectors/redis/redis_health.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

void redis_health_failed(struct redis_health *h, int status, const char *fmt, ...)
{
	char when[40];
	va_list ap;

	if (status == h->state)
		return;
	h->state = status;
	va_start(ap, fmt);
	char *message = sl_xvasprintf(fmt, ap);
	va_end(ap);
	if (status == -EACCES || status == -EPROTO)
		sl_error(h->tag, "redis %s: %s", h->address, message);
	else
		sl_warn(h->tag, "redis %s: %s; retrying", h->address, message);
	sl_format_iso8601_ms(sl_wall_ms(), when, sizeof(when));
	free(h->last_error);
	h->last_error = sl_xasprintf("%s redis %s: %s", when, h->address, message);
	free(message);
}

void redis_health_ok(struct redis_health *h)
{
	if (h->state == 0)
		return;
	h->state = 0;
	sl_info(h->tag, "redis %s: working again", h->address);
}

json_t *redis_health_last_error(const struct redis_health *h)
{
	return h->last_error ? json_string(h->last_error) : json_null();
}

void redis_health_release(struct redis_health *h)
{
	free(h->last_error);
	h->last_error = NULL;
}
