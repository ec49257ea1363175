/* Sandbox channel framing; see channel.h. */
#include "executor/channel.h"

#include "core/mem.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Meta up to this size is serialised on the stack; larger meta is rare (big client context). */
#define META_STACK_LEN 4096

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Serialise header + meta into buf (META_STACK_LEN of room after the header) or, when the meta
 * is larger, into a new allocation stored in *heap. Returns the length, or -EMSGSIZE. */
static ssize_t format_head(unsigned char *buf, unsigned char **heap, enum sl_frame_type type,
			   const json_t *meta, size_t payload_len)
{
	size_t meta_len = 0;

	*heap = NULL;
	if (payload_len > SL_FRAME_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (meta && json_object_size(meta) > 0) {
		meta_len = json_dumpb(meta, (char *)buf + SL_FRAME_HEADER_LEN, META_STACK_LEN,
				      JSON_COMPACT);
		if (meta_len > SL_FRAME_MAX_META)
			return -EMSGSIZE;
		if (meta_len > META_STACK_LEN) {
			buf = *heap = sl_xmalloc(SL_FRAME_HEADER_LEN + meta_len);
			json_dumpb(meta, (char *)buf + SL_FRAME_HEADER_LEN, meta_len, JSON_COMPACT);
		}
	}
	buf[0] = (unsigned char)type;
	buf[1] = SL_CHANNEL_VERSION;
	buf[2] = buf[3] = 0;
	put_be32(buf + 4, (uint32_t)meta_len);
	put_be32(buf + 8, (uint32_t)payload_len);
	return (ssize_t)(SL_FRAME_HEADER_LEN + meta_len);
}

/* When nothing is queued, write the frame at once with one writev (saving the loop a round of
 * EPOLLOUT); returns how many bytes went out. The rest is queued by the caller. */
static size_t write_through(struct bufferevent *bev, struct iovec *iov, int n)
{
	evutil_socket_t fd = bufferevent_getfd(bev);

	if (fd < 0 || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return 0;
	ssize_t w;
	do
		w = writev(fd, iov, n);
	while (w < 0 && errno == EINTR);
	return w > 0 ? (size_t)w : 0;   /* errors surface through the bufferevent */
}

/* Queue what write_through() did not send: the iovecs past `sent` bytes. */
static int queue_rest(struct evbuffer *out, const struct iovec *iov, int n, size_t sent)
{
	for (int i = 0; i < n; i++) {
		if (sent >= iov[i].iov_len) {
			sent -= iov[i].iov_len;
			continue;
		}
		if (evbuffer_add(out, (const char *)iov[i].iov_base + sent,
				 iov[i].iov_len - sent) != 0)
			return -ENOMEM;
		sent = 0;
	}
	return 0;
}

int sl_channel_send(struct bufferevent *bev, enum sl_frame_type type, const json_t *meta,
		    const void *payload, size_t len)
{
	unsigned char stack[SL_FRAME_HEADER_LEN + META_STACK_LEN], *heap;
	ssize_t head = format_head(stack, &heap, type, meta, len);

	if (head < 0)
		return (int)head;
	struct iovec iov[2] = { { heap ? heap : stack, (size_t)head }, { (void *)payload, len } };
	int n = len > 0 ? 2 : 1;
	int rc = queue_rest(bufferevent_get_output(bev), iov, n, write_through(bev, iov, n));
	free(heap);
	return rc;
}

#define SEND_IOV_MAX 16

int sl_channel_send_buffer(struct bufferevent *bev, enum sl_frame_type type, const json_t *meta,
			   struct evbuffer *payload)
{
	unsigned char stack[SL_FRAME_HEADER_LEN + META_STACK_LEN], *heap;
	size_t len = payload ? evbuffer_get_length(payload) : 0;
	ssize_t head = format_head(stack, &heap, type, meta, len);
	struct evbuffer *out = bufferevent_get_output(bev);
	struct evbuffer_iovec vec[SEND_IOV_MAX - 1];
	struct iovec iov[SEND_IOV_MAX];
	int rc = 0;

	if (head < 0)
		return (int)head;
	iov[0] = (struct iovec){ heap ? heap : stack, (size_t)head };
	int chunks = len ? evbuffer_peek(payload, -1, NULL, vec, SEND_IOV_MAX - 1) : 0;
	if (chunks <= SEND_IOV_MAX - 1) {
		for (int i = 0; i < chunks; i++)
			iov[i + 1] = (struct iovec){ vec[i].iov_base, vec[i].iov_len };
		size_t sent = write_through(bev, iov, chunks + 1);
		if (sent < (size_t)head)
			rc = queue_rest(out, iov, 1, sent);
		sent = sent > (size_t)head ? sent - (size_t)head : 0;
		evbuffer_drain(payload, sent);
	} else {
		rc = queue_rest(out, iov, 1, 0);
	}
	if (rc == 0 && payload && evbuffer_get_length(payload) > 0 &&
	    evbuffer_add_buffer(out, payload) != 0)
		rc = -ENOMEM;
	free(heap);
	return rc;
}

int sl_channel_read(struct evbuffer *in, struct sl_frame *f)
{
	unsigned char hdr[SL_FRAME_HEADER_LEN];
	size_t have = evbuffer_get_length(in);

	if (have < SL_FRAME_HEADER_LEN)
		return 0;
	evbuffer_copyout(in, hdr, sizeof(hdr));
	uint32_t meta_len = get_be32(hdr + 4), payload_len = get_be32(hdr + 8);
	if (hdr[0] < SL_FRAME_INIT_DONE || hdr[0] > SL_FRAME_TYPE_MAX_ ||
	    hdr[1] != SL_CHANNEL_VERSION || meta_len > SL_FRAME_MAX_META ||
	    payload_len > SL_FRAME_MAX_PAYLOAD)
		return -EPROTO;
	size_t total = SL_FRAME_HEADER_LEN + (size_t)meta_len + payload_len;
	if (have < total)
		return 0;

	json_t *meta = NULL;
	if (meta_len > 0) {
		unsigned char *p = evbuffer_pullup(in, SL_FRAME_HEADER_LEN + (ssize_t)meta_len);
		meta = json_loadb((const char *)p + SL_FRAME_HEADER_LEN, meta_len, 0, NULL);
		if (!json_is_object(meta)) {
			json_decref(meta);
			return -EPROTO;
		}
	} else {
		meta = sl_check_alloc(json_object());
	}
	evbuffer_drain(in, SL_FRAME_HEADER_LEN + (size_t)meta_len);
	f->type = (enum sl_frame_type)hdr[0];
	f->meta = meta;
	f->payload_len = payload_len;
	f->tail_len = have - total;
	return 1;
}

const char *sl_frame_payload(struct evbuffer *in, const struct sl_frame *f)
{
	if (f->payload_len == 0)
		return "";
	return (const char *)evbuffer_pullup(in, (ssize_t)f->payload_len);
}

void sl_frame_done(struct evbuffer *in, struct sl_frame *f)
{
	size_t have = evbuffer_get_length(in);

	if (have > f->tail_len)
		evbuffer_drain(in, have - f->tail_len);
	json_decref(f->meta);
	f->meta = NULL;
}

const char *sl_meta_str(const struct sl_frame *f, const char *key)
{
	return json_string_value(json_object_get(f->meta, key));
}

long long sl_meta_int(const struct sl_frame *f, const char *key, long long dflt)
{
	json_t *v = json_object_get(f->meta, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

double sl_meta_real(const struct sl_frame *f, const char *key, double dflt)
{
	json_t *v = json_object_get(f->meta, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

const char *sl_frame_type_name(enum sl_frame_type type)
{
	static const char *const names[] = { "?", "INIT_DONE", "INIT_ERROR", "INVOKE", "RESPONSE",
					     "ERROR", "LOG", "EXIT" };

	return (unsigned)type <= SL_FRAME_TYPE_MAX_ ? names[type] : "?";
}
