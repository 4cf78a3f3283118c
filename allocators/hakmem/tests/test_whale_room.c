/*
 * test_whale_room.c - a realloc room taken from the whale cache
 * (hak_whale_get_room, src/large/large.c):
 *   - a cached mapping larger than 4 MiB (or the large threshold's 2 MiB
 *     boundary, when higher) is split at that boundary:
 *     the room keeps 4 MiB, the tail stays cached (resident, counted
 *     cached, there for other requests) instead of staying with a buffer
 *     that may never use it (an 8 MiB mapping taken whole by a 512 KiB
 *     room: realloc_big's peak RSS 1.16 of mimalloc's at 4 threads);
 *   - an L2.5 block in a whale mapping that grows past its mapping (to a
 *     Large block, or to a larger L2.5 class under a higher threshold)
 *     grows by moving its pages (a span regrow), not by a copy.
 * Each case runs in a child process of its own, so that it starts with an
 * empty cache and a peak of zero.
 */
#include "hakmem.h"
#include "whale_test.h"

#define KB ((size_t)1 << 10)

static uint64_t stat_now(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* A block grown by realloc from 300 to 400 KiB: room to 512 KiB, taken
 * from the whale cache (which must hold a mapping of 1 MiB or more). */
static unsigned char *grow_into_room(void)
{
	uint64_t hits0 = stat_now(&hak_stats.l25_spare_hits);
	unsigned char *p = malloc(300 * KB);
	CHECK(p);
	pat_fill(p, 300 * KB, 7);
	p = realloc(p, 400 * KB);
	CHECK(p && pat_check(p, 300 * KB, 7));
	CHECK(stat_now(&hak_stats.l25_spare_hits) == hits0 + 1);
	return p;
}

/* 7.5 MiB (an 8 MiB mapping, all touched) freed; a 512 KiB room takes it:
 * 4 MiB stay with the room, 4 MiB stay cached. The room's growth to
 * 4 MiB happens in place on resident pages, and its growth beyond takes
 * the cached tail's pages: no page faults either way. */
static void case_room_split(void)
{
	char *a = malloc(7 * MB + MB / 2);
	CHECK(a);
	touch(a, hak_malloc_usable_size(a));
	free(a);
	unsigned char *p = grow_into_room();
	int64_t live, cached, peak;
	hak_whale_usage(&live, &cached, &peak);
	printf("# room: live %lld cached %lld bytes\n", (long long)live, (long long)cached);
	CHECK(live == (int64_t)(4 * MB)); /* the whole 8 MiB without the split */
	CHECK(cached == (int64_t)(4 * MB));
	check_bound();
	pat_fill(p, 400 * KB, 8);
	long f0 = faults();
	unsigned char *q = realloc(p, 4 * MB - HAK_SPAN_HDR);
	CHECK(q == p); /* within its mapping */
	CHECK(pat_check(q, 400 * KB, 8));
	touch(q + 512 * KB, 4 * MB - HAK_SPAN_HDR - 512 * KB); /* past the pattern */
	q = realloc(q, 7 * MB);
	CHECK(q && pat_check(q, 400 * KB, 8));
	touch(q + 512 * KB, 7 * MB - 512 * KB);
	long f = faults() - f0;
	printf("# room grown to 7 MiB: faults %ld\n", f);
	CHECK(FEW_FAULTS(f, 7 * MB / 4096));
	check_bound();
	free(q);
	hak_whale_usage(&live, &cached, &peak);
	CHECK(live == 0);
}

/* A room in a cached mapping of 1 MiB (+ a page) grown to 3 MiB: from
 * an L2.5 class to a Large block beyond its mapping, by one regrow
 * (mremap), contents kept; it used to be copied into a new block. */
static void case_l25_room_grows_large(void)
{
	unsigned char *w = malloc(MB);
	CHECK(w);
	memset(w, 1, MB);
	free(w);
	unsigned char *p = grow_into_room();
	pat_fill(p, 400 * KB, 8);
	p = realloc(p, MB); /* within its mapping, still an L2.5 class */
	CHECK(p && pat_check(p, 400 * KB, 8));
	uint64_t regrows0 = stat_now(&hak_stats.span_regrows);
	unsigned char *q = realloc(p, 3 * MB);
	CHECK(q && pat_check(q, 400 * KB, 8));
	printf("# L2.5 room to 3 MiB: span regrows %llu\n",
	       (unsigned long long)(stat_now(&hak_stats.span_regrows) - regrows0));
	CHECK(stat_now(&hak_stats.span_regrows) == regrows0 + 1);
	memset(q + MB, 2, 2 * MB);
	check_bound();
	free(q);
	int64_t live, cached, peak;
	hak_whale_usage(&live, &cached, &peak);
	CHECK(live == 0);
}

/* Under a large threshold of 8 MiB a buffer grows as an L2.5 block up to
 * 8 MiB, so a room keeps a cached mapping up to the threshold's boundary,
 * not 4 MiB: cut at 4 MiB, every buffer past it regrew and refilled from
 * the cache (26 k mremap calls per million realloc_append operations,
 * 11 s of system time per 3 M). */
static void case_room_keeps_threshold(void)
{
	char *a = malloc(7 * MB + MB / 2); /* Large at the default threshold */
	CHECK(a);
	touch(a, hak_malloc_usable_size(a));
	free(a);
	atomic_store_explicit(&hak_learn_large_threshold_cached, 8 * MB, memory_order_relaxed);
	unsigned char *p = grow_into_room();
	int64_t live, cached, peak;
	hak_whale_usage(&live, &cached, &peak);
	printf("# room at an 8 MiB threshold: live %lld cached %lld bytes\n", (long long)live, (long long)cached);
	CHECK(live == (int64_t)(8 * MB) && cached == 0);
	free(p);
}

/* At that threshold a room in a smaller mapping grown past it stays an
 * L2.5 block, and is moved with its pages (a regrow), not copied. */
static void case_l25_room_grows_l25(void)
{
	char *a = malloc(3 * MB); /* a Large mapping under 4 MiB */
	CHECK(a);
	touch(a, hak_malloc_usable_size(a));
	free(a);
	atomic_store_explicit(&hak_learn_large_threshold_cached, 8 * MB, memory_order_relaxed);
	unsigned char *p = grow_into_room();
	pat_fill(p, 400 * KB, 9);
	uint64_t regrows0 = stat_now(&hak_stats.span_regrows);
	unsigned char *q = realloc(p, 6 * MB); /* past its mapping, still L2.5 */
	CHECK(q && pat_check(q, 400 * KB, 9));
	printf("# L2.5 room to 6 MiB at an 8 MiB threshold: span regrows %llu\n",
	       (unsigned long long)(stat_now(&hak_stats.span_regrows) - regrows0));
	CHECK(stat_now(&hak_stats.span_regrows) == regrows0 + 1);
	touch(q + MB, 5 * MB);
	free(q);
	int64_t live, cached, peak;
	hak_whale_usage(&live, &cached, &peak);
	CHECK(live == 0);
}

int main(void)
{
	run_case(case_room_split, "a room keeps 4 MiB of a larger cached mapping, the rest stays cached");
	run_case(case_l25_room_grows_large, "an L2.5 room grows into a Large block by a regrow, not a copy");
	run_case(case_room_keeps_threshold, "a room keeps a cached mapping up to an 8 MiB threshold's boundary");
	run_case(case_l25_room_grows_l25, "an L2.5 room grows past its mapping by a regrow at an 8 MiB threshold");
	return 0;
}
