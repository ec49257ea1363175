/* c_runtime: the smallest useful Lambda custom runtime, for benchmarks.
 *
 * Speaks the Runtime API 2018-06-01 over one persistent keep-alive HTTP/1.1 connection to
 * $AWS_LAMBDA_RUNTIME_API (raw sockets, no library): GET /runtime/invocation/next, then POST
 * /runtime/invocation/{id}/response with {"ok":true,"events":N}, where N counts the records in the
 * payload: CloudEvents, or the records of an AWS Kafka, Kinesis or SQS event (see `shapes`).
 * With $BENCH_COUNT_DIR set, it keeps "<total> <first_ms> <last_ms>" in
 * $BENCH_COUNT_DIR/<pid>.count (rewritten after every invocation with records): the running total
 * of records handled, when the first invocation with records arrived and when the last one was
 * answered (Unix ms), so a benchmark can tell when everything arrived and at what rate, and
 * appends "<answered_ms> <records>" per invocation with records to $BENCH_COUNT_DIR/<pid>.timeline
 * (the rate in steady state, without the start and the end of a run). With
 * $BENCH_LATENCY_DIR set, it appends one "<sent_ms> <received_ms>" line per record to
 * $BENCH_LATENCY_DIR/<pid>.lat: the record's own send time as its shape carries it, and when the
 * invocation arrived (Unix ms, three decimals). Reconnects when the server closes the
 * connection; exits on any other error.
 */
#include "bench/http1.h"

#include <fcntl.h>
#include <time.h>

/* One payload shape: a key found once per record, and the key whose value is the record's send
 * time (NULL: none), in Unix ms times `time_scale`. The first shape whose key the payload holds
 * counts its records; none can be mistaken for another (Kafka values and Kinesis data are base64,
 * SQS bodies are JSON strings whose quotes are escaped). */
static const struct shape {
	const char *record_key;
	const char *time_key;
	double time_scale;
} shapes[] = {
	{ "\"specversion\"", NULL, 0 },                                            /* CloudEvents */
	{ "\"timestampType\"", "\"timestamp\":", 1 },                              /* Kafka */
	{ "\"eventSource\":\"aws:kinesis\"", "\"approximateArrivalTimestamp\":", 1000 },
	{ "\"eventSource\":\"aws:sqs\"", "\"SentTimestamp\":", 1 },
};

static size_t count_key(const char *p, size_t len, const char *key)
{
	size_t n = 0, klen = strlen(key);
	const char *end = p + len;
	while ((p = memmem(p, (size_t)(end - p), key, klen))) {
		n++;
		p += klen;
	}
	return n;
}

/* The shape whose record key comes in the payload's first record (its first SHAPE_PROBE bytes
 * hold it), and its records counted over the whole payload: one scan, as a trivial function
 * would make, not one per shape tried. */
#define SHAPE_PROBE 4096
static const struct shape *shape_of(const char *p, size_t len, size_t *records)
{
	size_t probe = len < SHAPE_PROBE ? len : SHAPE_PROBE;

	*records = 0;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		if (!memmem(p, probe, shapes[i].record_key, strlen(shapes[i].record_key)))
			continue;
		*records = count_key(p, len, shapes[i].record_key);
		return &shapes[i];
	}
	return NULL;
}

static double wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Append "<sent_ms> <received_ms>" for each record's send time (a number, quoted or not). */
static void save_latencies(const char *dir, const struct shape *sh, const char *p, size_t len,
			   double received_ms)
{
	char path[4096];
	const char *end = p + len;
	size_t klen = strlen(sh->time_key);

	snprintf(path, sizeof(path), "%s/%ld.lat", dir, (long)getpid());
	FILE *f = fopen(path, "a");
	if (!f)
		die("open latency file");
	while ((p = memmem(p, (size_t)(end - p), sh->time_key, klen))) {
		p += klen;
		double sent = strtod(p + (*p == '"'), NULL) * sh->time_scale;
		fprintf(f, "%.3f %.3f\n", sent, received_ms);
	}
	if (fclose(f) != 0)
		die("write latency file");
}

/* Append "<answered_ms> <records>" to the timeline, kept open from the first call. */
static void save_timeline(const char *dir, size_t records, double answered_ms)
{
	static int fd = -1;
	char text[64];

	if (fd < 0) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%ld.timeline", dir, (long)getpid());
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			die("open timeline file");
	}
	int n = snprintf(text, sizeof(text), "%.3f %zu\n", answered_ms, records);
	if (write(fd, text, (size_t)n) != n)
		die("write timeline file");
}

static void save_count(const char *dir, unsigned long long total, double first_ms, double last_ms)
{
	char path[4096], tmp[4200], text[96];
	snprintf(path, sizeof(path), "%s/%ld.count", dir, (long)getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open count file");
	int n = snprintf(text, sizeof(text), "%llu %.0f %.0f\n", total, first_ms, last_ms);
	if (write(fd, text, (size_t)n) != n)
		die("write count file");
	close(fd);
	if (rename(tmp, path) < 0)
		die("rename count file");
}

int main(void)
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	const char *count_dir = getenv("BENCH_COUNT_DIR");
	const char *latency_dir = getenv("BENCH_LATENCY_DIR");
	static struct conn c;
	unsigned long long total = 0;
	double first_ms = 0;

	if (!api || conn_init(&c, api) < 0)
		die("c_runtime: AWS_LAMBDA_RUNTIME_API not set");
	for (;;) {
		struct response next, ack;
		char path[256], answer[64];

		exchange(&c, "GET", "/2018-06-01/runtime/invocation/next", "application/json", NULL, 0,
			 &next);
		if (next.status != 200 || !next.request_id[0]) {
			fprintf(stderr, "c_runtime: /next answered %d\n", next.status);
			return 1;
		}
		double received_ms = wall_ms();
		size_t events = 0;
		const struct shape *sh = shape_of(next.body, next.body_len, &events);
		if (events && !first_ms)
			first_ms = received_ms;
		if (latency_dir && sh && sh->time_key)
			save_latencies(latency_dir, sh, next.body, next.body_len, received_ms);
		total += events;
		int n = snprintf(answer, sizeof(answer), "{\"ok\":true,\"events\":%zu}", events);
		snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/response",
			 next.request_id);
		exchange(&c, "POST", path, "application/json", answer, (size_t)n, &ack);
		if (ack.status != 202) {
			fprintf(stderr, "c_runtime: /response answered %d: %s\n", ack.status, ack.body);
			return 1;
		}
		if (count_dir && events) {
			double answered_ms = wall_ms();
			save_count(count_dir, total, first_ms, answered_ms);
			save_timeline(count_dir, events, answered_ms);
		}
		free(next.body);
		free(ack.body);
	}
}
