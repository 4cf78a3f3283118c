/*
 * malloc.c - the malloc-family exports: malloc, free, calloc, realloc,
 * reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
 * malloc_usable_size (and glibc's __libc_* aliases, so nothing in the
 * process can reach glibc's allocator). Kept apart from the core so that
 * libhakmem_api.a (sanitizer builds) carries none of them.
 *
 * malloc and free inline the fast paths themselves rather than calling
 * hak_malloc / hak_free: one call less on every request.
 */
#include "../hakmem_internal.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT void *malloc(size_t size)
{
	HAK_TIME_BEGIN(t);
	void *p = hak_alloc_inline(size, 0);
	HAK_TIME_END(hak_alloc, t);
	return p;
}

EXPORT void free(void *ptr)
{
	HAK_TIME_BEGIN(t);
	hak_free_inline(ptr);
	HAK_TIME_END(hak_free, t);
}

EXPORT void cfree(void *ptr)
{
	hak_free(ptr);
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
	return hak_calloc(nmemb, size);
}

EXPORT void *realloc(void *ptr, size_t size)
{
	return hak_realloc(ptr, size);
}

EXPORT void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
	return hak_reallocarray(ptr, nmemb, size);
}

EXPORT int posix_memalign(void **out, size_t alignment, size_t size)
{
	return hak_posix_memalign(out, alignment, size);
}

EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
	return hak_aligned_alloc(alignment, size);
}

EXPORT void *memalign(size_t alignment, size_t size)
{
	return hak_memalign(alignment, size);
}

EXPORT void *valloc(size_t size)
{
	return hak_valloc(size);
}

EXPORT void *pvalloc(size_t size)
{
	return hak_pvalloc(size);
}

EXPORT size_t malloc_usable_size(void *ptr)
{
	return hak_malloc_usable_size(ptr);
}

/* glibc's internal names: some programs and libraries call them directly. */
EXPORT void *__libc_malloc(size_t size) __attribute__((alias("malloc")));
EXPORT void __libc_free(void *ptr) __attribute__((alias("free")));
EXPORT void *__libc_calloc(size_t n, size_t s) __attribute__((alias("calloc")));
EXPORT void *__libc_realloc(void *p, size_t s) __attribute__((alias("realloc")));
EXPORT void *__libc_memalign(size_t a, size_t s) __attribute__((alias("memalign")));
EXPORT void *__libc_valloc(size_t s) __attribute__((alias("valloc")));
EXPORT void *__libc_pvalloc(size_t s) __attribute__((alias("pvalloc")));
