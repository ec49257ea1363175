/* Executor internals: pools, sandboxes and invocations (private to the executor/ sources).
 *
 * Model. One sl_pool per configured function holds its sandboxes and its queue of invocations
 * waiting for one. A sandbox is one sluice-init process (the "process" driver, spawn.c: a plain
 * child; the "oci" driver, oci.c: PID 1 of a runc container, tracked through `runc run`; the
 * "docker" driver, docker.c: PID 1 of a container the Docker Engine API runs, tracked through
 * the API) and the channel to it; its state moves STARTING -> IDLE <-> BUSY -> STOPPING, and a STOPPING
 * sandbox is freed once its channel is closed and its process reaped. Sandboxes that are
 * STOPPING do not count against max_concurrency, so a crashed sandbox is replaced at once.
 *
 * The pump (sl_pool_pump) is the one place that matches work to sandboxes: it hands queued
 * invocations to idle sandboxes (most recently used first, to keep the warm ones warm), then
 * starts sandboxes while the queue holds more invocations than sandboxes are starting and the
 * function is under max_concurrency. Every state change ends with a pump.
 *
 * Invocations are one allocation each (struct + payload copy + option strings). Results are
 * delivered by sl_inv_finish(); results decided while the caller is still inside
 * sl_executor_invoke() (throttling, a failed spawn) go through a deferred list and one event.
 *
 * Re-entrancy: callbacks run user code that may invoke again or start a shutdown. A sandbox
 * never frees itself or its channel inside its own channel callback (in_cb / close_pending).
 */
#ifndef SL_EXECUTOR_POOL_H
#define SL_EXECUTOR_POOL_H

#include "executor/executor.h"

#include <jansson.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <time.h>

struct bufferevent;
struct event;
struct sl_docker_orphans;
struct sl_docker_sandbox;
struct sl_function_config;
struct sl_http_client;

#define SL_EXECUTOR_QUEUE_LIMIT 1000   /* waiting invocations per function */
#define SL_SANDBOX_STOP_GRACE_S 2      /* a stopped agent is SIGKILLed after this */
#define SL_SANDBOX_DEADLINE_GRACE_S 2  /* backup timer past the invocation deadline */
#define SL_SANDBOX_INIT_GRACE_S 5      /* backup timer past the init timeout */
#define SL_OCI_TASK_ROOT "/var/task"   /* the code dir inside a container */
#define SL_OCI_AGENT_NAME "sluice"
#define SL_OCI_AGENT_DIR "/opt/" SL_OCI_AGENT_NAME /* the directory of sluice-init inside a
						   * container (below the layers' /opt) */
/* Limits of a container sandbox, the same for oci and docker. */
#define SL_CTR_UID 993                 /* Lambda's function user runs as 993 */
#define SL_CTR_PIDS_LIMIT 1024
#define SL_CTR_NOFILE 1024             /* root here lacks CAP_SYS_RESOURCE: under the hard limit */
#define SL_CTR_CPU_PERIOD_US 100000    /* quota = period * memory_mb / 1769: Lambda's 1 vCPU */
#define SL_CTR_CPU_MB 1769
#define SL_CTR_CPU_MIN_QUOTA_US 1000
#define SL_CTR_CHANNEL_DIR "/run/sluice"   /* container: the bound dir of the channel socket */
#define SL_CTR_CHANNEL SL_CTR_CHANNEL_DIR "/channel.sock"

struct sl_log_tail {
	size_t len;
	char buf[SL_LOG_TAIL_BYTES];
};

struct sl_invocation {
	TAILQ_ENTRY(sl_invocation) link;   /* pool queue or executor deferred list */
	struct sl_pool *pool;
	sl_invoke_cb cb;
	void *arg;
	char id[40];
	const char *trace_id;              /* in this allocation, or NULL */
	const char *client_context;        /* in this allocation, or NULL */
	struct timespec t_start;           /* when it was sent to a sandbox */
	struct sl_log_tail *log_tail;      /* owned; NULL unless the caller asked for it */
	/* a deferred result */
	enum sl_invoke_status d_status;
	const char *d_error_type;          /* static string */
	char *d_payload;                   /* owned */
	size_t d_len;
	size_t len;
	struct timespec t_queued;          /* when it entered the pool queue (budget.c) */
	char payload[];                    /* the event, then the option strings */
};

enum sl_sandbox_state { SL_SB_STARTING, SL_SB_IDLE, SL_SB_BUSY, SL_SB_STOPPING };

struct sl_sandbox {
	TAILQ_ENTRY(sl_sandbox) link;      /* pool->sandboxes */
	TAILQ_ENTRY(sl_sandbox) idle_link; /* pool->idle, while IDLE */
	struct sl_pool *pool;
	enum sl_sandbox_state state;
	pid_t pid;                         /* the agent; oci: `runc run`, which waits for it;
					    * docker: 0 (the engine's child; docker.c tracks it) */
	pid_t runtime_pid;                 /* its runtime (and process group), once known; for
					    * oci a pid in the container's namespace: never used */
	char *oci_id;                      /* oci: runc's container id, else NULL */
	char *bundle;                      /* oci: the bundle dir, removed with the sandbox */
	struct sl_docker_sandbox *docker;  /* docker: the container's state (docker.c), else NULL */
	pid_t cgroup_pid;                  /* docker: host pid of the container's init, whose
					    * cgroups are the container's; 0 until known */
	char label[96];                    /* for logs: "pid N", or the container's name */
	bool reaped;
	struct bufferevent *chan;          /* NULL until attached, and once closed */
	bool attached;                     /* the agent's channel was connected */
	char *chan_sock;                   /* container: the listening channel socket's path, */
	int listen_fd;                     /* its fd and event, until the agent connected */
	struct event *accept_ev;           /* (chan_listen.c) */
	struct event *timer;               /* per state: init backstop, idle, deadline backstop, kill */
	struct sl_invocation *inv;         /* while BUSY */
	double init_ms;
	bool init_reported;                /* Init Duration went into a REPORT line */
	int in_cb;
	bool close_pending;
	bool frozen;                       /* container: frozen (cgroup freezer) while IDLE */
	struct event *freeze_ev;           /* container: freezes an IDLE sandbox after this turn */
	bool provisioned;                  /* kept warm: no idle reaping (budget.c) */
};

TAILQ_HEAD(sl_sandbox_list, sl_sandbox);
TAILQ_HEAD(sl_invocation_list, sl_invocation);

struct sl_pool {
	struct sl_executor *ex;
	const struct sl_function_config *fn;
	char *tag;                         /* "function:<name>" */
	char *arn;
	char *opt_dir;                     /* the function's layers merged (layers.c), or NULL */
	struct sl_sandbox_list sandboxes;  /* every sandbox, STOPPING ones included */
	struct sl_sandbox_list idle;       /* most recently used first */
	struct sl_invocation_list queue;
	size_t n_total, n_active, n_starting, n_queued;
	uint64_t cold_starts;
	uint64_t outcomes[SL_INVOKE_STATUS_COUNT];
	bool blocked;                      /* a start waits for a global limit (budget.c) */
	unsigned woken;                    /* the wake-up round that last pumped it (budget.c) */
	bool prov_filled;                  /* the initial provisioned sandboxes were started */
	struct timespec prov_retry_at;     /* next replacement of a provisioned sandbox */
	unsigned prov_replacements;        /* in a row, without a provisioned init succeeding */
	struct event *prov_ev;             /* delayed replacement of provisioned sandboxes */
};

struct sl_executor {
	struct event_base *base;
	const struct sl_config *cfg;
	char *agent_path;
	char *runc_path;                   /* when some function uses the oci driver */
	bool userns;                       /* oci containers get a user namespace */
	struct sl_http_client *http;       /* when some function uses the docker driver */
	struct sl_docker_orphans *docker_orphans; /* docker.c: containers to delete later */
	pid_t *helpers;                    /* oci: runc commands running in the background */
	size_t n_helpers, cap_helpers;
	enum { SL_ENGINE_UNKNOWN, SL_ENGINE_DOCKER, SL_ENGINE_PODMAN } docker_engine;
	unsigned oci_seq;                  /* numbers container ids */
	char region[64];
	struct sl_pool *pools;
	size_t n_pools;
	size_t queue_limit;
	struct event *sig_chld;
	struct event *defer_ev;
	struct sl_invocation_list deferred;
	bool shutting_down;
	void (*done)(void *arg);
	void *done_arg;
	struct event *done_ev;
	unsigned char rnd[256];
	size_t rnd_used;
	/* global limits (budget.c) */
	long mem_budget_mb;                /* executor_memory_mb, or 80% of MemTotal */
	long queue_timeout_ms;
	size_t max_starting;
	bool start_provisioned;            /* the sandbox being started is a provisioned one */
	struct event *queue_ev;            /* queue timeout */
	struct event *wake_ev;             /* pump pools blocked on a global limit */
	unsigned wake_round;
};

/* executor.c */
void sl_pool_pump(struct sl_pool *pool);
void sl_executor_check_done(struct sl_executor *ex);

/* budget.c: global limits (memory budget, burst limit, queue timeout) and provisioned
 * concurrency. */
void sl_budget_init(struct sl_executor *ex);
void sl_budget_free(struct sl_executor *ex);
/* Whether pool may start one more sandbox under the global limits; else pool->blocked is set
 * (and room may be made by stopping idle sandboxes of other functions). */
bool sl_budget_can_start(struct sl_pool *pool);
/* Start the provisioned sandboxes pool is missing (within every limit). */
void sl_budget_provision(struct sl_pool *pool);
/* Start one sandbox (provisioned or not); 0 or -errno with a reason as sl_sandbox_start. */
int sl_budget_start(struct sl_pool *pool, bool provisioned, const char **error_type, char *msg,
		    size_t msglen);
/* A sandbox finished its init (resets the replacement backoff of provisioned ones). */
void sl_budget_initialised(struct sl_sandbox *sb);
/* Cancel the idle timers of provisioned sandboxes (kept warm). */
void sl_budget_keep_warm(struct sl_pool *pool);
/* An invocation entered the queue of its pool. */
void sl_budget_queued(struct sl_executor *ex, struct sl_invocation *inv);
/* A global resource may have been freed: pump the blocked pools (later, from the loop). */
void sl_budget_wake(struct sl_executor *ex);
/* The caller-facing reason of a throttle for pool ("Rate Exceeded. ..."). */
void sl_budget_reason(const struct sl_pool *pool, char *buf, size_t len);
/* The init timeout in seconds of a sandbox about to start. */
int sl_budget_init_timeout_s(const struct sl_executor *ex, const struct sl_function_config *fn);
size_t sl_budget_provisioned(const struct sl_pool *pool);

/* sandbox.c */
/* Start a sandbox; on failure writes a caller-facing reason. */
int sl_sandbox_start(struct sl_pool *pool, const char **error_type, char *msg, size_t msglen);
void sl_sandbox_dispatch(struct sl_sandbox *sb, struct sl_invocation *inv);
void sl_sandbox_stop(struct sl_sandbox *sb);
/* Reap exited agents (SIGCHLD) and free what is finished. */
void sl_sandbox_reap_all(struct sl_executor *ex);
void sl_sandbox_destroy(struct sl_sandbox *sb);
/* The sandbox runs in a container (oci, docker): killed and frozen through its driver and
 * cgroups, never through its (in-container) pids. */
bool sl_sandbox_in_container(const struct sl_sandbox *sb);
/* The agent connected (fd: our end of the channel, taken over); the sandbox is gone (docker.c
 * when its container was removed, the reaper when runc exited before the agent connected),
 * reason (or NULL) saying why when the sandbox still owed something. sb may be freed by
 * sl_sandbox_exited. */
void sl_sandbox_attach(struct sl_sandbox *sb, int fd);
void sl_sandbox_exited(struct sl_sandbox *sb, const char *reason);

/* spawn.c: the process driver. */
int sl_spawn_agent(struct sl_executor *ex, const struct sl_function_config *fn, int chan_fd,
		   pid_t *pid);
/* The agent's environment and argv (NULL-terminated, owned: sl_strv_free), as the function's
 * sandbox driver runs it (paths inside a container for oci and docker). */
char **sl_agent_env(const struct sl_executor *ex, const struct sl_function_config *fn);
char **sl_agent_argv(const struct sl_executor *ex, const struct sl_function_config *fn);
void sl_strv_free(char **v);
/* A NULL-terminated string vector (or NULL) as a JSON array of strings; new reference. */
json_t *sl_strv_json(const char *const *v);
/* The directory of sluice-init on the host (mounted at SL_OCI_AGENT_DIR); caller frees. */
char *sl_agent_dir(const struct sl_executor *ex);
/* Own process group, no blocked signals, default dispositions. */
int sl_spawn_attrs(posix_spawnattr_t *attr);

/* oci.c: the oci driver (runc). */
/* Find runc in PATH: 0 and *path (owned), or -ENOENT. */
int sl_oci_find_runc(char **path);
/* Write a bundle under <state_dir>/sandboxes/<id>/, listen on its channel/ dir and start
 * `runc run` on it. On success sb->pid is runc's and sb->oci_id, sb->bundle are set; on failure
 * msg says why and nothing is left behind. */
int sl_oci_start(struct sl_sandbox *sb, char *msg, size_t msglen);
/* The CFS quota per SL_CTR_CPU_PERIOD_US of a container with memory_mb (at least the minimum). */
long sl_ctr_cpu_quota_us(int memory_mb);
/* Whether oci containers can get a user namespace: the host allows one (a forked probe), and
 * its root, an "other" user to the host, can reach the state dir, the agent, and each oci
 * function's code and layers; else why says what is in the way. */
bool sl_oci_userns_usable(const struct sl_executor *ex, char *why, size_t whylen);
/* `runc kill ID KILL` in the background (neither the command nor the container is waited for). */
void sl_oci_kill(const struct sl_sandbox *sb);
/* After `runc run` was reaped: `runc delete --force ID` in the background, remove the bundle,
 * free the names. */
void sl_oci_cleanup(struct sl_sandbox *sb);
/* Run `runc ARGS...` with every stdio on /dev/null and wait for it (killed after 5 s); its exit
 * status or -errno. */
int sl_oci_runc(const char *runc, char *const args[]);

/* chan_listen.c: listen on DIR/channel.sock (DIR is bound at SL_CTR_CHANNEL_DIR); the first
 * connection is attached as sb's channel. 0 or -errno. Unlisten: close and remove the socket
 * (no-op when not listening). */
int sl_chan_listen(struct sl_sandbox *sb, const char *dir);
void sl_chan_unlisten(struct sl_sandbox *sb);

/* docker.c: the docker driver (Docker Engine API over its unix socket, asynchronous). */
/* Start creating the container; the rest happens from the loop (sl_sandbox_attach once its
 * agent connects, sl_sandbox_exited once it is gone). 0, or -errno with msg. */
int sl_docker_start(struct sl_sandbox *sb, char *msg, size_t msglen);
/* Try once more (blocking) to delete the containers whose delete the engine did not answer,
 * and forget them; the dirs of those still undeleted stay for the next daemon (shutdown). */
void sl_docker_free_orphans(struct sl_executor *ex);
/* The container's name (for logs). */
void sl_docker_name(const struct sl_sandbox *sb, char *buf, size_t len);
/* Kill the container (asynchronous; it is removed once it exited). */
void sl_docker_kill(struct sl_sandbox *sb);
/* Synchronously remove the container if it is not yet gone, then free the docker state and its
 * dir (shutdown and free paths). */
void sl_docker_destroy(struct sl_sandbox *sb);
/* Blocking: force-remove container name (a sandbox's, or one an earlier daemon left); a
 * failure other than "no such container" is logged under tag. */
void sl_docker_remove(const struct sl_executor *ex, const char *tag, const char *name);
/* Which engine answers (ex->docker_engine) and whether it has each docker function's image;
 * logs a warning per problem (the daemon still starts: the engine may come later, and the first
 * sandbox start then asks it asynchronously). Blocking: start-up only. */
void sl_docker_check(struct sl_executor *ex);

/* layers.c: merge the function's layers into <state_dir>/layers/<function>/ (*out_dir, owned),
 * the directory container sandboxes bind at /opt; 0, or -errno with msg. */
int sl_layers_merge(const struct sl_executor *ex, const struct sl_function_config *fn,
		    char **out_dir, char *msg, size_t msglen);

/* seccomp.c: the seccomp profile of container sandboxes (OCI's linux.seccomp, also Docker's
 * profile format); a new reference. */
json_t *sl_seccomp_profile(void);

/* Reap the finished background runc commands; block: wait for all (each at most 5 s). */
void sl_oci_reap_helpers(struct sl_executor *ex, bool block);

/* oci_cgroup.c: a container's cgroups (v1) and the freezer (oci and docker). */
/* Read FILE of the container's cgroup for controller ctrl (NUL-terminated); 0 or -errno. */
int sl_oci_cgroup_read(const struct sl_sandbox *sb, const char *ctrl, const char *file,
		       char *buf, size_t len);
/* Whether the memory cgroup's OOM killer killed a process of the container (oom_kill > 0);
 * if so *max_kb is its memory.max_usage_in_bytes in KiB. */
bool sl_oci_oom_killed(const struct sl_sandbox *sb, long *max_kb);
/* Freeze the container (sets sb->frozen) / thaw it if frozen (clears it; 0 or -errno), as
 * runc pause / resume do: through its freezer.state. */
void sl_oci_freeze(struct sl_sandbox *sb);
int sl_oci_thaw(struct sl_sandbox *sb);

/* report.c: ids, results and Lambda's log lines. */
void sl_new_request_id(struct sl_executor *ex, char out[40]);
/* Log one line of an invocation under the function's tag; also keep it in the invocation's log
 * tail when it has one. inv may be NULL (lines outside any invocation). */
void sl_inv_log(const struct sl_pool *pool, struct sl_invocation *inv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sl_log_start(const struct sl_pool *pool, struct sl_invocation *inv);
/* Lines before END for a timeout or a runtime exit (payload: the caller's error JSON). */
void sl_log_failure(const struct sl_pool *pool, struct sl_invocation *inv,
		    enum sl_invoke_status status, const char *payload, size_t len);
/* END + REPORT. init_ms < 0: no Init Duration. error_type NULL: success. */
void sl_log_report(const struct sl_pool *pool, struct sl_invocation *inv, double duration_ms,
		   double init_ms, long max_rss_kb, enum sl_invoke_status status,
		   const char *error_type);
void sl_log_init_report(const struct sl_pool *pool, double init_ms, bool timeout,
			const char *error_type);
/* {"errorType":T,"errorMessage":"RequestId: <id> Error: <msg>"}; caller frees. */
char *sl_error_json(const char *error_type, const char *id, const char *msg, size_t *len);
/* Free an invocation that is not delivered (shutdown paths); sl_inv_finish frees the others. */
void sl_inv_free(struct sl_invocation *inv);
/* Deliver a result and free the invocation. */
void sl_inv_finish(struct sl_invocation *inv, enum sl_invoke_status status,
		   const char *error_type, const char *payload, size_t len,
		   const char *content_type, double duration_ms);
/* Deliver later from the loop (payload is taken over). */
void sl_inv_defer(struct sl_invocation *inv, enum sl_invoke_status status,
		  const char *error_type, char *payload_owned, size_t len);
double sl_ms_since(const struct timespec *t);

#endif
