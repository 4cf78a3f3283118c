/*
 * test_mid_cache.c - the Mid cache of src/tiny/heap.c: a local Mid free
 * goes to the heap's cache of its class, and the next allocation of the
 * class gets the block freed last whichever page holds it; the cache holds
 * at most its bound (blocks beyond go back to their pages), which is at
 * least 32 blocks for every class, and a thread whose Mid use stopped for
 * the purge delay empties its caches at its next refill; cached blocks
 * keep counting in their pages' `used`, so a page is not let go while its
 * blocks are cached, and an exiting thread empties its caches, so its
 * pages are let go. A remote free into a page with cached blocks is drained
 * with the accounting right (debug build: slab invariants are checked on
 * every refill and return). Also the segment header layout the free path
 * relies on: its hot line away from page offset 0, slab metadata on lines.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define BS 8192                 /* a Mid class: 32 blocks per 256 KiB page */
#define PER_PAGE 32

static hak_slab_t *page_of(void *p)
{
	return hak_slab_of(hak_seg_of(p), p);
}

static hak_slab_t *cache_of(size_t size)
{
	return &hak_tls.heap->mid_cache[hak_small_class(size) - HAK_TINY_NCLS];
}

static uint32_t cached(const hak_slab_t *c)
{
	return HAK_MID_CACHE_BASE - c->used;
}

static void test_layout(void)
{
	void *p = malloc(BS);
	CHECK(p);
	hak_seg_t *seg = hak_seg_of(p);
	CHECK(((uintptr_t)&seg->owner & 4095) >= 64); /* not the line of page offset 0 */
	CHECK(((uintptr_t)page_of(p) & 63) == 0);     /* slab metadata: one line */
	free(p);
	printf("ok layout\n");
}

/* The block freed last comes back first, even from a page that is not the
 * current one. */
static void test_lifo_across_pages(void)
{
	enum { N = 3 * PER_PAGE };
	void *b[N];
	for (int i = 0; i < N; i++) {
		CHECK((b[i] = malloc(BS)) != NULL);
		pat_fill(b[i], 64, (uint32_t)i);
	}
	CHECK(page_of(b[0]) != page_of(b[N - 1]));
	hak_slab_t *old = page_of(b[0]);
	uint32_t used = old->used;
	free(b[0]);                   /* a page that is not current */
	CHECK(old->used == used);     /* cached: still counted in its page */
	hak_slab_t *c = cache_of(BS);
	CHECK(cached(c) == 1 && hak_tls.cur[hak_small_class(BS)] == c);
	void *p = malloc(BS);
	CHECK(p == b[0]);
	CHECK(cached(c) == 0);
	b[0] = p;
	pat_fill(b[0], 64, 0);
	for (int i = 0; i < N; i++) {
		CHECK(pat_check(b[i], 64, (uint32_t)i));
		free(b[i]);
	}
	printf("ok lifo_across_pages\n");
}

/* The cache never holds more than its bound; what goes beyond returns to
 * the pages, and every block stays usable. */
static void test_bound(void)
{
	enum { N = 8 * PER_PAGE };
	static void *b[N];
	hak_slab_t *c = NULL;
	for (int i = 0; i < N; i++) {
		CHECK((b[i] = malloc(BS)) != NULL);
		pat_fill(b[i], 64, (uint32_t)i);
	}
	c = cache_of(BS);
	uint32_t bound = c->fresh_left;
	CHECK(bound >= 4 && bound < N);
	for (int i = 0; i < N; i++) {
		CHECK(pat_check(b[i], 64, (uint32_t)i));
		free(b[i]);
		CHECK(cached(c) <= bound);
	}
	CHECK(cached(c) >= bound / 2); /* a flush keeps the newest half */
	for (int i = 0; i < N; i++)
		CHECK((b[i] = malloc(BS)) != NULL);
	for (int i = 0; i < N; i++)
		free(b[i]);
	printf("ok bound\n");
}

/* A class of 32 KiB caches at least 32 blocks (64 KiB of blocks would be
 * 2): 32 frees in a row stay in the cache, and 32 allocations get them
 * back newest first without taking a block from a page. */
static void test_big_class_holds_32(void)
{
	enum { BIG = 32768, K = 32 };
	void *b[K];
	for (int i = 0; i < K; i++) {
		CHECK((b[i] = malloc(BIG)) != NULL);
		pat_fill(b[i], 64, (uint32_t)i);
	}
	hak_slab_t *c = cache_of(BIG);
	uint32_t before = cached(c);
	for (int i = 0; i < K; i++)
		free(b[i]);
	CHECK(cached(c) == before + K); /* no flush */
	for (int i = K - 1; i >= 0; i--) {
		void *p = malloc(BIG);
		CHECK(p == b[i]);
	}
	CHECK(cached(c) == before);
	for (int i = 0; i < K; i++)
		free(b[i]);
	printf("ok big_class_holds_32\n");
}

/* A thread that stopped using Mid sizes does not keep its cached blocks,
 * which pin their pages: after the purge delay the next refill of any
 * class empties the caches and gives the empty pages back. */
static void test_idle_trim(void)
{
	enum { BIG = 32768, K = 32 };
	void *b[K];
	for (int i = 0; i < K; i++)
		CHECK((b[i] = malloc(BIG)) != NULL);
	for (int i = 0; i < K; i++)
		free(b[i]);
	hak_slab_t *c = cache_of(BIG);
	CHECK(cached(c) >= K / 2);
	usleep(3 * 20 * 1000); /* the purge delay (HAKMEM_PURGE_DELAY_MS 20) */
	free(malloc(200));     /* a Tiny class nothing else here uses: a refill */
	CHECK(cached(c) == 0);
	printf("ok idle_trim\n");
}

/* --- a thread's caches are emptied when it exits ------------------------- */

static hak_slab_t *exit_page;
static void *exit_block;

static void *exit_worker(void *arg)
{
	(void)arg;
	void *p = malloc(BS * 3 / 2 + 512); /* a class nothing else here uses */
	CHECK(p);
	exit_page = page_of(p);
	CHECK(exit_page->where == SLAB_CUR && exit_page->used == 2);
	free(p);
	CHECK(exit_page->used == 2); /* cached: bias + the cached block */
	exit_block = p;
	return NULL;
}

static void test_thread_exit_flushes(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, exit_worker, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	/* the exiting thread's heap let the empty page go */
	CHECK(exit_page->where == SLAB_SHARED || exit_page->where == SLAB_FREE_DIRTY ||
	      exit_page->where == SLAB_FREE_CLEAN);
	CHECK(exit_page->used == 0);
	/* and the block is allocatable again */
	void *p = malloc(BS * 3 / 2 + 512);
	CHECK(p);
	free(p);
	printf("ok thread_exit_flushes\n");
}

/* --- a remote free into a page whose other blocks are cached ------------- */

static void *remote_block;
static hak_slab_t *remote_page;

static void *remote_freer(void *arg)
{
	(void)arg;
	free(remote_block);
	return NULL;
}

static void *remote_owner(void *arg)
{
	(void)arg;
	size_t sz = 5000; /* class 5120, which nothing else here uses */
	void *a = malloc(sz), *b = malloc(sz), *x = malloc(sz);
	CHECK(a && b && x);
	hak_slab_t *s = page_of(a);
	CHECK(page_of(b) == s && page_of(x) == s && s->used == 4);
	free(a); /* cached */
	remote_block = b;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, remote_freer, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(s->used == 4); /* a cached, b on the remote list */
	void *a2 = malloc(sz);
	CHECK(a2 == a); /* the cache first */
	free(a2);
	free(x);
	CHECK(s->used == 4);
	remote_page = s;
	return NULL; /* exit: the remote block drained, the cache emptied */
}

static void test_remote_free_into_cached_page(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, remote_owner, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(remote_page->used == 0);
	CHECK(remote_page->where == SLAB_SHARED || remote_page->where == SLAB_FREE_DIRTY ||
	      remote_page->where == SLAB_FREE_CLEAN);
	printf("ok remote_free_into_cached_page\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the thread's heap */
	test_layout();
	test_lifo_across_pages();
	test_bound();
	test_big_class_holds_32();
	test_idle_trim();
	test_thread_exit_flushes();
	test_remote_free_into_cached_page();
	return 0;
}
