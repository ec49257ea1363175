/* Small filesystem helpers. See fs.h. */
#include "core/fs.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -errno : 0;
}

int sl_rm_tree(const char *dir)
{
	int rc = nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);

	return rc == -1 ? (errno == ENOENT ? 0 : -errno) : rc;
}
