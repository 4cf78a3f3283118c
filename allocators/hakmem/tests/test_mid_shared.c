/*
 * test_mid_shared.c - the Mid tier's shared page lists (src/mid/shared.c):
 * a page emptied by one thread beyond its CAP serves another thread's
 * refill; a refill takes HAKMEM_POOL_REFILL_BATCH pages at most; pages
 * circulating between threads under concurrent remote frees keep every
 * block's contents (debug build: slab invariants checked on every change).
 */
#include <pthread.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define PAGE ((uintptr_t)1 << HAK_MID_SLAB_SHIFT)
#define BS 8192                     /* a Mid class: 32 blocks per page */
#define NBLK (32 * 6)               /* six pages */

static uint64_t stat_of(_Atomic uint64_t *c)
{
	return atomic_load(c);
}

static void *a_blocks[NBLK];
static pthread_barrier_t bar;

/* Thread A: fills six pages of 8 KiB blocks, frees them all, and stays alive
 * (an exiting thread would give its own pages back) until B is done. */
static void *thread_a(void *arg)
{
	(void)arg;
	for (int i = 0; i < NBLK; i++) {
		a_blocks[i] = malloc(BS);
		CHECK(a_blocks[i]);
		pat_fill(a_blocks[i], BS, (uint32_t)i);
	}
	for (int i = 0; i < NBLK; i++) {
		CHECK(pat_check(a_blocks[i], BS, (uint32_t)i));
		free(a_blocks[i]);
	}
	pthread_barrier_wait(&bar); /* A's pages are on the shared lists */
	pthread_barrier_wait(&bar); /* B has allocated */
	return NULL;
}

static int in_a_pages(void *p)
{
	for (int i = 0; i < NBLK; i++)
		if (((uintptr_t)a_blocks[i] & ~(PAGE - 1)) == ((uintptr_t)p & ~(PAGE - 1)))
			return 1;
	return 0;
}

static void test_reuse_across_threads(void)
{
	pthread_t a;
	pthread_barrier_init(&bar, NULL, 2);
	CHECK(pthread_create(&a, NULL, thread_a, NULL) == 0);
	pthread_barrier_wait(&bar);
	uint64_t puts = stat_of(&hak_stats.mid_shared_puts);
	uint64_t takes = stat_of(&hak_stats.mid_shared_takes);
	uint64_t mapped = stat_of(&hak_stats.segments_mapped);
	CHECK(puts >= 2);
	/* this thread has no 8 KiB page yet: its first refill takes shared ones */
	void *p = malloc(BS);
	CHECK(p && in_a_pages(p));
	CHECK(stat_of(&hak_stats.mid_shared_takes) - takes == 2); /* the batch */
	void *more[64];
	for (int i = 0; i < 64; i++) { /* two pages' worth: both taken pages */
		more[i] = malloc(BS);
		CHECK(more[i]);
		pat_fill(more[i], BS, 1000u + (uint32_t)i);
	}
	CHECK(stat_of(&hak_stats.segments_mapped) == mapped); /* no new memory */
	for (int i = 0; i < 64; i++) {
		CHECK(pat_check(more[i], BS, 1000u + (uint32_t)i));
		free(more[i]);
	}
	free(p);
	pthread_barrier_wait(&bar);
	CHECK(pthread_join(a, NULL) == 0);
	pthread_barrier_destroy(&bar);
	OK("a Mid page emptied by one thread serves another's refill, two pages per refill");
}

/* With a batch of 1, a refill takes exactly one shared page. */
static void *empty_pages(void *arg)
{
	size_t bs = (size_t)(uintptr_t)arg;
	void *v[32 * 4];
	for (int i = 0; i < 32 * 4; i++)
		CHECK((v[i] = malloc(bs)) != NULL);
	for (int i = 0; i < 32 * 4; i++)
		free(v[i]);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	return NULL;
}

static void test_batch_of_one(void)
{
	hak_config.pool_refill_batch = 1;
	pthread_t a;
	size_t bs = 6144; /* a class this program has not used yet */
	pthread_barrier_init(&bar, NULL, 2);
	CHECK(pthread_create(&a, NULL, empty_pages, (void *)(uintptr_t)bs) == 0);
	pthread_barrier_wait(&bar);
	uint64_t takes = stat_of(&hak_stats.mid_shared_takes);
	void *p = malloc(bs);
	CHECK(p);
	CHECK(stat_of(&hak_stats.mid_shared_takes) - takes == 1);
	free(p);
	pthread_barrier_wait(&bar);
	CHECK(pthread_join(a, NULL) == 0);
	pthread_barrier_destroy(&bar);
	hak_config.pool_refill_batch = 2;
	OK("HAKMEM_POOL_REFILL_BATCH=1 takes one page per refill");
}

/* Workers allocate Mid blocks of a few classes, free half themselves and
 * pass half to the next worker, in rounds that empty their pages: pages go
 * through the shared lists while remote frees are in flight. */
#define WORKERS 4
#define ROUNDS 60
#define PER 96
/* A slot holds a block's address and its size in one word (size in the top
 * 16 bits): with the size in a word of its own, the sender's next round could
 * overwrite it between the receiver's taking the block and reading its size. */
static _Atomic uint64_t mailbox[WORKERS][PER];
#define MAIL_SHIFT 48

static uint64_t mail_pack(void *p, uint32_t n)
{
	return (uint64_t)(uintptr_t)p | (uint64_t)n << MAIL_SHIFT;
}

static void *mail_block(uint64_t m)
{
	return (void *)(uintptr_t)(m & (((uint64_t)1 << MAIL_SHIFT) - 1));
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint32_t r = 12345u + (uint32_t)id;
	void *mine[PER];
	uint32_t size[PER];
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < PER; i++) {
			r = r * 1103515245u + 12345u;
			size[i] = 1500u + (r >> 8) % 30000u;
			mine[i] = malloc(size[i]);
			CHECK(mine[i]);
			pat_fill(mine[i], size[i], size[i]);
		}
		/* free what the previous worker passed us */
		for (int i = 0; i < PER; i++) {
			uint64_t m = atomic_exchange(&mailbox[id][i], 0);
			if (m) {
				uint32_t n = (uint32_t)(m >> MAIL_SHIFT);
				CHECK(pat_check(mail_block(m), n, n));
				free(mail_block(m));
			}
		}
		int next = (id + 1) % WORKERS;
		for (int i = 0; i < PER; i++) {
			CHECK(pat_check(mine[i], size[i], size[i]));
			if (i % 2 == 0 && atomic_load(&mailbox[next][i]) == 0) {
				atomic_store(&mailbox[next][i], mail_pack(mine[i], size[i]));
			} else {
				free(mine[i]);
			}
		}
	}
	return NULL;
}

static void test_concurrent(void)
{
	uint64_t takes = stat_of(&hak_stats.mid_shared_takes);
	pthread_t t[WORKERS];
	for (int i = 0; i < WORKERS; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) == 0);
	for (int i = 0; i < WORKERS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	for (int w = 0; w < WORKERS; w++)
		for (int i = 0; i < PER; i++)
			free(mail_block(atomic_exchange(&mailbox[w][i], 0)));
	CHECK(stat_of(&hak_stats.mid_shared_takes) > takes);
	CHECK(stat_of(&hak_stats.mid_remote_frees) > 0);
	OK("pages circulate between threads under remote frees, contents intact");
}

int main(void)
{
	setenv("HAKMEM_MID_CAP", "4", 1); /* every emptied page beyond the current goes */
	setenv("HAKMEM_POOL_REFILL_BATCH", "2", 1);
	test_reuse_across_threads();
	test_batch_of_one();
	test_concurrent();
	return 0;
}
