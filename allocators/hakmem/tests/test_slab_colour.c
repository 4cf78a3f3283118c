/*
 * test_slab_colour.c - a slab's carving begins on its colour page
 * (hak_slab_colour: 5 x its index, mod 16), runs to its end and wraps to
 * its start. Slabs start 64 or 256 KiB aligned, so without colours the
 * first blocks of every class, the ones a lifo hands out again and again,
 * lay on pages whose numbers are multiples of 16: one set of the L1 data
 * TLB (cross_thread at 1 thread missed it on most frees; docs/PERFORMANCE.md).
 */
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

/* A fresh heap's first block of each Tiny class: the TLB sets of their pages
 * (page number mod 16) hold at most 2 of the 20. */
static void *first_blocks_spread(void *arg)
{
	(void)arg;
	void *p[HAK_TINY_NCLS];
	unsigned per_set[HAK_SLAB_COLOURS] = {0};
	for (unsigned c = 0; c < HAK_TINY_NCLS; c++) {
		CHECK((p[c] = malloc(hak_class_size[c])) != NULL);
		hak_slab_t *s = hak_tiny_slab_of(hak_seg_of(p[c]), p[c]);
		CHECK(s->cls == c);
		CHECK(p[c] == hak_slab_start(s) + hak_slab_carve_first(s));
		per_set[((uintptr_t)p[c] / HAK_PAGE) % HAK_SLAB_COLOURS]++;
	}
	for (unsigned i = 0; i < HAK_SLAB_COLOURS; i++)
		CHECK(per_set[i] <= 2);
	for (unsigned c = 0; c < HAK_TINY_NCLS; c++)
		free(p[c]);
	return NULL;
}

/* Every block of a slab comes out once: from the first block in carve order
 * to the slab's end, then from its start up to that block. */
static void *carve_wraps(void *arg)
{
	(void)arg;
	enum { SIZE = 1024, CAP = (1 << HAK_TINY_SLAB_SHIFT) / SIZE };
	void *first = malloc(SIZE);
	CHECK(first);
	hak_slab_t *s = hak_tiny_slab_of(hak_seg_of(first), first);
	uint8_t *start = hak_slab_start(s);
	size_t k0 = hak_slab_carve_first(s) / SIZE;
	CHECK(k0 > 0); /* a fresh heap's first slab does not have colour 0 */
	void *got[CAP];
	got[0] = first;
	for (size_t i = 1; i < CAP; i++) {
		CHECK((got[i] = malloc(SIZE)) != NULL);
		CHECK(got[i] == start + (k0 + i) % CAP * SIZE);
		pat_fill(got[i], SIZE, (uint32_t)i);
	}
	CHECK(s->fresh_left == 0 && s->bump == start + k0 * SIZE);
	for (size_t i = 1; i < CAP; i++)
		CHECK(pat_check(got[i], SIZE, (uint32_t)i));
	for (size_t i = 0; i < CAP; i++)
		free(got[i]);
	return NULL;
}

int main(void)
{
	free(malloc(16)); /* start-up, and the main thread's heap */
	run_in_thread(first_blocks_spread, NULL);
	printf("ok first_blocks_spread\n");
	run_in_thread(carve_wraps, NULL);
	printf("ok carve_wraps\n");
	return 0;
}
