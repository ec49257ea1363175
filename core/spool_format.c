/* Spool record format and buffered record reading.
 *
 * A record is a 20-byte little-endian header (magic "SLR1", payload length, sequence number,
 * crc32 of the 8 sequence bytes followed by the payload) and then the payload. The CRC is zlib's
 * crc32(); appenders compute the payload part outside the spool lock and combine it with the
 * sequence part (crc32_combine) once the sequence number is known.
 *
 * struct sl_spool_stream reads a segment through one buffer with pread(2): small records cost no
 * system call each, large ones are read straight into their destination. It never reads at or
 * past `end`, so a reader never buffers bytes of a record that is still being written.
 */
#include "core/spool_int.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t crc_update(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

uint32_t sl_spool_crc_start(uint64_t seq)
{
	unsigned char s[8];
	put64(s, seq);
	return crc_update((uint32_t)crc32(0L, Z_NULL, 0), s, 8);
}

uint32_t sl_spool_crc_payload(const void *data, size_t len)
{
	return crc_update((uint32_t)crc32(0L, Z_NULL, 0), data, len);
}

uint32_t sl_spool_crc_join(uint64_t seq, uint32_t payload_crc, size_t len)
{
	return (uint32_t)crc32_combine(sl_spool_crc_start(seq), payload_crc, (z_off_t)len);
}

void sl_spool_hdr_encode(unsigned char out[SL_SPOOL_HDR], uint64_t seq, uint32_t len, uint32_t crc)
{
	put32(out, SL_SPOOL_MAGIC);
	put32(out + 4, len);
	put64(out + 8, seq);
	put32(out + 16, crc);
}

void sl_spool_hdr_decode(const unsigned char in[SL_SPOOL_HDR], struct sl_spool_hdr *h)
{
	h->magic = get32(in);
	h->len = get32(in + 4);
	h->seq = get64(in + 8);
	h->crc = get32(in + 16);
}

void sl_spool_stream_init(struct sl_spool_stream *st, unsigned char *buf, size_t cap)
{
	memset(st, 0, sizeof(*st));
	st->fd = -1;
	st->buf = buf;
	st->cap = cap;
}

void sl_spool_stream_reset(struct sl_spool_stream *st, int fd, uint64_t end)
{
	st->fd = fd;
	st->end = end;
	st->base = 0;
	st->pos = st->len = 0;
}

uint64_t sl_spool_stream_offset(const struct sl_spool_stream *st)
{
	return st->base + st->pos;
}

/* pread exactly len bytes at off; -ENODATA if the file is shorter, -errno on a read error. */
static int pread_full(int fd, void *dst, size_t len, uint64_t off)
{
	unsigned char *p = dst;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Make at least `need` (<= cap) unread bytes available in the buffer. */
static int stream_need(struct sl_spool_stream *st, size_t need)
{
	size_t have = st->len - st->pos;
	if (have >= need)
		return 0;
	uint64_t off = sl_spool_stream_offset(st);
	if (st->end - off < need)
		return -ENODATA;
	memmove(st->buf, st->buf + st->pos, have);
	st->base = off;
	st->pos = 0;
	st->len = have;
	uint64_t want = st->end - (off + have);
	size_t room = st->cap - have;
	size_t n = want < room ? (size_t)want : room;
	int rc = pread_full(st->fd, st->buf + have, n, off + have);
	if (rc == 0)
		st->len += n;
	return rc;
}

int sl_spool_stream_header(struct sl_spool_stream *st, struct sl_spool_hdr *h)
{
	int rc = stream_need(st, SL_SPOOL_HDR);
	if (rc)
		return rc;
	sl_spool_hdr_decode(st->buf + st->pos, h);
	st->pos += SL_SPOOL_HDR;
	return 0;
}

/* The part of a payload that is not buffered: read it directly, or skip it. */
static int stream_direct(struct sl_spool_stream *st, unsigned char *dst, size_t len, uint32_t *crc)
{
	uint64_t off = sl_spool_stream_offset(st);
	if (st->end - off < len)
		return -ENODATA;
	if (dst) {
		int rc = pread_full(st->fd, dst, len, off);
		if (rc)
			return rc;
		if (crc)
			*crc = crc_update(*crc, dst, len);
	}
	st->base = off + len;
	st->pos = st->len = 0;
	return 0;
}

int sl_spool_stream_payload(struct sl_spool_stream *st, void *dst, size_t len, uint32_t *crc)
{
	unsigned char *out = dst;
	while (len > 0) {
		if (st->pos == st->len) {
			if ((dst && len >= st->cap) || (!dst && !crc))
				return stream_direct(st, out, len, crc);
			int rc = stream_need(st, len < st->cap ? len : st->cap);
			if (rc)
				return rc;
		}
		size_t n = st->len - st->pos;
		if (n > len)
			n = len;
		if (out) {
			memcpy(out, st->buf + st->pos, n);
			out += n;
		}
		if (crc)
			*crc = crc_update(*crc, st->buf + st->pos, n);
		st->pos += n;
		len -= n;
	}
	return 0;
}
