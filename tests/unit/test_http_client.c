/* Unit tests for core/http_client.c against a real HTTP server (libevent's evhttp) on the same
 * loop, over TCP on 127.0.0.1 and over a unix socket: status and body, a request body, an error
 * status, request headers, a refused connection, a timeout, a response over the size limit (each
 * failure with its errno), cancelling, many calls at once, and the blocking call.
 *
 * Server paths: /echo answers 200 with the request's method and body; /headers answers 200 with
 * the request's Content-Type, X-One, X-Empty and X-Colon headers; /status/N answers N;
 * /big answers SL_HTTP_CLIENT_MAX_BODY + 1 bytes; /never does not answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/http_client.h"
#include "core/loop.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct fixture {
	struct event_base *base;
	struct evhttp *http;
	struct sl_http_client *client;
	int port;
	char dir[32], sock[64];
	struct evhttp_request *parked;   /* /never */
};

struct result {
	int done;
	long status;
	char body[256];
	size_t len;
	char error[256];
	int err;
};

/* "Name=value;" for each header /headers reports, "Name=(none);" for a missing one. */
static void echo_headers(struct evhttp_request *req, struct evbuffer *out)
{
	static const char *const names[] = { "Content-Type", "X-One", "X-Empty", "X-Colon" };
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = evhttp_find_header(in, names[i]);
		evbuffer_add_printf(out, "%s=%s;", names[i], v ? v : "(none)");
	}
	evhttp_send_reply(req, 200, "OK", out);
}

static void serve(struct evhttp_request *req, void *arg)
{
	struct fixture *f = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *out = evbuffer_new();

	if (strcmp(uri, "/echo") == 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		evbuffer_add_printf(out, "%s:",
				    evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET");
		evbuffer_add_buffer(out, in);
		evhttp_send_reply(req, 200, "OK", out);
	} else if (strcmp(uri, "/headers") == 0) {
		echo_headers(req, out);
	} else if (strncmp(uri, "/status/", 8) == 0) {
		evbuffer_add_printf(out, "{\"message\":\"no such thing\"}");
		evhttp_send_reply(req, atoi(uri + 8), "X", out);
	} else if (strcmp(uri, "/big") == 0) {
		char *big = calloc(1, SL_HTTP_CLIENT_MAX_BODY + 1);
		evbuffer_add(out, big, SL_HTTP_CLIENT_MAX_BODY + 1);
		free(big);
		evhttp_send_reply(req, 200, "OK", out);
	} else {
		f->parked = req;   /* answered at teardown */
	}
	evbuffer_free(out);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct evhttp_bound_socket *bound;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	f->base = sl_loop_new();
	f->http = evhttp_new(f->base);
	evhttp_set_gencb(f->http, serve, f);
	bound = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
	assert_non_null(bound);
	getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &len);
	f->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sl-test-http-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/api.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_non_null(evhttp_accept_socket_with_handle(f->http, fd));
	f->client = sl_http_client_new(f->base);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_http_client_free(f->client);
	if (f->parked)
		evhttp_send_reply(f->parked, 204, "No Content", NULL);
	evhttp_free(f->http);
	event_base_free(f->base);
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void on_done(void *arg, const struct sl_http_response *res)
{
	struct result *r = arg;

	r->done++;
	r->status = res->status;
	r->len = res->len;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)(res->len < 200 ? res->len : 200), res->body);
	snprintf(r->error, sizeof(r->error), "%s", res->error ? res->error : "");
	r->err = res->err;
}

/* Run the loop until r is done (or 10 s passed). */
static void run_until(struct fixture *f, struct result *r)
{
	for (int i = 0; i < 1000 && !r->done; i++) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 10000 };
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_true(r->done);
}

static char *url(struct fixture *f, const char *path)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", f->port, path);
	return buf;
}

static void call(struct fixture *f, const struct sl_http_request *req, struct result *r)
{
	memset(r, 0, sizeof(*r));
	sl_http_call_start(f->client, req, on_done, r);
	run_until(f, r);
	assert_int_equal(r->done, 1);
}

static void test_get_and_post(void **state)
{
	struct fixture *f = *state;
	struct result r;
	struct sl_http_request get = { .method = "GET", .url = url(f, "/echo") };

	call(f, &get, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "GET:");
	assert_string_equal(r.error, "");
	struct sl_http_request post = { .method = "POST", .url = url(f, "/echo"),
					.body = "{\"a\":1}", .body_len = 7 };
	call(f, &post, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "POST:{\"a\":1}");
}

static void test_request_headers(void **state)
{
	struct fixture *f = *state;
	struct result r;
	const char *const headers[] = { "X-One: 1", "X-Empty:", "X-Colon: a:", NULL };
	struct sl_http_request req = { .method = "POST", .url = url(f, "/headers"), .body = "x",
				       .body_len = 1, .content_type = "text/plain",
				       .headers = headers };

	call(f, &req, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "Content-Type=text/plain;X-One=1;X-Empty=;X-Colon=a:;");
	req.headers = NULL;
	req.content_type = NULL;
	call(f, &req, &r);
	assert_string_equal(r.body, "Content-Type=application/json;X-One=(none);X-Empty=(none);"
			    "X-Colon=(none);");
}

static void test_unix_socket(void **state)
{
	struct fixture *f = *state;
	struct result r;
	struct sl_http_request req = { .method = "POST", .url = "http://docker/echo",
				       .unix_socket = f->sock, .body = "x", .body_len = 1 };

	call(f, &req, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "POST:x");
}

static void test_error_status_keeps_body(void **state)
{
	struct fixture *f = *state;
	struct result r;
	struct sl_http_request req = { .method = "GET", .url = url(f, "/status/404") };

	call(f, &req, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "{\"message\":\"no such thing\"}");
	assert_string_equal(r.error, "");
	assert_int_equal(r.err, 0);
}

static void test_refused_timeout_and_limit(void **state)
{
	struct fixture *f = *state;
	struct result r;
	char missing[96];

	snprintf(missing, sizeof(missing), "%s/none.sock", f->dir);
	struct sl_http_request refused = { .method = "GET", .url = "http://docker/_ping",
					   .unix_socket = missing };
	call(f, &refused, &r);
	assert_int_equal(r.status, 0);
	assert_true(r.error[0] != '\0');
	assert_int_equal(r.err, -ENOENT);
	assert_non_null(strstr(r.error, "No such file or directory"));
	refused.unix_socket = NULL;
	refused.url = "http://127.0.0.1:1/";
	call(f, &refused, &r);
	assert_int_equal(r.err, -ECONNREFUSED);
	assert_non_null(strstr(r.error, "Connection refused"));
	struct sl_http_request slow = { .method = "GET", .url = url(f, "/never"),
					.timeout_ms = 200 };
	call(f, &slow, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.error, "imed out"));
	assert_int_equal(r.err, -ETIMEDOUT);
	struct sl_http_request big = { .method = "GET", .url = url(f, "/big") };
	call(f, &big, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, "response larger than the client's limit");
	assert_int_equal(r.err, -EMSGSIZE);
}

static void test_cancel_and_many(void **state)
{
	struct fixture *f = *state;
	struct result cancelled = { 0 }, r[20];
	struct sl_http_request req = { .method = "GET", .url = url(f, "/echo") };

	sl_http_call_cancel(sl_http_call_start(f->client, &req, on_done, &cancelled));
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 20; i++)
		sl_http_call_start(f->client, &req, on_done, &r[i]);
	for (int i = 0; i < 20; i++) {
		run_until(f, &r[i]);
		assert_int_equal(r[i].done, 1);
		assert_int_equal(r[i].status, 200);
	}
	assert_int_equal(cancelled.done, 0);
}

static void test_sync(void **state)
{
	struct fixture *f = *state;
	struct sl_http_request req = { .method = "GET", .url = url(f, "/status/204") };
	struct sl_http_response res;

	/* a blocking call cannot be answered by this thread's loop: a forked copy serves it */
	pid_t pid = fork();
	if (pid == 0) {
		event_reinit(f->base);
		event_base_dispatch(f->base);
		_exit(0);
	}
	sl_http_call_sync(&req, &res);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(res.status, 204);
	assert_null(res.error);
	free((char *)res.body);
	struct sl_http_request refused = { .method = "GET", .url = "http://127.0.0.1:1/" };
	sl_http_call_sync(&refused, &res);
	assert_int_equal(res.status, 0);
	assert_non_null(res.error);
	assert_int_equal(res.err, -ECONNREFUSED);
	free((char *)res.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_and_post, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unix_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_status_keeps_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_timeout_and_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
