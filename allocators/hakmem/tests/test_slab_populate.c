/*
 * test_slab_populate.c - a carve into a slab's fresh pages makes them
 * resident first, in one madvise(MADV_POPULATE_WRITE) of at least
 * HAKMEM_POPULATE_KB (hak_slab_populate, src/tiny/segment.c), instead of the
 * carve's link writes and the program's first touches faulting them one
 * page at a time (each fault cost ~1.7 us against ~1.25 us a page for the
 * batch on the project's machine; fragmentation is mostly page faults). A
 * slab whose pages are still resident is not populated again; a purge makes
 * its pages fresh again; POPULATE_KB=0 turns it off. Pages count in carve
 * order: from the slab's colour page on, wrapping at its end.
 */
#include <errno.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

static uint64_t populate_calls(void)
{
	return atomic_load(&hak_stats.populate_calls);
}

/* Pages [first, first + n) of slab s in carve order resident? */
static int resident(hak_slab_t *s, size_t first, size_t n)
{
	size_t pages = ((size_t)1 << hak_slab_seg(s)->slab_shift) / HAK_PAGE;
	size_t colour = hak_slab_colour(s) / HAK_PAGE;
	for (size_t i = first; i < first + n; i++) {
		unsigned char v;
		uint8_t *page = hak_slab_start(s) + (colour + i) % pages * HAK_PAGE;
		CHECK(mincore(page, HAK_PAGE, &v) == 0);
		if (!(v & 1))
			return 0;
	}
	return 1;
}

/* madvise calls that make a fresh slab's first `pages` in carve order
 * resident: two when they run past the slab's end. */
static uint64_t first_populate_calls(hak_slab_t *s, size_t pages)
{
	size_t wrap = (((size_t)1 << hak_slab_seg(s)->slab_shift) - hak_slab_colour(s)) / HAK_PAGE;
	return 1 + (pages > wrap);
}

/* Pages a carve of `bytes` from slab s's first block makes resident. */
static size_t first_carve_pages(hak_slab_t *s, size_t bytes)
{
	size_t end = hak_slab_carve_first(s) - hak_slab_colour(s) + bytes;
	size_t ahead = (size_t)hak_config.populate_kb << 10;
	return (end > ahead ? end + HAK_PAGE - 1 : ahead) / HAK_PAGE;
}

/* A Mid class of 8 KiB blocks: the first allocation carves 3 blocks (8 KiB
 * and 64 bytes apart: 24.2 KiB of the 32 carved at most) of a fresh page
 * (7 - 9 pages from the colour's, with the first block's offset in it);
 * the carve writes a link at each block's start only, so without the
 * populate the rest of each block's pages stayed out until the program
 * touched them. */
static void test_mid_carve_is_resident(void)
{
	uint64_t c0 = populate_calls();
	errno = 4242;
	void *p = malloc(8192);
	CHECK(p);
	CHECK(errno == 4242); /* the populate leaves errno alone */
	hak_slab_t *s = hak_slab_of(hak_seg_of(p), p);
	CHECK(p == hak_slab_start(s) + hak_slab_carve_first(s));
	size_t pages = first_carve_pages(s, 3 * hak_class_stride[s->cls]);
	CHECK(populate_calls() == c0 + first_populate_calls(s, pages));
	CHECK(s->bump == (uint8_t *)p + 3 * hak_class_stride[s->cls]);
	CHECK(resident(s, 0, pages));
	CHECK(hak_slab_seg(s)->populated[s->index] == pages);
	free(p);
	printf("ok mid_carve_is_resident\n");
}

/* A Tiny class: a carve of 64 blocks of 48 bytes (3 KiB) makes 16 KiB
 * resident, so the next carves make no call. */
static void test_tiny_carve_populates_ahead(void)
{
	uint64_t c0 = populate_calls();
	void *p = malloc(48);
	CHECK(p);
	hak_slab_t *s = hak_tiny_slab_of(hak_seg_of(p), p);
	CHECK(p == hak_slab_start(s) + hak_slab_carve_first(s));
	uint64_t calls = first_populate_calls(s, 4);
	CHECK(populate_calls() == c0 + calls);
	CHECK(resident(s, 0, 4));
	void *more[200];
	for (int i = 0; i < 200; i++) /* 9.4 KiB more: within the 16 */
		CHECK((more[i] = malloc(48)) != NULL);
	CHECK(populate_calls() == c0 + calls);
	for (int i = 0; i < 200; i++)
		free(more[i]);
	free(p);
	printf("ok tiny_carve_populates_ahead\n");
}

/* A fresh Tiny slab of class cls whose colour is lo - hi pages; the slabs
 * passed over go back free. */
static hak_slab_t *slab_of_colour(unsigned cls, size_t lo, size_t hi)
{
	hak_heap_t *h = hak_tls.heap;
	hak_slab_t *passed[2 * HAK_SLAB_COLOURS], *s;
	int n = 0;
	for (;;) {
		CHECK((s = hak_seg_slab_acquire(h, HAK_SEG_TINY, cls)) != NULL);
		size_t colour = hak_slab_colour(s) / HAK_PAGE;
		if (colour >= lo && colour <= hi)
			break;
		CHECK(n < 2 * HAK_SLAB_COLOURS);
		passed[n++] = s;
	}
	while (n > 0)
		hak_seg_slab_release(h, passed[--n]);
	return s;
}

/* A slab whose colour is 3 pages from its end: its first 4 pages in carve
 * order are its last 3 and its first, made resident in two calls. */
static void test_populate_wraps(void)
{
	hak_slab_t *s = slab_of_colour(hak_small_class(100), 13, 13);
	uint64_t c0 = populate_calls();
	hak_slab_populate(s, 1000);
	CHECK(populate_calls() == c0 + 2 && hak_slab_seg(s)->populated[s->index] == 4);
	CHECK(resident(s, 0, 4));
	hak_seg_slab_release(hak_tls.heap, s);
	printf("ok populate_wraps\n");
}

/* The slab's record of resident pages: kept while the slab waits dirty,
 * cleared by a purge; POPULATE_KB=0 makes no call. */
static void test_resident_pages_are_remembered(void)
{
	hak_heap_t *h = hak_tls.heap;
	unsigned cls = hak_small_class(200);
	hak_slab_t *s = slab_of_colour(cls, 0, 8); /* 8 pages before the wrap */
	hak_seg_t *seg = hak_slab_seg(s);
	CHECK(seg->used_slabs >= 2); /* the SuperSlab stays when s is purged */
	CHECK(seg->populated[s->index] == 0);

	uint64_t c0 = populate_calls();
	hak_slab_populate(s, 1000);
	CHECK(populate_calls() == c0 + 1 && seg->populated[s->index] == 4);
	hak_slab_populate(s, 16384);
	CHECK(populate_calls() == c0 + 1);
	hak_slab_populate(s, 16385); /* one byte into the fifth page */
	CHECK(populate_calls() == c0 + 2 && seg->populated[s->index] == 8);
	CHECK(resident(s, 0, 8));

	hak_seg_slab_release(h, s); /* dirty: its pages stay */
	hak_slab_t *again = hak_seg_slab_acquire(h, HAK_SEG_TINY, cls);
	CHECK(again == s);
	hak_slab_populate(s, 30000);
	CHECK(populate_calls() == c0 + 2);

	hak_seg_slab_release(h, s);
	hak_seg_purge_all(h);
	CHECK(s->where == SLAB_FREE_CLEAN && seg->populated[s->index] == 0);
	CHECK(!resident(s, 0, 1));

	again = hak_seg_slab_acquire(h, HAK_SEG_TINY, cls);
	CHECK(again == s);
	long kb = hak_config.populate_kb;
	hak_config.populate_kb = 0;
	hak_slab_populate(s, 1000);
	CHECK(populate_calls() == c0 + 2 && seg->populated[s->index] == 0);
	hak_config.populate_kb = kb;
	hak_seg_slab_release(h, s);
	printf("ok resident_pages_are_remembered\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	CHECK(hak_config.populate_kb == 16);
	test_mid_carve_is_resident();
	test_tiny_carve_populates_ahead();
	test_resident_pages_are_remembered();
	test_populate_wraps();
	return 0;
}
