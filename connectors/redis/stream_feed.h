/* Redis Streams feed: one trigger reading a source's streams in its consumer group (Kinesis-like;
 * each stream is a shard, that is a partition of the trigger).
 *
 * Group and consumer. The group is the trigger's consumer_group, created on each stream when
 * missing (XGROUP CREATE ... MKSTREAM) at the trigger's starting_position: latest -> "$",
 * trim_horizon -> "0", at_timestamp -> "<ms - 1>-18446744073709551615", so that entries added at
 * that millisecond or later are read (Kinesis's AT_TIMESTAMP). A group that exists keeps its
 * position. The consumer is the node id (stable per state directory), so a restarted node
 * first re-reads its own pending entries (XREADGROUP from "0", history) before new ones (">").
 *
 * Two connections (core/redis_link.h). The reader blocks in XREADGROUP ... BLOCK (COUNT
 * max(batch_size, 100)), so acknowledgements, claims and status queries go over the second. Both
 * reconnect by themselves; after a reconnect the reader creates missing groups again and goes on
 * with ">".
 *
 * Order and commits. Entries are offered in the order read; per stream the feed keeps the ids it
 * offered, in that order. The trigger's commit(ev) means every entry of ev's stream up to ev is
 * done: those ids are acknowledged (XACK, up to 1000 an XACK) and forgotten once Redis answered.
 * XACKs lost with a connection are sent again when it is back, so the group's pending list holds
 * exactly what is read and not done: after kill -9 the node re-reads its pending entries, and
 * only what was in flight is delivered twice. When the trigger is full (-ENOBUFS) the feed keeps
 * what it read and reads nothing more until resume.
 *
 * Takeover. Every tick (a quarter of claim_idle_ms, at most 1 s) the feed
 *   - refreshes its own entries not done for half of claim_idle_ms (XCLAIM to itself with min
 *     idle 0 and JUSTID: the delivery count stays), so a live node's slow entries are never idle
 *     long enough to be claimed;
 *   - claims entries pending longer than claim_idle_ms (XAUTOCLAIM, cursor kept per stream):
 *     those of a node that stopped, and any of its own it never received (a reply lost with a
 *     connection). Claims start once the node's own history was re-read.
 * So two nodes on one group share the streams entry by entry: Redis hands each new entry to
 * whichever node asks first. Order holds among the entries one node reads; across nodes, and
 * for claimed entries (older than what the claimer already read), it cannot.
 *
 * Lag (status op; the figures come from XINFO GROUPS every second, never from a query made while
 * status runs): per stream the group's pending count, its last-delivered id and "lag", the
 * entries not yet delivered to the group (Redis 7's figure; null when Redis cannot tell, e.g.
 * after entries were deleted). The total "lag" is null while any stream's is unknown.
 *
 * Errors name the trigger, the server and, for a stream, its key: authentication refused, a key
 * that is not a stream (WRONGTYPE), a stream or group deleted while reading (recreated). The
 * reader retries after the link's backoff; lines follow the state, not each retry
 * (redis_health.h).
 */
#ifndef SL_REDIS_STREAM_FEED_H
#define SL_REDIS_STREAM_FEED_H

#include <stddef.h>

struct sl_source;
struct sl_feed;
struct sl_feed_params;

/* commits_in_flight: the source's count of XACKs sent and not answered (shutdown waits for 0);
 * it outlives the feed. */
int redis_stream_feed_new(struct sl_source *src, const struct sl_feed_params *params,
			  size_t *commits_in_flight, struct sl_feed **out);

#endif
