/*
 * learn.h - the learning layer's contract with the tiers.
 *
 * What the tiers call (all cheap or rare):
 *   hak_learn_init()       once at start, after the options are read;
 *   hak_learn_tick()       from an allocation slow path when the calling
 *                          thread's countdown (HAK_LEARN_TICK_ALLOCS
 *                          allocations) expires: never on the fast path;
 *   hak_learn_large_threshold()  the cached strategy: requests of at least
 *                          this many bytes go to the Large tier; one relaxed
 *                          atomic load, no lock, no RMW, no division;
 *   hak_learn_site_tier()  the site rule for a call site, or -1.
 *   hak_learn_write_json() the learner's part of the statistics file.
 *
 * What the learning layer calls in the Mid tier (mid tier implements):
 *   hak_mid_class_count(), hak_mid_class_size(), hak_mid_counters(),
 *   hak_mid_get_cap(), hak_mid_set_cap(), hak_mid_set_wmax_permille().
 */
#ifndef HAK_LEARN_H
#define HAK_LEARN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HAK_LEARN_TICK_ALLOCS       1024              /* allocations per thread between ticks */
#define HAK_DEFAULT_LARGE_THRESHOLD ((size_t)2 << 20) /* bytes: 2 MiB */
/* Bounds of every threshold the learner may publish (its strategy table,
 * learn_internal.h): the L2.5 tier must serve sizes up to the maximum, and
 * free must not route by size (the threshold can change between an
 * allocation and its free). */
#define HAK_LEARN_THRESHOLD_MIN ((size_t)256 << 10) /* bytes */
#define HAK_LEARN_THRESHOLD_MAX ((size_t)8 << 20)   /* bytes */

extern _Atomic size_t hak_learn_large_threshold_cached; /* bytes */

/* Weight of one request of `size` bytes (L2.5 or Large: a malloc, or a
 * realloc of such a block) in the thread's tick countdown: one allocation
 * per 64 KiB, at least 1, at most HAK_LEARN_TICK_ALLOCS. A thread of big
 * requests thus ticks every 64 MiB requested rather than every 1,024
 * requests (at a few thousand big requests a second, a decision would
 * otherwise last a second and a window wait minutes), while a run of
 * 32-64 KiB requests still ticks every 1,024. A shift and two compares. */
#define HAK_LEARN_WEIGHT_SHIFT 16 /* log2 of the bytes one allocation stands for */
static inline uint32_t hak_learn_request_weight(size_t size)
{
	size_t w = size >> HAK_LEARN_WEIGHT_SHIFT;
	return w == 0 ? 1u : w > HAK_LEARN_TICK_ALLOCS ? (uint32_t)HAK_LEARN_TICK_ALLOCS : (uint32_t)w;
}

void hak_learn_init(void);
void hak_learn_tick(void);

static inline size_t hak_learn_large_threshold(void)
{
	return atomic_load_explicit(&hak_learn_large_threshold_cached, memory_order_relaxed);
}

/* Request sizes for the learner's size-distribution estimate: a per-thread
 * ring of the last HAK_LEARN_SIZE_RING sizes, drained by that thread's next
 * tick. Call hak_learn_note_size() on the L2.5 and Large allocation paths
 * (not Tiny, not Mid): a TLS store and increment, no atomics; nothing
 * without HAKMEM_FEATURE_EVOLUTION. */
#define HAK_LEARN_SIZE_RING 32 /* a power of two */
typedef struct {
	size_t size[HAK_LEARN_SIZE_RING]; /* bytes */
	unsigned pos;                     /* sizes noted, ever (wraps) */
	unsigned drained;                 /* pos at the last drain */
} hak_learn_sizes_t;
extern __thread hak_learn_sizes_t hak_learn_tls_sizes __attribute__((tls_model("initial-exec")));

static inline void hak_learn_note_size(size_t size)
{
#ifdef HAKMEM_FEATURE_EVOLUTION
	hak_learn_sizes_t *r = &hak_learn_tls_sizes;
	r->size[r->pos & (HAK_LEARN_SIZE_RING - 1)] = size;
	r->pos++;
#else
	(void)size;
#endif
}

/* Tier a call site's requests go to (implementation-defined id, 0..65534),
 * or -1. A hint: one relaxed load; the caller checks the size fits. */
int hak_learn_site_tier(uintptr_t site);
/* Remember that `site` asked for `tier`. Called from slow paths only. */
void hak_learn_site_note(uintptr_t site, int tier);

/* Write `"learn": {...}` members (without braces around the whole file) to f. */
void hak_learn_write_json(FILE *f);

/* --- implemented by the Mid tier, used by the learner --- */
int hak_mid_class_count(void);
size_t hak_mid_class_size(int cls);                               /* bytes */
void hak_mid_counters(int cls, uint64_t *hits, uint64_t *misses); /* cumulative, all threads */
unsigned hak_mid_get_cap(int cls);                                /* blocks cached per class */
void hak_mid_set_cap(int cls, unsigned cap);
void hak_mid_set_wmax_permille(unsigned wmax); /* 1400 = W_MAX 1.4 */

/* --- the allocator's statistics the learner reads (learn_os.c) --- */
size_t hak_learn_mapped_bytes(void); /* bytes hakmem has mapped now */

#endif /* HAK_LEARN_H */
