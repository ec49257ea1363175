/* What a Redis feed says about its server: one log line per change of state, not per retry,
 * and the last error for `sluice status`.
 *
 * Lines are tagged with the trigger and name the server:
 *   [trigger:orders] redis 127.0.0.1:6379: authentication failed: WRONGPASS invalid ...
 *   [trigger:orders] redis 127.0.0.1:6379: Connection refused; retrying
 *   [trigger:orders] redis 127.0.0.1:6379: working again
 * Refusals that need an operator (-EACCES: authentication; -EPROTO: an error reply such as
 * WRONGTYPE on the trigger's key) are errors; lost connections are warnings, since the feed
 * reconnects by itself and nothing acknowledged is lost.
 */
#ifndef SL_REDIS_HEALTH_H
#define SL_REDIS_HEALTH_H

#include <jansson.h>

struct redis_health {
	const char *tag;             /* borrowed: "trigger:<name>" */
	const char *address;         /* borrowed */
	int state;                   /* 0 working, else the status of the failure last logged */
	char *last_error;            /* "<ISO time> <message>" of the last failure, or NULL */
};

/* Log "redis <address>: <message>" unless the state already is status (< 0). */
void redis_health_failed(struct redis_health *h, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Working: log once when it was failing. */
void redis_health_ok(struct redis_health *h);
/* last_error as a JSON string, or null. New reference. */
json_t *redis_health_last_error(const struct redis_health *h);
void redis_health_release(struct redis_health *h);

#endif
