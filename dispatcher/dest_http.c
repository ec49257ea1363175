/* HTTP destination: each record POSTed as one compact JSON body; stored when the answer is 2xx.
 *
 * Calls. deliver() serializes the record into a job at the tail of `waiting`; jobs move, in
 * delivery order, to `running` while fewer than SL_DEST_HTTP_MAX_CALLS calls run (core/http_client:
 * libcurl on this loop, so nothing blocks). A call's answer ends its job: done(0) on a 2xx,
 * -EPROTO on any other status, the client's negative errno when there was no answer (refused,
 * timed out after timeout_ms, ...), and the next waiting job starts. There are no retries here:
 * the caller (the trigger) retries with its own backoff.
 *
 * Bounds. Waiting jobs hold their serialized record (a running call's copy is libcurl's); a record
 * that has to wait and would take the waiting bytes past SL_DEST_HTTP_MAX_QUEUED_BYTES is refused:
 * its job goes to `refused`, and a zero-timeout event ends those jobs with -ENOBUFS on the next
 * loop turn, since done is never called from inside deliver.
 *
 * Logging. One line per change of state, not per record: the first failure after a success (or
 * at start) warns with the URL and the reason, the first success after failures says so.
 *
 * destroy() frees the client, which drops the running calls without their callbacks, and ends
 * every job still held: refused ones with -ENOBUFS, the others with -ECANCELED.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/http_client.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/destination_kinds.h"

struct http_job {
	TAILQ_ENTRY(http_job) link;
	struct dest_http *h;
	char *body;                  /* serialized record while waiting, then NULL */
	size_t len;
	int status;                  /* what done gets if no answer ends the job: -ECANCELED, or
				      * -ENOBUFS once refused */
	sl_destination_done_cb done;
	void *arg;
};

TAILQ_HEAD(job_list, http_job);

struct dest_http {
	struct sl_http_client *client;
	char *url;
	char *tag;                   /* "destination:<name>" */
	char *content_type;          /* from the configured headers, or NULL: application/json */
	char **headers;              /* the others as "Name: value", NULL-terminated */
	long timeout_ms;
	struct job_list waiting, running, refused;
	unsigned n_running;
	size_t waiting_bytes;
	size_t max_waiting_bytes;    /* SL_DEST_HTTP_MAX_QUEUED_BYTES */
	struct event *refuse;        /* ends the refused jobs, on the loop */
	bool failing;                /* the last answer (or its absence) was a failure */
};

static void finish(struct http_job *j, int status)
{
	j->done(j->arg, status);
	free(j->body);
	free(j);
}

/* End every job of list with its own status. Jobs are taken off first, so a done callback that
 * delivers again adds to a list this call no longer walks. */
static void finish_all(struct job_list *list)
{
	struct job_list taken = TAILQ_HEAD_INITIALIZER(taken);
	struct http_job *j;

	TAILQ_CONCAT(&taken, list, link);
	while ((j = TAILQ_FIRST(&taken))) {
		TAILQ_REMOVE(&taken, j, link);
		finish(j, j->status);
	}
}

/* 0 for a 2xx, else the negative errno for done, with the reason for the log in why. */
static int outcome_of(const struct sl_http_response *res, char *why, size_t len)
{
	if (res->status >= 200 && res->status <= 299)
		return 0;
	if (res->status) {
		snprintf(why, len, "HTTP %ld", res->status);
		return -EPROTO;
	}
	snprintf(why, len, "%s", res->error);
	return res->err;
}

static void note_state(struct dest_http *h, int status, const char *why)
{
	if (status < 0 && !h->failing)
		sl_warn(h->tag, "POST %s: %s", h->url, why);
	else if (status == 0 && h->failing)
		sl_info(h->tag, "POST %s works again", h->url);
	h->failing = status < 0;
}

static void start_waiting(struct dest_http *h);

static void on_answer(void *arg, const struct sl_http_response *res)
{
	struct http_job *j = arg;
	struct dest_http *h = j->h;
	char why[256];
	int status = outcome_of(res, why, sizeof(why));

	note_state(h, status, why);
	TAILQ_REMOVE(&h->running, j, link);
	h->n_running--;
	start_waiting(h);
	finish(j, status);
}

static void start(struct dest_http *h, struct http_job *j)
{
	struct sl_http_request req = {
		.method = "POST",
		.url = h->url,
		.body = j->body,
		.body_len = j->len,
		.content_type = h->content_type,
		.headers = (const char *const *)h->headers,
		.timeout_ms = h->timeout_ms,
	};

	sl_http_call_start(h->client, &req, on_answer, j);
	free(j->body);               /* the call copied it */
	j->body = NULL;
	TAILQ_INSERT_TAIL(&h->running, j, link);
	h->n_running++;
}

/* Start waiting jobs, oldest first, while a call slot is free. */
static void start_waiting(struct dest_http *h)
{
	struct http_job *j;

	while (h->n_running < SL_DEST_HTTP_MAX_CALLS && (j = TAILQ_FIRST(&h->waiting))) {
		TAILQ_REMOVE(&h->waiting, j, link);
		h->waiting_bytes -= j->len;
		start(h, j);
	}
}

static void on_refused(evutil_socket_t fd, short what, void *arg)
{
	struct dest_http *h = arg;

	(void)fd;
	(void)what;
	finish_all(&h->refused);
}

static void http_deliver(void *ctx, const json_t *record, sl_destination_done_cb done, void *arg)
{
	struct dest_http *h = ctx;
	struct http_job *j = sl_xcalloc(1, sizeof(*j));

	j->h = h;
	j->body = sl_check_alloc(json_dumps(record, JSON_COMPACT));
	j->len = strlen(j->body);
	j->status = -ECANCELED;
	j->done = done;
	j->arg = arg;
	if (h->n_running == SL_DEST_HTTP_MAX_CALLS &&
	    h->waiting_bytes + j->len > h->max_waiting_bytes) {
		j->status = -ENOBUFS;
		TAILQ_INSERT_TAIL(&h->refused, j, link);
		event_active(h->refuse, EV_TIMEOUT, 0);
		return;
	}
	TAILQ_INSERT_TAIL(&h->waiting, j, link);
	h->waiting_bytes += j->len;
	start_waiting(h);
}

/* The configured "Name=value" headers as the client's "Name: value" lines; a Content-Type among
 * them becomes the body's content type instead (a second Content-Type header would be sent). */
static void take_headers(struct dest_http *h, char *const *config)
{
	size_t n = 0, k = 0;

	while (config && config[n])
		n++;
	h->headers = sl_xcalloc(n + 1, sizeof(*h->headers));
	for (size_t i = 0; i < n; i++) {
		size_t name_len = strcspn(config[i], "=");
		const char *value = config[i][name_len] ? config[i] + name_len + 1 : "";
		if (name_len == strlen("Content-Type") &&
		    strncasecmp(config[i], "Content-Type", name_len) == 0) {
			free(h->content_type);
			h->content_type = sl_xstrdup(value);
		} else {
			h->headers[k++] = sl_xasprintf("%.*s: %s", (int)name_len, config[i], value);
		}
	}
}

static int http_create(struct event_base *base, const struct sl_destination_config *cfg,
		       void **ctx)
{
	if (!cfg->url || cfg->timeout_ms <= 0) {
		sl_error("sluice", "destination %s: http needs a url and a timeout_ms above 0",
			 cfg->name);
		return -EINVAL;
	}
	struct dest_http *h = sl_xcalloc(1, sizeof(*h));

	h->url = sl_xstrdup(cfg->url);
	h->tag = sl_xasprintf("destination:%s", cfg->name ? cfg->name : "http");
	h->timeout_ms = cfg->timeout_ms;
	h->max_waiting_bytes = SL_DEST_HTTP_MAX_QUEUED_BYTES;
	take_headers(h, cfg->headers);
	TAILQ_INIT(&h->waiting);
	TAILQ_INIT(&h->running);
	TAILQ_INIT(&h->refused);
	h->client = sl_http_client_new(base);
	h->refuse = sl_check_alloc(event_new(base, -1, 0, on_refused, h));
	*ctx = h;
	return 0;
}

static void http_destroy(void *ctx)
{
	struct dest_http *h = ctx;

	sl_http_client_free(h->client);   /* drops the running calls' callbacks */
	finish_all(&h->refused);
	finish_all(&h->running);
	finish_all(&h->waiting);
	event_free(h->refuse);
	for (char **p = h->headers; *p; p++)
		free(*p);
	free(h->headers);
	free(h->content_type);
	free(h->tag);
	free(h->url);
	free(h);
}

const struct sl_destination_ops sl_dest_http_ops = {
	.kind = "http",
	.create = http_create,
	.deliver = http_deliver,
	.destroy = http_destroy,
};
