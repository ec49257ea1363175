/* Unit tests for dispatcher/dest_function.c: records handed to a function's async queue through
 * the daemon's links; refusals and a missing link reported later, never inside deliver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/loop.h"
#include "dispatcher/destination.h"

struct queue {
	int refuse;                /* 0: accept, else the negative errno to return */
	char function[32];
	char payload[256];
	sl_destination_done_cb done;
	void *done_arg;
};

static int invoke_async(void *arg, const char *function, const char *payload, size_t len,
			sl_destination_done_cb done, void *done_arg)
{
	struct queue *q = arg;

	if (q->refuse)
		return q->refuse;
	snprintf(q->function, sizeof(q->function), "%s", function);
	snprintf(q->payload, sizeof(q->payload), "%.*s", (int)len, payload);
	q->done = done;
	q->done_arg = done_arg;
	return 0;
}

struct result {
	int calls;
	int status;
};

static void on_done(void *arg, int status)
{
	struct result *r = arg;
	r->calls++;
	r->status = status;
}

static void test_queue_and_refusals(void **state)
{
	struct event_base *base = sl_loop_new();
	struct sl_destination_config cfg = { .name = "next", .kind = SL_DEST_FUNCTION,
					     .function = "next-fn" };
	struct sl_destination *d;
	struct queue q = { 0 };
	struct result r = { 0 };
	json_t *rec = json_pack("{s:s}", "version", "1.0");

	(void)state;
	assert_int_equal(sl_destination_new(base, &cfg, &d), 0);
	/* not linked yet: not stored, reported on the loop */
	sl_destination_deliver(d, rec, on_done, &r);
	assert_int_equal(r.calls, 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, -ENOTCONN);

	const struct sl_destination_links links = { .invoke_async = invoke_async, .arg = &q };
	sl_destination_link(d, &links);
	sl_destination_deliver(d, rec, on_done, &r);
	assert_string_equal(q.function, "next-fn");
	assert_string_equal(q.payload, "{\"version\":\"1.0\"}");
	assert_int_equal(r.calls, 1);                /* stored only when the queue says so */
	q.done(q.done_arg, 0);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.status, 0);

	q.refuse = -ENOSPC;                          /* the queue's spool is full */
	sl_destination_deliver(d, rec, on_done, &r);
	assert_int_equal(r.calls, 2);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(r.calls, 3);
	assert_int_equal(r.status, -ENOSPC);

	json_decref(rec);
	sl_destination_free(d);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_and_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
