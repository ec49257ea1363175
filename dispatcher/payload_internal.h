/* Internal to the payload encoder (dispatcher/payload*.c): the buffer a payload is written into,
 * the pieces of JSON text the shapes are written with, and the aws stream and queue shapes.
 *
 * The shapes write their JSON straight into one growing buffer, with no tree per event. Every
 * string goes out through pl_string or pl_escaped, which keep the text valid JSON: a string that
 * is not UTF-8 marks the buffer `invalid`, and the encoder then refuses the batch (-EINVAL).
 */
#ifndef SL_PAYLOAD_INTERNAL_H
#define SL_PAYLOAD_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct sl_event;

/* The payload being written: p (malloc'd, grows by doubling) holds len bytes and a NUL. */
struct pl_out {
	char *p;
	size_t len, cap;
	bool invalid;             /* a string was not UTF-8: the text is not JSON */
};

/* Append bytes as they are. */
void pl_put(struct pl_out *o, const void *bytes, size_t n);
/* Append a string literal as it is. */
#define pl_lit(o, lit) pl_put((o), "" lit, sizeof(lit) - 1)
/* Append s[0..n) escaped for the inside of a JSON string (no quotes). */
void pl_escaped(struct pl_out *o, const char *s, size_t n);
/* Append s as a JSON string, or null when s is NULL. */
void pl_string(struct pl_out *o, const char *s);
/* Append the base64 of bytes[0..n) as a JSON string. */
void pl_base64(struct pl_out *o, const void *bytes, size_t n);
/* Append v in decimal. */
void pl_int(struct pl_out *o, int64_t v);
/* Append v as compact JSON; -EINVAL when jansson cannot encode it. */
int pl_json(struct pl_out *o, const json_t *v);

/* Hand the characters of the JSON string text[0..len) (compact JSON text, quotes included) to
 * sink as UTF-8, in pieces of up to 512 bytes, escapes decoded; -EINVAL (after some pieces) for
 * an escape that is not JSON's. */
int pl_json_string_chars(const char *text, size_t len,
			 void (*sink)(void *arg, const void *bytes, size_t n), void *arg);

/* The event's data as bytes: data_bytes, data_text, or data encoded compactly into *scratch
 * (the caller frees it; NULL otherwise). No data: length 0. */
const void *pl_data(const struct sl_event *ev, size_t *len, char **scratch);
/* Append the base64 of the event's data (as pl_data gives it) as a JSON string. */
void pl_data_base64(struct pl_out *o, const struct sl_event *ev);

/* The aws shapes, each the whole payload for evs[0..n): 0, or -EINVAL for an event that cannot
 * be encoded. */
int pl_kafka(struct pl_out *o, const struct sl_source_config *src,
	     const struct sl_event *const *evs, size_t n);
int pl_kinesis(struct pl_out *o, const struct sl_event *const *evs, size_t n);
/* Also -ENOTSUP when libcrypto offers no MD5 (FIPS mode). */
int pl_sqs(struct pl_out *o, const struct sl_source_config *src,
	   const struct sl_event *const *evs, size_t n);

#endif
