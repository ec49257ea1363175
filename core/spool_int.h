/* Spool internals shared by core/spool*.c; nothing outside core/spool*.c includes this.
 *
 * State. One mutex (`lock`) guards everything in struct sl_spool below it: the segment list, the
 * byte count, the sequence counters, the active write fd, the retired fds and the registered
 * readers. Appends write(2) while holding it, so file order is sequence order. The syncer thread
 * copies what it must sync while holding it and calls fdatasync() without it.
 *
 * Segments. `segs` is sorted by first_seq; the last entry is the active one (written through
 * `wfd`). Records inside one segment are contiguous (first_seq, first_seq + 1, ...); between
 * segments there may be gaps (a torn tail truncated in an older segment), never overlaps. Only a
 * prefix of segments is ever deleted, and never the active one, so its name always tells the
 * next sequence number after a restart.
 *
 * Fds. `wfd` is closed only by sl_spool_close(); when a segment is rolled its fd moves to
 * `retired`, which only the syncer closes, after syncing it. So the syncer never syncs a closed
 * or reused fd number.
 *
 * Readers. Every reader that has a "<name>.ckpt" is a `struct sl_spool_cursor` (registered
 * reader) whether it is open or not, so a closed reader still pins what it has not consumed.
 */
#ifndef SL_SPOOL_INT_H
#define SL_SPOOL_INT_H

#include "core/spool.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_SPOOL_MAGIC   0x31524c53u   /* "SLR1" on disk (little-endian) */
#define SL_SPOOL_HDR     20u           /* magic, length, seq, crc */
#define SL_SPOOL_BUF     (64u << 10)   /* read buffer of one reader or recovery scan */
#define SL_SPOOL_NAME_MAX 64u          /* reader names: [A-Za-z0-9_.-], not starting with '.' */
#define SL_SPOOL_SEG_FMT "%020" PRIu64 ".seg"
#define SL_SPOOL_SEG_NAME_LEN 24u      /* 20 digits + ".seg" */

struct sl_spool_seg {
	uint64_t first_seq;          /* from the file name */
	uint64_t last_seq;           /* first_seq - 1 while empty */
	uint64_t bytes;              /* complete records written (the file size) */
};

struct sl_spool_cursor {
	char *name;
	uint64_t committed;          /* as in "<name>.ckpt" */
	bool open;                   /* a struct sl_spool_reader uses it */
	struct sl_spool_cursor *next;
};

struct sl_spool {
	char *dir;
	char *tag;                   /* "spool:<name>" */
	int dirfd;
	uint64_t max_bytes;
	uint64_t segment_bytes;
	void (*on_durable)(void *arg, uint64_t durable_seq);
	void *on_durable_arg;
	pthread_t syncer;

	pthread_mutex_t lock;
	pthread_cond_t work;         /* syncer: unsynced appends, or stop */
	pthread_cond_t durable_cv;   /* sl_spool_wait_durable(): watermark moved or failure */
	struct sl_spool_seg *segs;
	size_t nsegs, segs_cap;
	uint64_t bytes;              /* sum of segs[].bytes */
	uint64_t next_seq;           /* written watermark is next_seq - 1 */
	uint64_t durable;
	int wfd;
	int *retired;
	size_t nretired, retired_cap;
	bool dir_dirty;              /* a segment was created since the last directory fsync */
	bool stop;
	int failed;                  /* 0, or the negative errno that made the spool refuse appends */
	struct sl_spool_cursor *cursors;
};

/* One decoded record header. */
struct sl_spool_hdr {
	uint32_t magic;
	uint32_t len;
	uint64_t seq;
	uint32_t crc;
};

/* A buffered reader over one segment file, by pread(2) so it never depends on the file offset.
 * It never reads at or past `end`, which callers set to a record boundary. */
struct sl_spool_stream {
	int fd;
	uint64_t end;
	uint64_t base;               /* file offset of buf[0] */
	unsigned char *buf;
	size_t cap, pos, len;        /* buf[pos..len) is unread */
};

/* spool_format.c: record format and buffered reading. */
/* The record CRC is crc32 over the 8 sequence bytes then the payload. _start gives the CRC of
 * the sequence bytes (continue it with the payload); _join combines the sequence part with a
 * payload CRC computed before the sequence number was known. */
uint32_t sl_spool_crc_start(uint64_t seq);
uint32_t sl_spool_crc_payload(const void *data, size_t len);
uint32_t sl_spool_crc_join(uint64_t seq, uint32_t payload_crc, size_t len);
void sl_spool_hdr_encode(unsigned char out[SL_SPOOL_HDR], uint64_t seq, uint32_t len,
			 uint32_t crc);
void sl_spool_hdr_decode(const unsigned char in[SL_SPOOL_HDR], struct sl_spool_hdr *h);
void sl_spool_stream_init(struct sl_spool_stream *st, unsigned char *buf, size_t cap);
/* Point the stream at fd from offset 0; drops what is buffered. */
void sl_spool_stream_reset(struct sl_spool_stream *st, int fd, uint64_t end);
uint64_t sl_spool_stream_offset(const struct sl_spool_stream *st);
/* 0 and *h; -ENODATA when fewer than a header's bytes are left before `end` (or the file is
 * shorter than `end`); -errno when reading fails. */
int sl_spool_stream_header(struct sl_spool_stream *st, struct sl_spool_hdr *h);
/* Consume len payload bytes: into dst unless NULL, into *crc unless NULL; with neither, skip
 * them without reading. -ENODATA when short, -errno when reading fails. */
int sl_spool_stream_payload(struct sl_spool_stream *st, void *dst, size_t len, uint32_t *crc);

/* spool_recover.c: open-time directory scan, checkpoint loading, torn-tail truncation; leaves
 * segs, bytes, next_seq, cursors and an open wfd. */
int sl_spool_recover(struct sl_spool *s);

/* spool.c */
/* Start a new active segment named next_seq. Under lock. */
int sl_spool_roll(struct sl_spool *s);
void sl_spool_seg_name(char out[SL_SPOOL_SEG_NAME_LEN + 1], uint64_t first_seq);

/* spool_reader.c: checkpoints and deletion. */
int sl_spool_ckpt_read(int dirfd, const char *name, uint64_t *seq);
int sl_spool_ckpt_write(int dirfd, const char *name, uint64_t seq);
bool sl_spool_reader_name_ok(const char *name);
/* Under lock: take consumed segments off the list (bytes drop now); the caller unlinks the
 * returned first_seqs with sl_spool_unlink_segs() after unlocking. *n = 0 means none. */
uint64_t *sl_spool_take_consumed(struct sl_spool *s, size_t *n);
void sl_spool_unlink_segs(struct sl_spool *s, uint64_t *firsts, size_t n);
/* Under lock: lowest committed position of all registered readers; false if there are none. */
bool sl_spool_min_committed(const struct sl_spool *s, uint64_t *min);

#endif
