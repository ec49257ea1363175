/* Unit tests for dispatcher/checkpoint.c: out-of-order completion against a simple model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>

#include "core/event.h"
#include "dispatcher/checkpoint.h"

static struct sl_event **mk_events(size_t n)
{
	struct sl_event **evs = calloc(n, sizeof(*evs));
	for (size_t i = 0; i < n; i++)
		evs[i] = sl_event_new();
	return evs;
}

static void free_events(struct sl_event **evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(evs[i]->refs, 1);   /* the tracker released its references */
		sl_event_unref(evs[i]);
	}
	free(evs);
}

static void test_prefix_waits_for_the_gap(void **state)
{
	struct sl_checkpoint *cp = sl_checkpoint_new();
	struct sl_event **evs = mk_events(4);
	uint64_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		t[i] = sl_checkpoint_track(cp, evs[i]);
		assert_int_equal(t[i], (uint64_t)i);
		assert_int_equal(evs[i]->refs, 2);
	}
	assert_null(sl_checkpoint_committed(cp));
	/* Tickets 1..3 of interest; 0 completes first. */
	assert_ptr_equal(sl_checkpoint_done(cp, t[0]), evs[0]);
	assert_null(sl_checkpoint_done(cp, t[3]));     /* done 3: prefix stays at 0 */
	assert_ptr_equal(sl_checkpoint_committed(cp), evs[0]);
	assert_ptr_equal(sl_checkpoint_done(cp, t[1]), evs[1]);   /* done 1: prefix to 1 */
	assert_int_equal(sl_checkpoint_outstanding(cp), 2);
	assert_ptr_equal(sl_checkpoint_done(cp, t[2]), evs[3]);   /* done 2: jumps to 3 */
	assert_int_equal(sl_checkpoint_outstanding(cp), 0);
	/* Released as the prefix passed them; the committable event is still held. */
	assert_int_equal(evs[0]->refs, 1);
	assert_int_equal(evs[2]->refs, 1);
	assert_int_equal(evs[3]->refs, 2);
	/* Tickets no longer (or never) outstanding are ignored. */
	assert_null(sl_checkpoint_done(cp, t[1]));
	assert_null(sl_checkpoint_done(cp, 99));
	sl_checkpoint_free(cp);
	free_events(evs, 4);
}

static void shuffle(uint64_t *a, size_t n, unsigned *seed)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand_r(seed) % (i + 1);
		uint64_t tmp = a[i];
		a[i] = a[j];
		a[j] = tmp;
	}
}

/* Track n events, complete them in a random order, and compare each answer with a model that
 * recomputes the done prefix from scratch. */
static void run_permutation(size_t n, unsigned seed)
{
	struct sl_checkpoint *cp = sl_checkpoint_new();
	struct sl_event **evs = mk_events(n);
	uint64_t *order = calloc(n, sizeof(*order));
	bool *done = calloc(n, sizeof(*done));
	size_t prefix = 0;        /* model: tickets [0, prefix) are done */

	for (size_t i = 0; i < n; i++)
		order[i] = sl_checkpoint_track(cp, evs[i]);
	shuffle(order, n, &seed);
	for (size_t i = 0; i < n; i++) {
		const struct sl_event *got = sl_checkpoint_done(cp, order[i]);
		size_t old = prefix;
		done[order[i]] = true;
		while (prefix < n && done[prefix])
			prefix++;
		if (prefix > old)
			assert_ptr_equal(got, evs[prefix - 1]);
		else
			assert_null(got);
		assert_int_equal(sl_checkpoint_outstanding(cp), n - prefix);
	}
	sl_checkpoint_free(cp);
	free_events(evs, n);
	free(order);
	free(done);
}

static void test_random_permutations_match_model(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 200; seed++)
		run_permutation(1 + seed % 50, seed);
	run_permutation(5000, 7);
}

/* Tracking and completing interleaved, so the ring wraps and grows with tickets in it. */
static void test_interleaved_wraps_ring(void **state)
{
	struct sl_checkpoint *cp = sl_checkpoint_new();
	enum { N = 1000 };
	struct sl_event **evs = mk_events(N);
	size_t tracked = 0, completed = 0;
	unsigned seed = 42;

	(void)state;
	while (completed < N) {
		size_t burst = (size_t)rand_r(&seed) % 40;
		for (size_t i = 0; i < burst && tracked < N; i++, tracked++)
			assert_int_equal(sl_checkpoint_track(cp, evs[tracked]), tracked);
		/* Complete the outstanding ones in reverse: the prefix jumps when the first one is. */
		size_t upto = completed + (tracked - completed) / 2 + (tracked == N);
		for (size_t i = upto; i-- > completed + 1;)
			assert_null(sl_checkpoint_done(cp, i));
		if (upto > completed) {
			assert_ptr_equal(sl_checkpoint_done(cp, completed), evs[upto - 1]);
			completed = upto;
		}
		assert_int_equal(sl_checkpoint_outstanding(cp), tracked - completed);
	}
	sl_checkpoint_free(cp);
	free_events(evs, N);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_waits_for_the_gap),
		cmocka_unit_test(test_random_permutations_match_model),
		cmocka_unit_test(test_interleaved_wraps_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
