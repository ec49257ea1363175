/* `sluice run` and `sluice validate`. */
#include "cli/cli.h"

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "daemon/daemon.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRBUF 16384

struct sl_config *sl_cli_load_config(const char *file)
{
	char *err = sl_xcalloc(1, ERRBUF);
	struct sl_config *cfg = file ? sl_config_load_file(file, err, ERRBUF)
				     : sl_config_load_default(err, ERRBUF);

	if (!cfg)
		fprintf(stderr, "%s%s", err, err[0] && err[strlen(err) - 1] == '\n' ? "" : "\n");
	free(err);
	return cfg;
}

/* The sluice-init binary beside this executable. */
static char *agent_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return sl_xstrdup("sluice-init");
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	return sl_xasprintf("%s/sluice-init", self);
}

static int run_usage(const char *what)
{
	fprintf(stderr, "sluice run: %s\nusage: sluice run [-c FILE] [--listen HOST:PORT] "
		"[--log-format text|json] [--log-level error|warn|info|debug]\n", what);
	return SL_EXIT_USAGE;
}

int sl_cli_run(int argc, char **argv)
{
	const char *file = NULL, *listen = NULL, *format = NULL, *level = NULL;

	for (int i = 1; i < argc; i++) {
		const char **slot = strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0
					    ? &file
				    : strcmp(argv[i], "--listen") == 0     ? &listen
				    : strcmp(argv[i], "--log-format") == 0 ? &format
				    : strcmp(argv[i], "--log-level") == 0  ? &level
									   : NULL;
		if (!slot)
			return run_usage("unknown option");
		if (++i == argc)
			return run_usage("option needs a value");
		*slot = argv[i];
	}
	struct sl_config *cfg = sl_cli_load_config(file);
	if (!cfg)
		return SL_EXIT_CONFIG;
	format = format ? format : cfg->log_format;
	int threshold = sl_log_level_parse(level ? level : cfg->log_level);
	if (threshold < 0 || (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)) {
		sl_config_free(cfg);
		return run_usage("--log-level takes error|warn|info|debug, --log-format text|json");
	}
	sl_log_configure((enum sl_log_level)threshold, strcmp(format, "json") == 0);

	char *agent = agent_path();
	struct sl_daemon_options opts = { .listen = listen, .agent_path = agent };
	int rc = sl_daemon_run(cfg, &opts);
	free(agent);
	sl_config_free(cfg);
	return rc;
}

int sl_cli_validate(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sluice validate FILE\n");
		return SL_EXIT_USAGE;
	}
	struct sl_config *cfg = sl_cli_load_config(argv[1]);
	if (!cfg)
		return SL_EXIT_CONFIG;
	printf("%s: valid (%zu functions, %zu sources, %zu triggers, %zu destinations)\n", argv[1],
	       cfg->n_functions, cfg->n_sources, cfg->n_triggers, cfg->n_destinations);
	sl_config_free(cfg);
	return 0;
}
