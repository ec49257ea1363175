/* The sandbox channel: framed messages between the executor and sluice-init.
 *
 * Model. One unix stream socket per sandbox carries frames both ways. A frame is a 12-byte header,
 * a meta part and a payload part:
 *
 *   byte 0      type (enum sl_frame_type)
 *   byte 1      protocol version (SL_CHANNEL_VERSION)
 *   bytes 2-3   zero
 *   bytes 4-7   meta length, big endian, at most SL_FRAME_MAX_META
 *   bytes 8-11  payload length, big endian, at most SL_FRAME_MAX_PAYLOAD
 *   meta        a compact JSON object (may be empty: length 0 means {})
 *   payload     raw bytes (event, response, error JSON, log line)
 *
 * Frames and their meta keys (all optional unless said otherwise):
 *   executor -> agent
 *     INVOKE      id*, timeout_ms*, arn*, trace_id, client_context, content_type; payload = event
 *   agent -> executor
 *     INIT_DONE   init_ms*, pid (the runtime's, also its process group): runtime called /next
 *                 for the first time
 *     INIT_ERROR  cause*, error_type*, message, init_ms; payload = runtime's /init/error body
 *                 (cause "handler"), else empty: the executor builds the caller's error JSON from
 *                 error_type and message ("RequestId: <id> Error: <message>")
 *     RESPONSE    id*, max_rss_kb, content_type; payload = response bytes
 *     ERROR       id*, cause*, error_type*, max_rss_kb, content_type; payload = the error JSON the
 *                 caller sees (runtime's /error body verbatim for cause "handler")
 *     LOG         stream ("stdout"|"stderr"); payload = one line without its newline
 *     EXIT        reason* ("exit status 1", "signal: killed"); the agent exits after sending it
 * Causes: "handler" (runtime posted an error), "timeout", "exit" (runtime exited), "too_large"
 * (response over SL_RUNTIME_MAX_PAYLOAD), "entrypoint" (bootstrap could not be started),
 * "protocol" (invalid response mode header).
 *
 * Reading never copies more than needed: sl_channel_read() consumes header and meta and leaves
 * the payload at the front of the input buffer, where the caller either pulls it up
 * (sl_frame_payload) or moves it to another evbuffer without copying, then calls sl_frame_done().
 * Writing: when nothing is queued on the bufferevent, the frame (header+meta, payload) goes out at
 * once with one writev, so a frame costs no extra loop round (EPOLLOUT); whatever the socket does
 * not take is queued on the bufferevent's output, which sends it in order.
 *
 * Both sides use this file: the executor and sluice-init (which links libsluice.a).
 */
#ifndef SL_CHANNEL_H
#define SL_CHANNEL_H

#include <jansson.h>
#include <stddef.h>

struct bufferevent;
struct evbuffer;

#define SL_CHANNEL_VERSION 1
#define SL_FRAME_HEADER_LEN 12
#define SL_FRAME_MAX_META (64 * 1024)
/* Largest body the Runtime API accepts or delivers (6 MiB + 100 bytes, Lambda's MaxPayloadSize). */
#define SL_RUNTIME_MAX_PAYLOAD 6291556
#define SL_FRAME_MAX_PAYLOAD (SL_RUNTIME_MAX_PAYLOAD + 64 * 1024)

enum sl_frame_type {
	SL_FRAME_INIT_DONE = 1,
	SL_FRAME_INIT_ERROR,
	SL_FRAME_INVOKE,
	SL_FRAME_RESPONSE,
	SL_FRAME_ERROR,
	SL_FRAME_LOG,
	SL_FRAME_EXIT,
	SL_FRAME_TYPE_MAX_ = SL_FRAME_EXIT,
};

struct sl_frame {
	enum sl_frame_type type;
	json_t *meta;           /* owned until sl_frame_done(); always an object */
	size_t payload_len;
	size_t tail_len;        /* bytes buffered after this frame when it was read (internal) */
};

/* Append one frame to bev's output. meta may be NULL ({}). 0, or -EMSGSIZE when meta or
 * payload exceed the limits. */
int sl_channel_send(struct bufferevent *bev, enum sl_frame_type type, const json_t *meta,
		    const void *payload, size_t len);
/* Same, the payload being the whole content of `payload`, which is moved without copying. */
int sl_channel_send_buffer(struct bufferevent *bev, enum sl_frame_type type, const json_t *meta,
			   struct evbuffer *payload);

/* 1: a whole frame was buffered; f is filled, header and meta are drained, the payload is at the
 * front of `in`. 0: more bytes needed. -EPROTO: malformed frame (the peer must be dropped). */
int sl_channel_read(struct evbuffer *in, struct sl_frame *f);
/* The payload as contiguous bytes inside `in` (valid until sl_frame_done). "" when empty. */
const char *sl_frame_payload(struct evbuffer *in, const struct sl_frame *f);
/* Drain what is left of the payload and release the meta. */
void sl_frame_done(struct evbuffer *in, struct sl_frame *f);

/* Meta accessors: the string, or NULL / the default when absent or of another type. */
const char *sl_meta_str(const struct sl_frame *f, const char *key);
long long sl_meta_int(const struct sl_frame *f, const char *key, long long dflt);
double sl_meta_real(const struct sl_frame *f, const char *key, double dflt);

const char *sl_frame_type_name(enum sl_frame_type type);

#endif
