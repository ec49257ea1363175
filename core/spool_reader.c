/* Spool readers: named cursors, checkpoints and deletion of consumed segments.
 *
 * A reader keeps one fd on the segment it is in and reads it through a 64 KiB buffer
 * (struct sl_spool_stream), so a record costs no open() and usually no system call. It asks the
 * spool (one short lock) only when it has used up what it knew to be durable in that segment:
 * then it learns the new durable limit and the byte length of whole records written so far,
 * and never reads beyond those bytes. A reader only ever moves forward; a record older than its
 * position (after reopening mid-segment) is skipped by its header.
 *
 * Checkpoints. sl_spool_commit() writes "<name>.ckpt.tmp" with the decimal seq and a newline and
 * renames it over "<name>.ckpt": a reader of the file sees the old or the new value, never a mix.
 * It does not fdatasync (the choice): commit is called per batch by the delivery path and must
 * not wait for the disk. A process crash loses nothing (the page cache survives); a power loss
 * may bring back an older checkpoint, or an empty file, which only means redelivery: an
 * unreadable checkpoint is reported and read as 0 (start from the oldest record), which is
 * at-least-once. Deleting segments needs no fsync for the same reason.
 *
 * Registered readers. Opening a reader with a new name writes its checkpoint (0) at once, so it
 * pins unconsumed segments across restarts even before its first commit; sl_spool_reader_remove()
 * forgets a reader for good. A segment is deleted when every registered reader has committed
 * past its last record; with no registered reader nothing is deleted.
 *
 * Locking: reader lock, then spool lock; never the other way round.
 */
#include "core/spool_int.h"

#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sl_spool_reader {
	struct sl_spool *spool;
	struct sl_spool_cursor *cursor;  /* owned by the spool */
	pthread_mutex_t lock;
	uint64_t pos;                    /* last seq returned; reading resumes after it */
	uint64_t committed;
	uint64_t seg_first;              /* segment the stream is on, 0 = none */
	uint64_t limit;                  /* highest seq known durable in that segment */
	int fd;
	struct sl_spool_stream st;
	unsigned char *buf;
};

/* ---- checkpoint files ------------------------------------------------------------------ */

bool sl_spool_reader_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > SL_SPOOL_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

int sl_spool_ckpt_read(int dirfd, const char *name, uint64_t *seq)
{
	char file[SL_SPOOL_NAME_MAX + 16], text[32];
	uint64_t v = 0;
	ssize_t n;

	*seq = 0;
	snprintf(file, sizeof(file), "%s.ckpt", name);
	int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 2 || n == (ssize_t)sizeof(text) || text[n - 1] != '\n')
		return -EINVAL;
	for (ssize_t i = 0; i < n - 1; i++) {
		if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	*seq = v;
	return 0;
}

int sl_spool_ckpt_write(int dirfd, const char *name, uint64_t seq)
{
	char tmp[SL_SPOOL_NAME_MAX + 16], file[SL_SPOOL_NAME_MAX + 16], text[32];
	int len = snprintf(text, sizeof(text), "%" PRIu64 "\n", seq);
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.ckpt.tmp", name);
	snprintf(file, sizeof(file), "%s.ckpt", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, (size_t)len);
	if (n != len)
		rc = n < 0 ? -errno : -EIO;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && renameat(dirfd, tmp, dirfd, file))
		rc = -errno;
	if (rc)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

/* ---- deletion -------------------------------------------------------------------------- */

bool sl_spool_min_committed(const struct sl_spool *s, uint64_t *min)
{
	const struct sl_spool_cursor *c = s->cursors;

	if (!c)
		return false;
	*min = c->committed;
	for (c = c->next; c; c = c->next)
		if (c->committed < *min)
			*min = c->committed;
	return true;
}

uint64_t *sl_spool_take_consumed(struct sl_spool *s, size_t *n)
{
	uint64_t min, *firsts;
	size_t k = 0;

	*n = 0;
	if (!sl_spool_min_committed(s, &min))
		return NULL;
	while (k + 1 < s->nsegs && s->segs[k].last_seq <= min)
		k++;
	if (k == 0)
		return NULL;
	firsts = sl_xmalloc(k * sizeof(uint64_t));
	for (size_t i = 0; i < k; i++) {
		firsts[i] = s->segs[i].first_seq;
		s->bytes -= s->segs[i].bytes;
	}
	memmove(s->segs, s->segs + k, (s->nsegs - k) * sizeof(*s->segs));
	s->nsegs -= k;
	*n = k;
	return firsts;
}

void sl_spool_unlink_segs(struct sl_spool *s, uint64_t *firsts, size_t n)
{
	char name[SL_SPOOL_SEG_NAME_LEN + 1];

	for (size_t i = 0; i < n; i++) {
		sl_spool_seg_name(name, firsts[i]);
		if (unlinkat(s->dirfd, name, 0) && errno != ENOENT)
			sl_warn(s->tag, "cannot delete consumed segment %s/%s: %s", s->dir, name,
				strerror(errno));
	}
	free(firsts);
}

/* ---- open / close ---------------------------------------------------------------------- */

static struct sl_spool_cursor *find_cursor(struct sl_spool *s, const char *name)
{
	for (struct sl_spool_cursor *c = s->cursors; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Under lock: the cursor for `name`, registered (checkpoint 0 written) if new. */
static int register_cursor(struct sl_spool *s, const char *name, struct sl_spool_cursor **out)
{
	struct sl_spool_cursor *c = find_cursor(s, name);

	if (!c) {
		int rc = sl_spool_ckpt_write(s->dirfd, name, 0);
		if (rc)
			return rc;
		c = sl_xcalloc(1, sizeof(*c));
		c->name = sl_xstrdup(name);
		c->next = s->cursors;
		s->cursors = c;
	}
	*out = c;
	return 0;
}

int sl_spool_reader_open(struct sl_spool *spool, const char *name, struct sl_spool_reader **out)
{
	struct sl_spool_cursor *c = NULL;
	struct sl_spool_reader *r;
	int rc;

	*out = NULL;
	if (!sl_spool_reader_name_ok(name))
		return -EINVAL;
	pthread_mutex_lock(&spool->lock);
	rc = register_cursor(spool, name, &c);
	if (!rc && c->open)
		rc = -EBUSY;
	if (rc)
		goto out;
	c->open = true;
	r = sl_xcalloc(1, sizeof(*r));
	r->spool = spool;
	r->cursor = c;
	r->pos = r->committed = c->committed;
	r->fd = -1;
	r->buf = sl_xmalloc(SL_SPOOL_BUF);
	sl_spool_stream_init(&r->st, r->buf, SL_SPOOL_BUF);
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
out:
	pthread_mutex_unlock(&spool->lock);
	return rc;
}

void sl_spool_reader_close(struct sl_spool_reader *reader)
{
	if (!reader)
		return;
	pthread_mutex_lock(&reader->spool->lock);
	reader->cursor->open = false;
	pthread_mutex_unlock(&reader->spool->lock);
	if (reader->fd >= 0)
		close(reader->fd);
	pthread_mutex_destroy(&reader->lock);
	free(reader->buf);
	free(reader);
}

int sl_spool_reader_remove(struct sl_spool *spool, const char *name)
{
	char file[SL_SPOOL_NAME_MAX + 16];
	struct sl_spool_cursor **pp, *c = NULL;
	uint64_t *gone = NULL;
	size_t ngone = 0;
	int rc = -ENOENT;

	if (!sl_spool_reader_name_ok(name))
		return -EINVAL;
	pthread_mutex_lock(&spool->lock);
	for (pp = &spool->cursors; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			break;
	c = *pp;
	if (c && c->open)
		rc = -EBUSY;
	if (c && !c->open) {
		snprintf(file, sizeof(file), "%s.ckpt", name);
		rc = unlinkat(spool->dirfd, file, 0) && errno != ENOENT ? -errno : 0;
	}
	if (!rc) {
		*pp = c->next;
		gone = sl_spool_take_consumed(spool, &ngone);
	}
	pthread_mutex_unlock(&spool->lock);
	sl_spool_unlink_segs(spool, gone, ngone);
	if (!rc) {
		free(c->name);
		free(c);
	}
	return rc;
}

/* ---- reading --------------------------------------------------------------------------- */

/* First segment holding a record >= want (last_seq is non-decreasing along the list). */
static const struct sl_spool_seg *find_seg(const struct sl_spool *s, uint64_t want)
{
	size_t lo = 0, hi = s->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->segs[mid].last_seq < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nsegs ? &s->segs[lo] : NULL;
}

static int switch_segment(struct sl_spool_reader *r, uint64_t first)
{
	char name[SL_SPOOL_SEG_NAME_LEN + 1];

	sl_spool_seg_name(name, first);
	int fd = openat(r->spool->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sl_error(r->spool->tag, "reader %s: cannot open %s/%s: %s", r->cursor->name,
			 r->spool->dir, name, strerror(errno));
		return -EIO;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->seg_first = first;
	sl_spool_stream_reset(&r->st, fd, 0);
	return 0;
}

/* Learn where the next durable record is: 1 positioned, 0 none yet, negative on error. */
static int reader_locate(struct sl_spool_reader *r)
{
	struct sl_spool *s = r->spool;
	struct sl_spool_seg g = { 0 };
	uint64_t want = r->pos + 1, durable;
	const struct sl_spool_seg *p;

	pthread_mutex_lock(&s->lock);
	durable = s->durable;
	p = find_seg(s, want);
	if (p)
		g = *p;
	pthread_mutex_unlock(&s->lock);
	if (!p || durable < (want > g.first_seq ? want : g.first_seq))
		return 0;
	if (g.first_seq != r->seg_first) {
		int rc = switch_segment(r, g.first_seq);
		if (rc)
			return rc;
	}
	r->st.end = g.bytes;
	r->limit = durable < g.last_seq ? durable : g.last_seq;
	return 1;
}

static int corrupt(struct sl_spool_reader *r, const char *why)
{
	sl_error(r->spool->tag, "reader %s: %s in segment %020" PRIu64 " at offset %" PRIu64,
		 r->cursor->name, why, r->seg_first, sl_spool_stream_offset(&r->st));
	return -EIO;
}

static int reader_next(struct sl_spool_reader *r, void **data, size_t *len, uint64_t *seq)
{
	struct sl_spool_hdr h;
	int rc;

	for (;;) {
		if (r->pos >= r->limit) {
			rc = reader_locate(r);
			if (rc <= 0)
				return rc;
		}
		rc = sl_spool_stream_header(&r->st, &h);
		if (rc)
			return corrupt(r, "cannot read record header");
		if (h.magic != SL_SPOOL_MAGIC || h.len > SL_SPOOL_MAX_RECORD || h.seq > r->limit)
			return corrupt(r, "bad record header");
		if (h.seq > r->pos)
			break;
		if (sl_spool_stream_payload(&r->st, NULL, h.len, NULL))
			return corrupt(r, "short record");
	}
	unsigned char *buf = sl_xmalloc(h.len);
	uint32_t crc = sl_spool_crc_start(h.seq);
	rc = sl_spool_stream_payload(&r->st, buf, h.len, &crc);
	if (rc || crc != h.crc) {
		free(buf);
		return corrupt(r, rc ? "short record" : "CRC mismatch");
	}
	r->pos = h.seq;
	*data = buf;
	*len = h.len;
	*seq = h.seq;
	return 1;
}

int sl_spool_read(struct sl_spool_reader *reader, void **data, size_t *len, uint64_t *seq)
{
	pthread_mutex_lock(&reader->lock);
	int rc = reader_next(reader, data, len, seq);
	pthread_mutex_unlock(&reader->lock);
	return rc;
}

/* ---- commit ---------------------------------------------------------------------------- */

int sl_spool_commit(struct sl_spool_reader *reader, uint64_t seq)
{
	struct sl_spool *s = reader->spool;
	uint64_t *gone = NULL;
	size_t ngone = 0;
	int rc = 0;

	pthread_mutex_lock(&reader->lock);
	if (seq < reader->committed || seq > reader->pos)
		rc = -EINVAL;
	else if (seq > reader->committed)
		rc = sl_spool_ckpt_write(s->dirfd, reader->cursor->name, seq);
	if (!rc && seq > reader->committed) {
		reader->committed = seq;
		pthread_mutex_lock(&s->lock);
		reader->cursor->committed = seq;
		gone = sl_spool_take_consumed(s, &ngone);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&reader->lock);
	sl_spool_unlink_segs(s, gone, ngone);
	return rc;
}

uint64_t sl_spool_committed(struct sl_spool_reader *reader)
{
	pthread_mutex_lock(&reader->lock);
	uint64_t c = reader->committed;
	pthread_mutex_unlock(&reader->lock);
	return c;
}

void sl_spool_reader_names(struct sl_spool *spool, char ***names, size_t *n)
{
	size_t count = 0;

	pthread_mutex_lock(&spool->lock);
	for (struct sl_spool_cursor *c = spool->cursors; c; c = c->next)
		count++;
	char **out = sl_xcalloc(count ? count : 1, sizeof(*out));
	count = 0;
	for (struct sl_spool_cursor *c = spool->cursors; c; c = c->next)
		out[count++] = sl_xstrdup(c->name);
	pthread_mutex_unlock(&spool->lock);
	*names = out;
	*n = count;
}
