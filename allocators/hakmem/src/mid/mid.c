/*
 * mid.c - the Mid tier's policy (classes 1 KiB - 32 KiB): CAP per class,
 * refill batching, W_MAX, and the accessors the learning layer uses
 * (learn.h).
 *
 * Mid blocks live in 256 KiB pages of Mid SuperSlabs and move through the
 * same free lists, remote frees and refills as Tiny blocks (heap.c); what
 * differs is here: how many blocks of empty pages a thread keeps per class
 * before pages go back (CAP, moved by the learner), how many fresh blocks a
 * refill carves (HAKMEM_POOL_REFILL_BATCH units of 16 KiB), and
 * whether a request may take a larger class's block (W_MAX).
 *
 * Thread safety: CAPs, W_MAX and the miss counters are relaxed atomics;
 * any thread may read or set them at any time.
 */
#include "../hakmem_internal.h"

/* Bytes of fresh blocks per unit of a refill batch. A carve links its blocks
 * at once, so it faults their pages at once: 32 KiB by default (8 pages)
 * rather than 128 KiB, which faulted pages the thread then used late or
 * never (fragmentation's new-mix phase, chrt, 15 alternating: 52.2 ->
 * 50.1 ms summed over 4 workers; 530 fewer page faults per run). */
#define MID_CARVE_UNIT 16384u

static _Atomic unsigned mid_cap[HAK_MID_NCLS];          /* blocks per thread list */
static _Atomic unsigned mid_wmax_permille = 1000;       /* W_MAX x 1000 */
static _Atomic uint64_t mid_misses[HAK_MID_NCLS];       /* refills per class */

void hak_mid_init(void)
{
	for (int i = 0; i < HAK_MID_NCLS; i++)
		atomic_store_explicit(&mid_cap[i], (unsigned)hak_config.mid_cap,
				      memory_order_relaxed);
	atomic_store_explicit(&mid_wmax_permille, (unsigned)(hak_config.wmax_mid * 1000.0 + 0.5),
			      memory_order_relaxed);
}

unsigned hak_mid_cap_of(unsigned cls)
{
	return atomic_load_explicit(&mid_cap[cls - HAK_TINY_NCLS], memory_order_relaxed);
}

unsigned hak_mid_refill_blocks(unsigned cls)
{
	unsigned n = (unsigned)hak_config.pool_refill_batch * MID_CARVE_UNIT / hak_class_stride[cls];
	return n ? n : 1;
}

void *hak_mid_wmax_pop(unsigned cls, size_t size)
{
	unsigned wmax = atomic_load_explicit(&mid_wmax_permille, memory_order_relaxed);
	if (wmax <= 1000)
		return NULL;
	size_t limit = size * wmax / 1000;
	for (unsigned c = cls + 1; c < HAK_SMALL_NCLS && hak_class_size[c] <= limit; c++) {
		hak_slab_t *s = hak_tls.cur[c];
		void *p = s->free;
		if (p) {
			s->free = *(void **)p;
			s->used++;
			hak_tls.allocs[c]++;
			HAK_STAT_INC(mid_wmax_hits);
			return p;
		}
	}
	return NULL;
}

void hak_mid_note_miss(unsigned cls)
{
	atomic_fetch_add_explicit(&mid_misses[cls - HAK_TINY_NCLS], 1, memory_order_relaxed);
}

/* --- learn.h accessors (cls is 0 .. hak_mid_class_count() - 1) --- */

int hak_mid_class_count(void)
{
	return HAK_MID_NCLS;
}

size_t hak_mid_class_size(int cls)
{
	if (cls < 0 || cls >= HAK_MID_NCLS)
		return 0;
	return hak_class_size[HAK_TINY_NCLS + cls];
}

void hak_mid_counters(int cls, uint64_t *hits, uint64_t *misses)
{
	uint64_t a = 0, m = 0;
	if (cls >= 0 && cls < HAK_MID_NCLS) {
		a = atomic_load_explicit(&hak_stats.class_allocs[HAK_TINY_NCLS + cls],
					 memory_order_relaxed);
		m = atomic_load_explicit(&mid_misses[cls], memory_order_relaxed);
	}
	if (hits)
		*hits = a > m ? a - m : 0;
	if (misses)
		*misses = m;
}

unsigned hak_mid_get_cap(int cls)
{
	if (cls < 0 || cls >= HAK_MID_NCLS)
		return 0;
	return atomic_load_explicit(&mid_cap[cls], memory_order_relaxed);
}

void hak_mid_set_cap(int cls, unsigned cap)
{
	if (cls < 0 || cls >= HAK_MID_NCLS)
		return;
	if (cap < 1)
		cap = 1;
	atomic_store_explicit(&mid_cap[cls], cap, memory_order_relaxed);
}

void hak_mid_set_wmax_permille(unsigned wmax)
{
	if (wmax < 1000)
		wmax = 1000;
	if (wmax > 2000)
		wmax = 2000;
	atomic_store_explicit(&mid_wmax_permille, wmax, memory_order_relaxed);
}
