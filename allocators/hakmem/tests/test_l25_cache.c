/*
 * test_l25_cache.c - the L2.5 thread cache (src/l25/l25.c): a thread whose
 * requests cycle between two neighbouring classes (sizes jittered around a
 * class boundary) keeps one block, not one per class: a block of the next
 * class serves as it is, one of the class below grows in its slot. Every
 * block keeps its contents while in use.
 */
#include <pthread.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define KB ((size_t)1 << 10)

static void *cycle(void *arg)
{
	(void)arg;
	uint32_t s = 5;
	for (int i = 0; i < 2000; i++) {
		s = s * 1103515245u + 12345u;
		size_t n = 225 * KB + (s >> 8) % (62 * KB); /* 256 KiB +- 12 %: two classes */
		char *p = malloc(n);
		CHECK(p);
		pat_fill(p, 4096, (uint32_t)i);
		p[n - 1] = (char)i;
		CHECK(pat_check(p, 4096, (uint32_t)i) && p[n - 1] == (char)i);
		free(p);
	}
	return NULL;
}

int main(void)
{
	uint64_t r0 = atomic_load(&hak_stats.l25_refills);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, cycle, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	uint64_t refills = atomic_load(&hak_stats.l25_refills) - r0;
	printf("# blocks mapped for 2000 cycles over two classes: %llu\n", (unsigned long long)refills);
	CHECK(refills == 1);
	OK("a thread cycling between two neighbouring L2.5 classes keeps one block");
	return 0;
}
