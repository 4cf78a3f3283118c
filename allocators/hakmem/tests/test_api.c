/*
 * test_api.c - the malloc family's contract on every tier: every size from 0
 * to 64 KiB and powers of two (+-1) around every boundary up to 64 MiB is
 * aligned to 16, writable over its usable size, usable >= request; calloc
 * zeroes reused memory; realloc keeps contents across tier changes and
 * follows glibc for NULL and zero sizes; aligned allocations from 16 B to
 * 4 MiB; requests that cannot be met return NULL with ENOMEM/EINVAL.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>

#include "hakmem.h"
#include "hak_test.h"

static void check_block(void *p, size_t size)
{
	CHECK(p != NULL);
	CHECK(((uintptr_t)p & 15) == 0);
	size_t u = malloc_usable_size(p);
	CHECK(u >= size);
	CHECK(hak_malloc_usable_size(p) == u);
	memset(p, 0xA5, u);
}

static void test_every_size(void)
{
	enum { KEEP = 64 };
	void *keep[KEEP] = {0};
	for (size_t size = 0; size <= 65536; size++) {
		void *p = malloc(size);
		check_block(p, size);
		/* keep a window of blocks live so neighbours are exercised too */
		free(keep[size % KEEP]);
		keep[size % KEEP] = p;
	}
	for (int i = 0; i < KEEP; i++)
		free(keep[i]);
	OK("every size 0 - 64 KiB");
}

static void test_boundaries(void)
{
	for (size_t p2 = 8; p2 <= ((size_t)64 << 20); p2 *= 2) {
		for (int d = -1; d <= 1; d++) {
			size_t size = p2 + (size_t)d;
			void *a = malloc(size), *b = malloc(size);
			check_block(a, size);
			check_block(b, size);
			CHECK(a != b);
			free(a);
			free(b);
		}
	}
	OK("powers of two around every boundary");
}

static void test_calloc_zeroes_reused(void)
{
	static const size_t sizes[] = {1, 24, 100, 1000, 4000, 30000, 50000, 300000,
				       3u << 20, 9u << 20};
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		for (int round = 0; round < 3; round++) {
			unsigned char *d = malloc(n);
			CHECK(d);
			memset(d, 0xFF, n);
			free(d);
			unsigned char *z = calloc(1, n);
			CHECK(z);
			for (size_t j = 0; j < n; j++)
				CHECK(z[j] == 0);
			memset(z, 0xEE, n);
			free(z);
		}
	}
	errno = 0;
	CHECK(calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(calloc((size_t)1 << 40, (size_t)1 << 40) == NULL && errno == ENOMEM);
	OK("calloc zeroes reused memory, overflow -> ENOMEM");
}

static void test_realloc(void)
{
	/* grow across every tier, then shrink back, contents kept */
	size_t size = 1;
	unsigned char *p = malloc(size);
	pat_fill(p, size, 7);
	while (size < ((size_t)40 << 20)) {
		size_t n = size * 3 + 5;
		p = realloc(p, n);
		CHECK(p);
		CHECK(((uintptr_t)p & 15) == 0);
		CHECK(pat_check(p, size, 7));
		pat_fill(p, n, 7);
		size = n;
	}
	while (size > 1) {
		size_t n = size / 3;
		p = realloc(p, n);
		CHECK(p);
		CHECK(pat_check(p, n, 7));
		size = n;
	}
	free(p);
	/* in place when the block can hold the new size */
	p = malloc(100);
	size_t u = malloc_usable_size(p);
	CHECK(realloc(p, u) == p);
	free(p);
	/* glibc's NULL and zero-size semantics */
	p = realloc(NULL, 10);
	CHECK(p);
	CHECK(realloc(p, 0) == NULL);
	errno = 0;
	p = malloc(10);
	CHECK(realloc(p, SIZE_MAX - 4096) == NULL && errno == ENOMEM);
	free(p);
	errno = 0;
	CHECK(reallocarray(NULL, SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
	p = reallocarray(NULL, 10, 10);
	CHECK(p && malloc_usable_size(p) >= 100);
	free(p);
	OK("realloc across tiers, NULL/0 semantics");
}

/* A block grown by realloc beyond 256 KiB gets room to the next power of
 * two, so further growth stays in place instead of copying it again. */
static void test_realloc_growth_room(void)
{
	unsigned char *p = malloc(300000);
	CHECK(p);
	pat_fill(p, 300000, 9);
	p = realloc(p, 400000);
	CHECK(p && malloc_usable_size(p) >= ((size_t)512 << 10));
	CHECK(pat_check(p, 300000, 9));
	unsigned char *q = realloc(p, 500000);
	CHECK(q == p); /* in place */
	free(q);
	OK("realloc growth beyond 256 KiB gets room to the next power of two");
}

static void test_aligned(void)
{
	static const size_t sizes[] = {1, 16, 100, 4096, 40000, 1u << 20, 3u << 20};
	for (size_t a = 16; a <= ((size_t)4 << 20); a *= 2) {
		for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			size_t n = sizes[i];
			void *p = NULL;
			CHECK(posix_memalign(&p, a, n) == 0);
			CHECK(((uintptr_t)p & (a - 1)) == 0);
			check_block(p, n);
			void *q = aligned_alloc(a, n);
			CHECK(q && ((uintptr_t)q & (a - 1)) == 0);
			check_block(q, n);
			void *r = memalign(a, n);
			CHECK(r && ((uintptr_t)r & (a - 1)) == 0);
			check_block(r, n);
			free(p);
			free(q);
			free(r);
		}
	}
	void *p = valloc(100);
	CHECK(p && ((uintptr_t)p & 4095) == 0);
	free(p);
	p = pvalloc(5000);
	CHECK(p && ((uintptr_t)p & 4095) == 0 && malloc_usable_size(p) >= 8192);
	free(p);
	void *q;
	CHECK(posix_memalign(&q, 24, 10) == EINVAL);
	CHECK(posix_memalign(&q, 4, 10) == EINVAL);
	errno = 0;
	CHECK(aligned_alloc(24, 10) == NULL && errno == EINVAL);
	CHECK(posix_memalign(&q, 64, SIZE_MAX - 100) == ENOMEM);
	OK("aligned allocations 16 B - 4 MiB");
}

/* bug: a refused address hint inside a successful mmap left errno = EEXIST */
static void test_success_keeps_errno(void)
{
	for (int i = 0; i < 40; i++) {
		errno = 0;
		void *a = memalign((size_t)2 << 20, 100);
		void *b = aligned_alloc((size_t)1 << 20, 100);
		void *c = malloc(100000 + (size_t)i * 50000);
		void *d = realloc(NULL, (size_t)3 << 20);
		d = realloc(d, (size_t)9 << 20);
		CHECK(a && b && c && d);
		CHECK(errno == 0);
		free(a);
		free(b);
		free(c);
		free(d);
	}
	OK("successful calls leave errno alone");
}

static void test_enomem(void)
{
	errno = 0;
	CHECK(malloc(SIZE_MAX) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(malloc(SIZE_MAX / 2) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(malloc((size_t)1 << 50) == NULL && errno == ENOMEM); /* 1 PiB: the kernel refuses */
	errno = 0;
	CHECK(hak_malloc(SIZE_MAX - 10) == NULL && errno == ENOMEM);
	free(NULL);
	hak_free(NULL);
	CHECK(hak_foreign_requests() == 0);
	CHECK(strncmp(hak_version(), "hakmem ", 7) == 0);
	OK("unmeetable requests -> NULL, ENOMEM");
}

static void test_hak_api(void)
{
	void *p = hak_alloc_at(40, 0x1234);
	check_block(p, 40);
	p = hak_realloc(p, 5000);
	check_block(p, 5000);
	hak_free(p);
	p = hak_calloc(10, 10);
	CHECK(p);
	hak_free(p);
	CHECK(hak_posix_memalign(&p, 256, 10) == 0 && ((uintptr_t)p & 255) == 0);
	hak_free(p);
	OK("hak_ API");
}

/* Allocation before main (constructors run before hakmem's own could). */
static void *early[4];
static const size_t early_sizes[4] = {24, 3000, 100000, 3u << 20};

__attribute__((constructor(101))) static void early_alloc(void)
{
	for (int i = 0; i < 4; i++) {
		early[i] = malloc(early_sizes[i]);
		if (early[i])
			pat_fill(early[i], early_sizes[i], 5);
	}
}

static void test_before_main(void)
{
	for (int i = 0; i < 4; i++) {
		CHECK(early[i] != NULL);
		CHECK(pat_check(early[i], early_sizes[i], 5));
		free(early[i]);
	}
	OK("allocation before main");
}

int main(void)
{
	test_before_main();
	test_every_size();
	test_boundaries();
	test_calloc_zeroes_reused();
	test_realloc();
	test_realloc_growth_room();
	test_aligned();
	test_success_keeps_errno();
	test_enomem();
	test_hak_api();
	return 0;
}
