/*
 * test_mid_colour.c - blocks of the Mid classes of whole pages (4, 8 ... 28
 * KiB) lie HAK_MID_COLOUR bytes more than their size apart, so consecutive
 * blocks start at different page offsets (before, every such block started
 * at offset 0 and a program's first-line touches of all of them shared one
 * L1 set); 32 KiB keeps whole pages. Page-aligned requests of these sizes
 * are then no longer aligned by construction: they get a pointer inside a
 * larger block, which free (local or remote), malloc_usable_size and
 * realloc take back to the block (hak_mid_block_of, api.c).
 */
#include <malloc.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

static void test_strides(void)
{
	for (unsigned c = HAK_TINY_NCLS; c < HAK_SMALL_NCLS; c++) {
		uint32_t sz = hak_class_size[c];
		uint32_t want = sz % 4096 == 0 && sz < HAK_SMALL_MAX ? sz + HAK_MID_COLOUR : sz;
		CHECK(hak_class_stride[c] == want);
	}
	for (unsigned c = 0; c < HAK_TINY_NCLS; c++)
		CHECK(hak_class_stride[c] == hak_class_size[c]);
	printf("ok strides\n");
}

/* Consecutive 8 KiB blocks of a fresh page: each at its own page offset. */
static void test_blocks_spread_over_page_offsets(void)
{
	enum { N = 3 };
	void *b[N];
	for (int i = 0; i < N; i++) {
		CHECK((b[i] = malloc(8192)) != NULL);
		pat_fill(b[i], 8192, (uint32_t)i);
	}
	for (int i = 1; i < N; i++) {
		CHECK((uint8_t *)b[i] == (uint8_t *)b[i - 1] + 8192 + HAK_MID_COLOUR);
		CHECK(((uintptr_t)b[i] & 4095) != ((uintptr_t)b[i - 1] & 4095));
	}
	for (int i = 0; i < N; i++) {
		CHECK(malloc_usable_size(b[i]) == 8192);
		CHECK(pat_check(b[i], 8192, (uint32_t)i));
		free(b[i]);
	}
	printf("ok blocks_spread_over_page_offsets\n");
}

static void *free_in_thread(void *p)
{
	free(p);
	return NULL;
}

/* Aligned requests of the padded classes' sizes: aligned, writable over
 * their usable size without touching a neighbour, freed back to their
 * block's start, from this thread or another. */
static void test_aligned_inside_blocks(void)
{
	static const size_t cases[][2] = {{4096, 4096}, {4096, 100}, {8192, 8192}, {8192, 5000},
					  {16384, 16384}, {16384, 1}, {2048, 3000}, {128, 4000}};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		size_t align = cases[k][0], size = cases[k][1];
		void *guard = malloc(64);
		void *p;
		CHECK(posix_memalign(&p, align, size) == 0);
		CHECK(((uintptr_t)p & (align - 1)) == 0);
		hak_seg_t *seg = hak_seg_of(p);
		CHECK(seg->kind == HAK_SEG_MID);
		uint8_t *block = hak_mid_block_of(seg, p);
		hak_slab_t *s = hak_slab_of(seg, block);
		CHECK((size_t)(block - hak_slab_start(s)) % s->block_size == 0);
		size_t usable = malloc_usable_size(p);
		CHECK(usable >= size);
		CHECK((uint8_t *)p + usable == block + hak_class_size[s->cls]);
		pat_fill(p, usable, 7);
		pat_fill(guard, 64, 9);
		void *q = realloc(p, usable); /* fits: in place */
		CHECK(q == p && pat_check(q, usable, 7));
		if (k % 2) {
			run_in_thread(free_in_thread, p);
		} else {
			free(p);
			/* the block's start comes back for a request of its class */
			void *again = malloc(hak_class_size[s->cls]);
			CHECK(again == block);
			free(again);
		}
		CHECK(pat_check(guard, 64, 9));
		free(guard);
	}
	/* growing an aligned pointer past its block moves the data */
	void *p;
	CHECK(posix_memalign(&p, 4096, 4096) == 0);
	pat_fill(p, 4096, 3);
	void *q = realloc(p, 20000);
	CHECK(q && pat_check(q, 4096, 3));
	free(q);
	printf("ok aligned_inside_blocks\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	test_strides();
	test_blocks_spread_over_page_offsets();
	test_aligned_inside_blocks();
	return 0;
}
