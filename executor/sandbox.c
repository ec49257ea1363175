/* Executor: one sandbox, its channel and its lifecycle. See pool.h for the model.
 *
 * Frames from the agent drive the state: INIT_DONE makes a STARTING sandbox IDLE; RESPONSE and
 * ERROR end the invocation of a BUSY one (an ERROR caused by a timeout or the runtime's exit
 * also dooms it: it goes STOPPING and a fresh sandbox takes the next invocation); INIT_ERROR
 * fails the oldest waiting invocation (each waiting invocation gets one init attempt, as on
 * Lambda); LOG lines are logged under the function's tag; EXIT or a closed channel stops it.
 * One timer per sandbox backs each state up: init timeout + 5 s, idle timeout, invocation
 * deadline + 2 s (the agent is killed and the invocation answered as timed out), stop grace.
 */
#include "executor/pool.h"

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "executor/channel.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The kernel send buffer of the daemon's end of a channel (SO_SNDBUF). */
#define CHANNEL_SNDBUF (2 << 20)

static void arm_timer(struct sl_sandbox *sb, int seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };

	evtimer_add(sb->timer, &tv);
}

bool sl_sandbox_in_container(const struct sl_sandbox *sb)
{
	return sb->oci_id || sb->docker;
}

/* SIGKILL the agent, and the runtime's process group: a runtime's own children do not get the
 * agent's death signal. A container is killed through its driver (its runtime_pid is a pid in
 * the container's namespace, and killing runc would orphan the container). */
static void kill_sandbox(struct sl_sandbox *sb)
{
	if (sb->reaped)
		return;
	if (sl_sandbox_in_container(sb)) {
		sl_oci_thaw(sb);   /* a frozen container dies only once thawed */
		if (sb->docker)
			sl_docker_kill(sb);
		else
			sl_oci_kill(sb);
		return;
	}
	if (sb->runtime_pid > 0)
		killpg(sb->runtime_pid, SIGKILL);
	kill(sb->pid, SIGKILL);
}

static void close_channel(struct sl_sandbox *sb)
{
	if (!sb->chan)
		return;
	if (sb->in_cb) {
		sb->close_pending = true;
		return;
	}
	bufferevent_free(sb->chan);
	sb->chan = NULL;
}

/* Wait for a killed agent; runc gets SL_SANDBOX_STOP_GRACE_S to see its container die. */
static void wait_agent(struct sl_sandbox *sb)
{
	for (int i = 0; sb->oci_id && i < SL_SANDBOX_STOP_GRACE_S * 100; i++) {
		pid_t r = waitpid(sb->pid, NULL, WNOHANG);
		if (r == sb->pid || (r < 0 && errno != EINTR))
			return;
		usleep(10000);
	}
	if (sb->oci_id)
		kill(sb->pid, SIGKILL);
	waitpid(sb->pid, NULL, 0);
}

void sl_sandbox_destroy(struct sl_sandbox *sb)
{
	struct sl_pool *pool = sb->pool;

	if (sb->chan)
		bufferevent_free(sb->chan);
	sl_chan_unlisten(sb);
	if (!sb->reaped && sb->pid > 0) {
		kill_sandbox(sb);
		wait_agent(sb);
	}
	sl_oci_thaw(sb);   /* a docker container is deleted (killed) by the engine: thaw first */
	sl_docker_destroy(sb);
	sl_oci_cleanup(sb);
	event_free(sb->timer);
	if (sb->freeze_ev)
		event_free(sb->freeze_ev);
	TAILQ_REMOVE(&pool->sandboxes, sb, link);
	pool->n_total--;
	free(sb);
}

/* Free a STOPPING sandbox whose channel is closed and whose agent is reaped. */
static bool maybe_free(struct sl_sandbox *sb)
{
	if (sb->in_cb || sb->state != SL_SB_STOPPING || sb->chan || !sb->reaped)
		return false;
	struct sl_executor *ex = sb->pool->ex;
	sl_sandbox_destroy(sb);
	sl_executor_check_done(ex);
	return true;
}

/* Leave the active set: no new work; the agent is told to go by closing the channel. */
static void retire(struct sl_sandbox *sb)
{
	struct sl_pool *pool = sb->pool;

	if (sb->state == SL_SB_STOPPING)
		return;
	if (sb->state == SL_SB_IDLE) {
		TAILQ_REMOVE(&pool->idle, sb, idle_link);
		if (sb->freeze_ev)
			event_del(sb->freeze_ev);
		sl_oci_thaw(sb);   /* so that it sees its channel close */
	}
	if (sb->state == SL_SB_STARTING)
		pool->n_starting--;
	pool->n_active--;
	sb->state = SL_SB_STOPPING;
	arm_timer(sb, SL_SANDBOX_STOP_GRACE_S);
}

void sl_sandbox_stop(struct sl_sandbox *sb)
{
	retire(sb);
	close_channel(sb);
	maybe_free(sb);
}

static void become_idle(struct sl_sandbox *sb)
{
	struct sl_pool *pool = sb->pool;

	sb->state = SL_SB_IDLE;
	sb->inv = NULL;
	TAILQ_INSERT_HEAD(&pool->idle, sb, idle_link);
	arm_timer(sb, pool->ex->cfg->idle_timeout_s);
	if (sb->freeze_ev)   /* after this turn: the pump may hand it work at once */
		event_active(sb->freeze_ev, EV_TIMEOUT, 0);
}

static void freeze_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_sandbox *sb = arg;

	(void)fd;
	(void)what;
	if (sb->state == SL_SB_IDLE)
		sl_oci_freeze(sb);
}

/* End the BUSY sandbox's invocation: log END/REPORT, deliver, and free it. */
static void end_invocation(struct sl_sandbox *sb, enum sl_invoke_status status,
			   const char *error_type, const char *payload, size_t len,
			   const char *content_type, long rss_kb, bool doomed)
{
	struct sl_invocation *inv = sb->inv;
	double duration = sl_ms_since(&inv->t_start);

	sl_log_failure(sb->pool, inv, status, payload, len);
	sl_log_report(sb->pool, inv, duration, sb->init_reported ? -1 : sb->init_ms, rss_kb, status,
		      error_type);
	sb->init_reported = true;
	sb->inv = NULL;
	if (doomed)
		retire(sb);
	else
		become_idle(sb);
	sl_inv_finish(inv, status, error_type, payload, len, content_type, duration);
}

void sl_sandbox_dispatch(struct sl_sandbox *sb, struct sl_invocation *inv)
{
	const struct sl_function_config *fn = sb->pool->fn;
	json_t *meta = json_pack("{s:s, s:I, s:s}", "id", inv->id, "timeout_ms",
				 (json_int_t)fn->timeout_s * 1000, "arn", sb->pool->arn);

	if (inv->trace_id)
		json_object_set_new(meta, "trace_id", json_string(inv->trace_id));
	if (inv->client_context)
		json_object_set_new(meta, "client_context", json_string(inv->client_context));
	TAILQ_REMOVE(&sb->pool->idle, sb, idle_link);
	if (sb->freeze_ev)
		event_del(sb->freeze_ev);
	if (sl_oci_thaw(sb) != 0)   /* synchronous: the INVOKE frame goes to a thawed sandbox */
		sl_warn(sb->pool->tag, "sandbox %s: thaw failed", sb->label);
	sb->state = SL_SB_BUSY;
	sb->inv = inv;
	sl_log_start(sb->pool, inv);
	clock_gettime(CLOCK_MONOTONIC, &inv->t_start);
	sl_channel_send(sb->chan, SL_FRAME_INVOKE, sl_check_alloc(meta), inv->payload, inv->len);
	json_decref(meta);
	arm_timer(sb, fn->timeout_s + SL_SANDBOX_DEADLINE_GRACE_S);
}

static enum sl_invoke_status status_of_cause(const char *cause, bool *doomed)
{
	*doomed = false;
	if (cause && strcmp(cause, "timeout") == 0) {
		*doomed = true;
		return SL_INVOKE_TIMEOUT;
	}
	if (cause && strcmp(cause, "exit") == 0) {
		*doomed = true;
		return SL_INVOKE_RUNTIME_EXIT;
	}
	if (cause && strcmp(cause, "too_large") == 0)
		return SL_INVOKE_TOO_LARGE;
	return SL_INVOKE_FUNCTION_ERROR;
}

/* An oci runtime that exited because the memory cgroup's OOM killer struck: Lambda's
 * Runtime.OutOfMemory with the runtime's exit message (RIE's wording; the exact AWS text is
 * unverified), and Max Memory Used at the limit. */
static void end_exit(struct sl_sandbox *sb, const char *error_type, const char *payload,
		     size_t len, const char *content_type, long rss_kb, const char *msg)
{
	long max_kb = rss_kb;
	char *body = NULL;

	if (sl_sandbox_in_container(sb) && sl_oci_oom_killed(sb, &max_kb)) {
		json_t *j = payload ? json_loadb(payload, len, 0, NULL) : NULL;
		const char *m = json_string_value(json_object_get(j, "errorMessage"));
		const char *e = m ? strstr(m, " Error: ") : NULL;
		error_type = "Runtime.OutOfMemory";
		body = sl_error_json(error_type, sb->inv->id, e ? e + 8 : msg, &len);
		json_decref(j);
		payload = body;
		content_type = NULL;
	} else if (!payload) {
		payload = body = sl_error_json(error_type, sb->inv->id, msg, &len);
	}
	end_invocation(sb, SL_INVOKE_RUNTIME_EXIT, error_type, payload, len, content_type, max_kb,
		       true);
	free(body);
}

static void on_answer(struct sl_sandbox *sb, struct sl_frame *f, struct evbuffer *in)
{
	const char *id = sl_meta_str(f, "id");
	bool doomed = false;
	enum sl_invoke_status status = SL_INVOKE_OK;
	const char *error_type = NULL;

	if (sb->state != SL_SB_BUSY || !id || strcmp(id, sb->inv->id) != 0) {
		sl_warn(sb->pool->tag, "sandbox %s: unexpected %s frame", sb->label,
			sl_frame_type_name(f->type));
		return;
	}
	if (f->type == SL_FRAME_ERROR) {
		status = status_of_cause(sl_meta_str(f, "cause"), &doomed);
		error_type = sl_meta_str(f, "error_type");
		if (!error_type)
			error_type = "Runtime.Unknown";
	}
	if (status == SL_INVOKE_RUNTIME_EXIT) {
		end_exit(sb, error_type, sl_frame_payload(in, f), f->payload_len,
			 sl_meta_str(f, "content_type"), (long)sl_meta_int(f, "max_rss_kb", 0),
			 "Runtime exited with error: signal: killed");
		return;
	}
	end_invocation(sb, status, error_type, sl_frame_payload(in, f), f->payload_len,
		       sl_meta_str(f, "content_type"), (long)sl_meta_int(f, "max_rss_kb", 0),
		       doomed);
}

/* The init failed: the oldest waiting invocation gets the error. */
static void fail_init(struct sl_sandbox *sb, const char *cause, const char *error_type,
		      const char *message, const char *body, size_t body_len, double init_ms)
{
	struct sl_pool *pool = sb->pool;
	struct sl_invocation *inv = TAILQ_FIRST(&pool->queue);
	bool timeout = cause && strcmp(cause, "timeout") == 0;
	char *built = NULL;
	long max_kb;

	if (cause && strcmp(cause, "exit") == 0 && sl_sandbox_in_container(sb) &&
	    sl_oci_oom_killed(sb, &max_kb))   /* the memory cgroup's OOM killer ended the init */
		error_type = "Runtime.OutOfMemory";

	retire(sb);
	sl_log_init_report(pool, init_ms, timeout, error_type);
	if (!inv)
		return;
	TAILQ_REMOVE(&pool->queue, inv, link);
	pool->n_queued--;
	if (!(cause && strcmp(cause, "handler") == 0 && body_len > 0))
		body = built = sl_error_json(error_type, inv->id, message ? message : "", &body_len);
	sl_log_start(pool, inv);
	sl_log_report(pool, inv, 0, -1, 0, timeout ? SL_INVOKE_TIMEOUT : SL_INVOKE_INIT_ERROR,
		      error_type);
	sl_inv_finish(inv, SL_INVOKE_INIT_ERROR, error_type, body, body_len, "application/json", 0);
	free(built);
}

static void on_init_error(struct sl_sandbox *sb, struct sl_frame *f, struct evbuffer *in)
{
	const char *type = sl_meta_str(f, "error_type");

	if (sb->state != SL_SB_STARTING)
		return;
	fail_init(sb, sl_meta_str(f, "cause"), type ? type : "Runtime.Unknown",
		  sl_meta_str(f, "message"), sl_frame_payload(in, f), f->payload_len,
		  sl_meta_real(f, "init_ms", 0));
}

/* The agent is gone (EXIT, closed channel, killed): answer what it owed. */
static void on_agent_gone(struct sl_sandbox *sb, const char *reason)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "Runtime exited with error: %s", reason);
	if (sb->state == SL_SB_STARTING) {
		fail_init(sb, "exit", "Runtime.ExitError", msg, NULL, 0, 0);
	} else if (sb->state == SL_SB_BUSY) {
		end_exit(sb, "Runtime.ExitError", NULL, 0, NULL, 0, msg);
	}
	retire(sb);
	close_channel(sb);
}

static void on_frame(struct sl_sandbox *sb, struct sl_frame *f, struct evbuffer *in)
{
	switch (f->type) {
	case SL_FRAME_INIT_DONE:
		if (sb->state != SL_SB_STARTING)
			break;
		sb->pool->n_starting--;
		sb->init_ms = sl_meta_real(f, "init_ms", 0);
		sb->runtime_pid = (pid_t)sl_meta_int(f, "pid", 0);
		sl_budget_initialised(sb);
		become_idle(sb);
		break;
	case SL_FRAME_INIT_ERROR:
		on_init_error(sb, f, in);
		break;
	case SL_FRAME_RESPONSE:
	case SL_FRAME_ERROR:
		on_answer(sb, f, in);
		break;
	case SL_FRAME_LOG:
		sl_inv_log(sb->pool, sb->inv, "%.*s", (int)f->payload_len,
			   sl_frame_payload(in, f));
		break;
	case SL_FRAME_EXIT: {
		const char *reason = sl_meta_str(f, "reason");
		on_agent_gone(sb, reason ? reason : "unknown");
		break;
	}
	default:
		sl_warn(sb->pool->tag, "sandbox %s: unexpected %s frame", sb->label,
			sl_frame_type_name(f->type));
	}
}

/* Runs after every channel callback: deferred close, free, and the pump. */
static void after_cb(struct sl_sandbox *sb)
{
	struct sl_pool *pool = sb->pool;

	if (--sb->in_cb == 0 && sb->close_pending) {
		sb->close_pending = false;
		close_channel(sb);
	}
	maybe_free(sb);
	sl_pool_pump(pool);
}

static void read_frames(struct sl_sandbox *sb, struct evbuffer *in)
{
	struct sl_frame f;
	int rc = 0;

	while (!sb->close_pending && sb->chan && (rc = sl_channel_read(in, &f)) > 0) {
		on_frame(sb, &f, in);
		sl_frame_done(in, &f);
	}
	if (rc < 0) {
		sl_error(sb->pool->tag, "sandbox %s: malformed frame; stopping it", sb->label);
		on_agent_gone(sb, "sandbox protocol error");
	}
}

static void chan_read_cb(struct bufferevent *bev, void *arg)
{
	struct sl_sandbox *sb = arg;

	sb->in_cb++;
	read_frames(sb, bufferevent_get_input(bev));
	after_cb(sb);
}

static void chan_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sl_sandbox *sb = arg;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	sb->in_cb++;
	read_frames(sb, bufferevent_get_input(bev));   /* frames that came with the EOF */
	on_agent_gone(sb, "sandbox agent exited");
	after_cb(sb);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_sandbox *sb = arg;
	struct sl_pool *pool = sb->pool;

	(void)fd;
	(void)what;
	sb->in_cb++;
	switch (sb->state) {
	case SL_SB_IDLE:
		sl_sandbox_stop(sb);
		break;
	case SL_SB_BUSY: {
		char msg[96];
		size_t len;
		snprintf(msg, sizeof(msg), "Task timed out after %.2f seconds",
			 (double)pool->fn->timeout_s);
		char *body = sl_error_json("Sandbox.Timedout", sb->inv->id, msg, &len);
		sl_warn(pool->tag, "sandbox %s missed its deadline; killing it", sb->label);
		kill_sandbox(sb);
		end_invocation(sb, SL_INVOKE_TIMEOUT, "Sandbox.Timedout", body, len, NULL, 0, true);
		free(body);
		close_channel(sb);
		break;
	}
	case SL_SB_STARTING:
		sl_warn(pool->tag, "sandbox %s did not finish its init; killing it", sb->label);
		kill_sandbox(sb);
		fail_init(sb, "timeout", "Sandbox.Timedout", "Init phase timed out", NULL, 0, 0);
		close_channel(sb);
		break;
	case SL_SB_STOPPING:
		kill_sandbox(sb);
		close_channel(sb);
		break;
	}
	after_cb(sb);
}

static int check_code_dir(const struct sl_function_config *fn, char *msg, size_t msglen)
{
	struct stat st;
	char what[128];

	int e = stat(fn->code_dir, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;

	if (e == 0)
		return 0;
	snprintf(what, sizeof(what), "%s", strerror(e));
	if (what[0] >= 'A' && what[0] <= 'Z')   /* Go's wording, as Lambda prints it */
		what[0] = (char)(what[0] - 'A' + 'a');
	snprintf(msg, msglen, "chdir %s: %s", fn->code_dir, what);
	return -e;
}

void sl_sandbox_attach(struct sl_sandbox *sb, int fd)
{
	if (sb->state == SL_SB_STOPPING || sb->attached) {
		close(fd);
		return;
	}
	sb->attached = true;
	evutil_make_socket_nonblocking(fd);
	/* A batch's payload (hundreds of KB at batch_size 1000) then goes to the kernel in one
	 * write instead of its rest being copied into the channel's output buffer and written on
	 * later wake-ups (bench/RESULTS.md, Streams). The kernel caps it at net.core.wmem_max; a
	 * smaller buffer only costs that copy, so the result is not checked. */
	int sndbuf = CHANNEL_SNDBUF;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	sb->chan = sl_check_alloc(bufferevent_socket_new(sb->pool->ex->base, fd,
							 BEV_OPT_CLOSE_ON_FREE));
	bufferevent_setcb(sb->chan, chan_read_cb, NULL, chan_event_cb, sb);
	bufferevent_enable(sb->chan, EV_READ);
}

void sl_sandbox_exited(struct sl_sandbox *sb, const char *reason)
{
	sb->reaped = true;
	sb->in_cb++;
	on_agent_gone(sb, reason ? reason : "sandbox exited");
	after_cb(sb);
}

/* Start the function's driver: the process driver hands the agent its end of a socket pair; a
 * container's agent connects to a socket bound into it (chan_listen.c, sl_sandbox_attach). */
static int start_driver(struct sl_sandbox *sb, char *msg, size_t msglen)
{
	struct sl_pool *pool = sb->pool;
	int sv[2], rc;

	if (pool->fn->sandbox == SL_SANDBOX_DOCKER)
		return sl_docker_start(sb, msg, msglen);
	if (pool->fn->sandbox == SL_SANDBOX_OCI)
		return sl_oci_start(sb, msg, msglen);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rc = -errno;
		snprintf(msg, msglen, "socketpair: %s", strerror(errno));
		return rc;
	}
	if ((rc = sl_spawn_agent(pool->ex, pool->fn, sv[1], &sb->pid)) != 0)
		snprintf(msg, msglen, "fork/exec %s: %s", pool->ex->agent_path, strerror(-rc));
	close(sv[1]);
	if (rc != 0)
		close(sv[0]);
	else
		sl_sandbox_attach(sb, sv[0]);
	return rc;
}

int sl_sandbox_start(struct sl_pool *pool, const char **error_type, char *msg, size_t msglen)
{
	int rc;

	*error_type = "Runtime.InvalidWorkingDir";
	if ((rc = check_code_dir(pool->fn, msg, msglen)) != 0)
		return rc;
	*error_type = "Sandbox.Failure";
	struct sl_sandbox *sb = sl_xcalloc(1, sizeof(*sb));
	sb->pool = pool;
	sb->state = SL_SB_STARTING;
	sb->listen_fd = -1;
	if ((rc = start_driver(sb, msg, msglen)) != 0) {
		free(sb);
		return rc;
	}
	if (sb->oci_id)
		snprintf(sb->label, sizeof(sb->label), "%s", sb->oci_id);
	else if (sb->docker)
		sl_docker_name(sb, sb->label, sizeof(sb->label));
	else
		snprintf(sb->label, sizeof(sb->label), "pid %d", (int)sb->pid);
	sb->timer = sl_check_alloc(evtimer_new(pool->ex->base, timer_cb, sb));
	if (sl_sandbox_in_container(sb))
		sb->freeze_ev = sl_check_alloc(evtimer_new(pool->ex->base, freeze_cb, sb));
	TAILQ_INSERT_TAIL(&pool->sandboxes, sb, link);
	pool->n_total++;
	pool->n_active++;
	pool->n_starting++;
	pool->cold_starts++;
	arm_timer(sb, pool->fn->init_timeout_s + SL_SANDBOX_INIT_GRACE_S);
	return 0;
}

void sl_sandbox_reap_all(struct sl_executor *ex)
{
	for (size_t i = 0; i < ex->n_pools; i++) {
		struct sl_sandbox *sb = TAILQ_FIRST(&ex->pools[i].sandboxes), *next;
		for (; sb; sb = next) {
			next = TAILQ_NEXT(sb, link);
			if (sb->reaped || sb->docker)   /* docker.c tracks its containers */
				continue;
			pid_t r = waitpid(sb->pid, NULL, WNOHANG);
			if (r == sb->pid || (r < 0 && errno == ECHILD)) {
				sb->reaped = true;
				if (!sb->attached && sb->state != SL_SB_STOPPING) {   /* no EOF to wait for */
					sl_sandbox_exited(sb, "the sandbox exited before its agent "
							  "connected");
					continue;
				}
				maybe_free(sb);
			}
		}
	}
}
