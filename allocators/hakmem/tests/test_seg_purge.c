/*
 * test_seg_purge.c - the purge of an empty SuperSlab (src/tiny/segment.c):
 * when a dirty slab is purged and its SuperSlab has no slab in use, all its
 * dirty slabs go back with one madvise of the SuperSlab's body (was: one
 * per 64 KiB slab, 2.6 k calls in fragmentation's teardown), and the
 * SuperSlab leaves the heap. A SuperSlab with a slab in use still purges
 * slab by slab, and keeps its other slabs' pages.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define BS 1024                         /* a Tiny class: 64 blocks per slab */
#define SLABS 8                         /* slabs filled */
#define N (SLABS * (65536 / BS))

static uint64_t madvises(void)
{
	return atomic_load(&hak_stats.madvise_calls);
}

static hak_seg_t *seg_of_thread;
static uint64_t calls_at_exit;

/* A new thread's heap fills SLABS slabs of one fresh SuperSlab, frees them
 * all and exits: its exit purges the SuperSlab, which has no slab in use. */
static void *fill_free_exit(void *arg)
{
	(void)arg;
	static void *b[N];
	for (int i = 0; i < N; i++) {
		CHECK((b[i] = malloc(BS)) != NULL);
		pat_fill(b[i], 16, (uint32_t)i);
	}
	seg_of_thread = hak_seg_of(b[0]);
	for (int i = 0; i < N; i++)
		CHECK(hak_seg_of(b[i]) == seg_of_thread);
	for (int i = 0; i < N; i++) {
		CHECK(pat_check(b[i], 16, (uint32_t)i));
		free(b[i]);
	}
	hak_tiny_lifo_flush(hak_small_class(BS)); /* the frees reach their slabs */
	CHECK(hak_tls.heap->ndirty[HAK_SEG_TINY] >= SLABS - 1);
	calls_at_exit = madvises();
	return NULL;
}

static void test_empty_superslab_one_madvise(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, fill_free_exit, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(madvises() - calls_at_exit == 1);
	printf("ok empty_superslab_one_madvise\n");
}

/* While one slab of the SuperSlab is in use, a purge takes one slab. */
static void test_busy_superslab_slab_by_slab(void)
{
	static void *b[N];
	for (int i = 0; i < N; i++)
		CHECK((b[i] = malloc(BS)) != NULL);
	void *keep = malloc(16); /* another slab of the same SuperSlab stays in use */
	CHECK(hak_seg_of(keep) == hak_seg_of(b[0]));
	hak_heap_t *h = hak_tls.heap;
	for (int i = 0; i < N; i++)
		free(b[i]);
	hak_tiny_lifo_flush(hak_small_class(BS));
	unsigned dirty = h->ndirty[HAK_SEG_TINY];
	CHECK(dirty >= SLABS - 1);
	uint64_t c0 = madvises();
	hak_seg_purge_all(h);
	CHECK(madvises() - c0 == dirty);
	CHECK(h->ndirty[HAK_SEG_TINY] == 0);
	CHECK(hak_seg_of(keep)->home == h);
	free(keep);
	printf("ok busy_superslab_slab_by_slab\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the main thread's heap */
	hak_config.purge_delay_ms = 100000; /* no purge by age during the test */
	test_empty_superslab_one_madvise();
	test_busy_superslab_slab_by_slab();
	return 0;
}
