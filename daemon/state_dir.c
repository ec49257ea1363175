/* State directory creation and locking; see state_dir.h. */
#include "daemon/state_dir.h"

#include "core/log.h"
#include "core/fs.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define NODE_ID_MAX 128

struct sl_state_dir {
	int lock_fd;
	char node_id[NODE_ID_MAX];
};

static int read_node_id(const char *file, char *id)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return -errno;
	bool ok = fgets(id, NODE_ID_MAX, f) != NULL;
	fclose(f);
	id[strcspn(id, "\n")] = '\0';
	return ok && id[0] ? 0 : -EINVAL;
}

/* A new id, written to a temporary file, synced and renamed into place. */
static int make_node_id(const char *dir, const char *file, char *id)
{
	char host[64] = "node";
	uint32_t r;

	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, ".")] = '\0';
	if (getentropy(&r, sizeof(r)) < 0)
		return -errno;
	snprintf(id, NODE_ID_MAX, "%s-%08x", host, (unsigned)r);
	char *tmp = sl_xasprintf("%s/node-id.tmp", dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = fd < 0 ? -errno : 0;
	if (rc == 0 && (dprintf(fd, "%s\n", id) < 0 || fsync(fd) < 0))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, file) < 0)
		rc = -errno;
	free(tmp);
	return rc;
}

static int load_node_id(const char *dir, char *id)
{
	char *file = sl_xasprintf("%s/node-id", dir);
	int rc = read_node_id(file, id);

	if (rc == -ENOENT)
		rc = make_node_id(dir, file, id);
	if (rc < 0)
		sl_error("sluice", "cannot %s %s: %s", rc == -EINVAL ? "use the node id in" :
			 "read or write", file, rc == -EINVAL ? "empty" : strerror(-rc));
	free(file);
	return rc;
}

int sl_state_dir_acquire(const char *path, struct sl_state_dir **out)
{
	int rc = sl_mkdirs(path, 0755);
	if (rc < 0) {
		sl_error("sluice", "cannot create state directory %s: %s", path, strerror(-rc));
		return rc;
	}
	char *lock_path = sl_xasprintf("%s/lock", path);
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(lock_path);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		sl_error("sluice", "state directory %s is %s", path,
			 rc == -EWOULDBLOCK ? "in use by another sluice daemon" : strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	struct sl_state_dir *state = sl_xcalloc(1, sizeof(*state));
	state->lock_fd = fd;
	if ((rc = load_node_id(path, state->node_id)) < 0) {
		sl_state_dir_release(state);
		return rc;
	}
	*out = state;
	return 0;
}

const char *sl_state_dir_node_id(const struct sl_state_dir *state)
{
	return state->node_id;
}

void sl_state_dir_release(struct sl_state_dir *state)
{
	if (!state)
		return;
	close(state->lock_fd);
	free(state);
}
