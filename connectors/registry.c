/* The table of connector kinds built into this binary. */
#include "connectors/connector.h"

#include <string.h>

extern const struct sl_connector_ops sl_http_connector;
extern const struct sl_connector_ops sl_schedule_connector;
extern const struct sl_connector_ops sl_kafka_connector;
extern const struct sl_connector_ops sl_redis_stream_connector;
extern const struct sl_connector_ops sl_redis_queue_connector;

static const struct sl_connector_ops *const connectors[] = {
	&sl_http_connector,
	&sl_schedule_connector,
	&sl_kafka_connector,
	&sl_redis_stream_connector,
	&sl_redis_queue_connector,
};

const struct sl_connector_ops *sl_connector_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(connectors) / sizeof(connectors[0]); i++)
		if (strcmp(connectors[i]->kind, kind) == 0)
			return connectors[i];
	return NULL;
}
