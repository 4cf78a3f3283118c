/*
 * hist.h - sampled per-operation latency: a log-linear histogram of TSC
 * cycles, one per thread, merged at the end.
 *
 * Sampling: one operation in WL_SAMPLE_EVERY is timed with the TSC. The
 * measured path costs one test of the loop counter, and on a sampled
 * operation two rdtsc and one counter increment: no system call, lock or
 * allocation. Buckets: values below 16 cycles exactly, above that 16
 * buckets per power of two (error at most 1/16, about 6 %).
 *
 * Usage on a measured loop:
 *     uint64_t t0 = wl_lat_begin(i);
 *     ... one operation ...
 *     wl_lat_end(hist, t0);
 */
#ifndef WL_HIST_H
#define WL_HIST_H

#include <stdint.h>

#include "clock.h"

#define WL_SAMPLE_EVERY 64 /* operations per timed sample; a power of two */
#define WL_HIST_SUB_BITS 4
#define WL_HIST_SUB (1u << WL_HIST_SUB_BITS) /* buckets per power of two */
#define WL_HIST_BUCKETS ((64 - WL_HIST_SUB_BITS + 1) * WL_HIST_SUB)

typedef struct wl_hist {
	uint64_t count;                   /* samples recorded */
	uint64_t max;                     /* largest sample, cycles */
	uint64_t bucket[WL_HIST_BUCKETS]; /* samples per bucket */
} wl_hist_t;

/* The percentiles the result line reports, in nanoseconds. */
typedef struct wl_latency {
	double p50, p90, p99, p999, max; /* ns; all 0 without samples */
	uint64_t samples;                /* samples behind them */
} wl_latency_t;

static inline unsigned wl_hist_index(uint64_t v)
{
	if (v < WL_HIST_SUB)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);
	return (e - WL_HIST_SUB_BITS + 1) * WL_HIST_SUB +
	       (unsigned)((v >> (e - WL_HIST_SUB_BITS)) & (WL_HIST_SUB - 1));
}

/* Record one sample of `cycles`. Not thread-safe: one histogram per thread. */
static inline void wl_hist_add(wl_hist_t *h, uint64_t cycles)
{
	h->bucket[wl_hist_index(cycles)]++;
	h->count++;
	if (cycles > h->max)
		h->max = cycles;
}

/* Start timing operation number `i` if it is sampled; returns 0 if not. */
static inline uint64_t wl_lat_begin(uint64_t i)
{
	return (i & (WL_SAMPLE_EVERY - 1)) ? 0 : wl_rdtsc();
}

/* Finish the operation started by wl_lat_begin; records it if sampled. */
static inline void wl_lat_end(wl_hist_t *h, uint64_t t0)
{
	if (t0)
		wl_hist_add(h, wl_rdtsc() - t0);
}

/* Like wl_lat_end, for a timed batch of `n` operations: records the mean. */
static inline void wl_lat_end_n(wl_hist_t *h, uint64_t t0, uint64_t n)
{
	if (t0 && n)
		wl_hist_add(h, (wl_rdtsc() - t0) / n);
}

/* Add every sample of `src` to `dst`. Not thread-safe. */
void wl_hist_merge(wl_hist_t *dst, const wl_hist_t *src);

/* Value at quantile q (0..1) of `h`, cycles: the midpoint of the bucket
 * holding it, at most the maximum; 0 without samples. */
uint64_t wl_hist_quantile(const wl_hist_t *h, double q);

/* Percentiles of `h` in nanoseconds (each a bucket's midpoint, at most the
 * maximum). */
wl_latency_t wl_hist_latency(const wl_hist_t *h);

#endif /* WL_HIST_H */
