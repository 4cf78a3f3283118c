/*
 * test_tiny_lifo.c - the Tiny lifos (hak_tls.lifo, src/tiny/heap.c and the
 * fast paths of hakmem_internal.h): a local Tiny free goes onto its class's
 * lifo and the next allocation of the class takes the block freed last,
 * whichever slab holds it (before: the current slab's blocks came first,
 * and a block freed into another slab waited until that slab was current
 * again); a full lifo sends further frees to their slabs; thread exit and
 * the purge check give the lifos' blocks back to their slabs; the counts
 * the lifos' allocations derive are exact.
 */
#include <pthread.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define BS 1000       /* class of 1 KiB blocks: 64 per 64 KiB slab */
#define PER_SLAB 64
#define N (4 * PER_SLAB + 8) /* four full slabs and part of a fifth */

static void *blk[N];

static unsigned lifo_len(unsigned cls)
{
	unsigned n = 0;
	for (void *p = hak_tls.lifo[cls]; p; p = *(void **)p)
		n++;
	return n;
}

static void fill(void)
{
	for (int i = 0; i < N; i++) {
		blk[i] = malloc(BS);
		CHECK(blk[i]);
		pat_fill(blk[i], BS, (uint32_t)i);
	}
}

static void empty(void)
{
	for (int i = 0; i < N; i++) {
		if (blk[i]) {
			CHECK(pat_check(blk[i], BS, (uint32_t)i));
			free(blk[i]);
			blk[i] = NULL;
		}
	}
}

static void test_freed_last_comes_back_first(void)
{
	unsigned cls = hak_small_class(BS);
	fill();
	hak_slab_t *cur = hak_tls.cur[cls];
	/* blocks of two slabs that are not current, freed in this order */
	CHECK(hak_slab_of(hak_seg_of(blk[5]), blk[5]) != cur);
	CHECK(hak_slab_of(hak_seg_of(blk[70]), blk[70]) != cur);
	CHECK(cur->free != NULL || cur->fresh_left > 0); /* the current slab has blocks */
	void *a = blk[5], *b = blk[70];
	free(a);
	free(b);
	blk[5] = blk[70] = NULL;
	void *p = malloc(BS);
	void *q = malloc(BS);
	CHECK(p == b && q == a); /* the newest first, from their slabs */
	free(p);
	free(q);
	empty();
	printf("ok freed_last_comes_back_first\n");
}

static void test_full_lifo_frees_go_to_slabs(void)
{
	unsigned cls = hak_small_class(BS);
	hak_tiny_lifo_flush(cls);
	fill();
	for (int i = 0; i < N; i++) {
		free(blk[i]);
		if (i < HAK_TINY_LIFO_MAX - 1)
			CHECK(hak_tls.lifo[cls] == blk[i]);
	}
	/* the lifo kept the first MAX - 1 frees; the others went to slabs */
	CHECK(lifo_len(cls) == HAK_TINY_LIFO_MAX - 1);
	CHECK(hak_tls.lifo_room[cls] == 1);
	void *p = malloc(BS);
	CHECK(p == blk[HAK_TINY_LIFO_MAX - 2]);
	CHECK(hak_tls.lifo_room[cls] == 2);
	free(p); /* room again: onto the lifo */
	CHECK(hak_tls.lifo[cls] == p && hak_tls.lifo_room[cls] == 1);
	hak_tiny_lifo_flush(cls);
	CHECK(hak_tls.lifo[cls] == NULL && hak_tls.lifo_room[cls] == HAK_TINY_LIFO_MAX);
	for (int i = 0; i < N; i++)
		blk[i] = NULL;
	printf("ok full_lifo_frees_go_to_slabs\n");
}

/* bug guard: the frees past a full lifo count in their slabs (the free fast
 * path writes no TLS there); the publish adds them to the class's count. */
static void test_frees_past_a_full_lifo_are_counted(void)
{
	unsigned cls = hak_small_class(BS);
	hak_tiny_lifo_flush(cls);
	hak_counters_publish();
	uint64_t before = atomic_load(&hak_stats.class_frees[cls]);
	fill();
	hak_slab_t *last = hak_slab_of(hak_seg_of(blk[N - 1]), blk[N - 1]);
	for (int i = 0; i < N; i++)
		free(blk[i]);
	CHECK(last->frees > 0); /* counted in the slab, not yet in TLS */
	hak_counters_publish();
	CHECK(last->frees == 0);
	CHECK(atomic_load(&hak_stats.class_frees[cls]) - before == N);
	hak_tiny_lifo_flush(cls);
	for (int i = 0; i < N; i++)
		blk[i] = NULL;
	printf("ok frees_past_a_full_lifo_are_counted\n");
}

/* The lifo's allocations are not counted as they happen but derived when
 * the counts are published (its pushes less the blocks it gained): the
 * published counts are exact through lifo hits, a full lifo, a publish
 * halfway and a flush. */
static void test_lifo_allocations_are_counted(void)
{
	unsigned cls = hak_small_class(BS);
	hak_tiny_lifo_flush(cls);
	hak_counters_publish();
	uint64_t a0 = atomic_load(&hak_stats.class_allocs[cls]);
	uint64_t f0 = atomic_load(&hak_stats.class_frees[cls]);
	fill(); /* N allocations from slabs */
	for (int i = 0; i < N; i++)
		free(blk[i]); /* 255 onto the lifo, the rest past it */
	for (int i = 0; i < 100; i++)
		blk[i] = malloc(BS); /* 100 lifo hits */
	hak_counters_publish();
	CHECK(atomic_load(&hak_stats.class_allocs[cls]) - a0 == N + 100);
	CHECK(atomic_load(&hak_stats.class_frees[cls]) - f0 == N);
	for (int i = 0; i < 40; i++)
		free(blk[i]); /* back onto the lifo */
	for (int i = 0; i < 10; i++)
		blk[i] = malloc(BS);
	hak_tiny_lifo_flush(cls); /* publishes before it empties the lifo */
	for (int i = 0; i < 10; i++)
		blk[i + 10] = malloc(BS); /* from the slabs now */
	for (int i = 0; i < 20; i++)
		free(blk[i]);
	for (int i = 40; i < 100; i++)
		free(blk[i]);
	hak_counters_publish();
	CHECK(atomic_load(&hak_stats.class_allocs[cls]) - a0 == N + 100 + 10 + 10);
	CHECK(atomic_load(&hak_stats.class_frees[cls]) - f0 == N + 40 + 20 + 60);
	hak_tiny_lifo_flush(cls);
	for (int i = 0; i < N; i++)
		blk[i] = NULL;
	printf("ok lifo_allocations_are_counted\n");
}

static hak_slab_t *thread_slab;

static void *fill_free_exit(void *arg)
{
	(void)arg;
	void *p[32];
	for (int i = 0; i < 32; i++)
		CHECK((p[i] = malloc(BS)) != NULL);
	thread_slab = hak_slab_of(hak_seg_of(p[0]), p[0]);
	for (int i = 0; i < 32; i++)
		free(p[i]);
	CHECK(lifo_len(hak_small_class(BS)) == 32);
	return NULL;
}

static void test_thread_exit_returns_lifo_blocks(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, fill_free_exit, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	/* the slab has no live block left (freed to its SuperSlab or kept
	 * empty as the orphaned heap's current slab) */
	CHECK(thread_slab->used <= 1);
	printf("ok thread_exit_returns_lifo_blocks\n");
}

static void test_purge_check_empties_lifos(void)
{
	unsigned cls = hak_small_class(BS);
	void *p = malloc(BS);
	CHECK(p);
	free(p);
	CHECK(hak_tiny_lifos_held());
	hak_heap_t *h = hak_tls.heap;
	h->purge_check_ms = 0; /* the check is due */
	hak_seg_purge_due(h);
	CHECK(!hak_tiny_lifos_held() && hak_tls.lifo[cls] == NULL);
	CHECK(hak_tls.lifo_room[cls] == HAK_TINY_LIFO_MAX);
	printf("ok purge_check_empties_lifos\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the main thread's heap */
	test_freed_last_comes_back_first();
	test_full_lifo_frees_go_to_slabs();
	test_frees_past_a_full_lifo_are_counted();
	test_lifo_allocations_are_counted();
	test_thread_exit_returns_lifo_blocks();
	test_purge_check_empties_lifos();
	return 0;
}
