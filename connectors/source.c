/* Source instances: a connector's ops, its spool, and the wake-up from the spool's syncer. */
#include "connectors/connector.h"

#include "config/config.h"
#include "connectors/spool_feed.h"
#include "connectors/spool_record.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/spool.h"
#include "dispatcher/payload.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* Syncer thread: wake the loop; the watermark itself is read there from the spool. */
static void spool_durable(void *arg, uint64_t durable_seq)
{
	struct sl_source *src = arg;
	(void)durable_seq;
	event_active(src->durable_ev, EV_READ, 0);
}

static void durable_on_loop(evutil_socket_t fd, short what, void *arg)
{
	struct sl_source *src = arg;
	(void)fd;
	(void)what;
	uint64_t durable = sl_spool_durable(src->spool);
	if (durable == src->durable_seq)
		return;
	src->durable_seq = durable;
	if (src->ops->durable)
		src->ops->durable(src, durable);
	if (src->on_durable)
		src->on_durable(src, durable);
}

static int open_spool(struct sl_source *src, const char *state_dir, uint64_t max_bytes,
		      uint64_t segment_bytes)
{
	char *dir = sl_xasprintf("%s/spool/%s", state_dir, src->cfg->name);
	struct sl_spool_options opts = {
		.dir = dir, .name = src->cfg->name, .max_bytes = max_bytes,
		.segment_bytes = segment_bytes,
		.on_durable = spool_durable, .on_durable_arg = src,
	};
	int rc = sl_spool_open(&opts, &src->spool);

	free(dir);
	if (rc < 0) {
		sl_error(src->tag, "cannot open spool under %s: %s", state_dir, strerror(-rc));
		return rc;
	}
	src->durable_seq = sl_spool_durable(src->spool);
	return 0;
}

int sl_source_open(struct event_base *base, const struct sl_source_config *cfg,
		   const char *state_dir, uint64_t spool_max_bytes, uint64_t spool_segment_bytes,
		   struct sl_source **out)
{
	const struct sl_connector_ops *ops = sl_connector_find(sl_source_kind_name(cfg->kind));
	if (!ops)
		return -ENOTSUP;

	struct sl_source *src = sl_xcalloc(1, sizeof(*src));
	src->ops = ops;
	src->cfg = cfg;
	src->base = base;
	src->tag = sl_xasprintf("source:%s", cfg->name);
	src->durable_ev = sl_check_alloc(event_new(base, -1, 0, durable_on_loop, src));
	int rc = ops->open_feed ? 0 : open_spool(src, state_dir, spool_max_bytes,
						 spool_segment_bytes);
	if (rc == 0 && ops->create)
		rc = ops->create(src);
	if (rc < 0)
		goto fail;
	*out = src;
	return 0;
fail:
	sl_spool_close(src->spool);
	event_free(src->durable_ev);
	free(src->tag);
	free(src);
	return rc;
}

void sl_source_close(struct sl_source *src)
{
	if (!src)
		return;
	if (src->ops->destroy)
		src->ops->destroy(src);
	sl_spool_close(src->spool);
	event_free(src->durable_ev);
	free(src->tag);
	free(src);
}

int sl_feed_open(struct sl_source *src, const struct sl_feed_params *params,
		 struct sl_feed **out)
{
	if (src->ops->open_feed)
		return src->ops->open_feed(src, params, out);
	return sl_spool_feed_new(src, params->trigger->name, out);
}

void sl_feed_free(struct sl_feed *feed)
{
	if (feed)
		feed->ops->free(feed);
}

int sl_source_spool_batch(struct sl_source *src, struct sl_event *const *events, size_t n,
			  int64_t received_ms, uint64_t *seq)
{
	size_t len;
	char *text = sl_spool_record_encode(events, n, received_ms, &len);
	int rc = sl_spool_append(src->spool, text, len, seq);
	free(text);
	return rc;
}
