/*
 * clock.h - the workloads' clocks: CLOCK_MONOTONIC for phases, the TSC for
 * sampled per-operation latency.
 *
 * wl_clock_calibrate() measures the TSC rate against CLOCK_MONOTONIC once at
 * start; wl_cycles_to_ns() converts afterwards. wl_rdtsc() is the only thing
 * called on a measured path: one instruction, no system call.
 */
#ifndef WL_CLOCK_H
#define WL_CLOCK_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t wl_rdtsc(void)
{
	return __rdtsc();
}
#else
#include <time.h>
/* Without a TSC the "cycles" are nanoseconds of CLOCK_MONOTONIC (vDSO). */
static inline uint64_t wl_rdtsc(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
#endif

/* Seconds since an arbitrary origin, CLOCK_MONOTONIC. Thread-safe. */
double wl_now(void);

/* Measure TSC cycles per nanosecond (about 20 ms, once, before threads
 * start). Not thread-safe; later calls return the first result. */
double wl_clock_calibrate(void);

/* Convert a TSC cycle count to nanoseconds (calibrates if not done yet). */
double wl_cycles_to_ns(uint64_t cycles);

/* Sleep `seconds` (>= 0), resuming after signals. */
void wl_sleep(double seconds);

#endif /* WL_CLOCK_H */
