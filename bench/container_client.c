/* container_client: the extra load shapes of the container benchmark (bench/containers.sh).
 *
 *   container_client paced HOST:PORT PATH N WARMUP PAUSE_MS PAYLOAD
 *       Like `invoke_client rtt`, but sleeps PAUSE_MS between round trips (not timed), so an oci
 *       sandbox is surely frozen again before each invocation: each figure is thaw + invoke.
 *   container_client burst HOST:PORT PATH_FORMAT K PAYLOAD
 *       K threads, one connection each, released together; thread i POSTs once to
 *       PATH_FORMAT % i. Reports the wall time from the release until the last answer
 *       (wall_us) and the per-request latencies: K cold starts at once.
 *
 * Prints one JSON object (latencies in microseconds) on stdout; exit 1 if any request failed.
 */
#include "bench/http1.h"
#include "bench/stats.h"

#include <pthread.h>
#include <time.h>

static int answer_ok(const struct response *res)
{
	return res->status == 200 && !res->function_error;
}

static int cmd_paced(const char *hostport, const char *path, long n, long warmup, long pause_ms,
		     const char *payload)
{
	static struct conn c;
	double *v = calloc((size_t)n, sizeof(*v));
	unsigned errors = 0;
	size_t len = strlen(payload);
	struct timespec pause = { pause_ms / 1000, (pause_ms % 1000) * 1000000L };

	if (!v || conn_init(&c, hostport) < 0)
		die("container_client: bad HOST:PORT");
	for (long i = 0; i < warmup + n; i++) {
		struct response res;
		nanosleep(&pause, NULL);
		double t0 = now_us();
		exchange(&c, "POST", path, "application/json", payload, len, &res);
		double dt = now_us() - t0;
		if (!answer_ok(&res) && ++errors == 1)
			fprintf(stderr, "container_client: %d %s\n", res.status, res.body);
		if (i >= warmup)
			v[i - warmup] = dt;
		free(res.body);
	}
	print_stats("paced", v, (size_t)n, errors, -1);
	free(v);
	return errors ? 1 : 0;
}

struct burster {
	pthread_t thread;
	const char *hostport, *payload;
	char path[512];
	struct conn c;
	double start, t_us, done_at;
	int ok;
};

static pthread_barrier_t go;

static void *burst_one(void *arg)
{
	struct burster *b = arg;
	struct response res;

	if (conn_init(&b->c, b->hostport) < 0)
		die("container_client: bad HOST:PORT");
	conn_open(&b->c);
	pthread_barrier_wait(&go);
	double t0 = now_us();
	exchange(&b->c, "POST", b->path, "application/json", b->payload, strlen(b->payload), &res);
	b->done_at = now_us();
	b->t_us = b->done_at - t0;
	b->start = t0;
	b->ok = answer_ok(&res);
	if (!b->ok)
		fprintf(stderr, "container_client: %s: %d %s\n", b->path, res.status, res.body);
	free(res.body);
	return NULL;
}

static int cmd_burst(const char *hostport, const char *fmt, long k, const char *payload)
{
	struct burster *bs = calloc((size_t)k, sizeof(*bs));
	double *v = calloc((size_t)k, sizeof(*v));
	unsigned errors = 0;
	double first = 0, last = 0;

	if (!bs || !v)
		die("container_client: out of memory");
	pthread_barrier_init(&go, NULL, (unsigned)k);
	for (long i = 0; i < k; i++) {
		bs[i].hostport = hostport;
		bs[i].payload = payload;
		snprintf(bs[i].path, sizeof(bs[i].path), fmt, (int)i);
		pthread_create(&bs[i].thread, NULL, burst_one, &bs[i]);
	}
	for (long i = 0; i < k; i++) {
		pthread_join(bs[i].thread, NULL);
		v[i] = bs[i].t_us;
		errors += !bs[i].ok;
		if (i == 0 || bs[i].start < first)
			first = bs[i].start;
		if (bs[i].done_at > last)
			last = bs[i].done_at;
	}
	print_stats("burst", v, (size_t)k, errors, last - first);
	free(v);
	free(bs);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 8 && !strcmp(argv[1], "paced"))
		return cmd_paced(argv[2], argv[3], atol(argv[4]), atol(argv[5]), atol(argv[6]),
				 argv[7]);
	if (argc == 6 && !strcmp(argv[1], "burst"))
		return cmd_burst(argv[2], argv[3], atol(argv[4]), argv[5]);
	fprintf(stderr, "usage: container_client paced HOST:PORT PATH N WARMUP PAUSE_MS PAYLOAD\n"
			"       container_client burst HOST:PORT PATH_FORMAT K PAYLOAD\n");
	return 2;
}
