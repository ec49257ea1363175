/* Reply objects in blocks; see redis_replies.h.
 *
 * A reply's first object is its root (hiredis creates a container before its elements), so the
 * root gets a block of its own size and sits at its start: a reply that is one integer or
 * status costs one small allocation. Its elements go into blocks of at least BLOCK_MIN bytes
 * chained to it, a new one when the newest is full. Freeing the root frees the chain. The reply being built is found through the root task (task->parent chain): no
 * state outlives a reply, so a context freed mid-reply (its reader frees the partial root) is
 * safe.
 */
#include "core/redis_replies.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/read.h>

#include "core/mem.h"

#define BLOCK_MIN (64 * 1024)

struct block {
	struct block *next;          /* older block of the same reply, or NULL */
	struct block *newest;        /* in the first block: the newest (where objects go) */
	size_t used, size;
	max_align_t data[];
};

static struct block *block_new(size_t size, struct block *next)
{
	struct block *b = sl_xmalloc(sizeof(*b) + size);

	b->next = next;
	b->newest = b;
	b->used = 0;
	b->size = size;
	return b;
}

static struct block *block_of_root(void *root)
{
	return (struct block *)((char *)root - offsetof(struct block, data));
}

/* n bytes (aligned) for an object of the reply the task belongs to; a root starts a reply. */
static void *take(const redisReadTask *task, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!task->parent) {
		struct block *first = block_new(n, NULL);
		first->used = n;
		return first->data;
	}
	const redisReadTask *root = task->parent;
	while (root->parent)
		root = root->parent;
	struct block *first = block_of_root(root->obj), *b = first->newest;
	if (b->size - b->used < n) {
		b = block_new(n > BLOCK_MIN ? n : BLOCK_MIN, b);
		first->newest = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

static redisReply *object(const redisReadTask *task, int type, size_t extra)
{
	redisReply *r = take(task, sizeof(*r) + extra);

	memset(r, 0, sizeof(*r));
	r->type = type;
	if (task->parent) {
		redisReply *parent = task->parent->obj;
		parent->element[task->idx] = r;
	}
	return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply *r = object(task, task->type, len + 1);

	r->str = (char *)(r + 1);
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	return r;
}

static void *create_array(const redisReadTask *task, int elements)
{
	size_t n = elements > 0 ? (size_t)elements : 0;
	redisReply *r = object(task, REDIS_REPLY_ARRAY, n * sizeof(redisReply *));

	r->elements = n;
	r->element = n ? (redisReply **)(r + 1) : NULL;
	return r;
}

static void *create_integer(const redisReadTask *task, long long value)
{
	redisReply *r = object(task, REDIS_REPLY_INTEGER, 0);

	r->integer = value;
	return r;
}

static void *create_nil(const redisReadTask *task)
{
	return object(task, REDIS_REPLY_NIL, 0);
}

static void free_reply(void *root)
{
	struct block *b = root ? block_of_root(root)->newest : NULL;

	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
}

static redisReplyObjectFunctions block_functions = {
	.createString = create_string,
	.createArray = create_array,
	.createInteger = create_integer,
	.createNil = create_nil,
	.freeObject = free_reply,
};

void sl_redis_replies_use_blocks(redisReader *reader)
{
	reader->fn = &block_functions;
}
