/*
 * large.c - spans and the Large tier: one mapping per block at or above the
 * large threshold (or above the largest L2.5 class, or with an alignment
 * that the other tiers do not give), and the whale cache of freed mappings.
 *
 * A span is a mapping whose first HAK_SPAN_HDR bytes, at a 2 MiB boundary,
 * hold its header; the block follows at `user_off` (HAK_SPAN_HDR, 256 bytes, or the
 * requested alignment). `free` finds the header by masking like any
 * SuperSlab.
 *
 * The whale cache keeps freed mappings of the Large tier and of the L2.5
 * classes from 1 MiB on ("whale spans") and serves any later request from
 * any of them: one of the right size as it is, a larger one split (its
 * tail from the next 2 MiB boundary cached apart), a smaller one grown to
 * the request (mremap: its resident pages stay, the added tail is filled
 * with the pages of other cached mappings), so freed pages are reused
 * instead of faulted in again. What it keeps is bounded by the program's
 * own use of whale spans:
 *   - live + cached bytes never exceed the peak of live bytes seen so far
 *     (keeping a mapping never raises the peak resident size beyond what
 *     the program already needed), and
 *   - cached bytes never exceed live bytes + HAKMEM_WHALE_CACHE_MB (memory
 *     goes back when the live set shrinks),
 * and at most HAKMEM_WHALE_CACHE mappings. Each thread first uses a slot of
 * its own (one mapping of at most WHALE_SLOT_MAX bytes, taken and put with
 * one atomic exchange, no lock); slots are global, so any thread may take a
 * mapping from any slot before it maps anew, and a thread's exit leaves
 * nothing behind that others cannot use. A mapping in a slot stays counted
 * as live in the bounds (`held`), so a thread that frees a block into its
 * slot and takes it back writes no shared counter: two threads doing so at
 * once bounced the counters' line on every free (vm at 2 threads: 441
 * against 90 cycles a put at 1 thread). hak_whale_usage reports it as
 * cached, which it is.
 *
 * Thread safety: the cache's array is under one lock; slots and byte
 * counters are atomics.
 */
#include "../hakmem_internal.h"

#define WHALE_MAX 64                      /* entries of the array (HAKMEM_WHALE_CACHE <= 64) */
#define WHALE_SLOTS 8                     /* per-thread slots (threads share them beyond) */
#define WHALE_SLOT_MAX ((size_t)4 << 20)  /* bytes: largest mapping a slot keeps */
#define WHALE_L25_MIN ((size_t)1 << 20)   /* bytes: L2.5 classes from here are whale spans */
#define WHALE_ROOM_MAX ((size_t)4 << 20)  /* bytes: a room keeps its mapping up to this boundary */

static hak_lock_t whale_lock;
static hak_seg_t *whale[WHALE_MAX]; /* cached spans, oldest first (under whale_lock) */
static uint64_t whale_ms[WHALE_MAX]; /* when each was cached, ms (under whale_lock) */
static unsigned whale_n;            /* entries used (under whale_lock) */
static _Atomic size_t whale_bytes;  /* bytes mapped by the array's spans (written under whale_lock) */

typedef struct {
	_Atomic(hak_seg_t *) span; /* a cached span or NULL */
	_Atomic int64_t bytes;     /* bytes mapped by the spans put here less those taken */
	char pad[48];
} whale_slot_t;
static whale_slot_t whale_slots[WHALE_SLOTS] __attribute__((aligned(64)));

static struct {
	_Atomic int64_t held; /* bytes mapped by whale spans in use or in a slot */
	char pad[56];
	_Atomic int64_t peak; /* high-water mark of `held`, bytes */
} whale_acct __attribute__((aligned(64)));

static _Atomic unsigned whale_slot_next; /* slot index of the next new thread */
static HAK_TLS unsigned whale_slot_tls;  /* this thread's slot + 1, 0 before first use */

/* Write the header of a span mapping `map_size` bytes with a Large block
 * at `off`. */
static hak_seg_t *span_init(hak_seg_t *span, size_t map_size, size_t off, bool fresh)
{
	span->owner = HAK_SPAN_OWNER;
	span->kind = HAK_SEG_SPAN;
	span->map_size = map_size;
	hak_span_set_block(span, off, -1, map_size - off, fresh);
	return span;
}

hak_seg_t *hak_span_map(size_t size, size_t off, size_t align, size_t skew)
{
	if (size > PTRDIFF_MAX - off - HAK_SEG_SIZE)
		return NULL;
	size_t map_size = hak_align_up(off + size, HAK_PAGE);
	hak_large_note_mapper();
	hak_seg_t *span = hak_os_map_aligned(map_size, align, skew);
	return span ? span_init(span, map_size, off, true) : NULL;
}

void hak_span_unmap(hak_seg_t *span)
{
	hak_large_note_mapper();
	hak_os_unmap(span, span->map_size);
}

/* --- accounting ------------------------------------------------------------- */

/* By its mapping, not its class: an L2.5 block given a whale mapping with
 * spare room (hak_l25_alloc_spare) is one, whatever its class. The classes
 * from 1 MiB on map at least WHALE_L25_MIN bytes, the ones below less. */
bool hak_whale_span(const hak_seg_t *span)
{
	return span->l25_cls < 0 || span->map_size >= WHALE_L25_MIN;
}

void hak_whale_note_live(int64_t delta)
{
	HAK_DEBUG_STAT_INC(whale_held_writes);
	int64_t now = atomic_fetch_add_explicit(&whale_acct.held, delta, memory_order_relaxed) + delta;
	int64_t peak = atomic_load_explicit(&whale_acct.peak, memory_order_relaxed);
	while (now > peak && !atomic_compare_exchange_weak_explicit(&whale_acct.peak, &peak, now,
								    memory_order_relaxed,
								    memory_order_relaxed))
		;
}

/* Bytes of the array's spans (a slot's count as held). */
static int64_t whale_cached(void)
{
	return (int64_t)atomic_load_explicit(&whale_bytes, memory_order_relaxed);
}

/* May the array hold `cached` bytes and `extra` more (a span being put)
 * while `live` bytes are held? Held + cached within the peak of held
 * bytes (what the array holds beyond held + HAKMEM_WHALE_CACHE_MB goes back
 * later: whale_decay). */
static bool whale_within_bounds(int64_t live, int64_t cached, int64_t extra)
{
	int64_t peak = atomic_load_explicit(&whale_acct.peak, memory_order_relaxed);
	return live + cached + extra <= peak;
}

static int64_t whale_live(void)
{
	return atomic_load_explicit(&whale_acct.held, memory_order_relaxed);
}

/* Live bytes (in use), cached bytes (the array's and the slots') and the
 * peak of held bytes; live + cached is what the bounds hold down. */
void hak_whale_usage(int64_t *live, int64_t *cached, int64_t *peak)
{
	int64_t in_slots = 0;
	for (unsigned i = 0; i < WHALE_SLOTS; i++)
		in_slots += atomic_load_explicit(&whale_slots[i].bytes, memory_order_relaxed);
	*live = whale_live() - in_slots;
	*cached = whale_cached() + in_slots;
	*peak = atomic_load_explicit(&whale_acct.peak, memory_order_relaxed);
}

/* --- slots ------------------------------------------------------------------- */

static whale_slot_t *whale_my_slot(void)
{
	if (HAK_UNLIKELY(whale_slot_tls == 0))
		whale_slot_tls = 1 + atomic_fetch_add_explicit(&whale_slot_next, 1,
							       memory_order_relaxed) % WHALE_SLOTS;
	return &whale_slots[whale_slot_tls - 1];
}

/* Put span into slot; the span that was there (another thread sharing the
 * slot put one meanwhile), or NULL. Held bytes do not change. */
static hak_seg_t *whale_slot_put(whale_slot_t *slot, hak_seg_t *span)
{
	atomic_fetch_add_explicit(&slot->bytes, (int64_t)span->map_size, memory_order_relaxed);
	hak_seg_t *was = atomic_exchange_explicit(&slot->span, span, memory_order_release);
	if (was)
		atomic_fetch_sub_explicit(&slot->bytes, (int64_t)was->map_size, memory_order_relaxed);
	return was;
}

/* The span of slot, still counted held, or NULL. */
static hak_seg_t *whale_slot_take(whale_slot_t *slot)
{
	if (!atomic_load_explicit(&slot->span, memory_order_relaxed))
		return NULL;
	hak_seg_t *s = atomic_exchange_explicit(&slot->span, NULL, memory_order_acquire);
	if (s)
		atomic_fetch_sub_explicit(&slot->bytes, (int64_t)s->map_size, memory_order_relaxed);
	return s;
}

/* The span of slot, no longer counted held (as if taken from the array),
 * or NULL: for eviction and for a thread that takes another's. */
static hak_seg_t *whale_slot_release(whale_slot_t *slot)
{
	hak_seg_t *s = whale_slot_take(slot);
	if (s)
		hak_whale_note_live(-(int64_t)s->map_size);
	return s;
}

/* --- the array (callers hold whale_lock) -------------------------------------- */

static void whale_array_remove(unsigned i)
{
	hak_seg_t *s = whale[i];
	memmove(&whale[i], &whale[i + 1], (whale_n - i - 1) * sizeof whale[0]);
	memmove(&whale_ms[i], &whale_ms[i + 1], (whale_n - i - 1) * sizeof whale_ms[0]);
	whale_n--;
	atomic_store_explicit(&whale_bytes, atomic_load_explicit(&whale_bytes, memory_order_relaxed) -
						    s->map_size,
			      memory_order_relaxed);
}

/* Append span to the array (the caller made room). */
static void whale_array_push(hak_seg_t *s)
{
	whale_ms[whale_n] = hak_os_now_ms();
	whale[whale_n++] = s;
	atomic_store_explicit(&whale_bytes, atomic_load_explicit(&whale_bytes, memory_order_relaxed) +
						    s->map_size,
			      memory_order_relaxed);
}

/* The array's best span for `map_size` bytes: the smallest at least as
 * large, else the largest; removed from the array. NULL when empty. */
static hak_seg_t *whale_array_take(size_t map_size)
{
	unsigned bi = WHALE_MAX;
	for (unsigned i = 0; i < whale_n; i++) {
		size_t s = whale[i]->map_size;
		if (bi == WHALE_MAX) {
			bi = i;
			continue;
		}
		size_t b = whale[bi]->map_size;
		if (s >= map_size ? (b < map_size || s < b) : (b < map_size && s > b))
			bi = i;
	}
	if (bi == WHALE_MAX)
		return NULL;
	hak_seg_t *s = whale[bi];
	whale_array_remove(bi);
	return s;
}

/* Keep span (cached, taken from nowhere) in the array. When the array is
 * full, the smallest of its entries and span goes: the fewest resident
 * pages lost (evicting the oldest threw away a 40 MiB mapping to keep a
 * 1 MiB tail; large --ops 300: 217 MiB unmapped so, and faulted in again). */
static void whale_array_put(hak_seg_t *span)
{
	hak_seg_t *evict = NULL;
	hak_lock(&whale_lock);
	if (whale_n >= (unsigned)hak_config.whale_cache) {
		unsigned si = 0;
		for (unsigned i = 1; i < whale_n; i++)
			if (whale[i]->map_size < whale[si]->map_size)
				si = i;
		if (whale_n > 0 && whale[si]->map_size < span->map_size) {
			evict = whale[si];
			whale_array_remove(si);
		} else {
			evict = span;
			span = NULL;
		}
	}
	if (span)
		whale_array_push(span);
	hak_unlock(&whale_lock);
	if (evict) {
		HAK_STAT_INC(whale_evictions);
		hak_span_unmap(evict);
	}
}

/* Any cached span, preferring the array's best for `map_size` bytes; NULL
 * when the cache is empty. */
static hak_seg_t *whale_take_any(size_t map_size)
{
	hak_lock(&whale_lock);
	hak_seg_t *span = whale_array_take(map_size);
	hak_unlock(&whale_lock);
	for (unsigned i = 0; !span && i < WHALE_SLOTS; i++)
		span = whale_slot_release(&whale_slots[i]);
	return span;
}

/* --- resizing a cached span ------------------------------------------------------ */

/* Does a span mapping `have` bytes serve `need` bytes as it is (at most
 * 1/8 more, so that its resident excess stays small)? */
static bool whale_fits(size_t have, size_t need)
{
	return have >= need && have - need <= need / 8;
}

/* Does it serve them as it is for a caller that keeps any excess (`keep`:
 * room for growth in place) or one that wants whale_fits? */
static bool whale_serves(size_t have, size_t need, bool keep)
{
	return keep ? have >= need : whale_fits(have, need);
}

/* Span (taken) maps more than its block needs (`need` bytes): its tail
 * from the next `unit`-byte boundary on (a multiple of 2 MiB), if 1 MiB or
 * more, becomes a cached span of its own (its pages stay resident for
 * later requests). The rest of the excess (under unit + 1 MiB: no span can
 * start within it) stays with the block, resident, and comes back with it:
 * unmapping it made the next growth fault the same pages in again (large:
 * 8.4 MiB per default run). */
static void whale_split(hak_seg_t *span, size_t need, size_t unit)
{
	size_t have = span->map_size;
	size_t cut = hak_align_up(need, unit);
	if (cut < have && have - cut >= WHALE_L25_MIN) {
		hak_seg_t *tail = (hak_seg_t *)((uint8_t *)span + cut);
		whale_array_put(span_init(tail, have - cut, HAK_SPAN_HDR, false));
		span->map_size = cut;
	}
}

/* The range [from, to) of span is fresh address space: move the pages of
 * cached spans into it (no copy, no page fault later) while any are
 * cached. Returns where the range is still fresh from (`to`: nowhere). */
static size_t whale_fill(hak_seg_t *span, size_t from, size_t to)
{
	while (from < to) {
		size_t need = to - from;
		hak_seg_t *b = whale_take_any(need);
		if (!b)
			return from;
		size_t bs = b->map_size;
		size_t len = bs < need ? bs : need;
		uint8_t *src = (uint8_t *)b + bs - len; /* the tail: b keeps its header */
		hak_large_note_mapper();
		if (hak_os_move_into(src, len, (uint8_t *)span + from) != 0) {
			whale_array_put(b);
			return from;
		}
		from += len;
		if (len == bs)
			continue; /* b moved whole */
		b->map_size = bs - len;
		if (b->map_size >= WHALE_L25_MIN)
			whale_array_put(b);
		else
			hak_span_unmap(b);
	}
	return to;
}

/* Where a realloc room's mapping is cut: WHALE_ROOM_MAX, or the large
 * threshold's 2 MiB boundary when higher. Below the threshold a buffer
 * grows as an L2.5 block, class by class; a room cut under it made every
 * buffer past the cut regrow and refill from the cache (an 8 MiB
 * threshold: 26 k mremap and 14 k mmap calls per million realloc_append
 * operations against 200 and 153, 11 s of system time per 3 M). */
static size_t whale_room_unit(void)
{
	size_t t = hak_align_up(hak_learn_large_threshold(), HAK_SEG_SIZE);
	return t > WHALE_ROOM_MAX ? t : WHALE_ROOM_MAX;
}

/* Make `span` (cached, taken) serve `need` bytes: split off its excess
 * (for `keep`, a realloc room, from the next whale_room_unit() boundary on:
 * an 8 MiB mapping taken whole by a 512 KiB room held 8 MiB resident
 * while the buffer used a fraction; realloc_big at 4 threads: peak RSS
 * 1.14 -> 0.91 of mimalloc's), or grow it to `need` bytes (in place, else
 * moved with its pages) and fill the growth with the pages of other
 * cached spans.
 * To `need`, not to the 1/8 step of a fresh mapping (hak_large_map_size):
 * the step's untouched tail counted as live bytes, and the bound then
 * evicted resident cached pages for it (large: 21 MiB per default run,
 * faulted in again). The span, possibly moved; NULL when growing failed
 * (span unmapped). `*fresh`: where its bytes are fresh from (`need`:
 * nowhere). */
static hak_seg_t *whale_fit(hak_seg_t *span, size_t need, bool keep, size_t *fresh)
{
	size_t have = span->map_size;
	*fresh = need;
	if (have >= need) {
		if (!whale_serves(have, need, keep))
			whale_split(span, need, HAK_SEG_SIZE);
		else if (keep)
			whale_split(span, need, whale_room_unit());
		return span;
	}
	hak_large_note_mapper();
	if (hak_os_grow_in_place(span, have, need) != 0) {
		hak_seg_t *moved = hak_os_move(span, have, need, HAK_SEG_SIZE);
		if (!moved) {
			hak_span_unmap(span);
			return NULL;
		}
		span = moved;
	}
	span->map_size = need;
	*fresh = whale_fill(span, have, need);
	return span;
}

/* Unmap cached spans (array first, oldest first; then slots) until the
 * bounds hold for the live bytes now, with `extra` bytes more to cache;
 * false if they still do not once the cache is empty. */
static bool whale_evict_to_bounds(int64_t extra)
{
	for (;;) {
		hak_seg_t *victim = NULL;
		if (whale_within_bounds(whale_live(), whale_cached(), extra))
			return true;
		hak_lock(&whale_lock);
		if (whale_n > 0) {
			victim = whale[0];
			whale_array_remove(0);
		}
		hak_unlock(&whale_lock);
		for (unsigned i = 0; !victim && i < WHALE_SLOTS; i++)
			victim = whale_slot_release(&whale_slots[i]);
		if (!victim)
			return false;
		HAK_STAT_INC(whale_evictions);
		hak_span_unmap(victim);
	}
}

/* Memory goes back when the live set shrinks: while cached bytes exceed
 * live bytes + HAKMEM_WHALE_CACHE_MB, the array's spans cached for
 * HAKMEM_PURGE_DELAY_MS or longer are unmapped, oldest first. Cheap (no
 * lock) when within. */
static void whale_decay(void)
{
	int64_t floor = (int64_t)hak_config.whale_cache_mb << 20;
	if (whale_cached() <= whale_live() + floor)
		return;
	uint64_t now = hak_os_now_ms(), delay = (uint64_t)hak_config.purge_delay_ms;
	for (;;) {
		hak_seg_t *victim = NULL;
		hak_lock(&whale_lock);
		if (whale_n > 0 && now - whale_ms[0] >= delay &&
		    whale_cached() > whale_live() + floor) {
			victim = whale[0];
			whale_array_remove(0);
		}
		hak_unlock(&whale_lock);
		if (!victim)
			return;
		HAK_STAT_INC(whale_evictions);
		hak_span_unmap(victim);
	}
}

/* hak_whale_get; `keep`: a span larger than `need` serves as it is;
 * `*fresh` as whale_fit's (`need` when there is no span). */
static hak_seg_t *whale_get(size_t need, bool keep, size_t *fresh)
{
	*fresh = need;
	if (hak_config.whale_cache == 0)
		return NULL;
	HAK_TIME_BEGIN(t);
	hak_seg_t *span = whale_slot_take(whale_my_slot());
	int64_t counted = span ? (int64_t)span->map_size : 0; /* held already */
	if (span && !whale_serves(span->map_size, need, keep)) {
		/* not a fit: the array may hold one; this one goes back */
		hak_whale_note_live(-counted);
		counted = 0;
		hak_seg_t *other = NULL;
		hak_lock(&whale_lock);
		if (whale_n > 0) {
			other = whale_array_take(need);
			if (whale_serves(other->map_size, need, keep)) {
				whale_array_push(span); /* room: `other` left */
				span = other;
			} else {
				whale_array_push(other);
			}
		}
		hak_unlock(&whale_lock);
	}
	if (!span)
		span = whale_take_any(need);
	if (span) {
		size_t before = span->map_size;
		span = whale_fit(span, need, keep, fresh);
		int64_t now = span ? (int64_t)span->map_size : 0;
		if (now != counted) /* not the own slot's span taken back as it is */
			hak_whale_note_live(now - counted);
		if (span && span->map_size > before)
			(void)whale_evict_to_bounds(0);
		whale_decay();
	}
	HAK_TIME_END(whale_get, t);
	return span;
}

hak_seg_t *hak_whale_get(size_t need)
{
	size_t fresh;
	return whale_get(need, false, &fresh);
}

hak_seg_t *hak_whale_get_room(size_t need)
{
	size_t fresh;
	return whale_get(need, true, &fresh);
}

void hak_whale_put(hak_seg_t *span)
{
	HAK_TIME_BEGIN(t);
	whale_slot_t *mine = whale_my_slot();
	if (hak_config.whale_cache != 0 && span->map_size <= WHALE_SLOT_MAX &&
	    !atomic_load_explicit(&mine->span, memory_order_relaxed)) {
		/* held bytes stay: no shared counter written, no bound moved */
		span = whale_slot_put(mine, span);
		if (!span) {
			HAK_TIME_END(whale_put, t);
			return;
		}
		/* another thread sharing the slot put one meanwhile: that one goes on */
	}
	int64_t size = (int64_t)span->map_size;
	hak_whale_note_live(-size);
	if (hak_config.whale_cache == 0 || !whale_evict_to_bounds(size)) {
		hak_span_unmap(span);
		HAK_TIME_END(whale_put, t);
		return;
	}
	whale_array_put(span);
	whale_decay();
	HAK_TIME_END(whale_put, t);
}

/* Mapping size for `n` bytes: pages, and from 2 MiB on in steps of 1/8 of
 * the power of two below (the pages past the request are never touched by
 * it; a cached mapping within 1/4 of a request serves it as it is). */
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
	hak_span_thread_enter();
	HAK_SPAN_COUNT(large_allocs);
	/* published in batches: one shared counter written per allocation, by
	 * two threads at once, bounced its line between them (vm at 2 threads:
	 * 470 against 209 cycles an allocation at 1 thread) */
	if (HAK_UNLIKELY(hak_tls.span_counts[HAK_SC_large_allocs] >= HAK_SPAN_PUBLISH_EVERY))
		hak_span_counts_publish();
	size_t map_size = hak_large_map_size(off + size), need = hak_align_up(off + size, HAK_PAGE);
	size_t fresh; /* set by whale_get */
	hak_seg_t *span = skew ? NULL : whale_get(need, false, &fresh);
	if (span) {
		HAK_SPAN_COUNT(whale_hits);
		hak_span_set_block(span, off, -1, span->map_size - off, false);
		hak_large_fresh(span, fresh, need);
		return (uint8_t *)span + off;
	}
	HAK_TIME_BEGIN(t);
	span = hak_span_map(map_size - off, off, map_align, skew);
	HAK_TIME_END(large_alloc, t);
	if (!span) {
		errno = ENOMEM;
		return NULL;
	}
	hak_whale_note_live((int64_t)span->map_size);
	HAK_STAT_INC(large_refills);
	hak_large_fresh(span, hak_align_up(off, HAK_PAGE), need); /* the header's page is not */
	return (uint8_t *)span + off;
}

/* The L2.5 block of `span` takes class `cls` (`usable` bytes) or becomes a
 * Large block (cls -1) within its mapping: nothing moves, no system call. */
static void *span_regrow_in_map(hak_seg_t *span, int32_t cls, size_t usable)
{
	HAK_SPAN_COUNT(l25_frees);
	if (cls < 0)
		HAK_SPAN_COUNT(large_allocs);
	else
		HAK_SPAN_COUNT(l25_allocs);
	HAK_STAT_INC(span_regrows_in_map);
	bool was_whale = hak_whale_span(span);
	hak_span_set_block(span, HAK_SPAN_HDR, cls, usable, false);
	if (!was_whale && hak_whale_span(span)) /* a small L2.5 mapping turned Large */
		hak_whale_note_live((int64_t)span->map_size);
	return (uint8_t *)span + HAK_SPAN_HDR;
}

/* Bytes: a realloc beyond grows by moving to a new block, so that the
 * mapping-size arithmetic below cannot overflow. */
#define SPAN_REGROW_MAX ((size_t)8 << 30)

void *hak_span_realloc(hak_seg_t *span, size_t size)
{
	if (span->user_off != HAK_SPAN_HDR || size > SPAN_REGROW_MAX)
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
	if (new_map <= span->map_size) {
		/* a Large block's usable bytes reach its mapping's end already */
		if (span->l25_cls < 0)
			return NULL;
		return span_regrow_in_map(span, new_cls,
					  to_large ? span->map_size - HAK_SPAN_HDR : usable);
	}
	/* Beyond its mapping only Large blocks and L2.5 blocks in whale
	 * mappings (a room: hak_l25_alloc_spare), whether they become Large
	 * or stay L2.5 (a large threshold of 8 MiB: rooms keep 4 MiB of a
	 * cached mapping, and copying each buffer past it made realloc_append
	 * 9x slower): copying them costs more than moving page tables; other
	 * L2.5 blocks are cheaper to copy into pooled (already resident) ones. */
	bool was_l25 = span->l25_cls >= 0;
	if (was_l25 && !hak_whale_span(span))
		return NULL;
	/* a block that realloc grows grows again: room to the next power of
	 * two (one mremap and one fill per doubling, not one per 1/8 step or
	 * L2.5 class: realloc_append 1.6 - 2.0x, realloc_big 1.1 - 1.3x; peak
	 * RSS up to 1.11x, below mimalloc's) */
	size_t room = hak_pow2_up(HAK_SPAN_HDR + size);
	if (room > new_map) {
		new_map = room;
		if (to_large)
			usable = new_map - HAK_SPAN_HDR;
	}
	size_t old_map = span->map_size;
	hak_seg_t *ns = span;
	hak_large_note_mapper();
	if (hak_os_grow_in_place(span, old_map, new_map) != 0) {
		ns = hak_os_move(span, old_map, new_map, HAK_SEG_SIZE);
		if (!ns)
			return NULL;
	}
	/* the growth is fresh address space: the pages of cached mappings,
	 * moved in, spare the page faults (and the cache evicting them) */
	(void)whale_fill(ns, old_map, new_map);
	if (was_l25)
		HAK_STAT_INC(l25_frees);
	else
		HAK_STAT_INC(large_frees);
	if (to_large)
		HAK_STAT_INC(large_allocs);
	else
		HAK_STAT_INC(l25_allocs);
	HAK_STAT_INC(span_regrows);
	ns->map_size = new_map;
	hak_span_set_block(ns, HAK_SPAN_HDR, new_cls, usable, false);
	hak_whale_note_live(hak_whale_span(ns) ? (int64_t)new_map - (int64_t)old_map
					      : -(int64_t)old_map);
	return (uint8_t *)ns + HAK_SPAN_HDR;
}

void hak_large_free(hak_seg_t *span)
{
	HAK_SPAN_COUNT(large_frees);
	hak_large_fresh_free(span);
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
