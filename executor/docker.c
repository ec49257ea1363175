/* Executor: the docker driver. Every sandbox is a container that a Docker Engine (or Podman's
 * compatible service) runs, driven through its HTTP API on docker_socket with libcurl; every
 * call is asynchronous on the loop (core/http_client.h).
 *
 * The container is the oci driver's (oci.c), expressed in the API: the function's image (a
 * skeleton of mount points by default, docker/Containerfile) with a read-only root; the host's
 * /usr and /etc, the code dir (/var/task), the merged layers (/opt, layers.c) and the agent's
 * dir (/opt/sluice) bound read-only;
 * a tmpfs at /tmp of ephemeral_storage_mb; network "none" (or "host" when the function asks); uid and gid 993, no capabilities, no new privileges,
 * seccomp.c's profile (Docker takes it inline in SecurityOpt, as the docker CLI sends a profile
 * file's content; Podman's compatible API takes a path: seccomp.json in the sandbox's dir; which
 * engine it is comes from /version at start);
 * memory and memory+swap = memory_mb, 1024 pids, nofile 1024, nproc 16384 (RLIMIT_NPROC counts
 * every process of uid 993 on the host, so a per-sandbox 1024 would let one fork bomb starve the
 * others: the pids cgroup is the per-sandbox bound; 16384 stays under the hard limits engines
 * run with, which a container cannot exceed, and leaves room for 16 fork bombs), and the same
 * CPU quota.
 *
 * Channel: the sandbox's dir <state_dir>/sandboxes/<name>/ has a channel/ dir with the listening
 * socket, bound at /run/sluice (chan_listen.c); the dir also holds seccomp.json for Podman.
 *
 * Lifecycle, one API call at a time besides `wait` and `inspect`:
 *   create -> start -> [wait (no timeout) | inspect (host pid of its init, for cgroups)]
 *   wait returned (the container exited) -> [logs, when its agent never connected] -> delete
 *   -> sl_sandbox_exited.
 * A failed create or start ends the same way with the engine's message as the reason. Killing
 * is POST kill?signal=KILL (or, while create or start are in flight, a flag those answers
 * honour); the wait then returns. Shutdown and free paths remove a live container with one
 * blocking delete?force=1.
 *
 * Freezing and memory go through the container's cgroups (oci_cgroup.c, found from the host pid
 * of its init), as for oci: the engine must run on this host, which a unix socket implies.
 */
#include "executor/pool.h"

#include "config/config.h"
#include "core/fs.h"
#include "core/http_client.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOCKER_API "http://docker/v1.41"
#define DOCKER_CALL_TIMEOUT_MS 60000  /* create, start, kill, logs, delete (not wait) */
#define DOCKER_SYNC_TIMEOUT_MS 10000  /* the blocking delete of shutdown paths */
#define DOCKER_CHECK_TIMEOUT_MS 2000  /* the blocking probes of sl_docker_check */
#define DOCKER_CHANNEL_DIR "channel"  /* in the sandbox's dir: the channel socket's dir */
#define DOCKER_NPROC 16384            /* RLIMIT_NPROC: per uid, host-wide (see above) */
#define DOCKER_LOG_TAIL "5"           /* lines of a container's log quoted in its failure */

struct sl_docker_sandbox {
	struct sl_sandbox *sb;
	char *name;                  /* container name: sluice-<function>-<n>-<daemon pid> */
	char *dir;                   /* holds channel/ and seccomp.json; removed with the sandbox */
	struct sl_http_call *call;   /* create, start, kill, logs or delete in flight */
	struct sl_http_call *wait;
	struct sl_http_call *inspect;
	bool created, removed, kill_requested;
	bool orphaned;               /* its delete is retried later (see struct orphan) */
	char *reason;                /* why the sandbox failed, for sl_sandbox_exited */
};

static struct sl_http_call *api_call(const struct sl_executor *ex, const char *method,
				     const char *path, json_t *body, long timeout_ms,
				     sl_http_done_cb cb, void *arg)
{
	char *url = sl_xasprintf(DOCKER_API "%s", path);
	char *text = body ? sl_check_alloc(json_dumps(body, JSON_COMPACT)) : NULL;
	struct sl_http_request req = { .method = method, .url = url,
				       .unix_socket = ex->cfg->docker_socket, .body = text,
				       .body_len = text ? strlen(text) : 0,
				       .timeout_ms = timeout_ms };
	struct sl_http_call *call = sl_http_call_start(ex->http, &req, cb, arg);

	free(url);
	free(text);
	return call;
}

/* A call about the sandbox dk; its callback gets dk. */
static struct sl_http_call *api(struct sl_docker_sandbox *dk, const char *method,
				const char *path, json_t *body, long timeout_ms,
				sl_http_done_cb cb)
{
	return api_call(dk->sb->pool->ex, method, path, body, timeout_ms, cb, dk);
}

/* The engine's error message ({"message": ...}), or the transport's. */
static void describe(const struct sl_http_response *res, char *buf, size_t len)
{
	json_t *j = res->status ? json_loadb(res->body, res->len, 0, NULL) : NULL;
	const char *m = json_string_value(json_object_get(j, "message"));

	if (m)
		snprintf(buf, len, "%s (HTTP %ld)", m, res->status);
	else if (res->status)
		snprintf(buf, len, "HTTP %ld", res->status);
	else
		snprintf(buf, len, "%s", res->error ? res->error : "no answer");
	json_decref(j);
}

/* One blocking call (shutdown and start-up paths); the status (0: no answer). *body (if not
 * NULL) gets the parsed JSON body of a 2xx answer, or NULL; why (if not NULL) the engine's or
 * the transport's message. */
static long api_sync(const struct sl_executor *ex, const char *method, const char *path,
		     long timeout_ms, json_t **body, char *why, size_t whylen)
{
	char *url = sl_xasprintf(DOCKER_API "%s", path);
	struct sl_http_request req = { .method = method, .url = url,
				       .unix_socket = ex->cfg->docker_socket,
				       .timeout_ms = timeout_ms };
	struct sl_http_response res;

	sl_http_call_sync(&req, &res);
	if (body)
		*body = res.status / 100 == 2 ? json_loadb(res.body, res.len, 0, NULL) : NULL;
	if (why)
		describe(&res, why, whylen);
	free((char *)res.body);
	free(url);
	return res.status;
}

static void fail(struct sl_docker_sandbox *dk, const char *what,
		 const struct sl_http_response *res)
{
	char why[512];

	describe(res, why, sizeof(why));
	if (!dk->reason)
		dk->reason = sl_xasprintf("docker %s %s: %s", what, dk->name, why);
}

/* The container is gone (or was never made): hand the sandbox back; it may be freed. */
static void finish(struct sl_docker_sandbox *dk)
{
	char *reason = dk->reason;

	dk->reason = NULL;
	sl_chan_unlisten(dk->sb);
	sl_sandbox_exited(dk->sb, reason);
	free(reason);
}

/* Containers whose delete the engine did not answer (it was down): deleted when it answers
 * again (after the next successful create), their dirs kept until then, so that a daemon
 * started later removes them if this one cannot (executor.c). */
struct orphan {
	TAILQ_ENTRY(orphan) link;
	struct sl_executor *ex;
	char *name, *dir;
	struct sl_http_call *call;
};

struct sl_docker_orphans {
	TAILQ_HEAD(, orphan) list;
};

static void orphan_free(struct sl_executor *ex, struct orphan *o, bool remove_dir)
{
	TAILQ_REMOVE(&ex->docker_orphans->list, o, link);
	sl_http_call_cancel(o->call);
	if (remove_dir)
		sl_rm_tree(o->dir);
	free(o->name);
	free(o->dir);
	free(o);
}

static void on_orphan_removed(void *arg, const struct sl_http_response *res)
{
	struct orphan *o = arg;

	o->call = NULL;
	if (res->status == 204 || res->status == 404) {
		sl_info("executor", "docker: removed container %s, left while the engine was away",
			o->name);
		orphan_free(o->ex, o, true);
	}
}

static void remove_orphans(struct sl_executor *ex)
{
	struct orphan *o;

	if (!ex->docker_orphans)
		return;
	TAILQ_FOREACH(o, &ex->docker_orphans->list, link) {
		if (o->call)
			continue;
		char *path = sl_xasprintf("/containers/%s?force=1", o->name);
		o->call = api_call(ex, "DELETE", path, NULL, DOCKER_CALL_TIMEOUT_MS,
				   on_orphan_removed, o);
		free(path);
	}
}

static void add_orphan(struct sl_docker_sandbox *dk)
{
	struct sl_executor *ex = dk->sb->pool->ex;
	struct orphan *o = sl_xcalloc(1, sizeof(*o));

	if (!ex->docker_orphans) {
		ex->docker_orphans = sl_xcalloc(1, sizeof(*ex->docker_orphans));
		TAILQ_INIT(&ex->docker_orphans->list);
	}
	o->ex = ex;
	o->name = sl_xstrdup(dk->name);
	o->dir = sl_xstrdup(dk->dir);
	TAILQ_INSERT_TAIL(&ex->docker_orphans->list, o, link);
	dk->orphaned = true;
}

void sl_docker_free_orphans(struct sl_executor *ex)
{
	struct orphan *o;

	if (!ex->docker_orphans)
		return;
	while ((o = TAILQ_FIRST(&ex->docker_orphans->list)) != NULL) {
		char *path = sl_xasprintf("/containers/%s?force=1", o->name), why[512];
		long status = api_sync(ex, "DELETE", path, DOCKER_SYNC_TIMEOUT_MS, NULL, why,
				       sizeof(why));
		free(path);
		orphan_free(ex, o, status == 204 || status == 404);
	}
	free(ex->docker_orphans);
	ex->docker_orphans = NULL;
}

static void on_removed(void *arg, const struct sl_http_response *res)
{
	struct sl_docker_sandbox *dk = arg;
	char why[512];

	dk->call = NULL;
	if (res->status != 204 && res->status != 404) {   /* 404: the engine removed it already */
		describe(res, why, sizeof(why));
		sl_warn(dk->sb->pool->tag, "docker delete %s: %s%s", dk->name, why,
			res->status == 0 ? "; it is deleted once the engine answers again" : "");
		if (res->status == 0)
			add_orphan(dk);
	}
	dk->removed = true;
	finish(dk);
}

static void remove_container(struct sl_docker_sandbox *dk)
{
	char *path = sl_xasprintf("/containers/%s?force=1", dk->name);

	dk->call = api(dk, "DELETE", path, NULL, DOCKER_CALL_TIMEOUT_MS, on_removed);
	free(path);
}

/* Docker's multiplexed log stream (8-byte frame headers) as one line of text. */
static void log_text(const char *p, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	while (len >= 8 && o + 1 < outlen) {
		size_t n = (size_t)(unsigned char)p[4] << 24 | (size_t)(unsigned char)p[5] << 16 |
			   (size_t)(unsigned char)p[6] << 8 | (unsigned char)p[7];
		p += 8;
		len -= 8;
		for (size_t i = 0; i < n && i < len && o + 1 < outlen; i++)
			out[o++] = p[i] == '\n' ? ' ' : p[i];
		p += n < len ? n : len;
		len -= n < len ? n : len;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static void on_logs(void *arg, const struct sl_http_response *res)
{
	struct sl_docker_sandbox *dk = arg;
	char text[512] = "";

	dk->call = NULL;
	if (res->status == 200)
		log_text(res->body, res->len, text, sizeof(text));
	if (!dk->reason)
		dk->reason = sl_xasprintf("container %s exited before its agent connected%s%s",
					  dk->name, text[0] ? ": " : "", text);
	remove_container(dk);
}

static void on_waited(void *arg, const struct sl_http_response *res)
{
	struct sl_docker_sandbox *dk = arg;
	char *path;

	(void)res;
	dk->wait = NULL;
	if (dk->call) {   /* a kill still in flight: it has nothing left to do */
		sl_http_call_cancel(dk->call);
		dk->call = NULL;
	}
	if (dk->sb->attached || dk->kill_requested) {
		remove_container(dk);
		return;
	}
	path = sl_xasprintf("/containers/%s/logs?stdout=1&stderr=1&tail=" DOCKER_LOG_TAIL,
			    dk->name);
	dk->call = api(dk, "GET", path, NULL, DOCKER_CALL_TIMEOUT_MS, on_logs);
	free(path);
}

static void on_inspected(void *arg, const struct sl_http_response *res)
{
	struct sl_docker_sandbox *dk = arg;
	json_t *j = res->status == 200 ? json_loadb(res->body, res->len, 0, NULL) : NULL;

	dk->inspect = NULL;
	dk->sb->cgroup_pid = (pid_t)json_integer_value(json_object_get(json_object_get(j, "State"),
								       "Pid"));
	json_decref(j);
}

static void on_started(void *arg, const struct sl_http_response *res)
{
	struct sl_docker_sandbox *dk = arg;
	char *path;

	dk->call = NULL;
	if (res->status != 204 && res->status != 304) {
		fail(dk, "start", res);
		remove_container(dk);
		return;
	}
	if (dk->kill_requested) {
		remove_container(dk);
		return;
	}
	path = sl_xasprintf("/containers/%s/wait", dk->name);
	dk->wait = api(dk, "POST", path, NULL, 0, on_waited);
	free(path);
	path = sl_xasprintf("/containers/%s/json", dk->name);
	dk->inspect = api(dk, "GET", path, NULL, DOCKER_CALL_TIMEOUT_MS, on_inspected);
	free(path);
}

static void on_created(void *arg, const struct sl_http_response *res)
{
	struct sl_docker_sandbox *dk = arg;
	char *path;

	dk->call = NULL;
	if (res->status != 201) {
		fail(dk, "create", res);
		finish(dk);
		return;
	}
	dk->created = true;
	remove_orphans(dk->sb->pool->ex);   /* the engine answers (again) */
	if (dk->kill_requested) {
		remove_container(dk);
		return;
	}
	path = sl_xasprintf("/containers/%s/start", dk->name);
	dk->call = api(dk, "POST", path, NULL, DOCKER_CALL_TIMEOUT_MS, on_started);
	free(path);
}

static json_t *binds_json(const struct sl_docker_sandbox *dk)
{
	const struct sl_executor *ex = dk->sb->pool->ex;
	char *agent_dir = sl_agent_dir(ex);
	const char *opt_dir = dk->sb->pool->opt_dir;
	json_t *b = json_pack("[s, s, s+, s+]", "/usr:/usr:ro", "/etc:/etc:ro",
			      dk->sb->pool->fn->code_dir, ":" SL_OCI_TASK_ROOT ":ro",
			      dk->dir, "/" DOCKER_CHANNEL_DIR ":" SL_CTR_CHANNEL_DIR);

	sl_check_alloc(b);
	if (opt_dir)   /* before the agent's dir, whose mount point it holds */
		json_array_append_new(b, json_pack("s+", opt_dir, ":/opt:ro"));
	json_array_append_new(b, json_pack("s+", agent_dir, ":" SL_OCI_AGENT_DIR ":ro"));
	free(agent_dir);
	return b;
}

/* The SecurityOpt value of the seccomp profile: Docker takes the profile itself, Podman's
 * compatible API the path of a file (written into the sandbox's dir); NULL on failure. */
static char *seccomp_opt(const struct sl_docker_sandbox *dk)
{
	json_t *profile = sl_seccomp_profile();
	char *opt = NULL, *text = sl_check_alloc(json_dumps(profile, JSON_COMPACT));

	if (dk->sb->pool->ex->docker_engine != SL_ENGINE_PODMAN) {
		opt = sl_xasprintf("seccomp=%s", text);
	} else {
		char *path = sl_xasprintf("%s/seccomp.json", dk->dir);
		if (json_dump_file(profile, path, JSON_COMPACT) == 0)
			opt = sl_xasprintf("seccomp=%s", path);
		free(path);
	}
	json_decref(profile);
	free(text);
	return opt;
}

static json_t *host_config_json(const struct sl_docker_sandbox *dk, const char *seccomp)
{
	const struct sl_function_config *fn = dk->sb->pool->fn;
	json_int_t mem = (json_int_t)fn->memory_mb << 20;
	char tmp_opts[64];

	snprintf(tmp_opts, sizeof(tmp_opts), "rw,nosuid,nodev,mode=1777,size=%dm",
		 fn->ephemeral_storage_mb);
	json_t *h = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:[s], s:[s, s], s:{s:s}, s:o,"
		      " s:[{s:s, s:I, s:I}, {s:s, s:I, s:I}]}",
		      "NetworkMode", fn->network == SL_NETWORK_HOST ? "host" : "none", "Memory", mem, "MemorySwap", mem,
		      "PidsLimit", (json_int_t)SL_CTR_PIDS_LIMIT,
		      "CpuPeriod", (json_int_t)SL_CTR_CPU_PERIOD_US,
		      "CpuQuota", (json_int_t)sl_ctr_cpu_quota_us(fn->memory_mb),
		      "ReadonlyRootfs", 1, "CapDrop", "ALL",
		      "SecurityOpt", "no-new-privileges", seccomp,
		      "Tmpfs", "/tmp", tmp_opts,
		      "Binds", binds_json(dk),
		      "Ulimits", "Name", "nofile", "Soft", (json_int_t)SL_CTR_NOFILE,
		      "Hard", (json_int_t)SL_CTR_NOFILE,
		      "Name", "nproc", "Soft", (json_int_t)DOCKER_NPROC,
		      "Hard", (json_int_t)DOCKER_NPROC);
	return sl_check_alloc(h);
}

static json_t *create_json(const struct sl_docker_sandbox *dk, const char *seccomp)
{
	const struct sl_executor *ex = dk->sb->pool->ex;
	const struct sl_function_config *fn = dk->sb->pool->fn;
	char **argv = sl_agent_argv(ex, fn), **env = sl_agent_env(ex, fn);
	char user[32], daemon[16];
	json_t *c;

	snprintf(user, sizeof(user), "%d:%d", SL_CTR_UID, SL_CTR_UID);
	snprintf(daemon, sizeof(daemon), "%d", (int)getpid());
	c = json_pack("{s:s, s:o, s:[], s:o, s:s, s:s, s:s, s:{s:s, s:s}, s:o}",
		      "Image", fn->image, "Entrypoint", sl_strv_json((const char *const *)argv),
		      "Cmd", "Env", sl_strv_json((const char *const *)env), "User", user,
		      "Hostname", dk->name,
		      "WorkingDir", SL_OCI_TASK_ROOT,
		      "Labels", "sluice.daemon", daemon, "sluice.function", fn->name,
		      "HostConfig", host_config_json(dk, seccomp));
	sl_strv_free(argv);
	sl_strv_free(env);
	return sl_check_alloc(c);
}

static void docker_free(struct sl_docker_sandbox *dk)
{
	char *chan_dir = sl_xasprintf("%s/" DOCKER_CHANNEL_DIR, dk->dir);
	char *seccomp = sl_xasprintf("%s/seccomp.json", dk->dir);

	sl_http_call_cancel(dk->call);
	sl_http_call_cancel(dk->wait);
	sl_http_call_cancel(dk->inspect);
	if (!dk->orphaned) {   /* an orphan's dir stays until its container is deleted */
		rmdir(chan_dir);
		unlink(seccomp);
		rmdir(dk->dir);
	}
	free(chan_dir);
	free(seccomp);
	free(dk->name);
	free(dk->dir);
	free(dk->reason);
	free(dk);
}

/* Podman's compatible API names itself among the /version components. */
static bool is_podman(const json_t *version)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(version, "Components"), i, c) {
		const char *name = json_string_value(json_object_get(c, "Name"));
		if (name && strstr(name, "Podman"))
			return true;
	}
	return false;
}

/* Create the container, with the seccomp option for the engine at hand. */
static void send_create(struct sl_docker_sandbox *dk, char *seccomp_owned)
{
	json_t *body = create_json(dk, seccomp_owned);
	char *path = sl_xasprintf("/containers/create?name=%s", dk->name);

	dk->call = api(dk, "POST", path, body, DOCKER_CALL_TIMEOUT_MS, on_created);
	free(path);
	free(seccomp_owned);
	json_decref(body);
}

/* The engine did not answer at start: its /version decides how the seccomp profile is sent. */
static void on_version(void *arg, const struct sl_http_response *res)
{
	struct sl_docker_sandbox *dk = arg;
	json_t *version;
	char *seccomp;

	dk->call = NULL;
	if (res->status != 200) {
		fail(dk, "version", res);
		finish(dk);
		return;
	}
	version = json_loadb(res->body, res->len, 0, NULL);
	dk->sb->pool->ex->docker_engine = is_podman(version) ? SL_ENGINE_PODMAN
							     : SL_ENGINE_DOCKER;
	json_decref(version);
	if (!(seccomp = seccomp_opt(dk))) {
		dk->reason = sl_xasprintf("docker sandbox dir %s: cannot write seccomp.json",
					  dk->dir);
		finish(dk);
		return;
	}
	send_create(dk, seccomp);
}

int sl_docker_start(struct sl_sandbox *sb, char *msg, size_t msglen)
{
	struct sl_executor *ex = sb->pool->ex;
	const struct sl_function_config *fn = sb->pool->fn;
	struct sl_docker_sandbox *dk;
	char *path;
	int rc;

	if (!ex->cfg->state_dir) {
		snprintf(msg, msglen, "docker sandbox needs a state_dir");
		return -EINVAL;
	}
	if (strchr(fn->code_dir, ':')) {
		snprintf(msg, msglen, "docker sandbox: code dir %s has a ':' (Docker's bind "
			 "syntax cannot mount it)", fn->code_dir);
		return -EINVAL;
	}
	dk = sl_xcalloc(1, sizeof(*dk));
	dk->sb = sb;
	dk->name = sl_xasprintf("sluice-%s-%u-%d", fn->name, ++ex->oci_seq, (int)getpid());
	dk->dir = sl_xasprintf("%s/sandboxes/%s", ex->cfg->state_dir, dk->name);
	path = sl_xasprintf("%s/" DOCKER_CHANNEL_DIR, dk->dir);
	if ((rc = sl_mkdirs(dk->dir, 0755)) == 0)
		rc = sl_chan_listen(sb, path);
	free(path);
	if (rc != 0) {
		snprintf(msg, msglen, "docker sandbox dir %s: %s", dk->dir, strerror(-rc));
		docker_free(dk);
		return rc;
	}
	if (ex->docker_engine == SL_ENGINE_UNKNOWN) {   /* it did not answer at start */
		sb->docker = dk;
		dk->call = api(dk, "GET", "/version", NULL, DOCKER_CALL_TIMEOUT_MS, on_version);
		return 0;
	}
	char *seccomp = seccomp_opt(dk);
	if (!seccomp) {
		snprintf(msg, msglen, "docker sandbox dir %s: cannot write seccomp.json", dk->dir);
		sl_chan_unlisten(sb);
		docker_free(dk);
		return -EIO;
	}
	sb->docker = dk;
	send_create(dk, seccomp);
	return 0;
}

static void on_killed(void *arg, const struct sl_http_response *res)
{
	struct sl_docker_sandbox *dk = arg;
	char why[512];

	dk->call = NULL;
	if (res->status != 204 && res->status != 404 && res->status != 409) {
		describe(res, why, sizeof(why));
		sl_warn(dk->sb->pool->tag, "docker kill %s: %s", dk->name, why);
	}
}

void sl_docker_name(const struct sl_sandbox *sb, char *buf, size_t len)
{
	snprintf(buf, len, "%s", sb->docker ? sb->docker->name : "?");
}

void sl_docker_kill(struct sl_sandbox *sb)
{
	struct sl_docker_sandbox *dk = sb->docker;
	char *path;

	if (!dk || dk->kill_requested)
		return;
	dk->kill_requested = true;
	if (dk->call || !dk->wait)   /* create or start in flight (they honour the flag), or gone */
		return;
	path = sl_xasprintf("/containers/%s/kill?signal=KILL", dk->name);
	dk->call = api(dk, "POST", path, NULL, DOCKER_CALL_TIMEOUT_MS, on_killed);
	free(path);
}

void sl_docker_remove(const struct sl_executor *ex, const char *tag, const char *name)
{
	char *path = sl_xasprintf("/containers/%s?force=1", name), why[512];
	long status = api_sync(ex, "DELETE", path, DOCKER_SYNC_TIMEOUT_MS, NULL, why, sizeof(why));

	if (status != 204 && status != 404)
		sl_warn(tag, "docker delete %s: %s", name, why);
	free(path);
}

void sl_docker_destroy(struct sl_sandbox *sb)
{
	struct sl_docker_sandbox *dk = sb->docker;

	if (!dk)
		return;
	sb->docker = NULL;
	if (!dk->removed && (dk->created || dk->call))
		sl_docker_remove(sb->pool->ex, sb->pool->tag, dk->name);
	docker_free(dk);
}

void sl_docker_check(struct sl_executor *ex)
{
	json_t *version = NULL;

	if (api_sync(ex, "GET", "/version", DOCKER_CHECK_TIMEOUT_MS, &version, NULL, 0) != 200) {
		sl_warn("executor", "no Docker Engine API answers on %s: docker sandboxes fail "
			"until one does (start docker, or `podman system service`)",
			ex->cfg->docker_socket);
		return;
	}
	ex->docker_engine = is_podman(version) ? SL_ENGINE_PODMAN : SL_ENGINE_DOCKER;
	json_decref(version);
	for (size_t i = 0; i < ex->n_pools; i++) {
		const struct sl_function_config *fn = ex->pools[i].fn;
		char *path;
		if (fn->sandbox != SL_SANDBOX_DOCKER)
			continue;
		path = sl_xasprintf("/images/%s/json", fn->image);   /* '/' and ':' stay as they are */
		if (api_sync(ex, "GET", path, DOCKER_CHECK_TIMEOUT_MS, NULL, NULL, 0) != 200)
			sl_warn(ex->pools[i].tag, "image %s is not in the engine at %s (no pull is "
				"done): build it, e.g. `make docker-image`", fn->image,
				ex->cfg->docker_socket);
		free(path);
	}
}
