/* Latency statistics shared by the benchmark clients: a monotonic clock in microseconds and
 * nearest-rank percentiles, printed as one JSON object per test. Header-only, like http1.h. */
#ifndef SL_BENCH_STATS_H
#define SL_BENCH_STATS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static inline double pct(const double *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

/* Sort v and print {"test","n","errors","min_us","p50_us","p90_us","p99_us","max_us",
 * "mean_us"} plus "wall_us" when wall_us >= 0. */
static inline void print_stats(const char *name, double *v, size_t n, unsigned errors,
			       double wall_us)
{
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	printf("{\"test\":\"%s\",\"n\":%zu,\"errors\":%u,\"min_us\":%.1f,\"p50_us\":%.1f,"
	       "\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f", name, n, errors,
	       n ? v[0] : 0, n ? pct(v, n, 50) : 0, n ? pct(v, n, 90) : 0, n ? pct(v, n, 99) : 0,
	       n ? v[n - 1] : 0, n ? sum / (double)n : 0);
	if (wall_us >= 0)
		printf(",\"wall_us\":%.1f", wall_us);
	printf("}\n");
}

#endif
