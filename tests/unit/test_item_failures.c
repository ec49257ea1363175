/* Unit tests for dispatcher/item_failures.c: Lambda's partial batch response rules, by table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/event.h"
#include "dispatcher/item_failures.h"

#define N 4

/* Events e1..e4 at positions 11..14 of partition "orders-0". */
static void make_batch(struct sl_event *evs[N])
{
	for (int i = 0; i < N; i++) {
		char buf[16];
		evs[i] = sl_event_new();
		snprintf(buf, sizeof(buf), "e%d", i + 1);
		sl_event_set(evs[i], &evs[i]->id, buf);
		snprintf(buf, sizeof(buf), "%d", 11 + i);
		sl_event_set(evs[i], &evs[i]->position, buf);
		sl_event_set(evs[i], &evs[i]->partition, "orders-0");
	}
}

struct row {
	const char *response;
	enum sl_item_failures verdict;
	const char *failed;        /* SOME_FAILED: one char per event, 'x' failed; INVALID: a piece
				    * of the message */
};

static const struct row rows[] = {
	/* full success */
	{ "", SL_ITEMS_ALL_OK, "" },
	{ "  \n", SL_ITEMS_ALL_OK, "" },
	{ "null", SL_ITEMS_ALL_OK, "" },
	{ "{}", SL_ITEMS_ALL_OK, "" },
	{ "\"done\"", SL_ITEMS_ALL_OK, "" },
	{ "42", SL_ITEMS_ALL_OK, "" },
	{ "{\"batchItemFailures\":null}", SL_ITEMS_ALL_OK, "" },
	{ "{\"batchItemFailures\":[]}", SL_ITEMS_ALL_OK, "" },
	{ "{\"other\":[{\"itemIdentifier\":\"e1\"}]}", SL_ITEMS_ALL_OK, "" },
	/* listed events, by id, position, or Kafka's partition and offset */
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":\"e2\"}]}", SL_ITEMS_SOME_FAILED, ".x.." },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":\"e4\"},{\"itemIdentifier\":\"e1\"}]}",
	  SL_ITEMS_SOME_FAILED, "x..x" },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":\"13\"}]}", SL_ITEMS_SOME_FAILED, "..x." },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":{\"partition\":\"orders-0\",\"offset\":12}}]}",
	  SL_ITEMS_SOME_FAILED, ".x.." },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":\"e3\"},{\"itemIdentifier\":\"e3\"}]}",
	  SL_ITEMS_SOME_FAILED, "..x." },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":\"e1\",\"extra\":true}]}",
	  SL_ITEMS_SOME_FAILED, "x..." },
	/* invalid: the whole batch failed */
	{ "{not json", SL_ITEMS_INVALID, "not JSON" },
	{ "{\"batchItemFailures\":\"e1\"}", SL_ITEMS_INVALID, "not an array" },
	{ "{\"batchItemFailures\":{}}", SL_ITEMS_INVALID, "not an array" },
	{ "{\"batchItemFailures\":[\"e1\"]}", SL_ITEMS_INVALID, "[0] is not an object" },
	{ "{\"batchItemFailures\":[{\"itemId\":\"e1\"}]}", SL_ITEMS_INVALID, "has no itemIdentifier" },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}", SL_ITEMS_INVALID, "is empty" },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":null}]}", SL_ITEMS_INVALID, "names no event" },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":7}]}", SL_ITEMS_INVALID, "names no event" },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":\"e1\"},{\"itemIdentifier\":\"e9\"}]}",
	  SL_ITEMS_INVALID, "[1].itemIdentifier \"e9\" names no event" },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":{\"partition\":\"orders-1\",\"offset\":12}}]}",
	  SL_ITEMS_INVALID, "names no event" },
	{ "{\"batchItemFailures\":[{\"itemIdentifier\":{\"partition\":\"orders-0\",\"offset\":\"12\"}}]}",
	  SL_ITEMS_INVALID, "names no event" },
};

static void test_table(void **state)
{
	struct sl_event *evs[N];
	const struct sl_event *cevs[N];

	(void)state;
	make_batch(evs);
	for (int i = 0; i < N; i++)
		cevs[i] = evs[i];
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		bool failed[N];
		char why[256] = "";
		const struct row *row = &rows[r];
		enum sl_item_failures got = sl_item_failures_parse(row->response,
								   strlen(row->response), cevs, N,
								   failed, why, sizeof(why));
		if (got != row->verdict)
			fail_msg("row %zu (%s): verdict %d, want %d (%s)", r, row->response, (int)got,
				 (int)row->verdict, why);
		for (int i = 0; i < N; i++) {
			bool want = row->verdict == SL_ITEMS_SOME_FAILED && row->failed[i] == 'x';
			if (failed[i] != want)
				fail_msg("row %zu (%s): event %d failed=%d", r, row->response, i,
					 failed[i]);
		}
		if (row->verdict == SL_ITEMS_INVALID && !strstr(why, row->failed))
			fail_msg("row %zu: message \"%s\" lacks \"%s\"", r, why, row->failed);
	}
	for (int i = 0; i < N; i++)
		sl_event_unref(evs[i]);
}

/* The first event with a duplicate id is the one named (the earliest, to retry from). */
static void test_duplicate_ids_name_the_first(void **state)
{
	struct sl_event *evs[N];
	const struct sl_event *cevs[N];
	bool failed[N];
	const char *resp = "{\"batchItemFailures\":[{\"itemIdentifier\":\"dup\"}]}";

	(void)state;
	make_batch(evs);
	sl_event_set(evs[1], &evs[1]->id, "dup");
	sl_event_set(evs[3], &evs[3]->id, "dup");
	for (int i = 0; i < N; i++)
		cevs[i] = evs[i];
	assert_int_equal(sl_item_failures_parse(resp, strlen(resp), cevs, N, failed, NULL, 0),
			 SL_ITEMS_SOME_FAILED);
	assert_true(failed[1]);
	assert_false(failed[3]);
	for (int i = 0; i < N; i++)
		sl_event_unref(evs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_duplicate_ids_name_the_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
