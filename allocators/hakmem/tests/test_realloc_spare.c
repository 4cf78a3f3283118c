/*
 * test_realloc_spare.c - a block that realloc grows to a room of 128 KiB
 * or more below 1 MiB (src/core/api.c) takes a cached whale mapping of
 * 1 MiB when the whale cache holds one (hak_l25_alloc_spare), and its
 * later growth up to 1 MiB happens within that mapping: same pointer, no
 * page fault (the mapping's pages are resident), contents kept, usable size
 * that of the class asked for; free and a later realloc of such a block
 * are right, the whale cache's live bytes return to 0, at 1 and 4 threads.
 * Growth from 1 MiB gets room to 2 MiB (one move to 2 MiB, not four); a
 * Large block's growth takes the pages of cached mappings, and room to the
 * next power of two.
 */
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define KB ((size_t)1 << 10)
#define MB ((size_t)1 << 20)

static uint64_t stat_now(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static long faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static int64_t whale_live(void)
{
	int64_t live, cached, peak;
	hak_whale_usage(&live, &cached, &peak);
	CHECK(live + cached <= peak);
	return live;
}

/* A whale mapping of 1 MiB, every page resident, freed into the cache. */
static void prime_whale(void)
{
	unsigned char *w = malloc(MB);
	CHECK(w);
	memset(w, 1, MB);
	free(w);
}

static void test_grows_in_spare_room(void)
{
	prime_whale();
	uint64_t hits0 = stat_now(&hak_stats.l25_spare_hits);
	uint64_t in_map0 = stat_now(&hak_stats.span_regrows_in_map);
	unsigned char *p = malloc(300 * KB);
	CHECK(p);
	pat_fill(p, 300 * KB, 7);
	p = realloc(p, 400 * KB); /* moves: room to 512 KiB, in the cached 1 MiB mapping */
	CHECK(p && pat_check(p, 300 * KB, 7));
	CHECK(stat_now(&hak_stats.l25_spare_hits) == hits0 + 1);
	CHECK(malloc_usable_size(p) == 512 * KB); /* the class asked for, not the mapping */
	CHECK(hak_malloc_usable_size(p) == 512 * KB);
	pat_fill(p, 400 * KB, 8);
	long f0 = faults();
	size_t sizes[] = {600 * KB, 700 * KB, 900 * KB, MB - 4096, MB};
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *q = realloc(p, sizes[i]);
		CHECK(q == p); /* within its mapping */
		CHECK(malloc_usable_size(q) >= sizes[i] && malloc_usable_size(q) <= MB);
		CHECK(pat_check(q, 400 * KB, 8));
		memset(q + 400 * KB, 9, sizes[i] - 400 * KB); /* the spare pages are resident */
	}
	CHECK(faults() - f0 < 16);
	CHECK(stat_now(&hak_stats.span_regrows_in_map) >= in_map0 + 1);
	CHECK(malloc_usable_size(p) == MB);
	/* beyond the mapping: moved, contents kept */
	unsigned char *q = realloc(p, MB + 200 * KB);
	CHECK(q && pat_check(q, 400 * KB, 8));
	for (size_t i = 400 * KB; i < MB; i++)
		CHECK(q[i] == 9);
	free(q);
	CHECK(whale_live() == 0);
	OK("grows_in_spare_room");
}

static void test_spare_from_128k(void)
{
	prime_whale();
	uint64_t hits0 = stat_now(&hak_stats.l25_spare_hits);
	unsigned char *p = malloc(100 * KB);
	CHECK(p);
	pat_fill(p, 100 * KB, 11);
	p = realloc(p, 130 * KB); /* room 256 KiB: a cached 1 MiB mapping */
	CHECK(p && pat_check(p, 100 * KB, 11));
	CHECK(stat_now(&hak_stats.l25_spare_hits) == hits0 + 1);
	CHECK(malloc_usable_size(p) == 256 * KB);
	for (size_t size = 300 * KB; size <= MB; size += 100 * KB) {
		unsigned char *q = realloc(p, size);
		CHECK(q == p && pat_check(q, 100 * KB, 11));
	}
	free(p);
	CHECK(whale_live() == 0);
	/* below 128 KiB of room: an ordinary block */
	unsigned char *s = malloc(40 * KB);
	CHECK(s);
	s = realloc(s, 50 * KB);
	CHECK(s && malloc_usable_size(s) == 64 * KB);
	CHECK(stat_now(&hak_stats.l25_spare_hits) == hits0 + 1);
	free(s);
	OK("spare_from_128k");
}

static void test_spare_block_freed_and_reused(void)
{
	prime_whale();
	unsigned char *p = malloc(280 * KB);
	CHECK(p);
	pat_fill(p, 280 * KB, 3);
	p = realloc(p, 420 * KB);
	CHECK(p && pat_check(p, 280 * KB, 3));
	CHECK(whale_live() > 0); /* a whale span while in use, whatever its class */
	free(p); /* back to the whale cache, not the L2.5 pool */
	CHECK(whale_live() == 0);
	/* the next growth to 512 KiB takes it again */
	uint64_t hits0 = stat_now(&hak_stats.l25_spare_hits);
	unsigned char *a = malloc(300 * KB);
	CHECK(a);
	pat_fill(a, 300 * KB, 4);
	a = realloc(a, 310 * KB); /* within its class (320 KiB): in place */
	a = realloc(a, 500 * KB);
	CHECK(a && pat_check(a, 300 * KB, 4));
	CHECK(stat_now(&hak_stats.l25_spare_hits) == hits0 + 1);
	/* shrinking and a plain malloc beside it */
	unsigned char *b = realloc(a, 200 * KB);
	CHECK(b && pat_check(b, 200 * KB, 4));
	free(b);
	CHECK(whale_live() == 0);
	OK("spare_block_freed_and_reused");
}

/* Growth beyond 1 MiB gets room to 2 MiB: one move from 1.1 to 2 MiB by
 * appends of 64 KiB, not one per class (1.25, 1.5, 1.75, 2 MiB). */
static void test_room_to_2m(void)
{
	size_t size = 1100 * KB;
	unsigned char *p = malloc(size);
	CHECK(p);
	pat_fill(p, size, 13);
	int moves = 0;
	while (size + 64 * KB <= 2 * MB) {
		unsigned char *q = realloc(p, size + 64 * KB);
		CHECK(q && pat_check(q, 1100 * KB, 13));
		moves += q != p;
		p = q;
		size += 64 * KB;
	}
	CHECK(moves <= 1);
	CHECK(malloc_usable_size(p) >= size);
	free(p);
	CHECK(whale_live() == 0);
	printf("ok room_to_2m (%d moves)\n", moves);
}

/* Page faults are the measure of reuse, except under a sanitizer (its
 * shadow memory faults in too). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FEW_FAULTS(f, pages) ((void)(f), (void)(pages), 1)
#else
#define FEW_FAULTS(f, pages) ((f) < (long)(pages) / 8)
#endif

/* A Large block that realloc grows gets the pages of cached mappings in
 * its growth (moved, not faulted in), and keeps its contents. */
static void test_large_growth_filled(void)
{
	unsigned char *w = malloc(16 * MB);
	CHECK(w);
	memset(w, 1, malloc_usable_size(w)); /* all its pages resident, then cached */
	free(w);
	unsigned char *p = malloc(4 * MB);
	CHECK(p);
	pat_fill(p, 4 * MB, 21);
	p = realloc(p, 12 * MB);
	CHECK(p && pat_check(p, 4 * MB, 21));
	long f0 = faults();
	for (size_t off = 4 * MB; off < 12 * MB; off += 4096)
		((volatile unsigned char *)p)[off] = 2;
	long f = faults() - f0;
	CHECK(FEW_FAULTS(f, 8 * MB / 4096));
	free(p);
	CHECK(whale_live() == 0);
	printf("ok large_growth_filled (%ld faults for 2048 pages)\n", f);
}

/* A Large block grown by realloc gets room to the next power of two: one
 * growth (a system call) from 2.5 to 4 MiB by appends of 64 KiB, not one
 * per 1/8 step of its mapping. */
static void test_large_room(void)
{
	size_t size = 2560 * KB;
	unsigned char *p = malloc(size);
	CHECK(p);
	pat_fill(p, size, 17);
	uint64_t g0 = stat_now(&hak_stats.span_regrows);
	int moves = 0;
	while (size + 64 * KB <= 4 * MB - 4096) {
		unsigned char *q = realloc(p, size + 64 * KB);
		CHECK(q && pat_check(q, 2560 * KB, 17));
		moves += q != p;
		p = q;
		size += 64 * KB;
	}
	uint64_t grows = stat_now(&hak_stats.span_regrows) - g0;
	CHECK(grows <= 1 && moves <= 1);
	CHECK(malloc_usable_size(p) >= size);
	free(p);
	CHECK(whale_live() == 0);
	printf("ok large_room (%llu growths)\n", (unsigned long long)grows);
}

/* Buffers grown from 16 bytes to 1 MiB by appends and x1.5 steps, contents
 * checked at every step; returns the moves of blocks of 128 KiB or more. */
static void *grow_buffers(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	unsigned long big_moves = 0;
	for (int round = 0; round < 12; round++) {
		size_t size = 16;
		unsigned char *p = malloc(size);
		CHECK(p);
		memset(p, 16, 16);
		p[0] = (unsigned char)(seed + round);
		while (size < MB) {
			size_t next = round % 2 ? size + size / 2 : size + 4096 + size / 8;
			if (next > MB)
				next = MB;
			unsigned char *q = realloc(p, next);
			CHECK(q);
			CHECK(q[0] == (unsigned char)(seed + round) && q[size - 1] == (unsigned char)size);
			big_moves += q != p && size >= 128 * KB;
			memset(q + size, (unsigned char)next, next - size);
			p = q;
			size = next;
		}
		free(p);
	}
	return (void *)big_moves;
}

static void test_threads(void)
{
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, grow_buffers, (void *)(i * 40)) == 0);
	unsigned long big_moves = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		CHECK(pthread_join(t[i], &r) == 0);
		big_moves += (unsigned long)(uintptr_t)r;
	}
	/* 48 buffers passed 128 KiB; each thread's first finds the cache empty
	 * at worst, the others take a freed 1 MiB mapping */
	CHECK(big_moves <= 24);
	CHECK(whale_live() == 0);
	printf("ok threads (%lu moves from 128 KiB)\n", big_moves);
}

int main(void)
{
	free(malloc(16)); /* start-up */
	test_grows_in_spare_room();
	test_spare_block_freed_and_reused();
	test_spare_from_128k();
	test_room_to_2m();
	test_large_growth_filled();
	test_large_room();
	unsigned long single = (unsigned long)(uintptr_t)grow_buffers((void *)1);
	CHECK(single <= 1);
	printf("ok one_thread (%lu moves from 128 KiB)\n", single);
	test_threads();
	return 0;
}
