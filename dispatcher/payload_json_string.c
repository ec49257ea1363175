/* The characters of a JSON string kept as its text, read without building a tree; see
 * payload_internal.h. */
#include "dispatcher/payload_internal.h"

#include <errno.h>
#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p (end not passed) as a number, or -1. */
static long hex4(const char *p, const char *end)
{
	long v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = hex_value(p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Code point cp (at most U+10FFFF) in UTF-8 at out; returns its length. */
static size_t utf8_encode(long cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The escape at p (a backslash) decoded as UTF-8 into out (4 bytes of room), *n its length;
 * returns what follows the escape, or NULL when it is not a valid JSON escape. */
static const char *decode_escape(const char *p, const char *end, unsigned char *out, size_t *n)
{
	static const char names[] = "\"\\/bfnrt", chars[] = "\"\\/\b\f\n\r\t";
	const char *name = p + 1 < end && p[1] ? strchr(names, p[1]) : NULL;
	long cp, low;

	if (name) {
		*out = (unsigned char)chars[name - names];
		*n = 1;
		return p + 2;
	}
	if (p + 1 >= end || p[1] != 'u' || (cp = hex4(p + 2, end)) < 0)
		return NULL;
	p += 6;
	if (cp >= 0xd800 && cp < 0xdc00) {          /* a high surrogate: its low one follows */
		if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
			return NULL;
		if ((low = hex4(p + 2, end)) < 0xdc00 || low > 0xdfff)
			return NULL;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
		p += 6;
	} else if (cp >= 0xdc00 && cp < 0xe000) {
		return NULL;
	}
	*n = utf8_encode(cp, out);
	return p;
}

int pl_json_string_chars(const char *text, size_t len,
			 void (*sink)(void *arg, const void *bytes, size_t n), void *arg)
{
	unsigned char buf[512];
	size_t used = 0, n;
	const char *p = text + 1, *end = text + len - 1;

	while (p < end) {
		if (used + 4 > sizeof(buf)) {
			sink(arg, buf, used);
			used = 0;
		}
		if (*p != '\\') {
			buf[used++] = (unsigned char)*p++;
			continue;
		}
		if (!(p = decode_escape(p, end, buf + used, &n)))
			return -EINVAL;
		used += n;
	}
	sink(arg, buf, used);
	return 0;
}
