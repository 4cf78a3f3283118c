/*
 * segment.c - SuperSlabs: 2 MiB-aligned regions of Tiny slabs (64 KiB) or
 * Mid pages (256 KiB), and the memory-return policy for them.
 *
 * Owns: mapping SuperSlabs (several per mmap, the extra ones cached),
 * handing out free slabs, taking empty slabs back,
 * purging (madvise) empty slabs that stayed unused for
 * HAKMEM_PURGE_DELAY_MS (checked on slow paths) or beyond
 * HAKMEM_DIRTY_SLABS_MAX per thread and kind, the bounded cache of empty
 * SuperSlabs (HAKMEM_SEGMENT_CACHE), unmapping the rest. Does not own: what is inside a slab (heap.c).
 *
 * Every function here is called by the heap's owner only, except the
 * segment cache (locked).
 */
#include "../hakmem_internal.h"

#include <time.h>

static hak_lock_t seg_cache_lock;
static hak_seg_t *seg_cache;       /* empty SuperSlabs of no heap */
static unsigned seg_cache_count;   /* SuperSlabs in seg_cache */
static _Atomic unsigned seg_cache_dirty; /* of them, with resident slab pages */

/* A cached SuperSlab's state lives in its reserved slab 0: `where` says
 * whether the other slabs' pages may be resident, dirty_ms since when. */
#define SEG_CACHED_STATE(seg) (&(seg)->slabs[0])
/* 1 while a cached SuperSlab was never used (mapped by a batch): taking it
 * counts as segments_mapped, not segments_reused. */
#define SEG_CACHED_FRESH(seg) (SEG_CACHED_STATE(seg)->full)

/* Empty SuperSlab seg (of no heap) into the shared cache, or unmapped when
 * the cache is full; `dirty`: its slabs' pages may be resident (since `ms`),
 * `fresh`: never used. */
static void seg_cache_put(hak_seg_t *seg, bool dirty, bool fresh, uint64_t ms)
{
	SEG_CACHED_STATE(seg)->where = dirty ? SLAB_FREE_DIRTY : SLAB_FREE_CLEAN;
	SEG_CACHED_STATE(seg)->dirty_ms = ms;
	SEG_CACHED_FRESH(seg) = fresh;
	hak_lock(&seg_cache_lock);
	bool keep = seg_cache_count < (unsigned)hak_config.segment_cache;
	if (keep) {
		seg_cache_count++;
		seg_cache_dirty += dirty;
		seg->next = seg_cache;
		seg_cache = seg;
	}
	hak_unlock(&seg_cache_lock);
	if (!keep) {
		hak_os_unmap(seg, HAK_SEG_SIZE);
		HAK_STAT_INC(segments_unmapped);
	}
}

/* SuperSlabs mapped by one mmap when the cache is empty: the first is used,
 * the others wait in the cache, untouched (no resident pages) but for the
 * page of their header. Under concurrent page faults an mmap waits for the
 * address-space lock, so one call per SuperSlab costs far more than its
 * system call (fragmentation at 4 threads: 0.5 ms per mmap). */
#define SEG_MAP_BATCH 8

/* Map a SuperSlab: with room in the cache, a batch of them, the extra ones
 * cached as clean. NULL when out of memory. */
static hak_seg_t *seg_map(void)
{
	unsigned cap = (unsigned)hak_config.segment_cache;
	hak_lock(&seg_cache_lock);
	unsigned room = cap > seg_cache_count ? cap - seg_cache_count : 0;
	hak_unlock(&seg_cache_lock);
	unsigned n = 1 + (room < SEG_MAP_BATCH - 1 ? room : SEG_MAP_BATCH - 1);
	uint8_t *m = n > 1 ? hak_os_map_aligned(n * HAK_SEG_SIZE, HAK_SEG_SIZE, 0) : NULL;
	if (!m) {
		n = 1;
		m = hak_os_map_aligned(HAK_SEG_SIZE, HAK_SEG_SIZE, 0);
		if (!m)
			return NULL;
	}
	HAK_STAT_INC(segments_mapped);
	uint64_t now = n > 1 ? hak_os_now_ms() : 0;
	for (unsigned i = 1; i < n; i++)
		seg_cache_put((hak_seg_t *)(m + (size_t)i * HAK_SEG_SIZE), false, true, now);
	return (hak_seg_t *)m;
}

/* --- SuperSlabs ---------------------------------------------------------- */
static hak_seg_t *seg_new(hak_heap_t *h, int kind)
{
	hak_seg_t *seg = NULL;
	bool dirty = false;
	uint64_t dirty_ms = 0;
	hak_lock(&seg_cache_lock);
	if (seg_cache) {
		seg = seg_cache;
		seg_cache = seg->next;
		seg_cache_count--;
		dirty = SEG_CACHED_STATE(seg)->where == SLAB_FREE_DIRTY;
		dirty_ms = SEG_CACHED_STATE(seg)->dirty_ms;
		if (dirty)
			seg_cache_dirty--;
	}
	hak_unlock(&seg_cache_lock);
	if (seg) {
		if (SEG_CACHED_FRESH(seg))
			HAK_STAT_INC(segments_mapped);
		else
			HAK_STAT_INC(segments_reused);
	} else {
		seg = seg_map();
		if (!seg)
			return NULL;
	}
	unsigned shift = kind == HAK_SEG_TINY ? HAK_TINY_SLAB_SHIFT : HAK_MID_SLAB_SHIFT;
	seg->kind = (uint8_t)kind;
	seg->slab_shift = (uint8_t)shift;
	seg->nslabs = (uint8_t)(HAK_SEG_SIZE >> shift);
	seg->fresh = 0;
	seg->l25_cls = -1;
	memset(seg->unit_cls, 0, sizeof seg->unit_cls);
	atomic_store_explicit(&seg->offset_slabs, 0, memory_order_relaxed);
	seg->used_slabs = 0;
	for (unsigned i = 1; i < seg->nslabs; i++) {
		hak_slab_t *s = &seg->slabs[i];
		memset(s, 0, sizeof *s);
		s->index = (uint8_t)i;
		s->cls = HAK_CLS_NONE;
		/* which pages a cached dirty SuperSlab holds is not known (its
		 * slabs may have been of the other kind): none are pre-faulted */
		seg->populated[i] = dirty ? (uint8_t)(((size_t)1 << shift) / HAK_PAGE) : 0;
		if (dirty) { /* pages may be resident: they age from when cached */
			s->where = SLAB_FREE_DIRTY;
			s->dirty_ms = dirty_ms;
			hak_slab_list_push(&h->free_dirty[kind], s);
			h->ndirty[kind]++;
		} else {
			s->where = SLAB_FREE_CLEAN;
			hak_slab_list_push(&h->free_clean[kind], s);
		}
	}
	seg->prev = NULL;
	seg->next = h->segs[kind];
	if (seg->next)
		seg->next->prev = seg;
	h->segs[kind] = seg;
	seg->home = h;
	/* Publish the owner last: from here on frees of its blocks may come. */
	atomic_store_explicit((_Atomic(hak_heap_t *) *)&seg->owner,
			      kind == HAK_SEG_MID ? HAK_MID_OWNER : h, memory_order_release);
	return seg;
}

/* Give back the pages of every slab of seg (the header's unit stays). */
static void seg_purge_body(hak_seg_t *seg)
{
	hak_os_purge((uint8_t *)seg + ((size_t)1 << HAK_UNIT_SHIFT),
		     HAK_SEG_SIZE - ((size_t)1 << HAK_UNIT_SHIFT));
}

static bool seg_all_clean(hak_seg_t *seg)
{
	for (unsigned i = 1; i < seg->nslabs; i++)
		if (seg->slabs[i].where != SLAB_FREE_CLEAN)
			return false;
	return true;
}

/* When the slabs and SuperSlabs released now went idle: now, or earlier
 * when a purge check empties the Tiny lifos (h->release_ms). */
static uint64_t release_stamp(const hak_heap_t *h)
{
	return h->release_ms ? h->release_ms : hak_os_now_ms();
}

/* SuperSlab seg of h has no slab in use. While some of its slabs are dirty
 * it stays with the heap (they age like any empty slab; the purge that
 * cleans the last one releases it); then it goes to the shared cache or is
 * unmapped. */
static void seg_release(hak_heap_t *h, hak_seg_t *seg)
{
	int kind = seg->kind;
	bool dirty = false;
	if (hak_config.purge_delay_ms > 0 && !seg_all_clean(seg))
		return;
	for (unsigned i = 1; i < seg->nslabs; i++) {
		hak_slab_t *s = &seg->slabs[i];
		HAK_ASSERT(s->cls == HAK_CLS_NONE && s->used == 0);
		if (s->where == SLAB_FREE_DIRTY) {
			hak_slab_list_remove(&h->free_dirty[kind], s);
			h->ndirty[kind]--;
			dirty = true;
		} else {
			hak_slab_list_remove(&h->free_clean[kind], s);
		}
	}
	if (seg->prev)
		seg->prev->next = seg->next;
	else
		h->segs[kind] = seg->next;
	if (seg->next)
		seg->next->prev = seg->prev;
	seg->owner = NULL;
	seg->home = NULL;

	if (dirty && hak_config.purge_delay_ms == 0) {
		seg_purge_body(seg);
		dirty = false;
	}
	seg_cache_put(seg, dirty, false, release_stamp(h));
}

/* --- slabs --------------------------------------------------------------- */
hak_slab_t *hak_seg_slab_acquire(hak_heap_t *h, int kind, unsigned cls)
{
	if (!h->free_dirty[kind] && !h->free_clean[kind] && !seg_new(h, kind))
		return NULL;
	hak_slab_t *s = h->free_dirty[kind]; /* resident pages first */
	if (s) {
		hak_slab_list_remove(&h->free_dirty[kind], s);
		h->ndirty[kind]--;
	} else {
		s = h->free_clean[kind];
		hak_slab_list_remove(&h->free_clean[kind], s);
	}
	hak_seg_t *seg = hak_slab_seg(s);
	size_t slab_size = (size_t)1 << seg->slab_shift;
	uint8_t *start = hak_slab_start(s);
	s->used = 0;
	s->block_size = (uint16_t)hak_class_stride[cls];
	s->cls = (uint8_t)cls;
	s->full = 0;
	s->owner = h;
	hak_slab_reset(s);
	HAK_ASSERT(hak_slab_remote_clear(s));
	unsigned u0 = hak_seg_unit(start);
	for (unsigned u = 0; u < (slab_size >> HAK_UNIT_SHIFT); u++)
		seg->unit_cls[u0 + u] = (uint8_t)cls;
	seg->used_slabs++;
	return s;
}

void hak_slab_reset(hak_slab_t *s)
{
	HAK_ASSERT(s->used == 0);
	s->free = NULL;
	s->bump = hak_slab_start(s) + hak_slab_carve_first(s);
	s->fresh_left = (uint16_t)(((size_t)1 << hak_slab_seg(s)->slab_shift) / s->block_size);
}

void hak_slab_populate(hak_slab_t *s, size_t end)
{
	HAK_ASSERT(s->where != SLAB_CACHE);
	hak_seg_t *seg = hak_slab_seg(s);
	size_t done = (size_t)seg->populated[s->index] * HAK_PAGE;
	if (end <= done || hak_config.populate_kb == 0)
		return;
	size_t slab = (size_t)1 << seg->slab_shift;
	size_t upto = hak_align_up(end, HAK_PAGE);
	size_t ahead = hak_align_up(done + (size_t)hak_config.populate_kb * 1024, HAK_PAGE);
	if (upto < ahead)
		upto = ahead;
	if (upto > slab)
		upto = slab;
	/* carve order [done, upto) is the slab's [colour + done, end), then
	 * its [0, ...) past the wrap */
	size_t colour = hak_slab_colour(s), wrap = slab - colour;
	uint8_t *start = hak_slab_start(s);
	if (done < wrap)
		hak_os_populate(start + colour + done, (upto < wrap ? upto : wrap) - done);
	if (upto > wrap) {
		size_t from = done > wrap ? done : wrap;
		hak_os_populate(start + from - wrap, upto - from);
	}
	seg->populated[s->index] = (uint8_t)(upto / HAK_PAGE);
}

/* Dirty slab s of h, its pages given back, moves to the clean list. */
static void slab_clean(hak_heap_t *h, int kind, hak_slab_t *s)
{
	hak_slab_list_remove(&h->free_dirty[kind], s);
	h->ndirty[kind]--;
	HAK_STAT_INC(slabs_purged);
	hak_slab_pages_purged(s);
	s->where = SLAB_FREE_CLEAN;
	hak_slab_list_push(&h->free_clean[kind], s);
}

/* Purge dirty slab s of h. When its SuperSlab has no slab in use, all its
 * dirty slabs go at once, due or not, with one madvise of the whole body,
 * and the SuperSlab is released (a thread's teardown empties SuperSlab
 * after SuperSlab: fragmentation at 4 threads made 2.6 k purges of 64 KiB,
 * its teardown 47 ms; with this 1.9 k and 31 ms). Returns true when slabs
 * other than s left the dirty list. */
static bool slab_purge(hak_heap_t *h, int kind, hak_slab_t *s)
{
	hak_seg_t *seg = hak_slab_seg(s);
	if (seg->used_slabs == 0) {
		for (unsigned i = 1; i < seg->nslabs; i++)
			if (seg->slabs[i].where == SLAB_FREE_DIRTY)
				slab_clean(h, kind, &seg->slabs[i]);
		seg_purge_body(seg);
		seg_release(h, seg);
		return true;
	}
	hak_os_purge(hak_slab_start(s), (size_t)1 << seg->slab_shift);
	slab_clean(h, kind, s);
	return false;
}

/* The dirty slab of `kind` at position `keep` of h's list (newest first),
 * or NULL. */
static hak_slab_t *dirty_at(hak_heap_t *h, int kind, unsigned keep)
{
	hak_slab_t *s = h->free_dirty[kind];
	for (unsigned i = 0; s && i < keep; i++)
		s = s->next;
	return s;
}

/* Purge the older dirty slabs of `kind` so that at most `keep` stay. */
static void slab_purge_keep(hak_heap_t *h, int kind, unsigned keep)
{
	hak_slab_t *s = dirty_at(h, kind, keep);
	while (s) {
		hak_slab_t *next = s->next;
		if (slab_purge(h, kind, s))
			next = dirty_at(h, kind, keep); /* `next` may have gone */
		s = next;
	}
}

/* Purge the shared cache's SuperSlabs that stayed unused for the delay. */
static void seg_cache_purge_due(uint64_t now, uint64_t delay)
{
	hak_lock(&seg_cache_lock);
	for (hak_seg_t *seg = seg_cache; seg; seg = seg->next) {
		hak_slab_t *st = SEG_CACHED_STATE(seg);
		if (st->where == SLAB_FREE_DIRTY && st->dirty_ms + delay <= now) {
			seg_purge_body(seg);
			st->where = SLAB_FREE_CLEAN;
			seg_cache_dirty--;
		}
	}
	hak_unlock(&seg_cache_lock);
}

void hak_seg_purge_due(hak_heap_t *h)
{
	bool cache_dirty = atomic_load_explicit(&seg_cache_dirty, memory_order_relaxed) != 0;
	bool shared_dirty = hak_mid_shared_dirty();
	if (!h->ndirty[HAK_SEG_TINY] && !h->ndirty[HAK_SEG_MID] && !cache_dirty && !shared_dirty &&
	    !hak_tiny_lifos_held())
		return;
	uint64_t now = hak_os_now_ms();
	if (now < h->purge_check_ms)
		return;
	uint64_t delay = (uint64_t)hak_config.purge_delay_ms;
	uint64_t step = delay / 2 ? delay / 2 : 1;
	uint64_t prev = h->purge_check_ms > step ? h->purge_check_ms - step : now;
	h->purge_check_ms = now + step;
	/* The lifos' blocks go back to their slabs at every check (the lifos of
	 * classes in use refill at once): after a burst of frees that no
	 * allocation of the class follows they would hold their slabs for good.
	 * The slabs this empties count as idle since the check before. */
	if (hak_tiny_lifos_held()) { /* may release slabs and cache SuperSlabs */
		hak_tiny_lifos_flush_idle(h, prev < now ? prev : now);
		cache_dirty = atomic_load_explicit(&seg_cache_dirty, memory_order_relaxed) != 0;
	}
	if (cache_dirty)
		seg_cache_purge_due(now, delay);
	if (shared_dirty)
		hak_mid_shared_purge_due(h, now, delay);
	for (int kind = 0; kind < HAK_SEG_KINDS; kind++) {
		for (hak_slab_t *s = h->free_dirty[kind]; s;) {
			hak_slab_t *next = s->next;
			if (s->dirty_ms + delay <= now && slab_purge(h, kind, s))
				next = h->free_dirty[kind]; /* `next` may have gone */
			s = next;
		}
	}
}

void hak_seg_slab_release(hak_heap_t *h, hak_slab_t *s)
{
	hak_seg_t *seg = hak_slab_seg(s);
	int kind = seg->kind;
	HAK_ASSERT(s->used == 0 && seg->home == h);
	HAK_ASSERT(hak_slab_remote_clear(s));
	hak_slab_fold_frees(s);
	s->cls = HAK_CLS_NONE;
	s->free = NULL;
	s->where = SLAB_FREE_DIRTY;
	s->dirty_ms = release_stamp(h);
	hak_slab_list_push(&h->free_dirty[kind], s);
	h->ndirty[kind]++;
	if (--seg->used_slabs == 0) {
		seg_release(h, seg);
		return;
	}
	if (hak_config.purge_delay_ms == 0)
		slab_purge_keep(h, kind, 0);
	else if (h->ndirty[kind] > (unsigned)hak_config.dirty_slabs_max)
		slab_purge_keep(h, kind, (unsigned)hak_config.dirty_slabs_max / 2);
	else
		hak_seg_purge_due(h);
}

void hak_seg_purge_all(hak_heap_t *h)
{
	for (int kind = 0; kind < HAK_SEG_KINDS; kind++)
		slab_purge_keep(h, kind, 0);
	if (atomic_load_explicit(&seg_cache_dirty, memory_order_relaxed))
		seg_cache_purge_due(hak_os_now_ms(), 0);
	if (hak_mid_shared_dirty())
		hak_mid_shared_purge_due(h, hak_os_now_ms(), 0);
}

void hak_seg_cache_lock(void)
{
	hak_lock(&seg_cache_lock);
}

void hak_seg_cache_unlock(void)
{
	hak_unlock(&seg_cache_lock);
}

void hak_seg_cache_fork_child(void)
{
	atomic_store(&seg_cache_lock.v, 0);
}
