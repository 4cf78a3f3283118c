/*
 * api_edge.c - the malloc family's edge cases, as the C standard and glibc
 * document them.
 *
 * Owns: the table of edge cases and the documented answer to each (glibc
 * 2.36's, and where glibc's documentation and its 2.36 code disagree, both). Built three
 * ways by mk/reliability.mk: against glibc (build/reliability/api_edge_system:
 * the table documents glibc, and this build proves it), against hakmem's
 * malloc exports (api_edge_hakmem) and, in the ASan build, against hakmem's
 * hak_ API (-DHAK_STRESS_USE_API). Each prints one line per case,
 * "<case>: <outcome>", and "MISMATCH, expected <outcome>" when the outcome is
 * not the table's; the exit status is 0 only when every case matches.
 *
 * An outcome names what came back (NULL or a pointer and what holds for it,
 * or a return code) and errno after the call (errno is set to 0 before each).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rel_alloc.h"

/* Opaque sizes, so that the compiler cannot fold or warn about the calls. */
static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_half = SIZE_MAX / 2 + 1; /* 2^63 */
static volatile size_t v_ptrdiff_max = PTRDIFF_MAX;
static volatile size_t v_2p32 = (size_t)1 << 32;

static const char *errno_name(int e)
{
	switch (e) {
	case 0:
		return "0";
	case ENOMEM:
		return "ENOMEM";
	case EINVAL:
		return "EINVAL";
	default:
		return strerror(e);
	}
}

/* "NULL" or "ptr" (plus "aligned <a>" when the pointer is aligned to `align`
 * and "usable>=<n>" when malloc_usable_size covers `need`), then errno. */
static void describe(char *out, size_t len, void *p, int err, size_t align, size_t need)
{
	int n;

	if (!p) {
		snprintf(out, len, "NULL errno=%s", errno_name(err));
		return;
	}
	n = snprintf(out, len, "ptr");
	if ((uintptr_t)p % HAK_MIN_ALIGN)
		n += snprintf(out + n, len - (size_t)n, " MISALIGNED(%zu)", (size_t)HAK_MIN_ALIGN);
	if (align)
		n += snprintf(out + n, len - (size_t)n, (uintptr_t)p % align ? " misaligned(%zu)"
									  : " aligned(%zu)",
			      align);
	if (rel_usable_size(p) < need)
		n += snprintf(out + n, len - (size_t)n, " usable<%zu", need);
	snprintf(out + n, len - (size_t)n, " errno=%s", errno_name(err));
}

/* Fill a block with a known byte pattern / check it is still there. */
static void *filled(size_t n)
{
	unsigned char *p = rel_malloc(n);

	for (size_t i = 0; p && i < n; i++)
		p[i] = (unsigned char)(i * 7 + 1);
	return p;
}

static int intact(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(i * 7 + 1))
			return 0;
	return 1;
}

#define CASE(name) static void name(char *out, size_t len)
#define PAGE ((size_t)sysconf(_SC_PAGESIZE))

CASE(malloc_0)
{
	void *p = rel_malloc(0);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(free_null)
{
	rel_free(NULL);
	snprintf(out, len, "returns errno=%s", errno_name(errno));
}

CASE(usable_size_null)
{
	snprintf(out, len, "%zu", rel_usable_size(NULL));
}

CASE(realloc_p_0)
{
	void *p = rel_malloc(100);
	void *q = rel_realloc(p, 0);

	/* glibc frees p and returns NULL (REALLOC_ZERO_BYTES_FREES). */
	describe(out, len, q, errno, 0, 0);
	if (q)
		rel_free(q);
}

CASE(realloc_null_100)
{
	void *p = rel_realloc(NULL, 100);

	describe(out, len, p, errno, 0, 100);
	rel_free(p);
}

CASE(realloc_null_0)
{
	void *p = rel_realloc(NULL, 0);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(realloc_size_max_keeps_block)
{
	void *volatile p = filled(100); /* volatile: still ours when realloc fails */
	void *q = rel_realloc(p, v_size_max);
	int e = errno;

	describe(out, len, q, e, 0, 0);
	snprintf(out + strlen(out), len - strlen(out), ", old block %s",
		 intact(p, 100) ? "intact" : "CHANGED");
	rel_free(q ? q : p);
}

CASE(realloc_ptrdiff_max_plus_1)
{
	void *volatile p = filled(100); /* volatile: still ours when realloc fails */
	void *q = rel_realloc(p, v_ptrdiff_max + 1);

	describe(out, len, q, errno, 0, 0);
	rel_free(q ? q : p);
}

CASE(calloc_overflow_half_x2)
{
	void *p = rel_calloc(v_half, 2);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(calloc_overflow_max_x_max)
{
	void *p = rel_calloc(v_size_max, v_size_max);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(calloc_overflow_2p32_x_2p32)
{
	void *p = rel_calloc(v_2p32, v_2p32);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(calloc_0_x_100)
{
	void *p = rel_calloc(0, 100);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(calloc_100_x_0)
{
	void *p = rel_calloc(100, 0);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(malloc_size_max)
{
	void *p = rel_malloc(v_size_max);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(malloc_size_max_minus_4096)
{
	void *p = rel_malloc(v_size_max - 4096);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(malloc_ptrdiff_max)
{
	void *p = rel_malloc(v_ptrdiff_max);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(malloc_ptrdiff_max_plus_1)
{
	void *p = rel_malloc(v_ptrdiff_max + 1);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(reallocarray_null_overflow)
{
	void *p = rel_reallocarray(NULL, v_size_max, 2);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(reallocarray_overflow_keeps_block)
{
	void *volatile p = filled(64); /* volatile: still ours when reallocarray fails */
	void *q = rel_reallocarray(p, v_half, 4);
	int e = errno;

	describe(out, len, q, e, 0, 0);
	snprintf(out + strlen(out), len - strlen(out), ", old block %s",
		 intact(p, 64) ? "intact" : "CHANGED");
	rel_free(q ? q : p);
}

CASE(reallocarray_10_x_10)
{
	void *p = rel_reallocarray(NULL, 10, 10);

	describe(out, len, p, errno, 0, 100);
	rel_free(p);
}

/* posix_memalign: the result is its return code; *out is untouched on error
 * (errno is left out there: POSIX does not say, and glibc sets it). */
static void pm(char *out, size_t len, size_t align, size_t size)
{
	void *sentinel = (void *)(uintptr_t)0x5a5a5a50, *p = sentinel;
	int rc = rel_posix_memalign(&p, align, size);
	int e = errno;

	if (rc) {
		snprintf(out, len, "returns %s, *out %s", errno_name(rc),
			 p == sentinel ? "untouched" : "CHANGED");
		return;
	}
	snprintf(out, len, "returns 0, ");
	describe(out + strlen(out), len - strlen(out), p, e, align, size);
	rel_free(p);
}

CASE(posix_memalign_24)
{
	pm(out, len, 24, 100);
}

CASE(posix_memalign_4)
{
	pm(out, len, 4, 100);
}

CASE(posix_memalign_0)
{
	pm(out, len, 0, 100);
}

CASE(posix_memalign_8)
{
	pm(out, len, sizeof(void *), 100);
}

CASE(posix_memalign_4096)
{
	pm(out, len, 4096, 100);
}

CASE(posix_memalign_64_size_max)
{
	pm(out, len, 64, v_size_max);
}

CASE(posix_memalign_64_size_0)
{
	pm(out, len, 64, 0);
}

CASE(posix_memalign_2p63)
{
	pm(out, len, v_half, 16);
}

static void aa(char *out, size_t len, size_t align, size_t size, size_t expect_align)
{
	void *p = rel_aligned_alloc(align, size);

	describe(out, len, p, errno, expect_align, size);
	rel_free(p);
}

CASE(aligned_alloc_24)
{
	aa(out, len, 24, 96, 32);
}

CASE(aligned_alloc_0)
{
	aa(out, len, 0, 100, 0);
}

CASE(aligned_alloc_64_size_100)
{
	aa(out, len, 64, 100, 64);
}

CASE(aligned_alloc_1mib)
{
	aa(out, len, (size_t)1 << 20, 100, (size_t)1 << 20);
}

CASE(aligned_alloc_4096_size_max)
{
	aa(out, len, 4096, v_size_max, 0);
}

CASE(aligned_alloc_2p63_plus_1)
{
	aa(out, len, v_half + 1, 16, 0);
}

static void ma(char *out, size_t len, size_t align, size_t size, size_t expect_align)
{
	void *p = rel_memalign(align, size);

	describe(out, len, p, errno, expect_align, size);
	rel_free(p);
}

CASE(memalign_24)
{
	ma(out, len, 24, 100, 32);
}

CASE(memalign_0)
{
	ma(out, len, 0, 100, 0);
}

CASE(memalign_1)
{
	ma(out, len, 1, 100, 0);
}

CASE(memalign_2mib)
{
	ma(out, len, (size_t)2 << 20, 100, (size_t)2 << 20);
}

CASE(memalign_2p63_plus_1)
{
	ma(out, len, v_half + 1, 16, 0);
}

CASE(valloc_100)
{
	void *p = rel_valloc(100);

	describe(out, len, p, errno, PAGE, 100);
	rel_free(p);
}

CASE(valloc_size_max)
{
	void *p = rel_valloc(v_size_max);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(pvalloc_100)
{
	void *p = rel_pvalloc(100);

	/* pvalloc rounds the size up to a whole page. */
	describe(out, len, p, errno, PAGE, PAGE);
	rel_free(p);
}

CASE(pvalloc_0)
{
	void *p = rel_pvalloc(0);

	/* glibc: a page-aligned minimum block, not a whole page. */
	describe(out, len, p, errno, PAGE, 0);
	rel_free(p);
}

CASE(pvalloc_size_max)
{
	void *p = rel_pvalloc(v_size_max);

	describe(out, len, p, errno, 0, 0);
	rel_free(p);
}

CASE(realloc_aligned_keeps_contents)
{
	void *p = NULL, *q;
	unsigned char *c;

	if (rel_posix_memalign(&p, 4096, 3000)) {
		snprintf(out, len, "posix_memalign FAILED");
		return;
	}
	c = p;
	for (size_t i = 0; i < 3000; i++)
		c[i] = (unsigned char)(i * 7 + 1);
	q = rel_realloc(p, 200000);
	snprintf(out, len, "%s, contents %s", q ? "ptr" : "NULL",
		 q && intact(q, 3000) ? "kept" : "LOST");
	rel_free(q ? q : p);
}

struct edge_case {
	const char *name;			/* what is called */
	void (*run)(char *out, size_t len);	/* writes the outcome */
	const char *expect;			/* the documented outcome */
	const char *also;			/* another accepted one, or NULL */
};

/* aligned_alloc with an alignment that is not a power of two: C17 and the
 * glibc manual say NULL with EINVAL, which glibc does from 2.38 on; glibc 2.36
 * still rounds the alignment up, as memalign does. Both are accepted. */
#define AA_BAD_ALIGN "NULL errno=EINVAL"


#define OK16(a) "ptr aligned(" #a ") errno=0"
static const struct edge_case cases[] = {
	{"malloc(0)", malloc_0, "ptr errno=0", NULL},
	{"free(NULL)", free_null, "returns errno=0", NULL},
	{"malloc_usable_size(NULL)", usable_size_null, "0", NULL},
	{"realloc(p, 0)", realloc_p_0, "NULL errno=0", NULL},
	{"realloc(NULL, 100)", realloc_null_100, "ptr errno=0", NULL},
	{"realloc(NULL, 0)", realloc_null_0, "ptr errno=0", NULL},
	{"realloc(p, SIZE_MAX)", realloc_size_max_keeps_block, "NULL errno=ENOMEM, old block intact", NULL},
	{"realloc(p, PTRDIFF_MAX+1)", realloc_ptrdiff_max_plus_1, "NULL errno=ENOMEM", NULL},
	{"calloc(2^63, 2)", calloc_overflow_half_x2, "NULL errno=ENOMEM", NULL},
	{"calloc(SIZE_MAX, SIZE_MAX)", calloc_overflow_max_x_max, "NULL errno=ENOMEM", NULL},
	{"calloc(2^32, 2^32)", calloc_overflow_2p32_x_2p32, "NULL errno=ENOMEM", NULL},
	{"calloc(0, 100)", calloc_0_x_100, "ptr errno=0", NULL},
	{"calloc(100, 0)", calloc_100_x_0, "ptr errno=0", NULL},
	{"malloc(SIZE_MAX)", malloc_size_max, "NULL errno=ENOMEM", NULL},
	{"malloc(SIZE_MAX-4096)", malloc_size_max_minus_4096, "NULL errno=ENOMEM", NULL},
	{"malloc(PTRDIFF_MAX)", malloc_ptrdiff_max, "NULL errno=ENOMEM", NULL},
	{"malloc(PTRDIFF_MAX+1)", malloc_ptrdiff_max_plus_1, "NULL errno=ENOMEM", NULL},
	{"reallocarray(NULL, SIZE_MAX, 2)", reallocarray_null_overflow, "NULL errno=ENOMEM", NULL},
	{"reallocarray(p, 2^63, 4)", reallocarray_overflow_keeps_block,
	 "NULL errno=ENOMEM, old block intact", NULL},
	{"reallocarray(NULL, 10, 10)", reallocarray_10_x_10, "ptr errno=0", NULL},
	{"posix_memalign(24, 100)", posix_memalign_24, "returns EINVAL, *out untouched", NULL},
	{"posix_memalign(4, 100)", posix_memalign_4, "returns EINVAL, *out untouched", NULL},
	{"posix_memalign(0, 100)", posix_memalign_0, "returns EINVAL, *out untouched", NULL},
	{"posix_memalign(8, 100)", posix_memalign_8, "returns 0, " OK16(8), NULL},
	{"posix_memalign(4096, 100)", posix_memalign_4096, "returns 0, " OK16(4096), NULL},
	{"posix_memalign(64, SIZE_MAX)", posix_memalign_64_size_max,
	 "returns ENOMEM, *out untouched", NULL},
	{"posix_memalign(64, 0)", posix_memalign_64_size_0, "returns 0, " OK16(64), NULL},
	{"posix_memalign(2^63, 16)", posix_memalign_2p63,
	 "returns ENOMEM, *out untouched", NULL},
	{"aligned_alloc(24, 96)", aligned_alloc_24, AA_BAD_ALIGN, OK16(32)},
	{"aligned_alloc(0, 100)", aligned_alloc_0, AA_BAD_ALIGN, "ptr errno=0"},
	{"aligned_alloc(64, 100)", aligned_alloc_64_size_100, OK16(64), NULL},
	{"aligned_alloc(1 MiB, 100)", aligned_alloc_1mib, OK16(1048576), NULL},
	{"aligned_alloc(4096, SIZE_MAX)", aligned_alloc_4096_size_max, "NULL errno=ENOMEM", NULL},
	{"aligned_alloc(2^63+1, 16)", aligned_alloc_2p63_plus_1, "NULL errno=EINVAL", NULL},
	{"memalign(24, 100)", memalign_24, OK16(32), NULL},
	{"memalign(0, 100)", memalign_0, "ptr errno=0", NULL},
	{"memalign(1, 100)", memalign_1, "ptr errno=0", NULL},
	{"memalign(2 MiB, 100)", memalign_2mib, OK16(2097152), NULL},
	{"memalign(2^63+1, 16)", memalign_2p63_plus_1, "NULL errno=EINVAL", NULL},
	{"valloc(100)", valloc_100, OK16(4096), NULL},
	{"valloc(SIZE_MAX)", valloc_size_max, "NULL errno=ENOMEM", NULL},
	{"pvalloc(100)", pvalloc_100, OK16(4096), NULL},
	{"pvalloc(0)", pvalloc_0, OK16(4096), NULL},
	{"pvalloc(SIZE_MAX)", pvalloc_size_max, "NULL errno=ENOMEM", NULL},
	{"realloc(posix_memalign(4096, 3000), 200000)", realloc_aligned_keeps_contents,
	 "ptr, contents kept", NULL},
};

int main(void)
{
	int bad = 0;

	fprintf(stderr, "api_edge: allocator %s via %s\n", rel_allocator_name(), REL_ROUTE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256];

		const struct edge_case *c = &cases[i];

		errno = 0;
		c->run(out, sizeof(out));
		if (c->also && (!strcmp(out, c->expect) || !strcmp(out, c->also))) {
			/* Either outcome is right: say both, so that every libc prints
			 * the same line. */
			printf("%s: %s or %s\n", c->name, c->expect, c->also);
		} else if (strcmp(out, c->expect)) {
			printf("%s: %s: MISMATCH, expected %s\n", c->name, out, c->expect);
			bad++;
		} else {
			printf("%s: %s\n", c->name, out);
		}
	}
	printf("api_edge: %d of %zu cases differ from glibc's documented behaviour\n", bad,
	       sizeof(cases) / sizeof(cases[0]));
	return bad ? 1 : 0;
}
