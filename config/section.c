/* Sections: "functions", "sources", "triggers", "destinations", each an object of named entries.
 *
 * Every key whose value is an object becomes one entry struct, in file order, even when its name
 * or contents are wrong, so that the link pass (references between entries, rules spanning
 * fields) can walk the JSON and the entry array side by side and still report everything. An
 * entry of a kinded section stores its kind index, or -1 when "kind" is missing or unknown (its
 * other keys are then not examined: which keys are valid depends on the kind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/props.h"
#include "core/mem.h"

#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))

bool sl_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > SL_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		      ('0' <= *s && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

const struct sl_prop *sl_section_props(const struct sl_section *s, int kind)
{
	if (!s->kinds)
		return s->props;
	for (int i = 0; s->kinds[i].name; i++)
		if (i == kind)
			return s->kinds[i].props;
	return NULL;
}

static void kind_list(const struct sl_kind *kinds, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "one of:");
	for (size_t i = 0; kinds[i].name && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s %s", i ? "," : "", kinds[i].name);
}

/* The entry's kind index, or -1 (reported) when missing or unknown. */
static int decode_kind(struct sl_decode *dc, const char *path, const json_t *obj,
		       const struct sl_section *s)
{
	const json_t *kind = json_object_get(obj, "kind");
	char known[256], got[SL_DIAG_QUOTE_MAX + 32];

	kind_list(s->kinds, known, sizeof(known));
	if (!kind) {
		sl_diag_add(dc->diag, path, "missing required key \"kind\" (%s)", known);
		return -1;
	}
	for (int i = 0; json_is_string(kind) && s->kinds[i].name; i++)
		if (strcmp(s->kinds[i].name, json_string_value(kind)) == 0)
			return i;
	char *sub = sl_path_key(path, "kind");
	sl_describe(kind, got, sizeof(got));
	sl_diag_add(dc->diag, sub, "expected %s, got %s", known, got);
	free(sub);
	return -1;
}

static void decode_entry(struct sl_decode *dc, const char *path, const json_t *obj,
			 const struct sl_section *s, void *entry)
{
	if (!s->kinds) {
		sl_props_decode(dc, path, obj, s->props, NULL, entry);
		return;
	}
	int kind = decode_kind(dc, path, obj, s);
	*AT(entry, s->kind_off, int) = kind;
	if (kind >= 0)
		sl_props_decode(dc, path, obj, s->kinds[kind].props, "kind", entry);
}

void sl_section_decode(struct sl_decode *dc, const char *path, const json_t *obj,
		       const struct sl_section *s, struct sl_config *cfg)
{
	size_t n = 0;
	char *arr = sl_xcalloc(json_object_size(obj), s->elem_size);
	const char *key;
	const json_t *val;
	char got[SL_DIAG_QUOTE_MAX + 32];

	json_object_foreach((json_t *)obj, key, val) {
		char *sub = sl_path_key(path, key);
		json_t *name = sl_check_alloc(json_string(key));
		sl_describe(name, got, sizeof(got));
		json_decref(name);
		if (!sl_name_valid(key))
			sl_diag_add(dc->diag, sub, "expected a name of 1 to %d characters from A-Z, "
				    "a-z, 0-9, _ and -, got %s", SL_NAME_MAX, got);
		if (json_is_object(val)) {
			void *entry = arr + n++ * s->elem_size;
			*AT(entry, s->name_off, char *) = sl_xstrdup(key);
			decode_entry(dc, sub, val, s, entry);
		} else {
			sl_describe(val, got, sizeof(got));
			sl_diag_add(dc->diag, sub, "expected an object (a %s), got %s", s->entry,
				    got);
		}
		free(sub);
	}
	if (!n) {
		free(arr);
		arr = NULL;
	}
	*AT(cfg, s->array_off, void *) = arr;
	*AT(cfg, s->count_off, size_t) = n;
}

void sl_section_release(const struct sl_section *s, struct sl_config *cfg)
{
	char *arr = *AT(cfg, s->array_off, char *);
	size_t n = *AT(cfg, s->count_off, size_t);

	for (size_t i = 0; i < n; i++) {
		void *entry = arr + i * s->elem_size;
		const struct sl_prop *props =
			sl_section_props(s, s->kinds ? *AT(entry, s->kind_off, int) : 0);
		free(*AT(entry, s->name_off, char *));
		if (props)
			sl_props_release(props, entry);
	}
	free(arr);
	*AT(cfg, s->array_off, void *) = NULL;
	*AT(cfg, s->count_off, size_t) = 0;
}

void *sl_section_find(const struct sl_section *s, const struct sl_config *cfg, const char *name)
{
	char *arr = *AT(cfg, s->array_off, char *);
	size_t n = *AT(cfg, s->count_off, size_t);

	for (size_t i = 0; name && i < n; i++) {
		void *entry = arr + i * s->elem_size;
		if (strcmp(*AT(entry, s->name_off, char *), name) == 0)
			return entry;
	}
	return NULL;
}

/* "a, b, c" (at most 10 names), or "none defined". */
static void known_names(const struct sl_section *s, const struct sl_config *cfg, char *buf,
			size_t len)
{
	char *arr = *AT(cfg, s->array_off, char *);
	size_t n = *AT(cfg, s->count_off, size_t), used = 0;

	snprintf(buf, len, "none defined");
	for (size_t i = 0; i < n && i < 10 && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 *AT(arr + i * s->elem_size, s->name_off, char *));
	if (n > 10 && used < len)
		snprintf(buf + used, len - used, ", ...");
}

static void check_refs(struct sl_decode *dc, const char *path, const struct sl_prop *props,
		       void *entry)
{
	char known[1024], got[SL_DIAG_QUOTE_MAX + 32];

	for (const struct sl_prop *p = props; p->name; p++) {
		const char *name = p->ref ? *AT(entry, p->offset, char *) : NULL;
		if (!name || sl_section_find(p->ref, dc->cfg, name))
			continue;
		json_t *j = sl_check_alloc(json_string(name));
		sl_describe(j, got, sizeof(got));
		json_decref(j);
		known_names(p->ref, dc->cfg, known, sizeof(known));
		char *sub = sl_path_key(path, p->name);
		sl_diag_add(dc->diag, sub, "expected the name of a %s (known: %s), got %s",
			    p->ref->entry, known, got);
		free(sub);
	}
}

static void link_section(struct sl_decode *dc, const json_t *obj, const struct sl_section *s)
{
	char *arr = *AT(dc->cfg, s->array_off, char *), *path = sl_path_key("$", s->key);
	size_t i = 0, n = *AT(dc->cfg, s->count_off, size_t);
	const char *key;
	const json_t *val;

	json_object_foreach((json_t *)obj, key, val) {
		if (!json_is_object(val) || i >= n)
			continue;
		void *entry = arr + i++ * s->elem_size;
		const struct sl_prop *props =
			sl_section_props(s, s->kinds ? *AT(entry, s->kind_off, int) : 0);
		char *sub = sl_path_key(path, key);
		if (props)
			check_refs(dc, sub, props, entry);
		if (s->link && props)
			s->link(dc, sub, val, entry);
		free(sub);
	}
	free(path);
}

void sl_props_link(struct sl_decode *dc, const json_t *root, const struct sl_prop *props)
{
	for (const struct sl_prop *p = props; p->name; p++) {
		const json_t *obj = json_object_get(root, p->name);
		if (p->type == SL_PROP_SECTION && json_is_object(obj))
			link_section(dc, obj, p->section);
	}
}
