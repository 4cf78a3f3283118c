/*
 * tcache.c - thread caches and heaps: the slow paths behind the Tiny and Mid
 * fast paths of hakmem_internal.h.
 *
 * Owns: thread heaps (creation, adoption of exited threads' heaps, orphaning
 * at thread exit), refills of a thread's class list from its slabs (free
 * list, then bump allocation of fresh blocks), spills of an over-full list
 * back to the slabs, remote frees (lock-free push onto the slab, slab listed
 * once in its heap's remote_slabs stack) and their draining by the owner.
 * Does not own: slabs' memory (segment.c), Mid CAP/W_MAX policy (mid.c).
 *
 * Thread safety: a heap is used by one thread at a time (its owner); other
 * threads only push onto slabs' remote lists and heaps' remote_slabs stacks,
 * with CAS. Heaps are never freed, so those pushes never touch freed memory.
 */
#include "../hakmem_internal.h"

HAK_TLS hak_tls_t hak_tls;

static hak_lock_t heaps_lock;
static hak_heap_t *heaps_all;     /* every heap, newest first */
static hak_heap_t *heaps_orphan;  /* heaps of exited threads */
static uint8_t *meta_cur, *meta_end; /* bump region for heap structs */

#define META_CHUNK ((size_t)256 << 10) /* bytes of heap metadata mapped at once */

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
	h->next_all = heaps_all;
	heaps_all = h;
	return h;
}

static void heap_drain_remote(hak_heap_t *h);

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

/* --- returning blocks to their slab ------------------------------------- */

/* Blocks came back to slab s (spill or remote drain): fix its state. */
static void slab_after_return(hak_heap_t *h, hak_slab_t *s)
{
	if (s->where == SLAB_CUR)
		return;
	if (s->used == 0) {
		if (s->where == SLAB_PARTIAL)
			hak_slab_list_remove(&h->partial[s->cls], s);
		hak_seg_slab_release(h, s);
	} else if (s->where == SLAB_FULL) {
		s->where = SLAB_PARTIAL;
		hak_slab_list_push(&h->partial[s->cls], s);
	}
}

/* Return the list `b` (blocks of heap h) to their slabs. */
static void blocks_return(hak_heap_t *h, void *b)
{
	while (b) {
		void *next = *(void **)b;
		hak_seg_t *seg = hak_seg_of(b);
		HAK_ASSERT(seg->owner == h);
		hak_slab_t *s = hak_slab_of(seg, b);
		HAK_ASSERT(s->used > 0);
		*(void **)b = s->free;
		s->free = b;
		s->nfree++;
		s->used--;
		slab_after_return(h, s);
		b = next;
	}
}

static void heap_drain_remote(hak_heap_t *h)
{
	hak_slab_t *s = atomic_exchange_explicit(&h->remote_slabs, NULL, memory_order_acquire);
	while (s) {
		hak_slab_t *next = s->rnext; /* read before the slab can be listed again */
		uintptr_t w = atomic_exchange_explicit(&s->remote, 0, memory_order_acquire);
		void *b = (void *)(w & ~(uintptr_t)1);
		uint32_t n = 0;
		void *tail = NULL;
		for (void *q = b; q; q = *(void **)q) {
			tail = q;
			n++;
		}
		if (n) {
			*(void **)tail = s->free;
			s->free = b;
			s->nfree += n;
			HAK_ASSERT(s->used >= n);
			s->used -= n;
			slab_after_return(h, s);
		}
		HAK_STAT_INC(remote_drains);
		s = next;
	}
}

/* --- refill -------------------------------------------------------------- */

/* Move blocks of slab s into tc (which is empty): its whole free list, else
 * up to `want` fresh blocks. Returns the number moved. */
static uint32_t slab_take(hak_slab_t *s, hak_tcache_t *tc, uint32_t want)
{
	if (s->free) {
		uint32_t n = s->nfree;
		tc->head = s->free;
		tc->count = n;
		s->used += n;
		s->free = NULL;
		s->nfree = 0;
		return n;
	}
	size_t bs = s->block_size;
	size_t avail = (size_t)(s->end - s->bump) / bs;
	uint32_t n = avail < want ? (uint32_t)avail : want;
	if (n == 0)
		return 0;
	uint8_t *p = s->bump;
	for (uint32_t i = 0; i + 1 < n; i++, p += bs)
		*(void **)p = p + bs;
	*(void **)p = NULL;
	tc->head = s->bump;
	tc->count = n;
	s->bump += (size_t)n * bs;
	s->used += n;
	return n;
}

static unsigned tcache_cap(unsigned cls)
{
	return cls < HAK_TINY_NCLS ? (unsigned)hak_config.tiny_tls_cap : hak_mid_cap_of(cls);
}

static uint32_t tcache_refill(hak_heap_t *h, unsigned cls, hak_tcache_t *tc)
{
	bool tiny = cls < HAK_TINY_NCLS;
	uint32_t want = tiny ? (uint32_t)hak_config.tiny_refill_count : hak_mid_refill_blocks(cls);
	hak_slab_t *s = h->cur[cls];
	for (;;) {
		if (s) {
			uint32_t n = slab_take(s, tc, want);
			if (n)
				return n;
			s->where = SLAB_FULL;
			h->cur[cls] = NULL;
		}
		s = h->partial[cls];
		if (s) {
			hak_slab_list_remove(&h->partial[cls], s);
		} else {
			s = hak_seg_slab_acquire(h, tiny ? HAK_SEG_TINY : HAK_SEG_MID, cls);
			if (!s)
				return 0;
		}
		s->where = SLAB_CUR;
		h->cur[cls] = s;
	}
}

static void tcache_publish_one(unsigned cls)
{
	hak_tcache_t *tc = &hak_tls.c[cls];
	if (tc->allocs) {
		atomic_fetch_add_explicit(&hak_stats.class_allocs[cls], tc->allocs,
					  memory_order_relaxed);
		tc->allocs = 0;
	}
	if (tc->frees) {
		atomic_fetch_add_explicit(&hak_stats.class_frees[cls], tc->frees,
					  memory_order_relaxed);
		tc->frees = 0;
	}
}

void hak_tcache_publish(void)
{
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++)
		tcache_publish_one(c);
}

HAK_NOINLINE void *hak_small_alloc_slow(unsigned cls, size_t size)
{
	hak_heap_t *h = hak_heap_get();
	if (HAK_UNLIKELY(!h)) {
		errno = ENOMEM;
		return NULL;
	}
	hak_tcache_t *tc = &hak_tls.c[cls];
	if (!tc->head) {
		if (atomic_load_explicit(&h->remote_slabs, memory_order_relaxed))
			heap_drain_remote(h);
		if (cls >= HAK_TINY_NCLS) {
			void *p = hak_mid_wmax_pop(cls, size);
			if (p)
				return p;
		}
		HAK_TIME_BEGIN(t);
		uint32_t n = tcache_refill(h, cls, tc);
		if (cls < HAK_TINY_NCLS) {
			HAK_TIME_END(tiny_refill, t);
			HAK_STAT_INC(tiny_refills);
		} else {
			HAK_TIME_END(mid_refill, t);
			HAK_STAT_INC(mid_refills);
			hak_mid_note_miss(cls);
		}
		if (n == 0) {
			errno = ENOMEM;
			return NULL;
		}
		tc->cap = tcache_cap(cls);
		tcache_publish_one(cls);
		hak_tick(n);
	}
	void *p = tc->head;
	tc->head = *(void **)p;
	tc->count--;
	tc->allocs++;
	return p;
}

/* Return all but the newest `keep` blocks of tc to their slabs. */
static void tcache_trim(hak_heap_t *h, hak_tcache_t *tc, uint32_t keep)
{
	void *rest;
	if (keep == 0) {
		rest = tc->head;
		tc->head = NULL;
	} else {
		void *cut = tc->head;
		for (uint32_t i = 1; i < keep && cut; i++)
			cut = *(void **)cut;
		if (!cut)
			return;
		rest = *(void **)cut;
		*(void **)cut = NULL;
	}
	tc->count = keep;
	blocks_return(h, rest);
}

HAK_NOINLINE void hak_tcache_spill(unsigned cls)
{
	hak_tcache_t *tc = &hak_tls.c[cls];
	hak_heap_t *h = hak_tls.heap;
	tc->cap = tcache_cap(cls);
	if (tc->count <= tc->cap)
		return;
	if (cls < HAK_TINY_NCLS)
		HAK_STAT_INC(tiny_spills);
	else
		HAK_STAT_INC(mid_spills);
	tcache_trim(h, tc, tc->cap / 2);
	if (atomic_load_explicit(&h->remote_slabs, memory_order_relaxed))
		heap_drain_remote(h);
	tcache_publish_one(cls);
}

/* --- remote frees and the free slow path ---------------------------------- */

static void small_free_remote(hak_seg_t *seg, void *p)
{
	hak_slab_t *s = hak_slab_of(seg, p);
	unsigned cls = seg->unit_cls[((uintptr_t)p - (uintptr_t)seg) >> HAK_UNIT_SHIFT];
	uintptr_t old = atomic_load_explicit(&s->remote, memory_order_relaxed);
	do {
		*(void **)p = (void *)(old & ~(uintptr_t)1);
	} while (!atomic_compare_exchange_weak_explicit(&s->remote, &old, (uintptr_t)p | 1,
							memory_order_release, memory_order_relaxed));
	if (!(old & 1)) {
		/* We listed the slab: push it onto its heap's stack. Until then
		 * the owner cannot drain (nor free) it. */
		hak_heap_t *h = seg->owner;
		hak_slab_t *top = atomic_load_explicit(&h->remote_slabs, memory_order_relaxed);
		do {
			s->rnext = top;
		} while (!atomic_compare_exchange_weak_explicit(&h->remote_slabs, &top, s,
								memory_order_release,
								memory_order_relaxed));
	}
	if (cls < HAK_TINY_NCLS)
		HAK_STAT_INC(tiny_remote_frees);
	else
		HAK_STAT_INC(mid_remote_frees);
}

HAK_NOINLINE void hak_free_slow(void *p)
{
	hak_seg_t *seg = hak_seg_of(p);
	if (seg->kind == HAK_SEG_SPAN) {
		if (seg->l25_cls >= 0)
			hak_l25_free(seg);
		else
			hak_large_free(seg);
		return;
	}
	small_free_remote(seg, p);
}

/* --- thread exit ------------------------------------------------------------ */

void hak_thread_exit(void)
{
	hak_heap_t *h = hak_tls.heap;
	if (!h)
		return;
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++) {
		hak_tcache_t *tc = &hak_tls.c[c];
		if (tc->head)
			tcache_trim(h, tc, 0);
		tc->cap = 0;
	}
	heap_drain_remote(h);
	hak_l25_thread_flush();
	hak_tcache_publish();
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
