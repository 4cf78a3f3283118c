/*
 * l25.c - the L2.5 pool: blocks from 32 KiB to the large threshold (at most
 * 8 MiB), 4 classes per power of two (40 KiB, 48 KiB, 56 KiB, 64 KiB,
 * 80 KiB, ... 8 MiB), each block a span of its own that is reused, not
 * unmapped, when freed.
 *
 * Owns: class mapping, a small per-thread cache per class
 * (HAKMEM_L25_TLS_BLOCKS, at most HAKMEM_L25_TLS_KB in all; a request takes
 * its class, the next one as is, or the one below grown), the shared pool
 * per class bounded in bytes (HAKMEM_L25_CACHE_MB; beyond it blocks are
 * unmapped); a pool miss may take a block of the next class. Classes from
 * 1 MiB on are kept in the whale cache instead (large.c), which they share
 * with the Large tier; so is a block given spare room for realloc growth
 * (hak_l25_alloc_spare: a cached whale mapping larger than its class).
 * Does not own: mapping spans (large.c), growing a block within its
 * mapping (hak_span_realloc).
 *
 * Thread safety: the shared pool is under one lock; thread caches are the
 * calling thread's.
 */
#include "../hakmem_internal.h"

#define L25_WHALE_MIN ((size_t)1 << 20) /* bytes: classes from here cycle via the whale */

static hak_lock_t l25_lock;
static hak_seg_t *l25_pool[HAK_L25_NCLS]; /* freed spans per class */
static size_t l25_pool_bytes;             /* bytes mapped by pooled spans */

unsigned hak_l25_class(size_t size)
{
	size_t x = size - 1;
	unsigned e = 63u - (unsigned)__builtin_clzll(x); /* 15 .. 22 */
	unsigned quarter = (unsigned)((x - ((size_t)1 << e)) >> (e - 2));
	return (e - 15) * 4 + quarter;
}

size_t hak_l25_class_size(unsigned c)
{
	size_t base = (size_t)32768 << (c / 4);
	return base + base * (c % 4 + 1) / 4;
}

/* Memory of freed blocks is fungible across classes: a pooled span of
 * another class serves class c. The nearest larger one first, as it is
 * (its resident pages are reused; realloc can grow into it; the pool's
 * bound limits the excess), else the largest smaller one, grown in its
 * 2 MiB slot (only the added pages are fresh). NULL when the pool is empty
 * or the growth fails (the span is then unmapped). */
static hak_seg_t *l25_pool_take_resized(unsigned c, size_t csize)
{
	hak_seg_t *span = NULL;
	hak_lock(&l25_lock);
	for (unsigned k = c + 2; !span && k < HAK_L25_NCLS; k++)
		span = l25_pool[k];
	for (unsigned k = c; !span && k-- > 0;)
		span = l25_pool[k];
	if (span) {
		l25_pool[span->l25_cls] = span->span_next;
		l25_pool_bytes -= span->map_size;
	}
	hak_unlock(&l25_lock);
	if (!span)
		return NULL;
	span->fresh = 0;
	if ((size_t)span->l25_cls > c)
		return span; /* larger: serves as is (usable stays its class size) */
	size_t new_map = hak_align_up(HAK_SPAN_HDR + csize, HAK_PAGE);
	if (hak_os_grow_in_place(span, span->map_size, new_map) != 0) {
		hak_span_unmap(span);
		return NULL;
	}
	span->map_size = new_map;
	span->l25_cls = (int32_t)c;
	span->usable = csize;
	return span;
}

/* The block of `span`, handed to the program; a span of a class from
 * 1 MiB on counts as live in the whale cache's bounds from now on. */
static void *l25_hand_out(hak_seg_t *span)
{
	if (hak_whale_span(span))
		hak_whale_note_live((int64_t)span->map_size);
	return (uint8_t *)span + span->user_off;
}

static hak_seg_t *l25_tls_pop(unsigned k)
{
	hak_seg_t *span = hak_tls.l25_head[k];
	hak_tls.l25_head[k] = span->span_next;
	hak_tls.l25_count[k]--;
	hak_tls.l25_bytes -= span->map_size;
	span->fresh = 0;
	return span;
}

/* A block for class c from the thread's cache: one of class c, else of
 * class c + 1 (at most 25 % larger) as it is; NULL when none. */
static hak_seg_t *l25_tls_take(unsigned c)
{
	if (hak_tls.l25_head[c])
		return l25_tls_pop(c);
	if (c + 1 < HAK_L25_NCLS && hak_tls.l25_head[c + 1])
		return l25_tls_pop(c + 1);
	return NULL;
}

/* When the shared pool is empty too: the
 * thread's block of class c - 1 grown to class c (csize bytes) in its 2 MiB
 * slot (only the added pages are fresh), so that a thread cycling between
 * two neighbouring classes keeps one block resident, not one per class.
 * NULL when it has none or the growth fails. */
static hak_seg_t *l25_tls_grow_below(unsigned c, size_t csize)
{
	if (c == 0 || !hak_tls.l25_head[c - 1])
		return NULL;
	hak_seg_t *span = hak_tls.l25_head[c - 1];
	size_t new_map = hak_align_up(HAK_SPAN_HDR + csize, HAK_PAGE);
	if (hak_os_grow_in_place(span, span->map_size, new_map) != 0)
		return NULL;
	span = l25_tls_pop(c - 1);
	span->map_size = new_map;
	span->l25_cls = (int32_t)c;
	span->usable = csize;
	return span;
}

void *hak_l25_alloc(size_t size)
{
	unsigned c = hak_l25_class(size);
	HAK_ASSERT(c < HAK_L25_NCLS && hak_l25_class_size(c) >= size);
	HAK_SPAN_COUNT(l25_allocs);
	size_t csize = hak_l25_class_size(c);
	/* From 1 MiB on, blocks cycle through the whale cache, shared with the
	 * Large tier: requests around the large threshold use one region. */
	if (csize >= L25_WHALE_MIN) {
		size_t need = hak_align_up(HAK_SPAN_HDR + csize, HAK_PAGE);
		hak_seg_t *w = hak_whale_get(need);
		if (w) {
			HAK_SPAN_COUNT(whale_hits);
			hak_span_set_block(w, HAK_SPAN_HDR, (int32_t)c, csize, false);
			return (uint8_t *)w + HAK_SPAN_HDR;
		}
	}
	hak_seg_t *span = l25_tls_take(c);
	if (span)
		return (uint8_t *)span + span->user_off;
	/* the shared pool: this class, else the next (at most 25 % larger) */
	hak_span_counts_publish();
	hak_lock(&l25_lock);
	for (unsigned k = c; k < HAK_L25_NCLS && k <= c + 1; k++) {
		span = l25_pool[k];
		if (span) {
			l25_pool[k] = span->span_next;
			l25_pool_bytes -= span->map_size;
			break;
		}
	}
	hak_unlock(&l25_lock);
	if (span) {
		HAK_STAT_INC(l25_pool_hits);
		span->fresh = 0;
		return l25_hand_out(span);
	}
	span = l25_pool_take_resized(c, csize);
	if (span) {
		HAK_STAT_INC(l25_pool_resized);
		return l25_hand_out(span);
	}
	span = l25_tls_grow_below(c, csize);
	if (span)
		return l25_hand_out(span);
	HAK_TIME_BEGIN(t);
	size_t map = csize >= L25_WHALE_MIN ? hak_large_map_size(HAK_SPAN_HDR + csize)
					    : HAK_SPAN_HDR + csize;
	span = hak_span_map(map - HAK_SPAN_HDR, HAK_SPAN_HDR, HAK_SEG_SIZE, 0);
	HAK_TIME_END(l25_refill, t);
	if (!span) {
		errno = ENOMEM;
		return NULL;
	}
	HAK_STAT_INC(l25_refills);
	span->l25_cls = (int32_t)c;
	span->usable = csize;
	return l25_hand_out(span);
}

void *hak_l25_alloc_spare(size_t size, size_t spare)
{
	unsigned c = hak_l25_class(size);
	size_t csize = hak_l25_class_size(c);
	HAK_ASSERT(c < HAK_L25_NCLS && csize >= size && spare >= csize);
	size_t need = hak_align_up(HAK_SPAN_HDR + spare, HAK_PAGE);
	hak_seg_t *w = hak_whale_get_room(need);
	if (!w)
		return NULL;
	HAK_SPAN_COUNT(l25_allocs);
	HAK_STAT_INC(l25_spare_hits);
	hak_span_set_block(w, HAK_SPAN_HDR, (int32_t)c, csize, false);
	return (uint8_t *)w + HAK_SPAN_HDR;
}

static void l25_pool_put(hak_seg_t *span)
{
	size_t limit = (size_t)hak_config.l25_cache_mb << 20;
	hak_lock(&l25_lock);
	bool keep = l25_pool_bytes + span->map_size <= limit;
	if (keep) {
		span->span_next = l25_pool[span->l25_cls];
		l25_pool[span->l25_cls] = span;
		l25_pool_bytes += span->map_size;
	}
	hak_unlock(&l25_lock);
	if (!keep)
		hak_span_unmap(span);
}

void hak_l25_free(hak_seg_t *span)
{
	unsigned c = (unsigned)span->l25_cls;
	hak_span_thread_enter();
	HAK_SPAN_COUNT(l25_frees);
	if (hak_whale_span(span)) {
		hak_whale_put(span);
		return;
	}
	if (hak_tls.state == HAK_TLS_LIVE && hak_tls.l25_count[c] < hak_config.l25_tls_blocks &&
	    hak_tls.l25_bytes + span->map_size <= ((size_t)hak_config.l25_tls_kb << 10)) {
		span->span_next = hak_tls.l25_head[c];
		hak_tls.l25_head[c] = span;
		hak_tls.l25_count[c]++;
		hak_tls.l25_bytes += span->map_size;
		return;
	}
	l25_pool_put(span);
}

void hak_l25_thread_flush(void)
{
	for (unsigned c = 0; c < HAK_L25_NCLS; c++) {
		hak_seg_t *span = hak_tls.l25_head[c];
		while (span) {
			hak_seg_t *next = span->span_next;
			l25_pool_put(span);
			span = next;
		}
		hak_tls.l25_head[c] = NULL;
		hak_tls.l25_count[c] = 0;
	}
	hak_tls.l25_bytes = 0;
}

void hak_l25_lock(void)
{
	hak_lock(&l25_lock);
}

void hak_l25_unlock(void)
{
	hak_unlock(&l25_lock);
}

void hak_l25_fork_child(void)
{
	atomic_store(&l25_lock.v, 0);
}
