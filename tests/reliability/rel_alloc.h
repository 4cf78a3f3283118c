/*
 * rel_alloc.h - which malloc family the reliability programs call.
 *
 * The stress program, the API edge-case test and the fuzz target are written
 * against the names rel_malloc, rel_free, ... Built plainly they call the
 * process's malloc family (glibc's, or hakmem's when linked with
 * build/lib/libhakmem.a). Built with -DHAK_STRESS_USE_API they call hakmem's
 * hak_ functions: the sanitizer builds use that, because a sanitizer owns
 * malloc itself.
 *
 * rel_allocator_name() says which allocator served the program: "hakmem
 * <version>" when hakmem is linked in (through either route), else "system".
 */
#ifndef REL_ALLOC_H
#define REL_ALLOC_H

#include <stddef.h>
#include <stdlib.h>
#include <malloc.h>

#include "hakmem.h"

#ifdef HAK_STRESS_USE_API
#define rel_malloc hak_malloc
#define rel_free hak_free
#define rel_calloc hak_calloc
#define rel_realloc hak_realloc
#define rel_reallocarray hak_reallocarray
#define rel_posix_memalign hak_posix_memalign
#define rel_aligned_alloc hak_aligned_alloc
#define rel_memalign hak_memalign
#define rel_valloc hak_valloc
#define rel_pvalloc hak_pvalloc
#define rel_usable_size hak_malloc_usable_size
#define REL_ROUTE "hak_ API"
#else
#define rel_malloc malloc
#define rel_free free
#define rel_calloc calloc
#define rel_realloc realloc
#define rel_reallocarray reallocarray
#define rel_posix_memalign posix_memalign
#define rel_aligned_alloc aligned_alloc
#define rel_memalign memalign
#define rel_valloc valloc
#define rel_pvalloc pvalloc
#define rel_usable_size malloc_usable_size
#define REL_ROUTE "malloc"
/* Weak, so that the same source also links without hakmem (glibc build). */
#pragma weak hak_version
#pragma weak hak_foreign_requests
#endif

/* "hakmem <version>" if hakmem is linked in, else "system". */
static inline const char *rel_allocator_name(void)
{
	const char *(*version)(void) = hak_version;

	return version ? version() : "system";
}

/* Requests hakmem handed to another allocator (0 without hakmem). */
static inline unsigned long long rel_foreign_requests(void)
{
	uint64_t (*foreign)(void) = hak_foreign_requests;

	return foreign ? (unsigned long long)foreign() : 0;
}

#endif /* REL_ALLOC_H */
