/* Partial batch responses; see item_failures.h.
 *
 * Identifiers are looked up in a JSON object used as a hash table: "i:<id>" and "p:<partition>
 * \x1f<position>" map to the event's index (the first event with that key wins, as the earliest
 * is the one to retry from). It is built only when the response lists failures.
 */
#include "dispatcher/item_failures.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/mem.h"

static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static void index_key(json_t *idx, const char *prefix, const char *a, const char *b, size_t i)
{
	char *key;

	if (!a)
		return;
	key = b ? sl_xasprintf("%s%s\x1f%s", prefix, a, b) : sl_xasprintf("%s%s", prefix, a);
	if (!json_object_get(idx, key))   /* the earliest event with the key wins */
		json_object_set_new(idx, key, json_integer((json_int_t)i));
	free(key);
}

static json_t *build_index(const struct sl_event *const *evs, size_t n)
{
	json_t *idx = sl_check_alloc(json_object());

	for (size_t i = 0; i < n; i++) {
		index_key(idx, "i:", evs[i]->id, NULL, i);
		index_key(idx, "p:", evs[i]->position, NULL, i);
		index_key(idx, "k:", evs[i]->partition, evs[i]->position, i);
	}
	return idx;
}

static const json_t *find(json_t *idx, const char *prefix, const char *a, const char *b)
{
	char *key = b ? sl_xasprintf("%s%s\x1f%s", prefix, a, b) : sl_xasprintf("%s%s", prefix, a);
	const json_t *hit = json_object_get(idx, key);

	free(key);
	return hit;
}

/* The index of the event an identifier names, or -1. */
static long long lookup(json_t *idx, const json_t *ident)
{
	const json_t *hit = NULL;

	if (json_is_string(ident) && json_string_length(ident) > 0) {
		const char *s = json_string_value(ident);
		if (!(hit = find(idx, "i:", s, NULL)))
			hit = find(idx, "p:", s, NULL);
	} else if (json_is_string(json_object_get(ident, "partition")) &&
		   json_is_integer(json_object_get(ident, "offset"))) {
		char offset[24];
		snprintf(offset, sizeof(offset), "%lld",
			 (long long)json_integer_value(json_object_get(ident, "offset")));
		hit = find(idx, "k:", json_string_value(json_object_get(ident, "partition")),
			   offset);
	}
	return hit ? json_integer_value(hit) : -1;
}

/* Mark the listed events; false (why set) when an item is malformed or unknown. */
static bool mark(const json_t *list, const struct sl_event *const *evs, size_t n, bool *failed,
		 char *why, size_t whylen)
{
	json_t *idx = build_index(evs, n);
	size_t i;
	const json_t *item;
	bool ok = true;

	json_array_foreach(list, i, item) {
		const json_t *ident = json_object_get(item, "itemIdentifier");
		long long at = json_is_object(item) && ident ? lookup(idx, ident) : -1;
		if (at >= 0) {
			failed[at] = true;
			continue;
		}
		char shown[96] = "";
		if (json_is_string(ident))
			snprintf(shown, sizeof(shown), " \"%.60s\"", json_string_value(ident));
		if (!json_is_object(item))
			say(why, whylen, "batchItemFailures[%zu] is not an object", i);
		else if (!ident)
			say(why, whylen, "batchItemFailures[%zu] has no itemIdentifier", i);
		else if (json_is_string(ident) && json_string_length(ident) == 0)
			say(why, whylen, "batchItemFailures[%zu].itemIdentifier is empty", i);
		else
			say(why, whylen, "batchItemFailures[%zu].itemIdentifier%s names no event of "
			    "the batch", i, shown);
		ok = false;
		break;
	}
	json_decref(idx);
	return ok;
}

enum sl_item_failures sl_item_failures_parse(const char *resp, size_t len,
					     const struct sl_event *const *evs, size_t n,
					     bool *failed, char *why, size_t whylen)
{
	enum sl_item_failures verdict = SL_ITEMS_ALL_OK;
	json_error_t jerr;
	json_t *doc;

	memset(failed, 0, n * sizeof(*failed));
	if (!resp || blank(resp, len))
		return SL_ITEMS_ALL_OK;
	if (!(doc = json_loadb(resp, len, JSON_DECODE_ANY, &jerr))) {
		say(why, whylen, "the response is not JSON (%s)", jerr.text);
		return SL_ITEMS_INVALID;
	}
	const json_t *list = json_is_object(doc) ? json_object_get(doc, "batchItemFailures") : NULL;
	if (list && !json_is_null(list) && !json_is_array(list)) {
		say(why, whylen, "batchItemFailures is not an array");
		verdict = SL_ITEMS_INVALID;
	} else if (json_array_size(list) > 0) {
		verdict = mark(list, evs, n, failed, why, whylen) ? SL_ITEMS_SOME_FAILED
								  : SL_ITEMS_INVALID;
		if (verdict == SL_ITEMS_INVALID)
			memset(failed, 0, n * sizeof(*failed));
	}
	json_decref(doc);
	return verdict;
}
