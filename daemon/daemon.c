/* The daemon's assembly and lifecycle; see daemon.h. */
#include "daemon/daemon.h"

#include "config/config.h"
#include "connectors/connector.h"
#include "core/loop.h"
#include "core/http_server.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/spool.h"
#include "daemon/async_queue.h"
#include "daemon/control_api.h"
#include "daemon/metrics.h"
#include "daemon/state_dir.h"
#include "dispatcher/destination.h"
#include "dispatcher/payload.h"
#include "dispatcher/trigger.h"
#include "executor/executor.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TAG "sluice"
#define HTTP_BODY_SLACK (1u << 20)     /* over the largest source limit: evhttp's own 413 */
#define ACK_WAIT_MS 20
#define ACK_WAIT_MAX_MS 10000   /* then stop anyway: what was not acknowledged comes again */

struct daemon_trigger {
	const struct sl_trigger_config *cfg;
	struct sl_source *src;
	struct sl_feed *feed;
	struct sl_trigger *trigger;
	struct sl_destination *own_dlq;        /* default dead-letter file, when none named */
	struct sl_destination_config own_dlq_cfg;
};

/* Sources and triggers: the config's, then one asynchronous invocation queue per function
 * (async_queue.h), so both are run alike. */
struct sl_daemon {
	const struct sl_config *cfg;
	struct sl_async_queue_config *async;   /* parallel to cfg->functions */
	size_t n_sources, n_triggers;          /* all: the config's plus the async queues */
	struct event_base *base;
	struct sl_state_dir *state;
	struct sl_executor *executor;
	struct sl_destination **destinations;  /* parallel to cfg->destinations */
	struct sl_source **sources;            /* cfg->sources, then the async queues */
	struct daemon_trigger *triggers;       /* cfg->triggers, then the async queues */
	struct sl_http_server *http;
	struct sl_control_api *control_api;
	struct event *signals[2];
	struct event *ack_wait;
	int stopping;
	size_t drains_left;
	int ack_waits;                         /* ACK_WAIT_MS rounds waited for sources so far */
};

/* A configured source, or with `internal` an async queue too, by name. */
static struct sl_source *find_source(struct sl_daemon *d, const char *name, bool internal)
{
	size_t n = internal ? d->n_sources : d->cfg->n_sources;

	for (size_t i = 0; i < n; i++)
		if (d->sources[i] && strcmp(d->sources[i]->cfg->name, name) == 0)
			return d->sources[i];
	return NULL;
}

static const struct sl_source_config *source_config(struct sl_daemon *d, size_t i)
{
	return i < d->cfg->n_sources ? &d->cfg->sources[i]
				     : &d->async[i - d->cfg->n_sources].source;
}

static const struct sl_trigger_config *trigger_config(struct sl_daemon *d, size_t i)
{
	return i < d->cfg->n_triggers ? &d->cfg->triggers[i]
				      : &d->async[i - d->cfg->n_triggers].trigger;
}

/* The async queue of a function (control API, function destinations). */
static struct sl_source *async_queue_of(void *arg, const char *function)
{
	struct sl_daemon *d = arg;
	char *name = sl_xasprintf("async.%s", function);
	struct sl_source *src = find_source(d, name, true);

	free(name);
	return src;
}

/* Function destinations: queue a record as an asynchronous invocation. */
static int invoke_async(void *arg, const char *function, const char *payload, size_t len,
			sl_destination_done_cb done, void *done_arg)
{
	struct sl_source *queue = async_queue_of(arg, function);

	return queue ? sl_async_queue_submit(queue, payload, len, done, done_arg) : -ENOENT;
}

static void link_destinations(struct sl_daemon *d)
{
	const struct sl_destination_links links = { .invoke_async = invoke_async, .arg = d };

	for (size_t i = 0; i < d->cfg->n_destinations; i++)
		sl_destination_link(d->destinations[i], &links);
}

static void route_events(void *arg, struct evhttp_request *req, const char *rest)
{
	struct sl_daemon *d = arg;
	struct sl_source *src = find_source(d, rest, false);

	if (!src || !src->ops->handle_http) {
		sl_http_reply_error(req, 404, "ResourceNotFoundException",
				    "no http source named \"%s\"", rest);
		return;
	}
	src->ops->handle_http(src, req);
}

static void route_health(void *arg, struct evhttp_request *req, const char *rest)
{
	struct sl_daemon *d = arg;
	(void)rest;
	sl_http_reply_json(req, d->stopping ? 503 : 200,
			   json_pack("{s:s}", "status", d->stopping ? "stopping" : "ok"));
}

static void route_metrics(void *arg, struct evhttp_request *req, const char *rest)
{
	struct sl_daemon *d = arg;
	struct sl_metrics_trigger *triggers = sl_xcalloc(d->n_triggers + 1, sizeof(*triggers));
	struct sl_metrics_source *sources = sl_xcalloc(d->n_sources + 1, sizeof(*sources));
	size_t n_triggers = 0;
	(void)rest;

	for (size_t i = 0; i < d->n_triggers; i++) {
		if (!d->triggers[i].trigger)
			continue;
		triggers[n_triggers].name = d->triggers[i].cfg->name;
		sl_trigger_stats(d->triggers[i].trigger, &triggers[n_triggers++].stats);
	}
	for (size_t i = 0; i < d->n_sources; i++) {
		sources[i].name = source_config(d, i)->name;
		if (d->sources[i]->spool)
			sources[i].spool_bytes = sl_spool_bytes(d->sources[i]->spool);
	}
	struct evbuffer *out = sl_check_alloc(evbuffer_new());
	sl_metrics_render(out, triggers, n_triggers, sources, d->n_sources, d->executor);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
	free(triggers);
	free(sources);
}

/* One trigger's state (sl_trigger_status) with its feed's view of the source (lag). */
static json_t *trigger_status(struct daemon_trigger *t)
{
	if (!t->trigger)
		return json_pack("{s:s, s:s, s:s}", "name", t->cfg->name, "function",
				 t->cfg->function, "state", "disabled");
	json_t *status = sl_trigger_status(t->trigger);
	json_object_set_new(status, "source", t->feed->ops->status(t->feed));
	return status;
}

static json_t *source_status(struct sl_daemon *d, size_t i)
{
	json_t *status = json_pack("{s:s, s:s}", "name", source_config(d, i)->name, "kind",
				   sl_source_kind_name(source_config(d, i)->kind));
	if (d->sources[i]->spool)
		json_object_set_new(status, "spool_bytes",
				    json_integer((json_int_t)sl_spool_bytes(d->sources[i]->spool)));
	return status;
}

/* GET /status: every trigger's state and every source's spool. */
static void route_status(void *arg, struct evhttp_request *req, const char *rest)
{
	struct sl_daemon *d = arg;
	json_t *triggers = sl_check_alloc(json_array());
	json_t *sources = sl_check_alloc(json_array());
	(void)rest;

	for (size_t i = 0; i < d->n_triggers; i++)
		json_array_append_new(triggers, trigger_status(&d->triggers[i]));
	for (size_t i = 0; i < d->n_sources; i++)
		json_array_append_new(sources, source_status(d, i));
	sl_http_reply_json(req, 200, json_pack("{s:s, s:o, s:o}", "state",
					       d->stopping ? "stopping" : "running",
					       "triggers", triggers, "sources", sources));
}

/* The spool of src has new durable records: every trigger reading it may go on. */
static void source_durable(struct sl_source *src, uint64_t durable_seq)
{
	struct sl_daemon *d = src->owner;
	(void)durable_seq;
	for (size_t i = 0; i < d->n_triggers; i++)
		if (d->triggers[i].src == src && d->triggers[i].feed)
			d->triggers[i].feed->ops->pump(d->triggers[i].feed);
}

static int open_sources(struct sl_daemon *d)
{
	const struct sl_config *cfg = d->cfg;

	d->sources = sl_xcalloc(d->n_sources + 1, sizeof(*d->sources));
	for (size_t i = 0; i < d->n_sources; i++) {
		int rc = sl_source_open(d->base, source_config(d, i), cfg->state_dir,
					cfg->spool_max_bytes, cfg->spool_segment_bytes,
					&d->sources[i]);
		if (rc < 0) {
			sl_error(TAG, "source %s: cannot start: %s", source_config(d, i)->name,
				 strerror(-rc));
			return rc;
		}
		d->sources[i]->owner = d;
		d->sources[i]->on_durable = source_durable;
	}
	return 0;
}

static int open_destinations(struct sl_daemon *d)
{
	const struct sl_config *cfg = d->cfg;

	d->destinations = sl_xcalloc(cfg->n_destinations + 1, sizeof(*d->destinations));
	for (size_t i = 0; i < cfg->n_destinations; i++) {
		int rc = sl_destination_new(d->base, &cfg->destinations[i], &d->destinations[i]);
		if (rc < 0) {
			sl_error(TAG, "destination %s: cannot open: %s",
				 cfg->destinations[i].name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* The destination of that name (the config validator rejects dangling names). */
static struct sl_destination *destination_named(struct sl_daemon *d, const char *name)
{
	for (size_t i = 0; i < d->cfg->n_destinations; i++)
		if (strcmp(d->cfg->destinations[i].name, name) == 0)
			return d->destinations[i];
	return NULL;
}

static struct sl_destination *on_failure_of(struct sl_daemon *d, struct daemon_trigger *t)
{
	if (t->cfg->on_failure)
		return destination_named(d, t->cfg->on_failure);
	t->own_dlq_cfg.name = sl_xasprintf("dead-letter:%s", t->cfg->name);
	t->own_dlq_cfg.kind = SL_DEST_FILE;
	t->own_dlq_cfg.path = sl_xasprintf("%s/dead-letter/%s.jsonl", d->cfg->state_dir,
					   t->cfg->name);
	if (sl_destination_new(d->base, &t->own_dlq_cfg, &t->own_dlq) < 0)
		return NULL;
	return t->own_dlq;
}

static int open_trigger(struct sl_daemon *d, struct daemon_trigger *t)
{
	struct sl_trigger_links links = { .invoker = sl_executor_invoker(d->executor) };
	int rc;

	t->src = find_source(d, t->cfg->source, true);
	if (!(links.on_failure = on_failure_of(d, t))) {
		sl_error(TAG, "trigger %s: cannot open its on-failure destination", t->cfg->name);
		return -EINVAL;
	}
	if (t->cfg->on_success)
		links.on_success = destination_named(d, t->cfg->on_success);
	const struct sl_feed_params params = {
		.trigger = t->cfg, .node_id = sl_state_dir_node_id(d->state),
		.on_failure = links.on_failure,
	};
	if ((rc = sl_feed_open(t->src, &params, &t->feed)) < 0) {
		sl_error(TAG, "trigger %s: cannot open its feed from source %s: %s", t->cfg->name,
			 t->src->cfg->name, strerror(-rc));
		return rc;
	}
	links.src = t->feed->src;
	rc = sl_trigger_new(d->base, t->cfg, t->src->cfg, &links, &t->trigger);
	if (rc < 0) {
		sl_error(TAG, "trigger %s: cannot start: %s", t->cfg->name, strerror(-rc));
		return rc;
	}
	return 0;
}

static int is_trigger_of(const struct sl_config *cfg, const char *trigger, const char *source)
{
	for (size_t i = 0; i < cfg->n_triggers; i++)
		if (strcmp(cfg->triggers[i].name, trigger) == 0)
			return strcmp(cfg->triggers[i].source, source) == 0;
	return 0;
}

/* A trigger removed from the config would pin its source's spool forever: forget its position.
 * Disabled triggers keep theirs, as Lambda keeps a disabled mapping's checkpoint. */
static void forget_removed_triggers(struct sl_daemon *d)
{
	char **names;
	size_t n;

	for (size_t i = 0; i < d->cfg->n_sources; i++) {
		struct sl_source *src = d->sources[i];
		if (!src->spool)
			continue;
		sl_spool_reader_names(src->spool, &names, &n);
		for (size_t j = 0; j < n; j++) {
			if (!is_trigger_of(d->cfg, names[j], src->cfg->name)) {
				sl_warn(src->tag, "trigger %s is no longer configured on this source; "
					"its undelivered events are released", names[j]);
				sl_spool_reader_remove(src->spool, names[j]);
			}
			free(names[j]);
		}
		free(names);
	}
}

static int open_triggers(struct sl_daemon *d)
{
	d->triggers = sl_xcalloc(d->n_triggers + 1, sizeof(*d->triggers));
	for (size_t i = 0; i < d->n_triggers; i++) {
		d->triggers[i].cfg = trigger_config(d, i);
		if (!d->triggers[i].cfg->enabled) {
			sl_info(TAG, "trigger %s is disabled", d->triggers[i].cfg->name);
			continue;
		}
		int rc = open_trigger(d, &d->triggers[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static size_t http_body_cap(const struct sl_config *cfg)
{
	uint64_t cap = 6291456;
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (cfg->sources[i].kind == SL_SOURCE_HTTP && cfg->sources[i].max_body_bytes > cap)
			cap = cfg->sources[i].max_body_bytes;
	return (size_t)cap + HTTP_BODY_SLACK;
}

static int open_listener(struct sl_daemon *d, const char *listen)
{
	int rc = sl_http_server_new(d->base, listen, http_body_cap(d->cfg), &d->http);
	if (rc < 0) {
		sl_error(TAG, "cannot listen on %s: %s", listen, strerror(-rc));
		return rc;
	}
	sl_http_server_route(d->http, "/events/", route_events, d);
	sl_http_server_route(d->http, "/healthz", route_health, d);
	sl_http_server_route(d->http, "/metrics", route_metrics, d);
	sl_http_server_route(d->http, "/status", route_status, d);
	d->control_api = sl_control_api_new(d->http, d->cfg, d->executor, async_queue_of, d);
	return 0;
}

static int start_everything(struct sl_daemon *d)
{
	for (size_t i = 0; i < d->n_triggers; i++)
		if (d->triggers[i].feed)
			d->triggers[i].feed->ops->attach(d->triggers[i].feed,
							 d->triggers[i].trigger);
	for (size_t i = 0; i < d->n_sources; i++) {
		if (!d->sources[i]->ops->start)
			continue;
		int rc = d->sources[i]->ops->start(d->sources[i]);
		if (rc < 0) {
			sl_error(d->sources[i]->tag, "cannot start: %s", strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void print_ready(struct sl_daemon *d)
{
	const char *addr = sl_http_server_address(d->http);

	sl_info(TAG, "listening on http://%s (state in %s)", addr, d->cfg->state_dir);
	for (size_t i = 0; i < d->cfg->n_sources; i++)
		if (d->cfg->sources[i].kind == SL_SOURCE_HTTP)
			sl_info(TAG, "send an event: curl -i -X POST http://%s/events/%s "
				"-H 'Content-Type: application/json' -d '{\"hello\":\"world\"}'",
				addr, d->cfg->sources[i].name);
}

/* --- shutdown, in steps on the loop --- */

static size_t pending_acks(struct sl_daemon *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_sources; i++)
		if (d->sources[i]->ops->pending)
			n += d->sources[i]->ops->pending(d->sources[i]);
	return n;
}

static void wait_for_acks(evutil_socket_t fd, short what, void *arg)
{
	struct sl_daemon *d = arg;
	struct timeval tv = { 0, ACK_WAIT_MS * 1000 };
	size_t pending = pending_acks(d);
	(void)fd;
	(void)what;
	if (pending > 0 && ++d->ack_waits * ACK_WAIT_MS >= ACK_WAIT_MAX_MS)
		sl_warn(TAG, "%zu acknowledgements to sources still unanswered after %d ms; "
			"stopping anyway (what they cover is delivered again)", pending,
			ACK_WAIT_MAX_MS);
	if (pending == 0 || d->ack_waits * ACK_WAIT_MS >= ACK_WAIT_MAX_MS) {
		event_base_loopexit(d->base, &tv); /* a moment to flush the last replies */
		return;
	}
	evtimer_add(d->ack_wait, &tv);
}

static void executor_stopped(void *arg)
{
	struct sl_daemon *d = arg;
	d->ack_wait = sl_check_alloc(evtimer_new(d->base, wait_for_acks, d));
	wait_for_acks(-1, 0, d);
}

static void trigger_drained(void *arg)
{
	struct sl_daemon *d = arg;
	if (--d->drains_left > 0)
		return;
	sl_info(TAG, "triggers drained; stopping sandboxes");
	sl_executor_shutdown(d->executor, executor_stopped, d);
}

static void begin_shutdown(struct sl_daemon *d)
{
	sl_info(TAG, "shutting down: no new events; finishing batches in flight");
	d->stopping = 1;
	sl_http_server_stop_listening(d->http);
	d->drains_left = 1;
	for (size_t i = 0; i < d->n_sources; i++)
		if (d->sources[i]->ops->stop)
			d->sources[i]->ops->stop(d->sources[i]);
	for (size_t i = 0; i < d->n_triggers; i++) {
		if (!d->triggers[i].trigger)
			continue;
		d->triggers[i].feed->ops->stop(d->triggers[i].feed);
		d->drains_left++;
		sl_trigger_drain(d->triggers[i].trigger, trigger_drained, d);
	}
	trigger_drained(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sl_daemon *d = arg;
	(void)what;
	if (d->stopping) {
		sl_warn(TAG, "second %s: exiting now; uncommitted events are redelivered on the "
			"next start", strsignal((int)sig));
		exit(1);
	}
	begin_shutdown(d);
}

static void free_daemon(struct sl_daemon *d)
{
	const struct sl_config *cfg = d->cfg;

	for (size_t i = 0; d->triggers && i < d->n_triggers; i++) {
		sl_trigger_free(d->triggers[i].trigger);
		sl_feed_free(d->triggers[i].feed);
		sl_destination_free(d->triggers[i].own_dlq);
		free(d->triggers[i].own_dlq_cfg.name);
		free(d->triggers[i].own_dlq_cfg.path);
	}
	/* sources before the listener: a source answers its waiting requests as it closes */
	for (size_t i = 0; d->sources && i < d->n_sources; i++)
		sl_source_close(d->sources[i]);
	sl_http_server_free(d->http);
	sl_control_api_free(d->control_api);
	sl_executor_free(d->executor);
	for (size_t i = 0; d->destinations && i < cfg->n_destinations; i++)
		sl_destination_free(d->destinations[i]);
	for (size_t i = 0; i < 2; i++)
		if (d->signals[i])
			event_free(d->signals[i]);
	if (d->ack_wait)
		event_free(d->ack_wait);
	sl_state_dir_release(d->state);
	event_base_free(d->base);
	free(d->triggers);
	free(d->sources);
	free(d->destinations);
	for (size_t i = 0; d->async && i < cfg->n_functions; i++)
		sl_async_queue_config_release(&d->async[i]);
	free(d->async);
	free(d);
}

static int build(struct sl_daemon *d, const struct sl_daemon_options *opts)
{
	int rc;

	if ((rc = sl_state_dir_acquire(d->cfg->state_dir, &d->state)) < 0)
		return rc;
	if ((rc = sl_executor_new(d->base, d->cfg, opts->agent_path, &d->executor)) < 0) {
		sl_error(TAG, "cannot start the executor: %s", strerror(-rc));
		return rc;
	}
	if ((rc = open_destinations(d)) < 0 || (rc = open_sources(d)) < 0 ||
	    (rc = open_triggers(d)) < 0)
		return rc;
	link_destinations(d);
	forget_removed_triggers(d);
	if ((rc = open_listener(d, opts->listen ? opts->listen : d->cfg->listen)) < 0)
		return rc;
	d->signals[0] = sl_check_alloc(evsignal_new(d->base, SIGTERM, on_signal, d));
	d->signals[1] = sl_check_alloc(evsignal_new(d->base, SIGINT, on_signal, d));
	event_add(d->signals[0], NULL);
	event_add(d->signals[1], NULL);
	return start_everything(d);
}

int sl_daemon_run(const struct sl_config *cfg, const struct sl_daemon_options *opts)
{
	struct sl_daemon *d = sl_xcalloc(1, sizeof(*d));

	signal(SIGPIPE, SIG_IGN);
	sl_mem_tune();
	evthread_use_pthreads();
	d->cfg = cfg;
	d->base = sl_loop_new();
	d->async = sl_xcalloc(cfg->n_functions + 1, sizeof(*d->async));
	for (size_t i = 0; i < cfg->n_functions; i++)
		sl_async_queue_config_init(&d->async[i], &cfg->functions[i]);
	d->n_sources = cfg->n_sources + cfg->n_functions;
	d->n_triggers = cfg->n_triggers + cfg->n_functions;
	if (build(d, opts) < 0) {
		free_daemon(d);
		return 1;
	}
	print_ready(d);
	event_base_dispatch(d->base);
	sl_info(TAG, "stopped");
	free_daemon(d);
	return 0;
}
