/*
 * test_whale_keep.c - the whale cache (src/large/large.c) keeps resident
 * pages that it used to give back only to fault them in again:
 *   - a cached mapping grown for a larger request maps what was asked, not
 *     the 1/8 step of a fresh mapping, so that the step's untouched tail,
 *     counted live, does not evict other cached pages to keep the bound;
 *   - a larger cached mapping taken for a request keeps its excess below
 *     the next 2 MiB boundary (no span can start there) instead of
 *     unmapping it;
 *   - a full cache array drops its smallest mapping, not its oldest.
 * Each case runs in a child process of its own, so that it starts with an
 * empty cache and a peak of zero.
 */
#include "hakmem.h"
#include "whale_test.h"

/* Touch all of a block's usable bytes: the pages of its mapping are all
 * resident when it is freed (a cached mapping's untouched tail faults in
 * wherever it goes). */
static void touch_all(void *p)
{
	touch(p, hak_malloc_usable_size(p));
}

/* 40 MiB (a 44 MiB mapping) and 20 MiB (22 MiB) freed; 50 MiB grows the
 * 44 MiB mapping and fills 6 MiB from the 22 MiB one. Grown to the 52 MiB
 * step, the block counted 2 MiB beyond the peak of 66 MiB, and the bound
 * unmapped the other's resident remainder (16 MiB), which 14 MiB then
 * faulted in anew. */
static void case_grow_maps_need(void)
{
	char *a = malloc(40 * MB), *b = malloc(20 * MB);
	CHECK(a && b);
	touch_all(a);
	touch_all(b);
	free(a);
	free(b);
	check_bound();
	char *c = malloc_reused(50 * MB, "grown");
	char *d = malloc_reused(14 * MB, "the other's rest");
	free(c);
	free(d);
}

/* 7.5 MiB (an 8 MiB mapping) freed; 5 MiB takes it, its tail from 6 MiB
 * on cached apart: the 1 MiB between the block's end and 6 MiB stays with
 * the block (usable), and 7.5 MiB later finds all its pages resident. */
static void case_split_keeps_excess(void)
{
	char *a = malloc(7 * MB + MB / 2);
	CHECK(a);
	touch_all(a);
	free(a);
	char *b = malloc(5 * MB);
	CHECK(b);
	size_t ub = hak_malloc_usable_size(b);
	printf("# split: usable %zu for %zu asked\n", ub, 5 * MB);
	CHECK(ub == 6 * MB - HAK_SPAN_HDR);
	CHECK(FEW_FAULTS(touch(b, ub), 64)); /* fewer than 8: all resident */
	check_bound();
	free(b);
	char *c = malloc(7 * MB + MB / 2);
	CHECK(c);
	long fc = touch(c, 7 * MB + MB / 2);
	printf("# regrown: faults %ld for %zu pages\n", fc, (7 * MB + MB / 2) / 4096);
	CHECK(FEW_FAULTS(fc, (7 * MB + MB / 2) / 4096 / 8)); /* none: 1 MiB unmapped faulted 256 */
	check_bound();
	free(c);
}

/* 40 MiB (44 MiB) freed first, then nine blocks of 3 MiB (3.25 MiB): one
 * goes to the thread's slot, eight to the array of HAKMEM_WHALE_CACHE (8)
 * entries. Evicting the oldest dropped the 44 MiB mapping, and 40 MiB then
 * faulted 11 MiB in anew; the smallest goes instead. */
static void case_full_array_drops_smallest(void)
{
	enum { N = 9 };
	char *a = malloc(40 * MB), *s[N];
	CHECK(a);
	touch_all(a);
	for (int i = 0; i < N; i++) {
		s[i] = malloc(3 * MB);
		CHECK(s[i]);
		touch_all(s[i]);
	}
	free(a);
	for (int i = 0; i < N; i++)
		free(s[i]);
	check_bound();
	free(malloc_reused(40 * MB, "full array"));
}

int main(void)
{
	run_case(case_grow_maps_need, "a grown cached mapping maps the request, other cached pages stay");
	run_case(case_split_keeps_excess, "a larger cached mapping keeps its excess below 2 MiB resident");
	run_case(case_full_array_drops_smallest, "a full cache array drops its smallest mapping");
	return 0;
}
