/* The executor: runs functions in sandboxes and hands invocations to them.
 *
 * Model. Each function has a pool of sandboxes. A sandbox is one `sluice-init` agent process
 * (executor/agent/) with the function's runtime as its child; the agent serves the Lambda Runtime
 * API 2018-06-01 to the runtime on loopback and talks to the executor over one unix-socket channel
 * (executor/channel.h). A sandbox serves one invocation at a time. An invocation goes to an idle
 * warm sandbox if there is one, else a new sandbox is started (cold start) while the function is
 * under max_concurrency, the memory budget (executor_memory_mb: the sum of live sandboxes'
 * memory_mb) and the burst limit (executor_max_starting sandboxes initialising at once), else it
 * waits in the function's bounded queue; past that bound it is answered at once with
 * SL_INVOKE_THROTTLED, and after executor_queue_timeout_ms of waiting with SL_INVOKE_THROTTLED
 * and the reason. provisioned_concurrency sandboxes per function are started with the executor,
 * kept warm and replaced when they die (executor/budget.c).
 *
 * Failures are answered, never hidden: a handler error (runtime posted /error), a timeout (the
 * agent kills the runtime at the deadline: "Task timed out after N.NN seconds"), a runtime that
 * exits or crashes mid-invocation ("Runtime exited with error: exit status 1"), an init failure.
 * A sandbox whose runtime died or timed out is discarded; the next invocation gets a fresh one.
 * Idle sandboxes are reaped after the configured idle time.
 *
 * Logs. For every invocation the executor logs, under the tag "function:<name>", Lambda's
 *   START RequestId: <id> Version: $LATEST
 *   END RequestId: <id>
 *   REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\t[Init Duration: 3.21 ms\t]
 * plus every line the runtime writes to stdout or stderr.
 *
 * Threads: everything runs on the event loop it was created with.
 */
#ifndef SL_EXECUTOR_H
#define SL_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct sl_config;
struct sl_executor;

enum sl_invoke_status {
	SL_INVOKE_OK = 0,          /* runtime posted /response */
	SL_INVOKE_FUNCTION_ERROR,  /* runtime posted /error (handler error) */
	SL_INVOKE_TIMEOUT,         /* Sandbox.Timedout */
	SL_INVOKE_RUNTIME_EXIT,    /* Runtime.ExitError: runtime exited or crashed */
	SL_INVOKE_INIT_ERROR,      /* init failed: /init/error, bad entry point, init timeout */
	SL_INVOKE_THROTTLED,       /* no sandbox could be had within the queue bound */
	SL_INVOKE_TOO_LARGE,       /* Function.ResponseSizeTooLarge */
};
#define SL_INVOKE_STATUS_COUNT (SL_INVOKE_TOO_LARGE + 1)

/* "ok", "function_error", "timeout", "runtime_exit", "init_error", "throttled", "too_large". */
const char *sl_invoke_status_name(enum sl_invoke_status status);

struct sl_invoke_result {
	enum sl_invoke_status status;
	const char *request_id;
	const char *error_type;     /* NULL on success; else e.g. "Sandbox.Timedout" */
	const char *payload;        /* response bytes, or the error JSON the caller sees */
	size_t payload_len;
	const char *content_type;   /* of payload */
	double duration_ms;         /* invoke phase */
	const char *log_tail;       /* with opts->log_tail: the last SL_LOG_TAIL_BYTES of this
				     * invocation's log lines (START ... REPORT), else NULL */
	size_t log_tail_len;
};

/* Called exactly once per accepted invocation, on the executor's loop. `res` and everything it
 * points to are valid only during the call. */
typedef void (*sl_invoke_cb)(void *arg, const struct sl_invoke_result *res);

#define SL_LOG_TAIL_BYTES 4096

struct sl_invoke_options {
	const char *client_context;  /* decoded JSON text, or NULL */
	const char *trace_id;        /* X-Ray trace header, or NULL */
	bool log_tail;               /* keep the invocation's log tail (Invoke's X-Amz-Log-Type) */
};

/* Something that runs invocations: the executor (sl_executor_invoker), or a stand-in in tests
 * and benchmarks. invoke has sl_executor_invoke's contract (ctx in place of the executor). */
struct sl_invoker {
	int (*invoke)(void *ctx, const char *function, const void *payload, size_t len,
		      const struct sl_invoke_options *opts, sl_invoke_cb cb, void *arg);
	void *ctx;
};

/* agent_path: the sluice-init binary. The executor keeps a pointer to cfg: cfg must outlive it.
 * -ENOENT (logged: "oci sandbox needs runc; install the runc package") when a function has
 * "sandbox": "oci" and no runc binary is found. */
int sl_executor_new(struct event_base *base, const struct sl_config *cfg, const char *agent_path,
		    struct sl_executor **out);
/* Start an invocation. 0: cb will be called exactly once, later (never from inside this call).
 * -ENOENT: no such function. -ESHUTDOWN: the executor is shutting down. payload is copied. */
int sl_executor_invoke(struct sl_executor *ex, const char *function, const void *payload,
		       size_t len, const struct sl_invoke_options *opts, sl_invoke_cb cb, void *arg);
/* The executor as an invoker (ctx = ex). */
struct sl_invoker sl_executor_invoker(struct sl_executor *ex);
/* Bound of the per-function queue of invocations waiting for a sandbox (default 1000); past it
 * sl_executor_invoke() answers SL_INVOKE_THROTTLED (through the callback, as always). */
void sl_executor_set_queue_limit(struct sl_executor *ex, size_t limit);
/* Graceful stop: refuse new invocations, let running ones finish (each within its deadline),
 * stop every sandbox, then call done(arg) on the loop. */
void sl_executor_shutdown(struct sl_executor *ex, void (*done)(void *arg), void *arg);
/* A function pool's state and counters since start, for /metrics. */
struct sl_function_stats {
	const char *name;
	size_t sandboxes;            /* live sandboxes (counted against max_concurrency) */
	size_t busy;                 /* serving an invocation */
	size_t starting;             /* initialising */
	size_t idle;                 /* warm, waiting for an invocation */
	size_t frozen;               /* idle and frozen (container drivers) */
	size_t stopping;             /* on their way out (not counted in sandboxes) */
	size_t queued;               /* invocations waiting for a sandbox */
	size_t provisioned;          /* live provisioned sandboxes (provisioned_concurrency) */
	uint64_t cold_starts;
	uint64_t invocations[SL_INVOKE_STATUS_COUNT];
};
size_t sl_executor_function_count(const struct sl_executor *ex);
/* Stats of the i-th function (config order), 0 <= i < sl_executor_function_count(). */
void sl_executor_function_stats(const struct sl_executor *ex, size_t i,
				struct sl_function_stats *out);

/* The memory budget (executor_memory_mb) and how much of it the live sandboxes hold (the sum of
 * their functions' memory_mb), in MB. */
void sl_executor_memory(const struct sl_executor *ex, long *budget_mb, long *used_mb);

/* Kill any sandbox still running and free. Callbacks of invocations still pending are not
 * called. Not from inside an invoke callback. NULL is a no-op. */
void sl_executor_free(struct sl_executor *ex);

#endif
