/*
 * test_tiny_partial.c - which partial slab a Tiny refill switches to
 * (src/tiny/heap.c): the one that became partial longest ago, so it has
 * gathered the most frees, not the one that has just had its first free
 * (which switched slabs every ~2 allocations on larson); and blocks keep
 * their contents across the switches (debug build: slab invariants are
 * checked on every change). The frees reach the slabs through
 * hak_tiny_lifo_flush (a local free goes to the class's lifo first). The
 * current slab's `used` carries a bias of
 * one, so a free that leaves it without live blocks stays on the fast path
 * and the slab stays current; the bias goes when the slab stops being
 * current.
 */
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define BS 1024               /* a Tiny class: 64 blocks per 64 KiB slab */
#define PER_SLAB 64
#define NSLABS 4
#define N (PER_SLAB * NSLABS)

static void *blk[N];

static uintptr_t slab_of(const void *p)
{
	return (uintptr_t)p >> HAK_TINY_SLAB_SHIFT;
}

static void test_refill_takes_oldest_partial(void)
{
	for (int i = 0; i < N; i++) {
		blk[i] = malloc(BS);
		CHECK(blk[i]);
		pat_fill(blk[i], 64, (uint32_t)i);
	}
	/* blocks of one slab are carved together: slab k holds k*64 .. k*64+63 */
	for (int k = 0; k < NSLABS; k++)
		for (int i = 1; i < PER_SLAB; i++)
			CHECK(slab_of(blk[k * PER_SLAB + i]) == slab_of(blk[k * PER_SLAB]));
	/* slab 0 becomes partial first (8 frees), then slab 1 (one free) */
	for (int i = 0; i < 8; i++) {
		free(blk[i]);
		blk[i] = NULL;
	}
	hak_tiny_lifo_flush(hak_small_class(BS)); /* the frees reach their slabs */
	free(blk[PER_SLAB]);
	blk[PER_SLAB] = NULL;
	hak_tiny_lifo_flush(hak_small_class(BS)); /* the frees reach their slabs */
	/* the current slab (the last) has no free block: the refill switches */
	void *p = malloc(BS);
	CHECK(p);
	CHECK(slab_of(p) == slab_of(blk[8])); /* the oldest partial slab */
	free(p);
	for (int i = 0; i < N; i++) {
		if (blk[i]) {
			CHECK(pat_check(blk[i], 64, (uint32_t)i));
			free(blk[i]);
		}
	}
	printf("ok refill_takes_oldest_partial\n");
}

static void test_current_slab_bias(void)
{
	void *p = malloc(200); /* a class nothing else here uses */
	CHECK(p);
	hak_seg_t *seg = hak_seg_of(p);
	hak_slab_t *s = hak_slab_of(seg, p);
	CHECK(s->where == SLAB_CUR && s->used == 2);
	free(p);
	/* the free went to the class's lifo: the block still counts in its slab */
	CHECK(hak_tls.lifo[hak_small_class(200)] == p && s->used == 2);
	hak_tiny_lifo_flush(hak_small_class(200));
	CHECK(s->where == SLAB_CUR && s->used == 1); /* empty, still current */
	void *q = malloc(200);
	CHECK(q == p); /* the block just freed, from the same slab */
	/* fill the slab: the refill that leaves it drops the bias */
	uint32_t cap = (uint32_t)((1u << HAK_TINY_SLAB_SHIFT) / s->block_size);
	void *more[400];
	CHECK(cap < 400);
	for (uint32_t i = 0; i < cap; i++)
		CHECK((more[i] = malloc(200)) != NULL);
	CHECK(s->where == SLAB_FULL && s->used == cap);
	free(q);
	for (uint32_t i = 0; i < cap; i++)
		free(more[i]);
	printf("ok current_slab_bias\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	test_refill_takes_oldest_partial();
	test_current_slab_bias();
	return 0;
}
