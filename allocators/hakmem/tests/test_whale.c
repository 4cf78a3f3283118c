/*
 * test_whale.c - the whale cache (src/large/large.c): freed Large mappings
 * serve later requests of any size with their resident pages (a larger one
 * split, a smaller one grown and filled with the pages of others), so the
 * program does not fault its memory in again; what the cache keeps never
 * takes live + cached bytes above the peak of live bytes; a block assembled
 * from several mappings grows by realloc with its contents; a mapping
 * freed by a thread that exited serves another thread; blocks start 256
 * bytes into their page (HAK_SPAN_HDR).
 */
#include <pthread.h>

#include "whale_test.h"

#define KB_ ((size_t)1 << 10)

static void test_other_sizes_reuse_pages(void)
{
	char *a = malloc(48 * MB);
	CHECK(a);
	long fa = touch(a, 48 * MB); /* fresh: faulted in */
	CHECK(fa > 0); /* the measure works */
	free(a);
	check_bound();
	/* smaller requests: the freed mapping is split, its pages serve both */
	char *b = malloc(12 * MB), *c = malloc(30 * MB);
	CHECK(b && c);
	long fb = touch(b, 12 * MB), fc = touch(c, 30 * MB);
	printf("# split: faults %ld + %ld for %zu pages\n", fb, fc, 42 * MB / 4096);
	CHECK(FEW_FAULTS(fb + fc, 42 * MB / 4096));
	check_bound();
	free(b);
	free(c);
	check_bound();
	/* a larger request: the largest cached mapping grows, filled with the
	 * pages of the others */
	char *d = malloc(40 * MB);
	CHECK(d);
	long fd = touch(d, 40 * MB);
	printf("# grow: faults %ld for %zu pages\n", fd, 40 * MB / 4096);
	CHECK(FEW_FAULTS(fd, 40 * MB / 4096));
	check_bound();
	/* d is made of several kernel mappings: realloc moves or grows it
	 * without losing a byte */
	pat_fill(d, 40 * MB, 7);
	char *e = realloc(d, 100 * MB);
	CHECK(e);
	CHECK(pat_check(e, 40 * MB, 7));
	memset(e + 40 * MB, 3, 60 * MB);
	char *f = realloc(e, 180 * MB);
	CHECK(f);
	CHECK(pat_check(f, 40 * MB, 7));
	free(f);
	check_bound();
	OK("cached mappings of other sizes serve requests with their pages");
}

static void test_block_placement(void)
{
	size_t sizes[] = {40 * KB_, 300 * KB_, 1536 * KB_, 3 * MB, 20 * MB};
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *p = malloc(sizes[i]);
		CHECK(p);
		CHECK(((uintptr_t)p & 4095) == 256);
		free(p);
	}
	OK("L2.5 and Large blocks start 256 bytes into their page");
}

static void test_churn_stays_within_peak(void)
{
	void *slot[4] = {0};
	size_t size[4] = {0};
	uint32_t s = 99;
	for (int i = 0; i < 300; i++) {
		s = s * 1103515245u + 12345u;
		int k = (int)((s >> 8) % 4);
		size_t n = 2 * MB + (s >> 4) % (22 * MB);
		if (slot[k]) {
			CHECK(((char *)slot[k])[size[k] - 1] == (char)k);
			free(slot[k]);
		}
		check_bound();
		slot[k] = malloc(n);
		CHECK(slot[k]);
		size[k] = n;
		touch(slot[k], n);
		((char *)slot[k])[n - 1] = (char)k;
		check_bound();
	}
	for (int k = 0; k < 4; k++)
		free(slot[k]);
	check_bound();
	OK("live + cached whale bytes never exceed the peak of live bytes");
}

static void *free_and_exit(void *arg)
{
	(void)arg;
	char *p = malloc(3 * MB);
	CHECK(p);
	touch(p, 3 * MB);
	free(p);
	return NULL;
}

static void test_exited_thread_slot_serves_others(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, free_and_exit, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	char *p = malloc(3 * MB);
	CHECK(p);
	long f = touch(p, 3 * MB);
	printf("# after another thread's exit: faults %ld for %zu pages\n", f, 3 * MB / 4096);
	CHECK(FEW_FAULTS(f, 3 * MB / 4096));
	free(p);
	OK("a mapping freed by a thread that exited serves another thread");
}

int main(void)
{
	test_other_sizes_reuse_pages();
	test_block_placement();
	test_churn_stays_within_peak();
	test_exited_thread_slot_serves_others();
	return 0;
}
