/*
 * tlb_sets.c - a diagnostic, not a workload: on which sets of a 16-set data
 * TLB the blocks of a cross_thread-like chain lie, and what a walk over the
 * freed chain costs. One round allocates a chain of 256 blocks of 16 B -
 * 1 KiB (log-uniform, as cross_thread's defaults), writes each whole and
 * links it through its second word, then frees the chain in allocation
 * order, following the links (cross_thread's consumer loop). Run it under
 * each allocator:
 *
 *   gcc -O2 -o /tmp/tlb_sets allocators/hakmem/tools/tlb_sets.c
 *   LD_PRELOAD=build/lib/libhakmem.so /tmp/tlb_sets [rounds, default 40000]
 *
 * Prints the last round's distinct pages and how many lie on each set
 * (page number mod 16), and the free walk's cycles per block (rdtsc, so
 * reference cycles; compare allocators in one session). A walk whose
 * blocks crowd a few sets misses the TLB where an even spread would not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#define CHAIN 256
#define SETS 16
#define PAGE_SHIFT 12

static uint64_t rng = 0x9e3779b97f4a7c15u;
static volatile uint64_t sink; /* keeps the walk's reads of the blocks */

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 16 B - 1 KiB: a power of two picked uniformly, then a size within it. */
static size_t random_size(void)
{
	size_t lo = (size_t)1 << (4 + next_random() % 7), hi = 2 * lo - 1;
	if (hi > 1024)
		hi = 1024;
	return lo + next_random() % (hi - lo + 1);
}

/* Distinct pages of the chain's blocks, and how many on each set. */
static void print_sets(void *const *block, const size_t *size)
{
	uintptr_t seen[CHAIN * 2];
	unsigned n = 0, per_set[SETS] = {0};
	for (int i = 0; i < CHAIN; i++) {
		uintptr_t first = (uintptr_t)block[i] >> PAGE_SHIFT;
		uintptr_t last = ((uintptr_t)block[i] + size[i] - 1) >> PAGE_SHIFT;
		for (uintptr_t page = first; page <= last; page++) {
			unsigned k = 0;
			while (k < n && seen[k] != page)
				k++;
			if (k == n) {
				seen[n++] = page;
				per_set[page % SETS]++;
			}
		}
	}
	printf("pages %u, per TLB set:", n);
	for (int s = 0; s < SETS; s++)
		printf(" %u", per_set[s]);
	printf("\n");
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 40000;
	if (rounds < 1) {
		fprintf(stderr, "tlb_sets: rounds must be a positive number, not '%s'\n", argv[1]);
		return 2;
	}
	void *block[CHAIN];
	size_t size[CHAIN];
	uint64_t walk = 0, sum = 0;
	for (long r = 0; r < rounds; r++) {
		void **last = NULL;
		for (int i = 0; i < CHAIN; i++) {
			size[i] = random_size();
			if (!(block[i] = malloc(size[i]))) {
				fprintf(stderr, "tlb_sets: out of memory\n");
				return 1;
			}
			memset(block[i], i, size[i]);
			((void **)block[i])[1] = NULL;
			if (last)
				last[1] = block[i];
			last = block[i];
		}
		if (r == rounds - 1)
			print_sets(block, size);
		uint64_t t0 = __rdtsc();
		for (void **b = block[0]; b;) {
			void **next = b[1];
			sum += *(uint64_t *)b;
			free(b);
			b = next;
		}
		walk += __rdtsc() - t0;
	}
	sink = sum;
	printf("free walk: %.1f cycles a block\n", (double)walk / ((double)rounds * CHAIN));
	return 0;
}
