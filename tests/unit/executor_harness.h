/* Test harness for the executor tests (included by tests/unit/test_executor*.c).
 *
 * Each test gets its own event_base, a hand-built struct sl_config whose functions live in
 * tests/fixtures/functions/<name> (each with TMPDIR set to a temp dir of the test, removed at
 * teardown, since runtimes are killed without a chance to clean up), and the real sluice-init found next to the test binary
 * (build/<mode>/tests/test_x -> build/<mode>/sluice-init). Tests run from the repository root.
 *
 * Logs. stderr (ours and every agent's, since they inherit it) goes to a temp file for the
 * whole test; xt_log() reads it back so tests can check the START/END/REPORT lines and the
 * runtime's output. At teardown the executor is shut down gracefully (agents exit normally, so
 * their sanitizers run) and a sanitizer report anywhere in the file fails the test. Lines that
 * are not log records (cmocka's failure messages) are echoed to the real stderr; set
 * SLUICE_TEST_VERBOSE=1 to get the whole captured log.
 */
#ifndef SL_TEST_EXECUTOR_HARNESS_H
#define SL_TEST_EXECUTOR_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "core/loop.h"
#include "core/mem.h"
#include "executor/executor.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XT_MAX_FNS 16

struct outcome {
	bool done;
	int seq;                          /* completion order, from 1 */
	enum sl_invoke_status status;
	char error_type[128];             /* "" on success */
	char *payload;                    /* NUL-terminated copy */
	size_t len;
	char id[64];
	char content_type[128];
	double duration_ms;
};

struct xt {
	struct event_base *base;
	struct sl_config cfg;
	struct sl_function_config fns[XT_MAX_FNS];
	struct sl_executor *ex;
	char agent[PATH_MAX];
	char root[PATH_MAX];
	char logpath[64];
	char tmpdir[64];                  /* the functions' TMPDIR, removed at teardown */
	int saved_stderr;
	int completed;
	bool shut_down;
};

static struct xt *xt_current;

static inline void xt_fail_msg(const char *msg)
{
	fprintf(stdout, "%s\n", msg);
	fail();
}

/* Add a function with the defaults of the config loader; the test may change fields before
 * xt_start(). */
static inline struct sl_function_config *xt_fn(struct xt *t, const char *name, const char *dir)
{
	struct sl_function_config *fn = &t->fns[t->cfg.n_functions++];

	assert_true(t->cfg.n_functions <= XT_MAX_FNS);
	memset(fn, 0, sizeof(*fn));
	fn->name = sl_xstrdup(name);
	fn->code_dir = sl_xasprintf("%s/tests/fixtures/functions/%s", t->root, dir ? dir : name);
	fn->runtime = sl_xstrdup("provided.al2023");
	fn->handler = sl_xstrdup("function.handler");
	fn->memory_mb = 128;
	fn->timeout_s = 3;
	fn->init_timeout_s = 10;
	fn->max_concurrency = 10;
	fn->ephemeral_storage_mb = 512;
	fn->environment = sl_xcalloc(4, sizeof(char *));   /* room for two more variables */
	fn->environment[0] = sl_xasprintf("TMPDIR=%s", t->tmpdir);
	return fn;
}

static inline void xt_start(struct xt *t)
{
	t->cfg.functions = t->fns;
	assert_int_equal(sl_executor_new(t->base, &t->cfg, t->agent, &t->ex), 0);
}

static inline int xt_setup(void **state)
{
	char exe[PATH_MAX - 32], agent[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(agent, sizeof(agent), "%s/../sluice-init", exe);
	assert_int_equal(access(agent, X_OK), 0);
	struct xt *t = sl_xcalloc(1, sizeof(*t));
	memcpy(t->agent, agent, sizeof(agent));
	if (!getcwd(t->root, sizeof(t->root)))
		abort();
	t->base = sl_loop_new();
	t->cfg.path = "(test)";
	t->cfg.idle_timeout_s = 300;
	snprintf(t->tmpdir, sizeof(t->tmpdir), "/tmp/sl-test-fn-XXXXXX");
	assert_non_null(mkdtemp(t->tmpdir));
	snprintf(t->logpath, sizeof(t->logpath), "/tmp/sl-test-executor-XXXXXX");
	int fd = mkstemp(t->logpath);
	assert_true(fd >= 0);
	close(fd);
	fflush(stderr);
	t->saved_stderr = dup(STDERR_FILENO);
	fd = open(t->logpath, O_WRONLY | O_APPEND | O_CLOEXEC);
	dup2(fd, STDERR_FILENO);
	close(fd);
	xt_current = t;
	*state = t;
	return 0;
}

static inline char *xt_log(struct xt *t)
{
	FILE *f = fopen(t->logpath, "r");
	size_t len = 0, cap = 4096, n;
	char *buf = sl_xmalloc(cap);

	assert_non_null(f);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap)
			buf = sl_xrealloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* The log line containing `needle` (a copy up to its newline), or NULL. */
static inline char *xt_line(const char *log, const char *needle)
{
	const char *p = strstr(log, needle);

	if (!p)
		return NULL;
	const char *start = p, *end = strchr(p, '\n');
	while (start > log && start[-1] != '\n')
		start--;
	return sl_xstrndup(start, end ? (size_t)(end - start) : strlen(start));
}

static inline void on_result(void *arg, const struct sl_invoke_result *res)
{
	struct outcome *o = arg;

	assert_false(o->done);
	o->done = true;
	o->seq = ++xt_current->completed;
	o->status = res->status;
	snprintf(o->error_type, sizeof(o->error_type), "%s", res->error_type ? res->error_type : "");
	o->payload = sl_xstrndup(res->payload, res->payload_len);
	o->len = res->payload_len;
	snprintf(o->id, sizeof(o->id), "%s", res->request_id);
	snprintf(o->content_type, sizeof(o->content_type), "%s",
		 res->content_type ? res->content_type : "");
	o->duration_ms = res->duration_ms;
}

static inline void xt_invoke_opts(struct xt *t, const char *fn, const char *payload,
			   const struct sl_invoke_options *opts, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	assert_int_equal(sl_executor_invoke(t->ex, fn, payload, strlen(payload), opts, on_result,
					    o), 0);
	assert_false(o->done);   /* never from inside the call */
}

static inline void xt_invoke(struct xt *t, const char *fn, const char *payload, struct outcome *o)
{
	xt_invoke_opts(t, fn, payload, NULL, o);
}

static inline void xt_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Run the loop until every outcome is done (or fail after timeout_ms). */
static inline void xt_wait_all(struct xt *t, struct outcome *o, size_t n, int timeout_ms)
{
	bool expired = false;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct event *timer = evtimer_new(t->base, xt_timeout_cb, &expired);

	evtimer_add(timer, &tv);
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += o[i].done;
		if (done == n || expired)
			break;
		event_base_loop(t->base, EVLOOP_ONCE);
	}
	event_free(timer);
	if (expired)
		xt_fail_msg("timed out waiting for invocation results");
}

static inline void xt_wait(struct xt *t, struct outcome *o)
{
	xt_wait_all(t, o, 1, 20000);
}

/* Run the loop for ms milliseconds. */
static inline void xt_run_for(struct xt *t, int ms)
{
	bool expired = false;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *timer = evtimer_new(t->base, xt_timeout_cb, &expired);

	evtimer_add(timer, &tv);
	while (!expired)
		event_base_loop(t->base, EVLOOP_ONCE);
	event_free(timer);
}

/* Run the loop until the captured log contains needle; returns a copy of its line. */
static inline char *xt_wait_log(struct xt *t, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		char *log = xt_log(t);
		char *line = xt_line(log, needle);
		free(log);
		if (line)
			return line;
		xt_run_for(t, 20);
	}
	xt_fail_msg("timed out waiting for a log line");
	return NULL;
}

static inline void xt_on_shutdown(void *arg)
{
	*(bool *)arg = true;
}

/* Graceful shutdown; fails if it does not complete within timeout_ms. */
static inline void xt_shutdown(struct xt *t, int timeout_ms)
{
	bool expired = false;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct event *timer = evtimer_new(t->base, xt_timeout_cb, &expired);

	sl_executor_shutdown(t->ex, xt_on_shutdown, &t->shut_down);
	evtimer_add(timer, &tv);
	while (!t->shut_down && !expired)
		event_base_loop(t->base, EVLOOP_ONCE);
	event_free(timer);
	if (!t->shut_down)
		xt_fail_msg("executor shutdown did not complete");
}

static inline void xt_free_fn(struct sl_function_config *fn)
{
	free(fn->name);
	free(fn->code_dir);
	free(fn->runtime);
	free(fn->handler);
	for (char **p = fn->command; p && *p; p++)
		free(*p);
	free(fn->command);
	for (char **p = fn->environment; p && *p; p++)
		free(*p);
	free(fn->environment);
}

static inline int xt_teardown(void **state)
{
	struct xt *t = *state;
	int bad = 0;

	if (t->ex && !t->shut_down)
		xt_shutdown(t, 10000);
	sl_executor_free(t->ex);
	for (size_t i = 0; i < t->cfg.n_functions; i++)
		xt_free_fn(&t->fns[i]);
	event_base_free(t->base);
	fflush(stderr);
	dup2(t->saved_stderr, STDERR_FILENO);
	close(t->saved_stderr);
	char *log = xt_log(t);
	const char *verbose = getenv("SLUICE_TEST_VERBOSE");
	bad = strstr(log, "Sanitizer") || strstr(log, "runtime error:");
	if (bad || (verbose && *verbose == '1')) {
		fprintf(stderr, "---- captured log ----\n%s---- end ----\n", log);
	} else {
		/* what is not a log record (cmocka's failure messages) still goes out */
		for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
			if (strncmp(line, "[20", 3) != 0)
				fprintf(stderr, "%s\n", line);
	}
	free(log);
	unlink(t->logpath);
	char rm[128];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", t->tmpdir);
	if (system(rm) != 0)
		bad = 1;
	free(t);
	xt_current = NULL;
	return bad ? -1 : 0;
}

static inline void outcome_release(struct outcome *o)
{
	free(o->payload);
	o->payload = NULL;
}

static inline int xt_count(const char *log, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(log, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Integer value of a "key":N member in a flat JSON text, or -1. */
static inline long json_int_member(const char *json, const char *key)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(json, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

#endif
