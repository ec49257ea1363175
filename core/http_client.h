/* HTTP client calls on the event loop: libcurl's multi-socket API driven by libevent.
 *
 * One sl_http_client per event loop runs any number of calls at once; each call is one request
 * with its own timeout and ends in exactly one callback, from the loop, with the HTTP status and
 * the response body (kept up to SL_HTTP_CLIENT_MAX_BODY bytes; a longer one fails the call). A
 * call over a unix socket (Docker's API) names it in `unix_socket`; the URL's host is then only
 * the Host header. Transport failures (connection refused, timeout) have status 0, a negative
 * errno and a message from libcurl.
 *
 * Re-entrancy: a callback may start new calls and cancel others; it must not free the client.
 * Cancelling a call (or freeing the client) drops it without its callback.
 *
 * sl_http_call_sync performs one request on the caller's thread, blocking: for shutdown paths
 * where the loop no longer runs.
 */
#ifndef SL_HTTP_CLIENT_H
#define SL_HTTP_CLIENT_H

#include <stddef.h>

struct event_base;
struct sl_http_client;
struct sl_http_call;

#define SL_HTTP_CLIENT_MAX_BODY (4u << 20)

struct sl_http_request {
	const char *method;        /* "GET", "POST", "DELETE", ... */
	const char *url;
	const char *unix_socket;   /* or NULL: TCP to the URL's host */
	const char *body;          /* or NULL */
	size_t body_len;
	const char *content_type;  /* of body; NULL: application/json */
	const char *const *headers; /* NULL-terminated "Name: value" lines sent besides Content-Type
				     * (not another Content-Type: set content_type), or NULL; an
				     * empty value is sent as an empty header */
	long timeout_ms;           /* whole call; 0: none */
};

struct sl_http_response {
	long status;               /* 0: no HTTP response (see error) */
	const char *body;          /* NUL-terminated; valid during the callback only */
	size_t len;
	const char *error;         /* libcurl's message when status is 0, else NULL */
	int err;                   /* when status is 0: -ECONNREFUSED (or the connect's own errno,
				    * e.g. -ENOENT for a missing unix socket), -ETIMEDOUT,
				    * -EHOSTUNREACH (name not resolved), -EMSGSIZE (body over the
				    * limit), -EIO (anything else); else 0 */
};

typedef void (*sl_http_done_cb)(void *arg, const struct sl_http_response *res);

struct sl_http_client *sl_http_client_new(struct event_base *base);
/* Cancels the calls still running (no callbacks). NULL is a no-op. */
void sl_http_client_free(struct sl_http_client *c);

/* Start a call; the request's strings are copied. Never NULL (aborts on allocation failure). */
struct sl_http_call *sl_http_call_start(struct sl_http_client *c, const struct sl_http_request *req,
					sl_http_done_cb cb, void *arg);
/* Drop a running call: its callback never runs. */
void sl_http_call_cancel(struct sl_http_call *call);

/* Blocking: *res filled; res->body is the caller's to free (cast away const), also on failure;
 * res->error is libcurl's static text for the failure. */
void sl_http_call_sync(const struct sl_http_request *req, struct sl_http_response *res);

#endif
