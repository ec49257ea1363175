/* Spool: open/close, appends, segment rollover and the group-commit syncer (see core/spool.h).
 *
 * Append path. The payload CRC is computed before taking the lock; under the lock the append
 * checks the caps, rolls to a new segment if the active one would pass segment_bytes, takes the
 * next sequence number and writes header + payload with one writev(2) to the active segment
 * (O_APPEND). A failed or short write is cut off again with ftruncate(), so a segment only ever
 * holds whole records; if even that fails the spool refuses further appends (-EIO).
 *
 * Syncer. One thread waits until written > durable, notes the target seq, the active fd and the
 * fds of segments rolled since the last round, syncs them without the lock (so appends continue
 * meanwhile and pile up for the next round: group commit), then publishes the watermark, wakes
 * sl_spool_wait_durable() callers and calls on_durable. A failed fdatasync is final: after it
 * the kernel may have dropped the dirty pages, so the spool refuses appends (-EIO) and the
 * watermark never moves again; restarting recovers from what is really on disk.
 *
 * Space. When an append would pass max_bytes and every registered reader has consumed the whole
 * active segment, the segment is rolled so the consumed one can be deleted: a spool whose cap is
 * smaller than a segment still drains.
 */
#include "core/spool_int.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DEFAULT_SEGMENT_BYTES (64ull << 20)
#define DEFAULT_MAX_BYTES     (1ull << 30)

void sl_spool_seg_name(char out[SL_SPOOL_SEG_NAME_LEN + 1], uint64_t first_seq)
{
	snprintf(out, SL_SPOOL_SEG_NAME_LEN + 1, SL_SPOOL_SEG_FMT, first_seq);
}

int sl_spool_roll(struct sl_spool *s)
{
	char name[SL_SPOOL_SEG_NAME_LEN + 1];

	sl_spool_seg_name(name, s->next_seq);
	int fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		int rc = -errno;
		sl_error(s->tag, "cannot create segment %s/%s: %s", s->dir, name, strerror(errno));
		return rc;
	}
	if (s->nsegs == s->segs_cap) {
		s->segs_cap = s->segs_cap ? 2 * s->segs_cap : 8;
		s->segs = sl_xrealloc(s->segs, s->segs_cap * sizeof(*s->segs));
	}
	s->segs[s->nsegs++] = (struct sl_spool_seg){ s->next_seq, s->next_seq - 1, 0 };
	if (s->wfd >= 0) {
		if (s->nretired == s->retired_cap) {
			s->retired_cap = s->retired_cap ? 2 * s->retired_cap : 4;
			s->retired = sl_xrealloc(s->retired, s->retired_cap * sizeof(int));
		}
		s->retired[s->nretired++] = s->wfd;
	}
	s->wfd = fd;
	s->dir_dirty = true;
	return 0;
}

/* ---- syncer ---------------------------------------------------------------------------- */

struct sync_round {
	uint64_t target;
	int fd;
	int *retired;
	size_t nretired;
	bool dir;
};

static int sync_fd(int fd)
{
	return fdatasync(fd) ? -errno : 0;
}

/* Without the lock. Closes the retired fds whatever happens. */
static int sync_round_run(struct sl_spool *s, struct sync_round *r)
{
	int rc = 0;
	for (size_t i = 0; i < r->nretired; i++) {
		int err = sync_fd(r->retired[i]);
		rc = rc ? rc : err;
		close(r->retired[i]);
	}
	free(r->retired);
	if (!rc)
		rc = sync_fd(r->fd);
	if (!rc && r->dir)
		rc = fsync(s->dirfd) ? -errno : 0;
	return rc;
}

static void sync_round_take(struct sl_spool *s, struct sync_round *r)
{
	r->target = s->next_seq - 1;
	r->fd = s->wfd;
	r->retired = s->retired;
	r->nretired = s->nretired;
	r->dir = s->dir_dirty;
	s->retired = NULL;
	s->nretired = s->retired_cap = 0;
	s->dir_dirty = false;
}

static void *syncer_main(void *arg)
{
	struct sl_spool *s = arg;
	struct sync_round r;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->stop && !s->failed && s->durable == s->next_seq - 1)
			pthread_cond_wait(&s->work, &s->lock);
		if (s->failed || s->durable == s->next_seq - 1)
			break;                               /* stop requested, all synced */
		sync_round_take(s, &r);
		pthread_mutex_unlock(&s->lock);
		int rc = sync_round_run(s, &r);
		pthread_mutex_lock(&s->lock);
		if (rc) {
			s->failed = -EIO;
			sl_error(s->tag, "fdatasync failed in %s: %s; refusing appends until restart",
				 s->dir, strerror(-rc));
		} else {
			s->durable = r.target;
		}
		pthread_cond_broadcast(&s->durable_cv);
		if (!rc && s->on_durable) {
			pthread_mutex_unlock(&s->lock);
			s->on_durable(s->on_durable_arg, r.target);
			pthread_mutex_lock(&s->lock);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- open / close ---------------------------------------------------------------------- */

static void spool_free(struct sl_spool *s)
{
	if (s->wfd >= 0)
		close(s->wfd);
	for (size_t i = 0; i < s->nretired; i++)
		close(s->retired[i]);
	if (s->dirfd >= 0)
		close(s->dirfd);
	while (s->cursors) {
		struct sl_spool_cursor *c = s->cursors;
		s->cursors = c->next;
		free(c->name);
		free(c);
	}
	pthread_cond_destroy(&s->durable_cv);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
	free(s->retired);
	free(s->segs);
	free(s->tag);
	free(s->dir);
	free(s);
}

static struct sl_spool *spool_new(const struct sl_spool_options *o)
{
	struct sl_spool *s = sl_xcalloc(1, sizeof(*s));

	s->dir = sl_xstrdup(o->dir);
	s->tag = sl_xasprintf("spool:%s", o->name ? o->name : o->dir);
	s->dirfd = s->wfd = -1;
	s->max_bytes = o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
	s->segment_bytes = o->segment_bytes ? o->segment_bytes : DEFAULT_SEGMENT_BYTES;
	s->on_durable = o->on_durable;
	s->on_durable_arg = o->on_durable_arg;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->durable_cv, NULL);
	return s;
}

int sl_spool_open(const struct sl_spool_options *opts, struct sl_spool **out)
{
	struct sl_spool *s = NULL;
	int rc;

	*out = NULL;
	if (!opts || !opts->dir || !opts->dir[0])
		return -EINVAL;
	s = spool_new(opts);
	rc = sl_mkdirs(s->dir, 0755);
	if (rc)
		goto fail;
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = sl_spool_recover(s);
	if (rc)
		goto fail;
	s->durable = s->next_seq - 1;
	rc = -pthread_create(&s->syncer, NULL, syncer_main, s);
	if (rc)
		goto fail;
	*out = s;
	return 0;
fail:
	spool_free(s);
	return rc;
}

void sl_spool_close(struct sl_spool *spool)
{
	if (!spool)
		return;
	pthread_mutex_lock(&spool->lock);
	spool->stop = true;
	pthread_cond_signal(&spool->work);
	pthread_mutex_unlock(&spool->lock);
	pthread_join(spool->syncer, NULL);
	spool_free(spool);
}

/* ---- append ---------------------------------------------------------------------------- */

/* Under lock: make room for `need` bytes by rolling a fully consumed active segment away.
 * Returns the consumed segments to unlink after unlocking (see sl_spool_take_consumed). */
static uint64_t *reclaim_active(struct sl_spool *s, size_t *n)
{
	struct sl_spool_seg *a = &s->segs[s->nsegs - 1];
	uint64_t min;

	*n = 0;
	if (a->bytes == 0 || !sl_spool_min_committed(s, &min) || min < a->last_seq)
		return NULL;
	if (sl_spool_roll(s))
		return NULL;
	return sl_spool_take_consumed(s, n);
}

static int write_record(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = writev(fd, iov, iovcnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ENOSPC || errno == EDQUOT ? -ENOSPC : -EIO;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Under lock: write one record as the next seq into the active segment. */
static int append_locked(struct sl_spool *s, const void *data, uint32_t len, uint32_t pcrc,
			 uint64_t *seq)
{
	unsigned char hdr[SL_SPOOL_HDR];
	uint64_t need = SL_SPOOL_HDR + (uint64_t)len;
	struct sl_spool_seg *a = &s->segs[s->nsegs - 1];
	int rc;

	if (a->bytes > 0 && a->bytes + need > s->segment_bytes) {
		rc = sl_spool_roll(s);
		if (rc)
			return rc;
		a = &s->segs[s->nsegs - 1];
	}
	sl_spool_hdr_encode(hdr, s->next_seq, len, sl_spool_crc_join(s->next_seq, pcrc, len));
	struct iovec iov[2] = { { hdr, SL_SPOOL_HDR }, { (void *)data, len } };
	rc = write_record(s->wfd, iov, len ? 2 : 1);
	if (rc) {
		if (ftruncate(s->wfd, (off_t)a->bytes)) {
			s->failed = -EIO;
			sl_error(s->tag, "cannot cut a failed append off %s: %s; refusing appends",
				 s->dir, strerror(errno));
		}
		return rc;
	}
	*seq = s->next_seq++;
	a->last_seq = *seq;
	a->bytes += need;
	s->bytes += need;
	pthread_cond_signal(&s->work);
	return 0;
}

int sl_spool_append(struct sl_spool *spool, const void *data, size_t len, uint64_t *seq)
{
	uint64_t need = SL_SPOOL_HDR + (uint64_t)len;
	uint64_t *gone = NULL;
	size_t ngone = 0;
	int rc;

	if (len > SL_SPOOL_MAX_RECORD)
		return -EMSGSIZE;
	if (!data && len)
		return -EINVAL;
	uint32_t pcrc = sl_spool_crc_payload(data, len);
	pthread_mutex_lock(&spool->lock);
	rc = spool->failed;
	if (rc)
		goto out;
	if (spool->bytes + need > spool->max_bytes)
		gone = reclaim_active(spool, &ngone);
	rc = -ENOSPC;
	if (spool->bytes + need > spool->max_bytes)
		goto out;
	rc = append_locked(spool, data, (uint32_t)len, pcrc, seq);
out:
	pthread_mutex_unlock(&spool->lock);
	sl_spool_unlink_segs(spool, gone, ngone);
	return rc;
}

/* ---- watermarks ------------------------------------------------------------------------ */

uint64_t sl_spool_durable(struct sl_spool *spool)
{
	pthread_mutex_lock(&spool->lock);
	uint64_t d = spool->durable;
	pthread_mutex_unlock(&spool->lock);
	return d;
}

uint64_t sl_spool_bytes(struct sl_spool *spool)
{
	pthread_mutex_lock(&spool->lock);
	uint64_t b = spool->bytes;
	pthread_mutex_unlock(&spool->lock);
	return b;
}

int sl_spool_wait_durable(struct sl_spool *spool, uint64_t seq)
{
	int rc;

	pthread_mutex_lock(&spool->lock);
	while (spool->durable < seq && !spool->failed && seq < spool->next_seq)
		pthread_cond_wait(&spool->durable_cv, &spool->lock);
	if (spool->durable >= seq)
		rc = 0;
	else
		rc = spool->failed ? spool->failed : -EINVAL;
	pthread_mutex_unlock(&spool->lock);
	return rc;
}
