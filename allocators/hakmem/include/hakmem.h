/*
 * hakmem.h - the public API of the hakmem allocator.
 *
 * Two ways to use hakmem:
 *  - as a drop-in malloc: link build/lib/libhakmem.a or preload
 *    build/lib/libhakmem.so; malloc, free, calloc, realloc, reallocarray,
 *    posix_memalign, aligned_alloc, memalign, valloc, pvalloc and
 *    malloc_usable_size are then hakmem's;
 *  - directly, through the hak_ functions below, which behave exactly like
 *    their malloc-family namesakes. Sanitizer builds link hakmem without the
 *    malloc exports (build/lib/libhakmem_api.a) and call only these.
 *
 * Every function here is thread-safe. Every pointer returned is aligned to at
 * least HAK_MIN_ALIGN bytes. A request that cannot be met returns NULL (or an
 * error code for hak_posix_memalign) with errno set to ENOMEM (EINVAL for bad
 * alignments); hakmem never crashes on it and never hands it to another
 * allocator.
 */
#ifndef HAKMEM_H
#define HAKMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HAK_MIN_ALIGN 16 /* bytes: the alignment of every block */

#if defined(__GNUC__)
#define HAK_API __attribute__((visibility("default")))
#else
#define HAK_API
#endif

/* The malloc family, hakmem's own names. Semantics as glibc documents them. */
HAK_API void *hak_malloc(size_t size);
HAK_API void hak_free(void *ptr);
HAK_API void *hak_calloc(size_t nmemb, size_t size);
HAK_API void *hak_realloc(void *ptr, size_t size);
HAK_API void *hak_reallocarray(void *ptr, size_t nmemb, size_t size);
HAK_API int hak_posix_memalign(void **out, size_t alignment, size_t size);
HAK_API void *hak_aligned_alloc(size_t alignment, size_t size);
HAK_API void *hak_memalign(size_t alignment, size_t size);
HAK_API void *hak_valloc(size_t size);
HAK_API void *hak_pvalloc(size_t size);
HAK_API size_t hak_malloc_usable_size(const void *ptr);

/* Allocate `size` bytes on behalf of call site `site` (any stable id, e.g. a
 * return address); the learning layer keys its site rules on it. */
HAK_API void *hak_alloc_at(size_t size, uintptr_t site);

/* "hakmem <version>": lets a program prove at run time that hakmem serves
 * it (the harness's allocator-identity check looks this symbol up). */
HAK_API const char *hak_version(void);

/* Write the statistics JSON (the same as HAKMEM_STATS_FILE writes at exit)
 * to `path`. Returns 0, or -1 with errno set. */
HAK_API int hak_stats_write(const char *path);

/* Number of requests hakmem handed to another allocator since start. The
 * design says this is always 0; tests assert it. */
HAK_API uint64_t hak_foreign_requests(void);

#ifdef __cplusplus
}
#endif

#endif /* HAKMEM_H */
