/* Delivery semantics of dispatcher/trigger*.c with a scripted invoker (trigger_harness.h):
 * bisect, partial batch responses for ordered and queue sources, record age, retries without a
 * limit, throttles, max_concurrency, on_success records, an oversized event. Deterministic: the
 * answers depend only on the batch, and the age tests set each event's arrival time.
 */
#include "tests/unit/trigger_harness.h"

/* ---- answers ---------------------------------------------------------------------------- */

static void answer_ok(struct th *h, const struct th_call *c, struct th_answer *out)
{
	(void)h;
	(void)c;
	*out = (struct th_answer){ .status = SL_INVOKE_OK };
}

static void answer_fail(struct th *h, const struct th_call *c, struct th_answer *out)
{
	(void)h;
	(void)c;
	*out = (struct th_answer){ .status = SL_INVOKE_FUNCTION_ERROR };
}

/* Any batch holding the id in h->user fails. */
static void answer_poison(struct th *h, const struct th_call *c, struct th_answer *out)
{
	*out = (struct th_answer){ .status = th_call_has(c, h->user) ? SL_INVOKE_FUNCTION_ERROR
								       : SL_INVOKE_OK };
}

/* The first call answers with the response in h->user; later ones succeed. */
static void answer_first_with(struct th *h, const struct th_call *c, struct th_answer *out)
{
	(void)c;
	*out = (struct th_answer){ .status = SL_INVOKE_OK };
	if (h->n_calls == 0)
		snprintf(out->response, sizeof(out->response), "%s", (const char *)h->user);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void check_ids(struct th *h, size_t call, const char *want)
{
	char *got = th_call_ids(h, call);
	assert_string_equal(got, want);
	free(got);
}

/* One poison event in a batch of 100: isolated by halving, dead-lettered alone, the other 99
 * delivered once each, in at most 1 + 2*ceil(log2 100) invocations. */
static void test_bisect_isolates_poison(void **state)
{
	struct th *h = th_new(answer_poison);

	(void)state;
	h->user = "e37";
	h->cfg.batch_size = 100;
	h->cfg.max_retry_attempts = 0;
	h->cfg.bisect_on_error = true;
	th_start(h);
	for (int i = 1; i <= 100; i++)
		th_offer(h, 0, (uint64_t)i, NULL);
	th_run(h, 20000);

	assert_true(h->n_calls <= 1 + 2 * 7);
	int delivered[101] = { 0 };
	for (size_t i = 0; i < h->n_calls; i++)
		if (h->calls[i].status == SL_INVOKE_OK)
			for (size_t k = 0; k < h->calls[i].n; k++)
				delivered[atoi(h->calls[i].ids[k] + 1)]++;
	for (int i = 1; i <= 100; i++)
		assert_int_equal(delivered[i], i == 37 ? 0 : 1);
	json_decref(th_one_record(&h->dlq_cfg, "e37"));
	assert_string_equal(h->committed[0], "100");
	assert_true(th_stats(h).bisections >= 7);
	th_free(h);
}

/* Without bisect the whole batch is retried and dead-lettered together. */
static void test_no_bisect_dead_letters_the_batch(void **state)
{
	struct th *h = th_new(answer_poison);

	(void)state;
	h->user = "e3";
	h->cfg.batch_size = 4;
	h->cfg.max_retry_attempts = 1;
	th_start(h);
	for (int i = 1; i <= 4; i++)
		th_offer(h, 0, (uint64_t)i, NULL);
	th_run(h, 10000);
	assert_int_equal(h->n_calls, 2);
	json_t *rec = th_one_record(&h->dlq_cfg, "e1,e2,e3,e4");
	assert_int_equal(json_integer_value(th_at(rec, "requestContext",
						  "approximateInvokeCount")), 2);
	assert_string_equal(json_string_value(th_at(rec, "requestContext", "condition")),
			    "RetryAttemptsExhausted");
	json_decref(rec);
	th_free(h);
}

/* Queue source: only the listed events are retried. */
static void test_partial_response_queue(void **state)
{
	struct th *h = th_new(answer_first_with);

	(void)state;
	h->user = "{\"batchItemFailures\":[{\"itemIdentifier\":\"e7\"},"
		  "{\"itemIdentifier\":\"e3\"}]}";
	h->cfg.report_batch_item_failures = true;
	th_start(h);
	for (int i = 1; i <= 10; i++)
		th_offer(h, 0, (uint64_t)i, NULL);
	th_run(h, 10000);
	assert_int_equal(h->n_calls, 2);
	check_ids(h, 0, "e1,e2,e3,e4,e5,e6,e7,e8,e9,e10");
	check_ids(h, 1, "e3,e7");
	assert_string_equal(h->committed[0], "10");
	assert_int_equal(th_stats(h).partial_responses, 1);
	th_free(h);
}

/* Ordered source: everything from the first listed event on is retried. */
static void test_partial_response_ordered(void **state)
{
	struct th *h = th_new(answer_first_with);

	(void)state;
	h->user = "{\"batchItemFailures\":[{\"itemIdentifier\":\"e7\"},"
		  "{\"itemIdentifier\":\"3\"}]}";      /* by id and by position */
	h->cfg.report_batch_item_failures = true;
	h->ordered = true;
	th_start(h);
	for (int i = 1; i <= 10; i++)
		th_offer(h, 0, (uint64_t)i, NULL);
	th_run(h, 10000);
	assert_int_equal(h->n_calls, 2);
	check_ids(h, 1, "e3,e4,e5,e6,e7,e8,e9,e10");
	assert_string_equal(h->committed[0], "10");
	th_free(h);
}

/* Success answers with an empty list, null, no list, or no body. */
static void test_partial_response_full_success(void **state)
{
	const char *answers[] = { "{\"batchItemFailures\":[]}", "{\"batchItemFailures\":null}",
				  "{\"status\":\"fine\"}", "", "null", "\"done\"" };

	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct th *h = th_new(answer_first_with);
		h->user = (void *)answers[i];
		h->cfg.report_batch_item_failures = true;
		h->cfg.batch_size = 3;
		th_start(h);
		for (int k = 1; k <= 3; k++)
			th_offer(h, 0, (uint64_t)k, NULL);
		th_run(h, 10000);
		assert_int_equal(h->n_calls, 1);
		assert_int_equal(th_stats(h).events_dead_lettered, 0);
		th_free(h);
	}
}

/* An unknown or malformed identifier fails the whole batch; the record says why and that the
 * function itself did not fail (functionError null). */
static void test_partial_response_invalid(void **state)
{
	const char *answers[] = {
		"{\"batchItemFailures\":[{\"itemIdentifier\":\"zz\"}]}",
		"{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}",
		"{\"batchItemFailures\":[{\"itemId\":\"e1\"}]}",
		"{\"batchItemFailures\":[{\"itemIdentifier\":null}]}",
		"{\"batchItemFailures\":\"e1\"}",
		"{not json",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct th *h = th_new(answer_first_with);
		h->user = (void *)answers[i];
		h->cfg.report_batch_item_failures = true;
		h->cfg.max_retry_attempts = 0;
		h->cfg.batch_size = 3;
		th_start(h);
		for (int k = 1; k <= 3; k++)
			th_offer(h, 0, (uint64_t)k, NULL);
		th_run(h, 10000);
		assert_int_equal(h->n_calls, 1);
		json_t *rec = th_one_record(&h->dlq_cfg, "e1,e2,e3");
		assert_string_equal(json_string_value(th_at(rec, "errorType", NULL)),
				    "Function.InvalidBatchItemFailures");
		assert_true(json_is_null(th_at(rec, "responseContext", "functionError")));
		json_decref(rec);
		th_free(h);
	}
}

/* Events older than max_record_age_s are dead-lettered without an invoke; the newer rest of
 * the batch is invoked. */
static void test_record_age(void **state)
{
	struct th *h = th_new(answer_ok);

	(void)state;
	h->cfg.max_record_age_s = 60;
	h->cfg.batch_size = 5;
	th_start(h);
	for (int i = 1; i <= 5; i++)
		th_offer_aged(h, 0, (uint64_t)i, NULL, i <= 2 ? 61000 : 0);
	th_run(h, 10000);
	assert_int_equal(h->n_calls, 1);
	check_ids(h, 0, "e3,e4,e5");
	json_t *rec = th_one_record(&h->dlq_cfg, "e1,e2");
	assert_string_equal(json_string_value(th_at(rec, "requestContext", "condition")),
			    "RecordAgeExceeded");
	assert_null(th_at(rec, "responseContext", NULL));
	assert_int_equal(th_stats(h).events_expired, 2);
	assert_string_equal(h->committed[0], "5");
	json_decref(rec);
	th_free(h);
}

/* max_retry_attempts -1: retried until the events pass max_record_age_s. */
static void test_unlimited_retries_until_age(void **state)
{
	struct th *h = th_new(answer_fail);

	(void)state;
	h->cfg.max_retry_attempts = -1;
	h->cfg.max_record_age_s = 60;
	h->cfg.batch_size = 1;
	h->cfg.retry_base_ms = 20;
	h->cfg.retry_max_ms = 20;
	th_start(h);
	th_offer_aged(h, 0, 1, NULL, 60000 - 300);   /* expires 300 ms from now */
	th_run(h, 10000);
	assert_true(h->n_calls >= 4);                /* far more than the default 3 */
	json_t *rec = th_one_record(&h->dlq_cfg, "e1");
	assert_string_equal(json_string_value(th_at(rec, "requestContext", "condition")),
			    "RecordAgeExceeded");
	assert_int_equal(json_integer_value(th_at(rec, "requestContext",
						  "approximateInvokeCount")),
			 (json_int_t)h->n_calls);
	json_decref(rec);
	th_free(h);
}

/* Throttles do not count as attempts: 3 throttles then success with max_retry_attempts 0. */
static void answer_throttle_thrice(struct th *h, const struct th_call *c, struct th_answer *out)
{
	(void)c;
	*out = (struct th_answer){ .status = h->n_calls < 3 ? SL_INVOKE_THROTTLED : SL_INVOKE_OK };
}

static void test_throttles_are_not_attempts(void **state)
{
	struct th *h = th_new(answer_throttle_thrice);

	(void)state;
	h->cfg.max_retry_attempts = 0;
	th_start(h);
	th_offer(h, 0, 1, NULL);
	th_run(h, 10000);
	assert_int_equal(h->n_calls, 4);
	assert_int_equal(th_stats(h).events_dead_lettered, 0);
	assert_int_equal(th_stats(h).throttles, 3);
	th_free(h);
}

/* max_concurrency caps batches out across partitions; waiting lanes all get their turn. */
static void answer_slow(struct th *h, const struct th_call *c, struct th_answer *out)
{
	(void)h;
	(void)c;
	*out = (struct th_answer){ .status = SL_INVOKE_OK, .delay_ms = 20 };
}

static void test_max_concurrency(void **state)
{
	struct th *h = th_new(answer_slow);

	(void)state;
	h->cfg.max_concurrency = 2;
	h->cfg.batch_size = 1;
	h->cfg.max_batching_window_ms = 0;
	th_start(h);
	for (int i = 1; i <= 24; i++)
		th_offer(h, i % 6, (uint64_t)i, NULL);
	th_run(h, 20000);
	assert_int_equal(h->max_outstanding, 2);
	assert_int_equal(h->n_calls, 24);
	for (int p = 0; p < 6; p++)
		assert_string_not_equal(h->committed[p], "");
	th_free(h);
}

/* on_success: each accepted batch is recorded (with the response) before it commits; with a
 * partial answer only what succeeded is in the record. */
static void test_on_success_records(void **state)
{
	struct th *h = th_new(answer_first_with);

	(void)state;
	h->user = "{\"batchItemFailures\":[{\"itemIdentifier\":\"e2\"}]}";
	h->cfg.report_batch_item_failures = true;
	h->with_on_success = true;
	h->cfg.batch_size = 3;
	th_start(h);
	for (int i = 1; i <= 3; i++)
		th_offer(h, 0, (uint64_t)i, NULL);
	th_run(h, 10000);
	json_t *ok = th_records(&h->ok_cfg);
	assert_int_equal(json_array_size(ok), 2);
	char *first = th_record_ids(json_array_get(ok, 0));
	char *second = th_record_ids(json_array_get(ok, 1));
	assert_string_equal(first, "e1,e3");
	assert_string_equal(second, "e2");
	free(first);
	free(second);
	json_t *rec = json_array_get(ok, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec,
		"requestContext"), "condition")), "Success");
	assert_true(json_is_array(json_object_get(json_object_get(rec, "responsePayload"),
						  "batchItemFailures")));
	assert_string_equal(h->committed[0], "3");
	json_decref(ok);
	th_free(h);
}

/* An event over max_batch_bytes is dead-lettered without an invoke; the others go on. */
static void test_oversized_event(void **state)
{
	struct th *h = th_new(answer_ok);

	(void)state;
	h->cfg.max_batch_bytes = 200;
	th_start(h);
	th_offer(h, 0, 1, NULL);
	struct sl_event *big = sl_event_new();
	sl_event_set(big, &big->id, "big");
	sl_event_set(big, &big->source, "/test");
	sl_event_set(big, &big->type, "t");
	sl_event_set(big, &big->partition, "p0");
	sl_event_set(big, &big->position, "2");
	char text[512];
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	sl_event_set_data_json(big, json_string(text));
	assert_int_equal(sl_trigger_offer(h->t, big), 0);
	th_offer(h, 0, 3, NULL);
	th_run(h, 10000);
	for (size_t i = 0; i < h->n_calls; i++)
		assert_false(th_call_has(&h->calls[i], "big"));
	json_t *rec = th_one_record(&h->dlq_cfg, "big");
	assert_string_equal(json_string_value(th_at(rec, "errorType", NULL)),
			    "Sluice.EventTooLarge");
	assert_string_equal(json_string_value(th_at(rec, "requestContext", "condition")),
			    "EventNotDeliverable");
	assert_string_equal(h->committed[0], "3");
	json_decref(rec);
	th_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bisect_isolates_poison),
		cmocka_unit_test(test_no_bisect_dead_letters_the_batch),
		cmocka_unit_test(test_partial_response_queue),
		cmocka_unit_test(test_partial_response_ordered),
		cmocka_unit_test(test_partial_response_full_success),
		cmocka_unit_test(test_partial_response_invalid),
		cmocka_unit_test(test_record_age),
		cmocka_unit_test(test_unlimited_retries_until_age),
		cmocka_unit_test(test_throttles_are_not_attempts),
		cmocka_unit_test(test_max_concurrency),
		cmocka_unit_test(test_on_success_records),
		cmocka_unit_test(test_oversized_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
