/* The aws payload of redis_stream sources: Lambda's Kinesis event, one record per event in batch
 * order. A stream key is the shard and names the stream:
 *
 *   {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey","sequenceNumber",
 *                           "data","approximateArrivalTimestamp"},
 *                "eventSource":"aws:kinesis","eventVersion":"1.0",
 *                "eventID":"<stream>:<sequenceNumber>","eventName":"aws:kinesis:record",
 *                "invokeIdentityArn","awsRegion","eventSourceARN":"arn:...:stream/<stream>"}]}
 *
 * What each record takes from its event is listed in payload.h ("Stream and queue events").
 */
#include "dispatcher/payload_internal.h"

#include <string.h>

#include "core/aws.h"
#include "core/event.h"

/* Unix ms as seconds with three decimals, a JSON number: 1545084650.987. */
static void put_seconds(struct pl_out *o, int64_t ms)
{
	int64_t s = ms / 1000, frac = ms % 1000;
	char decimals[4];

	if (frac < 0) {
		s--;
		frac += 1000;
	}
	decimals[0] = '.';
	decimals[1] = (char)('0' + frac / 100);
	decimals[2] = (char)('0' + frac / 10 % 10);
	decimals[3] = (char)('0' + frac % 10);
	pl_int(o, s);
	pl_put(o, decimals, sizeof(decimals));
}

static void put_record(struct pl_out *o, const struct sl_event *ev)
{
	size_t shard_len = strlen(ev->partition);

	pl_lit(o, "{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":");
	pl_string(o, ev->partitionkey ? ev->partitionkey : ev->partition);
	pl_lit(o, ",\"sequenceNumber\":");
	pl_string(o, ev->position);
	pl_lit(o, ",\"data\":");
	pl_data_base64(o, ev);
	pl_lit(o, ",\"approximateArrivalTimestamp\":");
	put_seconds(o, sl_event_time_ms(ev));
	pl_lit(o, "},\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"");
	pl_escaped(o, ev->partition, shard_len);
	pl_lit(o, ":");
	pl_escaped(o, ev->position, strlen(ev->position));
	pl_lit(o, "\",\"eventName\":\"aws:kinesis:record\","
	       "\"invokeIdentityArn\":\"arn:aws:iam::" SL_AWS_ACCOUNT ":role/sluice\","
	       "\"awsRegion\":\"" SL_AWS_REGION "\","
	       "\"eventSourceARN\":\"arn:aws:kinesis:" SL_AWS_REGION ":" SL_AWS_ACCOUNT ":stream/");
	pl_escaped(o, ev->partition, shard_len);
	pl_lit(o, "\"}");
}

int pl_kinesis(struct pl_out *o, const struct sl_event *const *evs, size_t n)
{
	pl_lit(o, "{\"Records\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			pl_lit(o, ",");
		put_record(o, evs[i]);
	}
	pl_lit(o, "]}");
	return 0;
}
