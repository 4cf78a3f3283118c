/*
 * populate.c - when a Large block's fresh pages are made resident at once
 * (HAKMEM_LARGE_POPULATE).
 *
 * A block the program writes whole costs one page fault per page, about
 * 1.6 us each on the reference machine; MADV_POPULATE_WRITE over the range
 * costs about 1.2 us a page (64 MiB: 19 against 26 ms), the kernel's work
 * without a trap per page. But a page made resident that the program never
 * writes is memory for nothing, and a long populate holds the address
 * space's lock. So two conditions:
 *
 *   - The program writes its Large blocks whole. A block left to fault is a
 *     probe: PROBE_SAMPLES of its fresh pages, spread over them, are asked
 *     whether they are resident (mincore), at its free and, for the latest
 *     probe, at the next fresh block too (a program that fills a block
 *     once allocated has done so by then, so a run's second block is
 *     populated, not the fifth; one that allocates first and fills later
 *     answers "not whole", and the cost is only a block left to fault).
 *     The latest answer (all of them, or not) decides for the blocks that
 *     follow. Until a probe has said so, nothing is populated; while
 *     populating, one fresh block in PROBE_EVERY is still a probe, so a
 *     program that stops writing its blocks whole is noticed.
 *   - No other thread maps, unmaps or moves spans meanwhile: for
 *     HAKMEM_LARGE_QUIET_MS (20) since the last time such a call came from
 *     a thread other than the one before it. A populate holds the lock for
 *     reading over the whole range, and another thread's mmap or munmap
 *     waits for it (large at 2 and 4 threads, populating every block:
 *     0.67 - 0.81 of faulting them; docs/PERFORMANCE.md).
 *
 * State: relaxed atomics; races only make a decision a block late. The
 * latest probe is known by its address, not its header: it may be unmapped
 * by the time it is asked, and hak_os_resident then reads 0 instead of
 * faulting.
 */
#include "../hakmem_internal.h"

#define PROBE_SAMPLES 16                 /* pages of a probe asked */
#define PROBE_EVERY 8                    /* while populating, 1 fresh block in this many is a probe */
#define FRESH_MIN ((size_t)256 << 10)    /* bytes: fewer fresh ones are left to fault */

static _Atomic bool fresh_written;       /* the last probe was written whole */
static _Atomic unsigned fresh_seq;       /* fresh blocks while populating, to pick probes */
static _Atomic uintptr_t probe_addr;     /* the latest probe's first fresh page; 0: answered */
static _Atomic size_t probe_pages;       /* and its fresh pages */
static _Atomic uintptr_t mapper_last;    /* token of the thread that last mapped a span */
static _Atomic uint64_t mapper_switch_ms; /* when a thread other than the last one did */
static HAK_TLS char mapper_token;        /* its address tells threads apart */

void hak_large_note_mapper(void)
{
	uintptr_t me = (uintptr_t)&mapper_token;
	uintptr_t was = atomic_load_explicit(&mapper_last, memory_order_relaxed);
	if (was == me)
		return;
	atomic_store_explicit(&mapper_last, me, memory_order_relaxed);
	if (was != 0) /* the first mapper follows nobody */
		atomic_store_explicit(&mapper_switch_ms, hak_os_now_ms(), memory_order_relaxed);
}

/* Has the calling thread been the only one mapping spans for LARGE_QUIET_MS? */
static bool sole_mapper(void)
{
	if (atomic_load_explicit(&mapper_last, memory_order_relaxed) != (uintptr_t)&mapper_token)
		return false;
	uint64_t since = atomic_load_explicit(&mapper_switch_ms, memory_order_relaxed);
	return since == 0 || hak_os_now_ms() - since >= (uint64_t)hak_config.large_quiet_ms;
}

/* Were the sampled pages of [p, p + pages pages) all resident? One page
 * in the middle of each of PROBE_SAMPLES equal parts: not the range's
 * first and last, which a block may share with its neighbours' bytes or
 * its header. */
static bool written_whole(const uint8_t *p, size_t pages)
{
	for (unsigned i = 0; i < PROBE_SAMPLES; i++) {
		size_t page = (2 * i + 1) * pages / (2 * PROBE_SAMPLES);
		if (hak_os_resident(p + page * HAK_PAGE, HAK_PAGE) == 0)
			return false;
	}
	return true;
}

/* The latest probe, if not answered yet, answers now. */
static void probe_ask_latest(void)
{
	size_t pages = atomic_load_explicit(&probe_pages, memory_order_relaxed);
	uintptr_t a = atomic_exchange_explicit(&probe_addr, 0, memory_order_relaxed);
	if (a != 0)
		atomic_store_explicit(&fresh_written, written_whole((const uint8_t *)a, pages),
				      memory_order_relaxed);
}

void hak_large_fresh(hak_seg_t *span, size_t lo, size_t hi)
{
	if (!hak_config.large_populate || hi < lo + FRESH_MIN || hi / HAK_PAGE > UINT32_MAX)
		return;
	probe_ask_latest();
	if (atomic_load_explicit(&fresh_written, memory_order_relaxed) &&
	    atomic_fetch_add_explicit(&fresh_seq, 1, memory_order_relaxed) % PROBE_EVERY !=
		    PROBE_EVERY - 1 &&
	    sole_mapper()) {
		hak_os_populate((uint8_t *)span + lo, hi - lo);
		HAK_STAT_INC(large_populated);
		return;
	}
	span->fresh_lo = (uint32_t)(lo / HAK_PAGE);
	span->fresh_hi = (uint32_t)(hi / HAK_PAGE);
	atomic_store_explicit(&probe_pages, span->fresh_hi - span->fresh_lo, memory_order_relaxed);
	atomic_store_explicit(&probe_addr, (uintptr_t)span + lo, memory_order_relaxed);
	HAK_STAT_INC(large_probes);
}

void hak_large_fresh_free(hak_seg_t *span)
{
	size_t pages = span->fresh_hi - span->fresh_lo;
	if (pages == 0)
		return;
	uintptr_t a = (uintptr_t)span + (size_t)span->fresh_lo * HAK_PAGE;
	span->fresh_lo = span->fresh_hi = 0;
	uintptr_t latest = a;
	(void)atomic_compare_exchange_strong_explicit(&probe_addr, &latest, 0, memory_order_relaxed,
						      memory_order_relaxed);
	atomic_store_explicit(&fresh_written, written_whole((const uint8_t *)a, pages),
			      memory_order_relaxed);
}
