/* Executor: a function's layers, merged into the directory container sandboxes see at /opt.
 *
 * Lambda extracts a function's layers into /opt in order, a later layer's files replacing an
 * earlier one's. Here that directory is built on the host when the executor starts:
 * <state_dir>/layers/<function>/, rebuilt from scratch each time (the layers may have changed),
 * by walking each layer in order and hard-linking its files into place (a copy when the layer is
 * on another filesystem), recreating its symlinks and directories with their modes. A path that
 * changes kind between layers (a file over a directory or the reverse) takes the later layer's.
 * The merged directory also gets the empty mount point sluice/ for the agent (SL_OCI_AGENT_DIR),
 * and both drivers bind it read-only at /opt.
 */
#include "executor/pool.h"

#include "config/config.h"
#include "core/fs.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw has no user argument: the walk in progress (the executor is single-threaded). */
static struct {
	const char *src, *dst;
	int rc;
} walk;

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out, rc = 0;
	ssize_t n;

	if (in < 0)
		return -errno;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777)) < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -EIO;
			break;
		}
	if (n < 0)
		rc = -errno;
	close(in);
	if (close(out) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* Make room at dst for an entry of the kind of st: a directory stays if one is wanted. */
static void clear_for(const char *dst, const struct stat *st)
{
	struct stat old;

	if (lstat(dst, &old) != 0)
		return;
	if (S_ISDIR(old.st_mode) && S_ISDIR(st->st_mode))
		return;
	sl_rm_tree(dst);
}

static int place(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char dst[PATH_MAX], target[PATH_MAX];
	int rc = 0;

	(void)ftw;
	if (snprintf(dst, sizeof(dst), "%s%s", walk.dst, path + strlen(walk.src)) >=
	    (int)sizeof(dst))
		return walk.rc = -ENAMETOOLONG;
	clear_for(dst, st);
	if (flag == FTW_D) {
		if (mkdir(dst, st->st_mode & 07777) != 0 && errno != EEXIST)
			rc = -errno;
		else
			chmod(dst, st->st_mode & 07777);
	} else if (flag == FTW_SL) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			rc = -errno;
		else if ((target[n] = '\0', symlink(target, dst)) != 0)
			rc = -errno;
	} else if (flag == FTW_F && S_ISREG(st->st_mode)) {
		if (link(path, dst) != 0)
			rc = errno == EXDEV || errno == EPERM ? copy_file(path, dst, st->st_mode)
							      : -errno;
	} else if (flag == FTW_DNR || flag == FTW_NS) {
		rc = -EACCES;
	}   /* devices, fifos and sockets are not layer content: skipped */
	if (rc != 0)
		walk.rc = rc;
	return rc != 0;
}

int sl_layers_merge(const struct sl_executor *ex, const struct sl_function_config *fn,
		    char **out_dir, char *msg, size_t msglen)
{
	char *top = sl_xasprintf("%s/layers", ex->cfg->state_dir);
	char *dir = sl_xasprintf("%s/%s", top, fn->name);
	char *mount_point = sl_xasprintf("%s/" SL_OCI_AGENT_NAME, dir);
	int rc = 0;

	sl_rm_tree(dir);
	if ((rc = sl_mkdirs(top, 0755)) != 0 || mkdir(dir, 0755) != 0) {
		rc = rc ? rc : -errno;
		snprintf(msg, msglen, "layers: %s: %s", dir, strerror(-rc));
		goto out;
	}
	for (char **layer = fn->layers; layer && *layer && rc == 0; layer++) {
		walk.src = *layer;
		walk.dst = dir;
		walk.rc = 0;
		if (nftw(*layer, place, 32, FTW_PHYS) != 0 || walk.rc != 0) {
			rc = walk.rc ? walk.rc : -errno;
			snprintf(msg, msglen, "layer %s: %s", *layer, strerror(-rc));
		}
	}
	if (rc == 0 && mkdir(mount_point, 0755) != 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(msg, msglen, "layers: %s: %s", mount_point, strerror(errno));
	}
	if (rc == 0)
		chmod(dir, 0755);   /* a layer's root mode must not lock uid 993 out of /opt */
out:
	if (rc == 0) {
		*out_dir = dir;
		dir = NULL;
	} else if (dir) {
		sl_rm_tree(dir);
	}
	free(top);
	free(dir);
	free(mount_point);
	return rc;
}
