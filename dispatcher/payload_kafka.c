/* The aws payload of kafka sources: Lambda's Kafka event, self-managed or Amazon MSK.
 *
 *   {"eventSource":"SelfManagedKafka","bootstrapServers":"<brokers>",
 *    "records":{"<topic>-<partition>":[{"topic","partition","offset","timestamp",
 *                                       "timestampType","key","value","headers"}, ...], ...}}
 *
 * A source with an event_source_arn is an MSK cluster: "eventSource":"aws:kafka" and
 * "eventSourceArn". The records of a partition are listed under the event's partition name, in
 * batch order; partitions in the order their first event comes in the batch. What each record
 * takes from its event is listed in payload.h ("Stream and queue events").
 */
#include "dispatcher/payload_internal.h"

#include <errno.h>
#include <string.h>

#include "core/event.h"

/* s is a JSON number with no sign, fraction or leading zero (a partition, an offset). */
static bool plain_number(const char *s)
{
	if (!*s || (s[0] == '0' && s[1]))
		return false;
	return strspn(s, "0123456789") == strlen(s);
}

static int put_record(struct pl_out *o, const struct sl_event *ev)
{
	const char *dash = strrchr(ev->partition, '-');
	const json_t *key = ev->extensions ? json_object_get(ev->extensions, "kafkakey") : NULL;
	const json_t *headers = ev->extensions ? json_object_get(ev->extensions, "kafkaheaders")
					       : NULL;

	if (!dash || !plain_number(dash + 1) || !plain_number(ev->position))
		return -EINVAL;
	pl_lit(o, "{\"topic\":\"");
	pl_escaped(o, ev->partition, (size_t)(dash - ev->partition));
	pl_lit(o, "\",\"partition\":");
	pl_put(o, dash + 1, strlen(dash + 1));
	pl_lit(o, ",\"offset\":");
	pl_put(o, ev->position, strlen(ev->position));
	pl_lit(o, ",\"timestamp\":");
	pl_int(o, sl_event_time_ms(ev));
	if (ev->extensions && json_object_get(ev->extensions, "kafkatimestamptype"))
		pl_lit(o, ",\"timestampType\":\"LOG_APPEND_TIME\"");
	else
		pl_lit(o, ",\"timestampType\":\"CREATE_TIME\"");
	if (json_is_string(key)) {
		pl_lit(o, ",\"key\":");
		pl_string(o, json_string_value(key));
	} else if (ev->partitionkey) {
		pl_lit(o, ",\"key\":");
		pl_base64(o, ev->partitionkey, strlen(ev->partitionkey));
	}
	pl_lit(o, ",\"value\":");
	pl_data_base64(o, ev);
	pl_lit(o, ",\"headers\":");
	if (!json_is_array(headers))
		pl_lit(o, "[]");
	else if (pl_json(o, headers) < 0)
		return -EINVAL;
	pl_lit(o, "}");
	return 0;
}

/* evs[i] is the first event of its partition in the batch. */
static bool opens_partition(const struct sl_event *const *evs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(evs[j]->partition, evs[i]->partition) == 0)
			return false;
	return true;
}

/* "<name>":[records...] for the partition evs[first] opens. */
static int put_partition(struct pl_out *o, const struct sl_event *const *evs, size_t n,
			 size_t first)
{
	const char *name = evs[first]->partition;
	int rc = 0;

	pl_string(o, name);
	pl_lit(o, ":[");
	for (size_t j = first; j < n && rc == 0; j++) {
		if (strcmp(evs[j]->partition, name) != 0)
			continue;
		if (j > first)
			pl_lit(o, ",");
		rc = put_record(o, evs[j]);
	}
	pl_lit(o, "]");
	return rc;
}

int pl_kafka(struct pl_out *o, const struct sl_source_config *src,
	     const struct sl_event *const *evs, size_t n)
{
	int rc = 0;

	if (src->event_source_arn) {
		pl_lit(o, "{\"eventSource\":\"aws:kafka\",\"eventSourceArn\":");
		pl_string(o, src->event_source_arn);
	} else {
		pl_lit(o, "{\"eventSource\":\"SelfManagedKafka\"");
	}
	pl_lit(o, ",\"bootstrapServers\":");
	pl_string(o, src->brokers);
	pl_lit(o, ",\"records\":{");
	for (size_t i = 0, groups = 0; i < n && rc == 0; i++) {
		if (!opens_partition(evs, i))
			continue;
		if (groups++)
			pl_lit(o, ",");
		rc = put_partition(o, evs, n, i);
	}
	pl_lit(o, "}}");
	return rc;
}
