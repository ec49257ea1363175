/* Config diagnostics: the list of errors found while loading one file.
 *
 * Validation never stops at the first problem: every error is appended as one line
 *   "<file>: <json path>: <message>"      e.g. sluice.json: $.triggers.web.batch_size: expected ...
 * and the caller gets them all at once. JSON paths start at "$"; keys that are plain words
 * ([A-Za-z0-9_-]+) are joined with ".", others are written as ["..."] with JSON escapes.
 * Values quoted in messages ("got ...") are described by sl_describe(): scalars as JSON
 * (strings cut to SL_DIAG_QUOTE_MAX bytes), containers as "an array" / "an object".
 *
 * Limits: at most SL_DIAG_MAX_ERRORS lines are kept; further errors are only counted and
 * reported as one final "... and N more errors" line.
 */
#ifndef SL_CONFIG_DIAG_H
#define SL_CONFIG_DIAG_H

#include <jansson.h>
#include <stddef.h>

#define SL_DIAG_MAX_ERRORS 200
#define SL_DIAG_QUOTE_MAX 80

struct sl_diag {
	const char *file;   /* name used as the first field of every line (borrowed) */
	char *buf;          /* the lines so far, '\n'-separated, NUL-terminated */
	size_t len, cap;
	unsigned count;     /* errors reported, including those past the limit */
};

/* Starts empty; release with sl_diag_release(). */
void sl_diag_init(struct sl_diag *d, const char *file);
void sl_diag_release(struct sl_diag *d);
/* Append "<file>: <path>: <message>". */
void sl_diag_add(struct sl_diag *d, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Append "<file><message>" (for "file:line:col: ..." forms). */
void sl_diag_addraw(struct sl_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy the lines (without a trailing newline) into err. When they do not fit, whole lines are
 * kept and the last one that fits is followed by "... (truncated)". */
void sl_diag_copy(const struct sl_diag *d, char *err, size_t errlen);

/* "$.a" + "b" -> "$.a.b"; "$.a" + "b c" -> "$.a[\"b c\"]". Caller frees. */
char *sl_path_key(const char *parent, const char *key);
/* "$.a" + 2 -> "$.a[2]". Caller frees. */
char *sl_path_index(const char *parent, size_t index);
/* Describe a JSON value for "got ...": 0, 1.5, "text", true, null, an array, an empty object. */
void sl_describe(const json_t *v, char *buf, size_t len);

#endif
