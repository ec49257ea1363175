/* HTTP client calls on the event loop. See http_client.h.
 *
 * libcurl tells us which sockets to watch (socket callback: one persistent libevent event per
 * socket, kept as the socket's curl "assign" pointer) and when to call it back (timer callback:
 * one libevent timer). Both events call curl_multi_socket_action, after which finished transfers
 * are collected from curl_multi_info_read and their callbacks run.
 */
#include "core/http_client.h"

#include "core/mem.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct sl_http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	TAILQ_HEAD(, sl_http_call) calls;   /* running */
};

struct sl_http_call {
	TAILQ_ENTRY(sl_http_call) link;
	struct sl_http_client *client;
	CURL *easy;
	struct curl_slist *headers;
	sl_http_done_cb cb;
	void *arg;
	char *body;
	size_t len;
	bool too_large;
	char error[CURL_ERROR_SIZE];
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sl_http_call *call = arg;
	size_t add = size * n;

	if (call->len + add > SL_HTTP_CLIENT_MAX_BODY) {
		call->too_large = true;
		return 0;   /* aborts the transfer */
	}
	call->body = sl_xrealloc(call->body, call->len + add + 1);
	memcpy(call->body + call->len, p, add);
	call->len += add;
	call->body[call->len] = '\0';
	return add;
}

/* Append one header line. libcurl sends "Name;" as an empty header ("Name:" would remove one). */
static struct curl_slist *add_header(struct curl_slist *list, const char *line)
{
	const char *colon = strchr(line, ':');
	char *empty = NULL;

	if (colon && colon[1 + strspn(colon + 1, " \t")] == '\0')
		line = empty = sl_xasprintf("%.*s;", (int)(colon - line), line);
	list = sl_check_alloc(curl_slist_append(list, line));
	free(empty);
	return list;
}

/* Content-Type, no "Expect: 100-continue" wait, then the request's own headers. */
static struct curl_slist *headers_for(const struct sl_http_request *req)
{
	char ct[128];
	struct curl_slist *list;

	snprintf(ct, sizeof(ct), "Content-Type: %s",
		 req->content_type ? req->content_type : "application/json");
	list = sl_check_alloc(curl_slist_append(NULL, ct));
	list = sl_check_alloc(curl_slist_append(list, "Expect:"));
	for (const char *const *h = req->headers; h && *h; h++)
		list = add_header(list, *h);
	return list;
}

/* An easy handle for req writing into call; the headers list goes to call->headers (owned). */
static CURL *easy_for(const struct sl_http_request *req, struct sl_http_call *call)
{
	CURL *e = curl_easy_init();

	if (!e)
		sl_check_alloc(NULL);
	call->headers = headers_for(req);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->unix_socket)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
	if (req->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, "");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->error);
	curl_easy_setopt(e, CURLOPT_PRIVATE, call);
	return e;
}

static void call_free(struct sl_http_call *call)
{
	curl_easy_cleanup(call->easy);
	curl_slist_free_all(call->headers);
	free(call->body);
	free(call);
}

/* The negative errno of a failed transfer (see sl_http_response.err). */
static int errno_of(struct sl_http_call *call, CURLcode result)
{
	long os_errno = 0;

	if (call->too_large)
		return -EMSGSIZE;
	switch (result) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(call->easy, CURLINFO_OS_ERRNO, &os_errno);
		return os_errno > 0 ? -(int)os_errno : -ECONNREFUSED;
	default:
		return -EIO;
	}
}

/* libcurl 7.x does not say why a connect failed ("Couldn't connect to server"): add the reason. */
static void explain_connect(struct sl_http_call *call, int err)
{
	size_t n = strlen(call->error);

	if (n > 0 && !strstr(call->error, strerror(-err)))
		snprintf(call->error + n, sizeof(call->error) - n, " (%s)", strerror(-err));
}

/* The response of a finished transfer (result: libcurl's code for it). */
static void fill_response(struct sl_http_call *call, CURLcode result, struct sl_http_response *res)
{
	memset(res, 0, sizeof(*res));
	if (result == CURLE_OK) {
		curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &res->status);
	} else {
		res->err = errno_of(call, result);
		if (result == CURLE_COULDNT_CONNECT)
			explain_connect(call, res->err);
		if (call->too_large)
			res->error = "response larger than the client's limit";
		else
			res->error = call->error[0] ? call->error : curl_easy_strerror(result);
	}
	res->body = call->body ? call->body : "";
	res->len = call->len;
}

static void collect_done(struct sl_http_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct sl_http_call *call = NULL;
		struct sl_http_response res;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		CURLcode result = m->data.result;
		curl_multi_remove_handle(c->multi, call->easy);
		TAILQ_REMOVE(&c->calls, call, link);
		fill_response(call, result, &res);
		call->cb(call->arg, &res);
		call_free(call);
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct sl_http_client *c = arg;
	int running, flags = (what & EV_READ ? CURL_CSELECT_IN : 0) |
			     (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(c->multi, fd, flags, &running);
	collect_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sl_http_client *c = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect_done(c);
}

static int socket_cb(CURL *e, curl_socket_t s, int what, void *arg, void *socketp)
{
	struct sl_http_client *c = arg;
	struct event *ev = socketp;

	(void)e;
	if (ev) {
		event_free(ev);
		curl_multi_assign(c->multi, s, NULL);
	}
	if (what == CURL_POLL_REMOVE)
		return 0;
	short flags = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
		      (what & CURL_POLL_OUT ? EV_WRITE : 0);
	ev = sl_check_alloc(event_new(c->base, s, flags, on_socket_event, c));
	event_add(ev, NULL);
	curl_multi_assign(c->multi, s, ev);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct sl_http_client *c = arg;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };

	(void)multi;
	if (timeout_ms < 0)
		evtimer_del(c->timer);
	else
		evtimer_add(c->timer, &tv);
	return 0;
}

struct sl_http_client *sl_http_client_new(struct event_base *base)
{
	struct sl_http_client *c = sl_xcalloc(1, sizeof(*c));

	c->base = base;
	c->multi = sl_check_alloc(curl_multi_init());
	c->timer = sl_check_alloc(evtimer_new(base, on_timer, c));
	TAILQ_INIT(&c->calls);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
}

void sl_http_client_free(struct sl_http_client *c)
{
	if (!c)
		return;
	/* removing a handle also releases its sockets (socket_cb frees their events) */
	while (!TAILQ_EMPTY(&c->calls))
		sl_http_call_cancel(TAILQ_FIRST(&c->calls));
	curl_multi_cleanup(c->multi);
	event_free(c->timer);
	free(c);
}

struct sl_http_call *sl_http_call_start(struct sl_http_client *c, const struct sl_http_request *req,
					sl_http_done_cb cb, void *arg)
{
	struct sl_http_call *call = sl_xcalloc(1, sizeof(*call));

	call->client = c;
	call->cb = cb;
	call->arg = arg;
	call->easy = easy_for(req, call);
	if (curl_multi_add_handle(c->multi, call->easy) != CURLM_OK)
		sl_check_alloc(NULL);
	TAILQ_INSERT_TAIL(&c->calls, call, link);
	return call;
}

void sl_http_call_cancel(struct sl_http_call *call)
{
	if (!call)
		return;
	curl_multi_remove_handle(call->client->multi, call->easy);
	TAILQ_REMOVE(&call->client->calls, call, link);
	call_free(call);
}

void sl_http_call_sync(const struct sl_http_request *req, struct sl_http_response *res)
{
	struct sl_http_call call = { 0 };
	CURLcode result;

	call.easy = easy_for(req, &call);
	result = curl_easy_perform(call.easy);
	fill_response(&call, result, res);
	if (res->error && result != CURLE_OK && !call.too_large)   /* not into call: it goes */
		res->error = curl_easy_strerror(result);
	res->body = call.body ? call.body : sl_xstrdup("");
	curl_easy_cleanup(call.easy);
	curl_slist_free_all(call.headers);
}
