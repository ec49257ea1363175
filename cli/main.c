/* sluice: the daemon and its command-line tools. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#define SLUICE_VERSION "0.1.0"

static const char usage[] =
	"usage: sluice <command> [options]\n"
	"\n"
	"commands:\n"
	"  run [-c FILE] [--listen HOST:PORT] [--log-format text|json] [--log-level LEVEL]\n"
	"                    run the daemon (without -c: the embedded default config)\n"
	"  validate FILE     check a config file; exit 0 if valid, 2 if not\n"
	"  invoke FUNCTION [--payload JSON|@FILE] [--async] [--listen HOST:PORT]\n"
	"                    invoke a function through a running daemon (--async: queue it)\n"
	"  status [--listen HOST:PORT] [--json]\n"
	"                    show each trigger's partitions, positions, batches and errors\n"
	"  version           print the version\n";

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? SL_EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return sl_cli_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return sl_cli_validate(argc - 1, argv + 1);
	if (strcmp(argv[1], "invoke") == 0)
		return sl_cli_invoke(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return sl_cli_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("sluice %s\n", SLUICE_VERSION);
		return 0;
	}
	fprintf(stderr, "sluice: unknown command \"%s\"\n\n%s", argv[1], usage);
	return SL_EXIT_USAGE;
}
