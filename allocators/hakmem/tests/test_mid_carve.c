/*
 * test_mid_carve.c - a Mid refill on a fresh page carves (links onto the
 * page's free list) at most 32 KiB of blocks by default
 * (HAKMEM_POOL_REFILL_BATCH 2 units of 16 KiB), and at least one block;
 * the next carve continues where the last one ended, so a page's blocks
 * still come out in address order from its colour on (hak_slab_colour). A carve writes a link into every block
 * it carves, so it faults their pages at once: a larger carve faulted pages
 * the thread used late or never.
 */
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define CARVE_BYTES 32768u

/* Bytes carved from the slab's first block in carve order (before the wrap). */
static size_t carved(const hak_slab_t *s)
{
	return (size_t)(s->bump - hak_slab_start(s)) - hak_slab_carve_first(s);
}

/* Allocate from a class no one used yet: the first block starts a fresh
 * page and carves its first batch; using that batch up carves the next. */
static void check_class(size_t size)
{
	unsigned cls = hak_small_class(size);
	CHECK(cls >= HAK_TINY_NCLS && cls < HAK_SMALL_NCLS);
	size_t bs = hak_class_stride[cls]; /* blocks lie a stride apart */
	size_t want = CARVE_BYTES / bs ? CARVE_BYTES / bs : 1;
	size_t cap = ((size_t)1 << HAK_MID_SLAB_SHIFT) / bs;

	void *first = malloc(size);
	CHECK(first);
	hak_slab_t *s = hak_tls.cur[cls];
	CHECK(first == hak_slab_start(s) + hak_slab_carve_first(s)); /* a fresh page */
	CHECK(carved(s) == want * bs);
	CHECK(s->fresh_left == cap - want);

	void *b[64];
	CHECK(want < 64);
	b[0] = first;
	for (size_t i = 1; i <= want; i++) { /* the batch, then one more */
		CHECK((b[i] = malloc(size)) != NULL);
		CHECK(b[i] == (uint8_t *)first + i * bs);
		pat_fill(b[i], 64, (uint32_t)i);
	}
	CHECK(hak_tls.cur[cls] == s);
	CHECK(carved(s) == (want < cap - want ? 2 * want : cap) * bs);
	for (size_t i = 1; i <= want; i++)
		CHECK(pat_check(b[i], 64, (uint32_t)i));
	for (size_t i = 0; i <= want; i++)
		free(b[i]);
	printf("ok carve %zu: %zu blocks of %zu\n", size, want, bs);
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	CHECK(hak_config.pool_refill_batch == 2);
	check_class(2048);
	check_class(8192);
	check_class(32768);
	return 0;
}
