/*
 * large.c - spans and the Large tier: one mapping per block at or above the
 * large threshold (or above the largest L2.5 class, or with an alignment
 * that the other tiers do not give), and the whale cache of freed mappings.
 *
 * A span is a mapping whose first HAK_SPAN_HDR bytes, at a 2 MiB boundary,
 * hold its header; the block follows at `user_off` (64 bytes, or the
 * requested alignment). `free` finds the header by masking like any
 * SuperSlab. The whale cache (whale_get / whale_put) keeps up to
 * HAKMEM_WHALE_CACHE mappings and HAKMEM_WHALE_CACHE_MB MiB, oldest evicted
 * first, and serves a request from a mapping at most 25 % larger.
 *
 * Thread safety: the whale cache is under one lock.
 */
#include "../hakmem_internal.h"

#define WHALE_MAX 64 /* entries of the whale array (HAKMEM_WHALE_CACHE <= 64) */

static hak_lock_t whale_lock;
static hak_seg_t *whale[WHALE_MAX]; /* cached spans, oldest first */
static unsigned whale_n;            /* entries used */
static size_t whale_bytes;          /* bytes mapped by cached spans */

hak_seg_t *hak_span_map(size_t size, size_t off, size_t align, size_t skew)
{
	if (size > PTRDIFF_MAX - off - HAK_SEG_SIZE)
		return NULL;
	size_t map_size = hak_align_up(off + size, HAK_PAGE);
	hak_seg_t *span = hak_os_map_aligned(map_size, align, skew);
	if (!span)
		return NULL;
	span->owner = HAK_SPAN_OWNER;
	span->kind = HAK_SEG_SPAN;
	span->fresh = 1;
	span->l25_cls = -1;
	span->map_size = map_size;
	span->user_off = (uint32_t)off;
	span->usable = map_size - off;
	return span;
}

void hak_span_unmap(hak_seg_t *span)
{
	hak_os_unmap(span, span->map_size);
}

hak_seg_t *hak_whale_get(size_t map_size)
{
	HAK_TIME_BEGIN(t);
	hak_seg_t *best = NULL;
	unsigned bi = 0;
	size_t limit = map_size + map_size / 4;
	hak_lock(&whale_lock);
	for (unsigned i = 0; i < whale_n; i++) {
		size_t s = whale[i]->map_size;
		if (s >= map_size && s <= limit && (!best || s < best->map_size)) {
			best = whale[i];
			bi = i;
		}
	}
	if (best) {
		memmove(&whale[bi], &whale[bi + 1], (whale_n - bi - 1) * sizeof whale[0]);
		whale_n--;
		whale_bytes -= best->map_size;
	}
	hak_unlock(&whale_lock);
	HAK_TIME_END(whale_get, t);
	return best;
}

void hak_whale_put(hak_seg_t *span)
{
	HAK_TIME_BEGIN(t);
	hak_seg_t *evict[WHALE_MAX + 1];
	unsigned ne = 0;
	size_t max_n = (size_t)hak_config.whale_cache;
	size_t max_bytes = (size_t)hak_config.whale_cache_mb << 20;
	hak_lock(&whale_lock);
	if (span->map_size > max_bytes || max_n == 0) {
		evict[ne++] = span;
	} else {
		while (whale_n >= max_n || whale_bytes + span->map_size > max_bytes) {
			evict[ne++] = whale[0];
			whale_bytes -= whale[0]->map_size;
			memmove(&whale[0], &whale[1], (whale_n - 1) * sizeof whale[0]);
			whale_n--;
		}
		whale[whale_n++] = span;
		whale_bytes += span->map_size;
	}
	hak_unlock(&whale_lock);
	for (unsigned i = 0; i < ne; i++) {
		if (evict[i] != span)
			HAK_STAT_INC(whale_evictions);
		hak_span_unmap(evict[i]);
	}
	HAK_TIME_END(whale_put, t);
}

/* Mapping size for `n` bytes: pages, and from 2 MiB on in steps of 1/8 of
 * the power of two below, so that blocks of similar size share whale
 * entries (the pages past the request are never touched by it). */
size_t hak_large_map_size(size_t n)
{
	n = hak_align_up(n, HAK_PAGE);
	if (n < HAK_SEG_SIZE)
		return n;
	unsigned e = 63u - (unsigned)__builtin_clzll(n);
	return hak_align_up(n, (size_t)1 << (e - 3));
}

void *hak_large_alloc(size_t size, size_t align)
{
	size_t off = HAK_SPAN_HDR, skew = 0, map_align = HAK_SEG_SIZE;
	if (align > HAK_SPAN_HDR && align <= HAK_SEG_SIZE) {
		off = align;
	} else if (align > HAK_SEG_SIZE) {
		off = HAK_SEG_SIZE; /* the header sits one 2 MiB unit before the block */
		skew = HAK_SEG_SIZE;
		map_align = align;
	}
	if (size > PTRDIFF_MAX - off - map_align) {
		errno = ENOMEM;
		return NULL;
	}
	HAK_SPAN_COUNT(large_allocs);
	hak_span_counts_publish(); /* a slow path already */
	size_t map_size = hak_large_map_size(off + size);
	hak_seg_t *span = skew ? NULL : hak_whale_get(map_size);
	if (span) {
		HAK_STAT_INC(whale_hits);
		span->fresh = 0;
		span->l25_cls = -1;
		span->user_off = (uint32_t)off;
		span->usable = span->map_size - off;
		return (uint8_t *)span + off;
	}
	HAK_TIME_BEGIN(t);
	span = hak_span_map(map_size - off, off, map_align, skew);
	HAK_TIME_END(large_alloc, t);
	if (!span) {
		errno = ENOMEM;
		return NULL;
	}
	HAK_STAT_INC(large_refills);
	return (uint8_t *)span + off;
}

void *hak_span_realloc(hak_seg_t *span, size_t size)
{
	/* Only Large blocks: copying them costs more than moving page tables;
	 * L2.5 blocks are cheaper to copy into pooled (already resident) ones. */
	if (span->user_off != HAK_SPAN_HDR || span->l25_cls >= 0 ||
	    size > HAK_L25_MAX * (size_t)1024)
		return NULL;
	bool to_large = size >= hak_learn_large_threshold() || size > HAK_L25_MAX;
	size_t usable, new_map;
	int32_t new_cls = -1;
	if (to_large) {
		new_map = hak_large_map_size(HAK_SPAN_HDR + size);
		usable = new_map - HAK_SPAN_HDR;
	} else {
		new_cls = (int32_t)hak_l25_class(size);
		usable = hak_l25_class_size((unsigned)new_cls);
		new_map = hak_align_up(HAK_SPAN_HDR + usable, HAK_PAGE);
	}
	if (new_map <= span->map_size)
		return NULL;
	hak_seg_t *ns = span;
	if (hak_os_grow_in_place(span, span->map_size, new_map) != 0) {
		ns = hak_os_move(span, span->map_size, new_map, HAK_SEG_SIZE);
		if (!ns)
			return NULL;
	}
	if (ns->l25_cls >= 0)
		HAK_STAT_INC(l25_frees);
	else
		HAK_STAT_INC(large_frees);
	if (to_large)
		HAK_STAT_INC(large_allocs);
	else
		HAK_STAT_INC(l25_allocs);
	HAK_STAT_INC(span_regrows);
	ns->map_size = new_map;
	ns->l25_cls = new_cls;
	ns->usable = usable;
	ns->fresh = 0;
	return (uint8_t *)ns + HAK_SPAN_HDR;
}

void hak_large_free(hak_seg_t *span)
{
	HAK_SPAN_COUNT(large_frees);
	hak_whale_put(span);
}

void hak_large_lock(void)
{
	hak_lock(&whale_lock);
}

void hak_large_unlock(void)
{
	hak_unlock(&whale_lock);
}

void hak_large_fork_child(void)
{
	atomic_store(&whale_lock.v, 0);
}
