/*
 * test_superslab_map.c - SuperSlabs are mapped in batches (src/tiny/segment.c):
 * when the empty-SuperSlab cache is empty, one mmap maps several, the first
 * is used and the others wait in the cache, so a growing heap makes far
 * fewer mmap calls than it takes fresh SuperSlabs into use (segments_mapped
 * counts a batch's SuperSlab when it is first used); the cached ones serve later
 * SuperSlabs of either kind (Tiny or Mid) without another mmap, and the
 * blocks carved from them keep their contents.
 */
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define TINY_BS 1024 /* a Tiny class: 64 blocks per 64 KiB slab */
#define MID_BS 8192  /* a Mid class: 32 blocks per 256 KiB page */
#define NTINY (64 * 31 * 12) /* twelve SuperSlabs of Tiny slabs */

static uint64_t stat_of(_Atomic uint64_t *c)
{
	return atomic_load(c);
}

static void *blocks[NTINY];

static void test_batched_maps(void)
{
	uint64_t calls = stat_of(&hak_stats.mmap_calls);
	uint64_t mapped = stat_of(&hak_stats.segments_mapped);
	for (int i = 0; i < NTINY; i++) {
		blocks[i] = malloc(TINY_BS);
		CHECK(blocks[i]);
		pat_fill(blocks[i], 16, (uint32_t)i);
	}
	uint64_t segs = stat_of(&hak_stats.segments_mapped) - mapped;
	uint64_t maps = stat_of(&hak_stats.mmap_calls) - calls;
	CHECK(hak_config.segment_cache >= 8); /* the default leaves room for batches */
	CHECK(segs >= 8);
	CHECK(maps * 4 <= segs); /* several SuperSlabs per mmap */
	printf("ok batched_maps (%llu SuperSlabs, %llu mmap calls)\n", (unsigned long long)segs,
	       (unsigned long long)maps);
}

static void test_cached_serve_mid(void)
{
	/* The batch left SuperSlabs in the cache (at most SEGMENT_CACHE): a
	 * Mid allocation takes one of them without mapping. */
	uint64_t calls = stat_of(&hak_stats.mmap_calls);
	uint64_t taken = stat_of(&hak_stats.segments_reused) + stat_of(&hak_stats.segments_mapped);
	void *m = malloc(MID_BS);
	CHECK(m);
	pat_fill(m, MID_BS, 7);
	CHECK(hak_seg_of(m)->kind == HAK_SEG_MID);
	CHECK(stat_of(&hak_stats.mmap_calls) == calls);
	CHECK(stat_of(&hak_stats.segments_reused) + stat_of(&hak_stats.segments_mapped) == taken + 1);
	CHECK(pat_check(m, MID_BS, 7));
	free(m);
	for (int i = 0; i < NTINY; i++) {
		CHECK(pat_check(blocks[i], 16, (uint32_t)i));
		free(blocks[i]);
	}
	printf("ok cached_serve_mid\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	test_batched_maps();
	test_cached_serve_mid();
	return 0;
}
