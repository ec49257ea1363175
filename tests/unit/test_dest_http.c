/* Unit tests for dispatcher/dest_http.c against a real HTTP server (libevent's evhttp) on the
 * test's own loop: the record arrives byte-exact with its content type and the configured
 * headers; 2xx stores; other statuses, a closed port and no answer fail; a server that comes back
 * stores again, with one log line per change of state; calls are capped and the rest wait in
 * order, up to the queue limit; destroy ends outstanding deliveries with -ECANCELED.
 * Includes the .c to lower the queue limit (STYLE 17).
 *
 * The server answers every request with fx->answer, or parks it (answered when the server stops)
 * while that is 0; it keeps what each request carried.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dispatcher/dest_http.c"
#include "tests/unit/log_capture.h"
#include "core/loop.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQS 128

struct received {
	bool post;
	char uri[32];
	char body[256];
	char content_type[64];
	int n_content_types;
	char token[32];
	char empty[16];
};

struct fixture;

struct slot {                        /* one delivery's done calls */
	struct fixture *fx;
	int calls;
	int status;
};

struct fixture {
	struct event_base *base;
	struct evhttp *http;
	int port;
	char url[64];
	int answer;                      /* status for every request; 0: park it */
	struct evhttp_request *parked[MAX_REQS];
	int n_parked;                    /* ever parked, answered ones included */
	struct received got[MAX_REQS];
	int n_got;
	struct slot slots[MAX_REQS];
	int n_done;
};

static void copy_header(struct evkeyvalq *headers, const char *name, char *out, size_t len)
{
	const char *v = evhttp_find_header(headers, name);
	snprintf(out, len, "%s", v ? v : "(none)");
}

static void keep(struct fixture *fx, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	size_t n = evbuffer_get_length(in);

	assert_true(fx->n_got < MAX_REQS);
	struct received *r = &fx->got[fx->n_got++];
	assert_true(n < sizeof(r->body));
	evbuffer_copyout(in, r->body, n);
	r->body[n] = '\0';
	r->post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	snprintf(r->uri, sizeof(r->uri), "%s", evhttp_request_get_uri(req));
	for (struct evkeyval *h = TAILQ_FIRST(headers); h; h = TAILQ_NEXT(h, next))
		if (strcasecmp(h->key, "Content-Type") == 0) {
			r->n_content_types++;
			snprintf(r->content_type, sizeof(r->content_type), "%s", h->value);
		}
	copy_header(headers, "X-Token", r->token, sizeof(r->token));
	copy_header(headers, "X-Empty", r->empty, sizeof(r->empty));
}

static void serve(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;

	keep(fx, req);
	if (fx->answer)
		evhttp_send_reply(req, fx->answer, "X", NULL);
	else
		fx->parked[fx->n_parked++] = req;
}

/* Answer the parked request i (once). */
static void answer_parked(struct fixture *fx, int i, int status)
{
	if (!fx->parked[i])
		return;
	evhttp_send_reply(fx->parked[i], status, "X", NULL);
	fx->parked[i] = NULL;
}

/* Listen on 127.0.0.1:port (0: any free one); fx->url points at it. */
static void server_start(struct fixture *fx, int port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	fx->http = evhttp_new(fx->base);
	evhttp_set_gencb(fx->http, serve, fx);
	struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(fx->http, "127.0.0.1",
									  (uint16_t)port);
	assert_non_null(bound);
	getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &len);
	fx->port = ntohs(sa.sin_port);
	snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:%d/hook", fx->port);
}

/* Answer what is parked, close the listener and every connection. */
static void server_stop(struct fixture *fx)
{
	for (int i = 0; i < fx->n_parked; i++)
		answer_parked(fx, i, 204);
	evhttp_free(fx->http);
	fx->http = NULL;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->base = sl_loop_new();
	server_start(fx, 0);
	for (int i = 0; i < MAX_REQS; i++)
		fx->slots[i].fx = fx;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	capture_abandon();
	struct fixture *fx = *state;

	if (fx->http)
		server_stop(fx);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void on_done(void *arg, int status)
{
	struct slot *s = arg;

	s->calls++;
	s->status = status;
	s->fx->n_done++;
}

static void run_for(struct fixture *fx, int ms)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = ms * 1000 };

	event_base_loopexit(fx->base, &tv);
	event_base_dispatch(fx->base);
}

/* Run the loop until *count reaches want, for at most max_ms; then it must equal want. */
static void run_until(struct fixture *fx, const int *count, int want, int max_ms)
{
	for (int waited = 0; *count < want && waited < max_ms; waited += 10)
		run_for(fx, 10);
	assert_int_equal(*count, want);
}

static struct dest_http *make(struct fixture *fx, char **headers, int timeout_ms)
{
	struct sl_destination_config cfg = { .name = "hook", .kind = SL_DEST_HTTP, .url = fx->url,
					     .headers = headers, .timeout_ms = timeout_ms };
	void *ctx = NULL;

	assert_int_equal(sl_dest_http_ops.create(fx->base, &cfg, &ctx), 0);
	return ctx;
}

/* Deliver {"n":i} as delivery i. */
static void deliver_n(struct fixture *fx, struct dest_http *h, int i)
{
	json_t *rec = json_pack("{s:i}", "n", i);

	sl_dest_http_ops.deliver(h, rec, on_done, &fx->slots[i]);
	json_decref(rec);
}

/* Deliver {"n":i} and wait for its done; returns its status. */
static int deliver_wait(struct fixture *fx, struct dest_http *h, int i)
{
	int before = fx->n_done;

	deliver_n(fx, h, i);
	run_until(fx, &fx->n_done, before + 1, 5000);
	assert_int_equal(fx->slots[i].calls, 1);
	return fx->slots[i].status;
}

/* The server received the records {"n":from} .. {"n":to - 1} once each, as requests from..to-1. */
static void assert_received_once(struct fixture *fx, int from, int to)
{
	int seen[MAX_REQS] = { 0 }, n;

	assert_true(fx->n_got >= to);
	for (int i = from; i < to; i++) {
		assert_int_equal(sscanf(fx->got[i].body, "{\"n\":%d}", &n), 1);
		assert_true(n >= from && n < to);
		seen[n]++;
	}
	for (int i = from; i < to; i++)
		assert_int_equal(seen[i], 1);
}

/* Every delivery below n was done exactly once, with want. */
static void assert_done_once(struct fixture *fx, int n, int want)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].status, want);
	}
}

static void test_record_posted_as_json(void **state)
{
	struct fixture *fx = *state;
	char *headers[] = { "X-Token=s3cret", "X-Empty=", NULL };
	struct dest_http *h = make(fx, headers, 10000);
	json_t *rec = json_pack("{s:i, s:s, s:[b,n]}", "n", 1, "text", "\xc3\xa9 \"q\"\n",
				"list", 1);

	fx->answer = 200;
	sl_dest_http_ops.deliver(h, rec, on_done, &fx->slots[0]);
	json_decref(rec);
	assert_int_equal(fx->n_done, 0);              /* never inside deliver */
	run_until(fx, &fx->n_done, 1, 5000);
	assert_done_once(fx, 1, 0);
	assert_int_equal(fx->n_got, 1);
	assert_true(fx->got[0].post);
	assert_string_equal(fx->got[0].uri, "/hook");
	assert_string_equal(fx->got[0].body,
			    "{\"n\":1,\"text\":\"\xc3\xa9 \\\"q\\\"\\n\",\"list\":[true,null]}");
	assert_string_equal(fx->got[0].content_type, "application/json");
	assert_int_equal(fx->got[0].n_content_types, 1);
	assert_string_equal(fx->got[0].token, "s3cret");
	assert_string_equal(fx->got[0].empty, "");
	sl_dest_http_ops.destroy(h);
}

static void test_content_type_header_replaces_json(void **state)
{
	struct fixture *fx = *state;
	char *headers[] = { "content-type=application/cloudevents+json", NULL };
	struct dest_http *h = make(fx, headers, 10000);

	fx->answer = 200;
	assert_int_equal(deliver_wait(fx, h, 0), 0);
	assert_string_equal(fx->got[0].content_type, "application/cloudevents+json");
	assert_int_equal(fx->got[0].n_content_types, 1);
	assert_string_equal(fx->got[0].token, "(none)");
	sl_dest_http_ops.destroy(h);
}

/* Each answer in turn ends one delivery with want. */
static void expect_answers(struct fixture *fx, const int *answers, int n, int want)
{
	struct dest_http *h = make(fx, NULL, 10000);

	for (int i = 0; i < n; i++) {
		fx->answer = answers[i];
		assert_int_equal(deliver_wait(fx, h, i), want);
	}
	assert_received_once(fx, 0, n);
	sl_dest_http_ops.destroy(h);
}

static void test_2xx_stores(void **state)
{
	expect_answers(*state, (const int[]){ 200, 202, 204 }, 3, 0);
}

static void test_other_statuses_fail(void **state)
{
	expect_answers(*state, (const int[]){ 500, 404, 301 }, 3, -EPROTO);
}

static void test_nothing_listening_fails_fast(void **state)
{
	struct fixture *fx = *state;

	server_stop(fx);
	struct dest_http *h = make(fx, NULL, 10000);
	deliver_n(fx, h, 0);
	run_until(fx, &fx->n_done, 1, 2000);        /* well before the 10 s timeout */
	assert_done_once(fx, 1, -ECONNREFUSED);
	sl_dest_http_ops.destroy(h);
}

static void test_no_answer_times_out(void **state)
{
	struct fixture *fx = *state;
	struct dest_http *h = make(fx, NULL, 300);

	assert_int_equal(deliver_wait(fx, h, 0), -ETIMEDOUT);
	assert_int_equal(fx->n_parked, 1);
	sl_dest_http_ops.destroy(h);
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_server_comes_back_logged_once(void **state)
{
	struct fixture *fx = *state;
	struct dest_http *h = make(fx, NULL, 10000);
	char warn[128], info[128];

	sl_log_configure(SL_LOG_INFO, false);
	capture_begin();
	fx->answer = 503;
	assert_int_equal(deliver_wait(fx, h, 0), -EPROTO);
	assert_int_equal(deliver_wait(fx, h, 1), -EPROTO);
	fx->answer = 200;
	assert_int_equal(deliver_wait(fx, h, 2), 0);
	assert_int_equal(deliver_wait(fx, h, 3), 0);
	server_stop(fx);
	assert_int_equal(deliver_wait(fx, h, 4), -ECONNREFUSED);
	assert_int_equal(deliver_wait(fx, h, 5), -ECONNREFUSED);
	server_start(fx, fx->port);
	assert_int_equal(deliver_wait(fx, h, 6), 0);
	char *log = capture_end();

	snprintf(warn, sizeof(warn), "WARN  destination:hook POST %s: ", fx->url);
	snprintf(info, sizeof(info), "INFO  destination:hook POST %s works again\n", fx->url);
	assert_int_equal(count(log, warn), 2);
	assert_int_equal(count(log, "HTTP 503\n"), 1);
	assert_int_equal(count(log, "Connection refused"), 1);
	assert_int_equal(count(log, info), 2);
	assert_int_equal(count(log, "\n"), 4);
	sl_dest_http_ops.destroy(h);
}

static void test_many_complete_once(void **state)
{
	struct fixture *fx = *state;
	struct dest_http *h = make(fx, NULL, 10000);

	fx->answer = 200;
	for (int i = 0; i < 100; i++)
		deliver_n(fx, h, i);
	run_until(fx, &fx->n_done, 100, 10000);
	run_for(fx, 50);                              /* nothing more comes */
	assert_int_equal(fx->n_done, 100);
	assert_done_once(fx, 100, 0);
	assert_int_equal(fx->n_got, 100);
	assert_received_once(fx, 0, 100);
	sl_dest_http_ops.destroy(h);
}

static void test_calls_capped_rest_in_order(void **state)
{
	struct fixture *fx = *state;
	struct dest_http *h = make(fx, NULL, 10000);

	for (int i = 0; i < 12; i++)
		deliver_n(fx, h, i);
	run_until(fx, &fx->n_parked, SL_DEST_HTTP_MAX_CALLS, 5000);
	run_for(fx, 100);                             /* no ninth call starts */
	assert_int_equal(fx->n_got, SL_DEST_HTTP_MAX_CALLS);
	assert_received_once(fx, 0, SL_DEST_HTTP_MAX_CALLS);
	/* each answer frees one slot for the oldest waiting record */
	for (int i = SL_DEST_HTTP_MAX_CALLS; i < 12; i++) {
		answer_parked(fx, i - SL_DEST_HTTP_MAX_CALLS, 200);
		run_until(fx, &fx->n_got, i + 1, 5000);
		assert_received_once(fx, i, i + 1);
	}
	for (int i = 0; i < 12; i++)
		answer_parked(fx, i, 200);
	run_until(fx, &fx->n_done, 12, 5000);
	assert_done_once(fx, 12, 0);
	sl_dest_http_ops.destroy(h);
}

static void test_queue_limit_refuses(void **state)
{
	struct fixture *fx = *state;
	struct dest_http *h = make(fx, NULL, 10000);
	int last = SL_DEST_HTTP_MAX_CALLS + 2;

	h->max_waiting_bytes = 2 * strlen("{\"n\":9}");  /* two records wait, a third is refused */
	for (int i = 0; i <= last; i++)
		deliver_n(fx, h, i);
	assert_int_equal(fx->n_done, 0);              /* never inside deliver */
	run_until(fx, &fx->n_done, 1, 5000);
	assert_int_equal(fx->slots[last].calls, 1);
	assert_int_equal(fx->slots[last].status, -ENOBUFS);
	fx->answer = 200;
	for (int i = 0; i < fx->n_parked; i++)
		answer_parked(fx, i, 200);
	run_until(fx, &fx->n_done, last + 1, 5000);
	assert_done_once(fx, last, 0);
	assert_int_equal(fx->n_got, last);
	sl_dest_http_ops.destroy(h);
}

static void test_destroy_cancels_outstanding(void **state)
{
	struct fixture *fx = *state;
	struct dest_http *h = make(fx, NULL, 10000);
	int last = SL_DEST_HTTP_MAX_CALLS + 2;

	h->max_waiting_bytes = 2 * strlen("{\"n\":9}");
	for (int i = 0; i < last; i++)
		deliver_n(fx, h, i);
	run_until(fx, &fx->n_parked, SL_DEST_HTTP_MAX_CALLS, 5000);
	deliver_n(fx, h, last);                       /* refused, not yet told */
	assert_int_equal(fx->n_done, 0);
	sl_dest_http_ops.destroy(h);
	assert_int_equal(fx->n_done, last + 1);
	assert_done_once(fx, last, -ECANCELED);
	assert_int_equal(fx->slots[last].status, -ENOBUFS);
	run_for(fx, 100);                             /* no callback comes later */
	assert_int_equal(fx->n_done, last + 1);
}

static void test_configs_and_registry(void **state)
{
	struct fixture *fx = *state;
	struct sl_destination *d = (struct sl_destination *)1;
	struct sl_destination_config cfg = { .name = "x", .kind = SL_DEST_HTTP,
					     .timeout_ms = 1000 };

	assert_int_equal(sl_destination_new(fx->base, &cfg, &d), -EINVAL);   /* no url */
	assert_null(d);
	cfg.url = fx->url;
	cfg.timeout_ms = 0;
	assert_int_equal(sl_destination_new(fx->base, &cfg, &d), -EINVAL);
	assert_ptr_equal(sl_destination_kind("http"), &sl_dest_http_ops);

	cfg.timeout_ms = 1000;
	assert_int_equal(sl_destination_new(fx->base, &cfg, &d), 0);
	json_t *rec = json_pack("{s:i}", "n", 0);
	fx->answer = 202;
	sl_destination_deliver(d, rec, on_done, &fx->slots[0]);
	json_decref(rec);
	run_until(fx, &fx->n_done, 1, 5000);
	assert_done_once(fx, 1, 0);
	sl_destination_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_posted_as_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_type_header_replaces_json, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_2xx_stores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_statuses_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_listening_fails_fast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_comes_back_logged_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_complete_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_capped_rest_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_limit_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_cancels_outstanding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configs_and_registry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
