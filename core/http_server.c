/* HTTP listener: prefix routing over evhttp and JSON replies; see http_server.h. */
#include "core/http_server.h"

#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTES 16

struct route {
	char *prefix;
	size_t prefix_len;
	sl_http_handler handler;
	void *arg;
};

struct sl_http_server {
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	char address[64];
	struct route routes[MAX_ROUTES];
	size_t n_routes;
};

static const struct route *find_route(const struct sl_http_server *srv, const char *path)
{
	const struct route *best = NULL;
	for (size_t i = 0; i < srv->n_routes; i++) {
		const struct route *r = &srv->routes[i];
		if (strncmp(path, r->prefix, r->prefix_len) == 0 &&
		    (!best || r->prefix_len > best->prefix_len))
			best = r;
	}
	return best;
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct sl_http_server *srv = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const struct route *r = path ? find_route(srv, path) : NULL;

	if (!r) {
		sl_http_reply_error(req, 404, "ResourceNotFoundException", "no route for %s",
				    path ? path : "(none)");
		return;
	}
	r->handler(r->arg, req, path + r->prefix_len);
}

static int split_listen(const char *listen, char *host, size_t hostlen, unsigned *port)
{
	const char *colon = strrchr(listen, ':');
	char *end;

	if (!colon || (size_t)(colon - listen) >= hostlen)
		return -EINVAL;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || p > 65535 || end == colon + 1)
		return -EINVAL;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	*port = (unsigned)p;
	return 0;
}

static void record_address(struct sl_http_server *srv, const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = evhttp_bound_socket_get_fd(srv->bound);
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						      : ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(srv->address, sizeof(srv->address), "%s:%u", host, port);
}

int sl_http_server_new(struct event_base *base, const char *listen, size_t max_body,
		       struct sl_http_server **out)
{
	char host[48];
	unsigned port;

	if (split_listen(listen, host, sizeof(host), &port) < 0)
		return -EINVAL;
	struct sl_http_server *srv = sl_xcalloc(1, sizeof(*srv));
	srv->http = sl_check_alloc(evhttp_new(base));
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)max_body);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						     EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(srv->http, dispatch, srv);
	srv->bound = evhttp_bind_socket_with_handle(srv->http, host, (ev_uint16_t)port);
	if (!srv->bound) {
		int rc = errno ? -errno : -EADDRINUSE;
		evhttp_free(srv->http);
		free(srv);
		return rc;
	}
	record_address(srv, host);
	*out = srv;
	return 0;
}

const char *sl_http_server_address(const struct sl_http_server *srv)
{
	return srv->address;
}

void sl_http_server_route(struct sl_http_server *srv, const char *prefix, sl_http_handler handler,
			  void *arg)
{
	if (srv->n_routes == MAX_ROUTES)
		abort(); /* a programming error: routes are fixed at start */
	struct route *r = &srv->routes[srv->n_routes++];
	r->prefix = sl_xstrdup(prefix);
	r->prefix_len = strlen(prefix);
	r->handler = handler;
	r->arg = arg;
}

void sl_http_server_stop_listening(struct sl_http_server *srv)
{
	if (srv->bound) {
		evhttp_del_accept_socket(srv->http, srv->bound);
		srv->bound = NULL;
	}
}

void sl_http_server_free(struct sl_http_server *srv)
{
	if (!srv)
		return;
	evhttp_free(srv->http);
	for (size_t i = 0; i < srv->n_routes; i++)
		free(srv->routes[i].prefix);
	free(srv);
}

void sl_http_reply_json(struct evhttp_request *req, int code, json_t *body)
{
	struct evbuffer *out = evbuffer_new();
	char *text = sl_check_alloc(json_dumps(body, JSON_COMPACT));

	evbuffer_add(out, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, code, NULL, out);
	evbuffer_free(out);
	free(text);
	json_decref(body);
}

void sl_http_reply_error(struct evhttp_request *req, int code, const char *type, const char *fmt,
			 ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_http_reply_json(req, code, json_pack("{s:s, s:s}", "errorType", type, "errorMessage", msg));
}
