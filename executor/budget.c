/* Executor: limits across functions and provisioned concurrency. See pool.h.
 *
 * Memory budget. Every live sandbox (STOPPING ones too, until their process is reaped) holds its
 * function's memory_mb of the budget (executor_memory_mb; by default 80% of MemTotal). A start
 * that would exceed it does not happen: the invocation stays queued and the pool is marked
 * blocked. To make room, idle sandboxes of other functions (least recently used first, never
 * provisioned ones) are stopped early, but only when that frees enough. A freed sandbox or a
 * finished init wakes the blocked pools (sl_budget_wake, through an event: never re-entrant).
 *
 * Burst limit. At most executor_max_starting sandboxes are initialising at once, all functions
 * together; further starts wait the same way.
 *
 * Fairness. Starts waiting on these global limits are served first come, first served across
 * functions: a pool may not start a sandbox while another blocked pool's oldest invocation has
 * waited longer (unless that one can never fit the budget), and the wake-up pumps the blocked
 * pools oldest waiter first. So a small function arriving later cannot keep taking the room a
 * large one is waiting for.
 *
 * Queue timeout. An invocation waits at most executor_queue_timeout_ms for a sandbox; then it is
 * answered THROTTLED with the reason (concurrency, memory budget, burst limit). The oldest
 * n_starting queued invocations of a pool are covered by sandboxes already initialising (they
 * will get them) and are not timed out.
 *
 * Provisioned concurrency. The pump keeps fn->provisioned_concurrency sandboxes marked
 * provisioned alive: started at executor start (AWS_LAMBDA_INITIALIZATION_TYPE=
 * provisioned-concurrency, init timeout max(130 s, timeout_s, init_timeout_s)), their idle timer
 * cancelled after every pump (so never reaped as idle), and replaced when they die. Replacements
 * back off: the n-th in a row without a provisioned init succeeding in between waits
 * SL_PROV_RETRY_MS * 2^(n-1), at most 64 times that (a runtime whose init keeps failing is not
 * restarted in a tight loop, nor given up on); each function has its own timer for it. Their first REPORT has no Init Duration (the init happened before
 * traffic, as on Lambda).
 */
#include "executor/pool.h"

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SL_QUEUE_TIMEOUT_MS_DEFAULT 10000
#define SL_MAX_STARTING_DEFAULT 8
#define SL_MEM_BUDGET_FALLBACK_MB 4096  /* when /proc/meminfo cannot be read */
#define SL_PROV_INIT_TIMEOUT_S 130      /* lambda-semantics.md §1.11 */
#define SL_PROV_RETRY_MS 1000
#define SL_PROV_BACKOFF_MAX_SHIFT 6     /* replacements wait at most 64 s */

static long ts_ms_until(const struct timespec *t, const struct timespec *now)
{
	return (long)(t->tv_sec - now->tv_sec) * 1000 + (t->tv_nsec - now->tv_nsec) / 1000000;
}

static void ts_add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

static void add_timer_ms(struct event *ev, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static long mem_total_mb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	long mb = kb / 1024 * 8 / 10;
	return mb >= 128 ? mb : SL_MEM_BUDGET_FALLBACK_MB;
}

static long mem_used(const struct sl_executor *ex)
{
	long used = 0;

	for (size_t i = 0; i < ex->n_pools; i++)
		used += (long)ex->pools[i].n_total * ex->pools[i].fn->memory_mb;
	return used;
}

void sl_executor_memory(const struct sl_executor *ex, long *budget_mb, long *used_mb)
{
	*budget_mb = ex->mem_budget_mb;
	*used_mb = mem_used(ex);
}

static size_t starting(const struct sl_executor *ex)
{
	size_t n = 0;

	for (size_t i = 0; i < ex->n_pools; i++)
		n += ex->pools[i].n_starting;
	return n;
}

/* Whether one more sandbox of pool fits the global limits now (no side effects). */
static bool fits(const struct sl_pool *pool)
{
	const struct sl_executor *ex = pool->ex;

	return starting(ex) < ex->max_starting &&
	       mem_used(ex) + pool->fn->memory_mb <= ex->mem_budget_mb;
}

/* What STOPPING sandboxes will free, and what stopping the idle (not provisioned) sandboxes of
 * the other functions could free, in MB. */
static void room(const struct sl_pool *pool, long *freeing, long *reclaimable)
{
	const struct sl_executor *ex = pool->ex;
	const struct sl_sandbox *sb;

	*freeing = *reclaimable = 0;
	for (size_t i = 0; i < ex->n_pools; i++) {
		const struct sl_pool *q = &ex->pools[i];
		TAILQ_FOREACH(sb, &q->sandboxes, link) {
			if (sb->state == SL_SB_STOPPING)
				*freeing += q->fn->memory_mb;
			else if (q != pool && sb->state == SL_SB_IDLE && !sb->provisioned)
				*reclaimable += q->fn->memory_mb;
		}
	}
}

/* Whether stopping idle sandboxes of other functions would make room for one of pool's now
 * (and is needed: what is already stopping is not enough). */
static bool can_make_room(const struct sl_pool *pool)
{
	const struct sl_executor *ex = pool->ex;
	long excess = mem_used(ex) + pool->fn->memory_mb - ex->mem_budget_mb, freeing, reclaimable;

	if (excess <= 0 || pool->fn->memory_mb > ex->mem_budget_mb ||
	    starting(ex) >= ex->max_starting)
		return false;
	room(pool, &freeing, &reclaimable);
	return freeing < excess && freeing + reclaimable >= excess;
}

/* Stop idle sandboxes of other functions (least recently used first) to free `excess` MB,
 * counting what STOPPING sandboxes will free anyway; nothing when that cannot be enough. */
static void make_room(struct sl_pool *pool, long excess)
{
	struct sl_executor *ex = pool->ex;
	long freeing, reclaimable;
	struct sl_sandbox *sb, *prev;

	room(pool, &freeing, &reclaimable);
	if (freeing >= excess || freeing + reclaimable < excess)
		return;
	for (size_t i = 0; i < ex->n_pools && freeing < excess; i++) {
		struct sl_pool *q = &ex->pools[i];
		if (q == pool)
			continue;
		for (sb = TAILQ_LAST(&q->idle, sl_sandbox_list); sb && freeing < excess; sb = prev) {
			prev = TAILQ_PREV(sb, sl_sandbox_list, idle_link);
			if (sb->provisioned || sb->in_cb)
				continue;
			sl_info(q->tag, "stopping idle sandbox %s early: function %s needs %d MB of "
				"the memory budget", sb->label, pool->fn->name, pool->fn->memory_mb);
			freeing += q->fn->memory_mb;
			sl_sandbox_stop(sb);
		}
	}
}

/* Since when pool's oldest queued invocation has waited, or NULL when none does. */
static const struct timespec *queued_since(const struct sl_pool *pool)
{
	const struct sl_invocation *inv = TAILQ_FIRST(&pool->queue);

	return inv ? &inv->t_queued : NULL;
}

/* Whether pool a's oldest waiter came before b's (a pool with none comes last). */
static bool waited_longer(const struct sl_pool *a, const struct sl_pool *b)
{
	const struct timespec *ta = queued_since(a), *tb = queued_since(b);

	if (!ta || !tb)
		return ta != NULL;
	return ta->tv_sec != tb->tv_sec ? ta->tv_sec < tb->tv_sec : ta->tv_nsec < tb->tv_nsec;
}

/* FIFO across functions: another pool waits for a start under the global limits, has waited
 * longer, and can ever fit; it goes first. */
static bool waits_behind(const struct sl_pool *pool)
{
	const struct sl_executor *ex = pool->ex;

	for (size_t i = 0; i < ex->n_pools; i++) {
		const struct sl_pool *q = &ex->pools[i];
		if (q != pool && q->blocked && q->n_queued > q->n_starting &&
		    q->n_active < (size_t)q->fn->max_concurrency &&
		    q->fn->memory_mb <= ex->mem_budget_mb && waited_longer(q, pool))
			return true;
	}
	return false;
}

/* Whether a pump of the blocked pool would start a sandbox (or make room for one) now. */
static bool could_start(const struct sl_pool *pool)
{
	return (fits(pool) || can_make_room(pool)) && !waits_behind(pool);
}

bool sl_budget_can_start(struct sl_pool *pool)
{
	struct sl_executor *ex = pool->ex;

	if (starting(ex) >= ex->max_starting || waits_behind(pool)) {
		pool->blocked = true;
		return false;
	}
	long excess = mem_used(ex) + pool->fn->memory_mb - ex->mem_budget_mb;
	if (excess > 0) {
		if (pool->fn->memory_mb <= ex->mem_budget_mb)
			make_room(pool, excess);
		pool->blocked = true;
		return false;
	}
	return true;
}

int sl_budget_init_timeout_s(const struct sl_executor *ex, const struct sl_function_config *fn)
{
	int s = fn->init_timeout_s;

	if (!ex->start_provisioned)
		return s;
	if (s < SL_PROV_INIT_TIMEOUT_S)
		s = SL_PROV_INIT_TIMEOUT_S;
	return s > fn->timeout_s ? s : fn->timeout_s;
}

int sl_budget_start(struct sl_pool *pool, bool provisioned, const char **error_type, char *msg,
		    size_t msglen)
{
	struct sl_executor *ex = pool->ex;

	ex->start_provisioned = provisioned;
	int rc = sl_sandbox_start(pool, error_type, msg, msglen);
	int init_s = sl_budget_init_timeout_s(ex, pool->fn);
	ex->start_provisioned = false;
	if (rc != 0)
		return rc;
	struct sl_sandbox *sb = TAILQ_LAST(&pool->sandboxes, sl_sandbox_list);
	sl_debug(pool->tag, "starting sandbox %s (%s; %zu initialising, %ld of %ld MB in use)",
		 sb->label, provisioned ? "provisioned" : "on demand", starting(ex),
		 mem_used(ex), ex->mem_budget_mb);
	if (provisioned) {
		sb->provisioned = true;
		sb->init_reported = true;   /* init before traffic: no Init Duration in REPORT */
		add_timer_ms(sb->timer, (long)(init_s + SL_SANDBOX_INIT_GRACE_S) * 1000);
	}
	return 0;
}

size_t sl_budget_provisioned(const struct sl_pool *pool)
{
	const struct sl_sandbox *sb;
	size_t n = 0;

	TAILQ_FOREACH(sb, &pool->sandboxes, link)
		n += sb->provisioned && sb->state != SL_SB_STOPPING;
	return n;
}

void sl_budget_provision(struct sl_pool *pool)
{
	struct sl_executor *ex = pool->ex;
	size_t want = (size_t)pool->fn->provisioned_concurrency;
	size_t have = sl_budget_provisioned(pool);
	struct timespec now;

	if (ex->shutting_down || have >= want)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	while (have < want && pool->n_active < (size_t)pool->fn->max_concurrency) {
		if (pool->prov_filled) {
			long wait = ts_ms_until(&pool->prov_retry_at, &now);
			if (wait > 0) {
				if (!evtimer_pending(pool->prov_ev, NULL))
					add_timer_ms(pool->prov_ev, wait);
				return;
			}
			unsigned shift = pool->prov_replacements < SL_PROV_BACKOFF_MAX_SHIFT ?
					 pool->prov_replacements : SL_PROV_BACKOFF_MAX_SHIFT;
			pool->prov_replacements++;
			pool->prov_retry_at = now;
			ts_add_ms(&pool->prov_retry_at, (long)SL_PROV_RETRY_MS << shift);
		}
		if (!sl_budget_can_start(pool))
			return;
		const char *error_type;
		char msg[512];
		if (sl_budget_start(pool, true, &error_type, msg, sizeof(msg)) != 0) {
			sl_error(pool->tag, "cannot start a provisioned sandbox: %s", msg);
			pool->prov_filled = true;
			return;
		}
		have++;
	}
	if (have >= want)
		pool->prov_filled = true;
}

void sl_budget_keep_warm(struct sl_pool *pool)
{
	struct sl_sandbox *sb;

	TAILQ_FOREACH(sb, &pool->idle, idle_link)
		if (sb->provisioned && evtimer_pending(sb->timer, NULL))
			evtimer_del(sb->timer);
}

void sl_budget_reason(const struct sl_pool *pool, char *buf, size_t len)
{
	const struct sl_executor *ex = pool->ex;
	size_t n = starting(ex);

	if (pool->n_active >= (size_t)pool->fn->max_concurrency)
		snprintf(buf, len, "Rate Exceeded. All %d sandboxes of the function are busy "
			 "(max_concurrency) after a wait of %ld ms.", pool->fn->max_concurrency,
			 ex->queue_timeout_ms);
	else if (mem_used(ex) + pool->fn->memory_mb > ex->mem_budget_mb)
		snprintf(buf, len, "Rate Exceeded. Memory budget of %ld MB in use (%ld MB; the "
			 "function needs %d MB) after a wait of %ld ms.", ex->mem_budget_mb,
			 mem_used(ex), pool->fn->memory_mb, ex->queue_timeout_ms);
	else if (n >= ex->max_starting)
		snprintf(buf, len, "Rate Exceeded. %zu sandboxes initialising "
			 "(executor_max_starting) after a wait of %ld ms.", n, ex->queue_timeout_ms);
	else
		snprintf(buf, len, "Rate Exceeded. No sandbox within %ld ms.",
			 ex->queue_timeout_ms);
}

static void throttle(struct sl_pool *pool, struct sl_invocation *inv)
{
	char reason[256];
	json_t *body;

	sl_budget_reason(pool, reason, sizeof(reason));
	TAILQ_REMOVE(&pool->queue, inv, link);
	pool->n_queued--;
	sl_warn(pool->tag, "throttled %s: %s", inv->id, reason);
	body = json_pack("{s:s, s:s}", "errorType", "TooManyRequestsException",
			 "errorMessage", reason);
	char *text = sl_check_alloc(json_dumps(sl_check_alloc(body), JSON_COMPACT |
					       JSON_PRESERVE_ORDER));
	json_decref(body);
	sl_inv_defer(inv, SL_INVOKE_THROTTLED, "TooManyRequestsException", text, strlen(text));
}

/* The first queued invocation of pool not covered by an initialising sandbox, or NULL. */
static struct sl_invocation *first_uncovered(const struct sl_pool *pool)
{
	struct sl_invocation *inv = TAILQ_FIRST(&pool->queue);

	for (size_t i = 0; inv && i < pool->n_starting; i++)
		inv = TAILQ_NEXT(inv, link);
	return inv;
}

static void arm_queue_timer(struct sl_executor *ex)
{
	struct timespec now;
	long next = -1;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < ex->n_pools; i++) {
		struct sl_invocation *inv = first_uncovered(&ex->pools[i]);
		if (!inv)
			continue;
		struct timespec dl = inv->t_queued;
		ts_add_ms(&dl, ex->queue_timeout_ms);
		long ms = ts_ms_until(&dl, &now);
		ms = ms < 0 ? 0 : ms + 1;
		if (next < 0 || ms < next)
			next = ms;
	}
	if (next >= 0)
		add_timer_ms(ex->queue_ev, next);
	else
		evtimer_del(ex->queue_ev);
}

static void queue_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_executor *ex = arg;
	struct timespec now;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < ex->n_pools; i++) {
		struct sl_pool *pool = &ex->pools[i];
		struct sl_invocation *inv;
		bool any = false;
		while ((inv = first_uncovered(pool)) != NULL) {
			struct timespec dl = inv->t_queued;
			ts_add_ms(&dl, ex->queue_timeout_ms);
			if (ts_ms_until(&dl, &now) > 0)
				break;
			throttle(pool, inv);
			any = true;
		}
		if (any)
			sl_pool_pump(pool);
	}
	arm_queue_timer(ex);
}

void sl_budget_queued(struct sl_executor *ex, struct sl_invocation *inv)
{
	clock_gettime(CLOCK_MONOTONIC, &inv->t_queued);
	if (!evtimer_pending(ex->queue_ev, NULL))
		add_timer_ms(ex->queue_ev, ex->queue_timeout_ms + 1);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_executor *ex = arg;

	(void)fd;
	(void)what;
	unsigned round = ++ex->wake_round;

	/* the longest waiting first: each start may take the room the next one wanted */
	for (;;) {
		struct sl_pool *next = NULL;
		for (size_t i = 0; i < ex->n_pools; i++) {
			struct sl_pool *pool = &ex->pools[i];
			if (pool->blocked && pool->woken != round &&
			    (!next || waited_longer(pool, next)))
				next = pool;
		}
		if (!next)
			break;
		next->woken = round;
		if (could_start(next))
			sl_pool_pump(next);
	}
}

void sl_budget_wake(struct sl_executor *ex)
{
	for (size_t i = 0; i < ex->n_pools; i++) {
		const struct sl_pool *pool = &ex->pools[i];
		if (pool->blocked && could_start(pool)) {
			event_active(ex->wake_ev, EV_TIMEOUT, 0);
			break;
		}
	}
	arm_queue_timer(ex);
}

static void prov_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sl_pool_pump(arg);
}

void sl_budget_initialised(struct sl_sandbox *sb)
{
	if (sb->provisioned)
		sb->pool->prov_replacements = 0;
}

void sl_budget_init(struct sl_executor *ex)
{
	const struct sl_config *cfg = ex->cfg;

	ex->mem_budget_mb = cfg->executor_memory_mb > 0 ? cfg->executor_memory_mb : mem_total_mb();
	ex->queue_timeout_ms = cfg->executor_queue_timeout_ms > 0 ? cfg->executor_queue_timeout_ms
								   : SL_QUEUE_TIMEOUT_MS_DEFAULT;
	ex->max_starting = cfg->executor_max_starting > 0 ? (size_t)cfg->executor_max_starting
							  : SL_MAX_STARTING_DEFAULT;
	ex->queue_ev = sl_check_alloc(evtimer_new(ex->base, queue_cb, ex));
	ex->wake_ev = sl_check_alloc(event_new(ex->base, -1, 0, wake_cb, ex));
	for (size_t i = 0; i < ex->n_pools; i++)
		ex->pools[i].prov_ev = sl_check_alloc(evtimer_new(ex->base, prov_cb,
								  &ex->pools[i]));
	sl_info("executor", "memory budget %ld MB, queue timeout %ld ms, at most %zu sandboxes "
		"initialising at once", ex->mem_budget_mb, ex->queue_timeout_ms, ex->max_starting);
}

void sl_budget_free(struct sl_executor *ex)
{
	event_free(ex->queue_ev);
	event_free(ex->wake_ev);
	for (size_t i = 0; i < ex->n_pools; i++)
		event_free(ex->pools[i].prov_ev);
}
