/* `sluice status [--listen HOST:PORT] [--json]`: the state of a running daemon's triggers
 * (GET /status), one block per trigger: its counters, last error, and per partition the
 * committed position and the batches in flight, and the source's lag as the trigger's feed sees
 * it (events at the source not yet taken, per partition). --json prints the document as it came. */
#include "cli/cli.h"

#include "core/mem.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STATUS_BYTES (64u << 20)

struct body {
	char *data;
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;

	if (b->len + add > MAX_STATUS_BYTES)
		return 0;
	b->data = sl_xrealloc(b->data, b->len + add + 1);
	memcpy(b->data + b->len, data, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* GET url into *out; 0, or 1 with a message. */
static int get(const char *url, struct body *out)
{
	long status = 0;
	CURL *curl = curl_easy_init();

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	CURLcode rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "sluice status: %s: %s (is the daemon running?)\n", url,
			curl_easy_strerror(rc));
		return 1;
	}
	if (status != 200) {
		fprintf(stderr, "sluice status: %s: HTTP %ld\n", url, status);
		return 1;
	}
	return 0;
}

static json_int_t num(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static const char *str(const json_t *obj, const char *key, const char *absent)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : absent;
}

static void print_partition(const json_t *p)
{
	size_t i;
	const json_t *b;

	printf("  partition \"%s\": committed %s, %lld uncommitted, %lld queued\n",
	       str(p, "name", ""), str(p, "committed_position", "(nothing yet)"),
	       (long long)num(p, "uncommitted_events"), (long long)num(p, "queued_events"));
	json_array_foreach(json_object_get(p, "in_flight"), i, b)
		printf("    batch of %lld (%lld in the current piece): %s, attempt %lld, positions "
		       "%s..%s%s%s\n", (long long)num(b, "events"), (long long)num(b, "current_events"),
		       str(b, "stage", "?"), (long long)num(b, "attempts"),
		       str(b, "first_position", "?"), str(b, "last_position", "?"),
		       json_is_string(json_object_get(b, "last_error")) ? ", last error " : "",
		       str(b, "last_error", ""));
}

/* The feed's view of the source: "lag" (null while unknown), "last_error", and per partition
 * its "name", "lag" and the source's own detail. */
static void print_source(const json_t *src)
{
	size_t i;
	const json_t *p, *lag = json_object_get(src, "lag");

	if (!src)
		return;
	if (json_is_integer(lag))
		printf("  source lag: %lld (%s)\n", (long long)json_integer_value(lag),
		       str(src, "kind", "?"));
	else
		printf("  source lag: unknown (%s)\n", str(src, "kind", "?"));
	if (json_is_string(json_object_get(src, "last_error")))
		printf("  source error: %s\n", str(src, "last_error", ""));
	json_array_foreach(json_object_get(src, "partitions"), i, p) {
		lag = json_object_get(p, "lag");
		if (json_is_integer(lag))
			printf("    %s: lag %lld\n", str(p, "name", "?"),
			       (long long)json_integer_value(lag));
		else
			printf("    %s: lag unknown\n", str(p, "name", "?"));
	}
}

static void print_trigger(const json_t *t)
{
	const json_t *c = json_object_get(t, "counters");
	size_t i;
	const json_t *p;

	printf("trigger %s -> %s: %s\n", str(t, "name", "?"), str(t, "function", "?"),
	       str(t, "state", "?"));
	if (!c)
		return;
	printf("  events: %lld in, %lld done, %lld dead-lettered (to %s), %lld filtered, "
	       "%lld pending%s\n", (long long)num(c, "events_in"), (long long)num(c, "events_done"),
	       (long long)num(c, "events_dead_lettered"), str(t, "on_failure", "?"),
	       (long long)num(c, "events_filtered"), (long long)num(t, "pending_events"),
	       json_is_true(json_object_get(t, "source_paused")) ? " (source paused)" : "");
	printf("  batches: %lld in flight, %lld retries, %lld bisections, %lld partial answers\n",
	       (long long)num(t, "in_flight_batches"), (long long)num(c, "retries"),
	       (long long)num(c, "bisections"), (long long)num(c, "partial_responses"));
	if (json_is_string(json_object_get(t, "last_error")))
		printf("  last error: %s\n", str(t, "last_error", ""));
	print_source(json_object_get(t, "source"));
	json_array_foreach(json_object_get(t, "partitions"), i, p)
		print_partition(p);
}

int sl_cli_status(int argc, char **argv)
{
	const char *listen = getenv("SLUICE_LISTEN") ? getenv("SLUICE_LISTEN") : SL_CLI_LISTEN;
	int as_json = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			as_json = 1;
		} else {
			fprintf(stderr, "usage: sluice status [--listen HOST:PORT] [--json]\n");
			return SL_EXIT_USAGE;
		}
	}
	struct body body = { 0 };
	char *url = sl_xasprintf("http://%s/status", listen);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = get(url, &body);
	curl_global_cleanup();
	json_t *doc = rc == 0 ? json_loadb(body.data, body.len, 0, NULL) : NULL;
	if (rc == 0 && !doc) {
		fprintf(stderr, "sluice status: %s: the answer is not JSON\n", url);
		rc = 1;
	} else if (doc && as_json) {
		fwrite(body.data, 1, body.len, stdout);
		printf("\n");
	} else if (doc) {
		size_t i;
		const json_t *t;
		printf("sluice %s\n", str(doc, "state", "?"));
		json_array_foreach(json_object_get(doc, "triggers"), i, t)
			print_trigger(t);
	}
	json_decref(doc);
	free(body.data);
	free(url);
	return rc;
}
