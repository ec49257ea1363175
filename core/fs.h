/* Small filesystem helpers. */
#ifndef SL_FS_H
#define SL_FS_H

/* Remove dir and everything below it, not following symlinks nor crossing mount points; a
 * missing dir is not an error. 0 or -errno of the first failure. */
int sl_rm_tree(const char *dir);
/* mkdir -p: path and its missing parents with mode; 0 or -errno. */
int sl_mkdirs(const char *path, unsigned mode);

#endif
