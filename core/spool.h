/* The spool: Sluice's durable local log for push sources and asynchronous invocations.
 *
 * Model. A spool is a directory of append-only segment files. Every record gets a sequence number
 * (1, 2, 3, ... never reused, also across restarts) and is written as
 *     u32 magic | u32 length | u64 seq | u32 crc32(seq bytes + payload) | payload
 * (little-endian). Appends go to the newest segment; past `segment_bytes` a new one is started,
 * named after its first sequence number ("00000000000000000001.seg").
 *
 * Durability is group commit: appends only write(2); one syncer thread fdatasync()s whenever
 * there are unsynced appends and then reports the new durable watermark through the callback.
 * Every record with seq <= sl_spool_durable() is on disk. Appenders that must not answer before
 * their data is safe (the HTTP source answers 202) wait for the watermark to pass their seq.
 *
 * Readers are named cursors (one per trigger that consumes the spool). A reader sees only durable
 * records, in sequence order. Its checkpoint is the consumed position: sl_spool_commit(r, seq)
 * says every record <= seq is done, and is persisted in "<name>.ckpt". On open, a reader resumes
 * after its checkpoint, so what was read but not committed is read again (at-least-once).
 * A segment is deleted once every reader has committed past its last record.
 *
 * Recovery. On open, the newest segment is scanned; a torn or corrupt tail (short header, short
 * payload, bad magic or CRC) is truncated away, and a warning says how many bytes were dropped.
 * Records after the first bad one are never trusted.
 *
 * Bounds. `max_bytes` caps the bytes of all live segments; an append that would pass it fails
 * with -ENOSPC and writes nothing (the HTTP source answers 503 with Retry-After). A record larger
 * than SL_SPOOL_MAX_RECORD fails with -EMSGSIZE.
 *
 * Threads. sl_spool_append, sl_spool_durable and the reader calls are safe from any thread.
 */
#ifndef SL_SPOOL_H
#define SL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SL_SPOOL_MAX_RECORD (8u << 20)

struct sl_spool;
struct sl_spool_reader;

struct sl_spool_options {
	const char *dir;          /* created if missing */
	const char *name;         /* for log lines: "spool:<name>" */
	uint64_t max_bytes;       /* cap on live segment bytes */
	uint64_t segment_bytes;   /* roll past this size */
	/* Called from the syncer thread after each successful sync with the new watermark. */
	void (*on_durable)(void *arg, uint64_t durable_seq);
	void *on_durable_arg;
};

/* Open (and recover) a spool; starts its syncer thread. 0 or negative errno. */
int sl_spool_open(const struct sl_spool_options *opts, struct sl_spool **out);
/* Sync what is pending, stop the syncer, close files. NULL is a no-op. */
void sl_spool_close(struct sl_spool *spool);

/* Append one record. 0 and *seq set; -ENOSPC when full; -EMSGSIZE when too large; -EIO. */
int sl_spool_append(struct sl_spool *spool, const void *data, size_t len, uint64_t *seq);
/* Highest seq known durable (0 when none yet). */
uint64_t sl_spool_durable(struct sl_spool *spool);
/* Bytes in live segments. */
uint64_t sl_spool_bytes(struct sl_spool *spool);

/* Open a reader cursor; resumes after its persisted checkpoint. */
int sl_spool_reader_open(struct sl_spool *spool, const char *name, struct sl_spool_reader **out);
void sl_spool_reader_close(struct sl_spool_reader *reader);
/* Next durable record after the cursor: 1 with *data (caller frees), *len, *seq; 0 when there
 * is none yet; negative errno on I/O error. */
int sl_spool_read(struct sl_spool_reader *reader, void **data, size_t *len, uint64_t *seq);
/* Mark every record <= seq consumed and persist it. seq must not go backwards. */
int sl_spool_commit(struct sl_spool_reader *reader, uint64_t seq);
/* The persisted consumed position (0 = nothing consumed). */
uint64_t sl_spool_committed(struct sl_spool_reader *reader);

#endif
