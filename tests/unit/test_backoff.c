/* Unit tests for dispatcher/backoff.c: the capped exponential schedule and full jitter bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dispatcher/backoff.h"

static uint64_t fixed_rand(void *arg)
{
	return *(const uint64_t *)arg;
}

static void test_cap_doubles_then_stops(void **state)
{
	(void)state;
	const uint64_t want[] = { 100, 200, 400, 800, 1000, 1000, 1000 };
	for (unsigned n = 1; n <= 7; n++)
		assert_int_equal(sl_backoff_cap_ms(n, 100, 1000), want[n - 1]);
	assert_int_equal(sl_backoff_cap_ms(0, 100, 1000), 100);      /* 0 treated as 1 */
	assert_int_equal(sl_backoff_cap_ms(10000, 100, 1000), 1000);  /* no overflow */
	assert_int_equal(sl_backoff_cap_ms(70, UINT64_MAX / 3, UINT64_MAX), UINT64_MAX);
	assert_int_equal(sl_backoff_cap_ms(5, 0, 1000), 0);
	assert_int_equal(sl_backoff_cap_ms(1, 5000, 1000), 1000);    /* base above max */
}

static void test_bounds_per_attempt_with_fixed_source(void **state)
{
	(void)state;
	uint64_t lo = 0, hi = UINT64_MAX, mid = UINT64_C(1) << 63;

	for (unsigned n = 1; n <= 12; n++) {
		uint64_t cap = sl_backoff_cap_ms(n, 200, 60000);
		assert_int_equal(sl_backoff_full_jitter(n, 200, 60000, fixed_rand, &lo), 0);
		assert_int_equal(sl_backoff_full_jitter(n, 200, 60000, fixed_rand, &hi), cap);
		uint64_t half = sl_backoff_full_jitter(n, 200, 60000, fixed_rand, &mid);
		assert_in_range(half, cap / 2, cap / 2 + 1);
	}
}

static void test_cap_reached(void **state)
{
	(void)state;
	uint64_t hi = UINT64_MAX;

	/* 1000 * 2^6 = 64000 > 60000: from retry 7 on the delay never passes max_ms. */
	assert_int_equal(sl_backoff_full_jitter(6, 1000, 60000, fixed_rand, &hi), 32000);
	assert_int_equal(sl_backoff_full_jitter(7, 1000, 60000, fixed_rand, &hi), 60000);
	assert_int_equal(sl_backoff_full_jitter(500, 1000, 60000, fixed_rand, &hi), 60000);
}

static void test_default_source_spreads(void **state)
{
	(void)state;
	uint64_t sum = 0, min = UINT64_MAX, max = 0;

	for (int i = 0; i < 20000; i++) {
		uint64_t d = sl_backoff_full_jitter(3, 100, 1000, NULL, NULL);
		assert_in_range(d, 0, 400);
		sum += d;
		min = d < min ? d : min;
		max = d > max ? d : max;
	}
	assert_in_range(sum / 20000, 180, 220);   /* mean of U[0,400] is 200 */
	assert_true(min < 10);
	assert_true(max > 390);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_doubles_then_stops),
		cmocka_unit_test(test_bounds_per_attempt_with_fixed_source),
		cmocka_unit_test(test_cap_reached),
		cmocka_unit_test(test_default_source_spreads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
