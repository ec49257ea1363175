/* The state directory: spools, checkpoints and default dead-letter files live here. It is created
 * if missing and locked (flock on "<dir>/lock") for as long as the daemon runs, so a second daemon
 * on the same directory fails at start instead of corrupting the first one's spools.
 *
 * Node id. "<hostname>-<8 hex digits>", made at the first start and kept in "<dir>/node-id", so
 * a node keeps its name across restarts (a Redis consumer reclaims its own pending entries) and
 * two nodes on one host differ.
 */
#ifndef SL_STATE_DIR_H
#define SL_STATE_DIR_H

struct sl_state_dir;

int sl_state_dir_acquire(const char *path, struct sl_state_dir **out);
void sl_state_dir_release(struct sl_state_dir *state);
/* Valid while state is held. */
const char *sl_state_dir_node_id(const struct sl_state_dir *state);

#endif
