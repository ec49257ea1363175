/* Backoff: how long to wait before retry n of a failed delivery.
 *
 * One function for the whole dispatcher (invocation retries and destination retries): capped
 * exponential with full jitter, as in fluent-bit's backoff_full_jitter() and the AWS
 * architecture blog's "Exponential Backoff And Jitter":
 *
 *     cap(n)   = min(max_ms, base_ms * 2^(n-1))      n = 1, 2, 3, ... (retry number)
 *     delay(n) = uniform random integer in [0, cap(n)]
 *
 * Full jitter spreads retries of many failing lanes over the whole interval instead of letting
 * them fire together. The random source is injectable so tests can pin the schedule: a source
 * returning 0 gives delay 0, one returning UINT64_MAX gives exactly cap(n).
 */
#ifndef SL_BACKOFF_H
#define SL_BACKOFF_H

#include <stdint.h>

/* A uniform random 64-bit value. */
typedef uint64_t (*sl_rand_fn)(void *arg);

/* The default source: xorshift64* per thread, seeded from getrandom(2). arg is unused. */
uint64_t sl_rand_default(void *arg);

/* The cap for retry n (1-based; n = 0 is treated as 1): min(max_ms, base_ms * 2^(n-1)),
 * without overflow. */
uint64_t sl_backoff_cap_ms(unsigned retry, uint64_t base_ms, uint64_t max_ms);

/* Delay before retry n: uniform in [0, sl_backoff_cap_ms(n, base_ms, max_ms)], drawn from rnd
 * (sl_rand_default when rnd is NULL). */
uint64_t sl_backoff_full_jitter(unsigned retry, uint64_t base_ms, uint64_t max_ms, sl_rand_fn rnd,
				void *rnd_arg);

#endif
