/* Decimal integers (core/decimal.c) against printf, at the edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/decimal.h"

static void test_against_printf(void **state)
{
	const int64_t values[] = { 0, 7, 10, -1, -10, 1795600000123, INT64_MAX, INT64_MIN };
	char got[SL_DECIMAL_MAX], want[32];

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(want, sizeof(want), "%" PRId64, values[i]);
		assert_int_equal(sl_decimal(values[i], got), strlen(want));
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_printf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
