/*
 * test_remote_list.c - a slab's remote list (src/tiny/heap.c): the remote
 * word holds the newest remote-freed block, bit 0 while the slab is listed
 * in its heap, and from bit 48 on how many blocks the list holds, so that
 * the owner's drain takes the list without walking it when the slab's own
 * free list is empty (the walk read every block's line again: mid_mt at 4
 * threads with the workers taking turns on one core). The drain gives the
 * blocks back with the accounting right, newest first, onto an empty free
 * list or ahead of a non-empty one (debug build: slab invariants are
 * checked on every refill and return).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define BS 6000        /* class 6144, which nothing else here uses: 42 per page */
#define N 128          /* blocks allocated: the first page is full */
#define COUNT_SHIFT 48 /* the remote word's count (heap.c) */

static void *blocks[N];
static void *to_free[8];
static int nfree;

static hak_slab_t *page_of(void *p)
{
	return hak_slab_of(hak_seg_of(p), p);
}

static void *freer(void *arg)
{
	(void)arg;
	for (int i = 0; i < nfree; i++)
		free(to_free[i]);
	return NULL;
}

/* Free to_free[0 .. n) from another thread. */
static void free_remotely(int n)
{
	nfree = n;
	run_in_thread(freer, NULL);
}

/* The owner drains at its next slow path: the first allocation of a Tiny
 * class nothing else here uses. */
static void drain(size_t tiny_size)
{
	free(malloc(tiny_size));
}

static void test_count_and_drain(void)
{
	for (int i = 0; i < N; i++)
		CHECK((blocks[i] = malloc(BS)) != NULL);
	hak_slab_t *s = page_of(blocks[0]);
	CHECK(s->where == SLAB_FULL && s->free == NULL);
	uint32_t used = s->used;

	/* five remote frees: the word counts them, the newest heads the list */
	for (int i = 0; i < 5; i++)
		to_free[i] = blocks[1 + 2 * i];
	free_remotely(5);
	uintptr_t w = atomic_load(&s->remote);
	CHECK((w & 1) == 1); /* listed in its heap */
	CHECK((w >> COUNT_SHIFT) == 5);
	void *q = (void *)(w & ((((uintptr_t)1) << COUNT_SHIFT) - 2));
	for (int i = 4; i >= 0; i--, q = *(void **)q)
		CHECK(q == to_free[i]);
	CHECK(q == NULL);
	CHECK(s->used == used); /* remote blocks count until drained */

	/* drained onto the empty free list, newest first */
	drain(700);
	CHECK(atomic_load(&s->remote) == 0);
	CHECK(s->used == used - 5);
	q = s->free;
	for (int i = 4; i >= 0; i--, q = *(void **)q)
		CHECK(q == to_free[i]);
	CHECK(q == NULL);

	/* three more, drained ahead of the five: a free list of eight */
	for (int i = 0; i < 3; i++)
		to_free[i] = blocks[20 + i];
	free_remotely(3);
	CHECK((atomic_load(&s->remote) >> COUNT_SHIFT) == 3);
	drain(800);
	CHECK(atomic_load(&s->remote) == 0);
	CHECK(s->used == used - 8);
	int n = 0;
	for (q = s->free; q; q = *(void **)q)
		n++;
	CHECK(n == 8);
	CHECK(s->free == blocks[22]);

	/* the blocks still live: all but the eight freed remotely */
	for (int i = 0; i < N; i++) {
		bool remote = (i < 10 && (i & 1)) || (i >= 20 && i < 23);
		if (!remote)
			free(blocks[i]);
	}
	printf("ok count_and_drain\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	test_count_and_drain();
	return 0;
}
