/* The daemon's one HTTP listener (libevent evhttp) and the JSON reply helpers every handler uses.
 *
 * Routes are path prefixes; the longest registered prefix wins and the handler gets the rest of
 * the path. Bodies larger than the listener's hard cap are refused by evhttp itself (413); each
 * handler enforces its own, smaller limit with a JSON error body. A handler may answer later
 * (after an fsync or a function's response): evhttp keeps the request until it is answered, also
 * when the client went away meanwhile (the reply is then dropped), so every request must be
 * answered exactly once.
 */
#ifndef SL_HTTP_SERVER_H
#define SL_HTTP_SERVER_H

#include <jansson.h>
#include <stddef.h>

struct event_base;
struct evhttp_request;
struct sl_http_server;

typedef void (*sl_http_handler)(void *arg, struct evhttp_request *req, const char *rest);

/* Bind HOST:PORT. max_body: hard cap on request bodies. 0 or negative errno. */
int sl_http_server_new(struct event_base *base, const char *listen, size_t max_body,
		       struct sl_http_server **out);
/* Actual bound address "HOST:PORT" (useful with port 0). */
const char *sl_http_server_address(const struct sl_http_server *srv);
void sl_http_server_route(struct sl_http_server *srv, const char *prefix, sl_http_handler handler,
			  void *arg);
/* Stop accepting new connections; requests in progress may still be answered. */
void sl_http_server_stop_listening(struct sl_http_server *srv);
void sl_http_server_free(struct sl_http_server *srv);

/* Answer with a JSON body (stolen) and status. */
void sl_http_reply_json(struct evhttp_request *req, int code, json_t *body);
/* Answer {"errorType": type, "errorMessage": message} with status code. */
void sl_http_reply_error(struct evhttp_request *req, int code, const char *type, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));

#endif
