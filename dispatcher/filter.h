/* Event filters: EventBridge-style patterns, as Lambda's event source mappings take them
 * (reference/lambda-semantics.md §5).
 *
 * A pattern is a JSON object mirroring the record: each key names a field; its value is either
 * a nested pattern (an object, for a nested object in the record) or an array of matchers, any
 * of which may match (OR). All keys of a pattern must match (AND); "$or" takes an array of at
 * least two patterns, any of which may match. Matchers:
 *   "text", 12, null, true       equal (numbers by their JSON text: 300 is not 300.0)
 *   {"equals-ignore-case": "s"}  equal, ASCII case ignored
 *   {"prefix": "s"}, {"suffix": "s"}
 *   {"anything-but": v or [v...]} present, and none of the strings or numbers listed
 *   {"numeric": ["=", 5]}, {"numeric": [">", 0, "<=", 10]}  a number in range (one lower bound
 *                                of > or >=, one upper of < or <=, either or both; or = alone)
 *   {"exists": true / false}     present as a leaf (not an object) / absent
 * A field holding an array matches when any of its elements does.
 *
 * A trigger holds up to SL_FILTERS_MAX patterns and lets a record through when any matches;
 * compiling checks the pattern once and names the first fault by its path in the pattern.
 */
#ifndef SL_FILTER_H
#define SL_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SL_FILTERS_MAX 5

struct sl_filter;

/* Check pattern and keep a copy: 0 and *out (owned), or -EINVAL with err like
 * `$.data.kind[0]: expected ...`. */
int sl_filter_compile(const json_t *pattern, struct sl_filter **out, char *err, size_t errlen);
/* Whether record (any JSON value; a non-object has no fields) matches. */
bool sl_filter_match(const struct sl_filter *f, const json_t *record);
/* NULL is a no-op. */
void sl_filter_free(struct sl_filter *f);

#endif
