/* The destination kinds compiled into this build (internal to dispatcher/). Each kind is one
 * const ops struct defined in its own dest_<kind>.c; destination.c lists them in one table. */
#ifndef SL_DESTINATION_KINDS_H
#define SL_DESTINATION_KINDS_H

#include "dispatcher/destination.h"

extern const struct sl_destination_ops sl_dest_file_ops;
extern const struct sl_destination_ops sl_dest_http_ops;
extern const struct sl_destination_ops sl_dest_redis_ops;
extern const struct sl_destination_ops sl_dest_kafka_ops;
extern const struct sl_destination_ops sl_dest_mqtt_ops;
extern const struct sl_destination_ops sl_dest_function_ops;

#endif
