/* sluice-init: the agent that runs as the first process of every sandbox.
 *
 * Model. The agent owns three things on one libevent loop:
 *   - the channel to the executor (executor/channel.h), link.c: INVOKE frames in; INIT_DONE,
 *     INIT_ERROR, RESPONSE, ERROR, LOG and EXIT frames out;
 *   - the Lambda Runtime API 2018-06-01 on 127.0.0.1 (evhttp), rapi.c: GET /next is held until an
 *     invocation arrives, /response and /error answer it, /init/error fails the init;
 *   - the runtime process (the function's bootstrap or command), runtime.c: started in its own
 *     process group with stdout/stderr on pipes (every line becomes a LOG frame), reaped on
 *     SIGCHLD (the agent is a child subreaper, so orphaned grandchildren are reaped too), killed
 *     as a group on timeout, init timeout, init error or when the channel closes.
 *
 * The runtime's state follows the Lambda emulator's names (Started, Ready, Running,
 * RuntimeResponseSentState, InitError); illegal calls get 403 InvalidStateTransition.
 *
 * A sandbox is single-use once something went wrong: after a timeout, an init failure or the
 * runtime's exit, the agent sends EXIT and exits; the executor starts a fresh sandbox. The agent
 * also exits when the executor closes the channel (idle reaping, shutdown).
 */
#ifndef SL_AGENT_H
#define SL_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct bufferevent;
struct event;
struct event_base;
struct evbuffer;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;

enum sl_rt_state {
	SL_RT_STARTED = 0,       /* runtime launched, has not called /next yet */
	SL_RT_READY,             /* waiting in /next */
	SL_RT_RUNNING,           /* an invocation was handed to it */
	SL_RT_RESPONSE_SENT,     /* answered; /next not called yet */
	SL_RT_INIT_ERROR,        /* init failed; the runtime is being killed */
	SL_RT_GONE,              /* killed after a timeout, or exited */
};

struct sl_agent_pipe {
	int fd;                  /* read end, -1 once closed */
	const char *stream;      /* "stdout" | "stderr" */
	struct event *ev;
	struct evbuffer *buf;    /* bytes of an unfinished line */
};

struct sl_agent {
	struct event_base *base;
	struct bufferevent *chan;        /* NULL once the executor closed it */

	struct evhttp *http;
	int port;
	struct evhttp_connection *nodelay_conn; /* last connection TCP_NODELAY was set on */
	struct evhttp_request *parked;   /* held GET /next */
	struct evbuffer *reply;          /* scratch for small reply bodies */
	enum sl_rt_state state;

	char **argv;                     /* runtime argv (borrowed from main's argv) */
	pid_t pid;                       /* runtime, 0 once reaped */
	int status_fd;                   /* /proc/<pid>/status for VmHWM, -1 */
	long max_rss_kb;
	double rss_sampled_ms;           /* when VmHWM was last read (ms since spawn) */
	struct sl_agent_pipe out, err;
	bool logs_paused;
	struct timespec t_spawn;
	int init_timeout_ms;
	struct event *init_timer;
	struct event *sig_chld, *sig_term, *sig_int;

	/* The invocation received from the executor and not answered yet. */
	bool inv_active;
	bool inv_delivered;
	char inv_id[64];
	char last_id[64];                /* last answered request id */
	json_t *inv_meta;
	struct evbuffer *inv_event;
	long long inv_deadline_ms;       /* Unix ms, for Lambda-Runtime-Deadline-Ms */
	long long inv_timeout_ms;
	struct event *deadline;

	bool exiting;                    /* stop once the runtime is reaped and the channel drained */
	bool exit_sent;
};

/* link.c: the executor side. */
int sl_agent_link_open(struct sl_agent *a, int fd);
void sl_agent_send(struct sl_agent *a, int type, json_t *meta_stolen, const void *payload,
		   size_t len);
void sl_agent_send_buffer(struct sl_agent *a, int type, json_t *meta_stolen,
			  struct evbuffer *payload);
/* Answer the current invocation with an ERROR frame and forget it. */
void sl_agent_fail_invocation(struct sl_agent *a, const char *cause, const char *error_type,
			      const char *payload, size_t len);
/* Same with the payload {"errorType":T,"errorMessage":"RequestId: <id> Error: <msg>"}. */
void sl_agent_fail_invocation_msg(struct sl_agent *a, const char *cause, const char *error_type,
				  const char *msg);
/* Forget the current invocation once it was answered. */
void sl_agent_end_invocation(struct sl_agent *a);
/* Stop when possible: the runtime reaped and the channel drained. */
void sl_agent_maybe_exit(struct sl_agent *a);

/* rapi.c: the Runtime API server. */
int sl_agent_rapi_start(struct sl_agent *a);
/* Hand the pending invocation to a held /next, if both exist. */
void sl_agent_rapi_deliver(struct sl_agent *a);
void sl_agent_rapi_stop(struct sl_agent *a);

/* runtime.c: the runtime process. */
int sl_agent_runtime_spawn(struct sl_agent *a);
void sl_agent_runtime_kill(struct sl_agent *a);
void sl_agent_logs_flush(struct sl_agent *a);
void sl_agent_logs_resume(struct sl_agent *a);
/* Refresh and return the runtime's peak RSS in kB. */
long sl_agent_runtime_rss_kb(struct sl_agent *a);
void sl_agent_on_sigchld(struct sl_agent *a);
/* Milliseconds since the runtime was started. */
double sl_agent_ms_since_spawn(const struct sl_agent *a);

#endif
