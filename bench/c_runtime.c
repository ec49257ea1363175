/* c_runtime: the smallest useful Lambda custom runtime, for benchmarks.
 *
 * Speaks the Runtime API 2018-06-01 over one persistent keep-alive HTTP/1.1 connection to
 * $AWS_LAMBDA_RUNTIME_API (raw sockets, no library): GET /runtime/invocation/next, then POST
 * /runtime/invocation/{id}/response with {"ok":true,"events":N}, where N counts the CloudEvents in
 * the payload. With $BENCH_COUNT_DIR set, it keeps the running total of events it has handled in
 * $BENCH_COUNT_DIR/<pid>.count (rewritten after every invocation) so a benchmark can tell when
 * everything arrived. Reconnects when the server closes the connection; exits on any other error.
 */
#include "bench/http1.h"

#include <fcntl.h>

static size_t count_events(const char *p, size_t len)
{
	static const char key[] = "\"specversion\"";
	size_t n = 0;
	const char *end = p + len;
	while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
		n++;
		p += sizeof(key) - 1;
	}
	return n;
}

static void save_count(const char *dir, unsigned long long total)
{
	char path[4096], tmp[4200], text[32];
	snprintf(path, sizeof(path), "%s/%ld.count", dir, (long)getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open count file");
	int n = snprintf(text, sizeof(text), "%llu\n", total);
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
	static struct conn c;
	unsigned long long total = 0;

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
		size_t events = count_events(next.body, next.body_len);
		total += events;
		int n = snprintf(answer, sizeof(answer), "{\"ok\":true,\"events\":%zu}", events);
		snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/response",
			 next.request_id);
		exchange(&c, "POST", path, "application/json", answer, (size_t)n, &ack);
		if (ack.status != 202) {
			fprintf(stderr, "c_runtime: /response answered %d: %s\n", ack.status, ack.body);
			return 1;
		}
		if (count_dir && events)
			save_count(count_dir, total);
		free(next.body);
		free(ack.body);
	}
}
