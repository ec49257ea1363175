/* The `sluice` command's subcommands. Each returns the process exit code. */
#ifndef SL_CLI_H
#define SL_CLI_H

#define SL_EXIT_USAGE 64     /* bad command line */
#define SL_EXIT_CONFIG 2     /* invalid configuration */

int sl_cli_run(int argc, char **argv);
int sl_cli_validate(int argc, char **argv);
int sl_cli_invoke(int argc, char **argv);
int sl_cli_status(int argc, char **argv);

/* Where the daemon listens unless --listen or $SLUICE_LISTEN says otherwise. */
#define SL_CLI_LISTEN "127.0.0.1:8070"

/* Load -c FILE, or the embedded default when file is NULL; prints errors; NULL on failure. */
struct sl_config *sl_cli_load_config(const char *file);

#endif
