/* pace: a producer at a steady low rate, for event-to-function latency (bench/streams.sh).
 *
 *   pace kafka BROKERS TOPIC COUNT INTERVAL_MS    one record a tick (no key, linger.ms 0: sent
 *                                                 at once); its timestamp is the send time
 *   pace xadd HOST:PORT STREAM COUNT INTERVAL_MS  XADD one entry a tick (the entry id's ms is the
 *                                                 send time, as Redis stamps it)
 *   pace lpush HOST:PORT LIST COUNT INTERVAL_MS   LPUSH one message a tick
 *
 * Every value carries its send time too ("sent_ms=<Unix ms>"). Ticks are absolute (no drift).
 * Prints {"sent": COUNT, "seconds": S} at the end; exit 1 on any error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "bench/redis_connect.h"

struct sender {
	rd_kafka_t *rk;
	redisContext *redis;
	const char *key;
	const char *command;   /* Redis: "XADD %s * sent_ms %s" or "LPUSH %s sent_ms=%s" */
};

__attribute__((noreturn)) static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "pace: %s: %s\n", what, detail);
	exit(1);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void open_kafka(struct sender *s, const char *brokers)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof(err)))
		fail("kafka config", err);
	if (!(s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err))))
		fail("kafka producer", err);
}

static void open_redis(struct sender *s, const char *address, const char *command)
{
	s->redis = bench_redis_connect(address);
	s->command = command;
}

static void send_one(struct sender *s)
{
	char value[64];
	snprintf(value, sizeof(value), "%" PRId64, wall_ms());
	if (s->rk) {
		char text[80];
		int n = snprintf(text, sizeof(text), "sent_ms=%s", value);
		rd_kafka_resp_err_t e = rd_kafka_producev(s->rk, RD_KAFKA_V_TOPIC(s->key),
							  RD_KAFKA_V_VALUE(text, (size_t)n),
							  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
							  RD_KAFKA_V_END);
		if (e)
			fail("produce", rd_kafka_err2str(e));
		rd_kafka_poll(s->rk, 0);
		return;
	}
	redisReply *r = redisCommand(s->redis, s->command, s->key, value);
	if (!r || r->type == REDIS_REPLY_ERROR)
		fail("redis", r ? r->str : s->redis->errstr);
	freeReplyObject(r);
}

int main(int argc, char **argv)
{
	struct sender s = { 0 };
	struct timespec tick;

	if (argc != 6) {
		fprintf(stderr, "usage: pace kafka|xadd|lpush ADDRESS KEY COUNT INTERVAL_MS\n");
		return 2;
	}
	long count = atol(argv[4]), interval_ms = atol(argv[5]);
	s.key = argv[3];
	if (strcmp(argv[1], "kafka") == 0)
		open_kafka(&s, argv[2]);
	else if (strcmp(argv[1], "xadd") == 0)
		open_redis(&s, argv[2], "XADD %s * sent_ms %s");
	else if (strcmp(argv[1], "lpush") == 0)
		open_redis(&s, argv[2], "LPUSH %s sent_ms=%s");
	else
		fail("unknown mode", argv[1]);
	int64_t t0 = wall_ms();
	clock_gettime(CLOCK_MONOTONIC, &tick);
	for (long i = 0; i < count; i++) {
		send_one(&s);
		tick.tv_nsec += interval_ms * 1000000;
		tick.tv_sec += tick.tv_nsec / 1000000000;
		tick.tv_nsec %= 1000000000;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
	}
	if (s.rk) {
		if (rd_kafka_flush(s.rk, 10000))
			fail("flush", "records left unsent after 10 s");
		rd_kafka_destroy(s.rk);
	}
	if (s.redis)
		redisFree(s.redis);
	printf("{\"sent\": %ld, \"seconds\": %.3f}\n", count, (double)(wall_ms() - t0) / 1000);
	return 0;
}
