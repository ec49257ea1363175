/* Unit tests for core/clock.c: ISO 8601 formatting and parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/clock.h"

static void test_parse_valid(void **state)
{
	static const struct { const char *text; int64_t ms; } cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-24T10:00:00Z", 1795514400000LL },
		{ "2026-11-24T10:00:00.123Z", 1795514400123LL },
		{ "2026-11-24T10:00:00.1Z", 1795514400100LL },
		{ "2026-11-24T10:00:00.123456789Z", 1795514400123LL },
		{ "2026-11-24 10:00:00Z", 1795514400000LL },
		{ "2026-11-24t10:00:00z", 1795514400000LL },
		{ "2026-11-24T11:30:00+01:30", 1795514400000LL },
		{ "2026-11-24T05:00:00-05:00", 1795514400000LL },
		{ "2024-02-29T00:00:00Z", 1709164800000LL },
		{ "1969-12-31T23:59:59Z", -1000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = 42;
		if (sl_parse_iso8601_ms(cases[i].text, &ms) != 0)
			fail_msg("%s: not parsed", cases[i].text);
		if (ms != cases[i].ms)
			fail_msg("%s: %lld, want %lld", cases[i].text, (long long)ms,
				 (long long)cases[i].ms);
	}
}

static void test_parse_invalid(void **state)
{
	static const char *cases[] = {
		"", "2026-11-24", "2026-11-24T10:00:00", "2026-11-24T10:00Z",
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T10:60:00Z",
		"2026-11-24T10:00:60Z", "2026-11-24T10:00:00.Z", "2026-11-24T10:00:00+0100",
		"2026-11-24T10:00:00+24:00", "2026-11-24T10:00:00Z ", "26-11-24T10:00:00Z",
		"2026/11/24T10:00:00Z", "2026-11-24X10:00:00Z", "+2026-11-24T10:00:00Z",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = 42;
		if (sl_parse_iso8601_ms(cases[i], &ms) == 0)
			fail_msg("\"%s\" parsed as %lld", cases[i], (long long)ms);
		assert_int_equal(ms, 42);          /* untouched */
	}
}

/* What Sluice prints, it reads back. */
static void test_format_round_trip(void **state)
{
	const int64_t times[] = { 0, 1795514400123LL, 951782400999LL, 4102444799000LL };
	char buf[40];

	(void)state;
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int64_t back = -1;
		sl_format_iso8601_ms(times[i], buf, sizeof(buf));
		assert_int_equal(sl_parse_iso8601_ms(buf, &back), 0);
		assert_int_equal(back, times[i]);
	}
	sl_format_iso8601_s(1795514400, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-24T10:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
