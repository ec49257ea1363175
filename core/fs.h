/* Small filesystem helpers. */
#ifndef SL_FS_H
#define SL_FS_H

/* Remove dir and everything below it, not following symlinks nor crossing mount points; a
 * missing dir is not an error. 0 or -errno of the first failure. */
int sl_rm_tree(const char *dir);

#endif
