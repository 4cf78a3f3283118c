/*
 * test_remote_batch.c - a thread's remote frees of Tiny blocks wait in a
 * batch per class while they go to one slab, and the batch's count reaches
 * the slab's remote word at once (src/tiny/heap.c: small_free_remote): when
 * a block of another slab of the class comes, at 32 blocks, on the freeing
 * thread's next allocation slow path, and at its exit. Mid frees and frees
 * after the thread's exit go at once. A block's class comes from its
 * SuperSlab's header. No block is lost: the owner drains them all.
 */
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define BS 200          /* Tiny class 224: 292 blocks per 64 KiB slab */
#define COUNT_SHIFT 48  /* the remote word's count (heap.c) */

static void *blocks[64];
static int step;        /* what the freeing thread does, set by the test */
static uint32_t seen[4]; /* remote counts it saw at its check points */

static uint32_t remote_count_of(void *p)
{
	hak_slab_t *s = hak_tiny_slab_of(hak_seg_of(p), p);
	return (uint32_t)(atomic_load(&hak_slab_remote(s)->word) >> COUNT_SHIFT);
}

static void *freer(void *arg)
{
	(void)arg;
	if (step == 0) { /* 10 frees wait; an allocation slow path pushes them */
		for (int i = 0; i < 10; i++)
			free(blocks[i]);
		seen[0] = remote_count_of(blocks[0]);
		free(malloc(24)); /* this thread's first allocation: its slow path */
		seen[1] = remote_count_of(blocks[0]);
	} else if (step == 1) { /* 40 frees: one push at 32, 8 wait for the exit */
		for (int i = 0; i < 40; i++)
			free(blocks[i]);
		seen[0] = remote_count_of(blocks[0]);
	} else if (step == 2) { /* two classes, interleaved: a batch each */
		for (int i = 0; i < 8; i++)
			free(blocks[i]);
		unsigned a = hak_small_class(BS), b = hak_small_class(40);
		seen[0] = hak_tls.remote_batch[a].n;
		seen[1] = hak_tls.remote_batch[b].n;
		seen[2] = hak_tls.remote_batch[a].slab == hak_tiny_slab_of(hak_seg_of(blocks[0]), blocks[0]);
		seen[3] = hak_tls.remote_batch[b].slab == hak_tiny_slab_of(hak_seg_of(blocks[1]), blocks[1]);
	} else { /* a Mid block goes at once */
		free(blocks[0]);
		seen[0] = (uint32_t)(atomic_load(&hak_slab_remote(hak_slab_of(hak_seg_of(blocks[0]),
									      blocks[0]))->word) >>
				     COUNT_SHIFT);
	}
	return NULL;
}

static void run_freer(int what)
{
	step = what;
	run_in_thread(freer, NULL);
}

static void alloc_blocks(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		CHECK((blocks[i] = malloc(size)) != NULL);
		pat_fill(blocks[i], size, (uint32_t)i);
	}
}

/* The owner drains at its next slow path (the first allocation of a Tiny
 * class nothing else here used: `fresh`): all n blocks come back. */
static void check_drained(void *p, uint32_t n, size_t fresh)
{
	hak_slab_t *s = hak_tiny_slab_of(hak_seg_of(p), p);
	uint32_t used = s->used;
	hak_tiny_lifos_flush_idle(hak_tls.heap, 0);
	free(malloc(fresh));
	CHECK(remote_count_of(p) == 0);
	CHECK(s->used == used - n);
}

static void test_slow_path_pushes(void)
{
	alloc_blocks(10, BS);
	run_freer(0);
	CHECK(seen[0] == 0);  /* waiting in the freeing thread */
	CHECK(seen[1] == 10); /* pushed at once by its slow path */
	check_drained(blocks[0], 10, 600);
	printf("ok slow_path_pushes\n");
}

static void test_full_batch_and_exit_push(void)
{
	alloc_blocks(40, BS);
	void *first = blocks[0];
	CHECK(hak_tiny_slab_of(hak_seg_of(first), first) ==
	      hak_tiny_slab_of(hak_seg_of(blocks[39]), blocks[39]));
	run_freer(1);
	CHECK(seen[0] == 32);                /* one batch went when full */
	CHECK(remote_count_of(first) == 40); /* the rest at the thread's exit */
	check_drained(first, 40, 700);
	printf("ok full_batch_and_exit_push\n");
}

/* The class of a remote Tiny free comes from its SuperSlab's header line,
 * not from its slab's record (which the owner writes on every allocation);
 * the debug build asserts that the two agree. */
static void test_batch_per_class(void)
{
	for (int i = 0; i < 8; i++) {
		size_t size = i % 2 ? 40 : BS;
		CHECK((blocks[i] = malloc(size)) != NULL);
		pat_fill(blocks[i], size, (uint32_t)i);
	}
	run_freer(2);
	CHECK(seen[0] == 4 && seen[1] == 4); /* each class's four, apart */
	CHECK(seen[2] && seen[3]);           /* each in its own slab's batch */
	CHECK(remote_count_of(blocks[0]) == 4 && remote_count_of(blocks[1]) == 4); /* at its exit */
	hak_tiny_lifos_flush_idle(hak_tls.heap, 0);
	free(malloc(900)); /* drains them */
	CHECK(remote_count_of(blocks[0]) == 0 && remote_count_of(blocks[1]) == 0);
	printf("ok batch_per_class\n");
}

static void test_mid_goes_at_once(void)
{
	CHECK((blocks[0] = malloc(3000)) != NULL);
	run_freer(3);
	CHECK(seen[0] == 1);
	free(malloc(800)); /* drains it */
	printf("ok mid_goes_at_once\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	test_slow_path_pushes();
	test_full_batch_and_exit_push();
	test_batch_per_class();
	test_mid_goes_at_once();
	return 0;
}
