/*
 * shared.c - the Mid tier's shared lists of empty pages, per class and
 * shard: a page (256 KiB) that one thread no longer needs (empty beyond its
 * CAP, heap.c) waits here, carved and resident, until a refill of any thread
 * takes it (HAKMEM_POOL_REFILL_BATCH pages at most, its own shard first,
 * then the others); memory freed by one thread serves another without
 * going back to the OS. A page idle for HAKMEM_PURGE_DELAY_MS gives its
 * memory back (madvise) and stays listed, clean and uncarved.
 *
 * Owns: the slots and the shard of a heap. Does not own: the pages (their
 * SuperSlab stays in its home heap's bookkeeping, segment.c), nor when a
 * page leaves a heap (heap.c).
 *
 * Thread safety: lock-free. Each list is a small array of slots; a put is a
 * compare-and-swap of an empty slot to the page, a take an exchange of a
 * slot with NULL. No node links through the lists, so there is no ABA: a
 * take gets exactly the page the slot held, and one slot holds a page at
 * most once. The slots bound what the lists keep (pages per class:
 * MID_SHARDS x MID_SLOTS).
 */
#include "../hakmem_internal.h"

#define MID_SHARDS 4 /* lists per class; a heap's own is a hash of its address */
#define MID_SLOTS 2  /* pages per list */

typedef struct {
	_Atomic(hak_slab_t *) slot[MID_SLOTS];
} __attribute__((aligned(16))) mid_list_t;

static mid_list_t mid_lists[HAK_MID_NCLS][MID_SHARDS];
static _Atomic unsigned mid_dirty; /* listed pages with resident memory */

static unsigned shard_of(const hak_heap_t *h)
{
	uint64_t x = (uint64_t)(uintptr_t)h * 0x9E3779B97F4A7C15ull;
	return (unsigned)(x >> 62) % MID_SHARDS;
}

/* Put s (state set, exclusive to the caller) in a free slot of `cls`,
 * h's shard first; false when all are taken. */
static bool lists_put(unsigned cls, unsigned shard, hak_slab_t *s)
{
	for (unsigned k = 0; k < MID_SHARDS; k++) {
		mid_list_t *l = &mid_lists[cls - HAK_TINY_NCLS][(shard + k) % MID_SHARDS];
		for (unsigned i = 0; i < MID_SLOTS; i++) {
			hak_slab_t *none = NULL;
			if (atomic_load_explicit(&l->slot[i], memory_order_relaxed) == NULL &&
			    atomic_compare_exchange_strong_explicit(&l->slot[i], &none, s,
								    memory_order_release,
								    memory_order_relaxed))
				return true;
		}
	}
	return false;
}

bool hak_mid_shared_put(hak_heap_t *h, hak_slab_t *s)
{
	HAK_ASSERT(s->used == 0 && s->cls >= HAK_TINY_NCLS && s->cls < HAK_SMALL_NCLS);
	HAK_ASSERT(hak_slab_remote_clear(s));
	s->where = SLAB_SHARED;
	s->full = 0;
	s->next = s->prev = NULL;
	s->dirty_ms = hak_os_now_ms(); /* replaces the owner: nobody's from here on */
	atomic_fetch_add_explicit(&mid_dirty, 1, memory_order_relaxed);
	if (lists_put(s->cls, shard_of(h), s)) {
		HAK_STAT_INC(mid_shared_puts);
		return true;
	}
	atomic_fetch_sub_explicit(&mid_dirty, 1, memory_order_relaxed);
	s->owner = h;
	return false;
}

unsigned hak_mid_shared_take(hak_heap_t *h, unsigned cls, hak_slab_t **out, unsigned max)
{
	unsigned n = 0, shard = shard_of(h);
	for (unsigned k = 0; k < MID_SHARDS && n < max; k++) {
		mid_list_t *l = &mid_lists[cls - HAK_TINY_NCLS][(shard + k) % MID_SHARDS];
		for (unsigned i = 0; i < MID_SLOTS && n < max; i++) {
			if (atomic_load_explicit(&l->slot[i], memory_order_relaxed) == NULL)
				continue;
			hak_slab_t *s = atomic_exchange_explicit(&l->slot[i], NULL,
								 memory_order_acquire);
			if (!s)
				continue;
			if (s->dirty_ms != UINT64_MAX)
				atomic_fetch_sub_explicit(&mid_dirty, 1, memory_order_relaxed);
			HAK_ASSERT(s->cls == cls && s->used == 0 && s->where == SLAB_SHARED);
			s->owner = h;
			out[n++] = s;
			if (k)
				HAK_STAT_INC(mid_shared_steals);
		}
	}
	HAK_STAT_ADD(mid_shared_takes, n);
	return n;
}

bool hak_mid_shared_dirty(void)
{
	return atomic_load_explicit(&mid_dirty, memory_order_relaxed) != 0;
}

/* s (taken from a list, no slot free for it) joins h's pages of its class
 * as a kept empty page. */
static void keep_page(hak_heap_t *h, hak_slab_t *s)
{
	unsigned cls = s->cls;
	if (s->dirty_ms != UINT64_MAX)
		atomic_fetch_sub_explicit(&mid_dirty, 1, memory_order_relaxed);
	s->owner = h;
	s->where = SLAB_PARTIAL;
	hak_partial_push(h, cls, s);
	h->kept_blocks[cls] += (uint32_t)(((size_t)1 << hak_slab_seg(s)->slab_shift) / s->block_size);
}

void hak_mid_shared_purge_due(hak_heap_t *h, uint64_t now, uint64_t delay)
{
	for (unsigned c = 0; c < HAK_MID_NCLS; c++) {
		for (unsigned k = 0; k < MID_SHARDS; k++) {
			mid_list_t *l = &mid_lists[c][k];
			for (unsigned i = 0; i < MID_SLOTS; i++) {
				hak_slab_t *s = atomic_load_explicit(&l->slot[i], memory_order_relaxed);
				if (!s)
					continue;
				/* take it to look: only the taker may read or change it */
				s = atomic_exchange_explicit(&l->slot[i], NULL, memory_order_acquire);
				if (!s)
					continue;
				if (s->dirty_ms != UINT64_MAX && s->dirty_ms + delay <= now) {
					hak_os_purge(hak_slab_start(s),
						     (size_t)1 << hak_slab_seg(s)->slab_shift);
					HAK_STAT_INC(slabs_purged);
					hak_slab_pages_purged(s);
					hak_slab_reset(s);
					atomic_fetch_sub_explicit(&mid_dirty, 1, memory_order_relaxed);
					s->dirty_ms = UINT64_MAX;
				}
				if (!lists_put(s->cls, k, s))
					keep_page(h, s); /* every slot refilled meanwhile */
			}
		}
	}
}
