/* JSON Schema (draft 2020-12) of the config file, generated from the property tables.
 *
 * Every object is closed (additionalProperties: false). Section entries live in $defs, one per
 * entry type; a kinded entry ("sources", "destinations") is an object whose "kind" picks, via
 * if/then, a closed $defs schema for that kind ("source_http", ...). What a schema cannot say
 * (references by name, directories that must exist, a schedule expression's grammar, the 4 KB
 * environment total) is said in the descriptions and checked by the loader.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/props.h"
#include "core/mem.h"

static void set(json_t *obj, const char *key, json_t *value)
{
	if (json_object_set_new(obj, key, sl_check_alloc(value)) < 0)
		sl_check_alloc(NULL);
}

static void push(json_t *arr, json_t *value)
{
	if (json_array_append_new(arr, sl_check_alloc(value)) < 0)
		sl_check_alloc(NULL);
}

static json_t *reserved_names(const struct sl_reserved_name *table)
{
	json_t *arr = sl_check_alloc(json_array());
	for (size_t i = 0; table[i].name; i++)
		push(arr, json_string(table[i].name));
	return arr;
}

static json_t *string_array(const char *const *values)
{
	json_t *arr = sl_check_alloc(json_array());
	for (size_t i = 0; values[i]; i++)
		push(arr, json_string(values[i]));
	return arr;
}

static json_t *ref_to(const char *def)
{
	char *ref = sl_xasprintf("#/$defs/%s", def);
	json_t *o = sl_check_alloc(json_pack("{s:s}", "$ref", ref));
	free(ref);
	return o;
}

static json_t *map_schema(const struct sl_prop *p, json_t *s)
{
	json_t *names = sl_check_alloc(json_object());

	set(s, "type", json_string("object"));
	set(s, "additionalProperties", json_pack("{s:s}", "type", "string"));
	if (p->pattern)
		set(names, "pattern", json_string(p->pattern));
	if (p->reserved)
		set(names, "not", json_pack("{s:o}", "enum", reserved_names(p->reserved)));
	if (json_object_size(names))
		set(s, "propertyNames", names);
	else
		json_decref(names);
	return s;
}

static json_t *type_schema(const struct sl_prop *p, json_t *s)
{
	switch (p->type) {
	case SL_PROP_STRING:
		set(s, "type", json_string("string"));
		if (p->min)
			set(s, "minLength", json_integer(p->min));
		if (p->max)
			set(s, "maxLength", json_integer(p->max));
		if (p->pattern)
			set(s, "pattern", json_string(p->pattern));
		break;
	case SL_PROP_INT:
	case SL_PROP_BYTES:
		set(s, "type", json_string("integer"));
		set(s, "minimum", json_integer(p->min));
		set(s, "maximum", json_integer(p->max));
		break;
	case SL_PROP_BOOL:
		set(s, "type", json_string("boolean"));
		break;
	case SL_PROP_ENUM:
	case SL_PROP_KEYWORD:
		set(s, "type", json_string("string"));
		set(s, "enum", string_array(p->values));
		break;
	case SL_PROP_STRING_LIST:
		set(s, "type", json_string("array"));
		set(s, "items", json_pack("{s:s}", "type", "string"));
		set(s, "minItems", json_integer(p->min));
		set(s, "maxItems", json_integer(p->max));
		break;
	case SL_PROP_STRING_MAP:
		return map_schema(p, s);
	case SL_PROP_OBJECT:
		set(s, "type", json_string("object"));
		break;
	case SL_PROP_OBJECT_LIST:
		set(s, "type", json_string("array"));
		set(s, "items", json_pack("{s:s}", "type", "object"));
		set(s, "minItems", json_integer(p->min));
		set(s, "maxItems", json_integer(p->max));
		break;
	case SL_PROP_SECTION:
		set(s, "type", json_string("object"));
		set(s, "propertyNames", json_pack("{s:s}", "pattern", SL_NAME_PATTERN));
		set(s, "additionalProperties", ref_to(p->section->entry));
		break;
	}
	return s;
}

static json_t *row_schema(const struct sl_prop *p)
{
	json_t *s = type_schema(p, sl_check_alloc(json_object()));

	if (p->def)
		set(s, "default", json_loads(p->def, JSON_DECODE_ANY, NULL));
	if (p->def_doc) {
		char *d = sl_xasprintf("%s Default: %s.", p->help, p->def_doc);
		set(s, "description", json_string(d));
		free(d);
	} else {
		set(s, "description", json_string(p->help));
	}
	return s;
}

/* A closed object schema of props; with kind, "kind" is a required constant. */
static json_t *table_schema(const struct sl_prop *props, const char *kind, const char *help)
{
	json_t *s = sl_check_alloc(json_object());
	json_t *properties = sl_check_alloc(json_object()), *required = json_array();

	sl_check_alloc(required);
	set(s, "type", json_string("object"));
	set(s, "description", json_string(help));
	if (kind) {
		set(properties, "kind", json_pack("{s:s}", "const", kind));
		push(required, json_string("kind"));
	}
	for (const struct sl_prop *p = props; p->name; p++) {
		set(properties, p->name, row_schema(p));
		if (p->flags & SL_PROP_REQUIRED)
			push(required, json_string(p->name));
	}
	set(s, "properties", properties);
	if (json_array_size(required))
		set(s, "required", required);
	else
		json_decref(required);
	set(s, "additionalProperties", json_false());
	return s;
}

static void kinded_defs(const struct sl_section *sec, json_t *defs)
{
	json_t *kinds = sl_check_alloc(json_array()), *all = sl_check_alloc(json_array());

	for (const struct sl_kind *k = sec->kinds; k->name; k++) {
		char *def = sl_xasprintf("%s_%s", sec->entry, k->name);
		push(kinds, json_string(k->name));
		push(all, json_pack("{s:{s:{s:{s:s}},s:[s]},s:o}", "if", "properties", "kind",
				    "const", k->name, "required", "kind", "then", ref_to(def)));
		set(defs, def, table_schema(k->props, k->name, k->help));
		free(def);
	}
	set(defs, sec->entry, json_pack("{s:s,s:s,s:{s:{s:s,s:o}},s:[s],s:o}", "type", "object",
					"description", sec->help, "properties", "kind",
					"description", "Selects the kind and the keys it accepts.",
					"enum", kinds, "required", "kind", "allOf", all));
}

json_t *sl_config_schema(void)
{
	json_t *defs = sl_check_alloc(json_object());
	json_t *s = sl_check_alloc(json_pack("{s:s,s:s}",
		"$schema", "https://json-schema.org/draft/2020-12/schema",
		"title", "Sluice configuration"));
	json_t *top = table_schema(sl_props_top, NULL, "The one JSON file that configures a "
				   "Sluice daemon: functions, sources, triggers and destinations. "
				   "Generated from the property tables in config/; the reference is "
				   "docs/configuration.md.");

	if (json_object_update(s, top) < 0)
		sl_check_alloc(NULL);
	json_decref(top);
	for (const struct sl_prop *p = sl_props_top; p->name; p++) {
		const struct sl_section *sec = p->section;
		if (p->type != SL_PROP_SECTION)
			continue;
		if (sec->kinds)
			kinded_defs(sec, defs);
		else
			set(defs, sec->entry, table_schema(sec->props, NULL, sec->help));
	}
	set(s, "$defs", defs);
	return s;
}
