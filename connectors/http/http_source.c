/* The http source: POST /events/{source} accepts events and answers 202 once they are durable.
 *
 * Body modes (by Content-Type, CloudEvents HTTP binding):
 *   application/cloudevents+json        one structured event
 *   application/cloudevents-batch+json  a JSON array of structured events
 *   any type with a ce-specversion header   binary mode: ce-* headers are the attributes, the
 *                                        body is the data (JSON types parsed, others base64)
 *   application/json (or none)          a plain JSON body: the data of one new event
 *   anything else                       the bytes of one new event, with that datacontenttype
 * The whole request is validated before anything is written: one bad event rejects the request.
 * Accepted events are appended as one spool record; the request is answered when the spool's
 * durable watermark passes it: 202 {"accepted":N,"ids":[...]}. Errors are JSON:
 * 400 malformed, 405 not POST, 413 too large, 503 + Retry-After when the spool is full.
 */
#include "connectors/connector.h"
#include "connectors/http/http_source.h"
#include "core/clock.h"

#include "config/config.h"
#include "connectors/http/http_body.h"
#include "connectors/spool_record.h"
#include "core/event.h"
#include "core/http_server.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/spool.h"

#include <errno.h>
#include <stdbool.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#define RETRY_AFTER_S "1"

/* An acknowledgement waiting for the spool: an HTTP request to answer, or (events accepted by
 * sl_http_source_accept) a callback. */
struct pending_ack {
	TAILQ_ENTRY(pending_ack) link;
	struct evhttp_request *req;
	uint64_t seq;
	json_t *body;      /* the 202 body to send */
	void (*done)(void *arg, int status);
	void *arg;
};

struct http_source {
	TAILQ_HEAD(, pending_ack) pending;   /* in seq order */
	size_t n_pending;
	int stopped;
};

static json_t *accepted_body(const struct sl_source *src, struct sl_event **events, size_t n,
			     uint64_t seq)
{
	json_t *ids = sl_check_alloc(json_array());
	for (size_t i = 0; i < n; i++) {
		char *derived = events[i]->id ? NULL : sl_spool_record_event_id(src->cfg->name, seq, i);
		json_array_append_new(ids, json_string(events[i]->id ? events[i]->id : derived));
		free(derived);
	}
	return json_pack("{s:I, s:o}", "accepted", (json_int_t)n, "ids", ids);
}

static void reply_spool_error(struct sl_source *src, struct evhttp_request *req, int rc)
{
	if (rc == -ENOSPC) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
				  RETRY_AFTER_S);
		sl_http_reply_error(req, 503, "SpoolFull",
				    "the spool of source %s is full (%llu bytes); retry later",
				    src->cfg->name, (unsigned long long)sl_spool_bytes(src->spool));
	} else if (rc == -EMSGSIZE) {
		sl_http_reply_error(req, 413, "RequestEntityTooLarge",
				    "the events of this request exceed the spool record limit of %u bytes",
				    SL_SPOOL_MAX_RECORD);
	} else {
		sl_warn(src->tag, "spool append failed: %s", strerror(-rc));
		sl_http_reply_error(req, 500, "SpoolError", "cannot store the events: %s",
				    strerror(-rc));
	}
}

static void queue_ack(struct http_source *hs, struct pending_ack *ack)
{
	TAILQ_INSERT_TAIL(&hs->pending, ack, link);
	hs->n_pending++;
}

/* Answer an acknowledgement: 202 / done(0) when durable, else 503 / done(-ESHUTDOWN). */
static void finish_ack(struct pending_ack *ack, bool durable)
{
	if (ack->done)
		ack->done(ack->arg, durable ? 0 : -ESHUTDOWN);
	else if (durable)
		sl_http_reply_json(ack->req, 202, ack->body);
	else
		sl_http_reply_error(ack->req, 503, "ShuttingDown", "Sluice stopped before the "
				    "events were durable; send them again");
	if (!durable)
		json_decref(ack->body);
	free(ack);
}

int sl_http_source_accept(struct sl_source *src, struct sl_event *ev,
			  void (*done)(void *arg, int status), void *arg)
{
	struct http_source *hs = src->ctx;
	uint64_t seq;

	if (hs->stopped)
		return -ESHUTDOWN;
	int rc = sl_source_spool_batch(src, &ev, 1, sl_wall_ms(), &seq);
	if (rc < 0)
		return rc;
	struct pending_ack *ack = sl_xcalloc(1, sizeof(*ack));
	ack->seq = seq;
	ack->done = done;
	ack->arg = arg;
	queue_ack(hs, ack);
	return 0;
}

/* Spool the parsed events and queue the acknowledgement until they are durable. */
static void accept_events(struct sl_source *src, struct evhttp_request *req,
			  struct sl_event **events, size_t n)
{
	struct http_source *hs = src->ctx;
	uint64_t seq;

	if (n == 0) {
		sl_http_reply_json(req, 202, json_pack("{s:i, s:[]}", "accepted", 0, "ids"));
		return;
	}
	int rc = sl_source_spool_batch(src, events, n, sl_wall_ms(), &seq);
	if (rc < 0) {
		reply_spool_error(src, req, rc);
		return;
	}
	struct pending_ack *ack = sl_xcalloc(1, sizeof(*ack));
	ack->req = req;
	ack->seq = seq;
	ack->body = accepted_body(src, events, n, seq);
	queue_ack(hs, ack);
}

static void handle_http(struct sl_source *src, struct evhttp_request *req)
{
	struct http_source *hs = src->ctx;
	struct sl_http_body_error error = { 0 };
	struct sl_event **events = NULL;
	size_t n = 0;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		sl_http_reply_error(req, 405, "MethodNotAllowed", "use POST to send events");
		return;
	}
	if (hs->stopped) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
				  RETRY_AFTER_S);
		sl_http_reply_error(req, 503, "ShuttingDown", "Sluice is shutting down");
		return;
	}
	if (sl_http_body_parse(src->cfg, req, &events, &n, &error) < 0) {
		sl_http_reply_error(req, error.status, error.type, "%s", error.message);
		return;
	}
	accept_events(src, req, events, n);
	for (size_t i = 0; i < n; i++)
		sl_event_unref(events[i]);
	free(events);
}

static void http_durable(struct sl_source *src, uint64_t durable_seq)
{
	struct http_source *hs = src->ctx;
	struct pending_ack *ack;

	while ((ack = TAILQ_FIRST(&hs->pending)) && ack->seq <= durable_seq) {
		TAILQ_REMOVE(&hs->pending, ack, link);
		hs->n_pending--;
		finish_ack(ack, true);
	}
}

static size_t http_pending(const struct sl_source *src)
{
	const struct http_source *hs = src->ctx;
	return hs->n_pending;
}

static int http_create(struct sl_source *src)
{
	struct http_source *hs = sl_xcalloc(1, sizeof(*hs));
	TAILQ_INIT(&hs->pending);
	src->ctx = hs;
	return 0;
}

static int http_start(struct sl_source *src)
{
	(void)src;
	return 0;
}

static void http_stop(struct sl_source *src)
{
	struct http_source *hs = src->ctx;
	hs->stopped = 1;
}

/* Acknowledgements never sent are answered 503 (or -ESHUTDOWN): the client retries; nothing it
 * was told is lost. */
static void http_destroy(struct sl_source *src)
{
	struct http_source *hs = src->ctx;
	struct pending_ack *ack;

	while ((ack = TAILQ_FIRST(&hs->pending))) {
		TAILQ_REMOVE(&hs->pending, ack, link);
		finish_ack(ack, false);
	}
	free(hs);
}

const struct sl_connector_ops sl_http_connector = {
	.kind = "http",
	.create = http_create,
	.start = http_start,
	.stop = http_stop,
	.destroy = http_destroy,
	.handle_http = handle_http,
	.durable = http_durable,
	.pending = http_pending,
};
