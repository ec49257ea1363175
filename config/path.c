/* Lexical path normalization for config paths; see sl_config_abspath() in props.h.
 *
 * Paths in the config are resolved against the config file's directory once, at load, and
 * stored absolute, so nothing later depends on the daemon's working directory. Normalization is
 * lexical ("a/./b/../c" -> "a/c") and never touches the file system: the stored path is the one
 * the user wrote, made absolute, even when parts of it do not exist yet.
 */
#include <stdlib.h>
#include <string.h>

#include "config/props.h"
#include "core/mem.h"

char *sl_config_abspath(const char *base, const char *path)
{
	char *joined = path[0] == '/' ? sl_xstrdup(path) : sl_xasprintf("%s/%s", base, path);
	char *out = sl_xmalloc(strlen(joined) + 2), *save = NULL;
	size_t n = 0;

	for (char *seg = strtok_r(joined, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			continue;
		}
		size_t len = strlen(seg);
		out[n++] = '/';
		memcpy(out + n, seg, len);
		n += len;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	free(joined);
	return out;
}
