/* State directory creation and locking; see state_dir.h. */
#include "daemon/state_dir.h"

#include "core/log.h"
#include "core/fs.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct sl_state_dir {
	int lock_fd;
};

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
	struct sl_state_dir *state = sl_xmalloc(sizeof(*state));
	state->lock_fd = fd;
	*out = state;
	return 0;
}

void sl_state_dir_release(struct sl_state_dir *state)
{
	if (!state)
		return;
	close(state->lock_fd);
	free(state);
}
