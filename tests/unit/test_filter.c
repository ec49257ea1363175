/* Unit tests for dispatcher/filter.c: a table of pattern / record / verdict cases covering every
 * operator (reference/lambda-semantics.md §5), records that are not JSON objects, and the
 * errors of patterns that are not valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dispatcher/filter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct match_case {
	const char *pattern, *record;
	bool want;
};

static const struct match_case cases[] = {
	/* equals, OR of values, AND of fields */
	{ "{\"kind\":[\"order\"]}", "{\"kind\":\"order\"}", true },
	{ "{\"kind\":[\"order\"]}", "{\"kind\":\"Order\"}", false },
	{ "{\"kind\":[\"order\"]}", "{\"other\":\"order\"}", false },
	{ "{\"kind\":[\"order\",\"refund\"]}", "{\"kind\":\"refund\"}", true },
	{ "{\"kind\":[\"order\"],\"n\":[1]}", "{\"kind\":\"order\",\"n\":1}", true },
	{ "{\"kind\":[\"order\"],\"n\":[1]}", "{\"kind\":\"order\",\"n\":2}", false },
	/* numbers by their text; null, empty string, booleans */
	{ "{\"n\":[300]}", "{\"n\":300}", true },
	{ "{\"n\":[300]}", "{\"n\":300.0}", false },
	{ "{\"n\":[300]}", "{\"n\":\"300\"}", false },
	{ "{\"u\":[null]}", "{\"u\":null}", true },
	{ "{\"u\":[null]}", "{}", false },
	{ "{\"s\":[\"\"]}", "{\"s\":\"\"}", true },
	{ "{\"b\":[true]}", "{\"b\":true}", true },
	{ "{\"b\":[true]}", "{\"b\":false}", false },
	/* nested objects */
	{ "{\"data\":{\"kind\":[\"x\"]}}", "{\"data\":{\"kind\":\"x\",\"n\":1}}", true },
	{ "{\"data\":{\"kind\":[\"x\"]}}", "{\"data\":{\"kind\":\"y\"}}", false },
	{ "{\"data\":{\"kind\":[\"x\"]}}", "{\"data\":\"kind x\"}", false },
	{ "{\"a\":{\"b\":{\"c\":[1]}}}", "{\"a\":{\"b\":{\"c\":1}}}", true },
	/* arrays in the record: any element */
	{ "{\"tags\":[\"red\"]}", "{\"tags\":[\"blue\",\"red\"]}", true },
	{ "{\"tags\":[\"red\"]}", "{\"tags\":[\"blue\"]}", false },
	/* equals-ignore-case, prefix, suffix */
	{ "{\"name\":[{\"equals-ignore-case\":\"alice\"}]}", "{\"name\":\"ALICE\"}", true },
	{ "{\"name\":[{\"equals-ignore-case\":\"alice\"}]}", "{\"name\":\"alicia\"}", false },
	{ "{\"region\":[{\"prefix\":\"us-\"}]}", "{\"region\":\"us-east-1\"}", true },
	{ "{\"region\":[{\"prefix\":\"us-\"}]}", "{\"region\":\"eu-west-1\"}", false },
	{ "{\"region\":[{\"prefix\":\"us-\"}]}", "{\"region\":7}", false },
	{ "{\"file\":[{\"suffix\":\".png\"}]}", "{\"file\":\"a/b.png\"}", true },
	{ "{\"file\":[{\"suffix\":\".png\"}]}", "{\"file\":\"png\"}", false },
	/* anything-but */
	{ "{\"w\":[{\"anything-but\":[\"rain\"]}]}", "{\"w\":\"sun\"}", true },
	{ "{\"w\":[{\"anything-but\":[\"rain\"]}]}", "{\"w\":\"rain\"}", false },
	{ "{\"w\":[{\"anything-but\":[\"rain\"]}]}", "{}", false },
	{ "{\"w\":[{\"anything-but\":\"rain\"}]}", "{\"w\":\"snow\"}", true },
	{ "{\"n\":[{\"anything-but\":[1,2]}]}", "{\"n\":3}", true },
	{ "{\"n\":[{\"anything-but\":[1,2]}]}", "{\"n\":2}", false },
	/* numeric */
	{ "{\"p\":[{\"numeric\":[\"=\",100]}]}", "{\"p\":100}", true },
	{ "{\"p\":[{\"numeric\":[\"=\",100]}]}", "{\"p\":100.0}", true },
	{ "{\"p\":[{\"numeric\":[\">\",10,\"<=\",20]}]}", "{\"p\":20}", true },
	{ "{\"p\":[{\"numeric\":[\">\",10,\"<=\",20]}]}", "{\"p\":10}", false },
	{ "{\"p\":[{\"numeric\":[\">\",10,\"<=\",20]}]}", "{\"p\":20.5}", false },
	{ "{\"p\":[{\"numeric\":[\"<\",0]}]}", "{\"p\":-0.5}", true },
	{ "{\"p\":[{\"numeric\":[\">=\",0]}]}", "{\"p\":\"5\"}", false },
	/* exists */
	{ "{\"id\":[{\"exists\":true}]}", "{\"id\":\"x\"}", true },
	{ "{\"id\":[{\"exists\":true}]}", "{\"id\":null}", true },
	{ "{\"id\":[{\"exists\":true}]}", "{}", false },
	{ "{\"id\":[{\"exists\":true}]}", "{\"id\":{\"a\":1}}", false },
	{ "{\"id\":[{\"exists\":false}]}", "{}", true },
	{ "{\"id\":[{\"exists\":false}]}", "{\"id\":1}", false },
	{ "{\"d\":{\"id\":[{\"exists\":false}]}}", "{}", true },
	/* $or across fields, combined with AND */
	{ "{\"$or\":[{\"city\":[\"NY\"]},{\"day\":[\"Mon\"]}]}", "{\"day\":\"Mon\"}", true },
	{ "{\"$or\":[{\"city\":[\"NY\"]},{\"day\":[\"Mon\"]}]}", "{\"day\":\"Tue\"}", false },
	{ "{\"k\":[1],\"$or\":[{\"a\":[1]},{\"b\":[1]}]}", "{\"k\":1,\"b\":1}", true },
	{ "{\"k\":[1],\"$or\":[{\"a\":[1]},{\"b\":[1]}]}", "{\"k\":2,\"b\":1}", false },
	/* records that are not objects (non-JSON data is passed as a string) */
	{ "{\"data\":[\"x\"]}", "\"x\"", false },
	{ "{\"data\":[{\"exists\":false}]}", "\"plain text\"", true },
	{ "{\"data\":[\"plain text\"]}", "{\"data\":\"plain text\"}", true },
	{ "{\"n\":[1]}", "[1,2]", false },
};

static void test_match_table(void **state)
{
	(void)state;
	size_t n = sizeof(cases) / sizeof(cases[0]), bad = 0;

	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		json_error_t je;
		json_t *p = json_loads(cases[i].pattern, 0, &je);
		json_t *r = json_loads(cases[i].record, JSON_DECODE_ANY, &je);
		struct sl_filter *f = NULL;
		char err[256];
		assert_non_null(p);
		assert_non_null(r);
		if (sl_filter_compile(p, &f, err, sizeof(err)) != 0) {
			printf("case %zu: pattern %s refused: %s\n", i, cases[i].pattern, err);
			bad++;
		} else if (sl_filter_match(f, r) != cases[i].want) {
			printf("case %zu: %s on %s: expected %s\n", i, cases[i].pattern,
			       cases[i].record, cases[i].want ? "a match" : "no match");
			bad++;
		}
		sl_filter_free(f);
		json_decref(p);
		json_decref(r);
	}
	assert_int_equal(bad, 0);
}

static void expect_refused(const char *pattern, const char *message)
{
	json_t *p = json_loads(pattern, JSON_DECODE_ANY, NULL);
	struct sl_filter *f = NULL;
	char err[256] = "";

	assert_non_null(p);
	assert_int_equal(sl_filter_compile(p, &f, err, sizeof(err)), -EINVAL);
	assert_null(f);
	assert_string_equal(err, message);
	json_decref(p);
}

static void test_invalid_patterns(void **state)
{
	(void)state;
	expect_refused("[]", "$: expected a non-empty object");
	expect_refused("{}", "$: expected a non-empty object");
	expect_refused("{\"a\":\"x\"}",
		       "$.a: expected a nested pattern (object) or a non-empty array of matchers");
	expect_refused("{\"a\":[]}",
		       "$.a: expected a nested pattern (object) or a non-empty array of matchers");
	expect_refused("{\"a\":[[1]]}",
		       "$.a[0]: expected a string, number, null, boolean or operator object");
	expect_refused("{\"a\":[{\"wildcard\":\"x*\"}]}",
		       "$.a[0]: expected one of the operators prefix, suffix, equals-ignore-case, "
		       "anything-but, numeric, exists");
	expect_refused("{\"a\":[{\"prefix\":\"x\",\"suffix\":\"y\"}]}",
		       "$.a[0]: expected an operator object with exactly one key");
	expect_refused("{\"a\":[{\"prefix\":1}]}", "$.a[0]: expected a string operand");
	expect_refused("{\"a\":[{\"exists\":\"yes\"}]}", "$.a[0]: expected \"exists\": true or false");
	expect_refused("{\"a\":[{\"anything-but\":[]}]}",
		       "$.a[0]: expected \"anything-but\": a string, a number or a non-empty array "
		       "of them");
	expect_refused("{\"a\":[{\"numeric\":[\">\",1,\">\",2]}]}",
		       "$.a[0]: expected \"numeric\": [\"=\", N] or one lower (\">\", \">=\") and/or "
		       "one upper (\"<\", \"<=\") bound with numbers");
	expect_refused("{\"a\":[{\"numeric\":[\"!=\",1]}]}",
		       "$.a[0]: expected \"numeric\": [\"=\", N] or one lower (\">\", \">=\") and/or "
		       "one upper (\"<\", \"<=\") bound with numbers");
	expect_refused("{\"$or\":[{\"a\":[1]}]}", "$.$or: expected an array of at least two patterns");
	expect_refused("{\"$or\":[{\"a\":[1]},{\"b\":{}}]}",
		       "$.$or[1].b: expected a non-empty object");
	expect_refused("{\"d\":{\"e\":[{\"prefix\":true}]}}", "$.d.e[0]: expected a string operand");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_invalid_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
