/* Executor: the public API, the pump and shutdown. See executor.h and pool.h. */
#include "executor/executor.h"

#include "config/config.h"
#include "core/fs.h"
#include "core/http_client.h"
#include "core/log.h"
#include "core/mem.h"
#include "executor/pool.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG "executor"

static struct sl_pool *find_pool(struct sl_executor *ex, const char *name)
{
	for (size_t i = 0; i < ex->n_pools; i++)
		if (strcmp(ex->pools[i].fn->name, name) == 0)
			return &ex->pools[i];
	return NULL;
}

/* A spawn failed: the oldest waiting invocation gets the reason (later, from the loop). */
static void fail_spawn(struct sl_pool *pool, const char *error_type, const char *msg)
{
	struct sl_invocation *inv = TAILQ_FIRST(&pool->queue);
	size_t len;

	sl_error(pool->tag, "cannot start a sandbox: %s", msg);
	if (!inv)
		return;
	TAILQ_REMOVE(&pool->queue, inv, link);
	pool->n_queued--;
	char *body = sl_error_json(error_type, inv->id, msg, &len);
	sl_inv_defer(inv, SL_INVOKE_INIT_ERROR, error_type, body, len);
}

void sl_pool_pump(struct sl_pool *pool)
{
	struct sl_executor *ex = pool->ex;
	struct sl_sandbox *sb;

	while (pool->n_queued > 0 && (sb = TAILQ_FIRST(&pool->idle)) != NULL) {
		struct sl_invocation *inv = TAILQ_FIRST(&pool->queue);
		TAILQ_REMOVE(&pool->queue, inv, link);
		pool->n_queued--;
		sl_sandbox_dispatch(sb, inv);
	}
	pool->blocked = false;
	sl_budget_provision(pool);
	while (pool->n_queued > pool->n_starting &&
	       pool->n_active < (size_t)pool->fn->max_concurrency && sl_budget_can_start(pool)) {
		const char *error_type;
		char msg[512];
		if (sl_budget_start(pool, false, &error_type, msg, sizeof(msg)) != 0)
			fail_spawn(pool, error_type, msg);
	}
	sl_budget_keep_warm(pool);
	while (ex->shutting_down && (sb = TAILQ_FIRST(&pool->idle)) != NULL)
		sl_sandbox_stop(sb);
	sl_executor_check_done(ex);
}

void sl_executor_check_done(struct sl_executor *ex)
{
	sl_budget_wake(ex);
	if (!ex->shutting_down || !ex->done || !TAILQ_EMPTY(&ex->deferred))
		return;
	for (size_t i = 0; i < ex->n_pools; i++)
		if (ex->pools[i].n_total > 0 || ex->pools[i].n_queued > 0)
			return;
	event_active(ex->done_ev, EV_TIMEOUT, 0);
}

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_executor *ex = arg;
	struct sl_invocation *inv;

	(void)fd;
	(void)what;
	while ((inv = TAILQ_FIRST(&ex->deferred)) != NULL) {
		TAILQ_REMOVE(&ex->deferred, inv, link);
		sl_inv_finish(inv, inv->d_status, inv->d_error_type, inv->d_payload, inv->d_len,
			      "application/json", 0); /* frees d_payload with inv */
	}
	sl_executor_check_done(ex);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_executor *ex = arg;
	void (*done)(void *) = ex->done;

	(void)fd;
	(void)what;
	ex->done = NULL;
	if (done)
		done(ex->done_arg);
}

static void sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sl_sandbox_reap_all(arg);
	sl_oci_reap_helpers(arg, false);
}

static void pool_init(struct sl_executor *ex, struct sl_pool *pool,
		      const struct sl_function_config *fn)
{
	pool->ex = ex;
	pool->fn = fn;
	pool->tag = sl_xasprintf("function:%s", fn->name);
	pool->arn = sl_xasprintf("arn:aws:lambda:%s:000000000000:function:%s", ex->region,
				 fn->name);
	TAILQ_INIT(&pool->sandboxes);
	TAILQ_INIT(&pool->idle);
	TAILQ_INIT(&pool->queue);
}

/* Every dir under <state_dir>/sandboxes/ was left by an earlier daemon on this state dir (the
 * daemon holds its lock: daemon/state_dir.c), and its container may still run: an oci bundle
 * (config.json) gets `runc delete --force`, a docker sandbox (the others) a forced delete, then
 * the dir goes. */
static void remove_stale_sandboxes(struct sl_executor *ex)
{
	char *top, *runc = ex->runc_path ? sl_xstrdup(ex->runc_path) : NULL;
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	if (!ex->cfg->state_dir)
		return;
	top = sl_xasprintf("%s/sandboxes", ex->cfg->state_dir);
	if (!(d = opendir(top))) {
		free(top);
		free(runc);
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *dir = sl_xasprintf("%s/%s", top, e->d_name);
		char *bundle = sl_xasprintf("%s/config.json", dir);
		if (access(bundle, F_OK) != 0) {
			sl_docker_remove(ex, TAG, e->d_name);
		} else if (runc || sl_oci_find_runc(&runc) == 0) {
			char *args[] = { "delete", "--force", e->d_name, NULL };
			sl_oci_runc(runc, args);
		}
		sl_rm_tree(dir);
		n++;
		free(dir);
		free(bundle);
	}
	closedir(d);
	if (n)
		sl_info(TAG, "removed %zu sandbox%s an earlier daemon left in %s", n,
			n == 1 ? "" : "es", top);
	free(top);
	free(runc);
}

int sl_executor_new(struct event_base *base, const struct sl_config *cfg, const char *agent_path,
		    struct sl_executor **out)
{
	struct sl_executor *ex;
	const char *region = getenv("AWS_REGION");

	char *runc = NULL;

	if (!base || !cfg || !agent_path || !out)
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_functions && !runc; i++) {
		if (cfg->functions[i].sandbox != SL_SANDBOX_OCI)
			continue;
		if (sl_oci_find_runc(&runc) != 0) {
			sl_error(TAG, "function %s: oci sandbox needs runc; install the runc "
				 "package", cfg->functions[i].name);
			return -ENOENT;
		}
	}
	if (runc)
		sl_info(TAG, "oci sandboxes run with %s; %s", runc, access("/sys/fs/cgroup/"
			"cgroup.controllers", F_OK) == 0 ? "this is a cgroup v2 host, where freezing "
			"and OOM detection (cgroup v1 so far) do not work yet" : "crun is not used: "
			"it needs cgroup v2, and this host has cgroup v1 controllers");
	ex = sl_xcalloc(1, sizeof(*ex));
	ex->runc_path = runc;
	ex->base = base;
	ex->cfg = cfg;
	/* absolute: the agent is started after a chdir into the function's code dir */
	char *abs = realpath(agent_path, NULL);
	ex->agent_path = abs ? abs : sl_xstrdup(agent_path);
	if (runc) {
		char why[PATH_MAX + 64];
		ex->userns = sl_oci_userns_usable(ex, why, sizeof(why));
		if (ex->userns)
			sl_info(TAG, "oci sandboxes get a user namespace (their ids are host ids "
				"from 1000000 on)");
		else
			sl_info(TAG, "oci sandboxes share the host's user namespace: %s", why);
	}
	ex->queue_limit = SL_EXECUTOR_QUEUE_LIMIT;
	ex->rnd_used = sizeof(ex->rnd);
	snprintf(ex->region, sizeof(ex->region), "%s", region && *region ? region : "us-east-1");
	TAILQ_INIT(&ex->deferred);
	ex->n_pools = cfg->n_functions;
	ex->pools = sl_xcalloc(cfg->n_functions, sizeof(*ex->pools));
	for (size_t i = 0; i < cfg->n_functions; i++) {
		pool_init(ex, &ex->pools[i], &cfg->functions[i]);
		if (cfg->functions[i].sandbox == SL_SANDBOX_DOCKER && !ex->http)
			ex->http = sl_http_client_new(base);
	}
	if (ex->http)
		sl_docker_check(ex);
	remove_stale_sandboxes(ex);
	for (size_t i = 0; i < ex->n_pools; i++) {
		struct sl_pool *pool = &ex->pools[i];
		char msg[512];
		if (!pool->fn->layers || !pool->fn->layers[0])
			continue;
		if (sl_layers_merge(ex, pool->fn, &pool->opt_dir, msg, sizeof(msg)) != 0) {
			sl_error(pool->tag, "%s", msg);
			sl_executor_free(ex);
			return -EINVAL;
		}
	}
	ex->sig_chld = sl_check_alloc(evsignal_new(base, SIGCHLD, sigchld_cb, ex));
	ex->defer_ev = sl_check_alloc(event_new(base, -1, 0, defer_cb, ex));
	ex->done_ev = sl_check_alloc(event_new(base, -1, 0, done_cb, ex));
	event_add(ex->sig_chld, NULL);
	sl_budget_init(ex);
	for (size_t i = 0; i < ex->n_pools; i++)
		sl_pool_pump(&ex->pools[i]);   /* provisioned concurrency */
	*out = ex;
	return 0;
}

void sl_executor_set_queue_limit(struct sl_executor *ex, size_t limit)
{
	ex->queue_limit = limit;
}

static struct sl_invocation *inv_new(struct sl_pool *pool, const void *payload, size_t len,
				     const struct sl_invoke_options *opts)
{
	const char *trace = opts ? opts->trace_id : NULL, *cc = opts ? opts->client_context : NULL;
	size_t tlen = trace ? strlen(trace) + 1 : 0, clen = cc ? strlen(cc) + 1 : 0;
	struct sl_invocation *inv = sl_xmalloc(sizeof(*inv) + len + tlen + clen + 1);

	memset(inv, 0, sizeof(*inv));
	inv->pool = pool;
	inv->len = len;
	if (len)
		memcpy(inv->payload, payload, len);
	char *p = inv->payload + len;
	if (trace) {
		inv->trace_id = memcpy(p, trace, tlen);
		p += tlen;
	}
	if (cc)
		inv->client_context = memcpy(p, cc, clen);
	if (opts && opts->log_tail)
		inv->log_tail = sl_xcalloc(1, sizeof(*inv->log_tail));
	sl_new_request_id(pool->ex, inv->id);
	return inv;
}

static int invoke_on(void *ex, const char *function, const void *payload, size_t len,
		     const struct sl_invoke_options *opts, sl_invoke_cb cb, void *arg)
{
	return sl_executor_invoke(ex, function, payload, len, opts, cb, arg);
}

struct sl_invoker sl_executor_invoker(struct sl_executor *ex)
{
	return (struct sl_invoker){ .invoke = invoke_on, .ctx = ex };
}

int sl_executor_invoke(struct sl_executor *ex, const char *function, const void *payload,
		       size_t len, const struct sl_invoke_options *opts, sl_invoke_cb cb, void *arg)
{
	struct sl_pool *pool = find_pool(ex, function);

	if (!pool)
		return -ENOENT;
	if (ex->shutting_down)
		return -ESHUTDOWN;
	struct sl_invocation *inv = inv_new(pool, payload, len, opts);
	inv->cb = cb;
	inv->arg = arg;
	if (pool->n_queued >= ex->queue_limit && TAILQ_EMPTY(&pool->idle)) {
		char *body = sl_xasprintf("{\"errorType\":\"TooManyRequestsException\","
					  "\"errorMessage\":\"Rate Exceeded. Queue of %zu waiting "
					  "invocations is full.\"}", ex->queue_limit);
		sl_inv_defer(inv, SL_INVOKE_THROTTLED, "TooManyRequestsException", body,
			     strlen(body));
		return 0;
	}
	TAILQ_INSERT_TAIL(&pool->queue, inv, link);
	pool->n_queued++;
	sl_budget_queued(ex, inv);
	sl_pool_pump(pool);
	return 0;
}

void sl_executor_shutdown(struct sl_executor *ex, void (*done)(void *arg), void *arg)
{
	ex->shutting_down = true;
	ex->done = done;
	ex->done_arg = arg;
	for (size_t i = 0; i < ex->n_pools; i++)
		sl_pool_pump(&ex->pools[i]);
	sl_executor_check_done(ex);
}

void sl_executor_free(struct sl_executor *ex)
{
	struct sl_invocation *inv;

	if (!ex)
		return;
	for (size_t i = 0; i < ex->n_pools; i++) {
		struct sl_pool *pool = &ex->pools[i];
		struct sl_sandbox *sb;
		while ((sb = TAILQ_FIRST(&pool->sandboxes)) != NULL) {
			if (sb->inv)
				sl_inv_free(sb->inv);
			sl_sandbox_destroy(sb);
		}
		while ((inv = TAILQ_FIRST(&pool->queue)) != NULL) {
			TAILQ_REMOVE(&pool->queue, inv, link);
			sl_inv_free(inv);
		}
		free(pool->tag);
		free(pool->arn);
		if (pool->opt_dir)
			sl_rm_tree(pool->opt_dir);
		free(pool->opt_dir);
	}
	while ((inv = TAILQ_FIRST(&ex->deferred)) != NULL) {
		TAILQ_REMOVE(&ex->deferred, inv, link);
		sl_inv_free(inv);
	}
	sl_docker_free_orphans(ex);      /* after the sandboxes: they may add some */
	sl_http_client_free(ex->http);   /* after the sandboxes: they cancel their calls */
	sl_oci_reap_helpers(ex, true);
	free(ex->helpers);
	sl_budget_free(ex);
	event_free(ex->sig_chld);
	event_free(ex->defer_ev);
	event_free(ex->done_ev);
	free(ex->pools);
	free(ex->agent_path);
	free(ex->runc_path);
	free(ex);
}

const char *sl_invoke_status_name(enum sl_invoke_status status)
{
	static const char *const names[SL_INVOKE_STATUS_COUNT] = {
		[SL_INVOKE_OK] = "ok",
		[SL_INVOKE_FUNCTION_ERROR] = "function_error",
		[SL_INVOKE_TIMEOUT] = "timeout",
		[SL_INVOKE_RUNTIME_EXIT] = "runtime_exit",
		[SL_INVOKE_INIT_ERROR] = "init_error",
		[SL_INVOKE_THROTTLED] = "throttled",
		[SL_INVOKE_TOO_LARGE] = "too_large",
	};
	return (unsigned)status < SL_INVOKE_STATUS_COUNT ? names[status] : "unknown";
}

size_t sl_executor_function_count(const struct sl_executor *ex)
{
	return ex->n_pools;
}

void sl_executor_function_stats(const struct sl_executor *ex, size_t i,
				struct sl_function_stats *out)
{
	const struct sl_pool *pool = &ex->pools[i];
	const struct sl_sandbox *sb;

	out->name = pool->fn->name;
	out->sandboxes = pool->n_active;
	out->busy = out->idle = out->frozen = out->stopping = 0;
	TAILQ_FOREACH(sb, &pool->sandboxes, link) {
		out->busy += sb->state == SL_SB_BUSY;
		out->idle += sb->state == SL_SB_IDLE;
		out->frozen += sb->state == SL_SB_IDLE && sb->frozen;
		out->stopping += sb->state == SL_SB_STOPPING;
	}
	out->starting = pool->n_starting;
	out->queued = pool->n_queued;
	out->cold_starts = pool->cold_starts;
	out->provisioned = sl_budget_provisioned(pool);
	memcpy(out->invocations, pool->outcomes, sizeof(out->invocations));
}
