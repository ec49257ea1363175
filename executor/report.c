/* Executor: request ids, results, and Lambda's platform log lines. See pool.h.
 *
 * Lines, under the tag "function:<name>" (fields separated by TABs, as Lambda writes them):
 *   START RequestId: <id> Version: $LATEST
 *   [<ISO-8601 time> <id> Task timed out after 3.00 seconds]            (timeout)
 *   [RequestId: <id> Error: Runtime exited with error: exit status 1]   (runtime exit,
 *   [Runtime.ExitError]                                                  Lambda's old format)
 *   END RequestId: <id>
 *   REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
 *     Max Memory Used: 9 MB\t[Init Duration: 3.21 ms\t][Status: timeout | Status: error\t
 *     Error Type: <type>]
 *   INIT_REPORT Init Duration: 0.79 ms\tPhase: init\tStatus: error\tError Type: <type>
 * Billed Duration is the duration rounded up to the millisecond, the init included when the
 * line carries one (Lambda bills the init of on-demand environments).
 */
#include "executor/pool.h"
#include "core/clock.h"

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void sl_new_request_id(struct sl_executor *ex, char out[40])
{
	static const char hex[] = "0123456789abcdef";

	if (ex->rnd_used + 16 > sizeof(ex->rnd)) {
		if (getrandom(ex->rnd, sizeof(ex->rnd), 0) != (ssize_t)sizeof(ex->rnd))
			abort();   /* the kernel's CSPRNG does not fail once initialised */
		ex->rnd_used = 0;
	}
	unsigned char *b = ex->rnd + ex->rnd_used;
	ex->rnd_used += 16;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);  /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = '\0';
}

double sl_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

/* Append line + '\n', keeping only the last SL_LOG_TAIL_BYTES bytes. */
static void tail_append(struct sl_log_tail *t, const char *line, size_t n)
{
	if (n + 1 >= SL_LOG_TAIL_BYTES) {
		memcpy(t->buf, line + n + 1 - SL_LOG_TAIL_BYTES, SL_LOG_TAIL_BYTES - 1);
		t->buf[SL_LOG_TAIL_BYTES - 1] = '\n';
		t->len = SL_LOG_TAIL_BYTES;
		return;
	}
	if (t->len + n + 1 > SL_LOG_TAIL_BYTES) {
		size_t drop = t->len + n + 1 - SL_LOG_TAIL_BYTES;
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, line, n);
	t->buf[t->len + n] = '\n';
	t->len += n + 1;
}

void sl_inv_log(const struct sl_pool *pool, struct sl_invocation *inv, const char *fmt, ...)
{
	char line[8192];
	va_list ap;

	if (!(inv && inv->log_tail) && SL_LOG_INFO > sl_log_threshold)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sl_info(pool->tag, "%s", line);
	if (inv && inv->log_tail)
		tail_append(inv->log_tail, line, (size_t)n < sizeof(line) ? (size_t)n
								  : sizeof(line) - 1);
}

void sl_log_start(const struct sl_pool *pool, struct sl_invocation *inv)
{
	sl_inv_log(pool, inv, "START RequestId: %s Version: $LATEST", inv->id);
}

/* The lines Lambda writes before END when the runtime did not answer: for a timeout
 * "<ISO-8601 time> <id> Task timed out after 3.00 seconds", for a crash the error message and
 * "Runtime.ExitError". */
void sl_log_failure(const struct sl_pool *pool, struct sl_invocation *inv,
		    enum sl_invoke_status status, const char *payload, size_t len)
{
	if (status == SL_INVOKE_TIMEOUT) {
		char when[40];
		sl_format_iso8601_ms(sl_wall_ms(), when, sizeof(when));
		sl_inv_log(pool, inv, "%s %s Task timed out after %.2f seconds", when, inv->id,
			(double)pool->fn->timeout_s);
	} else if (status == SL_INVOKE_RUNTIME_EXIT) {
		json_t *err = json_loadb(payload, len, 0, NULL);
		const char *msg = json_string_value(json_object_get(err, "errorMessage"));
		if (msg)
			sl_inv_log(pool, inv, "%s", msg);
		sl_inv_log(pool, inv, "Runtime.ExitError");
		json_decref(err);
	}
}

void sl_log_report(const struct sl_pool *pool, struct sl_invocation *inv, double duration_ms,
		   double init_ms, long max_rss_kb, enum sl_invoke_status status,
		   const char *error_type)
{
	char init[64] = "", tail[160] = "";
	/* in hundredths, as printed, so the line adds up: ceil(Duration + Init Duration) */
	long long hundredths = (long long)(duration_ms * 100 + 0.5) +
			       (init_ms >= 0 ? (long long)(init_ms * 100 + 0.5) : 0);
	long long billed = (hundredths + 99) / 100;

	if (init_ms >= 0)
		snprintf(init, sizeof(init), "Init Duration: %.2f ms\t", init_ms);
	if (status == SL_INVOKE_TIMEOUT)
		snprintf(tail, sizeof(tail), "Status: timeout");
	else if (error_type)
		snprintf(tail, sizeof(tail), "Status: error\tError Type: %s", error_type);
	sl_inv_log(pool, inv, "END RequestId: %s", inv->id);
	sl_inv_log(pool, inv, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\t"
		"Memory Size: %d MB\tMax Memory Used: %ld MB\t%s%s", inv->id, duration_ms,
		billed, pool->fn->memory_mb, (max_rss_kb + 1023) / 1024, init, tail);
}

void sl_log_init_report(const struct sl_pool *pool, double init_ms, bool timeout,
			const char *error_type)
{
	if (timeout)
		sl_info(pool->tag, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: timeout",
			init_ms);
	else
		sl_info(pool->tag, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\t"
			"Error Type: %s", init_ms, error_type);
}

char *sl_error_json(const char *error_type, const char *id, const char *msg, size_t *len)
{
	char *text = sl_xasprintf("RequestId: %s Error: %s", id, msg);
	json_t *err = sl_check_alloc(json_pack("{s:s, s:s}", "errorType", error_type,
					       "errorMessage", text));
	char *out = sl_check_alloc(json_dumps(err, JSON_COMPACT));

	json_decref(err);
	free(text);
	*len = strlen(out);
	return out;
}

void sl_inv_finish(struct sl_invocation *inv, enum sl_invoke_status status,
		   const char *error_type, const char *payload, size_t len,
		   const char *content_type, double duration_ms)
{
	struct sl_invoke_result res = {
		.status = status,
		.request_id = inv->id,
		.error_type = error_type,
		.payload = payload ? payload : "",
		.payload_len = payload ? len : 0,
		.content_type = content_type ? content_type : "application/json",
		.duration_ms = duration_ms,
		.log_tail = inv->log_tail ? inv->log_tail->buf : NULL,
		.log_tail_len = inv->log_tail ? inv->log_tail->len : 0,
	};

	inv->pool->outcomes[status]++;
	inv->cb(inv->arg, &res);
	sl_inv_free(inv);
}

void sl_inv_free(struct sl_invocation *inv)
{
	free(inv->log_tail);
	free(inv->d_payload);
	free(inv);
}

void sl_inv_defer(struct sl_invocation *inv, enum sl_invoke_status status,
		  const char *error_type, char *payload_owned, size_t len)
{
	struct sl_executor *ex = inv->pool->ex;

	inv->d_status = status;
	inv->d_error_type = error_type;
	inv->d_payload = payload_owned;
	inv->d_len = len;
	TAILQ_INSERT_TAIL(&ex->deferred, inv, link);
	event_active(ex->defer_ev, EV_TIMEOUT, 0);
}
