/* Lambda-compatible control API; see control_api.h. */
#include "daemon/control_api.h"

#include "connectors/connector.h"
#include "daemon/async_queue.h"

#include "config/config.h"
#include "core/base64.h"
#include "core/http_server.h"
#include "core/mem.h"
#include "executor/executor.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/2015-03-31/functions"
#define MAX_INVOKE_PAYLOAD 6291456
#define ARN_MARK ":function:"

struct sl_control_api {
	const struct sl_config *cfg;
	struct sl_executor *executor;
	sl_async_queue_lookup queues;
	void *queues_arg;
};

static void list_functions(struct sl_control_api *api, struct evhttp_request *req)
{
	json_t *list = sl_check_alloc(json_array());

	for (size_t i = 0; i < api->cfg->n_functions; i++) {
		const struct sl_function_config *f = &api->cfg->functions[i];
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}",
						      "FunctionName", f->name, "Runtime",
						      f->runtime, "Handler", f->handler ? f->handler : "",
						      "MemorySize", f->memory_mb, "Timeout",
						      f->timeout_s, "Version", "$LATEST"));
	}
	sl_http_reply_json(req, 200, json_pack("{s:o}", "Functions", list));
}

static void invoke_done(void *arg, const struct sl_invoke_result *res)
{
	struct evhttp_request *req = arg;
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);

	if (res->status == SL_INVOKE_THROTTLED) {
		sl_http_reply_error(req, 429, "TooManyRequestsException", "Rate Exceeded.");
		return;
	}
	struct evbuffer *out = evbuffer_new();
	evbuffer_add(out, res->payload, res->payload_len);
	evhttp_add_header(headers, "Content-Type",
			  res->content_type ? res->content_type : "application/json");
	evhttp_add_header(headers, "X-Amz-Executed-Version", "$LATEST");
	if (res->request_id)
		evhttp_add_header(headers, "X-Amzn-RequestId", res->request_id);
	if (res->status != SL_INVOKE_OK)
		evhttp_add_header(headers, "X-Amz-Function-Error", "Unhandled");
	if (res->log_tail) {
		char *b64 = sl_base64_encode(res->log_tail, res->log_tail_len);
		evhttp_add_header(headers, "X-Amz-Log-Result", b64);
		free(b64);
	}
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* "name", "name:qualifier" or an ARN ending in ":function:name[:qualifier]" -> name. */
static char *function_name(const char *ref, size_t len)
{
	char *copy = sl_xstrndup(ref, len);
	char *mark = strstr(copy, ARN_MARK);
	char *name = mark ? mark + strlen(ARN_MARK) : copy;
	char *qualifier = strchr(name, ':');
	if (qualifier)
		*qualifier = '\0';
	char *out = sl_xstrdup(name);
	free(copy);
	return out;
}

/* The decoded X-Amz-Client-Context, or NULL. */
static char *client_context(struct evhttp_request *req)
{
	const char *b64 = evhttp_find_header(evhttp_request_get_input_headers(req),
					     "X-Amz-Client-Context");
	unsigned char *text;
	size_t len;

	if (!b64 || sl_base64_decode(b64, strlen(b64), &text, &len) < 0)
		return NULL;
	char *out = sl_xstrndup((const char *)text, len);
	free(text);
	return out;
}

static int check_payload(struct evhttp_request *req, const char *body, size_t len)
{
	json_error_t jerr;

	if (len > MAX_INVOKE_PAYLOAD) {
		sl_http_reply_error(req, 413, "RequestEntityTooLargeException",
				    "Request must be smaller than %d bytes for the InvokeFunction "
				    "operation", MAX_INVOKE_PAYLOAD);
		return -EINVAL;
	}
	json_t *doc = len ? json_loadb(body, len, JSON_DECODE_ANY, &jerr) : NULL;
	if (len && !doc) {
		sl_http_reply_error(req, 400, "InvalidRequestContentException",
				    "Could not parse request body into json: %s (line %d, column %d)",
				    jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	json_decref(doc);
	return 0;
}

static void invoke(struct sl_control_api *api, struct evhttp_request *req, const char *name)
{
	struct evkeyvalq *in_headers = evhttp_request_get_input_headers(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "{}";
	const char *type = evhttp_find_header(in_headers, "X-Amz-Invocation-Type");
	const char *log_type = evhttp_find_header(in_headers, "X-Amz-Log-Type");

	if (!sl_config_function(api->cfg, name)) {
		sl_http_reply_error(req, 404, "ResourceNotFoundException",
				    "Function not found: arn:aws:lambda:us-east-1:000000000000:"
				    "function:%s", name);
		return;
	}
	if (check_payload(req, body, len) < 0)
		return;
	if (type && strcmp(type, "DryRun") == 0) {
		evhttp_send_reply(req, 204, "No Content", NULL);
		return;
	}
	if (type && strcmp(type, "Event") == 0) {
		struct sl_source *queue = api->queues(api->queues_arg, name);
		if (len > SL_ASYNC_MAX_PAYLOAD)
			sl_http_reply_error(req, 413, "RequestEntityTooLargeException",
					    "Request must be smaller than %u bytes for an "
					    "asynchronous invocation", SL_ASYNC_MAX_PAYLOAD);
		else
			queue->ops->handle_http(queue, req);
		return;
	}
	if (type && strcmp(type, "RequestResponse") != 0) {
		sl_http_reply_error(req, 400, "InvalidParameterValueException",
				    "InvocationType %s is not one of RequestResponse, Event, DryRun",
				    type);
		return;
	}
	char *context = client_context(req);
	struct sl_invoke_options opts = {
		.client_context = context,
		.trace_id = evhttp_find_header(in_headers, "X-Amzn-Trace-Id"),
		.log_tail = log_type && strcmp(log_type, "Tail") == 0,
	};
	int rc = sl_executor_invoke(api->executor, name, body, len ? len : 2, &opts, invoke_done,
				    req);
	free(context);
	if (rc < 0)
		sl_http_reply_error(req, 503, "ServiceException", "cannot invoke %s: %s", name,
				    rc == -ESHUTDOWN ? "Sluice is shutting down" : strerror(-rc));
}

static void route(void *arg, struct evhttp_request *req, const char *rest)
{
	struct sl_control_api *api = arg;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const char *suffix = "/invocations";
	size_t len = strlen(rest), suffix_len = strlen(suffix);

	if ((len == 0 || strcmp(rest, "/") == 0) && method == EVHTTP_REQ_GET) {
		list_functions(api, req);
		return;
	}
	if (method == EVHTTP_REQ_POST && rest[0] == '/' && len > suffix_len + 1 &&
	    strcmp(rest + len - suffix_len, suffix) == 0) {
		char *decoded = evhttp_uridecode(rest + 1, 0, NULL);
		char *name = function_name(decoded, strlen(decoded) - suffix_len);
		invoke(api, req, name);
		free(name);
		free(decoded);
		return;
	}
	sl_http_reply_error(req, 404, "ResourceNotFoundException", "no control API operation at %s%s",
			    PREFIX, rest);
}

struct sl_control_api *sl_control_api_new(struct sl_http_server *srv, const struct sl_config *cfg,
					  struct sl_executor *ex, sl_async_queue_lookup queues,
					  void *queues_arg)
{
	struct sl_control_api *api = sl_xmalloc(sizeof(*api));
	api->cfg = cfg;
	api->executor = ex;
	api->queues = queues;
	api->queues_arg = queues_arg;
	sl_http_server_route(srv, PREFIX, route, api);
	return api;
}

void sl_control_api_free(struct sl_control_api *api)
{
	free(api);
}
