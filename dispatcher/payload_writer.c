/* JSON text written piece by piece into a payload; see payload_internal.h. */
#include "dispatcher/payload_internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/event.h"
#include "core/mem.h"

/* Room for n more bytes and the NUL after them; returns where they go. */
static char *reserve(struct pl_out *o, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		while (o->len + n + 1 > o->cap)
			o->cap = o->cap ? o->cap * 2 : 4096;
		o->p = sl_xrealloc(o->p, o->cap);
	}
	return o->p + o->len;
}

void pl_put(struct pl_out *o, const void *bytes, size_t n)
{
	char *at = reserve(o, n);

	if (n)
		memcpy(at, bytes, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/* The length of the UTF-8 sequence s[0..n) starts with (s[0] >= 0x80), or 0 when it is not
 * one: a stray continuation byte, a cut or overlong sequence, a surrogate, over U+10FFFF. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;

	if (!len || c > 0xf4 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

/* The letter of a character's two-character escape (\" \\ \n \r \t), or 0. */
static char short_escape(unsigned char c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	}
	return 0;
}

/* Runs of plain characters are copied whole; '"', '\\' and control characters are escaped. */
void pl_escaped(struct pl_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0, i = 0;

	while (i < n) {
		if (u[i] >= 0x80) {
			size_t seq = utf8_sequence(u + i, n - i);
			o->invalid |= seq == 0;
			i += seq ? seq : 1;
			continue;
		}
		if (u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') {
			i++;
			continue;
		}
		char letter = short_escape(u[i]);
		char esc[6] = { '\\', letter ? letter : 'u', '0', '0', hex[u[i] >> 4],
				hex[u[i] & 15] };
		pl_put(o, s + run, i - run);
		pl_put(o, esc, letter ? 2 : 6);
		run = ++i;
	}
	pl_put(o, s + run, n - run);
}

void pl_string(struct pl_out *o, const char *s)
{
	if (!s) {
		pl_lit(o, "null");
		return;
	}
	pl_lit(o, "\"");
	pl_escaped(o, s, strlen(s));
	pl_lit(o, "\"");
}

void pl_base64(struct pl_out *o, const void *bytes, size_t n)
{
	size_t chars = 4 * ((n + 2) / 3);
	char *at = reserve(o, chars + 2);

	at[0] = '"';
	EVP_EncodeBlock((unsigned char *)at + 1, bytes, (int)n);
	at[chars + 1] = '"';
	o->len += chars + 2;
	o->p[o->len] = '\0';
}

void pl_int(struct pl_out *o, int64_t v)
{
	char digits[SL_DECIMAL_MAX];

	pl_put(o, digits, sl_decimal(v, digits));
}

static int dump_piece(const char *bytes, size_t n, void *arg)
{
	pl_put(arg, bytes, n);
	return 0;
}

int pl_json(struct pl_out *o, const json_t *v)
{
	return json_dump_callback(v, dump_piece, o, JSON_COMPACT | JSON_ENCODE_ANY) ? -EINVAL : 0;
}

const void *pl_data(const struct sl_event *ev, size_t *len, char **scratch)
{
	*scratch = NULL;
	if (ev->data_bytes) {
		*len = ev->data_len;
		return ev->data_bytes;
	}
	if (ev->data_text) {
		*len = ev->data_text_len;
		return ev->data_text;
	}
	if (ev->data) {
		*scratch = sl_check_alloc(json_dumps(ev->data, JSON_COMPACT | JSON_ENCODE_ANY));
		*len = strlen(*scratch);
		return *scratch;
	}
	*len = 0;
	return "";
}

void pl_data_base64(struct pl_out *o, const struct sl_event *ev)
{
	char *scratch;
	size_t len;
	const void *data = pl_data(ev, &len, &scratch);

	pl_base64(o, data, len);
	free(scratch);
}

