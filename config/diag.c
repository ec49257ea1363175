/* Config diagnostics: error lines, JSON paths, value descriptions; see diag.h. */
#include "config/diag.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void sl_diag_init(struct sl_diag *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = file;
	d->cap = 256;
	d->buf = sl_xmalloc(d->cap);
	d->buf[0] = '\0';
}

void sl_diag_release(struct sl_diag *d)
{
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
}

static void append(struct sl_diag *d, const char *s)
{
	size_t n = strlen(s);

	if (d->len + n + 2 > d->cap) {
		while (d->len + n + 2 > d->cap)
			d->cap *= 2;
		d->buf = sl_xrealloc(d->buf, d->cap);
	}
	if (d->len)
		d->buf[d->len++] = '\n';
	memcpy(d->buf + d->len, s, n + 1);
	d->len += n;
}

static void add_line(struct sl_diag *d, const char *line)
{
	d->count++;
	if (d->count <= SL_DIAG_MAX_ERRORS)
		append(d, line);
}

void sl_diag_add(struct sl_diag *d, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *msg = sl_xvasprintf(fmt, ap);
	va_end(ap);
	char *line = sl_xasprintf("%s: %s: %s", d->file, path, msg);
	add_line(d, line);
	free(line);
	free(msg);
}

void sl_diag_addraw(struct sl_diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *msg = sl_xvasprintf(fmt, ap);
	va_end(ap);
	char *line = sl_xasprintf("%s%s", d->file, msg);
	add_line(d, line);
	free(line);
	free(msg);
}

void sl_diag_copy(const struct sl_diag *d, char *err, size_t errlen)
{
	static const char more[] = "\n... (truncated)";
	char tail[64] = "";

	if (!errlen)
		return;
	if (d->count > SL_DIAG_MAX_ERRORS)
		snprintf(tail, sizeof(tail), "\n... and %u more errors",
			 d->count - SL_DIAG_MAX_ERRORS);
	if (d->len + strlen(tail) < errlen) {
		snprintf(err, errlen, "%s%s", d->buf, tail);
		return;
	}
	/* Keep whole lines that leave room for the marker. */
	size_t keep = 0;
	for (size_t i = 0; i < d->len; i++)
		if (d->buf[i] == '\n' && i + sizeof(more) <= errlen)
			keep = i;
	if (keep == 0) { /* not even the first line fits: cut it (at a UTF-8 boundary) */
		size_t n = errlen > 4 ? errlen - 4 : 0;
		while (n > 0 && ((unsigned char)d->buf[n] & 0xC0) == 0x80)
			n--;
		snprintf(err, errlen, "%.*s%s", (int)n, d->buf, errlen > 4 ? "..." : "");
		return;
	}
	snprintf(err, errlen, "%.*s%s", (int)keep, d->buf, more);
}

static bool plain_key(const char *key)
{
	if (!*key)
		return false;
	for (const char *p = key; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		      ('0' <= *p && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

char *sl_path_key(const char *parent, const char *key)
{
	if (plain_key(key))
		return sl_xasprintf("%s.%s", parent, key);
	json_t *s = sl_check_alloc(json_string(key));
	char *quoted = sl_check_alloc(json_dumps(s, JSON_ENCODE_ANY));
	char *path = sl_xasprintf("%s[%s]", parent, quoted);
	free(quoted);
	json_decref(s);
	return path;
}

char *sl_path_index(const char *parent, size_t index)
{
	return sl_xasprintf("%s[%zu]", parent, index);
}

/* JSON text of a scalar, cut (at a UTF-8 boundary) to SL_DIAG_QUOTE_MAX bytes. */
static void describe_scalar(const json_t *v, char *buf, size_t len)
{
	char *text = sl_check_alloc(json_dumps(v, JSON_ENCODE_ANY));
	size_t n = strlen(text);

	if (n > SL_DIAG_QUOTE_MAX) {
		n = SL_DIAG_QUOTE_MAX - 4;
		while (n > 1 && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;
		snprintf(buf, len, "%.*s...%s", (int)n, text, json_is_string(v) ? "\"" : "");
	} else {
		snprintf(buf, len, "%s", text);
	}
	free(text);
}

void sl_describe(const json_t *v, char *buf, size_t len)
{
	if (json_is_object(v))
		snprintf(buf, len, "%s", json_object_size(v) ? "an object" : "an empty object");
	else if (json_is_array(v))
		snprintf(buf, len, "%s", json_array_size(v) ? "an array" : "an empty array");
	else
		describe_scalar(v, buf, len);
}
