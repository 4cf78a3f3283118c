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

#define HAK_LEARN_TICK_ALLOCS 1024 /* allocations per thread between ticks */
#define HAK_DEFAULT_LARGE_THRESHOLD ((size_t)2 << 20) /* bytes: 2 MiB */

extern _Atomic size_t hak_learn_large_threshold_cached; /* bytes */

void hak_learn_init(void);
void hak_learn_tick(void);

static inline size_t hak_learn_large_threshold(void)
{
	return atomic_load_explicit(&hak_learn_large_threshold_cached, memory_order_relaxed);
}

/* Tier a call site's requests go to (implementation-defined id), or -1. */
int hak_learn_site_tier(uintptr_t site);
/* Remember that `site` asked for `tier`. Called from slow paths only. */
void hak_learn_site_note(uintptr_t site, int tier);

/* Write `"learn": {...}` members (without braces around the whole file) to f. */
void hak_learn_write_json(FILE *f);

/* --- implemented by the Mid tier, used by the learner --- */
int hak_mid_class_count(void);
size_t hak_mid_class_size(int cls);                 /* bytes */
void hak_mid_counters(int cls, uint64_t *hits, uint64_t *misses); /* cumulative, all threads */
unsigned hak_mid_get_cap(int cls);                  /* blocks cached per class */
void hak_mid_set_cap(int cls, unsigned cap);
void hak_mid_set_wmax_permille(unsigned wmax);      /* 1400 = W_MAX 1.4 */

#endif /* HAK_LEARN_H */
