/*
 * free_burst.c - a diagnostic, not a workload: the cost of one local free
 * when a large live set is freed in random order (fragmentation's second
 * step without its read-back of each block, which hides the allocator's
 * share behind the workload's own misses).
 *
 * Allocates N blocks of 16 - 512 bytes drawn as fragmentation draws its
 * first live set (wl_rng_logsize, seed 12345), writes each whole, shuffles
 * them, then frees 90 % and times only those frees. With a second argument
 * 1, each free first reads the block's first word (the block's line in
 * cache, as in fragmentation).
 *
 *   gcc -O2 -Iworkloads/common -o /tmp/free_burst allocators/hakmem/tools/free_burst.c
 *   LD_PRELOAD=build/lib/libhakmem.so /tmp/free_burst 600000 0
 *
 * Prints "build <ms> free <ms> ns/free <ns>" on stderr. Compare libraries
 * run for run in a shuffled order (docs/PERFORMANCE.md, "How to measure").
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rng.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 600000;
	int touch = argc > 2 ? atoi(argv[2]) : 0;
	if (n < 10) {
		fprintf(stderr, "usage: free_burst [blocks >= 10] [touch 0|1]\n");
		return 2;
	}
	void **p = malloc(n * sizeof *p);
	if (!p) {
		fprintf(stderr, "free_burst: out of memory for %zu pointers\n", n);
		return 1;
	}
	wl_rng_t rng;
	wl_rng_seed(&rng, 12345, 0);
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		size_t size = (size_t)wl_rng_logsize(&rng, 16, 512);
		p[i] = malloc(size);
		if (!p[i]) {
			fprintf(stderr, "free_burst: malloc(%zu) returned NULL\n", size);
			return 1;
		}
		memset(p[i], (int)i, size);
	}
	double t1 = now();
	size_t nfree = n / 10 * 9;
	for (size_t k = 0; k < nfree; k++) { /* a partial Fisher-Yates shuffle */
		size_t j = k + (size_t)wl_rng_below(&rng, n - k);
		void *t = p[k];
		p[k] = p[j];
		p[j] = t;
	}
	uint64_t sum = 0;
	double t2 = now();
	for (size_t k = 0; k < nfree; k++) {
		if (touch)
			sum += *(volatile uint64_t *)p[k];
		free(p[k]);
	}
	double t3 = now();
	fprintf(stderr, "build %.2f free %.2f ns/free %.1f\n", (t1 - t0) * 1e3, (t3 - t2) * 1e3,
		(t3 - t2) * 1e9 / (double)nfree);
	(void)sum;
	return 0;
}
