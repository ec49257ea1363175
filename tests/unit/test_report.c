/* The invocation log tail (X-Amz-Log-Result): it keeps the last SL_LOG_TAIL_BYTES bytes of the
 * invocation's lines, each ending in a newline, whatever their sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "executor/report.c"

static void test_lines_kept_in_order(void **state)
{
	struct sl_log_tail t = { 0 };
	(void)state;

	tail_append(&t, "START", 5);
	tail_append(&t, "hello", 5);
	assert_int_equal(t.len, 12);
	assert_memory_equal(t.buf, "START\nhello\n", 12);
}

static void test_oldest_bytes_dropped_past_the_limit(void **state)
{
	struct sl_log_tail t = { 0 };
	char line[1000];
	(void)state;

	for (int i = 0; i < 10; i++) {
		memset(line, 'a' + i, sizeof(line));
		tail_append(&t, line, sizeof(line));
	}
	/* 10 lines of 1001 bytes ('a'..'j'): the last 4096 are the end of 'f', then 'g'..'j' */
	assert_int_equal(t.len, SL_LOG_TAIL_BYTES);
	assert_int_equal(t.buf[SL_LOG_TAIL_BYTES - 1], '\n');
	assert_int_equal(t.buf[SL_LOG_TAIL_BYTES - 2], 'j');
	assert_int_equal(t.buf[SL_LOG_TAIL_BYTES - 1002], '\n');
	assert_int_equal(t.buf[SL_LOG_TAIL_BYTES - 1003], 'i');
	assert_int_equal(t.buf[0], 'f');
}

static void test_one_huge_line_keeps_its_end(void **state)
{
	static char line[3 * SL_LOG_TAIL_BYTES];
	struct sl_log_tail t = { 0 };
	(void)state;

	tail_append(&t, "START", 5);
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = 'z';
	tail_append(&t, line, sizeof(line));
	assert_int_equal(t.len, SL_LOG_TAIL_BYTES);
	assert_int_equal(t.buf[SL_LOG_TAIL_BYTES - 2], 'z');
	assert_int_equal(t.buf[SL_LOG_TAIL_BYTES - 1], '\n');
	assert_int_equal(t.buf[0], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_kept_in_order),
		cmocka_unit_test(test_oldest_bytes_dropped_past_the_limit),
		cmocka_unit_test(test_one_huge_line_keeps_its_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
