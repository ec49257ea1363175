/* Executor: the container drivers' cgroup side (cgroup v1) and the freezer.
 *
 * Where a container's cgroups are. oci: its config.json gives the relative cgroupsPath
 * "sluice/<id>", which runc resolves per controller below its own cgroup; runc is our child, so
 * that is ours: /sys/fs/cgroup/<controller>/<our path from /proc/self/cgroup>/sluice/<id>. (The
 * same path /proc/<container init pid>/cgroup shows; the oci tests check it that way.) docker:
 * the engine chose the path, so it is read from /proc/<container init pid>/cgroup, the pid the
 * engine's inspect gave (docker.c).
 *
 * Out of memory. When the agent reports that the runtime exited (or the agent is gone), the
 * container's memory.oom_control tells whether the memory cgroup's OOM killer killed something
 * ("oom_kill N", N > 0); memory.max_usage_in_bytes is then the limit, reported as Max Memory Used.
 * Both must be read before runc deletes the container (it does once its PID 1 exits): when the
 * agent itself was the victim the cgroup may already be gone and the exit is a plain one.
 *
 * Freezer. What `runc pause ID` / `runc resume ID` do, done directly: write FROZEN / THAWED to the
 * container's freezer.state (microseconds, no runc process). Not runc pause itself: with the CPU
 * quota (oci.c) the tasks are often CFS-throttled, and runc 1.1.5 then gives up with "unable to
 * freeze" (and thaws) because they do not reach the freezer within its short retry loop. The
 * kernel finishes a freeze asynchronously (FREEZING, then FROZEN once every task stopped, at the
 * latest when a throttled one next runs); a thaw is complete when the write returns, so the
 * INVOKE frame is sent after it. runc sees such a container as "paused" and refuses to exec
 * into it; it is thawed before it is killed (a frozen task dies only once thawed).
 */
#include "executor/pool.h"

#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The cgroup path of process pid (0: ourselves) for controller ctrl in /proc/PID/cgroup
 * ("4:memory:/a/b" or "2:cpu,cpuacct:/"). */
static int proc_cgroup(pid_t pid, const char *ctrl, char *out, size_t len)
{
	char file[64];

	if (pid > 0)
		snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	else
		snprintf(file, sizeof(file), "/proc/self/cgroup");
	FILE *f = fopen(file, "r");
	char line[1024];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc != 0 && fgets(line, sizeof(line), f)) {
		char *list = strchr(line, ':'), *path, *save = NULL;
		if (!list || !(path = strchr(++list, ':')))
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save))
			if (strcmp(c, ctrl) == 0) {
				snprintf(out, len, "%s", strcmp(path, "/") == 0 ? "" : path);
				rc = 0;
			}
	}
	fclose(f);
	return rc;
}

/* oci: below our own cgroup; docker: the cgroup of the container's init (-ESRCH until the
 * driver knows its pid). */
static int cgroup_path(const struct sl_sandbox *sb, const char *ctrl, const char *file,
		       char *path, size_t len)
{
	char cg[512];
	int rc;

	if (sb->docker) {
		if (sb->cgroup_pid <= 0)
			return -ESRCH;
		if ((rc = proc_cgroup(sb->cgroup_pid, ctrl, cg, sizeof(cg))) != 0)
			return rc;
		snprintf(path, len, CGROUP_ROOT "/%s%s/%s", ctrl, cg, file);
		return 0;
	}
	if (!sb->oci_id)
		return -EINVAL;
	if ((rc = proc_cgroup(0, ctrl, cg, sizeof(cg))) != 0)
		return rc;
	snprintf(path, len, CGROUP_ROOT "/%s%s/sluice/%s/%s", ctrl, cg, sb->oci_id, file);
	return 0;
}

int sl_oci_cgroup_read(const struct sl_sandbox *sb, const char *ctrl, const char *file,
		       char *buf, size_t len)
{
	char path[1024];
	int rc;

	if ((rc = cgroup_path(sb, ctrl, file, path, sizeof(path))) != 0)
		return rc;
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, len - 1, f);
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	buf[n] = '\0';
	return rc;
}

bool sl_oci_oom_killed(const struct sl_sandbox *sb, long *max_kb)
{
	char buf[512];
	const char *p;

	if (sl_oci_cgroup_read(sb, "memory", "memory.oom_control", buf, sizeof(buf)) != 0 ||
	    !(p = strstr(buf, "oom_kill ")) || strtol(p + 9, NULL, 10) <= 0)
		return false;
	if (sl_oci_cgroup_read(sb, "memory", "memory.max_usage_in_bytes", buf, sizeof(buf)) == 0)
		*max_kb = strtol(buf, NULL, 10) / 1024;
	return true;
}

static int freezer_set(const struct sl_sandbox *sb, const char *state)
{
	char path[1024];
	int rc, fd;

	if ((rc = cgroup_path(sb, "freezer", "freezer.state", path, sizeof(path))) != 0)
		return rc;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	rc = write(fd, state, strlen(state)) == (ssize_t)strlen(state) ? 0 : -errno;
	close(fd);
	return rc;
}

void sl_oci_freeze(struct sl_sandbox *sb)
{
	int rc;

	if (!sl_sandbox_in_container(sb) || sb->frozen || sb->reaped)
		return;
	if ((rc = freezer_set(sb, "FROZEN")) == 0)
		sb->frozen = true;
	else if (rc != -ESRCH)   /* a docker container whose pid is not known yet stays thawed */
		sl_warn(sb->pool->tag, "sandbox %s: freeze: %s", sb->oci_id, strerror(-rc));
}

int sl_oci_thaw(struct sl_sandbox *sb)
{
	if (!sb->frozen)
		return 0;
	sb->frozen = false;   /* a failure means the container is gone or broken */
	return freezer_set(sb, "THAWED");
}
