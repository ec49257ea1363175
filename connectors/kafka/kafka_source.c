/* The kafka source kind: a pull source. The source itself holds nothing but its config; each
 * trigger on it gets its own consumer in its own consumer group (kafka_feed.c). */
#include "connectors/connector.h"
#include "connectors/kafka/kafka_feed.h"

const struct sl_connector_ops sl_kafka_connector = {
	.kind = "kafka",
	.open_feed = sl_kafka_feed_open,
};
