/* Capped exponential backoff with full jitter; see backoff.h. */
#include "dispatcher/backoff.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static _Thread_local uint64_t rng_state;

static uint64_t seed(void)
{
	uint64_t s = 0;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid();
	}
	return s ? s : 0x9e3779b97f4a7c15ull;
}

uint64_t sl_rand_default(void *arg)
{
	(void)arg;
	if (!rng_state)
		rng_state = seed();
	/* xorshift64* (Vigna) */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

uint64_t sl_backoff_cap_ms(unsigned retry, uint64_t base_ms, uint64_t max_ms)
{
	uint64_t cap = base_ms;

	for (unsigned i = 1; i < retry && cap && cap < max_ms; i++)
		cap = cap > UINT64_MAX / 2 ? UINT64_MAX : cap * 2;
	return cap < max_ms ? cap : max_ms;
}

uint64_t sl_backoff_full_jitter(unsigned retry, uint64_t base_ms, uint64_t max_ms, sl_rand_fn rnd,
				void *rnd_arg)
{
	uint64_t cap = sl_backoff_cap_ms(retry, base_ms, max_ms);
	uint64_t r = rnd ? rnd(rnd_arg) : sl_rand_default(NULL);

	/* Scale the top 53 bits to [0, cap]: r/2^53 is in [0, 1), so the product stays <= cap. */
	double frac = (double)(r >> 11) / 9007199254740992.0;
	uint64_t delay = (uint64_t)(frac * ((double)cap + 1.0));
	return delay > cap ? cap : delay;
}
