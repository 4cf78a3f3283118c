/*
 * heap.c - thread heaps and the slow paths behind the Tiny and Mid fast
 * paths of hakmem_internal.h (both tiers share this engine; they differ in
 * slab size and in the Mid policy of mid.c).
 *
 * Owns: thread heaps (creation, adoption of exited threads' heaps, orphaning
 * at thread exit), the Tiny lifos' flushes, the Mid cache (a bounded LIFO
 * of the blocks a thread freed last, per Mid class, ahead of the pages),
 * the allocation slow path (drain remote frees, carve fresh
 * blocks in batches, switch to a partial or new slab), slab state changes on
 * local frees (first free into a full slab, last block of a slab), remote
 * frees (lock-free bits and count beside the slab, slab listed once in its
 * heap's remote_slabs stack) and their draining by the owner.
 * Does not own: slabs' memory and its return to the OS (segment.c), Mid
 * CAP/W_MAX policy (mid.c).
 *
 * Slab states: CUR (allocating its class for the thread), PARTIAL (has free
 * blocks; on the class's partial list), FULL (no free block, on no list),
 * FREE_DIRTY/FREE_CLEAN (no class; segment.c). A CUR slab's `used` counts
 * one more than its live and remote blocks, so that a free never empties
 * it (the free fast path's "used reached 0" test then only fires for slabs
 * that may leave the thread); the bias goes when it stops being current.
 *
 * Thread safety: a heap is used by one thread at a time (its owner); other
 * threads only set slabs' remote bits and counts and push onto heaps'
 * remote_slabs stacks, atomically. Heaps are never freed, so those pushes
 * never touch freed memory.
 */
#include "../hakmem_internal.h"

hak_slab_t hak_empty_slab = {.cls = HAK_CLS_NONE, .where = SLAB_FULL};

HAK_TLS hak_tls_t hak_tls = {
	.cur = {[0 ... HAK_SMALL_NCLS - 1] = &hak_empty_slab},
};

static hak_lock_t heaps_lock;
static hak_heap_t *heaps_all;     /* every heap, newest first */
static hak_heap_t *heaps_orphan;  /* heaps of exited threads */
static uint8_t *meta_cur, *meta_end; /* bump region for heap structs */

#define META_CHUNK ((size_t)256 << 10) /* bytes of heap metadata mapped at once */
/* Mid cache bound per class: this many bytes of blocks, at least
 * MID_CACHE_MIN blocks; when a free goes beyond it, all but the newest half
 * go back to their pages. The count of a class's cache walks up on its
 * frees and down on its allocations, and every time it reaches the bound
 * (a flush) or 0 (the next allocation takes the slow path to the page) the
 * thread pays for it; from 4 KiB up 64 KiB held only 4 - 16 blocks, and on
 * mid_mt (2 - 32 KiB) 9 % of allocations took the slow path and 4 % of
 * frees flushed. At least 32 blocks: 0.4 % and 0.02 % (per thread at most
 * 6.4 MiB of Mid blocks cached, a 32 KiB class 1 MiB of it). */
#define MID_CACHE_BYTES (64u << 10)
#define MID_CACHE_MIN 32u

static hak_heap_t *heap_new_locked(void)
{
	size_t sz = hak_align_up(sizeof(hak_heap_t), 64);
	if (meta_cur == NULL || (size_t)(meta_end - meta_cur) < sz) {
		uint8_t *m = hak_os_map_meta(META_CHUNK);
		if (!m)
			return NULL;
		meta_cur = m;
		meta_end = m + META_CHUNK;
	}
	hak_heap_t *h = (hak_heap_t *)meta_cur; /* zeroed by the kernel */
	meta_cur += sz;
	for (unsigned i = 0; i < HAK_MID_NCLS; i++) {
		hak_slab_t *c = &h->mid_cache[i];
		unsigned cls = HAK_TINY_NCLS + i;
		c->cls = (uint8_t)cls;
		c->block_size = hak_class_size[cls];
		c->where = SLAB_CACHE;
		c->used = HAK_MID_CACHE_BASE;
		c->fresh_left = MID_CACHE_BYTES / c->block_size;
		if (c->fresh_left < MID_CACHE_MIN)
			c->fresh_left = MID_CACHE_MIN;
	}
	h->next_all = heaps_all;
	heaps_all = h;
	return h;
}

static void heap_drain_remote(hak_heap_t *h);

#ifdef HAK_DEBUG_STATS
hak_heap_t *hak_heaps_all(void)
{
	return heaps_all;
}
#endif

hak_heap_t *hak_heap_get(void)
{
	if (hak_tls.heap)
		return hak_tls.heap;
	hak_init();
	if (hak_tls.heap) /* init allocated on this thread */
		return hak_tls.heap;
	bool adopted = false;
	hak_lock(&heaps_lock);
	hak_heap_t *h = heaps_orphan;
	if (h) {
		heaps_orphan = h->next_orphan;
		h->next_orphan = NULL;
		adopted = true;
	} else {
		h = heap_new_locked();
	}
	hak_unlock(&heaps_lock);
	if (!h)
		return NULL;
	h->tls = &hak_tls;
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++)
		hak_tls.cur[c] = h->cur[c] ? h->cur[c] : &hak_empty_slab;
	for (unsigned c = 0; c < HAK_TINY_NCLS; c++) { /* every lifo is empty */
		hak_tls.lifo_room[c] = HAK_TINY_LIFO_MAX;
		hak_tls.lifo_held[c] = 0;
	}
	hak_tls.heap = h;
	hak_tls.state = HAK_TLS_LIVE;
	hak_tls.tick = HAK_LEARN_TICK_ALLOCS;
	if (adopted) {
		HAK_STAT_INC(heaps_adopted);
		heap_drain_remote(h);
	} else {
		HAK_STAT_INC(heaps_created);
	}
	hak_thread_register(h);
	return h;
}

/* --- invariant checks (debug build) ------------------------------------------ */
#ifdef HAKMEM_DEBUG
/* Slab s of heap h is consistent: its free blocks lie in its carved part on
 * block boundaries, and live + free + never-carved blocks = its capacity. */
static void slab_check(hak_heap_t *h, hak_slab_t *s)
{
	hak_seg_t *seg = hak_slab_seg(s);
	HAK_ASSERT(s->owner == h && s->cls < HAK_SMALL_NCLS);
	HAK_ASSERT(seg->owner == (seg->kind == HAK_SEG_MID ? HAK_MID_OWNER : h));
	HAK_ASSERT(s->block_size == hak_class_stride[s->cls]);
	uint8_t *start = hak_slab_start(s);
	uint32_t cap = (uint32_t)(((size_t)1 << seg->slab_shift) / s->block_size);
	uint32_t n = 0;
	/* a carved block is not among the fresh_left blocks from bump on, in
	 * carve order around the slab */
	size_t bump = (size_t)(s->bump - start) / s->block_size;
	for (uint8_t *b = s->free; b; b = *(uint8_t **)b, n++) {
		HAK_ASSERT(b >= start && b < start + (size_t)cap * s->block_size);
		HAK_ASSERT((size_t)(b - start) % s->block_size == 0);
		size_t k = (size_t)(b - start) / s->block_size;
		HAK_ASSERT((k + cap - bump) % cap >= s->fresh_left);
		HAK_ASSERT(n <= cap);
	}
	/* blocks taken from the remote bits ahead of their count are live and free at once */
	HAK_ASSERT(s->used - (s->where == SLAB_CUR) - (uint32_t)hak_slab_remote(s)->early + n +
			   s->fresh_left ==
		   cap);
}
#define SLAB_CHECK(h, s) slab_check(h, s)
#else
#define SLAB_CHECK(h, s) ((void)0)
#endif

/* --- slab state ------------------------------------------------------------ */

static uint32_t slab_capacity(const hak_slab_t *s)
{
	return (uint32_t)(((size_t)1 << hak_slab_seg(s)->slab_shift) / s->block_size);
}

/* Empty slab s of h, on no list, leaves h: a Mid page to a shared list, else
 * (or when those are full) back to its SuperSlab, or, for a Mid page whose
 * SuperSlab is another heap's, onto h's partial list as a kept page. */
static void slab_let_go(hak_heap_t *h, hak_slab_t *s, bool shared)
{
	if (s->cls >= HAK_TINY_NCLS && shared && hak_mid_shared_put(h, s))
		return;
	if (hak_slab_seg(s)->home == h) {
		hak_seg_slab_release(h, s);
		return;
	}
	s->where = SLAB_PARTIAL;
	hak_partial_push(h, s->cls, s);
	h->kept_blocks[s->cls] += slab_capacity(s);
}

/* Slab s (not CUR) has no live block: keep it (Mid CAP) or let it go. */
static void slab_emptied(hak_heap_t *h, hak_slab_t *s)
{
	unsigned cls = s->cls;
	uint32_t cap_blocks = slab_capacity(s);
	if (cls >= HAK_TINY_NCLS && s->where == SLAB_PARTIAL &&
	    h->kept_blocks[cls] + cap_blocks <= hak_mid_cap_of(cls)) {
		h->kept_blocks[cls] += cap_blocks; /* stays on the partial list, empty */
		return;
	}
	if (s->where == SLAB_PARTIAL)
		hak_partial_remove(h, cls, s);
	slab_let_go(h, s, true);
}

/* Blocks came back to slab s (local free or remote drain): fix its state. */
static void slab_after_return(hak_heap_t *h, hak_slab_t *s)
{
	SLAB_CHECK(h, s);
	if (s->where == SLAB_CUR)
		return;
	if (s->where == SLAB_FULL) {
		s->full = 0;
		s->where = SLAB_PARTIAL;
		hak_partial_push(h, s->cls, s);
	}
	if (s->used == 0)
		slab_emptied(h, s);
}

HAK_NOINLINE void hak_slab_local_slow(hak_slab_t *s)
{
	hak_slab_fold_frees(s);
	if (s->where == SLAB_CUR) /* the current slab emptied: it stays current */
		return;
	slab_after_return(hak_tls.heap, s);
}

/* Remote frees. A remote free leaves the block alone: it sets the block's
 * bit in its slab's hak_remote_t, then adds to the remote word beside the
 * bits, which holds (bit 0) whether the slab is listed in its heap's
 * remote_slabs, (bits 1 - 8) which groups of 8 words hold bits, and (from
 * bit HAK_REMOTE_COUNT_SHIFT on) how many frees were added. The owner's
 * drain turns the bits into links. When remote frees threaded the blocks
 * themselves, the owner popped every block by reading a link another core
 * had just written, one cache miss after another, each waiting for the
 * one before (cross_thread with its pairs on two cores; docs/
 * PERFORMANCE.md); now the owner writes the links, and its stores wait for
 * nothing.
 * A drain can take a block's bit before the free that set it adds its
 * count; the slab's `used` drops by the counts alone, so the slab cannot
 * empty, and go to another owner, before every free it took has
 * finished with the slab. */
_Static_assert(((size_t)1 << HAK_MID_SLAB_SHIFT) / 16 < ((size_t)1 << (64 - HAK_REMOTE_COUNT_SHIFT)) &&
		       ((size_t)1 << HAK_TINY_SLAB_SHIFT) / 16 < ((size_t)1 << (64 - HAK_REMOTE_COUNT_SHIFT)),
	       "a slab's block count fits the remote word's count");
_Static_assert(HAK_RBITS_WORDS / HAK_RBITS_GROUP + 1 <= HAK_REMOTE_COUNT_SHIFT,
	       "the groups fit the remote word");
_Static_assert(((((size_t)1 << HAK_MID_SLAB_SHIFT) / HAK_TINY_MAX + 63) / 64 + 1) * 8 <= 64,
	       "a Mid page's bits (blocks above HAK_TINY_MAX) share the remote word's line");
#define REMOTE_LISTED ((uint64_t)1)
#define REMOTE_GROUP(w) ((uint64_t)2 << ((w) / HAK_RBITS_GROUP))

/* The highest set bit of *m, cleared there (*m != 0). */
static inline unsigned pop_top_bit(uint64_t *m)
{
	unsigned top = 63u - (unsigned)__builtin_clzll(*m);
	*m &= ~((uint64_t)1 << top);
	return top;
}

/* Link the blocks whose bits are set in word w of slab s's remote bits
 * onto its free list, in address order; returns how many. */
static uint32_t remote_take(hak_slab_t *s, hak_remote_t *r, unsigned w)
{
	_Atomic uint64_t *word = &r->bits[w];
	if (!atomic_load_explicit(word, memory_order_relaxed))
		return 0;
	uint64_t m = atomic_exchange_explicit(word, 0, memory_order_acquire);
	uint32_t n = (uint32_t)__builtin_popcountll(m);
	uint8_t *base = hak_slab_start(s) + (size_t)w * 64 * s->block_size;
	void *f = s->free;
	while (m) {
		void *b = base + (size_t)pop_top_bit(&m) * s->block_size;
		*(void **)b = f;
		f = b;
	}
	s->free = f;
	return n;
}

static void heap_drain_remote(hak_heap_t *h)
{
	hak_slab_t *s = atomic_exchange_explicit(&h->remote_slabs, NULL, memory_order_acquire);
	while (s) {
		hak_seg_t *seg = hak_slab_seg(s);
		hak_remote_t *r = hak_slab_remote(s);
		/* read before the slab can be listed again */
		hak_slab_t *next =
			atomic_load_explicit(&seg->rnext[s - seg->slabs], memory_order_relaxed);
		/* acq_rel: the next remote free that lists s again must see our
		 * read; acquire: the bits its count stands for are set */
		uint64_t word = atomic_exchange_explicit(&r->word, 0, memory_order_acq_rel);
		uint32_t n = (uint32_t)(word >> HAK_REMOTE_COUNT_SHIFT), took = 0;
		unsigned words = (slab_capacity(s) + 63) / 64;
		/* the last word first: the list comes out in address order */
		for (uint64_t g = (word & ~REMOTE_LISTED) >> 1; g;) {
			unsigned w0 = pop_top_bit(&g) * HAK_RBITS_GROUP;
			unsigned w = w0 + HAK_RBITS_GROUP < words ? w0 + HAK_RBITS_GROUP : words;
			while (w-- > w0)
				took += remote_take(s, r, w);
		}
#ifdef HAKMEM_DEBUG
		r->early += (int32_t)took - (int32_t)n;
#else
		(void)took;
#endif
		if (n) {
			HAK_ASSERT(s->used >= n);
			s->used -= n;
			slab_after_return(h, s);
		}
		HAK_STAT_INC(remote_drains);
		s = next;
	}
}

/* --- allocation slow path -------------------------------------------------- */

/* Carve up to `want` fresh blocks of s onto its free list; returns how many. */
static uint32_t slab_carve(hak_slab_t *s, uint32_t want)
{
	uint32_t n = s->fresh_left < want ? s->fresh_left : want;
	if (n == 0)
		return 0;
	size_t bs = s->block_size;
	uint8_t *start = hak_slab_start(s);
	uint8_t *end = start + slab_capacity(s) * bs;
	if (s->bump == end) /* carve order wraps to the slab's start */
		s->bump = start;
	if (n > (size_t)(end - s->bump) / bs)
		n = (uint32_t)((size_t)(end - s->bump) / bs);
	uint8_t *p = s->bump;
	/* the links written below would fault the fresh pages one by one */
	hak_slab_populate(s, hak_slab_carve_order(s, (size_t)(p - start)) + (size_t)n * bs);
	for (uint32_t i = 0; i + 1 < n; i++, p += bs)
		*(void **)p = p + bs;
	*(void **)p = s->free;
	s->free = s->bump;
	s->bump += (size_t)n * bs;
	s->fresh_left = (uint16_t)(s->fresh_left - n);
	return n;
}

/* Up to HAKMEM_POOL_REFILL_BATCH pages of Mid class cls from the shared
 * lists: the first is returned, the others join h's partial list as kept
 * empty pages. NULL when the lists have none. */
static hak_slab_t *mid_take_shared(hak_heap_t *h, unsigned cls)
{
	hak_slab_t *got[4];
	unsigned max = (unsigned)hak_config.pool_refill_batch;
	unsigned n = hak_mid_shared_take(h, cls, got, max < 4 ? max : 4);
	for (unsigned i = 1; i < n; i++) {
		got[i]->where = SLAB_PARTIAL;
		hak_partial_push(h, cls, got[i]);
		h->kept_blocks[cls] += slab_capacity(got[i]);
	}
	return n ? got[0] : NULL;
}

/* Mid: a page of class cls on h's partial list has free blocks. The
 * current page, out of free blocks, then waits at the partial list's tail
 * with its never-carved blocks rather than carve them: those blocks are
 * memory the thread has not touched, the free ones are resident already.
 * Carving first took a fresh page's blocks while the frees that came
 * back (mid_mt at 4 threads: blocks from the other workers' queues) lay
 * on the older pages; every time a class's demand peaked on a new page,
 * the whole page was carved and made resident however soon the demand
 * fell. Tiny slabs (64 KiB) still carve first. */
static inline bool mid_partial_has_free(const hak_heap_t *h, unsigned cls)
{
	const hak_slab_t *p = h->partial[cls];
	return p && p->free;
}

/* Make h->cur[cls] a slab with a free block; false when out of memory. */
static bool heap_refill(hak_heap_t *h, unsigned cls)
{
	bool tiny = cls < HAK_TINY_NCLS;
	uint32_t want = tiny ? (uint32_t)hak_config.tiny_refill_count : hak_mid_refill_blocks(cls);
	hak_slab_t *s = h->cur[cls];
	unsigned stage = HAK_DBG_N; /* debug counters: the slab switched to */
	for (;;) {
		if (s) {
			bool had = s->free != NULL;
			bool park = !had && !tiny && s->fresh_left && mid_partial_has_free(h, cls);
			if (had || (!park && slab_carve(s, want))) {
				HAK_DEBUG_STAT_AT(stage != HAK_DBG_N ? stage
						  : had ? HAK_DBG_refill_local
							: HAK_DBG_refill_carve);
				SLAB_CHECK(h, s);
				return true;
			}
			s->used--; /* no longer current: its bias goes (all its carved
				    * blocks are live or remote, so it stays above 0) */
			if (park) {
				HAK_DEBUG_STAT_INC(refill_park);
				s->where = SLAB_PARTIAL;
				hak_partial_append(h, cls, s);
			} else {
				s->where = SLAB_FULL;
				s->full = 1;
			}
			h->cur[cls] = NULL;
			hak_tls.cur[cls] = &hak_empty_slab;
		}
		/* Tiny: the oldest partial slab, which gathered the most frees;
		 * Mid: the newest (its pages hold few blocks, and the kept
		 * empty pages join at the head) */
		s = tiny ? h->partial_tail[cls] : h->partial[cls];
		if (s) {
			hak_partial_remove(h, cls, s);
			if (s->used == 0 && !tiny) /* a kept empty page */
				h->kept_blocks[cls] -= slab_capacity(s);
			stage = HAK_DBG_refill_partial;
		} else if (!tiny && (s = mid_take_shared(h, cls))) {
			stage = HAK_DBG_refill_shared;
		} else {
#ifdef HAK_DEBUG_STATS
			if (!h->free_dirty[tiny ? HAK_SEG_TINY : HAK_SEG_MID] &&
			    !h->free_clean[tiny ? HAK_SEG_TINY : HAK_SEG_MID])
				HAK_DEBUG_STAT_INC(refill_new_superslab);
#endif
			s = hak_seg_slab_acquire(h, tiny ? HAK_SEG_TINY : HAK_SEG_MID, cls);
			if (!s)
				return false;
			stage = HAK_DBG_refill_new_slab;
		}
		s->where = SLAB_CUR;
		s->full = 0;
		s->used++; /* the current slab's bias: no free can empty it */
		h->cur[cls] = s;
		hak_tls.cur[cls] = s;
	}
}

/* Allocations of a class a thread gathers before its slow path publishes
 * them (and the class's local frees) to the global counters. */
#define PUBLISH_ALLOCS 256

/* Debug builds: publish the thread's debug counters (every slow path). */
static void debug_counters_publish(void)
{
#ifdef HAK_DEBUG_STATS
	for (unsigned i = 0; i < HAK_DBG_N; i++) {
		if (hak_tls.dbg[i]) {
			atomic_fetch_add_explicit(&hak_stats.dbg[i], hak_tls.dbg[i],
						  memory_order_relaxed);
			hak_tls.dbg[i] = 0;
		}
	}
#endif
}

/* Publish class cls's counts; returns the allocations published. A Tiny
 * lifo's allocations are not counted as they happen: each block it hands
 * out was pushed onto it, so they are its pushes (`frees`) less the blocks
 * it gained since the last publish. */
static uint64_t counters_publish_one(unsigned cls)
{
	debug_counters_publish();
	if (cls < HAK_TINY_NCLS) {
		uint32_t held = HAK_TINY_LIFO_MAX - hak_tls.lifo_room[cls];
		HAK_ASSERT(hak_tls.frees[cls] + hak_tls.lifo_held[cls] >= held);
		hak_tls.allocs[cls] += hak_tls.frees[cls] + hak_tls.lifo_held[cls] - held;
		hak_tls.lifo_held[cls] = held;
		hak_tls.frees[cls] += hak_tls.slab_frees[cls];
		hak_tls.slab_frees[cls] = 0;
	}
	uint64_t n = hak_tls.allocs[cls];
	if (hak_tls.allocs[cls]) {
		atomic_fetch_add_explicit(&hak_stats.class_allocs[cls], hak_tls.allocs[cls],
					  memory_order_relaxed);
		hak_tls.allocs[cls] = 0;
	}
	if (hak_tls.frees[cls]) {
		atomic_fetch_add_explicit(&hak_stats.class_frees[cls], hak_tls.frees[cls],
					  memory_order_relaxed);
		hak_tls.frees[cls] = 0;
	}
	return n;
}

/* Tiny and Mid remote frees are counted per thread and published every
 * PUBLISH_REMOTE of them and at thread exit: one shared counter bumped by
 * every remote free bounced its cache line between the cores of the
 * threads freeing (cross_thread: every free is remote). A thread without a
 * heap registers the exit destructor for it on its first remote free. */
#define PUBLISH_REMOTE 256

static void remote_counts_publish(void)
{
	if (hak_tls.remote_frees[0]) {
		HAK_STAT_ADD(tiny_remote_frees, hak_tls.remote_frees[0]);
		hak_tls.remote_frees[0] = 0;
	}
	if (hak_tls.remote_frees[1]) {
		HAK_STAT_ADD(mid_remote_frees, hak_tls.remote_frees[1]);
		hak_tls.remote_frees[1] = 0;
	}
}

static void remote_count(bool mid)
{
	if (HAK_UNLIKELY(hak_tls.state == HAK_TLS_EXITED)) { /* no exit left to publish */
		if (mid)
			HAK_STAT_INC(mid_remote_frees);
		else
			HAK_STAT_INC(tiny_remote_frees);
		return;
	}
	if (HAK_UNLIKELY(!hak_tls.exit_hook)) {
		hak_tls.exit_hook = 1;
		if (!hak_tls.heap) /* any non-NULL value runs the destructor */
			hak_thread_register((hak_heap_t *)&hak_tls);
	}
	if (HAK_UNLIKELY(++hak_tls.remote_frees[mid] >= PUBLISH_REMOTE))
		remote_counts_publish();
}

void hak_span_counts_publish(void)
{
#define HAK_SC_PUBLISH(name)                                                                       \
	if (hak_tls.span_counts[HAK_SC_##name]) {                                                  \
		HAK_STAT_ADD(name, hak_tls.span_counts[HAK_SC_##name]);                            \
		hak_tls.span_counts[HAK_SC_##name] = 0;                                            \
	}
	HAK_SPAN_COUNTER_NAMES(HAK_SC_PUBLISH)
#undef HAK_SC_PUBLISH
}

void hak_counters_publish(void)
{
	hak_heap_t *h = hak_tls.heap;
	if (h) /* the frees still counted in the slabs (Tiny slabs are the home heap's) */
		for (hak_seg_t *seg = h->segs[HAK_SEG_TINY]; seg; seg = seg->next)
			for (unsigned i = 1; i < seg->nslabs; i++)
				hak_slab_fold_frees(&seg->slabs[i]);
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++)
		counters_publish_one(c);
	hak_span_counts_publish();
	remote_counts_publish();
}

static void mid_caches_trim_idle(hak_heap_t *h);

static void remote_batches_push(void); /* remote frees, below */

HAK_NOINLINE void *hak_small_alloc_slow(unsigned cls, size_t size)
{
	hak_heap_t *h = hak_heap_get();
	if (HAK_UNLIKELY(!h)) {
		errno = ENOMEM;
		return NULL;
	}
	if (hak_tls.remote_waiting)
		remote_batches_push();
	if (atomic_load_explicit(&h->remote_slabs, memory_order_relaxed))
		heap_drain_remote(h);
	hak_slab_t *s = h->cur[cls];
	if (!s || !s->free) {
		if (cls >= HAK_TINY_NCLS) {
			void *p = hak_mid_wmax_pop(cls, size);
			if (p) {
				HAK_DEBUG_STAT_INC(refill_wmax);
				return p;
			}
		}
		HAK_TIME_BEGIN(t);
		bool ok = heap_refill(h, cls);
		if (cls < HAK_TINY_NCLS) {
			HAK_TIME_END(tiny_refill, t);
			HAK_STAT_INC(tiny_refills);
		} else {
			HAK_TIME_END(mid_refill, t);
			HAK_STAT_INC(mid_refills);
			hak_mid_note_miss(cls);
			h->mid_active_ms = hak_os_now_ms();
		}
		if (!ok) {
			errno = ENOMEM;
			return NULL;
		}
		s = h->cur[cls];
		if (h->mid_active_ms)
			mid_caches_trim_idle(h);
		hak_seg_purge_due(h);
	} else if (hak_tls.cur[cls] == s) {
		HAK_DEBUG_STAT_INC(refill_remote_drain);
	}
	hak_tls.cur[cls] = s; /* also when a Mid cache ran dry: back to the page */
	/* Publish a class's counts (shared cache lines: not on every slow
	 * path, which would bounce them between cores) and count the
	 * allocations towards the learning tick. */
	if (hak_tls.allocs[cls] + hak_tls.frees[cls] >= PUBLISH_ALLOCS) { /* frees: the lifo's */
		hak_tick((uint32_t)counters_publish_one(cls));
	} else {
		debug_counters_publish(); /* nothing in a release build */
	}
	void *p = s->free;
	s->free = *(void **)p;
	s->used++;
	hak_tls.allocs[cls]++;
	return p;
}

/* --- remote frees and the free slow path ---------------------------------- */

/* Set `mask` in word w of slab s's remote bits. */
static inline void remote_set(hak_slab_t *s, unsigned w, uint64_t mask)
{
	atomic_fetch_or_explicit(&hak_slab_remote(s)->bits[w], mask, memory_order_release);
}

/* Add n remote frees, whose bits are set in the words of `groups`, to slab
 * s's remote word, listing the slab in its heap if it was not. */
static void remote_add(hak_slab_t *s, uint32_t n, uint64_t groups)
{
	hak_seg_t *seg = hak_slab_seg(s);
	_Atomic uint64_t *word = &hak_slab_remote(s)->word;
	uint64_t old = atomic_load_explicit(word, memory_order_relaxed), w;
	do {
		w = (old | REMOTE_LISTED | groups) + ((uint64_t)n << HAK_REMOTE_COUNT_SHIFT);
	} while (!atomic_compare_exchange_weak_explicit(word, &old, w, memory_order_acq_rel,
							memory_order_relaxed));
	if (!(old & REMOTE_LISTED)) {
		/* We listed the slab: push it onto its heap's stack. Until then
		 * the owner cannot drain (nor free, nor pass on) it, nor give
		 * it another owner: our count holds it. */
		HAK_DEBUG_STAT_ANY(free_remote_listed);
		hak_heap_t *h = s->owner;
		_Atomic(hak_slab_t *) *link = &seg->rnext[s - seg->slabs];
		hak_slab_t *top = atomic_load_explicit(&h->remote_slabs, memory_order_relaxed);
		do {
			atomic_store_explicit(link, top, memory_order_relaxed);
		} while (!atomic_compare_exchange_weak_explicit(&h->remote_slabs, &top, s,
								memory_order_release,
								memory_order_relaxed));
	}
}

/* Remote Tiny frees wait in a batch per class while they go to one slab:
 * their bits reach the slab a word at a time and their count the remote word
 * once per batch, lines the owner's drain writes too (cross_thread: a remote
 * free cost 273 cycles at 4 threads against 40 for a local one when each
 * updated the remote list, timing build).
 * A batch goes when a block of another slab of its class comes, at
 * REMOTE_BATCH blocks, on the thread's next allocation slow path, and at
 * thread exit; so a thread holds back at most REMOTE_BATCH blocks (32 KiB)
 * per class, and only until it allocates or exits. Mid frees go
 * at once: a thread's remote Mid frees seldom hit one page twice in a row
 * (mid_mt: batches of one), and a block held back delays its page (mid_mt
 * at 2 threads ran 0.93x with Mid batched). */
#define REMOTE_BATCH 32

static void remote_batch_push(unsigned cls)
{
	hak_remote_batch_t *b = &hak_tls.remote_batch[cls];
	remote_set(b->slab, b->word, b->mask);
	remote_add(b->slab, b->n, b->groups | REMOTE_GROUP(b->word));
	b->slab = NULL;
	hak_tls.remote_waiting &= ~((uint64_t)1 << cls);
}

static HAK_NOINLINE void remote_batches_push(void)
{
	while (hak_tls.remote_waiting)
		remote_batch_push((unsigned)__builtin_ctzll(hak_tls.remote_waiting));
}

/* Remote free of block p of slab s, of class cls. Reads neither the block
 * nor, unless the batch goes, the slab's record. */
static void small_free_remote(hak_slab_t *s, unsigned cls, void *p)
{
	HAK_DEBUG_STAT_ANY(free_remote);
	bool mid = cls >= HAK_TINY_NCLS;
	remote_count(mid);
	hak_seg_t *seg = hak_slab_seg(s);
	unsigned shift = mid ? HAK_MID_SLAB_SHIFT : HAK_TINY_SLAB_SHIFT;
	uintptr_t off = (uintptr_t)p - (uintptr_t)seg - ((uintptr_t)(s - seg->slabs) << shift);
	uint64_t k = (off * hak_class_recip[cls]) >> HAK_RECIP_SHIFT; /* block index */
	unsigned w = (unsigned)(k / 64);
	uint64_t bit = (uint64_t)1 << (k % 64);
	HAK_ASSERT(cls == s->cls && seg->slab_shift == shift && off % s->block_size == 0 &&
		   k == off / s->block_size);
	if (mid || HAK_UNLIKELY(hak_tls.state == HAK_TLS_EXITED)) {
		remote_set(s, w, bit);
		remote_add(s, 1, REMOTE_GROUP(w));
		return;
	}
	hak_remote_batch_t *b = &hak_tls.remote_batch[cls];
	if (b->slab != s) {
		if (b->slab)
			remote_batch_push(cls);
		b->slab = s;
		b->word = (uint16_t)w;
		b->mask = 0;
		b->groups = 0;
		b->n = 0;
		hak_tls.remote_waiting |= (uint64_t)1 << cls;
	} else if (b->word != w) {
		remote_set(s, b->word, b->mask);
		b->groups |= (uint16_t)REMOTE_GROUP(b->word);
		b->word = (uint16_t)w;
		b->mask = 0;
	}
	b->mask |= bit;
	if (++b->n >= REMOTE_BATCH)
		remote_batch_push(cls);
}

/* --- the Mid cache -----------------------------------------------------------
 * A local Mid free pushes the block onto its heap's cache of the class, not
 * onto its page, and points the class's hak_tls.cur at the cache, so the
 * next allocation of the class gets the block freed last (still in the CPU
 * cache) whichever page holds it. Without it, frees went to their pages and
 * allocations popped the current page, which on random frees held one or
 * two blocks: 15 % of mid_mt's allocations switched pages on the slow path.
 * When the cache runs dry the slow path points hak_tls.cur back at the
 * current page. Cached blocks count in their pages' `used` until they go
 * back, so only live or cached blocks hold a page, and a cache holds at most
 * MID_CACHE_BYTES of blocks per class (thread exit empties it). Owner only. */

static uint32_t mid_cache_count(const hak_slab_t *c)
{
	return HAK_MID_CACHE_BASE - c->used;
}

/* Return all but the newest `keep` blocks of Mid cache c to their pages. */
static HAK_NOINLINE void mid_cache_flush(hak_slab_t *c, uint32_t keep)
{
	void **link = &c->free;
	for (uint32_t i = 0; i < keep && *link; i++)
		link = (void **)*link;
	void *b = *link;
	*link = NULL;
	while (b) {
		void *next = *(void **)b;
		c->used++;
		hak_slab_push_local(hak_slab_of(hak_seg_of(b), b), b);
		b = next;
	}
}

/* Free of a Mid block: local to the page's owner (into the heap's cache),
 * else remote. The owner of a page with a live or cached block cannot
 * change. */
static void mid_free(hak_seg_t *seg, void *p)
{
	hak_slab_t *s = hak_slab_of(seg, p);
	hak_heap_t *h = hak_tls.heap;
	if (s->owner == h) {
		HAK_DEBUG_STAT_INC(free_local_mid);
		unsigned cls = s->cls;
		hak_slab_t *c = &h->mid_cache[cls - HAK_TINY_NCLS];
		*(void **)p = c->free;
		c->free = p;
		c->used--;
		hak_tls.cur[cls] = c;
		hak_tls.frees[cls]++;
		if (HAK_UNLIKELY(mid_cache_count(c) > c->fresh_left)) {
			h->mid_active_ms = hak_os_now_ms();
			mid_cache_flush(c, c->fresh_left / 2);
		}
		return;
	}
	small_free_remote(s, s->cls, p);
}

/* Empty every Mid cache of h into the pages (thread exit). */
static void mid_caches_flush(hak_heap_t *h)
{
	for (unsigned i = 0; i < HAK_MID_NCLS; i++)
		mid_cache_flush(&h->mid_cache[i], 0);
}

/* A refill of any class found that the thread has neither refilled a Mid
 * class nor flushed a Mid cache for the purge delay: its Mid use has
 * stopped (or runs on its caches alone), and the blocks the caches still
 * hold would pin their pages (one cached block holds a 256 KiB page; after
 * random frees a cache's blocks lie on as many pages as it holds blocks).
 * The caches go back to the pages and the thread's empty pages back to the
 * OS at once; Mid activity starts the clock again. */
static void mid_caches_trim_idle(hak_heap_t *h)
{
	uint64_t now = hak_os_now_ms();
	if (now < h->mid_active_ms + (uint64_t)hak_config.purge_delay_ms)
		return;
	h->mid_active_ms = 0;
	mid_caches_flush(h);
	hak_seg_purge_all(h);
}

HAK_NOINLINE void hak_free_slow(void *p)
{
	hak_seg_t *seg = hak_seg_of(p);
	if (seg->kind == HAK_SEG_MID) {
		mid_free(seg, hak_mid_block_of(seg, p));
		return;
	}
	if (seg->kind == HAK_SEG_SPAN) {
		HAK_DEBUG_STAT_ANY(free_span);
		if (seg->l25_cls >= 0)
			hak_l25_free(seg);
		else
			hak_large_free(seg);
		return;
	}
	/* A Tiny block of another heap. Its class comes from the header line
	 * that seg->kind came from, not from the slab's record: the owner
	 * writes that record on every allocation from the slab, so reading it
	 * here moved its line between cores on every remote free of a block
	 * allocated just before (cross_thread's pairs on different cores;
	 * docs/PERFORMANCE.md). The record is read only when a batch goes. */
	small_free_remote(hak_tiny_slab_of(seg, p), seg->unit_cls[hak_seg_unit(p)], p);
}

/* --- thread exit ------------------------------------------------------------ */

/* An exiting thread's heap keeps only slabs with live blocks: empty current
 * slabs and kept Mid pages are released, and every empty slab's pages go
 * back to the OS (the heap may wait long for a thread to adopt it). */
static void heap_trim(hak_heap_t *h)
{
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++) {
		hak_slab_t *s = h->cur[c];
		h->kept_blocks[c] = 0;
		if (s && s->used == 1) { /* only its bias: empty */
			s->used = 0;
			h->cur[c] = NULL;
			slab_let_go(h, s, hak_slab_seg(s)->home != h);
		}
		for (s = h->partial[c]; s;) {
			hak_slab_t *next = s->next;
			if (s->used == 0 && s->where == SLAB_PARTIAL) {
				hak_partial_remove(h, c, s);
				slab_let_go(h, s, hak_slab_seg(s)->home != h);
			}
			s = next;
		}
	}
	hak_seg_purge_all(h);
}

/* --- the Tiny lifos --------------------------------------------------------- */

void hak_tiny_lifo_flush(unsigned cls)
{
	counters_publish_one(cls); /* while the lifo's count of blocks still tells */
	void *p = hak_tls.lifo[cls];
	hak_tls.lifo[cls] = NULL;
	hak_tls.lifo_room[cls] = HAK_TINY_LIFO_MAX;
	hak_tls.lifo_held[cls] = 0;
	while (p) {
		void *next = *(void **)p;
		hak_slab_push_local(hak_tiny_slab_of(hak_seg_of(p), p), p);
		p = next;
	}
}

static void tiny_lifos_flush(void)
{
	for (unsigned c = 0; c < HAK_TINY_NCLS; c++)
		hak_tiny_lifo_flush(c);
}

bool hak_tiny_lifos_held(void)
{
	/* no early exit, unrolled: straight-line ORs (the purge check asks on
	 * every refill; the loop that stopped at the first held lifo was 0.7 %
	 * of fragmentation's instructions, cachegrind) */
	uintptr_t any = 0;
#pragma GCC unroll 32
	for (unsigned c = 0; c < HAK_TINY_NCLS; c++)
		any |= (uintptr_t)hak_tls.lifo[c];
	return any != 0;
}

void hak_tiny_lifos_flush_idle(hak_heap_t *h, uint64_t since_ms)
{
	HAK_ASSERT(h == hak_tls.heap);
	h->release_ms = since_ms ? since_ms : 1;
	tiny_lifos_flush();
	h->release_ms = 0;
}

void hak_thread_exit(void)
{
	hak_heap_t *h = hak_tls.heap;
	remote_batches_push();
	if (!h) { /* a thread that only freed other threads' blocks */
		remote_counts_publish();
		hak_tls.state = HAK_TLS_EXITED;
		return;
	}
	heap_drain_remote(h);
	tiny_lifos_flush();
	mid_caches_flush(h);
	hak_l25_thread_flush();
	hak_counters_publish();
	heap_trim(h);
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++)
		hak_tls.cur[c] = &hak_empty_slab;
	h->tls = NULL;
	hak_tls.heap = NULL;
	hak_tls.state = HAK_TLS_EXITED;
	hak_lock(&heaps_lock);
	h->next_orphan = heaps_orphan;
	heaps_orphan = h;
	hak_unlock(&heaps_lock);
}

void hak_heaps_lock(void)
{
	hak_lock(&heaps_lock);
}

void hak_heaps_unlock(void)
{
	hak_unlock(&heaps_lock);
}

void hak_heaps_fork_child(void)
{
	atomic_store(&heaps_lock.v, 0);
}
