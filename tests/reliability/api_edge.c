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


/* ---------------------------------------------------------------- plain calls */

enum call {
	CALL_MALLOC,	     /* malloc(a) */
	CALL_CALLOC,	     /* calloc(a, b) */
	CALL_REALLOC_NULL,   /* realloc(NULL, a) */
	CALL_REALLOCARRAY,   /* reallocarray(NULL, a, b) */
	CALL_POSIX_MEMALIGN, /* posix_memalign(&p, a, b) */
	CALL_ALIGNED_ALLOC,  /* aligned_alloc(a, b) */
	CALL_MEMALIGN,	     /* memalign(a, b) */
	CALL_VALLOC,	     /* valloc(a) */
	CALL_PVALLOC,	     /* pvalloc(a) */
	CALL_SPECIAL,	     /* the case's own function */
};

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

/* Make a plain call and describe what came back: the pointer checked for
 * alignment `align` (0: only HAK_MIN_ALIGN) and a usable size of `need`. */
static void call_plain(char *out, size_t len, enum call call, size_t a, size_t b, size_t align,
		       size_t need)
{
	void *p = NULL;

	switch (call) {
	case CALL_MALLOC:
		p = rel_malloc(a);
		break;
	case CALL_CALLOC:
		p = rel_calloc(a, b);
		break;
	case CALL_REALLOC_NULL:
		p = rel_realloc(NULL, a);
		break;
	case CALL_REALLOCARRAY:
		p = rel_reallocarray(NULL, a, b);
		break;
	case CALL_POSIX_MEMALIGN:
		pm(out, len, a, b);
		return;
	case CALL_ALIGNED_ALLOC:
		p = rel_aligned_alloc(a, b);
		break;
	case CALL_MEMALIGN:
		p = rel_memalign(a, b);
		break;
	case CALL_VALLOC:
		p = rel_valloc(a);
		break;
	case CALL_PVALLOC:
		p = rel_pvalloc(a);
		break;
	case CALL_SPECIAL:
		break;
	}
	describe(out, len, p, errno, align, need);
	rel_free(p);
}

/* ---------------------------------------------------------------- special cases */

#define CASE(name) static void name(char *out, size_t len)

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

/* ---------------------------------------------------------------- the table */

struct edge_case {
	const char *name;		    /* what is called */
	enum call call;			    /* a plain call, or CALL_SPECIAL */
	size_t a, b;			    /* its arguments */
	size_t align;			    /* alignment to check (0: HAK_MIN_ALIGN only) */
	size_t need;			    /* bytes malloc_usable_size must cover */
	void (*special)(char *out, size_t len); /* CALL_SPECIAL: writes the outcome */
	const char *expect;		    /* the documented outcome */
	const char *also;		    /* another accepted one, or NULL */
};

/* aligned_alloc with an alignment that is not a power of two: C17 and the
 * glibc manual say NULL with EINVAL, which glibc does from 2.38 on; glibc 2.36
 * still rounds the alignment up, as memalign does. Both are accepted. */
#define AA_BAD_ALIGN "NULL errno=EINVAL"
#define NOMEM "NULL errno=ENOMEM"
#define PTR "ptr errno=0"
#define PTR_ALIGNED(a) "ptr aligned(" #a ") errno=0"
#define PM_OK(a) "returns 0, ptr aligned(" #a ") errno=0"
#define PM_FAILS(e) "returns " #e ", *out untouched"
#define SPECIAL(name, fn, expect) {name, CALL_SPECIAL, 0, 0, 0, 0, fn, expect, NULL}
#define HALF ((size_t)1 << 63)
#define MIB ((size_t)1 << 20)

/* Not const: the sizes must reach the calls as run-time values. */
static struct edge_case cases[] = {
	{"malloc(0)", CALL_MALLOC, 0, 0, 0, 0, NULL, PTR, NULL},
	SPECIAL("free(NULL)", free_null, "returns errno=0"),
	SPECIAL("malloc_usable_size(NULL)", usable_size_null, "0"),
	SPECIAL("realloc(p, 0)", realloc_p_0, "NULL errno=0"),
	{"realloc(NULL, 100)", CALL_REALLOC_NULL, 100, 0, 0, 100, NULL, PTR, NULL},
	{"realloc(NULL, 0)", CALL_REALLOC_NULL, 0, 0, 0, 0, NULL, PTR, NULL},
	SPECIAL("realloc(p, SIZE_MAX)", realloc_size_max_keeps_block, NOMEM ", old block intact"),
	SPECIAL("realloc(p, PTRDIFF_MAX+1)", realloc_ptrdiff_max_plus_1, NOMEM),
	{"calloc(2^63, 2)", CALL_CALLOC, HALF, 2, 0, 0, NULL, NOMEM, NULL},
	{"calloc(SIZE_MAX, SIZE_MAX)", CALL_CALLOC, SIZE_MAX, SIZE_MAX, 0, 0, NULL, NOMEM, NULL},
	{"calloc(2^32, 2^32)", CALL_CALLOC, (size_t)1 << 32, (size_t)1 << 32, 0, 0, NULL, NOMEM, NULL},
	{"calloc(0, 100)", CALL_CALLOC, 0, 100, 0, 0, NULL, PTR, NULL},
	{"calloc(100, 0)", CALL_CALLOC, 100, 0, 0, 0, NULL, PTR, NULL},
	{"malloc(SIZE_MAX)", CALL_MALLOC, SIZE_MAX, 0, 0, 0, NULL, NOMEM, NULL},
	{"malloc(SIZE_MAX-4096)", CALL_MALLOC, SIZE_MAX - 4096, 0, 0, 0, NULL, NOMEM, NULL},
	{"malloc(PTRDIFF_MAX)", CALL_MALLOC, PTRDIFF_MAX, 0, 0, 0, NULL, NOMEM, NULL},
	{"malloc(PTRDIFF_MAX+1)", CALL_MALLOC, (size_t)PTRDIFF_MAX + 1, 0, 0, 0, NULL, NOMEM, NULL},
	{"reallocarray(NULL, SIZE_MAX, 2)", CALL_REALLOCARRAY, SIZE_MAX, 2, 0, 0, NULL, NOMEM, NULL},
	SPECIAL("reallocarray(p, 2^63, 4)", reallocarray_overflow_keeps_block,
		NOMEM ", old block intact"),
	{"reallocarray(NULL, 10, 10)", CALL_REALLOCARRAY, 10, 10, 0, 100, NULL, PTR, NULL},
	{"posix_memalign(24, 100)", CALL_POSIX_MEMALIGN, 24, 100, 0, 0, NULL, PM_FAILS(EINVAL), NULL},
	{"posix_memalign(4, 100)", CALL_POSIX_MEMALIGN, 4, 100, 0, 0, NULL, PM_FAILS(EINVAL), NULL},
	{"posix_memalign(0, 100)", CALL_POSIX_MEMALIGN, 0, 100, 0, 0, NULL, PM_FAILS(EINVAL), NULL},
	{"posix_memalign(8, 100)", CALL_POSIX_MEMALIGN, 8, 100, 0, 0, NULL, PM_OK(8), NULL},
	{"posix_memalign(4096, 100)", CALL_POSIX_MEMALIGN, 4096, 100, 0, 0, NULL, PM_OK(4096), NULL},
	{"posix_memalign(64, SIZE_MAX)", CALL_POSIX_MEMALIGN, 64, SIZE_MAX, 0, 0, NULL,
	 PM_FAILS(ENOMEM), NULL},
	{"posix_memalign(64, 0)", CALL_POSIX_MEMALIGN, 64, 0, 0, 0, NULL, PM_OK(64), NULL},
	{"posix_memalign(2^63, 16)", CALL_POSIX_MEMALIGN, HALF, 16, 0, 0, NULL, PM_FAILS(ENOMEM),
	 NULL},
	{"aligned_alloc(24, 96)", CALL_ALIGNED_ALLOC, 24, 96, 32, 96, NULL, AA_BAD_ALIGN,
	 PTR_ALIGNED(32)},
	{"aligned_alloc(0, 100)", CALL_ALIGNED_ALLOC, 0, 100, 0, 100, NULL, AA_BAD_ALIGN, PTR},
	{"aligned_alloc(64, 100)", CALL_ALIGNED_ALLOC, 64, 100, 64, 100, NULL, PTR_ALIGNED(64), NULL},
	{"aligned_alloc(1 MiB, 100)", CALL_ALIGNED_ALLOC, MIB, 100, MIB, 100, NULL,
	 PTR_ALIGNED(1048576), NULL},
	{"aligned_alloc(4096, SIZE_MAX)", CALL_ALIGNED_ALLOC, 4096, SIZE_MAX, 0, 0, NULL, NOMEM, NULL},
	{"aligned_alloc(2^63+1, 16)", CALL_ALIGNED_ALLOC, HALF + 1, 16, 0, 0, NULL,
	 "NULL errno=EINVAL", NULL},
	{"memalign(24, 100)", CALL_MEMALIGN, 24, 100, 32, 100, NULL, PTR_ALIGNED(32), NULL},
	{"memalign(0, 100)", CALL_MEMALIGN, 0, 100, 0, 100, NULL, PTR, NULL},
	{"memalign(1, 100)", CALL_MEMALIGN, 1, 100, 0, 100, NULL, PTR, NULL},
	{"memalign(2 MiB, 100)", CALL_MEMALIGN, 2 * MIB, 100, 2 * MIB, 100, NULL,
	 PTR_ALIGNED(2097152), NULL},
	{"memalign(2^63+1, 16)", CALL_MEMALIGN, HALF + 1, 16, 0, 0, NULL, "NULL errno=EINVAL", NULL},
	{"valloc(100)", CALL_VALLOC, 100, 0, 4096, 100, NULL, PTR_ALIGNED(4096), NULL},
	{"valloc(SIZE_MAX)", CALL_VALLOC, SIZE_MAX, 0, 0, 0, NULL, NOMEM, NULL},
	/* pvalloc rounds the size up to a whole page; glibc's pvalloc(0) is a
	 * page-aligned minimum block, not a whole page. */
	{"pvalloc(100)", CALL_PVALLOC, 100, 0, 4096, 4096, NULL, PTR_ALIGNED(4096), NULL},
	{"pvalloc(0)", CALL_PVALLOC, 0, 0, 4096, 0, NULL, PTR_ALIGNED(4096), NULL},
	{"pvalloc(SIZE_MAX)", CALL_PVALLOC, SIZE_MAX, 0, 0, 0, NULL, NOMEM, NULL},
	SPECIAL("realloc(posix_memalign(4096, 3000), 200000)", realloc_aligned_keeps_contents,
		"ptr, contents kept"),
};

int main(void)
{
	int bad = 0;

	fprintf(stderr, "api_edge: allocator %s via %s\n", rel_allocator_name(), REL_ROUTE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256];

		const struct edge_case *c = &cases[i];

		errno = 0;
		if (c->call == CALL_SPECIAL)
			c->special(out, sizeof(out));
		else
			call_plain(out, sizeof(out), c->call, c->a, c->b, c->align, c->need);
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
