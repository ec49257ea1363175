/* The spool: Sluice's durable local log for push sources and asynchronous invocations.
 *
 * Model. A spool is a directory of append-only segment files. Every record gets a sequence number
 * (1, 2, 3, ... never reused, also across restarts; only the number of a record that recovery
 * cut off as a torn tail, which was never durable, is given again) and is written as
 *     u32 magic | u32 length | u64 seq | u32 crc32(seq bytes + payload) | payload
 * (little-endian; magic "SLR1"; the whole record is one writev(2)). Appends go to the newest segment; past `segment_bytes` a new one is started,
 * named after its first sequence number ("00000000000000000001.seg").
 *
 * Durability is group commit: appends only write(2); one syncer thread fdatasync()s whenever
 * there are unsynced appends and then reports the new durable watermark through the callback.
 * Every record with seq <= sl_spool_durable() is on disk. Appenders that must not answer before
 * their data is safe (the HTTP source answers 202) wait for the watermark to pass their seq.
 *
 * Readers are named cursors (one per trigger that consumes the spool). A reader sees only durable
 * records, in sequence order. Its checkpoint is the consumed position: sl_spool_commit(r, seq)
 * says every record <= seq is done, and is persisted in "<name>.ckpt" (written to a temporary
 * file and renamed over, not fsynced: a power loss can only bring back an older checkpoint, which
 * means redelivery). On open, a reader resumes after its checkpoint, so what was read but not
 * committed is read again (at-least-once). A reader is registered from its first open on (its
 * checkpoint file exists, open or not) until sl_spool_reader_remove(). A segment other than the
 * newest is deleted once every registered reader has committed past its last record; with no
 * registered reader nothing is deleted.
 *
 * Recovery. On open, every segment not yet consumed by all readers is scanned; a torn or corrupt
 * tail (short header, short payload, bad magic, length, sequence or CRC) is truncated away, and a
 * warning says how many bytes were dropped. Records after the first bad one in a segment are
 * never trusted (later segments are checked on their own). What survives is synced and durable.
 * The newest segment is reused for appends after a restart.
 *
 * Bounds. `max_bytes` caps the bytes of all live segments; an append that would pass it fails
 * with -ENOSPC and writes nothing (the HTTP source answers 503 with Retry-After). A record larger
 * than SL_SPOOL_MAX_RECORD fails with -EMSGSIZE.
 *
 * Threads. Every call is safe from any thread, except that sl_spool_close() must come after
 * every reader of the spool was closed, and no call may race with it. on_durable runs on the
 * syncer thread without spool locks held; it must not call sl_spool_close().
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
	uint64_t max_bytes;       /* cap on live segment bytes; 0 = 1 GiB */
	uint64_t segment_bytes;   /* roll past this size; 0 = 64 MiB */
	/* Called from the syncer thread after each successful sync with the new watermark. */
	void (*on_durable)(void *arg, uint64_t durable_seq);
	void *on_durable_arg;
};

/* Open (and recover) a spool; starts its syncer thread. 0 or negative errno (-EINVAL without
 * a dir, -EIO when the directory holds overlapping segments, else the failing call's errno). */
int sl_spool_open(const struct sl_spool_options *opts, struct sl_spool **out);
/* Sync what is pending, stop the syncer, close files. NULL is a no-op. on_durable may run one
 * last time (on the syncer thread) before this returns, never after. */
void sl_spool_close(struct sl_spool *spool);

/* Append one record. 0 and *seq set; -ENOSPC when full (the cap, or the disk); -EMSGSIZE when
 * too large; -EIO after a failed sync (the spool refuses appends until reopened). Never waits
 * for the disk. On any error nothing was written. */
int sl_spool_append(struct sl_spool *spool, const void *data, size_t len, uint64_t *seq);
/* Highest seq known durable (0 when none yet). */
uint64_t sl_spool_durable(struct sl_spool *spool);
/* Block until seq is durable: 0; -EIO if syncing failed; -EINVAL if seq was never appended. */
int sl_spool_wait_durable(struct sl_spool *spool, uint64_t seq);
/* Bytes in live segments. */
uint64_t sl_spool_bytes(struct sl_spool *spool);

/* Open a reader cursor; resumes after its persisted checkpoint. A new name is registered (its
 * checkpoint 0 is written at once). Names: 1-64 of [A-Za-z0-9_.-], not starting with '.'.
 * -EINVAL for a bad name, -EBUSY when that reader is already open. */
int sl_spool_reader_open(struct sl_spool *spool, const char *name, struct sl_spool_reader **out);
/* Close the cursor; it stays registered. NULL is a no-op. */
void sl_spool_reader_close(struct sl_spool_reader *reader);
/* Forget a closed reader: delete its checkpoint so it no longer holds segments.
 * -ENOENT unknown, -EBUSY open. */
int sl_spool_reader_remove(struct sl_spool *spool, const char *name);
/* Names of every registered reader, open or not: *names is an array of *n strings; caller frees
 * each and the array. */
void sl_spool_reader_names(struct sl_spool *spool, char ***names, size_t *n);
/* Next durable record after the cursor: 1 with *data (caller frees), *len, *seq; 0 when there
 * is none yet; negative errno on I/O error (-EIO for a record that fails its CRC). Sequence
 * numbers only grow, but may skip where recovery cut a torn tail in an older segment. */
int sl_spool_read(struct sl_spool_reader *reader, void **data, size_t *len, uint64_t *seq);
/* Mark every record <= seq consumed and persist it; deletes segments nobody needs any more.
 * -EINVAL when seq goes backwards or passes the last record this reader returned. */
int sl_spool_commit(struct sl_spool_reader *reader, uint64_t seq);
/* The persisted consumed position (0 = nothing consumed). */
uint64_t sl_spool_committed(struct sl_spool_reader *reader);

#endif
