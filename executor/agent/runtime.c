/* sluice-init: the runtime process: launch, output capture, memory, reaping. See agent.h. */
#include "executor/agent/agent.h"

#include "core/log.h"
#include "core/mem.h"
#include "executor/channel.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAG "sluice-init"
#define LOG_LINE_MAX (16 * 1024)       /* longer lines are cut into pieces of this size */
#define LOG_PAUSE_BYTES (4 * 1024 * 1024) /* channel backlog that pauses output capture */
#define RSS_SAMPLE_MS 50.0

static void exec_child(struct sl_agent *a, int out_w, int err_w, int errpipe_w)
{
	sigset_t none;
	int devnull = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (devnull >= 0)
		dup2(devnull, STDIN_FILENO);
	dup2(out_w, STDOUT_FILENO);
	dup2(err_w, STDERR_FILENO);
	execvp(a->argv[0], a->argv);
	int e = errno;
	if (write(errpipe_w, &e, sizeof(e)) < 0) { /* the parent sees EOF and an exit status */ }
	_exit(127);
}

/* "fork/exec /var/task/bootstrap: no such file or directory", as Lambda words it. */
static void report_exec_error(struct sl_agent *a, int err)
{
	char what[128], msg[1024];

	snprintf(what, sizeof(what), "%s", strerror(err));
	if (what[0] >= 'A' && what[0] <= 'Z')  /* Go's wording: "no such file or directory" */
		what[0] = (char)(what[0] - 'A' + 'a');
	snprintf(msg, sizeof(msg), "fork/exec %s: %s", a->argv[0], what);
	json_t *meta = json_pack("{s:s, s:s, s:s, s:f}", "cause", "entrypoint", "error_type",
				 "Runtime.InvalidEntrypoint", "message", msg, "init_ms",
				 sl_agent_ms_since_spawn(a));
	sl_agent_send(a, SL_FRAME_INIT_ERROR, sl_check_alloc(meta), NULL, 0);
	a->state = SL_RT_INIT_ERROR;
}

static void pipe_read_cb(evutil_socket_t fd, short what, void *arg);

static void pipe_open(struct sl_agent *a, struct sl_agent_pipe *p, int fd, const char *stream)
{
	p->fd = fd;
	p->stream = stream;
	p->buf = sl_check_alloc(evbuffer_new());
	evutil_make_socket_nonblocking(fd);
	p->ev = sl_check_alloc(event_new(a->base, fd, EV_READ | EV_PERSIST, pipe_read_cb, a));
	event_add(p->ev, NULL);
}

int sl_agent_runtime_spawn(struct sl_agent *a)
{
	int out[2], err[2], ep[2];

	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &a->t_spawn);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_child(a, out[1], err[1], ep[1]);
	close(out[1]);
	close(err[1]);
	close(ep[1]);
	a->pid = pid;
	pipe_open(a, &a->out, out[0], "stdout");
	pipe_open(a, &a->err, err[0], "stderr");

	int e = 0;
	ssize_t n;
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		report_exec_error(a, e);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	a->status_fd = open(path, O_RDONLY | O_CLOEXEC);
	return 0;
}

void sl_agent_runtime_kill(struct sl_agent *a)
{
	if (a->pid > 0) {
		a->rss_sampled_ms = -RSS_SAMPLE_MS;   /* a last, fresh sample */
		sl_agent_runtime_rss_kb(a);
		killpg(a->pid, SIGKILL);
		kill(a->pid, SIGKILL);
	}
}

long sl_agent_runtime_rss_kb(struct sl_agent *a)
{
	char buf[4096];
	double now = sl_agent_ms_since_spawn(a);

	/* /proc/<pid>/status is costly to generate: sample at most every RSS_SAMPLE_MS (the peak
	 * only grows, so a late sample still sees it) */
	if (a->status_fd < 0 || (a->max_rss_kb > 0 && now - a->rss_sampled_ms < RSS_SAMPLE_MS))
		return a->max_rss_kb;
	a->rss_sampled_ms = now;
	ssize_t n = pread(a->status_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return a->max_rss_kb;
	buf[n] = '\0';
	const char *p = strstr(buf, "VmHWM:");
	if (p) {
		long kb = strtol(p + 6, NULL, 10);
		if (kb > a->max_rss_kb)
			a->max_rss_kb = kb;
	}
	return a->max_rss_kb;
}

double sl_agent_ms_since_spawn(const struct sl_agent *a)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - a->t_spawn.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - a->t_spawn.tv_nsec) / 1e6;
}

/* Output capture. */

static void send_line(struct sl_agent *a, struct sl_agent_pipe *p, size_t len, size_t skip)
{
	const char *line = (const char *)evbuffer_pullup(p->buf, (ssize_t)(len + skip));
	json_t *meta = sl_check_alloc(json_pack("{s:s}", "stream", p->stream));

	if (len > 0 && line[len - 1] == '\r')
		len--;
	sl_agent_send(a, SL_FRAME_LOG, meta, line, len);
	evbuffer_drain(p->buf, len + skip);
}

static void send_lines(struct sl_agent *a, struct sl_agent_pipe *p, bool eof)
{
	for (;;) {
		struct evbuffer_ptr eol = evbuffer_search_eol(p->buf, NULL, NULL, EVBUFFER_EOL_LF);
		size_t have = evbuffer_get_length(p->buf);
		if (eol.pos >= 0 && (size_t)eol.pos <= LOG_LINE_MAX)
			send_line(a, p, (size_t)eol.pos, 1);
		else if (have >= LOG_LINE_MAX || (eof && have > 0))
			send_line(a, p, have < LOG_LINE_MAX ? have : LOG_LINE_MAX, 0);
		else
			return;
	}
}

static void pipe_close(struct sl_agent_pipe *p)
{
	if (p->fd < 0)
		return;
	event_free(p->ev);
	p->ev = NULL;
	close(p->fd);
	p->fd = -1;
}

/* Read what the pipe holds now; returns false at EOF. */
static bool pipe_drain(struct sl_agent *a, struct sl_agent_pipe *p)
{
	for (;;) {
		int n = evbuffer_read(p->buf, p->fd, 65536);
		if (n > 0) {
			send_lines(a, p, false);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		send_lines(a, p, true);
		return false;
	}
}

static void pause_if_backlogged(struct sl_agent *a)
{
	if (!a->chan || a->logs_paused)
		return;
	if (evbuffer_get_length(bufferevent_get_output(a->chan)) < LOG_PAUSE_BYTES)
		return;
	a->logs_paused = true;
	if (a->out.fd >= 0)
		event_del(a->out.ev);
	if (a->err.fd >= 0)
		event_del(a->err.ev);
}

static void pipe_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_agent *a = arg;
	struct sl_agent_pipe *p = fd == a->out.fd ? &a->out : &a->err;

	(void)what;
	if (!pipe_drain(a, p))
		pipe_close(p);
	pause_if_backlogged(a);
	sl_agent_maybe_exit(a);
}

void sl_agent_logs_resume(struct sl_agent *a)
{
	if (!a->logs_paused)
		return;
	a->logs_paused = false;
	if (a->out.fd >= 0)
		event_add(a->out.ev, NULL);
	if (a->err.fd >= 0)
		event_add(a->err.ev, NULL);
}

/* Forward what the runtime wrote before it answered, so its lines precede END. One poll(2)
 * tells which pipe has anything, so an answer usually costs one system call here. */
void sl_agent_logs_flush(struct sl_agent *a)
{
	struct pollfd pfd[2] = { { .fd = a->out.fd, .events = POLLIN },
				 { .fd = a->err.fd, .events = POLLIN } };
	struct sl_agent_pipe *pipes[2] = { &a->out, &a->err };

	if (poll(pfd, 2, 0) <= 0)
		return;
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0 && pfd[i].revents && !pipe_drain(a, pipes[i]))
			pipe_close(pipes[i]);
}

/* Reaping. */

static void exit_reason(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		snprintf(buf, len, "signal: killed");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal: %s", strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "unknown status %d", status);
	for (char *p = buf; *p; p++)   /* Go's wording: "signal: segmentation fault" */
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

/* "Runtime exited with error: exit status 1", or Lambda's wording for a clean exit. */
static void exit_message(int status, const char *reason, char *buf, size_t len)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		snprintf(buf, len, "Runtime exited without providing a reason");
	else
		snprintf(buf, len, "Runtime exited with error: %s", reason);
}

static void runtime_exited(struct sl_agent *a, int status, const struct rusage *ru)
{
	char reason[128], msg[256];

	a->rss_sampled_ms = -RSS_SAMPLE_MS;
	sl_agent_runtime_rss_kb(a);
	if (a->max_rss_kb == 0)   /* never sampled; ru_maxrss also counts the pre-exec copy of us */
		a->max_rss_kb = ru->ru_maxrss;
	a->pid = 0;
	if (a->status_fd >= 0)
		close(a->status_fd);
	a->status_fd = -1;
	sl_agent_logs_flush(a);
	exit_reason(status, reason, sizeof(reason));
	exit_message(status, reason, msg, sizeof(msg));
	if (a->state == SL_RT_STARTED) {
		json_t *meta = json_pack("{s:s, s:s, s:s, s:f}", "cause", "exit", "error_type",
					 "Runtime.ExitError", "message", msg, "init_ms",
					 sl_agent_ms_since_spawn(a));
		sl_agent_send(a, SL_FRAME_INIT_ERROR, sl_check_alloc(meta), NULL, 0);
	} else if (a->inv_active) {
		sl_agent_fail_invocation_msg(a, "exit", "Runtime.ExitError", msg);
	}
	a->state = SL_RT_GONE;
	sl_agent_send(a, SL_FRAME_EXIT,
		      sl_check_alloc(json_pack("{s:s}", "reason", reason)), NULL, 0);
	a->exit_sent = true;
	a->exiting = true;
}

void sl_agent_on_sigchld(struct sl_agent *a)
{
	struct rusage ru;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		if (pid != a->pid)
			continue;   /* an orphaned grandchild: reaped, nothing else to do */
		killpg(pid, SIGKILL); /* the rest of the runtime's group goes with it */
		runtime_exited(a, status, &ru);
	}
	sl_agent_maybe_exit(a);
}
