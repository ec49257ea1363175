/* Unit tests for dispatcher/batcher.c: size, bytes and window rules under a controlled clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "dispatcher/batcher.h"

/* An event whose data is a string of `data_len` characters. */
static struct sl_event *mk_event(int n, size_t data_len)
{
	struct sl_event *ev = sl_event_new();
	char id[32];
	char *data = calloc(1, data_len + 1);

	memset(data, 'x', data_len);
	snprintf(id, sizeof(id), "ev-%d", n);
	sl_event_set(ev, &ev->id, id);
	sl_event_set(ev, &ev->source, "test");
	sl_event_set(ev, &ev->type, "t");
	sl_event_set_data_json(ev, json_string(data));
	free(data);
	return ev;
}

static void init(struct sl_batcher *b, size_t size, uint64_t bytes, int64_t window)
{
	struct sl_batcher_limits lim = { .batch_size = size, .max_bytes = bytes,
					 .window_ms = window, .max_events = 1000 };
	sl_batcher_init(b, &lim);
}

static void push(struct sl_batcher *b, int n, size_t len, int64_t now)
{
	struct sl_event *ev = mk_event(n, len);
	assert_int_equal(sl_batcher_push(b, ev, sl_event_size(ev), (uint64_t)n, now), 0);
}

static void assert_batch(const struct sl_batch *batch, int first, size_t n)
{
	assert_int_equal(batch->n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(batch->items[i].tag, (uint64_t)first + i);
}

static void test_window_ready_at_deadline_not_before(void **state)
{
	struct sl_batcher b;
	struct sl_batch batch = { 0 };

	(void)state;
	init(&b, 10, 1 << 20, 100);
	assert_int_equal(sl_batcher_deadline(&b), INT64_MAX);
	push(&b, 1, 10, 0);
	push(&b, 2, 10, 10);
	push(&b, 3, 10, 20);
	assert_int_equal(sl_batcher_deadline(&b), 100);
	assert_false(sl_batcher_ready(&b, 99));
	assert_int_equal(sl_batcher_take(&b, 99, &batch), -EAGAIN);
	assert_true(sl_batcher_ready(&b, 100));
	assert_int_equal(sl_batcher_take(&b, 100, &batch), 0);
	assert_batch(&batch, 1, 3);
	assert_false(batch.oversized);
	assert_int_equal(sl_batcher_count(&b), 0);
	assert_int_equal(sl_batcher_deadline(&b), INT64_MAX);
	sl_batch_release(&batch);
	sl_batcher_release(&b);
}

static void test_size_triggers_before_window(void **state)
{
	struct sl_batcher b;
	struct sl_batch batch = { 0 };

	(void)state;
	init(&b, 3, 1 << 20, 1000);
	push(&b, 1, 10, 0);
	push(&b, 2, 10, 1);
	assert_false(sl_batcher_ready(&b, 2));
	push(&b, 3, 10, 2);
	push(&b, 4, 10, 50);
	assert_true(sl_batcher_ready(&b, 2));
	assert_int_equal(sl_batcher_take(&b, 2, &batch), 0);
	assert_batch(&batch, 1, 3);
	sl_batch_release(&batch);
	/* The 4th event starts the next batch; its window counts from its own arrival. */
	assert_int_equal(sl_batcher_count(&b), 1);
	assert_int_equal(sl_batcher_deadline(&b), 1050);
	assert_false(sl_batcher_ready(&b, 1049));
	assert_true(sl_batcher_ready(&b, 1050));
	sl_batcher_release(&b);
}

static void test_bytes_close_the_batch(void **state)
{
	struct sl_batcher b;
	struct sl_batch batch = { 0 };
	struct sl_event *probe = mk_event(0, 100);
	uint64_t one = sl_event_size(probe);

	(void)state;
	sl_event_unref(probe);
	init(&b, 100, one * 2 + one / 2, 1000);
	push(&b, 1, 100, 0);
	push(&b, 2, 100, 1);
	assert_false(sl_batcher_ready(&b, 1));
	push(&b, 3, 100, 2);                /* would pass max_bytes: the first two are ready */
	assert_true(sl_batcher_ready(&b, 2));
	assert_int_equal(sl_batcher_take(&b, 2, &batch), 0);
	assert_batch(&batch, 1, 2);
	assert_int_equal(batch.bytes, one * 2);
	sl_batch_release(&batch);
	assert_false(sl_batcher_ready(&b, 3));
	assert_int_equal(sl_batcher_bytes(&b), one);
	assert_int_equal(sl_batcher_deadline(&b), 1002);
	sl_batcher_release(&b);
}

static void test_oversized_event_alone(void **state)
{
	struct sl_batcher b;
	struct sl_batch batch = { 0 };

	(void)state;
	init(&b, 10, 500, 1000);
	push(&b, 1, 10, 0);
	push(&b, 2, 2000, 1);               /* bigger than max_bytes on its own */
	push(&b, 3, 10, 2);
	assert_true(sl_batcher_ready(&b, 2));
	assert_int_equal(sl_batcher_take(&b, 2, &batch), 0);
	assert_batch(&batch, 1, 1);
	assert_false(batch.oversized);
	sl_batch_release(&batch);

	assert_true(sl_batcher_ready(&b, 2));
	assert_int_equal(sl_batcher_take(&b, 2, &batch), 0);
	assert_batch(&batch, 2, 1);
	assert_true(batch.oversized);
	assert_true(batch.bytes > 500);
	sl_batch_release(&batch);

	assert_false(sl_batcher_ready(&b, 2));
	assert_int_equal(sl_batcher_take(&b, 1002, &batch), 0);
	assert_batch(&batch, 3, 1);
	sl_batch_release(&batch);
	sl_batcher_release(&b);
}

static void test_zero_window_and_backlog(void **state)
{
	struct sl_batcher b;
	struct sl_batch batch = { 0 };

	(void)state;
	init(&b, 2, 1 << 20, 0);
	push(&b, 1, 10, 5);
	assert_true(sl_batcher_ready(&b, 5));
	sl_batcher_release(&b);

	/* Events queued behind a batch in flight: once it is taken, the backlog whose window
	 * already expired is ready at once. */
	init(&b, 2, 1 << 20, 100);
	for (int i = 1; i <= 5; i++)
		push(&b, i, 10, i);
	assert_int_equal(sl_batcher_take(&b, 5, &batch), 0);
	assert_batch(&batch, 1, 2);
	sl_batch_release(&batch);
	assert_int_equal(sl_batcher_take(&b, 6, &batch), 0);
	assert_batch(&batch, 3, 2);
	sl_batch_release(&batch);
	assert_false(sl_batcher_ready(&b, 104));
	assert_int_equal(sl_batcher_deadline(&b), 105);
	assert_int_equal(sl_batcher_take(&b, 500, &batch), 0);
	assert_batch(&batch, 5, 1);
	sl_batch_release(&batch);
	sl_batcher_release(&b);
}

static void test_limit_and_references(void **state)
{
	struct sl_batcher b;
	struct sl_batcher_limits lim = { .batch_size = 100, .max_bytes = 1 << 20,
					 .window_ms = 10, .max_events = 40 };
	struct sl_event *kept = mk_event(99, 1);
	struct sl_batch batch = { 0 };

	(void)state;
	sl_batcher_init(&b, &lim);
	for (int i = 0; i < 40; i++)
		push(&b, i, 1, 0);
	assert_int_equal(sl_batcher_push(&b, kept, sl_event_size(kept), 99, 0), -ENOBUFS);
	assert_int_equal(kept->refs, 1);
	/* Ring wrap-around: take 40, push 30 more, all in order. */
	assert_int_equal(sl_batcher_take(&b, 10, &batch), 0);
	assert_batch(&batch, 0, 40);
	sl_batch_release(&batch);
	for (int i = 40; i < 70; i++)
		push(&b, i, 1, 20);
	assert_int_equal(sl_batcher_push(&b, sl_event_ref(kept), sl_event_size(kept), 99, 20), 0);
	assert_int_equal(kept->refs, 2);
	assert_int_equal(sl_batcher_take(&b, 30, &batch), 0);
	assert_int_equal(batch.n, 31);
	for (size_t i = 0; i < 30; i++)
		assert_int_equal(batch.items[i].tag, 40 + i);
	assert_ptr_equal(batch.items[30].ev, kept);
	sl_batch_release(&batch);
	assert_int_equal(kept->refs, 1);
	sl_batcher_release(&b);
	sl_event_unref(kept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_ready_at_deadline_not_before),
		cmocka_unit_test(test_size_triggers_before_window),
		cmocka_unit_test(test_bytes_close_the_batch),
		cmocka_unit_test(test_oversized_event_alone),
		cmocka_unit_test(test_zero_window_and_backlog),
		cmocka_unit_test(test_limit_and_references),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
