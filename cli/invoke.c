/* `sluice invoke FUNCTION [--payload JSON|@FILE] [--async] [--listen HOST:PORT]`: an Invoke
 * through a running daemon's control API. Synchronous: prints the function's payload; exits 1
 * when the function failed (X-Amz-Function-Error) or the daemon refused the call. --async
 * (InvocationType Event): prints the daemon's 202 answer once the invocation is queued durably;
 * exits 1 when it was not accepted. */
#include "cli/cli.h"

#include "core/mem.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PAYLOAD_FILE (6u << 20)

struct response {
	int function_error;
};

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct response *res = arg;
	if (strncasecmp(line, "X-Amz-Function-Error:", 21) == 0)
		res->function_error = 1;
	return size * n;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	(void)arg;
	return fwrite(data, size, n, stdout) * size;
}

/* The payload argument: literal JSON, or @FILE. Caller frees. */
static char *read_payload(const char *arg)
{
	if (arg[0] != '@')
		return sl_xstrdup(arg);
	FILE *f = fopen(arg + 1, "rb");
	if (!f) {
		perror(arg + 1);
		return NULL;
	}
	char *buf = sl_xmalloc(MAX_PAYLOAD_FILE + 1);
	size_t len = fread(buf, 1, MAX_PAYLOAD_FILE + 1, f);
	fclose(f);
	if (len > MAX_PAYLOAD_FILE) {
		fprintf(stderr, "%s: larger than the 6 MB invoke limit\n", arg + 1);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int post(const char *url, const char *payload, int async)
{
	struct response res = { 0 };
	long status = 0;
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");

	if (async)
		headers = curl_slist_append(headers, "X-Amz-Invocation-Type: Event");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &res);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	CURLcode rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "sluice invoke: %s: %s (is the daemon running?)\n", url,
			curl_easy_strerror(rc));
		return 1;
	}
	printf("\n");
	if (async)
		return status == 202 ? 0 : 1;
	return status == 200 && !res.function_error ? 0 : 1;
}

int sl_cli_invoke(int argc, char **argv)
{
	const char *function = NULL, *payload_arg = "{}";
	int async = 0;
	const char *listen = getenv("SLUICE_LISTEN") ? getenv("SLUICE_LISTEN") : SL_CLI_LISTEN;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--payload") == 0 && i + 1 < argc)
			payload_arg = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else if (strcmp(argv[i], "--async") == 0)
			async = 1;
		else if (!function && argv[i][0] != '-')
			function = argv[i];
		else
			function = NULL, i = argc;
	}
	if (!function) {
		fprintf(stderr, "usage: sluice invoke FUNCTION [--payload JSON|@FILE] [--async] "
			"[--listen HOST:PORT]\n");
		return SL_EXIT_USAGE;
	}
	char *payload = read_payload(payload_arg);
	if (!payload)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char *url = sl_xasprintf("http://%s/2015-03-31/functions/%s/invocations", listen, function);
	int rc = post(url, payload, async);
	free(url);
	free(payload);
	curl_global_cleanup();
	return rc;
}
