/* Replies built in blocks (core/redis_replies.c): the trees hiredis's own reader builds, for
 * every reply type, nested arrays, strings past a block, a reply spread over many blocks, and a
 * partial reply freed with its reader (ASan reports any leak or stray write). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "core/redis_replies.h"

static redisReader *block_reader(void)
{
	redisReader *r = redisReaderCreate();
	assert_non_null(r);
	sl_redis_replies_use_blocks(r);
	return r;
}

/* Parse text (which must hold one whole reply) with the block functions. */
static redisReply *parse(redisReader *r, const char *text, size_t len)
{
	void *reply = NULL;

	assert_int_equal(redisReaderFeed(r, text, len), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
	assert_non_null(reply);
	return reply;
}

static void test_scalars(void **state)
{
	(void)state;
	redisReader *r = block_reader();
	redisReply *x = parse(r, ":-42\r\n", 6);
	assert_int_equal(x->type, REDIS_REPLY_INTEGER);
	assert_int_equal(x->integer, -42);
	r->fn->freeObject(x);
	x = parse(r, "+OK\r\n", 5);
	assert_int_equal(x->type, REDIS_REPLY_STATUS);
	assert_string_equal(x->str, "OK");
	r->fn->freeObject(x);
	x = parse(r, "-WRONGTYPE no\r\n", 15);
	assert_int_equal(x->type, REDIS_REPLY_ERROR);
	assert_string_equal(x->str, "WRONGTYPE no");
	r->fn->freeObject(x);
	x = parse(r, "$-1\r\n", 5);
	assert_int_equal(x->type, REDIS_REPLY_NIL);
	r->fn->freeObject(x);
	x = parse(r, "$3\r\na\0b\r\n", 9);
	assert_int_equal(x->type, REDIS_REPLY_STRING);
	assert_int_equal(x->len, 3);
	assert_memory_equal(x->str, "a\0b", 4);
	r->fn->freeObject(x);
	redisReaderFree(r);
}

/* An XREADGROUP-like reply: [[stream, [[id, [field, value]], ...]]], an empty array and a nil. */
static void test_nested(void **state)
{
	(void)state;
	const char text[] = "*3\r\n*2\r\n$2\r\ns0\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nn\r\n$1\r\n1\r\n"
			    "*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nn\r\n$1\r\n2\r\n*0\r\n*-1\r\n";
	redisReader *r = block_reader();
	redisReply *x = parse(r, text, sizeof(text) - 1);

	assert_int_equal(x->type, REDIS_REPLY_ARRAY);
	assert_int_equal(x->elements, 3);
	redisReply *stream = x->element[0];
	assert_string_equal(stream->element[0]->str, "s0");
	assert_int_equal(stream->element[1]->elements, 2);
	redisReply *entry = stream->element[1]->element[1];
	assert_string_equal(entry->element[0]->str, "1-2");
	assert_string_equal(entry->element[1]->element[1]->str, "2");
	assert_int_equal(x->element[1]->type, REDIS_REPLY_ARRAY);
	assert_int_equal(x->element[1]->elements, 0);
	assert_int_equal(x->element[2]->type, REDIS_REPLY_NIL);
	r->fn->freeObject(x);
	redisReaderFree(r);
}

/* 20,000 strings (over 64 KB of objects, so many blocks) and one string larger than a block,
 * fed a few bytes at a time as a socket would deliver them. */
static void test_many_blocks(void **state)
{
	(void)state;
	enum { N = 20000 };
	size_t cap = 64 + N * 32 + 200000, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "*%d\r\n", N + 1);
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len, "$%d\r\nv%d\r\n",
					snprintf(NULL, 0, "v%d", i), i);
	len += (size_t)snprintf(text + len, cap - len, "$100000\r\n");
	memset(text + len, 'x', 100000);
	len += 100000;
	memcpy(text + len, "\r\n", 2);
	len += 2;

	redisReader *r = block_reader();
	void *reply = NULL;
	for (size_t at = 0; at < len && !reply; at += 4096) {
		assert_int_equal(redisReaderFeed(r, text + at, len - at < 4096 ? len - at : 4096),
				 REDIS_OK);
		assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
	}
	redisReply *x = reply;
	assert_non_null(x);
	assert_int_equal(x->elements, N + 1);
	assert_string_equal(x->element[0]->str, "v0");
	assert_string_equal(x->element[N - 1]->str, "v19999");
	assert_int_equal(x->element[N]->len, 100000);
	assert_int_equal(x->element[N]->str[99999], 'x');
	assert_int_equal(x->element[N]->str[100000], '\0');
	r->fn->freeObject(x);
	redisReaderFree(r);
	free(text);
}

/* A reply cut off in the middle is freed with the reader. */
static void test_partial_reply_freed(void **state)
{
	(void)state;
	const char text[] = "*3\r\n$1\r\na\r\n*2\r\n:1\r\n";
	redisReader *r = block_reader();
	void *reply = NULL;

	assert_int_equal(redisReaderFeed(r, text, sizeof(text) - 1), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
	assert_null(reply);
	redisReaderFree(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_many_blocks),
		cmocka_unit_test(test_partial_reply_freed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
