/* The daemon: builds every stage from a validated config and runs them on one event loop.
 *
 * Start order: state directory (locked, so two daemons never share one), executor, destinations,
 * sources with their spools, one trigger per enabled trigger fed from its source's spool, then the
 * HTTP listener (http source, control API, health). Shutdown on SIGTERM/SIGINT: stop listening and
 * stop sources (nothing new is accepted), let every trigger finish its in-flight batches and
 * commit, stop the sandboxes, answer pending acknowledgements, exit 0. A second signal exits at
 * once; everything not committed is redelivered on the next start.
 */
#ifndef SL_DAEMON_H
#define SL_DAEMON_H

struct sl_config;

struct sl_daemon_options {
	const char *listen;       /* overrides cfg->listen when set */
	const char *agent_path;   /* the sluice-init binary */
};

/* Run until shut down. Returns the process exit code (0 after a graceful stop). */
int sl_daemon_run(const struct sl_config *cfg, const struct sl_daemon_options *opts);

#endif
