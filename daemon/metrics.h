/* GET /metrics: Prometheus text exposition (version 0.0.4) of what the daemon counts.
 *
 *   sluice_trigger_events_total{trigger,state="in|done|dead_lettered"}   counter
 *   sluice_trigger_batches_total{trigger,outcome="ok|failed"}             counter
 *   sluice_trigger_retries_total{trigger}                                 counter
 *   sluice_spool_bytes{source}                                            gauge
 *   sluice_function_invocations_total{function,status=...}                counter
 *   sluice_function_cold_starts_total{function}                           counter
 *   sluice_function_sandboxes{function,state="live|busy|starting"}        gauge
 *   sluice_function_queued{function}                                      gauge
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "dispatcher/trigger.h"

struct evbuffer;
struct sl_executor;

struct sl_metrics_trigger {
	const char *name;
	struct sl_trigger_stats stats;
};

struct sl_metrics_source {
	const char *name;
	uint64_t spool_bytes;
};

void sl_metrics_render(struct evbuffer *out, const struct sl_metrics_trigger *triggers,
		       size_t n_triggers, const struct sl_metrics_source *sources,
		       size_t n_sources, const struct sl_executor *ex);

#endif
