/*
 * test_memory.c - memory goes back to the OS: after a large live set of each
 * tier is freed (in random order), the resident set falls back near where
 * it started (once the purge delay has passed); the caches that keep memory
 * are bounded.
 */
#include <pthread.h>

#include "hakmem.h"
#include "hak_test.h"

#define MB ((size_t)1 << 20)

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Allocate about `total` bytes in blocks of `lo`..`hi` bytes, touch them,
 * free them in random order; return RSS growth left after the frees. */
static size_t churn(size_t total, size_t lo, size_t hi, const char *name)
{
	size_t n = total / ((lo + hi) / 2);
	void **v = mmap_array(n);
	size_t base = rss_bytes();
	uint32_t s = 42;
	for (size_t i = 0; i < n; i++) {
		size_t sz = lo + rnd(&s) % (hi - lo + 1);
		v[i] = malloc(sz);
		CHECK(v[i]);
		memset(v[i], 1, sz);
	}
	size_t peak = rss_bytes();
	for (size_t i = n - 1; i > 0; i--) { /* shuffle, then free */
		size_t j = rnd(&s) % (i + 1);
		void *t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	/* empty slabs keep their pages for HAKMEM_PURGE_DELAY_MS (20), then the
	 * next slow path (an allocation of a size this test did not use) purges */
	usleep(60000);
	free(malloc(lo > 512 ? 600 : 5000));
	if (lo >= 2 * MB) /* ... and the whale cache's, beyond the live set, the next Large call */
		free(malloc(lo));
	size_t after = rss_bytes();
	printf("# %s: base %zu MiB, peak %zu MiB, after frees %zu MiB\n", name, base / MB,
	       peak / MB, after / MB);
	CHECK(peak - base > total / 2); /* the test really used memory */
	munmap_array(v, n);
	return after > base ? after - base : 0;
}

/* A thread fills and empties 64 MiB of small blocks, then exits: its heap
 * keeps no empty slab resident. */
static void *fill_and_empty(void *arg)
{
	(void)arg;
	size_t n = (64 * MB) / 600;
	void **v = mmap_array(n);
	for (size_t i = 0; i < n; i++) {
		size_t sz = 16 + (i * 7919) % 1184;
		v[i] = malloc(sz);
		CHECK(v[i]);
		memset(v[i], 2, sz);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	munmap_array(v, n);
	return NULL;
}

static void test_thread_exit_returns_memory(void)
{
	size_t base = rss_bytes();
	pthread_t t;
	CHECK(pthread_create(&t, NULL, fill_and_empty, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	size_t after = rss_bytes();
	printf("# thread exit: base %zu MiB, after %zu MiB\n", base / MB, after / MB);
	CHECK(after < base + 2 * MB);
	OK("an exited thread's empty slabs go back");
}

int main(void)
{
	test_thread_exit_returns_memory();
	/* Tiny: 96 MiB of 16-256 B blocks */
	CHECK(churn(96 * MB, 16, 256, "tiny") < 24 * MB);
	OK("tiny memory returned");
	/* Mid: 96 MiB of 1-32 KiB blocks */
	CHECK(churn(96 * MB, 1024, 32768, "mid") < 24 * MB);
	OK("mid memory returned");
	/* L2.5: 160 MiB of 40 KiB - 1 MiB blocks; the pool keeps at most 8 MiB,
	 * thread caches 2 blocks per class */
	CHECK(churn(160 * MB, 40000, MB, "l25") < 24 * MB);
	OK("l25 memory returned beyond the pool's bound");
	/* Large: 256 MiB of 2-8 MiB blocks; the whale cache keeps at most 32 MiB
	 * beyond the live set once HAKMEM_PURGE_DELAY_MS has passed */
	CHECK(churn(256 * MB, 2 * MB, 8 * MB, "large") < 40 * MB);
	OK("large memory returned beyond the whale cache's bound");
	return 0;
}
