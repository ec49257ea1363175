/* The queue feed's Lua scripts; see queue_scripts.h and queue_feed.h.
 *
 * Times come from Redis (TIME), so every node agrees on deadlines whatever its own clock. Lua
 * numbers are doubles: millisecond times are formatted with %.0f, never tostring (which would
 * print 1.7e+12).
 */
#include "connectors/redis/queue_scripts.h"

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

static const char *const texts[QUEUE_N_SCRIPTS] = {
	[QUEUE_RECEIVE] =
		"local t = redis.call('TIME')\n"
		"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
		"local out = {}\n"
		"local max = tonumber(ARGV[1])\n"
		"while #out < 4 * max do\n"
		"  local id, count, first, body\n"
		"  local back = redis.call('RPOP', KEYS[2])\n"
		"  if back then\n"
		"    local env = redis.call('HGET', KEYS[3], back)\n"
		"    if env then\n"
		"      local nl = string.find(env, '\\n', 1, true)\n"
		"      local c, f = string.match(string.sub(env, 1, nl - 1), '^(%d+) (%d+)')\n"
		"      id, count, first, body = back, tonumber(c) + 1, f, string.sub(env, nl + 1)\n"
		"    end\n"
		"  else\n"
		"    body = redis.call('RPOP', KEYS[1])\n"
		"    if not body then break end\n"
		"    id = string.format('%.0f-%d', now, redis.call('INCR', KEYS[5]))\n"
		"    count, first = 1, string.format('%.0f', now)\n"
		"  end\n"
		"  if id then\n"
		"    redis.call('HSET', KEYS[3], id,\n"
		"               string.format('%d %s %.0f\\n', count, first, now) .. body)\n"
		"    redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), id)\n"
		"    out[#out + 1] = id\n"
		"    out[#out + 1] = count\n"
		"    out[#out + 1] = first\n"
		"    out[#out + 1] = body\n"
		"  end\n"
		"end\n"
		"return out\n",
	[QUEUE_REAP] =
		"local t = redis.call('TIME')\n"
		"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
		"local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0,\n"
		"                       tonumber(ARGV[1]))\n"
		"for _, id in ipairs(ids) do\n"
		"  redis.call('ZREM', KEYS[1], id)\n"
		"  redis.call('LPUSH', KEYS[2], id)\n"
		"end\n"
		"return #ids\n",
	[QUEUE_DELETE] =
		"for _, id in ipairs(ARGV) do\n"
		"  redis.call('ZREM', KEYS[1], id)\n"
		"  redis.call('HDEL', KEYS[2], id)\n"
		"end\n"
		"return #ARGV\n",
	[QUEUE_FIGURES] = (   /* parenthesized: clang's -Wstring-concatenation */
		"return {redis.call('LLEN', KEYS[1]), redis.call('LLEN', KEYS[2]),\n"
		"        redis.call('ZCARD', KEYS[3])}\n"),
};

static char shas[QUEUE_N_SCRIPTS][2 * SHA_DIGEST_LENGTH + 1];

const char *queue_script_text(enum queue_script s)
{
	return texts[s];
}

const char *queue_script_sha(enum queue_script s)
{
	unsigned char md[SHA_DIGEST_LENGTH];

	if (!shas[s][0]) {   /* loop thread only */
		SHA1((const unsigned char *)texts[s], strlen(texts[s]), md);
		for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
			snprintf(shas[s] + 2 * i, 3, "%02x", md[i]);
	}
	return shas[s];
}
