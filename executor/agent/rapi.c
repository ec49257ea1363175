/* sluice-init: the Lambda Runtime API 2018-06-01 served to the runtime. See agent.h.
 *
 * Routes (anything after '?' is ignored):
 *   GET  /2018-06-01/runtime/invocation/next          held until an invocation arrives
 *   POST /2018-06-01/runtime/invocation/{id}/response 202 {"status":"OK"}
 *   POST /2018-06-01/runtime/invocation/{id}/error    202, Lambda-Runtime-Function-Error-Type
 *   POST /2018-06-01/runtime/init/error               202, then the runtime is killed
 *   GET  /2018-06-01/ping                             200 pong
 * Errors use the emulator's bodies: 400 InvalidRequestID, 403 InvalidStateTransition,
 * 413 RequestEntityTooLarge (the invocation then fails with Function.ResponseSizeTooLarge).
 */
#include "executor/agent/agent.h"

#include "core/log.h"
#include "core/mem.h"
#include "executor/channel.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PREFIX "/2018-06-01"
#define MAX_BODY (64u * 1024 * 1024)  /* evhttp drops the connection beyond this */
#define ERROR_TYPE_HEADER "Lambda-Runtime-Function-Error-Type"
#define TOO_LARGE_BODY "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\"," \
		       "\"errorType\":\"RequestEntityTooLarge\"}"
#define TOO_LARGE_ERROR "{\"errorMessage\":\"Response payload size exceeded maximum allowed " \
			"payload size (6291556 bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}"

static const char *const state_names[] = {
	[SL_RT_STARTED] = "Started",
	[SL_RT_READY] = "Ready",
	[SL_RT_RUNNING] = "Running",
	[SL_RT_RESPONSE_SENT] = "RuntimeResponseSentState",
	[SL_RT_INIT_ERROR] = "InitError",
	[SL_RT_GONE] = "Ready",
};

static void reply(struct sl_agent *a, struct evhttp_request *req, int code, const char *reason,
		  const char *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evbuffer_add(a->reply, body, strlen(body));
	evhttp_send_reply(req, code, reason, a->reply);
}

static void reply_invalid_id(struct sl_agent *a, struct evhttp_request *req)
{
	reply(a, req, 400, "Bad Request",
	      "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}");
}

static void reply_forbidden(struct sl_agent *a, struct evhttp_request *req, const char *to)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"errorMessage\":\"State transition from %s to %s failed for runtime. Error: State "
		 "transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}",
		 state_names[a->state], to);
	reply(a, req, 403, "Forbidden", body);
}

static void reply_accepted(struct sl_agent *a, struct evhttp_request *req)
{
	reply(a, req, 202, "Accepted", "{\"status\":\"OK\"}");
}

static void reply_pong(struct sl_agent *a, struct evhttp_request *req)
{
	evbuffer_add(a->reply, "pong", 4);
	evhttp_send_reply(req, 200, "OK", a->reply);
}

/* The emulator's GetValidRuntimeOrFunctionErrorType: ^(Runtime|Function)\.[A-Z][a-zA-Z]+$ is
 * kept, anything else becomes Function.Unknown or Runtime.Unknown. */
static const char *normalise_error_type(const char *t)
{
	const char *p = NULL;

	if (t && strncmp(t, "Runtime.", 8) == 0)
		p = t + 8;
	else if (t && strncmp(t, "Function.", 9) == 0)
		p = t + 9;
	if (p && *p >= 'A' && *p <= 'Z' && p[1]) {
		const char *q = p + 1;
		while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
			q++;
		if (*q == '\0')
			return t;
	}
	return t && strncmp(t, "Function.", 9) == 0 ? "Function.Unknown" : "Runtime.Unknown";
}

static const char *req_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* Small answers must not wait for Nagle; once per connection (runtimes keep theirs open). */
static void set_nodelay(struct sl_agent *a, struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);

	if (!c || c == a->nodelay_conn)
		return;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c);
	int fd = bev ? (int)bufferevent_getfd(bev) : -1, one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	a->nodelay_conn = c;
}

static void add_meta_header(struct evkeyvalq *h, const json_t *meta, const char *key,
			    const char *name)
{
	const char *v = json_string_value(json_object_get(meta, key));

	if (v && *v)
		evhttp_add_header(h, name, v);
}

void sl_agent_rapi_deliver(struct sl_agent *a)
{
	char deadline[32];

	if (!a->parked || !a->inv_active || a->inv_delivered)
		return;
	struct evhttp_request *req = a->parked;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *ct = json_string_value(json_object_get(a->inv_meta, "content_type"));

	a->parked = NULL;
	snprintf(deadline, sizeof(deadline), "%lld", a->inv_deadline_ms);
	evhttp_add_header(h, "Lambda-Runtime-Aws-Request-Id", a->inv_id);
	evhttp_add_header(h, "Lambda-Runtime-Deadline-Ms", deadline);
	add_meta_header(h, a->inv_meta, "arn", "Lambda-Runtime-Invoked-Function-Arn");
	add_meta_header(h, a->inv_meta, "trace_id", "Lambda-Runtime-Trace-Id");
	add_meta_header(h, a->inv_meta, "client_context", "Lambda-Runtime-Client-Context");
	evhttp_add_header(h, "Content-Type", ct && *ct ? ct : "application/json");
	evhttp_send_reply(req, 200, "OK", a->inv_event);
	a->inv_delivered = true;
	a->state = SL_RT_RUNNING;
}

static void on_next(struct sl_agent *a, struct evhttp_request *req)
{
	switch (a->state) {
	case SL_RT_STARTED:
		evtimer_del(a->init_timer);
		sl_agent_send(a, SL_FRAME_INIT_DONE,
			      sl_check_alloc(json_pack("{s:f, s:i}", "init_ms",
						       sl_agent_ms_since_spawn(a), "pid",
						       (int)a->pid)), NULL, 0);
		a->state = SL_RT_READY;
		break;
	case SL_RT_RESPONSE_SENT:
		a->state = SL_RT_READY;
		break;
	case SL_RT_READY:
	case SL_RT_RUNNING:
		break;
	default:
		reply_forbidden(a, req, "Ready");
		return;
	}
	if (a->parked)   /* a second /next replaces the first (its client is likely gone) */
		reply_forbidden(a, a->parked, "Ready");
	a->parked = req;
	sl_agent_rapi_deliver(a);
}

/* May the runtime answer invocation `id` now? Replies with the error when not. */
static bool may_answer(struct sl_agent *a, struct evhttp_request *req, const char *id,
		       size_t idlen, const char *to)
{
	if (a->state != SL_RT_RUNNING || !a->inv_active) {
		if (a->last_id[0] && strlen(a->last_id) == idlen && !memcmp(a->last_id, id, idlen))
			reply_invalid_id(a, req);  /* already answered */
		else
			reply_forbidden(a, req, to);
		return false;
	}
	if (strlen(a->inv_id) != idlen || memcmp(a->inv_id, id, idlen) != 0) {
		reply_invalid_id(a, req);
		return false;
	}
	return true;
}

static bool reject_too_large(struct sl_agent *a, struct evhttp_request *req, size_t len)
{
	if (len <= SL_RUNTIME_MAX_PAYLOAD)
		return false;
	sl_agent_logs_flush(a);
	sl_agent_fail_invocation(a, "too_large", "Function.ResponseSizeTooLarge", TOO_LARGE_ERROR,
				 strlen(TOO_LARGE_ERROR));
	a->state = SL_RT_RESPONSE_SENT;
	reply(a, req, 413, "Payload Too Large", TOO_LARGE_BODY);
	return true;
}

static void on_response(struct sl_agent *a, struct evhttp_request *req, const char *id,
			size_t idlen)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	const char *mode = req_header(req, "Lambda-Runtime-Function-Response-Mode");
	const char *ct = req_header(req, "Content-Type");

	if (!may_answer(a, req, id, idlen, "InvocationResponse") ||
	    reject_too_large(a, req, evbuffer_get_length(body)))
		return;
	if (mode && strcmp(mode, "streaming") != 0) {
		sl_agent_logs_flush(a);
		sl_agent_fail_invocation_msg(a, "protocol", "Runtime.InvalidResponseModeHeader",
					     "Invalid function response mode");
		a->state = SL_RT_RESPONSE_SENT;
		reply(a, req, 400, "Bad Request", "{\"errorMessage\":\"Invalid function response "
		      "mode\",\"errorType\":\"InvalidFunctionResponseMode\"}");
		return;
	}
	sl_agent_logs_flush(a);
	json_t *meta = json_pack("{s:s, s:I, s:s}", "id", a->inv_id, "max_rss_kb",
				 (json_int_t)sl_agent_runtime_rss_kb(a), "content_type",
				 ct ? ct : "application/json");
	sl_agent_send_buffer(a, SL_FRAME_RESPONSE, sl_check_alloc(meta), body);
	sl_agent_end_invocation(a);
	a->state = SL_RT_RESPONSE_SENT;
	reply_accepted(a, req);
}

/* The error body, or one built from the error type when the runtime sent none. */
static void ensure_error_body(struct evbuffer *body, const char *type)
{
	if (evbuffer_get_length(body) > 0)
		return;
	json_t *err = sl_check_alloc(json_pack("{s:s, s:s}", "errorMessage", "", "errorType",
					       type));
	char *text = sl_check_alloc(json_dumps(err, JSON_COMPACT));
	evbuffer_add(body, text, strlen(text));
	free(text);
	json_decref(err);
}

static void on_error(struct sl_agent *a, struct evhttp_request *req, const char *id,
		     size_t idlen)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	const char *type = normalise_error_type(req_header(req, ERROR_TYPE_HEADER));

	if (!may_answer(a, req, id, idlen, "InvocationErrorResponse") ||
	    reject_too_large(a, req, evbuffer_get_length(body)))
		return;
	sl_agent_logs_flush(a);
	ensure_error_body(body, type);
	json_t *meta = json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", a->inv_id, "cause", "handler",
				 "error_type", type, "max_rss_kb",
				 (json_int_t)sl_agent_runtime_rss_kb(a), "content_type",
				 "application/json");
	sl_agent_send_buffer(a, SL_FRAME_ERROR, sl_check_alloc(meta), body);
	sl_agent_end_invocation(a);
	a->state = SL_RT_RESPONSE_SENT;
	reply_accepted(a, req);
}

static void on_init_error(struct sl_agent *a, struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	const char *type = normalise_error_type(req_header(req, ERROR_TYPE_HEADER));

	if (a->state != SL_RT_STARTED) {
		reply_forbidden(a, req, "InitError");
		return;
	}
	evtimer_del(a->init_timer);
	sl_agent_logs_flush(a);
	if (evbuffer_get_length(body) > SL_RUNTIME_MAX_PAYLOAD)
		evbuffer_drain(body, evbuffer_get_length(body));
	ensure_error_body(body, type);
	json_t *meta = json_pack("{s:s, s:s, s:f}", "cause", "handler", "error_type", type,
				 "init_ms", sl_agent_ms_since_spawn(a));
	sl_agent_send_buffer(a, SL_FRAME_INIT_ERROR, sl_check_alloc(meta), body);
	a->state = SL_RT_INIT_ERROR;
	reply_accepted(a, req);
	sl_agent_runtime_kill(a);
	a->exiting = true;
}

static bool path_is(const char *p, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(p, want, len) == 0;
}

/* /runtime/invocation/{id}/response|error */
static void route_invocation(struct sl_agent *a, struct evhttp_request *req, const char *p,
			     size_t len)
{
	const char *slash = memrchr(p, '/', len);

	if (!slash || slash == p || evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_send_error(req, slash ? 405 : 404, NULL);
		return;
	}
	size_t idlen = (size_t)(slash - p);
	if (path_is(slash + 1, len - idlen - 1, "response"))
		on_response(a, req, p, idlen);
	else if (path_is(slash + 1, len - idlen - 1, "error"))
		on_error(a, req, p, idlen);
	else
		evhttp_send_error(req, 404, NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct sl_agent *a = arg;
	const char *uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	size_t len = strcspn(uri, "?"), plen = strlen(PREFIX);
	static const char inv[] = "/runtime/invocation/";

	set_nodelay(a, req);
	if (len < plen || memcmp(uri, PREFIX, plen) != 0) {
		evhttp_send_error(req, 404, NULL);
		return;
	}
	const char *p = uri + plen;
	len -= plen;
	if (path_is(p, len, "/runtime/invocation/next") && cmd == EVHTTP_REQ_GET)
		on_next(a, req);
	else if (path_is(p, len, "/runtime/init/error") && cmd == EVHTTP_REQ_POST)
		on_init_error(a, req);
	else if (path_is(p, len, "/ping") && cmd == EVHTTP_REQ_GET)
		reply_pong(a, req);
	else if (len > sizeof(inv) - 1 && memcmp(p, inv, sizeof(inv) - 1) == 0 &&
		 !path_is(p, len, "/runtime/invocation/next"))
		route_invocation(a, req, p + sizeof(inv) - 1, len - (sizeof(inv) - 1));
	else if (path_is(p, len, "/runtime/invocation/next") ||
		 path_is(p, len, "/runtime/init/error") || path_is(p, len, "/ping"))
		evhttp_send_error(req, 405, NULL);
	else
		evhttp_send_error(req, 404, NULL);
}

int sl_agent_rapi_start(struct sl_agent *a)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);

	a->reply = sl_check_alloc(evbuffer_new());
	a->http = sl_check_alloc(evhttp_new(a->base));
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_max_body_size(a->http, MAX_BODY);
	evhttp_set_timeout(a->http, 7 * 24 * 3600);  /* /next is held while the sandbox idles */
	evhttp_set_gencb(a->http, on_request, a);
	struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(a->http, "127.0.0.1",
								      (ev_uint16_t)a->port);
	if (!s)
		return -EADDRINUSE;
	if (getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &slen) != 0)
		return -errno;
	a->port = ntohs(sin.sin_port);
	return 0;
}

void sl_agent_rapi_stop(struct sl_agent *a)
{
	if (a->parked) {
		evhttp_send_error(a->parked, 500, NULL);
		a->parked = NULL;
	}
	if (a->http)
		evhttp_free(a->http);
	a->http = NULL;
	if (a->reply)
		evbuffer_free(a->reply);
	a->reply = NULL;
}
