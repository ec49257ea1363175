/* Spool recovery on open: find segments and checkpoints, cut torn tails, pick the next seq.
 *
 * Steps. (1) List the directory: "<20 digits>.seg" are segments, "<name>.ckpt" registered
 * readers, "*.ckpt.tmp" leftovers of an interrupted checkpoint write (removed). (2) Segments every
 * registered reader has consumed are deleted unread (their last seq is known from the next
 * segment's name). (3) Every other segment is scanned record by record, checking magic, length,
 * sequence (first = the name, then +1) and CRC; at the first bad record the file is truncated
 * and a warning names the bytes dropped. Records after the first bad one in a segment are never
 * trusted; later segments are checked on their own (a gap in sequence numbers is allowed, an
 * overlap is not). Kept segments are fdatasync()ed, since a crashed process may have left
 * unsynced pages, and everything that survives counts as durable. (4) The next sequence number
 * is one past the last record found, or past the highest checkpoint if that is higher (so a
 * number a reader consumed is never handed out again), and at least 1. The newest segment is
 * reused for appends when it continues exactly at that number; otherwise a new one is started.
 *
 * Scanning is sequential with a 64 KiB buffer and costs one read of the unconsumed backlog.
 */
#include "core/spool_int.h"

#include "core/log.h"
#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct seg_list {
	uint64_t *firsts;
	size_t n, cap;
};

struct scan {
	uint64_t last_seq;
	uint64_t good;               /* bytes of whole valid records */
	const char *why;             /* first problem, NULL if the file is clean */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool parse_seg_name(const char *name, uint64_t *first)
{
	uint64_t v = 0;

	if (strlen(name) != SL_SPOOL_SEG_NAME_LEN || strcmp(name + 20, ".seg") != 0)
		return false;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*first = v;
	return v > 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

static void add_cursor(struct sl_spool *s, const char *file)
{
	char *name = sl_xstrndup(file, strlen(file) - strlen(".ckpt"));
	struct sl_spool_cursor *c;
	uint64_t seq = 0;

	if (!sl_spool_reader_name_ok(name)) {
		free(name);
		return;
	}
	if (sl_spool_ckpt_read(s->dirfd, name, &seq))
		sl_warn(s->tag, "checkpoint %s/%s is unreadable; reader %s starts from the oldest record",
			s->dir, file, name);
	c = sl_xcalloc(1, sizeof(*c));
	c->name = name;
	c->committed = seq;
	c->next = s->cursors;
	s->cursors = c;
}

static void list_add(struct seg_list *l, uint64_t first)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->firsts = sl_xrealloc(l->firsts, l->cap * sizeof(uint64_t));
	}
	l->firsts[l->n++] = first;
}

static int list_dir(struct sl_spool *s, struct seg_list *l)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	uint64_t first;

	if (!d) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		if (parse_seg_name(e->d_name, &first))
			list_add(l, first);
		else if (has_suffix(e->d_name, ".ckpt.tmp"))
			unlinkat(s->dirfd, e->d_name, 0);
		else if (has_suffix(e->d_name, ".ckpt"))
			add_cursor(s, e->d_name);
	}
	closedir(d);
	if (l->n > 1)
		qsort(l->firsts, l->n, sizeof(uint64_t), cmp_u64);
	return 0;
}

/* Check records from offset 0 up to `size`; stops at the first bad one. */
static int scan_records(int fd, uint64_t first, uint64_t size, struct scan *r)
{
	unsigned char *buf = sl_xmalloc(SL_SPOOL_BUF);
	struct sl_spool_stream st;
	struct sl_spool_hdr h;
	int rc = 0;

	sl_spool_stream_init(&st, buf, SL_SPOOL_BUF);
	sl_spool_stream_reset(&st, fd, size);
	r->last_seq = first - 1;
	r->good = 0;
	r->why = NULL;
	while (r->good < size) {
		if (size - r->good < SL_SPOOL_HDR) {
			r->why = "short header";
			break;
		}
		rc = sl_spool_stream_header(&st, &h);
		if (rc)
			break;                   /* a read error: never a reason to truncate */
		if (h.magic != SL_SPOOL_MAGIC)
			r->why = "bad magic";
		else if (h.len > SL_SPOOL_MAX_RECORD)
			r->why = "bad length";
		else if (h.seq != r->last_seq + 1)
			r->why = "unexpected sequence number";
		else if (size - sl_spool_stream_offset(&st) < h.len)
			r->why = "short payload";
		if (r->why)
			break;
		uint32_t crc = sl_spool_crc_start(h.seq);
		rc = sl_spool_stream_payload(&st, NULL, h.len, &crc);
		if (rc)
			break;
		if (crc != h.crc) {
			r->why = "CRC mismatch";
			break;
		}
		r->last_seq = h.seq;
		r->good = sl_spool_stream_offset(&st);
	}
	free(buf);
	return r->why ? 0 : rc;
}

static void push_seg(struct sl_spool *s, uint64_t first, uint64_t last, uint64_t bytes)
{
	if (s->nsegs == s->segs_cap) {
		s->segs_cap = s->segs_cap ? 2 * s->segs_cap : 8;
		s->segs = sl_xrealloc(s->segs, s->segs_cap * sizeof(*s->segs));
	}
	s->segs[s->nsegs++] = (struct sl_spool_seg){ first, last, bytes };
	s->bytes += bytes;
}

/* Scan one segment, cut a bad tail, sync it and add it to the list. */
static int recover_segment(struct sl_spool *s, uint64_t first, const char *name)
{
	struct stat sb;
	struct scan r;
	int rc = 0;
	int fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (s->nsegs > 0 && first <= s->segs[s->nsegs - 1].last_seq) {
		sl_error(s->tag, "segment %s/%s overlaps the one before it", s->dir, name);
		rc = -EIO;
		goto out;
	}
	if (fstat(fd, &sb)) {
		rc = -errno;
		goto out;
	}
	rc = scan_records(fd, first, (uint64_t)sb.st_size, &r);
	if (rc)
		goto out;
	if (r.why) {
		sl_warn(s->tag, "truncated %" PRIu64 " bytes of torn tail in %s/%s (%s at offset %"
			PRIu64 ")", (uint64_t)sb.st_size - r.good, s->dir, name, r.why, r.good);
		if (ftruncate(fd, (off_t)r.good)) {
			rc = -errno;
			goto out;
		}
	}
	if (fdatasync(fd)) {
		rc = -errno;
		goto out;
	}
	push_seg(s, first, r.last_seq, r.good);
out:
	close(fd);
	return rc;
}

/* Delete segments every registered reader consumed, without reading them; keep the last. */
static size_t drop_consumed(struct sl_spool *s, const struct seg_list *l)
{
	char name[SL_SPOOL_SEG_NAME_LEN + 1];
	uint64_t min;
	size_t i = 0;

	if (!sl_spool_min_committed(s, &min))
		return 0;
	for (; i + 1 < l->n && l->firsts[i + 1] - 1 <= min; i++) {
		sl_spool_seg_name(name, l->firsts[i]);
		if (unlinkat(s->dirfd, name, 0) && errno != ENOENT)
			break;
	}
	return i;
}

/* Empty segments other than the newest hold nothing; remove them so names stay unique. */
static void drop_empty(struct sl_spool *s, bool keep_last)
{
	char name[SL_SPOOL_SEG_NAME_LEN + 1];
	size_t out = 0;

	for (size_t i = 0; i < s->nsegs; i++) {
		struct sl_spool_seg *g = &s->segs[i];
		if (g->bytes == 0 && !(keep_last && i + 1 == s->nsegs)) {
			sl_spool_seg_name(name, g->first_seq);
			unlinkat(s->dirfd, name, 0);
			continue;
		}
		s->segs[out++] = *g;
	}
	s->nsegs = out;
}

static uint64_t max_checkpoint(const struct sl_spool *s)
{
	uint64_t max = 0;
	for (const struct sl_spool_cursor *c = s->cursors; c; c = c->next)
		if (c->committed > max)
			max = c->committed;
	return max;
}

/* Choose next_seq and open the active segment (reuse the newest when it continues there). */
static int open_active(struct sl_spool *s)
{
	char name[SL_SPOOL_SEG_NAME_LEN + 1];
	struct sl_spool_seg *last = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
	uint64_t next = last ? last->last_seq + 1 : 1;
	uint64_t ckpt = max_checkpoint(s);

	if (ckpt >= next) {
		if (last && last->bytes > 0)
			sl_warn(s->tag, "checkpoints reach seq %" PRIu64 " but records end at %" PRIu64
				"; continuing after the checkpoints", ckpt, next - 1);
		next = ckpt + 1;
	}
	s->next_seq = next;
	drop_empty(s, last && last->last_seq + 1 == next);
	last = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
	if (!last || last->last_seq + 1 != next)
		return sl_spool_roll(s);
	sl_spool_seg_name(name, last->first_seq);
	s->wfd = openat(s->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
	return s->wfd < 0 ? -errno : 0;
}

int sl_spool_recover(struct sl_spool *s)
{
	char name[SL_SPOOL_SEG_NAME_LEN + 1];
	struct seg_list l = { 0 };
	int rc = list_dir(s, &l);

	if (rc)
		goto out;
	for (size_t i = drop_consumed(s, &l); i < l.n; i++) {
		sl_spool_seg_name(name, l.firsts[i]);
		rc = recover_segment(s, l.firsts[i], name);
		if (rc) {
			sl_error(s->tag, "cannot recover %s/%s: %s", s->dir, name, strerror(-rc));
			goto out;
		}
	}
	rc = open_active(s);
	if (!rc && fsync(s->dirfd))
		rc = -errno;
	s->dir_dirty = false;
out:
	free(l.firsts);
	return rc;
}
