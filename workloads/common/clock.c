/*
 * clock.c - monotonic time, TSC calibration, sleeping.
 * Owns the conversion of sampled cycles to nanoseconds; does not own the
 * sampling itself (hist.h) nor the phases (bench.c).
 */
#include "clock.h"

#include <errno.h>
#include <time.h>

static double clock_cycles_per_ns; /* cycles per nanosecond; 0 until calibrated */

double wl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void wl_sleep(double seconds)
{
	struct timespec ts;
	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

double wl_clock_calibrate(void)
{
	if (clock_cycles_per_ns > 0)
		return clock_cycles_per_ns;
	double best = 0;
	/* Three 5 ms windows; keep the median-ish (middle) rate to shrug off a
	 * preemption in one window. */
	double r[3];
	for (int i = 0; i < 3; i++) {
		double t0 = wl_now();
		uint64_t c0 = wl_rdtsc();
		double t1;
		do
			t1 = wl_now();
		while (t1 - t0 < 0.005);
		uint64_t c1 = wl_rdtsc();
		r[i] = (double)(c1 - c0) / ((t1 - t0) * 1e9);
	}
	best = r[0];
	if ((r[1] <= r[0] && r[0] <= r[2]) || (r[2] <= r[0] && r[0] <= r[1]))
		best = r[0];
	else if ((r[0] <= r[1] && r[1] <= r[2]) || (r[2] <= r[1] && r[1] <= r[0]))
		best = r[1];
	else
		best = r[2];
	clock_cycles_per_ns = best > 0 ? best : 1.0;
	return clock_cycles_per_ns;
}

double wl_cycles_to_ns(uint64_t cycles)
{
	return (double)cycles / wl_clock_calibrate();
}
