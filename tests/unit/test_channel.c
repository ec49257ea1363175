/* The sandbox channel framing (executor/channel.c) over a real socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/loop.h"
#include "executor/channel.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct pair {
	struct event_base *base;
	struct bufferevent *a, *b;
};

static int pair_setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->base = sl_loop_new();
	p->a = bufferevent_socket_new(p->base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	p->b = bufferevent_socket_new(p->base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_enable(p->a, EV_READ | EV_WRITE);
	bufferevent_enable(p->b, EV_READ | EV_WRITE);
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	bufferevent_free(p->a);
	bufferevent_free(p->b);
	event_base_free(p->base);
	free(p);
	return 0;
}

/* Pump the loop until b has at least n bytes. */
static struct evbuffer *receive(struct pair *p, size_t n)
{
	struct evbuffer *in = bufferevent_get_input(p->b);

	while (evbuffer_get_length(in) < n)
		event_base_loop(p->base, EVLOOP_ONCE);
	return in;
}

static void test_round_trip(void **state)
{
	struct pair *p = *state;
	json_t *meta = json_pack("{s:s, s:i}", "id", "abc", "timeout_ms", 3000);
	struct sl_frame f;

	assert_int_equal(sl_channel_send(p->a, SL_FRAME_INVOKE, meta, "{\"x\":1}", 7), 0);
	assert_int_equal(sl_channel_send(p->a, SL_FRAME_LOG, NULL, "line", 4), 0);
	assert_int_equal(sl_channel_send(p->a, SL_FRAME_EXIT, NULL, NULL, 0), 0);
	json_decref(meta);
	struct evbuffer *in = receive(p, 3 * SL_FRAME_HEADER_LEN + 30 + 7 + 4);

	assert_int_equal(sl_channel_read(in, &f), 1);
	assert_int_equal(f.type, SL_FRAME_INVOKE);
	assert_string_equal(sl_meta_str(&f, "id"), "abc");
	assert_int_equal(sl_meta_int(&f, "timeout_ms", 0), 3000);
	assert_int_equal(sl_meta_int(&f, "missing", -7), -7);
	assert_null(sl_meta_str(&f, "timeout_ms"));
	assert_int_equal(f.payload_len, 7);
	assert_memory_equal(sl_frame_payload(in, &f), "{\"x\":1}", 7);
	sl_frame_done(in, &f);

	assert_int_equal(sl_channel_read(in, &f), 1);
	assert_int_equal(f.type, SL_FRAME_LOG);
	assert_int_equal(json_object_size(f.meta), 0);
	/* the payload may be moved out instead of pulled up */
	struct evbuffer *dst = evbuffer_new();
	evbuffer_remove_buffer(in, dst, f.payload_len);
	sl_frame_done(in, &f);
	assert_int_equal(evbuffer_get_length(dst), 4);
	evbuffer_free(dst);

	assert_int_equal(sl_channel_read(in, &f), 1);
	assert_int_equal(f.type, SL_FRAME_EXIT);
	assert_string_equal(sl_frame_payload(in, &f), "");
	sl_frame_done(in, &f);
	assert_int_equal(sl_channel_read(in, &f), 0);
	assert_string_equal(sl_frame_type_name(SL_FRAME_INIT_DONE), "INIT_DONE");
}

static void test_partial_and_buffer(void **state)
{
	struct pair *p = *state;
	struct evbuffer *in = evbuffer_new(), *payload = evbuffer_new();
	struct evbuffer *out = evbuffer_new();
	json_t *meta = json_pack("{s:s}", "reason", "exit status 1");
	struct sl_frame f;

	evbuffer_add(payload, "0123456789", 10);
	assert_int_equal(sl_channel_send_buffer(p->a, SL_FRAME_RESPONSE, meta, payload), 0);
	assert_int_equal(evbuffer_get_length(payload), 0);   /* moved */
	json_decref(meta);
	size_t total = SL_FRAME_HEADER_LEN + strlen("{\"reason\":\"exit status 1\"}") + 10;
	evbuffer_add_buffer(out, receive(p, total));
	/* feed it one byte at a time: nothing until the last byte */
	for (size_t i = 0; i < total; i++) {
		char c;
		evbuffer_remove(out, &c, 1);
		evbuffer_add(in, &c, 1);
		assert_int_equal(sl_channel_read(in, &f), i + 1 == total ? 1 : 0);
	}
	assert_string_equal(sl_meta_str(&f, "reason"), "exit status 1");
	assert_memory_equal(sl_frame_payload(in, &f), "0123456789", 10);
	sl_frame_done(in, &f);
	assert_int_equal(evbuffer_get_length(in), 0);
	evbuffer_free(in);
	evbuffer_free(out);
	evbuffer_free(payload);
}

static void test_limits_and_garbage(void **state)
{
	struct pair *p = *state;
	struct evbuffer *in = evbuffer_new();
	struct sl_frame f;
	unsigned char bad_type[SL_FRAME_HEADER_LEN] = { 99, SL_CHANNEL_VERSION };
	unsigned char bad_meta[SL_FRAME_HEADER_LEN + 3] = { SL_FRAME_LOG, SL_CHANNEL_VERSION, 0, 0,
							     0, 0, 0, 3, 0, 0, 0, 0, 'x', 'y', 'z' };
	unsigned char too_big[SL_FRAME_HEADER_LEN] = { SL_FRAME_LOG, SL_CHANNEL_VERSION, 0, 0,
						       0, 0, 0, 0, 0x7f, 0, 0, 0 };

	assert_int_equal(sl_channel_send(p->a, SL_FRAME_RESPONSE, NULL, "x",
					 SL_FRAME_MAX_PAYLOAD + 1), -EMSGSIZE);
	evbuffer_add(in, bad_type, sizeof(bad_type));
	assert_int_equal(sl_channel_read(in, &f), -EPROTO);
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add(in, bad_meta, sizeof(bad_meta));
	assert_int_equal(sl_channel_read(in, &f), -EPROTO);
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add(in, too_big, sizeof(too_big));
	assert_int_equal(sl_channel_read(in, &f), -EPROTO);
	evbuffer_free(in);
}

static void test_large_meta(void **state)
{
	struct pair *p = *state;
	char *big = malloc(20000);
	struct sl_frame f;

	memset(big, 'c', 19999);
	big[19999] = '\0';
	json_t *meta = json_pack("{s:s}", "client_context", big);
	assert_int_equal(sl_channel_send(p->a, SL_FRAME_INVOKE, meta, "{}", 2), 0);
	json_decref(meta);
	struct evbuffer *in = receive(p, SL_FRAME_HEADER_LEN + 20000 + 2);
	assert_int_equal(sl_channel_read(in, &f), 1);
	assert_string_equal(sl_meta_str(&f, "client_context"), big);
	sl_frame_done(in, &f);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_partial_and_buffer, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_limits_and_garbage, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_large_meta, pair_setup, pair_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
