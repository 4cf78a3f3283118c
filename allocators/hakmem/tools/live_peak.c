/*
 * live_peak.c - a diagnostic, not a workload: the peak of the bytes a
 * program holds in blocks of at least --min bytes, under any allocator, so
 * that a peak RSS can be split into what the program held and what the
 * allocator kept. Preload it before the allocator:
 *
 *   gcc -O2 -shared -fPIC -o /tmp/live_peak.so allocators/hakmem/tools/live_peak.c -ldl -pthread
 *   LD_PRELOAD="/tmp/live_peak.so build/lib/libhakmem.so" build/system/mid_mt --threads 4
 *   LD_PRELOAD="/tmp/live_peak.so /usr/lib/x86_64-linux-gnu/libmimalloc.so.2" build/system/mid_mt --threads 4
 *
 * It counts malloc and free only (a program that also calls calloc,
 * realloc or the aligned family is miscounted), by the allocator's usable
 * size, in one counter per thread; a sampling thread
 * sums them every 50 us, and the largest sum is printed at exit
 * ("live_peak MiB"). Blocks under LIVE_PEAK_MIN bytes (environment,
 * default 2048) are not counted, which keeps the per-call cost to the
 * large blocks the question is usually about.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLOTS 64 /* counters; threads share them modulo SLOTS */

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);
static size_t (*next_usable)(void *);
static size_t min_size = 2048;

static struct {
	_Atomic long bytes;
	char pad[64 - sizeof(long)];
} counter[SLOTS];
static _Atomic int threads_seen;
static __thread int my_counter = -1;
static long peak;
static _Atomic int stopping;

static _Atomic long *mine(void)
{
	if (my_counter < 0)
		my_counter = atomic_fetch_add(&threads_seen, 1) % SLOTS;
	return &counter[my_counter].bytes;
}

static void *sample(void *arg)
{
	(void)arg;
	struct timespec gap = {0, 50000};
	while (!atomic_load(&stopping)) {
		long sum = 0;
		for (int i = 0; i < SLOTS; i++)
			sum += atomic_load_explicit(&counter[i].bytes, memory_order_relaxed);
		if (sum > peak)
			peak = sum;
		nanosleep(&gap, NULL);
	}
	return NULL;
}

__attribute__((constructor)) static void live_peak_start(void)
{
	next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	next_usable = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
	const char *m = getenv("LIVE_PEAK_MIN");
	if (m)
		min_size = strtoul(m, NULL, 10);
	pthread_t t;
	if (pthread_create(&t, NULL, sample, NULL) == 0)
		pthread_detach(t);
}

__attribute__((destructor)) static void live_peak_report(void)
{
	atomic_store(&stopping, 1);
	fprintf(stderr, "live_peak %.1f MiB\n", (double)peak / 1048576.0);
}

void *malloc(size_t n)
{
	if (!next_malloc) /* dlsym itself may allocate before it returns */
		return NULL;
	void *p = next_malloc(n);
	size_t u = p ? next_usable(p) : 0;
	if (u >= min_size)
		atomic_fetch_add_explicit(mine(), (long)u, memory_order_relaxed);
	return p;
}

void free(void *p)
{
	if (!p)
		return;
	size_t u = next_usable(p);
	if (u >= min_size)
		atomic_fetch_sub_explicit(mine(), (long)u, memory_order_relaxed);
	next_free(p);
}
