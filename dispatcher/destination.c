/* Destination registry and instances; see destination.h.
 *
 * The kinds table maps each configured kind to its const ops; an instance pairs the ops with the
 * kind's private context and the configured name (for log tags and messages). A kind the config
 * names but this build lacks is refused with a message that says so.
 */
#include "dispatcher/destination.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/destination_kinds.h"

struct sl_destination {
	const struct sl_destination_ops *ops;
	void *ctx;
	char *name;
};

static const struct sl_destination_ops *const kinds[] = {
	[SL_DEST_FILE] = &sl_dest_file_ops,
	[SL_DEST_HTTP] = &sl_dest_http_ops,
	[SL_DEST_REDIS] = &sl_dest_redis_ops,
	[SL_DEST_KAFKA] = &sl_dest_kafka_ops,
	[SL_DEST_MQTT] = &sl_dest_mqtt_ops,
	[SL_DEST_FUNCTION] = &sl_dest_function_ops,
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct sl_destination_ops *sl_destination_kind(const char *kind)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds[i] && strcmp(kinds[i]->kind, kind) == 0)
			return kinds[i];
	return NULL;
}

int sl_destination_new(struct event_base *base, const struct sl_destination_config *cfg,
		       struct sl_destination **out)
{
	const char *name = cfg->name ? cfg->name : "(unnamed)";
	const struct sl_destination_ops *ops = NULL;
	void *ctx = NULL;
	int rc;

	*out = NULL;
	if ((size_t)cfg->kind < N_KINDS)
		ops = kinds[cfg->kind];
	if (!ops) {
		char built[128] = "";
		for (size_t i = 0, len = 0; i < N_KINDS && len < sizeof(built); i++)
			if (kinds[i])
				len += (size_t)snprintf(built + len, sizeof(built) - len, "%s%s",
							len ? ", " : "", kinds[i]->kind);
		sl_error("sluice", "destination %s: kind #%d is not built into this sluice "
			 "(built: %s)", name, (int)cfg->kind, built);
		return -ENOTSUP;
	}
	rc = ops->create(base, cfg, &ctx);
	if (rc < 0)
		return rc;
	struct sl_destination *d = sl_xcalloc(1, sizeof(*d));
	d->ops = ops;
	d->ctx = ctx;
	d->name = sl_xstrdup(name);
	*out = d;
	return 0;
}

void sl_destination_deliver(struct sl_destination *dest, const json_t *record,
			    sl_destination_done_cb done, void *arg)
{
	dest->ops->deliver(dest->ctx, record, done, arg);
}

void sl_destination_link(struct sl_destination *dest, const struct sl_destination_links *links)
{
	if (dest->ops->link)
		dest->ops->link(dest->ctx, links);
}

const char *sl_destination_name(const struct sl_destination *dest)
{
	return dest->name;
}

void sl_destination_free(struct sl_destination *dest)
{
	if (!dest)
		return;
	dest->ops->destroy(dest->ctx);
	free(dest->name);
	free(dest);
}
