/* Prometheus text rendering of the daemon's counters; see metrics.h. Names of triggers, sources
 * and functions are [A-Za-z0-9_-] (the config enforces it), so label values need no escaping. */
#include "daemon/metrics.h"

#include "executor/executor.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stddef.h>

static void family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Single-series trigger counters: one family each. */
struct counter {
	const char *name, *help;
	size_t offset;            /* of a uint64_t in struct sl_trigger_stats */
};

#define STAT(field) offsetof(struct sl_trigger_stats, field)
static const struct counter trigger_counters[] = {
	{ "sluice_trigger_retries_total", "Invocations that were retries (throttles included).",
	  STAT(retries) },
	{ "sluice_trigger_throttles_total", "Invocations refused for lack of a sandbox.",
	  STAT(throttles) },
	{ "sluice_trigger_bisections_total", "Failed batches halved (bisect_on_error).",
	  STAT(bisections) },
	{ "sluice_trigger_partial_responses_total", "Answers that failed some of their events "
	  "(batchItemFailures).", STAT(partial_responses) },
	{ "sluice_trigger_expired_events_total", "Events dead-lettered for max_record_age_s.",
	  STAT(events_expired) },
};

static void render_triggers(struct evbuffer *out, const struct sl_metrics_trigger *t, size_t n)
{
	family(out, "sluice_trigger_events_total", "counter",
	       "Events a trigger took in, finished (delivered, filtered or dead-lettered), "
	       "dead-lettered, filtered out.");
	for (size_t i = 0; i < n; i++) {
		const struct sl_trigger_stats *s = &t[i].stats;
		evbuffer_add_printf(out,
				    "sluice_trigger_events_total{trigger=\"%s\",state=\"in\"} %" PRIu64 "\n"
				    "sluice_trigger_events_total{trigger=\"%s\",state=\"done\"} %" PRIu64 "\n"
				    "sluice_trigger_events_total{trigger=\"%s\",state=\"dead_lettered\"} %" PRIu64 "\n"
				    "sluice_trigger_events_total{trigger=\"%s\",state=\"filtered\"} %" PRIu64 "\n",
				    t[i].name, s->events_in, t[i].name, s->events_done, t[i].name,
				    s->events_dead_lettered, t[i].name, s->events_filtered);
	}
	family(out, "sluice_trigger_batches_total", "counter", "Batches by final outcome.");
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out,
				    "sluice_trigger_batches_total{trigger=\"%s\",outcome=\"ok\"} %" PRIu64 "\n"
				    "sluice_trigger_batches_total{trigger=\"%s\",outcome=\"failed\"} %" PRIu64 "\n",
				    t[i].name, t[i].stats.batches_ok, t[i].name, t[i].stats.batches_failed);
	for (size_t c = 0; c < sizeof(trigger_counters) / sizeof(trigger_counters[0]); c++) {
		const struct counter *k = &trigger_counters[c];
		family(out, k->name, "counter", k->help);
		for (size_t i = 0; i < n; i++)
			evbuffer_add_printf(out, "%s{trigger=\"%s\"} %" PRIu64 "\n", k->name,
					    t[i].name, *(const uint64_t *)((const char *)&t[i].stats +
									   k->offset));
	}
}

static void render_sources(struct evbuffer *out, const struct sl_metrics_source *s, size_t n)
{
	family(out, "sluice_spool_bytes", "gauge", "Bytes in a source's spool segments.");
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out, "sluice_spool_bytes{source=\"%s\"} %" PRIu64 "\n", s[i].name,
				    s[i].spool_bytes);
}

static void render_functions(struct evbuffer *out, const struct sl_executor *ex)
{
	size_t n = sl_executor_function_count(ex);
	struct sl_function_stats st;

	family(out, "sluice_function_invocations_total", "counter", "Invocations by outcome.");
	for (size_t i = 0; i < n; i++) {
		sl_executor_function_stats(ex, i, &st);
		for (int k = 0; k < SL_INVOKE_STATUS_COUNT; k++)
			evbuffer_add_printf(out,
					    "sluice_function_invocations_total{function=\"%s\",status=\"%s\"} %" PRIu64 "\n",
					    st.name, sl_invoke_status_name((enum sl_invoke_status)k),
					    st.invocations[k]);
	}
	family(out, "sluice_function_cold_starts_total", "counter", "Sandboxes started.");
	for (size_t i = 0; i < n; i++) {
		sl_executor_function_stats(ex, i, &st);
		evbuffer_add_printf(out, "sluice_function_cold_starts_total{function=\"%s\"} %" PRIu64 "\n",
				    st.name, st.cold_starts);
	}
	family(out, "sluice_function_sandboxes", "gauge",
	       "Sandboxes by state: live = starting + idle + busy; frozen (idle, container drivers) "
	       "and provisioned are subsets of live; stopping ones are on their way out.");
	for (size_t i = 0; i < n; i++) {
		sl_executor_function_stats(ex, i, &st);
		const struct { const char *state; size_t n; } rows[] = {
			{ "live", st.sandboxes }, { "starting", st.starting }, { "idle", st.idle },
			{ "busy", st.busy }, { "frozen", st.frozen },
			{ "provisioned", st.provisioned }, { "stopping", st.stopping } };
		for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
			evbuffer_add_printf(out, "sluice_function_sandboxes{function=\"%s\","
					    "state=\"%s\"} %zu\n", st.name, rows[k].state, rows[k].n);
	}
	family(out, "sluice_function_queued", "gauge", "Invocations waiting for a sandbox.");
	for (size_t i = 0; i < n; i++) {
		sl_executor_function_stats(ex, i, &st);
		evbuffer_add_printf(out, "sluice_function_queued{function=\"%s\"} %zu\n", st.name,
				    st.queued);
	}
	long budget, used;
	sl_executor_memory(ex, &budget, &used);
	family(out, "sluice_executor_memory_mb", "gauge",
	       "The sandboxes' memory budget (executor_memory_mb) and the part live sandboxes hold.");
	evbuffer_add_printf(out, "sluice_executor_memory_mb{kind=\"budget\"} %ld\n"
			    "sluice_executor_memory_mb{kind=\"used\"} %ld\n", budget, used);
}

void sl_metrics_render(struct evbuffer *out, const struct sl_metrics_trigger *triggers,
		       size_t n_triggers, const struct sl_metrics_source *sources,
		       size_t n_sources, const struct sl_executor *ex)
{
	render_triggers(out, triggers, n_triggers);
	render_sources(out, sources, n_sources);
	render_functions(out, ex);
}
