/* The event loop every Sluice process runs on (libevent).
 *
 * Timers are precise: libevent's default monotonic clock on Linux is the coarse one (a few ms of
 * resolution), which would fire a function's 1 s deadline up to 4 ms early and smear batching
 * windows; deadlines are promises to users, so the precise clock is worth its few ns.
 */
#ifndef SL_LOOP_H
#define SL_LOOP_H

struct event_base;

/* A new loop with precise timers; aborts if libevent cannot make one. */
struct event_base *sl_loop_new(void);

#endif
