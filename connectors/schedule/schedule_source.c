/* The schedule source: fires on a rate() or cron() expression (UTC) and delivers EventBridge's
 * "Scheduled Event" shape.
 *
 * Each tick is one spool record holding one event whose data is the whole EventBridge event, so
 * a tick is durable before it is delivered and survives a crash like any pushed event. The event
 * id is "<source>-<fire time in Unix seconds>": a tick redelivered after a restart keeps its id.
 * Ticks missed while Sluice was down are not replayed (EventBridge does not either); a tick whose
 * spool append fails (spool full) is logged and skipped.
 */
#include "connectors/connector.h"
#include "core/clock.h"

#include "config/config.h"
#include "connectors/schedule/cron.h"
#include "core/aws.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct schedule_source {
	struct sl_schedule schedule;
	struct event *timer;
	int64_t next_fire;        /* Unix seconds */
};

/* The EventBridge "Scheduled Event" for a tick at `when`. */
static json_t *scheduled_event(const struct sl_source_config *cfg, const char *id, int64_t when)
{
	char time_text[32];
	sl_format_iso8601_s(when, time_text, sizeof(time_text));
	char *rule = sl_xasprintf("arn:aws:events:%s:%s:rule/%s", SL_AWS_REGION, SL_AWS_ACCOUNT,
				  cfg->name);
	json_t *detail = cfg->detail ? json_deep_copy(cfg->detail) : json_object();
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:o}", "version", "0",
			       "id", id, "detail-type", "Scheduled Event", "source", "aws.events",
			       "account", SL_AWS_ACCOUNT, "time", time_text,
			       "region", SL_AWS_REGION, "resources", rule,
			       "detail", sl_check_alloc(detail));
	free(rule);
	return sl_check_alloc(ev);
}

static void fire(struct sl_source *src, int64_t when)
{
	char *id = sl_xasprintf("%s-%lld", src->cfg->name, (long long)when);
	char time_text[32];
	uint64_t seq;

	sl_format_iso8601_s(when, time_text, sizeof(time_text));
	struct sl_event *ev = sl_event_new();
	ev->id = id;
	char *source = sl_xasprintf("/sluice/sources/%s", src->cfg->name);
	sl_event_set(ev, &ev->source, source);
	free(source);
	sl_event_set(ev, &ev->type, "sluice.schedule.tick");
	sl_event_set(ev, &ev->time, time_text);
	sl_event_set(ev, &ev->datacontenttype, "application/json");
	sl_event_set_data_json(ev, scheduled_event(src->cfg, id, when));
	int rc = sl_source_spool_batch(src, &ev, 1, when * 1000, &seq);
	if (rc < 0)
		sl_error(src->tag, "tick at %s skipped: cannot spool it: %s", time_text,
			 strerror(-rc));
	sl_event_unref(ev);
}

static void arm(struct sl_source *src, int64_t now)
{
	struct schedule_source *ss = src->ctx;

	ss->next_fire = sl_schedule_next(&ss->schedule, now);
	if (ss->next_fire < 0) {
		sl_warn(src->tag, "\"%s\" never fires again", src->cfg->expression);
		return;
	}
	struct timeval tv = { (time_t)(ss->next_fire - now), 0 };
	evtimer_add(ss->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sl_source *src = arg;
	struct schedule_source *ss = src->ctx;
	int64_t now = (int64_t)time(NULL);
	(void)fd;
	(void)what;

	if (now < ss->next_fire) { /* woke early (clock step): wait the rest */
		struct timeval tv = { (time_t)(ss->next_fire - now), 0 };
		evtimer_add(ss->timer, &tv);
		return;
	}
	fire(src, ss->next_fire);
	arm(src, now);
}

static int schedule_create(struct sl_source *src)
{
	struct schedule_source *ss = sl_xcalloc(1, sizeof(*ss));
	char err[256];

	if (sl_schedule_parse(src->cfg->expression, &ss->schedule, err, sizeof(err)) < 0) {
		sl_error(src->tag, "%s", err); /* the config validator catches this first */
		free(ss);
		return -EINVAL;
	}
	ss->timer = sl_check_alloc(evtimer_new(src->base, on_timer, src));
	src->ctx = ss;
	return 0;
}

static int schedule_start(struct sl_source *src)
{
	struct schedule_source *ss = src->ctx;
	char when[32];

	arm(src, (int64_t)time(NULL));
	if (ss->next_fire >= 0) {
		sl_format_iso8601_s(ss->next_fire, when, sizeof(when));
		sl_info(src->tag, "\"%s\": next tick at %s", src->cfg->expression, when);
	}
	return 0;
}

static void schedule_stop(struct sl_source *src)
{
	struct schedule_source *ss = src->ctx;
	evtimer_del(ss->timer);
}

static void schedule_destroy(struct sl_source *src)
{
	struct schedule_source *ss = src->ctx;
	event_free(ss->timer);
	free(ss);
}

const struct sl_connector_ops sl_schedule_connector = {
	.kind = "schedule",
	.create = schedule_create,
	.start = schedule_start,
	.stop = schedule_stop,
	.destroy = schedule_destroy,
};
