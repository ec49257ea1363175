/* Executor: the process driver. Starts sluice-init as a plain child process.
 *
 * The agent gets its end of the channel as fd 3, the function's code dir as its working
 * directory, its own process group, default signal dispositions, and the environment the runtime
 * will see (the agent adds AWS_LAMBDA_RUNTIME_API and passes it on):
 *   - from the host when set: PATH (so `node`, `curl` are found; Lambda's default otherwise),
 *     LD_LIBRARY_PATH, AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *     AWS_SESSION_TOKEN) and the sanitizers' *_OPTIONS;
 *   - Lambda's unreserved defaults: LANG=en_US.UTF-8, TZ=:UTC;
 *   - the function's own variables (which may override the above);
 *   - Lambda's reserved variables, which the function cannot override: _HANDLER, AWS_REGION,
 *     AWS_DEFAULT_REGION, AWS_EXECUTION_ENV (not for provided.* runtimes),
 *     AWS_LAMBDA_FUNCTION_NAME, _MEMORY_SIZE, _VERSION=$LATEST, AWS_LAMBDA_INITIALIZATION_TYPE
 *     (on-demand, or provisioned-concurrency for provisioned sandboxes, which also get the
 *     longer init timeout: budget.c), AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, LAMBDA_TASK_ROOT.
 * Runtime command line: the function's command with the handler appended, or <code_dir>/bootstrap.
 *
 * The container drivers (oci.c, docker.c) start the same agent with the same environment and
 * flags, seen from inside the container (the channel is a socket to connect to:
 * chan_listen.c): the agent at /opt/sluice, the code dir at /var/task (LAMBDA_TASK_ROOT,
 * and command arguments under the code dir are rewritten to it), and Lambda's default PATH
 * instead of the host's.
 */
#include "executor/pool.h"

#include "config/config.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define AGENT_CHANNEL_FD 3
#define LAMBDA_PATH "/usr/local/bin:/usr/bin/:/bin:/opt/bin"

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_push(struct strv *s, char *item_owned)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->v = sl_xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = item_owned;
	s->v[s->n] = NULL;
}

/* Add "KEY=VALUE", replacing an earlier entry with the same key. */
static void env_set(struct strv *env, char *kv_owned)
{
	size_t klen = strcspn(kv_owned, "=");

	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], kv_owned, klen) == 0 && env->v[i][klen] == '=') {
			free(env->v[i]);
			env->v[i] = kv_owned;
			return;
		}
	}
	strv_push(env, kv_owned);
}

static void env_from_host(struct strv *env, bool in_container)
{
	static const char *const pass[] = { "LD_LIBRARY_PATH", "AWS_ACCESS_KEY_ID",
					    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
					    "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS" };
	const char *path = getenv("PATH");

	env_set(env, sl_xasprintf("PATH=%s", path && *path && !in_container ? path : LAMBDA_PATH));
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		const char *v = getenv(pass[i]);
		if (v)
			env_set(env, sl_xasprintf("%s=%s", pass[i], v));
	}
	env_set(env, sl_xstrdup("LANG=en_US.UTF-8"));
	env_set(env, sl_xstrdup("TZ=:UTC"));
}

/* "2026/11/24/[$LATEST]<32 hex>", the usual form of Lambda's log stream names. */
static char *log_stream_name(void)
{
	unsigned char r[16];
	char hex[33];
	time_t now = time(NULL);
	struct tm tm;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0, sizeof(r));
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	gmtime_r(&now, &tm);
	return sl_xasprintf("%04d/%02d/%02d/[$LATEST]%s", tm.tm_year + 1900, tm.tm_mon + 1,
			    tm.tm_mday, hex);
}

static void env_reserved(struct strv *env, const struct sl_executor *ex,
			 const struct sl_function_config *fn, bool in_container)
{
	env_set(env, sl_xasprintf("_HANDLER=%s", fn->handler ? fn->handler : ""));
	env_set(env, sl_xasprintf("AWS_REGION=%s", ex->region));
	env_set(env, sl_xasprintf("AWS_DEFAULT_REGION=%s", ex->region));
	if (fn->runtime && strncmp(fn->runtime, "provided", 8) != 0)
		env_set(env, sl_xasprintf("AWS_EXECUTION_ENV=AWS_Lambda_%s", fn->runtime));
	env_set(env, sl_xasprintf("AWS_LAMBDA_FUNCTION_NAME=%s", fn->name));
	env_set(env, sl_xasprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", fn->memory_mb));
	env_set(env, sl_xstrdup("AWS_LAMBDA_FUNCTION_VERSION=$LATEST"));
	env_set(env, sl_xasprintf("AWS_LAMBDA_INITIALIZATION_TYPE=%s", ex->start_provisioned ?
				  "provisioned-concurrency" : "on-demand"));
	env_set(env, sl_xasprintf("AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", fn->name));
	char *stream = log_stream_name();
	env_set(env, sl_xasprintf("AWS_LAMBDA_LOG_STREAM_NAME=%s", stream));
	free(stream);
	env_set(env, sl_xasprintf("LAMBDA_TASK_ROOT=%s", in_container ? SL_OCI_TASK_ROOT : fn->code_dir));
}

static void build_env(struct strv *env, const struct sl_executor *ex,
		      const struct sl_function_config *fn, bool in_container)
{
	env_from_host(env, in_container);
	for (char **kv = fn->environment; kv && *kv; kv++)
		if (strchr(*kv, '='))
			env_set(env, sl_xstrdup(*kv));
	env_reserved(env, ex, fn, in_container);
}

/* A runtime argument as the sandbox sees it: in a container, the code dir is /var/task. */
static char *task_path(const struct sl_function_config *fn, const char *arg, bool in_container)
{
	size_t n = strlen(fn->code_dir);

	if (in_container && strncmp(arg, fn->code_dir, n) == 0 && (arg[n] == '/' || arg[n] == '\0'))
		return sl_xasprintf("%s%s", SL_OCI_TASK_ROOT, arg + n);
	return sl_xstrdup(arg);
}

static void build_argv(struct strv *argv, const struct sl_executor *ex,
		       const struct sl_function_config *fn)
{
	const char *base = strrchr(ex->agent_path, '/');
	bool in_container = fn->sandbox != SL_SANDBOX_PROCESS;

	strv_push(argv, in_container ? sl_xasprintf("%s/%s", SL_OCI_AGENT_DIR,
						    base ? base + 1 : "sluice-init")
				     : sl_xstrdup(ex->agent_path));
	if (in_container) {
		strv_push(argv, sl_xstrdup("--channel-path"));
		strv_push(argv, sl_xstrdup(SL_CTR_CHANNEL));
	} else {
		strv_push(argv, sl_xstrdup("--channel-fd"));
		strv_push(argv, sl_xasprintf("%d", AGENT_CHANNEL_FD));
	}
	strv_push(argv, sl_xstrdup("--init-timeout-ms"));
	strv_push(argv, sl_xasprintf("%d", sl_budget_init_timeout_s(ex, fn) * 1000));
	strv_push(argv, sl_xstrdup("--"));
	if (fn->command && fn->command[0]) {
		for (char **a = fn->command; *a; a++)
			strv_push(argv, task_path(fn, *a, in_container));
		if (fn->handler && *fn->handler)
			strv_push(argv, sl_xstrdup(fn->handler));
	} else {
		strv_push(argv, sl_xasprintf("%s/bootstrap", in_container ? SL_OCI_TASK_ROOT
									  : fn->code_dir));
	}
}

char **sl_agent_env(const struct sl_executor *ex, const struct sl_function_config *fn)
{
	struct strv env = { 0 };

	build_env(&env, ex, fn, fn->sandbox != SL_SANDBOX_PROCESS);
	return env.v;
}

char **sl_agent_argv(const struct sl_executor *ex, const struct sl_function_config *fn)
{
	struct strv argv = { 0 };

	build_argv(&argv, ex, fn);
	return argv.v;
}

char *sl_agent_dir(const struct sl_executor *ex)
{
	char *dir = sl_xstrdup(ex->agent_path);
	char *slash = strrchr(dir, '/');

	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	return dir;
}

json_t *sl_strv_json(const char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return sl_check_alloc(a);
}

void sl_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

int sl_spawn_attrs(posix_spawnattr_t *attr)
{
	sigset_t none, dflt;

	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGCHLD);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGHUP);
	posix_spawnattr_init(attr);
	posix_spawnattr_setpgroup(attr, 0);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &dflt);
	return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
}

int sl_spawn_agent(struct sl_executor *ex, const struct sl_function_config *fn, int chan_fd,
		   pid_t *pid)
{
	char **env, **argv;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	/* dup2 onto fd 3 clears close-on-exec only when the numbers differ */
	int high = fcntl(chan_fd, F_DUPFD_CLOEXEC, 10);
	int rc;

	if (high < 0)
		return -errno;
	env = sl_agent_env(ex, fn);
	argv = sl_agent_argv(ex, fn);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, high, AGENT_CHANNEL_FD);
	posix_spawn_file_actions_addchdir_np(&fa, fn->code_dir);
	sl_spawn_attrs(&attr);
	rc = posix_spawn(pid, ex->agent_path, &fa, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(high);
	sl_strv_free(env);
	sl_strv_free(argv);
	return -rc;
}
