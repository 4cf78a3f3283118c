/*
 * api.c - the hak_ functions of hakmem.h: the malloc family under hakmem's
 * own names, on top of the fast paths of hakmem_internal.h.
 *
 * Owns: routing of requests above the small classes (L2.5 or Large),
 * calloc's overflow check and zeroing (skipped on fresh mappings), realloc
 * (in place when the block can hold the new size), alignment (small powers
 * of two are classes of their own, larger go to spans), usable size.
 * Does not own: the malloc/free exports (override/malloc.c).
 */
#include "../hakmem_internal.h"

#include <unistd.h>

#define HAK_VERSION "hakmem 0.1.0"

/* The learner's part of a request above the small classes (its tick, size
 * distribution and site rules); true when it goes to the Large tier. */
static bool big_route(size_t size, uintptr_t site)
{
	hak_tick(hak_learn_request_weight(size));
	hak_learn_note_size(size); /* the learner's size distribution (a TLS store) */
	bool large = size >= hak_learn_large_threshold() || size > HAK_L25_MAX;
	if (site) { /* hak_alloc_at: the learner's site rules */
		large = large || hak_learn_site_tier(site) == HAK_TIER_LARGE;
		hak_learn_site_note(site, large ? HAK_TIER_LARGE : HAK_TIER_L25);
	}
	return large;
}

HAK_NOINLINE void *hak_big_alloc(size_t size, uintptr_t site)
{
	hak_init();
	if (HAK_UNLIKELY(size > (size_t)PTRDIFF_MAX)) {
		errno = ENOMEM;
		return NULL;
	}
	return big_route(size, site) ? hak_large_alloc(size, 0) : hak_l25_alloc(size);
}

HAK_API void *hak_malloc(size_t size)
{
	HAK_TIME_BEGIN(t);
	void *p = hak_alloc_inline(size, 0);
	HAK_TIME_END(hak_alloc, t);
	return p;
}

HAK_API void *hak_alloc_at(size_t size, uintptr_t site)
{
	HAK_TIME_BEGIN(t);
	void *p = hak_alloc_inline(size, site);
	HAK_TIME_END(hak_alloc, t);
	return p;
}

HAK_API void hak_free(void *ptr)
{
	HAK_TIME_BEGIN(t);
	hak_free_inline(ptr);
	HAK_TIME_END(hak_free, t);
}

HAK_API size_t hak_malloc_usable_size(const void *ptr)
{
	if (!ptr)
		return 0;
	hak_seg_t *seg = hak_seg_of(ptr);
	if (seg->kind == HAK_SEG_SPAN)
		return seg->usable;
	size_t size = hak_class_size[seg->unit_cls[hak_seg_unit(ptr)]];
	if (seg->kind == HAK_SEG_MID) /* an aligned pointer may lie inside its block */
		size -= (size_t)((const uint8_t *)ptr - (const uint8_t *)hak_mid_block_of(seg, ptr));
	return size;
}

HAK_API void *hak_calloc(size_t nmemb, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		HAK_DEBUG_STAT_ANY(size_overflow);
		errno = ENOMEM;
		return NULL;
	}
	void *p = hak_malloc(n);
	if (!p)
		return NULL;
	hak_seg_t *seg = hak_seg_of(p);
	if (seg->kind != HAK_SEG_SPAN || !seg->fresh)
		memset(p, 0, n);
	return p;
}

/* May a block of `usable` bytes keep serving a request of `size`? */
static bool realloc_fits(const void *ptr, size_t usable, size_t size)
{
	if (size > usable)
		return false;
	if (hak_seg_of(ptr)->kind != HAK_SEG_SPAN)
		return size > usable / 2 || usable <= 64;
	return size > usable / 2 && size > HAK_SMALL_MAX;
}

/* Growth by realloc to a size of this range (bytes) gets room up to the
 * next power of two. From the bottom of L2.5: starting at 256 KiB, the
 * classes between 32 and 256 KiB were each a copy (4 per doubling), and
 * moves of 64 - 256 KiB copied 1.5 GB per realloc run against jemalloc's
 * 0.7 (it grows in place into the next free extent). Up to 2 MiB: with
 * 1 MiB, blocks of 1 - 2 MiB were copied at each of their 4 classes
 * (realloc_read: 27.6 GB per run in 19 k moves against mimalloc's 12.5 GB
 * in 9.6 k); the 2 MiB room is a Large block at the default threshold,
 * which grows by mremap beyond. */
#define REALLOC_ROOM_MIN ((size_t)HAK_SMALL_MAX)
#define REALLOC_ROOM_MAX ((size_t)2 << 20)

/* A growing block whose room is REALLOC_SPARE_MIN or more and below
 * REALLOC_SPARE_MAP takes, when the whale cache holds one, a cached mapping
 * of REALLOC_SPARE_MAP bytes with its resident pages, and grows to
 * REALLOC_SPARE_MAP within it: no copy, no system call, no page fault.
 * Blocks of 64 KiB - 1 MiB were copied once per doubling (512 KiB - 1 MiB
 * twice as often as jemalloc, which grows them in place). The spare room
 * costs no memory beyond the whale cache's own bound: it is memory the
 * cache held already, and nothing is mapped for it. */
#define REALLOC_SPARE_MIN ((size_t)128 << 10)
#define REALLOC_SPARE_MAP ((size_t)1 << 20)

/* The room of a growing block: `room` bytes (a power of two). */
static void *realloc_room_alloc(size_t room)
{
	if (room < REALLOC_SPARE_MIN || room >= REALLOC_SPARE_MAP)
		return hak_malloc(room);
	if (big_route(room, 0))
		return hak_large_alloc(room, 0);
	void *p = hak_l25_alloc_spare(room, REALLOC_SPARE_MAP);
	return p ? p : hak_l25_alloc(room);
}

HAK_API void *hak_realloc(void *ptr, size_t size)
{
	if (!ptr) {
		HAK_DEBUG_STAT_ANY(realloc_null);
		return hak_malloc(size);
	}
	if (size == 0) {
		HAK_DEBUG_STAT_ANY(realloc_zero);
		hak_free(ptr);
		return NULL;
	}
	size_t old = hak_malloc_usable_size(ptr);
	if (old > HAK_SMALL_MAX) /* the learner counts a big block's realloc as one request */
		hak_tick(hak_learn_request_weight(size));
	if (realloc_fits(ptr, old, size)) {
		HAK_DEBUG_STAT_ANY(realloc_in_place);
		return ptr;
	}
	hak_seg_t *seg = hak_seg_of(ptr);
	if (seg->kind == HAK_SEG_SPAN && size > old && size <= (size_t)PTRDIFF_MAX) {
		void *n = hak_span_realloc(seg, size);
		if (n)
			return n;
	}
	void *n = NULL;
	if (size > old && size > REALLOC_ROOM_MIN && size < REALLOC_ROOM_MAX) {
		/* a block that grew past its class grows again (vectors, string
		 * builders): room up to the next power of two, which costs
		 * address space (pages never touched stay unmapped) where every
		 * further move would copy the whole block */
		n = realloc_room_alloc(hak_pow2_up(size));
	}
	if (!n)
		n = hak_malloc(size);
	if (!n)
		return NULL;
	memcpy(n, ptr, old < size ? old : size);
	hak_free(ptr);
	return n;
}

HAK_API void *hak_reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		HAK_DEBUG_STAT_ANY(size_overflow);
		errno = ENOMEM;
		return NULL;
	}
	return hak_realloc(ptr, n);
}

/* A block of a Mid class of whole pages (blocks HAK_MID_COLOUR apart, not
 * aligned by construction) holding `size` bytes at a multiple of `align`
 * (both at most 16 KiB, so what it takes stays below HAK_SMALL_MAX): the
 * pointer may lie inside the block, which the slab's bit in offset_slabs
 * tells free and malloc_usable_size. */
static void *mid_alloc_offset(size_t align, size_t size)
{
	uint8_t *b = hak_malloc(size + align - HAK_MID_COLOUR); /* Mid blocks are 64-byte aligned */
	if (!b)
		return NULL;
	uint8_t *p = (uint8_t *)hak_align_up((uintptr_t)b, align);
	if (p != b) {
		hak_seg_t *seg = hak_seg_of(b);
		HAK_ASSERT(seg->kind == HAK_SEG_MID);
		unsigned bit = 1u << hak_slab_of(seg, b)->index;
		if (!(atomic_load_explicit(&seg->offset_slabs, memory_order_relaxed) & bit))
			atomic_fetch_or_explicit(&seg->offset_slabs, bit, memory_order_relaxed);
	}
	return p;
}

/* `align` is a power of two. Small requests: a power-of-two class of at
 * least `align` bytes is aligned by construction (slabs start at multiples
 * of their size), but for the Mid classes of whole pages (mid_alloc_offset).
 * Span blocks start HAK_SPAN_HDR (256) bytes into their page; beyond, Large. */
static void *aligned_alloc_impl(size_t align, size_t size)
{
	if (align <= HAK_MIN_ALIGN)
		return hak_malloc(size);
	size_t n = size > align ? size : align;
	if (n <= HAK_SMALL_MAX) {
		size_t c = hak_pow2_up(n);
		if (align > HAK_MID_COLOUR && hak_class_stride[hak_small_class(c)] != c)
			return mid_alloc_offset(align, size);
		return hak_malloc(c);
	}
	if (align <= HAK_SPAN_HDR)
		return hak_malloc(size);
	hak_init();
	return hak_large_alloc(size, align);
}

HAK_API int hak_posix_memalign(void **out, size_t alignment, size_t size)
{
	if (alignment < sizeof(void *) || (alignment & (alignment - 1)))
		return EINVAL;
	int saved = errno;
	void *p = aligned_alloc_impl(alignment, size);
	if (!p) {
		errno = saved;
		return ENOMEM;
	}
	*out = p;
	return 0;
}

HAK_API void *hak_memalign(size_t alignment, size_t size)
{
	if (alignment & (alignment - 1)) { /* glibc rounds up to a power of two */
		if (alignment > ((size_t)1 << 62)) {
			errno = EINVAL;
			return NULL;
		}
		alignment = hak_pow2_up(alignment);
	}
	return aligned_alloc_impl(alignment ? alignment : 1, size);
}

HAK_API void *hak_aligned_alloc(size_t alignment, size_t size)
{
	if (alignment == 0 || (alignment & (alignment - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return aligned_alloc_impl(alignment, size);
}

HAK_API void *hak_valloc(size_t size)
{
	return aligned_alloc_impl(HAK_PAGE, size);
}

HAK_API void *hak_pvalloc(size_t size)
{
	size_t n = hak_align_up(size ? size : 1, HAK_PAGE);
	if (n < size) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned_alloc_impl(HAK_PAGE, n);
}

HAK_API const char *hak_version(void)
{
	return HAK_VERSION;
}

HAK_API int hak_stats_write(const char *path)
{
	hak_init();
	return hak_stats_write_file(path);
}

HAK_API uint64_t hak_foreign_requests(void)
{
	return atomic_load_explicit(&hak_stats.foreign_requests, memory_order_relaxed);
}
