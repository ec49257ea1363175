/* redis_connect.h: one hiredis connection to "HOST:PORT" for the benchmark programs
 * (bench/redis_raw.c, bench/pace.c); ends the process with a message when it cannot connect. */
#ifndef SL_BENCH_REDIS_CONNECT_H
#define SL_BENCH_REDIS_CONNECT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

static inline redisContext *bench_redis_connect(const char *address)
{
	char host[256];
	const char *colon = strrchr(address, ':');
	redisContext *c = NULL;

	if (colon && (size_t)(colon - address) < sizeof(host)) {
		memcpy(host, address, (size_t)(colon - address));
		host[colon - address] = '\0';
		c = redisConnect(host, atoi(colon + 1));
	}
	if (!c || c->err) {
		fprintf(stderr, "cannot connect to Redis at %s: %s\n", address,
			c ? c->errstr : "not HOST:PORT");
		exit(1);
	}
	return c;
}

#endif
