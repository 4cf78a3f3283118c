/*
 * test_remote_list.c - a slab's remote frees (src/tiny/heap.c): a remote
 * free sets its block's bit in the slab's hak_remote_t and adds to the
 * remote word beside the bits (bit 0 while the slab is listed in its heap,
 * a bit per group of 8 words that hold bits, from bit 48 on how many
 * frees), and leaves the
 * block itself alone: when it threaded the blocks, the owner read every
 * link another core had just written, one miss after another. The owner's
 * drain links the blocks onto the free list in address order, with the
 * accounting right, also when it takes a block's bit before that free's
 * count arrived (debug build: slab invariants are checked on every refill
 * and return).
 */
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define BS 6000        /* class 6144, which nothing else here uses: 42 per page */
#define N 128          /* blocks allocated: the first page is full */
#define COUNT_SHIFT 48 /* the remote word's count (heap.c) */
#define GROUP0 2       /* the remote word's bit for the first 8 words */
#define TINY_BS 48     /* a Tiny class nothing else here uses */

static void *blocks[N];
static void *to_free[8];
static int nfree;

static hak_slab_t *slab_of(void *p)
{
	return hak_slab_of(hak_seg_of(p), p);
}

static _Atomic uint64_t *remote_bits(hak_slab_t *s)
{
	return hak_slab_remote(s)->bits;
}

static uint64_t remote_word(hak_slab_t *s)
{
	return atomic_load(&hak_slab_remote(s)->word);
}

/* Block index of p in slab s, and its bit in its word of the remote bits. */
static size_t index_of(hak_slab_t *s, void *p)
{
	return (size_t)((uint8_t *)p - hak_slab_start(s)) / s->block_size;
}

static uint64_t bit_of(hak_slab_t *s, void *p)
{
	return (uint64_t)1 << (index_of(s, p) % 64);
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

/* The owner drains on its allocation slow path (taken here directly: the
 * C library's own allocations leave no class unused). */
static void drain(size_t tiny_size)
{
	free(hak_small_alloc_slow(hak_small_class(tiny_size), tiny_size));
}

/* 1 if slab s's free list starts with the m blocks want[] (in any order
 * given) in address order. */
static int list_starts_sorted(hak_slab_t *s, void **want, int m)
{
	void *q = s->free;
	for (int k = 0; k < m; k++, q = *(void **)q) {
		void *lowest = NULL; /* the k-th lowest of want[] */
		for (int i = 0; i < m; i++) {
			int below = 0;
			for (int j = 0; j < m; j++)
				below += (uintptr_t)want[j] < (uintptr_t)want[i];
			if (below == k)
				lowest = want[i];
		}
		if (q != lowest)
			return 0;
	}
	return 1;
}

static void test_count_and_drain(void)
{
	for (int i = 0; i < N; i++)
		CHECK((blocks[i] = malloc(BS)) != NULL);
	hak_slab_t *s = slab_of(blocks[0]);
	CHECK(s->where == SLAB_FULL && s->free == NULL);
	uint32_t used = s->used;

	/* five remote frees: the word counts them, their bits are set and
	 * the blocks are as their program left them */
	uint64_t bits = 0;
	for (int i = 0; i < 5; i++) {
		to_free[i] = blocks[1 + 2 * i];
		pat_fill(to_free[i], BS, (uint32_t)i);
		bits |= bit_of(s, to_free[i]);
	}
	free_remotely(5);
	uint64_t w = remote_word(s);
	CHECK(w == (1 | GROUP0 | ((uint64_t)5 << COUNT_SHIFT))); /* listed, line 0, five */
	CHECK(atomic_load(&remote_bits(s)[0]) == bits);
	for (int i = 0; i < 5; i++)
		CHECK(pat_check(to_free[i], BS, (uint32_t)i));
	CHECK(s->used == used); /* remote blocks count until drained */

	/* drained onto the empty free list, in address order */
	drain(700);
	CHECK(remote_word(s) == 0 && atomic_load(&remote_bits(s)[0]) == 0);
	CHECK(s->used == used - 5);
	CHECK(list_starts_sorted(s, to_free, 5));

	/* three more, drained ahead of the five: a free list of eight */
	for (int i = 0; i < 3; i++)
		to_free[i] = blocks[20 + i];
	free_remotely(3);
	CHECK((remote_word(s) >> COUNT_SHIFT) == 3);
	drain(800);
	CHECK(remote_word(s) == 0);
	CHECK(s->used == used - 8);
	CHECK(list_starts_sorted(s, to_free, 3));
	int n = 0;
	for (void *q = s->free; q; q = *(void **)q)
		n++;
	CHECK(n == 8);

	/* the blocks still live: all but the eight freed remotely */
	for (int i = 0; i < N; i++) {
		bool remote = (i < 10 && (i & 1)) || (i >= 20 && i < 23);
		if (!remote)
			free(blocks[i]);
	}
	OK("count_and_drain");
}

/* A thread's Tiny batch sets a word's bits when its next block falls in
 * another word, and adds its count only when the batch goes; a drain
 * meanwhile (the slab listed by another thread's free) takes those bits
 * ahead of their count. The slab's `used` follows the counts, and every
 * block comes back once. */
static void *tiny[200];
static int ia, ib, ic;   /* tiny[ia], tiny[ic]: one word of the remote bits; tiny[ib]: another */
static _Atomic int step; /* 1: the first freer holds its batch; 2: it may exit */

static void *hold_batch(void *arg)
{
	(void)arg;
	free(tiny[ia]); /* word a */
	free(tiny[ib]); /* word b: word a's bit is set, uncounted */
	atomic_store(&step, 1);
	while (atomic_load(&step) != 2)
		sched_yield();
	return NULL; /* exit: the batch goes, counting both */
}

static void *free_one(void *arg)
{
	free(arg); /* a batch of one: counted and listed at exit */
	return NULL;
}

static void test_bits_ahead_of_count(void)
{
	for (int i = 0; i < 200; i++)
		CHECK((tiny[i] = malloc(TINY_BS)) != NULL);
	hak_slab_t *s = slab_of(tiny[0]);
	size_t a = index_of(s, tiny[0]) / 64;
	ia = 0, ib = -1, ic = -1;
	for (int i = 1; i < 200; i++) {
		CHECK(slab_of(tiny[i]) == s); /* 9,600 bytes of one fresh slab */
		if (index_of(s, tiny[i]) / 64 == a)
			ic = ic < 0 ? i : ic;
		else
			ib = ib < 0 ? i : ib;
	}
	CHECK(ib > 0 && ic > 0);
	uint32_t used = s->used;

	pthread_t t;
	CHECK(pthread_create(&t, NULL, hold_batch, NULL) == 0);
	while (atomic_load(&step) != 1)
		sched_yield();
	CHECK(atomic_load(&remote_bits(s)[a]) == bit_of(s, tiny[ia]));
	CHECK(remote_word(s) == 0); /* not counted, not listed */

	run_in_thread(free_one, tiny[ic]);
	CHECK(remote_word(s) >> COUNT_SHIFT == 1);
	drain(300);
	CHECK(s->used == used - 1); /* only the counted free */
	void *two[2] = {tiny[ia], tiny[ic]};
	void *head = s->free;
	CHECK(list_starts_sorted(s, two, 2));

	atomic_store(&step, 2);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(remote_word(s) >> COUNT_SHIFT == 2);
	drain(400);
	CHECK(s->used == used - 3);
	CHECK(s->free == tiny[ib] && *(void **)tiny[ib] == head);
	for (int i = 0; i < 200; i++)
		if (i != ia && i != ib && i != ic)
			free(tiny[i]);
	OK("bits_ahead_of_count");
}

/* A batch over several words of the remote bits: the drain links its
 * blocks in address order whatever order they were freed in. */
static void test_address_order(void)
{
	static void *b[200];
	for (int i = 0; i < 200; i++)
		CHECK((b[i] = malloc(80)) != NULL); /* a Tiny class nothing else here uses */
	hak_slab_t *s = slab_of(b[0]);
	for (int i = 0; i < 5; i++) {
		to_free[i] = b[199 - 48 * i]; /* 199, 151, 103, 55, 7: 64 blocks to a word */
		CHECK(slab_of(to_free[i]) == s);
	}
	free_remotely(5);
	uint64_t w = remote_word(s);
	CHECK((w >> COUNT_SHIFT) == 5 && (w & 1));
	drain(500);
	CHECK(list_starts_sorted(s, to_free, 5));
	for (int i = 0; i < 200; i++)
		if (i < 7 || (199 - i) % 48 != 0)
			free(b[i]);
	OK("address_order");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	test_count_and_drain();
	test_bits_ahead_of_count();
	test_address_order();
	return 0;
}
