/* redis_raw: what a plain Redis consumer reaches on its own, and the loaders the stream benchmark
 * (bench/streams.sh) fills Redis with. hiredis's synchronous API, one connection.
 *
 *   redis_raw load-stream HOST:PORT STREAMS N   XADD N entries {n: <i>, payload: event-payload-<i>},
 *                                               pipelined 1000 at a time; STREAMS is one key or
 *                                               several joined by commas (shards), filled in turn
 *   redis_raw load-list HOST:PORT LIST N        LPUSH N messages event-payload-<i>, 100 a command,
 *                                               pipelined 100 commands at a time
 *   redis_raw xreadgroup HOST:PORT STREAMS GROUP N
 *                                               a new group at 0 on each stream, then XREADGROUP
 *                                               COUNT 1000 over all of them and one XACK of each
 *                                               stream's ids, until N entries were read
 *   redis_raw blmove HOST:PORT LIST N           BLMOVE LIST <LIST>:inflight RIGHT LEFT, one message a
 *                                               call, N times (a plain reliable-queue consumer)
 *   redis_raw rpop HOST:PORT LIST N             RPOP LIST 1000 until N messages (draining, context)
 *
 * The consumers print one JSON line: {"events": N, "seconds": S, "events_per_s": R}, timed from
 * the first command to the last reply. Exit 1 on any error (a reply of type error included).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/redis_connect.h"

#define LOAD_PIPELINE 1000
#define LIST_PER_PUSH 100
#define READ_COUNT "1000"
#define MAX_STREAMS 64

/* The stream keys of a comma-separated list, split in place; how many. */
static size_t split_streams(char *list, char **keys)
{
	size_t n = 0;

	for (char *k = strtok(list, ","); k && n < MAX_STREAMS; k = strtok(NULL, ","))
		keys[n++] = k;
	return n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "redis_raw: %s: %s\n", what, detail ? detail : "no reply");
	exit(1);
}

/* A reply that must not be an error; the caller frees it. */
static redisReply *checked(redisContext *c, redisReply *r, const char *what)
{
	if (!r)
		fail(what, c->errstr);
	if (r->type == REDIS_REPLY_ERROR)
		fail(what, r->str);
	return r;
}

static void get_replies(redisContext *c, long n, const char *what)
{
	void *r;
	for (long i = 0; i < n; i++) {
		if (redisGetReply(c, &r) != REDIS_OK)
			fail(what, c->errstr);
		freeReplyObject(checked(c, r, what));
	}
}

static void load_stream(redisContext *c, char *const *streams, size_t n_streams, long n)
{
	for (long i = 0; i < n; i++) {
		redisAppendCommand(c, "XADD %s * n %ld payload event-payload-%ld",
				   streams[(size_t)i % n_streams], i, i);
		if ((i + 1) % LOAD_PIPELINE == 0 || i + 1 == n)
			get_replies(c, i % LOAD_PIPELINE + 1, "XADD");
	}
}

static void load_list(redisContext *c, const char *list, long n)
{
	const char *argv[LIST_PER_PUSH + 2];
	char values[LIST_PER_PUSH][40];
	long pending = 0;

	argv[0] = "LPUSH";
	argv[1] = list;
	for (long i = 0; i < n;) {
		int k = 0;
		for (; k < LIST_PER_PUSH && i < n; k++, i++) {
			snprintf(values[k], sizeof(values[k]), "event-payload-%ld", i);
			argv[k + 2] = values[k];
		}
		redisAppendCommandArgv(c, k + 2, argv, NULL);
		if (++pending == LOAD_PIPELINE / 10 || i == n) {
			get_replies(c, pending, "LPUSH");
			pending = 0;
		}
	}
}

/* XACK the ids of one stream of an XREADGROUP reply ([stream, [[id, fields], ...]]); its entry
 * count. */
static size_t ack_stream(redisContext *c, const char *group, const redisReply *stream)
{
	const redisReply *entries = stream->element[1];
	size_t n = entries->elements;
	const char **argv = malloc((n + 3) * sizeof(*argv));
	argv[0] = "XACK";
	argv[1] = stream->element[0]->str;
	argv[2] = group;
	for (size_t i = 0; i < n; i++)
		argv[i + 3] = entries->element[i]->element[0]->str;
	freeReplyObject(checked(c, redisCommandArgv(c, (int)n + 3, argv, NULL), "XACK"));
	free(argv);
	return n;
}

static long xreadgroup(redisContext *c, char *const *streams, size_t n_streams, const char *group,
		       long n)
{
	const char *argv[7 + 2 * MAX_STREAMS] = { "XREADGROUP", "GROUP", group, "c1", "COUNT",
						  READ_COUNT, "STREAMS" };
	int argc = 7;
	long got = 0;

	for (size_t i = 0; i < n_streams; i++) {
		freeReplyObject(checked(c, redisCommand(c, "XGROUP CREATE %s %s 0 MKSTREAM",
							streams[i], group), "XGROUP CREATE"));
		argv[argc + (int)i] = streams[i];
		argv[argc + (int)(n_streams + i)] = ">";
	}
	argc += 2 * (int)n_streams;
	while (got < n) {
		redisReply *r = checked(c, redisCommandArgv(c, argc, argv, NULL), "XREADGROUP");
		size_t k = 0;
		for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
			k += ack_stream(c, group, r->element[i]);
		freeReplyObject(r);
		if (k == 0)
			fail("XREADGROUP", "the stream ran dry before N entries");
		got += (long)k;
	}
	return got;
}

static long blmove(redisContext *c, const char *list, long n)
{
	long got = 0;
	for (; got < n; got++) {
		redisReply *r = checked(c, redisCommand(c, "BLMOVE %s %s:inflight RIGHT LEFT 1", list,
							list), "BLMOVE");
		int empty = r->type == REDIS_REPLY_NIL;
		freeReplyObject(r);
		if (empty)
			fail("BLMOVE", "the list ran dry before N messages");
	}
	return got;
}

static long rpop(redisContext *c, const char *list, long n)
{
	long got = 0;
	while (got < n) {
		redisReply *r = checked(c, redisCommand(c, "RPOP %s 1000", list), "RPOP");
		size_t k = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
		freeReplyObject(r);
		if (k == 0)
			fail("RPOP", "the list ran dry before N messages");
		got += (long)k;
	}
	return got;
}

static int usage(void)
{
	fprintf(stderr, "usage: redis_raw load-stream|load-list|blmove|rpop HOST:PORT KEY N\n"
			"       redis_raw xreadgroup HOST:PORT STREAMS GROUP N\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return usage();
	const char *mode = argv[1], *key = argv[3];
	char *streams[MAX_STREAMS];
	size_t n_streams = split_streams(argv[3], streams);
	long n = atol(argv[argc - 1]);
	redisContext *c = bench_redis_connect(argv[2]);
	double t0 = now_s();
	long got;

	if (strcmp(mode, "load-stream") == 0 && argc == 5) {
		load_stream(c, streams, n_streams, n);
		got = n;
	} else if (strcmp(mode, "load-list") == 0 && argc == 5) {
		load_list(c, key, n);
		got = n;
	} else if (strcmp(mode, "xreadgroup") == 0 && argc == 6) {
		got = xreadgroup(c, streams, n_streams, argv[4], n);
	} else if (strcmp(mode, "blmove") == 0 && argc == 5) {
		got = blmove(c, key, n);
	} else if (strcmp(mode, "rpop") == 0 && argc == 5) {
		got = rpop(c, key, n);
	} else {
		return usage();
	}
	double s = now_s() - t0;
	printf("{\"events\": %ld, \"seconds\": %.3f, \"events_per_s\": %.0f}\n", got, s, got / s);
	redisFree(c);
	return 0;
}
