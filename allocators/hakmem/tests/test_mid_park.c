/*
 * test_mid_park.c - a Mid refill takes the free blocks of a partial page
 * before it carves never-used blocks of its current page: the current page
 * waits at the partial list's tail and is carved once no page has free
 * blocks. Before, the current page was carved to its end while the blocks
 * other threads freed back lay on the older pages (mid_mt at 4 threads:
 * 10 MiB of resident memory beyond the workers' demand, against mimalloc's
 * 5; docs/PERFORMANCE.md).
 */
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

enum { SIZE = 32768 };

static void *free_remote(void *p)
{
	free(p);
	return NULL;
}

int main(void)
{
	unsigned cls = hak_small_class(SIZE);
	size_t per_page = ((size_t)1 << HAK_MID_SLAB_SHIFT) / hak_class_stride[cls];
	CHECK(per_page >= 4);
	/* page A: every block carved and live; then page B, one block carved */
	void *a[64];
	CHECK(per_page < 64);
	for (size_t i = 0; i < per_page; i++)
		CHECK((a[i] = malloc(SIZE)) != NULL);
	hak_slab_t *page_a = hak_tls.cur[cls];
	void *b0 = malloc(SIZE);
	CHECK(b0 != NULL);
	hak_slab_t *page_b = hak_tls.cur[cls];
	CHECK(page_b != page_a && page_b->fresh_left > 0);

	/* Another thread frees a block of A: it comes back to A's free list on
	 * the next slow path (a local free would go to the Mid cache). */
	run_in_thread(free_remote, a[1]);
	void *again = malloc(SIZE);
	CHECK(again == a[1]); /* A's free block, not a fresh one of B */
	CHECK(hak_tls.cur[cls] == page_a);
	CHECK(page_b->where == SLAB_PARTIAL && page_b->free == NULL);
	printf("ok free_blocks_before_fresh_ones\n");

	/* No page has a free block: B is carved again, in its carve order. */
	void *b1 = malloc(SIZE);
	CHECK(b1 == (uint8_t *)b0 + hak_class_stride[cls] ||
	      hak_slab_carve_order(page_b, (size_t)((uint8_t *)b1 - hak_slab_start(page_b))) ==
		      hak_slab_carve_order(page_b, (size_t)((uint8_t *)b0 - hak_slab_start(page_b))) +
			      hak_class_stride[cls]);
	CHECK(hak_tls.cur[cls] == page_b);
	printf("ok parked_page_carved_when_no_free_block\n");

	for (size_t i = 0; i < per_page; i++)
		free(a[i]);
	free(b0);
	free(b1);
	return 0;
}
