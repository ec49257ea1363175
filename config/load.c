/* Loading a config: read, parse, decode by the property tables, link, and hand back all errors.
 *
 * Three passes over one parsed document: jansson parses (rejecting duplicate keys; a syntax
 * error is reported as "file:line:col: invalid JSON: ..." and stops there), the top-level table
 * decodes everything including the sections, then the link pass checks what spans entries
 * (references by name, payload format against the source kind). Every error of every pass is
 * collected; the config is returned only when there are none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/props.h"
#include "core/mem.h"

/* Generated from config/sluice.json by tools/embed.sh (build/<mode>/gen/default_config.c). */
extern const char sl_default_config[];
extern const size_t sl_default_config_len;

static void check_spool(struct sl_decode *dc, const struct sl_config *cfg)
{
	if (cfg->spool_max_bytes && cfg->spool_segment_bytes > cfg->spool_max_bytes)
		sl_diag_add(dc->diag, "$.spool_segment_bytes", "expected at most spool_max_bytes "
			    "(%llu), got %llu", (unsigned long long)cfg->spool_max_bytes,
			    (unsigned long long)cfg->spool_segment_bytes);
}

/* base_dir made absolute (NULL: the current directory); NULL after reporting when impossible. */
static char *absolute_base(struct sl_diag *diag, const char *base_dir)
{
	if (base_dir && base_dir[0] == '/')
		return sl_config_abspath("/", base_dir);
	char *cwd = getcwd(NULL, 0);
	if (!cwd) {
		sl_diag_addraw(diag, ": cannot resolve relative paths: current directory: %s",
			       strerror(errno));
		return NULL;
	}
	char *abs = sl_config_abspath(cwd, base_dir ? base_dir : ".");
	free(cwd);
	return abs;
}

static struct sl_config *decode_root(struct sl_diag *diag, const json_t *root, const char *name,
				     const char *base_dir)
{
	struct sl_config *cfg = sl_xcalloc(1, sizeof(*cfg));
	char got[SL_DIAG_QUOTE_MAX + 32];

	cfg->path = sl_xstrdup(name);
	if (!json_is_object(root)) {
		sl_describe(root, got, sizeof(got));
		sl_diag_add(diag, "$", "expected an object, got %s", got);
		return cfg;
	}
	char *base = absolute_base(diag, base_dir);
	if (!base)
		return cfg;
	struct sl_decode dc = { .diag = diag, .base_dir = base, .cfg = cfg };
	sl_props_decode(&dc, "$", root, sl_props_top, NULL, cfg);
	check_spool(&dc, cfg);
	sl_props_link(&dc, root, sl_props_top);
	free(base);
	return cfg;
}

struct sl_config *sl_config_load_text(const char *text, size_t len, const char *name,
				      const char *base_dir, char *err, size_t errlen)
{
	struct sl_diag diag;
	struct sl_config *cfg = NULL;
	json_error_t je;

	sl_diag_init(&diag, name);
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		sl_diag_addraw(&diag, ":%d:%d: invalid JSON: %s", je.line, je.column, je.text);
	else
		cfg = decode_root(&diag, root, name, base_dir);
	json_decref(root);
	if (diag.count) {
		sl_diag_copy(&diag, err, errlen);
		sl_config_free(cfg);
		cfg = NULL;
	} else if (errlen) {
		err[0] = '\0';
	}
	sl_diag_release(&diag);
	return cfg;
}

/* Read the whole file (at most SL_CONFIG_MAX_BYTES) into *out; 0 or -errno. */
static int read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	char *buf = NULL;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode) || st.st_size > SL_CONFIG_MAX_BYTES) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EFBIG;
		goto out;
	}
	buf = sl_xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO; /* shrank while reading */
			goto out;
		}
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

struct sl_config *sl_config_load_file(const char *path, char *err, size_t errlen)
{
	char *text = NULL, *dir = sl_xstrdup(path), *slash = strrchr(dir, '/');
	size_t len = 0;
	struct sl_config *cfg = NULL;

	int rc = read_file(path, &text, &len);
	if (rc == -EFBIG)
		snprintf(err, errlen, "%s: cannot load: larger than %d bytes", path,
			 SL_CONFIG_MAX_BYTES);
	else if (rc < 0)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	if (rc < 0)
		goto out;
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	cfg = sl_config_load_text(text, len, path, slash ? dir : ".", err, errlen);
out:
	free(text);
	free(dir);
	return cfg;
}

struct sl_config *sl_config_load_default(char *err, size_t errlen)
{
	/* the embedded file's paths are relative to config/, as the file's own are */
	return sl_config_load_text(sl_default_config, sl_default_config_len,
				   "(embedded config/sluice.json)", "config", err, errlen);
}

void sl_config_free(struct sl_config *cfg)
{
	if (!cfg)
		return;
	sl_props_release(sl_props_top, cfg);
	free(cfg->path);
	free(cfg);
}

const struct sl_function_config *sl_config_function(const struct sl_config *cfg, const char *name)
{
	return sl_section_find(&sl_section_functions, cfg, name);
}

const struct sl_source_config *sl_config_source(const struct sl_config *cfg, const char *name)
{
	return sl_section_find(&sl_section_sources, cfg, name);
}

const struct sl_destination_config *sl_config_destination(const struct sl_config *cfg,
							  const char *name)
{
	return sl_section_find(&sl_section_destinations, cfg, name);
}

const struct sl_trigger_config *sl_config_trigger(const struct sl_config *cfg, const char *name)
{
	return sl_section_find(&sl_section_triggers, cfg, name);
}
