/* docs/configuration.md, generated from the property tables.
 *
 * One section per table (top level, function, each source kind, trigger, each destination
 * kind), each a table of key, type, default, range and description, in row order. The text is
 * deterministic (no dates, no versions) so that the committed file can be compared byte for byte.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/props.h"
#include "core/mem.h"

struct md {
	char *buf;
	size_t len, cap;
};

static void put(struct md *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct md *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *s = sl_xvasprintf(fmt, ap);
	va_end(ap);
	size_t n = strlen(s);
	if (m->len + n + 1 > m->cap) {
		m->cap = (m->len + n + 1) * 2;
		m->buf = sl_xrealloc(m->buf, m->cap);
	}
	memcpy(m->buf + m->len, s, n + 1);
	m->len += n;
	free(s);
}

/* Text for a table cell: "|" escaped, so help text cannot break the table. */
static void put_cell(struct md *m, const char *s)
{
	put(m, " ");
	for (; *s; s++) {
		if (*s == '|')
			put(m, "\\|");
		else
			put(m, "%c", *s);
	}
	put(m, " |");
}

static const char *type_name(const struct sl_prop *p)
{
	switch (p->type) {
	case SL_PROP_STRING:
		return p->flags & SL_PROP_DIR ? "path (directory)" :
		       p->flags & SL_PROP_PATH ? "path" : "string";
	case SL_PROP_INT: return "integer";
	case SL_PROP_BYTES: return "integer (bytes)";
	case SL_PROP_BOOL: return "boolean";
	case SL_PROP_ENUM:
	case SL_PROP_KEYWORD: return "string";
	case SL_PROP_STRING_LIST: return "array of strings";
	case SL_PROP_STRING_MAP: return "object of strings";
	case SL_PROP_OBJECT: return "object";
	case SL_PROP_OBJECT_LIST: return "array of objects";
	case SL_PROP_SECTION: return "object";
	}
	return "";
}

static void range_text(const struct sl_prop *p, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (p->type == SL_PROP_INT || p->type == SL_PROP_BYTES)
		snprintf(buf, len, "%lld to %lld", p->min, p->max);
	else if (p->type == SL_PROP_STRING && p->ref)
		snprintf(buf, len, "name of a %s", p->ref->entry);
	else if (p->type == SL_PROP_STRING && p->max)
		snprintf(buf, len, "%lld to %lld bytes", p->min, p->max);
	else if (p->type == SL_PROP_STRING && p->min)
		snprintf(buf, len, "non-empty");
	else if (p->type == SL_PROP_STRING_LIST || p->type == SL_PROP_OBJECT_LIST)
		snprintf(buf, len, "%lld to %lld items", p->min, p->max);
	else if (p->type == SL_PROP_SECTION)
		snprintf(buf, len, "%s by name", p->section->key);
	for (size_t i = 0; p->values && p->values[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s`%s`", i ? ", " : "", p->values[i]);
}

static void put_row(struct md *m, const struct sl_prop *p)
{
	char range[256], def[256];

	range_text(p, range, sizeof(range));
	if (p->flags & SL_PROP_REQUIRED)
		snprintf(def, sizeof(def), "required");
	else if (p->def_doc)
		snprintf(def, sizeof(def), "%s", p->def_doc);
	else if (p->def)
		snprintf(def, sizeof(def), "`%s`", p->def);
	else
		snprintf(def, sizeof(def), "none");
	put(m, "| `%s` |", p->name);
	put_cell(m, type_name(p));
	put_cell(m, def);
	put_cell(m, range);
	put_cell(m, p->help);
	put(m, "\n");
}

static void put_table(struct md *m, const struct sl_prop *props, const char *kind)
{
	put(m, "| Key | Type | Default | Range | Description |\n|---|---|---|---|---|\n");
	if (kind)
		put(m, "| `kind` | string | required | `%s` | Selects this kind. |\n", kind);
	for (const struct sl_prop *p = props; p->name; p++)
		put_row(m, p);
}

static void put_section(struct md *m, const struct sl_section *s)
{
	put(m, "\n## `%s.<name>`\n\n%s Names have 1 to %d characters from `A-Z a-z 0-9 _ -`.\n",
	    s->key, s->help, SL_NAME_MAX);
	if (!s->kinds) {
		put(m, "\n");
		put_table(m, s->props, NULL);
		return;
	}
	put(m, "\n`kind` is one of:");
	for (const struct sl_kind *k = s->kinds; k->name; k++)
		put(m, "%s `%s`", k == s->kinds ? "" : ",", k->name);
	put(m, ".\n");
	for (const struct sl_kind *k = s->kinds; k->name; k++) {
		put(m, "\n### `%s.<name>` with `\"kind\": \"%s\"`\n\n%s\n\n", s->key, k->name,
		    k->help);
		put_table(m, k->props, k->name);
	}
}

static const char intro[] =
	"# Configuration reference\n"
	"\n"
	"<!-- Generated from the property tables in config/props_*.c by\n"
	"     tests/lib/gen_config_docs.c; do not edit. Change the tables, then regenerate:\n"
	"     build/<mode>/tests/gen_config_docs markdown > docs/configuration.md -->\n"
	"\n"
	"Sluice reads one JSON file; without one it runs the embedded default,\n"
	"[config/sluice.json](../config/sluice.json). Every key is checked when the file is\n"
	"loaded: unknown keys, wrong types, out-of-range values, missing required keys and names\n"
	"that refer to nothing are errors, each naming the file and the JSON path, and all of\n"
	"them are reported at once:\n"
	"\n"
	"    sluice.json: $.triggers.web.batch_size: expected an integer from 1 to 10000, got 0\n"
	"    sluice.json: $.functions.hello.memroy_mb: unknown key (known keys: code, runtime, ...)\n"
	"\n"
	"Relative paths are resolved against the directory of the config file and used as\n"
	"absolute paths. The same tables generate the JSON Schema of the file,\n"
	"[schemas/config.schema.json](../schemas/config.schema.json).\n"
	"\n"
	"## Top level\n"
	"\n";

char *sl_config_reference_markdown(void)
{
	struct md m = { 0 };

	put(&m, "%s", intro);
	put_table(&m, sl_props_top, NULL);
	for (const struct sl_prop *p = sl_props_top; p->name; p++)
		if (p->type == SL_PROP_SECTION)
			put_section(&m, p->section);
	return m.buf;
}
