/* The schedule source: a tick becomes one durable spool record holding EventBridge's
 * "Scheduled Event"; the next tick is armed on the rate's grid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "connectors/schedule/schedule_source.c"

#include "connectors/spool_record.h"
#include "core/loop.h"
#include "core/spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	struct event_base *base;
	struct sl_source_config cfg;
	struct sl_source *src;
};

static int setup(void **state)
{
	struct fixture *fx = sl_xcalloc(1, sizeof(*fx));
	strcpy(fx->dir, "/tmp/sluice-sched.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->base = sl_loop_new();
	fx->cfg.name = "tick";
	fx->cfg.kind = SL_SOURCE_SCHEDULE;
	fx->cfg.expression = "rate(5 minutes)";
	fx->cfg.detail = json_pack("{s:s}", "team", "ops");
	assert_int_equal(sl_source_open(fx->base, &fx->cfg, fx->dir, 1 << 20, 64 << 10, &fx->src), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	sl_source_close(fx->src);
	event_base_free(fx->base);
	json_decref(fx->cfg.detail);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* Read the one spool record the source wrote and decode its events. */
static struct sl_event **read_tick(struct fixture *fx, size_t *n)
{
	struct sl_spool_reader *reader;
	struct sl_event **events;
	char err[256];
	void *data;
	size_t len;
	uint64_t seq;

	assert_int_equal(sl_spool_wait_durable(fx->src->spool, 1), 0);
	assert_int_equal(sl_spool_reader_open(fx->src->spool, "check", &reader), 0);
	assert_int_equal(sl_spool_read(reader, &data, &len, &seq), 1);
	assert_int_equal(sl_spool_record_decode(data, len, seq, "tick", &events, n, err,
						sizeof(err)), 0);
	free(data);
	sl_spool_reader_close(reader);
	return events;
}

static void test_tick_is_an_eventbridge_scheduled_event(void **state)
{
	struct fixture *fx = *state;
	size_t n;

	fire(fx->src, 1732440000); /* 2024-11-24T09:20:00Z */
	struct sl_event **events = read_tick(fx, &n);
	assert_int_equal(n, 1);
	struct sl_event *ev = events[0];
	assert_string_equal(ev->id, "tick-1732440000");
	assert_string_equal(ev->type, "sluice.schedule.tick");
	assert_string_equal(ev->source, "/sluice/sources/tick");
	assert_string_equal(ev->time, "2024-11-24T09:20:00Z");
	assert_int_equal(ev->received_ms, 1732440000000);

	json_t *want = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:{s:s}}", "version",
				 "0", "id", "tick-1732440000", "detail-type", "Scheduled Event",
				 "source", "aws.events", "account", "000000000000", "time",
				 "2024-11-24T09:20:00Z", "region", "us-east-1", "resources",
				 "arn:aws:events:us-east-1:000000000000:rule/tick", "detail", "team",
				 "ops");
	json_t *data = sl_event_data_json(ev);   /* read back from the spool: kept as text */
	assert_non_null(ev->data_text);
	assert_true(json_equal(data, want));
	json_decref(data);
	json_decref(want);
	sl_event_unref(ev);
	free(events);
}

static void test_next_tick_on_the_rate_grid(void **state)
{
	struct fixture *fx = *state;
	struct schedule_source *ss = fx->src->ctx;
	int64_t before = (int64_t)time(NULL);

	assert_int_equal(fx->src->ops->start(fx->src), 0);
	int64_t after = (int64_t)time(NULL);
	assert_int_equal(ss->next_fire % 300, 0);
	assert_true(ss->next_fire > before && ss->next_fire <= after + 300);
	assert_true(evtimer_pending(ss->timer, NULL));
	fx->src->ops->stop(fx->src);
	assert_false(evtimer_pending(ss->timer, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tick_is_an_eventbridge_scheduled_event, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_next_tick_on_the_rate_grid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
