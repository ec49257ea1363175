/* Executor: the oci driver. Every sandbox is a container that runc runs from a bundle of its own.
 *
 * Bundle: <state_dir>/sandboxes/<id>/ with id "sluice-<function>-<n>-<daemon pid>" (also runc's
 * container id and the container's hostname). rootfs/ holds only empty mount points and the
 * merged-/usr symlinks (bin, lib, lib64, sbin -> usr/...); the root is read-only. Mounted: the
 * host's /usr and /etc read-only, the function's code dir read-only at /var/task, its merged
 * layers read-only at /opt (layers.c), the directory of sluice-init read-only at /opt/sluice,
 * a tmpfs at /tmp of the function's ephemeral_storage_mb (512 MB by default, as on Lambda), and
 * proc, /dev, sysfs and the cgroup tree as `runc spec` gives them.
 *
 * Limits: its own pid, network (loopback only; the host's with "network": "host"), ipc, uts and
 * mount namespaces, and a user namespace where the host allows one (probed at start: container
 * ids 0..65535 are host ids from 1000000 on, so even a root inside is nobody outside; host files
 * show as owned by nobody and are read through their "other" permissions); no capabilities, no new privileges, the seccomp profile of seccomp.c; uid
 * and gid 993 (Lambda's function user; rootfs/tmp is 1777, since runc gives the tmpfs the mode
 * of its mount point); nofile 1024; memory (and memory+swap) limited to memory_mb; at most 1024
 * pids; CPU in proportion to memory as on Lambda (1769 MB = one vCPU: a CFS quota of
 * 100 ms * memory_mb / 1769 per 100 ms period, at least 1 ms); the cgroup path "sluice/<id>"
 * (relative: below runc's own cgroup).
 *
 * Process: sluice-init is the container's PID 1 with the same flags and environment as with the
 * process driver (spawn.c), paths as seen inside. Its channel is the socket in the bundle's
 * channel/ dir, bound at /run/sluice (chan_listen.c); stdin is /dev/null, stdout and stderr are
 * the daemon's. runc run stays
 * in the foreground until the container's PID 1 exits, so the executor tracks and reaps runc's
 * pid exactly as it does an agent's. Killing is `runc kill ID KILL` (PID 1's death ends the
 * whole pid namespace); SIGKILL to runc itself would orphan the container. Once runc run is
 * reaped, `runc delete --force ID` (normally a no-op: runc run deletes what it ran) and the
 * bundle goes. Both runc commands run in the background (helpers the SIGCHLD handler reaps,
 * sl_oci_reap_helpers; the executor waits for those left when it is freed).
 *
 * oci_cgroup.c: the container's cgroups (OOM detection, Max Memory Used) and the freezer (an
 * idle sandbox is paused, and resumed before its next INVOKE frame is sent).
 */
#include "executor/pool.h"

#include "config/config.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OCI_CHANNEL_DIR "channel" /* in the bundle: the channel socket's dir (chan_listen.c) */
#define OCI_RUNC_WAIT_MS 5000 /* longest a runc helper command (kill, delete) may take */
#define OCI_NEEDS_RUNC "oci sandbox needs runc; install the runc package"

extern char **environ;

int sl_oci_find_runc(char **path)
{
	const char *env = getenv("PATH");
	/* PATH first, then the sbin dirs a non-root PATH may lack */
	char *dirs = sl_xasprintf("%s:/usr/local/sbin:/usr/sbin:/sbin", env ? env : "");
	char *save = NULL;
	int rc = -ENOENT;

	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = sl_xasprintf("%s/runc", d);
		if (*d == '/' && access(p, X_OK) == 0) {
			*path = p;
			rc = 0;
			break;
		}
		free(p);
	}
	free(dirs);
	return rc;
}

struct oci_mount {
	const char *dst, *type, *src;
	const char *opts[7];
};

static const struct oci_mount std_mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k" } },
	{ "/dev/pts", "devpts", "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" } },
	{ "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev" } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro" } },
	{ "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro" } },
};

static json_t *mount_json(const char *dst, const char *type, const char *src,
			  const char *const *opts)
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);

	if (opts && opts[0])
		json_object_set_new(m, "options", sl_strv_json(opts));
	return sl_check_alloc(m);
}

static json_t *mounts_json(const struct sl_pool *pool, const char *bundle)
{
	static const char *const rw_bind[] = { "rbind", "rw", "nosuid", "nodev", "noexec", NULL };
	const struct sl_executor *ex = pool->ex;
	const struct sl_function_config *fn = pool->fn;
	static const char *const ro_bind[] = { "rbind", "ro", "nosuid", "nodev", NULL };
	json_t *a = json_array();
	char *agent_dir = sl_agent_dir(ex);

	static const char *const sys_bind[] = { "rbind", "ro", "nosuid", "noexec", "nodev", NULL };

	for (size_t i = 0; i < sizeof(std_mounts) / sizeof(std_mounts[0]); i++) {
		const struct oci_mount *m = &std_mounts[i];
		/* a user namespace may mount sysfs only in a network namespace it owns */
		if (ex->userns && fn->network == SL_NETWORK_HOST && strcmp(m->dst, "/sys") == 0)
			json_array_append_new(a, mount_json("/sys", "bind", "/sys", sys_bind));
		else
			json_array_append_new(a, mount_json(m->dst, m->type, m->src, m->opts));
	}
	char tmp_size[32];
	snprintf(tmp_size, sizeof(tmp_size), "size=%dm", fn->ephemeral_storage_mb);
	const char *const tmp_opts[] = { "nosuid", "nodev", "mode=1777", tmp_size, NULL };
	json_array_append_new(a, mount_json("/tmp", "tmpfs", "tmpfs", tmp_opts));
	json_array_append_new(a, mount_json("/usr", "bind", "/usr", ro_bind));
	json_array_append_new(a, mount_json("/etc", "bind", "/etc", ro_bind));
	json_array_append_new(a, mount_json(SL_OCI_TASK_ROOT, "bind", fn->code_dir, ro_bind));
	if (pool->opt_dir)   /* before the agent's dir, whose mount point it holds */
		json_array_append_new(a, mount_json("/opt", "bind", pool->opt_dir, ro_bind));
	json_array_append_new(a, mount_json(SL_OCI_AGENT_DIR, "bind", agent_dir, ro_bind));
	char *chan_dir = sl_xasprintf("%s/" OCI_CHANNEL_DIR, bundle);
	json_array_append_new(a, mount_json(SL_CTR_CHANNEL_DIR, "bind", chan_dir, rw_bind));
	free(chan_dir);
	free(agent_dir);
	return a;
}

static json_t *process_json(const struct sl_executor *ex, const struct sl_function_config *fn)
{
	char **argv = sl_agent_argv(ex, fn), **env = sl_agent_env(ex, fn);
	json_t *p = json_pack("{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:b,"
			      " s:{s:[], s:[], s:[], s:[], s:[]}, s:[{s:s, s:i, s:i}]}",
			      "terminal", 0, "user", "uid", SL_CTR_UID, "gid", SL_CTR_UID,
			      "args", sl_strv_json((const char *const *)argv),
			      "env", sl_strv_json((const char *const *)env),
			      "cwd", SL_OCI_TASK_ROOT, "noNewPrivileges", 1,
			      "capabilities", "bounding", "effective", "permitted", "inheritable",
			      "ambient",
			      "rlimits", "type", "RLIMIT_NOFILE", "hard", SL_CTR_NOFILE,
			      "soft", SL_CTR_NOFILE);

	sl_strv_free(argv);
	sl_strv_free(env);
	return sl_check_alloc(p);
}

/* Container ids 0..65535 map to host ids from here when the container has a user namespace:
 * its root is not the host's, and uid 993 is host uid SL_OCI_USERNS_HOST_ID + 993. */
#define SL_OCI_USERNS_HOST_ID 1000000
#define SL_OCI_USERNS_SIZE 65536

/* Whether a user namespace's root (an "other" user to the host) can reach path: every
 * directory on the way must be searchable by others, and path itself readable with read_too. */
static bool reachable_by_others(const char *path, bool read_too, char *why, size_t whylen)
{
	char *p = sl_xstrdup(path);
	bool ok = true;
	struct stat st;

	for (char *slash = p; ok && slash; slash = strchr(slash + 1, '/')) {
		char keep = slash[1];
		slash[1] = '\0';   /* "/", "/a/", "/a/b/", ... */
		if (stat(p, &st) != 0 || !(st.st_mode & S_IXOTH)) {
			snprintf(why, whylen, "%s is not searchable by other users", p);
			ok = false;
		}
		slash[1] = keep;
	}
	if (ok && (stat(p, &st) != 0 || !(st.st_mode & S_IXOTH) ||
		   (read_too && !(st.st_mode & S_IROTH)))) {
		snprintf(why, whylen, "%s is not %s by other users", p,
			 read_too ? "readable" : "searchable");
		ok = false;
	}
	free(p);
	return ok;
}

bool sl_oci_userns_usable(const struct sl_executor *ex, char *why, size_t whylen)
{
	FILE *f = fopen("/proc/sys/user/max_user_namespaces", "r");
	const struct sl_config *cfg = ex->cfg;
	char *agent_dir = sl_agent_dir(ex);
	long max = 0;
	bool ok;
	int st;

	ok = cfg->state_dir && reachable_by_others(cfg->state_dir, false, why, whylen) &&
	     reachable_by_others(agent_dir, true, why, whylen);
	free(agent_dir);
	for (size_t i = 0; ok && i < cfg->n_functions; i++) {
		const struct sl_function_config *fn = &cfg->functions[i];
		if (fn->sandbox != SL_SANDBOX_OCI)
			continue;
		ok = reachable_by_others(fn->code_dir, true, why, whylen);
		for (char **l = fn->layers; ok && l && *l; l++)
			ok = reachable_by_others(*l, true, why, whylen);
	}
	if (!ok)
		return false;
	snprintf(why, whylen, "this host does not allow creating one");

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (max <= 0)
		return false;
	pid_t pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static json_t *id_mappings(void)
{
	return sl_check_alloc(json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
					SL_OCI_USERNS_HOST_ID, "size", SL_OCI_USERNS_SIZE));
}

static json_t *linux_json(const struct sl_function_config *fn, const char *id, bool userns)
{
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
		"/proc/scsi",
		/* the host's /etc is shared read-only: its secrets are hidden even from a function
		 * that gained root (defence in depth; uid 993 cannot read them anyway) */
		"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/ssl/private",
		NULL };
	static const char *const readonly[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
						"/proc/sysrq-trigger", NULL };
	json_int_t mem = (json_int_t)fn->memory_mb << 20;
	char *cgroup = sl_xasprintf("sluice/%s", id);
	json_t *l = json_pack("{s:[{s:s}, {s:s}, {s:s}, {s:s}],"
			      " s:{s:[{s:b, s:s}], s:{s:I, s:I}, s:{s:I}, s:{s:I, s:I}}, s:s, s:o, s:o,"
			      " s:o}",
			      "namespaces", "type", "pid", "type", "ipc", "type", "uts",
			      "type", "mount",
			      "resources", "devices", "allow", 0, "access", "rwm",
			      "memory", "limit", mem, "swap", mem,
			      "pids", "limit", (json_int_t)SL_CTR_PIDS_LIMIT,
			      "cpu", "quota", (json_int_t)sl_ctr_cpu_quota_us(fn->memory_mb),
			      "period", (json_int_t)SL_CTR_CPU_PERIOD_US,
			      "cgroupsPath", cgroup,
			      "maskedPaths", sl_strv_json(masked),
			      "readonlyPaths", sl_strv_json(readonly),
			      "seccomp", sl_seccomp_profile());

	free(cgroup);
	sl_check_alloc(l);
	if (fn->network == SL_NETWORK_NONE)   /* its own, with only loopback */
		json_array_append_new(json_object_get(l, "namespaces"),
				      json_pack("{s:s}", "type", "network"));
	if (userns) {
		json_array_append_new(json_object_get(l, "namespaces"),
				      json_pack("{s:s}", "type", "user"));
		json_object_set_new(l, "uidMappings", id_mappings());
		json_object_set_new(l, "gidMappings", id_mappings());
	}
	return l;
}

static json_t *config_json(const struct sl_pool *pool, const char *id, const char *bundle)
{
	const struct sl_executor *ex = pool->ex;
	const struct sl_function_config *fn = pool->fn;
	json_t *c = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.0.2",
			      "process", process_json(ex, fn), "root", "path", "rootfs",
			      "readonly", 1, "hostname", id, "mounts", mounts_json(pool, bundle),
			      "linux", linux_json(fn, id, ex->userns));

	return sl_check_alloc(c);
}

/* The bundle dir with rootfs/ and config.json. */
static int write_bundle(const struct sl_pool *pool, const char *id, const char *dir)
{
	static const char *const dirs[] = { "usr", "etc", "var", "var/task", "opt", "opt/sluice",
					    "run", "run/sluice",
					    "proc", "dev", "sys", "tmp", NULL };
	static const char *const links[] = { "bin", "lib", "lib64", "sbin", NULL };
	char path[PATH_MAX], target[32];
	int rc = 0;

	sl_rm_tree(dir);   /* a stale one, left by a daemon that had our pid */
	if (mkdir(dir, 0711) != 0)   /* traversable by a user namespace's root, not listable */
		return -errno;
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	if (mkdir(path, 0755) != 0)   /* a fresh bundle: every parent exists, listed first */
		return -errno;
	for (size_t i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/rootfs/%s", dir, dirs[i]);
		if (mkdir(path, 0755) != 0)
			return -errno;
	}
	for (size_t i = 0; links[i]; i++) {
		snprintf(path, sizeof(path), "%s/rootfs/%s", dir, links[i]);
		snprintf(target, sizeof(target), "usr/%s", links[i]);
		if (symlink(target, path) != 0)
			return -errno;
	}
	/* runc gives a tmpfs the mode of the directory it is mounted on: /tmp must be 1777 for
	 * the unprivileged user */
	snprintf(path, sizeof(path), "%s/rootfs/tmp", dir);
	if (chmod(path, 01777) != 0)
		return -errno;
	json_t *cfg = config_json(pool, id, dir);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	/* 0600: it holds the function's environment (credentials, too) */
	rc = json_dump_file(cfg, path, JSON_INDENT(1)) == 0 && chmod(path, 0600) == 0 ? 0 : -EIO;
	json_decref(cfg);
	return rc;
}

static int spawn_runc(const char *runc, const char *bundle, const char *id, pid_t *pid)
{
	char *argv[] = { "runc", "run", "--bundle", (char *)bundle, (char *)id, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	sl_spawn_attrs(&attr);
	rc = posix_spawn(pid, runc, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

int sl_oci_start(struct sl_sandbox *sb, char *msg, size_t msglen)
{
	struct sl_executor *ex = sb->pool->ex;
	const struct sl_function_config *fn = sb->pool->fn;
	char *id = NULL, *dir = NULL, *top = NULL, *chan_dir = NULL;
	int rc;

	if (!ex->runc_path) {
		snprintf(msg, msglen, "%s", OCI_NEEDS_RUNC);
		return -ENOENT;
	}
	if (!ex->cfg->state_dir) {
		snprintf(msg, msglen, "oci sandbox needs a state_dir");
		return -EINVAL;
	}
	id = sl_xasprintf("sluice-%s-%u-%d", fn->name, ++ex->oci_seq, (int)getpid());
	top = sl_xasprintf("%s/sandboxes", ex->cfg->state_dir);
	dir = sl_xasprintf("%s/%s", top, id);
	chan_dir = sl_xasprintf("%s/" OCI_CHANNEL_DIR, dir);
	if ((rc = sl_mkdirs(top, 0755)) != 0 ||
	    (rc = write_bundle(sb->pool, id, dir)) != 0 || (rc = sl_chan_listen(sb, chan_dir)) != 0) {
		snprintf(msg, msglen, "oci bundle %s: %s", dir, strerror(-rc));
		goto out;
	}
	if ((rc = spawn_runc(ex->runc_path, dir, id, &sb->pid)) != 0) {
		snprintf(msg, msglen, "fork/exec %s: %s", ex->runc_path, strerror(-rc));
		sl_chan_unlisten(sb);
		goto out;
	}
	sb->oci_id = id;
	sb->bundle = dir;
	id = dir = NULL;
out:
	if (dir)
		sl_rm_tree(dir);
	free(id);
	free(dir);
	free(top);
	free(chan_dir);
	return rc;
}

/* Reap a runc command, killing it if it has not finished within OCI_RUNC_WAIT_MS: a stuck runc
 * must not stall the loop (these calls are synchronous) or hang shutdown. */
static int wait_runc(pid_t pid, char *const argv[], int *st)
{
	for (int waited = 0; waited < OCI_RUNC_WAIT_MS; waited += 10) {
		pid_t r = waitpid(pid, st, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		usleep(10000);
	}
	sl_warn("executor", "runc %s %s did not finish within %d ms; killed it", argv[1],
		argv[2] ? argv[2] : "", OCI_RUNC_WAIT_MS);
	kill(pid, SIGKILL);
	while (waitpid(pid, st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

#define HELPER_ARGV 8

/* Start `runc ARGS...` (at most HELPER_ARGV - 2 of them) with every stdio on /dev/null: 0 with
 * its pid and the argv it got, or -errno. */
static int spawn_helper(const char *runc, char *const args[], char *argv[HELPER_ARGV], pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	size_t n = 0;
	int rc;

	argv[0] = "runc";
	for (; args[n] && n + 2 < HELPER_ARGV; n++)
		argv[n + 1] = args[n];
	argv[n + 1] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	rc = posix_spawn(pid, runc, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

int sl_oci_runc(const char *runc, char *const args[])
{
	char *argv[HELPER_ARGV];
	pid_t pid;
	int st = 0, rc;

	if ((rc = spawn_helper(runc, args, argv, &pid)) != 0 || (rc = wait_runc(pid, argv, &st)) < 0)
		return rc;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void sl_oci_reap_helpers(struct sl_executor *ex, bool block)
{
	char *argv[] = { "runc", "helper", NULL };
	size_t kept = 0;
	int st;

	for (size_t i = 0; i < ex->n_helpers; i++) {
		pid_t pid = ex->helpers[i], r = waitpid(pid, &st, WNOHANG);
		if (r == 0 && block)
			r = wait_runc(pid, argv, &st) == 0 ? pid : -1;
		if (r == 0)
			ex->helpers[kept++] = pid;
	}
	ex->n_helpers = kept;
}

long sl_ctr_cpu_quota_us(int memory_mb)
{
	long quota = (long)SL_CTR_CPU_PERIOD_US * memory_mb / SL_CTR_CPU_MB;

	return quota < SL_CTR_CPU_MIN_QUOTA_US ? SL_CTR_CPU_MIN_QUOTA_US : quota;
}

/* Run `runc ARGS...` in the background: reaped on SIGCHLD, waited for at executor free. */
static void background_runc(const struct sl_sandbox *sb, char *const args[])
{
	struct sl_executor *ex = sb->pool->ex;
	char *argv[HELPER_ARGV];
	pid_t pid;

	if (spawn_helper(ex->runc_path, args, argv, &pid) != 0) {
		sl_warn(sb->pool->tag, "sandbox %s: cannot run runc %s", sb->oci_id, args[0]);
		return;
	}
	if (ex->n_helpers == ex->cap_helpers) {
		ex->cap_helpers = ex->cap_helpers ? ex->cap_helpers * 2 : 8;
		ex->helpers = sl_xrealloc(ex->helpers, ex->cap_helpers * sizeof(*ex->helpers));
	}
	ex->helpers[ex->n_helpers++] = pid;
}

void sl_oci_kill(const struct sl_sandbox *sb)
{
	char *args[] = { "kill", sb->oci_id, "KILL", NULL };

	if (sb->oci_id)
		background_runc(sb, args);
}

void sl_oci_cleanup(struct sl_sandbox *sb)
{
	/* normally a no-op (runc run deletes what it ran), but not when runc run was killed or
	 * its own clean-up failed */
	char *args[] = { "delete", "--force", sb->oci_id, NULL };

	if (!sb->oci_id)
		return;
	background_runc(sb, args);
	sl_rm_tree(sb->bundle);
	free(sb->oci_id);
	free(sb->bundle);
	sb->oci_id = sb->bundle = NULL;
}
