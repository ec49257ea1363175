/* The aws payload of redis_queue sources: Lambda's SQS event, one record per message in batch
 * order, the source's queue named as the SQS queue:
 *
 *   {"Records":[{"messageId","receiptHandle","body",
 *                "attributes":{"ApproximateReceiveCount","SentTimestamp","SenderId":"sluice",
 *                              "ApproximateFirstReceiveTimestamp"},
 *                "messageAttributes":{},"md5OfBody","eventSource":"aws:sqs",
 *                "eventSourceARN":"arn:aws:sqs:<region>:<account>:<queue>","awsRegion"}]}
 *
 * The body is the message: the characters of data that is a JSON string (kept as JSON text, that
 * text goes out as it is and is decoded only to be digested), other JSON data as its text, and
 * for a message that is not UTF-8 (data_bytes) each byte as the character with its number
 * (U+0000..U+00FF), so a handler gets the bytes back by encoding the body as Latin-1. md5OfBody
 * is the MD5 of the message's bytes: the body's characters in UTF-8, or the data_bytes.
 * What each record takes from its event is listed in payload.h ("Stream and queue events").
 */
#include "dispatcher/payload_internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/aws.h"
#include "core/event.h"
#include "core/mem.h"

/* A message body and the form it is written from. */
struct body {
	const char *p;
	size_t len;
	enum {
		BODY_TEXT,        /* UTF-8 characters, escaped when written */
		BODY_BYTES,       /* data_bytes: one character per byte */
		BODY_JSON,        /* a JSON string as compact JSON text: written as it is */
	} form;
	char *scratch;            /* what pl_data wrote, or NULL */
};

/* Data kept as JSON text that is a string goes out as that text; data that is a JSON string
 * gives its characters; other data what pl_data gives. */
static void body_init(struct body *b, const struct sl_event *ev)
{
	memset(b, 0, sizeof(*b));
	if (ev->data_text && ev->data_text[0] == '"') {
		b->p = ev->data_text;
		b->len = ev->data_text_len;
		b->form = BODY_JSON;
	} else if (json_is_string(ev->data)) {
		b->p = json_string_value(ev->data);
		b->len = json_string_length(ev->data);
	} else {
		b->p = pl_data(ev, &b->len, &b->scratch);
		b->form = ev->data_bytes ? BODY_BYTES : BODY_TEXT;
	}
}

/* Bytes as a JSON string of the characters U+0000..U+00FF with the bytes' numbers. */
static void put_latin1(struct pl_out *o, const char *bytes, size_t n)
{
	const unsigned char *u = (const unsigned char *)bytes;
	size_t run = 0;

	pl_lit(o, "\"");
	for (size_t i = 0; i < n; i++) {
		if (u[i] < 0x80)
			continue;
		char utf8[2] = { (char)(0xc0 | u[i] >> 6), (char)(0x80 | (u[i] & 0x3f)) };
		pl_escaped(o, bytes + run, i - run);
		pl_put(o, utf8, sizeof(utf8));
		run = i + 1;
	}
	pl_escaped(o, bytes + run, n - run);
	pl_lit(o, "\"");
}

static void digest_piece(void *ctx, const void *bytes, size_t n)
{
	EVP_DigestUpdate(ctx, bytes, n);
}

/* The MD5 of the body's characters (bytes for BODY_BYTES) as a JSON string of lowercase hex. */
static int put_md5(struct pl_out *o, EVP_MD_CTX *ctx, const EVP_MD *md5, const struct body *b)
{
	static const char hex_digits[] = "0123456789abcdef";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 2];

	if (!EVP_DigestInit_ex2(ctx, md5, NULL))
		return -EINVAL;
	if (b->form == BODY_JSON) {
		if (pl_json_string_chars(b->p, b->len, digest_piece, ctx) < 0)
			return -EINVAL;
	} else {
		EVP_DigestUpdate(ctx, b->p, b->len);
	}
	if (!EVP_DigestFinal_ex(ctx, digest, &len))
		return -EINVAL;
	hex[0] = '"';
	for (unsigned int i = 0; i < len; i++) {
		hex[1 + 2 * i] = hex_digits[digest[i] >> 4];
		hex[2 + 2 * i] = hex_digits[digest[i] & 15];
	}
	hex[1 + 2 * len] = '"';
	pl_put(o, hex, 2 + 2 * (size_t)len);
	return 0;
}

static void put_body(struct pl_out *o, const struct body *b)
{
	switch (b->form) {
	case BODY_JSON:
		pl_put(o, b->p, b->len);
		return;
	case BODY_BYTES:
		put_latin1(o, b->p, b->len);
		return;
	case BODY_TEXT:
		pl_lit(o, "\"");
		pl_escaped(o, b->p, b->len);
		pl_lit(o, "\"");
		return;
	}
}

/* The integer extension `name` as a JSON string; fallback when it is absent. */
static void put_int_attribute(struct pl_out *o, const struct sl_event *ev, const char *name,
			      int64_t fallback)
{
	const json_t *v = json_object_get(ev->extensions, name);

	pl_lit(o, "\"");
	pl_int(o, json_is_integer(v) ? json_integer_value(v) : fallback);
	pl_lit(o, "\"");
}

static int put_record(struct pl_out *o, EVP_MD_CTX *ctx, const EVP_MD *md5,
		      const struct sl_source_config *src, const struct sl_event *ev)
{
	const json_t *handle = json_object_get(ev->extensions, "receipthandle");
	struct body b;
	int rc;

	body_init(&b, ev);
	pl_lit(o, "{\"messageId\":");
	pl_string(o, ev->id);
	pl_lit(o, ",\"receiptHandle\":");
	pl_string(o, json_is_string(handle) ? json_string_value(handle) : "");
	pl_lit(o, ",\"body\":");
	put_body(o, &b);
	pl_lit(o, ",\"attributes\":{\"ApproximateReceiveCount\":");
	put_int_attribute(o, ev, "receivecount", 1);
	pl_lit(o, ",\"SentTimestamp\":");
	put_int_attribute(o, ev, "senttimestamp", ev->received_ms);
	pl_lit(o, ",\"SenderId\":\"sluice\",\"ApproximateFirstReceiveTimestamp\":");
	put_int_attribute(o, ev, "firstreceivetime", ev->received_ms);
	pl_lit(o, "},\"messageAttributes\":{},\"md5OfBody\":");
	rc = put_md5(o, ctx, md5, &b);
	free(b.scratch);
	pl_lit(o, ",\"eventSource\":\"aws:sqs\","
	       "\"eventSourceARN\":\"arn:aws:sqs:" SL_AWS_REGION ":" SL_AWS_ACCOUNT ":");
	pl_escaped(o, src->queue, strlen(src->queue));
	pl_lit(o, "\",\"awsRegion\":\"" SL_AWS_REGION "\"}");
	return rc;
}

int pl_sqs(struct pl_out *o, const struct sl_source_config *src,
	   const struct sl_event *const *evs, size_t n)
{
	EVP_MD *md5 = EVP_MD_fetch(NULL, "MD5", NULL);   /* none in FIPS mode */
	EVP_MD_CTX *ctx = sl_check_alloc(EVP_MD_CTX_new());
	int rc = md5 ? 0 : -ENOTSUP;

	pl_lit(o, "{\"Records\":[");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i)
			pl_lit(o, ",");
		rc = put_record(o, ctx, md5, src, evs[i]);
	}
	pl_lit(o, "]}");
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md5);
	return rc;
}
