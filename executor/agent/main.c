/* sluice-init: the sandbox agent. See agent.h for the model.
 *
 * Usage:
 *   sluice-init (--channel-fd N | --channel-path PATH) [--port P] [--init-timeout-ms MS]
 *               -- RUNTIME-ARGV...
 *
 *   --channel-fd N        the unix stream socket to the executor (executor/channel.h)
 *   --channel-path PATH   or: connect to the executor's unix socket at PATH (a container that
 *                         cannot inherit a descriptor: the docker driver bind-mounts it)
 *   --port P              Runtime API port on 127.0.0.1; 0 (default) picks a free one
 *   --init-timeout-ms MS  time the runtime has to call /next for the first time (default 10000)
 *   RUNTIME-ARGV          the runtime's command line, run with execvp from the current directory
 *
 * The runtime inherits the agent's environment plus AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>:
 * the executor decides every other variable when it starts the agent. Exit status: 0 after a
 * normal stop, 2 on a usage error, 1 when the sandbox could not be set up.
 */
#include "executor/agent/agent.h"

#include "core/loop.h"
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAG "sluice-init"

static int usage(void)
{
	fprintf(stderr, "usage: sluice-init (--channel-fd N | --channel-path PATH) [--port P] "
		"[--init-timeout-ms MS] -- RUNTIME-ARGV...\n");
	return 2;
}

static bool parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (!s || errno || end == s || *end || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

/* A connected socket to the unix socket at path, or -errno. */
static int connect_channel(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Fills a from argv; returns false on a usage error. */
static bool parse_args(struct sl_agent *a, int argc, char **argv, int *chan_fd,
		       const char **chan_path)
{
	*chan_fd = -1;
	*chan_path = NULL;
	for (int i = 1; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(opt, "--") == 0) {
			a->argv = argv + i + 1;
			return (*chan_fd >= 0) != (*chan_path != NULL) && i + 1 < argc;
		}
		if (strcmp(opt, "--channel-path") == 0 && val) {
			*chan_path = val;
			continue;
		}
		bool ok = strcmp(opt, "--channel-fd") == 0 ? parse_int(val, 0, 1 << 20, chan_fd)
			: strcmp(opt, "--port") == 0 ? parse_int(val, 0, 65535, &a->port)
			: strcmp(opt, "--init-timeout-ms") == 0
			? parse_int(val, 1, 3600 * 1000, &a->init_timeout_ms) : false;
		if (!ok)
			return false;
	}
	return false;
}

static void init_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_agent *a = arg;
	char msg[128];

	(void)fd;
	(void)what;
	if (a->state != SL_RT_STARTED)
		return;
	sl_agent_logs_flush(a);
	sl_agent_runtime_kill(a);
	snprintf(msg, sizeof(msg), "Init phase timed out after %.2f seconds",
		 (double)a->init_timeout_ms / 1000.0);
	json_t *meta = json_pack("{s:s, s:s, s:s, s:f}", "cause", "timeout", "error_type",
				 "Sandbox.Timedout", "message", msg, "init_ms",
				 sl_agent_ms_since_spawn(a));
	sl_agent_send(a, SL_FRAME_INIT_ERROR, sl_check_alloc(meta), NULL, 0);
	a->state = SL_RT_INIT_ERROR;
	a->exiting = true;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sl_agent *a = arg;

	(void)what;
	if (sig == SIGCHLD) {
		sl_agent_on_sigchld(a);
		return;
	}
	sl_agent_runtime_kill(a);
	a->exiting = true;
	sl_agent_maybe_exit(a);
}

static int setup(struct sl_agent *a, int chan_fd)
{
	char api[32];
	int rc;

	a->base = sl_loop_new();
	a->sig_chld = sl_check_alloc(evsignal_new(a->base, SIGCHLD, signal_cb, a));
	a->sig_term = sl_check_alloc(evsignal_new(a->base, SIGTERM, signal_cb, a));
	a->sig_int = sl_check_alloc(evsignal_new(a->base, SIGINT, signal_cb, a));
	a->init_timer = sl_check_alloc(evtimer_new(a->base, init_timeout_cb, a));
	event_add(a->sig_chld, NULL);
	event_add(a->sig_term, NULL);
	event_add(a->sig_int, NULL);
	if ((rc = sl_agent_link_open(a, chan_fd)) != 0 || (rc = sl_agent_rapi_start(a)) != 0)
		return rc;
	snprintf(api, sizeof(api), "127.0.0.1:%d", a->port);
	setenv("AWS_LAMBDA_RUNTIME_API", api, 1);
	struct timeval tv = { .tv_sec = a->init_timeout_ms / 1000,
			      .tv_usec = (a->init_timeout_ms % 1000) * 1000 };
	evtimer_add(a->init_timer, &tv);
	return sl_agent_runtime_spawn(a);
}

static void teardown(struct sl_agent *a)
{
	if (a->pid > 0) {
		sl_agent_runtime_kill(a);
		waitpid(a->pid, NULL, 0);
	}
	sl_agent_rapi_stop(a);
	if (a->chan)
		bufferevent_free(a->chan);
	struct sl_agent_pipe *pipes[] = { &a->out, &a->err };
	for (size_t i = 0; i < 2; i++) {
		if (pipes[i]->ev)
			event_free(pipes[i]->ev);
		if (pipes[i]->fd >= 0)
			close(pipes[i]->fd);
		if (pipes[i]->buf)
			evbuffer_free(pipes[i]->buf);
	}
	if (a->status_fd >= 0)
		close(a->status_fd);
	json_decref(a->inv_meta);
	struct event *evs[] = { a->deadline, a->init_timer, a->sig_chld, a->sig_term, a->sig_int };
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	if (a->inv_event)
		evbuffer_free(a->inv_event);
	if (a->base)
		event_base_free(a->base);
}

int main(int argc, char **argv)
{
	struct sl_agent a = { .status_fd = -1, .init_timeout_ms = 10000,
			      .out = { .fd = -1 }, .err = { .fd = -1 } };
	const char *chan_path;
	int chan_fd, rc;

	if (!parse_args(&a, argc, argv, &chan_fd, &chan_path))
		return usage();
	if (chan_path && (chan_fd = connect_channel(chan_path)) < 0) {
		sl_error(TAG, "cannot connect to the executor at %s: %s", chan_path,
			 strerror(-chan_fd));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rc = setup(&a, chan_fd);
	if (rc == 0)
		event_base_dispatch(a.base);
	else
		sl_error(TAG, "cannot start the sandbox: %s", strerror(-rc));
	teardown(&a);
	return rc == 0 ? 0 : 1;
}
