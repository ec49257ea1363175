/* invoke_client: keep-alive HTTP load for the core benchmark (bench/core.sh).
 *
 *   invoke_client rtt HOST:PORT PATH N WARMUP PAYLOAD
 *       POST PAYLOAD to PATH WARMUP times, then N times on the same connection, timing each
 *       round trip. Any answer but 200 without X-Amz-Function-Error counts as an error.
 *   invoke_client cold HOST:PORT PATH_FORMAT K PAYLOAD
 *       POST once to each of PATH_FORMAT % 0..K-1 (e.g. /2015-03-31/functions/f%d/invocations),
 *       one after another: the first invocation of each function, a cold start.
 *   invoke_client events HOST:PORT PATH TOTAL BATCH CONNS [FIRST]
 *       POST TOTAL CloudEvents (unique ids, numbered from FIRST, default 0) as
 *       application/cloudevents-batch+json bodies of BATCH events over CONNS connections in
 *       parallel; 503 answers are retried after Retry-After.
 *
 * Prints one JSON object with the figures (latencies in microseconds) on stdout; exit 1 if any
 * request failed.
 */
#include "bench/http1.h"
#include "bench/stats.h"

#include <pthread.h>
#include <time.h>

static int answer_ok(const struct response *res)
{
	return res->status == 200 && !res->function_error;
}

static int cmd_rtt(const char *hostport, const char *path, long n, long warmup, const char *payload)
{
	static struct conn c;
	double *v = calloc((size_t)n, sizeof(*v));
	unsigned errors = 0;
	size_t len = strlen(payload);

	if (!v || conn_init(&c, hostport) < 0)
		die("invoke_client: bad HOST:PORT");
	for (long i = 0; i < warmup + n; i++) {
		struct response res;
		double t0 = now_us();
		exchange(&c, "POST", path, "application/json", payload, len, &res);
		double dt = now_us() - t0;
		if (!answer_ok(&res)) {
			errors++;
			if (errors == 1)
				fprintf(stderr, "invoke_client: %d %s\n", res.status, res.body);
		}
		if (i >= warmup)
			v[i - warmup] = dt;
		free(res.body);
	}
	print_stats("rtt", v, (size_t)n, errors, -1);
	free(v);
	return errors ? 1 : 0;
}

static int cmd_cold(const char *hostport, const char *fmt, long k, const char *payload)
{
	static struct conn c;
	double *v = calloc((size_t)k, sizeof(*v));
	unsigned errors = 0;
	size_t len = strlen(payload);

	if (!v || conn_init(&c, hostport) < 0)
		die("invoke_client: bad HOST:PORT");
	for (long i = 0; i < k; i++) {
		char path[512];
		struct response res;
		snprintf(path, sizeof(path), fmt, (int)i);
		double t0 = now_us();
		exchange(&c, "POST", path, "application/json", payload, len, &res);
		v[i] = now_us() - t0;
		if (!answer_ok(&res)) {
			errors++;
			fprintf(stderr, "invoke_client: %s: %d %s\n", path, res.status, res.body);
		}
		free(res.body);
	}
	print_stats("cold", v, (size_t)k, errors, -1);
	free(v);
	return errors ? 1 : 0;
}

struct poster {
	pthread_t thread;
	const char *hostport, *path;
	long first, count, batch;   /* event numbers [first, first + count) */
	unsigned requests, errors, retries;
};

static void *post_events(void *arg)
{
	struct poster *p = arg;
	struct conn *c = malloc(sizeof(*c));
	size_t cap = (size_t)p->batch * 256 + 16;
	char *body = malloc(cap);

	if (!c || !body || conn_init(c, p->hostport) < 0)
		die("invoke_client: setup");
	for (long at = p->first; at < p->first + p->count; at += p->batch) {
		long n = p->first + p->count - at < p->batch ? p->first + p->count - at : p->batch;
		size_t len = 0;
		body[len++] = '[';
		for (long i = 0; i < n; i++)
			len += (size_t)snprintf(body + len, cap - len,
				"%s{\"specversion\":\"1.0\",\"id\":\"bench-%ld\",\"source\":\"/bench\","
				"\"type\":\"bench.event\",\"data\":{\"n\":%ld,\"pad\":\"0123456789abcdef\"}}",
				i ? "," : "", at + i, at + i);
		body[len++] = ']';
		for (;;) {
			struct response res;
			exchange(c, "POST", p->path, "application/cloudevents-batch+json", body, len,
				 &res);
			p->requests++;
			free(res.body);
			if (res.status == 202)
				break;
			if (res.status != 503) {
				p->errors++;
				break;
			}
			p->retries++;
			usleep(100000);
		}
	}
	free(body);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return NULL;
}

static int cmd_events(const char *hostport, const char *path, long total, long batch, long conns,
		      long first)
{
	struct poster *ps = calloc((size_t)conns, sizeof(*ps));
	unsigned requests = 0, errors = 0, retries = 0;
	long per = total / conns;

	if (!ps || batch < 1)
		die("invoke_client: bad arguments");
	double t0 = now_us();
	for (long i = 0; i < conns; i++) {
		ps[i] = (struct poster){ .hostport = hostport, .path = path, .first = first + i * per,
					 .count = i == conns - 1 ? total - i * per : per, .batch = batch };
		pthread_create(&ps[i].thread, NULL, post_events, &ps[i]);
	}
	for (long i = 0; i < conns; i++) {
		pthread_join(ps[i].thread, NULL);
		requests += ps[i].requests;
		errors += ps[i].errors;
		retries += ps[i].retries;
	}
	double secs = (now_us() - t0) / 1e6;
	printf("{\"test\":\"events\",\"events\":%ld,\"requests\":%u,\"errors\":%u,\"retries_503\":%u,"
	       "\"seconds\":%.3f,\"accepted_events_per_s\":%.0f}\n", total, requests, errors, retries,
	       secs, (double)total / secs);
	free(ps);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "rtt"))
		return cmd_rtt(argv[2], argv[3], atol(argv[4]), atol(argv[5]), argv[6]);
	if (argc == 6 && !strcmp(argv[1], "cold"))
		return cmd_cold(argv[2], argv[3], atol(argv[4]), argv[5]);
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "events"))
		return cmd_events(argv[2], argv[3], atol(argv[4]), atol(argv[5]), atol(argv[6]),
				  argc == 8 ? atol(argv[7]) : 0);
	fprintf(stderr, "usage: invoke_client rtt HOST:PORT PATH N WARMUP PAYLOAD\n"
			"       invoke_client cold HOST:PORT PATH_FORMAT K PAYLOAD\n"
			"       invoke_client events HOST:PORT PATH TOTAL BATCH CONNS [FIRST]\n");
	return 2;
}
